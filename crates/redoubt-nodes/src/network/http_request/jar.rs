//! A per-request cookie jar, as the node gives `got` a fresh
//! `tough-cookie` jar for every message: cookies from `msg.cookies` and the
//! `cookie` header go in, `Set-Cookie` answers (redirect hops included) are
//! stored, and each hop sends the cookies that match its host and path.
//!
//! Host-only and `Domain` cookies, `Path`, `Secure`, `Max-Age` and `Expires`
//! are honoured; public-suffix checks are not made.

use reqwest::Url;

#[derive(Debug, Clone)]
struct Cookie {
    name: String,
    value: String,
    domain: String,
    host_only: bool,
    path: String,
    secure: bool,
    expires: Option<i64>,
    seq: u64,
}

/// The cookies of one request and its redirects.
#[derive(Debug, Clone, Default)]
pub(super) struct Jar {
    cookies: Vec<Cookie>,
    seq: u64,
}

impl Jar {
    /// Stores one `Set-Cookie` line received from (or meant for) `url`;
    /// invalid cookies are ignored.
    pub(super) fn set(&mut self, line: &str, url: &Url) {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return;
        };
        let mut parts = line.split(';');
        let first = parts.next().unwrap_or("");
        let (name, value) = match first.split_once('=') {
            Some((n, v)) => (n.trim().to_string(), v.trim().to_string()),
            None => return,
        };
        let mut c = Cookie {
            name,
            value,
            domain: host.clone(),
            host_only: true,
            path: default_path(url.path()),
            secure: false,
            expires: None,
            seq: 0,
        };
        let mut max_age: Option<i64> = None;
        for attr in parts {
            let (k, v) = match attr.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim()),
                None => (attr.trim().to_ascii_lowercase(), ""),
            };
            match k.as_str() {
                "domain" if !v.is_empty() => {
                    let d = v.trim_start_matches('.').to_ascii_lowercase();
                    if !domain_match(&host, &d) {
                        return;
                    }
                    c.domain = d;
                    c.host_only = false;
                }
                "path" if v.starts_with('/') => c.path = v.to_string(),
                "secure" => c.secure = true,
                "max-age" => max_age = v.parse::<i64>().ok(),
                "expires" => {
                    if let Ok(d) = chrono::DateTime::parse_from_rfc2822(&v.replace('-', " ")) {
                        c.expires = Some(d.timestamp());
                    }
                }
                _ => {}
            }
        }
        let now = chrono::Utc::now().timestamp();
        if let Some(secs) = max_age {
            c.expires = Some(if secs <= 0 {
                i64::MIN
            } else {
                now.saturating_add(secs)
            });
        }
        let existing = self
            .cookies
            .iter()
            .position(|o| o.name == c.name && o.domain == c.domain && o.path == c.path);
        let seq = match existing {
            Some(i) => self.cookies.remove(i).seq,
            None => {
                self.seq += 1;
                self.seq
            }
        };
        if c.expires.is_some_and(|e| e <= now) {
            return;
        }
        c.seq = seq;
        self.cookies.push(c);
    }

    /// The `Cookie` header for a request to `url`, if any cookie matches.
    pub(super) fn header_for(&self, url: &Url) -> Option<String> {
        let host = url.host_str()?.to_ascii_lowercase();
        let path = url.path();
        let secure = url.scheme() == "https";
        let now = chrono::Utc::now().timestamp();
        let mut found: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| {
                if c.host_only {
                    c.domain == host
                } else {
                    domain_match(&host, &c.domain)
                }
            })
            .filter(|c| path_match(path, &c.path))
            .filter(|c| secure || !c.secure)
            .filter(|c| c.expires.is_none_or(|e| e > now))
            .collect();
        if found.is_empty() {
            return None;
        }
        found.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.seq.cmp(&b.seq)));
        let pairs: Vec<String> = found
            .iter()
            .map(|c| {
                if c.name.is_empty() {
                    c.value.clone()
                } else {
                    format!("{}={}", c.name, c.value)
                }
            })
            .collect();
        Some(pairs.join("; "))
    }
}

fn domain_match(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            && host.parse::<std::net::IpAddr>().is_err())
}

/// RFC 6265 default-path: the request path up to its last `/`.
fn default_path(path: &str) -> String {
    if !path.starts_with('/') {
        return "/".into();
    }
    match path.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => path[..i].to_string(),
    }
}

fn path_match(req: &str, cookie: &str) -> bool {
    req == cookie
        || (req.starts_with(cookie)
            && (cookie.ends_with('/') || req.as_bytes().get(cookie.len()) == Some(&b'/')))
}

/// `cookie.parse(header, {decode: String})`: name/value pairs of a `Cookie`
/// header, undecoded, first occurrence winning.
pub(super) fn parse_cookie_header(header: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for part in header.split(';') {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty() || out.iter().any(|(n, _)| n == k) {
            continue;
        }
        let mut v = v.trim();
        if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
            v = &v[1..v.len() - 1];
        }
        out.push((k.to_string(), v.to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn host_only_cookies_stay_on_their_host_and_path() {
        let mut j = Jar::default();
        j.set("a=1", &url("http://localhost:1/x/y"));
        j.set("b=2; Path=/", &url("http://localhost:1/x/y"));
        assert_eq!(
            j.header_for(&url("http://localhost:1/x/z")).as_deref(),
            Some("a=1; b=2")
        );
        assert_eq!(
            j.header_for(&url("http://localhost:1/other")).as_deref(),
            Some("b=2")
        );
        assert_eq!(j.header_for(&url("http://127.0.0.1:1/x/z")), None);
    }

    #[test]
    fn expired_cookies_are_removed_and_domains_checked() {
        let mut j = Jar::default();
        j.set("a=1; Path=/", &url("http://h.example/"));
        j.set("a=; Path=/; Max-Age=0", &url("http://h.example/"));
        j.set("c=3; Domain=example; Path=/", &url("http://h.example/"));
        j.set("d=4; Domain=other.org", &url("http://h.example/"));
        assert_eq!(
            j.header_for(&url("http://x.example/")).as_deref(),
            Some("c=3")
        );
    }

    #[test]
    fn cookie_header_parses_without_decoding() {
        assert_eq!(
            parse_cookie_header("data=a%20b; foo=\"bar\";x"),
            vec![
                ("data".to_string(), "a%20b".to_string()),
                ("foo".to_string(), "bar".to_string())
            ]
        );
    }
}
