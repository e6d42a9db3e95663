//! Turning a requested file name into a path under the boot root (for TFTP and the
//! HTTP boot server): `..`, absolute-path tricks and symlinks leading outside the
//! root are refused; only regular files are served.

use std::path::{Component, Path, PathBuf};

/// Why a name does not give a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    NotFound,
    /// Outside the root, or unreadable.
    Denied,
}

/// The file `name` names under `root` (which must be canonical).
pub fn resolve(root: &Path, name: &str) -> Result<PathBuf, Refused> {
    // PXE clients on some firmware send backslashes; a leading slash means the root.
    let name = name.replace('\\', "/");
    let rel = name.trim_start_matches('/');
    let mut clean = PathBuf::new();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            _ => return Err(Refused::Denied),
        }
    }
    if clean.as_os_str().is_empty() {
        return Err(Refused::NotFound);
    }
    let real = match root.join(&clean).canonicalize() {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Refused::NotFound),
        Err(_) => return Err(Refused::Denied),
    };
    if !real.starts_with(root) {
        return Err(Refused::Denied);
    }
    if !real.is_file() {
        return Err(Refused::NotFound);
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confined_to_the_root() {
        let base = std::env::temp_dir().join(format!("ferric-tftp-path-{}", std::process::id()));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/file"), b"x").unwrap();
        std::fs::write(base.join("secret"), b"s").unwrap();
        let _ = std::os::unix::fs::symlink(base.join("secret"), root.join("escape"));
        let _ = std::os::unix::fs::symlink("sub/file", root.join("inside"));
        let root = root.canonicalize().unwrap();
        assert!(resolve(&root, "sub/file").is_ok());
        assert!(resolve(&root, "/sub/file").is_ok());
        assert!(resolve(&root, "sub\\file").is_ok());
        assert!(
            resolve(&root, "inside").is_ok(),
            "a symlink within the root is fine"
        );
        assert_eq!(resolve(&root, "../secret").unwrap_err(), Refused::Denied);
        assert_eq!(
            resolve(&root, "sub/../../secret").unwrap_err(),
            Refused::Denied
        );
        assert_eq!(resolve(&root, "escape").unwrap_err(), Refused::Denied);
        assert_eq!(resolve(&root, "missing").unwrap_err(), Refused::NotFound);
        assert_eq!(resolve(&root, "sub").unwrap_err(), Refused::NotFound);
        assert_eq!(resolve(&root, "/").unwrap_err(), Refused::NotFound);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
