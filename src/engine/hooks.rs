//! Lifecycle hooks: `post_start` and `pre_stop` commands run inside a
//! running container through `stack __exec`, the sealed path `stack exec`
//! and health probes take, under the container's capabilities and seccomp
//! filter (all capabilities and none for a `privileged` hook). Their output
//! goes to the container's log, as its own lines.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::engine::convert;
use crate::runtime::spawn::{self, ExecOptions};
use crate::spec::{Hook, Service};

/// How long a `post_start` hook may take.
pub const POST_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Run `hooks` in order in the container whose init is `pid`, all within
/// `budget`. `post_start` stops at the first that fails; `pre_stop` runs
/// every one (the container stops anyway). Failures are said as sentences.
pub fn run_all(
    pid: i32,
    svc: &Service,
    which: &str,
    hooks: &[Hook],
    log: &Path,
    budget: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + budget;
    let mut failed = Vec::new();
    for (i, h) in hooks.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        if let Err(e) = run(pid, svc, h, log, left) {
            failed.push(format!(
                "service {}: {which}[{i}] ({}): {e}",
                svc.name,
                h.command.join(" ")
            ));
            if which == "post_start" {
                break;
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

fn run(pid: i32, svc: &Service, h: &Hook, log: &Path, timeout: Duration) -> Result<(), String> {
    let (capabilities, seccomp) = if h.privileged {
        let all = crate::caps::ALL.iter().map(|c| c.to_string()).collect();
        (all, None)
    } else {
        let filter = convert::seccomp(svc).map_err(|e| format!("seccomp: {e}"))?;
        (convert::service_capabilities(svc), filter)
    };
    let opts = ExecOptions {
        argv: h.command.clone(),
        env: h
            .environment
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        cwd: h.working_dir.clone(),
        user: h.user.clone(),
        tty: false,
        capabilities: Some(capabilities),
        seccomp,
    };
    let mut cmd = spawn::exec_helper_command(pid, &opts);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    let copiers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|p| ("stdout", Box::new(p) as Box<dyn std::io::Read + Send>)),
        child
            .stderr
            .take()
            .map(|p| ("stderr", Box::new(p) as Box<dyn std::io::Read + Send>)),
    ]
    .into_iter()
    .flatten()
    .map(|(stream, pipe)| {
        let log = log.to_path_buf();
        std::thread::spawn(move || copy_lines(pipe, stream, &log))
    })
    .collect();
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Ok(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("not done after {} ms", timeout.as_millis()));
            }
            Err(e) => break Err(e.to_string()),
        }
    };
    for c in copiers {
        let _ = c.join();
    }
    let status = status?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(format!("exited with code {code}")),
        None => Err(format!("ended by {status}")),
    }
}

/// Each line of `pipe` into the container's log, as the container's own.
fn copy_lines(pipe: Box<dyn std::io::Read + Send>, stream: &str, log: &Path) {
    let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
    else {
        return;
    };
    let mut r = BufReader::new(pipe);
    let mut line = Vec::new();
    while matches!(r.read_until(b'\n', &mut line), Ok(n) if n > 0) {
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        crate::runtime::init::write_line(&mut f, stream, text);
        line.clear();
    }
}
