//! `Network::Join` (Compose's `network_mode: service:NAME`) on real
//! containers: a second container started in the first one's network
//! namespace sees the same namespace, and reaches a server the first one
//! reaches through 127.0.0.1. A path that is no running container's namespace is
//! a sentence, and nothing is started. Nothing leaves the machine: the
//! first container has only its loopback (`Network::None`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use stack::runtime::spawn::{self, SpawnError};
use stack::runtime::{ContainerConfig, Network};

/// The containers' dirs and pids, killed, reaped and removed when dropped.
struct Lab {
    base: PathBuf,
    pids: Vec<i32>,
}

impl Lab {
    fn new() -> Lab {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("net-join-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        Lab {
            base,
            pids: Vec::new(),
        }
    }

    fn container(&self, name: &str, network: Network, argv: &[&str]) -> ContainerConfig {
        let base = self.base.join(name);
        std::fs::create_dir_all(&base).unwrap();
        let mut cfg = common::container_config("nj", name, &base, argv);
        cfg.network = network;
        cfg
    }

    fn start(&mut self, cfg: &ContainerConfig) -> i32 {
        let s = spawn::start(cfg, &[]).unwrap_or_else(|e| panic!("start {}: {e}", cfg.id));
        self.pids.push(s.pid);
        s.pid
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for pid in self.pids.drain(..) {
            // SAFETY: kill and reap our own children, by their pids.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, std::ptr::null_mut(), 0);
            }
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// The container's output, once a line containing `want` is there.
fn wait_for_log(cfg: &ContainerConfig, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&cfg.log_file).unwrap_or_default();
        if text.contains(want) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `net:[<inode>]` as printed in a log line `ns=net:[…]`.
fn ns_in(log: &str) -> String {
    let at = log
        .find("ns=net:[")
        .unwrap_or_else(|| panic!("no ns= in {log}"));
    let rest = &log[at + 3..];
    rest[..=rest.find(']').unwrap()].to_string()
}

#[test]
fn a_container_joins_another_ones_network_namespace() {
    if !common::root_or_skip("a_container_joins_another_ones_network_namespace") {
        return;
    }
    spawn::set_init_exe(env!("CARGO_BIN_EXE_stack"));
    let mut lab = Lab::new();

    // The first: its own namespace (loopback only), a server reached on 127.0.0.1.
    let web = lab.container(
        "web",
        Network::None,
        &[
            "sh",
            "-c",
            "echo ns=$(readlink /proc/self/ns/net); \
             exec nc -ll -p 8080 -e echo hello-over-lo",
        ],
    );
    let web_pid = lab.start(&web);
    let web_log = wait_for_log(&web, "ns=");
    let web_ns = ns_in(&web_log);

    // The second joins it: same namespace, and its localhost is web's.
    let side = lab.container(
        "side",
        Network::Join(PathBuf::from(format!("/proc/{web_pid}/ns/net"))),
        &[
            "sh",
            "-c",
            "echo ns=$(readlink /proc/self/ns/net); ip -o link; \
             for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 127.0.0.1 8080 && break; sleep 0.2; done; \
             echo done; exec sleep 600",
        ],
    );
    let side_pid = lab.start(&side);
    let side_log = wait_for_log(&side, "done");
    assert_eq!(ns_in(&side_log), web_ns, "{side_log}");
    assert!(side_log.contains("hello-over-lo"), "{side_log}");
    // Only web's loopback is there: nothing was added to the namespace.
    assert!(side_log.contains(": lo: <LOOPBACK,UP"), "{side_log}");
    assert!(!side_log.contains("eth0"), "{side_log}");

    // Seen from the host too: one namespace, not the host's.
    let ns = |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    assert_eq!(ns(web_pid), ns(side_pid));
    assert_eq!(ns(web_pid).display().to_string(), web_ns);
    assert_ne!(
        ns(web_pid),
        std::fs::read_link("/proc/self/ns/net").unwrap()
    );
}

#[test]
fn joining_a_namespace_that_is_not_there_is_a_sentence() {
    if !common::root_or_skip("joining_a_namespace_that_is_not_there_is_a_sentence") {
        return;
    }
    spawn::set_init_exe(env!("CARGO_BIN_EXE_stack"));
    let lab = Lab::new();

    // A pid that cannot exist (above pid_max's ceiling of 2^22).
    let gone = PathBuf::from("/proc/999999999/ns/net");
    let cfg = lab.container("gone", Network::Join(gone.clone()), &["true"]);
    let err = spawn::start(&cfg, &[]).unwrap_err();
    assert!(
        matches!(&err, SpawnError::JoinNetwork { path, .. } if *path == gone),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("cannot open network namespace /proc/999999999/ns/net: "),
        "{text}"
    );
    assert!(
        text.contains("the service whose network this container shares must be running"),
        "{text}"
    );
    assert!(!text.ends_with('.'), "{text}");

    // A namespace, but not a network one; and a plain file.
    for path in ["/proc/self/ns/mnt", "/proc/version"] {
        let cfg = lab.container("wrong", Network::Join(path.into()), &["true"]);
        let err = spawn::start(&cfg, &[]).unwrap_err();
        assert!(
            matches!(&err, SpawnError::NotANetworkNamespace { .. }),
            "{path}: {err:?}"
        );
        assert!(
            err.to_string()
                .starts_with(&format!("{path} is not a network namespace")),
            "{err}"
        );
    }
}
