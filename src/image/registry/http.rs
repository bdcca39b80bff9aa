//! One HTTP exchange with a registry (or the storage it redirects blobs
//! to), blocking, over `ureq`: connect within 10 s, 30 s of silence ends a
//! read. Redirects are followed here, not by ureq, so that a redirect from
//! HTTPS to plain HTTP (or plain HTTP to a host that may not have it) is
//! refused, and the `Authorization` header never reaches another host.

use super::endpoint::{address_of, plain_http_allowed};
use std::time::Duration;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_REDIRECTS: usize = 10;

/// Why an exchange did not give a response.
#[derive(Debug)]
pub enum HttpError {
    /// No connection, or it broke before a response came.
    Transport {
        address: String,
        reason: String,
        /// The server answered a TLS hello in plain HTTP.
        plain_http: bool,
    },
    /// A plain HTTP URL that may not be used.
    PlainHttp { url: String },
    /// A redirect that cannot be followed.
    Redirect { reason: String },
}

/// A URL split as far as stack needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub https: bool,
    /// `host[:port]`.
    pub authority: String,
    /// `/path?query`.
    pub rest: String,
}

impl Url {
    pub fn parse(s: &str) -> Option<Url> {
        let (https, tail) = if let Some(t) = s.strip_prefix("https://") {
            (true, t)
        } else if let Some(t) = s.strip_prefix("http://") {
            (false, t)
        } else {
            return None;
        };
        let end = tail.find(['/', '?', '#']).unwrap_or(tail.len());
        let authority = &tail[..end];
        if authority.is_empty() {
            return None;
        }
        let rest = match &tail[end..] {
            "" => "/".to_string(),
            r if r.starts_with('/') => r.to_string(),
            r => format!("/{r}"),
        };
        Some(Url {
            https,
            authority: authority.to_ascii_lowercase(),
            rest,
        })
    }

    /// A `Location` header's target, relative to this URL.
    pub fn join(&self, location: &str) -> Option<Url> {
        if location.starts_with("http://") || location.starts_with("https://") {
            return Url::parse(location);
        }
        let scheme = if self.https { "https" } else { "http" };
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("{scheme}://{rest}"));
        }
        let rest = if location.starts_with('/') {
            location.to_string()
        } else {
            let path = self.rest.split(['?', '#']).next().unwrap_or("/");
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            format!("{dir}/{location}")
        };
        Some(Url {
            https: self.https,
            authority: self.authority.clone(),
            rest,
        })
    }

    pub fn address(&self) -> String {
        address_of(&self.authority, self.https)
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.authority, self.rest)
    }
}

/// The HTTP client: one connection pool, shared by every thread.
pub struct Http {
    agent: ureq::Agent,
    insecure: Vec<String>,
}

/// A request: method, URL, headers; `authorization` goes only to the
/// host of `url`.
pub struct Request<'a> {
    pub method: &'a str,
    pub url: Url,
    pub headers: &'a [(&'a str, String)],
    pub authorization: Option<&'a str>,
}

impl Http {
    pub fn new(insecure: Vec<String>, resolver: Option<Box<dyn ureq::Resolver>>) -> Http {
        let mut b = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .timeout_read(READ_TIMEOUT)
            .timeout_write(READ_TIMEOUT)
            .redirects(0)
            .user_agent(concat!("stack/", env!("CARGO_PKG_VERSION")));
        if let Some(r) = resolver {
            b = b.resolver(BoxedResolver(r));
        }
        Http {
            agent: b.build(),
            insecure,
        }
    }

    /// Sends `req`, following redirects; any status is a response.
    pub fn send(&self, req: &Request<'_>) -> Result<ureq::Response, HttpError> {
        let mut url = req.url.clone();
        for _ in 0..=MAX_REDIRECTS {
            if !url.https && !plain_http_allowed(&url.authority, &self.insecure) {
                return Err(HttpError::PlainHttp {
                    url: url.to_string(),
                });
            }
            let mut r = self.agent.request(req.method, &url.to_string());
            for (k, v) in req.headers {
                r = r.set(k, v);
            }
            if let Some(a) = req.authorization {
                if url.authority == req.url.authority {
                    r = r.set("Authorization", a);
                }
            }
            let resp = match r.call() {
                Ok(resp) | Err(ureq::Error::Status(_, resp)) => resp,
                Err(ureq::Error::Transport(t)) => {
                    let reason = transport_reason(&t);
                    return Err(HttpError::Transport {
                        address: url.address(),
                        plain_http: url.https
                            && (reason.contains("InvalidContentType")
                                || reason.contains("corrupt message")),
                        reason,
                    });
                }
            };
            if !matches!(resp.status(), 301 | 302 | 303 | 307 | 308) {
                return Ok(resp);
            }
            let next = resp
                .header("location")
                .and_then(|l| url.join(l))
                .ok_or_else(|| HttpError::Redirect {
                    reason: format!(
                        "{url} redirected ({}) without a usable Location header",
                        resp.status()
                    ),
                })?;
            if url.https && !next.https {
                return Err(HttpError::PlainHttp {
                    url: next.to_string(),
                });
            }
            url = next;
        }
        Err(HttpError::Redirect {
            reason: format!("more than {MAX_REDIRECTS} redirects from {}", req.url),
        })
    }
}

/// A transport error as a short reason.
fn transport_reason(t: &ureq::Transport) -> String {
    use std::error::Error as _;
    let mut reason = match t.kind() {
        ureq::ErrorKind::Dns => "the name does not resolve".to_string(),
        ureq::ErrorKind::ConnectionFailed => "the connection failed".to_string(),
        _ => "the connection broke".to_string(),
    };
    if let Some(m) = t.message() {
        reason.push_str(&format!(" ({m})"));
    }
    let mut source = t.source();
    while let Some(s) = source {
        reason.push_str(&format!(": {s}"));
        source = s.source();
    }
    reason
}

struct BoxedResolver(Box<dyn ureq::Resolver>);

impl ureq::Resolver for BoxedResolver {
    fn resolve(&self, netloc: &str) -> std::io::Result<Vec<std::net::SocketAddr>> {
        self.0.resolve(netloc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_join_locations() {
        let u = Url::parse("https://Reg.example:5000/v2/a/blobs/x?y=1").unwrap();
        assert!(u.https);
        assert_eq!(u.authority, "reg.example:5000");
        assert_eq!(u.rest, "/v2/a/blobs/x?y=1");
        assert_eq!(
            u.join("/other").unwrap().to_string(),
            "https://reg.example:5000/other"
        );
        assert_eq!(
            u.join("http://s3.example/b").unwrap().to_string(),
            "http://s3.example/b"
        );
        assert_eq!(
            u.join("//cdn.example/c").unwrap().to_string(),
            "https://cdn.example/c"
        );
        assert_eq!(
            u.join("sibling").unwrap().to_string(),
            "https://reg.example:5000/v2/a/blobs/sibling"
        );
        assert_eq!(Url::parse("http://h").unwrap().rest, "/");
        assert!(Url::parse("ftp://h/").is_none());
        assert!(Url::parse("https:///x").is_none());
    }
}
