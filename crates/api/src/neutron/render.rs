//! Networks, subnets and ports in Neutron's JSON shapes (every list field a list,
//! never null: clients iterate them).

use ferric_types::net::{Network, Subnet, VifPort};
use ferric_types::Timestamp;
use serde_json::{json, Value};

/// Neutron's timestamp form, `YYYY-MM-DDTHH:MM:SSZ`.
fn time(t: &Timestamp) -> String {
    let full = t.to_string();
    format!("{}Z", &full[..19.min(full.len())])
}

fn updated(created: &Timestamp, updated: &Option<Timestamp>) -> String {
    time(updated.as_ref().unwrap_or(created))
}

pub fn network(n: &Network, subnets: Vec<String>) -> Value {
    json!({
        "id": n.uuid.to_string(),
        "name": n.name,
        "description": n.description,
        "tenant_id": n.project_id,
        "project_id": n.project_id,
        "status": "ACTIVE",
        "admin_state_up": n.admin_state_up,
        "shared": n.shared,
        "subnets": subnets,
        "mtu": n.mtu,
        "router:external": false,
        "provider:network_type": n.network_type,
        "provider:physical_network": n.physical_network,
        "provider:segmentation_id": n.segmentation_id,
        "role": n.role,
        "availability_zone_hints": [],
        "availability_zones": [],
        "tags": [],
        "port_security_enabled": false,
        "ipv4_address_scope": null,
        "ipv6_address_scope": null,
        "qos_policy_id": null,
        "revision_number": 1,
        "created_at": time(&n.created_at),
        "updated_at": updated(&n.created_at, &n.updated_at),
    })
}

pub fn subnet(s: &Subnet) -> Value {
    json!({
        "id": s.uuid.to_string(),
        "name": s.name,
        "description": s.description,
        "network_id": s.network_uuid.to_string(),
        "tenant_id": s.project_id,
        "project_id": s.project_id,
        "ip_version": 4,
        "cidr": s.cidr,
        "gateway_ip": s.gateway_ip,
        "dns_nameservers": s.dns_nameservers,
        "allocation_pools": s.allocation_pools,
        "host_routes": [],
        "enable_dhcp": s.enable_dhcp,
        "service_types": [],
        "ipv6_ra_mode": null,
        "ipv6_address_mode": null,
        "subnetpool_id": null,
        "segment_id": null,
        "tags": [],
        "revision_number": 1,
        "created_at": time(&s.created_at),
        "updated_at": updated(&s.created_at, &s.updated_at),
    })
}

pub fn port(p: &VifPort) -> Value {
    let vif_type = if p.host_id.is_empty() {
        "unbound"
    } else {
        "other"
    };
    json!({
        "id": p.uuid.to_string(),
        "name": p.name,
        "description": p.description,
        "network_id": p.network_uuid.to_string(),
        "tenant_id": p.project_id,
        "project_id": p.project_id,
        "mac_address": p.mac_address.as_str(),
        "fixed_ips": p.fixed_ips,
        "extra_dhcp_opts": p.extra_dhcp_opts,
        "admin_state_up": p.admin_state_up,
        "status": p.status,
        "device_id": p.device_id,
        "device_owner": p.device_owner,
        "binding:host_id": p.host_id,
        "binding:profile": p.binding_profile,
        "binding:vnic_type": p.vnic_type,
        "binding:vif_type": vif_type,
        "binding:vif_details": {},
        "security_groups": [],
        "allowed_address_pairs": [],
        "port_security_enabled": false,
        "ip_allocation": "immediate",
        "dns_name": "",
        "dns_assignment": [],
        "tags": [],
        "revision_number": 1,
        "created_at": time(&p.created_at),
        "updated_at": updated(&p.created_at, &p.updated_at),
    })
}
