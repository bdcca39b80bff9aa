//! From a reference to a [`Remote`]: the manifest (by tag or digest), the
//! platform's manifest when it is an index, and the config — each checked
//! against the digest that names it (the reference's, the registry's
//! `Docker-Content-Digest`, the index's descriptor, the manifest's config
//! descriptor) and against the descriptor's size.

use super::request::{read_limited, Target};
use super::{Client, PullError, Remote, RemoteLayer};
use crate::image::config::ImageConfig;
use crate::image::digest::Digest;
use crate::image::local::JSON_LIMIT;
use crate::image::manifest::{
    self, check_config_media_type, digest_of, kind_of, select_platform, LayerMediaType, Manifest,
    ManifestError, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST,
};
use crate::image::platform::Platform;
use crate::image::reference::Reference;
use oci_spec::image::{Descriptor, ImageManifest};

/// The manifest media types asked for, in Docker's order of preference.
const ACCEPT: [&str; 4] = [
    OCI_MANIFEST,
    DOCKER_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
];

/// A fetched manifest: its bytes, their digest, and the media type the
/// registry named.
struct Fetched {
    bytes: Vec<u8>,
    digest: Digest,
    media_type: Option<String>,
}

impl Client {
    pub(super) fn resolve_remote(
        &self,
        r: &Reference,
        platform: &Platform,
    ) -> Result<Remote, PullError> {
        let image = r.to_string();
        let wanted = r.pull_reference();
        let top = self.fetch_manifest(r, &wanted)?;
        if let Some(d) = &r.digest {
            check_digest(&image, "the manifest", d, &top.digest)?;
        }
        let parsed = manifest::parse(&top.bytes, top.media_type.as_deref())
            .map_err(|e| PullError::manifest(&image, e))?;
        let (manifest, manifest_digest) = match parsed {
            Manifest::Image(m) => (*m, top.digest),
            Manifest::Index(index) => {
                let descriptors: Vec<&Descriptor> = index.manifests().iter().collect();
                let chosen = select_platform(&descriptors, platform)
                    .map_err(|e| PullError::manifest(&image, e))?;
                self.platform_manifest(r, chosen)?
            }
        };
        self.remote_of(r, manifest, manifest_digest)
    }

    /// The manifest an index's descriptor names, checked against it.
    fn platform_manifest(
        &self,
        r: &Reference,
        d: &Descriptor,
    ) -> Result<(ImageManifest, Digest), PullError> {
        let image = r.to_string();
        let expected = digest_of(d).map_err(|e| PullError::manifest(&image, e))?;
        let what = format!("the platform manifest {expected}");
        let got = self.fetch_manifest(r, &expected.to_string())?;
        check_digest(&image, &what, &expected, &got.digest)?;
        check_size(&image, &what, d.size(), got.bytes.len() as u64)?;
        let hint = got
            .media_type
            .clone()
            .or_else(|| Some(d.media_type().to_string()));
        match manifest::parse(&got.bytes, hint.as_deref())
            .map_err(|e| PullError::manifest(&image, e))?
        {
            Manifest::Image(m) => Ok((*m, expected)),
            Manifest::Index(_) => Err(PullError::Protocol {
                image,
                registry: r.registry.clone(),
                reason: format!(
                    "named another index ({expected}) for the platform: nested indexes are not supported"
                ),
            }),
        }
    }

    /// `GET manifests/<reference>`: bytes verified against the registry's
    /// `Docker-Content-Digest` when it sends one.
    fn fetch_manifest(&self, r: &Reference, reference: &str) -> Result<Fetched, PullError> {
        let image = r.to_string();
        let headers = [("Accept", ACCEPT.join(", "))];
        let resp = self.get(
            r,
            &format!("manifests/{reference}"),
            &headers,
            Target::Manifest(reference),
        )?;
        let media_type = resp
            .header("content-type")
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_string())
            .filter(|c| kind_of(c).is_ok());
        let claimed = resp
            .header("docker-content-digest")
            .and_then(|d| Digest::parse(d.trim()).ok());
        let bytes = read_limited(r, resp, JSON_LIMIT, "the manifest")?;
        let digest = Digest::of(&bytes);
        if let Some(claimed) = claimed {
            check_digest(
                &image,
                "the manifest (its Docker-Content-Digest)",
                &claimed,
                &digest,
            )?;
        }
        Ok(Fetched {
            bytes,
            digest,
            media_type,
        })
    }

    /// The config fetched and verified, the layers listed.
    fn remote_of(
        &self,
        r: &Reference,
        m: ImageManifest,
        manifest_digest: Digest,
    ) -> Result<Remote, PullError> {
        let image = r.to_string();
        let bad = |e: ManifestError| PullError::manifest(&image, e);
        check_config_media_type(m.config()).map_err(bad)?;
        let config_digest = digest_of(m.config()).map_err(bad)?;
        let resp = self.get(
            r,
            &format!("blobs/{config_digest}"),
            &[],
            Target::Blob(&config_digest),
        )?;
        let bytes = read_limited(r, resp, JSON_LIMIT, "the image config")?;
        let what = format!("the image config {config_digest}");
        check_digest(&image, &what, &config_digest, &Digest::of(&bytes))?;
        check_size(&image, &what, m.config().size(), bytes.len() as u64)?;
        let config = ImageConfig::parse(&bytes).map_err(bad)?;
        if config.diff_ids.len() != m.layers().len() {
            return Err(bad(ManifestError::LayerCount {
                layers: m.layers().len(),
                diff_ids: config.diff_ids.len(),
            }));
        }
        let layers = m
            .layers()
            .iter()
            .zip(&config.diff_ids)
            .map(|(d, diff_id)| {
                Ok(RemoteLayer {
                    digest: digest_of(d).map_err(bad)?,
                    size: d.size(),
                    media_type: LayerMediaType::parse(d.media_type()).map_err(bad)?,
                    diff_id: diff_id.clone(),
                })
            })
            .collect::<Result<Vec<_>, PullError>>()?;
        Ok(Remote {
            manifest_digest,
            config_digest,
            config,
            layers,
        })
    }
}

pub(super) fn check_digest(
    image: &str,
    what: &str,
    expected: &Digest,
    actual: &Digest,
) -> Result<(), PullError> {
    if expected == actual {
        return Ok(());
    }
    Err(PullError::DigestMismatch {
        image: image.to_string(),
        what: what.to_string(),
        expected: expected.clone(),
        actual: actual.clone(),
    })
}

fn check_size(image: &str, what: &str, expected: u64, actual: u64) -> Result<(), PullError> {
    if expected == actual {
        return Ok(());
    }
    Err(PullError::SizeMismatch {
        image: image.to_string(),
        what: what.to_string(),
        expected,
        actual,
    })
}
