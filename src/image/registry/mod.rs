//! Pulling from a registry: the OCI distribution API's read side, as
//! Docker and containerd speak it. [`Client::resolve`] fetches a
//! reference's manifest (following an index to the platform's manifest)
//! and its config, all verified; [`Client::fetch_blob`] downloads one blob
//! atomically, verified, resuming a partial download.
//!
//! Blocking (`ureq`, rustls with the system's CA roots): no async runtime
//! on a container's start path. A [`Client`] is `Send + Sync`: threads
//! share its connections, tokens and credentials.
//!
//! - [`endpoint`]: which host and scheme (HTTPS; plain HTTP only for
//!   loopback and the registries listed as insecure).
//! - [`http`]: one exchange, redirects followed with care.
//! - [`auth`]: `WWW-Authenticate`, the bearer token flow, basic.
//! - [`credentials`]: the docker config file and credential helpers.
//! - `request`: the authorised request, statuses turned into errors.
//! - `resolve`: manifests, indexes, config. `blob`: downloads.

pub mod auth;
mod blob;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod http;
mod request;
mod resolve;

pub use error::PullError;

use super::config::ImageConfig;
use super::digest::Digest;
use super::manifest::LayerMediaType;
use super::platform::Platform;
use super::reference::Reference;
use credentials::Credentials;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How a [`Client`] reaches registries.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Registries (host or host:port) allowed over plain HTTP besides localhost/127.0.0.0/8/::1.
    pub insecure: Vec<String>,
    /// The docker config file; None: $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
    pub docker_config: Option<PathBuf>,
}

/// A registry client; one per process is enough.
pub struct Client {
    http: http::Http,
    opts: ClientOptions,
    /// Where `docker-credential-*` are looked for instead of `$PATH`.
    helper_dir: Option<PathBuf>,
    /// Host-name overrides (tests): `host:port` → address.
    resolve_overrides: HashMap<String, SocketAddr>,
    auth: auth::AuthCache,
    /// Per registry: the user's credentials, looked up once.
    credentials: Mutex<HashMap<String, Option<Credentials>>>,
    /// Insecure registries found to answer only plain HTTP.
    plain: Mutex<Vec<String>>,
}

/// A resolved image: what to download, and its config.
#[derive(Debug, Clone)]
pub struct Remote {
    /// Of the platform manifest (not the index).
    pub manifest_digest: Digest,
    pub config_digest: Digest,
    pub config: ImageConfig,
    /// Bottom first.
    pub layers: Vec<RemoteLayer>,
}

/// One layer blob of a [`Remote`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteLayer {
    pub digest: Digest,
    pub size: u64,
    pub media_type: LayerMediaType,
    /// The uncompressed tar's digest, from the config.
    pub diff_id: Digest,
}

impl Client {
    pub fn new(opts: ClientOptions) -> Client {
        Client {
            http: http::Http::new(opts.insecure.clone(), None),
            opts,
            helper_dir: None,
            resolve_overrides: HashMap::new(),
            auth: auth::AuthCache::default(),
            credentials: Mutex::new(HashMap::new()),
            plain: Mutex::new(Vec::new()),
        }
    }

    /// Looks credential helpers up in `dir` instead of `$PATH` (tests).
    #[doc(hidden)]
    pub fn with_helper_dir(mut self, dir: PathBuf) -> Client {
        self.helper_dir = Some(dir);
        self
    }

    /// Connects to `addr` whenever `host:port` is asked for (tests: a
    /// non-loopback name served on loopback).
    #[doc(hidden)]
    pub fn with_resolve(mut self, host_port: &str, addr: SocketAddr) -> Client {
        self.resolve_overrides
            .insert(host_port.to_ascii_lowercase(), addr);
        let overrides = self.resolve_overrides.clone();
        let resolver = move |netloc: &str| -> std::io::Result<Vec<SocketAddr>> {
            if let Some(a) = overrides.get(&netloc.to_ascii_lowercase()) {
                return Ok(vec![*a]);
            }
            std::net::ToSocketAddrs::to_socket_addrs(netloc).map(Iterator::collect)
        };
        self.http = http::Http::new(self.opts.insecure.clone(), Some(Box::new(resolver)));
        self
    }

    /// Fetch the manifest for `reference` (by tag or digest), follow an OCI index / Docker manifest list to the
    /// manifest for `platform` (use manifest::select_platform), fetch and verify the config blob.
    pub fn resolve(&self, reference: &Reference, platform: &Platform) -> Result<Remote, PullError> {
        self.resolve_remote(reference, platform)
    }

    /// Download one blob into `dest` (atomically: write `dest` + ".partial", verify digest AND size, fsync, rename).
    /// If a `.partial` exists, resume with an HTTP Range request (fall back to restart when the server ignores Range
    /// or the resumed result does not verify). `progress(done, total)` is called as bytes arrive.
    pub fn fetch_blob(
        &self,
        reference: &Reference,
        digest: &Digest,
        size: u64,
        dest: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), PullError> {
        self.download(reference, digest, size, dest, progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_shared_by_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Client>();
    }
}
