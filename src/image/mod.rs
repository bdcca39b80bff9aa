//! Images (issue 12), the rooms that need no network: what `image:` holds
//! ([`Source`], [`Reference`]), digests and verified reading
//! ([`digest`]), manifests, indexes and platforms ([`manifest`],
//! [`platform`]), the image config ([`ImageConfig`]), and loading an image
//! from local files ([`local::load`]), and pulling from a registry
//! ([`registry::Client`]). The layer store and wiring `image:` into the
//! spec are still to come.
//!
//! Standalone: std and crates only, no other room of stack.

mod archive;
pub mod config;
pub mod digest;
mod docker_archive;
pub mod error;
mod layout;
pub mod local;
pub mod manifest;
pub mod platform;
pub mod reference;
pub mod registry;
pub mod source;

pub use archive::ArchiveError;
pub use config::{Healthcheck, ImageConfig};
pub use digest::{Digest, DigestError};
pub use error::ImageError;
pub use local::{load, Layer, LocalImage};
pub use manifest::{LayerMediaType, ManifestError};
pub use platform::Platform;
pub use reference::{Reference, ReferenceError};
pub use source::Source;
