//! The sign-in lock under attack (issue 13 §4): attempts are counted before the password is
//! checked, atomically, so simultaneous guesses cannot get past it; limits are per e-mail and
//! client address (nobody locks an admin out from elsewhere) and per address (spraying many
//! e-mails is limited); the same throttle guards `current_password`. The client address is the
//! socket peer, or the last `X-Forwarded-For` hop behind a trusted proxy.

use std::net::IpAddr;

use serde_json::{Value, json};
use vereda_store::on_db;
use vereda_tests::*;

/// A client whose connections come from `ip` (any 127.x.y.z is this machine's loopback), so
/// the server sees another socket peer.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn login_from(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> Resp {
    app.send(
        client
            .post(app.url("/v1/auth/login"))
            .json(&json!({"email": email, "password": password})),
    )
    .await
}

/// `n` requests at once; their answers.
async fn at_once<F, Fut>(n: usize, f: F) -> Vec<Resp>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Resp>,
{
    futures::future::join_all((0..n).map(f)).await
}

fn statuses(rs: &[Resp]) -> Vec<u16> {
    let mut s: Vec<u16> = rs.iter().map(|r| r.status).collect();
    s.sort();
    s
}

#[tokio::test]
async fn simultaneous_wrong_passwords_cannot_get_past_the_lock() {
    let app = spawn_app().await;
    let rs = at_once(23, |_| {
        app.post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": "guess-guess-guess"}),
        )
    })
    .await;
    let tried = rs.iter().filter(|r| r.status == 401).count();
    assert!(
        tried <= 5,
        "{tried} guesses were checked at once: {:?}",
        statuses(&rs)
    );
    for r in rs.iter().filter(|r| r.status != 401) {
        r.problem(429);
        assert_eq!(r.code(), "too_many_attempts");
        assert!(r.headers.get("retry-after").is_some());
    }
    // The right password now is refused too: the e-mail is locked from this address.
    let r = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    r.problem(429);
    // From anywhere else the admin still signs in: the attacker cannot lock her out.
    let elsewhere = client_from("127.0.0.2");
    login_from(&app, &elsewhere, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok(200);
}

#[tokio::test]
async fn spraying_many_emails_from_one_address_is_limited() {
    let app = spawn_app().await;
    let sprayer = client_from("127.0.0.3");
    let mut refused_at = None;
    for i in 0..60 {
        let r = login_from(
            &app,
            &sprayer,
            &format!("victim-{i}@empresa.test"),
            "Verano2026!!",
        )
        .await;
        if r.status == 429 {
            r.problem(429);
            assert!(r.headers.get("retry-after").is_some());
            refused_at = Some(i);
            break;
        }
        r.problem(401);
    }
    let n = refused_at.expect("60 e-mails sprayed from one address were all tried");
    assert!(n <= 40, "the address was stopped only after {n} attempts");
    // Even the right password of a real account is refused from that address for now...
    login_from(&app, &sprayer, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .problem(429);
    // ...while another address signs in as usual.
    login_from(&app, &client_from("127.0.0.4"), ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok(200);
    // Sprayed at once, the limit holds too.
    let fast = client_from("127.0.0.5");
    let rs = at_once(80, |i| {
        let fast = fast.clone();
        let app = &app;
        async move { login_from(app, &fast, &format!("otra-{i}@empresa.test"), "x-x-x-x-x-x").await }
    })
    .await;
    let tried = rs.iter().filter(|r| r.status == 401).count();
    assert!(tried <= 40, "{tried} of 80 simultaneous sprays were tried");
}

#[tokio::test]
async fn a_right_password_does_not_reset_the_address_count() {
    // An attacker with one real account must not be able to clear the address's count by
    // signing in to it between guesses.
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let me = app.get("/v1/me", Some(&worker)).await;
    let email = me.ok(200)["email"].as_str().unwrap().to_string();
    let c = client_from("127.0.0.6");
    let mut refused = false;
    for i in 0..60 {
        login_from(&app, &c, &email, PASSWORD).await;
        let r = login_from(&app, &c, &format!("v-{i}@x.test"), "x-x-x-x-x-x").await;
        if r.status == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "guesses between real sign-ins were never limited");
}

#[tokio::test]
async fn current_password_is_throttled_like_sign_in() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, worker) = app.worker(&admin, &["data-entry"]).await;
    let rs = at_once(23, |_| {
        app.post(
            "/v1/me/password",
            Some(&worker),
            json!({"current_password": "guess-guess-guess", "new_password": "another-long-password"}),
        )
    })
    .await;
    let tried = rs.iter().filter(|r| r.status == 422).count();
    assert!(tried <= 5, "{tried} guesses checked: {:?}", statuses(&rs));
    for r in rs.iter().filter(|r| r.status != 422) {
        r.problem(429);
        assert!(r.headers.get("retry-after").is_some());
    }
    let r = app
        .post(
            "/v1/me/password",
            Some(&worker),
            json!({"current_password": PASSWORD, "new_password": "another-long-password"}),
        )
        .await;
    r.problem(429);
    assert_eq!(r.field(), "current_password");
    // Her password is unchanged, and she still signs in with it (a lock, not a lock-out).
    let me = app.get("/v1/me", Some(&worker)).await;
    app.login(me.body["email"].as_str().unwrap(), PASSWORD)
        .await;
}

async fn app_behind_proxy() -> TestApp {
    let test_db = TestDb::new().await;
    let mut settings = test_db.settings();
    settings.trusted_proxy = true;
    let mut app = spawn_with(settings).await;
    app.test_db = Some(test_db);
    app
}

async fn login_via(app: &TestApp, forwarded_for: &str, email: &str, password: &str) -> Resp {
    app.send(
        app.client
            .post(app.url("/v1/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"email": email, "password": password})),
    )
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_last_forwarded_hop_is_the_client() {
    let app = app_behind_proxy().await;
    // The client may write anything in the first hops; only what our proxy appended counts.
    for i in 0..5 {
        login_via(
            &app,
            &format!("10.9.9.{i}, 203.0.113.7"),
            ADMIN_EMAIL,
            "guess-guess-guess",
        )
        .await
        .problem(401);
    }
    login_via(&app, "10.9.9.99, 203.0.113.7", ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .problem(429);
    // Another client behind the same proxy is not locked out.
    login_via(&app, "198.51.100.20", ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok(200);
    // IPv6 clients are counted by their /64: rotating the interface id does not help.
    let mut limited = false;
    for i in 0..60 {
        let r = login_via(
            &app,
            &format!("2001:db8:1:2::{:x}", i + 1),
            &format!("v-{i}@x.test"),
            "x-x-x-x-x-x",
        )
        .await;
        if r.status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "60 addresses of one /64 were counted apart");
}

#[tokio::test]
async fn without_a_trusted_proxy_forwarded_headers_are_ignored() {
    let app = spawn_app().await;
    let mut refused = false;
    for i in 0..60 {
        let r = login_via(
            &app,
            &format!("198.51.100.{i}"),
            &format!("v-{i}@x.test"),
            "x-x-x-x-x-x",
        )
        .await;
        if r.status == 429 {
            refused = true;
            break;
        }
    }
    assert!(
        refused,
        "a forged X-Forwarded-For escaped the per-address limit"
    );
}

#[tokio::test]
async fn the_lock_runs_out() {
    let app = spawn_app().await;
    for _ in 0..6 {
        app.post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": "guess-guess-guess"}),
        )
        .await;
    }
    app.post(
        "/v1/auth/login",
        None,
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await
    .problem(429);
    on_db!(&app.db, |p| sqlx::query(
        "UPDATE login_throttle SET locked_until = 1, window_start = 1"
    )
    .execute(p)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    let r = app
        .post(
            "/v1/auth/login",
            None,
            json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
        )
        .await;
    let _: &Value = r.ok(200);
}

/// The count is one SQL upsert (so simultaneous attempts each see the others') and a pure
/// model (`throttle::Counter`, property-tested against `Retry-After`): the same rule written
/// twice. Random attempts, refunds and pauses, played on this pass's database and on the
/// model, must leave the same counter after every step.
#[tokio::test]
async fn the_throttle_sql_counts_exactly_as_its_pure_model() {
    use vereda_api::auth::{Limit, count_in_db, refund_attempt};
    use vereda_contracts::throttle::{Counter, LOCK_SECS, Policy, WINDOW_SECS};
    let app = spawn_app_without_worker().await;
    // A small xorshift: the sequences are the same on every run, and many.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for sequence in 0..40 {
        let policy = Policy {
            max: 1 + next(6) as i64,
            locks: next(2) == 0,
        };
        let limit = Limit {
            key: format!("model-{sequence}"),
            max: policy.max,
            locks: policy.locks,
            account: None,
        };
        let (mut now, mut model): (i64, Option<Counter>) = (1_800_000_000, None);
        for step in 0..30 {
            // Pauses around the edges that matter: within a window, at its end, at a lock's end.
            now += match next(5) {
                0 => 1,
                1 => 60,
                2 => WINDOW_SECS,
                3 => LOCK_SECS,
                _ => next(WINDOW_SECS as u64) as i64,
            };
            let counted = count_in_db(&app.db, std::slice::from_ref(&limit), now)
                .await
                .expect("count");
            let expected = Counter::count(model, policy, now);
            assert_eq!(
                counted[0].1, expected,
                "sequence {sequence} step {step} ({policy:?}) at {now}"
            );
            model = Some(expected);
            if next(3) == 0 {
                refund_attempt(&app.db, &limit.key).await.expect("refund");
                model = model.map(Counter::refund);
            }
        }
    }
}
