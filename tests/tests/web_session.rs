//! The web app's sign-in: an HttpOnly, SameSite=Strict session cookie with a CSRF check on
//! every state-changing request; bearer tokens unaffected (issue 15 §8).

use serde_json::json;
use vereda_store::on_db;
use vereda_tests::*;

/// Sign in on the web route; returns the answer and the cookie's token.
async fn web_login(app: &TestApp, email: &str, password: &str) -> (Resp, String) {
    let r = app
        .post(
            "/v1/auth/web-login",
            None,
            json!({"email": email, "password": password}),
        )
        .await;
    let cookie = r
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let token = cookie
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("vereda_session="))
        .unwrap_or("")
        .to_string();
    (r, token)
}

fn cookie(token: &str) -> String {
    format!("vereda_session={token}")
}

#[tokio::test]
async fn a_web_sign_in_gives_an_httponly_strict_cookie_and_the_user_not_a_token() {
    let app = spawn_app().await;
    let (r, token) = web_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let body = r.ok(200);
    assert_eq!(body["email"], ADMIN_EMAIL);
    assert_eq!(body["role"], "admin");
    assert!(body.get("token").is_none(), "{body}");
    assert!(
        !r.text.contains("vrd_"),
        "the token is in the body: {}",
        r.text
    );
    let set_cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(token.starts_with("vrd_"), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            set_cookie.split("; ").any(|a| a == attribute),
            "{attribute} missing: {set_cookie}"
        );
    }
    // Plain http here: no Secure (a browser would drop the cookie).
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");

    // An ordinary session, stored only as its hash.
    let stored: i64 = on_db!(&app.db, |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM auth_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
    )
    .bind(sha256_hex(&token))
    .fetch_one(p)
    .await
    .unwrap());
    assert_eq!(stored, 1);

    // The cookie authenticates reads, with no header needed.
    let me = app
        .send(
            app.client
                .get(app.url("/v1/me"))
                .header("cookie", format!("other=1; {}", cookie(&token))),
        )
        .await;
    assert_eq!(me.ok(200)["email"], ADMIN_EMAIL);

    // Wrong password: the same 401 as the bearer sign-in, and no cookie.
    let (r, token) = web_login(&app, ADMIN_EMAIL, "not-the-password-at-all").await;
    r.problem(401);
    assert_eq!(r.code(), "invalid_credentials");
    assert!(token.is_empty());
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure() {
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.public_url = "https://vereda.example".to_string();
    settings.public_url_configured = true;
    let mut app = spawn_with(settings).await;
    app.test_db = Some(test_db);
    let (r, _) = web_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    r.ok(200);
    let set_cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.split("; ").any(|a| a == "Secure"),
        "{set_cookie}"
    );
}

#[tokio::test]
async fn a_cookie_request_that_changes_something_needs_the_header_and_our_origin() {
    let app = spawn_app().await;
    let (r, token) = web_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    r.ok(200);
    let staff = |email: &str| json!({"name": "Carolina Finanzas", "email": email, "password": PASSWORD, "role": "finance"});
    let users = || async {
        on_db!(&app.db, |p| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM users"
        )
        .fetch_one(p)
        .await
        .unwrap())
    };
    let before = users().await;

    // No X-Requested-With: refused, nothing created.
    let r = app
        .send(
            app.client
                .post(app.url("/v1/staff"))
                .header("cookie", cookie(&token))
                .json(&staff("a@vereda.test")),
        )
        .await;
    r.problem(403);
    assert_eq!(r.code(), "csrf_refused");
    assert!(
        r.body["detail_es"]
            .as_str()
            .unwrap()
            .starts_with("Por seguridad no se aceptó"),
        "{}",
        r.text
    );

    // The header, but another site's Origin: refused.
    let r = app
        .send(
            app.client
                .post(app.url("/v1/staff"))
                .header("cookie", cookie(&token))
                .header("x-requested-with", "vereda")
                .header("origin", "https://evil.example")
                .json(&staff("b@vereda.test")),
        )
        .await;
    r.problem(403);
    assert_eq!(r.code(), "csrf_refused");

    // An Origin of "null" (sandboxed frames) is not ours either.
    let r = app
        .send(
            app.client
                .post(app.url("/v1/staff"))
                .header("cookie", cookie(&token))
                .header("x-requested-with", "vereda")
                .header("origin", "null")
                .json(&staff("c@vereda.test")),
        )
        .await;
    assert_eq!(r.code(), "csrf_refused");
    assert_eq!(users().await, before, "a refused request created someone");

    // The header and our own origin (or none): accepted.
    let r = app
        .send(
            app.client
                .post(app.url("/v1/staff"))
                .header("cookie", cookie(&token))
                .header("x-requested-with", "vereda")
                .header("origin", app.base.clone())
                .json(&staff("d@vereda.test")),
        )
        .await;
    r.ok(201);
    let r = app
        .send(
            app.client
                .post(app.url("/v1/staff"))
                .header("cookie", cookie(&token))
                .header("x-requested-with", "vereda")
                .json(&staff("e@vereda.test")),
        )
        .await;
    r.ok(201);
    assert_eq!(users().await, before + 2);

    // A web sign-in posted from another site is refused too (login CSRF).
    let r = app
        .send(
            app.client
                .post(app.url("/v1/auth/web-login"))
                .header("origin", "https://evil.example")
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
        )
        .await;
    r.problem(403);
    assert_eq!(r.code(), "csrf_refused");
    assert!(r.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn bearer_requests_are_unaffected_by_the_csrf_check() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // No X-Requested-With, a foreign Origin, even a stale cookie: the bearer token decides.
    let r = app
        .send(
            app.client
                .post(app.url("/v1/staff"))
                .bearer_auth(&admin)
                .header("origin", "https://elsewhere.example")
                .header("cookie", "vereda_session=vrd_stale")
                .json(
                    &json!({"name": "Carolina Finanzas", "email": "f@vereda.test",
                              "password": PASSWORD, "role": "finance"}),
                ),
        )
        .await;
    r.ok(201);
}

#[tokio::test]
async fn signing_out_with_the_cookie_ends_that_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let (_, token) = web_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let other = app.admin_token().await;

    // Without the CSRF header, sign-out is refused like any other change.
    let r = app
        .send(
            app.client
                .post(app.url("/v1/auth/logout"))
                .header("cookie", cookie(&token)),
        )
        .await;
    assert_eq!(r.code(), "csrf_refused");

    let r = app
        .send(
            app.client
                .post(app.url("/v1/auth/logout"))
                .header("cookie", cookie(&token))
                .header("x-requested-with", "vereda"),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let set_cookie = r.headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.starts_with("vereda_session=;"), "{set_cookie}");
    assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");

    let me = app
        .send(
            app.client
                .get(app.url("/v1/me"))
                .header("cookie", cookie(&token)),
        )
        .await;
    me.problem(401);
    // Only that session ended.
    app.get("/v1/me", Some(&other)).await.ok(200);

    // The stale cookie does not stand in the way of signing in again, header or not.
    let r = app
        .send(
            app.client
                .post(app.url("/v1/auth/web-login"))
                .header("cookie", cookie(&token))
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
        )
        .await;
    r.ok(200);

    // A bearer sign-out sets no cookie.
    let r = app.post("/v1/auth/logout", Some(&other), json!({})).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn the_web_sign_in_is_throttled_like_the_other() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let (r, _) = web_login(&app, ADMIN_EMAIL, "wrong-password-here").await;
        assert_eq!(r.status, 401, "{}", r.text);
    }
    let (r, token) = web_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    r.problem(429);
    assert_eq!(r.code(), "too_many_attempts");
    assert!(token.is_empty());
    // Shared with the bearer sign-in: that one is locked too.
    let r = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    r.problem(429);
}
