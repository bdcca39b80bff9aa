//! Device access on real cgroups: with the default rules a process may open
//! /dev/null and create device nodes, but not open what it created (a char
//! 1:1, a block 8:0) — on v1 through the devices controller, on v2 through
//! the eBPF program. Needs root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use stack::runtime::devices::{apply_v1, apply_v2, default_rules, DeviceAccess};

/// Cgroup directories we made, removed deepest first when dropped, also
/// when the test fails.
struct Cgroups(Vec<PathBuf>);

impl Cgroups {
    /// `root/<name>/leaf`; returns the guard and the leaf.
    fn create(root: &Path, name: &str) -> (Cgroups, PathBuf) {
        let mut guard = Cgroups(Vec::new());
        let mut dir = root.to_path_buf();
        for part in [name, "leaf"] {
            dir.push(part);
            fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
            guard.0.push(dir.clone());
        }
        (guard, dir)
    }

    fn remove(&mut self) {
        while let Some(dir) = self.0.pop() {
            // A task that just exited may keep the cgroup busy for a moment.
            let deadline = Instant::now() + Duration::from_secs(5);
            while let Err(e) = fs::remove_dir(&dir) {
                if e.kind() == std::io::ErrorKind::NotFound || Instant::now() > deadline {
                    eprintln!("cannot remove {}: {e}", dir.display());
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The mount point of the first mount of `fstype` whose super options
/// contain `option` (if given), from /proc/self/mountinfo.
fn mount_of(fstype: &str, option: Option<&str>) -> Option<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut r = right.split(' ');
        let (ty, _source, opts) = (r.next()?, r.next()?, r.next()?);
        let ok = ty == fstype && option.is_none_or(|o| opts.split(',').any(|x| x == o));
        ok.then(|| left.split(' ').nth(4).map(PathBuf::from))?
    })
}

// What the probe child reports in its exit status, one bit per check.
/// Outside our cgroup, opening the 1:1 node is not refused with EPERM (so
/// an EPERM later comes from the device policy, not from e.g. lockdown).
const CONTROL: i32 = 1;
const JOINED: i32 = 2;
const NULL_OPENS: i32 = 4;
const CHAR_MKNOD: i32 = 8;
const CHAR_EPERM: i32 = 16;
const BLOCK_MKNOD: i32 = 32;
const BLOCK_EPERM: i32 = 64;
/// Set with the failing step's number in the low bits.
const SETUP_FAILED: i32 = 128;
const EVERYTHING: i32 =
    CONTROL | JOINED | NULL_OPENS | CHAR_MKNOD | CHAR_EPERM | BLOCK_MKNOD | BLOCK_EPERM;

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

struct Paths {
    procs: CString,
    scratch: CString,
    c0: CString,
    c1: CString,
    b0: CString,
}

/// The child's side, after fork: raw syscalls only (the test harness is
/// multithreaded, so no allocation).
///
/// The nodes go on a tmpfs mounted without `nodev` in a private mount
/// namespace: a node on a `nodev` mount can never be opened, which would
/// make the EPERM checks pass for the wrong reason. /dev/shm happens to be
/// mounted without `nodev` on this host, but systemd mounts it `nodev`
/// elsewhere, and the target dir's file system may be `nodev` too.
fn probe_child(p: &Paths) -> i32 {
    let errno = || std::io::Error::last_os_error().raw_os_error();
    let null = c"/dev/null";
    // SAFETY: each call gets NUL-terminated strings that outlive it; we are
    // a fresh single-threaded child about to _exit.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS) != 0 {
            return SETUP_FAILED | 1;
        }
        let private = libc::MS_REC | libc::MS_PRIVATE;
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            private,
            std::ptr::null(),
        ) != 0
        {
            return SETUP_FAILED | 2;
        }
        if libc::mount(
            c"tmpfs".as_ptr(),
            p.scratch.as_ptr(),
            c"tmpfs".as_ptr(),
            0,
            c"mode=700".as_ptr().cast(),
        ) != 0
        {
            return SETUP_FAILED | 3;
        }
        if libc::mknod(p.c0.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 1)) != 0 {
            return SETUP_FAILED | 4;
        }
        let mut got = 0;
        let fd = libc::open(p.c0.as_ptr(), libc::O_RDONLY);
        if fd >= 0 || errno() != Some(libc::EPERM) {
            got |= CONTROL;
        }
        if fd >= 0 {
            libc::close(fd);
        }
        // "0" is the writing task itself, on v1 and v2.
        let procs = libc::open(p.procs.as_ptr(), libc::O_WRONLY);
        if procs >= 0 && libc::write(procs, b"0".as_ptr().cast(), 1) == 1 {
            got |= JOINED;
        }
        let fd = libc::open(null.as_ptr(), libc::O_RDWR);
        if fd >= 0 {
            got |= NULL_OPENS;
            libc::close(fd);
        }
        if libc::mknod(p.c1.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 1)) == 0 {
            got |= CHAR_MKNOD;
        }
        if libc::open(p.c1.as_ptr(), libc::O_RDONLY) < 0 && errno() == Some(libc::EPERM) {
            got |= CHAR_EPERM;
        }
        if libc::mknod(p.b0.as_ptr(), libc::S_IFBLK | 0o600, libc::makedev(8, 0)) == 0 {
            got |= BLOCK_MKNOD;
        }
        if libc::open(p.b0.as_ptr(), libc::O_RDONLY) < 0 && errno() == Some(libc::EPERM) {
            got |= BLOCK_EPERM;
        }
        got
    }
}

/// Fork a child that joins the cgroup `leaf` and tries the devices; its
/// report bits.
fn probe(leaf: &Path) -> i32 {
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let paths = Paths {
        procs: cstr(&leaf.join("cgroup.procs")),
        scratch: cstr(scratch.path()),
        c0: cstr(&scratch.path().join("c0")),
        c1: cstr(&scratch.path().join("c1")),
        b0: cstr(&scratch.path().join("b0")),
    };
    // SAFETY: the child only makes raw syscalls on memory prepared above,
    // then _exits without unwinding.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        let code = probe_child(&paths);
        // SAFETY: leaving the forked child without running the parent's
        // destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child into a local int.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(r, pid, "waitpid: {}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status),
        "probe child died: status {status:#x}"
    );
    let code = libc::WEXITSTATUS(status);
    assert!(
        code & SETUP_FAILED == 0,
        "probe set-up step {} failed",
        code & 0x7f
    );
    code
}

fn assert_probe(leaf: &Path, want: i32) {
    let got = probe(leaf);
    let names = [
        (CONTROL, "1:1 opens outside the cgroup"),
        (JOINED, "joined the cgroup"),
        (NULL_OPENS, "/dev/null opens"),
        (CHAR_MKNOD, "mknod c 1:1"),
        (CHAR_EPERM, "open c 1:1 is EPERM"),
        (BLOCK_MKNOD, "mknod b 8:0"),
        (BLOCK_EPERM, "open b 8:0 is EPERM"),
    ];
    let wrong: Vec<String> = names
        .iter()
        .filter(|(bit, _)| got & bit != want & bit)
        .map(|(bit, name)| format!("{name}: {}", got & bit != 0))
        .collect();
    assert!(wrong.is_empty(), "{}: unexpected {wrong:?}", leaf.display());
}

#[test]
fn devices_controller_enforces_the_default_rules_v1_only() {
    if !common::root_or_skip("devices_controller_enforces_the_default_rules_v1_only") {
        return;
    }
    let Some(root) = mount_of("cgroup", Some("devices")) else {
        eprintln!("skipping devices_controller_enforces_the_default_rules_v1_only: no v1 devices controller mounted");
        return;
    };
    let (mut guard, leaf) =
        Cgroups::create(&root, &format!("stack-devtest-{}", std::process::id()));
    let rules = DeviceAccess::Rules(default_rules());
    apply_v1(&leaf, &rules).unwrap();
    let list = fs::read_to_string(leaf.join("devices.list")).unwrap();
    assert!(list.lines().any(|l| l == "c 1:3 rwm"), "{list}");
    assert!(!list.contains("a *:* rwm"), "{list}");
    assert_probe(&leaf, EVERYTHING);

    // Privileged, then back: works on a cgroup that already has rules.
    apply_v1(&leaf, &DeviceAccess::All).unwrap();
    assert_eq!(
        fs::read_to_string(leaf.join("devices.list"))
            .unwrap()
            .trim(),
        "a *:* rwm"
    );
    assert_probe(&leaf, EVERYTHING & !(CHAR_EPERM | BLOCK_EPERM));
    apply_v1(&leaf, &rules).unwrap();
    apply_v1(&leaf, &rules).unwrap();
    assert_eq!(fs::read_to_string(leaf.join("devices.list")).unwrap(), list);
    assert_probe(&leaf, EVERYTHING);
    guard.remove();
    assert!(!leaf.parent().unwrap().exists());
}

/// A zeroed `union bpf_attr` for BPF_PROG_QUERY or BPF_PROG_GET_FD_BY_ID
/// (the kernel writes a query's `revision` at offset 56, so the buffer is
/// the union's full size).
#[repr(C)]
struct Attr {
    a: u32,
    b: u32,
    c: u32,
    d: u32,
    ptr: u64,
    count: u32,
    rest: [u32; 57],
}

fn bpf(cmd: libc::c_int, attr: &mut Attr) -> std::io::Result<libc::c_long> {
    // SAFETY: attr is a 256-byte bpf_attr; its one pointer, if set, is to a
    // buffer the caller keeps alive.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut Attr,
            std::mem::size_of::<Attr>(),
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Ids of the device programs attached to the cgroup (BPF_PROG_QUERY).
fn attached(dir: &Path) -> Vec<u32> {
    let f = fs::File::open(dir).unwrap();
    let mut ids = [0u32; 64];
    let mut attr = Attr {
        a: std::os::fd::AsRawFd::as_raw_fd(&f) as u32,
        b: 6, // BPF_CGROUP_DEVICE
        c: 0,
        d: 0,
        ptr: ids.as_mut_ptr() as u64,
        count: 64,
        rest: [0; 57],
    };
    bpf(16, &mut attr).unwrap();
    ids[..attr.count as usize].to_vec()
}

/// Whether program `id` still exists (BPF_PROG_GET_FD_BY_ID).
fn program_exists(id: u32) -> bool {
    let mut attr = Attr {
        a: id,
        b: 0,
        c: 0,
        d: 0,
        ptr: 0,
        count: 0,
        rest: [0; 57],
    };
    match bpf(13, &mut attr) {
        Ok(fd) => {
            // SAFETY: closing the fd the kernel just gave us.
            unsafe { libc::close(fd as libc::c_int) };
            true
        }
        Err(e) => {
            assert_eq!(e.raw_os_error(), Some(libc::ENOENT), "{e}");
            false
        }
    }
}

#[test]
fn v2_bpf_program_enforces_the_default_rules() {
    if !common::root_or_skip("v2_bpf_program_enforces_the_default_rules") {
        return;
    }
    // /sys/fs/cgroup/unified on a hybrid host, /sys/fs/cgroup on pure v2.
    let root = mount_of("cgroup2", None).expect("no cgroup2 mount in /proc/self/mountinfo");
    let (mut guard, leaf) =
        Cgroups::create(&root, &format!("stack-devtest-{}", std::process::id()));
    let rules = DeviceAccess::Rules(default_rules());
    apply_v2(&leaf, &rules).unwrap();
    let first = attached(&leaf);
    assert_eq!(first.len(), 1, "{first:?}");
    // A re-create replaces the program instead of stacking a second.
    apply_v2(&leaf, &rules).unwrap();
    let second = attached(&leaf);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_ne!(first, second);
    assert!(attached(leaf.parent().unwrap()).is_empty());
    assert_probe(&leaf, EVERYTHING);

    // Privileged: nothing attached, nothing refused.
    apply_v2(&leaf, &DeviceAccess::All).unwrap();
    assert!(attached(&leaf).is_empty());
    assert_probe(&leaf, EVERYTHING & !(CHAR_EPERM | BLOCK_EPERM));

    apply_v2(&leaf, &rules).unwrap();
    let last = attached(&leaf);
    assert_eq!(last.len(), 1, "{last:?}");
    assert_probe(&leaf, EVERYTHING);

    // Removing the cgroup frees the program: we hold no fd to it.
    guard.remove();
    assert!(!leaf.parent().unwrap().exists());
    let deadline = Instant::now() + Duration::from_secs(20);
    while program_exists(last[0]) {
        assert!(
            Instant::now() < deadline,
            "program {} outlived its cgroup",
            last[0]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!program_exists(first[0]) && !program_exists(second[0]));
}
