//! The per-container overlay: writes land in the container's upper layer,
//! the shared source is never changed, and two containers share one source.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::fs;
use std::path::PathBuf;

use stack::runtime::rootfs::Source;
use stack::runtime::rootfs::{overlay, prepare};

struct Cleanup(Vec<PathBuf>, PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for b in &self.0 {
            let _ = overlay::remove(b);
        }
        let _ = fs::remove_dir_all(&self.1);
    }
}

#[test]
fn rootfs_overlay_keeps_source_untouched() {
    if !common::root_or_skip("rootfs_overlay_keeps_source_untouched") {
        return;
    }
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rootfs-overlay-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(&base).unwrap();
    let (a, b) = (base.join("a"), base.join("b"));
    let _c = Cleanup(vec![a.clone(), b.clone()], base.clone());
    let lower = prepare(
        &Source::Dir(common::busybox_rootfs()),
        &base.join("cache"),
        &|_| {},
    )
    .unwrap();
    let before = fs::read_to_string(lower.join("etc/passwd")).unwrap();

    let ma = overlay::mount(&lower, &a).expect("mount a");
    let mb = overlay::mount(&lower, &b).expect("mount b");
    fs::write(ma.join("etc/passwd"), "changed\n").unwrap();
    fs::write(ma.join("new-file"), "x").unwrap();
    fs::remove_file(ma.join("bin/ls")).unwrap();

    assert_eq!(
        fs::read_to_string(lower.join("etc/passwd")).unwrap(),
        before
    );
    assert!(!lower.join("new-file").exists());
    assert!(fs::symlink_metadata(lower.join("bin/ls")).is_ok());
    assert_eq!(
        fs::read_to_string(a.join("upper/etc/passwd")).unwrap(),
        "changed\n"
    );
    // The other container sees the source, not its neighbour's changes.
    assert_eq!(fs::read_to_string(mb.join("etc/passwd")).unwrap(), before);
    assert!(fs::symlink_metadata(mb.join("bin/ls")).is_ok());

    overlay::remove(&a).unwrap();
    overlay::remove(&b).unwrap();
    assert!(!a.join("upper").exists() && !a.join("rootfs").exists());
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&base.display().to_string()),
        "overlay still mounted"
    );
}
