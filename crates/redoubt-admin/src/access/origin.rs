//! Cross-site request checks. Browsers send `Origin` (and `Sec-Fetch-Site`)
//! on cross-site posts and websocket upgrades; a page on another site must
//! never drive the admin API (Node-RED has no CSRF defence and no Origin
//! check on its websocket). Requests without these headers come from
//! non-browser clients (`node-red-admin`, curl) and are allowed.

use axum::http::{HeaderMap, header};

/// Whether the request may come from the page that sent it: no `Origin`,
/// or an `Origin` whose host and port equal the `Host` the request was
/// sent to; and never `Sec-Fetch-Site: cross-site`.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Some((_, authority)) = origin.split_once("://") else {
        return false; // "null" and other opaque origins
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin_authority = authority.trim_end_matches('/');
    origin_authority.eq_ignore_ascii_case(host) || same_with_default_port(origin, host)
}

/// `http://h` vs `Host: h:80`, `https://h` vs `Host: h:443`.
fn same_with_default_port(origin: &str, host: &str) -> bool {
    let (scheme, authority) = origin.split_once("://").unwrap_or(("", ""));
    let default = match scheme {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let with_port = |a: &str| {
        if a.rsplit_once(':')
            .is_some_and(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            && !a.ends_with(']')
        {
            a.to_ascii_lowercase()
        } else {
            format!("{}:{default}", a.to_ascii_lowercase())
        }
    };
    with_port(authority.trim_end_matches('/')) == with_port(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn origins() {
        assert!(same_origin(&h(&[("host", "127.0.0.1:1880")])));
        assert!(same_origin(&h(&[
            ("host", "127.0.0.1:1880"),
            ("origin", "http://127.0.0.1:1880")
        ])));
        assert!(same_origin(&h(&[
            ("host", "example.com"),
            ("origin", "https://example.com")
        ])));
        assert!(!same_origin(&h(&[
            ("host", "127.0.0.1:1880"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&h(&[
            ("host", "127.0.0.1:1880"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&h(&[
            ("host", "127.0.0.1:1880"),
            ("origin", "http://127.0.0.1:1881")
        ])));
        assert!(!same_origin(&h(&[
            ("host", "127.0.0.1:1880"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(same_origin(&h(&[
            ("host", "127.0.0.1:1880"),
            ("sec-fetch-site", "same-origin")
        ])));
    }
}
