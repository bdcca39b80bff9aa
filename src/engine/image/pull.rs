//! Registry images: pulled with the distribution client. Every image is
//! resolved first (in parallel), then each layer that is not stored yet is
//! downloaded and unpacked once, even when several images or services
//! share it, by a few workers; a ref record is written only once all of
//! its layers are unpacked, so an interrupted pull leaves nothing a later
//! run trusts (a `.partial` download is resumed, and verified, next time).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use super::import::media_type;
use super::{ImageError, Tell};
use crate::image::registry::{Client, ClientOptions, PullError, Remote, RemoteLayer};
use crate::image::{Digest, Platform, Reference, Source};
use crate::runtime::rootfs::layers::{ensure_layer_with, stored, LayerBlob};
use crate::state::images::{ImageRecord, ImageStore, LayerRecord};

/// Layers downloaded at once (as Docker's `max-concurrent-downloads`: 3).
const WORKERS: usize = 3;

/// One image to pull.
#[derive(Debug, Clone)]
pub struct Want {
    /// The first service that uses it (errors name it).
    pub service: String,
    pub reference: String,
    pub platform: String,
    pub source: Source,
}

/// Registries allowed over plain HTTP besides loopback, from
/// `STACK_INSECURE_REGISTRIES` (comma-separated `host[:port]`).
pub fn insecure_registries() -> Vec<String> {
    std::env::var("STACK_INSECURE_REGISTRIES")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Pull `wants`, returning their records once every layer is unpacked.
pub fn pull(
    store: &ImageStore,
    wants: &[Want],
    tell: Tell,
) -> Result<Vec<ImageRecord>, ImageError> {
    if wants.is_empty() {
        return Ok(Vec::new());
    }
    let client = Client::new(ClientOptions {
        insecure: insecure_registries(),
        docker_config: None,
    });
    let err = |w: &Want, e: PullError| ImageError::Pull {
        service: w.service.clone(),
        error: Box::new(e),
    };
    let mut targets = Vec::new();
    for w in wants {
        let Source::Registry(r) = &w.source else {
            continue;
        };
        let p = Platform::parse(&w.platform).map_err(|e| ImageError::Invalid {
            service: w.service.clone(),
            image: w.reference.clone(),
            reason: e.to_string(),
        })?;
        targets.push((w, r, p));
    }
    let remotes = resolve_all(&client, &targets, tell).map_err(|(i, e)| err(targets[i].0, e))?;

    let _lock = store
        .lock(&|pid| tell(&format!("waiting for the image store (held by pid {pid})")))
        .map_err(|e| ImageError::State {
            service: wants[0].service.clone(),
            image: wants[0].reference.clone(),
            error: Box::new(e),
        })?;
    // Each layer once: the first image naming it fetches it.
    let mut layers: BTreeMap<Digest, (usize, RemoteLayer)> = BTreeMap::new();
    for (i, r) in remotes.iter().enumerate() {
        for l in &r.layers {
            if stored(&store.dir, &l.digest.to_string()).is_none() {
                layers.entry(l.digest.clone()).or_insert((i, l.clone()));
            }
        }
    }
    let queue: Mutex<VecDeque<(usize, RemoteLayer)>> = Mutex::new(layers.into_values().collect());
    let failed: Mutex<Option<ImageError>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                if failed.lock().map(|f| f.is_some()).unwrap_or(true) {
                    return;
                }
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some((i, layer)) = next else {
                    return;
                };
                let (w, r, _) = &targets[i];
                if let Err(e) = fetch_layer(store, &client, w, r, &layer, tell) {
                    if let Ok(mut f) = failed.lock() {
                        f.get_or_insert(e);
                    }
                    return;
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e);
    }
    let mut out = Vec::new();
    for ((w, _, _), remote) in targets.iter().zip(remotes) {
        let rec = ImageRecord {
            reference: w.reference.clone(),
            platform: w.platform.clone(),
            manifest_digest: Some(remote.manifest_digest),
            id: remote.config_digest,
            config: remote.config,
            layers: remote
                .layers
                .iter()
                .map(|l| LayerRecord {
                    digest: l.digest.clone(),
                    diff_id: l.diff_id.clone(),
                    size: l.size,
                })
                .collect(),
            pulled_at: crate::state::unix_now(),
            stamp: None,
        };
        store.save(&rec).map_err(|e| ImageError::State {
            service: w.service.clone(),
            image: w.reference.clone(),
            error: Box::new(e),
        })?;
        tell(&format!(
            "{}: pulled {} ({})",
            w.service,
            w.reference,
            short(&rec.id)
        ));
        out.push(rec);
    }
    Ok(out)
}

/// Resolve every target, in parallel; the first error with its index.
fn resolve_all(
    client: &Client,
    targets: &[(&Want, &Reference, Platform)],
    tell: Tell,
) -> Result<Vec<Remote>, (usize, PullError)> {
    std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .map(|(w, r, p)| {
                s.spawn(move || {
                    tell(&format!("{}: pulling {}", w.service, w.reference));
                    client.resolve(r, p)
                })
            })
            .collect();
        let mut out = Vec::new();
        for (i, h) in handles.into_iter().enumerate() {
            match h.join() {
                Ok(Ok(r)) => out.push(r),
                Ok(Err(e)) => return Err((i, e)),
                Err(_) => {
                    return Err((
                        i,
                        PullError::Io {
                            image: targets[i].0.reference.clone(),
                            path: Default::default(),
                            source: std::io::Error::other("the resolving thread panicked"),
                        },
                    ))
                }
            }
        }
        Ok(out)
    })
}

/// Download one layer (resuming a partial download), unpack it into the
/// store, and drop the blob.
fn fetch_layer(
    store: &ImageStore,
    client: &Client,
    w: &Want,
    r: &Reference,
    layer: &RemoteLayer,
    tell: Tell,
) -> Result<(), ImageError> {
    let start = Instant::now();
    let dest = store.blob_file(&layer.digest);
    let io = |e: std::io::Error| ImageError::State {
        service: w.service.clone(),
        image: w.reference.clone(),
        error: Box::new(crate::state::StateError::Io {
            path: dest.clone(),
            source: e,
        }),
    };
    std::fs::create_dir_all(store.blobs_dir()).map_err(io)?;
    tell(&format!(
        "{}: layer {} downloading ({})",
        w.service,
        short(&layer.digest),
        size(layer.size)
    ));
    client
        .fetch_blob(r, &layer.digest, layer.size, &dest, &mut |_, _| {})
        .map_err(|e| ImageError::Pull {
            service: w.service.clone(),
            error: Box::new(e),
        })?;
    let blob = LayerBlob {
        path: dest.clone(),
        media_type: media_type(layer.media_type),
        digest: layer.digest.to_string(),
    };
    let unpacked = ensure_layer_with(&store.dir, &blob, &|_| {});
    let _ = std::fs::remove_file(&dest);
    unpacked.map_err(|e| ImageError::Layer {
        service: w.service.clone(),
        image: w.reference.clone(),
        error: Box::new(e),
    })?;
    let secs = start.elapsed().as_secs_f64().max(0.001);
    tell(&format!(
        "{}: layer {} done: {} in {:.1} s ({}/s)",
        w.service,
        short(&layer.digest),
        size(layer.size),
        secs,
        size((layer.size as f64 / secs) as u64)
    ));
    Ok(())
}

/// `sha256:0123456789ab`.
pub fn short(d: &Digest) -> String {
    format!("sha256:{}", &d.hex()[..12])
}

/// Bytes as Docker shows them (`12.3MB`).
pub fn size(b: u64) -> String {
    let f = b as f64;
    if f >= 1e9 {
        format!("{:.2}GB", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.1}MB", f / 1e6)
    } else if f >= 1e3 {
        format!("{:.1}kB", f / 1e3)
    } else {
        format!("{b}B")
    }
}
