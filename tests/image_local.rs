//! Images loaded from local files, with no registry and no root: the test
//! builds each image itself (an OCI layout written by hand from tars made
//! here, the same layout as an oci-archive, a `docker save` archive),
//! loads it, checks the config and the layers, then tampers with a blob
//! and checks that the image is refused with the digest named.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use serde_json::{json, Value};
use stack::image::{load, Digest, ImageError, LayerMediaType, LocalImage, Platform, Source};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The other common platform than this machine's.
fn other_arch() -> &'static str {
    if Platform::host().architecture == "arm64" {
        "amd64"
    } else {
        "arm64"
    }
}

/// An OCI layout under construction.
struct Layout {
    dir: PathBuf,
}

impl Layout {
    fn new(dir: &Path) -> Layout {
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout {
            dir: dir.to_path_buf(),
        }
    }

    /// Stores a blob and returns its descriptor.
    fn blob(&self, media_type: &str, bytes: &[u8]) -> Value {
        let d = Digest::of(bytes);
        fs::write(self.dir.join("blobs/sha256").join(d.hex()), bytes).unwrap();
        json!({"mediaType": media_type, "digest": d.to_string(), "size": bytes.len()})
    }

    fn json_blob(&self, media_type: &str, v: &Value) -> Value {
        self.blob(media_type, &serde_json::to_vec(v).unwrap())
    }

    fn index(&self, manifests: Vec<Value>) {
        let v = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
        fs::write(self.dir.join("index.json"), serde_json::to_vec(&v).unwrap()).unwrap();
    }
}

struct Built {
    layer1: Vec<u8>,
    layer2_tar: Vec<u8>,
    layer2_gz: Vec<u8>,
}

fn layers() -> Built {
    let layer1 = tar_of(&[
        ("etc/os-release", b"ID=test\n"),
        ("bin/hello", b"#!/bin/sh\necho hi\n"),
    ]);
    let layer2_tar = tar_of(&[("app/main.sh", b"echo main\n"), ("etc/.wh.os-release", b"")]);
    let layer2_gz = gzip(&layer2_tar);
    Built {
        layer1,
        layer2_tar,
        layer2_gz,
    }
}

fn config(arch: &str, diff_ids: &[Digest]) -> Value {
    json!({
        "architecture": arch,
        "os": "linux",
        "config": {
            "Entrypoint": ["/bin/hello"],
            "Cmd": ["--loud"],
            "Env": ["PATH=/usr/bin:/bin", "GREETING=hi"],
            "User": "1000:1000",
            "WorkingDir": "/app",
            "StopSignal": "SIGINT",
            "ExposedPorts": {"8080/tcp": {}},
            "Volumes": {"/data": {}},
            "Healthcheck": {
                "Test": ["CMD", "/bin/hello", "--check"],
                "Interval": 2_000_000_000u64,
                "Timeout": 1_000_000_000u64,
                "StartPeriod": 500_000_000u64,
                "Retries": 4
            }
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>()}
    })
}

/// A layout whose `index.json` names one index (tagged `v1`) of two
/// platforms; the host's has a plain and a gzip'd layer.
fn build_layout(dir: &Path) -> (Layout, Built) {
    let l = Layout::new(dir);
    let b = layers();
    let host = Platform::host().architecture;
    let diff_ids = [Digest::of(&b.layer1), Digest::of(&b.layer2_tar)];
    let host_manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": l.json_blob(OCI_CONFIG, &config(&host, &diff_ids)),
        "layers": [l.blob(TAR, &b.layer1), l.blob(TAR_GZIP, &b.layer2_gz)],
    });
    let other_layer = tar_of(&[("other", b"x")]);
    let other_manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": l.json_blob(OCI_CONFIG, &config(other_arch(), &[Digest::of(&other_layer)])),
        "layers": [l.blob(TAR, &other_layer)],
    });
    let mut m_host = l.json_blob(OCI_MANIFEST, &host_manifest);
    m_host["platform"] = json!({"architecture": host, "os": "linux"});
    let mut m_other = l.json_blob(OCI_MANIFEST, &other_manifest);
    m_other["platform"] = json!({"architecture": other_arch(), "os": "linux"});
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [m_other, m_host]});
    let mut top = l.json_blob(OCI_INDEX, &index);
    top["annotations"] = json!({"org.opencontainers.image.ref.name": "v1"});
    l.index(vec![top]);
    (l, b)
}

fn assert_image(img: &LocalImage, b: &Built) {
    let c = &img.config;
    assert_eq!(c.architecture, Platform::host().architecture);
    assert_eq!(c.entrypoint, Some(vec!["/bin/hello".to_string()]));
    assert_eq!(c.cmd, Some(vec!["--loud".to_string()]));
    assert_eq!(c.env, vec!["PATH=/usr/bin:/bin", "GREETING=hi"]);
    assert_eq!(c.user.as_deref(), Some("1000:1000"));
    assert_eq!(c.working_dir.as_deref(), Some("/app"));
    assert_eq!(c.stop_signal.as_deref(), Some("SIGINT"));
    assert_eq!(c.exposed_ports, vec!["8080/tcp"]);
    assert_eq!(c.volumes, vec!["/data"]);
    let h = c.healthcheck.as_ref().unwrap();
    assert_eq!(h.test, vec!["CMD", "/bin/hello", "--check"]);
    assert_eq!(h.interval, Some(Duration::from_secs(2)));
    assert_eq!(h.timeout, Some(Duration::from_secs(1)));
    assert_eq!(h.start_period, Some(Duration::from_millis(500)));
    assert_eq!(h.retries, Some(4));
    assert_eq!(img.layers.len(), 2);
    let (l1, l2) = (&img.layers[0], &img.layers[1]);
    assert_eq!(l1.diff_id, Digest::of(&b.layer1));
    assert_eq!(l2.diff_id, Digest::of(&b.layer2_tar));
    assert_eq!(c.diff_ids, vec![l1.diff_id.clone(), l2.diff_id.clone()]);
}

/// The first layer's blob is the plain tar the test wrote (skopeo, which
/// recompresses layers as it copies, keeps only their diff_ids).
fn assert_first_blob(img: &LocalImage, b: &Built) {
    let l1 = &img.layers[0];
    assert_eq!(fs::read(&l1.path).unwrap(), b.layer1);
    assert_eq!(l1.size, b.layer1.len() as u64);
}

fn assert_oci_layers(img: &LocalImage, b: &Built) {
    let (l1, l2) = (&img.layers[0], &img.layers[1]);
    assert_eq!(l1.media_type, LayerMediaType::Tar);
    assert_eq!(l1.digest, Digest::of(&b.layer1));
    assert_eq!(l2.media_type, LayerMediaType::TarGzip);
    assert_eq!(l2.digest, Digest::of(&b.layer2_gz));
    assert_eq!(fs::read(&l2.path).unwrap(), b.layer2_gz);
    assert!(img.manifest_digest.is_some());
}

fn src(s: &str) -> Source {
    Source::parse(s).unwrap()
}

#[test]
fn an_oci_layout_is_loaded_for_the_host_platform() {
    let tmp = tempfile::tempdir().unwrap();
    let (l, b) = build_layout(&tmp.path().join("layout"));
    let work = tmp.path().join("work");
    let host = Platform::host();
    for s in [
        format!("oci:{}:v1", l.dir.display()),
        format!("oci:{}", l.dir.display()),
    ] {
        let img = load(&src(&s), &work, &host).unwrap();
        assert_image(&img, &b);
        assert_first_blob(&img, &b);
        assert_oci_layers(&img, &b);
        assert_eq!(img.source, s);
    }
    // The other platform is there too, and chosen when asked for.
    let other = Platform::parse(&format!("linux/{}", other_arch())).unwrap();
    let img = load(&src(&format!("oci:{}", l.dir.display())), &work, &other).unwrap();
    assert_eq!(img.config.architecture, other_arch());
    assert_eq!(img.layers.len(), 1);
    // A platform the index does not have is named, with what it has.
    let riscv = Platform::parse("linux/riscv64").unwrap();
    let e = load(&src(&format!("oci:{}", l.dir.display())), &work, &riscv).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("linux/riscv64") && msg.contains(other_arch()),
        "{msg}"
    );
    // An unknown tag names the ones there are.
    let e = load(&src(&format!("oci:{}:v2", l.dir.display())), &work, &host).unwrap_err();
    assert!(matches!(e, ImageError::NoSuchName { .. }), "{e}");
    assert!(e.to_string().contains("v1"), "{e}");
}

#[test]
fn an_oci_archive_is_the_same_layout_in_a_tar() {
    let tmp = tempfile::tempdir().unwrap();
    let (l, b) = build_layout(&tmp.path().join("layout"));
    let archive = tmp.path().join("image.tar");
    let mut t = tar::Builder::new(fs::File::create(&archive).unwrap());
    t.append_dir_all(".", &l.dir).unwrap();
    t.into_inner().unwrap().flush().unwrap();
    let work = tmp.path().join("work");
    let img = load(
        &src(&format!("oci-archive:{}:v1", archive.display())),
        &work,
        &Platform::host(),
    )
    .unwrap();
    assert_image(&img, &b);
    assert_first_blob(&img, &b);
    assert_oci_layers(&img, &b);
    assert!(
        img.layers[0].path.starts_with(&work),
        "{:?}",
        img.layers[0].path
    );
    // The work directory must be fresh.
    let e = load(
        &src(&format!("oci-archive:{}", archive.display())),
        &work,
        &Platform::host(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("not empty"), "{e}");
}

/// Flips one byte in the middle of a file.
fn tamper(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x20;
    fs::write(path, bytes).unwrap();
}

#[test]
fn a_tampered_layer_or_config_is_refused_with_its_digest_named() {
    let host = Platform::host();
    for which in ["plain layer", "gzip layer", "config"] {
        let tmp = tempfile::tempdir().unwrap();
        let (l, b) = build_layout(&tmp.path().join("layout"));
        let img = load(&src(&format!("oci:{}", l.dir.display())), tmp.path(), &host).unwrap();
        let (path, digest) = match which {
            "plain layer" => (img.layers[0].path.clone(), Digest::of(&b.layer1)),
            "gzip layer" => (img.layers[1].path.clone(), Digest::of(&b.layer2_gz)),
            _ => (
                l.dir.join("blobs/sha256").join(img.config_digest.hex()),
                img.config_digest.clone(),
            ),
        };
        tamper(&path);
        let e = load(&src(&format!("oci:{}", l.dir.display())), tmp.path(), &host).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, ImageError::Digest { .. }), "{which}: {msg}");
        assert!(
            msg.contains(&format!("expected {digest}")),
            "{which}: {msg}"
        );
        assert!(msg.contains("refused"), "{which}: {msg}");
        assert!(msg.contains(&path.display().to_string()), "{which}: {msg}");
    }
}

#[test]
fn a_layer_whose_content_is_not_its_diff_id_is_refused() {
    // The blob matches its descriptor, but the config lists another diff.
    let tmp = tempfile::tempdir().unwrap();
    let l = Layout::new(tmp.path());
    let b = layers();
    let wrong = Digest::of(b"not this layer");
    let manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": l.json_blob(OCI_CONFIG, &config(&Platform::host().architecture, std::slice::from_ref(&wrong))),
        "layers": [l.blob(TAR_GZIP, &b.layer2_gz)],
    });
    l.index(vec![l.json_blob(OCI_MANIFEST, &manifest)]);
    let e = load(
        &src(&format!("oci:{}", tmp.path().display())),
        tmp.path(),
        &Platform::host(),
    )
    .unwrap_err();
    assert!(matches!(e, ImageError::DiffId { .. }), "{e}");
    assert!(e.to_string().contains(&wrong.to_string()), "{e}");
}

#[test]
fn an_unknown_layer_media_type_is_not_supported() {
    let tmp = tempfile::tempdir().unwrap();
    let l = Layout::new(tmp.path());
    let b = layers();
    let manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": l.json_blob(OCI_CONFIG, &config(&Platform::host().architecture, &[Digest::of(&b.layer1)])),
        "layers": [l.blob("application/vnd.oci.image.layer.v1.tar+bzip2", &b.layer1)],
    });
    l.index(vec![l.json_blob(OCI_MANIFEST, &manifest)]);
    let e = load(
        &src(&format!("oci:{}", tmp.path().display())),
        tmp.path(),
        &Platform::host(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("tar+bzip2 is not supported"), "{e}");
}

#[test]
fn a_directory_without_oci_layout_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let e = load(
        &src(&format!("oci:{}", tmp.path().display())),
        tmp.path(),
        &Platform::host(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no oci-layout file"), "{e}");
    let e = load(&src("alpine"), tmp.path(), &Platform::host()).unwrap_err();
    assert!(matches!(e, ImageError::NotLocal { .. }), "{e}");
}

/// `docker save`'s format: `manifest.json`, `<hex>.json`, layers as
/// `<id>/layer.tar` (old) and `blobs/sha256/<hex>` (Docker 25+).
fn build_docker_archive(path: &Path, b: &Built) -> Digest {
    let cfg = serde_json::to_vec(&config(
        &Platform::host().architecture,
        &[
            Digest::of(&b.layer1),
            Digest::of(&b.layer2_tar),
            Digest::of(&b.layer1),
        ],
    ))
    .unwrap();
    let cfg_digest = Digest::of(&cfg);
    let gz_name = format!("blobs/sha256/{}", Digest::of(&b.layer2_gz).hex());
    let manifest = json!([{
        "Config": format!("{}.json", cfg_digest.hex()),
        "RepoTags": ["example.com/app:v1", "app:latest"],
        "Layers": ["aaa/layer.tar", gz_name, "bbb/layer.tar"],
    }]);
    let mut t = tar::Builder::new(fs::File::create(path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        t.append_data(&mut h, name, data).unwrap();
    };
    add("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    add(&format!("{}.json", cfg_digest.hex()), &cfg);
    add("aaa/layer.tar", &b.layer1);
    add(&gz_name, &b.layer2_gz);
    // A repeated layer is a symlink to its first copy.
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    t.append_link(&mut h, "bbb/layer.tar", "../aaa/layer.tar")
        .unwrap();
    t.into_inner().unwrap().flush().unwrap();
    cfg_digest
}

#[test]
fn a_docker_archive_is_loaded_and_verified_against_diff_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let b = layers();
    let archive = tmp.path().join("saved.tar");
    let cfg_digest = build_docker_archive(&archive, &b);
    for (n, name) in [
        "",
        ":app",
        ":docker.io/library/app:latest",
        ":example.com/app:v1",
        ":@0",
    ]
    .iter()
    .enumerate()
    {
        let s = format!("docker-archive:{}{name}", archive.display());
        let img = load(
            &src(&s),
            &tmp.path().join(format!("w{n}")),
            &Platform::host(),
        )
        .unwrap();
        assert_eq!(img.config_digest, cfg_digest);
        assert_eq!(img.manifest_digest, None);
        assert_eq!(img.layers.len(), 3);
        assert_eq!(img.layers[0].media_type, LayerMediaType::Tar);
        assert_eq!(img.layers[1].media_type, LayerMediaType::TarGzip);
        assert_eq!(img.layers[1].digest, Digest::of(&b.layer2_gz));
        assert_eq!(img.layers[2].path, img.layers[0].path);
        let two = LocalImage {
            layers: img.layers[..2].to_vec(),
            config: stack::image::ImageConfig {
                diff_ids: img.config.diff_ids[..2].to_vec(),
                ..img.config.clone()
            },
            ..img.clone()
        };
        assert_image(&two, &b);
        assert_first_blob(&two, &b);
    }
    let s = format!("docker-archive:{}:other:v9", archive.display());
    let e = load(&src(&s), &tmp.path().join("wx"), &Platform::host()).unwrap_err();
    assert!(e.to_string().contains("example.com/app:v1"), "{e}");
}

#[test]
fn a_tampered_docker_archive_layer_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let b = layers();
    let archive = tmp.path().join("saved.tar");
    build_docker_archive(&archive, &b);
    // Find the first layer's bytes in the archive and flip one.
    let mut bytes = fs::read(&archive).unwrap();
    let at = bytes
        .windows(b"ID=test".len())
        .position(|w| w == b"ID=test")
        .unwrap();
    bytes[at] = b'X';
    fs::write(&archive, bytes).unwrap();
    let e = load(
        &src(&format!("docker-archive:{}", archive.display())),
        &tmp.path().join("w"),
        &Platform::host(),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, ImageError::DiffId { .. }), "{msg}");
    assert!(msg.contains(&Digest::of(&b.layer1).to_string()), "{msg}");
    assert!(msg.contains("refused"), "{msg}");
}

/// When skopeo is installed, an archive it writes loads too (not the only
/// proof: the tests above build their images by hand).
#[test]
fn skopeo_s_own_layouts_load_when_it_is_installed() {
    let Ok(out) = std::process::Command::new("skopeo")
        .arg("--version")
        .output()
    else {
        eprintln!("skopeo is not installed: skipped");
        return;
    };
    if !out.status.success() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (l, b) = build_layout(&tmp.path().join("layout"));
    let copied = tmp.path().join("copied");
    let status = std::process::Command::new("skopeo")
        .arg("copy")
        .arg(format!("oci:{}:v1", l.dir.display()))
        .arg(format!("oci-archive:{}:v2", copied.display()))
        .status()
        .unwrap();
    if !status.success() {
        eprintln!("skopeo copy failed (no policy.json?): skipped");
        return;
    }
    let img = load(
        &src(&format!("oci-archive:{}:v2", copied.display())),
        &tmp.path().join("w"),
        &Platform::host(),
    )
    .unwrap();
    assert_image(&img, &b);
    let l1 = &img.layers[0];
    assert_eq!(l1.size, fs::metadata(&l1.path).unwrap().len());
}
