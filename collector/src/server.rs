//! Listening and serving connections, with hyper driven directly rather than through
//! `axum::serve`: each connection task owns a duplicate of its socket, so that when a handler
//! fires the connection's [`ConnectionKill`] the task can set `SO_LINGER` to zero and drop the
//! connection — the client sees a TCP reset and no HTTP response at all.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{service_fn, Service};
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use socket2::SockRef;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::app;
use crate::config::Config;
use crate::connection::ConnectionKill;
use crate::faults::FaultQueue;
use crate::state::AppState;
use crate::stats::Stats;
use crate::storage::Storage;
use crate::web;

/// A running collector. Dropping it leaves the server running until its tokio runtime ends;
/// call [`Server::shutdown`] to stop it.
pub struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    accept_task: JoinHandle<()>,
}

impl Server {
    /// The address actually bound (the real port when the config asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, the base URL to give an SDK as its `apiUrl`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, closes every open connection and waits for the accept loop to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.accept_task.await;
    }
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    Database(rusqlite::Error),
    Bind(io::Error),
    /// `--demo-dir` names no readable directory.
    DemoDir(std::path::PathBuf, io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Database(error) => write!(f, "cannot open the database: {error}"),
            StartError::Bind(error) => write!(f, "cannot listen: {error}"),
            StartError::DemoDir(path, error) => {
                write!(f, "cannot serve the demo from {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for StartError {}

/// Opens the database, binds, and serves in background tasks of the current tokio runtime.
///
/// ```no_run
/// # async fn example() -> Result<(), lunary_collector::StartError> {
/// let server = lunary_collector::serve(lunary_collector::Config::for_tests(true)).await?;
/// println!("apiUrl = {}", server.url());
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub async fn serve(config: Config) -> Result<Server, StartError> {
    let demo_dir = match &config.demo_dir {
        Some(dir) => {
            Some(web::demo_root(dir).map_err(|error| StartError::DemoDir(dir.clone(), error))?)
        }
        None => None,
    };
    let storage = Storage::open(&config.db).map_err(StartError::Database)?;
    let state = Arc::new(AppState {
        storage: Arc::new(storage),
        stats: Stats::default(),
        faults: FaultQueue::default(),
        faults_enabled: config.faults,
        demo_dir,
    });
    let router = app::router(state);

    let listener = TcpListener::bind((config.bind, config.port))
        .await
        .map_err(StartError::Bind)?;
    let addr = listener.local_addr().map_err(StartError::Bind)?;
    let (stop, stop_signal) = watch::channel(false);
    let accept_task = tokio::spawn(accept_loop(listener, router, stop_signal));
    Ok(Server {
        addr,
        stop,
        accept_task,
    })
}

async fn accept_loop(listener: TcpListener, router: Router, stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = stop_requested(stop.clone()) => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, router.clone(), stop.clone()));
                }
                // Out of file descriptors and the like: wait a little instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
        }
    }
}

/// Resolves once `true` was sent; never if the sender went away without sending it.
async fn stop_requested(mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

async fn serve_connection(stream: TcpStream, router: Router, stop: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let Ok((stream, socket_for_reset)) = with_duplicate(stream) else {
        return;
    };
    let kill = ConnectionKill::new();
    let kill_for_requests = kill.clone();
    let service = TowerToHyperService::new(router);
    let per_request = service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(kill_for_requests.clone());
        service.call(request)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), per_request);

    tokio::select! {
        _ = connection => {}
        () = kill.fired() => {
            // Zero linger makes the last close send RST instead of FIN. The connection future
            // (and the handler waiting inside it) is dropped when this select ends, then the
            // duplicate, which closes the socket for good.
            let _ = SockRef::from(&socket_for_reset).set_linger(Some(Duration::ZERO));
        }
        () = stop_requested(stop) => {}
    }
}

/// The stream plus a second handle on the same socket, kept to reset it.
fn with_duplicate(stream: TcpStream) -> io::Result<(TcpStream, std::net::TcpStream)> {
    let std_stream = stream.into_std()?;
    let duplicate = std_stream.try_clone()?;
    Ok((TcpStream::from_std(std_stream)?, duplicate))
}
