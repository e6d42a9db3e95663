//! The command table: every `extension.command` the agent serves, whether it runs
//! synchronously or on a task, how its parameters are checked before it is recorded,
//! and what runs it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::agent::Agent;
use crate::commands::CommandError;
use crate::{image, inventory, logs, partitions, power, rescue, steps};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
type Run = fn(Arc<Agent>, Value) -> BoxFuture<Result<Value, CommandError>>;
type Validate = fn(&Agent, &Value) -> Result<(), CommandError>;

/// Whether a command answers in the request or runs on after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sync,
    Async,
}

pub struct Entry {
    pub kind: Kind,
    pub validate: Validate,
    pub run: Run,
}

fn no_check(_: &Agent, _: &Value) -> Result<(), CommandError> {
    Ok(())
}

const EXTENSIONS: &[&str] = &[
    "standby", "deploy", "clean", "image", "log", "poll", "rescue",
];

/// Finds a command: unknown extension → 404, unknown command → 400.
pub fn find(ext: &str, cmd: &str) -> Result<Entry, CommandError> {
    use Kind::*;
    let entry = |kind, validate: Validate, run: Run| Entry {
        kind,
        validate,
        run,
    };
    Ok(match (ext, cmd) {
        ("standby", "get_partition_uuids") => entry(Sync, no_check, |a, _| {
            Box::pin(async move { partitions::partition_uuids(&a) })
        }),
        ("standby", "sync") => entry(Sync, no_check, |_, _| {
            Box::pin(async move { power::sync().await.map(|()| Value::Null) })
        }),
        ("standby", "power_off") => entry(Async, no_check, |a, _| {
            Box::pin(async move { power::halt(&a, power::Halt::PowerOff).await })
        }),
        ("standby", "run_image") => entry(Async, no_check, |a, _| {
            Box::pin(async move { power::halt(&a, power::Halt::Reboot).await })
        }),
        ("standby", "prepare_image") => entry(Async, image::validate_params, |a, p| {
            Box::pin(async move { image::prepare_image(a, p).await.map(Value::from) })
        }),
        ("deploy", "get_deploy_steps") => entry(Sync, no_check, |_, _| {
            Box::pin(async move { Ok(steps::list(steps::Phase::Deploy)) })
        }),
        ("deploy", "execute_deploy_step") => entry(Async, steps::validate_deploy, |a, p| {
            Box::pin(async move { steps::execute(a, steps::Phase::Deploy, p).await })
        }),
        ("clean", "get_clean_steps") => entry(Sync, no_check, |_, _| {
            Box::pin(async move { Ok(steps::list(steps::Phase::Clean)) })
        }),
        ("clean", "execute_clean_step") => entry(Async, steps::validate_clean, |a, p| {
            Box::pin(async move { steps::execute(a, steps::Phase::Clean, p).await })
        }),
        ("image", "install_bootloader") => entry(Async, no_check, |a, p| {
            Box::pin(async move { partitions::install_bootloader(&a, &p) })
        }),
        ("rescue", "finalize_rescue") => entry(Sync, rescue::validate, |a, p| {
            Box::pin(async move { rescue::finalize(a, p).await })
        }),
        ("log", "collect_system_logs") => entry(Sync, no_check, |a, _| {
            Box::pin(async move { logs::collect(&a).map(|l| json!({"system_logs": l})) })
        }),
        ("poll", "get_hardware_info") => entry(Sync, no_check, |a, _| {
            Box::pin(async move { Ok(inventory::collect(&a.settings)) })
        }),
        (ext, _) if !EXTENSIONS.contains(&ext) => {
            return Err(CommandError::new(
                404,
                "ExtensionError",
                "Extension not found",
                format!("no extension {ext}"),
            ))
        }
        (_, cmd) => {
            return Err(CommandError::invalid(format!(
                "Invalid command: Unknown command: {cmd}"
            )))
        }
    })
}
