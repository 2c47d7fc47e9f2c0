//! Start-up, restart, both databases, readiness, the committed contract (issue 2 §1–4, §7).

use std::time::Duration;

use vereda_contracts::db::Db;
use vereda_contracts::on_db;
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
        "/v1/statements/verify/{code}",
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
    settings.database_url = vereda_contracts::config::Secret::new(via_proxy);
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
