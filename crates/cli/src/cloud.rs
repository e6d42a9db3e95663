//! Where `ferric` finds its credentials, the way the `openstack` client does: the
//! cloud named by `--os-cloud` (or `OS_CLOUD`) in a `clouds.yaml`
//! (`OS_CLIENT_CONFIG_FILE`, `./clouds.yaml`, `~/.config/openstack/clouds.yaml`,
//! `/etc/openstack/clouds.yaml`), or else the `OS_*` environment variables. Auth
//! types: `none`, `http_basic`, `token`, `password` (`v3password`) and
//! `v3applicationcredential`.

use std::collections::HashMap;
use std::path::PathBuf;

use ferric_client::{Credentials, LoginScope};
use yaml_rust2::{Yaml, YamlLoader};

/// A cloud's endpoint (if it names one), credentials and region.
#[derive(Debug, Clone)]
pub struct Cloud {
    pub endpoint: Option<String>,
    pub credentials: Credentials,
    pub region: Option<String>,
    /// `cacert`: CA certificates (PEM) to verify the endpoints with.
    pub cacert: Option<PathBuf>,
    /// `verify: false` / `insecure`: do not verify certificates.
    pub insecure: bool,
}

/// The cloud to use: `--os-cloud NAME`, or the `OS_*` variables, or none.
pub fn resolve(os_cloud: Option<&str>) -> Result<Option<Cloud>, String> {
    if let Some(name) = os_cloud.filter(|n| !n.is_empty()) {
        return from_clouds_yaml(name).map(Some);
    }
    let env: HashMap<String, String> = std::env::vars()
        .filter_map(|(k, v)| Some((k.strip_prefix("OS_")?.to_ascii_lowercase(), v)))
        .collect();
    if !["auth_type", "auth_url", "token", "username"]
        .iter()
        .any(|k| env.contains_key(*k))
    {
        return Ok(None);
    }
    let get = |k: &str| env.get(k).cloned().filter(|v| !v.is_empty());
    build(&get, get("region_name"), "the OS_* environment").map(Some)
}

fn clouds_yaml_paths() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Ok(p) = std::env::var("OS_CLIENT_CONFIG_FILE") {
        paths.push(PathBuf::from(p));
    }
    paths.push(PathBuf::from("clouds.yaml"));
    if let Ok(home) = std::env::var("HOME") {
        paths.push(PathBuf::from(home).join(".config/openstack/clouds.yaml"));
    }
    paths.push(PathBuf::from("/etc/openstack/clouds.yaml"));
    paths
}

fn from_clouds_yaml(name: &str) -> Result<Cloud, String> {
    for path in clouds_yaml_paths() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let docs = YamlLoader::load_from_str(&text)
            .map_err(|e| format!("{}: not YAML: {e}", path.display()))?;
        let cloud = &docs.first().unwrap_or(&Yaml::Null)["clouds"][name];
        if cloud.is_badvalue() {
            continue;
        }
        let auth = &cloud["auth"];
        let scalar = |y: &Yaml| match y {
            Yaml::String(s) => Some(s.clone()),
            Yaml::Integer(i) => Some(i.to_string()),
            Yaml::Boolean(b) => Some(b.to_string()),
            _ => None,
        };
        let get = |k: &str| {
            scalar(&auth[k])
                .or_else(|| scalar(&cloud[k]))
                .filter(|v| !v.is_empty())
        };
        let region = scalar(&cloud["region_name"]);
        return build(&get, region, &format!("cloud {name} of {}", path.display()));
    }
    Err(format!(
        "no cloud {name:?} in any clouds.yaml (OS_CLIENT_CONFIG_FILE, ./clouds.yaml, \
         ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)"
    ))
}

/// Credentials from a cloud's options (`get("username")` …).
fn build(
    get: &dyn Fn(&str) -> Option<String>,
    region: Option<String>,
    origin: &str,
) -> Result<Cloud, String> {
    let need = |k: &str| get(k).ok_or_else(|| format!("{origin}: {k} is needed"));
    let endpoint = get("baremetal_endpoint_override").or_else(|| get("endpoint"));
    let auth_type = get("auth_type").unwrap_or_else(|| {
        if get("auth_url").is_some() {
            "password".into()
        } else if get("token").is_some() {
            "token".into()
        } else {
            "none".into()
        }
    });
    let domain = |k: &str| get(k).unwrap_or_else(|| "Default".into());
    let credentials = match auth_type.as_str() {
        "none" | "noauth" => {
            if endpoint.is_none() {
                return Err(format!("{origin}: auth_type none needs an endpoint"));
            }
            Credentials::None
        }
        "http_basic" => {
            if endpoint.is_none() {
                return Err(format!("{origin}: auth_type http_basic needs an endpoint"));
            }
            Credentials::Basic {
                username: need("username")?,
                password: need("password")?,
            }
        }
        "token" | "admin_token" => {
            if endpoint.is_none() {
                return Err(format!("{origin}: auth_type {auth_type} needs an endpoint"));
            }
            Credentials::Token(need("token")?)
        }
        "password" | "v3password" => Credentials::Password {
            auth_url: need("auth_url")?,
            username: need("username")?,
            password: need("password")?,
            user_domain: domain("user_domain_name"),
            scope: if get("system_scope").is_some() {
                LoginScope::System
            } else if get("project_name").is_some() || get("project_id").is_some() {
                LoginScope::Project {
                    name: get("project_name"),
                    id: get("project_id"),
                    domain: domain("project_domain_name"),
                }
            } else {
                LoginScope::Unscoped
            },
        },
        "v3applicationcredential" => Credentials::AppCredential {
            auth_url: need("auth_url")?,
            id: get("application_credential_id"),
            name: get("application_credential_name"),
            username: get("username"),
            user_domain: domain("user_domain_name"),
            secret: need("application_credential_secret")?,
        },
        other => {
            return Err(format!(
                "{origin}: auth_type {other:?} is not supported (none, http_basic, token, \
                 password, v3applicationcredential)"
            ))
        }
    };
    let insecure = get("insecure").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || get("verify").is_some_and(|v| v.eq_ignore_ascii_case("false"));
    Ok(Cloud {
        endpoint,
        credentials,
        region,
        cacert: get("cacert").map(PathBuf::from),
        insecure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(pairs: &[(&str, &str)]) -> Result<Cloud, String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        build(&|k| map.get(k).cloned(), None, "test")
    }

    #[test]
    fn auth_types_map_to_credentials() {
        let c = cloud(&[
            ("auth_url", "http://h/identity"),
            ("username", "u"),
            ("password", "p"),
            ("system_scope", "all"),
        ])
        .unwrap();
        assert!(matches!(
            c.credentials,
            Credentials::Password {
                scope: LoginScope::System,
                ..
            }
        ));
        let c = cloud(&[
            ("auth_type", "http_basic"),
            ("username", "u"),
            ("password", "p"),
            ("endpoint", "http://h:6385"),
        ])
        .unwrap();
        assert_eq!(c.endpoint.as_deref(), Some("http://h:6385"));
        assert!(cloud(&[("auth_type", "http_basic"), ("username", "u")]).is_err());
        assert!(cloud(&[("auth_type", "kerberos")]).is_err());
        let e = cloud(&[
            ("auth_type", "v3applicationcredential"),
            ("auth_url", "http://h"),
        ])
        .unwrap_err();
        assert!(e.contains("application_credential_secret"), "{e}");
    }
}
