//! What `docker save` writes: `manifest.json`, a list of
//! `{Config, RepoTags, Layers}` with paths inside the archive. Before
//! Docker 25 layers are `<id>/layer.tar` (a repeated one a symlink to its
//! first copy) and the config `<hex>.json`; since, both are
//! `blobs/sha256/<hex>`. The config is verified against the digest its
//! name holds, each layer against the config's diff_ids (see `local`).

use super::archive::{ArchiveError, Tree};
use super::config::ImageConfig;
use super::digest::Digest;
use super::error::ImageError;
use super::local::{head, verify_layer, Ctx, LayerCheck, LocalImage};
use super::manifest::{LayerMediaType, ManifestError};
use super::reference::Reference;
use std::path::Path;

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Loads the image `reference` (a `RepoTags` name, or `@N`) or the only one.
pub(crate) fn load(
    ctx: &Ctx,
    tree: &Tree,
    reference: Option<&str>,
) -> Result<LocalImage, ImageError> {
    let path = match tree.resolve("manifest.json") {
        Ok(p) => p,
        Err(ArchiveError::Missing { .. }) => {
            return Err(ctx.invalid(
                tree.origin(),
                "is not a docker save archive: it has no manifest.json",
            ))
        }
        Err(e) => return Err(ctx.archive(e)),
    };
    let bytes = ctx.read_json(&path, "manifest.json")?;
    let entries: Vec<Entry> = serde_json::from_slice(&bytes)
        .map_err(|e| ctx.invalid(&path, format!("is not a docker save manifest: {e}")))?;
    let entry = choose(ctx, tree.origin(), &entries, reference)?;
    let config_path = tree.resolve(&entry.config).map_err(|e| ctx.archive(e))?;
    let config_digest = named_digest(&entry.config).ok_or_else(|| {
        ctx.invalid(
            &config_path,
            format!(
                "the config {:?} is not named by its digest, so it cannot be verified",
                entry.config
            ),
        )
    })?;
    let bytes = ctx.read_blob(&config_path, "config", &config_digest, None)?;
    let config = ImageConfig::parse(&bytes).map_err(|e| ctx.manifest(&config_path, e))?;
    if entry.layers.len() != config.diff_ids.len() {
        let e = ManifestError::LayerCount {
            layers: entry.layers.len(),
            diff_ids: config.diff_ids.len(),
        };
        return Err(ctx.manifest(&config_path, e));
    }
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (name, diff_id) in entry.layers.iter().zip(&config.diff_ids) {
        let path = tree.resolve(name).map_err(|e| ctx.archive(e))?;
        let media_type = LayerMediaType::sniff(&head(ctx, &path)?);
        if media_type == LayerMediaType::TarZstd {
            return Err(ctx.invalid(
                &path,
                "the layer is zstd-compressed: stack cannot check it against its diff_id yet",
            ));
        }
        let stored = if name.starts_with("blobs/") {
            named_digest(name)
        } else {
            None
        };
        let want = LayerCheck {
            digest: stored.as_ref(),
            size: None,
            diff_id,
            media_type,
        };
        layers.push(verify_layer(ctx, &path, &want)?);
    }
    Ok(LocalImage {
        source: ctx.image.clone(),
        manifest_digest: None,
        config_digest,
        config,
        layers,
    })
}

/// The digest a file is named by: `blobs/sha256/<hex>` or `<hex>.json`.
fn named_digest(name: &str) -> Option<Digest> {
    let file = name.rsplit('/').next()?;
    let hex = file.strip_suffix(".json").unwrap_or(file);
    Digest::parse(&format!("sha256:{hex}")).ok()
}

fn choose<'a>(
    ctx: &Ctx,
    path: &Path,
    entries: &'a [Entry],
    reference: Option<&str>,
) -> Result<&'a Entry, ImageError> {
    let tags = || {
        let t: Vec<&str> = entries
            .iter()
            .flat_map(|e| e.repo_tags.iter().flatten().map(String::as_str))
            .collect();
        if t.is_empty() {
            "no tags".to_string()
        } else {
            t.join(", ")
        }
    };
    let no_such = |wanted: &str| ImageError::NoSuchName {
        image: ctx.image.clone(),
        path: path.to_path_buf(),
        wanted: wanted.to_string(),
        available: format!("{}; or @0..@{}", tags(), entries.len().saturating_sub(1)),
    };
    let Some(wanted) = reference else {
        return match entries {
            [only] => Ok(only),
            [] => Err(ctx.invalid(path, "manifest.json lists no images")),
            many => Err(ImageError::Ambiguous {
                image: ctx.image.clone(),
                path: path.to_path_buf(),
                count: many.len(),
                available: tags(),
                example: format!("docker-archive:{}:NAME:TAG or :@0", path.display()),
            }),
        };
    };
    if let Some(n) = wanted.strip_prefix('@') {
        return n
            .parse::<usize>()
            .ok()
            .and_then(|n| entries.get(n))
            .ok_or_else(|| no_such(wanted));
    }
    let norm = |s: &str| Reference::parse(s).map_or_else(|_| s.to_string(), |r| r.to_string());
    let want = norm(wanted);
    entries
        .iter()
        .find(|e| e.repo_tags.iter().flatten().any(|t| norm(t) == want))
        .ok_or_else(|| no_such(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_carry_their_digest() {
        let hex = "a".repeat(64);
        assert!(named_digest(&format!("{hex}.json")).is_some());
        assert!(named_digest(&format!("blobs/sha256/{hex}")).is_some());
        assert!(named_digest("config.json").is_none());
        assert!(named_digest(&format!("{}.json", "A".repeat(64))).is_none());
    }
}
