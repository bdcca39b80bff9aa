//! The authorised request to a repository's API: the scheme chosen (and an
//! insecure registry's fallback to plain HTTP), a cached token or the 401
//! challenge answered, and a failure status turned into its sentence.

use super::auth::{parse_challenge, token_url, Challenge, TokenResponse};
use super::credentials::{self, Credentials};
use super::endpoint::{api_host, scheme_for, Scheme};
use super::http::{HttpError, Request, Url};
use super::{Client, PullError};
use crate::image::digest::Digest;
use crate::image::reference::Reference;
use std::io::Read;

/// What a request asks for, to say what a 404 means.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Manifest(&'a str),
    Blob(&'a Digest),
}

impl Client {
    /// `GET /v2/<repository>/<path>`, authorised as the registry asks.
    /// Success (2xx) and 416 are responses; any other status an error.
    pub(super) fn get(
        &self,
        r: &Reference,
        path: &str,
        headers: &[(&str, String)],
        target: Target<'_>,
    ) -> Result<ureq::Response, PullError> {
        let scope = format!("repository:{}:pull", r.repository);
        let mut authorization = self.auth.get(&r.registry, &scope);
        let mut fresh: Option<Option<Credentials>> = None;
        loop {
            let resp = self.send_api(r, path, headers, authorization.as_deref())?;
            if resp.status() != 401 {
                return self.check_status(r, resp, target);
            }
            self.auth.forget(&r.registry, &scope);
            if let Some(creds) = fresh {
                return Err(refused(r, creds.as_ref()));
            }
            let creds = self.credentials_for(r)?;
            let challenge = resp.header("www-authenticate").and_then(parse_challenge);
            let value = match challenge {
                Some(Challenge::Bearer {
                    realm,
                    service,
                    scope: asked,
                }) => {
                    let s = asked.unwrap_or_else(|| scope.clone());
                    self.token(r, &realm, service.as_deref(), &s, creds.as_ref())?
                }
                Some(Challenge::Basic) => match &creds {
                    Some(c) => c.basic(),
                    None => return Err(refused(r, None)),
                },
                Some(Challenge::Other(_)) | None => return Err(refused(r, creds.as_ref())),
            };
            self.auth.put(&r.registry, &scope, value.clone());
            authorization = Some(value);
            fresh = Some(creds);
        }
    }

    /// One request to the registry's API host, on the scheme it takes.
    fn send_api(
        &self,
        r: &Reference,
        path: &str,
        headers: &[(&str, String)],
        authorization: Option<&str>,
    ) -> Result<ureq::Response, PullError> {
        let url = |https| Url {
            https,
            authority: api_host(&r.registry).to_ascii_lowercase(),
            rest: format!("/v2/{}/{path}", r.repository),
        };
        let send = |https| {
            self.http.send(&Request {
                method: "GET",
                url: url(https),
                headers,
                authorization,
            })
        };
        let known_plain = self
            .plain
            .lock()
            .map(|p| p.contains(&r.registry))
            .unwrap_or(false);
        let result = match scheme_for(&r.registry, &self.opts.insecure) {
            Scheme::Http => send(false),
            Scheme::Https => send(true),
            Scheme::HttpsThenHttp if known_plain => send(false),
            Scheme::HttpsThenHttp => match send(true) {
                Err(HttpError::Transport { .. }) => {
                    let plain = send(false);
                    if plain.is_ok() {
                        if let Ok(mut p) = self.plain.lock() {
                            p.push(r.registry.clone());
                        }
                    }
                    plain
                }
                other => other,
            },
        };
        result.map_err(|e| http_error(r, e))
    }

    /// A bearer token from `realm`, as an `Authorization` value.
    fn token(
        &self,
        r: &Reference,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        creds: Option<&Credentials>,
    ) -> Result<String, PullError> {
        let protocol = |reason: String| PullError::Protocol {
            image: r.to_string(),
            registry: r.registry.clone(),
            reason,
        };
        let url = Url::parse(&token_url(realm, service, scope)).ok_or_else(|| {
            protocol(format!(
                "named the token realm {realm:?}, which is not an http(s) URL"
            ))
        })?;
        let basic = creds.map(Credentials::basic);
        let resp = self
            .http
            .send(&Request {
                method: "GET",
                url: url.clone(),
                headers: &[],
                authorization: basic.as_deref(),
            })
            .map_err(|e| http_error(r, e))?;
        match resp.status() {
            200..=299 => {}
            401 | 403 => return Err(refused(r, creds)),
            _ => return Err(self.status_error(r, resp, &url.to_string())),
        }
        let body = read_limited(r, resp, 1 << 20, "the token")?;
        let token = serde_json::from_slice::<TokenResponse>(&body)
            .ok()
            .and_then(TokenResponse::into_token)
            .ok_or_else(|| protocol(format!("token server {url} answered without a token")))?;
        Ok(format!("Bearer {token}"))
    }

    /// The user's credentials for the reference's registry, looked up once.
    fn credentials_for(&self, r: &Reference) -> Result<Option<Credentials>, PullError> {
        if let Some(c) = self
            .credentials
            .lock()
            .ok()
            .and_then(|m| m.get(&r.registry).cloned())
        {
            return Ok(c);
        }
        let c = credentials::lookup(
            &r.to_string(),
            self.opts.docker_config.as_deref(),
            self.helper_dir.as_deref(),
            &r.registry,
        )?;
        if let Ok(mut m) = self.credentials.lock() {
            m.insert(r.registry.clone(), c.clone());
        }
        Ok(c)
    }

    fn check_status(
        &self,
        r: &Reference,
        resp: ureq::Response,
        target: Target<'_>,
    ) -> Result<ureq::Response, PullError> {
        let image = r.to_string();
        match (resp.status(), target) {
            (200..=299 | 416, _) => Ok(resp),
            (403, _) => Err(PullError::Forbidden {
                image,
                registry: r.registry.clone(),
                repository: r.repository.clone(),
            }),
            (404, Target::Manifest(reference)) => Err(PullError::ManifestUnknown {
                image,
                registry: r.registry.clone(),
                repository: r.repository.clone(),
                reference: reference.to_string(),
            }),
            (404, Target::Blob(digest)) => Err(PullError::BlobUnknown {
                image,
                registry: r.registry.clone(),
                repository: r.repository.clone(),
                digest: digest.clone(),
            }),
            _ => {
                let url = resp.get_url().to_string();
                Err(self.status_error(r, resp, &url))
            }
        }
    }

    /// A failure status as its sentence: 429 says when to retry.
    fn status_error(&self, r: &Reference, resp: ureq::Response, url: &str) -> PullError {
        let image = r.to_string();
        let status = resp.status();
        if status == 429 {
            let retry = match resp.header("retry-after").map(str::trim) {
                Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                    format!("in {s} seconds (the registry's Retry-After)")
                }
                Some(s) if !s.is_empty() => format!("after {s} (the registry's Retry-After)"),
                _ => "in a few minutes; logging in (`docker login`) raises most registries' limits"
                    .to_string(),
            };
            return PullError::RateLimited {
                image,
                registry: r.registry.clone(),
                retry,
            };
        }
        let body = read_limited(r, resp, 64 << 10, "an error").unwrap_or_default();
        PullError::Status {
            image,
            url: url.to_string(),
            status,
            detail: error_detail(&body),
        }
    }
}

/// 401 after trying: refused credentials, or none given.
fn refused(r: &Reference, creds: Option<&Credentials>) -> PullError {
    match creds {
        Some(c) => PullError::CredentialsRefused {
            image: r.to_string(),
            registry: r.registry.clone(),
            from: c.from.clone(),
        },
        None => PullError::NeedsCredentials {
            image: r.to_string(),
            registry: r.registry.clone(),
        },
    }
}

pub(super) fn http_error(r: &Reference, e: HttpError) -> PullError {
    let image = r.to_string();
    match e {
        HttpError::Transport {
            plain_http: true, ..
        } => PullError::PlainHttpRefused {
            image,
            registry: r.registry.clone(),
            url: format!("http://{}/v2/", api_host(&r.registry)),
        },
        HttpError::Transport {
            address, reason, ..
        } => PullError::Unreachable {
            image,
            address,
            reason,
        },
        HttpError::PlainHttp { url } => PullError::PlainHttpRefused {
            image,
            registry: Url::parse(&url).map_or_else(|| r.registry.clone(), |u| u.authority),
            url,
        },
        HttpError::Redirect { reason } => PullError::Protocol {
            image,
            registry: r.registry.clone(),
            reason,
        },
    }
}

/// The registry's `{"errors": [{"code", "message"}]}`, or the body's start.
fn error_detail(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(e) = serde_json::from_slice::<Errors>(body) {
        let parts: Vec<String> = e
            .errors
            .iter()
            .map(|e| format!("{} {}", e.code, e.message).trim().to_string())
            .collect();
        if !parts.is_empty() {
            return format!(" ({})", parts.join("; "));
        }
    }
    let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
    let text = text.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    }
}

/// A response body of at most `limit` bytes.
pub(super) fn read_limited(
    r: &Reference,
    resp: ureq::Response,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, PullError> {
    let mut body = Vec::new();
    resp.into_reader()
        .take(limit + 1)
        .read_to_end(&mut body)
        .map_err(|e| PullError::Protocol {
            image: r.to_string(),
            registry: r.registry.clone(),
            reason: format!("broke off while sending {what} ({e}): pull again"),
        })?;
    if body.len() as u64 > limit {
        return Err(PullError::TooLarge {
            image: r.to_string(),
            what: what.to_string(),
            limit,
        });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_errors_are_summarised() {
        let body = br#"{"errors":[{"code":"UNSUPPORTED","message":"nope"}]}"#;
        assert_eq!(error_detail(body), " (UNSUPPORTED nope)");
        assert_eq!(error_detail(b""), "");
        assert_eq!(error_detail(b"  oops \n"), " (oops)");
    }
}
