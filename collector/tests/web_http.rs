//! The pages over real HTTP: the embedded inspector, and with `--demo-dir` the demo app's files
//! and the side-by-side page; nothing outside the demo directory is ever served.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::Reply;
use lunary_collector::{serve, Config, StartError};

/// A collector with the given demo directory, on its own runtime thread.
struct WebServer {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl WebServer {
    fn start(demo_dir: Option<PathBuf>) -> WebServer {
        let (addr_sender, addr_receiver) = mpsc::channel();
        let (stop, stop_signal) = tokio::sync::oneshot::channel::<()>();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let config = Config {
                    demo_dir,
                    ..Config::for_tests(false)
                };
                let server = serve(config).await.expect("server starts");
                addr_sender.send(server.addr()).expect("address sent");
                let _ = stop_signal.await;
                server.shutdown().await;
            });
        });
        let addr = addr_receiver
            .recv_timeout(Duration::from_secs(10))
            .expect("server started in time");
        WebServer {
            base: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// GET without following redirects.
    fn get(&self, path: &str) -> Reply {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Reply::from(
            agent
                .get(format!("{}{path}", self.base))
                .call()
                .expect("GET answered"),
        )
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "lunary-collector-web-{name}-{}-{:?}",
            std::process::id(),
            thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    fn write(&self, relative: &str, content: &[u8]) {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("dirs");
        std::fs::write(path, content).expect("write");
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn demo_build(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    dir.write("dist/index.html", b"<!doctype html><title>demo</title>");
    dir.write("dist/assets/app.js", b"console.log('app')");
    dir.write("dist/assets/lunary_wasm_bg.wasm", b"\0asm\x01\0\0\0");
    dir.write("dist/avatars/fox.svg", b"<svg/>");
    dir.write("dist/.env", b"SECRET=1");
    dir.write("secret.txt", b"outside the demo");
    dir
}

#[test]
fn the_inspector_is_always_served_with_a_strict_policy() {
    let server = WebServer::start(None);

    let root = server.get("/");
    assert_eq!(root.status, 307, "without a demo, / is the inspector");
    assert_eq!(root.header("location"), Some("/inspector/"));
    let bare = server.get("/inspector");
    assert_eq!(bare.status, 308);
    assert_eq!(bare.header("location"), Some("/inspector/"));

    let page = server.get("/inspector/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.body.contains("inspector.js"), "{}", page.body);
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));

    for (file, content_type) in [
        ("inspector.js", "text/javascript; charset=utf-8"),
        ("inspector.css", "text/css; charset=utf-8"),
        ("shell.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let asset = server.get(&format!("/inspector/{file}"));
        assert_eq!(asset.status, 200, "{file}");
        assert_eq!(asset.header("content-type"), Some(content_type), "{file}");
        assert!(!asset.body.is_empty(), "{file}");
    }
    assert_eq!(server.get("/inspector/nope.js").status, 404);

    let demo = server.get("/demo/");
    assert_eq!(demo.status, 404);
    assert!(demo.body.contains("--demo-dir"), "{}", demo.body);
    assert_eq!(server.get("/demo/assets/app.js").status, 404);
    // The read API is untouched.
    assert_eq!(server.get("/api/stats").status, 200);
}

#[test]
fn the_demo_directory_is_served_at_demo_and_nothing_outside_it() {
    let build = demo_build("serve");
    let server = WebServer::start(Some(build.path().join("dist")));

    let shell = server.get("/");
    assert_eq!(shell.status, 200);
    assert!(shell.body.contains(r#"src="/demo/""#), "{}", shell.body);
    assert!(
        shell.body.contains(r#"src="/inspector/""#),
        "{}",
        shell.body
    );
    assert!(shell
        .header("content-security-policy")
        .is_some_and(|csp| csp.contains("frame-src 'self'")));

    let bare = server.get("/demo");
    assert_eq!(bare.status, 308);
    assert_eq!(bare.header("location"), Some("/demo/"));

    let index = server.get("/demo/");
    assert_eq!(index.status, 200);
    assert_eq!(index.body, "<!doctype html><title>demo</title>");
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    let csp = index.header("content-security-policy").expect("a CSP");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.contains("connect-src 'self' https:"), "{csp}");

    assert_eq!(
        server.get("/demo/index.html").body,
        "<!doctype html><title>demo</title>"
    );
    let wasm = server.get("/demo/assets/lunary_wasm_bg.wasm");
    assert_eq!(wasm.status, 200);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(
        server.get("/demo/assets/app.js").header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        server.get("/demo/avatars/fox.svg").header("content-type"),
        Some("image/svg+xml")
    );
    // CORS stays on every answer, like the API's.
    assert_eq!(
        server.get("/demo/assets/app.js").header("vary"),
        Some("Origin")
    );

    for escape in [
        "/demo/%2e%2e/secret.txt",
        "/demo/assets/%2e%2e/%2e%2e/secret.txt",
        "/demo/..%2fsecret.txt",
        "/demo/.env",
        "/demo/missing.js",
        "/demo/assets/",
    ] {
        let reply = server.get(escape);
        assert_eq!(reply.status, 404, "{escape}: {}", reply.body);
        assert!(!reply.body.contains("outside the demo"), "{escape}");
    }
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_out_of_the_demo_directory_is_not_followed() {
    let build = demo_build("symlink");
    std::os::unix::fs::symlink(
        build.path().join("secret.txt"),
        build.path().join("dist/leak.txt"),
    )
    .expect("symlink");
    let server = WebServer::start(Some(build.path().join("dist")));
    let reply = server.get("/demo/leak.txt");
    assert_eq!(reply.status, 404);
    assert!(!reply.body.contains("outside the demo"));
}

#[test]
fn a_demo_directory_without_an_index_does_not_start() {
    let empty = TempDir::new("empty");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for dir in [empty.path().to_path_buf(), empty.path().join("missing")] {
        let config = Config {
            demo_dir: Some(dir.clone()),
            ..Config::for_tests(false)
        };
        match runtime.block_on(serve(config)) {
            Err(error @ StartError::DemoDir(..)) => {
                assert!(error.to_string().contains("demo"), "{error}");
            }
            Err(other) => panic!("{}: unexpected error {other}", dir.display()),
            Ok(_) => panic!("{}: started without a demo build", dir.display()),
        }
    }
}
