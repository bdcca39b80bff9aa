//! Root filesystem sources: directory, tarball, host binaries, debootstrap;
//! built ones cached under `<state dir>/cache/<sha256>`.
//!
//! Interface fixed by the skeleton; the runtime owner implements it.

use std::path::{Path, PathBuf};

use crate::spec::Rootfs;

#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("{0}")]
    Failed(String),
}

/// Make `src` available as a directory usable as an overlay lower layer and
/// return it. `cache` is `<state dir>/cache`. `progress` receives short
/// human lines for slow steps (unpacking, debootstrap).
pub fn prepare(
    src: &Rootfs,
    _cache: &Path,
    _progress: &dyn Fn(&str),
) -> Result<PathBuf, RootfsError> {
    match src {
        Rootfs::Dir(p) => Ok(p.clone()),
        _ => Err(RootfsError::Failed("not implemented yet".into())),
    }
}
