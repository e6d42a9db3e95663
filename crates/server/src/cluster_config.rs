//! How a `ferricd` takes part in a cluster: its roles (`--role api,conductor,boot`,
//! any combination, all by default), its conductor's RPC listener (`--rpc-listen`,
//! `[rpc] listen`, the address others reach it at `[rpc] url`, HTTPS with
//! `[rpc] tls_cert_file`/`tls_key_file`), the shared secret every RPC caller
//! presents (`[rpc] secret_file`, `--rpc-secret-file`), the CA an API process
//! trusts for HTTPS listeners (`[rpc] ca_file`), and Ironic's `[conductor]
//! heartbeat_interval` and `heartbeat_timeout` (seconds). Checked at start: SQLite
//! is single-process, so on SQLite one `ferricd` runs every role.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferric_conductor::Heartbeats;
use serde::Deserialize;

/// `[rpc]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileRpc {
    listen: Option<SocketAddr>,
    url: Option<String>,
    secret_file: Option<PathBuf>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
}

/// What this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub api: bool,
    pub conductor: bool,
    pub boot: bool,
}

impl Roles {
    pub const ALL: Roles = Roles {
        api: true,
        conductor: true,
        boot: true,
    };

    /// `api,conductor,boot`, any non-empty combination.
    pub fn parse(text: &str) -> Result<Roles, String> {
        let mut roles = Roles {
            api: false,
            conductor: false,
            boot: false,
        };
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match word {
                "api" => roles.api = true,
                "conductor" => roles.conductor = true,
                "boot" => roles.boot = true,
                other => {
                    return Err(format!(
                        "unknown role {other:?} (api, conductor, boot, comma-separated)"
                    ))
                }
            }
        }
        if roles
            == (Roles {
                api: false,
                conductor: false,
                boot: false,
            })
        {
            return Err("--role needs at least one of api, conductor, boot".into());
        }
        Ok(roles)
    }
}

/// The conductor RPC's settings.
#[derive(Clone, Default)]
pub struct RpcSettings {
    /// Where this process's conductor listens for calls.
    pub listen: Option<SocketAddr>,
    /// Where others reach it (recorded in its conductor row).
    pub url: Option<String>,
    /// The shared secret callers present.
    pub secret: Option<String>,
    /// HTTPS for the listener: certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// The CA this process trusts for other conductors' HTTPS listeners.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for RpcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcSettings")
            .field("listen", &self.listen)
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "******"))
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// What the command line says of the cluster.
pub struct ClusterArgs<'a> {
    pub role: Option<&'a str>,
    pub rpc_listen: Option<SocketAddr>,
    pub rpc_secret_file: Option<&'a Path>,
}

fn read_secret(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("RPC secret file {}: {e}", path.display()))?;
    let secret = text.trim().to_string();
    if secret.len() < 16 {
        return Err(format!(
            "RPC secret file {}: the secret must be at least 16 characters",
            path.display()
        ));
    }
    Ok(secret)
}

/// The roles, the RPC settings and the heartbeats, checked together.
pub(crate) fn settings(
    args: ClusterArgs<'_>,
    file_role: Option<&str>,
    file: &FileRpc,
    heartbeat_interval: Option<u64>,
    heartbeat_timeout: Option<u64>,
    sqlite: bool,
) -> Result<(Roles, RpcSettings, Heartbeats), String> {
    let roles = match args.role.or(file_role) {
        Some(text) => Roles::parse(text)?,
        None => Roles::ALL,
    };
    if sqlite && roles != Roles::ALL {
        return Err(
            "SQLite serves one process: run every role in one ferricd (the default), or use \
             PostgreSQL (--database-url postgres://…) to run them apart"
                .into(),
        );
    }
    let d = Heartbeats::default();
    let interval = heartbeat_interval.unwrap_or(d.interval.as_secs());
    let timeout = heartbeat_timeout.unwrap_or(d.timeout.as_secs());
    if interval == 0 {
        return Err("[conductor] heartbeat_interval must be at least 1 second".into());
    }
    // A conductor fences itself when its last heartbeat is a timeout less one
    // interval old; between heartbeats it is an interval old: room for one miss.
    if timeout < 3 * interval {
        return Err(format!(
            "[conductor] heartbeat_timeout ({timeout} s) must be at least three heartbeat_interval ({interval} s)"
        ));
    }
    let heartbeats = Heartbeats {
        interval: Duration::from_secs(interval),
        timeout: Duration::from_secs(timeout),
    };
    let listen = args.rpc_listen.or(file.listen);
    let secret = match args.rpc_secret_file.or(file.secret_file.as_deref()) {
        Some(path) => Some(read_secret(path)?),
        None => None,
    };
    let tls = match (&file.tls_cert_file, &file.tls_key_file) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        (None, None) => None,
        _ => return Err("[rpc] TLS needs both tls_cert_file and tls_key_file".into()),
    };
    if listen.is_some() {
        if !roles.conductor {
            return Err("--rpc-listen is the conductor's listener: add the conductor role".into());
        }
        if sqlite {
            return Err("SQLite serves one process: a conductor on it takes no RPC".into());
        }
        if secret.is_none() {
            return Err(
                "--rpc-listen needs a shared secret (--rpc-secret-file or [rpc] secret_file): \
                 the RPC listener is not open to anyone"
                    .into(),
            );
        }
    }
    if roles.api && !roles.conductor && secret.is_none() {
        return Err(
            "an API without a conductor calls conductors over RPC: give it their shared secret \
             (--rpc-secret-file or [rpc] secret_file)"
                .into(),
        );
    }
    let url = match (&file.url, listen) {
        (Some(u), _) => Some(u.trim_end_matches('/').to_string()),
        (None, Some(addr)) if addr.ip().is_unspecified() => {
            return Err(format!(
                "--rpc-listen {addr} names no address others can reach: set [rpc] url"
            ))
        }
        (None, Some(addr)) => Some(format!(
            "{}://{addr}",
            if tls.is_some() { "https" } else { "http" }
        )),
        (None, None) => None,
    };
    Ok((
        roles,
        RpcSettings {
            listen,
            url,
            secret,
            tls,
            ca_file: file.ca_file.clone(),
        },
        heartbeats,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(role: Option<&str>, listen: Option<&str>) -> ClusterArgs<'static> {
        ClusterArgs {
            role: role.map(|r| Box::leak(r.to_string().into_boxed_str()) as &str),
            rpc_listen: listen.map(|l| l.parse().unwrap()),
            rpc_secret_file: None,
        }
    }

    #[test]
    fn roles_parse_in_any_combination() {
        assert_eq!(Roles::parse("api,conductor,boot").unwrap(), Roles::ALL);
        let c = Roles::parse(" conductor ").unwrap();
        assert!(c.conductor && !c.api && !c.boot);
        assert!(Roles::parse("api,scheduler")
            .unwrap_err()
            .contains("scheduler"));
        assert!(Roles::parse(",").is_err());
    }

    #[test]
    fn bad_combinations_are_refused() {
        let file = FileRpc::default();
        let no = |a, sqlite| settings(a, None, &file, None, None, sqlite).unwrap_err();
        assert!(no(args(Some("api"), None), true).contains("SQLite"));
        assert!(no(args(Some("api"), None), false).contains("shared secret"));
        assert!(
            no(args(Some("conductor"), Some("127.0.0.1:8089")), false).contains("shared secret")
        );
        assert!(
            no(args(Some("api,boot"), Some("127.0.0.1:8089")), false).contains("conductor role")
        );
        let e = settings(args(None, None), None, &file, Some(10), Some(29), false).unwrap_err();
        assert!(e.contains("heartbeat_timeout"), "{e}");
        let (roles, rpc, hb) = settings(args(None, None), None, &file, None, None, true).unwrap();
        assert_eq!(roles, Roles::ALL);
        assert!(rpc.listen.is_none() && rpc.url.is_none());
        assert_eq!(hb, Heartbeats::default());
    }

    #[test]
    fn the_secret_is_read_checked_and_never_shown() {
        let dir = std::env::temp_dir().join(format!("ferric-rpc-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let short = dir.join("short");
        std::fs::write(&short, "abc\n").unwrap();
        assert!(read_secret(&short).unwrap_err().contains("16 characters"));
        let good = dir.join("good");
        std::fs::write(&good, "correct-horse-battery-staple\n").unwrap();
        let file = FileRpc::default();
        let (_, rpc, _) = settings(
            ClusterArgs {
                role: Some("conductor"),
                rpc_listen: Some("127.0.0.1:8089".parse().unwrap()),
                rpc_secret_file: Some(&good),
            },
            None,
            &file,
            Some(2),
            Some(6),
            false,
        )
        .unwrap();
        assert_eq!(rpc.secret.as_deref(), Some("correct-horse-battery-staple"));
        assert_eq!(rpc.url.as_deref(), Some("http://127.0.0.1:8089"));
        assert!(!format!("{rpc:?}").contains("staple"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
