//! How units (a service's replicas, see `spec::replicas`) name their
//! files, and the replica counts `up --scale` and `stack scale` leave.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use super::{write_atomic, StateError, Store};

/// `<project>-<service>-<n>` for a unit key (`web`, `web#2`; see
/// `spec::replicas`).
pub fn container_id(project: &str, unit: &str) -> String {
    format!("{project}-{}", unit_stem(unit))
}

/// `stack/<project>/<unit>`.
pub fn cgroup_path(project: &str, service: &str) -> String {
    format!("stack/{project}/{service}")
}

/// The unit a record file's stem names: `web-2` → `web#2` (not a dotfile,
/// a temporary file or a name without its number).
pub fn stem_unit(stem: &str) -> Option<String> {
    let (service, n) = stem.rsplit_once('-')?;
    let n: u32 = n.parse().ok().filter(|n| *n >= 1)?;
    (!service.is_empty() && !service.starts_with('.'))
        .then(|| crate::spec::replicas::unit_key(service, n))
}

/// `<service>-<n>`: how a unit names its record, bundle and log.
pub(super) fn unit_stem(unit: &str) -> String {
    let (service, n) = crate::spec::replicas::split(unit);
    format!("{service}-{n}")
}

impl Store {
    /// `scale.json`: the replica counts `up --scale` and `stack scale` set,
    /// over the file's, until the next `up`.
    pub fn scale_file(&self) -> PathBuf {
        self.dir.join("scale.json")
    }
    /// The counts in [`Store::scale_file`] (none when it is missing or bad:
    /// the file's counts apply).
    pub fn scale(&self) -> BTreeMap<String, u32> {
        fs::read(self.scale_file())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }
    /// Replace the counts; none removes the file.
    pub fn set_scale(&self, scale: &BTreeMap<String, u32>) -> Result<(), StateError> {
        if scale.is_empty() {
            return match fs::remove_file(self.scale_file()) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StateError::Io {
                    path: self.scale_file(),
                    source: e,
                }),
                _ => Ok(()),
            };
        }
        fs::create_dir_all(&self.dir).map_err(|source| StateError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let bytes = serde_json::to_vec(scale).unwrap_or_default();
        write_atomic(&self.scale_file(), &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_units_map_both_ways() {
        for (unit, stem) in [("web", "web-1"), ("web#2", "web-2"), ("a-2", "a-2-1")] {
            assert_eq!(unit_stem(unit), stem);
            assert_eq!(stem_unit(stem).as_deref(), Some(unit));
        }
        for bad in ["web", "web-0", "web-x", "-1", ".tmp-1"] {
            assert_eq!(stem_unit(bad), None, "{bad}");
        }
    }
}
