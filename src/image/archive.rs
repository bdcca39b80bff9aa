//! An archive unpacked for reading: its regular files are written under a
//! fresh directory; its symbolic and hard links are not made on disk but
//! kept as a table and followed by name, inside the archive only (`docker
//! save` links a repeated layer to its first copy). Names with `..` out of
//! the archive, absolute names and links out of it are refused; devices,
//! fifos and the like are skipped (an image archive has none).

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why an archive cannot be unpacked or a name in it not found.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{archive}: entry {entry:?} {reason}: the archive is refused")]
    Unsafe {
        archive: PathBuf,
        entry: String,
        reason: &'static str,
    },
    #[error("{dir} is not empty: an archive is unpacked into a fresh directory")]
    NotEmpty { dir: PathBuf },
    #[error("{archive} has no {name:?}")]
    Missing { archive: PathBuf, name: String },
    #[error("{archive}: {name:?} {reason}")]
    BadLink {
        archive: PathBuf,
        name: String,
        reason: &'static str,
    },
}

/// Links followed before giving up (a loop).
const MAX_HOPS: usize = 40;

/// A directory of files, with the links of the archive it came from.
#[derive(Debug, Clone)]
pub struct Tree {
    /// The archive (or the directory itself when it is not one).
    origin: PathBuf,
    root: PathBuf,
    /// Link name → its target, as archive names; `None` when the target
    /// leaves the archive.
    links: HashMap<Vec<String>, Option<Vec<String>>>,
}

/// `name` as components, `.` dropped and `..` applied inside `base`;
/// `None` when it is absolute or leaves the archive.
fn normalize(base: &[String], name: &str) -> Option<Vec<String>> {
    if name.starts_with('/') {
        return None;
    }
    let mut out = base.to_vec();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c.to_string()),
        }
    }
    Some(out)
}

impl Tree {
    /// A directory as it is on disk (an OCI layout the user made).
    pub fn dir(root: &Path) -> Tree {
        Tree {
            origin: root.to_path_buf(),
            root: root.to_path_buf(),
            links: HashMap::new(),
        }
    }

    /// The archive this tree was read from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// Unpacks the tar `archive` into `dest`, which must be missing or empty.
    pub fn unpack(archive: &Path, dest: &Path) -> Result<Tree, ArchiveError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source: io::Error| ArchiveError::Io { path, source }
        };
        fs::create_dir_all(dest).map_err(io_err(dest))?;
        if fs::read_dir(dest).map_err(io_err(dest))?.next().is_some() {
            return Err(ArchiveError::NotEmpty {
                dir: dest.to_path_buf(),
            });
        }
        let file = fs::File::open(archive).map_err(io_err(archive))?;
        let mut tar = tar::Archive::new(io::BufReader::new(file));
        let mut tree = Tree {
            origin: archive.to_path_buf(),
            root: dest.to_path_buf(),
            links: HashMap::new(),
        };
        for entry in tar.entries().map_err(io_err(archive))? {
            let mut entry = entry.map_err(io_err(archive))?;
            tree.add(&mut entry)?;
        }
        Ok(tree)
    }

    fn add<R: io::Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let archive = self.origin.clone();
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let unsafe_entry = |reason| ArchiveError::Unsafe {
            archive: archive.clone(),
            entry: raw.clone(),
            reason,
        };
        let name = normalize(&[], &raw)
            .ok_or_else(|| unsafe_entry("is absolute or leaves the archive"))?;
        if name.is_empty() {
            return Ok(()); // `./`
        }
        let kind = entry.header().entry_type();
        let link_target = || -> Result<String, ArchiveError> {
            let l = entry
                .link_name_bytes()
                .ok_or_else(|| unsafe_entry("is a link without a target"))?;
            Ok(String::from_utf8_lossy(&l).into_owned())
        };
        let path = self.root.join(name.join("/"));
        let io_err = |source| ArchiveError::Io {
            path: path.clone(),
            source,
        };
        if kind.is_symlink() {
            let target = link_target()?;
            let parent = &name[..name.len() - 1];
            self.links.insert(name.clone(), normalize(parent, &target));
        } else if kind.is_hard_link() {
            let target = link_target()?;
            self.links.insert(name.clone(), normalize(&[], &target));
        } else if kind.is_dir() {
            self.links.remove(&name);
            fs::create_dir_all(&path).map_err(io_err)?;
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            self.links.remove(&name);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io_err)?;
            }
            let mut out = fs::File::create(&path).map_err(io_err)?;
            io::copy(entry, &mut out).map_err(io_err)?;
        }
        Ok(())
    }

    /// The file an archive name stands for, links followed inside the
    /// archive.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, ArchiveError> {
        let bad = |reason| ArchiveError::BadLink {
            archive: self.origin.clone(),
            name: name.to_string(),
            reason,
        };
        let mut cur =
            normalize(&[], name).ok_or_else(|| bad("is absolute or leaves the archive"))?;
        for _ in 0..MAX_HOPS {
            let hit = (1..=cur.len()).find(|&i| self.links.contains_key(&cur[..i]));
            let Some(i) = hit else {
                let path = self.root.join(cur.join("/"));
                if !path.is_file() {
                    return Err(ArchiveError::Missing {
                        archive: self.origin.clone(),
                        name: name.to_string(),
                    });
                }
                return Ok(path);
            };
            let Some(Some(target)) = self.links.get(&cur[..i]) else {
                return Err(bad("is a link that leaves the archive"));
            };
            let mut next = target.clone();
            next.extend_from_slice(&cur[i..]);
            cur = next;
        }
        Err(bad("is a loop of links"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_with(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // Bypass the builder's own name checks to plant hostile names.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            if let Some(l) = link {
                h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn unpack(bytes: &[u8]) -> (tempfile::TempDir, Result<Tree, ArchiveError>) {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.tar");
        fs::write(&a, bytes).unwrap();
        let t = Tree::unpack(&a, &dir.path().join("out"));
        (dir, t)
    }

    use tar::EntryType as E;

    #[test]
    fn follows_links_inside_the_archive() {
        let (_d, t) = unpack(&tar_with(&[
            ("a/layer.tar", E::Regular, b"one", None),
            ("b/layer.tar", E::Symlink, b"", Some("../a/layer.tar")),
            ("c", E::Symlink, b"", Some("b")),
            ("h", E::Link, b"", Some("a/layer.tar")),
            ("./x/./y", E::Regular, b"y", None),
        ]));
        let t = t.unwrap();
        for n in ["a/layer.tar", "b/layer.tar", "c/layer.tar", "h", "./h"] {
            assert_eq!(fs::read(t.resolve(n).unwrap()).unwrap(), b"one", "{n}");
        }
        assert_eq!(fs::read(t.resolve("x/y").unwrap()).unwrap(), b"y");
        assert!(matches!(
            t.resolve("nope"),
            Err(ArchiveError::Missing { .. })
        ));
        assert!(t.resolve("../a/layer.tar").is_err());
        assert!(t.resolve("/a/layer.tar").is_err());
    }

    #[test]
    fn refuses_names_out_of_the_archive() {
        for name in ["../evil", "a/../../evil", "/etc/evil"] {
            let (d, t) = unpack(&tar_with(&[(name, E::Regular, b"x", None)]));
            assert!(
                matches!(t, Err(ArchiveError::Unsafe { .. })),
                "{name}: {t:?}"
            );
            assert!(!d.path().join("evil").exists());
        }
    }

    #[test]
    fn links_out_and_loops_are_refused_when_followed() {
        let (_d, t) = unpack(&tar_with(&[
            ("out", E::Symlink, b"", Some("../../etc/passwd")),
            ("abs", E::Symlink, b"", Some("/etc/passwd")),
            ("l1", E::Symlink, b"", Some("l2")),
            ("l2", E::Symlink, b"", Some("l1")),
        ]));
        let t = t.unwrap();
        for n in ["out", "abs"] {
            let e = t.resolve(n).unwrap_err().to_string();
            assert!(e.contains("leaves the archive"), "{e}");
        }
        assert!(t.resolve("l1").unwrap_err().to_string().contains("loop"));
    }

    #[test]
    fn unpacks_only_into_an_empty_directory() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.tar");
        fs::write(&a, tar_with(&[("f", E::Regular, b"x", None)])).unwrap();
        fs::create_dir(dir.path().join("out")).unwrap();
        fs::write(dir.path().join("out/old"), b"").unwrap();
        assert!(matches!(
            Tree::unpack(&a, &dir.path().join("out")),
            Err(ArchiveError::NotEmpty { .. })
        ));
    }
}
