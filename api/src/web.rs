//! The worker's web app (issue 15), embedded at compile time by `api/build.rs` from `web/`.
//!
//! `/` is `index.html`; every other asset has a content-hashed name and is cached for a year
//! (`immutable`); `index.html` and `/sw.js` are `no-cache`, so a new build is picked up at the
//! next visit. A client that accepts gzip gets the gzip'd copy made at build time.

use poem::http::{HeaderValue, Method, StatusCode, header};
use std::sync::Arc;

use poem::{Endpoint, IntoResponse, Request, Response};

/// One embedded file.
#[derive(Clone, Copy)]
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub immutable: bool,
    pub body: &'static [u8],
    /// Empty for files that are compressed already (images).
    pub gzip: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// Every embedded file, `/` first.
pub fn assets() -> impl Iterator<Item = Asset> {
    ASSETS.iter().copied()
}

fn find(path: &str) -> Option<Asset> {
    // `/verificar/CODE` is the verification page with the code filled in.
    let path = if path.starts_with("/verificar/") {
        "/verificar"
    } else {
        path
    };
    assets().find(|a| a.path == path)
}

/// Serves the app's files ahead of the API's routes (its paths are `/`, `/sw.js`, `/verificar`
/// and hashed names, none of which the API uses); everything else goes on to `next`.
pub async fn serve<E: Endpoint>(next: Arc<E>, req: Request) -> poem::Result<Response> {
    let Some(asset) = find(req.uri().path()) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(poem::error::MethodNotAllowedError.into());
    }
    let gzip = !asset.gzip.is_empty() && accepts_gzip(&req);
    let body = if gzip { asset.gzip } else { asset.body };
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, asset.content_type)
        .header(header::VARY, "Accept-Encoding")
        .header(
            header::CACHE_CONTROL,
            if asset.immutable {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            },
        );
    if gzip {
        builder = builder.header(header::CONTENT_ENCODING, "gzip");
    }
    let mut resp = if req.method() == Method::HEAD {
        builder.header(header::CONTENT_LENGTH, body.len()).finish()
    } else {
        builder.body(body)
    };
    if asset.path == "/sw.js" {
        // The worker controls the whole app, not just its own folder.
        resp.headers_mut()
            .insert("Service-Worker-Allowed", HeaderValue::from_static("/"));
    }
    Ok(resp)
}

fn accepts_gzip(req: &Request) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}
