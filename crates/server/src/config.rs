//! ferricd's configuration: command-line flags, `FERRIC_*` environment variables, a
//! TOML file, and defaults, in that order of precedence.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use ferric_api::auth::{AuthStrategy, KeystoneAuth};
use ferric_authz::{DeferredValidator, TokenValidator};
use ferric_identity::remote::{AuthTokenConfig, RemoteKeystone};
use serde::Deserialize;

/// Ferric: bare-metal provisioning with an Ironic-compatible API.
///
/// With no options, ferricd runs all-in-one: SQLite in ./var, the API and the web
/// dashboard (/dashboard/) on 127.0.0.1:6385, no authentication (so it listens on
/// loopback only).
///
/// Each flag below also has a FERRIC_* environment variable and a key in the TOML
/// file given with --config, which has more options than the flags: `ferricd
/// config example` prints one with every option, commented out, and
/// docs/configuration.md describes each.
#[derive(Debug, Parser)]
#[command(name = "ferricd", version)]
pub struct Cli {
    /// Address and port the API listens on [default: 127.0.0.1:6385]
    #[arg(long, env = "FERRIC_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,

    /// Directory for Ferric's state (the SQLite database) [default: ./var]
    #[arg(long, env = "FERRIC_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB
    /// [default: sqlite://DATA_DIR/ferric.db]
    #[arg(
        long,
        env = "FERRIC_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// A TOML configuration file
    #[arg(long, env = "FERRIC_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// URL clients use to reach the API, for links in responses
    /// [default: from each request's Host header]
    #[arg(long, env = "FERRIC_PUBLIC_ENDPOINT", value_name = "URL")]
    pub public_endpoint: Option<String>,

    /// Log filter, e.g. info, debug, ferric_api=debug [default: info]
    #[arg(long, env = "FERRIC_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// Log lines as text, or as one JSON object each for a log pipeline
    /// [default: text]
    #[arg(long, env = "FERRIC_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,

    /// The name this conductor locks nodes under [default: the machine's host name]
    #[arg(long, env = "FERRIC_HOST", value_name = "NAME")]
    pub host: Option<String>,

    /// The conductor group this conductor serves [default: "" (the default group)]
    #[arg(long, env = "FERRIC_CONDUCTOR_GROUP", value_name = "GROUP")]
    pub conductor_group: Option<String>,

    /// Node operations that may run at once; more are refused with 503 [default: 100]
    #[arg(long, env = "FERRIC_WORKERS", value_name = "N")]
    pub workers: Option<usize>,
    /// What this process runs: api, conductor, boot, comma-separated (`role`)
    /// [default: api,conductor,boot]
    #[arg(long, env = "FERRIC_ROLE", value_name = "ROLES")]
    pub role: Option<String>,
    /// The conductor's RPC listener, where API processes elsewhere call it
    /// (JSON-RPC over HTTP; needs the shared secret; `[rpc] listen`)
    #[arg(long, env = "FERRIC_RPC_LISTEN", value_name = "ADDR:PORT")]
    pub rpc_listen: Option<SocketAddr>,
    /// The file holding the secret every RPC caller presents (`[rpc] secret_file`)
    #[arg(long, env = "FERRIC_RPC_SECRET_FILE", value_name = "FILE")]
    pub rpc_secret_file: Option<PathBuf>,
    /// Serve TFTP (PXE boot files) on this address, e.g. 10.0.0.1:69 (off when unset;
    /// `[boot] tftp_listen`).
    #[arg(long, env = "FERRIC_TFTP_LISTEN", value_name = "ADDR:PORT")]
    pub tftp_listen: Option<SocketAddr>,
    /// The boot root: iPXE binaries and rendered per-node boot files, served over TFTP
    /// and at /boot/ over HTTP (default DATA_DIR/tftp; `[boot] tftp_root`).
    #[arg(long, env = "FERRIC_TFTP_ROOT", value_name = "DIR")]
    pub tftp_root: Option<PathBuf>,
    /// Serve DHCP on this interface (the provisioning network; needs `[boot]
    /// dhcp_server_ip`, `dhcp_pool_start`, `dhcp_pool_end`; `[boot] dhcp_interface`).
    #[arg(long, env = "FERRIC_DHCP_INTERFACE", value_name = "IFACE")]
    pub dhcp_interface: Option<String>,
    /// Serve the HTTP boot server (`/boot/`, `/images/`) on this address too, e.g.
    /// the provisioning network's 10.0.0.1:8080 (`[boot] http_listen`; boot URLs then
    /// use `[boot] http_url`, default http://ADDR).
    #[arg(long, env = "FERRIC_HTTP_BOOT_LISTEN", value_name = "ADDR:PORT")]
    pub http_boot_listen: Option<SocketAddr>,
    /// Serve the network service's Neutron-shaped API (v2.0 networks, subnets,
    /// ports) on this address, e.g. 127.0.0.1:9696 (off when unset; `[network]
    /// api_listen`).
    #[arg(long, env = "FERRIC_NETWORK_API_LISTEN", value_name = "ADDR:PORT")]
    pub network_api_listen: Option<SocketAddr>,
    /// Run DHCP as a ProxyDHCP server beside the site's DHCP server: hand out no
    /// addresses (no pool needed), only tell PXE clients where to boot from, also on
    /// port 4011 (`[boot] dhcp_proxy`).
    #[arg(long, env = "FERRIC_DHCP_PROXY")]
    pub dhcp_proxy: bool,
    /// How API requests are authenticated: noauth or http_basic (`[auth] strategy`)
    /// [default: noauth]
    #[arg(long, env = "FERRIC_AUTH_STRATEGY", value_name = "STRATEGY")]
    pub auth_strategy: Option<String>,
    /// The htpasswd file (bcrypt hashes) of http_basic (`[auth]
    /// http_basic_auth_user_file`) [default: /etc/ferric/htpasswd]
    #[arg(long, env = "FERRIC_HTTP_BASIC_AUTH_USER_FILE", value_name = "FILE")]
    pub http_basic_auth_user_file: Option<PathBuf>,
    /// Let the API or the network API listen beyond loopback with no authentication
    /// (noauth): anyone who reaches them manages every node. For isolated labs only
    /// (`[auth] allow_insecure_noauth`).
    #[arg(long, env = "FERRIC_ALLOW_INSECURE_NOAUTH")]
    pub allow_insecure_noauth: bool,
    /// A policy file (YAML, oslo.policy check strings by Ironic's rule names) whose
    /// rules replace the defaults; a rule that does not parse stops ferricd
    /// (`[auth] policy_file`, Ironic's `[oslo_policy] policy_file`).
    #[arg(long, env = "FERRIC_POLICY_FILE", value_name = "FILE")]
    pub policy_file: Option<PathBuf>,
    /// Do not serve the web dashboard at /dashboard/ on the API listener (`[api]
    /// dashboard = false`)
    #[arg(long, env = "FERRIC_NO_DASHBOARD")]
    pub no_dashboard: bool,
    /// Serve the built-in identity service (a Keystone v3 subset) under /identity on
    /// the API listener; with --auth-strategy keystone and no [keystone_authtoken]
    /// auth_url, its tokens are the ones accepted (`[identity] enabled`).
    #[arg(long, env = "FERRIC_ENABLE_IDENTITY")]
    pub enable_identity: bool,
    /// Serve the API, the identity service and the network API over HTTPS with this
    /// PEM certificate (chain) — reread on SIGHUP (`[api] tls_cert`).
    #[arg(
        long,
        env = "FERRIC_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (`[api] tls_key`).
    #[arg(
        long,
        env = "FERRIC_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object a line: time, level, target, message, the event's
    /// fields (node, request id…) and the request it belongs to.
    Json,
}

/// What `ferricd` does instead of serving.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The built-in identity service.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// The configuration file: an example with every option, or the reference.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `ferricd config …`: text generated from the option table.
#[derive(Debug, Clone, Copy, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print a configuration file with every option commented out, with its
    /// default or an example.
    Example,
    /// Print the configuration reference (Markdown, as docs/configuration.md).
    Reference,
}

#[derive(clap::Subcommand)]
pub enum IdentityCommand {
    /// Creates (or resets the password of) the first administrator: a project and a
    /// user with the admin role on it and on the system.
    Bootstrap {
        #[arg(long, default_value = "admin")]
        username: String,
        #[arg(long = "project-name", default_value = "admin")]
        project: String,
        /// The password (taken from FERRIC_BOOTSTRAP_PASSWORD if not given).
        #[arg(long, env = "FERRIC_BOOTSTRAP_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

/// Without the password: nothing that prints the arguments prints it.
impl std::fmt::Debug for IdentityCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityCommand::Bootstrap {
                username, project, ..
            } => f
                .debug_struct("Bootstrap")
                .field("username", username)
                .field("project", project)
                .finish_non_exhaustive(),
        }
    }
}

/// The first listener (`API` or `network API`) that serves beyond loopback while
/// nobody is asked who they are (noauth), if any.
pub fn exposed_without_auth(
    auth: &ferric_api::auth::AuthStrategy,
    listen: SocketAddr,
    network_api_listen: Option<SocketAddr>,
) -> Option<(&'static str, SocketAddr)> {
    if !matches!(auth, ferric_api::auth::AuthStrategy::NoAuth) {
        return None;
    }
    std::iter::once(("API", listen))
        .chain(network_api_listen.map(|a| ("network API", a)))
        .find(|(_, addr)| !addr.ip().is_loopback())
}

/// The authentication strategy the settings name, and, when the built-in identity
/// service validates the tokens, the handle it fills in once it has started.
fn auth_strategy(
    strategy: Option<String>,
    user_file: Option<PathBuf>,
    authtoken: &FileKeystoneAuthtoken,
    identity_enabled: bool,
    identity_uri: String,
) -> Result<(AuthStrategy, Option<Arc<DeferredValidator>>), String> {
    let strategy = strategy.unwrap_or_else(|| "noauth".into());
    let keystone = |validator: Arc<dyn TokenValidator>, www_authenticate_uri| {
        AuthStrategy::Keystone(Arc::new(KeystoneAuth {
            validator,
            www_authenticate_uri,
        }))
    };
    Ok(match strategy.as_str() {
        "noauth" => (AuthStrategy::NoAuth, None),
        "http_basic" => {
            let path = user_file.unwrap_or_else(|| PathBuf::from("/etc/ferric/htpasswd"));
            let users =
                ferric_api::auth::UserFile::open(&path).map_err(|e| format!("http_basic: {e}"))?;
            (AuthStrategy::HttpBasic(Arc::new(users)), None)
        }
        "keystone" => match &authtoken.auth_url {
            Some(url) => {
                let remote = remote_keystone(authtoken, url)?;
                let uri = remote.www_authenticate_uri();
                (keystone(Arc::new(remote), uri), None)
            }
            None if identity_enabled => {
                let deferred = Arc::new(DeferredValidator::default());
                (keystone(deferred.clone(), identity_uri), Some(deferred))
            }
            None => {
                return Err(
                    "auth strategy keystone needs [keystone_authtoken] auth_url \
                            (an external Keystone) or the built-in identity service \
                            (--enable-identity)"
                        .into(),
                )
            }
        },
        other => {
            return Err(format!(
                "auth strategy {other:?} is not supported (noauth, http_basic, keystone)"
            ))
        }
    })
}

/// The client of the external Keystone `[keystone_authtoken]` names.
fn remote_keystone(ka: &FileKeystoneAuthtoken, url: &str) -> Result<RemoteKeystone, String> {
    if ka.auth_type.as_deref().is_some_and(|t| t != "password") {
        return Err(format!(
            "keystone_authtoken.auth_type {:?} is not supported (password)",
            ka.auth_type.clone().unwrap_or_default()
        ));
    }
    let need = |v: &Option<String>, name: &str| {
        v.clone()
            .ok_or_else(|| format!("keystone_authtoken.{name} is needed with auth_url"))
    };
    let domain = |v: &Option<String>| v.clone().unwrap_or_else(|| "Default".into());
    RemoteKeystone::new(AuthTokenConfig {
        auth_url: url.to_string(),
        www_authenticate_uri: ka.www_authenticate_uri.clone(),
        username: need(&ka.username, "username")?,
        password: need(&ka.password, "password")?,
        project_name: need(&ka.project_name, "project_name")?,
        user_domain_name: domain(&ka.user_domain_name),
        project_domain_name: domain(&ka.project_domain_name),
        token_cache_time: ka.token_cache_time.unwrap_or(300),
    })
}

/// `[identity]`: the built-in identity service.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIdentity {
    enabled: Option<bool>,
    /// Seconds a token lives.
    token_expiration: Option<u64>,
    region: Option<String>,
}

/// `[keystone_authtoken]`: keystonemiddleware's options, so an Ironic section
/// carries over as it is (options Ferric has no use for are ignored).
#[derive(Default, Deserialize)]
struct FileKeystoneAuthtoken {
    auth_url: Option<String>,
    www_authenticate_uri: Option<String>,
    auth_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    project_name: Option<String>,
    user_domain_name: Option<String>,
    project_domain_name: Option<String>,
    token_cache_time: Option<u64>,
}

impl std::fmt::Debug for FileKeystoneAuthtoken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeystoneAuthtoken")
            .field("auth_url", &self.auth_url)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `[auth]`: how API requests are authenticated.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuth {
    strategy: Option<String>,
    http_basic_auth_user_file: Option<PathBuf>,
    allow_insecure_noauth: Option<bool>,
    policy_file: Option<PathBuf>,
}

/// The TOML file's shape.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    log: Option<String>,
    log_format: Option<LogFormat>,
    /// `api,conductor,boot`, any combination.
    role: Option<String>,
    #[serde(default)]
    rpc: crate::cluster_config::FileRpc,
    #[serde(default)]
    api: FileApi,
    #[serde(default)]
    conductor: FileConductor,
    #[serde(default)]
    agent: FileAgent,
    #[serde(default)]
    deploy: FileDeploy,
    #[serde(default)]
    boot: FileBoot,
    #[serde(default)]
    network: FileNetwork,
    #[serde(default)]
    auth: FileAuth,
    #[serde(default)]
    identity: FileIdentity,
    #[serde(default)]
    keystone_authtoken: FileKeystoneAuthtoken,
    #[serde(default)]
    inspector: crate::inspector_config::FileInspector,
    #[serde(default)]
    inspection_rules: crate::inspection_rules_config::FileInspectionRules,
}

/// `[network]`: Ferric's network service.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNetwork {
    /// Where the Neutron-shaped API listens.
    api_listen: Option<SocketAddr>,
    /// The switches whose ports the `neutron` network interface flips.
    #[serde(default)]
    switches: Vec<SwitchConfig>,
    /// An external Neutron that does the `neutron` interface's flips instead of
    /// Ferric's own network service.
    neutron_url: Option<String>,
    /// Its token (`X-Auth-Token`), if it wants one.
    neutron_token: Option<String>,
    /// Its networks (name or UUID) for each role, unless a node's `driver_info` names one.
    provisioning_network: Option<String>,
    cleaning_network: Option<String>,
    rescuing_network: Option<String>,
}

/// `[[network.switches]]`: one switch and its driver.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchConfig {
    pub name: String,
    /// `linux-bridge`, `generic-ssh` or `sim`.
    pub driver: String,
    /// sim: the switch's management address on the simulated rack.
    pub url: Option<String>,
    /// generic-ssh: where and how to log in (a password or a key file); sim: the
    /// rack's credentials.
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub key_file: Option<PathBuf>,
    /// generic-ssh: `cisco_ios`, `arista_eos`, `juniper_junos`, `dell_os10`, `sonic`.
    pub os: Option<String>,
    /// generic-ssh: command templates replacing the OS's (`{port}`, `{vlan}`).
    pub bind_commands: Option<Vec<String>>,
    pub unbind_commands: Option<Vec<String>>,
    /// generic-ssh with custom templates: the link-aggregate ones (`{lag}`, a
    /// `{members}` line for the member template per port); without them port groups
    /// are configured member by member.
    pub lag_bind_commands: Option<Vec<String>>,
    pub lag_member_bind_commands: Option<Vec<String>>,
    pub lag_unbind_commands: Option<Vec<String>>,
    pub lag_member_unbind_commands: Option<Vec<String>>,
    /// Matched against the ports' `local_link_connection` `switch_id` / `switch_info`.
    pub switch_id: Option<String>,
    pub switch_info: Option<String>,
    /// linux-bridge: `bridge-per-vlan` (default) or `vlan-filtering`.
    pub mode: Option<String>,
    /// linux-bridge: the bridge name prefix (bridge-per-vlan) or bridge name.
    pub bridge: Option<String>,
    /// linux-bridge: the network namespace the switch's ports live in.
    pub netns: Option<String>,
}

impl std::fmt::Debug for SwitchConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchConfig")
            .field("name", &self.name)
            .field("driver", &self.driver)
            .field("host", &self.host)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "******"))
            .finish_non_exhaustive()
    }
}

/// `[boot]`: the network boot services (TFTP so far).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBoot {
    tftp_listen: Option<SocketAddr>,
    tftp_root: Option<PathBuf>,
    /// TFTP transfers at once (default 256).
    tftp_max_transfers: Option<usize>,
    dhcp_interface: Option<String>,
    /// ProxyDHCP mode (default false).
    dhcp_proxy: Option<bool>,
    /// A listener for the HTTP boot server apart from the API, and the URL firmware
    /// reaches it at.
    http_listen: Option<SocketAddr>,
    http_url: Option<String>,
    /// Enroll PXE clients whose MAC is no node's port (default false).
    dhcp_discovery: Option<bool>,
    /// The hardware type discovered machines are enrolled with (default
    /// fake-hardware, as Ironic's auto-discovery).
    discovery_driver: Option<String>,
    /// This host's address on the provisioning network.
    dhcp_server_ip: Option<std::net::Ipv4Addr>,
    /// Prefix length of the provisioning subnet (default 24).
    dhcp_prefix: Option<u8>,
    dhcp_pool_start: Option<std::net::Ipv4Addr>,
    dhcp_pool_end: Option<std::net::Ipv4Addr>,
    dhcp_gateway: Option<std::net::Ipv4Addr>,
    #[serde(default)]
    dhcp_dns: Vec<std::net::Ipv4Addr>,
    /// Seconds (default 3600).
    dhcp_lease_time: Option<u64>,
    /// Boot files for BIOS and UEFI PXE firmware (defaults undionly.kpxe, snponly.efi;
    /// UEFI HTTP boot gets the UEFI one over HTTP).
    bios_file: Option<String>,
    uefi_file: Option<String>,
    /// Where the iPXE binaries are copied into the boot root from (default
    /// /usr/lib/ipxe, Debian's `ipxe` package).
    ipxe_dir: Option<PathBuf>,
    /// Kernel parameters of the deploy ramdisk before the agent's (default
    /// "nofb nomodeset vga=normal").
    kernel_append_params: Option<String>,
    /// Answer IPv6 router solicitations on the DHCP interface with an advertisement
    /// that configures nothing, so iPXE does not wait for one (default true).
    router_advertisements: Option<bool>,
}

/// `[deploy]`: the conductor's image cache.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDeploy {
    /// The URL agents reach this ferricd at for cached images (default: the public
    /// endpoint, else `http://LISTEN`).
    http_url: Option<String>,
    /// MiB of cached images kept before the least recently used go (default 20480).
    image_cache_size_mib: Option<u64>,
    /// Directories images, deploy kernels and ramdisks given as local paths may come
    /// from (default DATA_DIR, /var/lib/ferric, /srv/ferric).
    allowed_local_paths: Option<Vec<PathBuf>>,
}

/// `[agent]`: how the ramdisk agent is treated.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAgent {
    /// Seconds an agent may go without heartbeating (default 300).
    heartbeat_timeout: Option<u64>,
    /// Refuse agents that do not serve https (default true, as Ironic; labs running
    /// `ferric-agent --plain-http` set it to false).
    require_tls: Option<bool>,
    /// Allow MD5 image checksums (default true).
    allow_md5_checksum: Option<bool>,
    /// After asking the agent to power off: seconds between power-state reads, and
    /// how many reads before the BMC powers the node off (defaults 5 and 6).
    post_deploy_get_power_state_retry_interval: Option<f64>,
    post_deploy_get_power_state_retries: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConductor {
    host: Option<String>,
    group: Option<String>,
    workers: Option<usize>,
    sync_power_state_interval: Option<u64>,
    /// Seconds a node may wait for its ramdisk agent in each wait state.
    deploy_callback_timeout: Option<u64>,
    clean_callback_timeout: Option<u64>,
    inspect_wait_timeout: Option<u64>,
    rescue_callback_timeout: Option<u64>,
    service_callback_timeout: Option<u64>,
    /// `instance`, `request` or `none` (Ironic's option).
    automatic_lessee_source: Option<String>,
    /// Read hardware health during power sync (Ironic's option; default true).
    enable_health_monitoring: Option<bool>,
    /// Seconds between this conductor's heartbeats (default 10).
    heartbeat_interval: Option<u64>,
    /// Seconds without a heartbeat before a conductor counts as dead (default 60).
    heartbeat_timeout: Option<u64>,
    /// Seconds a stopping conductor (SIGTERM) waits for its work (default 60).
    graceful_shutdown_timeout: Option<u64>,
    /// Seconds a draining conductor (SIGUSR2) waits for its work (default 1800).
    drain_shutdown_timeout: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileApi {
    public_endpoint: Option<String>,
    max_limit: Option<i64>,
    /// Serve the web dashboard at `/dashboard/` (default true).
    dashboard: Option<bool>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
}

/// The settings ferricd runs with.
#[derive(Debug)]
pub struct Settings {
    /// What this process runs.
    pub roles: crate::cluster_config::Roles,
    /// The conductor RPC: listener, secret, TLS.
    pub rpc: crate::cluster_config::RpcSettings,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub log: String,
    pub log_format: LogFormat,
    pub api: ferric_api::ApiConfig,
    /// How the web dashboard signs users in; `None`: no dashboard.
    pub dashboard: Option<ferric_dashboard::Login>,
    pub conductor: ferric_conductor::ConductorConfig,
    /// Seconds between power-state sync rounds; 0 turns the sync off.
    pub sync_power_state_interval: u64,
    /// How long a stopping (SIGTERM) and a draining (SIGUSR2) conductor wait for
    /// the work it runs.
    pub shutdown_waits: (std::time::Duration, std::time::Duration),
    pub wait_timeouts: ferric_conductor::WaitTimeouts,
    pub agent: ferric_drivers::direct::AgentSettings,
    pub image_cache: ferric_drivers::image_cache::CacheSettings,
    /// The TFTP server, when enabled.
    pub tftp: Option<ferric_boot::tftp::TftpConfig>,
    /// What rendered boot configs point the ramdisk at.
    pub netboot: ferric_drivers::netboot::NetbootSettings,
    /// The boot root, served over TFTP and at /boot/ over HTTP: iPXE binaries, and
    /// the nodes' boot files written into it from the database when asked for.
    pub boot_root: PathBuf,
    /// Where iPXE binaries are copied from.
    pub ipxe_dir: PathBuf,
    /// The network API's listener, when set.
    pub network_api_listen: Option<SocketAddr>,
    /// The switches of the network service.
    pub switches: Vec<SwitchConfig>,
    /// The external Neutron, when `[network] neutron_url` is set.
    pub external_neutron: Option<ferric_net::external::ExternalSettings>,
    /// The HTTP boot server's own listener, when set.
    pub http_boot_listen: Option<SocketAddr>,
    /// The interface router solicitations are answered on, when enabled.
    pub router_advertisements: Option<String>,
    /// With discovery on: the hardware type unknown PXE clients are enrolled with.
    pub discovery_driver: Option<String>,
    /// The DHCP server and what it points clients at, when enabled.
    pub dhcp: Option<(ferric_boot::dhcp::DhcpConfig, crate::boot_policy::BootFiles)>,
    /// The built-in identity service, when enabled.
    pub identity: Option<ferric_identity::IdentityConfig>,
    /// `keystone` strategy with the built-in identity service validating tokens: the
    /// validator `api.auth` calls, filled in once the service is open (it needs the
    /// database); until then tokens get 503.
    pub local_tokens: Option<Arc<DeferredValidator>>,
    /// HTTPS: the certificate and key files, when set.
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl Settings {
    pub fn load(cli: Cli) -> Result<Self, String> {
        let file = match &cli.config {
            None => FileConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
                toml::from_str(&text)
                    .map_err(|e| format!("invalid config file {}: {e}", path.display()))?
            }
        };
        let data_dir = cli
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("var"));
        let database_url = cli.database_url.or(file.database_url).unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("ferric.db").display())
        });
        let identity_enabled = cli.enable_identity || file.identity.enabled == Some(true);
        let listen = cli
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 6385)));
        let public_endpoint = cli
            .public_endpoint
            .clone()
            .or(file.api.public_endpoint.clone());
        let tls = match (
            cli.tls_cert.clone().or(file.api.tls_cert.clone()),
            cli.tls_key.clone().or(file.api.tls_key.clone()),
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                return Err("TLS needs both a certificate and a key (--tls-cert, --tls-key)".into())
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let identity_uri = match &public_endpoint {
            Some(e) => format!("{}/identity/v3", e.trim_end_matches('/')),
            None => format!("{scheme}://{listen}/identity/v3"),
        };
        let (auth, local_tokens) = auth_strategy(
            cli.auth_strategy.clone().or(file.auth.strategy.clone()),
            cli.http_basic_auth_user_file
                .clone()
                .or(file.auth.http_basic_auth_user_file.clone()),
            &file.keystone_authtoken,
            identity_enabled,
            identity_uri,
        )?;
        let policy = match cli.policy_file.clone().or(file.auth.policy_file.clone()) {
            Some(path) => ferric_authz::Policy::from_file(&path)
                .map_err(|e| format!("policy file {}: {e}", path.display()))?,
            None => ferric_authz::Policy::ironic_defaults(),
        };
        let max_limit = file.api.max_limit.unwrap_or(1000);
        if max_limit <= 0 {
            return Err(format!("api.max_limit must be positive, not {max_limit}"));
        }
        let wait_timeouts = {
            let c = &file.conductor;
            let d = ferric_conductor::WaitTimeouts::default();
            let secs = |v: Option<u64>, dflt: std::time::Duration| {
                v.map_or(dflt, std::time::Duration::from_secs)
            };
            ferric_conductor::WaitTimeouts {
                deploy: secs(c.deploy_callback_timeout, d.deploy),
                clean: secs(c.clean_callback_timeout, d.clean),
                inspect: secs(c.inspect_wait_timeout, d.inspect),
                rescue: secs(c.rescue_callback_timeout, d.rescue),
                service: secs(c.service_callback_timeout, d.service),
            }
        };
        let (roles, rpc, heartbeats) = crate::cluster_config::settings(
            crate::cluster_config::ClusterArgs {
                role: cli.role.as_deref(),
                rpc_listen: cli.rpc_listen,
                rpc_secret_file: cli.rpc_secret_file.as_deref(),
            },
            file.role.as_deref(),
            &file.rpc,
            file.conductor.heartbeat_interval,
            file.conductor.heartbeat_timeout,
            database_url.starts_with("sqlite:"),
        )?;
        let workers = cli.workers.or(file.conductor.workers).unwrap_or(100);
        if workers == 0 {
            return Err("workers must be at least 1".into());
        }
        let conductor = ferric_conductor::ConductorConfig {
            host: cli
                .host
                .or(file.conductor.host)
                .unwrap_or_else(ferric_conductor::local_hostname),
            group: cli
                .conductor_group
                .or(file.conductor.group)
                .unwrap_or_default(),
            workers,
            automatic_lessee: file
                .conductor
                .automatic_lessee_source
                .as_deref()
                .map(str::parse)
                .transpose()?
                .unwrap_or_default(),
            inspector: file.inspector.settings()?,
            health_monitoring: file.conductor.enable_health_monitoring.unwrap_or(true),
            inspection_rules: file.inspection_rules.settings()?,
            heartbeats,
            rpc_url: rpc.url.clone(),
            // Built with the database, once it is open.
            drivers: ferric_drivers::Drivers::default(),
        };
        let network_api_listen = cli.network_api_listen.or(file.network.api_listen);
        let insecure = cli.allow_insecure_noauth || file.auth.allow_insecure_noauth == Some(true);
        if !insecure {
            if let Some((what, addr)) = exposed_without_auth(&auth, listen, network_api_listen) {
                return Err(format!(
                    "the {what} would listen on {addr} with no authentication (noauth): anyone \
                     who reaches it would manage every node. Use --auth-strategy http_basic, \
                     listen on loopback, or pass --allow-insecure-noauth for an isolated lab"
                ));
            }
        }
        let image_cache = ferric_drivers::image_cache::CacheSettings {
            dir: data_dir.join("images"),
            base_url: file
                .deploy
                .http_url
                .clone()
                .or_else(|| public_endpoint.clone())
                .unwrap_or_else(|| {
                    if listen.ip().is_unspecified() {
                        String::new()
                    } else {
                        format!("http://{listen}")
                    }
                }),
            max_bytes: file.deploy.image_cache_size_mib.unwrap_or(20_480) << 20,
            allowed_local: file.deploy.allowed_local_paths.clone().unwrap_or_else(|| {
                vec![
                    data_dir.clone(),
                    PathBuf::from("/var/lib/ferric"),
                    PathBuf::from("/srv/ferric"),
                ]
            }),
        };
        let boot_root = cli
            .tftp_root
            .clone()
            .or(file.boot.tftp_root.clone())
            .unwrap_or_else(|| data_dir.join("tftp"));
        let netboot = ferric_drivers::netboot::NetbootSettings {
            api_url: image_cache.base_url.clone(),
            kernel_append: file
                .boot
                .kernel_append_params
                .clone()
                .unwrap_or_else(|| "nofb nomodeset vga=normal".into()),
        };
        let tftp = cli.tftp_listen.or(file.boot.tftp_listen).map(|addr| {
            let mut t = ferric_boot::tftp::TftpConfig::new(addr, boot_root.clone());
            if let Some(n) = file.boot.tftp_max_transfers {
                t.max_transfers = n.max(1);
            }
            t
        });
        let http_boot_listen = cli.http_boot_listen.or(file.boot.http_listen);
        let boot_url = match (&file.boot.http_url, http_boot_listen) {
            (Some(url), _) => url.clone(),
            (None, Some(addr)) if !addr.ip().is_unspecified() => format!("http://{addr}"),
            (None, Some(addr)) => {
                return Err(format!(
                    "the HTTP boot server listens on every address ({addr}): set [boot] http_url to the one firmware reaches"
                ))
            }
            (None, None) => image_cache.base_url.clone(),
        };
        let dhcp = match cli.dhcp_interface.or(file.boot.dhcp_interface.clone()) {
            None => None,
            Some(iface) => {
                let b = &file.boot;
                let need = |v: Option<std::net::Ipv4Addr>, name: &str| {
                    v.ok_or_else(|| format!("DHCP on {iface} needs [boot] {name}"))
                };
                let prefix = b.dhcp_prefix.unwrap_or(24);
                if !(8..=30).contains(&prefix) {
                    return Err(format!(
                        "[boot] dhcp_prefix {prefix} is out of range (8..30)"
                    ));
                }
                let server_ip = need(b.dhcp_server_ip, "dhcp_server_ip")?;
                let proxy = cli.dhcp_proxy || b.dhcp_proxy.unwrap_or(false);
                let (pool_start, pool_end) = if proxy {
                    (server_ip, server_ip)
                } else {
                    (
                        need(b.dhcp_pool_start, "dhcp_pool_start")?,
                        need(b.dhcp_pool_end, "dhcp_pool_end")?,
                    )
                };
                let cfg = ferric_boot::dhcp::DhcpConfig {
                    interface: Some(iface.clone()),
                    server_ip,
                    prefix,
                    pool_start,
                    pool_end,
                    gateway: b.dhcp_gateway,
                    dns: b.dhcp_dns.clone(),
                    lease_time: std::time::Duration::from_secs(
                        b.dhcp_lease_time.unwrap_or(3600).max(60),
                    ),
                    server_port: 67,
                    client_port: 68,
                    proxy_port: proxy.then_some(4011),
                };
                if u32::from(cfg.pool_start) > u32::from(cfg.pool_end) {
                    return Err("[boot] dhcp_pool_start is after dhcp_pool_end".into());
                }
                if image_cache.base_url.is_empty() {
                    return Err(
                        "DHCP needs an address nodes reach ferricd at: set [deploy] http_url or --public-endpoint"
                            .into(),
                    );
                }
                let files = crate::boot_policy::BootFiles {
                    bios_file: b
                        .bios_file
                        .clone()
                        .unwrap_or_else(|| "undionly.kpxe".into()),
                    uefi_file: b.uefi_file.clone().unwrap_or_else(|| "snponly.efi".into()),
                    base_url: boot_url.clone(),
                };
                Some((cfg, files))
            }
        };
        let router_advertisements = dhcp
            .as_ref()
            .filter(|_| file.boot.router_advertisements.unwrap_or(true))
            .and_then(|(cfg, _)| cfg.interface.clone());
        let discovery_driver = match (&dhcp, file.boot.dhcp_discovery.unwrap_or(false)) {
            (Some(_), true) => {
                let driver = file
                    .boot
                    .discovery_driver
                    .clone()
                    .unwrap_or_else(|| "fake-hardware".into());
                if ferric_types::hardware::hardware_type(&driver).is_none() {
                    return Err(format!(
                        "[boot] discovery_driver {driver} is not a hardware type this Ferric knows"
                    ));
                }
                Some(driver)
            }
            (None, true) => {
                return Err("[boot] dhcp_discovery needs DHCP (--dhcp-interface)".into())
            }
            _ => None,
        };
        for sw in &file.network.switches {
            if !["linux-bridge", "generic-ssh", "sim"].contains(&sw.driver.as_str()) {
                return Err(format!(
                    "switch {}: unknown driver {} (linux-bridge, generic-ssh, sim)",
                    sw.name, sw.driver
                ));
            }
            if sw.switch_id.is_none() && sw.switch_info.is_none() {
                return Err(format!(
                    "switch {} needs switch_id or switch_info to be matched to ports",
                    sw.name
                ));
            }
        }
        let n = &file.network;
        let external_neutron = match &n.neutron_url {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                let role_networks = [
                    ("provisioning_network", &n.provisioning_network),
                    ("cleaning_network", &n.cleaning_network),
                    ("rescuing_network", &n.rescuing_network),
                ]
                .into_iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
                .collect();
                Some(ferric_net::external::ExternalSettings {
                    url: url.clone(),
                    token: n.neutron_token.clone(),
                    role_networks,
                })
            }
            Some(url) => {
                return Err(format!(
                    "[network] neutron_url {url} is not an http:// or https:// URL"
                ))
            }
            None if n.neutron_token.is_some() => {
                return Err("[network] neutron_token needs neutron_url".into())
            }
            None => None,
        };
        let dashboard =
            (!cli.no_dashboard && file.api.dashboard != Some(false)).then(|| match &auth {
                AuthStrategy::NoAuth => ferric_dashboard::Login::Open,
                AuthStrategy::HttpBasic(file) => {
                    let file = file.clone();
                    ferric_dashboard::Login::HttpBasic {
                        grants: ferric_dashboard::BasicGrants(Arc::new(move |user| {
                            file.grant_of(user)
                        })),
                    }
                }
                AuthStrategy::Keystone(_) if local_tokens.is_some() => {
                    ferric_dashboard::Login::Keystone {
                        token_path: "/identity/v3/auth/tokens".into(),
                    }
                }
                AuthStrategy::Keystone(_) => ferric_dashboard::Login::ExternalKeystone,
            });
        let identity = identity_enabled.then(|| ferric_identity::IdentityConfig {
            token_ttl: std::time::Duration::from_secs(
                file.identity
                    .token_expiration
                    .unwrap_or(3600)
                    .clamp(1, 7 * 86_400),
            ),
            baremetal_url: public_endpoint.clone(),
            network_url: network_api_listen.map(|a| format!("{scheme}://{a}")),
            region: file
                .identity
                .region
                .clone()
                .unwrap_or_else(|| "RegionOne".into()),
        });
        Ok(Settings {
            roles,
            rpc,
            tls,
            identity,
            local_tokens,
            external_neutron,
            switches: file.network.switches.clone(),
            network_api_listen,
            http_boot_listen,
            discovery_driver,
            router_advertisements,
            dhcp,
            tftp,
            netboot,
            boot_root,
            ipxe_dir: file
                .boot
                .ipxe_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("/usr/lib/ipxe")),
            listen,
            data_dir,
            database_url,
            log: cli.log.or(file.log).unwrap_or_else(|| "info".into()),
            log_format: cli.log_format.or(file.log_format).unwrap_or_default(),
            api: ferric_api::ApiConfig {
                public_endpoint,
                max_limit,
                agent: ferric_api::AgentApiConfig {
                    heartbeat_timeout: file.agent.heartbeat_timeout.unwrap_or(300).max(1),
                    require_tls: file.agent.require_tls.unwrap_or(true),
                    allow_md5_checksum: file.agent.allow_md5_checksum.unwrap_or(true),
                },
                auth,
                policy: std::sync::Arc::new(policy),
            },
            dashboard,
            conductor,
            sync_power_state_interval: file.conductor.sync_power_state_interval.unwrap_or(60),
            shutdown_waits: (
                std::time::Duration::from_secs(
                    file.conductor.graceful_shutdown_timeout.unwrap_or(60),
                ),
                std::time::Duration::from_secs(
                    file.conductor.drain_shutdown_timeout.unwrap_or(1800),
                ),
            ),
            wait_timeouts,
            image_cache,
            agent: {
                let d = ferric_drivers::direct::AgentSettings::default();
                let interval = file
                    .agent
                    .post_deploy_get_power_state_retry_interval
                    .map_or(d.power_off_interval, |s| {
                        std::time::Duration::from_secs_f64(s.clamp(0.0, 3600.0))
                    });
                ferric_drivers::direct::AgentSettings {
                    power_off_interval: interval,
                    power_off_retries: file
                        .agent
                        .post_deploy_get_power_state_retries
                        .unwrap_or(d.power_off_retries),
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("ferricd").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn noauth_beyond_loopback_needs_the_insecure_flag() {
        for args in [
            &["--listen", "10.0.0.1:6385"][..],
            &["--network-api-listen", "0.0.0.0:9696"][..],
        ] {
            let err = Settings::load(cli(args)).unwrap_err();
            assert!(err.contains("--allow-insecure-noauth"), "{err}");
        }
        let mut args = vec!["--listen", "10.0.0.1:6385", "--allow-insecure-noauth"];
        assert!(Settings::load(cli(&args)).is_ok());
        args.truncate(2);
        args.extend([
            "--auth-strategy",
            "http_basic",
            "--http-basic-auth-user-file",
            "/nonexistent",
        ]);
        let err = Settings::load(cli(&args)).unwrap_err();
        assert!(
            err.starts_with("http_basic: cannot read the auth user file"),
            "{err}"
        );
        let err = Settings::load(cli(&["--auth-strategy", "keystone"])).unwrap_err();
        assert!(err.contains("needs [keystone_authtoken] auth_url"), "{err}");
        let err = Settings::load(cli(&["--auth-strategy", "ldap"])).unwrap_err();
        assert!(err.contains("not supported"), "{err}");
        // Tokens of the built-in identity service protect a non-loopback listener.
        let s = Settings::load(cli(&[
            "--listen",
            "10.0.0.1:6385",
            "--auth-strategy",
            "keystone",
            "--enable-identity",
        ]))
        .unwrap();
        assert!(s.local_tokens.is_some() && s.identity.is_some());
    }

    #[test]
    fn a_policy_rule_that_does_not_parse_stops_ferricd() {
        let dir = std::env::temp_dir().join(format!("ferricd-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("policy.yaml");
        std::fs::write(&path, "\"baremetal:node:get\": \"role:reader and (\"\n").unwrap();
        let err = Settings::load(cli(&["--policy-file", path.to_str().unwrap()])).unwrap_err();
        assert_eq!(
            err,
            format!(
                "policy file {}: rule \"baremetal:node:get\": expected a check at column 18",
                path.display()
            )
        );
        std::fs::write(&path, "\"baremetal:node:get\": \"role:reader\"\n").unwrap();
        let s = Settings::load(cli(&["--policy-file", path.to_str().unwrap()])).unwrap();
        assert!(s.api.policy.has_rule("baremetal:node:get"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn defaults_are_all_in_one_on_loopback() {
        let s = Settings::load(cli(&[])).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:6385");
        assert_eq!(s.database_url, "sqlite://var/ferric.db?mode=rwc");
        assert_eq!(s.api.max_limit, 1000);
    }

    #[test]
    fn flags_override_the_file() {
        let dir = std::env::temp_dir().join(format!("ferricd-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ferric.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:7000\"\ndata_dir = \"/tmp/x\"\n[api]\nmax_limit = 50\n[conductor]\nclean_callback_timeout = 60\n",
        )
        .unwrap();
        let s = Settings::load(cli(&[
            "--config",
            path.to_str().unwrap(),
            "--listen",
            "127.0.0.1:7001",
        ]))
        .unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:7001");
        assert_eq!(s.database_url, "sqlite:///tmp/x/ferric.db?mode=rwc");
        assert_eq!(s.api.max_limit, 50);
        assert_eq!(s.wait_timeouts.clean, std::time::Duration::from_secs(60));
        assert_eq!(s.wait_timeouts.deploy, std::time::Duration::from_secs(1800));
        std::fs::write(&path, "bogus = 1\n").unwrap();
        assert!(Settings::load(cli(&["--config", path.to_str().unwrap()])).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dhcp_needs_its_addresses() {
        let err = Settings::load(cli(&["--dhcp-interface", "eth9"])).unwrap_err();
        assert!(err.contains("dhcp_server_ip"), "{err}");
        let dir = std::env::temp_dir().join(format!("ferric-cfg-dhcp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.toml");
        std::fs::write(
            &path,
            "[boot]\ndhcp_server_ip = \"10.0.0.1\"\ndhcp_pool_start = \"10.0.0.50\"\ndhcp_pool_end = \"10.0.0.20\"\n",
        )
        .unwrap();
        let args = [
            "--dhcp-interface",
            "eth9",
            "--config",
            path.to_str().unwrap(),
        ];
        let err = Settings::load(cli(&args)).unwrap_err();
        assert!(err.contains("after"), "{err}");
        std::fs::write(
            &path,
            "[boot]\ndhcp_server_ip = \"10.0.0.1\"\ndhcp_pool_start = \"10.0.0.20\"\ndhcp_pool_end = \"10.0.0.50\"\n",
        )
        .unwrap();
        let s = Settings::load(cli(&args)).unwrap();
        let (dhcp, files) = s.dhcp.unwrap();
        assert_eq!(dhcp.interface.as_deref(), Some("eth9"));
        assert_eq!(files.base_url, "http://127.0.0.1:6385");
        assert_eq!(files.bios_file, "undionly.kpxe");
        assert_eq!(dhcp.proxy_port, None);
        assert_eq!(s.router_advertisements.as_deref(), Some("eth9"));
        // ProxyDHCP needs no pool.
        std::fs::write(
            &path,
            "[boot]\ndhcp_server_ip = \"10.0.0.1\"\nrouter_advertisements = false\n",
        )
        .unwrap();
        let mut proxy_args = args.to_vec();
        proxy_args.push("--dhcp-proxy");
        let s = Settings::load(cli(&proxy_args)).unwrap();
        assert_eq!(s.dhcp.unwrap().0.proxy_port, Some(4011));
        let mut boot_args = proxy_args.clone();
        boot_args.extend(["--http-boot-listen", "10.0.0.1:8080"]);
        let s = Settings::load(cli(&boot_args)).unwrap();
        assert_eq!(s.dhcp.unwrap().1.base_url, "http://10.0.0.1:8080");
        let mut any_args = proxy_args.clone();
        any_args.extend(["--http-boot-listen", "0.0.0.0:8080"]);
        let err = Settings::load(cli(&any_args)).unwrap_err();
        assert!(err.contains("http_url"), "{err}");
        assert_eq!(s.router_advertisements, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn switches_are_checked_and_their_passwords_masked() {
        let dir = std::env::temp_dir().join(format!("ferricd-switches-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ferric.toml");
        let args = ["--config", path.to_str().unwrap()];
        std::fs::write(
            &path,
            "[[network.switches]]\nname = \"tor1\"\ndriver = \"generic-ssh\"\nswitch_info = \"tor1\"\n\
             host = \"10.0.0.2\"\nusername = \"admin\"\npassword = \"hunter2\"\nos = \"cisco_ios\"\n",
        )
        .unwrap();
        let s = Settings::load(cli(&args)).unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("******"),
            "{shown}"
        );
        assert!(crate::switches::build(&s.switches, &dir).is_ok());
        std::fs::write(
            &path,
            "[[network.switches]]\nname = \"tor1\"\ndriver = \"generic-ssh\"\nswitch_info = \"tor1\"\n\
             host = \"10.0.0.2\"\nusername = \"admin\"\npassword = \"x\"\nos = \"os2\"\n",
        )
        .unwrap();
        let s = Settings::load(cli(&args)).unwrap();
        let err = crate::switches::build(&s.switches, &dir).err().unwrap();
        assert!(err.contains("no command templates"), "{err}");
        std::fs::write(
            &path,
            "[[network.switches]]\nname = \"tor1\"\ndriver = \"telnet\"\nswitch_info = \"x\"\n",
        )
        .unwrap();
        assert!(Settings::load(cli(&args))
            .unwrap_err()
            .contains("unknown driver"));
        let sim =
            "[[network.switches]]\nname = \"leaf\"\ndriver = \"sim\"\nswitch_info = \"leaf\"\n";
        for (extra, wrong) in [
            ("", Some("sim needs url")),
            ("url = \"gopher://rack\"\n", Some("not an http(s) address")),
            (
                "url = \"http://127.0.0.1:1/sim/switches/leaf\"\nusername = \"admin\"\n",
                Some("both username and password"),
            ),
            (
                "url = \"http://127.0.0.1:1/sim/switches/leaf\"\nusername = \"admin\"\npassword = \"hunter2\"\n",
                None,
            ),
        ] {
            std::fs::write(&path, format!("{sim}{extra}")).unwrap();
            let s = Settings::load(cli(&args)).unwrap();
            assert!(!format!("{s:?}").contains("hunter2"));
            match (crate::switches::build(&s.switches, &dir), wrong) {
                (Ok(_), None) => {}
                (Err(e), Some(w)) => assert!(e.contains(w), "{e}"),
                (Ok(_), Some(w)) => panic!("accepted, wanted {w}: {extra}"),
                (Err(e), None) => panic!("{e}"),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
