//! Which MACs ferricd's DHCP server answers: the pxe-enabled ports of nodes with an
//! `ipxe` or `pxe` boot interface whose state needs a network boot (deploying,
//! cleaning, inspecting, rescuing, servicing and their waits). iPXE is pointed at
//! the node's rendered script — over HTTP for `ipxe`, over TFTP for `pxe`. The table
//! is rebuilt from the database every two seconds, so answering a DHCP packet never
//! waits on the database. The node's service-network port of the network service
//! for a NIC (`device_owner` `baremetal:<role>`, the NIC's MAC — its provisioning
//! port, say) gives that NIC its fixed address and adds its `extra_dhcp_opts`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ferric_boot::dhcp::{BootPolicy, BootTarget};
use ferric_db::{Cond, Datastore, ListQuery, Value};
use ferric_drivers::netboot::config_path;
use ferric_types::provision::NETBOOT_STATES;

/// Boot file names and where the boot root is served over HTTP.
#[derive(Debug, Clone)]
pub struct BootFiles {
    pub bios_file: String,
    pub uefi_file: String,
    /// `http://HOST:PORT` of ferricd, whose `/boot/` serves the boot root.
    pub base_url: String,
}

/// What a NIC's service-network port adds to its DHCP answers.
struct PortExtras {
    options: Vec<ferric_boot::dhcp::ExtraOption>,
    fixed_ip: Option<std::net::Ipv4Addr>,
}

/// The DHCP policy backed by the node database.
pub struct DbBootPolicy {
    targets: RwLock<HashMap<[u8; 6], BootTarget>>,
    /// The targets' fixed addresses, by address.
    reserved: RwLock<Arc<HashMap<std::net::Ipv4Addr, [u8; 6]>>>,
    discovery: Option<crate::discovery::Discovery>,
}

impl BootPolicy for DbBootPolicy {
    fn target(&self, mac: [u8; 6]) -> Option<BootTarget> {
        self.targets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&mac)
            .cloned()
    }

    fn reservations(&self) -> Option<Arc<HashMap<std::net::Ipv4Addr, [u8; 6]>>> {
        Some(
            self.reserved
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }

    fn unknown_pxe_client(&self, mac: [u8; 6]) {
        if let Some(d) = &self.discovery {
            d.saw(mac);
        }
    }
}

impl DbBootPolicy {
    /// Starts the policy and its refresh task (and, with `discovery`, enrolls
    /// unknown PXE clients as nodes of that hardware type).
    pub fn start(
        db: Datastore,
        files: BootFiles,
        discovery: Option<String>,
    ) -> (Arc<Self>, Vec<tokio::task::JoinHandle<()>>) {
        let (discovery, enroller) = match discovery {
            Some(driver) => {
                let (d, task) = crate::discovery::Discovery::start(db.clone(), driver);
                (Some(d), Some(task))
            }
            None => (None, None),
        };
        let policy = Arc::new(Self {
            targets: RwLock::default(),
            reserved: RwLock::default(),
            discovery,
        });
        let p = policy.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tick.tick().await;
                match load(&db, &files).await {
                    Ok(map) => {
                        let reserved = map
                            .iter()
                            .filter_map(|(mac, t)| t.fixed_ip.map(|ip| (ip, *mac)))
                            .collect();
                        *p.reserved.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(reserved);
                        *p.targets.write().unwrap_or_else(|e| e.into_inner()) = map;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not refresh the DHCP boot table"),
                }
            }
        });
        (policy, std::iter::once(task).chain(enroller).collect())
    }
}

async fn load(
    db: &Datastore,
    files: &BootFiles,
) -> Result<HashMap<[u8; 6], BootTarget>, ferric_db::DbError> {
    let states = NETBOOT_STATES
        .iter()
        .map(|s| Value::Text(s.to_string()))
        .collect();
    let nodes = db
        .node_list(&ListQuery {
            conds: vec![Cond::In("provision_state", states)],
            ..ListQuery::default()
        })
        .await?;
    let mut map = HashMap::new();
    let base = files.base_url.trim_end_matches('/');
    // (node, MAC) → what the node's service-network port for that NIC adds.
    let mut from_ports: HashMap<(String, String), PortExtras> = HashMap::new();
    for vif in db.vif_port_list(&ListQuery::default()).await? {
        if vif.host_id.is_empty() || !vif.device_owner.starts_with("baremetal:") {
            continue;
        }
        let options = vif
            .extra_dhcp_opts
            .iter()
            .filter(|o| o.ip_version == 4)
            .filter_map(
                |o| match ferric_boot::dhcp::options::encode(&o.opt_name, &o.opt_value) {
                    Ok(pair) => Some(pair),
                    Err(e) => {
                        tracing::warn!(port = %vif.uuid, error = %e, "DHCP option skipped");
                        None
                    }
                },
            )
            .collect();
        let fixed_ip = vif
            .fixed_ips
            .first()
            .and_then(|ip| ip.ip_address.parse().ok());
        from_ports.insert(
            (vif.host_id.clone(), vif.mac_address.to_string()),
            PortExtras { options, fixed_ip },
        );
    }
    for chunk in nodes.chunks(500) {
        let uuids = chunk
            .iter()
            .map(|n| Value::Text(n.uuid.to_string()))
            .collect();
        let ports = db
            .port_list(&ListQuery {
                conds: vec![Cond::In("node_uuid", uuids)],
                ..ListQuery::default()
            })
            .await?;
        for port in ports.into_iter().filter(|p| p.pxe_enabled) {
            let Some(node) = chunk.iter().find(|n| n.uuid == port.node_uuid) else {
                continue;
            };
            let config = config_path(&node.uuid.to_string());
            let ipxe_script = match node.boot_interface.as_deref() {
                Some("ipxe") => format!("{base}/boot/{config}"),
                Some("pxe") => config,
                _ => continue,
            };
            let extras = from_ports.get(&(node.uuid.to_string(), port.address.to_string()));
            map.insert(
                port.address.octets(),
                BootTarget {
                    bios_file: files.bios_file.clone(),
                    uefi_file: files.uefi_file.clone(),
                    ipxe_script: Some(ipxe_script),
                    http_boot_url: Some(format!("{base}/boot/{}", files.uefi_file)),
                    extra_options: extras.map(|e| e.options.clone()).unwrap_or_default(),
                    fixed_ip: extras.and_then(|e| e.fixed_ip),
                },
            );
        }
    }
    Ok(map)
}
