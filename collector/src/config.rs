//! Command-line options, and the [`Config`] an in-process server is started with.

use std::fmt;
use std::net::IpAddr;
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// Text printed for `--help`.
pub const USAGE: &str = "\
Usage: lunary-collector [--port 3333] [--db lunary-dev.db] [--bind 127.0.0.1] [--faults]
                        [--demo-dir www/dist]

  --port N     TCP port to listen on; 0 picks a free one (default 3333)
  --db PATH    SQLite file to store events in; ':memory:' keeps them in memory (default lunary-dev.db)
  --bind ADDR  address to bind (default 127.0.0.1)
  --faults     enable the fault-injection endpoint /__faults
  --demo-dir D also serve the built demo app from directory D at /demo/, and at / a page
               showing it next to the inspector (/inspector/ is always served)
  --help       print this text";

/// How to run a collector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to bind; loopback by default so that a dev server is not exposed.
    pub bind: IpAddr,
    /// Port to bind; 0 lets the OS pick a free one (read it back from [`crate::Server::addr`]).
    pub port: u16,
    /// SQLite database path, or `:memory:`.
    pub db: String,
    /// Whether `/__faults` exists. Off by default so a dev server never misbehaves by accident.
    pub faults: bool,
    /// A directory of static files (the built demo app) to serve at `/demo/`; with it, `/`
    /// shows the demo next to the inspector.
    pub demo_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 3333,
            db: "lunary-dev.db".to_string(),
            faults: false,
            demo_dir: None,
        }
    }
}

impl Config {
    /// A config for tests: in-memory database, a free port on 127.0.0.1.
    pub fn for_tests(faults: bool) -> Self {
        Config {
            port: 0,
            db: ":memory:".to_string(),
            faults,
            ..Config::default()
        }
    }

    /// Parses the command-line arguments (without the program name).
    pub fn from_args<I, S>(args: I) -> Result<Config, CliError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut config = Config::default();
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            // Accept both `--port 3333` and `--port=3333`.
            let (name, inline_value) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => {
                    (name.to_string(), Some(value.to_string()))
                }
                _ => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline_value
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| CliError::Invalid(format!("{name} needs a value")))
            };
            match name.as_str() {
                "--port" => {
                    let raw = value("--port")?;
                    config.port = raw
                        .parse()
                        .map_err(|_| CliError::Invalid(format!("invalid port: {raw}")))?;
                }
                "--db" => config.db = value("--db")?,
                "--bind" => {
                    let raw = value("--bind")?;
                    config.bind = raw
                        .parse()
                        .map_err(|_| CliError::Invalid(format!("invalid bind address: {raw}")))?;
                }
                "--faults" => config.faults = true,
                "--demo-dir" => config.demo_dir = Some(PathBuf::from(value("--demo-dir")?)),
                "--help" | "-h" => return Err(CliError::Help),
                other => return Err(CliError::Invalid(format!("unknown argument: {other}"))),
            }
        }
        Ok(config)
    }
}

/// Why the command line was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliError {
    /// `--help` was asked for.
    Help,
    /// An unknown option or a bad value.
    Invalid(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Help => f.write_str(USAGE),
            CliError::Invalid(message) => write!(f, "{message}\n\n{USAGE}"),
        }
    }
}

impl std::error::Error for CliError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_arguments() {
        assert_eq!(
            Config::from_args(Vec::<String>::new()).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn parses_all_options() {
        let config = Config::from_args([
            "--port",
            "0",
            "--db=:memory:",
            "--bind",
            "0.0.0.0",
            "--faults",
            "--demo-dir",
            "www/dist",
        ])
        .unwrap();
        assert_eq!(config.port, 0);
        assert_eq!(config.db, ":memory:");
        assert_eq!(config.bind.to_string(), "0.0.0.0");
        assert!(config.faults);
        assert_eq!(config.demo_dir, Some(PathBuf::from("www/dist")));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            Config::from_args(["--port", "x"]),
            Err(CliError::Invalid(_))
        ));
        assert!(matches!(
            Config::from_args(["--port"]),
            Err(CliError::Invalid(_))
        ));
        assert!(matches!(
            Config::from_args(["--nope"]),
            Err(CliError::Invalid(_))
        ));
        assert_eq!(Config::from_args(["--help"]), Err(CliError::Help));
    }
}
