//! Tarball root filesystems: a minirootfs-like `.tar.gz` and a
//! `docker export`-like `.tar` unpack into the cache (once), and archives
//! whose entries would escape the root are refused, naming the entry, with
//! nothing written outside and nothing left in the cache.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use stack::runtime::rootfs::Source;
use stack::runtime::rootfs::{prepare, RootfsError};
use tar::{EntryType, Header};

/// A scratch dir under the target dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("rootfs-tar-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

enum E<'a> {
    Dir(&'a str, u32),
    File(&'a str, u32, &'a [u8]),
    Owned(&'a str, u32, u64, &'a [u8]),
    Symlink(&'a str, &'a str),
    Hard(&'a str, &'a str),
    Char(&'a str),
}

/// Build an archive with raw names (no validation, so it can be malicious).
fn archive(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = Header::new_gnu();
        let (name, data): (&str, &[u8]) = match e {
            E::Dir(n, mode) => {
                h.set_entry_type(EntryType::Directory);
                h.set_mode(*mode);
                (n, b"")
            }
            E::File(n, mode, d) => {
                h.set_entry_type(EntryType::Regular);
                h.set_mode(*mode);
                (n, d)
            }
            E::Owned(n, mode, id, d) => {
                h.set_entry_type(EntryType::Regular);
                h.set_mode(*mode);
                h.set_uid(*id);
                h.set_gid(*id);
                (n, d)
            }
            E::Symlink(n, t) => {
                h.set_entry_type(EntryType::Symlink);
                h.set_mode(0o777);
                h.set_link_name_literal(t).unwrap();
                (n, b"")
            }
            E::Hard(n, t) => {
                h.set_entry_type(EntryType::Link);
                h.set_mode(0o644);
                h.set_link_name_literal(t).unwrap();
                (n, b"")
            }
            E::Char(n) => {
                h.set_entry_type(EntryType::Char);
                h.set_mode(0o666);
                h.set_device_major(1).unwrap();
                h.set_device_minor(3).unwrap();
                (n, b"")
            }
        };
        let field = &mut h.as_old_mut().name;
        field.fill(0);
        field[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Cache entries (ignoring lock files), to check nothing half-done is left.
fn cache_entries(cache: &Path) -> Vec<String> {
    match fs::read_dir(cache) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".lock") && !n.starts_with('.'))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn rootfs_tar_minirootfs_unpacks_once() {
    if !common::root_or_skip("rootfs_tar_minirootfs_unpacks_once") {
        return;
    }
    let s = Scratch::new("mini");
    let busybox = vec![0x7fu8; 4096];
    let tgz = s.0.join("alpine-minirootfs.tar.gz");
    fs::write(
        &tgz,
        gzip(&archive(&[
            E::Dir("./", 0o755),
            E::Dir("./bin/", 0o755),
            E::File("./bin/busybox", 0o755, &busybox),
            E::Symlink("./bin/sh", "/bin/busybox"),
            E::Hard("./bin/busybox-hard", "./bin/busybox"),
            E::Dir("./etc/", 0o755),
            E::File("./etc/passwd", 0o644, b"root:x:0:0:root:/root:/bin/sh\n"),
            E::Owned("./usr/bin/su-ish", 0o4755, 1000, b"x"),
            E::Dir("./usr/lib/", 0o755),
            E::Symlink("./usr/lib/libz.so", "../../lib/libz.so.1"),
            E::Dir("./tmp/", 0o1777),
            E::Dir("./dev/", 0o755),
            E::Char("./dev/null"),
        ])),
    )
    .unwrap();
    let cache = s.0.join("cache");
    let root = prepare(&Source::Tar(tgz.clone()), &cache, &|_| {}).expect("prepare");
    assert!(root.starts_with(&cache));
    assert_eq!(fs::read(root.join("bin/busybox")).unwrap(), busybox);
    assert_eq!(
        fs::read_link(root.join("bin/sh")).unwrap(),
        Path::new("/bin/busybox")
    );
    assert_eq!(
        fs::metadata(root.join("bin/busybox")).unwrap().ino(),
        fs::metadata(root.join("bin/busybox-hard")).unwrap().ino()
    );
    let su = fs::metadata(root.join("usr/bin/su-ish")).unwrap();
    assert_eq!(su.permissions().mode() & 0o7777, 0o4755);
    assert_eq!((su.uid(), su.gid()), (1000, 1000));
    assert_eq!(
        fs::metadata(root.join("tmp")).unwrap().permissions().mode() & 0o7777,
        0o1777
    );
    assert_eq!(
        fs::read_link(root.join("usr/lib/libz.so")).unwrap(),
        Path::new("../../lib/libz.so.1")
    );
    assert!(!root.join("dev/null").exists(), "device nodes are skipped");

    // Second prepare hits the cache: the same entry, not rebuilt.
    fs::write(root.join("sentinel"), "kept").unwrap();
    let again = prepare(&Source::Tar(tgz.clone()), &cache, &|_| {}).unwrap();
    assert_eq!(again, root);
    assert!(again.join("sentinel").exists());
    assert_eq!(
        cache_entries(&cache),
        vec![root.file_name().unwrap().to_string_lossy().into_owned()]
    );

    // Changed in place (same name, size and mtime): a new entry, not the remembered sum.
    let meta = fs::metadata(&tgz).unwrap();
    let changed = gzip(&archive(&[E::File("./marker", 0o644, b"v2")]));
    fs::write(&tgz, &changed).unwrap();
    let f = fs::File::options().write(true).open(&tgz).unwrap();
    f.set_modified(meta.modified().unwrap()).unwrap();
    drop(f);
    let v2 = prepare(&Source::Tar(tgz), &cache, &|_| {}).unwrap();
    assert_ne!(v2, root);
    assert!(v2.join("marker").is_file());
    fs::remove_dir_all(&v2).unwrap();
    assert_eq!(
        cache_entries(&cache),
        vec![root.file_name().unwrap().to_string_lossy().into_owned()]
    );
}

#[test]
fn rootfs_tar_docker_export_layout() {
    if !common::root_or_skip("rootfs_tar_docker_export_layout") {
        return;
    }
    let s = Scratch::new("export");
    // `docker export`: plain tar, names without `./`, files before their
    // directories sometimes, /dev nodes and .dockerenv present.
    let tar = s.0.join("export.tar");
    fs::write(
        &tar,
        archive(&[
            E::File(".dockerenv", 0o755, b""),
            E::Dir("bin/", 0o755),
            E::File("bin/app", 0o755, b"#!/bin/sh\n"),
            E::Dir("dev/", 0o755),
            E::Char("dev/console"),
            E::File("etc/hostname", 0o644, b"abc\n"),
            E::Symlink("lib64", "usr/lib64"),
            E::Dir("usr/lib64/", 0o755),
            E::Dir("etc/", 0o755),
        ]),
    )
    .unwrap();
    let cache = s.0.join("cache");
    let root = prepare(&Source::Tar(tar), &cache, &|_| {}).expect("prepare");
    assert_eq!(
        fs::read_to_string(root.join("etc/hostname")).unwrap(),
        "abc\n"
    );
    assert!(root.join("bin/app").is_file());
    assert_eq!(
        fs::read_link(root.join("lib64")).unwrap(),
        Path::new("usr/lib64")
    );
}

#[test]
fn rootfs_tar_escapes_are_refused() {
    if !common::root_or_skip("rootfs_tar_escapes_are_refused") {
        return;
    }
    let s = Scratch::new("evil");
    let outside = s.0.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret"), "host data").unwrap();
    let out = outside.display().to_string();
    let plant_secret = format!("{out}/secret");
    let cases: Vec<(&str, Vec<E>, &str)> = vec![
        ("dotdot", vec![E::File("../x", 0o644, b"pwned")], "../x"),
        (
            "nested-dotdot",
            vec![E::Dir("a/", 0o755), E::File("a/../../x", 0o644, b"pwned")],
            "a/../../x",
        ),
        (
            "absolute",
            vec![E::File("/etc/x", 0o644, b"pwned")],
            "/etc/x",
        ),
        (
            "symlink-out",
            vec![E::Symlink("evil", "../../../../../../etc")],
            "evil",
        ),
        (
            "symlink-plant-then-write",
            vec![
                E::Symlink("plant", &out),
                E::File("plant/pwned", 0o644, b"pwned"),
            ],
            "plant/pwned",
        ),
        (
            "symlink-plant-then-dir",
            vec![E::Symlink("plant", &out), E::Dir("plant/sub/", 0o755)],
            "plant/sub/",
        ),
        (
            "hardlink-out-absolute",
            vec![E::Hard("hl", &plant_secret)],
            "hl",
        ),
        (
            "hardlink-out-dotdot",
            vec![E::Hard("hl", "../../../etc/passwd")],
            "hl",
        ),
        (
            "hardlink-through-plant",
            vec![E::Symlink("plant", &out), E::Hard("hl", "plant/secret")],
            "hl",
        ),
    ];
    for (name, entries, bad_entry) in cases {
        let path = s.0.join(format!("{name}.tar.gz"));
        fs::write(&path, gzip(&archive(&entries))).unwrap();
        let cache = s.0.join(format!("cache-{name}"));
        let err = prepare(&Source::Tar(path), &cache, &|_| {})
            .err()
            .unwrap_or_else(|| panic!("{name}: archive was accepted"));
        assert!(
            matches!(err, RootfsError::UnsafeEntry { .. }),
            "{name}: {err}"
        );
        let msg = err.to_string();
        eprintln!("{name}: {msg}");
        assert!(msg.contains(&format!("{bad_entry:?}")), "{name}: {msg}");
        assert!(
            cache_entries(&cache).is_empty(),
            "{name}: cache left: {:?}",
            cache_entries(&cache)
        );
        // Nothing was written outside.
        let mut names: Vec<String> = fs::read_dir(&outside)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["secret".to_string()], "{name}");
        assert_eq!(
            fs::read_to_string(outside.join("secret")).unwrap(),
            "host data"
        );
        assert!(
            !s.0.join("x").exists() && !Path::new("/etc/x").exists(),
            "{name}"
        );
        assert_eq!(
            fs::metadata(outside.join("secret")).unwrap().nlink(),
            1,
            "{name}"
        );
    }
}

#[test]
fn rootfs_tar_bad_input_errors() {
    let s = Scratch::new("bad");
    let cache = s.0.join("cache");
    let missing = s.0.join("missing.tar");
    let e = prepare(&Source::Tar(missing), &cache, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.tar"), "{e}");
    let junk = s.0.join("junk.tar.gz");
    fs::write(&junk, b"\x1f\x8bnot really gzip").unwrap();
    let e = prepare(&Source::Tar(junk), &cache, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("junk.tar.gz"), "{e}");
    let xz = s.0.join("r.tar.xz");
    fs::write(&xz, b"\xfd7zXZ\x00rest").unwrap();
    let e = prepare(&Source::Tar(xz), &cache, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("xz") && e.contains("gzip"), "{e}");
    assert!(cache_entries(&cache).is_empty());
}

#[test]
fn rootfs_tar_gnu_tar_of_busybox_runs() {
    if !common::root_or_skip("rootfs_tar_gnu_tar_of_busybox_runs") {
        return;
    }
    let s = Scratch::new("gnutar");
    let tgz = s.0.join("busybox.tgz");
    let st = std::process::Command::new("tar")
        .arg("-C")
        .arg(common::busybox_rootfs())
        .args(["--numeric-owner", "-czf"])
        .arg(&tgz)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    let cache = s.0.join("cache");
    let root = prepare(&Source::Tar(tgz), &cache, &|_| {}).expect("prepare");
    let out = std::process::Command::new("chroot")
        .arg(&root)
        .args([
            "/bin/sh",
            "-c",
            "echo hello from $(basename $(readlink /bin/ls))",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "hello from busybox"
    );
}
