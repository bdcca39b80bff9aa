//! Acting on containers without the loop: stopping a process tree through
//! its cgroup, removing a container's files, and `down` with no supervisor.
//! Used by the supervisor's workers and by the CLI when no supervisor runs.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::runtime::cgroup::{self, Cgroup};
use crate::runtime::mountinfo;
use crate::state::{proc_start_time, ContainerRecord, StateError, Store};

/// Whether the recorded process is still the one that was started.
pub fn alive(pid: Option<i32>, start_time: Option<u64>) -> bool {
    match (pid, start_time) {
        (Some(pid), Some(st)) if pid > 0 => proc_start_time(pid) == Some(st),
        (Some(pid), None) if pid > 0 => proc_start_time(pid).is_some(),
        _ => false,
    }
}

/// Whether a record's container still runs.
pub fn rec_alive(rec: &ContainerRecord) -> bool {
    alive(rec.pid, rec.start_time)
}

/// `SIGTERM`, `TERM`, `15` → 15; unknown → SIGTERM.
pub fn signal_number(name: &str) -> i32 {
    let n = name.trim();
    if let Ok(v) = n.parse::<i32>() {
        return v;
    }
    let up = n.to_ascii_uppercase();
    let full = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    full.parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .unwrap_or(libc::SIGTERM)
}

fn cgroup_pids(path: &str) -> Vec<i32> {
    Cgroup::open(path).map(|c| c.pids()).unwrap_or_default()
}

/// Stop a container: `signal` to its main process, up to `grace` for it to
/// go, then SIGKILL to every process in its cgroup; returns once nothing of
/// it runs (or after 10 s more, giving up).
pub fn stop_container(
    pid: Option<i32>,
    start_time: Option<u64>,
    cgroup_path: &str,
    signal: i32,
    grace: Duration,
) {
    let deadline = Instant::now() + grace;
    if alive(pid, start_time) {
        if let Some(p) = pid {
            // SAFETY: kill has no memory effects; the pid was checked to be ours (start time).
            unsafe { libc::kill(p, signal) };
        }
    } else if !cgroup_pids(cgroup_path).is_empty() {
        // The main process is gone (or unknown) but something is left.
        if let Some(c) = Cgroup::open(cgroup_path) {
            let _ = c.kill_all(signal);
        }
    }
    while Instant::now() < deadline {
        if !alive(pid, start_time) && cgroup_pids(cgroup_path).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    kill_now(pid, start_time, cgroup_path);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !alive(pid, start_time) && cgroup_pids(cgroup_path).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
        kill_now(pid, start_time, cgroup_path);
    }
}

/// SIGKILL the main process and everything in the cgroup.
pub fn kill_now(pid: Option<i32>, start_time: Option<u64>, cgroup_path: &str) {
    if let Some(c) = Cgroup::open(cgroup_path) {
        let _ = c.kill_all(libc::SIGKILL);
    }
    if alive(pid, start_time) {
        if let Some(p) = pid {
            // SAFETY: as in stop_container.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
    }
}

/// Unmount everything under `dir` (lazily: a busy mount still goes).
pub fn unmount_under(dir: &Path) {
    let _ = mountinfo::unmount_under(dir);
}

/// Remove a container's cgroup and its overlay dirs (after it stopped).
pub fn remove_container_files(store: &Store, service: &str, cgroup_path: &str) {
    if let Some(c) = Cgroup::open(cgroup_path) {
        let _ = c.delete();
    }
    let bundle = store.bundle_dir(service);
    unmount_under(&bundle);
    let _ = std::fs::remove_dir_all(&bundle);
}

/// What `down` found and did, for its report.
#[derive(Debug, Default)]
pub struct DownReport {
    pub removed: Vec<String>,
    pub warnings: Vec<String>,
}

/// `stack down` with no supervisor: find containers through the state dir
/// and the cgroups, stop them (grace `timeout`, else each service's own),
/// delete cgroups, mounts and files. Keeps named volumes unless `volumes`.
pub fn down_direct(
    store: &Store,
    timeout: Option<Duration>,
    volumes: bool,
) -> Result<DownReport, StateError> {
    let mut report = DownReport::default();
    let (recs, damage) = store.containers()?;
    for d in damage {
        report.warnings.push(d.to_string());
    }
    let mut seen = BTreeSet::new();
    // Stop in parallel; each has its own grace period.
    let handles: Vec<_> = recs
        .iter()
        .map(|r| {
            seen.insert(r.cgroup.clone());
            let (pid, st, cg) = (r.pid, r.start_time, r.cgroup.clone());
            let sig = signal_number(&r.config.stop_signal);
            let grace = timeout.unwrap_or(r.config.stop_grace_period.as_duration());
            std::thread::spawn(move || stop_container(pid, st, &cg, sig, grace))
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    // Containers whose record is lost: only their cgroup is left to find them by.
    for path in cgroup::list(&format!("stack/{}", store.project)) {
        if seen.insert(path.clone()) {
            stop_container(None, None, &path, libc::SIGKILL, Duration::ZERO);
            report.warnings.push(format!(
                "cgroup {path} had no state record; its processes were killed"
            ));
        }
        if let Some(c) = Cgroup::open(&path) {
            if let Err(e) = c.delete() {
                report.warnings.push(e.to_string());
            }
        }
    }
    for r in &recs {
        remove_container_files(store, &r.service, &r.cgroup);
        report.removed.push(r.service.clone());
    }
    unmount_under(&store.containers_dir());
    store.remove_all(volumes)?;
    let _ = std::fs::remove_file(store.lock_file());
    let _ = std::fs::remove_dir(&store.run);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(signal_number("SIGTERM"), 15);
        assert_eq!(signal_number("int"), 2);
        assert_eq!(signal_number("9"), 9);
        assert_eq!(signal_number("SIGQUIT"), 3);
        assert_eq!(signal_number("bogus"), 15);
    }

    #[test]
    fn stop_a_plain_process() {
        let mut c = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = c.id() as i32;
        let st = proc_start_time(pid);
        assert!(alive(Some(pid), st));
        let h = std::thread::spawn(move || c.wait());
        stop_container(Some(pid), st, "stack/none/none", 15, Duration::from_secs(5));
        h.join().unwrap().unwrap();
        assert!(!alive(Some(pid), st));
        // A recycled pid with another start time is not "alive".
        assert!(!alive(Some(std::process::id() as i32), Some(1)));
    }
}
