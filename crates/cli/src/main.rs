//! `ferric`: the command line of Ferric. Manages nodes, ports and port groups over
//! the API, runs the provision verbs with `--wait` and a progress line per node,
//! watches the fleet, runs a simulated rack (`ferric sim`), and `ferric demo` — Ferric
//! all-in-one with a simulated rack of eight machines taken through cleaning and
//! deployment — and builds the deploy ramdisk (`ferric ramdisk build`).
//!
//! Exit codes: 0 done; 1 the API refused or an operation ended in a failure state;
//! 2 bad usage; 3 timed out waiting.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ferric_cli::output::Format;
use ferric_cli::{demo, deploy, nodes, ports, ramdisk, sim, Failure};
use ferric_client::Client;

/// Ferric's command line.
#[derive(Debug, Parser)]
#[command(name = "ferric", version)]
struct Args {
    /// The API endpoint [default: the cloud's, else http://127.0.0.1:6385].
    #[arg(long, global = true, env = "FERRIC_URL")]
    url: Option<String>,
    /// A cloud of clouds.yaml to authenticate as, as the openstack client does
    /// (without it, the OS_* variables are read if set).
    #[arg(long = "os-cloud", global = true, env = "OS_CLOUD")]
    os_cloud: Option<String>,
    /// CA certificates (PEM) to verify an HTTPS endpoint with.
    #[arg(
        long = "os-cacert",
        global = true,
        env = "OS_CACERT",
        value_name = "FILE"
    )]
    os_cacert: Option<std::path::PathBuf>,
    /// Do not verify HTTPS certificates (labs only).
    #[arg(long, global = true)]
    insecure: bool,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Tables at full width: no column wrapped to fit the terminal.
    #[arg(long, global = true)]
    wide: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Nodes: list, show, create, set, delete, power, boot-device, provision, watch.
    #[command(subcommand)]
    Node(nodes::NodeCommand),
    /// Ports (a node's NICs).
    #[command(subcommand)]
    Port(ports::PortCommand),
    /// Port groups (bonds).
    #[command(subcommand)]
    Portgroup(ports::PortGroupCommand),
    /// Deploy an image on a node reserved for it, with networks and a config drive.
    Deploy(deploy::DeployArgs),
    /// Run a simulated rack: Redfish BMCs and in-process agents on sparse disks.
    Sim(sim::SimArgs),
    /// Ferric all-in-one with a simulated rack, cleaned and deployed before your eyes.
    Demo(demo::DemoArgs),
    /// Build the deploy ramdisk: `ferric ramdisk build --debian-kernel -o DIR`.
    #[command(subcommand)]
    Ramdisk(ramdisk::RamdiskCommand),
    /// Print the shell completion script: `ferric completion bash > /etc/bash_completion.d/ferric`.
    Completion { shell: clap_complete::Shell },
}

const DEFAULT_URL: &str = "http://127.0.0.1:6385";

/// The API client: with the cloud's credentials when there is one (its endpoint,
/// or the catalog's, unless --url names one), else unauthenticated.
async fn connect(args: &Args) -> Result<Client, String> {
    let needs_api = !matches!(
        args.command,
        Command::Sim(_) | Command::Demo(_) | Command::Ramdisk(_) | Command::Completion { .. }
    );
    match ferric_cli::cloud::resolve(args.os_cloud.as_deref())? {
        Some(cloud) if needs_api => {
            let endpoint = args.url.clone().or(cloud.endpoint);
            let cacert = args.os_cacert.clone().or(cloud.cacert);
            Client::connect(
                endpoint.as_deref(),
                cloud.credentials,
                cloud.region.as_deref(),
                (cacert.as_deref(), args.insecure || cloud.insecure),
            )
            .await
            .map_err(|e| e.to_string())
        }
        _ => Client::new(args.url.as_deref().unwrap_or(DEFAULT_URL))
            .and_then(|c| c.with_tls(args.os_cacert.as_deref(), args.insecure))
            .map_err(|e| e.to_string()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Command::Completion { shell } = args.command {
        let mut command = <Args as clap::CommandFactory>::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command, "ferric", &mut script);
        // A closed pipe (`| head`) is no error worth a panic.
        let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
        return ExitCode::SUCCESS;
    }
    ferric_cli::output::set_table_width(args.wide);
    let url = args.url.clone().unwrap_or_else(|| DEFAULT_URL.to_string());
    let client = match connect(&args).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferric: {e}");
            return ExitCode::from(1);
        }
    };
    let result = match args.command {
        Command::Node(cmd) => nodes::run(&client, args.format, cmd).await,
        Command::Port(cmd) => ports::run_ports(&client, args.format, cmd).await,
        Command::Portgroup(cmd) => ports::run_groups(&client, args.format, cmd).await,
        Command::Deploy(a) => deploy::run(&client, args.format, a).await,
        Command::Sim(a) => sim::run(&url, a).await,
        Command::Demo(a) => demo::run(a, args.format).await,
        Command::Ramdisk(cmd) => ramdisk::run(cmd),
        Command::Completion { .. } => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Operation(e)) => {
            eprintln!("ferric: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(e)) => {
            eprintln!("ferric: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Timeout(e)) => {
            eprintln!("ferric: {e}");
            ExitCode::from(3)
        }
    }
}
