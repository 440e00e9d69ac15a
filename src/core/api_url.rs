//! Which `apiUrl`s events may go to: `https:` anywhere, plain `http:` only to this
//! machine, so a typo cannot send users' data across a network in clear text.

use crate::prelude::*;

/// Whether events may be sent to `url`.
pub fn is_allowed(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("https://") {
        return !host(rest).is_empty();
    }
    lower
        .strip_prefix("http://")
        .is_some_and(|rest| is_loopback(host(rest)))
}

/// The host of what follows `scheme://`: up to the port, path, query or fragment.
fn host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "[::1]" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets.first() == Some(&"127")
        && octets.iter().all(|octet| {
            !octet.is_empty() && octet.len() <= 3 && octet.bytes().all(|b| b.is_ascii_digit())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_allowed_anywhere() {
        for url in [
            "https://api.lunary.ai",
            "https://lunary.example.org:8443/base/",
            "HTTPS://API.LUNARY.AI",
        ] {
            assert!(is_allowed(url), "{url}");
        }
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for url in [
            "http://localhost:3333",
            "http://127.0.0.1",
            "http://127.1.2.3:80/x",
            "http://[::1]:3333",
            "http://LOCALHOST",
        ] {
            assert!(is_allowed(url), "{url}");
        }
        for url in [
            "http://api.lunary.ai",
            "http://192.168.1.10:3333",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "http://user@evil.example",
            "http://[::2]",
            "ftp://localhost",
            "localhost:3333",
            "https://",
            "",
        ] {
            assert!(!is_allowed(url), "{url}");
        }
    }
}
