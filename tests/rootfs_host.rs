//! `host: [binaries]`: the host's own /bin/sh and /bin/ls with their shared
//! libraries, usable with `chroot`, cached by content.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use stack::runtime::rootfs::prepare;
use stack::runtime::rootfs::Source;

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rootfs-host-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    fs::create_dir_all(&p).unwrap();
    Scratch(p)
}

#[test]
fn rootfs_host_binaries_run_in_chroot() {
    if !common::root_or_skip("rootfs_host_binaries_run_in_chroot") {
        return;
    }
    let s = scratch("chroot");
    let cache = s.0.join("cache");
    let src = Source::Host(vec![PathBuf::from("/bin/sh"), PathBuf::from("/bin/ls")]);
    let root = prepare(&src, &cache, &|_| {}).expect("prepare");
    for d in ["proc", "sys", "dev", "tmp", "etc", "root"] {
        assert!(root.join(d).is_dir(), "missing /{d}");
    }
    let passwd = fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(passwd.starts_with("root:x:0:0:"), "{passwd}");
    assert!(fs::read_to_string(root.join("etc/group"))
        .unwrap()
        .contains("root:x:0:"));

    let out = Command::new("chroot")
        .arg(&root)
        .args(["/bin/ls", "/"])
        .output()
        .unwrap();
    assert!(out.status.success(), "chroot ls failed: {out:?}");
    let listing = String::from_utf8_lossy(&out.stdout);
    for d in ["bin", "etc", "proc", "tmp"] {
        assert!(listing.lines().any(|l| l == d), "{d} not in {listing}");
    }
    let out = Command::new("chroot")
        .arg(&root)
        .args(["/bin/sh", "-c", "echo ok; ls /etc"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok\n"));

    // Same inputs, same cache entry; a different set, another one.
    assert_eq!(prepare(&src, &cache, &|_| {}).unwrap(), root);
    let other = prepare(
        &Source::Host(vec![PathBuf::from("/bin/sh")]),
        &cache,
        &|_| {},
    )
    .unwrap();
    assert_ne!(other, root);
}

#[test]
fn rootfs_host_script_and_missing_are_named() {
    let s = scratch("bad");
    let cache = s.0.join("cache");
    let script = s.0.join("run.sh");
    fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    let e = prepare(&Source::Host(vec![script]), &cache, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("run.sh") && e.contains("not an ELF"), "{e}");
    let e = prepare(
        &Source::Host(vec![PathBuf::from("/bin/no-such-binary-here")]),
        &cache,
        &|_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("/bin/no-such-binary-here"), "{e}");
    assert!(!cache.exists() || fs::read_dir(&cache).unwrap().next().is_none());
}
