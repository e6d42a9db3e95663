//! Starting the built-in identity service with ferricd: open it on the database,
//! make the first administrator on first start (its password goes to a file only
//! its owner can read, never to the log), and let it validate the API's tokens when
//! the `keystone` strategy has no external Keystone.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use ferric_authz::DeferredValidator;
use ferric_db::Datastore;
use ferric_identity::{bootstrap, Identity, IdentityConfig};

/// The file the first administrator's password is written to, in the data dir.
const ADMIN_PASSWORD_FILE: &str = "identity-admin-password";

pub async fn start(
    db: &Datastore,
    config: IdentityConfig,
    data_dir: &Path,
    local_tokens: Option<&DeferredValidator>,
) -> Result<Identity, String> {
    let identity = Identity::start(db.clone(), config).await?;
    let path = data_dir.join(ADMIN_PASSWORD_FILE);
    if bootstrap::first_admin(db, |password| write_secret(&path, password)).await? {
        tracing::warn!(file = %path.display(), "identity: created the first administrator, user admin in project admin; its password is in the file");
    }
    if let Some(deferred) = local_tokens {
        deferred.set(Arc::new(identity.clone()));
    }
    tracing::info!(
        tokens = if local_tokens.is_some() {
            "validated here"
        } else {
            "issued only"
        },
        "identity service serving under /identity"
    );
    Ok(identity)
}

/// Writes `secret` to a new file readable by its owner only.
fn write_secret(path: &Path, secret: &str) -> Result<(), String> {
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))
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
