//! `ferricd`: loads the configuration, opens the database, serves the API, and shuts
//! down cleanly on SIGTERM or Ctrl-C.

use std::process::ExitCode;

use clap::Parser;
use ferric_server::config::{Command, IdentityCommand};
use ferric_server::{open_database, run, Cli, Settings};

#[tokio::main]
async fn main() -> ExitCode {
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
