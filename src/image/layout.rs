//! An OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`):
//! the manifest named by a tag (the `org.opencontainers.image.ref.name`
//! annotation) or the only one, through nested indexes to the host's
//! platform, then its config and layers, each verified (see `local`).

use super::archive::{ArchiveError, Tree};
use super::config::ImageConfig;
use super::digest::Digest;
use super::error::ImageError;
use super::local::{blob_name, verify_layer, Ctx, LayerCheck, LocalImage};
use super::manifest::{self, LayerMediaType, Manifest, ManifestError, REF_NAME};
use super::platform::Platform;
use oci_spec::image::{Descriptor, ImageManifest};
use std::path::{Path, PathBuf};

/// Indexes nested deeper than this are refused (a loop).
const MAX_DEPTH: usize = 4;

/// Loads the image `tag` (or the only one) from a layout.
pub(crate) fn load(
    ctx: &Ctx,
    tree: &Tree,
    tag: Option<&str>,
    platform: &Platform,
) -> Result<LocalImage, ImageError> {
    check_layout_file(ctx, tree)?;
    let index_path = resolve(ctx, tree, "index.json")?;
    let bytes = ctx.read_json(&index_path, "index")?;
    let index = manifest::parse_index(&bytes).map_err(|e| ctx.manifest(&index_path, e))?;
    let chosen = choose(ctx, tree.origin(), index.manifests(), tag, platform)?;
    let (manifest_digest, image) = resolve_manifest(ctx, tree, chosen, platform, 0)?;
    let config_desc = image.config();
    let config_digest =
        manifest::digest_of(config_desc).map_err(|e| ctx.manifest(tree.origin(), e))?;
    let config_path = resolve(ctx, tree, &blob_name(&config_digest))?;
    manifest::check_config_media_type(config_desc).map_err(|e| ctx.manifest(&config_path, e))?;
    let bytes = ctx.read_blob(
        &config_path,
        "config",
        &config_digest,
        Some(config_desc.size()),
    )?;
    let config = ImageConfig::parse(&bytes).map_err(|e| ctx.manifest(&config_path, e))?;
    let layers = image.layers();
    if layers.len() != config.diff_ids.len() {
        let e = ManifestError::LayerCount {
            layers: layers.len(),
            diff_ids: config.diff_ids.len(),
        };
        return Err(ctx.manifest(&config_path, e));
    }
    let mut out = Vec::with_capacity(layers.len());
    for (d, diff_id) in layers.iter().zip(&config.diff_ids) {
        let digest = manifest::digest_of(d).map_err(|e| ctx.manifest(tree.origin(), e))?;
        let path = resolve(ctx, tree, &blob_name(&digest))?;
        let media_type =
            LayerMediaType::parse(d.media_type()).map_err(|e| ctx.manifest(&path, e))?;
        let want = LayerCheck {
            digest: Some(&digest),
            size: Some(d.size()),
            diff_id,
            media_type,
        };
        out.push(verify_layer(ctx, &path, &want)?);
    }
    Ok(LocalImage {
        source: ctx.image.clone(),
        manifest_digest: Some(manifest_digest),
        config_digest,
        config,
        layers: out,
    })
}

fn resolve(ctx: &Ctx, tree: &Tree, name: &str) -> Result<PathBuf, ImageError> {
    tree.resolve(name).map_err(|e| ctx.archive(e))
}

/// `oci-layout` says `{"imageLayoutVersion": "1.0.0"}`.
fn check_layout_file(ctx: &Ctx, tree: &Tree) -> Result<(), ImageError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct LayoutFile {
        image_layout_version: String,
    }
    let path = match tree.resolve("oci-layout") {
        Ok(p) => p,
        Err(ArchiveError::Missing { .. }) => {
            return Err(ctx.invalid(
                tree.origin(),
                "is not an OCI image layout: it has no oci-layout file",
            ))
        }
        Err(e) => return Err(ctx.archive(e)),
    };
    let bytes = ctx.read_json(&path, "oci-layout file")?;
    let file: LayoutFile = serde_json::from_slice(&bytes)
        .map_err(|e| ctx.invalid(&path, format!("is not an OCI layout file: {e}")))?;
    if !file.image_layout_version.starts_with("1.") {
        return Err(ctx.invalid(
            &path,
            format!(
                "image layout version {} is not supported (stack reads 1.x)",
                file.image_layout_version
            ),
        ));
    }
    Ok(())
}

fn tag_of(d: &Descriptor) -> Option<&str> {
    d.annotations()
        .as_ref()
        .and_then(|a| a.get(REF_NAME))
        .map(String::as_str)
}

/// The descriptor in `index.json` to load: the ones tagged `tag` (or all),
/// then the only one, or the one for `platform` when all name one.
fn choose<'a>(
    ctx: &Ctx,
    path: &Path,
    manifests: &'a [Descriptor],
    tag: Option<&str>,
    platform: &Platform,
) -> Result<&'a Descriptor, ImageError> {
    let tags = || {
        let mut t: Vec<&str> = manifests.iter().filter_map(tag_of).collect();
        t.dedup();
        if t.is_empty() {
            "no tags".to_string()
        } else {
            t.join(", ")
        }
    };
    let candidates: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| tag.is_none() || tag_of(d) == tag)
        .collect();
    match (candidates.as_slice(), tag) {
        ([], Some(t)) => Err(ImageError::NoSuchName {
            image: ctx.image.clone(),
            path: path.to_path_buf(),
            wanted: t.to_string(),
            available: tags(),
        }),
        ([], None) => Err(ctx.invalid(path, "index.json lists no images")),
        ([only], _) => Ok(*only),
        (many, _) if many.iter().all(|d| d.platform().is_some()) => {
            manifest::select_platform(many, platform).map_err(|e| ctx.manifest(path, e))
        }
        (many, _) => Err(ImageError::Ambiguous {
            image: ctx.image.clone(),
            path: path.to_path_buf(),
            count: many.len(),
            available: tags(),
            example: format!("oci:{}:TAG", path.display()),
        }),
    }
}

/// Follows a descriptor through indexes to an image manifest.
fn resolve_manifest(
    ctx: &Ctx,
    tree: &Tree,
    d: &Descriptor,
    platform: &Platform,
    depth: usize,
) -> Result<(Digest, ImageManifest), ImageError> {
    let media_type = d.media_type().to_string();
    manifest::kind_of(&media_type).map_err(|e| ctx.manifest(tree.origin(), e))?;
    let digest = manifest::digest_of(d).map_err(|e| ctx.manifest(tree.origin(), e))?;
    let path = resolve(ctx, tree, &blob_name(&digest))?;
    let bytes = ctx.read_blob(&path, "manifest", &digest, Some(d.size()))?;
    match manifest::parse(&bytes, Some(&media_type)).map_err(|e| ctx.manifest(&path, e))? {
        Manifest::Image(m) => Ok((digest, *m)),
        Manifest::Index(_) if depth >= MAX_DEPTH => {
            Err(ctx.invalid(&path, "indexes nest too deep (a loop?)"))
        }
        Manifest::Index(index) => {
            let all: Vec<&Descriptor> = index.manifests().iter().collect();
            let next =
                manifest::select_platform(&all, platform).map_err(|e| ctx.manifest(&path, e))?;
            resolve_manifest(ctx, tree, next, platform, depth + 1)
        }
    }
}
