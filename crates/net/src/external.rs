//! The `neutron` network interface backed by an external Neutron (`[network]
//! neutron_url`) instead of Ferric's own network service — what Ironic does with
//! Neutron and ML2: Ferric creates a port per NIC on the node's provisioning,
//! cleaning or rescue network (`device_owner` `baremetal:<role>`, `device_id` the
//! node, bound to the node with the NIC's `local_link_information`), deletes them
//! after, and binds the tenant's VIF ports to the node once it is deployed; Neutron
//! (its switch mechanism driver) moves the switch ports. The same rule as the own
//! service holds: a node is never on a service network and a tenant network at once
//! (`driver_internal_info.network_roles`). Every flip is written to the node's
//! history. Authentication: none, or a fixed token sent as `X-Auth-Token`.

use std::time::Duration;

use ferric_db::Datastore;
use ferric_types::history::{HistoryEvent, INFO};
use ferric_types::net::{Network, ROLES};
use ferric_types::{MacAddress, Node, NodeId, Timestamp};
use serde_json::{json, Value};

use crate::service::{
    join_or_undo, owner, role_network_key, roles, set_roles, Flips, NetworkService, INSPECTION,
    PROVISIONING,
};

/// Where the external Neutron is and how to reach it.
#[derive(Clone, Default)]
pub struct ExternalSettings {
    /// Base URL of its API, e.g. `http://neutron:9696` (the `/v2.0` paths go under it).
    pub url: String,
    /// Sent as `X-Auth-Token` when set; never logged.
    pub token: Option<String>,
    /// Default networks per role, by name or UUID: (`provisioning_network`, …).
    pub role_networks: Vec<(String, String)>,
}

impl std::fmt::Debug for ExternalSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalSettings")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "******"))
            .field("role_networks", &self.role_networks)
            .finish()
    }
}

/// An external Neutron and the database the node's NICs are read from.
pub struct ExternalNeutron {
    settings: ExternalSettings,
    http: reqwest::Client,
    db: Datastore,
}

/// A VIF port of the external Neutron, as VIF attachment needs it.
#[derive(Debug, Clone)]
pub struct ExternalVif {
    pub id: String,
    pub host_id: String,
    pub mac_address: String,
    /// Its network; `role` is the network's `role` when Neutron has one (Ferric's
    /// own API), the role it is configured for, else `tenant`.
    pub network: Network,
}

impl ExternalNeutron {
    /// The Neutron `settings` name, with Ferric's own records in `db`.
    pub fn new(db: Datastore, settings: ExternalSettings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { settings, http, db })
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

impl ExternalNeutron {
    /// Calls the API; 2xx answers their body, 404 `None`, anything else an error
    /// carrying Neutron's message.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Option<Value>, String> {
        let url = format!("{}/v2.0{path}", self.settings.url.trim_end_matches('/'));
        let mut req = self
            .http
            .request(method.clone(), &url)
            .query(query)
            .header("Accept", "application/json");
        if let Some(t) = &self.settings.token {
            req = req.header("X-Auth-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("Neutron at {} unreachable: {e}", self.settings.url))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body: Value = if status == reqwest::StatusCode::NO_CONTENT {
            Value::Null
        } else {
            resp.json().await.unwrap_or(Value::Null)
        };
        if !status.is_success() {
            let why = body
                .pointer("/NeutronError/message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(format!(
                "Neutron answered {method} {path} with {status}: {why}"
            ));
        }
        Ok(Some(body))
    }

    async fn history(&self, node: &Node, text: String) {
        let event = HistoryEvent::new(node.uuid, INFO, "network", text, None);
        if let Err(e) = self.db.history_record(&event).await {
            tracing::warn!(node = %node.uuid, error = %e, "could not record a network flip");
        }
    }

    /// The network named (by UUID or name) for `role`: the node's
    /// `driver_info/<role>_network`, else the configured default.
    async fn role_network(&self, node: &Node, role: &str) -> Result<Value, String> {
        let key = role_network_key(role);
        let wanted = node
            .driver_info
            .get(&key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                self.settings
                    .role_networks
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.clone())
            });
        if wanted.is_none() && role == INSPECTION {
            // No inspection network: inspection runs on the provisioning network.
            return Box::pin(self.role_network(node, PROVISIONING)).await;
        }
        let wanted = wanted.ok_or_else(|| {
            format!(
                "node {} has no {role} network: set driver_info/{key} or [network] {key}",
                node.uuid
            )
        })?;
        if let Ok(uuid) = wanted.parse::<uuid::Uuid>() {
            return match self
                .call(
                    reqwest::Method::GET,
                    &format!("/networks/{uuid}"),
                    &[],
                    None,
                )
                .await?
            {
                Some(found) => Ok(found["network"].clone()),
                None => Err(format!("Neutron has no network {uuid} ({key})")),
            };
        }
        let listed = self
            .call(
                reqwest::Method::GET,
                "/networks",
                &[("name", &wanted)],
                None,
            )
            .await?
            .unwrap_or(Value::Null);
        match listed["networks"].as_array().map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            Some([]) | None => Err(format!("Neutron has no network {wanted} ({key})")),
            Some(_) => Err(format!(
                "Neutron has several networks named {wanted}: name the {key} by UUID"
            )),
        }
    }

    /// Puts the node's NICs on the network of `role`; a failure half-way takes back
    /// what was done.
    pub async fn add_network(&self, node: &mut Node, role: &str) -> Result<(), String> {
        join_or_undo(self, node, role).await
    }

    async fn join(&self, node: &mut Node, role: &str) -> Result<(), String> {
        if roles(node).iter().any(|r| r == "tenant") {
            return Err(format!(
                "node {} is on its tenant networks: it cannot join the {role} network at the same time",
                node.uuid
            ));
        }
        let network = self.role_network(node, role).await?;
        for other in roles(node) {
            self.remove_network(node, &other).await?;
        }
        self.remove_network(node, role).await?;
        let (groups, ports) = self
            .db
            .nics_of(node.uuid)
            .await
            .map_err(|e| e.to_string())?;
        let nics = NetworkService::service_nics(&groups, &ports);
        if nics.is_empty() {
            return Err(format!(
                "node {} has no pxe-enabled port to put on the {role} network",
                node.uuid
            ));
        }
        for nic in &nics {
            let body = json!({"port": {
                "network_id": text(&network, "id"),
                "name": format!("{}-{role}-{}", node.uuid, nic.address),
                "mac_address": nic.address.to_string(),
                "admin_state_up": true,
                "device_id": node.uuid.to_string(),
                "device_owner": owner(role),
                "binding:vnic_type": "baremetal",
                "binding:host_id": node.uuid.to_string(),
                "binding:profile": {"local_link_information": [nic.local_link_connection]},
            }});
            let created = self
                .call(reqwest::Method::POST, "/ports", &[], Some(body))
                .await?
                .ok_or_else(|| format!("Neutron has no network {}", text(&network, "id")))?;
            self.history(
                node,
                format!(
                    "Neutron port {} ({}) on network {} ({role})",
                    text(&created["port"], "id"),
                    nic.address,
                    text(&network, "name")
                ),
            )
            .await;
        }
        let mut on = roles(node);
        on.push(role.to_string());
        set_roles(node, on);
        Ok(())
    }

    /// Deletes the node's ports on the network of `role`.
    pub async fn remove_network(&self, node: &mut Node, role: &str) -> Result<(), String> {
        let (device, owner) = (node.uuid.to_string(), owner(role));
        let query = [
            ("device_id", device.as_str()),
            ("device_owner", owner.as_str()),
        ];
        let listed = self
            .call(reqwest::Method::GET, "/ports", &query, None)
            .await?
            .unwrap_or(Value::Null);
        for port in listed["ports"].as_array().into_iter().flatten() {
            let id = text(port, "id");
            self.call(reqwest::Method::DELETE, &format!("/ports/{id}"), &[], None)
                .await?;
            self.history(
                node,
                format!(
                    "Neutron port {id} ({}) deleted: off the {role} network",
                    text(port, "mac_address")
                ),
            )
            .await;
        }
        set_roles(
            node,
            roles(node).into_iter().filter(|r| r != role).collect(),
        );
        Ok(())
    }

    /// Binds the node's attached VIFs to it; Neutron moves the switch ports.
    pub async fn configure_tenant(&self, node: &mut Node) -> Result<(), String> {
        if let Some(r) = roles(node).into_iter().find(|r| r != "tenant") {
            return Err(format!(
                "node {} is still on the {r} network: it cannot join its tenant networks at the same time",
                node.uuid
            ));
        }
        set_roles(node, vec!["tenant".into()]);
        let (groups, ports) = self
            .db
            .nics_of(node.uuid)
            .await
            .map_err(|e| e.to_string())?;
        for (members, group, vif) in NetworkService::tenant_nics(&groups, &ports) {
            let mut profile = json!({"local_link_information":
                members.iter().map(|p| Value::Object(p.local_link_connection.clone())).collect::<Vec<_>>()});
            if let Some(g) = &group {
                profile["local_group_information"] = json!({"id": g.uuid.to_string(),
                    "name": g.name, "bond_mode": g.mode, "bond_properties": g.properties});
            }
            let body = json!({"port": {"binding:host_id": node.uuid.to_string(),
                "binding:vnic_type": "baremetal", "binding:profile": profile}});
            self.call(
                reqwest::Method::PUT,
                &format!("/ports/{vif}"),
                &[],
                Some(body),
            )
            .await?
            .ok_or_else(|| format!("VIF {vif} is gone from Neutron"))?;
            self.history(
                node,
                format!("Neutron port {vif} bound to the node: on its tenant network"),
            )
            .await;
        }
        Ok(())
    }

    /// Unbinds the node's VIFs (they stay attached).
    pub async fn unconfigure_tenant(&self, node: &mut Node) -> Result<(), String> {
        if !roles(node).iter().any(|r| r == "tenant") {
            return Ok(());
        }
        let (groups, ports) = self
            .db
            .nics_of(node.uuid)
            .await
            .map_err(|e| e.to_string())?;
        for (_, _, vif) in NetworkService::tenant_nics(&groups, &ports) {
            self.unbind(&vif).await?;
            self.history(
                node,
                format!("Neutron port {vif} unbound: off the tenant network"),
            )
            .await;
        }
        set_roles(
            node,
            roles(node).into_iter().filter(|r| r != "tenant").collect(),
        );
        Ok(())
    }

    async fn unbind(&self, vif: &str) -> Result<(), String> {
        let body = json!({"port": {"binding:host_id": "", "binding:profile": {}}});
        self.call(
            reqwest::Method::PUT,
            &format!("/ports/{vif}"),
            &[],
            Some(body),
        )
        .await
        .map(|_| ())
    }

    /// A VIF to attach, with its network; `None` when Neutron has no such port.
    pub async fn vif(&self, id: &str) -> Result<Option<ExternalVif>, String> {
        if id.parse::<uuid::Uuid>().is_err() {
            return Ok(None);
        }
        let Some(found) = self
            .call(reqwest::Method::GET, &format!("/ports/{id}"), &[], None)
            .await?
        else {
            return Ok(None);
        };
        let port = &found["port"];
        let network_id = text(port, "network_id");
        let net = self
            .call(
                reqwest::Method::GET,
                &format!("/networks/{network_id}"),
                &[],
                None,
            )
            .await?
            .ok_or_else(|| format!("the network {network_id} of VIF {id} is gone"))?;
        let net = &net["network"];
        let role = match net.get("role").and_then(Value::as_str) {
            Some(r) => r.to_string(),
            None => self
                .settings
                .role_networks
                .iter()
                .find(|(_, v)| *v == network_id || *v == text(net, "name"))
                .and_then(|(k, _)| ROLES.iter().find(|r| role_network_key(r) == *k))
                .map_or_else(|| "tenant".into(), |r| r.to_string()),
        };
        let network = Network {
            uuid: network_id
                .parse()
                .map_err(|_| format!("network id {network_id} is not a UUID"))?,
            name: text(net, "name"),
            description: text(net, "description"),
            project_id: text(net, "project_id"),
            shared: net["shared"].as_bool().unwrap_or(false),
            admin_state_up: net["admin_state_up"].as_bool().unwrap_or(true),
            role,
            network_type: text(net, "provider:network_type"),
            physical_network: net
                .get("provider:physical_network")
                .and_then(Value::as_str)
                .map(str::to_string),
            segmentation_id: net
                .get("provider:segmentation_id")
                .and_then(Value::as_u64)
                .and_then(|v| u16::try_from(v).ok()),
            mtu: net["mtu"].as_u64().unwrap_or(1500) as u32,
            created_at: Timestamp::now(),
            updated_at: None,
        };
        Ok(Some(ExternalVif {
            id: text(port, "id"),
            host_id: text(port, "binding:host_id"),
            mac_address: text(port, "mac_address"),
            network,
        }))
    }

    /// Gives an attached VIF the NIC's MAC (and `binding:vnic_type` baremetal);
    /// binding it to the node waits for the tenant flip.
    pub async fn claim_vif(&self, id: &str, mac: &MacAddress) -> Result<(), String> {
        let body =
            json!({"port": {"mac_address": mac.to_string(), "binding:vnic_type": "baremetal"}});
        self.call(
            reqwest::Method::PUT,
            &format!("/ports/{id}"),
            &[],
            Some(body),
        )
        .await?
        .ok_or_else(|| format!("VIF {id} is gone from Neutron"))
        .map(|_| ())
    }

    /// Puts a VIF's MAC back after a failed attach.
    pub async fn give_back_vif(&self, id: &str, mac: &str) -> Result<(), String> {
        let body = json!({"port": {"mac_address": mac}});
        self.call(
            reqwest::Method::PUT,
            &format!("/ports/{id}"),
            &[],
            Some(body),
        )
        .await
        .map(|_| ())
    }

    /// A detached VIF: unbound, and a MAC of its own again (the NIC's could clash
    /// with the next VIF on it).
    pub async fn release_vif(&self, id: &str, node: NodeId) -> Result<(), String> {
        self.unbind(id).await?;
        let mac = crate::ipam::random_mac().to_string();
        self.give_back_vif(id, &mac).await?;
        tracing::info!(vif = id, node = %node, "VIF released in Neutron");
        Ok(())
    }
}

impl Flips for ExternalNeutron {
    async fn join(&self, node: &mut Node, role: &str) -> Result<(), String> {
        ExternalNeutron::join(self, node, role).await
    }
    async fn leave(&self, node: &mut Node, role: &str) -> Result<(), String> {
        self.remove_network(node, role).await
    }
}
