//! A real registry for tests: Debian's `docker-registry` (CNCF
//! distribution) served on 127.0.0.1 at a free port, storage in a temp
//! dir, optionally behind htpasswd basic auth; killed (by its pid) and
//! reaped when dropped. Images are pushed to it over the distribution API
//! (monolithic blob uploads, then the manifest, optionally an index).
//! [`front::Front`] puts a bearer-token server (and faults) before it.
//!
//! For end-to-end tests: `let reg = Registry::start(None);
//! reg.push_image("app", "1", &TestImage::host().layer_dir(&busybox, Compression::Gzip))`
//! then `image: 127.0.0.1:{reg.port}/app:1`.

pub mod front;
pub mod images;

use base64::Engine as _;
#[allow(unused_imports)] // not every test binary uses both
pub use images::{Compression, TestImage};
use serde_json::{json, Value};
use stack::image::Digest;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry program, or a failure saying how to install it (also
/// under CI=true: these tests never skip).
pub fn registry_binary() -> PathBuf {
    for p in ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("docker-registry is not installed: apt-get install docker-registry apache2-utils");
}

/// A free TCP port on 127.0.0.1 (free when asked).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What a push made: the manifest's digest, size and media type.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub digest: Digest,
    pub size: usize,
    pub media_type: String,
}

pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The htpasswd user, when the registry wants basic auth.
    pub auth: Option<(String, String)>,
    child: Child,
    agent: ureq::Agent,
}

impl Registry {
    /// Starts a registry; `auth`: a user and password it requires.
    pub fn start(auth: Option<(&str, &str)>) -> Registry {
        let bin = registry_binary();
        let dir = tempfile::tempdir().unwrap();
        let mut auth_yaml = String::new();
        if let Some((u, p)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", u, p])
                .output()
                .expect("htpasswd is not installed: apt-get install apache2-utils");
            assert!(out.status.success(), "htpasswd failed");
            std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
            auth_yaml = format!(
                "auth:\n  htpasswd:\n    realm: test-realm\n    path: {}\n",
                dir.path().join("htpasswd").display()
            );
        }
        for _ in 0..5 {
            let port = free_port();
            let config = dir.path().join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth_yaml}",
                    dir.path().join("storage").display()
                ),
            )
            .unwrap();
            let mut child = Command::new(&bin)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            if wait_ready(&mut child, port) {
                return Registry {
                    port,
                    dir,
                    auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
                    child,
                    agent: ureq::AgentBuilder::new()
                        .timeout(Duration::from_secs(30))
                        .build(),
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("docker-registry did not start on 127.0.0.1");
    }

    /// `127.0.0.1:PORT`, as image references name it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn request(&self, method: &str, url: &str) -> ureq::Request {
        let r = self.agent.request(method, url);
        match &self.auth {
            Some((u, p)) => {
                let b = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                r.set("Authorization", &format!("Basic {b}"))
            }
            None => r,
        }
    }

    /// Uploads one blob (POST an upload, PUT it whole with its digest).
    pub fn push_blob(&self, name: &str, bytes: &[u8]) -> Digest {
        let digest = Digest::of(bytes);
        let resp = self
            .request("POST", &format!("{}/v2/{name}/blobs/uploads/", self.url()))
            .call()
            .unwrap_or_else(|e| panic!("starting an upload to {name}: {e}"));
        assert_eq!(resp.status(), 202);
        let location = resp.header("location").unwrap().to_string();
        let location = if location.starts_with('/') {
            format!("{}{location}", self.url())
        } else {
            location
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={digest}");
        let resp = self
            .request("PUT", &put)
            .set("Content-Type", "application/octet-stream")
            .send_bytes(bytes)
            .unwrap_or_else(|e| panic!("uploading {digest} to {name}: {e}"));
        assert_eq!(resp.status(), 201);
        digest
    }

    /// PUTs a manifest (or an index) under a tag or its digest.
    pub fn put_manifest(
        &self,
        name: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Pushed {
        let resp = self
            .request(
                "PUT",
                &format!("{}/v2/{name}/manifests/{reference}", self.url()),
            )
            .set("Content-Type", media_type)
            .send_bytes(bytes)
            .unwrap_or_else(|e| match e {
                ureq::Error::Status(s, r) => {
                    panic!(
                        "PUT manifest {name}:{reference}: {s} {}",
                        r.into_string().unwrap_or_default()
                    )
                }
                e => panic!("PUT manifest {name}:{reference}: {e}"),
            });
        assert_eq!(resp.status(), 201);
        Pushed {
            digest: Digest::of(bytes),
            size: bytes.len(),
            media_type: media_type.to_string(),
        }
    }

    /// Pushes an image's blobs and its manifest as `name:tag`.
    pub fn push_image(&self, name: &str, tag: &str, image: &TestImage) -> Pushed {
        self.push_blob(name, &image.config());
        for l in &image.layers {
            self.push_blob(name, &l.blob);
        }
        self.put_manifest(name, tag, image.manifest_media_type(), &image.manifest())
    }

    /// Pushes each image by digest and an index (OCI's, or Docker's
    /// manifest list) of them as `name:tag`, each with its platform.
    pub fn push_index(&self, name: &str, tag: &str, images: &[&TestImage], docker: bool) -> Pushed {
        let mut manifests: Vec<Value> = vec![];
        for img in images {
            self.push_blob(name, &img.config());
            for l in &img.layers {
                self.push_blob(name, &l.blob);
            }
            let bytes = img.manifest();
            let p = self.put_manifest(
                name,
                &Digest::of(&bytes).to_string(),
                img.manifest_media_type(),
                &bytes,
            );
            manifests.push(json!({
                "mediaType": p.media_type, "digest": p.digest.to_string(), "size": p.size,
                "platform": {"os": img.os, "architecture": img.architecture},
            }));
        }
        let media_type = if docker {
            images::DOCKER_MANIFEST_LIST
        } else {
            images::OCI_INDEX
        };
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": media_type, "manifests": manifests,
        }))
        .unwrap();
        self.put_manifest(name, tag, media_type, &index)
    }

    /// Where the registry keeps a blob's bytes (to tamper with them).
    pub fn blob_file(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

/// Until `/v2/` answers (200, or 401 with auth); false if it died.
fn wait_ready(child: &mut Child, port: u16) -> bool {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(2))
        .build();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        match agent.get(&format!("http://127.0.0.1:{port}/v2/")).call() {
            Ok(_) | Err(ureq::Error::Status(401, _)) => return true,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    false
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
