//! `ferric-agent`: reads the kernel command line (`ipa-*` parameters) and flags, then
//! runs the agent. Test mode (`--disk`, `--mac`) needs no ramdisk and no root.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use ferric_agent::settings::split_urls;
use ferric_agent::Settings;

/// Ferric's deploy-ramdisk agent (ironic-python-agent compatible).
#[derive(Parser, Debug)]
#[command(name = "ferric-agent", version)]
struct Args {
    /// API URL(s) to look up and heartbeat to, comma-separated (else `ipa-api-url`).
    #[arg(long)]
    api_url: Option<String>,
    /// Test mode: treat this file or block device as the machine's disk (repeatable).
    #[arg(long)]
    disk: Vec<PathBuf>,
    /// Test mode: treat this MAC as the machine's NIC for lookup (repeatable).
    #[arg(long)]
    mac: Vec<String>,
    /// Address the command API listens on (default 0.0.0.0:9999).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Address put in the callback URL (default: the listen address, or the route to the API).
    #[arg(long)]
    advertise_host: Option<String>,
    /// Serve the command API over plain HTTP (labs; the conductor must allow it).
    #[arg(long)]
    plain_http: bool,
    /// Do not verify TLS certificates of the API and image servers.
    #[arg(long)]
    insecure: bool,
    /// CA certificates (PEM) to verify the API and image servers with.
    #[arg(long, value_name = "FILE")]
    ca_bundle: Option<PathBuf>,
    /// Seconds to keep trying the lookup.
    #[arg(long)]
    lookup_timeout: Option<u64>,
    /// Where a rescue stores the password hash and its marker (default /etc; in
    /// test mode `<first --disk>.rescue`).
    #[arg(long)]
    rescue_dir: Option<PathBuf>,
    /// Post the machine's inspection data here before the lookup (else
    /// `ipa-inspection-callback-url`).
    #[arg(long)]
    inspection_callback_url: Option<String>,
    /// Listen for LLDP on every NIC during inspection (else `ipa-collect-lldp`).
    #[arg(long)]
    collect_lldp: bool,
    /// Seconds to wait for each NIC's LLDP (else `ipa-lldp-timeout`, default 30).
    #[arg(long, value_name = "SECONDS")]
    lldp_timeout: Option<f64>,
    /// Kernel command line to read `ipa-*` parameters from.
    #[arg(long, default_value = "/proc/cmdline")]
    cmdline: PathBuf,
    /// Log filter (error, warn, info, debug).
    #[arg(long, default_value = "info")]
    log: String,
    /// Log lines as `text`, or `json` (one object a line) for a log pipeline.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

fn settings(args: &Args) -> Result<Settings, String> {
    let mut s = Settings::default();
    if let Ok(cmdline) = std::fs::read_to_string(&args.cmdline) {
        s.apply_kernel_params(&cmdline)
            .map_err(|e| format!("{}: {e}", args.cmdline.display()))?;
    }
    if let Some(u) = &args.api_url {
        s.api_urls = split_urls(u)?;
    }
    if let Some(l) = args.listen {
        s.listen = l;
        s.advertise_port = l.port();
    }
    if let Some(h) = &args.advertise_host {
        s.advertise_host = Some(h.clone());
    }
    s.plain_http |= args.plain_http;
    s.insecure |= args.insecure;
    if let Some(ca) = &args.ca_bundle {
        s.ca_file = Some(ca.clone());
    }
    if let Some(t) = args.lookup_timeout {
        s.lookup_timeout = std::time::Duration::from_secs(t);
    }
    for m in &args.mac {
        let ok = m.len() == 17
            && m.split(':').count() == 6
            && m.split(':')
                .all(|p| p.len() == 2 && u8::from_str_radix(p, 16).is_ok());
        if !ok {
            return Err(format!(
                "--mac {m} is not a MAC address (aa:bb:cc:dd:ee:ff)"
            ));
        }
    }
    s.macs = args.mac.iter().map(|m| m.to_ascii_lowercase()).collect();
    for d in &args.disk {
        if !d.exists() {
            return Err(format!("--disk {} does not exist", d.display()));
        }
    }
    s.disks = args.disk.clone();
    s.rescue_dir = args.rescue_dir.clone();
    s.collect_lldp |= args.collect_lldp;
    if let Some(t) = args.lldp_timeout {
        s.apply_kernel_params(&format!("ipa-lldp-timeout={t}"))?;
    }
    if let Some(u) = &args.inspection_callback_url {
        s.apply_kernel_params(&format!("ipa-inspection-callback-url={u}"))?;
    }
    if s.test_mode() && s.macs.is_empty() {
        return Err("test mode (--disk) needs --mac too".into());
    }
    Ok(s)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&args.log))
        .with_writer(std::io::stderr);
    if args.log_format == "json" {
        logs.json().flatten_event(true).init();
    } else {
        logs.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    let settings = match settings(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ferric-agent: {e}");
            return ExitCode::from(2);
        }
    };
    match ferric_agent::run(settings).await {
        Ok(stop) => {
            tracing::info!(?stop, "ferric-agent stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "ferric-agent stopped");
            eprintln!("ferric-agent: {e}");
            ExitCode::FAILURE
        }
    }
}
