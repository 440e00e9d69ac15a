//! A local, Lunary-compatible collector.
//!
//! It answers `POST /v1/runs/ingest` the way the real Lunary server does (status codes, per-event
//! results, timestamp ordering, CORS), stores every accepted event in SQLite, exposes what it
//! stored through a small JSON read API, and can inject faults so that SDK retry and delivery
//! logic can be tested against a server that misbehaves on purpose.
//!
//! Start it in-process with [`serve`], or from the command line with the `lunary-collector`
//! binary (see [`Config::from_args`]).

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod app;
mod auth;
mod config;
mod connection;
mod cors;
mod faults;
mod ingest;
#[cfg(test)]
mod ingest_fuzz;
mod json_text;
mod payload;
mod read_api;
mod request_body;
mod responses;
mod server;
mod state;
mod stats;
mod storage;
mod validation;
mod web;

pub use config::{CliError, Config, USAGE};
pub use server::{serve, Server, StartError};
