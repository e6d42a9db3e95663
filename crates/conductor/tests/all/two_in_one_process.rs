//! Two conductors in one process, each with its own settings and services (image
//! cache, agent kernel parameters, database): inspecting a node on each records
//! its iPXE script with that conductor's parameters, and caches its ramdisk in that
//! conductor's cache only. Settings live in the conductor, not in the process.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ferric_conductor::{ConductorConfig, ProvisionRequest};
use ferric_conductor_api::ConductorApi;
use ferric_db::Datastore;
use ferric_drivers::image_cache::{CacheSettings, ImageCache};
use ferric_drivers::netboot::NetbootSettings;
use ferric_drivers::Drivers;
use ferric_types::fsm::Verb;
use ferric_types::hardware::{InterfaceKind, FAKE_HARDWARE};
use ferric_types::provision::ProvisionState;
use ferric_types::NodeId;
use serde_json::json;

use crate::harness::{conductor, database, Backend};

/// A conductor's own directory: image cache and the ramdisk it boots.
struct Site {
    dir: PathBuf,
}

impl Site {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "ferric-two-conductors-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(dir.join("images")).unwrap();
        std::fs::write(dir.join("images/kernel"), b"kernel bytes").unwrap();
        std::fs::write(dir.join("images/ramdisk"), b"ramdisk bytes").unwrap();
        Self { dir }
    }

    fn cached_files(&self) -> usize {
        std::fs::read_dir(self.dir.join("cache")).unwrap().count()
    }

    fn drivers(&self, name: &str, db: &Datastore) -> Drivers {
        let cache = ImageCache::open(CacheSettings {
            dir: self.dir.join("cache"),
            base_url: format!("http://{name}.invalid:6385"),
            max_bytes: 1 << 30,
            allowed_local: vec![self.dir.join("images")],
        })
        .unwrap();
        Drivers {
            netboot: Some(NetbootSettings {
                api_url: format!("http://{name}.invalid:6385"),
                kernel_append: format!("conductor={name}"),
            }),
            image_cache: Some(Arc::new(cache)),
            store: Some(db.clone()),
            ..Drivers::default()
        }
    }

    fn image(&self, name: &str) -> String {
        self.dir.join("images").join(name).display().to_string()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fake-hardware node that inspects through the agent, booting iPXE.
async fn netbooting_node(db: &Datastore, site: &Site) -> NodeId {
    let mut n = FAKE_HARDWARE.new_node(ProvisionState::Manageable);
    n.set_interface(InterfaceKind::Boot, Some("ipxe".into()));
    n.set_interface(InterfaceKind::Inspect, Some("agent".into()));
    n.driver_info = json!({
        "deploy_kernel": site.image("kernel"),
        "deploy_ramdisk": site.image("ramdisk"),
    })
    .as_object()
    .unwrap()
    .clone();
    db.node_create(&n).await.unwrap();
    n.uuid
}

async fn wait_for_inspect_wait(db: &Datastore, node: NodeId) {
    for _ in 0..200 {
        let n = db.node_get(node).await.unwrap();
        if n.provision_state == ProvisionState::InspectWait && n.reservation.is_none() {
            return;
        }
        assert!(n.last_error.is_none(), "{:?}", n.last_error);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("node {node} never reached inspect wait");
}

async fn script(db: &Datastore, node: NodeId) -> Option<String> {
    db.boot_config_get(node).await.unwrap().map(|c| c.script)
}

async fn two_conductors_keep_their_own_settings(backend: fn() -> Backend) {
    let (site_a, site_b) = (Site::new(), Site::new());
    let (db_a, db_b) = (database(backend()).await, database(backend()).await);
    let a = conductor(
        &db_a,
        ConductorConfig {
            drivers: site_a.drivers("alpha", &db_a),
            ..ConductorConfig::default()
        },
    )
    .await;
    let b = conductor(
        &db_b,
        ConductorConfig {
            drivers: site_b.drivers("beta", &db_b),
            ..ConductorConfig::default()
        },
    )
    .await;
    let (node_a, node_b) = (
        netbooting_node(&db_a, &site_a).await,
        netbooting_node(&db_b, &site_b).await,
    );
    let inspect = || ProvisionRequest::new(Verb::named("inspect").unwrap());
    a.provision(node_a, inspect()).await.unwrap();
    b.provision(node_b, inspect()).await.unwrap();
    wait_for_inspect_wait(&db_a, node_a).await;
    wait_for_inspect_wait(&db_b, node_b).await;

    let in_a = script(&db_a, node_a)
        .await
        .expect("alpha recorded its node's script");
    assert!(
        in_a.contains("conductor=alpha") && in_a.contains("ipa-api-url=http://alpha.invalid:6385"),
        "{in_a}"
    );
    let in_b = script(&db_b, node_b)
        .await
        .expect("beta recorded its node's script");
    assert!(
        in_b.contains("conductor=beta") && in_b.contains("ipa-api-url=http://beta.invalid:6385"),
        "{in_b}"
    );
    assert!(script(&db_a, node_b).await.is_none());
    assert!(script(&db_b, node_a).await.is_none());
    // Each cached its own node's kernel and ramdisk (two files each).
    assert_eq!((site_a.cached_files(), site_b.cached_files()), (2, 2));
}

#[tokio::test]
async fn sqlite() {
    two_conductors_keep_their_own_settings(|| Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres() {
    two_conductors_keep_their_own_settings(|| Backend::Postgres).await;
}
