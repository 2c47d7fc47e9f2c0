//! Configuration: an optional TOML file, overridden by `VEREDA_*` environment variables,
//! overridden by command-line flags. Everything is parsed here, once; a bad value stops the
//! process with a message naming the setting. Secrets never print (see [`Secret`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::db::{Dialect, dialect_of};
use vereda_contracts::legal::{Dated, LegalFigures};
use vereda_contracts::money::Margin;
use vereda_contracts::statements::{SocialSecurityRates, default_social_security};

/// A value that must never reach a log line or a `Debug` print.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Command-line flags shared by `vereda-api` and `vereda-worker`. Each flag also reads its
/// `VEREDA_*` variable (clap gives flags precedence over the environment).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CliArgs {
    /// TOML configuration file (optional).
    #[arg(long, env = "VEREDA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: `sqlite:path/to/file.db` or `postgres://user@host/db`.
    #[arg(long, env = "VEREDA_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Address to serve HTTP on.
    #[arg(long, env = "VEREDA_LISTEN")]
    pub listen: Option<String>,
    /// Folder for the SQLite file and the e-mail outbox.
    #[arg(long, env = "VEREDA_DATA_DIR")]
    pub data_dir: Option<String>,
    /// SMTP server for outgoing mail (`smtp://host:port`, `smtps://user:pass@host`).
    #[arg(long, env = "VEREDA_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// E-mail of the first admin, created on an empty database.
    #[arg(long, env = "VEREDA_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// Password of the first admin (otherwise one is generated and printed once).
    #[arg(long, env = "VEREDA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Platform margin as a decimal share, e.g. 0.20.
    #[arg(long, env = "VEREDA_MARGIN")]
    pub margin: Option<String>,
    /// Hours a sign-in token stays valid.
    #[arg(long, env = "VEREDA_TOKEN_TTL_HOURS")]
    pub token_ttl_hours: Option<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "VEREDA_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<String>,
    /// Connections in the database pool.
    #[arg(long, env = "VEREDA_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<String>,
    /// Seconds between the marketplace sweeps (expiry, auto-approval).
    #[arg(long, env = "VEREDA_SWEEP_SECONDS")]
    pub sweep_seconds: Option<String>,
    /// Claims a worker may hold at once.
    #[arg(long, env = "VEREDA_MAX_ACTIVE_ASSIGNMENTS")]
    pub max_active_assignments: Option<String>,
    /// Hours a worker may log per Bogotá day.
    #[arg(long, env = "VEREDA_DAILY_LIMIT_HOURS")]
    pub daily_limit_hours: Option<String>,
    /// Days back a time entry may start.
    #[arg(long, env = "VEREDA_ENTRY_WINDOW_DAYS")]
    pub entry_window_days: Option<String>,
    /// Smallest payout line, in whole pesos.
    #[arg(long, env = "VEREDA_MIN_PAYOUT")]
    pub min_payout: Option<String>,
    /// Retired: withholding follows each worker's fiscal profile and the legal tables; a value
    /// set here stops the process saying so, rather than being silently ignored.
    #[arg(long, env = "VEREDA_WITHHOLDING_RATE", hide = true)]
    pub withholding_rate: Option<String>,
    /// Sender of outgoing mail, e.g. `Vereda <no-responder@vereda.co>`.
    #[arg(long, env = "VEREDA_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// The platform's legal name, printed on invoices and statements.
    #[arg(long, env = "VEREDA_PLATFORM_NAME")]
    pub platform_name: Option<String>,
    /// The platform's NIT, printed on invoices and statements.
    #[arg(long, env = "VEREDA_PLATFORM_NIT")]
    pub platform_nit: Option<String>,
    /// Monthly income of a rural family the statements compare with, in whole pesos.
    #[arg(long, env = "VEREDA_RURAL_BASELINE")]
    pub rural_baseline: Option<String>,
    /// Prefix of the documento soporte numbers DIAN authorised.
    #[arg(long, env = "VEREDA_SUPPORT_DOC_PREFIX")]
    pub support_doc_prefix: Option<String>,
    /// First number of the authorised documento soporte range.
    #[arg(long, env = "VEREDA_SUPPORT_DOC_FIRST")]
    pub support_doc_first: Option<String>,
    /// Last number of the authorised documento soporte range.
    #[arg(long, env = "VEREDA_SUPPORT_DOC_LAST")]
    pub support_doc_last: Option<String>,
    /// `true` when the API runs behind a reverse proxy of ours that appends the client's
    /// address to `X-Forwarded-For`: sign-in limits then count the last hop, not the proxy.
    #[arg(long, env = "VEREDA_TRUSTED_PROXY")]
    pub trusted_proxy: Option<String>,
    /// `true` to hold the payout of a worker who earned at least one SMMLV last month and has
    /// no PILA planilla on file for it (by default the line is paid and flagged).
    #[arg(long, env = "VEREDA_PILA_BLOCKS_PAYOUTS")]
    pub pila_blocks_payouts: Option<String>,
    /// The address people reach Vereda at, e.g. `https://vereda.co` (links in e-mails, the
    /// sign-in cookie's `Secure`, the CSRF origin check); default `http://<listen address>`.
    #[arg(long, env = "VEREDA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Days apalis's finished job rows are kept before housekeeping deletes them.
    #[arg(long, env = "VEREDA_JOB_KEEP_DAYS")]
    pub job_keep_days: Option<String>,
    /// Seconds that in-flight requests and running jobs get to finish on SIGTERM.
    #[arg(long, env = "VEREDA_SHUTDOWN_GRACE_SECONDS")]
    pub shutdown_grace_seconds: Option<String>,
    /// Bearer token that `GET /metrics` requires; without it there is no `/metrics`.
    #[arg(long, env = "VEREDA_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Folder for scheduled backups of the SQLite database; without it none are made.
    #[arg(long, env = "VEREDA_BACKUP_DIR")]
    pub backup_dir: Option<String>,
    /// Hours between scheduled backups.
    #[arg(long, env = "VEREDA_BACKUP_EVERY_HOURS")]
    pub backup_every_hours: Option<String>,
    /// Scheduled backups kept (the oldest beyond this are deleted).
    #[arg(long, env = "VEREDA_BACKUP_KEEP")]
    pub backup_keep: Option<String>,
    /// Where people send requests about their personal data (the privacy notice names it).
    #[arg(long, env = "VEREDA_PRIVACY_EMAIL")]
    pub privacy_email: Option<String>,
    /// DIAN environment electronic documents are made for: `pruebas` (habilitación, the
    /// default) or `produccion`.
    #[arg(long, env = "VEREDA_EINVOICE_ENVIRONMENT")]
    pub einvoice_environment: Option<String>,
    /// The billing software's id as DIAN registered it (required in production).
    #[arg(long, env = "VEREDA_EINVOICE_SOFTWARE_ID")]
    pub einvoice_software_id: Option<String>,
    /// The billing software's PIN (required in production).
    #[arg(long, env = "VEREDA_EINVOICE_SOFTWARE_PIN", hide_env_values = true)]
    pub einvoice_software_pin: Option<String>,
    /// PKCS#12 file (.p12/.pfx) with the certificate electronic documents are signed with;
    /// without it they are produced unsigned and marked so.
    #[arg(long, env = "VEREDA_EINVOICE_CERTIFICATE")]
    pub einvoice_certificate: Option<String>,
    /// The PKCS#12 file's password.
    #[arg(
        long,
        env = "VEREDA_EINVOICE_CERTIFICATE_PASSWORD",
        hide_env_values = true
    )]
    pub einvoice_certificate_password: Option<String>,
}

/// The TOML file's shape: the same names as the flags, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    listen: Option<String>,
    data_dir: Option<String>,
    smtp_url: Option<String>,
    admin_email: Option<String>,
    admin_password: Option<String>,
    margin: Option<String>,
    token_ttl_hours: Option<u64>,
    max_body_bytes: Option<u64>,
    db_max_connections: Option<u32>,
    sweep_seconds: Option<u64>,
    max_active_assignments: Option<u64>,
    daily_limit_hours: Option<u64>,
    entry_window_days: Option<u64>,
    min_payout: Option<u64>,
    withholding_rate: Option<String>,
    mail_from: Option<String>,
    platform_name: Option<String>,
    platform_nit: Option<String>,
    rural_baseline: Option<u64>,
    support_doc_prefix: Option<String>,
    support_doc_first: Option<u64>,
    support_doc_last: Option<u64>,
    trusted_proxy: Option<bool>,
    pila_blocks_payouts: Option<bool>,
    public_url: Option<String>,
    job_keep_days: Option<u64>,
    shutdown_grace_seconds: Option<u64>,
    metrics_token: Option<String>,
    backup_dir: Option<String>,
    backup_every_hours: Option<u64>,
    backup_keep: Option<u64>,
    privacy_email: Option<String>,
    einvoice_environment: Option<String>,
    einvoice_software_id: Option<String>,
    einvoice_software_pin: Option<String>,
    einvoice_certificate: Option<String>,
    einvoice_certificate_password: Option<String>,
    /// Effective-dated contribution rates of independent workers; defaults built in.
    social_security: Option<Vec<Dated<SocialSecurityRates>>>,
    /// Effective-dated legal figures (SMMLV, UVT, weekly hours, IVA); defaults built in.
    legal: Option<LegalFigures>,
}

/// Parsed, valid settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: Secret,
    pub dialect: Dialect,
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub smtp_url: Option<Secret>,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
    pub margin: Margin,
    pub token_ttl: Duration,
    pub max_body_bytes: usize,
    pub db_max_connections: u32,
    /// How often the marketplace sweep runs.
    pub sweep_interval: Duration,
    pub max_active_assignments: i64,
    /// Most hours a worker may log per Bogotá day.
    pub daily_limit_hours: i64,
    /// How many days back a time entry may start.
    pub entry_window_days: i64,
    /// Smallest payout line.
    pub min_payout: vereda_contracts::money::Cop,
    /// Sender of outgoing mail.
    pub mail_from: String,
    pub platform_name: String,
    /// The platform's NIT, `digits-check`.
    pub platform_nit: String,
    /// What statements compare a worker's income with.
    pub rural_baseline: vereda_contracts::money::Cop,
    /// Documento soporte numbering: prefix and authorised range.
    pub support_doc_prefix: String,
    pub support_doc_range: std::ops::RangeInclusive<i64>,
    /// Behind a trusted reverse proxy: the client is the last `X-Forwarded-For` hop.
    pub trusted_proxy: bool,
    /// A missing PILA planilla holds the payout instead of flagging it.
    pub pila_blocks_payouts: bool,
    /// Where people reach the product (`VEREDA_PUBLIC_URL`), without a trailing `/`: links in
    /// e-mails start with it. Default `http://<listen address>` (with the port actually bound).
    pub public_url: String,
    /// Whether `public_url` was configured (otherwise it follows the bound address).
    pub public_url_configured: bool,
    pub social_security: Vec<Dated<SocialSecurityRates>>,
    pub legal: LegalFigures,
    /// Finished job rows older than this are pruned by housekeeping.
    pub job_keep: Duration,
    /// What in-flight requests and running jobs get to finish once shutdown is asked for.
    pub shutdown_grace: Duration,
    /// `GET /metrics` answers only with this bearer token; `None`: no metrics endpoint.
    pub metrics_token: Option<Secret>,
    /// Scheduled SQLite backups, if a folder is set.
    pub backups: Option<BackupSchedule>,
    /// Where people send requests about their personal data (Ley 1581).
    pub privacy_email: String,
    /// Electronic documents for DIAN.
    pub einvoice: EInvoiceSettings,
}

/// How electronic documents are made: for which DIAN environment, by which registered
/// software, signed with which certificate.
#[derive(Debug, Clone)]
pub struct EInvoiceSettings {
    pub environment: vereda_contracts::cufe::Environment,
    pub software_id: String,
    pub software_pin: Secret,
    /// The certificate documents are signed with, read from its PKCS#12 file at start-up;
    /// `None`: documents are produced unsigned.
    pub certificate: Option<std::sync::Arc<vereda_documents::xades::SigningCertificate>>,
}

/// The software id and PIN used in the test environment when none is configured: documents
/// made with them are well-formed and checkable, and DIAN would not take them.
pub const UNREGISTERED_SOFTWARE_ID: &str = "vereda-sin-registrar";
pub const UNREGISTERED_SOFTWARE_PIN: &str = "00000";

/// Where, how often and how many scheduled backups (SQLite only).
#[derive(Debug, Clone)]
pub struct BackupSchedule {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
}

/// A setting that could not be used, with its name as the operator would write it.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {setting}: {reason}")]
pub struct ConfigError {
    pub setting: String,
    pub reason: String,
}

/// A yes/no setting, off unless said.
fn flag(arg: &Option<String>, file: Option<bool>, setting: &str) -> Result<bool, ConfigError> {
    match arg {
        Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            _ => Err(bad(setting, format!("{raw:?} is not true or false"))),
        },
        None => Ok(file.unwrap_or(false)),
    }
}

fn bad(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        reason: reason.into(),
    }
}

impl Settings {
    /// Load from the file named by `--config`/`VEREDA_CONFIG` (if any), then flags/env.
    pub fn load(args: &CliArgs) -> Result<Settings, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        Self::from_parts(file, args)
    }

    fn from_parts(file: FileSettings, args: &CliArgs) -> Result<Settings, ConfigError> {
        fn pick(flag: &Option<String>, file: Option<String>) -> Option<String> {
            flag.clone().or(file)
        }

        let einvoice = einvoice_settings(&file, args)?;
        let data_dir = PathBuf::from(
            pick(&args.data_dir, file.data_dir).unwrap_or_else(|| "./data".to_string()),
        );
        if data_dir.as_os_str().is_empty() {
            return Err(bad("data_dir (VEREDA_DATA_DIR)", "must not be empty"));
        }

        let database_url = match pick(&args.database_url, file.database_url) {
            Some(url) => url,
            None => format!("sqlite:{}", data_dir.join("vereda.db").display()),
        };
        let dialect = dialect_of(&database_url).ok_or_else(|| {
            bad(
                "database_url (VEREDA_DATABASE_URL)",
                "must start with sqlite: or postgres://",
            )
        })?;

        let listen_raw =
            pick(&args.listen, file.listen).unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let listen = SocketAddr::from_str(&listen_raw).map_err(|_| {
            bad(
                "listen (VEREDA_LISTEN)",
                format!("{listen_raw:?} is not an address like 127.0.0.1:8080"),
            )
        })?;

        let smtp_url = pick(&args.smtp_url, file.smtp_url);
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err(bad(
                "smtp_url (VEREDA_SMTP_URL)",
                "must start with smtp:// or smtps://",
            ));
        }

        let admin_email = pick(&args.admin_email, file.admin_email);
        if let Some(email) = &admin_email
            && vereda_contracts::identity::Email::parse(email).is_err()
        {
            return Err(bad(
                "admin_email (VEREDA_ADMIN_EMAIL)",
                "is not an e-mail address",
            ));
        }
        let admin_password = pick(&args.admin_password, file.admin_password);
        if let Some(pw) = &admin_password
            && let Err(e) = vereda_contracts::identity::check_password(pw)
        {
            return Err(bad("admin_password (VEREDA_ADMIN_PASSWORD)", e));
        }

        let margin_raw = pick(&args.margin, file.margin).unwrap_or_else(|| "0.20".to_string());
        // Whole basis points, as billing stores it: a finer margin would be previewed to
        // companies at one price and billed at another.
        let margin = Margin::parse(&margin_raw).map_err(|e| {
            bad(
                "margin (VEREDA_MARGIN)",
                format!("{margin_raw:?} {e}, e.g. 0.20"),
            )
        })?;

        let token_ttl_hours = number(
            "token_ttl_hours (VEREDA_TOKEN_TTL_HOURS)",
            &args.token_ttl_hours,
            file.token_ttl_hours,
            24 * 7,
            1..=24 * 90,
        )?;
        let max_body_bytes = number(
            "max_body_bytes (VEREDA_MAX_BODY_BYTES)",
            &args.max_body_bytes,
            file.max_body_bytes,
            1024 * 1024,
            1024..=64 * 1024 * 1024,
        )?;
        let db_max_connections = number(
            "db_max_connections (VEREDA_DB_MAX_CONNECTIONS)",
            &args.db_max_connections,
            file.db_max_connections.map(u64::from),
            10,
            1..=500,
        )?;

        let sweep_seconds = number(
            "sweep_seconds (VEREDA_SWEEP_SECONDS)",
            &args.sweep_seconds,
            file.sweep_seconds,
            60,
            1..=3600,
        )?;
        let max_active_assignments = number(
            "max_active_assignments (VEREDA_MAX_ACTIVE_ASSIGNMENTS)",
            &args.max_active_assignments,
            file.max_active_assignments,
            3,
            1..=100,
        )?;
        let daily_limit_hours = number(
            "daily_limit_hours (VEREDA_DAILY_LIMIT_HOURS)",
            &args.daily_limit_hours,
            file.daily_limit_hours,
            12,
            1..=24,
        )?;
        let entry_window_days = number(
            "entry_window_days (VEREDA_ENTRY_WINDOW_DAYS)",
            &args.entry_window_days,
            file.entry_window_days,
            14,
            1..=365,
        )?;

        let min_payout = number(
            "min_payout (VEREDA_MIN_PAYOUT)",
            &args.min_payout,
            file.min_payout,
            10_000,
            1..=100_000_000,
        )?;
        if pick(&args.withholding_rate, file.withholding_rate).is_some() {
            return Err(bad(
                "withholding_rate (VEREDA_WITHHOLDING_RATE)",
                "is no longer a setting: withholding follows each worker's fiscal profile and \
                 the legal tables (see the README); remove it"
                    .to_string(),
            ));
        }

        let mail_from = pick(&args.mail_from, file.mail_from)
            .unwrap_or_else(|| "Vereda <no-responder@vereda.co>".to_string());
        let address = mail_from
            .rsplit_once('<')
            .map_or(mail_from.as_str(), |(_, a)| a.trim_end_matches('>'));
        if vereda_contracts::identity::Email::parse(address).is_err() {
            return Err(bad(
                "mail_from (VEREDA_MAIL_FROM)",
                "must be an address, optionally with a name: Vereda <no-responder@vereda.co>",
            ));
        }
        let platform_name = pick(&args.platform_name, file.platform_name)
            .unwrap_or_else(|| "Vereda S.A.S.".to_string());
        let platform_nit_raw = pick(&args.platform_nit, file.platform_nit)
            .unwrap_or_else(|| "901234567-7".to_string());
        let platform_nit = vereda_contracts::identity::Nit::parse(&platform_nit_raw)
            .map_err(|e| bad("platform_nit (VEREDA_PLATFORM_NIT)", e))?;
        let rural_baseline = number(
            "rural_baseline (VEREDA_RURAL_BASELINE)",
            &args.rural_baseline,
            file.rural_baseline,
            800_000,
            1..=1_000_000_000,
        )?;
        let support_doc_prefix = pick(&args.support_doc_prefix, file.support_doc_prefix)
            .unwrap_or_else(|| "DS".to_string());
        if support_doc_prefix.is_empty()
            || support_doc_prefix.len() > 4
            || !support_doc_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        {
            return Err(bad(
                "support_doc_prefix (VEREDA_SUPPORT_DOC_PREFIX)",
                "must be 1 to 4 letters or digits",
            ));
        }
        let support_doc_first = number(
            "support_doc_first (VEREDA_SUPPORT_DOC_FIRST)",
            &args.support_doc_first,
            file.support_doc_first,
            1,
            1..=999_999_999,
        )?;
        let support_doc_last = number(
            "support_doc_last (VEREDA_SUPPORT_DOC_LAST)",
            &args.support_doc_last,
            file.support_doc_last,
            1_000_000,
            support_doc_first..=999_999_999,
        )?;

        let legal = file.legal.unwrap_or_default();
        // Prices are previewed with today's IVA and billed with the period's: both must exist,
        // and a table in force today stays in force for every later day.
        let today = vereda_contracts::time::now()
            .with_timezone(&vereda_contracts::time::BOGOTA)
            .date_naive();
        if legal.vat_rate(today).is_none() {
            return Err(bad(
                "[legal] vat_rate",
                format!("has no IVA rate in force on {today}"),
            ));
        }
        let trusted_proxy = flag(
            &args.trusted_proxy,
            file.trusted_proxy,
            "trusted_proxy (VEREDA_TRUSTED_PROXY)",
        )?;
        let pila_blocks_payouts = flag(
            &args.pila_blocks_payouts,
            file.pila_blocks_payouts,
            "pila_blocks_payouts (VEREDA_PILA_BLOCKS_PAYOUTS)",
        )?;

        let public_url_raw = pick(&args.public_url, file.public_url);
        let public_url = match &public_url_raw {
            Some(raw) => parse_public_url(raw).ok_or_else(|| {
                bad(
                    "public_url (VEREDA_PUBLIC_URL)",
                    format!(
                        "{raw:?} is not an http:// or https:// address without query or fragment, \
                         e.g. https://vereda.co"
                    ),
                )
            })?,
            None => format!("http://{listen}"),
        };

        let job_keep_days = number(
            "job_keep_days (VEREDA_JOB_KEEP_DAYS)",
            &args.job_keep_days,
            file.job_keep_days,
            30,
            1..=3650,
        )?;
        let shutdown_grace_seconds = number(
            "shutdown_grace_seconds (VEREDA_SHUTDOWN_GRACE_SECONDS)",
            &args.shutdown_grace_seconds,
            file.shutdown_grace_seconds,
            30,
            1..=3600,
        )?;
        let metrics_token = match pick(&args.metrics_token, file.metrics_token) {
            Some(t) if t.trim().len() < 16 => {
                return Err(bad(
                    "metrics_token (VEREDA_METRICS_TOKEN)",
                    "must be at least 16 characters",
                ));
            }
            other => other.map(|t| Secret::new(t.trim().to_string())),
        };
        let backup_every_hours = number(
            "backup_every_hours (VEREDA_BACKUP_EVERY_HOURS)",
            &args.backup_every_hours,
            file.backup_every_hours,
            24,
            1..=24 * 31,
        )?;
        let backup_keep = number(
            "backup_keep (VEREDA_BACKUP_KEEP)",
            &args.backup_keep,
            file.backup_keep,
            14,
            1..=1000,
        )?;
        let backups = match pick(&args.backup_dir, file.backup_dir) {
            Some(dir) if dir.trim().is_empty() => None,
            Some(_) if dialect == Dialect::Postgres => {
                return Err(bad(
                    "backup_dir (VEREDA_BACKUP_DIR)",
                    "scheduled backups are for SQLite; back PostgreSQL up with pg_dump or \
                     base backups (ARCHITECTURE.md)",
                ));
            }
            Some(dir) => Some(BackupSchedule {
                dir: PathBuf::from(dir.trim()),
                every: Duration::from_secs(backup_every_hours * 3600),
                keep: backup_keep as usize,
            }),
            None => None,
        };

        let privacy_raw = pick(&args.privacy_email, file.privacy_email)
            .unwrap_or_else(|| "privacidad@vereda.co".to_string());
        let privacy_email = vereda_contracts::identity::Email::parse(&privacy_raw)
            .map_err(|e| bad("privacy_email (VEREDA_PRIVACY_EMAIL)", e.to_string()))?
            .as_str()
            .to_string();

        Ok(Settings {
            database_url: Secret::new(database_url),
            dialect,
            listen,
            data_dir,
            smtp_url: smtp_url.map(Secret::new),
            admin_email,
            admin_password: admin_password.map(Secret::new),
            margin,
            token_ttl: Duration::from_secs(token_ttl_hours * 3600),
            max_body_bytes: max_body_bytes as usize,
            db_max_connections: db_max_connections as u32,
            sweep_interval: Duration::from_secs(sweep_seconds),
            max_active_assignments: max_active_assignments as i64,
            daily_limit_hours: daily_limit_hours as i64,
            entry_window_days: entry_window_days as i64,
            min_payout: vereda_contracts::money::Cop::pesos(min_payout as i64),
            mail_from,
            platform_name,
            platform_nit: platform_nit.as_str().to_string(),
            rural_baseline: vereda_contracts::money::Cop::pesos(rural_baseline as i64),
            support_doc_prefix,
            support_doc_range: support_doc_first as i64..=support_doc_last as i64,
            trusted_proxy,
            pila_blocks_payouts,
            public_url,
            public_url_configured: public_url_raw.is_some(),
            social_security: file.social_security.unwrap_or_else(default_social_security),
            legal,
            job_keep: Duration::from_secs(job_keep_days * 24 * 3600),
            shutdown_grace: Duration::from_secs(shutdown_grace_seconds),
            metrics_token,
            backups,
            privacy_email,
            einvoice,
        })
    }

    /// Settings for tests and tools: defaults with a given database and data folder.
    pub fn for_database(database_url: &str, data_dir: &Path) -> Result<Settings, ConfigError> {
        let args = CliArgs {
            database_url: Some(database_url.to_string()),
            data_dir: Some(data_dir.display().to_string()),
            listen: Some("127.0.0.1:0".to_string()),
            ..CliArgs::default()
        };
        Self::from_parts(FileSettings::default(), &args)
    }

    /// The origin (`scheme://host[:port]`, lower-case) of [`Settings::public_url`].
    pub fn public_origin(&self) -> String {
        origin_of(&self.public_url)
    }

    /// Whether people reach the product over HTTPS (the sign-in cookie is then `Secure`).
    pub fn public_url_is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Folder where electronic documents are written for the authorised provider's uploader.
    pub fn einvoice_dir(&self) -> PathBuf {
        self.data_dir.join("einvoice")
    }

    /// Folder where e-mail is written when no SMTP server is configured.
    pub fn outbox_dir(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// The platform as its documents and e-mails name it.
    pub fn issuer(&self) -> vereda_documents::Issuer {
        vereda_documents::Issuer {
            name: self.platform_name.clone(),
            nit: self.platform_nit.clone(),
            public_url: self.public_url.clone(),
        }
    }
}

fn einvoice_settings(file: &FileSettings, args: &CliArgs) -> Result<EInvoiceSettings, ConfigError> {
    use vereda_contracts::cufe::Environment;
    let pick = |flag: &Option<String>, file: &Option<String>| {
        flag.clone()
            .or_else(|| file.clone())
            .filter(|v| !v.trim().is_empty())
    };
    let environment = match pick(&args.einvoice_environment, &file.einvoice_environment)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("pruebas" | "test" | "habilitacion" | "habilitación") => Environment::Test,
        Some("produccion" | "producción" | "production") => Environment::Production,
        Some(other) => {
            return Err(bad(
                "einvoice_environment (VEREDA_EINVOICE_ENVIRONMENT)",
                format!("{other:?} is not pruebas or produccion"),
            ));
        }
    };
    let software_id = pick(&args.einvoice_software_id, &file.einvoice_software_id);
    let software_pin = pick(&args.einvoice_software_pin, &file.einvoice_software_pin);
    if environment == Environment::Production && (software_id.is_none() || software_pin.is_none()) {
        return Err(bad(
            "einvoice_software_id, einvoice_software_pin (VEREDA_EINVOICE_SOFTWARE_ID, VEREDA_EINVOICE_SOFTWARE_PIN)",
            "production documents need the software id and PIN DIAN registered",
        ));
    }
    let software_id = software_id.unwrap_or_else(|| UNREGISTERED_SOFTWARE_ID.to_string());
    if software_id.len() > 100 || software_id.chars().any(|c| c.is_control()) {
        return Err(bad(
            "einvoice_software_id (VEREDA_EINVOICE_SOFTWARE_ID)",
            "at most 100 characters, no control characters",
        ));
    }
    let software_pin = software_pin.unwrap_or_else(|| UNREGISTERED_SOFTWARE_PIN.to_string());
    if software_pin.len() > 100 || software_pin.chars().any(|c| c.is_control()) {
        return Err(bad(
            "einvoice_software_pin (VEREDA_EINVOICE_SOFTWARE_PIN)",
            "at most 100 characters, no control characters",
        ));
    }
    let certificate = match pick(&args.einvoice_certificate, &file.einvoice_certificate) {
        None => None,
        Some(path) => {
            let path = PathBuf::from(path.trim());
            if !path.is_file() {
                return Err(bad(
                    "einvoice_certificate (VEREDA_EINVOICE_CERTIFICATE)",
                    format!("{} is not a file", path.display()),
                ));
            }
            let password = args
                .einvoice_certificate_password
                .clone()
                .or_else(|| file.einvoice_certificate_password.clone())
                .unwrap_or_default();
            let bytes = std::fs::read(&path).map_err(|e| {
                bad(
                    "einvoice_certificate (VEREDA_EINVOICE_CERTIFICATE)",
                    format!("{}: {e}", path.display()),
                )
            })?;
            let certificate =
                vereda_documents::xades::SigningCertificate::from_pkcs12(&bytes, &password)
                    .map_err(|e| {
                        bad(
                            "einvoice_certificate (VEREDA_EINVOICE_CERTIFICATE)",
                            format!("{}: {e}", path.display()),
                        )
                    })?;
            Some(std::sync::Arc::new(certificate))
        }
    };
    Ok(EInvoiceSettings {
        environment,
        software_id,
        software_pin: Secret::new(software_pin),
        certificate,
    })
}

/// `http(s)://host[:port][/path]` with no query, fragment, user info or blank, without its
/// trailing `/`.
fn parse_public_url(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))?;
    let authority = rest.split('/').next()?;
    if authority.is_empty()
        || raw.contains(['?', '#', '@', ' ', '\\'])
        || raw.chars().any(|c| c.is_control())
    {
        return None;
    }
    Some(raw.trim_end_matches('/').to_string())
}

/// `scheme://authority` of an absolute URL, lower-cased.
pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split('/').next().unwrap_or("");
    format!("{scheme}://{authority}").to_ascii_lowercase()
}

fn number(
    setting: &str,
    flag: &Option<String>,
    file: Option<u64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = match flag {
        Some(raw) => raw
            .trim()
            .parse::<u64>()
            .map_err(|_| bad(setting, format!("{raw:?} is not a whole number")))?,
        None => file.unwrap_or(default),
    };
    if !range.contains(&value) {
        return Err(bad(
            setting,
            format!("{value} is outside {}..={}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad("config (VEREDA_CONFIG)", format!("{}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        bad(
            "config (VEREDA_CONFIG)",
            format!("{}: {}", path.display(), e.message()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> CliArgs {
        CliArgs::default()
    }

    #[test]
    fn defaults_are_embedded_sqlite_on_localhost() {
        let s = Settings::from_parts(FileSettings::default(), &args()).unwrap();
        assert_eq!(s.dialect, Dialect::Sqlite);
        assert_eq!(s.database_url.expose(), "sqlite:./data/vereda.db");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.margin.bp(), 2000);
    }

    #[test]
    fn the_public_url_defaults_to_the_listen_address_and_is_checked() {
        let s = Settings::from_parts(FileSettings::default(), &args()).unwrap();
        assert_eq!(s.public_url, "http://127.0.0.1:8080");
        assert!(!s.public_url_configured);
        let mut a = args();
        a.public_url = Some("https://Vereda.co/".into());
        let s = Settings::from_parts(FileSettings::default(), &a).unwrap();
        assert_eq!(s.public_url, "https://Vereda.co");
        assert_eq!(s.public_origin(), "https://vereda.co");
        assert!(s.public_url_is_https());
        for bad in [
            "vereda.co",
            "ftp://x",
            "https://",
            "https://x/?a=1",
            "https://a@b",
        ] {
            let mut a = args();
            a.public_url = Some(bad.into());
            let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
            assert!(e.to_string().contains("VEREDA_PUBLIC_URL"), "{bad}: {e}");
        }
    }

    #[test]
    fn flags_beat_the_file() {
        let file: FileSettings =
            toml::from_str("listen = \"127.0.0.1:9000\"\nmargin = \"0.1\"").unwrap();
        let mut a = args();
        a.listen = Some("127.0.0.1:9001".into());
        let s = Settings::from_parts(file, &a).unwrap();
        assert_eq!(s.listen.port(), 9001);
        assert_eq!(s.margin.bp(), 1000);
    }

    #[test]
    fn the_retired_flat_withholding_rate_is_refused_by_name() {
        let mut a = args();
        a.withholding_rate = Some("0.04".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_WITHHOLDING_RATE"), "{e}");
        assert!(e.to_string().contains("fiscal profile"), "{e}");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let mut a = args();
        a.listen = Some("nowhere".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_LISTEN"), "{e}");

        let mut a = args();
        a.margin = Some("1.5".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_MARGIN"), "{e}");

        // Finer than a basis point: billing could not charge what the preview shows.
        let mut a = args();
        a.margin = Some("0.12345".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_MARGIN"), "{e}");
        assert!(e.to_string().contains("basis points"), "{e}");

        let mut a = args();
        a.database_url = Some("mysql://x".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_DATABASE_URL"), "{e}");

        assert!(toml::from_str::<FileSettings>("colour = \"blue\"").is_err());
    }

    #[test]
    fn electronic_documents_default_to_dian_test_and_production_needs_the_software() {
        use vereda_contracts::cufe::Environment;
        let s = Settings::from_parts(FileSettings::default(), &args()).unwrap();
        assert_eq!(s.einvoice.environment, Environment::Test);
        assert_eq!(s.einvoice.software_id, UNREGISTERED_SOFTWARE_ID);
        assert!(s.einvoice.certificate.is_none());
        assert_eq!(s.einvoice_dir(), PathBuf::from("./data/einvoice"));

        let mut a = args();
        a.einvoice_environment = Some("produccion".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_EINVOICE_SOFTWARE_ID"), "{e}");
        a.einvoice_software_id = Some("56f2ae4e-9812-4fad-9255-08fcfcd5ccb0".into());
        a.einvoice_software_pin = Some("pin-secreto-77".into());
        let s = Settings::from_parts(FileSettings::default(), &a).unwrap();
        assert_eq!(s.einvoice.environment, Environment::Production);
        assert!(
            !format!("{s:?}").contains("pin-secreto-77"),
            "the PIN is a secret"
        );

        let mut a = args();
        a.einvoice_environment = Some("mañana".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_EINVOICE_ENVIRONMENT"), "{e}");
        let mut a = args();
        a.einvoice_certificate = Some("/no/such/file.p12".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_EINVOICE_CERTIFICATE"), "{e}");
        // A file that is not a PKCS#12 (or a wrong password) stops the start, saying which.
        let dir = tempfile::tempdir().unwrap();
        let bogus = dir.path().join("firma.p12");
        std::fs::write(&bogus, b"not a certificate").unwrap();
        a.einvoice_certificate = Some(bogus.display().to_string());
        a.einvoice_certificate_password = Some("clave".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_EINVOICE_CERTIFICATE"), "{e}");
        assert!(!e.to_string().contains("clave"), "{e}");
    }

    #[test]
    fn statement_settings() {
        let s = Settings::from_parts(FileSettings::default(), &args()).unwrap();
        assert_eq!(
            s.rural_baseline,
            vereda_contracts::money::Cop::pesos(800_000)
        );
        assert_eq!(s.support_doc_range, 1..=1_000_000);
        assert_eq!(s.platform_nit, "901234567-7");

        let mut a = args();
        a.platform_nit = Some("901234567-1".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_PLATFORM_NIT"), "{e}");

        let mut a = args();
        a.support_doc_first = Some("500".into());
        a.support_doc_last = Some("499".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_SUPPORT_DOC_LAST"), "{e}");

        let mut a = args();
        a.mail_from = Some("Vereda".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_MAIL_FROM"), "{e}");
    }

    #[test]
    fn trusted_proxy_is_off_unless_said() {
        let s = Settings::from_parts(FileSettings::default(), &args()).unwrap();
        assert!(!s.trusted_proxy);
        let file: FileSettings = toml::from_str("trusted_proxy = true").unwrap();
        assert!(Settings::from_parts(file, &args()).unwrap().trusted_proxy);
        let mut a = args();
        a.trusted_proxy = Some("maybe".into());
        let e = Settings::from_parts(FileSettings::default(), &a).unwrap_err();
        assert!(e.to_string().contains("VEREDA_TRUSTED_PROXY"), "{e}");
    }

    #[test]
    fn secrets_do_not_print() {
        let mut a = args();
        a.database_url = Some("postgres://vereda:hunter2@db/vereda".into());
        a.admin_password = Some("correct horse battery".into());
        let s = Settings::from_parts(FileSettings::default(), &a).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("correct horse"), "{printed}");
    }
}
