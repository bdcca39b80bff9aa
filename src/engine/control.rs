//! The control protocol between `stack` commands and a running supervisor:
//! newline-delimited JSON over `<run>/<project>/control.sock`, one request
//! per connection, versioned (`"v": 1`). See `book/src/control-protocol.md`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::spec::Stack;
use crate::state::ContainerRecord;

/// The protocol version this build speaks.
pub const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control socket {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("control socket {path}: bad message: {source}")]
    Decode {
        path: String,
        source: serde_json::Error,
    },
    #[error("the supervisor closed the connection without answering")]
    Closed,
    #[error("{0}")]
    Refused(String),
}

/// How an `up` (or a reload) applies the file; mirrors the `up` flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpOptions {
    /// Only these services and (unless `no_deps`) their dependencies; empty: all.
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub remove_orphans: bool,
    #[serde(default)]
    pub force_recreate: bool,
    #[serde(default)]
    pub no_recreate: bool,
    #[serde(default)]
    pub no_deps: bool,
}

/// A request: `{"v":1,"op":"ps"}`, `{"v":1,"op":"stop","services":["web"]}` …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub v: u32,
    #[serde(flatten)]
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// The containers as the supervisor sees them.
    Ps,
    /// Stop services (all when empty); remembered until `start`.
    Stop {
        #[serde(default)]
        services: Vec<String>,
        /// Seconds before SIGKILL; default: each service's `stop_grace_period`.
        #[serde(default)]
        timeout: Option<u64>,
    },
    Start {
        #[serde(default)]
        services: Vec<String>,
    },
    Restart {
        #[serde(default)]
        services: Vec<String>,
        #[serde(default)]
        timeout: Option<u64>,
    },
    /// Stop and remove every container, then exit.
    Down {
        #[serde(default)]
        timeout: Option<u64>,
    },
    /// Apply a new stack (what `up` sends to a running supervisor).
    Reload {
        stack: Box<Stack>,
        #[serde(default)]
        options: UpOptions,
    },
    /// Answer once the stack has settled: every service started, or with
    /// `healthy` healthy/completed; or a failure.
    Wait {
        #[serde(default)]
        healthy: bool,
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
    /// Stream events until the connection closes.
    Events,
    /// Start watching the stack file, its `.env` and `env_file`s (and the
    /// services' `develop.watch` trees), as `up --watch` does; answers
    /// like `ps`. Watching already: nothing changes.
    Watch,
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unix milliseconds.
    pub time: u64,
    #[serde(default)]
    pub service: Option<String>,
    /// `created`, `started`, `healthy`, `unhealthy`, `died`, `oom`,
    /// `restarting`, `stopped`, `removed`, `reloaded`, `failed`, `orphan`;
    /// with watching: `watching`, `invalid` (a save that was not applied),
    /// `synced`, `sync_failed`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl Event {
    /// `2026-…Z web died exit 1`
    pub fn text(&self) -> String {
        let mut s = format!(
            "{} {}",
            super::logs::format_time_ms(self.time),
            self.service.as_deref().unwrap_or("-")
        );
        s.push(' ');
        s.push_str(&self.kind);
        if !self.detail.is_empty() {
            s.push(' ');
            s.push_str(&self.detail);
        }
        s
    }
}

/// A reply. Fields not relevant to the request are absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub v: u32,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `ps`, `wait`: the containers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub containers: Option<Vec<ContainerRecord>>,
    /// Services not created yet, with why (waiting or blocked).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, String>,
    /// Services that have a container (listed in `containers`) and wait or
    /// are blocked, with why; `ps` shows it on the container's own line. A
    /// back-off is not here: the record's `next_restart_ms` says it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, String>,
    /// `reload`: the actions taken, one line each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor_pid: Option<i32>,
    #[serde(default)]
    pub watch: bool,
}

impl Response {
    pub fn ok() -> Response {
        Response {
            v: VERSION,
            ok: true,
            ..Default::default()
        }
    }
    pub fn err(msg: impl Into<String>) -> Response {
        Response {
            v: VERSION,
            ok: false,
            error: Some(msg.into()),
            ..Default::default()
        }
    }
}

/// Why a request line is refused (its text is sent back).
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("bad request: {0}")]
    Bad(#[source] serde_json::Error),
    #[error("unsupported protocol version {} (this supervisor speaks {VERSION}); use the same stack binary", .0.map(|x| x.to_string()).unwrap_or_else(|| "none".into()))]
    Version(Option<u64>),
}

/// Parse a request line; a wrong version or an unknown op is an error to
/// send back.
pub fn parse_request(line: &str) -> Result<Request, RequestError> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(RequestError::Bad)?;
    let ver = v.get("v").and_then(|x| x.as_u64());
    if ver != Some(VERSION as u64) {
        return Err(RequestError::Version(ver));
    }
    serde_json::from_value(v).map_err(RequestError::Bad)
}

/// A connection to a project's supervisor.
pub struct Client {
    stream: UnixStream,
    path: String,
}

impl Client {
    /// Connect; `None` when no supervisor listens.
    pub fn connect(sock: &Path) -> Option<Client> {
        let stream = UnixStream::connect(sock).ok()?;
        Some(Client {
            stream,
            path: sock.display().to_string(),
        })
    }

    fn io(&self) -> impl FnOnce(std::io::Error) -> ControlError + '_ {
        move |source| ControlError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn send(&mut self, op: Op) -> Result<BufReader<UnixStream>, ControlError> {
        let mut line = serde_json::to_string(&Request { v: VERSION, op }).map_err(|source| {
            ControlError::Decode {
                path: self.path.clone(),
                source,
            }
        })?;
        line.push('\n');
        self.stream
            .write_all(line.as_bytes())
            .map_err(|e| (self.io())(e))?;
        let r = self.stream.try_clone().map_err(|e| (self.io())(e))?;
        Ok(BufReader::new(r))
    }

    fn read(&self, r: &mut BufReader<UnixStream>) -> Result<Response, ControlError> {
        let mut line = String::new();
        let n = r.read_line(&mut line).map_err(|e| (self.io())(e))?;
        if n == 0 {
            return Err(ControlError::Closed);
        }
        serde_json::from_str(&line).map_err(|source| ControlError::Decode {
            path: self.path.clone(),
            source,
        })
    }

    /// One request, one response, as it came (also with `ok: false`).
    pub fn request(mut self, op: Op, timeout: Option<Duration>) -> Result<Response, ControlError> {
        let _ = self.stream.set_read_timeout(timeout);
        let mut r = self.send(op)?;
        self.read(&mut r)
    }

    /// One request, one response; a response with `ok: false` is an error.
    pub fn call(self, op: Op, timeout: Option<Duration>) -> Result<Response, ControlError> {
        let resp = self.request(op, timeout)?;
        if !resp.ok {
            return Err(ControlError::Refused(
                resp.error
                    .unwrap_or_else(|| "the supervisor refused".into()),
            ));
        }
        Ok(resp)
    }

    /// Stream responses (events) to `f` until it returns false or the
    /// supervisor closes the connection.
    pub fn stream(
        mut self,
        op: Op,
        f: &mut dyn FnMut(Response) -> bool,
    ) -> Result<(), ControlError> {
        let mut r = self.send(op)?;
        loop {
            match self.read(&mut r) {
                Ok(resp) => {
                    if !resp.ok {
                        return Err(ControlError::Refused(resp.error.unwrap_or_default()));
                    }
                    if !f(resp) {
                        return Ok(());
                    }
                }
                Err(ControlError::Closed) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_wire_format() {
        let r = Request {
            v: 1,
            op: Op::Stop {
                services: vec!["web".into()],
                timeout: Some(3),
            },
        };
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(s, r#"{"v":1,"op":"stop","services":["web"],"timeout":3}"#);
        assert_eq!(parse_request(&s).unwrap(), r);
        assert_eq!(parse_request(r#"{"v":1,"op":"ps"}"#).unwrap().op, Op::Ps);
        assert_eq!(
            parse_request(r#"{"v":1,"op":"stop"}"#).unwrap().op,
            Op::Stop {
                services: vec![],
                timeout: None
            }
        );
    }

    #[test]
    fn versions_and_garbage_are_refused() {
        let e = parse_request(r#"{"v":2,"op":"ps"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported protocol version 2"), "{e}");
        let e = parse_request(r#"{"op":"ps"}"#).unwrap_err().to_string();
        assert!(e.contains("version none"), "{e}");
        assert!(parse_request(r#"{"v":1,"op":"explode"}"#).is_err());
        assert!(parse_request("not json").is_err());
    }

    #[test]
    fn response_roundtrip_over_a_socket() {
        let t = tempfile::tempdir().unwrap();
        let sock = t.path().join("control.sock");
        let l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            let req = parse_request(&line).unwrap();
            assert_eq!(req.op, Op::Ps);
            let mut w = s;
            let mut resp = Response::ok();
            resp.supervisor_pid = Some(7);
            resp.watch = true;
            writeln!(w, "{}", serde_json::to_string(&resp).unwrap()).unwrap();
        });
        let resp = Client::connect(&sock)
            .unwrap()
            .call(Op::Ps, Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(resp.supervisor_pid, Some(7));
        assert!(resp.watch);
        h.join().unwrap();
        assert!(Client::connect(&t.path().join("none.sock")).is_none());
    }
}
