//! Every error is problem+json with a stable code; no client input produces a 500
//! (issue 2 §6).

use serde_json::json;
use vereda_tests::*;

#[tokio::test]
async fn malformed_bodies_are_400_and_name_the_position() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let r = app
        .post_raw(
            "/v1/staff",
            Some(&admin),
            "application/json",
            b"{\"name\": ".to_vec(),
        )
        .await;
    r.problem(400);
    assert_eq!(r.code(), "malformed_request");
    assert!(
        r.body["detail"].as_str().unwrap().contains("line 1"),
        "{}",
        r.text
    );

    app.post_raw("/v1/staff", Some(&admin), "application/json", Vec::new())
        .await
        .problem(400);
    app.post_raw(
        "/v1/staff",
        Some(&admin),
        "application/json",
        vec![0xff, 0xfe, b'{'],
    )
    .await
    .problem(400);
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    app.post_raw(
        "/v1/staff",
        Some(&admin),
        "application/json",
        deep.into_bytes(),
    )
    .await
    .problem(400);
    // A JSON value of the wrong shape is a validation error of the whole body.
    app.post_raw(
        "/v1/staff",
        Some(&admin),
        "application/json",
        b"[1,2]".to_vec(),
    )
    .await
    .problem(422);
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;
    let r = app
        .post_raw("/v1/auth/login", None, "text/plain", b"hello".to_vec())
        .await;
    r.problem(415);
    assert_eq!(r.code(), "unsupported_media_type");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let r = app
        .post_raw(
            "/v1/staff",
            Some(&admin),
            "application/json",
            big.into_bytes(),
        )
        .await;
    r.problem(413);
    assert_eq!(r.code(), "payload_too_large");

    // Without a Content-Length (chunked), the limit holds while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let stream = futures::stream::iter(chunks);
    let req = app
        .client
        .post(app.url("/v1/staff"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream));
    app.send(req).await.problem(413);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let r = app.get("/v1/nothing-here", None).await;
    r.problem(404);
    assert_eq!(r.code(), "not_found");
    let r = app.send(app.client.delete(app.url("/v1/me"))).await;
    r.problem(405);
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let r = app.get("/v1/companies?limit=lots", Some(&admin)).await;
    r.problem(400);
    assert_eq!(r.field(), "limit");
}

#[tokio::test]
async fn sql_and_html_metacharacters_are_plain_text() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let name = "Robert'); DROP TABLE users;-- <script>alert(1)</script>";
    let r = app
        .post("/v1/staff", Some(&admin), json!({"name": name, "email": "bobby@vereda.test", "password": PASSWORD, "role": "finance"}))
        .await;
    assert_eq!(r.ok(201)["name"], name);
    app.admin_token().await;
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    r.ok(200);
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(r.headers.get("access-control-allow-origin").is_none());
}

/// No CORS unless configured: a browser on another origin gets no permission, neither from a
/// preflight nor on a real request carrying a token.
#[tokio::test]
async fn no_cross_origin_permission_is_granted() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/me"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(
        preflight.status().is_client_error(),
        "{}",
        preflight.status()
    );
    let real = app
        .client
        .get(app.url("/v1/me"))
        .header("origin", "https://evil.example")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(real.status(), 200);
    for r in [preflight.headers(), real.headers()] {
        assert!(
            !r.keys().any(|k| k.as_str().starts_with("access-control-")),
            "{r:?}"
        );
    }
}
