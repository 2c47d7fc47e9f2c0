//! Every unique key a caller tells apart (`vereda_store::unique_keys`) is recognised on the
//! database this pass runs on: each is violated by a minimal pair of inserts on a migrated
//! database, and the error names the key the table says. So the PostgreSQL constraint names
//! and SQLite's `table.column` lists in that table are the real ones, and a migration that
//! changes one fails here instead of turning a 409 into a 500.

use vereda_store::db::Dialect;
use vereda_store::on_db;
use vereda_store::unique_keys::{KEYS, UniqueKey, unique_key};
use vereda_tests::*;

async fn exec(app: &TestApp, sql: &'static str) -> Result<u64, sqlx::Error> {
    on_db!(&app.db, |p| sqlx::query(sql)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
}

/// The rows the keys' tables refer to: a company with its owner, a worker, an open task.
const FIXTURE: &[&str] = &[
    "INSERT INTO companies (id, name, nit, billing_email, created_at, updated_at) \
     VALUES ('c1', 'Uno', '900000001', 'uno@example.co', 0, 0)",
    "INSERT INTO worker_profiles (id, municipality, department, payout_method, created_at, \
     updated_at) VALUES ('w1', 'Pasto', 'Nariño', '{}', 0, 0)",
    "INSERT INTO users (id, email, name, password_hash, role, company_id, member_role, \
     created_at, updated_at) VALUES ('u1', 'owner@example.co', 'Owner', 'x', 'company', 'c1', \
     'owner', 0, 0)",
    "INSERT INTO tasks (id, company_id, created_by, title, instructions, category, pricing_kind, \
     rate_centavos, max_seconds, slots, claim_minutes, review_hours, deliverable_url_required, \
     min_minutes, status, created_at, updated_at) VALUES ('t1', 'c1', 'u1', 'T', 'I', 'data', \
     'hourly', 100, 3600, 2, 60, 24, FALSE, 0, 'open', 0, 0)",
];

/// Each key with an insert that succeeds and one that then violates the key.
fn cases(dialect: Dialect) -> Vec<(UniqueKey, &'static str, &'static str)> {
    let jobs = match dialect {
        Dialect::Sqlite => (
            "INSERT INTO Jobs (job, id, job_type, idempotency_key) \
             VALUES (X'00', 'j1', 'test', 'same')",
            "INSERT INTO Jobs (job, id, job_type, idempotency_key) \
             VALUES (X'00', 'j2', 'test', 'same')",
        ),
        Dialect::Postgres => (
            "INSERT INTO apalis.jobs (job, id, job_type, idempotency_key) \
             VALUES ('\\x00'::bytea, 'j1', 'test', 'same')",
            "INSERT INTO apalis.jobs (job, id, job_type, idempotency_key) \
             VALUES ('\\x00'::bytea, 'j2', 'test', 'same')",
        ),
    };
    vec![
        (
            UniqueKey::UserEmail,
            "INSERT INTO users (id, email, name, password_hash, role, company_id, member_role, \
             created_at, updated_at) VALUES ('u2', 'same@example.co', 'A', 'x', 'company', 'c1', \
             'reviewer', 0, 0)",
            "INSERT INTO users (id, email, name, password_hash, role, company_id, member_role, \
             created_at, updated_at) VALUES ('u3', 'same@example.co', 'B', 'x', 'company', 'c1', \
             'reviewer', 0, 0)",
        ),
        (
            UniqueKey::CompanyNit,
            "INSERT INTO companies (id, name, nit, billing_email, created_at, updated_at) \
             VALUES ('c2', 'Dos', '900000002', 'dos@example.co', 0, 0)",
            "INSERT INTO companies (id, name, nit, billing_email, created_at, updated_at) \
             VALUES ('c3', 'Tres', '900000002', 'tres@example.co', 0, 0)",
        ),
        (
            UniqueKey::OneLiveClaimPerWorkerAndTask,
            "INSERT INTO assignments (id, task_id, worker_id, company_id, status, claimed_at, \
             expires_at, updated_at) VALUES ('a1', 't1', 'w1', 'c1', 'claimed', 0, 60, 0)",
            "INSERT INTO assignments (id, task_id, worker_id, company_id, status, claimed_at, \
             expires_at, updated_at) VALUES ('a2', 't1', 'w1', 'c1', 'claimed', 0, 60, 0)",
        ),
        (
            UniqueKey::InvoicePerCompanyAndPeriod,
            "INSERT INTO invoices (id, number, seq, company_id, period_end, work, fee, vat, total, \
             vat_rate, status, issued_at, due_at) VALUES ('i1', 'F-1', 1, 'c1', '2025-01-31', 0, \
             0, 0, 0, '0.19', 'issued', 0, 0)",
            "INSERT INTO invoices (id, number, seq, company_id, period_end, work, fee, vat, total, \
             vat_rate, status, issued_at, due_at) VALUES ('i2', 'F-2', 2, 'c1', '2025-01-31', 0, \
             0, 0, 0, '0.19', 'issued', 0, 0)",
        ),
        (
            UniqueKey::StatementVersion,
            "INSERT INTO statements (id, worker_id, month, version, provisional, figures, gross, \
             net, verification_code, generated_at) VALUES ('s1', 'w1', '2025-01', 1, FALSE, '{}', \
             0, 0, 'code-1', 0)",
            "INSERT INTO statements (id, worker_id, month, version, provisional, figures, gross, \
             net, verification_code, generated_at) VALUES ('s2', 'w1', '2025-01', 1, FALSE, '{}', \
             0, 0, 'code-2', 0)",
        ),
        (
            UniqueKey::SupportDocumentPerWorkerMonth,
            "INSERT INTO support_documents (id, kind, number, seq, worker_id, month, amount, \
             issued_on, issued_at) VALUES ('d1', 'document', 'DS-1', 1, 'w1', '2025-01', 100, \
             '2025-02-01', 0)",
            "INSERT INTO support_documents (id, kind, number, seq, worker_id, month, amount, \
             issued_on, issued_at) VALUES ('d2', 'document', 'DS-2', 2, 'w1', '2025-01', 100, \
             '2025-02-01', 0)",
        ),
        (
            UniqueKey::SupportDocumentPerWorkerWeek,
            "INSERT INTO support_documents (id, kind, number, seq, worker_id, month, amount, \
             issued_on, issued_at, week_start, week_end) VALUES ('d3', 'document', 'DS-3', 3, \
             'w1', '2025-02', 100, '2025-02-03', 0, '2025-01-27', '2025-02-02')",
            "INSERT INTO support_documents (id, kind, number, seq, worker_id, month, amount, \
             issued_on, issued_at, week_start, week_end) VALUES ('d4', 'document', 'DS-4', 4, \
             'w1', '2025-02', 100, '2025-02-03', 0, '2025-01-27', '2025-02-02')",
        ),
        (
            UniqueKey::SupportDocumentAnnulment,
            "INSERT INTO support_documents (id, kind, number, seq, worker_id, month, amount, \
             issued_on, issued_at, adjusts_id, concept) VALUES ('n1', 'adjustment', 'NA-1', 1, \
             'w1', '2025-02', -100, '2025-02-03', 0, 'd3', '2')",
            "INSERT INTO support_documents (id, kind, number, seq, worker_id, month, amount, \
             issued_on, issued_at, adjusts_id, concept) VALUES ('n2', 'adjustment', 'NA-2', 2, \
             'w1', '2025-02', -100, '2025-02-03', 0, 'd3', '2')",
        ),
        (
            UniqueKey::OneAppealPerAssignment,
            "INSERT INTO appeals (id, assignment_id, worker_id, company_id, kind, filed_at, \
             due_at, status) VALUES ('ap1', 'a1', 'w1', 'c1', 'held', 0, 0, 'open')",
            "INSERT INTO appeals (id, assignment_id, worker_id, company_id, kind, filed_at, \
             due_at, status) VALUES ('ap2', 'a1', 'w1', 'c1', 'held', 0, 0, 'open')",
        ),
        (UniqueKey::QueueIdempotency, jobs.0, jobs.1),
    ]
}

#[tokio::test]
async fn every_unique_key_is_told_apart_by_its_name_on_this_database() {
    let app = spawn_app_without_worker().await;
    for sql in FIXTURE {
        exec(&app, sql).await.expect(sql);
    }
    let cases = cases(app.db.dialect());
    for (key, first, second) in &cases {
        exec(&app, first).await.expect(first);
        let err = exec(&app, second).await.expect_err(second);
        assert_eq!(unique_key(&err), Some(*key), "{second}: {err}");
    }
    for (key, _, _) in KEYS {
        assert!(
            cases.iter().any(|(k, _, _)| k == key),
            "{key:?} is in the table but never violated here"
        );
    }
}

/// A unique key no caller expects is no key: the caller's generic path answers it (500).
#[tokio::test]
async fn a_unique_key_outside_the_table_names_none() {
    let app = spawn_app_without_worker().await;
    for sql in FIXTURE {
        exec(&app, sql).await.expect(sql);
    }
    for (first, second) in [
        // The same invoice number for another period.
        (
            "INSERT INTO invoices (id, number, seq, company_id, period_end, work, fee, vat, total, \
             vat_rate, status, issued_at, due_at) VALUES ('i1', 'F-1', 1, 'c1', '2025-01-31', 0, \
             0, 0, 0, '0.19', 'issued', 0, 0)",
            "INSERT INTO invoices (id, number, seq, company_id, period_end, work, fee, vat, total, \
             vat_rate, status, issued_at, due_at) VALUES ('i2', 'F-1', 2, 'c1', '2025-02-28', 0, \
             0, 0, 0, '0.19', 'issued', 0, 0)",
        ),
        // A user's id (primary key) again, with another e-mail.
        (
            "SELECT 1",
            "INSERT INTO users (id, email, name, password_hash, role, company_id, member_role, \
             created_at, updated_at) VALUES ('u1', 'other@example.co', 'A', 'x', 'company', 'c1', \
             'reviewer', 0, 0)",
        ),
    ] {
        exec(&app, first).await.expect(first);
        let err = exec(&app, second).await.expect_err(second);
        assert!(
            matches!(&err, sqlx::Error::Database(e) if e.is_unique_violation()),
            "{err}"
        );
        assert_eq!(unique_key(&err), None, "{second}: {err}");
    }
}
