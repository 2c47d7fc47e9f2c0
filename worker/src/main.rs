//! `vereda-worker`: runs Vereda's job workers alone, without the HTTP API. Start as many as
//! needed on one PostgreSQL database; each claims jobs with row locks.

use std::sync::Arc;

use clap::Parser;
use vereda_store::config::{CliArgs, Settings};
use vereda_store::db::{Db, PoolSettings};

#[derive(Debug, Parser)]
#[command(
    name = "vereda-worker",
    version,
    about = "Vereda background job worker"
)]
struct Cli {
    #[command(flatten)]
    args: CliArgs,
}

fn main() -> anyhow::Result<()> {
    // Malloc tuned before the runtime's threads start: see vereda_store::memory.
    vereda_store::memory::run(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli.args) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("vereda-worker: {e}");
            std::process::exit(2);
        }
    };

    match vereda_store::logs::Format::from_env() {
        Ok(format) => vereda_store::logs::init(format, "info,sqlx=warn"),
        Err(e) => {
            eprintln!("vereda-worker: {e}");
            std::process::exit(2);
        }
    }

    // The URL can carry a password: it is used, never logged (Settings' Debug redacts it).
    let pool = PoolSettings {
        max_connections: settings.db_max_connections,
        ..PoolSettings::default()
    };
    if let Some(parent) = sqlite_parent_dir(settings.database_url.expose()) {
        std::fs::create_dir_all(parent)?;
    }
    let db = Db::connect(settings.database_url.expose(), &pool).await?;
    db.migrate().await?;
    tracing::info!(dialect = ?db.dialect(), "database ready");

    let result = vereda_worker::run(db.clone(), settings, stop_signal()).await;
    db.close().await;
    result
}

/// The folder a `sqlite:` URL's file lives in, so a fresh data folder can be created.
fn sqlite_parent_dir(url: &str) -> Option<&std::path::Path> {
    let path = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let path = path.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
}

/// Resolves on Ctrl-C, or on SIGTERM (what service managers and containers send).
async fn stop_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
