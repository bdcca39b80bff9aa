//! A small HTTP server on 127.0.0.1 in front of a [`super::Registry`]: a
//! bearer-token gate (401 with `WWW-Authenticate: Bearer realm=…/token`
//! unless the request carries the token; `/token` hands it out, counting
//! requests, and may require basic credentials), and faults a test turns
//! on: 429 with Retry-After, 403, blob bodies tampered with or cut off half
//! way, Range ignored, a redirect to plain HTTP elsewhere. Everything else
//! is forwarded to the registry as it came (one request per connection).

use base64::Engine as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The paths forwarded, each with its Range header if any.
pub type Forwarded = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// What the front does; change it with [`Front::set`].
#[derive(Debug, Clone, Default)]
pub struct FrontConfig {
    /// Require `Authorization: Bearer <token>` on `/v2/…`.
    pub bearer: Option<String>,
    /// Basic credentials `/token` requires.
    pub token_basic: Option<(String, String)>,
    /// Basic credentials added when forwarding (a registry with htpasswd).
    pub upstream_basic: Option<(String, String)>,
    /// Answer every `/v2/…` request 429 with this Retry-After.
    pub rate_limit: Option<String>,
    /// Answer every `/v2/…` request 403.
    pub forbidden: bool,
    /// Flip a byte of every blob body.
    pub tamper_blobs: bool,
    /// Send only this many bytes of a blob body, then close.
    pub cut_blobs_after: Option<usize>,
    /// Answer a ranged blob request with the whole blob (200).
    pub ignore_range: bool,
    /// Redirect blob requests here (`{path}` is replaced by the path).
    pub redirect_blobs: Option<String>,
}

pub struct Front {
    pub port: u16,
    pub token_requests: Arc<AtomicUsize>,
    /// Requests forwarded, with their Range header if any.
    pub forwarded: Forwarded,
    config: Arc<Mutex<FrontConfig>>,
    stop: Arc<AtomicBool>,
}

impl Front {
    /// A front for the registry at `127.0.0.1:upstream`.
    pub fn start(upstream: u16, config: FrontConfig) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let front = Front {
            port,
            token_requests: Arc::new(AtomicUsize::new(0)),
            forwarded: Arc::new(Mutex::new(vec![])),
            config: Arc::new(Mutex::new(config)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let shared = Shared {
            port,
            upstream,
            token_requests: front.token_requests.clone(),
            forwarded: front.forwarded.clone(),
            config: front.config.clone(),
        };
        let stop = front.stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = shared.serve(conn);
                });
            }
        });
        front
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn set(&self, f: impl FnOnce(&mut FrontConfig)) {
        f(&mut self.config.lock().unwrap());
    }

    pub fn tokens(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

#[derive(Clone)]
struct Shared {
    port: u16,
    upstream: u16,
    token_requests: Arc<AtomicUsize>,
    forwarded: Forwarded,
    config: Arc<Mutex<FrontConfig>>,
}

struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(conn: &TcpStream) -> std::io::Result<Req> {
    let mut r = BufReader::new(conn);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("/").to_string();
    let mut headers = vec![];
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut req = Req {
        method,
        path,
        headers,
        body: vec![],
    };
    let len: usize = req
        .header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    req.body = vec![0; len];
    r.read_exact(&mut req.body)?;
    Ok(req)
}

fn respond(
    mut conn: &TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    conn.write_all(out.as_bytes())?;
    conn.write_all(body)?;
    conn.flush()
}

fn basic(u: &str, p: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
    )
}

/// `/v2/<name>/(manifests|blobs)/…` → name.
fn repository_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v2/")?;
    let at = rest.find("/manifests/").or_else(|| rest.find("/blobs/"))?;
    Some(&rest[..at])
}

impl Shared {
    fn serve(&self, conn: TcpStream) -> std::io::Result<()> {
        let req = read_request(&conn)?;
        let cfg = self.config.lock().unwrap().clone();
        if req.path.starts_with("/token") {
            self.token_requests.fetch_add(1, Ordering::SeqCst);
            if let Some((u, p)) = &cfg.token_basic {
                if req.header("authorization") != Some(basic(u, p).as_str()) {
                    return respond(
                        &conn,
                        "401 Unauthorized",
                        &[],
                        b"{\"details\":\"bad credentials\"}",
                    );
                }
            }
            let token = cfg.bearer.clone().unwrap_or_default();
            let body = serde_json::to_vec(&serde_json::json!({"token": token, "expires_in": 300}))
                .unwrap();
            return respond(
                &conn,
                "200 OK",
                &[("Content-Type", "application/json".into())],
                &body,
            );
        }
        if let Some(token) = &cfg.bearer {
            if req.header("authorization") != Some(format!("Bearer {token}").as_str()) {
                let scope = repository_of(&req.path)
                    .map(|n| format!(",scope=\"repository:{n}:pull\""))
                    .unwrap_or_default();
                let challenge = format!(
                    "Bearer realm=\"http://127.0.0.1:{}/token\",service=\"test\"{scope}",
                    self.port
                );
                return respond(
                    &conn,
                    "401 Unauthorized",
                    &[
                        ("WWW-Authenticate", challenge),
                        ("Content-Type", "application/json".into()),
                    ],
                    br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                );
            }
        }
        if let Some(after) = &cfg.rate_limit {
            return respond(
                &conn,
                "429 Too Many Requests",
                &[("Retry-After", after.clone())],
                br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}"#,
            );
        }
        if cfg.forbidden {
            return respond(
                &conn,
                "403 Forbidden",
                &[],
                br#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
            );
        }
        let is_blob = req.path.contains("/blobs/sha256:");
        if is_blob {
            if let Some(target) = &cfg.redirect_blobs {
                let location = target.replace("{path}", &req.path);
                return respond(
                    &conn,
                    "307 Temporary Redirect",
                    &[("Location", location)],
                    b"",
                );
            }
        }
        self.forward(conn, req, &cfg, is_blob)
    }

    fn forward(
        &self,
        conn: TcpStream,
        req: Req,
        cfg: &FrontConfig,
        is_blob: bool,
    ) -> std::io::Result<()> {
        let range = req.header("range").map(str::to_string);
        self.forwarded
            .lock()
            .unwrap()
            .push((req.path.clone(), range.clone()));
        let mut up = TcpStream::connect(("127.0.0.1", self.upstream))?;
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            req.method, req.path, self.upstream
        );
        for (k, v) in &req.headers {
            let k_l = k.to_ascii_lowercase();
            if ["host", "connection", "authorization"].contains(&k_l.as_str()) {
                continue;
            }
            if k_l == "range" && cfg.ignore_range {
                continue;
            }
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some((u, p)) = &cfg.upstream_basic {
            out.push_str(&format!("Authorization: {}\r\n", basic(u, p)));
        }
        out.push_str("\r\n");
        up.write_all(out.as_bytes())?;
        up.write_all(&req.body)?;
        let mut resp = vec![];
        up.read_to_end(&mut resp)?;
        let mut conn = conn;
        let faulty = is_blob && (cfg.tamper_blobs || cfg.cut_blobs_after.is_some());
        let split = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| i + 4);
        match (faulty, split) {
            (true, Some(at)) => {
                let (head, body) = resp.split_at(at);
                let mut body = body.to_vec();
                if cfg.tamper_blobs && !body.is_empty() {
                    let mid = body.len() / 2;
                    body[mid] ^= 0xff;
                }
                if let Some(n) = cfg.cut_blobs_after {
                    body.truncate(n);
                }
                conn.write_all(head)?;
                conn.write_all(&body)?;
            }
            _ => conn.write_all(&resp)?,
        }
        conn.flush()?;
        let _ = conn.shutdown(std::net::Shutdown::Both);
        Ok(())
    }
}
