//! The project's resolver process (`stack __dns TABLE ADDR…`, see
//! `runtime::dns`): started detached in a session of its own, so it
//! outlives a supervisor crash as the containers do; recorded with its
//! start time so a later supervisor, or `down`, finds exactly it.
//!
//! ```text
//! <run>/resolver.json        {pid, start_time, listen}
//! <run>/resolver/table.json  what it answers (replaced by rename)
//! <run>/resolver.log         its stderr
//! ```

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::NetworkError;
use crate::runtime::proc;

/// How long a new resolver has to bind its sockets: milliseconds here,
/// seconds in an emulated guest loading a debug binary over 9p. An exit is
/// seen at once, so only a hung start waits this long.
const READY_WITHIN: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub pid: i32,
    pub start_time: u64,
    pub listen: Vec<SocketAddr>,
}

pub fn record_file(run: &Path) -> PathBuf {
    run.join("resolver.json")
}

pub fn table_file(run: &Path) -> PathBuf {
    run.join("resolver").join("table.json")
}

/// The recorded resolver, if it still runs.
pub fn running(run: &Path) -> Option<Record> {
    let text = std::fs::read(record_file(run)).ok()?;
    let rec: Record = serde_json::from_slice(&text).ok()?;
    (proc::live_start_time(rec.pid) == Some(rec.start_time)).then_some(rec)
}

/// A resolver on exactly `listen` (none: no resolver), started or
/// replaced as needed. The table file must exist.
pub fn ensure(run: &Path, listen: &[SocketAddr]) -> Result<(), NetworkError> {
    let current = running(run);
    if current.as_ref().is_some_and(|r| r.listen == listen) {
        return Ok(());
    }
    if let Some(r) = current {
        stop_record(&r);
    }
    let _ = std::fs::remove_file(record_file(run));
    if listen.is_empty() {
        return Ok(());
    }
    start(run, listen)
}

fn start(run: &Path, listen: &[SocketAddr]) -> Result<(), NetworkError> {
    let exe = std::env::current_exe().map_err(NetworkError::Resolver)?;
    let log = std::fs::File::create(run.join("resolver.log")).map_err(NetworkError::Resolver)?;
    let mut cmd = Command::new(exe);
    cmd.arg("__dns")
        .arg(table_file(run))
        .args(listen.iter().map(|a| a.to_string()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; nothing else runs between
    // fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(NetworkError::Resolver)?;
    let pid = child.id() as i32;
    // The reaper's sweep collects it if it ever exits while we run.
    drop(child);
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if let Some(start_time) = proc::live_start_time(pid) {
            if listening(pid, listen) {
                let rec = Record {
                    pid,
                    start_time,
                    listen: listen.to_vec(),
                };
                let bytes = serde_json::to_vec(&rec).unwrap_or_default();
                crate::state::write_atomic(&record_file(run), &bytes)
                    .map_err(|e| NetworkError::Resolver(std::io::Error::other(e.to_string())))?;
                return Ok(());
            }
        } else {
            let said = std::fs::read_to_string(run.join("resolver.log")).unwrap_or_default();
            return Err(NetworkError::ResolverExited(said.trim().to_string()));
        }
        if Instant::now() > deadline {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            return Err(NetworkError::ResolverExited(format!(
                "it did not listen on {listen:?} within {} s",
                READY_WITHIN.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether `pid` has a UDP socket bound to every address of `listen`
/// (read from `/proc/<pid>/net/udp`, the host's: it runs there).
fn listening(pid: i32, listen: &[SocketAddr]) -> bool {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/udp")) else {
        return false;
    };
    let bound: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_string))
        .collect();
    listen.iter().all(|a| match a {
        SocketAddr::V4(v4) => {
            let hex = format!(
                "{:08X}:{:04X}",
                u32::from_le_bytes(v4.ip().octets()),
                v4.port()
            );
            bound.contains(&hex)
        }
        SocketAddr::V6(_) => true,
    })
}

/// Stop the recorded resolver (if it runs) and forget it.
pub fn stop(run: &Path) {
    if let Some(r) = running(run) {
        stop_record(&r);
    }
    let _ = std::fs::remove_file(record_file(run));
    let _ = std::fs::remove_dir_all(run.join("resolver"));
    let _ = std::fs::remove_file(run.join("resolver.log"));
}

/// SIGKILL (it keeps nothing worth a clean exit, and its idle threads
/// would take up to 200 ms to notice a SIGTERM), then wait until it is
/// gone so its addresses are free for a successor. The pid is checked
/// against its start time first, so a reused pid is never hit.
fn stop_record(r: &Record) {
    let ours = || proc::live_start_time(r.pid) == Some(r.start_time);
    if !ours() {
        return;
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(r.pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    let deadline = Instant::now() + Duration::from_secs(1);
    while ours() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}
