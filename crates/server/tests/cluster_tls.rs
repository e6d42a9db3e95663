//! The conductor RPC over HTTPS: a conductor process with `[rpc] tls_cert_file` /
//! `tls_key_file` registers an `https://` address; an API process trusting the CA
//! (`[rpc] ca_file`) drives its nodes through it; an API that does not trust it
//! cannot reach the conductor (503), and plain HTTP to the listener gets nowhere.

mod support;

use std::path::Path;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use reqwest::Method;
use serde_json::json;
use support::{cluster, postgres_url, scratch};

/// A CA (`ca.pem`) and a certificate for 127.0.0.1 it signed (`cert.pem`,
/// `key.pem`), in `dir`.
fn certificates(dir: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "rpc test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
    params
        .distinguished_name
        .push(DnType::CommonName, "conductor");
    let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rpc_runs_over_https() {
    let dir = scratch("cluster-tls");
    let db = postgres_url();
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    certificates(&certs);
    let (_conductor, rpc) = cluster::conductor(
        &dir,
        &db,
        "tls-c",
        &format!(
            "[rpc]\ntls_cert_file = \"{}\"\ntls_key_file = \"{}\"\n",
            certs.join("cert.pem").display(),
            certs.join("key.pem").display()
        ),
    )
    .await;

    let trusting = cluster::api_only(
        &dir,
        &db,
        "api-trusting",
        &format!("[rpc]\nca_file = \"{}\"\n", certs.join("ca.pem").display()),
    )
    .await;
    let (status, node) = trusting
        .call(
            Method::POST,
            "/nodes",
            Some(json!({"driver": "fake-hardware", "name": "secure"})),
        )
        .await;
    assert_eq!(status, 201, "{node}");
    let uuid = node["uuid"].as_str().unwrap().to_string();
    trusting.provision(&uuid, "manage").await;
    trusting
        .wait_for(&uuid, &["manageable"], Duration::from_secs(20))
        .await;

    let doubting = cluster::api_only(&dir, &db, "api-doubting", "").await;
    let (status, body) = doubting
        .call(
            Method::PUT,
            &format!("/nodes/{uuid}/states/provision"),
            Some(json!({"target": "provide"})),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body.to_string().contains("tls-c"), "{body}");

    let plain = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{rpc}/"))
        .bearer_auth(cluster::SECRET)
        .json(&json!({"jsonrpc": "2.0", "method": "vifs", "params": {}, "id": 1}))
        .send()
        .await;
    assert!(
        plain.map(|r| !r.status().is_success()).unwrap_or(true),
        "plain HTTP reached the RPC"
    );
}
