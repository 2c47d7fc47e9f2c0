//! The unique keys the product relies on, told apart when one is violated.
//!
//! A unique violation means something only once we know which key fired: a taken e-mail is
//! the client's conflict, a second invoice for a period is another run that got there first,
//! and a key nobody expected is a bug. So callers match on [`unique_key`] and name the key
//! they mean; any other violation falls through to their generic error path (500, failed job).
//!
//! PostgreSQL names the violated constraint or index; SQLite names none, only the table and
//! columns (`UNIQUE constraint failed: users.email`), so [`KEYS`] gives both for each key.
//! `tests/tests/unique_violations.rs` provokes every key on a migrated database of each dialect, so
//! a migration that renames one fails there rather than turning a 409 into a 500.

/// A unique key whose violation some caller answers in its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKey {
    /// `users.email`: one account per e-mail.
    UserEmail,
    /// `companies.nit`: one company per NIT.
    CompanyNit,
    /// A worker holds at most one live assignment per task.
    OneLiveClaimPerWorkerAndTask,
    /// One invoice per company and billing period.
    InvoicePerCompanyAndPeriod,
    /// One statement per worker, month and version number.
    StatementVersion,
    /// One monthly documento soporte (not adjustment) per worker and month, before weeks.
    SupportDocumentPerWorkerMonth,
    /// One weekly documento soporte (not adjustment) per worker, ISO week and part.
    SupportDocumentPerWorkerWeek,
    /// One nota de ajuste that annuls a given documento soporte.
    SupportDocumentAnnulment,
    /// The job queue's idempotency key (apalis's table, per job type).
    QueueIdempotency,
    /// One platform review (appeal or held rejection) per assignment.
    OneAppealPerAssignment,
}

/// Where each key lives: its PostgreSQL constraint or index name, and the `table.column`
/// list SQLite prints for it (in the key's column order, as SQLite prints it).
pub const KEYS: &[(UniqueKey, &str, &str)] = &[
    (UniqueKey::UserEmail, "users_email_key", "users.email"),
    (UniqueKey::CompanyNit, "companies_nit_key", "companies.nit"),
    (
        UniqueKey::OneLiveClaimPerWorkerAndTask,
        "assignments_one_live_per_worker_and_task",
        "assignments.task_id, assignments.worker_id",
    ),
    (
        UniqueKey::InvoicePerCompanyAndPeriod,
        "invoices_company_id_period_end_key",
        "invoices.company_id, invoices.period_end",
    ),
    (
        UniqueKey::StatementVersion,
        "statements_worker_id_month_version_key",
        "statements.worker_id, statements.month, statements.version",
    ),
    (
        UniqueKey::SupportDocumentPerWorkerMonth,
        "support_documents_one_per_worker_month",
        "support_documents.worker_id, support_documents.month",
    ),
    (
        UniqueKey::SupportDocumentPerWorkerWeek,
        "support_documents_one_per_worker_week",
        "support_documents.worker_id, support_documents.week_start, support_documents.part",
    ),
    (
        UniqueKey::SupportDocumentAnnulment,
        "support_documents_one_annulment",
        "support_documents.adjusts_id",
    ),
    (
        UniqueKey::OneAppealPerAssignment,
        "appeals_assignment_id_key",
        "appeals.assignment_id",
    ),
    // apalis's own migrations name it; on SQLite apalis inserts with ON CONFLICT DO NOTHING,
    // so only PostgreSQL ever reports it.
    (
        UniqueKey::QueueIdempotency,
        "idx_jobs_idempotency_key",
        "Jobs.job_type, Jobs.idempotency_key",
    ),
];

/// What SQLite writes before the columns of a violated unique key or primary key.
const SQLITE_PREFIX: &str = "UNIQUE constraint failed: ";

/// Which of [`KEYS`] an error violated. `None` when the error is not a unique violation, and
/// also when it violates a key not in the table (logged): such a key is no caller's to
/// answer, and `None` sends it down the caller's generic path. (An `Other(name)` variant
/// would invite `Some(_)` matches that again treat every key alike.)
pub fn unique_key(err: &sqlx::Error) -> Option<UniqueKey> {
    let sqlx::Error::Database(e) = err else {
        return None;
    };
    if !e.is_unique_violation() {
        return None;
    }
    let key = if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        pg.constraint().and_then(postgres_key)
    } else {
        sqlite_key(e.message())
    };
    if key.is_none() {
        tracing::warn!(error = %e, "unique violation of a key no caller expects");
    }
    key
}

/// The key PostgreSQL names `constraint`.
pub fn postgres_key(constraint: &str) -> Option<UniqueKey> {
    KEYS.iter()
        .find(|(_, name, _)| *name == constraint)
        .map(|(key, _, _)| *key)
}

/// The key a SQLite unique-violation message names by its table and columns. SQLite names
/// are case-insensitive, and so is the comparison.
pub fn sqlite_key(message: &str) -> Option<UniqueKey> {
    let columns = message.strip_prefix(SQLITE_PREFIX)?.trim();
    KEYS.iter()
        .find(|(_, _, cols)| cols.eq_ignore_ascii_case(columns))
        .map(|(key, _, _)| *key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_their_key_by_table_and_columns() {
        let cases = [
            (
                "UNIQUE constraint failed: users.email",
                UniqueKey::UserEmail,
            ),
            (
                "UNIQUE constraint failed: companies.nit",
                UniqueKey::CompanyNit,
            ),
            (
                "UNIQUE constraint failed: assignments.task_id, assignments.worker_id",
                UniqueKey::OneLiveClaimPerWorkerAndTask,
            ),
            (
                "UNIQUE constraint failed: invoices.company_id, invoices.period_end",
                UniqueKey::InvoicePerCompanyAndPeriod,
            ),
            (
                "UNIQUE constraint failed: statements.worker_id, statements.month, \
                 statements.version",
                UniqueKey::StatementVersion,
            ),
            (
                "UNIQUE constraint failed: support_documents.worker_id, support_documents.month",
                UniqueKey::SupportDocumentPerWorkerMonth,
            ),
            (
                "UNIQUE constraint failed: support_documents.worker_id, \
                 support_documents.week_start, support_documents.part",
                UniqueKey::SupportDocumentPerWorkerWeek,
            ),
            (
                "UNIQUE constraint failed: jobs.job_type, jobs.idempotency_key",
                UniqueKey::QueueIdempotency,
            ),
        ];
        for (message, key) in cases {
            assert_eq!(sqlite_key(message), Some(key), "{message}");
        }
    }

    #[test]
    fn other_keys_and_other_messages_name_none() {
        for message in [
            // Another key of a table we know, a subset and a superset of a known key.
            "UNIQUE constraint failed: invoices.number",
            "UNIQUE constraint failed: users.worker_id",
            "UNIQUE constraint failed: statements.worker_id, statements.month",
            "UNIQUE constraint failed: users.email, users.name",
            "UNIQUE constraint failed: ",
            "NOT NULL constraint failed: users.email",
            "users.email",
            "",
        ] {
            assert_eq!(sqlite_key(message), None, "{message}");
        }
        assert_eq!(postgres_key("invoices_number_key"), None);
        assert_eq!(postgres_key("users_pkey"), None);
        assert_eq!(postgres_key("users_email_key"), Some(UniqueKey::UserEmail));
    }

    #[test]
    fn the_table_names_each_key_once_and_no_name_twice() {
        for (i, (key, pg, lite)) in KEYS.iter().enumerate() {
            for (other, other_pg, other_lite) in &KEYS[i + 1..] {
                assert_ne!(key, other);
                assert_ne!(pg, other_pg);
                assert!(!lite.eq_ignore_ascii_case(other_lite), "{lite}");
            }
            assert_eq!(postgres_key(pg), Some(*key));
            assert_eq!(sqlite_key(&format!("{SQLITE_PREFIX}{lite}")), Some(*key));
        }
    }

    #[test]
    fn errors_that_are_not_unique_violations_name_no_key() {
        assert_eq!(unique_key(&sqlx::Error::RowNotFound), None);
        assert_eq!(unique_key(&sqlx::Error::PoolTimedOut), None);
    }
}
