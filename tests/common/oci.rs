//! Images built by the tests themselves, from the busybox test rootfs and
//! small layers of files: OCI layouts and `docker save` archives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

#[allow(unused_imports)] // not every test binary uses it
pub use super::registry::images::tar_of_dir as tar_dir;
use super::registry::images::{compress, Compression};
use stack::image::manifest::{OCI_CONFIG, OCI_INDEX, OCI_MANIFEST};
use stack::image::{Digest, LayerMediaType, Platform};

/// One entry of a hand-made layer.
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
}

/// A tar of `entries` (files 0644, dirs 0755, owned by root).
pub fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        h.set_mtime(0);
        match e {
            Entry::File(name, data) => {
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                b.append_data(&mut h, name, *data).unwrap();
            }
            Entry::Dir(name) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o755);
                b.append_data(&mut h, name, std::io::empty()).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

/// A layer: its uncompressed tar and how it is stored.
pub struct Layer {
    pub tar: Vec<u8>,
    pub compression: Compression,
}

impl Layer {
    pub fn plain(tar: Vec<u8>) -> Layer {
        Layer {
            tar,
            compression: Compression::Plain,
        }
    }
    pub fn gzip(tar: Vec<u8>) -> Layer {
        Layer {
            tar,
            compression: Compression::Gzip,
        }
    }
    pub fn zstd(tar: Vec<u8>) -> Layer {
        Layer {
            tar,
            compression: Compression::Zstd,
        }
    }
    /// The blob as stored.
    pub fn blob(&self) -> Vec<u8> {
        compress(&self.tar, self.compression)
    }
    /// Its OCI media type.
    pub fn media_type(&self) -> &'static str {
        match self.compression {
            Compression::Plain => LayerMediaType::Tar,
            Compression::Gzip => LayerMediaType::TarGzip,
            Compression::Zstd => LayerMediaType::TarZstd,
        }
        .oci_media_type()
    }
}

/// An image config for this machine's platform with `config` as its
/// `config` object.
pub fn config(config: Value, layers: &[Layer]) -> Value {
    let host = Platform::host();
    json!({
        "architecture": host.architecture,
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| Digest::of(&l.tar).to_string()).collect::<Vec<_>>()},
    })
}

/// Writes an OCI image layout at `dir` holding one image tagged `tag`;
/// returns the layer blobs' paths, bottom first.
pub fn write_layout(dir: &Path, tag: &str, config: &Value, layers: &[Layer]) -> Vec<PathBuf> {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let put = |media_type: &str, bytes: &[u8]| {
        let d = Digest::of(bytes);
        fs::write(blobs.join(d.hex()), bytes).unwrap();
        json!({"mediaType": media_type, "digest": d.to_string(), "size": bytes.len()})
    };
    let mut paths = Vec::new();
    let mut descs = Vec::new();
    for l in layers {
        let blob = l.blob();
        paths.push(blobs.join(Digest::of(&blob).hex()));
        descs.push(put(l.media_type(), &blob));
    }
    let manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": put(OCI_CONFIG, &serde_json::to_vec(config).unwrap()),
        "layers": descs,
    });
    let mut m = put(OCI_MANIFEST, &serde_json::to_vec(&manifest).unwrap());
    m["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [m]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    paths
}

/// Writes what `docker save` writes for one image named `name` (layers
/// uncompressed, `<n>/layer.tar`), as a tar at `path`.
pub fn write_docker_archive(path: &Path, name: &str, config: &Value, layers: &[Layer]) {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |file: &str, bytes: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        b.append_data(&mut h, file, bytes).unwrap();
    };
    let cfg = serde_json::to_vec(config).unwrap();
    let cfg_name = format!("{}.json", Digest::of(&cfg).hex());
    add(&cfg_name, &cfg);
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let n = format!("{i}/layer.tar");
        add(&n, &l.tar);
        names.push(n);
    }
    let manifest = json!([{"Config": cfg_name, "RepoTags": [name], "Layers": names}]);
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    fs::write(path, b.into_inner().unwrap()).unwrap();
}
