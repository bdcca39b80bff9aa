//! Root filesystem sources: directory, tarball, host binaries, debootstrap;
//! built ones cached under `<state dir>/cache/<sha256>`, image layers under
//! `<state dir>/images/layers/sha256/<hex>` (`layers/`), and the per-container
//! overlay on top of them.

use std::path::{Path, PathBuf};

pub mod cache;
pub mod debootstrap;
pub mod dir;
pub mod host;
pub mod layers;
pub mod overlay;
pub mod tar;
mod unpack;

/// Why a root filesystem could not be prepared. Every message names the
/// path (and the archive entry or library) and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// A layer path the overlay mount options cannot carry.
    #[error("overlay {}: paths with `,`, `:` or `\\` cannot be overlay layers; move or rename it", path.display())]
    OverlayPath { path: PathBuf },
    /// mount(2) of the overlay failed.
    #[error("overlay on {}: mount failed: {source} (lower {}; the state dir must not itself be on overlayfs)", target.display(), lower.display())]
    OverlayMount {
        target: PathBuf,
        lower: PathBuf,
        #[source]
        source: nix::errno::Errno,
    },
    /// Overlay mount data longer than the kernel copies (one page).
    #[error("overlay on {}: the mount options are {len} bytes, more than the kernel's {max} (too many or too long layer paths; flatten the image with rootfs::layers::image_lowers)", target.display())]
    OverlayTooLong {
        target: PathBuf,
        len: usize,
        max: usize,
    },
    /// A layer digest that is not `sha256:` and 64 lowercase hex digits.
    #[error("layer {}: digest {digest:?} is not `sha256:` followed by 64 hex digits", blob.display())]
    LayerDigestSyntax { blob: PathBuf, digest: String },
    /// A layer blob whose bytes do not hash to its digest.
    #[error("layer {}: its content is {actual}, not the expected {expected}; the blob is corrupt or was tampered with (remove it and pull again)", blob.display())]
    LayerDigestMismatch {
        blob: PathBuf,
        expected: String,
        actual: String,
    },
    /// `rootfs: { host: [] }`.
    #[error("rootfs host: the list of binaries is empty (name at least one, e.g. [/bin/sh])")]
    HostEmpty,
    #[error("rootfs {path}: no such directory (create it, or point `rootfs` at an existing directory, tarball or `host:` list)")]
    DirMissing { path: PathBuf },
    #[error("rootfs {path}: not a directory (a tarball must end in .tar, .tar.gz or .tgz)")]
    NotADirectory { path: PathBuf },
    #[error("{what} {path}: {source}")]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("rootfs {archive}: entry {entry:?} refused: {reason}")]
    UnsafeEntry {
        archive: PathBuf,
        entry: String,
        reason: String,
    },
    #[error("rootfs {archive}: {message}")]
    BadArchive { archive: PathBuf, message: String },
    #[error("rootfs host binary {path}: {message}")]
    Host { path: PathBuf, message: String },
    #[error("rootfs host binary {binary}: needs {library}, not found in {searched} (install it on the host, or list it in `host:` by its path)")]
    LibraryNotFound {
        binary: PathBuf,
        library: String,
        searched: String,
    },
    #[error("rootfs debootstrap: `debootstrap` is not installed (apt-get install debootstrap)")]
    DebootstrapMissing,
    #[error("rootfs debootstrap {suite}: {message}")]
    Debootstrap { suite: String, message: String },
}

/// Where a container's root filesystem comes from: the runtime's own plain
/// type (the engine converts the file model's `rootfs` into it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// A directory, used read-only as the lower layer.
    Dir(PathBuf),
    /// A `.tar`, `.tar.gz` or `.tgz`, unpacked once into the cache.
    Tar(PathBuf),
    /// Host binaries copied with their shared libraries.
    Host(Vec<PathBuf>),
    /// A Debian root built by `debootstrap`.
    Debootstrap(Debootstrap),
}

/// What `debootstrap` builds: `debootstrap [--variant V] SUITE DIR [MIRROR]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Debootstrap {
    pub suite: String,
    pub variant: Option<String>,
    pub mirror: Option<String>,
}

/// Make `src` available as a directory usable as an overlay lower layer and
/// return it. `cache` is `<state dir>/cache`. `progress` receives short
/// human lines for slow steps (unpacking, debootstrap).
pub fn prepare(
    src: &Source,
    cache: &Path,
    progress: &dyn Fn(&str),
) -> Result<PathBuf, RootfsError> {
    match src {
        Source::Dir(p) => dir::prepare(p),
        Source::Tar(p) => tar::prepare(p, cache, progress),
        Source::Host(bins) => host::prepare(bins, cache, progress),
        Source::Debootstrap(d) => debootstrap::prepare(d, cache, progress),
    }
}
