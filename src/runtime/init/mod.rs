//! pid 1 of a container (`stack __init`): finishes the set-up inside the new
//! namespaces, starts the command as pid 2, relays its output to the log
//! file, forwards signals, reaps zombies, and exits with the command's
//! status. Single-threaded, not dumpable, and small: the config is dropped
//! as soon as the command runs.

use std::ffi::CString;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

use super::channel::{self, FromInit, ToInit, INIT_CHANNEL_FD};
use super::security::Identity;

mod command;
mod kernel;
mod prepare;

pub use command::StepError;
pub(crate) use command::{exec_command, pipe, ptrs, read_step, report_step, STEP_FDS};
use prepare::prepare;
pub(crate) use prepare::resolve_command;
pub use prepare::{CommandError, InitError};

/// Signals the init passes on to the command.
const FORWARDED: &[i32] = &[
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// The `stream` of the log line the init writes last: the command's exit
/// status (`"line":"137"`). Log readers hide it.
pub const EXIT_STREAM: &str = "exit";

/// A line longer than this is cut into several log lines.
const MAX_LINE: usize = 16 * 1024;

/// Everything needed to exec the command; no config. Also used by `exec`.
pub(crate) struct Prepared {
    pub init: bool,
    pub log: Option<OwnedFd>,
    pub path: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub id: Identity,
    pub caps: u64,
    pub last_cap: u32,
    /// Set `no_new_privs` before the exec.
    pub no_new_privs: bool,
    /// The seccomp filter, ready to install with raw syscalls.
    pub seccomp: Option<super::seccomp::Loaded>,
    pub cwd: CString,
    /// `fchdir` here instead of `chdir(cwd)` (exec: the init's own cwd).
    pub cwd_fd: Option<RawFd>,
    /// For messages only.
    pub cmd: String,
    pub user: String,
    /// Where the command was looked for, for messages (`rootfs <path>`).
    pub rootfs: String,
}

/// Run the init; returns its exit code.
pub fn main() -> i32 {
    // Not dumpable: no ptrace or /proc/<pid>/mem access from the container.
    // SAFETY: prctl with integer arguments and a static C string. The name
    // replaces the memfd's fd number that execveat left as our comm.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        libc::prctl(libc::PR_SET_NAME, c"stack-init".as_ptr(), 0, 0, 0);
    }
    // SAFETY: fd 3 was put there by `start` for us alone; nothing else owns it.
    let mut chan = unsafe { UnixStream::from_raw_fd(INIT_CHANNEL_FD) };
    set_cloexec(INIT_CHANNEL_FD);
    let cfg = match channel::recv::<ToInit>(&mut chan) {
        Ok(Some(ToInit::Config(cfg))) => cfg,
        _ => return 125,
    };
    let p = match prepare(*cfg) {
        Ok(p) => p,
        Err(e) => {
            let sentence = e.to_string();
            let _ = channel::send(&mut chan, &FromInit::Failed { sentence });
            return 126;
        }
    };
    if p.init {
        supervise(chan, p)
    } else {
        exec_as_pid1(chan, p)
    }
}

fn set_cloexec(fd: RawFd) {
    // SAFETY: fcntl on an fd we own.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
}

fn dup2_or(fd: RawFd, to: RawFd) -> bool {
    // SAFETY: dup2 on fds we own.
    unsafe { libc::dup2(fd, to) >= 0 }
}

fn open_dev_null() -> RawFd {
    // SAFETY: open with a constant path.
    unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) }
}

/// `init: false`: the command replaces the init as pid 1, writing straight
/// into the log file (raw lines, not JSON: the log reader takes a non-JSON
/// line as raw stdout).
fn exec_as_pid1(mut chan: UnixStream, p: Prepared) -> i32 {
    let null = open_dev_null();
    let log = p.log.as_ref().map_or(-1, |l| l.as_raw_fd());
    if null < 0 || !dup2_or(null, 0) || !dup2_or(log, 1) || !dup2_or(log, 2) {
        let sentence = "cannot connect the command's output to the log file".to_string();
        let _ = channel::send(&mut chan, &FromInit::Failed { sentence });
        return 126;
    }
    // SAFETY: setsid has no preconditions.
    unsafe { libc::setsid() };
    let _ = channel::send(&mut chan, &FromInit::Exec);
    let argv = ptrs(&p.argv);
    let envp = ptrs(&p.envp);
    let (step, errno) = exec_command(&p, &argv, &envp);
    let sentence = StepError::new(&p, step, errno).to_string();
    let _ = channel::send(&mut chan, &FromInit::Failed { sentence });
    127
}

/// SIGKILL every other process of the container. As pid 1 of its own PID
/// namespace that is `kill(-1)`. Sharing one (`pid: host` or `service:`),
/// `kill(-1)` would reach processes that are not the container's: only
/// those in its cgroup (read from its own read-only `/sys/fs/cgroup`,
/// whose pids are in our namespace) are killed, until none is left.
fn kill_the_rest() {
    // SAFETY: getpid has no arguments.
    if unsafe { libc::getpid() } == 1 {
        // SAFETY: kill(-1) from pid 1 signals every other process in our pid namespace.
        unsafe { libc::kill(-1, libc::SIGKILL) };
        return;
    }
    // SAFETY: as above.
    let me = unsafe { libc::getpid() };
    for _ in 0..100 {
        let others: Vec<i32> = cgroup_pids().into_iter().filter(|p| *p != me).collect();
        if others.is_empty() {
            return;
        }
        for pid in others {
            // SAFETY: kill with integer arguments; pid is a member of our own cgroup.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// The pids in the container's cgroup, from the first hierarchy that
/// lists them (the unified one, else a v1 controller's).
fn cgroup_pids() -> Vec<i32> {
    let root = std::path::Path::new("/sys/fs/cgroup");
    let mut files = vec![root.join("cgroup.procs")];
    if let Ok(rd) = std::fs::read_dir(root) {
        files.extend(rd.flatten().map(|e| e.path().join("cgroup.procs")));
    }
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f) {
            return text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        }
    }
    Vec::new()
}

/// `init: true`: fork the command as pid 2, then relay and reap.
fn supervise(mut chan: UnixStream, p: Prepared) -> i32 {
    let fail = |chan: &mut UnixStream, sentence: String| {
        let _ = channel::send(chan, &FromInit::Failed { sentence });
        126
    };
    // Block what we handle, before fork, so nothing is lost; the command
    // unblocks them before exec.
    // Not pid 1 (a shared PID namespace): orphans of the command are
    // ours to reap, as they would be pid 1's.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    // SAFETY: building a signal set on the stack and blocking it.
    let mask = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        for &s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    // SAFETY: signalfd on a valid mask; the fd is owned below.
    let sfd = unsafe { libc::signalfd(-1, &mask, libc::SFD_CLOEXEC) };
    if sfd < 0 {
        return fail(
            &mut chan,
            format!(
                "cannot create the init's signalfd: {}",
                io::Error::last_os_error()
            ),
        );
    }
    // SAFETY: sfd is fresh and ours.
    let sfd = unsafe { OwnedFd::from_raw_fd(sfd) };
    let (Ok((out_r, out_w)), Ok((err_r, err_w)), Ok((st_r, st_w))) = (pipe(), pipe(), pipe())
    else {
        return fail(&mut chan, "cannot create the command's output pipes".into());
    };
    let argv = ptrs(&p.argv);
    let envp = ptrs(&p.envp);
    // SAFETY: the init is single-threaded, so the child may do anything;
    // it still only makes raw syscalls before exec.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return fail(
            &mut chan,
            format!("cannot fork the command: {}", io::Error::last_os_error()),
        );
    }
    if child == 0 {
        // SAFETY: setsid has no preconditions.
        unsafe { libc::setsid() };
        let null = open_dev_null();
        let (step, errno) = if null < 0
            || !dup2_or(null, 0)
            || !dup2_or(out_w.as_raw_fd(), 1)
            || !dup2_or(err_w.as_raw_fd(), 2)
        {
            (STEP_FDS, libc::EBADF)
        } else {
            exec_command(&p, &argv, &envp)
        };
        report_step(&st_w, step, errno);
    }
    drop((out_w, err_w, st_w));
    if let Some((step, errno)) = read_step(st_r) {
        let sentence = StepError::new(&p, step, errno).to_string();
        super::spawn::wait_pid(child);
        return fail(&mut chan, sentence);
    }
    let _ = channel::send(&mut chan, &FromInit::Started { pid: child });
    drop(chan);
    drop(argv);
    drop(envp);
    let Prepared { log, .. } = p;
    let Some(log) = log else { return 126 };
    // The set-up's heap (config, paths, strings) is free now: give it back,
    // so each waiting init keeps only what the relay needs.
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free heap memory; single-threaded.
    unsafe {
        libc::malloc_trim(0);
    }
    relay(child, sfd, out_r, err_r, log)
}

/// One output stream's partial line.
struct Stream {
    fd: Option<OwnedFd>,
    name: &'static str,
    buf: Vec<u8>,
}

impl Stream {
    /// Read what is there; false at end of stream.
    fn pump(&mut self, log: &mut std::fs::File) -> bool {
        let Some(fd) = &self.fd else { return false };
        let mut chunk = [0u8; 4096];
        // SAFETY: read into a local buffer from an fd we own.
        let n = unsafe { libc::read(fd.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
        if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            return true;
        }
        if n <= 0 {
            self.fd = None;
            self.flush(log);
            return false;
        }
        self.buf.extend_from_slice(&chunk[..n as usize]);
        while let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
            write_line(log, self.name, &self.buf[..i]);
            self.buf.drain(..=i);
        }
        if self.buf.len() >= MAX_LINE {
            self.flush(log);
        }
        true
    }

    fn flush(&mut self, log: &mut std::fs::File) {
        if !self.buf.is_empty() {
            write_line(log, self.name, &self.buf);
            self.buf = Vec::new();
        }
    }
}

/// Append `{"time":…,"stream":…,"line":…}` to the log, in one write so
/// concurrent appends never interleave within a line.
pub fn write_line(log: &mut std::fs::File, stream: &str, line: &[u8]) {
    let line = String::from_utf8_lossy(line);
    let json = serde_json::to_string(&*line).unwrap_or_else(|_| "\"\"".into());
    let rec = format!(
        "{{\"time\":\"{}\",\"stream\":\"{stream}\",\"line\":{json}}}\n",
        now_rfc3339()
    );
    let _ = log.write_all(rec.as_bytes());
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format_rfc3339(d.as_secs() as i64, d.subsec_millis())
}

/// Seconds since the epoch → RFC 3339 UTC with milliseconds.
pub fn format_rfc3339(secs: i64, millis: u32) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// The run loop: relay output, forward signals, reap; exit with the
/// command's status once it is gone.
fn relay(child: i32, sfd: OwnedFd, out: OwnedFd, err: OwnedFd, log: OwnedFd) -> i32 {
    let mut log = std::fs::File::from(log);
    let mut streams = [
        Stream {
            fd: Some(out),
            name: "stdout",
            buf: Vec::new(),
        },
        Stream {
            fd: Some(err),
            name: "stderr",
            buf: Vec::new(),
        },
    ];
    let mut status: Option<i32> = None;
    while status.is_none() {
        let mut fds = [
            libc::pollfd {
                fd: sfd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: raw(&streams[0]),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: raw(&streams[1]),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on a local array of pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
        if n < 0 {
            continue; // EINTR
        }
        for (i, s) in streams.iter_mut().enumerate() {
            if fds[i + 1].revents != 0 {
                s.pump(&mut log);
            }
        }
        if fds[0].revents & libc::POLLIN != 0 {
            // SAFETY: signalfd_siginfo is plain data; read fills it.
            let mut si: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            // SAFETY: read into a local struct of the right size.
            let r = unsafe {
                libc::read(
                    sfd.as_raw_fd(),
                    (&mut si as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if r as usize == size {
                let sig = si.ssi_signo as i32;
                if sig == libc::SIGCHLD {
                    status = reap(child, false).or(status);
                } else {
                    // SAFETY: kill with integer arguments.
                    unsafe { libc::kill(child, sig) };
                }
            }
        }
    }
    // The command is gone: so is the container. Whatever else runs here dies.
    kill_the_rest();
    reap(child, true);
    for s in &mut streams {
        while s.pump(&mut log) {}
    }
    let status = status.unwrap_or(255);
    // The last line says how the command ended, so a supervisor that is not
    // our parent (it adopted us after a crash) still learns the exit code.
    write_line(&mut log, EXIT_STREAM, status.to_string().as_bytes());
    status
}

fn raw(s: &Stream) -> RawFd {
    s.fd.as_ref().map_or(-1, |f| f.as_raw_fd())
}

/// Reap zombies; returns the command's status if it was among them. With
/// `all`, wait until no child is left.
fn reap(child: i32, all: bool) -> Option<i32> {
    let mut found = None;
    loop {
        let mut st = 0;
        let flags = if all { 0 } else { libc::WNOHANG };
        // SAFETY: waitpid writes into a local int.
        let pid = unsafe { libc::waitpid(-1, &mut st, flags) };
        if pid < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        if pid <= 0 {
            return found;
        }
        if pid == child {
            found = Some(super::spawn::decode_status(st));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(format_rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_rfc3339(951_782_400 + 86_399, 7),
            "2000-02-29T23:59:59.007Z"
        );
        assert_eq!(
            format_rfc3339(1_798_761_600, 123),
            "2027-01-01T00:00:00.123Z"
        );
    }
}
