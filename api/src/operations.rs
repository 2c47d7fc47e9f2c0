//! The operator's subcommands of `vereda-api` (issue 24). `check`: what a technician runs
//! before going live; prints the configuration in force (secrets masked), whether the database
//! answers and how far it is migrated, the job queue, and whether the SMTP server answers;
//! exits non-zero on a problem. `backup` and `restore`: the embedded database and outbox
//! (`vereda_store::backup`).

use std::fmt::Write as _;

use vereda_store::config::Settings;
use vereda_store::db::{Db, PoolSettings};

/// A URL with its password (and any query, which may carry one) masked.
pub fn masked(url: &str) -> String {
    let url = url.split('?').next().unwrap_or(url);
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let shown = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{}{}{}", &url[..scheme + 3], shown, &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Run the checks; the report, and whether everything is fine.
pub async fn run(settings: &Settings) -> (String, bool) {
    let mut out = String::new();
    let mut problems = Vec::new();
    let line = |out: &mut String, key: &str, value: &str| {
        let _ = writeln!(out, "  {key:<22}{value}");
    };

    out.push_str("configuration\n");
    line(
        &mut out,
        "database",
        &masked(settings.database_url.expose()),
    );
    line(&mut out, "listen", &settings.listen.to_string());
    line(&mut out, "public url", &settings.public_url);
    line(
        &mut out,
        "data folder",
        &settings.data_dir.display().to_string(),
    );
    line(
        &mut out,
        "smtp",
        &settings.smtp_url.as_ref().map_or_else(
            || "not set: e-mails are written to the data folder's outbox".to_string(),
            |u| masked(u.expose()),
        ),
    );
    line(&mut out, "mail from", &settings.mail_from);
    line(
        &mut out,
        "platform",
        &format!("{} · NIT {}", settings.platform_name, settings.platform_nit),
    );
    line(&mut out, "margin", &settings.margin.to_string());
    line(&mut out, "minimum payout", &settings.min_payout.to_es_co());
    line(
        &mut out,
        "pila blocks payouts",
        &settings.pila_blocks_payouts.to_string(),
    );
    line(
        &mut out,
        "job rows kept",
        &format!("{} days", settings.job_keep.as_secs() / 86_400),
    );
    line(
        &mut out,
        "shutdown grace",
        &format!("{} s", settings.shutdown_grace.as_secs()),
    );
    line(
        &mut out,
        "metrics",
        if settings.metrics_token.is_some() {
            "GET /metrics with the token (masked)"
        } else {
            "off (VEREDA_METRICS_TOKEN not set)"
        },
    );
    line(
        &mut out,
        "backups",
        &settings.backups.as_ref().map_or_else(
            || "no scheduled backups (VEREDA_BACKUP_DIR not set)".to_string(),
            |b| {
                format!(
                    "every {} h to {}, keeping {}",
                    b.every.as_secs() / 3600,
                    b.dir.display(),
                    b.keep
                )
            },
        ),
    );
    line(
        &mut out,
        "first admin",
        settings.admin_email.as_deref().unwrap_or("not set"),
    );

    out.push_str("database\n");
    match Db::connect(settings.database_url.expose(), &PoolSettings::default()).await {
        Err(e) => {
            line(&mut out, "answers", &format!("PROBLEM: {e}"));
            problems.push("the database does not answer");
        }
        Ok(db) => {
            line(&mut out, "answers", "yes");
            match db.migration_state().await {
                Err(e) => {
                    line(&mut out, "migrations", &format!("PROBLEM: {e}"));
                    problems.push("the migrations cannot be read");
                }
                Ok(m) => {
                    line(
                        &mut out,
                        "migrations",
                        &format!("{} applied of {} known", m.applied.len(), m.known.len()),
                    );
                    if !m.unknown().is_empty() {
                        line(
                            &mut out,
                            "",
                            &format!(
                                "PROBLEM: migrated by a newer Vereda ({:?}): this version \
                                 will not start on it",
                                m.unknown()
                            ),
                        );
                        problems.push("the database was migrated by a newer Vereda");
                    } else if !m.pending().is_empty() {
                        line(
                            &mut out,
                            "",
                            &format!("{:?} are applied when the product starts", m.pending()),
                        );
                    }
                    if m.applied.is_empty() {
                        line(
                            &mut out,
                            "queue",
                            "not created yet (made at the first start)",
                        );
                    } else {
                        match vereda_store::queue::depth(&db).await {
                            Ok(d) => line(
                                &mut out,
                                "queue",
                                &format!(
                                    "{} waiting, {} running, {} given up{}",
                                    d.waiting,
                                    d.running,
                                    d.given_up,
                                    d.oldest_due.map_or(String::new(), |t| format!(
                                        " (oldest waiting due {})",
                                        vereda_contracts::time::from_unix(t)
                                    ))
                                ),
                            ),
                            Err(e) => {
                                line(&mut out, "queue", &format!("PROBLEM: {e:#}"));
                                problems.push("the job queue cannot be read");
                            }
                        }
                    }
                }
            }
        }
    }

    out.push_str("mail\n");
    match vereda_worker::email::smtp_answers(settings).await {
        Ok(true) => line(&mut out, "smtp answers", "yes"),
        Ok(false) => line(&mut out, "smtp answers", "not configured"),
        Err(e) => {
            line(&mut out, "smtp answers", &format!("PROBLEM: {e}"));
            problems.push("the SMTP server does not answer");
        }
    }

    if problems.is_empty() {
        out.push_str("result: ok\n");
    } else {
        let _ = writeln!(
            out,
            "result: {} problem(s): {}",
            problems.len(),
            problems.join("; ")
        );
    }
    (out, problems.is_empty())
}

/// `vereda-api backup --to FILE`: copy the database the settings name (it must exist) and the
/// outbox into `to`, while the product may be running.
pub async fn backup(settings: &Settings, to: &std::path::Path) -> anyhow::Result<String> {
    use vereda_store::backup;
    let file = backup::sqlite_file(settings)?;
    if !file.is_file() {
        anyhow::bail!("there is no database at {} to back up", file.display());
    }
    let db = Db::connect(settings.database_url.expose(), &PoolSettings::default()).await?;
    let report = backup::backup(&db, &settings.data_dir, to).await;
    db.close().await;
    let report = report?;
    Ok(format!(
        "backup written: {} ({} bytes; the database and {} outbox files)",
        report.path.display(),
        report.bytes,
        report.outbox_files
    ))
}

/// `vereda-api restore --from FILE [--force]`.
pub async fn restore(
    settings: &Settings,
    from: &std::path::Path,
    force: bool,
) -> anyhow::Result<String> {
    use vereda_store::backup;
    let file = backup::sqlite_file(settings)?;
    let report = backup::restore(from, &file, &settings.data_dir, force).await?;
    let mut out = format!(
        "restored {} into {} ({} outbox files)",
        from.display(),
        report.database.display(),
        report.outbox_files
    );
    if let Some(aside) = report.moved_aside {
        out.push_str(&format!(
            "\nthe database that was there is kept as {}",
            aside.display()
        ));
    }
    out.push_str("\nstart the product as usual: it applies any newer migrations");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn passwords_in_urls_are_masked() {
        assert_eq!(
            masked("postgres://vereda:s3cret@db.internal:5432/vereda?sslmode=require"),
            "postgres://vereda:***@db.internal:5432/vereda"
        );
        assert_eq!(
            masked("smtp://user:p%40ss@mail.example:587"),
            "smtp://user:***@mail.example:587"
        );
        assert_eq!(
            masked("sqlite:/var/lib/vereda/vereda.db"),
            "sqlite:/var/lib/vereda/vereda.db"
        );
        assert_eq!(masked("smtp://mail.example:25"), "smtp://mail.example:25");
    }
}
