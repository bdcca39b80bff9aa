//! The machine's image store, shared by every project:
//! `<state root>/images/`
//!
//! ```text
//! refs/<key>.json          what a reference resolved to (one per reference and platform)
//! blobs/sha256/<hex>       a layer blob being downloaded (`.partial`), removed once unpacked
//! layers/sha256/<hex>/     unpacked layers (runtime::rootfs::layers)
//! flat/sha256/<chain>/     flattened images with too many layers for one overlay
//! tmp/                     local archives being imported
//! lock                     held while pulling or pruning
//! ```
//!
//! A ref record is written only once every layer it names is unpacked, so
//! a record that exists is an image that can run.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{io_err, lock_path, state_root, write_atomic, StateError};
use crate::image::{Digest, ImageConfig};

/// One layer of a stored image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// The blob's digest (compressed as stored): the layer's directory.
    pub digest: Digest,
    /// Its uncompressed content's digest.
    pub diff_id: Digest,
    /// The blob's size in bytes.
    pub size: u64,
}

/// What an image reference resolved to, on this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// As the file wrote it (a local source's path absolute).
    pub reference: String,
    /// `os/arch[/variant]` it was resolved for.
    pub platform: String,
    /// The platform manifest's digest (none for a docker-archive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<Digest>,
    /// The config's digest: the image id.
    pub id: Digest,
    pub config: ImageConfig,
    /// Bottom first.
    pub layers: Vec<LayerRecord>,
    /// When it was pulled or imported, seconds since the epoch.
    pub pulled_at: u64,
    /// For a local source: the file's identity when it was imported
    /// (a changed file is imported again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<String>,
}

/// The image store.
#[derive(Debug, Clone)]
pub struct ImageStore {
    pub dir: PathBuf,
}

impl Default for ImageStore {
    fn default() -> Self {
        ImageStore::new()
    }
}

impl ImageStore {
    /// `<state root>/images`.
    pub fn new() -> ImageStore {
        ImageStore {
            dir: state_root().join("images"),
        }
    }

    pub fn refs_dir(&self) -> PathBuf {
        self.dir.join("refs")
    }
    pub fn blobs_dir(&self) -> PathBuf {
        self.dir.join("blobs").join("sha256")
    }
    pub fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// Where a layer blob is downloaded to.
    pub fn blob_file(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir().join(digest.hex())
    }

    /// The record file of `reference` for `platform`: named by a hash of
    /// both, as references hold `/` and `:`.
    pub fn ref_file(&self, reference: &str, platform: &str) -> PathBuf {
        let key = Digest::of(format!("{reference}\n{platform}").as_bytes());
        self.refs_dir().join(format!("{}.json", &key.hex()[..32]))
    }

    /// The record of `reference` for `platform`, if it was stored; a
    /// record that cannot be read counts as absent (it is pulled again).
    pub fn load(&self, reference: &str, platform: &str) -> Option<ImageRecord> {
        let bytes = fs::read(self.ref_file(reference, platform)).ok()?;
        let rec: ImageRecord = serde_json::from_slice(&bytes).ok()?;
        (rec.reference == reference && rec.platform == platform).then_some(rec)
    }

    pub fn save(&self, rec: &ImageRecord) -> Result<(), StateError> {
        let path = self.ref_file(&rec.reference, &rec.platform);
        let bytes = serde_json::to_vec_pretty(rec).map_err(|source| StateError::Encode {
            path: path.clone(),
            source,
        })?;
        write_atomic(&path, &bytes)
    }

    /// Every stored record (unreadable ones skipped), sorted by reference.
    pub fn all(&self) -> Vec<(PathBuf, ImageRecord)> {
        let mut out = Vec::new();
        let Ok(rd) = fs::read_dir(self.refs_dir()) else {
            return out;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_none_or(|x| x != "json") {
                continue;
            }
            if let Some(rec) = fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<ImageRecord>(&b).ok())
            {
                out.push((p, rec));
            }
        }
        out.sort_by(|a, b| (&a.1.reference, &a.1.platform).cmp(&(&b.1.reference, &b.1.platform)));
        out
    }

    /// Remove a record file.
    pub fn remove(&self, path: &Path) -> Result<(), StateError> {
        match fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(path)(e)),
        }
    }

    /// Held while pulling or importing, and while pruning, so a prune never
    /// removes a layer a pull is about to record.
    pub fn lock(&self, on_wait: &dyn Fn(&str)) -> Result<File, StateError> {
        fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        lock_path(&self.dir.join("lock"), on_wait)
    }
}
