//! Security headers on every answer, a looser policy only for Swagger UI, and compression
//! (issue 15 §1 and §8).

use std::io::Read;

use serde_json::json;
use vereda_tests::*;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

#[track_caller]
fn secured(r: &Resp, csp: &str) {
    let h = |name: &str| {
        r.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(h("x-content-type-options"), "nosniff", "{:?}", r.headers);
    assert_eq!(h("referrer-policy"), "no-referrer", "{:?}", r.headers);
    assert_eq!(h("x-frame-options"), "DENY", "{:?}", r.headers);
    assert_eq!(h("content-security-policy"), csp, "{:?}", r.headers);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // The app's root, the API, errors of every kind, the contract, health.
    for r in [
        app.get("/", None).await,
        app.get("/v1/me", Some(&admin)).await,
        app.get("/v1/me", None).await,
        app.get("/v1/no-such-thing", Some(&admin)).await,
        app.post_raw("/v1/staff", Some(&admin), "application/json", b"{".to_vec())
            .await,
        app.post(
            "/v1/auth/login",
            None,
            json!({"email": "x", "password": "y"}),
        )
        .await,
        app.send(app.client.delete(app.url("/v1/me"))).await,
        app.get("/openapi.json", None).await,
        app.get("/healthz", None).await,
    ] {
        secured(&r, CSP);
    }
    // Nothing but Swagger UI may run inline script, and it is still never framed.
    let docs = app.get("/docs", None).await;
    assert_eq!(docs.status, 200);
    let csp = docs.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("http"), "another host: {csp}");
    assert!(docs.text.contains("SwaggerUIBundle"));
}

#[tokio::test]
async fn text_answers_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let get = |path: &str, encoding: Option<&str>| {
        let mut req = app.client.get(app.url(path)).bearer_auth(&admin);
        if let Some(e) = encoding {
            req = req.header("accept-encoding", e);
        }
        req.send()
    };

    let resp = get("/openapi.json", Some("gzip, deflate")).await.unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert!(
        resp.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Accept-Encoding")
    );
    let bytes = resp.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    let spec: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(spec["paths"]["/v1/me"].is_object());
    assert!(
        bytes.len() * 4 < text.len(),
        "{} of {}",
        bytes.len(),
        text.len()
    );

    // Brotli preferred when both are accepted; problems are compressed too.
    let resp = get("/v1/me", Some("gzip, br")).await.unwrap();
    assert_eq!(resp.headers()["content-encoding"], "br");
    let resp = get("/v1/nothing-here", Some("gzip")).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["content-encoding"], "gzip");

    // Not asked, not compressed; refused codings are not used.
    let resp = get("/v1/me", None).await.unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    let resp = get("/v1/me", Some("br;q=0, identity")).await.unwrap();
    assert!(resp.headers().get("content-encoding").is_none());

    // An answer without a body stays without one.
    let resp = app
        .client
        .post(app.url("/v1/auth/logout"))
        .bearer_auth(&admin)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp.headers().get("content-encoding").is_none());
    assert!(resp.bytes().await.unwrap().is_empty());
}
