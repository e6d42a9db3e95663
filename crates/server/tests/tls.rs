//! ferricd over HTTPS (`--tls-cert`, `--tls-key`): clients that trust its CA get in
//! and see https links; clients that do not, a certificate for another host and an
//! expired one are refused; SIGHUP swaps the certificate for new connections while
//! an open one carries on; a reload from broken files keeps the old certificate;
//! a bad pair at start stops ferricd.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ferric_client::Client;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use support::*;

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    Ca {
        cert: params.self_signed(&key).unwrap(),
        key,
    }
}

/// A server certificate for `san` signed by `ca`, written as `dir/{cert,key}.pem`.
fn server_cert(dir: &Path, ca: &Ca, san: SanType, expired: bool) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.subject_alt_names = vec![san];
    params
        .distinguished_name
        .push(DnType::CommonName, "ferricd");
    if expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

fn local() -> SanType {
    SanType::IpAddress("127.0.0.1".parse().unwrap())
}

fn client(url: &str, ca: Option<&Path>) -> Client {
    Client::new(url).unwrap().with_tls(ca, false).unwrap()
}

fn sighup(pid: u32) {
    assert!(Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_reload() {
    let dir = scratch("tls");
    let (ca1, ca2) = (ca("CA one"), ca("CA two"));
    std::fs::write(dir.join("ca1.pem"), ca1.cert.pem()).unwrap();
    std::fs::write(dir.join("ca2.pem"), ca2.cert.pem()).unwrap();
    let (ca1_pem, ca2_pem) = (dir.join("ca1.pem"), dir.join("ca2.pem"));
    server_cert(&dir, &ca1, local(), false);

    // A bad pair stops ferricd at start, naming the file.
    let out = Command::new(env!("CARGO_BIN_EXE_ferricd"))
        .args(["--data-dir", dir.join("var0").to_str().unwrap()])
        .args(["--tls-cert", dir.join("cert.pem").to_str().unwrap()])
        .args(["--tls-key", dir.join("missing.pem").to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("missing.pem"), "{said}");

    let port = free_port();
    let url = format!("https://127.0.0.1:{port}");
    let log = dir.join("ferricd.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferricd"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--data-dir", dir.join("var").to_str().unwrap()])
        .args(["--tls-cert", dir.join("cert.pem").to_str().unwrap()])
        .args(["--tls-key", dir.join("key.pem").to_str().unwrap()])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let trusting = client(&url, Some(&ca1_pem));
    let mut up = false;
    for _ in 0..100 {
        if trusting
            .request(ferric_client::Method::GET, "/v1", None)
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "{}", std::fs::read_to_string(&log).unwrap_or_default());

    let node = trusting
        .node_create(&serde_json::json!({"driver": "fake-hardware", "name": "n1"}))
        .await
        .unwrap();
    let listed = trusting
        .request(ferric_client::Method::GET, "/v1/nodes", None)
        .await
        .unwrap();
    let href = listed["nodes"][0]["links"][0]["href"].as_str().unwrap();
    assert_eq!(href, format!("{url}/v1/nodes/{}", node.uuid));

    // A client that does not trust the CA is refused.
    let e = client(&url, None)
        .request(ferric_client::Method::GET, "/v1", None)
        .await
        .unwrap_err();
    assert!(matches!(e, ferric_client::ClientError::Transport(_)), "{e}");

    // Another host's certificate, then an expired one: refused.
    for (san, expired) in [
        (SanType::DnsName("other.example".try_into().unwrap()), false),
        (local(), true),
    ] {
        server_cert(&dir, &ca1, san, expired);
        sighup(child.id());
        let e = client(&url, Some(&ca1_pem))
            .request(ferric_client::Method::GET, "/v1", None)
            .await
            .unwrap_err();
        assert!(matches!(e, ferric_client::ClientError::Transport(_)), "{e}");
    }

    // A good certificate of another CA: new connections get it at once; a
    // connection opened before the reload carries on.
    server_cert(&dir, &ca1, local(), false);
    sighup(child.id());
    let kept = client(&url, Some(&ca1_pem));
    kept.request(ferric_client::Method::GET, "/v1", None)
        .await
        .unwrap();
    server_cert(&dir, &ca2, local(), false);
    sighup(child.id());
    client(&url, Some(&ca2_pem))
        .request(ferric_client::Method::GET, "/v1/nodes", None)
        .await
        .unwrap();
    assert!(client(&url, Some(&ca1_pem))
        .request(ferric_client::Method::GET, "/v1", None)
        .await
        .is_err());
    kept.request(ferric_client::Method::GET, "/v1/nodes", None)
        .await
        .expect("the connection opened before the reload carries on");

    // Broken files: the old certificate stays, and the log says why.
    std::fs::write(dir.join("key.pem"), "not a key").unwrap();
    sighup(child.id());
    client(&url, Some(&ca2_pem))
        .request(ferric_client::Method::GET, "/v1", None)
        .await
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("TLS certificate not reloaded"), "{text}");
    assert!(text.contains("TLS certificate reloaded"), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}
