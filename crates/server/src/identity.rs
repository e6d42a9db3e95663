//! Starting the built-in identity service with ferricd: open it on the database,
//! make the first administrator on first start (its password goes to a file only
//! root can read, never to the log), and let it validate the API's tokens when the
//! `keystone` strategy has no external Keystone.

use std::io::Write;
use std::sync::Arc;

use base64::Engine;
use ferric_db::Datastore;
use ferric_identity::{bootstrap, Identity, IdentityConfig};
use rand::RngCore;

use crate::Settings;

/// The file the first administrator's password is written to, in the data dir.
const ADMIN_PASSWORD_FILE: &str = "identity-admin-password";

pub async fn start(
    db: &Datastore,
    config: IdentityConfig,
    settings: &mut Settings,
) -> Result<Identity, String> {
    let identity = Identity::start(db.clone(), config).await?;
    if !bootstrap::has_users(db).await? {
        let mut bytes = [0u8; 18];
        rand::thread_rng().fill_bytes(&mut bytes);
        let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let path = settings.data_dir.join(ADMIN_PASSWORD_FILE);
        write_secret(&path, &password)?;
        bootstrap::bootstrap(db, "admin", "admin", &password).await?;
        tracing::warn!(file = %path.display(), "identity: created the first administrator, user admin in project admin; its password is in the file");
    }
    if settings.local_tokens {
        let uri = match &settings.api.public_endpoint {
            Some(e) => format!("{}/identity/v3", e.trim_end_matches('/')),
            None => format!("http://{}/identity/v3", settings.listen),
        };
        settings.api.auth =
            ferric_api::auth::AuthStrategy::Keystone(Arc::new(ferric_api::auth::KeystoneAuth {
                validator: Arc::new(identity.clone()),
                www_authenticate_uri: uri,
            }));
    }
    tracing::info!(
        tokens = if settings.local_tokens {
            "validated here"
        } else {
            "issued only"
        },
        "identity service serving under /identity"
    );
    Ok(identity)
}

/// Writes `secret` to a new file readable by its owner only.
fn write_secret(path: &std::path::Path, secret: &str) -> Result<(), String> {
    std::fs::create_dir_all(path.parent().unwrap_or(std::path::Path::new(".")))
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    writeln!(file, "{secret}").map_err(|e| format!("cannot write {}: {e}", path.display()))
}
