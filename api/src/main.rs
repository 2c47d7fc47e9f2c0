//! `vereda-api`: serves HTTP and, unless `--no-worker`, runs the background worker in-process.

use clap::{Parser, Subcommand};
use vereda_api::startup::{Application, RunOptions, openapi_json};
use vereda_store::config::{CliArgs, Settings};

#[derive(Parser)]
#[command(
    name = "vereda-api",
    version,
    about = "Vereda: API server (and in-process worker)"
)]
struct Cli {
    #[command(flatten)]
    args: CliArgs,
    /// Serve HTTP only; run jobs in separate `vereda-worker` processes.
    #[arg(long)]
    no_worker: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Print the OpenAPI document (as committed in contracts/openapi.json) and exit.
    Openapi,
    /// Before going live: print the configuration in force (secrets masked), the database's
    /// migrations, the job queue and whether SMTP answers; exit 1 on a problem.
    Check,
    /// Copy the SQLite database (while the product runs and writes) and the e-mail outbox into
    /// one archive.
    Backup {
        /// The archive to write, e.g. `/backups/vereda-2026-12-06.tar`.
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
    /// Put a backup in place as the data folder's database and outbox. Refuses when a
    /// database is already there, unless `--force` (which keeps it aside). Stop the product first.
    Restore {
        /// The archive `backup` wrote.
        #[arg(long, value_name = "FILE")]
        from: std::path::PathBuf,
        /// Replace the database that is there (it is moved aside, not deleted).
        #[arg(long)]
        force: bool,
    },
}

fn main() {
    // Malloc tuned before the runtime's threads start: see vereda_store::memory.
    vereda_store::memory::run(run())
}

async fn run() {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        println!("{}", openapi_json());
        return;
    }
    init_tracing();
    let settings = match Settings::load(&cli.args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vereda-api: {e}");
            std::process::exit(2);
        }
    };
    match &cli.command {
        Some(Command::Check) => {
            let (report, ok) = vereda_api::operations::run(&settings).await;
            print!("{report}");
            std::process::exit(if ok { 0 } else { 1 });
        }
        Some(Command::Backup { to }) => {
            exit_with(vereda_api::operations::backup(&settings, to).await)
        }
        Some(Command::Restore { from, force }) => {
            exit_with(vereda_api::operations::restore(&settings, from, *force).await)
        }
        _ => {}
    }
    let dialect = settings.dialect;
    let app = match Application::build(
        settings,
        RunOptions {
            with_worker: !cli.no_worker,
        },
    )
    .await
    {
        Ok(app) => app,
        Err(e) => {
            eprintln!("vereda-api: could not start: {e}");
            std::process::exit(1);
        }
    };
    print_banner(&app, dialect, !cli.no_worker);
    if let Err(e) = app.run_until(shutdown_signal()).await {
        eprintln!("vereda-api: {e}");
        std::process::exit(1);
    }
}

/// Print what an operations command did, or why it could not, and exit (1 on failure).
fn exit_with(outcome: anyhow::Result<String>) -> ! {
    match outcome {
        Ok(done) => {
            println!("{done}");
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("vereda-api: {e:#}");
            std::process::exit(1)
        }
    }
}

fn print_banner(app: &Application, dialect: vereda_store::db::Dialect, worker: bool) {
    let base = app.base_url();
    println!("App: {base}/");
    println!();
    println!(
        "  Vereda is running on {dialect:?}{}.",
        if worker { " with its worker" } else { "" }
    );
    println!("  API docs (Swagger UI): {base}/docs");
    println!("  OpenAPI document:      {base}/openapi.json");
    match &app.first_admin {
        Some(admin) => {
            println!("  First admin created:   {}", admin.email);
            match &admin.generated_password {
                Some(pw) => {
                    println!("  Its password (shown only this once, keep it): {pw}");
                }
                None => println!("  Its password is the VEREDA_ADMIN_PASSWORD you set."),
            }
        }
        None => println!("  Sign in with an existing admin account."),
    }
    println!("  Sign in to the app at {base}/ with that e-mail and password (staff and finance");
    println!(
        "  screens), or to the API: POST {base}/v1/auth/login {{\"email\": \"…\", \"password\": \"…\"}}"
    );
    println!("  then send Authorization: Bearer <token> (Swagger UI: the Authorize button).");
    println!();
}

fn init_tracing() {
    use vereda_store::logs;
    match logs::Format::from_env() {
        Ok(format) => logs::init(format, "info,sqlx=warn"),
        Err(e) => {
            eprintln!("vereda-api: {e}");
            std::process::exit(2);
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
