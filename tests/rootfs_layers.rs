//! Image layers (issue 12, item 3): each layer unpacked once by digest,
//! OCI whiteouts converted to overlayfs's, the layers stacked as real
//! overlay lower layers; unsafe entries and a wrong digest refused with
//! nothing left behind; a 60-layer image (over the `lowerdir=` page)
//! flattened and mounted, with both strategies timed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sha2::{Digest, Sha256};
use stack::runtime::rootfs::layers::{self, LayerBlob, MediaType};
use stack::runtime::rootfs::{overlay, RootfsError};
use tar::{EntryType, Header};

/// A scratch dir under the target dir; its overlays unmounted and the
/// whole tree removed on drop, also when the test fails.
struct Scratch {
    dir: PathBuf,
    bundles: Mutex<Vec<PathBuf>>,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("rootfs-layers-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch {
            dir,
            bundles: Mutex::new(Vec::new()),
        }
    }

    fn cache(&self) -> PathBuf {
        self.dir.join("cache")
    }

    /// Mount `lowers` (base first) with a fresh upper; unmounted on drop.
    fn mount(&self, name: &str, lowers: &[PathBuf]) -> PathBuf {
        let bundle = self.dir.join("bundles").join(name);
        self.bundles.lock().unwrap().push(bundle.clone());
        overlay::mount_lowers(lowers, &bundle).expect("mount overlay")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for b in self.bundles.lock().unwrap().iter() {
            let _ = overlay::remove(b);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

enum E<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
}

/// A tar with raw names (no validation, so it can be malicious).
fn archive(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = Header::new_gnu();
        let (name, data): (&str, &[u8]) = match e {
            E::Dir(n) => {
                h.set_entry_type(EntryType::Directory);
                h.set_mode(0o755);
                (n, b"")
            }
            E::File(n, d) => {
                h.set_entry_type(EntryType::Regular);
                h.set_mode(0o644);
                (n, d)
            }
            E::Symlink(n, t) => {
                h.set_entry_type(EntryType::Symlink);
                h.set_mode(0o777);
                h.set_link_name_literal(t).unwrap();
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

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Write a blob (compressed as `media_type` says) and describe it.
fn blob(dir: &Path, name: &str, tar: &[u8], media_type: MediaType) -> LayerBlob {
    let bytes = match media_type {
        MediaType::Tar => tar.to_vec(),
        MediaType::TarGzip => gzip(tar),
        MediaType::TarZstd => zstd::encode_all(tar, 3).unwrap(),
    };
    let path = dir.join(name);
    fs::write(&path, &bytes).unwrap();
    LayerBlob {
        path,
        media_type,
        digest: digest(&bytes),
    }
}

/// Entries of `dir`, sorted, without the lock files.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".lock"))
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn opaque(dir: &Path) -> bool {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    let mut v = [0u8; 4];
    // SAFETY: both strings are NUL-terminated; the buffer is a live local.
    let n = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            v.as_mut_ptr().cast(),
            v.len(),
        )
    };
    n == 1 && v[0] == b'y'
}

#[test]
fn rootfs_layers_whiteouts_stack_as_overlay_lowers() {
    if !common::root_or_skip("rootfs_layers_whiteouts_stack_as_overlay_lowers") {
        return;
    }
    let s = Scratch::new("stack");
    let l1 = blob(
        &s.dir,
        "l1",
        &archive(&[
            E::File("a", b"a"),
            E::Dir("dir/"),
            E::File("dir/x", b"x"),
            E::File("dir/y", b"y"),
            E::File("keep", b"kept"),
        ]),
        MediaType::TarGzip,
    );
    let l2 = blob(
        &s.dir,
        "l2",
        &archive(&[
            E::File(".wh.a", b""),
            E::Dir("dir/"),
            E::File("dir/.wh..wh..opq", b""),
            E::File("dir/z", b"z"),
            E::File(".wh..wh.plnk", b""),
        ]),
        MediaType::TarZstd,
    );
    let l3 = blob(
        &s.dir,
        "l3",
        &archive(&[E::File("dir/top", b"t")]),
        MediaType::Tar,
    );
    let cache = s.cache();
    let dirs: Vec<PathBuf> = [&l1, &l2, &l3]
        .iter()
        .map(|b| layers::ensure_layer(&cache, b).expect("ensure layer"))
        .collect();
    let hex = l2.digest.strip_prefix("sha256:").unwrap();
    assert_eq!(dirs[1], cache.join("layers/sha256").join(hex));
    assert_eq!(layers::stored(&cache, &l2.digest), Some(dirs[1].clone()));

    // The layer itself, in overlayfs's form: no `.wh.` files.
    let wh = fs::symlink_metadata(dirs[1].join("a")).unwrap();
    assert!(wh.file_type().is_char_device() && wh.rdev() == 0, "{wh:?}");
    assert!(opaque(&dirs[1].join("dir")));
    assert!(!opaque(&dirs[0].join("dir")));
    assert_eq!(listing(&dirs[1]), vec!["a", "dir"]);
    assert_eq!(listing(&dirs[1].join("dir")), vec!["z"]);

    // Stacked as real overlay lowers.
    let root = s.mount("c1", &dirs);
    assert!(fs::symlink_metadata(root.join("a")).is_err(), "/a is gone");
    assert_eq!(listing(&root.join("dir")), vec!["top", "z"]);
    assert_eq!(fs::read_to_string(root.join("keep")).unwrap(), "kept");
    assert_eq!(listing(&root), vec!["dir", "keep"]);
    // Writes go to the upper layer; the shared layer is untouched.
    fs::write(root.join("keep"), "changed").unwrap();
    assert_eq!(fs::read_to_string(dirs[0].join("keep")).unwrap(), "kept");

    // Flattened, the same view.
    let flat = layers::flatten(&cache, &dirs).unwrap();
    assert_eq!(listing(&flat), vec!["dir", "keep"]);
    assert_eq!(listing(&flat.join("dir")), vec!["top", "z"]);
    assert_eq!(
        fs::metadata(flat.join("keep")).unwrap().ino(),
        fs::metadata(dirs[0].join("keep")).unwrap().ino(),
        "flattening hard-links, it does not copy"
    );
    let root = s.mount("c2", std::slice::from_ref(&flat));
    assert_eq!(listing(&root.join("dir")), vec!["top", "z"]);
}

#[test]
fn rootfs_layers_refusals() {
    if !common::root_or_skip("rootfs_layers_refusals") {
        return;
    }
    let s = Scratch::new("refuse");
    let cache = s.cache();
    let tag = format!("stack-layer-escape-{}", std::process::id());
    let abs = format!("/{tag}");
    let through = format!("link/{tag}");
    let cases: Vec<(&str, Vec<E>, &str)> = vec![
        ("dotdot", vec![E::File("../escape", b"pwned")], "../escape"),
        ("absolute", vec![E::File(&abs, b"pwned")], abs.as_str()),
        (
            "symlink-root-then-file",
            vec![E::Symlink("link", "/"), E::File(&through, b"pwned")],
            through.as_str(),
        ),
        ("whiteout-dotdot", vec![E::File(".wh...", b"")], ".wh..."),
    ];
    for (name, entries, bad) in cases {
        let b = blob(&s.dir, name, &archive(&entries), MediaType::TarGzip);
        let err = layers::ensure_layer(&cache, &b)
            .err()
            .unwrap_or_else(|| panic!("{name}: layer was accepted"));
        assert!(
            matches!(err, RootfsError::UnsafeEntry { .. }),
            "{name}: {err}"
        );
        let msg = err.to_string();
        eprintln!("{name}: {msg}");
        assert!(msg.contains(&format!("{bad:?}")), "{name}: {msg}");
        assert!(listing(&cache.join("layers/sha256")).is_empty(), "{name}");
        assert!(!Path::new(&abs).exists(), "{name}: wrote {abs}");
        assert!(
            !cache.join("layers/escape").exists() && !cache.join("layers/sha256/escape").exists()
        );
    }

    // A digest mismatch: refused naming both, nothing kept.
    let mut b = blob(
        &s.dir,
        "good",
        &archive(&[E::File("f", b"1")]),
        MediaType::TarGzip,
    );
    let actual = b.digest.clone();
    b.digest = digest(b"something else");
    let msg = layers::ensure_layer(&cache, &b).unwrap_err().to_string();
    eprintln!("mismatch: {msg}");
    assert!(msg.contains(&actual) && msg.contains(&b.digest), "{msg}");
    assert!(layers::stored(&cache, &b.digest).is_none());
    assert!(listing(&cache.join("layers/sha256")).is_empty());
    // A malformed digest.
    b.digest = "sha256:../../x".into();
    let msg = layers::ensure_layer(&cache, &b).unwrap_err().to_string();
    assert!(msg.contains("64 hex digits"), "{msg}");
}

#[test]
fn rootfs_layers_concurrent_ensure_unpacks_once() {
    if !common::root_or_skip("rootfs_layers_concurrent_ensure_unpacks_once") {
        return;
    }
    let s = Scratch::new("once");
    let big = vec![7u8; 8 << 20];
    let b = blob(
        &s.dir,
        "l",
        &archive(&[E::File("big", &big), E::File("small", b"s")]),
        MediaType::TarGzip,
    );
    let cache = s.cache();
    // A crashed earlier unpack left a temp dir: removed, never used.
    let hex = b.digest.strip_prefix("sha256:").unwrap().to_string();
    let stale = cache.join("layers/sha256").join(format!("{hex}.tmp-1-0"));
    fs::create_dir_all(&stale).unwrap();
    fs::write(stale.join("half"), "x").unwrap();

    let unpacks = Arc::new(Mutex::new(0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (cache, b, unpacks) = (cache.clone(), b.clone(), unpacks.clone());
            std::thread::spawn(move || {
                layers::ensure_layer_with(&cache, &b, &|l| {
                    if l.starts_with("unpacking layer ") {
                        *unpacks.lock().unwrap() += 1;
                    }
                })
                .unwrap()
            })
        })
        .collect();
    let paths: Vec<PathBuf> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(paths.iter().all(|p| p == &paths[0]));
    assert_eq!(*unpacks.lock().unwrap(), 1, "one unpack for four callers");
    assert_eq!(fs::read(paths[0].join("big")).unwrap(), big);
    assert_eq!(listing(&cache.join("layers/sha256")), vec![hex]);
}

#[test]
fn rootfs_layers_sixty_layer_image_mounts() {
    if !common::root_or_skip("rootfs_layers_sixty_layer_image_mounts") {
        return;
    }
    let s = Scratch::new("sixty");
    let cache = s.cache();
    let t = Instant::now();
    let dirs: Vec<PathBuf> = (0..60)
        .map(|i| {
            let name = format!("f{i}");
            let shared = format!("shared/{i}");
            let mut entries = vec![E::Dir("shared/"), E::File(&name, b"x")];
            entries.push(E::File(&shared, b"s"));
            if i == 30 {
                entries.push(E::File(".wh.f5", b""));
            }
            let b = blob(
                &s.dir,
                &format!("b{i}"),
                &archive(&entries),
                MediaType::TarGzip,
            );
            layers::ensure_layer(&cache, &b).unwrap()
        })
        .collect();
    let unpack_ms = t.elapsed().as_secs_f64() * 1e3;
    let full = layers::lowerdir(&dirs).len();
    assert!(full > layers::LOWERDIR_BUDGET, "{full} bytes fit: no test");
    let expect = |root: &Path| {
        for i in 0..60 {
            assert_eq!(root.join(format!("f{i}")).exists(), i != 5, "f{i}");
        }
        assert_eq!(fs::read_dir(root.join("shared")).unwrap().count(), 60);
    };

    // The chosen strategy: flattened once (hard links), one lower.
    let t = Instant::now();
    let lowers = layers::image_lowers(&cache, &dirs).unwrap();
    let flatten_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(lowers.len(), 1);
    let t = Instant::now();
    let root = s.mount("flat", &lowers);
    let mount_flat_ms = t.elapsed().as_secs_f64() * 1e3;
    expect(&root);
    let t = Instant::now();
    let again = layers::image_lowers(&cache, &dirs).unwrap();
    let reuse_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(again, lowers);

    // The other strategy, measured beside it: 60 lowers through short
    // symlinks, which fit the page.
    let short = s.dir.join("l");
    fs::create_dir_all(&short).unwrap();
    let links: Vec<PathBuf> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let l = short.join(i.to_string());
            std::os::unix::fs::symlink(d, &l).unwrap();
            l
        })
        .collect();
    let t = Instant::now();
    let root = s.mount("stacked", &links);
    let mount_stacked_ms = t.elapsed().as_secs_f64() * 1e3;
    expect(&root);
    let lookups = |root: &Path| {
        let t = Instant::now();
        for _ in 0..20 {
            for i in 0..60 {
                let _ = fs::symlink_metadata(root.join(format!("f{i}")));
                let _ = fs::symlink_metadata(root.join(format!("nope{i}")));
            }
        }
        t.elapsed().as_secs_f64() * 1e6 / 2400.0
    };
    let stacked_us = lookups(&root);
    let flat_us = lookups(&s.dir.join("bundles/flat/rootfs"));
    eprintln!(
        "60 layers: unpack {unpack_ms:.1} ms; lowerdir of cache paths {full} bytes (budget {}); \
         flatten {flatten_ms:.1} ms (again {reuse_ms:.2} ms), mount flat {mount_flat_ms:.2} ms, \
         mount 60 stacked {mount_stacked_ms:.2} ms; lookup flat {flat_us:.2} us, stacked {stacked_us:.2} us",
        layers::LOWERDIR_BUDGET
    );
}
