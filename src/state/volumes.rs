//! The machine's named volumes, shared by every project:
//! `<state root>/volumes/<name>/`.
//!
//! A top-level volume with `name:` lives here (made when a container
//! first mounts it, removed by its project's `down -v`), and so does one
//! that is `external: true` (made by `stack volume create`, never removed
//! by a project). A volume without either stays in its project's own
//! `volumes/` directory.

use std::fs;
use std::path::PathBuf;

use super::{io_err, remove_path, state_root, StateError, Store};
use crate::spec::{Backing, Mount};

/// One machine volume and the projects whose last applied file names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VolumeInfo {
    pub name: String,
    pub path: PathBuf,
    pub projects: Vec<String>,
}

/// Why a machine volume could not be made or removed.
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("invalid volume name {0:?} (two or more letters, digits, `_`, `.` and `-`, starting with a letter or digit)")]
    BadName(String),
    #[error("no such volume: {0} (`stack volume ls` lists them)")]
    Missing(String),
    #[error("volume {name} is used by project {projects}; take it down first (`stack -p {first} down`)", projects = projects.join(", "), first = projects[0])]
    InUse { name: String, projects: Vec<String> },
    #[error(transparent)]
    State(#[from] StateError),
}

#[derive(Debug, Clone)]
pub struct VolumeStore {
    /// `<state root>/volumes`.
    pub dir: PathBuf,
}

impl Default for VolumeStore {
    fn default() -> Self {
        VolumeStore::new()
    }
}

impl VolumeStore {
    pub fn new() -> VolumeStore {
        VolumeStore {
            dir: state_root().join("volumes"),
        }
    }

    /// Where `name`'s data is (checked: one path component).
    pub fn path(&self, name: &str) -> Result<PathBuf, VolumeError> {
        if !crate::spec::valid_volume_name(name) {
            return Err(VolumeError::BadName(name.to_string()));
        }
        Ok(self.dir.join(name))
    }

    /// Make `name`; `false` when it was there already.
    pub fn create(&self, name: &str) -> Result<bool, VolumeError> {
        let p = self.path(name)?;
        if p.is_dir() {
            return Ok(false);
        }
        fs::create_dir_all(&p).map_err(io_err(&p))?;
        Ok(true)
    }

    /// Remove `name` and its data, unless a project's file names it.
    pub fn remove(&self, name: &str) -> Result<(), VolumeError> {
        let p = self.path(name)?;
        if !p.is_dir() {
            return Err(VolumeError::Missing(name.to_string()));
        }
        let projects = users(name);
        if !projects.is_empty() {
            return Err(VolumeError::InUse {
                name: name.to_string(),
                projects,
            });
        }
        remove_path(&p)?;
        Ok(())
    }

    /// Every machine volume, by name.
    pub fn list(&self) -> Vec<VolumeInfo> {
        let Ok(rd) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<VolumeInfo> = rd
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                VolumeInfo {
                    projects: users(&name),
                    path: e.path(),
                    name,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// The machine volumes `store`'s last applied file names, with whether
/// each is external.
pub fn machine_volumes(store: &Store) -> Vec<(String, bool)> {
    let Ok((Some(rec), _)) = store.load_project() else {
        return Vec::new();
    };
    let Some(stack) = rec.stack else {
        return Vec::new();
    };
    let mut out: Vec<(String, bool)> = stack
        .volumes
        .values()
        .filter_map(|d| match &d.backing {
            Backing::Machine { name, external } => Some((name.clone(), *external)),
            _ => None,
        })
        .collect();
    // A mount carries its backing too: a volume the file no longer
    // declares but a container still had.
    for svc in stack.services.values() {
        for m in &svc.volumes {
            if let Mount::Volume {
                backing: Backing::Machine { name, external },
                ..
            } = m
            {
                out.push((name.clone(), *external));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The projects whose last applied file names machine volume `name`.
pub fn users(name: &str) -> Vec<String> {
    super::projects::all()
        .into_iter()
        .filter(|s| machine_volumes(s).iter().any(|(n, _)| n == name))
        .map(|s| s.project)
        .collect()
}
