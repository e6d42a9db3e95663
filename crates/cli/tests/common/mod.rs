//! What the CLI's end-to-end tests share: a free loopback port, running `ferric`,
//! and reading the JSON documents it prints one after another.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::Command;

use serde_json::Value;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `ferric ARGS`: (exit code, stdout, stderr).
pub fn ferric(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ferric"))
        .args(args)
        .output()
        .expect("ferric runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The JSON documents of `--format json` output, in order.
pub fn documents(out: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(out)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("the output is JSON documents: {e}\n{out}"))
}
