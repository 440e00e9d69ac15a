//! The pages a person opens: the inspector (plain HTML/CSS/JS embedded in the binary) at
//! `/inspector/`, and, when started with `--demo-dir`, the built demo app from that directory
//! at `/demo/` plus, at `/`, a page showing the two side by side.
//!
//! Every page gets a Content-Security-Policy. The inspector's and the side-by-side page's are
//! strict (their own scripts and styles only); the demo's is the one the npm README asks of an
//! app using lunary-wasm: `'wasm-unsafe-eval'` in `script-src`, and the API in `connect-src`.

use std::io;
use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::responses::message;
use crate::state::SharedState;

const SHELL_HTML: &str = include_str!("../static/index.html");
const INSPECTOR_HTML: &str = include_str!("../static/inspector.html");

/// The inspector's files, served at `/inspector/<name>`.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "inspector.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/inspector.js"),
    ),
    (
        "inspector.css",
        "text/css; charset=utf-8",
        include_str!("../static/inspector.css"),
    ),
    (
        "shell.css",
        "text/css; charset=utf-8",
        include_str!("../static/shell.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../static/favicon.svg"),
    ),
];

const HTML: &str = "text/html; charset=utf-8";

/// The inspector: its own files, the read API, and images from anywhere (user avatars).
const INSPECTOR_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: https: http:; connect-src 'self'; frame-ancestors 'self'; \
    base-uri 'none'; form-action 'none'";

/// The side-by-side page: two frames of this origin and a stylesheet.
const SHELL_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The demo app: what any app using lunary-wasm needs, plus https APIs and loopback ones so
/// that `?apiUrl=` can point it at Lunary cloud, a self-hosted Lunary or another collector.
const DEMO_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self' https: http://localhost:* http://127.0.0.1:*; \
    img-src 'self' data: https:; style-src 'self'; frame-ancestors 'self'; \
    base-uri 'self'; form-action 'self'";

const NO_DEMO: &str =
    "This collector serves no demo app: start it with --demo-dir www/dist (make demo does).";

/// Checks a `--demo-dir` at start-up: an existing directory with an `index.html`. Returns it
/// canonical, so that served files can be checked to lie inside it.
pub fn demo_root(dir: &Path) -> io::Result<PathBuf> {
    let root = dir.canonicalize()?;
    if !root.is_dir() {
        return Err(io::Error::other("not a directory"));
    }
    if !root.join("index.html").is_file() {
        return Err(io::Error::other(
            "no index.html in it (build the demo first: npm run build in www/)",
        ));
    }
    Ok(root)
}

/// `GET /`: the demo next to the inspector, or the inspector alone when there is no demo.
pub async fn root(State(state): State<SharedState>) -> Response {
    if state.demo_dir.is_some() {
        page(HTML, SHELL_HTML.as_bytes().to_vec(), SHELL_CSP)
    } else {
        redirect(StatusCode::TEMPORARY_REDIRECT, "/inspector/")
    }
}

/// `GET /inspector` → `/inspector/`, so that the page's relative URLs resolve.
pub async fn to_inspector() -> Response {
    redirect(StatusCode::PERMANENT_REDIRECT, "/inspector/")
}

/// `GET /inspector/`.
pub async fn inspector() -> Response {
    page(HTML, INSPECTOR_HTML.as_bytes().to_vec(), INSPECTOR_CSP)
}

/// `GET /inspector/{name}`: one of the inspector's embedded files.
pub async fn inspector_asset(UrlPath(name): UrlPath<String>) -> Response {
    match ASSETS.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, body)) => {
            page(content_type, body.as_bytes().to_vec(), INSPECTOR_CSP)
        }
        None => message(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// `GET /demo` → `/demo/`.
pub async fn to_demo(State(state): State<SharedState>) -> Response {
    if state.demo_dir.is_some() {
        redirect(StatusCode::PERMANENT_REDIRECT, "/demo/")
    } else {
        message(StatusCode::NOT_FOUND, NO_DEMO)
    }
}

/// `GET /demo/`: the demo's `index.html`.
pub async fn demo_index(State(state): State<SharedState>) -> Response {
    demo_file(state, String::new()).await
}

/// `GET /demo/{*path}`: a file of the demo directory.
pub async fn demo_path(
    State(state): State<SharedState>,
    UrlPath(path): UrlPath<String>,
) -> Response {
    demo_file(state, path).await
}

async fn demo_file(state: SharedState, request: String) -> Response {
    let Some(root) = state.demo_dir.clone() else {
        return message(StatusCode::NOT_FOUND, NO_DEMO);
    };
    let Some(candidate) = resolve(&root, &request) else {
        return message(StatusCode::NOT_FOUND, "Not found");
    };
    match tokio::task::spawn_blocking(move || read_inside(&root, candidate)).await {
        Ok(Ok((file, body))) => page(content_type(&file), body, DEMO_CSP),
        Ok(Err(error)) if error.kind() == io::ErrorKind::NotFound => {
            message(StatusCode::NOT_FOUND, "Not found")
        }
        Ok(Err(error)) => message(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read the file: {error}"),
        ),
        Err(_) => message(StatusCode::INTERNAL_SERVER_ERROR, "file task failed"),
    }
}

/// The file a request path names under `root`, or `None` for a path that tries to leave it
/// (`..`), names a hidden file, or carries characters no file of the build has.
fn resolve(root: &Path, request: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for segment in request.split('/').filter(|segment| !segment.is_empty()) {
        if segment.starts_with('.') || segment.contains(['\\', '\0', ':']) {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

/// Reads `candidate` (its `index.html` if it is a directory), after checking that it really
/// lies inside `root` once symbolic links are followed.
fn read_inside(root: &Path, candidate: PathBuf) -> io::Result<(PathBuf, Vec<u8>)> {
    let mut file = candidate.canonicalize()?;
    if file.is_dir() {
        file = file.join("index.html").canonicalize()?;
    }
    if !file.starts_with(root) {
        return Err(io::Error::from(io::ErrorKind::NotFound));
    }
    let body = std::fs::read(&file)?;
    Ok((file, body))
}

fn content_type(file: &Path) -> &'static str {
    let extension = file
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html") => HTML,
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn page(content_type: &'static str, body: Vec<u8>, csp: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (CONTENT_TYPE, content_type),
        // Always revalidate: a rebuilt demo or a new collector shows at once.
        (CACHE_CONTROL, "no-cache"),
        (CONTENT_SECURITY_POLICY, csp),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn redirect(status: StatusCode, to: &'static str) -> Response {
    (status, [(LOCATION, HeaderValue::from_static(to))]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_stay_inside_the_root() {
        let root = Path::new("/srv/demo");
        assert_eq!(resolve(root, ""), Some(PathBuf::from("/srv/demo")));
        assert_eq!(
            resolve(root, "assets/index-abc.js"),
            Some(PathBuf::from("/srv/demo/assets/index-abc.js"))
        );
        assert_eq!(
            resolve(root, "avatars//fox.svg"),
            Some(PathBuf::from("/srv/demo/avatars/fox.svg"))
        );
        for bad in [
            "..",
            "../etc/passwd",
            "assets/../../x",
            ".env",
            "a/.git/config",
            "a\\..\\b",
            "c:x",
            "nul\0",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type(Path::new("a/x.WASM")), "application/wasm");
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("a.svg")), "image/svg+xml");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }

    #[test]
    fn every_embedded_asset_is_referenced_by_a_page() {
        for (name, _, _) in ASSETS {
            assert!(
                SHELL_HTML.contains(name) || INSPECTOR_HTML.contains(name),
                "{name} is embedded but no page uses it"
            );
        }
    }
}
