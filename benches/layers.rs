//! Unpacking an image layer (issue 12's target: within 1.5× of `tar -x` of
//! the same uncompressed layer), side by side in one run: stack's layer
//! room (`layers::unpack_layer`: the safe fd-relative loop, whiteouts, and
//! the blob's sha256 checked while it streams) against GNU `tar -x`
//! (`tar -xzf` for the gzip pair) of the same ~60 MB layer, into a fresh
//! directory on the same file system each time.
//!
//! As root (both keep owners): `cargo bench --bench layers`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // benches may panic

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use sha2::{Digest, Sha256};

use stack::runtime::rootfs::layers::{self, LayerBlob, MediaType};

/// A directory removed when dropped (outside the timed part).
struct Out(PathBuf);

impl Drop for Out {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// ~60 MB: 3000 files of 16 KiB in 60 directories, ten of 1 MiB, and 500
/// symlinks, like a distribution's base layer.
fn layer_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let small: Vec<u8> = (0..16 << 10).map(|i| (i * 7 % 251) as u8).collect();
    let big: Vec<u8> = (0..1 << 20).map(|i| (i * 13 % 253) as u8).collect();
    let mut add = |name: String, data: &[u8], kind: tar::EntryType, link: Option<&str>| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        b.append_data(&mut h, name, data).unwrap();
    };
    for d in 0..60 {
        add(
            format!("usr/lib/d{d}/"),
            b"",
            tar::EntryType::Directory,
            None,
        );
        for f in 0..50 {
            add(
                format!("usr/lib/d{d}/f{f}"),
                &small,
                tar::EntryType::Regular,
                None,
            );
        }
    }
    for i in 0..10 {
        add(
            format!("usr/lib/big{i}"),
            &big,
            tar::EntryType::Regular,
            None,
        );
    }
    for i in 0..500 {
        let target = format!("d{}/f{}", i % 60, i % 50);
        add(
            format!("usr/lib/link{i}"),
            b"",
            tar::EntryType::Symlink,
            Some(&target),
        );
    }
    b.into_inner().unwrap()
}

fn blob(dir: &Path, name: &str, bytes: &[u8], media_type: MediaType) -> LayerBlob {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    LayerBlob {
        path,
        media_type,
        digest: format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
    }
}

fn bench(c: &mut Criterion) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("layers bench: needs root (owners are kept), skipped");
        return;
    }
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-layers");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let tar_bytes = layer_tar();
    let gz = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&tar_bytes).unwrap();
        e.finish().unwrap()
    };
    let plain = blob(&base, "layer.tar", &tar_bytes, MediaType::Tar);
    let gzip = blob(&base, "layer.tar.gz", &gz, MediaType::TarGzip);
    eprintln!(
        "layer: {:.1} MB uncompressed, {:.1} MB gzip",
        tar_bytes.len() as f64 / 1e6,
        gz.len() as f64 / 1e6
    );
    let seq = std::cell::Cell::new(0u64);
    let fresh = || {
        seq.set(seq.get() + 1);
        let d = base.join(format!("out-{}", seq.get()));
        std::fs::create_dir(&d).unwrap();
        Out(d)
    };
    for (label, blob, flags) in [("uncompressed", &plain, "-xf"), ("gzip", &gzip, "-xzf")] {
        let mut g = c.benchmark_group(format!("unpack a ~60 MB layer ({label})"));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(15));
        g.bench_function("stack layers::unpack_layer", |b| {
            b.iter_batched(
                fresh,
                |out| {
                    layers::unpack_layer(blob, &out.0, &|_| {}).unwrap();
                    out
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function(format!("tar {flags}"), |b| {
            b.iter_batched(
                fresh,
                |out| {
                    let st = Command::new("tar")
                        .arg(flags)
                        .arg(&blob.path)
                        .arg("-C")
                        .arg(&out.0)
                        .status()
                        .unwrap();
                    assert!(st.success());
                    out
                },
                BatchSize::PerIteration,
            )
        });
        g.finish();
    }
    let _ = std::fs::remove_dir_all(&base);
}

criterion_group!(benches, bench);
criterion_main!(benches);
