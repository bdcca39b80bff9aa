//! The container cgroup on the real hierarchy: limits written, a process
//! joined through `procs_files`, stats, kill, OOM detection, delete.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stack::runtime::cgroup::{list, Cgroup, Layout};
use stack::runtime::CgroupLimits;

fn unique(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("stack/test-{tag}-{}-{nanos:x}", std::process::id())
}

/// Kills the child and removes the cgroup even when an assertion fails.
struct Guard {
    cg: Cgroup,
    child: Option<Child>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.cg.kill_all(libc::SIGKILL);
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.cg.delete();
    }
}

/// A forked child that waits for `go`, then touches `bytes` of anonymous
/// memory and exits 0 (only raw syscalls after fork: the test process has
/// other threads).
struct Allocator(libc::pid_t, libc::c_int);

impl Allocator {
    fn go(&self) {
        // SAFETY: writing one byte from a valid buffer to our pipe end.
        assert_eq!(unsafe { libc::write(self.1, b"g".as_ptr().cast(), 1) }, 1);
        // SAFETY: closing our own fd once.
        unsafe { libc::close(self.1) };
    }
}

fn fork_allocating(bytes: usize) -> Allocator {
    let mut fds = [0; 2];
    // SAFETY: pipe with a valid two-int array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child makes only async-signal-safe raw syscalls (read,
    // mmap, stores into the mapping, _exit) before it ends.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // SAFETY: as above; nothing here allocates or takes a lock.
        unsafe {
            let mut b = 0u8;
            libc::read(fds[0], (&mut b as *mut u8).cast(), 1);
            let m = libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if m == libc::MAP_FAILED {
                libc::_exit(2);
            }
            let p = m as *mut u8;
            let mut i = 0;
            while i < bytes {
                std::ptr::write_volatile(p.add(i), 1);
                i += 4096;
            }
            libc::_exit(0);
        }
    }
    // SAFETY: closing the read end we do not use.
    unsafe { libc::close(fds[0]) };
    Allocator(pid, fds[1])
}

fn join(cg: &Cgroup, pid: u32) {
    for f in cg.procs_files() {
        std::fs::write(&f, pid.to_string()).unwrap_or_else(|e| panic!("join {}: {e}", f.display()));
    }
}

fn file(cg: &Cgroup, controller_root: &str, name: &str) -> String {
    let p = PathBuf::from("/sys/fs/cgroup")
        .join(controller_root)
        .join(&cg.path)
        .join(name);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
        .trim()
        .to_string()
}

#[test]
fn cgroup_limits_join_stats_kill_delete() {
    if !common::root_or_skip("cgroup_limits_join_stats_kill_delete") {
        return;
    }
    let project = unique("life");
    let path = format!("{project}/svc");
    let limits = CgroupLimits {
        cpu_quota_us: Some(50_000),
        cpu_period_us: Some(100_000),
        cpu_shares: Some(512),
        cpuset: Some("0".into()),
        memory: Some(64 << 20),
        memory_reservation: Some(32 << 20),
        memswap: Some(128 << 20),
        pids: Some(32),
        ..Default::default()
    };
    let cg = Cgroup::create(&path, &limits).expect("create");
    let mut g = Guard {
        cg: cg.clone(),
        child: None,
    };
    // Idempotent.
    Cgroup::create(&path, &limits).expect("create again");

    if !Layout::get().is_v2() {
        assert_eq!(file(&cg, "cpu", "cpu.cfs_quota_us"), "50000");
        assert_eq!(file(&cg, "cpu", "cpu.cfs_period_us"), "100000");
        assert_eq!(file(&cg, "cpu", "cpu.shares"), "512");
        assert_eq!(file(&cg, "cpuset", "cpuset.cpus"), "0");
        assert!(!file(&cg, "cpuset", "cpuset.mems").is_empty());
        assert_eq!(
            file(&cg, "memory", "memory.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        assert_eq!(
            file(&cg, "memory", "memory.soft_limit_in_bytes"),
            (32u64 << 20).to_string()
        );
        if PathBuf::from("/sys/fs/cgroup/memory")
            .join(&cg.path)
            .join("memory.memsw.limit_in_bytes")
            .exists()
        {
            assert_eq!(
                file(&cg, "memory", "memory.memsw.limit_in_bytes"),
                (128u64 << 20).to_string()
            );
        }
        assert_eq!(file(&cg, "pids", "pids.max"), "32");
        assert!(cg.procs_files().len() >= 5, "{:?}", cg.procs_files());
    } else {
        assert_eq!(file(&cg, "", "cpu.max"), "50000 100000");
        assert_eq!(file(&cg, "", "memory.max"), (64u64 << 20).to_string());
        assert_eq!(file(&cg, "", "pids.max"), "32");
    }

    // A busy then sleeping shell, joined after start (the spawner writes "0"
    // from inside; writing the pid from outside is the same kernel path).
    let child = Command::new("sh")
        .args([
            "-c",
            "read x; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; sleep 100",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    g.child = Some(child);
    join(&cg, pid);
    let _ = g
        .child
        .as_mut()
        .unwrap()
        .stdin
        .take()
        .unwrap()
        .write_all(b"go\n");
    assert!(cg.pids().contains(&(pid as i32)), "{:?}", cg.pids());

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stats = cg.stats();
    while (stats.cpu_usage_ns == 0 || cg.pids().len() < 2) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        stats = cg.stats();
    }
    assert!(stats.cpu_usage_ns > 0, "{stats:?}");
    assert!(stats.memory_bytes > 0, "{stats:?}");
    assert!(stats.pids >= 1, "{stats:?}");
    assert!(!cg.oom_killed());

    assert!(Cgroup::open(&path).is_some());
    assert_eq!(list(&project), vec![path.clone()]);

    // Deleting a cgroup in use is refused, naming its processes.
    let err = cg.delete().unwrap_err().to_string();
    assert!(err.contains("still has"), "{err}");

    cg.kill_all(libc::SIGKILL).expect("kill_all");
    assert!(cg.pids().is_empty());
    let status = g.child.as_mut().unwrap().wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL)
    );

    cg.delete().expect("delete");
    assert!(Cgroup::open(&path).is_none());
    for d in cg.dirs() {
        assert!(!d.exists(), "{} left", d.display());
        let project_dir = d.parent().unwrap();
        assert!(!project_dir.exists(), "{} left", project_dir.display());
        // `stack/` goes too, unless another test's cgroup is in it.
        let top = project_dir.parent().unwrap();
        if top.exists() {
            assert!(std::fs::read_dir(top)
                .unwrap()
                .flatten()
                .any(|e| e.path().is_dir()));
        }
    }
    assert!(list(&project).is_empty());
}

#[test]
fn cgroup_sigterm_reaches_every_process() {
    if !common::root_or_skip("cgroup_sigterm_reaches_every_process") {
        return;
    }
    let path = format!("{}/svc", unique("term"));
    let cg = Cgroup::create(&path, &CgroupLimits::default()).expect("create");
    let mut g = Guard {
        cg: cg.clone(),
        child: None,
    };
    let child = Command::new("sleep").arg("100").spawn().unwrap();
    let pid = child.id();
    g.child = Some(child);
    join(&cg, pid);
    cg.kill_all(libc::SIGTERM).unwrap();
    let status = g.child.as_mut().unwrap().wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGTERM)
    );
    cg.delete().unwrap();
}

#[test]
fn cgroup_oom_kill_is_detected() {
    if !common::root_or_skip("cgroup_oom_kill_is_detected") {
        return;
    }
    let path = format!("{}/svc", unique("oom"));
    let limits = CgroupLimits {
        memory: Some(16 << 20),
        memswap: Some(16 << 20),
        ..Default::default()
    };
    let cg = Cgroup::create(&path, &limits).expect("create");
    let _g = Guard {
        cg: cg.clone(),
        child: None,
    };
    // Anonymous memory only, from a fork of this process: a shell and its
    // tools run from (in the v2 guest) a 9p root, and under a tight
    // memory.max the kernel can reclaim and refault their text for ever
    // instead of OOM-killing, which once hung the whole guest.
    let pid = fork_allocating(64 << 20);
    join(&cg, pid.0 as u32);
    pid.go();
    let mut status = 0;
    // SAFETY: waitpid on our own child with a valid status pointer.
    let r = unsafe { libc::waitpid(pid.0, &mut status, 0) };
    assert_eq!(r, pid.0);
    assert!(
        libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL,
        "status {status:#x}: not killed by SIGKILL"
    );
    assert!(cg.oom_killed(), "oom_killed() is false after an OOM kill");
    cg.kill_all(libc::SIGKILL).unwrap();
    cg.delete().unwrap();
}

#[test]
fn cgroup_recreate_with_fewer_limits_resets_them() {
    if !common::root_or_skip("cgroup_recreate_with_fewer_limits_resets_them") {
        return;
    }
    let path = format!("{}/svc", unique("reset"));
    let limits = CgroupLimits {
        cpu_quota_us: Some(10_000),
        memory: Some(32 << 20),
        pids: Some(10),
        cpuset: Some("0".into()),
        ..Default::default()
    };
    let cg = Cgroup::create(&path, &limits).expect("create");
    let _g = Guard {
        cg: cg.clone(),
        child: None,
    };
    Cgroup::create(&path, &CgroupLimits::default()).expect("re-create");
    if !Layout::get().is_v2() {
        assert_eq!(file(&cg, "cpu", "cpu.cfs_quota_us"), "-1");
        assert_eq!(file(&cg, "pids", "pids.max"), "max");
        let parent = std::fs::read_to_string("/sys/fs/cgroup/cpuset/cpuset.cpus").unwrap();
        assert_eq!(file(&cg, "cpuset", "cpuset.cpus"), parent.trim());
        let mem: u64 = file(&cg, "memory", "memory.limit_in_bytes")
            .parse()
            .unwrap();
        assert!(mem > 1 << 40, "memory limit not reset: {mem}");
    } else {
        assert_eq!(file(&cg, "", "cpu.max"), "max 100000");
        assert_eq!(file(&cg, "", "pids.max"), "max");
        assert_eq!(file(&cg, "", "memory.max"), "max");
    }
}

#[test]
fn cgroup_concurrent_create_delete_in_one_project() {
    if !common::root_or_skip("cgroup_concurrent_create_delete_in_one_project") {
        return;
    }
    let project = unique("conc");
    let handles: Vec<_> = (0..6)
        .map(|t| {
            let project = project.clone();
            std::thread::spawn(move || {
                for i in 0..15 {
                    let path = format!("{project}/svc{t}-{i}");
                    let cg = Cgroup::create(&path, &CgroupLimits::default())
                        .unwrap_or_else(|e| panic!("create {path}: {e}"));
                    cg.delete().unwrap_or_else(|e| panic!("delete {path}: {e}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(list(&project).is_empty());
    assert!(Cgroup::open(&project).is_none(), "{project} left behind");
}
