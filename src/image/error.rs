//! Why a local image cannot be loaded: each a sentence naming the image
//! (as the user wrote its source) and the file.

use super::archive::ArchiveError;
use super::digest::{Digest, DigestError};
use super::manifest::ManifestError;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("image {image}: {path}: {source}")]
    Io {
        image: String,
        path: PathBuf,
        source: io::Error,
    },
    #[error("image {image}: {path}: {source}")]
    Digest {
        image: String,
        path: PathBuf,
        source: DigestError,
    },
    #[error("image {image}: {path}: {source}")]
    Manifest {
        image: String,
        path: PathBuf,
        source: Box<ManifestError>,
    },
    #[error("image {image}: {path}: the uncompressed layer is {actual} but the config's diff_id is {expected}: the blob is refused")]
    DiffId {
        image: String,
        path: PathBuf,
        expected: Digest,
        actual: Digest,
    },
    #[error("image {image}: {source}")]
    Archive { image: String, source: ArchiveError },
    #[error("image {image}: {path}: {reason}")]
    Invalid {
        image: String,
        path: PathBuf,
        reason: String,
    },
    #[error("image {image}: {path} has no image named {wanted:?} (it has {available})")]
    NoSuchName {
        image: String,
        path: PathBuf,
        wanted: String,
        available: String,
    },
    #[error("image {image}: {path} holds {count} images ({available}): name one after the path, as {example}")]
    Ambiguous {
        image: String,
        path: PathBuf,
        count: usize,
        available: String,
        example: String,
    },
    #[error("image {image}: {path} is {size} bytes, more than the {limit} a {what} may have")]
    TooLarge {
        image: String,
        path: PathBuf,
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("image {image} is in a registry, and pulling is not built yet: use a local source (oci:, oci-archive: or docker-archive:)")]
    NotLocal { image: String },
}
