//! Authenticating to a registry as Docker does: ask anonymously; on a 401
//! read `WWW-Authenticate`. `Bearer realm=…,service=…,scope=…`: get a
//! token from the realm (`GET realm?service=…&scope=…`, with the user's
//! basic credentials when they have some), then retry with
//! `Authorization: Bearer <token>`. `Basic realm=…`: retry with the basic
//! credentials. Tokens are cached per (registry, scope), basic per
//! registry, so that one pull asks the token server once.

use std::collections::HashMap;
use std::sync::Mutex;

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
    /// A scheme stack does not speak (its name).
    Other(String),
}

/// Parses one challenge: `Scheme k="v", k2=v2`. The first is taken when a
/// header holds several (Bearer is preferred when named anywhere).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, params) = match header.split_once(char::is_whitespace) {
        Some((s, p)) => (s, p),
        None => (header, ""),
    };
    if scheme.is_empty() {
        return None;
    }
    let params = parse_params(params);
    let get = |k: &str| {
        params
            .iter()
            .find(|(pk, _)| pk.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        })
    } else if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else {
        Some(Challenge::Other(scheme.to_string()))
    }
}

/// `k="v", k2=v2` (quoted strings may hold commas and `\"`).
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ','))
            .collect::<String>()
            .trim()
            .to_string();
        if key.is_empty() {
            break;
        }
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_string();
        }
        out.push((key, value));
    }
    out
}

/// The token server's answer (Docker's `token`, OAuth's `access_token`).
#[derive(serde::Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
}

impl TokenResponse {
    pub fn into_token(self) -> Option<String> {
        self.token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))
    }
}

/// What a registry was last authorised with, shared by the threads of a
/// [`super::Client`].
#[derive(Default)]
pub struct AuthCache {
    /// `(registry, scope)` → `Authorization` header value.
    tokens: Mutex<HashMap<(String, String), String>>,
}

impl AuthCache {
    pub fn get(&self, registry: &str, scope: &str) -> Option<String> {
        self.tokens
            .lock()
            .ok()?
            .get(&(registry.to_string(), scope.to_string()))
            .cloned()
    }

    pub fn put(&self, registry: &str, scope: &str, authorization: String) {
        if let Ok(mut t) = self.tokens.lock() {
            t.insert((registry.to_string(), scope.to_string()), authorization);
        }
    }

    pub fn forget(&self, registry: &str, scope: &str) {
        if let Ok(mut t) = self.tokens.lock() {
            t.remove(&(registry.to_string(), scope.to_string()));
        }
    }
}

/// `realm?service=…&scope=…`, percent-encoded.
pub fn token_url(realm: &str, service: Option<&str>, scope: &str) -> String {
    let mut url = realm.to_string();
    let mut sep = if realm.contains('?') { '&' } else { '?' };
    if let Some(s) = service {
        url.push_str(&format!("{sep}service={}", encode(s)));
        sep = '&';
    }
    url.push_str(&format!("{sep}scope={}", encode(scope)));
    url
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_parse_with_quoted_commas() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull,push".into()),
            }
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("basic"), Some(Challenge::Basic));
        assert_eq!(
            parse_challenge(r#"Bearer realm=http://h/t, service = s"#),
            Some(Challenge::Bearer {
                realm: "http://h/t".into(),
                service: Some("s".into()),
                scope: None
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge(""), None);
        assert!(matches!(
            parse_challenge("Negotiate"),
            Some(Challenge::Other(_))
        ));
    }

    #[test]
    fn token_urls_are_encoded() {
        assert_eq!(
            token_url("https://a/token", Some("reg svc"), "repository:x/y:pull"),
            "https://a/token?service=reg%20svc&scope=repository:x%2Fy:pull"
        );
        assert_eq!(
            token_url("https://a/t?x=1", None, "s"),
            "https://a/t?x=1&scope=s"
        );
    }

    #[test]
    fn tokens_prefer_token_then_access_token() {
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"b"}"#).unwrap();
        assert_eq!(t.into_token().as_deref(), Some("b"));
        let t: TokenResponse = serde_json::from_str(r#"{"token":"a","access_token":"b"}"#).unwrap();
        assert_eq!(t.into_token().as_deref(), Some("a"));
        let t: TokenResponse = serde_json::from_str(r#"{}"#).unwrap();
        assert!(t.into_token().is_none());
    }
}
