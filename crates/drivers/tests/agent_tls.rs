//! The conductor's agent client against https agents served by OpenSSL (Python's
//! `ssl` module, the stack ironic-python-agent serves its API with). Certificates
//! made as agents make them — IPA 13's P-384 key signed with ecdsa-with-SHA512,
//! RSA with SHA-256, P-256 — are trusted exactly as the heartbeat sent them. Another
//! Over TLS 1.3 and 1.2. Another certificate than the pinned one, or an expired
//! one, is refused at once with an
//! error that names the TLS handshake and the agent, never the token; an agent that
//! does not listen fails after the short retries.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferric_drivers::agent_client::{self, keys, AgentCallError};
use ferric_types::provision::ProvisionState;
use ferric_types::{Node, NodeId, Timestamp};
use serde_json::Value;

const TOKEN: &str = "5e3c0ffee5e3c0ffee5e3c0ffee5e3c0ffee5e3c0ffee5e3c0ffee5e3c0ffee0";

/// An https agent API: answers every GET with a one-command log.
const SERVER: &str = r#"
import http.server, json, ssl, sys
class Agent(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = ("agent_token=" + sys.argv[3]) in self.path
        body = json.dumps({"commands": [{"command_name": "get_clean_steps",
                                         "command_status": "SUCCEEDED"}]} if ok
                          else {"faultstring": "bad token"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Agent)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
if sys.argv[4:] == ["tls1.2"]:
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

struct Agent {
    child: Child,
    url: String,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferric-agent-tls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A self-signed certificate for 127.0.0.1 made by `openssl req`.
fn openssl_cert(dir: &Path, name: &str, key_args: &[&str], digest: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", digest])
        .args(key_args)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl made {name}");
    (cert, key)
}

/// An agent serving `cert`; `tls12_only` caps it at TLS 1.2.
fn serve_with(cert: &Path, key: &Path, tls12_only: bool) -> Agent {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(SERVER)
        .arg(cert)
        .arg(key)
        .arg(TOKEN)
        .args(tls12_only.then_some("tls1.2"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line.trim().parse().expect("the server prints its port");
    Agent {
        child,
        url: format!("https://127.0.0.1:{port}"),
    }
}

fn serve(cert: &Path, key: &Path) -> Agent {
    serve_with(cert, key, false)
}

fn node(url: &str, pem: Option<&str>) -> Node {
    let mut n = Node::new(
        NodeId::new_v4(),
        "fake-hardware".into(),
        ProvisionState::CleanWait,
        Timestamp::now(),
    );
    let dii = &mut n.driver_internal_info;
    dii.insert(keys::URL.into(), Value::from(url));
    dii.insert(keys::TOKEN.into(), Value::from(TOKEN));
    if let Some(pem) = pem {
        dii.insert(keys::VERIFY_CA.into(), Value::from(pem));
    }
    n
}

fn failure(result: Result<Vec<Value>, AgentCallError>) -> String {
    match result {
        Err(AgentCallError::Failed(why)) => {
            assert!(!why.contains(TOKEN), "the token leaked: {why}");
            why
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn agent_certificates_of_every_signature_algorithm_are_trusted_as_sent() {
    let dir = scratch("algorithms");
    let kinds: [(&str, &[&str], &str); 3] = [
        (
            "ipa13-p384-sha512",
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1"],
            "-sha512",
        ),
        ("rsa-sha256", &["-newkey", "rsa:2048"], "-sha256"),
        (
            "p256-sha256",
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
            "-sha256",
        ),
    ];
    for (name, key_args, digest) in kinds {
        let (cert, key) = openssl_cert(&dir, name, key_args, digest);
        let pem = std::fs::read_to_string(&cert).unwrap();
        // TLS 1.3, and 1.2 (whose handshake signature is checked another way).
        for tls12_only in [false, true] {
            let agent = serve_with(&cert, &key, tls12_only);
            let log = agent_client::AgentClient::default()
                .commands(&node(&agent.url, Some(&pem)))
                .await
                .unwrap_or_else(|e| panic!("{name} (TLS 1.2 only: {tls12_only}): {e:?}"));
            assert_eq!(log[0]["command_name"], "get_clean_steps", "{name}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn another_or_expired_certificate_fails_at_once_naming_the_handshake() {
    let dir = scratch("refused");
    let p384 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1"];
    let (cert, key) = openssl_cert(&dir, "served", &p384, "-sha512");
    let (other, _) = openssl_cert(&dir, "other", &p384, "-sha512");
    let agent = serve(&cert, &key);
    let pem = std::fs::read_to_string(&other).unwrap();
    let started = Instant::now();
    let why = failure(
        agent_client::AgentClient::default()
            .commands(&node(&agent.url, Some(&pem)))
            .await,
    );
    assert!(
        why.starts_with(&format!(
            "TLS handshake with the agent at {} failed:",
            agent.url
        )),
        "{why}"
    );
    assert!(
        why.ends_with("invalid peer certificate: the agent presented another certificate than the one its heartbeat sent"),
        "{why}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no retries of a TLS failure"
    );

    // A certificate whose validity ended: refused even though it is the one sent.
    let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".into()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let expired = params.self_signed(&key_pair).unwrap();
    std::fs::write(dir.join("expired.pem"), expired.pem()).unwrap();
    std::fs::write(dir.join("expired.key"), key_pair.serialize_pem()).unwrap();
    let old = serve(&dir.join("expired.pem"), &dir.join("expired.key"));
    let why = failure(
        agent_client::AgentClient::default()
            .commands(&node(&old.url, Some(&expired.pem())))
            .await,
    );
    assert!(why.starts_with("TLS handshake with the agent"), "{why}");
    assert!(why.contains("certificate expired"), "{why}");
    assert!(why.contains("not valid after 1609459200"), "{why}");

    // https without the heartbeat's certificate is refused before connecting.
    let why = failure(
        agent_client::AgentClient::default()
            .commands(&node(&agent.url, None))
            .await,
    );
    assert!(why.contains("sent no certificate"), "{why}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_agent_that_does_not_listen_fails_after_short_retries() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let why = failure(
        agent_client::AgentClient::default()
            .commands(&node(&url, None))
            .await,
    );
    assert!(
        why.starts_with(&format!("cannot connect to the agent at {url}:")),
        "{why}"
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(4),
        "three tries, two pauses: {took:?}"
    );
}
