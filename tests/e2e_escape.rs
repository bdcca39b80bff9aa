//! The escape suite: a hostile process inside a default stack container
//! (root, then `user: nobody`) tries every class of attack with a small
//! static C probe (tests/escape/probe.c); each attempt must be refused and
//! every positive check must work. Then the CVE-2019-5736 exec path, and two
//! small tests that show what `security_opt: [seccomp=unconfined]` and
//! `privileged: true` give up.
//!
//! The probe is compiled here with the machine's `cc -static` (gcc and
//! static glibc: Debian's `gcc` and `libc6-dev`) into a copy of the busybox
//! rootfs. It prints `NAME BLOCKED|OPEN|WORKS|BROKEN|SKIP detail` per line.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::{busybox_rootfs, root_or_skip, text, wait_for, Project};
use sha2::{Digest, Sha256};

/// Every attempt and check the probe's `all` must report on (a missing line
/// fails the test as much as an OPEN one).
const EXPECTED: &[&str] = &[
    // devices
    "dev-block-tmp",
    "dev-block-root",
    "dev-block-dev",
    "dev-loop0",
    "dev-sda",
    "dev-kvm",
    "dev-mem",
    "dev-kmsg",
    "dev-tty1",
    "dev-existing",
    // limits
    "cg-unshare-userns",
    "cg-clone-userns",
    "cg-mount-v1",
    "cg-mount-systemd",
    "cg-mount-v2",
    "cg-remount-rw",
    "cg-write",
    // keyring
    "key-search-user",
    "key-search-session",
    "key-request",
    "key-read",
    "key-add-user",
    "key-join-session",
    "proc-keys",
    // seccomp
    "sc-unshare-userns",
    "sc-clone-userns",
    "sc-clone3",
    "sc-perf-event-open",
    "sc-userfaultfd",
    "sc-personality",
    "sc-name-to-handle-at",
    "sc-open-by-handle-at",
    "sc-io-uring-setup",
    "sc-bpf",
    "sc-keyctl",
    "sc-add-key",
    "sc-request-key",
    "sc-socket-vsock",
    // already blocked
    "kill-host-pid",
    "kill-all",
    "proc-sys-core-pattern",
    "proc-sys-panic",
    "proc-sys-modprobe",
    "proc-sysrq-trigger",
    "proc-kcore",
    "proc-timer-list",
    "proc-sched-debug",
    "mount-tmpfs",
    "mount-proc",
    "mount-bind",
    "mount-remount-proc-sys",
    "umount-proc-masks",
    "pivot-root",
    "chroot-dotdot",
    "chroot-fchdir",
    "reboot",
    "init-module",
    "finit-module",
    "delete-module",
    "kexec-load",
    "kexec-file-load",
    "swapon",
    "settimeofday",
    "clock-settime",
    "adjtimex",
    "uts-sethostname",
    "iopl",
    "ioperm",
    "acct",
    "quotactl",
    "lookup-dcookie",
    "proc-1-mem",
    "proc-1-environ",
    "proc-1-exe",
    "proc-1-root",
    "ptrace-attach-1",
    // positive: these must work
    "ok-shell",
    "ok-tcp",
    "ok-udp",
    "ok-ptrace-child",
    "ok-cgroup-stats",
    "ok-thread",
    "ok-shm",
    "ok-getrandom",
    "ok-devices",
    "ok-mkfifo",
];

/// The payload of the key the host puts in root's user keyring.
const SECRET: &str = "stack-escape-secret-7f3a9c";

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("escape")
}

fn source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/escape")
        .join(name)
}

fn cc(args: &[&str], what: &str) {
    let out = Command::new("cc").args(args).output().unwrap_or_else(|e| {
        panic!("cannot run cc for {what}: {e} (apt-get install gcc libc6-dev)")
    });
    assert!(
        out.status.success(),
        "cc could not build {what} (a static probe needs glibc's static libc: apt-get install libc6-dev):\n{}",
        text(&out)
    );
}

/// The probe (static) and the CVE-2019-5736 payload library, built once
/// per test run: `(probe, evil.so)`.
fn built() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tmp().join("bin");
        std::fs::create_dir_all(&dir).unwrap();
        let probe = dir.join("probe");
        let evil = dir.join("evil.so");
        let (ps, es) = (source("probe.c"), source("evil.c"));
        cc(
            &[
                "-static",
                "-O1",
                "-pthread",
                "-o",
                probe.to_str().unwrap(),
                ps.to_str().unwrap(),
            ],
            "tests/escape/probe.c",
        );
        cc(
            &[
                "-shared",
                "-fPIC",
                "-O1",
                "-o",
                evil.to_str().unwrap(),
                es.to_str().unwrap(),
            ],
            "tests/escape/evil.c",
        );
        (probe, evil)
    })
}

/// A per-test copy of the busybox rootfs (`cp -a`) with `/probe`, `/evil`
/// (`#!/proc/self/exe`), `/evil.so`, and the dynamic loader and libraries
/// of the host's `stack` binary: what an attacker's image would bring so
/// that `/proc/self/exe` can run in it.
fn probe_rootfs(test: &str) -> PathBuf {
    let (probe, evil) = built();
    let base = tmp().join(test);
    let dir = base.join("rootfs");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let out = Command::new("cp")
        .arg("-a")
        .arg(busybox_rootfs())
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "cp -a: {}", text(&out));
    std::fs::copy(probe, dir.join("probe")).unwrap();
    std::fs::copy(evil, dir.join("evil.so")).unwrap();
    std::fs::write(dir.join("evil"), "#!/proc/self/exe\n").unwrap();
    std::fs::set_permissions(dir.join("evil"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(dir.join("mnt")).unwrap();
    // As in any real image, /tmp is for everyone (also `user: nobody`).
    std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let ldd = Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_stack"))
        .output()
        .unwrap();
    for lib in String::from_utf8_lossy(&ldd.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
    {
        let to = dir.join(lib.trim_start_matches('/'));
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(lib, &to).unwrap();
    }
    dir
}

/// A `sleep` on the host, stopped: the container must neither kill it nor
/// (with `kill(-1, SIGCONT)`) continue it. Killed by pid when dropped.
struct HostSleep(Child);

impl HostSleep {
    fn start() -> HostSleep {
        let c = Command::new("sleep")
            .arg("1000")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        // SAFETY: kill with the pid of our own child and a constant signal.
        unsafe { libc::kill(c.id() as i32, libc::SIGSTOP) };
        let s = HostSleep(c);
        wait_for("the host sleep to stop", Duration::from_secs(5), || {
            s.state() == Some('T')
        });
        s
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    /// The state letter of /proc/PID/stat (`T` stopped, `Z` zombie).
    fn state(&self) -> Option<char> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).ok()?;
        stat.rsplit_once(") ")?.1.chars().next()
    }
}

impl Drop for HostSleep {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `user` key in root's user keyring (@u), added with the raw syscall;
/// revoked and unlinked when dropped.
struct HostKey {
    id: i64,
    desc: String,
}

const KEY_SPEC_USER_KEYRING: i64 = -4;
const KEYCTL_REVOKE: i64 = 3;
const KEYCTL_UNLINK: i64 = 9;

impl HostKey {
    fn add(desc: String) -> HostKey {
        let ty = c"user";
        let d = std::ffi::CString::new(desc.clone()).unwrap();
        // SAFETY: add_key with valid C strings, a payload buffer and its length.
        let id = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                ty.as_ptr(),
                d.as_ptr(),
                SECRET.as_ptr(),
                SECRET.len(),
                KEY_SPEC_USER_KEYRING,
            )
        };
        assert!(
            id > 0,
            "add_key on the host: {}",
            std::io::Error::last_os_error()
        );
        HostKey { id, desc }
    }
}

impl Drop for HostKey {
    fn drop(&mut self) {
        // SAFETY: keyctl with integer arguments.
        unsafe {
            libc::syscall(libc::SYS_keyctl, KEYCTL_REVOKE, self.id);
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_UNLINK,
                self.id,
                KEY_SPEC_USER_KEYRING,
            );
        }
    }
}

fn host_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

fn sha256(path: &str) -> String {
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex::encode(h.finalize())
}

/// A one-service stack file: `box` from `rootfs`, with extra keys.
fn one_box(rootfs: &Path, command: &str, extra: &str) -> String {
    format!(
        "services:\n  box:\n    rootfs: {}\n    command: {command}\n    restart: \"no\"\n{extra}",
        rootfs.display()
    )
}

/// The probe's lines: name -> (verdict, detail), in order.
fn parse(out: &str) -> Vec<(String, String, String)> {
    out.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ' ');
            let name = it.next()?.to_string();
            let verdict = it.next()?.to_string();
            if !["BLOCKED", "OPEN", "WORKS", "BROKEN", "SKIP", "IS", "SEALED"]
                .contains(&verdict.as_str())
            {
                return None;
            }
            Some((name, verdict, it.next().unwrap_or("").to_string()))
        })
        .collect()
}

/// Every expected name reported, nothing OPEN or BROKEN, the secret never
/// shown; a failure shows the probe's whole output.
fn assert_refused(who: &str, out: &str) {
    let lines = parse(out);
    let names: BTreeSet<&str> = lines.iter().map(|(n, _, _)| n.as_str()).collect();
    let mut bad: Vec<String> = lines
        .iter()
        .filter(|(_, v, _)| v == "OPEN" || v == "BROKEN")
        .map(|(n, v, d)| format!("{n} {v} {d}"))
        .collect();
    for e in EXPECTED {
        if !names.contains(e) {
            bad.push(format!("{e} missing from the probe's output"));
        }
    }
    if out.contains(SECRET) {
        bad.push("the host's secret key payload was read".into());
    }
    assert!(
        bad.is_empty(),
        "{who}: {} attempt(s) not refused or checks broken:\n  {}\n\nwhole probe output:\n{out}",
        bad.len(),
        bad.join("\n  ")
    );
}

/// Run the probe's `all` in a running `box` as `user`, and check the host
/// afterwards: its stopped sleep still stopped, its hostname unchanged.
fn attack_everything(project: &str, user: Option<&str>) {
    let rootfs = probe_rootfs(project);
    let extra = user.map(|u| format!("    user: {u}\n")).unwrap_or_default();
    let sleeper = HostSleep::start();
    let key = HostKey::add(format!(
        "stack-escape-test-{}-{project}",
        std::process::id()
    ));
    let hostname = host_hostname();
    let p = Project::new(project, &one_box(&rootfs, "[\"sleep\", \"1000\"]", &extra));
    p.ok(&["up", "-d"]);
    let out = p.run(&[
        "exec",
        "-T",
        "box",
        "/probe",
        &format!("--host-pid={}", sleeper.pid()),
        &format!("--key={}", key.desc),
        &format!("--key-id={}", key.id),
        "all",
    ]);
    let all = text(&out);
    p.ok(&["down", "-t", "1"]);
    common::assert_nothing_left(&p);
    assert!(out.status.success(), "the probe failed:\n{all}");
    assert_eq!(
        sleeper.state(),
        Some('T'),
        "the host's stopped sleep {} was killed or continued from the container:\n{all}",
        sleeper.pid()
    );
    assert_eq!(
        host_hostname(),
        hostname,
        "the host's hostname changed:\n{all}"
    );
    assert_refused(&format!("{project} as {}", user.unwrap_or("root")), &all);
}

#[test]
fn root_in_a_default_container_is_refused_every_escape() {
    if !root_or_skip("root_in_a_default_container_is_refused_every_escape") {
        return;
    }
    attack_everything("esc-root", None);
}

#[test]
fn nobody_in_a_default_container_is_refused_every_escape() {
    if !root_or_skip("nobody_in_a_default_container_is_refused_every_escape") {
        return;
    }
    attack_everything("esc-nobody", Some("nobody"));
}

/// Read with `read` every 100 ms, for up to 10 s, until it holds `needle`:
/// whether it did, and the last text read.
fn poll(mut read: impl FnMut() -> String, needle: &str) -> (bool, String) {
    let mut last = String::new();
    for _ in 0..100 {
        last = read();
        if last.contains(needle) {
            return (true, last);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (false, last)
}

/// `stack exec SERVICE /evil` where `/evil` is `#!/proc/self/exe`: the
/// kernel runs the binary `stack exec` runs from inside the container,
/// dumpable, as the container's user. With a watcher scanning
/// /proc/*/exe, a payload library in that binary (LD_PRELOAD=/evil.so), and
/// `/probe exec-self`, no write open of the host's binary may succeed; the
/// binary seen inside is a sealed memfd, and the host binary is unchanged.
fn exec_path(project: &str, user: Option<&str>) {
    let rootfs = probe_rootfs(project);
    let extra = user.map(|u| format!("    user: {u}\n")).unwrap_or_default();
    let stack = env!("CARGO_BIN_EXE_stack");
    let before = sha256(stack);
    let p = Project::new(
        project,
        &one_box(
            &rootfs,
            "[\"sh\", \"-c\", \"/probe watch /tmp/escape-watch.log 120; exec sleep 1000\"]",
            &extra,
        ),
    );
    p.ok(&["up", "-d"]);
    let cat = |f: &str| text(&p.run(&["exec", "-T", "box", "cat", f]));
    wait_for("the watcher", Duration::from_secs(20), || {
        cat("/tmp/escape-watch.log").contains("READY")
    });
    let mut evil = String::new();
    for _ in 0..5 {
        evil += &text(&p.run(&["exec", "-T", "box", "/evil"]));
    }
    let preload = p.run(&[
        "exec",
        "-T",
        "-e",
        "LD_PRELOAD=/evil.so",
        "-e",
        "EVIL_LOG=/tmp/escape-evil.log",
        "box",
        "/evil",
    ]);
    evil += &text(&preload);
    let (done, evil_log) = poll(|| cat("/tmp/escape-evil.log"), "DONE");
    let self_out = text(&p.run(&["exec", "-T", "box", "/probe", "exec-self"]));
    p.ok(&["exec", "-T", "box", "touch", "/tmp/escape-watch.stop"]);
    let (ended, watch_log) = poll(|| cat("/tmp/escape-watch.log"), "END");
    p.ok(&["down", "-t", "1"]);
    common::assert_nothing_left(&p);
    let after = sha256(stack);

    let all = format!(
        "`stack exec box /evil` output:\n{evil}\n/tmp/escape-evil.log (LD_PRELOAD payload):\n{evil_log}\n\
         /tmp/escape-watch.log:\n{watch_log}\n`/probe exec-self`:\n{self_out}"
    );
    assert_eq!(before, after, "the host's stack binary changed:\n{all}");
    assert!(done, "the payload never finished:\n{all}");
    assert!(ended, "the watcher never ended:\n{all}");
    let opened: Vec<&str> = evil_log
        .lines()
        .chain(watch_log.lines())
        .filter(|l| l.starts_with("WRITE") && l.contains(" OPEN"))
        .collect();
    assert!(
        opened.is_empty(),
        "a foreign executable was opened for writing from the container:\n  {}\n\n{all}",
        opened.join("\n  ")
    );
    // What /proc/self/exe is for the binary `stack exec` runs from, seen
    // from inside that binary (the payload) and by the watcher.
    let exe = evil_log
        .lines()
        .find_map(|l| l.strip_prefix("EXE "))
        .unwrap_or_else(|| panic!("the payload never ran inside the re-executed binary:\n{all}"));
    assert!(
        exe.starts_with("/memfd:"),
        "inside the container, /proc/self/exe of `stack exec` is {exe}, not a sealed memfd:\n{all}"
    );
    for l in watch_log.lines().filter(|l| l.starts_with("SEEN ")) {
        let target = l.splitn(3, ' ').nth(2).unwrap_or("");
        assert!(
            target.starts_with("/memfd:"),
            "the watcher saw a host executable: {l}\n{all}"
        );
    }
    let lines = parse(&self_out);
    for name in ["exec-self-wronly", "exec-self-rdwr"] {
        let v = lines.iter().find(|(n, _, _)| n == name);
        assert!(
            v.is_some_and(|(_, v, _)| v == "BLOCKED" || v == "SEALED"),
            "{name}: {v:?}\n{all}"
        );
    }
}

#[test]
fn exec_cannot_reach_the_host_binary_as_root() {
    if !root_or_skip("exec_cannot_reach_the_host_binary_as_root") {
        return;
    }
    exec_path("esc-exec-root", None);
}

#[test]
fn exec_cannot_reach_the_host_binary_as_nobody() {
    if !root_or_skip("exec_cannot_reach_the_host_binary_as_nobody") {
        return;
    }
    exec_path("esc-exec-nobody", Some("nobody"));
}

/// The verdict of `name` in `out`.
fn verdict(out: &str, name: &str) -> String {
    parse(out)
        .into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, v, d)| format!("{v} {d}"))
        .unwrap_or_else(|| format!("(no line for {name})"))
}

/// The seccomp filter is what refuses `unshare(CLONE_NEWUSER)` (the kernel
/// lets any process make a user namespace): with it off, the call goes
/// through; the default container beside it is still refused.
#[test]
fn seccomp_unconfined_lets_unshare_userns_through() {
    if !root_or_skip("seccomp_unconfined_lets_unshare_userns_through") {
        return;
    }
    let rootfs = probe_rootfs("esc-unconfined");
    let r = rootfs.display();
    let p = Project::new(
        "esc-unconfined",
        &format!(
            r#"
services:
  unconfined:
    rootfs: {r}
    command: ["sleep", "1000"]
    security_opt: ["seccomp=unconfined"]
  confined:
    rootfs: {r}
    command: ["sleep", "1000"]
"#
        ),
    );
    p.ok(&["up", "-d"]);
    let free = text(&p.run(&["exec", "-T", "unconfined", "/probe", "sc-unshare-userns"]));
    let held = text(&p.run(&["exec", "-T", "confined", "/probe", "sc-unshare-userns"]));
    p.ok(&["down", "-t", "1"]);
    assert!(
        verdict(&free, "sc-unshare-userns").starts_with("OPEN"),
        "seccomp=unconfined still refuses unshare(CLONE_NEWUSER):\n{free}"
    );
    assert!(
        verdict(&held, "sc-unshare-userns").starts_with("BLOCKED"),
        "the default container lets unshare(CLONE_NEWUSER) through:\n{held}"
    );
}

/// `privileged: true` gives up the device cgroup: a node made in /dev for
/// /dev/kvm (or, without one on the host, the kmsg device) opens there,
/// and not in the default container beside it.
#[test]
fn privileged_may_make_and_open_device_nodes() {
    if !root_or_skip("privileged_may_make_and_open_device_nodes") {
        return;
    }
    let attempt = if Path::new("/dev/kvm").exists() {
        "dev-kvm"
    } else {
        "dev-kmsg"
    };
    let rootfs = probe_rootfs("esc-privileged");
    let r = rootfs.display();
    let p = Project::new(
        "esc-privileged",
        &format!(
            r#"
services:
  privileged:
    rootfs: {r}
    command: ["sleep", "1000"]
    privileged: true
  default:
    rootfs: {r}
    command: ["sleep", "1000"]
"#
        ),
    );
    p.ok(&["up", "-d"]);
    let free = text(&p.run(&["exec", "-T", "privileged", "/probe", attempt]));
    let held = text(&p.run(&["exec", "-T", "default", "/probe", attempt]));
    p.ok(&["down", "-t", "1"]);
    assert!(
        verdict(&free, attempt).starts_with("OPEN"),
        "a privileged container cannot open its {attempt} node:\n{free}"
    );
    assert!(
        verdict(&held, attempt).starts_with("BLOCKED"),
        "a default container opens its {attempt} node:\n{held}"
    );
}

/// Lifecycle hooks take the path `stack exec` takes (`stack __exec`, the
/// sealed binary): the same payload, run as `pre_stop` hooks (one of them
/// privileged, one with the LD_PRELOAD payload), reaches no host executable
/// either. (The payload exits non-zero, which a `pre_stop` may; a
/// `post_start` waits for the watcher.)
#[test]
fn hooks_cannot_reach_the_host_binary() {
    if !root_or_skip("hooks_cannot_reach_the_host_binary") {
        return;
    }
    let project = "esc-hooks";
    let rootfs = probe_rootfs(project);
    let stack = env!("CARGO_BIN_EXE_stack");
    let before = sha256(stack);
    let hooks = r#"    volumes: ["./out:/out"]
    post_start:
      - command: ["sh", "-c", "while ! grep -q READY /tmp/escape-watch.log 2>/dev/null; do sleep 0.05; done"]
    pre_stop:
      - command: ["/evil"]
      - command: ["/evil"]
        privileged: true
      - command: ["/evil"]
        environment: { LD_PRELOAD: /evil.so, EVIL_LOG: /out/evil.log }
      - command: ["sh", "-c", "touch /tmp/escape-watch.stop; while ! grep -q END /tmp/escape-watch.log; do sleep 0.05; done; cp /tmp/escape-watch.log /out/watch.log"]
"#;
    let p = Project::new(
        project,
        &one_box(
            &rootfs,
            "[\"sh\", \"-c\", \"/probe watch /tmp/escape-watch.log 120; exec sleep 1000\"]",
            hooks,
        ),
    );
    std::fs::create_dir_all(p.dir.join("out")).unwrap();
    p.ok(&["up", "-d"]);
    p.ok(&["stop", "-t", "30", "box"]);
    let logs = p.ok(&["logs", "box"]);
    p.ok(&["down", "-t", "1"]);
    common::assert_nothing_left(&p);
    let after = sha256(stack);
    let read = |f: &str| std::fs::read_to_string(p.dir.join("out").join(f)).unwrap_or_default();
    let (evil_log, watch_log) = (read("evil.log"), read("watch.log"));
    let all = format!(
        "container log (hook output):\n{logs}\nevil.log:\n{evil_log}\nwatch.log:\n{watch_log}"
    );
    assert_eq!(before, after, "the host's stack binary changed:\n{all}");
    assert!(
        evil_log.contains("DONE"),
        "the payload never finished:\n{all}"
    );
    assert!(watch_log.contains("END"), "the watcher never ended:\n{all}");
    let opened: Vec<&str> = evil_log
        .lines()
        .chain(watch_log.lines())
        .filter(|l| l.starts_with("WRITE") && l.contains(" OPEN"))
        .collect();
    assert!(
        opened.is_empty(),
        "a foreign executable was opened for writing from a hook:\n{all}"
    );
    let exe = evil_log
        .lines()
        .find_map(|l| l.strip_prefix("EXE "))
        .unwrap_or_else(|| panic!("the payload never ran inside the re-executed binary:\n{all}"));
    assert!(
        exe.starts_with("/memfd:"),
        "a hook runs from {exe}, not a sealed memfd:\n{all}"
    );
    for l in watch_log.lines().filter(|l| l.starts_with("SEEN ")) {
        let target = l.splitn(3, ' ').nth(2).unwrap_or("");
        assert!(
            target.starts_with("/memfd:"),
            "the watcher saw a host executable: {l}\n{all}"
        );
    }
}
