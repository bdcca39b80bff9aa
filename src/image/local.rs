//! Loading an image from this machine's files, without a registry: an OCI
//! layout directory, a tar of one (`oci-archive:`) or a `docker save`
//! archive. Archives are unpacked under a work directory the caller
//! owns; the layers' paths point into it (or into the layout directory).
//!
//! What is verified, before anything is returned:
//!
//! - OCI layout and archive: each manifest and index blob against the
//!   digest and size of the descriptor that named it (`index.json`, the
//!   root, is named by nothing); the config against the manifest's config
//!   descriptor; each layer against its descriptor's digest and size, and
//!   its uncompressed content against the config's `diff_id` (a tar layer
//!   is its own diff; a gzip layer is decompressed in the same pass; a
//!   zstd layer's diff_id is left to the unpacker, which has the decoder).
//! - docker-archive (no descriptors): the config against the digest its
//!   file is named by (`<hex>.json` or `blobs/sha256/<hex>`); each layer
//!   against its config's `diff_id` (after decompressing a gzip layer),
//!   and against its file name too when that is `blobs/sha256/<hex>`.
//!
//! Any mismatch refuses the image, naming the blob and both digests.

use super::archive::{ArchiveError, Tree};
use super::config::ImageConfig;
use super::digest::{check, Digest, DigestError, DigestReader, Hasher};
use super::error::ImageError;
use super::manifest::{LayerMediaType, ManifestError};
use super::platform::Platform;
use super::source::Source;
use super::{docker_archive, layout};
use std::fs;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// The most a manifest, an index or a config may weigh.
pub const JSON_LIMIT: u64 = 16 << 20;

/// An image read from local files and verified.
#[derive(Debug, Clone)]
pub struct LocalImage {
    /// The source as the user wrote it.
    pub source: String,
    /// The chosen manifest's digest (none for a docker-archive, whose
    /// `manifest.json` is not a content-addressed manifest).
    pub manifest_digest: Option<Digest>,
    /// The config's digest: the image id.
    pub config_digest: Digest,
    pub config: ImageConfig,
    /// Bottom first.
    pub layers: Vec<Layer>,
}

/// One layer blob on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The digest of the blob as stored (compressed or not).
    pub digest: Digest,
    /// The digest of its uncompressed tar, from the config.
    pub diff_id: Digest,
    pub media_type: LayerMediaType,
    /// The blob's size in bytes.
    pub size: u64,
    pub path: PathBuf,
}

/// Loads a local image. `work_dir` is where an archive is unpacked: a
/// missing or empty directory, which must outlive the returned image
/// (its layer paths point into it); a layout directory is read in place.
/// `platform` picks from a multi-platform index.
pub fn load(
    source: &Source,
    work_dir: &Path,
    platform: &Platform,
) -> Result<LocalImage, ImageError> {
    let ctx = Ctx {
        image: source.to_string(),
    };
    match source {
        Source::Registry(_) => Err(ImageError::NotLocal { image: ctx.image }),
        Source::OciLayout { path, tag } => {
            let meta = fs::metadata(path).map_err(|e| ctx.io(path, e))?;
            if !meta.is_dir() {
                return Err(ctx.invalid(
                    path,
                    "is not a directory (an OCI layout is one; a tar of it is oci-archive:)",
                ));
            }
            layout::load(&ctx, &Tree::dir(path), tag.as_deref(), platform)
        }
        Source::OciArchive { path, tag } => {
            let tree = Tree::unpack(path, work_dir).map_err(|e| ctx.archive(e))?;
            layout::load(&ctx, &tree, tag.as_deref(), platform)
        }
        Source::DockerArchive { path, reference } => {
            let tree = Tree::unpack(path, work_dir).map_err(|e| ctx.archive(e))?;
            docker_archive::load(&ctx, &tree, reference.as_deref())
        }
    }
}

/// The image being loaded, for error messages.
pub(crate) struct Ctx {
    pub image: String,
}

impl Ctx {
    pub fn io(&self, path: &Path, source: io::Error) -> ImageError {
        ImageError::Io {
            image: self.image.clone(),
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn digest(&self, path: &Path, source: DigestError) -> ImageError {
        match source {
            DigestError::Read(e) => self.io(path, e),
            source => ImageError::Digest {
                image: self.image.clone(),
                path: path.to_path_buf(),
                source,
            },
        }
    }

    pub fn manifest(&self, path: &Path, source: ManifestError) -> ImageError {
        ImageError::Manifest {
            image: self.image.clone(),
            path: path.to_path_buf(),
            source: Box::new(source),
        }
    }

    pub fn archive(&self, source: ArchiveError) -> ImageError {
        ImageError::Archive {
            image: self.image.clone(),
            source,
        }
    }

    pub fn invalid(&self, path: &Path, reason: impl Into<String>) -> ImageError {
        ImageError::Invalid {
            image: self.image.clone(),
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// Reads a small JSON file (a manifest, an index, a config, at most
    /// [`JSON_LIMIT`]).
    pub fn read_json(&self, path: &Path, what: &'static str) -> Result<Vec<u8>, ImageError> {
        let size = fs::metadata(path).map_err(|e| self.io(path, e))?.len();
        if size > JSON_LIMIT {
            return Err(ImageError::TooLarge {
                image: self.image.clone(),
                path: path.to_path_buf(),
                what,
                size,
                limit: JSON_LIMIT,
            });
        }
        fs::read(path).map_err(|e| self.io(path, e))
    }

    /// Reads a small blob and verifies it: its size when one is known, and
    /// its digest.
    pub fn read_blob(
        &self,
        path: &Path,
        what: &'static str,
        expected: &Digest,
        size: Option<u64>,
    ) -> Result<Vec<u8>, ImageError> {
        let bytes = self.read_json(path, what)?;
        if let Some(size) = size {
            check_size(expected, size, bytes.len() as u64).map_err(|e| self.digest(path, e))?;
        }
        expected.verify(&bytes).map_err(|e| self.digest(path, e))?;
        Ok(bytes)
    }
}

fn check_size(digest: &Digest, expected: u64, actual: u64) -> Result<(), DigestError> {
    if expected == actual {
        Ok(())
    } else {
        Err(DigestError::Size {
            expected_digest: digest.clone(),
            expected,
            actual,
        })
    }
}

/// What a layer blob is expected to be.
pub(crate) struct LayerCheck<'a> {
    /// The stored blob's digest and size, when something names them.
    pub digest: Option<&'a Digest>,
    pub size: Option<u64>,
    pub diff_id: &'a Digest,
    pub media_type: LayerMediaType,
}

/// Reads a layer blob once, hashing it as stored and (for tar and gzip)
/// as uncompressed, and checks both. The stored digest is checked first,
/// so a tampered blob is named as such even when it no longer decompresses.
pub(crate) fn verify_layer(ctx: &Ctx, path: &Path, want: &LayerCheck) -> Result<Layer, ImageError> {
    let file = fs::File::open(path).map_err(|e| ctx.io(path, e))?;
    let mut stored = DigestReader::new(BufReader::new(file));
    let decoded: Option<io::Result<Digest>> = match want.media_type {
        LayerMediaType::TarGzip => {
            let mut gz = flate2::read::MultiGzDecoder::new(&mut stored);
            let mut h = Hasher::new();
            Some(io::copy(&mut gz, &mut h).map(|_| h.finish()))
        }
        LayerMediaType::Tar | LayerMediaType::TarZstd => None,
    };
    io::copy(&mut stored, &mut io::sink()).map_err(|e| ctx.io(path, e))?;
    let (digest, size) = stored.finish();
    if let Some(expected) = want.digest {
        if let Some(s) = want.size {
            check_size(expected, s, size).map_err(|e| ctx.digest(path, e))?;
        }
        check(digest.clone(), expected).map_err(|e| ctx.digest(path, e))?;
    }
    let diff = match (want.media_type, decoded) {
        (LayerMediaType::Tar, _) => Some(digest.clone()),
        (_, Some(Ok(d))) => Some(d),
        (_, Some(Err(e))) => {
            return Err(ctx.invalid(path, format!("the layer does not decompress: {e}")))
        }
        (_, None) => None,
    };
    if let Some(actual) = diff.filter(|d| d != want.diff_id) {
        return Err(ImageError::DiffId {
            image: ctx.image.clone(),
            path: path.to_path_buf(),
            expected: want.diff_id.clone(),
            actual,
        });
    }
    Ok(Layer {
        digest,
        diff_id: want.diff_id.clone(),
        media_type: want.media_type,
        size,
        path: path.to_path_buf(),
    })
}

/// The first bytes of a file (to tell gzip and zstd from a tar).
pub(crate) fn head(ctx: &Ctx, path: &Path) -> Result<Vec<u8>, ImageError> {
    let mut buf = Vec::with_capacity(4);
    fs::File::open(path)
        .and_then(|f| f.take(4).read_to_end(&mut buf))
        .map_err(|e| ctx.io(path, e))?;
    Ok(buf)
}

/// `blobs/sha256/<hex>`, where an OCI layout keeps a blob.
pub(crate) fn blob_name(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm(), d.hex())
}
