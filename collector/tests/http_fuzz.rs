//! A bounded fuzz of the collector over real HTTP (raw sockets, so that any method, target and
//! header set can be sent): random methods, paths, header sets (content types, key forms,
//! origins, chunked bodies) and bodies (generated ingest bodies, any JSON, changed bodies, any
//! bytes), each request on its own connection. Every well-formed request gets a whole answer,
//! with CORS, and never a 5xx other than the protocol's 500 for a JSON body without `events`;
//! afterwards a normal ingest is answered and stored as usual. Fixed seed and request count.
//!
//! Also the body limit at its edge: 20 MB is processed, one byte more is a 413 that the client
//! gets to read.

mod common;
#[path = "common/json_gen.rs"]
mod json_gen;

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{run_event, TestServer, PROJECT};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRunner};
use serde_json::{json, Value};

const REQUESTS: u32 = 300;
const SEED: u64 = 0x4770_5eed;
/// The ingest body limit.
const LIMIT: usize = 20 * 1024 * 1024;
/// Bodies sent where no handler reads them are kept this small, so that they arrive with the
/// head: a server closing a socket with unread data resets it, which would lose the answer.
const UNREAD_BODY_MAX: usize = 2048;

/// A request as written on the wire.
#[derive(Clone)]
struct RawRequest {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// Sent with `Transfer-Encoding: chunked`, in chunks of this size.
    chunked: Option<usize>,
}

impl std::fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} {}", self.method, self.target)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {}", value.escape_ascii())?;
        }
        if let Some(size) = self.chunked {
            writeln!(f, "(chunked by {size})")?;
        }
        write!(f, "{}", self.body.escape_ascii())
    }
}

impl RawRequest {
    /// A POST to the ingest endpoint, the one route that reads any body whole.
    fn reads_its_body(&self) -> bool {
        self.method == "POST" && self.target.split('?').next() == Some("/v1/runs/ingest")
    }

    fn to_bytes(&self, host: &str) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
            self.method, self.target
        )
        .into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        match self.chunked {
            Some(size) => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for chunk in self.body.chunks(size.max(1)) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
            None => {
                out.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes(),
                );
                out.extend_from_slice(&self.body);
            }
        }
        out
    }
}

/// An answer, read whole.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// Sends one request on a fresh connection and reads the answer to the end. `Err` when no
/// whole answer came back (the connection was dropped, or the answer cut short).
fn send(host: &str, request: &RawRequest) -> Result<RawAnswer, String> {
    let mut stream = TcpStream::connect(host).map_err(|e| format!("connect: {e}"))?;
    let timeout = Some(Duration::from_secs(30));
    stream
        .set_read_timeout(timeout)
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(timeout)
        .map_err(|e| e.to_string())?;
    stream
        .write_all(&request.to_bytes(host))
        .map_err(|e| format!("write: {e}"))?;
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A reset after the whole answer arrived is the server closing; judged below.
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => return Err(format!("read: {e} after {} bytes", bytes.len())),
        }
    }
    parse_answer(&bytes, request.method == "HEAD")
}

fn parse_answer(bytes: &[u8], head: bool) -> Result<RawAnswer, String> {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(format!("no whole answer head in {} bytes", bytes.len()));
    };
    let head_text = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head_text.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.strip_prefix("HTTP/1.1 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line: {head_text}"))?;
    let mut headers = Vec::new();
    let mut offset = 0;
    for line in bytes[..end].split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        offset += 1;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(format!("bad header line {offset}: {}", line.escape_ascii()));
        };
        let name = String::from_utf8_lossy(&line[..colon]).to_string();
        headers.push((name, line[colon + 1..].trim_ascii().to_vec()));
    }
    let mut answer = RawAnswer {
        status,
        headers,
        body: bytes[end + 4..].to_vec(),
    };
    let no_body = head || status == 204 || status == 304;
    if no_body {
        return Ok(answer);
    }
    if let Some(length) = answer.header("content-length") {
        let length: usize = String::from_utf8_lossy(length)
            .parse()
            .map_err(|_| "bad content-length".to_string())?;
        if answer.body.len() != length {
            return Err(format!(
                "answer cut short: {} of {length} bytes",
                answer.body.len()
            ));
        }
    } else if answer
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case(b"chunked"))
    {
        answer.body = dechunk(&answer.body).ok_or("answer cut short (chunked)")?;
    }
    Ok(answer)
}

fn dechunk(mut bytes: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&bytes[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(bytes.get(..size)?);
        bytes = bytes.get(size + 2..)?;
    }
}

// ---- generators ------------------------------------------------------------------------------

fn method() -> BoxedStrategy<String> {
    prop_oneof![
        10 => Just("POST".to_string()),
        4 => select(&["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"][..])
            .prop_map(String::from),
        1 => "[A-Za-z][A-Za-z0-9_-]{0,11}".prop_filter("CONNECT needs another target form", |m| {
            !m.eq_ignore_ascii_case("CONNECT")
        }),
    ]
    .boxed()
}

fn target() -> BoxedStrategy<String> {
    let known = select(
        &[
            "/v1/runs/ingest/",
            "/V1/runs/ingest",
            "/v1/runs",
            "/api/events",
            "/api/users",
            "/api/threads",
            "/api/threads/t1",
            "/api/threads/%00",
            "/api/threads/%ff%fe",
            "/api/threads/a%2Fb",
            "/api/stats",
            "/",
            "//",
            "/inspector",
            "/inspector/",
            "/inspector/inspector.js",
            "/inspector/..%2f..%2fCargo.toml",
            "/demo",
            "/demo/",
            "/demo/../etc/passwd",
            "/__faults",
            "/favicon.ico",
        ][..],
    )
    .prop_map(String::from);
    let segment = prop_oneof![
        "[A-Za-z0-9._~!$&'()*+,;=:@-]{0,10}",
        "(%[0-9A-Fa-f]{2}){1,4}",
        Just("..".to_string()),
    ];
    let random = vec(segment, 0..4).prop_map(|segments| format!("/{}", segments.join("/")));
    let query = option::weighted(
        0.3,
        prop_oneof![
            Just(format!("project={PROJECT}")),
            "project=[A-Za-z0-9%._-]{0,12}",
            "[A-Za-z0-9=&._-]{0,20}",
            "(%[0-9A-Fa-f]{2}|[a-z=&]){0,10}",
        ],
    );
    (
        prop_oneof![6 => Just("/v1/runs/ingest".to_string()), 3 => known, 1 => random],
        query,
    )
        .prop_map(|(path, query)| match query {
            Some(query) => format!("{path}?{query}"),
            None => path,
        })
        .boxed()
}

/// Header value bytes a well-formed request may carry (no control characters).
fn header_value() -> BoxedStrategy<Vec<u8>> {
    vec(any::<u8>(), 0..40)
        .prop_map(|bytes| {
            bytes
                .into_iter()
                .map(|b| {
                    if b == b'\t' || b >= 0x20 && b != 0x7f {
                        b
                    } else {
                        b'x'
                    }
                })
                .collect()
        })
        .boxed()
}

fn headers() -> BoxedStrategy<Vec<(String, Vec<u8>)>> {
    let authorization = prop_oneof![
        8 => Just(format!("Bearer {PROJECT}")),
        1 => Just(format!("bearer {}", PROJECT.to_uppercase())),
        1 => Just(format!("Bearer   {PROJECT}  ")),
        3 => select(&["Bearer", "Bearer ", "Bearer not-a-uuid", "Basic dXNlcjpwYXNz", "Token x"][..])
            .prop_map(String::from),
    ]
    .prop_map(String::into_bytes);
    let origin = prop_oneof![
        Just(b"http://app.test".to_vec()),
        Just(b"null".to_vec()),
        header_value(),
    ];
    let name = "[A-Za-z][A-Za-z0-9-]{0,15}".prop_filter("framing headers are set apart", |name| {
        ![
            "host",
            "content-length",
            "transfer-encoding",
            "connection",
            "expect",
            "upgrade",
            "te",
            "trailer",
            "keep-alive",
            "proxy-connection",
        ]
        .contains(&name.to_ascii_lowercase().as_str())
    });
    (
        option::weighted(
            0.9,
            prop_oneof![2 => Just(b"application/json".to_vec()), 1 => json_gen::content_type()],
        ),
        option::weighted(0.85, prop_oneof![6 => authorization, 1 => header_value()]),
        option::weighted(
            0.15,
            prop_oneof![Just(PROJECT.as_bytes().to_vec()), header_value()],
        ),
        option::weighted(0.5, origin),
        vec((name, header_value()), 0..3),
    )
        .prop_map(|(content_type, authorization, api_key, origin, extra)| {
            let mut headers = Vec::new();
            let clean = |value: Vec<u8>| -> Vec<u8> {
                value
                    .into_iter()
                    .map(|b| {
                        if b == b'\t' || b >= 0x20 && b != 0x7f {
                            b
                        } else {
                            b'x'
                        }
                    })
                    .collect()
            };
            if let Some(value) = content_type {
                headers.push(("Content-Type".to_string(), clean(value)));
            }
            if let Some(value) = authorization {
                headers.push(("Authorization".to_string(), value));
            }
            if let Some(value) = api_key {
                headers.push(("x-api-key".to_string(), value));
            }
            if let Some(value) = origin {
                headers.push(("Origin".to_string(), value));
            }
            headers.extend(extra);
            headers
        })
        .boxed()
}

fn body() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => Just(Vec::new()),
        5 => json_gen::json_body().prop_map(|body| body.render().into_bytes()),
        1 => json_gen::json_value().prop_map(|value| value.render().into_bytes()),
        2 => json_gen::mutated_body(),
        1 => vec(any::<u8>(), 0..512),
    ]
    .boxed()
}

fn request() -> BoxedStrategy<RawRequest> {
    (
        method(),
        target(),
        headers(),
        body(),
        option::weighted(0.2, 1_usize..4096),
    )
        .prop_map(|(method, target, headers, mut body, chunked)| {
            let mut request = RawRequest {
                method,
                target,
                headers,
                body: Vec::new(),
                chunked,
            };
            if !request.reads_its_body() {
                body.truncate(UNREAD_BODY_MAX);
            }
            request.body = body;
            request
        })
        .boxed()
}

// ---- the checks ------------------------------------------------------------------------------

fn check(request: &RawRequest, answer: &RawAnswer) -> Result<(), TestCaseError> {
    let missing_events = request.reads_its_body()
        && answer.status == 500
        && answer.json() == json!({"message": "Missing events payload."});
    prop_assert!(
        answer.status < 500 || missing_events,
        "a {} answer: {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    prop_assert!(
        answer.header("access-control-allow-methods").is_some(),
        "no CORS on a {} answer",
        answer.status
    );
    if let Some((_, origin)) = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("origin"))
    {
        let trimmed = origin.trim_ascii();
        prop_assert_eq!(answer.header("access-control-allow-origin"), Some(trimmed));
    }
    Ok(())
}

#[test]
fn http_fuzz() {
    let server = TestServer::start(false);
    let host = server.base.trim_start_matches("http://").to_string();
    let by_status: std::cell::RefCell<BTreeMap<u16, u32>> = Default::default();
    let sent = std::cell::Cell::new(0_u32);
    let mut runner = TestRunner::new(Config {
        cases: REQUESTS,
        rng_seed: RngSeed::Fixed(SEED),
        rng_algorithm: RngAlgorithm::XorShift,
        failure_persistence: None,
        ..Config::default()
    });
    let started = Instant::now();
    let outcome = runner.run(&request(), |request| {
        sent.set(sent.get() + 1);
        let answer = match send(&host, &request) {
            Ok(answer) => answer,
            Err(problem) => return Err(TestCaseError::fail(format!("no answer: {problem}"))),
        };
        *by_status.borrow_mut().entry(answer.status).or_default() += 1;
        check(&request, &answer)
    });
    if let Err(error) = outcome {
        panic!("{error}");
    }

    // Still serving, and still right.
    let reply = server.ingest(&json!({"events": [run_event("after-fuzz", 7)]}));
    assert_eq!(reply.results(), [json!({"id":"after-fuzz","success":true})]);
    assert!(server
        .stored_events()
        .iter()
        .any(|stored| stored["event"]["runId"] == "after-fuzz"));
    eprintln!(
        "collector fuzz: http {} requests (seed {SEED:#x}), 0 dropped connections, 0 5xx but \
         'Missing events payload.', answers by status {:?}, then a normal ingest stored, {:.1} s",
        sent.get(),
        by_status.borrow(),
        started.elapsed().as_secs_f64()
    );
}

/// A body of `len` bytes that is valid JSON with no events: `{"events":[],"p":"xxx…"}`.
fn padded_body(len: usize) -> Vec<u8> {
    let frame = br#"{"events":[],"p":""}"#;
    let mut body = br#"{"events":[],"p":""#.to_vec();
    body.resize(len - 2, b'x');
    body.extend_from_slice(br#""}"#);
    assert_eq!(body.len(), len);
    assert!(len > frame.len());
    body
}

#[test]
fn the_body_limit_at_its_edge() {
    let server = TestServer::start(false);
    let host = server.base.trim_start_matches("http://").to_string();
    let post = |body: Vec<u8>, chunked: Option<usize>, content_type: &str| RawRequest {
        method: "POST".to_string(),
        target: "/v1/runs/ingest".to_string(),
        headers: vec![
            ("Content-Type".to_string(), content_type.as_bytes().to_vec()),
            (
                "Authorization".to_string(),
                format!("Bearer {PROJECT}").into_bytes(),
            ),
            ("Origin".to_string(), b"http://app.test".to_vec()),
        ],
        body,
        chunked,
    };
    let mut seen = Vec::new();
    for (body, chunked, content_type, status) in [
        (padded_body(LIMIT), None, "application/json", 200),
        (padded_body(LIMIT + 1), None, "application/json", 413),
        (padded_body(LIMIT), Some(1 << 20), "application/json", 200),
        (
            padded_body(LIMIT + 1),
            Some(1 << 20),
            "application/json",
            413,
        ),
        (vec![b'#'; LIMIT + 1], None, "text/plain", 413),
    ] {
        let len = body.len();
        let answer = send(&host, &post(body, chunked, content_type))
            .unwrap_or_else(|problem| panic!("{len} bytes: no answer: {problem}"));
        assert_eq!(answer.status, status, "{len} bytes, chunked {chunked:?}");
        let expected = match status {
            200 => json!({"results": []}),
            _ => json!({"message": "request entity too large"}),
        };
        assert_eq!(answer.json(), expected);
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some(&b"http://app.test"[..])
        );
        seen.push(format!(
            "{len}{} → {status}",
            if chunked.is_some() { " chunked" } else { "" }
        ));
    }
    eprintln!(
        "collector fuzz: body limit {LIMIT} bytes: {}, every answer read whole",
        seen.join(", ")
    );
}
