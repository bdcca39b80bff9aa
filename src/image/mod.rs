//! Images (issue 12), the rooms that need no network: what `image:` holds
//! ([`Source`], [`Reference`]), digests and verified reading
//! ([`digest`]), manifests, indexes and platforms ([`manifest`],
//! [`platform`]) and the image config ([`ImageConfig`]). Pulling, the
//! layer store and wiring `image:` into the spec are still to come.
//!
//! Standalone: std and crates only, no other room of stack.

pub mod config;
pub mod digest;
pub mod manifest;
pub mod platform;
pub mod reference;
pub mod source;

pub use config::{Healthcheck, ImageConfig};
pub use digest::{Digest, DigestError};
pub use manifest::{LayerMediaType, ManifestError};
pub use platform::Platform;
pub use reference::{Reference, ReferenceError};
pub use source::Source;
