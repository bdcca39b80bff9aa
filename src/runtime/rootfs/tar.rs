//! Tarballs (`.tar`, `.tar.gz`, `.tgz`): unpacked once into the cache, keyed
//! by the archive's sha256, with the safe loop of `unpack.rs` (no `..`, no
//! absolute names, no links out, never writing through a planted symlink).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::cache::{self, io_err};
use super::unpack::{self, Counting, Whiteouts};
use super::RootfsError;

const TICK: Duration = Duration::from_millis(500);

/// Unpack `archive` into the cache (once) and return the entry's directory.
pub fn prepare(
    archive: &Path,
    cache_dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<PathBuf, RootfsError> {
    let meta = std::fs::metadata(archive).map_err(|e| io_err("rootfs tarball", archive, e))?;
    if !meta.is_file() {
        return Err(RootfsError::BadArchive {
            archive: archive.into(),
            message: "not a regular file".into(),
        });
    }
    let sha = match remembered_sum(archive, &meta, cache_dir) {
        Some(sha) => sha,
        None => {
            let total = meta.len();
            let mut last = Instant::now();
            let sha = cache::sha256_file(archive, &mut |done| {
                if last.elapsed() >= TICK {
                    last = Instant::now();
                    progress(&format!(
                        "hashing {}: {}%",
                        archive.display(),
                        done * 100 / total.max(1)
                    ));
                }
            })?;
            remember_sum(archive, &meta, cache_dir, &sha);
            sha
        }
    };
    cache::get_or_build(cache_dir, &sha, |tmp| unpack(archive, tmp, progress))
}

/// Where the sha256 of an archive is remembered, keyed by its identity and
/// change time (which userspace cannot set back), so a big tarball is hashed
/// once rather than on every `up`.
fn sum_file(archive: &Path, meta: &std::fs::Metadata, cache_dir: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::MetadataExt;
    let id = format!(
        "{}:{}:{}:{}.{}:{}.{}:{}",
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
        archive.display()
    );
    cache_dir
        .join(".tar-sums")
        .join(hex::encode(Sha256::digest(id.as_bytes())))
}

fn remembered_sum(archive: &Path, meta: &std::fs::Metadata, cache_dir: &Path) -> Option<String> {
    let s = std::fs::read_to_string(sum_file(archive, meta, cache_dir)).ok()?;
    let s = s.trim();
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_string())
}

fn remember_sum(archive: &Path, meta: &std::fs::Metadata, cache_dir: &Path, sha: &str) {
    let f = sum_file(archive, meta, cache_dir);
    let Some(dir) = f.parent() else { return };
    let tmp = f.with_extension(format!("tmp{}", std::process::id()));
    // Best effort: without it we only hash again next time.
    let ok = std::fs::create_dir_all(dir).is_ok()
        && std::fs::write(&tmp, sha).is_ok()
        && std::fs::rename(&tmp, &f).is_ok();
    if !ok {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// Unpack `archive` into the existing directory `dest`, refusing any entry
/// that would land outside it.
pub fn unpack(archive: &Path, dest: &Path, progress: &dyn Fn(&str)) -> Result<(), RootfsError> {
    unpack_every(archive, dest, progress, TICK)
}

/// `unpack`, with progress lines every `tick` once unpacking takes that long.
fn unpack_every(
    archive: &Path,
    dest: &Path,
    progress: &dyn Fn(&str),
    tick: Duration,
) -> Result<(), RootfsError> {
    let mut file = File::open(archive).map_err(|e| io_err("open", archive, e))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut magic = [0u8; 6];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| io_err("read", archive, e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io_err("seek", archive, e))?;
    let bad = |message: String| RootfsError::BadArchive {
        archive: archive.into(),
        message,
    };
    let magic = &magic[..n];
    let compressed_as = if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else if magic.starts_with(b"BZh") {
        Some("bzip2")
    } else {
        None
    };
    if let Some(kind) = compressed_as {
        return Err(bad(format!(
            "{kind}-compressed archives are not supported; recompress it with gzip or unpack it to a directory"
        )));
    }
    let count = Rc::new(Cell::new(0u64));
    let counting = Counting {
        inner: io::BufReader::with_capacity(1 << 16, file),
        count: count.clone(),
    };
    let reader: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(counting))
    } else {
        Box::new(counting)
    };
    let o = unpack::Options {
        archive,
        whiteouts: Whiteouts::Files,
        allow_empty: false,
        progress,
        tick,
        total,
        read: count,
    };
    unpack::unpack_stream(reader, dest, &o)
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_for_slow_archives() {
        let d = tempfile::tempdir().unwrap();
        let mut b = ::tar::Builder::new(Vec::new());
        for i in 0..3 {
            let mut h = ::tar::Header::new_gnu();
            h.set_size(1);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, format!("f{i}"), &b"x"[..]).unwrap();
        }
        let ar = d.path().join("a.tar");
        std::fs::write(&ar, b.into_inner().unwrap()).unwrap();
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let lines = std::cell::RefCell::new(Vec::new());
        unpack_every(
            &ar,
            &out,
            &|l| lines.borrow_mut().push(l.to_string()),
            Duration::ZERO,
        )
        .unwrap();
        let lines = lines.into_inner();
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("unpacking ") && l.contains('%')),
            "{lines:?}"
        );
        assert!(lines.last().unwrap().contains("3 entries"), "{lines:?}");
        assert!(out.join("f2").is_file());
    }
}
