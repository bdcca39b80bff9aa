//! `runtime::sync`, as root on the busybox rootfs: files and trees copied
//! into a running container through its mount namespace, removed again, and
//! symlinks planted by the container never leading a write out of it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use stack::runtime::spawn::{self, ExecOptions, Spawned};
use stack::runtime::sync::{sync, sync_spawned, SyncError, SyncOp};
use stack::runtime::ContainerConfig;

fn setup(test: &str) -> bool {
    if !common::root_or_skip(test) {
        return false;
    }
    spawn::set_init_exe(env!("CARGO_BIN_EXE_stack"));
    true
}

/// A running `sleep` container plus a host source dir; the init is killed
/// and reaped and every file removed when dropped (no cgroup is made).
struct Box_ {
    base: PathBuf,
    cfg: ContainerConfig,
    pid: i32,
    spawned: Spawned,
}

impl Box_ {
    fn start(name: &str) -> Box_ {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("sync")
            .join(name);
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("src")).unwrap();
        let cfg = common::container_config("sync", name, &base, &["sleep", "600"]);
        let spawned = spawn::start(&cfg, &[]).unwrap_or_else(|e| panic!("start failed: {e}"));
        Box_ {
            base,
            cfg,
            pid: spawned.pid,
            spawned,
        }
    }

    /// A host source path.
    fn src(&self, rel: &str) -> PathBuf {
        self.base.join("src").join(rel)
    }

    /// Run a shell command inside; (exit code, stdout).
    fn sh(&self, script: &str) -> (i32, String) {
        let out = spawn::exec_helper_command(
            self.pid,
            &ExecOptions {
                argv: vec!["sh".into(), "-c".into(), script.into()],
                ..Default::default()
            },
        )
        .output()
        .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// Stdout of a command that must succeed.
    fn ok(&self, script: &str) -> String {
        let (code, out) = self.sh(script);
        assert_eq!(code, 0, "{script}: {out}");
        out
    }

    /// The container's writable layer, seen from the host.
    fn upper(&self) -> PathBuf {
        self.cfg.bundle.join("upper")
    }
}

impl Drop for Box_ {
    fn drop(&mut self) {
        // SAFETY: kill and reap our own child.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn write(p: &Path, content: &str, mode: u32) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn copy(host: &Path, target: &str) -> SyncOp {
    SyncOp::Copy {
        host: host.to_path_buf(),
        target: target.into(),
    }
}

#[test]
fn files_and_trees_are_copied_updated_and_removed() {
    if !setup("files_and_trees_are_copied_updated_and_removed") {
        return;
    }
    let b = Box_::start("files");
    // a file, into a directory that does not exist yet
    write(&b.src("main.py"), "print(1)\n", 0o751);
    sync(b.pid, &[copy(&b.src("main.py"), "/app/main.py")]).unwrap();
    assert_eq!(
        b.ok("cat /app/main.py; stat -c '%a %u' /app/main.py /app"),
        "print(1)\n751 0\n755 0\n"
    );
    // an update replaces it (a new inode: readers see old or new, whole)
    let ino = b.ok("stat -c %i /app/main.py");
    write(&b.src("main.py"), "print(2)\n", 0o640);
    sync(b.pid, &[copy(&b.src("main.py"), "/app/main.py")]).unwrap();
    assert_eq!(
        b.ok("cat /app/main.py; stat -c %a /app/main.py"),
        "print(2)\n640\n"
    );
    assert_ne!(b.ok("stat -c %i /app/main.py"), ino);
    // a tree, merged into what is there, with a symlink copied as one
    write(&b.src("web/index.html"), "<p>hi</p>\n", 0o644);
    write(&b.src("web/js/app.js"), "go()\n", 0o600);
    std::fs::set_permissions(b.src("web/js"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", b.src("web/link")).unwrap();
    b.ok("mkdir -p /srv/web && echo keep > /srv/web/old");
    sync(b.pid, &[copy(&b.src("web"), "/srv/web")]).unwrap();
    assert_eq!(
        b.ok("cd /srv/web && cat index.html js/app.js old; stat -c '%a %n' js js/app.js; readlink link"),
        "<p>hi</p>\ngo()\nkeep\n750 js\n600 js/app.js\n/etc/passwd\n"
    );
    // no temporary names are left behind
    assert_eq!(
        b.ok("ls -A /srv/web /app | grep -c stack-sync || true"),
        "0\n"
    );
    // remove: a file, a tree, and something that is not there
    sync(
        b.pid,
        &[
            SyncOp::Remove {
                target: "/app/main.py".into(),
            },
            SyncOp::Remove {
                target: "/srv/web".into(),
            },
            SyncOp::Remove {
                target: "/nothing/here".into(),
            },
        ],
    )
    .unwrap();
    assert_eq!(
        b.ok("ls -A /app; [ -e /srv/web ] && echo web || echo gone"),
        "gone\n"
    );
    // the host's /etc/passwd was never touched by the symlink's copy
    assert!(std::fs::symlink_metadata("/etc/passwd").unwrap().is_file());
}

#[test]
fn errors_name_the_op_and_the_others_still_apply() {
    if !setup("errors_name_the_op_and_the_others_still_apply") {
        return;
    }
    let b = Box_::start("errors");
    write(&b.src("a"), "a\n", 0o644);
    let e = sync(
        b.pid,
        &[
            copy(&b.src("missing"), "/app/x"),
            copy(&b.src("a"), "/app/a"),
            copy(&b.src("a"), "/proc/sys/kernel/x"),
        ],
    )
    .unwrap_err();
    let SyncError::Failed(errs) = &e else {
        panic!("{e}")
    };
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with(&format!(
        "cannot sync {} to /app/x in the container: cannot open {} on the host",
        b.src("missing").display(),
        b.src("missing").display()
    )));
    assert!(
        errs[1].contains("/proc/sys/kernel/x") && errs[1].contains("never writes"),
        "{errs:?}"
    );
    assert_eq!(b.ok("cat /app/a"), "a\n");
    // a container that is gone
    let e = sync(999_999_999, &[copy(&b.src("a"), "/a")]).unwrap_err();
    assert!(e.to_string().contains("is the container running?"), "{e}");
    // a pid that is not a container (here: ourselves) is never a target
    let e = sync(std::process::id() as i32, &[copy(&b.src("a"), "/a")]).unwrap_err();
    assert!(e.to_string().contains("is not in a container"), "{e}");
    // a pid reused by another process (a different start time)
    let mut stale = b.spawned;
    stale.start_time += 1;
    let e = sync_spawned(&stale, &[copy(&b.src("a"), "/b")]).unwrap_err();
    assert!(e.to_string().contains("has exited"), "{e}");
    assert_eq!(b.sh("[ -e /b ]").0, 1);
    sync_spawned(&b.spawned, &[copy(&b.src("a"), "/b")]).unwrap();
    assert_eq!(b.ok("cat /b"), "a\n");
}

#[test]
fn a_symlinked_parent_resolves_inside_the_container() {
    if !setup("a_symlinked_parent_resolves_inside_the_container") {
        return;
    }
    let b = Box_::start("symlink");
    // A unique name, so a host /etc entry cannot be a leftover.
    let name = format!("stack-sync-escape-{}", std::process::id());
    assert!(!Path::new("/etc").join(&name).exists());
    write(&b.src("x"), "inside\n", 0o644);
    // /app -> /etc and a relative link climbing far above the root: both
    // resolve in the container's root (as they would for the container).
    b.ok("ln -s /etc /app && mkdir -p /deep/er && ln -s ../../../../../../etc /deep/er/up");
    sync(
        b.pid,
        &[
            copy(&b.src("x"), &format!("/app/{name}")),
            copy(&b.src("x"), &format!("/deep/er/up/{name}.2")),
        ],
    )
    .unwrap();
    assert!(!Path::new("/etc").join(&name).exists());
    assert!(!Path::new("/etc").join(format!("{name}.2")).exists());
    assert_eq!(
        b.ok(&format!("cat /etc/{name} /etc/{name}.2")),
        "inside\ninside\n"
    );
    // written to the container's layer, not the shared rootfs
    assert!(b.upper().join("etc").join(&name).is_file());
    assert!(!common::busybox_rootfs().join("etc").join(&name).exists());
    // a symlink as the final component is replaced, not written through
    b.ok("mkdir /srv && ln -s /etc/passwd /srv/victim");
    let passwd = b.ok("cat /etc/passwd");
    sync(b.pid, &[copy(&b.src("x"), "/srv/victim")]).unwrap();
    assert_eq!(b.ok("cat /etc/passwd"), passwd);
    assert_eq!(b.ok("[ -L /srv/victim ] || cat /srv/victim"), "inside\n");
}

#[test]
fn magic_links_through_proc_are_refused() {
    if !setup("magic_links_through_proc_are_refused") {
        return;
    }
    let b = Box_::start("magic");
    let name = format!("stack-sync-magic-{}", std::process::id());
    write(&b.src("x"), "escaped\n", 0o644);
    // /proc/<pid>/root and cwd are magic links; from our helper (outside
    // the container's pid namespace) `self` may not even exist in the
    // container's /proc, so links through pid 1 are tried as well.
    b.ok(
        "ln -s /proc/self/root/.. /esc1 && ln -s /proc/1/root/.. /esc2 \
          && ln -s /proc/1/cwd /esc3 && ln -s /proc/1/root /esc4",
    );
    let ops: Vec<SyncOp> = (1..=4)
        .map(|i| copy(&b.src("x"), &format!("/esc{i}/{name}")))
        .collect();
    let e = sync(b.pid, &ops).unwrap_err();
    let SyncError::Failed(errs) = &e else {
        panic!("{e}")
    };
    assert_eq!(errs.len(), 4, "every op must be refused: {errs:?}");
    for (i, err) in errs.iter().enumerate() {
        assert!(err.contains(&format!("/esc{}/{name}", i + 1)), "{err}");
    }
    // `self` is not in the container's pid namespace from the helper; the
    // others are magic links.
    assert!(
        errs[0].ends_with("directory /esc1: it is a symlink to something missing in the container"),
        "{errs:?}"
    );
    for err in &errs[1..] {
        assert!(err.contains("a symlink into /proc (a magic link)"), "{err}");
    }
    // nowhere on the host: not at / (a parent of the container root), nor
    // next to the rootfs or the bundle
    let rootfs = common::busybox_rootfs();
    for dir in [
        PathBuf::from("/"),
        rootfs.clone(),
        rootfs.parent().unwrap().to_path_buf(),
        b.cfg.bundle.clone(),
        b.upper(),
    ] {
        assert!(!dir.join(&name).exists(), "{} written", dir.display());
    }
    assert_eq!(b.ok(&format!("ls -A / | grep -c {name} || true")), "0\n");
}

/// Not a check: prints how long `sync` of one small file takes (a helper
/// process, setns, copy, rename). Run with
/// `cargo test --test runtime_sync -- --ignored --nocapture measure`.
#[test]
#[ignore]
fn measure_sync_latency() {
    if !setup("measure_sync_latency") {
        return;
    }
    let b = Box_::start("measure");
    write(&b.src("f"), "x\n", 0o644);
    let n = 50;
    let t = std::time::Instant::now();
    for _ in 0..n {
        sync_spawned(&b.spawned, &[copy(&b.src("f"), "/app/f")]).unwrap();
    }
    println!("sync of one file: {:?} mean over {n}", t.elapsed() / n);
    assert_eq!(b.ok("cat /app/f"), "x\n");
}
