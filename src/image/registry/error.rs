//! Why a pull fails: each a sentence naming the image (as the reference
//! reads) and saying what to do.

use crate::image::digest::Digest;
use crate::image::manifest::ManifestError;
use std::io;
use std::path::PathBuf;

/// Why an image cannot be pulled from its registry.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("image {image}: cannot reach the registry at {address}: {reason}; check the image name, the network, and that the registry is running")]
    Unreachable {
        image: String,
        address: String,
        reason: String,
    },
    #[error("image {image}: the registry {registry} needs credentials: run `docker login {registry}` or add them to ~/.docker/config.json")]
    NeedsCredentials { image: String, registry: String },
    #[error("image {image}: the registry {registry} refused the credentials from {from}: run `docker login {registry}` again or fix them in ~/.docker/config.json")]
    CredentialsRefused {
        image: String,
        registry: String,
        from: String,
    },
    #[error("image {image}: the registry {registry} denied access to {repository} (403 forbidden): check the name, or ask for pull access with the credentials you use")]
    Forbidden {
        image: String,
        registry: String,
        repository: String,
    },
    #[error("image {image}: manifest unknown: the tag or digest {reference} does not exist in the repository {repository} on {registry} (or the repository does not exist): check the name and the tag")]
    ManifestUnknown {
        image: String,
        registry: String,
        repository: String,
        reference: String,
    },
    #[error("image {image}: blob unknown: the registry {registry} has no blob {digest} in {repository}: the image is incomplete there; push it again")]
    BlobUnknown {
        image: String,
        registry: String,
        repository: String,
        digest: Digest,
    },
    #[error("image {image}: the registry {registry} rate limited the pull (429 too many requests): retry {retry}")]
    RateLimited {
        image: String,
        registry: String,
        retry: String,
    },
    #[error("image {image}: {url} is plain HTTP to {registry}, which is not a loopback address: stack refuses it; to allow it, list {registry} in STACK_INSECURE_REGISTRIES (comma-separated)")]
    PlainHttpRefused {
        image: String,
        registry: String,
        url: String,
    },
    #[error("image {image}: {source}")]
    Manifest {
        image: String,
        source: Box<ManifestError>,
    },
    #[error("image {image}: {what}: digest mismatch: expected {expected}, got {actual}: it is refused (nothing was kept)")]
    DigestMismatch {
        image: String,
        what: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("image {image}: {what}: size mismatch: {expected} bytes were expected, the registry sent {actual}: it is refused (nothing was kept)")]
    SizeMismatch {
        image: String,
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("image {image}: the download of blob {digest} stopped after {done} of {size} bytes ({reason}): pull again to resume it")]
    Truncated {
        image: String,
        digest: Digest,
        done: u64,
        size: u64,
        reason: String,
    },
    #[error("image {image}: {what} is larger than the {limit} bytes stack reads: it is refused")]
    TooLarge {
        image: String,
        what: String,
        limit: u64,
    },
    #[error("image {image}: the disk is full writing {path}: free space there and pull again")]
    DiskFull { image: String, path: PathBuf },
    #[error("image {image}: {path}: {source}")]
    Io {
        image: String,
        path: PathBuf,
        source: io::Error,
    },
    #[error("image {image}: the credential helper docker-credential-{helper} (named by {config}) {reason}")]
    Helper {
        image: String,
        helper: String,
        config: PathBuf,
        reason: String,
    },
    #[error("image {image}: {path}: {reason}: fix the docker config file or point DOCKER_CONFIG elsewhere")]
    DockerConfig {
        image: String,
        path: PathBuf,
        reason: String,
    },
    #[error("image {image}: {url} answered {status}{detail}: the registry failed or does not speak the distribution API; try again later")]
    Status {
        image: String,
        url: String,
        status: u16,
        detail: String,
    },
    #[error("image {image}: the registry {registry} {reason}")]
    Protocol {
        image: String,
        registry: String,
        reason: String,
    },
}

impl PullError {
    /// An I/O error on a local file; a full disk says so.
    pub(crate) fn io(image: &str, path: PathBuf, source: io::Error) -> PullError {
        if source.raw_os_error() == Some(libc::ENOSPC) {
            return PullError::DiskFull {
                image: image.to_string(),
                path,
            };
        }
        PullError::Io {
            image: image.to_string(),
            path,
            source,
        }
    }

    pub(crate) fn manifest(image: &str, source: ManifestError) -> PullError {
        PullError::Manifest {
            image: image.to_string(),
            source: Box::new(source),
        }
    }
}
