//! Test images built in memory: layers as tars (plain, gzip or zstd) of
//! given files or of a directory, a config with the usual fields, and the
//! manifest (OCI, or Docker schema 2) that names them.

use serde_json::{json, Value};
use stack::image::Digest;
use std::io::Write;
use std::path::Path;

pub use stack::image::manifest::{
    DOCKER_CONFIG, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST,
};

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Plain,
    Gzip,
    Zstd,
}

/// One layer: the blob as pushed, and the digest of its tar.
#[derive(Debug, Clone)]
pub struct TestLayer {
    pub compression: Compression,
    pub blob: Vec<u8>,
    pub diff_id: Digest,
}

impl TestLayer {
    pub fn digest(&self) -> Digest {
        Digest::of(&self.blob)
    }

    pub fn media_type(&self, docker: bool) -> &'static str {
        match (docker, self.compression) {
            (false, Compression::Plain) => "application/vnd.oci.image.layer.v1.tar",
            (false, Compression::Gzip) => "application/vnd.oci.image.layer.v1.tar+gzip",
            (false, Compression::Zstd) => "application/vnd.oci.image.layer.v1.tar+zstd",
            (true, Compression::Plain) => "application/vnd.docker.image.rootfs.diff.tar",
            (true, Compression::Gzip) => "application/vnd.docker.image.rootfs.diff.tar.gzip",
            (true, Compression::Zstd) => panic!("Docker schema 2 has no zstd layers"),
        }
    }
}

/// An image to push: its layers (bottom first) and config fields.
#[derive(Debug, Clone)]
pub struct TestImage {
    pub os: String,
    pub architecture: String,
    /// Docker schema 2 media types instead of OCI's.
    pub docker: bool,
    pub layers: Vec<TestLayer>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    /// `["CMD", …]` or `["CMD-SHELL", "…"]`, with a 1 s interval.
    pub healthcheck: Option<Vec<String>>,
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A tar of `files` (`path`, content), mode 0644 (0755 under bin/).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(if name.contains("bin/") { 0o755 } else { 0o644 });
        h.set_mtime(0);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A tar of a directory's contents (symlinks kept as symlinks).
pub fn tar_of_dir(dir: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.mode(tar::HeaderMode::Deterministic);
    b.append_dir_all(".", dir).unwrap();
    b.into_inner().unwrap()
}

pub fn compress(tar: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::Plain => tar.to_vec(),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).unwrap();
            e.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(tar, 1).unwrap(),
    }
}

impl TestImage {
    /// An image for linux/`architecture` with no layers yet.
    pub fn new(architecture: &str) -> TestImage {
        TestImage {
            os: "linux".into(),
            architecture: architecture.into(),
            docker: false,
            layers: vec![],
            entrypoint: None,
            cmd: None,
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            user: None,
            working_dir: None,
            healthcheck: None,
        }
    }

    /// For this machine's architecture.
    pub fn host() -> TestImage {
        TestImage::new(&stack::image::Platform::host().architecture)
    }

    /// Docker schema 2 media types (no zstd layers).
    pub fn docker(mut self) -> Self {
        self.docker = true;
        self
    }

    /// A layer holding `files`.
    pub fn layer(self, files: &[(&str, &[u8])], c: Compression) -> Self {
        self.layer_tar(tar_of(files), c)
    }

    /// A layer holding a directory (e.g. a busybox rootfs).
    pub fn layer_dir(self, dir: &Path, c: Compression) -> Self {
        self.layer_tar(tar_of_dir(dir), c)
    }

    pub fn layer_tar(mut self, tar: Vec<u8>, c: Compression) -> Self {
        self.layers.push(TestLayer {
            compression: c,
            blob: compress(&tar, c),
            diff_id: Digest::of(&tar),
        });
        self
    }

    pub fn entrypoint(mut self, v: &[&str]) -> Self {
        self.entrypoint = Some(strings(v));
        self
    }
    pub fn cmd(mut self, v: &[&str]) -> Self {
        self.cmd = Some(strings(v));
        self
    }
    pub fn env(mut self, kv: &str) -> Self {
        self.env.push(kv.into());
        self
    }
    pub fn user(mut self, u: &str) -> Self {
        self.user = Some(u.into());
        self
    }
    pub fn working_dir(mut self, d: &str) -> Self {
        self.working_dir = Some(d.into());
        self
    }
    pub fn healthcheck(mut self, test: &[&str]) -> Self {
        self.healthcheck = Some(strings(test));
        self
    }

    /// The config blob.
    pub fn config(&self) -> Vec<u8> {
        let mut c = json!({"Env": self.env});
        let set = |c: &mut Value, k: &str, v: Value| {
            c.as_object_mut().unwrap().insert(k.to_string(), v);
        };
        if let Some(e) = &self.entrypoint {
            set(&mut c, "Entrypoint", json!(e));
        }
        if let Some(e) = &self.cmd {
            set(&mut c, "Cmd", json!(e));
        }
        if let Some(u) = &self.user {
            set(&mut c, "User", json!(u));
        }
        if let Some(w) = &self.working_dir {
            set(&mut c, "WorkingDir", json!(w));
        }
        if let Some(t) = &self.healthcheck {
            set(
                &mut c,
                "Healthcheck",
                json!({"Test": t, "Interval": 1_000_000_000u64, "Retries": 3}),
            );
        }
        let diff_ids: Vec<String> = self.layers.iter().map(|l| l.diff_id.to_string()).collect();
        serde_json::to_vec(&json!({
            "architecture": self.architecture,
            "os": self.os,
            "config": c,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .unwrap()
    }

    pub fn manifest_media_type(&self) -> &'static str {
        if self.docker {
            DOCKER_MANIFEST
        } else {
            OCI_MANIFEST
        }
    }

    /// The manifest naming the config and the layers.
    pub fn manifest(&self) -> Vec<u8> {
        let config = self.config();
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                json!({"mediaType": l.media_type(self.docker), "digest": l.digest().to_string(), "size": l.blob.len()})
            })
            .collect();
        let config_type = if self.docker {
            DOCKER_CONFIG
        } else {
            OCI_CONFIG
        };
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": self.manifest_media_type(),
            "config": {"mediaType": config_type, "digest": Digest::of(&config).to_string(), "size": config.len()},
            "layers": layers,
        }))
        .unwrap()
    }
}
