//! Sign-in, tokens, throttling, sign-out (issue 2 §5).

use serde_json::json;
use vereda_store::on_db;
use vereda_tests::*;

#[tokio::test]
async fn admin_signs_in_and_sees_themself() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    let body = r.ok(200);
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("vrd_"), "{token}");
    // 32 random bytes in base64url: 256 bits.
    assert!(token.len() >= 4 + 43, "{token}");
    assert_eq!(body["user"]["role"], "admin");
    assert!(
        body["expires_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
            > chrono::Utc::now()
    );

    let me = app.get("/v1/me", Some(token)).await;
    let me = me.ok(200);
    assert_eq!(me["email"], ADMIN_EMAIL);
    assert_eq!(me["role"], "admin");
    assert!(me.get("company_id").is_none() && me.get("worker_id").is_none());
}

#[tokio::test]
async fn tokens_and_passwords_are_stored_only_as_hashes() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    let stored: Vec<String> = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT token_hash FROM auth_tokens"
    )
    .fetch_all(p)
    .await
    .unwrap());
    assert_eq!(stored, vec![sha256_hex(&token)]);

    let hash: String = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT password_hash FROM users WHERE email = $1"
    )
    .bind(ADMIN_EMAIL)
    .fetch_one(p)
    .await
    .unwrap());
    // Argon2id at OWASP's minimum or above: 19 MiB, t=2, p=1.
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(ADMIN_PASSWORD));
}

#[tokio::test]
async fn wrong_credentials_answer_the_same_whether_or_not_the_email_exists() {
    let app = spawn_app().await;
    let wrong_pw = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": "not-the-password"}),
        )
        .await;
    let no_user = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": "nobody@vereda.test", "password": "not-the-password"}),
        )
        .await;
    wrong_pw.problem(401);
    no_user.problem(401);
    assert_eq!(wrong_pw.body, no_user.body);
    assert_eq!(wrong_pw.code(), "invalid_credentials");
}

#[tokio::test]
async fn repeated_failures_lock_the_email_for_a_while() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": "guess-guess-guess"}),
        )
        .await
        .problem(401);
    }
    // Locked now: even the right password is refused, with a hint of when to retry.
    let locked = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    locked.problem(429);
    assert_eq!(locked.code(), "too_many_attempts");
    assert!(locked.headers.get("retry-after").is_some());
    // Unknown e-mails are locked the same way (no way to tell which exist).
    for _ in 0..5 {
        app.post(
            "/v1/auth/login",
            None,
            json!({"email": "ghost@vereda.test", "password": "guess-guess-guess"}),
        )
        .await
        .problem(401);
    }
    app.post(
        "/v1/auth/login",
        None,
        json!({"email": "ghost@vereda.test", "password": "guess-guess-guess"}),
    )
    .await
    .problem(429);

    // When the lock runs out, the right password works again.
    on_db!(&app.db, |p| sqlx::query(
        "UPDATE login_throttle SET locked_until = 1, window_start = 1"
    )
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    app.admin_token().await;
}

#[tokio::test]
async fn logout_revokes_the_token_and_only_that_one() {
    let app = spawn_app().await;
    let a = app.admin_token().await;
    let b = app.admin_token().await;
    app.send(app.client.post(app.url("/v1/auth/logout")).bearer_auth(&a))
        .await
        .ok(204);
    app.get("/v1/me", Some(&a)).await.problem(401);
    app.get("/v1/me", Some(&b)).await.ok(200);
}

#[tokio::test]
async fn expired_missing_and_forged_tokens_are_refused() {
    let app = spawn_app().await;
    let token = app.admin_token().await;
    app.get("/v1/me", None).await.problem(401);
    app.get("/v1/me", Some("vrd_forged")).await.problem(401);
    app.get("/v1/me", Some("Bearer-ish nonsense"))
        .await
        .problem(401);
    on_db!(&app.db, |p| sqlx::query(
        "UPDATE auth_tokens SET expires_at = 1"
    )
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    let r = app.get("/v1/me", Some(&token)).await;
    r.problem(401);
    assert_eq!(r.code(), "unauthenticated");
}

#[tokio::test]
async fn changing_the_password_signs_out_other_sessions() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let me = app.get("/v1/me", Some(&worker)).await;
    let other = app
        .login(me.body["email"].as_str().unwrap(), PASSWORD)
        .await;
    app.post(
        "/v1/me/password",
        Some(&worker),
        json!({"current_password": "wrong-wrong-wrong", "new_password": "another-long-password"}),
    )
    .await
    .problem(422);
    app.post(
        "/v1/me/password",
        Some(&worker),
        json!({"current_password": PASSWORD, "new_password": "short"}),
    )
    .await
    .problem(422);
    let r = app
        .post(
            "/v1/me/password",
            Some(&worker),
            json!({"current_password": PASSWORD, "new_password": "another-long-password"}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/v1/me", Some(&worker)).await.ok(200);
    app.get("/v1/me", Some(&other)).await.problem(401);
}

/// Checked tokens are remembered for a moment (api/src/auth.rs, `TokenCache`). A sign-out or
/// account change through this process is seen at once (the tests above); one made behind its
/// back, as another `vereda-api` process would, within the cache's age.
#[tokio::test]
async fn a_token_revoked_elsewhere_stops_working_within_seconds() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    app.get("/v1/me", Some(&worker)).await.ok(200);
    app.get("/v1/me", Some(&worker)).await.ok(200);
    let hash = sha256_hex(&worker);
    on_db!(&app.db, |p| sqlx::query(
        "UPDATE auth_tokens SET revoked_at = 1 WHERE token_hash = $1"
    )
    .bind(&hash)
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    let refused = eventually(std::time::Duration::from_secs(10), || async {
        (app.get("/v1/me", Some(&worker)).await.status == 401).then_some(())
    })
    .await;
    assert!(refused.is_some(), "the revoked token kept working");
    app.get("/v1/me", Some(&admin)).await.ok(200);
}

/// A worker's skills ride with the signed-in principal (the task board is looked up by them):
/// changing them must change what the worker's next listing shows.
#[tokio::test]
async fn new_skills_show_on_the_next_listing() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, owner) = app.company(&admin, "Tienda").await;
    let (worker_id, worker) = app.worker(&admin, &["data-entry"]).await;
    let task = app
        .post(
            "/v1/tasks",
            Some(&owner),
            json!({
                "title": "Consultas SQL",
                "instructions": "Escribir tres consultas.",
                "category": "data-cleaning",
                "required_skills": ["sql"],
                "pricing": {"kind": "fixed", "price": "120000", "estimated_hours": "4"},
                "slots": 1,
                "claim_minutes": 2880,
                "review_hours": 72
            }),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/v1/tasks/{task}/publish"),
        Some(&owner),
        json!({}),
    )
    .await
    .ok(200);
    let ids = |r: &Resp| -> Vec<String> {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids(&app.get("/v1/tasks", Some(&worker)).await).is_empty());
    app.patch(
        &format!("/v1/workers/{worker_id}"),
        Some(&admin),
        json!({"skills": ["data-entry", "sql"]}),
    )
    .await
    .ok(200);
    assert_eq!(ids(&app.get("/v1/tasks", Some(&worker)).await), vec![task]);
}

/// Two `vereda-api` processes on one database, as behind a load balancer (each with its own
/// token cache): a sign-out through one, and an account deactivated through it, are honoured
/// by the other within the cache's age (`TOKEN_CACHE_AGE`), and at once by the one that made
/// them.
#[tokio::test]
async fn a_sign_out_through_one_process_is_honoured_by_another_within_the_cache_age() {
    let test_db = TestDb::new().await;
    let settings = test_db.settings();
    let mut one = spawn_with(settings.clone()).await;
    one.test_db = Some(test_db);
    let other = spawn_with_options(
        settings,
        vereda_api::startup::RunOptions { with_worker: false },
    )
    .await;
    let bound = vereda_api::auth::TOKEN_CACHE_AGE + std::time::Duration::from_secs(1);

    let admin = one.admin_token().await;
    let (_, worker) = one.worker(&admin, &["data-entry"]).await;
    let (_, luz) = one.worker(&admin, &["data-entry"]).await;
    // Both processes have checked (and remember) both tokens.
    for app in [&one, &other] {
        app.get("/v1/me", Some(&worker)).await.ok(200);
        app.get("/v1/me", Some(&luz)).await.ok(200);
    }

    // Signed out through the other process: refused there at once, here within the bound.
    other
        .send(
            other
                .client
                .post(other.url("/v1/auth/logout"))
                .bearer_auth(&worker),
        )
        .await;
    other.get("/v1/me", Some(&worker)).await.problem(401);
    let refused = eventually(bound, || async {
        (one.get("/v1/me", Some(&worker)).await.status == 401).then_some(())
    })
    .await;
    assert!(
        refused.is_some(),
        "the other process's sign-out was not honoured in time"
    );

    // Deactivated through this process: the other refuses her within the bound too.
    let user_id = one.get("/v1/me", Some(&luz)).await.ok(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    one.send(
        one.client
            .post(one.url(&format!("/v1/users/{user_id}/deactivate")))
            .bearer_auth(&admin),
    )
    .await;
    one.get("/v1/me", Some(&luz)).await.problem(401);
    let refused = eventually(bound, || async {
        (other.get("/v1/me", Some(&luz)).await.status == 401).then_some(())
    })
    .await;
    assert!(
        refused.is_some(),
        "the deactivation was not honoured in time"
    );
    other.get("/v1/me", Some(&admin)).await.ok(200);
}
