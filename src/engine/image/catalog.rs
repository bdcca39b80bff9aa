//! What is in the image store: the images a project uses (`stack images`)
//! and removing what no project references (`stack image prune`).

use std::collections::{BTreeSet, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::{platform_of, ImageError};
use crate::spec::{Rootfs, Stack};
use crate::state::images::ImageStore;

/// One image a project's services use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageRow {
    /// The services using it, sorted.
    pub services: Vec<String>,
    pub reference: String,
    pub platform: String,
    /// The image id, when it is on this machine.
    pub id: Option<String>,
    /// Bytes its unpacked layers take on disk (a layer shared with another
    /// image is counted in each).
    pub size: u64,
    pub layers: usize,
}

/// The images `stack`'s services use, as the store has them.
pub fn images_of(stack: &Stack) -> Result<Vec<ImageRow>, ImageError> {
    let store = ImageStore::new();
    let mut rows: Vec<ImageRow> = Vec::new();
    for (name, svc) in &stack.services {
        let Rootfs::Image(img) = &svc.rootfs else {
            continue;
        };
        let platform = platform_of(name, img)?.to_string();
        if let Some(r) = rows
            .iter_mut()
            .find(|r| r.reference == img.reference && r.platform == platform)
        {
            r.services.push(name.clone());
            continue;
        }
        let rec = store.load(&img.reference, &platform);
        let size = rec.as_ref().map_or(0, |r| {
            let mut seen = HashSet::new();
            r.layers
                .iter()
                .filter_map(|l| {
                    crate::runtime::rootfs::layers::stored(&store.dir, &l.digest.to_string())
                })
                .map(|d| disk_usage(&d, &mut seen))
                .sum()
        });
        rows.push(ImageRow {
            services: vec![name.clone()],
            reference: img.reference.clone(),
            platform,
            id: rec.as_ref().map(|r| r.id.to_string()),
            size,
            layers: rec.as_ref().map_or(0, |r| r.layers.len()),
        });
    }
    Ok(rows)
}

/// Bytes the files under `dir` take (each inode once).
pub fn disk_usage(dir: &Path, seen: &mut HashSet<(u64, u64)>) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
            } else if seen.insert((m.dev(), m.ino())) {
                total += m.blocks() * 512;
            }
        }
    }
    total
}

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    /// The references no longer recorded.
    pub images: Vec<String>,
    pub layers: usize,
    /// Bytes freed.
    pub bytes: u64,
}

/// Remove from the image store every image that no project on this
/// machine references (in its last applied file or a container's config),
/// the layers only they used, and leftovers of interrupted pulls.
pub fn prune() -> Result<Pruned, crate::state::StateError> {
    let store = ImageStore::new();
    let _lock = store.lock(&|pid| eprintln!("waiting for the image store (held by pid {pid})"))?;
    let (wanted, mut layers_in_use) = referenced();
    let mut out = Pruned::default();
    for (path, rec) in store.all() {
        if wanted.contains(&(rec.reference.clone(), rec.platform.clone())) {
            layers_in_use.extend(rec.layers.iter().map(|l| l.digest.hex().to_string()));
        } else {
            store.remove(&path)?;
            out.images
                .push(format!("{} ({})", rec.reference, rec.platform));
        }
    }
    let mut seen = HashSet::new();
    let layers = store.dir.join("layers").join("sha256");
    if let Ok(rd) = std::fs::read_dir(&layers) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let hex = name.strip_suffix(".lock").unwrap_or(&name);
            if layers_in_use.contains(hex) {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                out.bytes += disk_usage(&p, &mut seen);
                out.layers += 1;
                crate::runtime::rootfs::cache::remove_tree(&p);
            } else {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    for leftovers in [store.blobs_dir(), store.tmp_dir()] {
        if let Ok(rd) = std::fs::read_dir(&leftovers) {
            for e in rd.flatten() {
                let p = e.path();
                out.bytes += p.symlink_metadata().map_or(0, |m| m.blocks() * 512);
                crate::runtime::rootfs::cache::remove_tree(&p);
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    Ok(out)
}

/// The (reference, platform) pairs every project's last applied file
/// uses, and the layers (hex) every container's config names.
fn referenced() -> (BTreeSet<(String, String)>, HashSet<String>) {
    let mut refs = BTreeSet::new();
    let mut layers = HashSet::new();
    for store in crate::state::projects::all() {
        if let Ok((Some(p), _)) = store.load_project() {
            for (svc_name, svc) in p.stack.iter().flat_map(|s| s.services.iter()) {
                if let Rootfs::Image(img) = &svc.rootfs {
                    if let Ok(pf) = platform_of(svc_name, img) {
                        refs.insert((img.reference.clone(), pf.to_string()));
                    }
                }
            }
        }
        if let Ok((recs, _)) = store.containers() {
            for r in recs {
                if let Rootfs::Image(img) = &r.config.rootfs {
                    layers.extend(
                        img.layers
                            .iter()
                            .filter_map(|d| d.strip_prefix("sha256:").map(str::to_string)),
                    );
                }
            }
        }
    }
    (refs, layers)
}
