//! The shared cache of built root filesystems: `<cache>/<sha256>/`.
//!
//! An entry is built in `<key>.tmp-<pid>-<n>` and renamed into place, so a
//! half-built entry is never used. Builders of the same key serialise on
//! `<key>.lock` (flock), so ten services sharing one tarball unpack it once;
//! if a rename still loses a race, the loser drops its copy and uses the
//! winner's.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl::{Flock, FlockArg};
use sha2::{Digest, Sha256};

use super::RootfsError;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// The directory of cache entry `key`.
pub fn entry(cache: &Path, key: &str) -> PathBuf {
    cache.join(key)
}

/// Return the cache entry `key`, building it with `build(tmp_dir)` first if it
/// does not exist yet. `build` gets an empty, existing directory; on error
/// the directory is removed and nothing is left in the cache.
pub fn get_or_build(
    cache: &Path,
    key: &str,
    build: impl FnOnce(&Path) -> Result<(), RootfsError>,
) -> Result<PathBuf, RootfsError> {
    let dest = entry(cache, key);
    if dest.is_dir() {
        return Ok(dest);
    }
    fs::create_dir_all(cache).map_err(|e| io_err("create cache dir", cache, e))?;
    let lock_path = cache.join(format!("{key}.lock"));
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| io_err("open lock file", &lock_path, e))?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .map_err(|(_, e)| io_err("lock", &lock_path, e.into()))?;
    // Someone else may have finished while we waited for the lock.
    if dest.is_dir() {
        return Ok(dest);
    }
    // Holding the lock, any other temp dir of this key is a crashed build.
    remove_stale(cache, key);
    let tmp = cache.join(format!(
        "{key}.tmp-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir(&tmp).map_err(|e| io_err("create", &tmp, e))?;
    if let Err(e) = build(&tmp) {
        remove_tree(&tmp);
        return Err(e);
    }
    match fs::rename(&tmp, &dest) {
        Ok(()) => Ok(dest),
        // Lost a race with a builder that did not take the lock (an older
        // stack, or a lock on a filesystem without flock): use the winner's.
        Err(_) if dest.is_dir() => {
            remove_tree(&tmp);
            Ok(dest)
        }
        Err(e) => {
            remove_tree(&tmp);
            Err(io_err("rename into cache", &dest, e))
        }
    }
}

fn remove_stale(cache: &Path, key: &str) {
    let prefix = format!("{key}.tmp-");
    if let Ok(rd) = fs::read_dir(cache) {
        for ent in rd.flatten() {
            if ent.file_name().to_string_lossy().starts_with(&prefix) {
                remove_tree(&ent.path());
            }
        }
    }
}

/// Remove a directory tree, first detaching anything mounted inside it (a
/// failed debootstrap can leave `proc`, `sys` or a bind of `/dev` behind,
/// and deleting through those would touch the host).
pub fn remove_tree(path: &Path) {
    let Ok(canon) = fs::canonicalize(path) else {
        return;
    };
    if let Err((m, e)) = crate::runtime::mountinfo::unmount_under(&canon) {
        tracing::warn!(
            "cannot unmount {}: {e}; not removing {}",
            m.display(),
            canon.display()
        );
        return;
    }
    if let Err(e) = fs::remove_dir_all(&canon) {
        tracing::warn!("cannot remove {}: {e}", canon.display());
    }
}

/// Hex sha256 of a file's contents, calling `tick(bytes_done)` as it goes.
pub fn sha256_file(path: &Path, tick: &mut dyn FnMut(u64)) -> Result<String, RootfsError> {
    let mut f = File::open(path).map_err(|e| io_err("open", path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err("read", path, e)),
        };
        h.update(&buf[..n]);
        done += n as u64;
        tick(done);
    }
    Ok(hex::encode(h.finalize()))
}

pub(crate) fn io_err(what: &str, path: &Path, source: io::Error) -> RootfsError {
    RootfsError::Io {
        what: what.to_string(),
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_build_leaves_nothing_and_success_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let err = get_or_build(&cache, "k", |tmp| {
            fs::write(tmp.join("half"), "x").unwrap();
            Err(RootfsError::HostEmpty)
        });
        assert!(err.is_err());
        let left: Vec<_> = fs::read_dir(&cache)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");

        let p = get_or_build(&cache, "k", |tmp| {
            fs::write(tmp.join("f"), "1").map_err(|e| io_err("write", tmp, e))
        })
        .unwrap();
        assert_eq!(fs::read_to_string(p.join("f")).unwrap(), "1");
        // Second call must not rebuild.
        let p2 = get_or_build(&cache, "k", |_| panic!("rebuilt")).unwrap();
        assert_eq!(p, p2);
    }

    #[test]
    fn concurrent_builders_share_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let built = std::sync::Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let cache = cache.clone();
                let built = built.clone();
                std::thread::spawn(move || {
                    get_or_build(&cache, "same", |tmp| {
                        built.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        fs::write(tmp.join("f"), "x").map_err(|e| io_err("write", tmp, e))
                    })
                    .unwrap()
                })
            })
            .collect();
        let paths: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(paths.iter().all(|p| p == &paths[0]));
        assert_eq!(built.load(Ordering::SeqCst), 1);
    }
}
