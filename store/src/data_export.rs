//! A copy of everything Vereda holds about a worker (issue 22 §3, Ley 1581 art. 8: the right
//! to know her data): every row of every table that is about her, as stored, by section. The
//! rows are read as they are, column by column, so a column added later is in the copy without
//! anyone remembering to add it here; a table added later needs a line in [`SECTIONS`]
//! (`tests/tests/data_export.rs` checks every table with a `worker_id` column is covered).
//! Secrets are never in it: password hashes, token hashes and password links stay out. Once
//! her data is deleted, the values kept by law that still identify her are not repeated in it
//! ([`RESTRICTED`]).

use serde_json::{Map, Value};
use sqlx::{Column, Decode, Row, Type};

use crate::db::Db;
use crate::on_db;

/// Each section: its name in the copy and the statement reading it (`$1` the worker's id).
pub const SECTIONS: &[(&str, &str)] = &[
    ("profile", "SELECT * FROM worker_profiles WHERE id = $1"),
    (
        "account",
        "SELECT id, email, name, role, created_at, updated_at, deactivated_at, removed_at \
         FROM users WHERE worker_id = $1",
    ),
    ("skills", "SELECT * FROM worker_skills WHERE worker_id = $1"),
    (
        "consents",
        "SELECT * FROM consents WHERE worker_id = $1 ORDER BY at, id",
    ),
    (
        "programme_groups",
        "SELECT * FROM worker_groups WHERE worker_id = $1",
    ),
    (
        "baseline_income",
        "SELECT * FROM worker_baselines WHERE worker_id = $1",
    ),
    (
        "fiscal_profiles",
        "SELECT * FROM fiscal_profiles WHERE worker_id = $1",
    ),
    (
        "social_security",
        "SELECT * FROM social_security_payments WHERE worker_id = $1",
    ),
    (
        "assignments",
        "SELECT a.*, t.title AS task_title FROM assignments a JOIN tasks t ON t.id = a.task_id \
         WHERE a.worker_id = $1 ORDER BY a.id",
    ),
    (
        "assignment_history",
        "SELECT e.* FROM assignment_events e JOIN assignments a ON a.id = e.assignment_id \
         WHERE a.worker_id = $1 ORDER BY e.at, e.id",
    ),
    (
        "time_entries",
        "SELECT * FROM time_entries WHERE worker_id = $1 ORDER BY started_at",
    ),
    (
        "time_entry_revisions",
        "SELECT r.* FROM time_entry_revisions r JOIN time_entries e ON e.id = r.entry_id \
         WHERE e.worker_id = $1",
    ),
    (
        "running_timers",
        "SELECT * FROM running_timers WHERE worker_id = $1",
    ),
    (
        "earnings",
        "SELECT * FROM accruals WHERE worker_id = $1 ORDER BY approved_at",
    ),
    ("payouts", "SELECT * FROM payout_lines WHERE worker_id = $1"),
    (
        "payout_notices",
        "SELECT * FROM payout_notices WHERE worker_id = $1",
    ),
    (
        "statements",
        "SELECT * FROM statements WHERE worker_id = $1 ORDER BY month, version",
    ),
    (
        "support_documents",
        "SELECT * FROM support_documents WHERE worker_id = $1",
    ),
    (
        "certificates",
        "SELECT * FROM withholding_certificates WHERE worker_id = $1",
    ),
    ("appeals", "SELECT * FROM appeals WHERE worker_id = $1"),
    (
        "data_requests",
        "SELECT * FROM data_requests WHERE worker_id = $1 ORDER BY id",
    ),
    (
        "data_reads",
        "SELECT * FROM personal_data_reads WHERE worker_id = $1 ORDER BY id",
    ),
    (
        "account_events",
        "SELECT * FROM account_events WHERE user_id = (SELECT id FROM users WHERE worker_id = $1)",
    ),
    (
        "email_preferences",
        "SELECT * FROM email_preferences \
         WHERE user_id = (SELECT id FROM users WHERE worker_id = $1)",
    ),
    (
        "emails",
        "SELECT id, kind, recipient, subject, body_text, status, created_at, sent_at \
         FROM outbox_messages WHERE user_id = (SELECT id FROM users WHERE worker_id = $1) \
         ORDER BY created_at",
    ),
];

/// After her data was deleted (`worker_profiles.anonymised_at`), what is kept for the law's
/// ten years still names or reaches her in these columns: admins read it only through the
/// documents themselves, so the copy says the value is kept, not what it is.
pub const RESTRICTED: &[(&str, &[&str])] = &[
    ("statements", &["worker_name", "worker_document"]),
    ("support_documents", &["worker_name", "worker_document"]),
    ("certificates", &["worker_name", "worker_document"]),
    ("payouts", &["method"]),
    ("emails", &["recipient", "body_text"]),
];

/// What the copy shows instead of a restricted value.
pub const RESTRICTED_ES: &str = "(conservado con acceso restringido)";

/// Replace the restricted values when her profile is anonymised.
fn restrict(out: &mut Map<String, Value>) {
    let anonymised = out
        .get("profile")
        .and_then(|p| p.get(0))
        .and_then(|r| r.get("anonymised_at"))
        .is_some_and(|v| !v.is_null());
    if !anonymised {
        return;
    }
    for (section, columns) in RESTRICTED {
        let Some(Value::Array(rows)) = out.get_mut(*section) else {
            continue;
        };
        for row in rows.iter_mut().filter_map(Value::as_object_mut) {
            for column in *columns {
                if let Some(v) = row.get_mut(*column)
                    && !v.is_null()
                    && v.as_str() != Some("")
                {
                    *v = Value::from(RESTRICTED_ES);
                }
            }
        }
    }
}

/// One row as a JSON object, each column as the first of integer, text, boolean or real it
/// reads as (NULL as null).
fn row_json<R>(row: &R) -> Map<String, Value>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> bool: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut out = Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let value = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            v.map_or(Value::Null, Value::from)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            v.map_or(Value::Null, Value::from)
        } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
            v.map_or(Value::Null, Value::from)
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            v.map_or(Value::Null, Value::from)
        } else {
            Value::Null
        };
        out.insert(col.name().to_string(), value);
    }
    out
}

/// Everything held about the worker, section by section.
pub async fn export(db: &Db, worker_id: &str) -> Result<Map<String, Value>, sqlx::Error> {
    let mut out = Map::new();
    for (name, sql) in SECTIONS {
        let rows: Vec<Value> = on_db!(db, |p| {
            sqlx::query(*sql)
                .bind(worker_id)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Value::Object(row_json(r)))
                .collect()
        });
        out.insert((*name).to_string(), Value::Array(rows));
    }
    restrict(&mut out);
    Ok(out)
}
