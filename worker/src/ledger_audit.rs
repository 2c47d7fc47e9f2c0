//! The daily ledger audit job: run the checks (`vereda_store::audit`), keep the result, and
//! e-mail the admins when one fails.

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use chrono_tz::Tz;
use vereda_contracts::jobs::LedgerAudit;
use vereda_contracts::time;
use vereda_documents::mail;
use vereda_store::audit::{Audit, Check, audit};
use vereda_store::config::Settings;
use vereda_store::db::Db;
use vereda_store::on_tx;
use vereda_store::outbox::{self, NewMessage};
use vereda_store::queue;

use crate::schedule::tick_key;

/// Run the audit, keep its result, and e-mail the admins when a check fails (once per day and
/// admin: the key is the day). Returns the audit.
pub async fn record(db: &Db, settings: &Settings, now: i64) -> anyhow::Result<Audit> {
    let audit = audit(db, settings).await?;
    let day = time::from_unix(now)
        .with_timezone(&time::BOGOTA)
        .date_naive();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, |c| sqlx::query(
        "INSERT INTO ledger_audits (id, ran_at, ok, checks) VALUES ($1, $2, $3, $4)"
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(now)
    .bind(audit.ok)
    .bind(serde_json::to_string(&audit.checks)?)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    let admins: Vec<(String, String, String)> = on_tx!(&mut tx, |c| sqlx::query_as(
        "SELECT id, email, name FROM users WHERE role = 'admin' AND deactivated_at IS NULL \
         ORDER BY id"
    )
    .fetch_all(&mut *c)
    .await)?;
    warn_about_resolutions(&mut tx, settings, &admins, now, day).await?;
    if !audit.ok {
        tracing::error!(failures = %audit.failures(), "the ledger audit failed");
        let failed: Vec<&Check> = audit.checks.iter().filter(|c| !c.ok).collect();
        for (id, email, name) in &admins {
            let content = mail::audit_failed(&settings.issuer(), name, day, &failed);
            outbox::enqueue(
                &mut tx,
                NewMessage {
                    dedupe_key: format!("ledger-audit:{day}:{id}"),
                    kind: "ledger_audit_failed",
                    recipient: email,
                    user_id: Some(id),
                    content,
                    attachment: None,
                },
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(audit)
}

/// Tell the admins, once per resolution and warning, when a numbering resolution in use is
/// 80 % used or has 30 days or fewer left (issue 19 §3).
async fn warn_about_resolutions(
    tx: &mut vereda_store::db::Tx,
    settings: &Settings,
    admins: &[(String, String, String)],
    now: i64,
    day: chrono::NaiveDate,
) -> anyhow::Result<()> {
    use vereda_contracts::resolutions::DocumentKind;
    // Invoices and documentos soporte are numbered under a recorded resolution (issue 19): a
    // warning about another kind would be about a range nothing draws from.
    for kind in [DocumentKind::Invoice, DocumentKind::SupportDocument] {
        let Some(r) = vereda_store::resolutions::current(tx, kind).await? else {
            continue;
        };
        let res = &r.resolution;
        let last: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
            "SELECT last_value FROM document_counters WHERE name = $1"
        )
        .bind(kind.as_str())
        .fetch_optional(&mut *c)
        .await)?;
        let last = last
            .filter(|v| (res.from..=res.to).contains(v))
            .unwrap_or(res.from - 1);
        for warning in res.warnings(last, day) {
            let first_time = on_tx!(tx, |c| sqlx::query(
                "INSERT INTO resolution_warnings (resolution_id, kind, sent_at) \
                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            )
            .bind(&r.id)
            .bind(warning.kind())
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
            if first_time == 0 {
                continue;
            }
            let text = warning.message_es(kind);
            tracing::warn!(
                kind = kind.as_str(),
                warning = warning.kind(),
                "numbering resolution needs renewing"
            );
            for (id, email, name) in admins {
                outbox::enqueue(
                    tx,
                    NewMessage {
                        dedupe_key: format!("resolution:{}:{}:{id}", r.id, warning.kind()),
                        kind: "resolution_warning",
                        recipient: email,
                        user_id: Some(id),
                        content: mail::resolution_warning(&settings.issuer(), name, &text),
                        attachment: None,
                    },
                    now,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Every day at 05:00 Bogotá (seconds, minutes, hours, day, month, weekday).
pub const AUDIT_CRON: &str = "0 0 5 * * *";

pub(crate) fn audit_schedule() -> cron::Schedule {
    use std::str::FromStr;
    cron::Schedule::from_str(AUDIT_CRON).expect("AUDIT_CRON is a valid schedule")
}

/// The audit clock's handler: one job per tick, however many processes push it.
pub(crate) async fn on_audit_tick(tick: Tick<Tz>, db: Data<Db>) -> Result<(), BoxDynError> {
    let id = queue::push(
        &db,
        LedgerAudit::QUEUE,
        &LedgerAudit::default(),
        None,
        Some(&tick_key(tick.get_timestamp())),
    )
    .await?;
    tracing::debug!(tick = tick.get_timestamp(), job = %id, "ledger audit queued");
    Ok(())
}

/// The job: record today's audit. Its result says whether all checks hold.
pub(crate) async fn run(
    _job: LedgerAudit,
    db: Data<Db>,
    settings: Data<std::sync::Arc<Settings>>,
) -> Result<bool, BoxDynError> {
    Ok(record(&db, &settings, time::unix(time::now())).await?.ok)
}
