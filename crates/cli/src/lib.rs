//! The `ferric` command line's library: its commands (nodes, ports, port groups,
//! the simulated rack, the demo), waiting with progress, and output formatting
//! (tables, JSON, YAML). `main.rs` parses arguments and maps failures to exit codes.

pub mod cloud;
pub mod demo;
pub mod demo_network;
pub mod deploy;
pub mod inventory;
pub mod nodes;
pub mod output;
pub mod ports;
pub mod ramdisk;
pub mod sim;
pub mod timeline;
pub mod wait;
pub mod yaml;

use ferric_client::ClientError;
use serde_json::Value;

/// Why a command failed, and its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The API refused, or a node ended in a failure state (1).
    Operation(String),
    /// Bad arguments (2).
    Usage(String),
    /// Waiting took too long (3).
    Timeout(String),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::Operation(e.to_string())
    }
}

/// `KEY=VALUE` arguments; a value that parses as JSON is taken as JSON, else as text.
pub fn parse_pairs(pairs: &[String]) -> Result<Vec<(String, Value)>, Failure> {
    pairs
        .iter()
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| Failure::Usage(format!("{p} is not KEY=VALUE")))?;
            let value = serde_json::from_str(v).unwrap_or_else(|_| Value::from(v));
            Ok((k.to_string(), value))
        })
        .collect()
}

/// `&key=value`, URL-encoded.
pub fn query(key: &str, value: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    format!("&{key}={encoded}")
}
