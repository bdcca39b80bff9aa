//! Image layers: each unpacked once, by digest, into
//! `<cache>/layers/sha256/<hex>/`, with OCI whiteouts turned into
//! overlayfs's own (a `.wh.NAME` file becomes a character device 0:0 named
//! NAME, `.wh..wh..opq` the xattr `trusted.overlay.opaque=y` on its
//! directory), so the layer directories stack directly as overlay lower
//! layers, shared by every image and service that uses them.
//!
//! The inputs are plain (a blob's path, media type and digest), so the image
//! code (references, manifests, pulling) stays elsewhere. Unpacking uses the
//! same safe loop as rootfs tarballs (`../unpack.rs`).
//!
//! Mount data is one page: an image with too many layers for overlay's
//! `lowerdir=` option is flattened once into `<cache>/flat/sha256/<chain>/`
//! (hard links, no data copied), see [`image_lowers`].

use std::path::{Path, PathBuf};

mod flatten;
mod store;
pub(super) mod whiteout;

pub use flatten::flatten;
pub use store::{ensure_layer, ensure_layer_with, stored, unpack_layer};

/// The compression of a layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    /// An uncompressed tar.
    Tar,
    /// A gzip-compressed tar.
    TarGzip,
    /// A zstd-compressed tar.
    TarZstd,
}

impl MediaType {
    /// The compression an OCI or Docker layer media type names
    /// (`application/vnd.oci.image.layer.v1.tar+gzip`,
    /// `application/vnd.docker.image.rootfs.diff.tar.gzip`, …); `None` for
    /// anything that is not a layer tar.
    pub fn from_media_type(media_type: &str) -> Option<MediaType> {
        let layer = media_type.starts_with("application/vnd.oci.image.layer.")
            || media_type.starts_with("application/vnd.docker.image.rootfs.");
        if !layer {
            return None;
        }
        if media_type.ends_with("tar+gzip") || media_type.ends_with("tar.gzip") {
            Some(MediaType::TarGzip)
        } else if media_type.ends_with("tar+zstd") || media_type.ends_with("tar.zstd") {
            Some(MediaType::TarZstd)
        } else if media_type.ends_with(".tar") {
            Some(MediaType::Tar)
        } else {
            None
        }
    }
}

/// One layer blob as the image code hands it over.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayerBlob {
    /// The blob (compressed as `media_type` says) on local disk.
    pub path: PathBuf,
    pub media_type: MediaType,
    /// `sha256:<64 hex>`, of the blob as stored (the compressed bytes).
    pub digest: String,
}

/// The most bytes of mount data the kernel copies: one page, less the NUL
/// it writes at the end. Longer options are silently cut there, so a cut
/// `lowerdir=` could name a different directory: we never pass one.
pub const MOUNT_DATA_MAX: usize = 4095;

/// The most bytes `lowerdir=` may take, leaving the rest of the page for
/// `upperdir=` and `workdir=` (bundle paths of up to ~500 bytes).
pub const LOWERDIR_BUDGET: usize = 3072;

/// overlayfs's own limit on lower layers (`OVL_MAX_STACK`).
pub const MAX_LOWERS: usize = 500;

/// The value of overlay's `lowerdir=` for `layers` given in manifest order
/// (base layer first): overlay wants the top-most first, `:`-separated.
/// Paths are not escaped; `overlay::options_lowers` refuses ones that would
/// need it.
pub fn lowerdir(layers: &[PathBuf]) -> String {
    let mut s = String::new();
    for (i, l) in layers.iter().rev().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&l.to_string_lossy());
    }
    s
}

/// The lower layers to mount for an image whose unpacked `layers` (from
/// [`ensure_layer`], manifest order) are given: the layers themselves when
/// their `lowerdir=` fits [`LOWERDIR_BUDGET`] and overlay's layer limit, else
/// one directory with them flattened (made once per list of layers).
/// An image without layers gets one empty directory.
pub fn image_lowers(cache: &Path, layers: &[PathBuf]) -> Result<Vec<PathBuf>, super::RootfsError> {
    let fits = !layers.is_empty()
        && layers.len() <= MAX_LOWERS
        && lowerdir(layers).len() <= LOWERDIR_BUDGET;
    if fits {
        Ok(layers.to_vec())
    } else {
        Ok(vec![flatten(cache, layers)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        use MediaType::*;
        for (s, m) in [
            ("application/vnd.oci.image.layer.v1.tar", Some(Tar)),
            ("application/vnd.oci.image.layer.v1.tar+gzip", Some(TarGzip)),
            ("application/vnd.oci.image.layer.v1.tar+zstd", Some(TarZstd)),
            (
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                Some(TarGzip),
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                Some(TarGzip),
            ),
            (
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                Some(TarGzip),
            ),
            ("application/vnd.oci.image.config.v1+json", None),
            ("application/vnd.oci.image.layer.v1.tar+xz", None),
        ] {
            assert_eq!(MediaType::from_media_type(s), m, "{s}");
        }
    }

    #[test]
    fn lowerdir_is_top_most_first() {
        let l = [
            PathBuf::from("/c/base"),
            PathBuf::from("/c/mid"),
            PathBuf::from("/c/top"),
        ];
        assert_eq!(lowerdir(&l), "/c/top:/c/mid:/c/base");
        assert_eq!(lowerdir(&l[..1]), "/c/base");
    }

    #[test]
    fn lowers_fit_or_flatten() {
        let d = tempfile::tempdir().unwrap();
        let few: Vec<_> = (0..3).map(|i| d.path().join(format!("l{i}"))).collect();
        assert_eq!(image_lowers(d.path(), &few).unwrap(), few);
        // An image without layers: one empty directory.
        let none = image_lowers(d.path(), &[]).unwrap();
        assert_eq!(none.len(), 1);
        assert_eq!(std::fs::read_dir(&none[0]).unwrap().count(), 0);
    }
}
