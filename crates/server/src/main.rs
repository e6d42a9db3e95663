//! `ferricd`: loads the configuration, opens the database, serves the API, and shuts
//! down cleanly on SIGTERM or Ctrl-C.

use std::process::ExitCode;

use clap::Parser;
use ferric_server::config::{Command, IdentityCommand};
use ferric_server::{open_database, run, Cli, Settings};

fn main() -> ExitCode {
    limit_malloc_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ferricd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve())
}

/// glibc gives each thread that contends for the heap an arena of its own, up to
/// eight per core, and keeps what those arenas once held: after `ferric-bench`
/// (10 000 nodes created, 250 000 GETs, the detailed listing) ferricd held 76 MiB
/// where two arenas leave 46 MiB, throughput within run-to-run noise. Set before
/// any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

async fn serve() -> ExitCode {
    let mut cli = Cli::parse();
    let command = cli.command.take();
    let settings = match Settings::load(cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ferricd: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Identity(IdentityCommand::Bootstrap {
        username,
        project,
        password,
    })) = command
    {
        return bootstrap(&settings, &username, &project, &password).await;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log));
    // Colours only on a terminal: a log file or pipeline gets plain text.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// `ferricd identity bootstrap`: the first administrator, then exit.
async fn bootstrap(settings: &Settings, user: &str, project: &str, password: &str) -> ExitCode {
    let result = match open_database(settings).await {
        Ok(db) => ferric_identity::bootstrap::bootstrap(&db, user, project, password).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(done) => {
            println!(
                "identity bootstrap: user {user} ({}) is admin of project {project} ({}) and of the system",
                if done.user_created { "created" } else { "password reset" },
                if done.project_created { "created" } else { "existing" },
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ferricd: {e}");
            ExitCode::FAILURE
        }
    }
}
