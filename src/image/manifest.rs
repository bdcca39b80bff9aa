//! Manifests and indexes, OCI's and Docker's schema 2, read into the
//! `oci-spec` types (a Docker manifest list is an OCI index, a Docker
//! manifest an OCI manifest, with Docker's media types), the host's
//! platform picked from an index, and the layer media types stack reads.

use super::digest::{Digest, DigestError};
use super::platform::Platform;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_FOREIGN_LAYER_GZIP: &str =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// The annotation an OCI layout's `index.json` names a tag with.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Why a manifest, an index or a config is not one stack can use.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{what} is not valid JSON for its kind: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("manifest media type {media_type} is not supported (stack reads OCI and Docker schema 2 manifests and indexes)")]
    UnsupportedManifest { media_type: String },
    #[error("{what} has schemaVersion {version}; stack reads version 2")]
    SchemaVersion { what: &'static str, version: u32 },
    #[error("layer media type {media_type} is not supported (stack reads tar, tar+gzip and tar+zstd layers)")]
    UnsupportedLayer { media_type: String },
    #[error(
        "config media type {media_type} is not an image config: this is not a container image"
    )]
    NotAnImage { media_type: String },
    #[error("no image for platform {wanted} in the index (it has {available}); set `platform:` to one of them")]
    NoPlatform { wanted: Platform, available: String },
    #[error("the index is empty")]
    EmptyIndex,
    #[error("{what}: {source}")]
    Digest { what: String, source: DigestError },
    #[error("the image config's rootfs type is {0:?}, not \"layers\"")]
    RootfsType(String),
    #[error("the manifest has {layers} layers but its config lists {diff_ids} diff_ids")]
    LayerCount { layers: usize, diff_ids: usize },
}

/// A manifest or an index, whichever a blob turned out to be.
#[derive(Debug, Clone)]
pub enum Manifest {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

/// What a media type says a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Index,
}

/// The kind a manifest media type names, if stack reads it.
pub fn kind_of(media_type: &str) -> Result<Kind, ManifestError> {
    match media_type {
        OCI_MANIFEST | DOCKER_MANIFEST => Ok(Kind::Image),
        OCI_INDEX | DOCKER_MANIFEST_LIST => Ok(Kind::Index),
        other => Err(ManifestError::UnsupportedManifest {
            media_type: other.to_string(),
        }),
    }
}

/// Reads a manifest or an index. Its own `mediaType` decides, else the
/// descriptor's (`hint`), else its shape (`manifests` makes an index).
pub fn parse(bytes: &[u8], hint: Option<&str>) -> Result<Manifest, ManifestError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        schema_version: Option<u32>,
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let json =
        |what: &'static str| move |source: serde_json::Error| ManifestError::Json { what, source };
    let head: Head = serde_json::from_slice(bytes).map_err(json("the manifest"))?;
    let kind = match (head.media_type.as_deref(), hint) {
        (Some(m), _) | (None, Some(m)) => kind_of(m)?,
        (None, None) if head.manifests.is_some() => Kind::Index,
        (None, None) => Kind::Image,
    };
    let what = match kind {
        Kind::Image => "the image manifest",
        Kind::Index => "the image index",
    };
    match head.schema_version {
        Some(2) => {}
        Some(version) => return Err(ManifestError::SchemaVersion { what, version }),
        None => return Err(ManifestError::SchemaVersion { what, version: 0 }),
    }
    Ok(match kind {
        Kind::Image => Manifest::Image(serde_json::from_slice(bytes).map_err(json(what))?),
        Kind::Index => Manifest::Index(serde_json::from_slice(bytes).map_err(json(what))?),
    })
}

/// Reads an index (an OCI layout's `index.json`).
pub fn parse_index(bytes: &[u8]) -> Result<ImageIndex, ManifestError> {
    serde_json::from_slice(bytes).map_err(|source| ManifestError::Json {
        what: "the image index",
        source,
    })
}

/// A descriptor's digest, sha256 only.
pub fn digest_of(d: &Descriptor) -> Result<Digest, ManifestError> {
    let s = d.digest().to_string();
    Digest::parse(&s).map_err(|source| ManifestError::Digest {
        what: format!("descriptor {s}"),
        source,
    })
}

/// A descriptor's platform, normalised; `None` when it has none.
pub fn platform_of(d: &Descriptor) -> Option<Platform> {
    d.platform().as_ref().map(|p| {
        Platform::new(
            &p.os().to_string(),
            &p.architecture().to_string(),
            p.variant().as_deref(),
        )
    })
}

/// The manifest of an index that runs on `wanted`: the first that
/// matches. An index of one manifest without a platform is that manifest.
pub fn select_platform<'a>(
    descriptors: &[&'a Descriptor],
    wanted: &Platform,
) -> Result<&'a Descriptor, ManifestError> {
    if let [only] = descriptors {
        if only.platform().is_none() {
            return Ok(*only);
        }
    }
    if descriptors.is_empty() {
        return Err(ManifestError::EmptyIndex);
    }
    if let Some(d) = descriptors
        .iter()
        .copied()
        .find(|d| platform_of(d).is_some_and(|p| wanted.matches(&p)))
    {
        return Ok(d);
    }
    let available: Vec<String> = descriptors
        .iter()
        .filter_map(|d| platform_of(d))
        .map(|p| p.to_string())
        .collect();
    Err(ManifestError::NoPlatform {
        wanted: wanted.clone(),
        available: if available.is_empty() {
            "no platforms".to_string()
        } else {
            available.join(", ")
        },
    })
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerMediaType {
    Tar,
    TarGzip,
    TarZstd,
}

impl LayerMediaType {
    /// The compression a layer's media type names; anything else is a
    /// clear refusal naming it.
    pub fn parse(media_type: &MediaType) -> Result<Self, ManifestError> {
        match media_type {
            MediaType::ImageLayer | MediaType::ImageLayerNonDistributable => Ok(Self::Tar),
            MediaType::ImageLayerGzip | MediaType::ImageLayerNonDistributableGzip => {
                Ok(Self::TarGzip)
            }
            MediaType::ImageLayerZstd | MediaType::ImageLayerNonDistributableZstd => {
                Ok(Self::TarZstd)
            }
            other => match other.to_string().as_str() {
                DOCKER_LAYER_GZIP | DOCKER_FOREIGN_LAYER_GZIP => Ok(Self::TarGzip),
                DOCKER_LAYER_TAR => Ok(Self::Tar),
                m => Err(ManifestError::UnsupportedLayer {
                    media_type: m.to_string(),
                }),
            },
        }
    }

    /// The OCI media type.
    pub fn oci_media_type(self) -> &'static str {
        match self {
            Self::Tar => "application/vnd.oci.image.layer.v1.tar",
            Self::TarGzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Self::TarZstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// By the blob's first bytes (for `docker save` layers, which have no
    /// media type): gzip and zstd magic, else a tar.
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(&[0x1f, 0x8b]) {
            Self::TarGzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Self::TarZstd
        } else {
            Self::Tar
        }
    }
}

/// Checks that a config descriptor names an image config.
pub fn check_config_media_type(d: &Descriptor) -> Result<(), ManifestError> {
    match d.media_type() {
        MediaType::ImageConfig => Ok(()),
        m if m.to_string() == DOCKER_CONFIG => Ok(()),
        m => Err(ManifestError::NotAnImage {
            media_type: m.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hexd(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn docker_list() -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST_LIST}","manifests":[
            {{"mediaType":"{DOCKER_MANIFEST}","size":10,"digest":"{}","platform":{{"architecture":"amd64","os":"linux"}}}},
            {{"mediaType":"{DOCKER_MANIFEST}","size":11,"digest":"{}","platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}},
            {{"mediaType":"{DOCKER_MANIFEST}","size":12,"digest":"{}","platform":{{"architecture":"arm","os":"linux","variant":"v7"}}}}]}}"#,
            hexd('a'),
            hexd('b'),
            hexd('c')
        )
    }

    #[test]
    fn reads_a_docker_manifest_list_and_picks_platforms() {
        let Manifest::Index(index) = parse(docker_list().as_bytes(), None).unwrap() else {
            panic!("not an index")
        };
        let m: Vec<&Descriptor> = index.manifests().iter().collect();
        let m = m.as_slice();
        let pick = |s: &str| {
            digest_of(select_platform(m, &Platform::parse(s).unwrap()).unwrap())
                .unwrap()
                .to_string()
        };
        assert_eq!(pick("linux/amd64"), hexd('a'));
        assert_eq!(pick("linux/arm64"), hexd('b'));
        assert_eq!(pick("linux/arm64/v8"), hexd('b'));
        assert_eq!(pick("linux/arm/v7"), hexd('c'));
        let e = select_platform(m, &Platform::parse("linux/riscv64").unwrap()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no image for platform linux/riscv64 in the index (it has linux/amd64, linux/arm64, linux/arm/v7); set `platform:` to one of them"
        );
        let host = select_platform(m, &Platform::host());
        if ["amd64", "arm64"].contains(&Platform::host().architecture.as_str()) {
            host.unwrap();
        }
    }

    #[test]
    fn reads_oci_and_docker_manifests() {
        for (mt, layer) in [
            (OCI_MANIFEST, "application/vnd.oci.image.layer.v1.tar+gzip"),
            (DOCKER_MANIFEST, DOCKER_LAYER_GZIP),
        ] {
            let cfg_mt = if mt == OCI_MANIFEST {
                OCI_CONFIG
            } else {
                DOCKER_CONFIG
            };
            let json = format!(
                r#"{{"schemaVersion":2,"mediaType":"{mt}","config":{{"mediaType":"{cfg_mt}","size":5,"digest":"{}"}},
                "layers":[{{"mediaType":"{layer}","size":7,"digest":"{}"}}]}}"#,
                hexd('1'),
                hexd('2')
            );
            let Manifest::Image(m) = parse(json.as_bytes(), None).unwrap() else {
                panic!("not a manifest")
            };
            check_config_media_type(m.config()).unwrap();
            assert_eq!(digest_of(m.config()).unwrap().to_string(), hexd('1'));
            assert_eq!(
                LayerMediaType::parse(m.layers()[0].media_type()).unwrap(),
                LayerMediaType::TarGzip
            );
        }
    }

    #[test]
    fn media_types_decide_and_unknown_ones_are_refused() {
        let no_type = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","size":1,"digest":"{}"}}]}}"#,
            hexd('d')
        );
        assert!(matches!(
            parse(no_type.as_bytes(), None).unwrap(),
            Manifest::Index(_)
        ));
        let v1 = r#"{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"}"#;
        let e = parse(v1.as_bytes(), None).unwrap_err().to_string();
        assert!(e.contains("manifest.v1+prettyjws is not supported"), "{e}");
        let v1 = r#"{"schemaVersion":1,"name":"x"}"#;
        let e = parse(v1.as_bytes(), Some(OCI_MANIFEST))
            .unwrap_err()
            .to_string();
        assert!(e.contains("schemaVersion 1"), "{e}");
        assert!(parse(b"not json", None).is_err());
    }

    #[test]
    fn layer_media_types() {
        let p = |s: &str| LayerMediaType::parse(&MediaType::from(s));
        assert_eq!(
            p("application/vnd.oci.image.layer.v1.tar").unwrap(),
            LayerMediaType::Tar
        );
        assert_eq!(
            p("application/vnd.oci.image.layer.v1.tar+zstd").unwrap(),
            LayerMediaType::TarZstd
        );
        assert_eq!(p(DOCKER_LAYER_GZIP).unwrap(), LayerMediaType::TarGzip);
        assert_eq!(p(DOCKER_LAYER_TAR).unwrap(), LayerMediaType::Tar);
        let e = p("application/vnd.oci.image.layer.v1.tar+bzip2")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "layer media type application/vnd.oci.image.layer.v1.tar+bzip2 is not supported (stack reads tar, tar+gzip and tar+zstd layers)"
        );
        assert_eq!(
            LayerMediaType::sniff(&[0x1f, 0x8b, 8]),
            LayerMediaType::TarGzip
        );
        assert_eq!(
            LayerMediaType::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            LayerMediaType::TarZstd
        );
        assert_eq!(LayerMediaType::sniff(b"etc/"), LayerMediaType::Tar);
    }

    #[test]
    fn a_helm_chart_is_not_an_image() {
        let d = Descriptor::new(
            MediaType::Other("application/vnd.cncf.helm.config.v1+json".into()),
            1,
            oci_spec::image::Digest::try_from(hexd('e').as_str()).unwrap(),
        );
        let e = check_config_media_type(&d).unwrap_err().to_string();
        assert!(e.contains("helm"), "{e}");
    }
}
