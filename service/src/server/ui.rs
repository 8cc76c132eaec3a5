//! The screens (`ui/`, built by Vite into `ui/dist`) served at `/`.
//!
//! Release builds embed `ui/dist` in the binary (`rust-embed`), so the counter is one
//! self-contained file; debug builds read the folder from disk at each request, so a fresh
//! `npm run build` shows without rebuilding Rust. A clone without `ui/dist` still builds
//! (`allow_missing`) and `/` then shows the plain page saying where the API is.
//!
//! Any path that is not a file and looks like an app route falls back to `index.html`.
//! Every answer carries a strict Content-Security-Policy: the app has no inline script or
//! style, talks only to this origin, and plays sounds from here.

use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "../ui/dist/"]
#[allow_missing = true]
struct Dist;

pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
    media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// `GET /` and every path no other route takes.
pub async fn serve(method: Method, uri: Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if path.split('/').any(|s| s == "..") || path == "api" || path.starts_with("api/") {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    if !path.is_empty() {
        if let Some(file) = Dist::get(path) {
            let immutable = path.starts_with("assets/");
            return file_response(path, file.data.into_owned(), immutable);
        }
        // A missing asset is a 404; only page-like paths (no extension) get the app.
        let last = path.rsplit('/').next().unwrap_or("");
        if last.contains('.') {
            return (StatusCode::NOT_FOUND, "no such file").into_response();
        }
    }
    match Dist::get("index.html") {
        Some(index) => file_response("index.html", index.data.into_owned(), false),
        None => with_csp(plain_home().into_response()),
    }
}

fn file_response(path: &str, body: Vec<u8>, immutable: bool) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable {
            // Vite names assets by their hash.
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    with_csp(res)
}

fn with_csp(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "wav" => "audio/wav",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Without a built UI, `/` says what this is and where the API lives.
fn plain_home() -> Html<&'static str> {
    Html(concat!(
        "<!doctype html><html><head><meta charset=utf-8><title>Passdesk</title></head>",
        "<body><h1>Passdesk ", env!("CARGO_PKG_VERSION"), "</h1>",
        "<p>This counter is running. The API is at <code>/api/v1</code> (bearer API key required); ",
        "<code>/health</code> answers without one. The screens are not built into this binary ",
        "(run <code>npm install &amp;&amp; npm run build</code> in <code>ui/</code>).</p></body></html>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("assets/index-abc.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("sounds/accept.wav"), "audio/wav");
        assert_eq!(content_type("x.unknown"), "application/octet-stream");
    }
}
