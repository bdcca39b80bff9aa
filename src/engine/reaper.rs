//! Noticing container exits without blocking the loop.
//!
//! Containers the supervisor started are its children: on SIGCHLD each
//! known pid is polled with `waitpid(pid, WNOHANG)` (never `waitpid(-1)`,
//! which would steal the exit of a child another thread waits for, e.g. a
//! health probe or the runtime's own helpers). Adopted containers (started
//! by an earlier supervisor) are not children: a `pidfd` tells when they
//! are gone; their exit code is unknown. As a child subreaper the
//! supervisor also inherits orphans; a zombie nobody claims for a second is
//! reaped by `sweep`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Called with `(pid, exit code)`; the code is `None` when unknown.
pub type ExitSink = Arc<dyn Fn(i32, Option<i32>) + Send + Sync>;

#[derive(Default)]
struct Inner {
    children: HashMap<i32, ()>,
    suspects: HashMap<i32, Instant>,
}

#[derive(Clone)]
pub struct Reaper {
    inner: Arc<Mutex<Inner>>,
    sink: ExitSink,
}

/// `WaitStatus` → shell-style exit code (128+signal when killed).
pub fn exit_code(ws: WaitStatus) -> Option<i32> {
    match ws {
        WaitStatus::Exited(_, c) => Some(c),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

impl Reaper {
    pub fn new(sink: ExitSink) -> Reaper {
        Reaper {
            inner: Arc::new(Mutex::new(Inner::default())),
            sink,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Watch a child of this process.
    pub fn watch_child(&self, pid: i32) {
        self.lock().children.insert(pid, ());
        // It may have exited before it was registered.
        self.on_sigchld();
    }

    /// Watch a process that is not our child, through a pidfd.
    pub fn watch_adopted(&self, pid: i32) {
        let sink = self.sink.clone();
        // SAFETY: pidfd_open takes a pid and flags; returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as i32;
        if fd < 0 {
            sink(pid, None);
            return;
        }
        let spawned = std::thread::Builder::new()
            .name(format!("pidfd-{pid}"))
            .spawn(move || {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                loop {
                    // SAFETY: one valid pollfd; infinite timeout.
                    let r = unsafe { libc::poll(&mut p, 1, -1) };
                    if r > 0
                        || (r < 0
                            && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR))
                    {
                        break;
                    }
                }
                // SAFETY: fd is ours and closed once.
                unsafe { libc::close(fd) };
                sink(pid, None);
            });
        if spawned.is_err() {
            // SAFETY: as above.
            unsafe { libc::close(fd) };
        }
    }

    /// Collect the exits of known children; called on SIGCHLD.
    pub fn on_sigchld(&self) {
        let pids: Vec<i32> = self.lock().children.keys().copied().collect();
        for pid in pids {
            match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => {}
                Ok(ws @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => {
                    self.lock().children.remove(&pid);
                    (self.sink)(pid, exit_code(ws));
                }
                Ok(_) => {}
                Err(nix::errno::Errno::ECHILD) => {
                    // Reaped elsewhere: the exit happened, its code is lost.
                    self.lock().children.remove(&pid);
                    (self.sink)(pid, None);
                }
                Err(_) => {}
            }
        }
        self.sweep();
    }

    /// Reap inherited orphans nobody claimed for a second.
    pub fn sweep(&self) {
        for _ in 0..64 {
            // SAFETY: zeroed siginfo is a valid out-parameter for waitid.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: peek (WNOWAIT) at one zombie child, without blocking.
            let r = unsafe {
                libc::waitid(
                    libc::P_ALL,
                    0,
                    &mut info,
                    libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
                )
            };
            if r != 0 {
                return;
            }
            // SAFETY: waitid filled a SIGCHLD siginfo.
            let pid = unsafe { info.si_pid() };
            if pid == 0 {
                return;
            }
            let mut g = self.lock();
            if g.children.contains_key(&pid) {
                drop(g);
                // Ours: collect it properly.
                if let Ok(ws) = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
                    if let Some(c) = exit_code(ws) {
                        self.lock().children.remove(&pid);
                        (self.sink)(pid, Some(c));
                        continue;
                    }
                }
                return;
            }
            let first = *g.suspects.entry(pid).or_insert_with(Instant::now);
            if first.elapsed() < Duration::from_secs(1) {
                return; // maybe another thread is about to wait for it
            }
            g.suspects.remove(&pid);
            drop(g);
            let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
        }
    }

    /// Stop watching a pid (a container removed while the record goes).
    pub fn forget(&self, pid: i32) {
        self.lock().children.remove(&pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn child_exit_codes_are_reported() {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let r = Reaper::new(Arc::new(move |pid, code| {
            let _ = tx.lock().unwrap().send((pid, code));
        }));
        let c = std::process::Command::new("/bin/sh")
            .args(["-c", "exit 3"])
            .spawn()
            .unwrap();
        let pid = c.id() as i32;
        std::mem::forget(c); // the reaper, not Child, collects it
        r.watch_child(pid);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            r.on_sigchld();
            if let Ok(got) = rx.recv_timeout(Duration::from_millis(20)) {
                assert_eq!(got, (pid, Some(3)));
                break;
            }
            assert!(Instant::now() < deadline, "no exit seen");
        }
    }

    #[test]
    fn adopted_exit_is_seen_through_pidfd() {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let r = Reaper::new(Arc::new(move |pid, code| {
            let _ = tx.lock().unwrap().send((pid, code));
        }));
        let mut c = std::process::Command::new("/bin/sleep")
            .arg("0.2")
            .spawn()
            .unwrap();
        let pid = c.id() as i32;
        r.watch_adopted(pid);
        // The pidfd becomes readable at exit, before the reap.
        let got = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(got, (pid, None));
        let _ = c.wait();
    }
}
