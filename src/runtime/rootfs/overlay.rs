//! The per-container overlay: the prepared source as the read-only lower
//! layer, the container's own `upper/` and `work/` beside the mount point, so
//! containers sharing a source share one copy and none can change it.

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

use super::cache::io_err;
use super::RootfsError;

/// `bundle/upper`, `bundle/work` and the mount point `bundle/rootfs`.
pub fn layout(bundle: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (
        bundle.join("upper"),
        bundle.join("work"),
        bundle.join("rootfs"),
    )
}

/// The overlay mount options for `lower` and `bundle`. Paths holding `,`,
/// `:` or `\` cannot be passed to overlayfs safely and are refused.
pub fn options(lower: &Path, bundle: &Path) -> Result<String, RootfsError> {
    options_lowers(&[lower.to_path_buf()], bundle)
}

/// The overlay mount options for several lower layers, given base first
/// (manifest order; `lowerdir=` lists them top-most first), refused when
/// longer than the page of mount data the kernel takes
/// (`layers::image_lowers` keeps an image within it).
pub fn options_lowers(lowers: &[PathBuf], bundle: &Path) -> Result<String, RootfsError> {
    let (upper, work, target) = layout(bundle);
    for p in lowers.iter().chain([&upper, &work]) {
        let s = p.to_string_lossy();
        if s.contains([',', ':', '\\']) {
            return Err(RootfsError::OverlayPath {
                path: p.to_path_buf(),
            });
        }
    }
    let opts = format!(
        "lowerdir={},upperdir={},workdir={}",
        super::layers::lowerdir(lowers),
        upper.display(),
        work.display()
    );
    if opts.len() > super::layers::MOUNT_DATA_MAX {
        return Err(RootfsError::OverlayTooLong {
            target,
            len: opts.len(),
            max: super::layers::MOUNT_DATA_MAX,
        });
    }
    Ok(opts)
}

/// Create the layer directories and mount the overlay on `bundle/rootfs`
/// (in the caller's mount namespace). Returns the mount point.
pub fn mount(lower: &Path, bundle: &Path) -> Result<PathBuf, RootfsError> {
    mount_lowers(&[lower.to_path_buf()], bundle)
}

/// [`mount`] with several lower layers, base first (see [`options_lowers`]).
pub fn mount_lowers(lowers: &[PathBuf], bundle: &Path) -> Result<PathBuf, RootfsError> {
    let opts = options_lowers(lowers, bundle)?;
    let (upper, work, target) = layout(bundle);
    for d in [&upper, &work, &target] {
        std::fs::create_dir_all(d).map_err(|e| io_err("create", d, e))?;
    }
    nix::mount::mount(
        Some("overlay"),
        &target,
        Some("overlay"),
        MsFlags::MS_NODEV,
        Some(opts.as_str()),
    )
    .map_err(|source| RootfsError::OverlayMount {
        target: target.clone(),
        lower: lowers.last().cloned().unwrap_or_default(),
        source,
    })?;
    Ok(target)
}

/// Detach the overlay of `bundle` (not an error if it is not mounted).
pub fn unmount(bundle: &Path) -> Result<(), RootfsError> {
    let (_, _, target) = layout(bundle);
    match nix::mount::umount2(&target, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(io_err("unmount", &target, e.into())),
    }
}

/// Unmount and delete the container's layers (`upper`, `work`, `rootfs`).
pub fn remove(bundle: &Path) -> Result<(), RootfsError> {
    unmount(bundle)?;
    let (upper, work, target) = layout(bundle);
    for d in [upper, work, target] {
        if d.exists() {
            super::cache::remove_tree(&d);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unsafe_option_paths() {
        assert!(options(Path::new("/a,b"), Path::new("/s")).is_err());
        assert!(options(Path::new("/a"), Path::new("/s:x")).is_err());
        let o = options(Path::new("/lower"), Path::new("/b")).unwrap();
        assert_eq!(o, "lowerdir=/lower,upperdir=/b/upper,workdir=/b/work");
    }

    #[test]
    fn several_lowers_top_most_first_and_bounded() {
        let l = [PathBuf::from("/base"), PathBuf::from("/top")];
        let o = options_lowers(&l, Path::new("/b")).unwrap();
        assert_eq!(o, "lowerdir=/top:/base,upperdir=/b/upper,workdir=/b/work");
        assert!(options_lowers(&[PathBuf::from("/a:b")], Path::new("/b")).is_err());
        let many: Vec<_> = (0..60)
            .map(|i| PathBuf::from(format!("/c/layers/sha256/{i:064}")))
            .collect();
        let e = options_lowers(&many, Path::new("/b"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than the kernel's 4095"), "{e}");
    }
}
