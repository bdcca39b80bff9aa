//! Running a command inside a running container (`stack exec`, health
//! probes): join the container's cgroups and namespaces, fork into its pid
//! namespace, become the user with the container's capabilities and
//! environment, exec, and pass the exit code through.
//!
//! `setns` into a mount namespace needs a single-threaded caller, so the
//! multi-threaded supervisor runs `stack __exec` (see `exec_helper_command`).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::process::Command;

use super::init::{
    exec_command, pipe, ptrs, read_step, report_step, resolve_command, Prepared, StepError,
    STEP_FDS,
};
use super::security;
use super::spawn::{decode_status, wait_pid, SpawnError};

/// How to run a command inside a running container (`stack exec`, probes).
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    pub argv: Vec<String>,
    /// Extra `KEY=VALUE`s on top of the container's environment.
    pub env: Vec<String>,
    /// Working directory inside the container [default: the container's
    /// `working_dir`, where its init waits].
    pub cwd: Option<String>,
    /// Name or `uid[:gid]` [default: the uid:gid the container's command
    /// runs as].
    pub user: Option<String>,
    pub tty: bool,
    /// Capabilities to keep [default: the bounding set of the container's
    /// command, i.e. the container's capabilities].
    pub capabilities: Option<Vec<String>>,
    /// The container's seccomp filter, installed before the command's exec
    /// (`None`: unconfined, as the container is).
    pub seccomp: Option<super::seccomp::SeccompProgram>,
}

/// A `stack __exec …` command (from the binary set with `set_init_exe`, else
/// our own) that runs `exec(pid, opts)` in a fresh single-threaded process:
/// the way for a multi-threaded caller. Its exit status is the command's.
pub fn exec_helper_command(pid: i32, opts: &ExecOptions) -> Command {
    let mut c = super::sealed::helper_command();
    c.arg("__exec").arg("--pid").arg(pid.to_string());
    for e in &opts.env {
        c.arg("-e").arg(e);
    }
    if let Some(w) = &opts.cwd {
        c.arg("-w").arg(w);
    }
    if let Some(u) = &opts.user {
        c.arg("-u").arg(u);
    }
    if opts.tty {
        c.arg("-t");
    }
    if let Some(caps) = &opts.capabilities {
        c.arg("--caps").arg(caps.join(","));
    }
    if let Some(prog) = &opts.seccomp {
        c.arg("--seccomp").arg(prog.to_hex());
    }
    c.arg("--").args(&opts.argv);
    c
}

/// Join the namespaces and cgroup of the container whose init is `pid`, run
/// the command, wait for it and return its exit code (128+signal if killed).
/// The calling process must be single-threaded (it joins a mount
/// namespace), and it stays in the container's namespaces afterwards.
pub fn exec(pid: i32, opts: &ExecOptions) -> Result<i32, SpawnError> {
    if !single_threaded() {
        return Err(SpawnError::NotSingleThreaded);
    }
    if !super::sealed::running_sealed() {
        // A `#!/proc/self/exe` script run by our child would otherwise be
        // the host's binary inside the container (CVE-2019-5736).
        return Err(SpawnError::NotSealed);
    }
    if opts.argv.is_empty() {
        return Err(SpawnError::NoCommand);
    }
    // Until its exec, our child runs stack (the sealed copy) inside the
    // container's pid namespace: not dumpable, so the container's root
    // cannot read its memory or environment.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    // Everything read from the host side first: environment, namespaces.
    let host = HostSide::read(pid, opts)?;
    copy_rlimits(pid);
    copy_oom_score_adj(pid);
    let ns = Namespaces::open(pid, &["ipc", "uts", "net", "pid", "cgroup", "mnt"])?;
    join_cgroups(pid)?;
    ns.join()?;
    security::new_session_keyring().map_err(|source| SpawnError::Resource {
        what: "create a session keyring",
        source,
    })?;
    // Now inside: paths are the container's.
    let p = prepare_inside(&host, opts)?;
    let pty = if opts.tty { Some(open_pty()?) } else { None };
    run(&p, pty)
}

/// What `exec` learns of the container from the host's `/proc`, before it
/// joins anything.
struct HostSide {
    /// The init's environment with `opts.env` on top.
    env: Vec<String>,
    /// `opts.user`, else the uid:gid the container's command runs as.
    user: Option<String>,
    /// Without `opts.user`, the command's supplementary groups (with its
    /// `group_add`'s), which the exec'd command gets too, as in Docker.
    groups: Option<Vec<u32>>,
    /// The command's bounding set.
    cap_bnd: Option<u64>,
    no_new_privs: bool,
    /// The init's working directory, when `opts.cwd` does not name one.
    cwd_dir: Option<File>,
}

impl HostSide {
    fn read(pid: i32, opts: &ExecOptions) -> Result<HostSide, SpawnError> {
        let environ = std::fs::read(format!("/proc/{pid}/environ"))
            .map_err(|source| SpawnError::Environ { pid, source })?;
        let mut env: Vec<String> = environ
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        for e in &opts.env {
            let key = e.split('=').next().unwrap_or(e);
            env.retain(|x| x.split('=').next() != Some(key));
            env.push(e.clone());
        }
        let target = command_pid(pid);
        let status = std::fs::read_to_string(format!("/proc/{target}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
        };
        let user = match (&opts.user, field("Uid:"), field("Gid:")) {
            (Some(u), _, _) => Some(u.clone()),
            (None, Some(u), Some(g)) => Some(format!("{u}:{g}")),
            _ => None,
        };
        let groups = opts.user.is_none().then(|| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Groups:"))
                .map(|v| {
                    v.split_whitespace()
                        .filter_map(|g| g.parse().ok())
                        .collect()
                })
                .unwrap_or_default()
        });
        let cap_bnd = field("CapBnd:").and_then(|v| u64::from_str_radix(&v, 16).ok());
        // The command runs under the container's no_new_privs (on unless the
        // service turned it off); unknown means on.
        let no_new_privs = field("NoNewPrivs:").as_deref() != Some("0");
        // O_PATH: we only fchdir into it, inside the container's mount namespace.
        let cwd_dir = match &opts.cwd {
            Some(_) => None,
            None => Some(
                File::options()
                    .read(true)
                    .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
                    .open(format!("/proc/{pid}/cwd"))
                    .map_err(|source| SpawnError::Cwd { pid, source })?,
            ),
        };
        Ok(HostSide {
            env,
            user,
            groups,
            cap_bnd,
            no_new_privs,
            cwd_dir,
        })
    }
}

/// Inside the container: the user, the command's path, the working
/// directory and the capabilities, ready for `exec_command`.
fn prepare_inside(host: &HostSide, opts: &ExecOptions) -> Result<Prepared, SpawnError> {
    let mut env = host.env.clone();
    let user = host.user.clone();
    let mut id = security::resolve_user_here(user.as_deref())?;
    if let Some(groups) = &host.groups {
        id.groups = groups.clone();
    }
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", id.home.as_deref().unwrap_or("/")));
    }
    let cmd = opts.argv[0].clone();
    let path = resolve_command(&cmd, &env, "the container")?;
    let cwd = opts.cwd.clone().unwrap_or_else(|| ".".into());
    if opts.cwd.is_some() && !std::fs::metadata(&cwd).is_ok_and(|m| m.is_dir()) {
        return Err(SpawnError::NotADirectory { cwd });
    }
    // As the init: no more than stack holds.
    let caps = security::own_permitted()
        & match (&opts.capabilities, host.cap_bnd) {
            (Some(c), _) => security::cap_mask(c)?,
            (None, Some(bnd)) => bnd,
            (None, None) => security::cap_mask(
                &crate::caps::DOCKER_DEFAULT
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>(),
            )?,
        };
    let c = |s: &str| {
        CString::new(s).map_err(|_| SpawnError::Nul {
            value: s.to_string(),
        })
    };
    Ok(Prepared {
        init: true,
        log: None,
        path: c(&path)?,
        argv: opts.argv.iter().map(|a| c(a)).collect::<Result<_, _>>()?,
        envp: env.iter().map(|e| c(e)).collect::<Result<_, _>>()?,
        id,
        caps,
        last_cap: security::last_cap(),
        no_new_privs: host.no_new_privs,
        seccomp: opts.seccomp.as_ref().map(|s| s.load()),
        cwd: c(&cwd)?,
        // `host` keeps it open until the exec.
        cwd_fd: host.cwd_dir.as_ref().map(|d| d.as_raw_fd()),
        cmd,
        user: user.unwrap_or_else(|| "root".into()),
        rootfs: "the container".into(),
    })
}

/// Fork, become the command in the child, and wait for it.
fn run(p: &Prepared, pty: Option<(OwnedFd, OwnedFd)>) -> Result<i32, SpawnError> {
    let (st_r, st_w) = pipe().map_err(|source| SpawnError::Resource {
        what: "create a pipe",
        source,
    })?;
    let argv = ptrs(&p.argv);
    let envp = ptrs(&p.envp);
    // SAFETY: we are single-threaded (checked above), so the child may run
    // anything; it only makes raw syscalls before exec anyway.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(SpawnError::Resource {
            what: "fork",
            source: io::Error::last_os_error(),
        });
    }
    if child == 0 {
        // The command lives no longer than `stack exec` (or the probe
        // helper the supervisor kills on timeout): no orphan keeps running
        // inside the container after its client is gone.
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
        let mut ok = true;
        if let Some((_, slave)) = &pty {
            let s = slave.as_raw_fd();
            // SAFETY: setsid, ioctl and dup2 on fds we own.
            unsafe {
                libc::setsid();
                ok = libc::ioctl(s, libc::TIOCSCTTY, 0) == 0
                    && libc::dup2(s, 0) >= 0
                    && libc::dup2(s, 1) >= 0
                    && libc::dup2(s, 2) >= 0;
            }
        }
        let (step, errno) = if ok {
            exec_command(p, &argv, &envp)
        } else {
            (STEP_FDS, libc::EBADF)
        };
        report_step(&st_w, step, errno);
    }
    drop(st_w);
    if let Some((step, errno)) = read_step(st_r) {
        wait_pid(child);
        return Err(StepError::new(p, step, errno).into());
    }
    if let Some((master, slave)) = pty {
        drop(slave);
        relay_tty(master);
    }
    let mut status = 0;
    loop {
        // SAFETY: waitpid into a local int.
        let r = unsafe { libc::waitpid(child, &mut status, 0) };
        if r == child {
            return Ok(decode_status(status));
        }
        if r < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Err(SpawnError::Lost(io::Error::last_os_error()));
        }
    }
}

/// The container's command: the init's first child, or `pid` itself when
/// the command is pid 1 (`init: false`).
fn command_pid(pid: i32) -> i32 {
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() != "stack-init" {
        return pid;
    }
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .ok()
        .and_then(|c| c.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(pid)
}

/// Take on the container's ulimits (the init set them; the command
/// inherited them), so exec'd commands live under the same ones.
fn copy_rlimits(pid: i32) {
    // RLIMIT_CPU (0) … RLIMIT_RTTIME (15): every limit Linux has.
    for res in 0..=libc::RLIMIT_RTTIME {
        let mut lim = libc::rlimit64 {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: prlimit64 reads another process's limit into a local struct,
        // then sets ours to it.
        unsafe {
            if libc::prlimit64(pid, res, std::ptr::null(), &mut lim) == 0 {
                libc::prlimit64(0, res, &lim, std::ptr::null_mut());
            }
        }
    }
}

/// The container's `oom_score_adj` (its init's, which its command
/// inherited), as Docker gives an exec'd process. Raising ours needs no
/// privilege, and the init's is never below ours (stack set it).
fn copy_oom_score_adj(pid: i32) {
    if let Ok(v) = std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")) {
        let _ = std::fs::write("/proc/self/oom_score_adj", v.trim());
    }
}

/// Whether this process has one thread (`setns` into a mount namespace and
/// `fork` without exec need that).
pub(crate) fn single_threaded() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:").map(|v| v.trim() == "1"))
        })
        .unwrap_or(false)
}

/// Namespaces of a container process, opened from the host side (while
/// `/proc` is still the host's) and joined later with `join`.
pub(crate) struct Namespaces {
    pid: i32,
    ns: Vec<(&'static str, File)>,
}

impl Namespaces {
    /// Open `/proc/<pid>/ns/<name>` for each name, in the order given.
    pub(crate) fn open(pid: i32, names: &[&'static str]) -> Result<Namespaces, SpawnError> {
        let mut ns = Vec::with_capacity(names.len());
        for &name in names {
            let f = File::open(format!("/proc/{pid}/ns/{name}"))
                .map_err(|source| SpawnError::OpenNamespace { name, pid, source })?;
            ns.push((name, f));
        }
        Ok(Namespaces { pid, ns })
    }

    /// `setns` into each, in order. Joining `mnt` also sets our root and
    /// working directory to the root of that namespace (see setns(2)).
    pub(crate) fn join(self) -> Result<(), SpawnError> {
        for (name, f) in &self.ns {
            // SAFETY: setns on an fd we hold; nstype 0 accepts the fd's own type.
            if unsafe { libc::setns(f.as_raw_fd(), 0) } != 0 {
                return Err(SpawnError::JoinNamespace {
                    name,
                    pid: self.pid,
                    source: io::Error::last_os_error(),
                });
            }
        }
        Ok(())
    }
}

/// Put our pid into each cgroup `pid` is in (read from `/proc/<pid>/cgroup`,
/// mount points from our mountinfo).
fn join_cgroups(pid: i32) -> Result<(), SpawnError> {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .map_err(|source| SpawnError::ReadCgroups { pid, source })?;
    let mounts = super::mountinfo::read();
    let me = std::process::id().to_string();
    for line in cg.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(hid), Some(ctrls), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let Some(mnt) = cgroup_mount(&mounts, hid == "0", ctrls) else {
            continue;
        };
        let procs = format!("{mnt}{}/cgroup.procs", path.trim_end_matches('/'));
        if let Err(e) = std::fs::write(&procs, &me) {
            // The v2 hierarchy of a hybrid host has no controllers, and its
            // root may refuse members; only v1 or pure-v2 membership counts.
            if hid == "0" && cg.lines().count() > 1 {
                continue;
            }
            return Err(SpawnError::JoinCgroup {
                procs: procs.into(),
                source: e,
            });
        }
    }
    Ok(())
}

/// The mount point of the cgroup hierarchy with these controllers.
fn cgroup_mount(mounts: &[super::mountinfo::Mount], v2: bool, ctrls: &str) -> Option<String> {
    mounts
        .iter()
        .filter(|m| m.root == "/")
        .find(|m| {
            if v2 {
                m.fstype == "cgroup2"
            } else {
                let have: Vec<&str> = m.super_options.split(',').collect();
                m.fstype == "cgroup" && ctrls.split(',').all(|c| have.contains(&c))
            }
        })
        .map(|m| m.mount_point.display().to_string())
}

/// A pty from the container's own devpts: (master, slave).
fn open_pty() -> Result<(OwnedFd, OwnedFd), SpawnError> {
    let err = SpawnError::Tty;
    // SAFETY: open with a constant path; the fd is owned below.
    let m = unsafe {
        libc::open(
            c"/dev/ptmx".as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if m < 0 {
        return Err(err(io::Error::last_os_error()));
    }
    // SAFETY: m is fresh and ours.
    let master = unsafe { OwnedFd::from_raw_fd(m) };
    let unlock: libc::c_int = 0;
    // SAFETY: ioctls on the master with the documented argument types.
    let s = unsafe {
        if libc::ioctl(m, libc::TIOCSPTLCK, &unlock) != 0 {
            return Err(err(io::Error::last_os_error()));
        }
        libc::ioctl(
            m,
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if s < 0 {
        return Err(err(io::Error::last_os_error()));
    }
    // SAFETY: s is fresh and ours.
    let slave = unsafe { OwnedFd::from_raw_fd(s) };
    // Same window size as ours.
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read and write a local winsize.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(s, libc::TIOCSWINSZ, &ws);
        }
    }
    Ok((master, slave))
}

/// Copy stdin → master and master → stdout until the command closes the
/// tty; our terminal is in raw mode meanwhile.
fn relay_tty(master: OwnedFd) {
    let m = master.as_raw_fd();
    // SAFETY: termios calls on fd 0 with local structs.
    let saved = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) == 0 {
            let saved = t;
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(0, libc::TCSANOW, &t);
            Some(saved)
        } else {
            None
        }
    };
    // Window size changes reach the command: SIGWINCH through a signalfd.
    // SAFETY: blocking one signal and creating a signalfd for it.
    let winch = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGWINCH);
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::signalfd(-1, &set, libc::SFD_CLOEXEC)
    };
    let mut stdin_open = true;
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [
            libc::pollfd {
                fd: if stdin_open { 0 } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: m,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: winch,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on a local array.
        if unsafe { libc::poll(fds.as_mut_ptr(), 3, -1) } < 0 {
            continue;
        }
        if fds[2].revents != 0 {
            // SAFETY: drain one siginfo into a local struct, then copy our
            // window size to the master (the kernel signals the command).
            unsafe {
                let mut si: libc::signalfd_siginfo = std::mem::zeroed();
                libc::read(
                    winch,
                    (&mut si as *mut libc::signalfd_siginfo).cast(),
                    std::mem::size_of::<libc::signalfd_siginfo>(),
                );
                let mut ws: libc::winsize = std::mem::zeroed();
                if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
                    libc::ioctl(m, libc::TIOCSWINSZ, &ws);
                }
            }
        }
        if fds[1].revents != 0 {
            // SAFETY: read into a local buffer.
            let n = unsafe { libc::read(m, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break; // EIO: every slave fd is closed
            }
            write_all(1, &buf[..n as usize]);
        }
        if fds[0].revents != 0 {
            // SAFETY: read into a local buffer.
            let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                stdin_open = false;
                // Pass end-of-file on as ^D.
                write_all(m, &[4]);
            } else {
                write_all(m, &buf[..n as usize]);
            }
        }
    }
    if let Some(t) = saved {
        // SAFETY: restore the saved termios on fd 0.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) };
    }
    if winch >= 0 {
        // SAFETY: closing the signalfd we created.
        unsafe { libc::close(winch) };
    }
}

fn write_all(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: write from a live slice.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n <= 0 {
            return;
        }
        data = &data[n as usize..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cgroup_mounts() {
        let mi = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n\
                  32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n\
                  35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
                  40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n\
                  41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        let mi = &crate::runtime::mountinfo::parse(mi);
        assert_eq!(
            cgroup_mount(mi, false, "memory").as_deref(),
            Some("/sys/fs/cgroup/memory")
        );
        assert_eq!(
            cgroup_mount(mi, false, "name=systemd").as_deref(),
            Some("/sys/fs/cgroup/systemd")
        );
        assert_eq!(
            cgroup_mount(mi, true, "").as_deref(),
            Some("/sys/fs/cgroup/unified")
        );
        assert_eq!(cgroup_mount(mi, false, "pids"), None);
    }

    #[test]
    fn helper_command_args() {
        let o = ExecOptions {
            argv: vec!["sh".into(), "-c".into(), "exit 3".into()],
            env: vec!["A=1".into()],
            user: Some("nobody".into()),
            ..Default::default()
        };
        let c = exec_helper_command(42, &o);
        let args: Vec<_> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            ["__exec", "--pid", "42", "-e", "A=1", "-u", "nobody", "--", "sh", "-c", "exit 3"]
        );
    }
}
