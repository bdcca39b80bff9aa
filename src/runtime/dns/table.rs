//! The table file, re-read when it changes.
//!
//! The engine replaces the file by an atomic rename, so a change is a new
//! inode; every query stats the path (a few microseconds) and re-reads
//! the file when its identity (device, inode, size, mtime) differs from
//! the one last read, or when that identity is too recent to be trusted
//! alone (then the bytes are compared, and parsed only if they differ).
//! No query waits for a watcher, and none sees a half-written table. A
//! file that cannot be read or parsed keeps the last good table (with a
//! warning), and is tried again when it changes.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::answer::{Table, Zone};
use super::DnsError;

/// Reads and parses a table file.
pub fn load(path: &Path) -> Result<Table, DnsError> {
    let text = std::fs::read(path).map_err(|source| DnsError::ReadTable {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

fn parse(path: &Path, text: &[u8]) -> Result<Table, DnsError> {
    serde_json::from_slice(text).map_err(|source| DnsError::ParseTable {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes a table file the way the resolver expects: to a temporary
/// file beside it, then renamed over it.
pub fn store(path: &Path, table: &Table) -> Result<(), DnsError> {
    let err = |source| DnsError::WriteTable {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_vec_pretty(table)
        .map_err(std::io::Error::other)
        .map_err(err)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// What identifies one version of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: SystemTime,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(path).ok()?;
        Some(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.modified().ok()?,
        })
    }

    /// Whether a later write could carry the same stamp: file times tick
    /// with the kernel's coarse clock (a few ms), and a freed inode
    /// number is soon reused, so two same-sized writes close together can
    /// look alike ("racy git"). Such a stamp is checked by content.
    fn racy(&self) -> bool {
        SystemTime::now()
            .duration_since(self.mtime)
            .map_or(true, |age| age < RACY)
    }
}

/// How long after a write its stamp is not trusted alone.
const RACY: Duration = Duration::from_secs(2);

/// The version last read.
#[derive(Debug, Default)]
struct Loaded {
    stamp: Option<Stamp>,
    bytes: Option<Vec<u8>>,
    zone: Arc<Zone>,
}

/// The table at a path, as of the last query.
#[derive(Debug)]
pub struct TableFile {
    path: PathBuf,
    state: Mutex<Loaded>,
}

impl TableFile {
    /// Reads `path` now; a missing or broken file starts empty (every
    /// question is forwarded) until it is written.
    pub fn open(path: &Path) -> TableFile {
        let f = TableFile {
            path: path.to_path_buf(),
            state: Mutex::new(Loaded::default()),
        };
        f.reload();
        f
    }

    /// The current table, re-read first if the file changed.
    pub fn current(&self) -> Arc<Zone> {
        let now = Stamp::of(&self.path);
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if now != st.stamp || now.is_some_and(|s| s.racy()) {
            self.refresh(&mut st, now);
        }
        st.zone.clone()
    }

    /// Re-reads the file whether or not it looks changed (SIGHUP).
    pub fn reload(&self) {
        let now = Stamp::of(&self.path);
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.bytes = None;
        self.refresh(&mut st, now);
    }

    /// Reads the file; parses it only when its bytes changed.
    fn refresh(&self, st: &mut Loaded, now: Option<Stamp>) {
        st.stamp = now;
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(source) => {
                if st.bytes.take().is_some() || now.is_some() {
                    let e = DnsError::ReadTable {
                        path: self.path.clone(),
                        source,
                    };
                    tracing::warn!("dns: {e}; answering from the last good table");
                }
                return;
            }
        };
        if st.bytes.as_ref() == Some(&bytes) {
            return;
        }
        match parse(&self.path, &bytes) {
            Ok(t) => st.zone = Arc::new(Zone::new(&t)),
            Err(e) => tracing::warn!("dns: {e}; answering from the last good table"),
        }
        st.bytes = Some(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::super::answer::{Decision, Kind};
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::net::Ipv4Addr;

    fn table(addr: Ipv4Addr) -> Table {
        let mut t = Table::default();
        t.networks
            .insert("n".into(), BTreeMap::from([("db".to_string(), vec![addr])]));
        t.containers.insert(
            Ipv4Addr::new(10, 0, 0, 9),
            BTreeSet::from(["n".to_string()]),
        );
        t
    }

    fn db(f: &TableFile) -> Decision {
        f.current()
            .decide(Ipv4Addr::new(10, 0, 0, 9), "db", Kind::A)
    }

    #[test]
    fn a_renamed_file_is_picked_up_and_a_broken_one_keeps_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.json");
        let f = TableFile::open(&path);
        assert_eq!(db(&f), Decision::Forward, "missing: empty");
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3));
        store(&path, &table(a)).unwrap();
        assert_eq!(db(&f), Decision::Addresses(vec![a]));
        store(&path, &table(b)).unwrap();
        assert_eq!(db(&f), Decision::Addresses(vec![b]));
        std::fs::write(dir.path().join("x"), "{ not json").unwrap();
        std::fs::rename(dir.path().join("x"), &path).unwrap();
        assert_eq!(db(&f), Decision::Addresses(vec![b]), "kept");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(db(&f), Decision::Addresses(vec![b]), "kept");
        store(&path, &table(a)).unwrap();
        f.reload();
        assert_eq!(db(&f), Decision::Addresses(vec![a]));
    }

    #[test]
    fn quick_same_sized_rewrites_are_all_seen() {
        // Same size, often the same coarse mtime, maybe a reused inode:
        // only the content tells them apart.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("table.json");
        let f = TableFile::open(&path);
        for i in 0..200u8 {
            let a = Ipv4Addr::new(10, 0, 0, 2 + i % 2);
            store(&path, &table(a)).unwrap();
            assert_eq!(db(&f), Decision::Addresses(vec![a]), "write {i}");
        }
    }

    #[test]
    fn load_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("t.json"), "{e}");
        std::fs::write(&path, r#"{"networks": 3}"#).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("t.json") && e.contains("not valid"), "{e}");
    }
}
