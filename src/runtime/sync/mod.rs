//! Copying files from the host into a running container (`develop.watch`
//! with `action: sync`), and removing them again.
//!
//! The supervisor is multi-threaded, so it never joins a namespace itself:
//! `sync` runs `stack __sync <pid>` (a fresh, single-threaded process), sends
//! it the operations as JSON on stdin and reads one JSON reply on stdout.
//!
//! The helper opens every host source first, while its root and `/proc` are
//! still the host's, then joins the container's mount namespace and chroots
//! to the init's root. Inside, a target's parent directories are resolved
//! with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` relative to that
//! root: a symlink the container planted (`/app -> /etc`,
//! `-> ../../..`) resolves inside the container, and one through a proc
//! magic link (`-> /proc/1/root/..`, `-> /proc/1/fd/3`) is refused. The last
//! component is never followed: a file is written to a temporary name in
//! its directory and renamed over the target (so a symlink there is
//! replaced, not written through, and a reader sees the old or the new
//! file, never half of one); a directory's entries are created one name at
//! a time relative to directory fds opened with `O_NOFOLLOW`. So with
//! `/app -> /etc` in the container, target `/app/x` writes the container's
//! `/etc/x` (what a `cp` by the container itself would do), never the
//! host's. Directories on proc, sys or cgroup file systems are never
//! written, and a pid that shares the host's mount namespace or root (a
//! stale pid) is refused; `sync_spawned` also refuses a reused pid.
//!
//! Semantics, as Docker's `cp` (which Compose's sync uses): files keep the
//! host's permission bits and are owned by root; a directory is merged into
//! the target (entries missing on the host are not deleted: the watcher
//! sends a `Remove` for them); symlinks inside a copied directory are copied
//! as symlinks; sockets, fifos and devices are skipped.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::spawn::Spawned;

mod enter;
mod helper;
mod resolve;
mod tree;

use helper::{apply, OpError};

/// One file or directory to put into the container, or remove from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncOp {
    /// Copy the host file or directory `host` (a directory recursively) to
    /// the absolute path `target` in the container, creating missing parent
    /// directories.
    Copy { host: PathBuf, target: String },
    /// Delete the file, symlink or directory tree at `target`; nothing
    /// there is not an error.
    Remove { target: String },
}

impl SyncOp {
    fn target(&self) -> &str {
        match self {
            SyncOp::Copy { target, .. } | SyncOp::Remove { target } => target,
        }
    }
}

/// Why `sync` failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The helper process could not be started or talked to.
    #[error("cannot run the sync helper `{exe} __sync {pid}`: {source}")]
    Helper {
        exe: PathBuf,
        pid: i32,
        source: io::Error,
    },
    /// The helper ended without a reply (crashed, or was killed).
    #[error(
        "the sync helper for container process {pid} ended without a reply ({status}){stderr}"
    )]
    NoReply {
        pid: i32,
        status: String,
        stderr: String,
    },
    /// A host path is not valid UTF-8 and cannot cross the JSON request.
    #[error("cannot sync {0}: the path is not valid UTF-8; rename it")]
    NotUtf8(PathBuf),
    /// The request could not be encoded as JSON.
    #[error("cannot encode the sync request: {0}")]
    Encode(#[source] serde_json::Error),
    /// Some operations failed (the others were applied); one sentence each.
    #[error("{}", .0.join("; "))]
    Failed(Vec<String>),
}

#[derive(Serialize, Deserialize)]
struct Request {
    ops: Vec<SyncOp>,
}

#[derive(Serialize, Deserialize)]
struct Reply {
    /// One sentence per failed operation (or one for the whole request).
    errors: Vec<String>,
}

/// The `stack __sync <pid> [--start-time N]` command (from the binary set
/// with `spawn::set_init_exe`, else our own). With a start time, the helper
/// refuses a `pid` that is now another process.
pub fn sync_helper_command(pid: i32, start_time: Option<u64>) -> Command {
    let mut c = super::sealed::helper_command();
    c.arg("__sync").arg(pid.to_string());
    if let Some(t) = start_time {
        c.arg("--start-time").arg(t.to_string());
    }
    c
}

/// Apply ops inside the container whose init is `pid`, in order. Runs in a
/// fresh `stack __sync` process (the supervisor is multi-threaded: never
/// setns or fork there). Every op is tried; the error lists those that
/// failed. A `pid` in the host's own mount namespace is refused.
pub fn sync(pid: i32, ops: &[SyncOp]) -> Result<(), SyncError> {
    sync_checked(pid, None, ops)
}

/// `sync`, also refusing the container if its init's pid now belongs to
/// another process (a different `Spawned::start_time`).
pub fn sync_spawned(c: &Spawned, ops: &[SyncOp]) -> Result<(), SyncError> {
    // 0: the start time was not known when it started.
    sync_checked(c.pid, (c.start_time != 0).then_some(c.start_time), ops)
}

fn sync_checked(pid: i32, start_time: Option<u64>, ops: &[SyncOp]) -> Result<(), SyncError> {
    if ops.is_empty() {
        return Ok(());
    }
    for op in ops {
        if let SyncOp::Copy { host, .. } = op {
            if host.to_str().is_none() {
                return Err(SyncError::NotUtf8(host.clone()));
            }
        }
    }
    let request = serde_json::to_vec(&Request { ops: ops.to_vec() }).map_err(SyncError::Encode)?;
    let exe = super::sealed::init_exe_path();
    let helper = |source| SyncError::Helper {
        exe: exe.clone(),
        pid,
        source,
    };
    let mut child = sync_helper_command(pid, start_time)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(helper)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that dies early closes the pipe; its reply (or the lack
        // of one) below says why, so a write error adds nothing.
        let _ = stdin.write_all(&request);
    }
    let out = child.wait_with_output().map_err(helper)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<Reply>(l).ok())
    {
        Some(r) if r.errors.is_empty() && out.status.success() => Ok(()),
        Some(r) if !r.errors.is_empty() => Err(SyncError::Failed(r.errors)),
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Err(SyncError::NoReply {
                pid,
                status: out.status.to_string(),
                stderr: if stderr.is_empty() {
                    String::new()
                } else {
                    format!(": {stderr}")
                },
            })
        }
    }
}

/// Entry of the hidden `stack __sync <pid> [--start-time N]` verb: read the
/// request on stdin, apply it, print the reply on stdout. Exit code 0 when
/// every op was applied, else 1.
pub fn sync_main(pid: i32, start_time: Option<u64>) -> i32 {
    let errors = match read_request() {
        Ok(ops) => apply(pid, start_time, &ops),
        Err(e) => vec![e.to_string()],
    };
    let code = i32::from(!errors.is_empty());
    let reply = serde_json::to_string(&Reply { errors }).unwrap_or_else(|_| {
        r#"{"errors":["the sync helper cannot encode its reply"]}"#.to_string()
    });
    println!("{reply}");
    code
}
fn read_request() -> Result<Vec<SyncOp>, OpError> {
    let mut buf = Vec::new();
    io::stdin()
        .read_to_end(&mut buf)
        .map_err(OpError::ReadRequest)?;
    let r: Request = serde_json::from_slice(&buf).map_err(OpError::BadRequest)?;
    Ok(r.ops)
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;

    use super::helper::split_target;
    use super::*;

    fn names(v: &[CString]) -> Vec<&str> {
        v.iter().map(|c| c.to_str().unwrap()).collect()
    }

    #[test]
    fn targets_split_into_components() {
        let (d, n) = split_target("/app//src/./main.py").unwrap();
        assert_eq!(names(&d), ["app", "src"]);
        assert_eq!(n.unwrap().to_str().unwrap(), "main.py");
        let (d, n) = split_target("/").unwrap();
        assert!(d.is_empty() && n.is_none());
        assert!(split_target("app/x")
            .unwrap_err()
            .to_string()
            .contains("write it as /app/x"));
        assert!(split_target("/app/../etc")
            .unwrap_err()
            .to_string()
            .contains("\"..\""));
        assert!(split_target("/a\0b")
            .unwrap_err()
            .to_string()
            .contains("NUL"));
    }

    #[test]
    fn ops_round_trip_as_json() {
        let ops = vec![
            SyncOp::Copy {
                host: "/src/a".into(),
                target: "/app/a".into(),
            },
            SyncOp::Remove {
                target: "/app/b".into(),
            },
        ];
        let s = serde_json::to_string(&Request { ops: ops.clone() }).unwrap();
        let back: Request = serde_json::from_str(&s).unwrap();
        assert_eq!(back.ops, ops);
    }

    #[test]
    fn host_side_errors_are_reported_per_op_without_joining() {
        // These fail before any namespace is joined, so they run unprivileged.
        let errs = apply(
            1,
            None,
            &[
                SyncOp::Copy {
                    host: "/nonexistent/stack-sync".into(),
                    target: "/app/x".into(),
                },
                SyncOp::Remove {
                    target: "relative".into(),
                },
                SyncOp::Copy {
                    host: "/dev/null".into(),
                    target: "/x".into(),
                },
                SyncOp::Remove { target: "/".into() },
            ],
        );
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs[0].starts_with(
            "cannot sync /nonexistent/stack-sync to /app/x in the container: cannot open /nonexistent/stack-sync on the host"
        ), "{errs:?}");
        assert!(errs[1].contains("not an absolute path"), "{errs:?}");
        assert!(
            errs[2].contains("not a regular file or directory"),
            "{errs:?}"
        );
        assert!(errs[3].contains("the container's root"), "{errs:?}");
    }

    #[test]
    fn helper_command_args() {
        let c = sync_helper_command(42, Some(7));
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["__sync", "42", "--start-time", "7"]);
    }
}
