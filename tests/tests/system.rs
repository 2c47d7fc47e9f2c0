//! Start-up, restart, both databases, readiness, the committed contract (issue 2 §1–4, §7).

use std::time::Duration;

use vereda_store::db::Db;
use vereda_store::on_db;
use vereda_tests::*;

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await.ok(200)["status"], "ok");
    assert_eq!(app.get("/readyz", None).await.ok(200)["status"], "ready");
}

#[tokio::test]
async fn the_served_contract_is_the_committed_one() {
    let app = spawn_app().await;
    let served = app.get("/openapi.json", None).await;
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../contracts/openapi.json"))
            .expect("contracts/openapi.json is JSON");
    assert_eq!(
        served.ok(200),
        &committed,
        "the API changed: regenerate with `cargo run -p vereda-api -- openapi > contracts/openapi.json` and review the diff"
    );
    // Every route except the public ones needs the bearer token.
    let public = [
        "/healthz",
        "/readyz",
        "/v1/auth/login",
        "/v1/auth/web-login",
        "/v1/auth/password-reset",
        "/v1/auth/password-reset/confirm",
        "/v1/statements/verify/{code}",
        "/v1/consent-policy",
    ];
    for (path, ops) in committed["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let secured = op
                .get("security")
                .is_some_and(|s| !s.as_array().unwrap().is_empty());
            assert_eq!(secured, !public.contains(&path.as_str()), "{method} {path}");
        }
    }
    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status, 200);
    assert!(docs.text.contains("swagger"), "Swagger UI at /docs");
}

#[tokio::test]
async fn restarting_keeps_data_and_does_not_make_a_second_admin() {
    let app = spawn_app().await;
    assert!(app.first_admin_created);
    let admin = app.admin_token().await;
    let (company, _) = app.company(&admin, "Persistente").await;
    let test_db = app.stop().await.expect("database");

    let again = spawn_with(test_db.settings()).await;
    assert!(
        !again.first_admin_created,
        "second start must not create an admin"
    );
    let admin = again.admin_token().await;
    again
        .get(&format!("/v1/companies/{company}"), Some(&admin))
        .await
        .ok(200);
    let admins: i64 = on_db!(&again.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE role = 'admin'"
    )
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(admins, 1);
    drop(again);
    drop(test_db);
}

#[tokio::test]
async fn two_processes_starting_together_on_an_empty_database_both_come_up() {
    let test_db = TestDb::new().await;
    let (a, b) = tokio::join!(
        spawn_with(test_db.settings()),
        spawn_with(test_db.settings())
    );
    assert!(
        a.first_admin_created ^ b.first_admin_created,
        "exactly one creates the admin"
    );
    a.get("/readyz", None).await.ok(200);
    b.get("/readyz", None).await.ok(200);
    let token = a.admin_token().await;
    b.get("/v1/me", Some(&token)).await.ok(200);
    drop((a, b));
    drop(test_db);
}

#[tokio::test]
async fn sqlite_keeps_its_durability_settings_after_the_worker_starts() {
    let app = spawn_app().await;
    let Db::Sqlite(pool) = &app.db else {
        eprintln!("PostgreSQL run: SQLite pragmas not applicable");
        return;
    };
    // Let the in-process worker set up its queue first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..4 {
        let mut conn = pool.acquire().await.unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        assert!(
            sync == 1 || sync == 2,
            "synchronous must be NORMAL or FULL, was {sync}"
        );
        assert_eq!(fk, 1);
        assert!(busy > 0);
    }
}

#[tokio::test]
async fn readiness_follows_the_database_and_recovers_by_itself() {
    let Some(admin_url) = postgres_admin_url() else {
        eprintln!("SQLite run: a file database cannot become unreachable; covered on PostgreSQL");
        return;
    };
    let test_db = TestDb::new().await;
    let upstream_port = port_of(&admin_url).unwrap_or(5432);
    let proxy = proxy::Proxy::start(format!("127.0.0.1:{upstream_port}")).await;
    // The same database, reached through the proxy.
    let upstream = format!(":{upstream_port}/");
    if !test_db.url.contains(&upstream) {
        eprintln!("VEREDA_TEST_POSTGRES_URL names no port; skipping the proxy test");
        return;
    }
    let via_proxy = test_db
        .url
        .replacen(&upstream, &format!(":{}/", proxy.port), 1)
        .replacen("localhost", "127.0.0.1", 1);
    let mut settings = test_db.settings();
    settings.database_url = vereda_store::config::Secret::new(via_proxy);
    let app = spawn_with(settings).await;
    let admin = app.admin_token().await;
    app.get("/readyz", None).await.ok(200);

    proxy.cut().await;
    let down = eventually(Duration::from_secs(15), || async {
        let r = app.get("/readyz", None).await;
        (r.status == 503).then_some(r)
    })
    .await
    .expect("/readyz turns 503 while the database is unreachable");
    down.problem(503);
    let started = std::time::Instant::now();
    let r = app.get("/v1/me", Some(&admin)).await;
    r.problem(503);
    assert_eq!(r.code(), "database_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "fails cleanly rather than hanging"
    );

    proxy.restore().await;
    eventually(Duration::from_secs(60), || async {
        (app.get("/readyz", None).await.status == 200).then_some(())
    })
    .await
    .expect("/readyz recovers without a restart");
    app.get("/v1/me", Some(&admin)).await.ok(200);
    drop(app);
    drop(test_db);
}

/// One database's schema, as the parts both dialects must agree on.
#[derive(Debug, Default)]
struct Schema {
    /// table.column → (type as declared, NOT NULL or part of the primary key).
    columns: std::collections::BTreeMap<String, (String, bool)>,
    /// table → primary key columns, in order.
    primary_keys: std::collections::BTreeMap<String, String>,
    /// "table(columns) unique? partial?" — names differ between the dialects for the indexes
    /// that back UNIQUE constraints, so indexes are compared by what they index.
    indexes: std::collections::BTreeSet<String>,
    /// "table.column → table.column".
    foreign_keys: std::collections::BTreeSet<String>,
}

/// Our tables on SQLite (the queue's own and SQLite's are not ours).
async fn sqlite_schema(db: &Db) -> Schema {
    let Db::Sqlite(pool) = db else { unreachable!() };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT IN ('Jobs', 'Workers', '_apalis_migrations', '_vereda_migrations') ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut s = Schema::default();
    for t in &tables {
        let cols: Vec<(String, String, bool, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(t)
        .fetch_all(pool)
        .await
        .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for (name, kind, not_null, pk_pos) in cols {
            if pk_pos > 0 {
                pk.push((pk_pos, name.clone()));
            }
            s.columns
                .insert(format!("{t}.{name}"), (kind, not_null || pk_pos > 0));
        }
        pk.sort();
        let pk: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
        s.primary_keys.insert(t.clone(), pk.join(","));
        let indexes: Vec<(String, bool, String, bool)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
                .bind(t)
                .fetch_all(pool)
                .await
                .unwrap();
        for (name, unique, origin, partial) in indexes {
            if origin == "pk" {
                continue;
            }
            let cols: Vec<Option<String>> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            let cols: Vec<String> = cols
                .into_iter()
                .map(|c| c.unwrap_or_else(|| "<expr>".into()))
                .collect();
            s.indexes
                .insert(index_key(t, &cols.join(","), unique, partial));
        }
        let fks: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list($1)")
                .bind(t)
                .fetch_all(pool)
                .await
                .unwrap();
        for (from, table, to) in fks {
            // `REFERENCES t` without a column names t's primary key.
            let to = to.unwrap_or_else(|| "id".into());
            s.foreign_keys.insert(format!("{t}.{from} → {table}.{to}"));
        }
    }
    s
}

fn index_key(table: &str, columns: &str, unique: bool, partial: bool) -> String {
    format!(
        "{table}({columns}){}{}",
        if unique { " unique" } else { "" },
        if partial { " partial" } else { "" }
    )
}

/// Our tables on PostgreSQL (schema `public`; the queue lives in `apalis`).
async fn postgres_schema(db: &Db) -> Schema {
    let Db::Postgres(pool) = db else {
        unreachable!()
    };
    let mut s = Schema::default();
    let cols: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public' \
         AND table_name <> '_vereda_migrations' ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (t, c, kind, nullable) in cols {
        s.columns
            .insert(format!("{t}.{c}"), (kind, nullable == "NO"));
    }
    let indexes: Vec<(String, bool, bool, bool, String)> = sqlx::query_as(
        "SELECT t.relname::text, ix.indisunique, ix.indisprimary, ix.indpred IS NOT NULL, \
           array_to_string(ARRAY(SELECT COALESCE(a.attname::text, '<expr>') \
             FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) \
             LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             ORDER BY k.ord), ',') \
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND t.relname <> '_vereda_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (t, unique, primary, partial, cols) in indexes {
        if primary {
            s.primary_keys.insert(t, cols);
        } else {
            s.indexes.insert(index_key(&t, &cols, unique, partial));
        }
    }
    let fks: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT kcu.table_name::text, kcu.column_name::text, ccu.table_name::text, ccu.column_name::text \
         FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu \
           ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema \
         JOIN information_schema.constraint_column_usage ccu \
           ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
         WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (t, c, rt, rc) in fks {
        s.foreign_keys.insert(format!("{t}.{c} → {rt}.{rc}"));
    }
    s
}

/// The types each SQLite declaration may be on PostgreSQL: the only way the two schemas may
/// differ. (SQLite has no boolean, no 64-bit integer type name of its own, no bytea.)
fn same_type(sqlite: &str, postgres: &str) -> bool {
    match sqlite.to_ascii_uppercase().as_str() {
        "TEXT" => postgres == "text",
        "INTEGER" => ["bigint", "integer", "boolean"].contains(&postgres),
        "BLOB" => postgres == "bytea",
        _ => false,
    }
}

/// Issue 16 §4: the two migration folders describe one schema — the same tables, columns,
/// nullability, primary keys, indexes and foreign keys, differing only in the types listed in
/// `same_type` — so a migration added to one folder and not the other fails here.
#[tokio::test]
async fn the_sqlite_and_postgresql_schemas_are_the_same() {
    let Some(admin) = postgres_admin_url() else {
        println!("skipped: VEREDA_TEST_POSTGRES_URL is not set (this check needs both databases)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pool = vereda_store::db::PoolSettings::default();
    let lite = Db::connect(
        &format!("sqlite:{}", dir.path().join("schema.db").display()),
        &pool,
    )
    .await
    .unwrap();
    lite.migrate().await.unwrap();
    let pg_db = TestDb::new().await;
    assert!(pg_db.is_postgres(), "{admin}");
    let pg = Db::connect(&pg_db.url, &pool).await.unwrap();
    pg.migrate().await.unwrap();
    let (a, b) = (sqlite_schema(&lite).await, postgres_schema(&pg).await);

    let mut differences = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        a.columns.keys().chain(b.columns.keys()).collect();
    for name in names {
        match (a.columns.get(name), b.columns.get(name)) {
            (Some((lt, ln)), Some((pt, pn))) => {
                if !same_type(lt, pt) {
                    differences.push(format!("{name}: {lt} on SQLite, {pt} on PostgreSQL"));
                }
                if ln != pn {
                    differences.push(format!(
                        "{name}: NOT NULL {ln} on SQLite, {pn} on PostgreSQL"
                    ));
                }
            }
            (Some(_), None) => differences.push(format!("{name}: only on SQLite")),
            (None, Some(_)) => differences.push(format!("{name}: only on PostgreSQL")),
            (None, None) => {}
        }
    }
    if a.primary_keys != b.primary_keys {
        differences.push(format!(
            "primary keys: SQLite {:?}, PostgreSQL {:?}",
            a.primary_keys, b.primary_keys
        ));
    }
    for i in a.indexes.symmetric_difference(&b.indexes) {
        let on = if a.indexes.contains(i) {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        differences.push(format!("index {i}: only on {on}"));
    }
    for f in a.foreign_keys.symmetric_difference(&b.foreign_keys) {
        let on = if a.foreign_keys.contains(f) {
            "SQLite"
        } else {
            "PostgreSQL"
        };
        differences.push(format!("foreign key {f}: only on {on}"));
    }
    assert!(
        differences.is_empty(),
        "the two migration folders disagree:\n{}",
        differences.join("\n")
    );
    assert!(a.columns.len() > 100, "{} columns read", a.columns.len());
    eprintln!(
        "compared {} columns, {} primary keys, {} indexes, {} foreign keys",
        a.columns.len(),
        a.primary_keys.len(),
        a.indexes.len(),
        a.foreign_keys.len()
    );
}

/// Migration 0012 derives each existing posting's account kind and owner from its name; on
/// either dialect the result is what `ledger::Account` says of that name (the journal writes
/// new postings from the same `Account`). Old rows are simulated by blanking the columns and
/// running the migration's `UPDATE` again.
#[tokio::test]
async fn the_account_columns_migration_derives_kind_and_owner_from_names() {
    use vereda_contracts::ledger::Account;
    let app = spawn_app_without_worker().await;
    let migration = if matches!(app.db, Db::Postgres(_)) {
        include_str!("../../migrations/postgres/0012_account_columns.sql")
    } else {
        include_str!("../../migrations/sqlite/0012_account_columns.sql")
    };
    let update = migration
        .split(';')
        .find(|s| s.trim_start().starts_with("UPDATE ledger_postings"))
        .expect("the migration's UPDATE")
        .trim()
        .to_string();
    let owner = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    let accounts = [
        Account::CompanyReceivable(vereda_contracts::ids::CompanyId::new(owner)),
        Account::WorkerPayable(vereda_contracts::ids::WorkerId::new(owner)),
        Account::Fees,
        Account::VatPayable,
        Account::WithholdingPayable,
        Account::PayoutsInTransit,
        Account::Bank,
        Account::Adjustments,
    ];
    on_db!(&app.db, |p| sqlx::query(
        "INSERT INTO ledger_entries (id, effect_key, kind, description, posted_at) \
         VALUES ('e', 'test:e', 'test', 'old postings', 0)"
    )
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .expect("entry");
    for (i, a) in accounts.iter().enumerate() {
        on_db!(&app.db, |p| sqlx::query(
            "INSERT INTO ledger_postings (id, entry_id, account, debit, credit, posted_at) \
             VALUES ($1, 'e', $2, 100, 0, 0)"
        )
        .bind(format!("p{i}"))
        .bind(a.name())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .expect("an old posting, without the new columns");
    }
    on_db!(&app.db, |p| sqlx::query(sqlx::AssertSqlSafe(
        update.clone()
    ))
    .execute(p)
    .await
    .map(|r| r.rows_affected()))
    .expect("the migration's UPDATE");
    let rows: Vec<(String, String, Option<String>)> = on_db!(&app.db, |p| sqlx::query_as(
        "SELECT account, account_kind, account_owner FROM ledger_postings ORDER BY id"
    )
    .fetch_all(p)
    .await)
    .expect("postings");
    assert_eq!(rows.len(), accounts.len());
    for (name, kind, stored_owner) in rows {
        let a = Account::parse(&name).expect("a valid account name");
        assert_eq!(kind, a.kind(), "{name}");
        assert_eq!(stored_owner.as_deref(), a.owner(), "{name}");
    }
}
