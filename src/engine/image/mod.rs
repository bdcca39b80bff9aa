//! Images for the services that have `image:`: found in the machine's image
//! store, imported from local files or pulled as `pull_policy` says, and
//! their config applied to the service ([`apply`]), so everything after this
//! room (plan, supervisor, runtime) sees a service like any other, whose
//! root filesystem is a list of layers.
//!
//! [`resolve`] is called on every stack the engine loads: with
//! [`Fetch::Present`] (plan, config, a detached supervisor) it only reads
//! the store; `up` calls it with [`Fetch::Policy`] first, `stack pull` with
//! [`Fetch::Always`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::image::{Platform, Source};
use crate::spec::{Image, PullPolicy, Rootfs, Stack};
use crate::state::images::{ImageRecord, ImageStore};

pub mod apply;
pub mod catalog;
mod import;
mod pull;

/// Why an image could not be made present. Each names the service and the
/// image as the file wrote it.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    // The causes are in the messages (not `#[source]`), so that a chain
    // printer does not repeat them.
    #[error("service {service}: {error}")]
    Image {
        service: String,
        error: Box<crate::image::ImageError>,
    },
    #[error("service {service}: image {image}: {error}")]
    Layer {
        service: String,
        image: String,
        error: Box<crate::runtime::rootfs::RootfsError>,
    },
    #[error("service {service}: image {image}: {error}")]
    State {
        service: String,
        image: String,
        error: Box<crate::state::StateError>,
    },
    #[error("service {service}: image {image}: {reason}")]
    Invalid {
        service: String,
        image: String,
        reason: String,
    },
    #[error("service {service}: {error}")]
    Pull {
        service: String,
        error: Box<crate::image::registry::PullError>,
    },
    #[error("service {service}: image {image} is for {actual}, not the {wanted} that `platform:` asks for: pick an image (or an index) that has {wanted}")]
    Platform {
        service: String,
        image: String,
        actual: String,
        wanted: String,
    },
    #[error("service {service}: image {image} is not on this machine, and its pull_policy is never: pull it with `stack pull {service}` or change pull_policy")]
    Never { service: String, image: String },
}

/// How far [`resolve`] may go to make an image present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch {
    /// Nothing from the network: a registry image not in the store stays
    /// unresolved (its container cannot start until it is pulled); a local
    /// source is imported when it changed.
    Present,
    /// As each service's `pull_policy` says (`up`).
    Policy,
    /// Pull every registry image again (`stack pull`).
    Always,
}

/// What was done to make images present, one line each, for progress.
pub type Tell<'a> = &'a (dyn Fn(&str) + Sync);

/// Resolve every `image:` service of `stack`: set its image id and layers
/// and apply the image's config. An image used by several services is
/// looked at (and pulled) once.
pub fn resolve(stack: &mut Stack, fetch: Fetch, tell: Tell) -> Result<(), ImageError> {
    let store = ImageStore::new();
    resolve_in(&store, stack, fetch, tell)
}

/// [`resolve`] in a given store.
pub fn resolve_in(
    store: &ImageStore,
    stack: &mut Stack,
    fetch: Fetch,
    tell: Tell,
) -> Result<(), ImageError> {
    // (reference, platform) → the first service using it, and its policy.
    let mut wanted: BTreeMap<(String, String), (String, PullPolicy)> = BTreeMap::new();
    for (name, svc) in &stack.services {
        if let Rootfs::Image(img) = &svc.rootfs {
            let platform = platform_of(name, img)?;
            let e = wanted
                .entry((img.reference.clone(), platform.to_string()))
                .or_insert((name.clone(), svc.pull_policy));
            e.1 = stricter(e.1, svc.pull_policy);
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let mut found: BTreeMap<(String, String), ImageRecord> = BTreeMap::new();
    let mut to_pull = Vec::new();
    for ((reference, platform), (service, policy)) in wanted {
        let source = parse(&service, &reference)?;
        let key = (reference.clone(), platform.clone());
        if source.is_local() {
            let rec = import::present(store, &reference, &platform, &source);
            // On this machine already: imported whatever `fetch` says
            // (only the network is out of bounds for `Present`).
            let rec = match rec {
                Some(r) => r,
                None => import::import(store, &service, &reference, &platform, &source, tell)?,
            };
            found.insert(key, rec);
            continue;
        }
        let stored = store.load(&reference, &platform);
        let pull = match (fetch, policy, &stored) {
            (Fetch::Present, _, _) => false,
            (Fetch::Always, _, _) | (_, PullPolicy::Always, _) => true,
            (_, PullPolicy::Never, None) => {
                return Err(ImageError::Never {
                    service,
                    image: reference,
                })
            }
            (_, _, None) => true,
            (_, PullPolicy::Every(every), Some(r)) => {
                crate::state::unix_now().saturating_sub(r.pulled_at) * 1000 >= every.0
            }
            (_, _, Some(_)) => false,
        };
        if pull {
            to_pull.push(pull::Want {
                service,
                reference,
                platform,
                source,
            });
        } else if let Some(r) = stored {
            found.insert(key, r);
        }
    }
    for rec in pull::pull(store, &to_pull, tell)? {
        found.insert((rec.reference.clone(), rec.platform.clone()), rec);
    }
    for (name, svc) in stack.services.iter_mut() {
        let Rootfs::Image(img) = &svc.rootfs else {
            continue;
        };
        let wanted = platform_of(name, img)?;
        let Some(rec) = found.get(&(img.reference.clone(), wanted.to_string())) else {
            continue;
        };
        // An index picks the platform; a lone manifest must be it (an
        // unset `platform:` takes the image as it is, as Docker warns).
        let c = &rec.config;
        let actual = Platform::new(&c.os, &c.architecture, c.variant.as_deref());
        if img.platform.is_some() && !actual.matches(&wanted) {
            return Err(ImageError::Platform {
                service: name.clone(),
                image: img.reference.clone(),
                actual: actual.to_string(),
                wanted: wanted.to_string(),
            });
        }
        let mut img = img.clone();
        img.id = Some(rec.id.to_string());
        img.layers = rec.layers.iter().map(|l| l.digest.to_string()).collect();
        apply::apply(svc, &img, &rec.config);
        svc.rootfs = Rootfs::Image(img);
    }
    Ok(())
}

/// Of two services' policies for one image, the one that pulls more.
fn stricter(a: PullPolicy, b: PullPolicy) -> PullPolicy {
    use PullPolicy::*;
    match (a, b) {
        (Always, _) | (_, Always) => Always,
        (Every(x), Every(y)) => Every(x.min(y)),
        (Every(x), _) | (_, Every(x)) => Every(x),
        (Missing, _) | (_, Missing) => Missing,
        (Never, Never) => Never,
    }
}

pub(crate) fn platform_of(service: &str, img: &Image) -> Result<Platform, ImageError> {
    match &img.platform {
        None => Ok(Platform::host()),
        Some(p) => Platform::parse(p).map_err(|e| ImageError::Invalid {
            service: service.to_string(),
            image: img.reference.clone(),
            reason: e.to_string(),
        }),
    }
}

fn parse(service: &str, reference: &str) -> Result<Source, ImageError> {
    Source::parse(reference).map_err(|e| ImageError::Invalid {
        service: service.to_string(),
        image: reference.to_string(),
        reason: e.to_string(),
    })
}

/// The unpacked layer directories of a resolved image, bottom first; an
/// error names the first one that is missing (removed by a prune).
pub fn layer_dirs(service: &str, img: &Image) -> Result<Vec<PathBuf>, ImageError> {
    let store = ImageStore::new();
    if img.id.is_none() {
        return Err(ImageError::Invalid {
            service: service.to_string(),
            image: img.reference.clone(),
            reason: format!("the image is not on this machine: run `stack pull {service}` (or `stack up`, which pulls what is missing)"),
        });
    }
    img.layers
        .iter()
        .map(|d| {
            crate::runtime::rootfs::layers::stored(&store.dir, d).ok_or_else(|| {
                ImageError::Invalid {
                    service: service.to_string(),
                    image: img.reference.clone(),
                    reason: format!(
                        "layer {d} is missing from {} (was it pruned?): run `stack pull {service}`",
                        store.dir.display()
                    ),
                }
            })
        })
        .collect()
}
