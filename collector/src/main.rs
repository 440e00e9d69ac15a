//! `lunary-collector` command: parses the flags, starts the server, prints the one line that test
//! harnesses read to learn the port, and runs until Ctrl-C or SIGTERM.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::ExitCode;

use lunary_collector::{serve, CliError, Config};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(CliError::Help) => {
            println!("{}", lunary_collector::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };

    let server = match serve(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("lunary-collector: {error}");
            return ExitCode::FAILURE;
        }
    };

    // Exactly one line on stdout, flushed at once: harnesses wait for it to learn the port.
    let mut stdout = std::io::stdout().lock();
    let printed = writeln!(
        stdout,
        "lunary-collector listening on http://{}",
        server.addr()
    )
    .and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(error) = printed {
        eprintln!("lunary-collector: cannot write to stdout: {error}");
    }

    wait_for_stop_signal().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C, or on SIGTERM where there is one, so that the database is closed cleanly.
async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
