//! Stopping a container's processes: its main process by pid (checked by
//! start time, so a recycled pid is never signalled), then everything left
//! in its cgroup.

use std::time::{Duration, Instant};

use super::cgroup::Cgroup;
use super::proc::live_start_time;

/// Whether the recorded process is still the one that was started.
pub fn alive(pid: Option<i32>, start_time: Option<u64>) -> bool {
    match (pid, start_time) {
        (Some(pid), Some(st)) if pid > 0 => live_start_time(pid) == Some(st),
        (Some(pid), None) if pid > 0 => live_start_time(pid).is_some(),
        _ => false,
    }
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
        let st = live_start_time(pid);
        assert!(alive(Some(pid), st));
        let h = std::thread::spawn(move || c.wait());
        stop_container(Some(pid), st, "stack/none/none", 15, Duration::from_secs(5));
        h.join().unwrap().unwrap();
        assert!(!alive(Some(pid), st));
        // A recycled pid with another start time is not "alive".
        assert!(!alive(Some(std::process::id() as i32), Some(1)));
    }
}
