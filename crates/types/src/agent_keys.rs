//! Where a node's `driver_internal_info` keeps what it knows of the ramdisk agent
//! running on it: Ironic's key names, read by the API (lookups, heartbeats) and
//! written by the conductor.

pub const URL: &str = "agent_url";
pub const TOKEN: &str = "agent_secret_token";
pub const TOKEN_PREGENERATED: &str = "agent_secret_token_pregenerated";
pub const VERIFY_CA: &str = "agent_verify_ca";
pub const VERSION: &str = "agent_version";
pub const LAST_HEARTBEAT: &str = "agent_last_heartbeat";
pub const CACHED_CLEAN_STEPS: &str = "agent_cached_clean_steps";
pub const CACHED_DEPLOY_STEPS: &str = "agent_cached_deploy_steps";
pub const HW_MANAGER_VERSION: &str = "hardware_manager_version";
/// Ferric's own: the id of the request that started the node's current
/// operation, sent to the agent with each command (`X-OpenStack-Request-ID`).
pub const REQUEST_ID: &str = "request_id";
