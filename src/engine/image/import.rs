//! Local sources (`oci:`, `oci-archive:`, `docker-archive:`): imported into
//! the store once, and again when the file changes (its identity, size and
//! mtime are the record's stamp).

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::{ImageError, Tell};
use crate::image::{LayerMediaType, Platform, Source};
use crate::runtime::rootfs::layers::{ensure_layer_with, LayerBlob, MediaType};
use crate::state::images::{ImageRecord, ImageStore, LayerRecord};

/// The file whose identity stands for the source's content.
fn stamped(source: &Source) -> Option<PathBuf> {
    match source {
        Source::OciLayout { path, .. } => Some(path.join("index.json")),
        Source::OciArchive { path, .. } | Source::DockerArchive { path, .. } => Some(path.clone()),
        Source::Registry(_) => None,
    }
}

fn stamp(source: &Source) -> Option<String> {
    let m = std::fs::metadata(stamped(source)?).ok()?;
    Some(format!(
        "{}:{}:{}:{}.{}",
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec()
    ))
}

/// The stored record of a local source, if the file did not change since.
pub fn present(
    store: &ImageStore,
    reference: &str,
    platform: &str,
    source: &Source,
) -> Option<ImageRecord> {
    let rec = store.load(reference, platform)?;
    (rec.stamp.is_some() && rec.stamp == stamp(source)).then_some(rec)
}

/// Read, verify and unpack a local image into the store, and record it.
pub fn import(
    store: &ImageStore,
    service: &str,
    reference: &str,
    platform: &str,
    source: &Source,
    tell: Tell,
) -> Result<ImageRecord, ImageError> {
    let bad = |reason: String| ImageError::Invalid {
        service: service.to_string(),
        image: reference.to_string(),
        reason,
    };
    let state = |source| ImageError::State {
        service: service.to_string(),
        image: reference.to_string(),
        error: Box::new(source),
    };
    let p = Platform::parse(platform).map_err(|e| bad(e.to_string()))?;
    let _lock = store
        .lock(&|pid| tell(&format!("waiting for the image store (held by pid {pid})")))
        .map_err(state)?;
    // Taken the lock: another process may have imported it meanwhile.
    if let Some(rec) = present(store, reference, platform, source) {
        return Ok(rec);
    }
    let stamp = stamp(source);
    tell(&format!("{service}: importing {reference}"));
    let work = store.tmp_dir().join(format!(
        "import-{}-{}",
        std::process::id(),
        crate::state::unix_now_ms()
    ));
    let img = crate::image::load(source, &work, &p);
    let result = img
        .map_err(|e| ImageError::Image {
            service: service.to_string(),
            error: Box::new(e),
        })
        .and_then(|img| {
            let mut layers = Vec::new();
            for l in &img.layers {
                let blob = LayerBlob {
                    path: l.path.clone(),
                    media_type: media_type(l.media_type),
                    digest: l.digest.to_string(),
                };
                ensure_layer_with(&store.dir, &blob, &|m| tell(&format!("{service}: {m}")))
                    .map_err(|source| ImageError::Layer {
                        service: service.to_string(),
                        image: reference.to_string(),
                        error: Box::new(source),
                    })?;
                layers.push(LayerRecord {
                    digest: l.digest.clone(),
                    diff_id: l.diff_id.clone(),
                    size: l.size,
                });
            }
            Ok(ImageRecord {
                reference: reference.to_string(),
                platform: platform.to_string(),
                manifest_digest: img.manifest_digest.clone(),
                id: img.config_digest.clone(),
                config: img.config,
                layers,
                pulled_at: crate::state::unix_now(),
                stamp,
            })
        });
    crate::runtime::rootfs::cache::remove_tree(&work);
    let rec = result?;
    store.save(&rec).map_err(state)?;
    Ok(rec)
}

/// The runtime's name for a layer's compression.
pub fn media_type(m: LayerMediaType) -> MediaType {
    match m {
        LayerMediaType::Tar => MediaType::Tar,
        LayerMediaType::TarGzip => MediaType::TarGzip,
        LayerMediaType::TarZstd => MediaType::TarZstd,
    }
}
