//! Waiting for nodes to finish what they were asked to do, with a progress bar
//! per node (bar, elapsed, state, step: indicatif) redrawn in place on a
//! terminal, and a line printed on each change otherwise. A node is done when it
//! rests (not in a state Ferric moves on from by itself, not locked); it succeeded
//! when it rests in one of the verb's good states.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use ferric_client::{Client, Method};
use ferric_types::provision::ProvisionState;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

/// How a wait ended for one node.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub ident: String,
    pub node: Value,
    pub ok: bool,
}

/// The states a verb should end in.
pub fn good_states(verb: &str) -> &'static [&'static str] {
    match verb {
        "manage" | "clean" | "inspect" => &["manageable"],
        "provide" | "deleted" | "undeploy" => &["available"],
        "active" | "deploy" | "rebuild" | "unrescue" | "adopt" => &["active"],
        "rescue" => &["rescue"],
        "abort" => &[
            "manageable",
            "available",
            "active",
            "deploy failed",
            "clean failed",
            "rescue failed",
            "inspect failed",
        ],
        _ => &["enroll", "manageable", "available", "active", "rescue"],
    }
}

/// Whether the node rests: in a state Ferric does not move it on from by itself
/// (a failure state keeps its target), nobody holding it.
pub fn rests(node: &Value) -> bool {
    let busy = node["provision_state"]
        .as_str()
        .and_then(|s| s.parse::<ProvisionState>().ok())
        .is_some_and(ProvisionState::is_busy);
    !busy && node["reservation"].is_null()
}

/// The share of the current step plan done, from the conductor's bookkeeping.
fn fraction(node: &Value) -> f64 {
    if rests(node) {
        return 1.0;
    }
    let dii = &node["driver_internal_info"];
    for phase in ["deploy", "clean", "service"] {
        if let Some(plan) = dii[format!("{phase}_plan")].as_array() {
            let done = dii[format!("{phase}_step_index")]
                .as_u64()
                .map_or(0, |i| i + 1);
            return (done as f64 / plan.len().max(1) as f64).min(0.95);
        }
    }
    0.05
}

fn step(node: &Value) -> String {
    for key in ["deploy_step", "clean_step", "service_step"] {
        let s = &node[key];
        if let (Some(i), Some(n)) = (s["interface"].as_str(), s["step"].as_str()) {
            return format!("{i}.{n}");
        }
    }
    String::new()
}

/// What a node's line shows after its bar: state and running step.
fn status(node: &Value) -> String {
    format!(
        "{:<16} {}",
        node["provision_state"].as_str().unwrap_or("?"),
        step(node)
    )
}

/// The progress shown while waiting: on a terminal, a bar per node (indicatif)
/// redrawn in place and cut to the terminal's width; otherwise a plain line per
/// node each time its state or step changes, for logs.
enum Progress {
    Bars(Vec<ProgressBar>),
    Lines {
        width: usize,
        started: Instant,
        shown: HashMap<String, String>,
    },
}

/// The bars' scale: a node's fraction done, in thousandths.
const SCALE: u64 = 1000;

impl Progress {
    fn new(idents: &[String]) -> Self {
        let width = idents.iter().map(|i| i.len()).max().unwrap_or(4);
        if !std::io::stderr().is_terminal() {
            return Progress::Lines {
                width,
                started: Instant::now(),
                shown: HashMap::new(),
            };
        }
        let style = ProgressStyle::with_template(&format!(
            "{{prefix:<{width}}}  [{{bar:20}}]  {{elapsed_precise}}  {{wide_msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#>-");
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let bars = idents
            .iter()
            .map(|ident| {
                let bar = multi.add(ProgressBar::new(SCALE));
                bar.set_style(style.clone());
                bar.set_prefix(ident.clone());
                bar
            })
            .collect();
        Progress::Bars(bars)
    }

    fn show(&mut self, idents: &[String], nodes: &[Value]) {
        match self {
            Progress::Bars(bars) => {
                for (bar, node) in bars.iter().zip(nodes) {
                    bar.set_position((fraction(node) * SCALE as f64) as u64);
                    bar.set_message(status(node));
                }
            }
            Progress::Lines {
                width,
                started,
                shown,
            } => {
                let elapsed = started.elapsed().as_secs();
                let mut err = std::io::stderr().lock();
                for (ident, node) in idents.iter().zip(nodes) {
                    let key = format!("{} {}", node["provision_state"], step(node));
                    if shown.get(ident) != Some(&key) {
                        let _ = writeln!(
                            err,
                            "{ident:<width$}  {:>3}%  {:02}:{:02}  {}",
                            (fraction(node) * 100.0).round(),
                            elapsed / 60,
                            elapsed % 60,
                            status(node),
                            width = *width
                        );
                        shown.insert(ident.clone(), key);
                    }
                }
            }
        }
    }

    /// Leaves the bars drawn as they ended.
    fn finish(&self) {
        if let Progress::Bars(bars) = self {
            for bar in bars {
                bar.abandon();
            }
        }
    }
}

/// Waits for every node in `idents` to rest after `verb`, showing progress on
/// stderr; `None` when `timeout` passed first.
/// Above this many waited nodes, one detailed listing a round replaces a request
/// per node.
const LIST_ABOVE: usize = 8;

/// The waited nodes as they are now, in `idents`' order.
async fn fetch(
    client: &Client,
    idents: &[String],
) -> Result<Vec<Value>, ferric_client::ClientError> {
    let listed = if idents.len() > LIST_ABOVE {
        crate::nodes::all_pages(client, "/v1/nodes/detail?limit=1000", "nodes").await?
    } else {
        Vec::new()
    };
    let mut by_ident: HashMap<&str, &Value> = HashMap::new();
    for node in &listed {
        for key in ["uuid", "name"] {
            if let Some(k) = node[key].as_str() {
                by_ident.insert(k, node);
            }
        }
    }
    let mut nodes = Vec::with_capacity(idents.len());
    for ident in idents {
        match by_ident.get(ident.as_str()) {
            Some(node) => nodes.push((*node).clone()),
            // Few nodes, or one the listing missed: ask for it (a gone node errs).
            None => nodes.push(
                client
                    .request(Method::GET, &format!("/v1/nodes/{ident}"), None)
                    .await?,
            ),
        }
    }
    Ok(nodes)
}

pub async fn wait_all(
    client: &Client,
    idents: &[String],
    verb: &str,
    timeout: Duration,
) -> Result<Option<Vec<Outcome>>, ferric_client::ClientError> {
    let started = Instant::now();
    let mut progress = Progress::new(idents);
    loop {
        let nodes = fetch(client, idents).await?;
        progress.show(idents, &nodes);
        if nodes.iter().all(rests) {
            progress.finish();
            let good = good_states(verb);
            return Ok(Some(
                idents
                    .iter()
                    .zip(nodes)
                    .map(|(i, n)| Outcome {
                        ident: i.clone(),
                        ok: good.contains(&n["provision_state"].as_str().unwrap_or_default()),
                        node: n,
                    })
                    .collect(),
            ));
        }
        if started.elapsed() > timeout {
            progress.finish();
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
