//! A directory used as is (read-only, through the overlay).

use std::path::{Path, PathBuf};

use super::RootfsError;

/// Check that `path` is an existing directory and return it.
pub fn prepare(path: &Path) -> Result<PathBuf, RootfsError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok(path.to_path_buf()),
        Ok(_) => Err(RootfsError::NotADirectory { path: path.into() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(RootfsError::DirMissing { path: path.into() })
        }
        Err(e) => Err(super::cache::io_err("rootfs", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_checks() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(prepare(d.path()).unwrap(), d.path());
        let f = d.path().join("f");
        std::fs::write(&f, "").unwrap();
        let e = prepare(&f).unwrap_err().to_string();
        assert!(
            e.contains("not a directory") && e.contains(&f.display().to_string()),
            "{e}"
        );
        let m = d.path().join("missing");
        let e = prepare(&m).unwrap_err().to_string();
        assert!(
            e.contains("no such directory") && e.contains("missing"),
            "{e}"
        );
    }
}
