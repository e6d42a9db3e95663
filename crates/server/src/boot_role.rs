//! The boot role: TFTP (the nodes' boot files brought from the database into the
//! boot root on demand), DHCP (with ProxyDHCP and leases kept in the database) and
//! IPv6 router advertisements, each when configured.

use std::sync::Arc;
use std::time::Duration;

use ferric_api::metrics::Metrics;
use ferric_db::Datastore;
use tokio::task::JoinHandle;

use crate::boot_files::BootFileStore;
use crate::{boot_metrics, boot_policy, lease_store, Settings};

/// The running boot services.
pub struct RunningBoot {
    tasks: Vec<JoinHandle<()>>,
    lease_writer: Option<JoinHandle<()>>,
}

/// Starts the boot services the settings enable.
pub async fn start(
    settings: &Settings,
    db: &Datastore,
    metrics: &Arc<Metrics>,
    files: Arc<BootFileStore>,
) -> Result<RunningBoot, String> {
    let mut tasks = Vec::new();
    if let Some(cfg) = &settings.tftp {
        let server = ferric_boot::tftp::TftpServer::bind(cfg.clone())
            .await
            .map_err(|e| e.to_string())?
            .with_on_demand(files);
        tracing::info!(listen = %server.local_addr(), root = %cfg.root.display(), "TFTP serving");
        boot_metrics::tftp(metrics, &server.stats());
        tasks.push(tokio::spawn(server.run()));
    }
    let mut lease_writer = None;
    if let Some((cfg, files)) = &settings.dhcp {
        let socket = ferric_boot::dhcp::open_socket(cfg).map_err(|e| {
            format!(
                "cannot serve DHCP on {}: {e}",
                cfg.interface.as_deref().unwrap_or("?")
            )
        })?;
        let (policy, policy_tasks) = boot_policy::DbBootPolicy::start(
            db.clone(),
            files.clone(),
            settings.discovery_driver.clone(),
        );
        let pxe_socket = ferric_boot::dhcp::open_pxe_socket(cfg)
            .map_err(|e| format!("cannot serve ProxyDHCP on port 4011: {e}"))?;
        let restored = lease_store::load(db, cfg.server_ip)
            .await
            .map_err(|e| format!("cannot read the DHCP leases: {e}"))?;
        let (store, writer) = lease_store::DbLeaseStore::start(db.clone(), cfg.server_ip);
        let server = ferric_boot::dhcp::DhcpServer::from_socket(socket, cfg.clone(), policy)
            .map_err(|e| e.to_string())?
            .with_store(Arc::new(store), &restored);
        let server = match pxe_socket {
            Some(sock) => server.with_pxe_socket(sock).map_err(|e| e.to_string())?,
            None => server,
        };
        tracing::info!(leases = restored.len(), "DHCP leases restored");
        tracing::info!(interface = cfg.interface.as_deref().unwrap_or(""), server_ip = %cfg.server_ip, proxy = cfg.proxy_port.is_some(), "DHCP serving");
        boot_metrics::dhcp(metrics, &server.stats());
        tasks.extend(policy_tasks);
        tasks.push(tokio::spawn(server.run()));
        lease_writer = Some(writer);
    }
    if let Some(iface) = settings.router_advertisements.as_deref() {
        match ferric_boot::ra::RouterAdvertiser::open(iface) {
            Ok(ra) => {
                tracing::info!(interface = iface, "answering IPv6 router solicitations");
                boot_metrics::ra(metrics, &ra.stats());
                tasks.push(tokio::spawn(ra.run()));
            }
            Err(e) => {
                tracing::warn!(interface = iface, error = %e, "cannot answer IPv6 router solicitations; iPXE will wait for IPv6 on each boot");
            }
        }
    }
    Ok(RunningBoot {
        tasks,
        lease_writer,
    })
}

impl RunningBoot {
    pub async fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
        // The server is gone, so is its store's queue: the writer drains it and ends.
        if let Some(writer) = self.lease_writer {
            let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
        }
    }
}
