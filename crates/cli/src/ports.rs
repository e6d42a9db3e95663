//! `ferric port …` and `ferric portgroup …`: list, show, create, delete.

use clap::Subcommand;
use ferric_client::{Client, Method};
use serde_json::{json, Value};

use crate::nodes::all_pages;
use crate::output::{listing, record, Format};
use crate::{parse_pairs, query, Failure};

#[derive(Debug, Subcommand)]
pub enum PortCommand {
    /// List ports (of one node with --node).
    List {
        #[arg(long)]
        node: Option<String>,
    },
    Show {
        port: String,
    },
    /// Create a port: a NIC of a node.
    Create {
        address: String,
        #[arg(long)]
        node: String,
        #[arg(long)]
        portgroup: Option<String>,
        #[arg(long)]
        physical_network: Option<String>,
        /// switch_id=…, port_id=…, switch_info=…
        #[arg(long = "local-link-connection", value_name = "KEY=VALUE")]
        local_link_connection: Vec<String>,
        #[arg(long)]
        pxe_enabled: Option<bool>,
    },
    Delete {
        #[arg(required = true)]
        ports: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PortGroupCommand {
    List {
        #[arg(long)]
        node: Option<String>,
    },
    Show {
        portgroup: String,
    },
    /// Create a port group (a bond).
    Create {
        #[arg(long)]
        node: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        address: Option<String>,
        /// Bond mode (802.3ad, active-backup…).
        #[arg(long)]
        mode: Option<String>,
        #[arg(long = "property", value_name = "KEY=VALUE")]
        properties: Vec<String>,
        #[arg(long)]
        standalone_ports_supported: Option<bool>,
    },
    Delete {
        #[arg(required = true)]
        portgroups: Vec<String>,
    },
}

const PORT_COLUMNS: &[(&str, &str)] = &[
    ("UUID", "uuid"),
    ("Address", "address"),
    ("Node UUID", "node_uuid"),
    ("PXE", "pxe_enabled"),
    ("Physical Network", "physical_network"),
];
const GROUP_COLUMNS: &[(&str, &str)] = &[
    ("UUID", "uuid"),
    ("Name", "name"),
    ("Address", "address"),
    ("Mode", "mode"),
    ("Node UUID", "node_uuid"),
];

/// A node's UUID from its name or UUID.
async fn node_uuid(client: &Client, ident: &str) -> Result<String, Failure> {
    let n = client
        .request(Method::GET, &format!("/v1/nodes/{ident}"), None)
        .await?;
    Ok(n["uuid"].as_str().unwrap_or_default().to_string())
}

pub async fn run_ports(client: &Client, format: Format, cmd: PortCommand) -> Result<(), Failure> {
    match cmd {
        PortCommand::List { node } => {
            let mut url = "/v1/ports/detail?limit=1000".to_string();
            if let Some(n) = node {
                url.push_str(&query("node", &node_uuid(client, &n).await?));
            }
            print!(
                "{}",
                listing(
                    format,
                    PORT_COLUMNS,
                    &all_pages(client, &url, "ports").await?
                )
            );
        }
        PortCommand::Show { port } => {
            let p = client
                .request(Method::GET, &format!("/v1/ports/{port}"), None)
                .await?;
            print!("{}", record(format, &p));
        }
        PortCommand::Create {
            address,
            node,
            portgroup,
            physical_network,
            local_link_connection,
            pxe_enabled,
        } => {
            let mut doc = json!({"address": address, "node_uuid": node_uuid(client, &node).await?});
            if let Some(g) = portgroup {
                let g = client
                    .request(Method::GET, &format!("/v1/portgroups/{g}"), None)
                    .await?;
                doc["portgroup_uuid"] = g["uuid"].clone();
            }
            if let Some(p) = physical_network {
                doc["physical_network"] = Value::from(p);
            }
            if !local_link_connection.is_empty() {
                doc["local_link_connection"] =
                    Value::Object(parse_pairs(&local_link_connection)?.into_iter().collect());
            }
            if let Some(p) = pxe_enabled {
                doc["pxe_enabled"] = Value::from(p);
            }
            let p = client
                .request(Method::POST, "/v1/ports", Some(&doc))
                .await?;
            print!("{}", record(format, &p));
        }
        PortCommand::Delete { ports } => {
            for p in ports {
                client
                    .request(Method::DELETE, &format!("/v1/ports/{p}"), None)
                    .await?;
                eprintln!("Deleted port {p}");
            }
        }
    }
    Ok(())
}

pub async fn run_groups(
    client: &Client,
    format: Format,
    cmd: PortGroupCommand,
) -> Result<(), Failure> {
    match cmd {
        PortGroupCommand::List { node } => {
            let mut url = "/v1/portgroups/detail?limit=1000".to_string();
            if let Some(n) = node {
                url.push_str(&query("node", &node_uuid(client, &n).await?));
            }
            let groups = all_pages(client, &url, "portgroups").await?;
            print!("{}", listing(format, GROUP_COLUMNS, &groups));
        }
        PortGroupCommand::Show { portgroup } => {
            let g = client
                .request(Method::GET, &format!("/v1/portgroups/{portgroup}"), None)
                .await?;
            print!("{}", record(format, &g));
        }
        PortGroupCommand::Create {
            node,
            name,
            address,
            mode,
            properties,
            standalone_ports_supported,
        } => {
            let mut doc = json!({"node_uuid": node_uuid(client, &node).await?});
            for (k, v) in [("name", name), ("address", address), ("mode", mode)] {
                if let Some(v) = v {
                    doc[k] = Value::from(v);
                }
            }
            if !properties.is_empty() {
                doc["properties"] = Value::Object(parse_pairs(&properties)?.into_iter().collect());
            }
            if let Some(s) = standalone_ports_supported {
                doc["standalone_ports_supported"] = Value::from(s);
            }
            let g = client
                .request(Method::POST, "/v1/portgroups", Some(&doc))
                .await?;
            print!("{}", record(format, &g));
        }
        PortGroupCommand::Delete { portgroups } => {
            for g in portgroups {
                client
                    .request(Method::DELETE, &format!("/v1/portgroups/{g}"), None)
                    .await?;
                eprintln!("Deleted port group {g}");
            }
        }
    }
    Ok(())
}
