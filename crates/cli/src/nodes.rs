//! `ferric node …`: list, show, create, set, delete, power, boot device, the
//! provision verbs (with `--wait`), and `watch`, a live table of every node.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Subcommand;
use ferric_client::{Client, Method};
use serde_json::{json, Map, Value};

use crate::output::{listing, record, Format};
use crate::wait::wait_all;
use crate::{parse_pairs, query, Failure};

/// The columns of `node list` (`--long` adds the rest).
const COLUMNS: &[(&str, &str)] = &[
    ("UUID", "uuid"),
    ("Name", "name"),
    ("Instance UUID", "instance_uuid"),
    ("Power State", "power_state"),
    ("Provisioning State", "provision_state"),
    ("Maintenance", "maintenance"),
];
const LONG_COLUMNS: &[(&str, &str)] = &[
    ("UUID", "uuid"),
    ("Name", "name"),
    ("Driver", "driver"),
    ("Resource Class", "resource_class"),
    ("Power State", "power_state"),
    ("Provisioning State", "provision_state"),
    ("Target Provision State", "target_provision_state"),
    ("Maintenance", "maintenance"),
    ("Last Error", "last_error"),
];

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// List nodes.
    List {
        #[arg(long)]
        long: bool,
        #[arg(long)]
        provision_state: Option<String>,
        #[arg(long)]
        resource_class: Option<String>,
    },
    /// Show a node.
    Show {
        node: String,
        /// Then its timeline: each provision state with when it began and how
        /// long it lasted, and every error in full.
        #[arg(long)]
        timeline: bool,
    },
    /// A node's history: state changes, errors and who asked, oldest first.
    History { node: String },
    /// What inspection found: CPUs, memory, disks and NICs (with their switch
    /// ports from LLDP).
    Inventory { node: String },
    /// Enroll a node.
    Create {
        #[arg(long)]
        driver: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        resource_class: Option<String>,
        /// KEY=VALUE, repeatable.
        #[arg(long = "driver-info", value_name = "KEY=VALUE")]
        driver_info: Vec<String>,
        #[arg(long = "property", value_name = "KEY=VALUE")]
        properties: Vec<String>,
        /// INTERFACE=IMPLEMENTATION, e.g. deploy=direct, repeatable.
        #[arg(long = "interface", value_name = "KIND=NAME")]
        interfaces: Vec<String>,
    },
    /// Change a node's fields (KEY=VALUE; a value that is JSON is taken as JSON).
    Set {
        node: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        resource_class: Option<String>,
        #[arg(long = "driver-info", value_name = "KEY=VALUE")]
        driver_info: Vec<String>,
        #[arg(long = "property", value_name = "KEY=VALUE")]
        properties: Vec<String>,
        #[arg(long = "instance-info", value_name = "KEY=VALUE")]
        instance_info: Vec<String>,
        #[arg(long = "extra", value_name = "KEY=VALUE")]
        extra: Vec<String>,
    },
    /// Delete nodes.
    Delete {
        #[arg(required = true)]
        nodes: Vec<String>,
    },
    /// Power on, off or reboot.
    Power {
        #[arg(value_parser = ["on", "off", "reboot", "soft-off", "soft-reboot"])]
        action: String,
        node: String,
    },
    /// Set the next boot device (pxe, disk, cdrom, bios…).
    BootDevice {
        node: String,
        device: String,
        #[arg(long)]
        persistent: bool,
    },
    /// Run a provision verb: manage, provide, inspect, clean, deploy (active),
    /// undeploy (deleted), rebuild, rescue, unrescue, abort, adopt.
    Provision {
        #[arg(value_parser = ["manage", "provide", "inspect", "clean", "deploy", "active", "undeploy", "deleted", "rebuild", "rescue", "unrescue", "abort", "adopt"])]
        verb: String,
        #[arg(required = true)]
        nodes: Vec<String>,
        /// Wait until every node rests, showing progress.
        #[arg(long)]
        wait: bool,
        /// Give up waiting after this many seconds (exit code 3).
        #[arg(long, default_value_t = 3600)]
        timeout: u64,
        /// Clean steps (JSON list) for `clean`.
        #[arg(long)]
        clean_steps: Option<String>,
        #[arg(long)]
        rescue_password: Option<String>,
        /// A config drive for deploy: a URL, or a JSON document.
        #[arg(long)]
        config_drive: Option<String>,
    },
    /// A live table of every node, refreshed until interrupted.
    Watch {
        #[arg(long, default_value_t = 2)]
        interval: u64,
        /// Print one table and stop.
        #[arg(long)]
        once: bool,
    },
}

/// The columns of `ferric node show --timeline`.
const TIMELINE_COLUMNS: &[(&str, &str)] = &[
    ("Since", "since"),
    ("State", "state"),
    ("For", "for"),
    ("Event", "event"),
];

/// A node's history events, oldest first.
async fn history(client: &Client, node: &str) -> Result<Vec<Value>, Failure> {
    let body = client
        .request(
            Method::GET,
            &format!("/v1/nodes/{node}/history?detail=True"),
            None,
        )
        .await?;
    Ok(body["history"].as_array().cloned().unwrap_or_default())
}

/// The columns of `ferric node history`.
const HISTORY_COLUMNS: &[(&str, &str)] = &[
    ("Time", "created_at"),
    ("Severity", "severity"),
    ("Type", "event_type"),
    ("Event", "event"),
    ("User", "user"),
];

/// `KEY=VALUE` pairs as a JSON object.
fn object(pairs: &[String]) -> Result<Map<String, Value>, Failure> {
    parse_pairs(pairs).map(|v| v.into_iter().collect())
}

/// JSON-patch operations setting `path/key` for each pair.
fn patch_ops(base: &str, pairs: &[String], ops: &mut Vec<Value>) -> Result<(), Failure> {
    for (k, v) in parse_pairs(pairs)? {
        ops.push(json!({"op": "add", "path": format!("/{base}/{k}"), "value": v}));
    }
    Ok(())
}

fn verb_target(verb: &str) -> &str {
    match verb {
        "deploy" => "active",
        "undeploy" => "deleted",
        other => other,
    }
}

pub async fn run(client: &Client, format: Format, cmd: NodeCommand) -> Result<(), Failure> {
    match cmd {
        NodeCommand::List {
            long,
            provision_state,
            resource_class,
        } => {
            let mut url = "/v1/nodes/detail?limit=1000".to_string();
            if let Some(s) = provision_state {
                url.push_str(&query("provision_state", &s));
            }
            if let Some(rc) = resource_class {
                url.push_str(&query("resource_class", &rc));
            }
            let nodes = all_pages(client, &url, "nodes").await?;
            let cols = if long { LONG_COLUMNS } else { COLUMNS };
            print!("{}", listing(format, cols, &nodes));
        }
        NodeCommand::Show { node, timeline } => {
            let n = client
                .request(Method::GET, &format!("/v1/nodes/{node}"), None)
                .await?;
            print!("{}", record(format, &n));
            if timeline {
                let events = history(client, &node).await?;
                let rows = crate::timeline::rows(&events, ferric_types::Timestamp::now().micros());
                print!("{}", listing(format, TIMELINE_COLUMNS, &rows));
            }
        }
        NodeCommand::History { node } => {
            let events = history(client, &node).await?;
            print!("{}", listing(format, HISTORY_COLUMNS, &events));
        }
        NodeCommand::Inventory { node } => {
            let body = client
                .request(Method::GET, &format!("/v1/nodes/{node}/inventory"), None)
                .await?;
            match format {
                Format::Table => print!("{}", record(format, &crate::inventory::summary(&body))),
                _ => print!("{}", record(format, &body)),
            }
        }
        NodeCommand::Create {
            driver,
            name,
            resource_class,
            driver_info,
            properties,
            interfaces,
        } => {
            let mut doc = json!({"driver": driver});
            if let Some(n) = name {
                doc["name"] = Value::from(n);
            }
            if let Some(rc) = resource_class {
                doc["resource_class"] = Value::from(rc);
            }
            doc["driver_info"] = Value::Object(object(&driver_info)?);
            doc["properties"] = Value::Object(object(&properties)?);
            for (kind, name) in parse_pairs(&interfaces)? {
                doc[format!("{kind}_interface")] = name;
            }
            let n = client
                .request(Method::POST, "/v1/nodes", Some(&doc))
                .await?;
            print!("{}", record(format, &n));
        }
        NodeCommand::Set {
            node,
            name,
            resource_class,
            driver_info,
            properties,
            instance_info,
            extra,
        } => {
            let mut ops = Vec::new();
            if let Some(n) = name {
                ops.push(json!({"op": "replace", "path": "/name", "value": n}));
            }
            if let Some(rc) = resource_class {
                ops.push(json!({"op": "replace", "path": "/resource_class", "value": rc}));
            }
            patch_ops("driver_info", &driver_info, &mut ops)?;
            patch_ops("properties", &properties, &mut ops)?;
            patch_ops("instance_info", &instance_info, &mut ops)?;
            patch_ops("extra", &extra, &mut ops)?;
            if ops.is_empty() {
                return Err(Failure::Usage("nothing to set".into()));
            }
            let n = client
                .request(
                    Method::PATCH,
                    &format!("/v1/nodes/{node}"),
                    Some(&Value::from(ops)),
                )
                .await?;
            print!("{}", record(format, &n));
        }
        NodeCommand::Delete { nodes } => {
            for n in nodes {
                client
                    .request(Method::DELETE, &format!("/v1/nodes/{n}"), None)
                    .await?;
                eprintln!("Deleted node {n}");
            }
        }
        NodeCommand::Power { action, node } => {
            let target = match action.as_str() {
                "on" => "power on",
                "off" => "power off",
                "reboot" => "rebooting",
                "soft-off" => "soft power off",
                _ => "soft rebooting",
            };
            client
                .request(
                    Method::PUT,
                    &format!("/v1/nodes/{node}/states/power"),
                    Some(&json!({"target": target})),
                )
                .await?;
        }
        NodeCommand::BootDevice {
            node,
            device,
            persistent,
        } => {
            client
                .request(
                    Method::PUT,
                    &format!("/v1/nodes/{node}/management/boot_device"),
                    Some(&json!({"boot_device": device, "persistent": persistent})),
                )
                .await?;
        }
        NodeCommand::Provision {
            verb,
            nodes,
            wait,
            timeout,
            clean_steps,
            rescue_password,
            config_drive,
        } => {
            let target = verb_target(&verb);
            let mut body = json!({"target": target});
            if let Some(steps) = clean_steps {
                body["clean_steps"] = serde_json::from_str(&steps)
                    .map_err(|e| Failure::Usage(format!("--clean-steps is not JSON: {e}")))?;
            }
            if let Some(p) = rescue_password {
                body["rescue_password"] = Value::from(p);
            }
            if let Some(cd) = config_drive {
                body["configdrive"] = serde_json::from_str(&cd).unwrap_or(Value::from(cd));
            }
            for n in &nodes {
                client
                    .request(
                        Method::PUT,
                        &format!("/v1/nodes/{n}/states/provision"),
                        Some(&body),
                    )
                    .await?;
            }
            if wait {
                finish_wait(client, format, &nodes, target, Duration::from_secs(timeout)).await?;
            }
        }
        NodeCommand::Watch { interval, once } => watch(client, interval, once).await?,
    }
    Ok(())
}

/// Waits, prints the nodes as they ended, and fails when any did not succeed.
pub async fn finish_wait(
    client: &Client,
    format: Format,
    nodes: &[String],
    verb: &str,
    timeout: Duration,
) -> Result<Vec<Value>, Failure> {
    let Some(outcomes) = wait_all(client, nodes, verb, timeout).await? else {
        return Err(Failure::Timeout(format!(
            "the nodes did not finish within {} s",
            timeout.as_secs()
        )));
    };
    let docs: Vec<Value> = outcomes.iter().map(|o| o.node.clone()).collect();
    print!("{}", listing(format, LONG_COLUMNS, &docs));
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.ok)
        .map(|o| {
            format!(
                "{}: {} ({})",
                o.ident,
                o.node["provision_state"].as_str().unwrap_or("?"),
                o.node["last_error"].as_str().unwrap_or("no error recorded")
            )
        })
        .collect();
    if failed.is_empty() {
        Ok(docs)
    } else {
        Err(Failure::Operation(failed.join("\n")))
    }
}

/// Every item of a paginated listing.
pub async fn all_pages(
    client: &Client,
    first: &str,
    key: &str,
) -> Result<Vec<Value>, ferric_client::ClientError> {
    let mut out = Vec::new();
    let mut url = first.to_string();
    loop {
        let mut page = client.request(Method::GET, &url, None).await?;
        if let Some(items) = page[key].as_array_mut() {
            out.append(items);
        }
        match page["next"].as_str() {
            Some(next) => url = next.to_string(),
            None => return Ok(out),
        }
    }
}

async fn watch(client: &Client, interval: u64, once: bool) -> Result<(), Failure> {
    let tty = std::io::stdout().is_terminal();
    loop {
        let nodes = all_pages(client, "/v1/nodes/detail?limit=1000", "nodes").await?;
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for n in &nodes {
            *counts
                .entry(n["provision_state"].as_str().unwrap_or("?").to_string())
                .or_default() += 1;
        }
        let summary: Vec<String> = counts.iter().map(|(s, c)| format!("{s}: {c}")).collect();
        let mut out = std::io::stdout().lock();
        if tty && !once {
            let _ = write!(out, "\x1b[H\x1b[2J");
        }
        let _ = write!(out, "{}", listing(Format::Table, LONG_COLUMNS, &nodes));
        let _ = writeln!(out, "{} nodes — {}", nodes.len(), summary.join(", "));
        let _ = out.flush();
        if once {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(interval.max(1))).await;
    }
}
