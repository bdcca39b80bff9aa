//! `debootstrap:` sources: a failing run errors cleanly and leaves no cache
//! entry. A real bootstrap needs a reachable mirror and minutes, so that one
//! is ignored by default (`cargo test --test rootfs_debootstrap -- --ignored`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use stack::runtime::rootfs::{debootstrap, prepare};
use stack::runtime::rootfs::{Debootstrap, Source};

fn scratch(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("rootfs-deb-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    fs::create_dir_all(&p).unwrap();
    p
}

fn leftovers(cache: &Path) -> Vec<String> {
    fs::read_dir(cache)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.ends_with(".lock"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn rootfs_debootstrap_failure_leaves_no_cache_entry() {
    if !common::root_or_skip("rootfs_debootstrap_failure_leaves_no_cache_entry") {
        return;
    }
    let dir = scratch("bad");
    let cache = dir.join("cache");
    let src = Debootstrap {
        suite: "no-such-suite".into(),
        variant: Some("minbase".into()),
        mirror: Some(format!("file://{}/no-mirror", dir.display())),
    };
    let lines = std::cell::RefCell::new(Vec::<String>::new());
    let res = match debootstrap::find_binary() {
        Some(_) => prepare(&Source::Debootstrap(src.clone()), &cache, &|l| {
            lines.borrow_mut().push(l.into())
        }),
        // Without debootstrap installed, the missing-binary path is the one to check.
        None => prepare(&Source::Debootstrap(src.clone()), &cache, &|_| {}),
    };
    let e = res.unwrap_err().to_string();
    if debootstrap::find_binary().is_some() {
        assert!(
            e.contains("no-such-suite") && e.contains("debootstrap failed"),
            "{e}"
        );
        assert!(!lines.borrow().is_empty(), "no progress lines streamed");
    } else {
        assert!(e.contains("apt-get install debootstrap"), "{e}");
    }
    assert!(
        leftovers(&cache).is_empty(),
        "left in cache: {:?}",
        leftovers(&cache)
    );
    let e = debootstrap::prepare_with(Path::new("/nonexistent/debootstrap"), &src, &cache, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("apt-get install debootstrap"), "{e}");
    assert!(leftovers(&cache).is_empty());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs network access to a Debian mirror and a few minutes"]
fn rootfs_debootstrap_bookworm_minbase() {
    if !common::root_or_skip("rootfs_debootstrap_bookworm_minbase") {
        return;
    }
    let dir = scratch("real");
    let cache = dir.join("cache");
    let src = Source::Debootstrap(Debootstrap {
        suite: "bookworm".into(),
        variant: Some("minbase".into()),
        mirror: Some("http://deb.debian.org/debian".into()),
    });
    let root = prepare(&src, &cache, &|l| eprintln!("{l}")).expect("debootstrap");
    assert!(root.join("usr/bin/apt-get").exists());
    let out = std::process::Command::new("chroot")
        .arg(&root)
        .args(["/bin/cat", "/etc/debian_version"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("12"),
        "{out:?}"
    );
    // Cached: the second call returns at once.
    assert_eq!(prepare(&src, &cache, &|_| panic!("rebuilt")).unwrap(), root);
    stack::runtime::rootfs::cache::remove_tree(&dir);
}
