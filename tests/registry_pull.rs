//! Pulling from a real registry (Debian's docker-registry) on 127.0.0.1,
//! with no root: images pushed by the test, resolved and downloaded by
//! `stack::image::registry::Client`, every blob verified; basic auth
//! (htpasswd) with credentials from a docker config file or a credential
//! helper; the bearer-token flow and faults (429, tampered and cut-off
//! blobs, redirects to plain HTTP) through `common::registry::front`.
//! Traffic goes to 127.0.0.1 only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use common::registry::front::{Front, FrontConfig};
use common::registry::{Compression, Registry, TestImage};
use stack::image::registry::{Client, ClientOptions, PullError};
use stack::image::{Digest, LayerMediaType, Platform, Reference};
use std::path::{Path, PathBuf};

fn client() -> Client {
    // No docker config: the tests never read the user's.
    Client::new(ClientOptions {
        insecure: vec![],
        docker_config: Some(PathBuf::from("/nonexistent/stack-test/config.json")),
    })
}

fn client_with_config(json: &str, dir: &Path) -> Client {
    let cfg = dir.join("config.json");
    std::fs::write(&cfg, json).unwrap();
    Client::new(ClientOptions {
        insecure: vec![],
        docker_config: Some(cfg),
    })
    .with_helper_dir(dir.to_path_buf())
}

fn reference(host: &str, rest: &str) -> Reference {
    Reference::parse(&format!("{host}/{rest}")).unwrap()
}

fn three_layer_image() -> TestImage {
    TestImage::host()
        .layer(
            &[
                ("etc/os-release", b"ID=test\n"),
                ("bin/hello", b"#!/bin/sh\necho hi\n"),
            ],
            Compression::Gzip,
        )
        .layer(&[("opt/zstd.txt", &[b'z'; 5000][..])], Compression::Zstd)
        .layer(&[("app/main.sh", b"echo main\n")], Compression::Plain)
        .entrypoint(&["/bin/hello"])
        .cmd(&["--loud"])
        .env("GREETING=hi")
        .user("1000:1000")
        .working_dir("/app")
        .healthcheck(&["CMD", "/bin/hello", "--check"])
}

/// Downloads every layer of `remote` into `dir` and checks each file.
fn fetch_all(
    c: &Client,
    r: &Reference,
    remote: &stack::image::registry::Remote,
    img: &TestImage,
    dir: &Path,
) {
    for (l, want) in remote.layers.iter().zip(&img.layers) {
        let dest = dir.join(l.digest.hex());
        let mut last = (0, 0);
        c.fetch_blob(r, &l.digest, l.size, &dest, &mut |d, t| last = (d, t))
            .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), want.blob);
        assert_eq!(last, (l.size, l.size), "progress reached the end");
        assert!(!partial(&dest).exists());
    }
}

fn partial(dest: &Path) -> PathBuf {
    PathBuf::from(format!("{}.partial", dest.display()))
}

#[test]
fn a_multi_layer_oci_image_resolves_and_downloads_verified() {
    let reg = Registry::start(None);
    let img = three_layer_image();
    let pushed = reg.push_image("app/oci", "v1", &img);
    let c = client();
    let r = reference(&reg.host(), "app/oci:v1");
    let remote = c.resolve(&r, &Platform::host()).unwrap();
    assert_eq!(remote.manifest_digest, pushed.digest);
    assert_eq!(remote.config_digest, Digest::of(&img.config()));
    let kinds: Vec<LayerMediaType> = remote.layers.iter().map(|l| l.media_type).collect();
    assert_eq!(
        kinds,
        [
            LayerMediaType::TarGzip,
            LayerMediaType::TarZstd,
            LayerMediaType::Tar
        ]
    );
    for (l, want) in remote.layers.iter().zip(&img.layers) {
        assert_eq!(
            (&l.digest, l.size, &l.diff_id),
            (&want.digest(), want.blob.len() as u64, &want.diff_id)
        );
    }
    let cfg = &remote.config;
    assert_eq!(
        cfg.entrypoint.as_deref(),
        Some(&["/bin/hello".to_string()][..])
    );
    assert_eq!(cfg.cmd.as_deref(), Some(&["--loud".to_string()][..]));
    assert!(cfg.env.contains(&"GREETING=hi".to_string()));
    assert_eq!(cfg.user.as_deref(), Some("1000:1000"));
    assert_eq!(cfg.working_dir.as_deref(), Some("/app"));
    assert_eq!(
        cfg.healthcheck.as_ref().unwrap().test,
        ["CMD", "/bin/hello", "--check"]
    );
    let dir = tempfile::tempdir().unwrap();
    fetch_all(&c, &r, &remote, &img, dir.path());
}

#[test]
fn a_docker_schema2_image_and_a_digest_reference_resolve() {
    let reg = Registry::start(None);
    let img = TestImage::host()
        .docker()
        .layer(&[("a", b"1")], Compression::Gzip)
        .layer(&[("b", b"2")], Compression::Plain);
    let pushed = reg.push_image("docker/app", "latest", &img);
    let c = client();
    let r = reference(&reg.host(), "docker/app");
    let remote = c.resolve(&r, &Platform::host()).unwrap();
    assert_eq!(remote.manifest_digest, pushed.digest);
    assert_eq!(remote.layers[0].media_type, LayerMediaType::TarGzip);
    let dir = tempfile::tempdir().unwrap();
    fetch_all(&c, &r, &remote, &img, dir.path());

    let by_digest = reference(&reg.host(), &format!("docker/app@{}", pushed.digest));
    let again = c.resolve(&by_digest, &Platform::host()).unwrap();
    assert_eq!(again.manifest_digest, pushed.digest);
    assert_eq!(again.config_digest, remote.config_digest);

    let unknown = Digest::of(b"no such manifest");
    let e = c
        .resolve(
            &reference(&reg.host(), &format!("docker/app@{unknown}")),
            &Platform::host(),
        )
        .unwrap_err();
    assert!(matches!(e, PullError::ManifestUnknown { .. }), "{e}");
}

#[test]
fn an_index_gives_the_platform_asked_for_and_lists_the_others() {
    let reg = Registry::start(None);
    let amd = TestImage::new("amd64").layer(&[("arch", b"amd64")], Compression::Gzip);
    let arm = TestImage::new("arm64").layer(&[("arch", b"arm64")], Compression::Gzip);
    for (docker, name) in [(false, "multi/oci"), (true, "multi/docker")] {
        let (amd, arm) = if docker {
            (amd.clone().docker(), arm.clone().docker())
        } else {
            (amd.clone(), arm.clone())
        };
        reg.push_index(name, "v1", &[&amd, &arm], docker);
        let c = client();
        let r = reference(&reg.host(), &format!("{name}:v1"));
        let host = c.resolve(&r, &Platform::host()).unwrap();
        let want = if Platform::host().architecture == "arm64" {
            &arm
        } else {
            &amd
        };
        assert_eq!(
            host.manifest_digest,
            Digest::of(&want.manifest()),
            "the platform manifest, not the index"
        );
        let a = c
            .resolve(&r, &Platform::parse("linux/arm64").unwrap())
            .unwrap();
        assert_eq!(a.config.architecture, "arm64");
        assert_eq!(a.manifest_digest, Digest::of(&arm.manifest()));
        let dir = tempfile::tempdir().unwrap();
        fetch_all(&c, &r, &a, &arm, dir.path());
        let e = c
            .resolve(&r, &Platform::parse("linux/s390x").unwrap())
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("linux/s390x")
                && msg.contains("linux/amd64")
                && msg.contains("linux/arm64"),
            "{msg}"
        );
    }
}

#[test]
fn basic_auth_uses_the_docker_config_s_auths_and_credential_helpers() {
    let reg = Registry::start(Some(("alice", "s3cret")));
    let img = TestImage::host().layer(&[("x", b"x")], Compression::Gzip);
    reg.push_image("private/app", "1", &img);
    let r = reference(&reg.host(), "private/app:1");
    let dir = tempfile::tempdir().unwrap();

    let e = client().resolve(&r, &Platform::host()).unwrap_err();
    assert!(matches!(e, PullError::NeedsCredentials { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "needs credentials: run `docker login {}`",
            reg.host()
        )),
        "{msg}"
    );
    assert!(msg.contains("private/app:1"), "{msg}");

    // auths: base64 user:password, keyed by host:port.
    let auth = base64_of("alice:s3cret");
    let c = client_with_config(
        &format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, reg.host()),
        dir.path(),
    );
    let remote = c.resolve(&r, &Platform::host()).unwrap();
    fetch_all(&c, &r, &remote, &img, dir.path());

    // Wrong password: refused, naming where the credentials came from.
    let wrong = base64_of("alice:nope");
    let c = client_with_config(
        &format!(
            r#"{{"auths": {{"http://{}": {{"auth": "{wrong}"}}}}}}"#,
            reg.host()
        ),
        dir.path(),
    );
    let e = c.resolve(&r, &Platform::host()).unwrap_err();
    assert!(matches!(e, PullError::CredentialsRefused { .. }), "{e}");
    assert!(e.to_string().contains("config.json"), "{e}");

    // credHelpers: docker-credential-test reads the registry on stdin.
    let helper = dir.path().join("docker-credential-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread reg\n[ \"$reg\" = \"{}\" ] || {{ echo \"credentials not found in native keychain\"; exit 1; }}\necho '{{\"Username\":\"alice\",\"Secret\":\"s3cret\"}}'\n",
            reg.host()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let c = client_with_config(
        &format!(r#"{{"credHelpers": {{"{}": "test"}}}}"#, reg.host()),
        dir.path(),
    );
    c.resolve(&r, &Platform::host()).unwrap();

    // A helper that is not installed is named.
    let c = client_with_config(r#"{"credsStore": "absent"}"#, dir.path());
    let e = c.resolve(&r, &Platform::host()).unwrap_err();
    assert!(e.to_string().contains("docker-credential-absent"), "{e}");
}

fn base64_of(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn the_bearer_token_flow_asks_the_token_server_once() {
    let reg = Registry::start(None);
    let img = three_layer_image();
    reg.push_image("tok/app", "1", &img);
    let front = Front::start(
        reg.port,
        FrontConfig {
            bearer: Some("tkn-123".into()),
            token_basic: Some(("bob".into(), "pw".into())),
            ..Default::default()
        },
    );
    let r = reference(&front.host(), "tok/app:1");
    let e = client().resolve(&r, &Platform::host()).unwrap_err();
    assert!(matches!(e, PullError::NeedsCredentials { .. }), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let c = client_with_config(
        &format!(
            r#"{{"auths": {{"{}": {{"username": "bob", "password": "pw"}}}}}}"#,
            front.host()
        ),
        dir.path(),
    );
    let before = front.tokens();
    let remote = c.resolve(&r, &Platform::host()).unwrap();
    std::thread::scope(|s| {
        for (l, want) in remote.layers.iter().zip(&img.layers) {
            let (c, r, dir) = (&c, &r, dir.path());
            s.spawn(move || {
                let dest = dir.join(l.digest.hex());
                c.fetch_blob(r, &l.digest, l.size, &dest, &mut |_, _| {})
                    .unwrap();
                assert_eq!(std::fs::read(&dest).unwrap(), want.blob);
            });
        }
    });
    assert_eq!(
        front.tokens() - before,
        1,
        "one token for the manifest, config and three layers"
    );
}

#[test]
fn a_missing_tag_a_rate_limit_and_a_denial_are_sentences() {
    let reg = Registry::start(None);
    reg.push_image(
        "app/x",
        "1",
        &TestImage::host().layer(&[("x", b"x")], Compression::Plain),
    );
    let c = client();
    let e = c
        .resolve(&reference(&reg.host(), "app/x:nope"), &Platform::host())
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(
            "manifest unknown: the tag or digest nope does not exist in the repository app/x"
        ),
        "{msg}"
    );

    let front = Front::start(
        reg.port,
        FrontConfig {
            rate_limit: Some("120".into()),
            ..Default::default()
        },
    );
    let e = c
        .resolve(&reference(&front.host(), "app/x:1"), &Platform::host())
        .unwrap_err();
    assert!(matches!(e, PullError::RateLimited { .. }), "{e}");
    assert!(e.to_string().contains("retry in 120 seconds"), "{e}");

    front.set(|f| {
        f.rate_limit = None;
        f.forbidden = true;
    });
    let e = c
        .resolve(&reference(&front.host(), "app/x:1"), &Platform::host())
        .unwrap_err();
    assert!(matches!(e, PullError::Forbidden { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("denied access to app/x (403 forbidden)"),
        "{e}"
    );
}

#[test]
fn a_tampered_blob_is_refused_with_both_digests_and_nothing_is_kept() {
    let reg = Registry::start(None);
    let img = TestImage::host().layer(&[("data", &[7u8; 100_000][..])], Compression::Plain);
    reg.push_image("bad/app", "1", &img);
    let c = client();
    let r = reference(&reg.host(), "bad/app:1");
    let remote = c.resolve(&r, &Platform::host()).unwrap();
    let l = &remote.layers[0];
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("layer");

    // Tampered on its way (the front flips a byte).
    let front = Front::start(
        reg.port,
        FrontConfig {
            tamper_blobs: true,
            ..Default::default()
        },
    );
    let fr = reference(&front.host(), "bad/app:1");
    let e = c
        .fetch_blob(&fr, &l.digest, l.size, &dest, &mut |_, _| {})
        .unwrap_err();
    assert_mismatch(&e, &l.digest, &dest);

    // Tampered at rest (the registry's own file).
    let file = reg.blob_file(&l.digest);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let e = c
        .fetch_blob(&r, &l.digest, l.size, &dest, &mut |_, _| {})
        .unwrap_err();
    assert_mismatch(&e, &l.digest, &dest);
}

fn assert_mismatch(e: &PullError, digest: &Digest, dest: &Path) {
    assert!(matches!(e, PullError::DigestMismatch { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("expected {digest}, got sha256:")),
        "{msg}"
    );
    assert!(
        !dest.exists() && !partial(dest).exists(),
        "nothing left at {}",
        dest.display()
    );
}

#[test]
fn a_download_cut_off_is_truncated_then_resumed_or_restarted() {
    let reg = Registry::start(None);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let img = TestImage::host().layer(&[("data", &data[..])], Compression::Gzip);
    reg.push_image("cut/app", "1", &img);
    let front = Front::start(reg.port, FrontConfig::default());
    let c = client();
    let r = reference(&front.host(), "cut/app:1");
    let remote = c.resolve(&r, &Platform::host()).unwrap();
    let l = &remote.layers[0];
    let half = (l.size / 2) as usize;
    let dir = tempfile::tempdir().unwrap();

    // Cut, then resumed with a Range request.
    let dest = dir.path().join("resumed");
    front.set(|f| f.cut_blobs_after = Some(half));
    let e = c
        .fetch_blob(&r, &l.digest, l.size, &dest, &mut |_, _| {})
        .unwrap_err();
    assert!(
        matches!(e, PullError::Truncated { done, .. } if done == half as u64),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains(&format!("stopped after {half} of {} bytes", l.size)),
        "{e}"
    );
    assert_eq!(
        std::fs::metadata(partial(&dest)).unwrap().len(),
        half as u64
    );
    front.set(|f| f.cut_blobs_after = None);
    let mut first = None;
    c.fetch_blob(&r, &l.digest, l.size, &dest, &mut |d, _| {
        first.get_or_insert(d);
    })
    .unwrap();
    assert_eq!(
        first,
        Some(half as u64),
        "progress starts at what was there"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), img.layers[0].blob);
    let ranged = front
        .forwarded
        .lock()
        .unwrap()
        .iter()
        .any(|(_, range)| range.as_deref() == Some(&format!("bytes={half}-")[..]));
    assert!(ranged, "the second fetch asked for the rest");

    // The server ignores Range: started over, still verified.
    let dest = dir.path().join("restarted");
    front.set(|f| f.cut_blobs_after = Some(half));
    c.fetch_blob(&r, &l.digest, l.size, &dest, &mut |_, _| {})
        .unwrap_err();
    front.set(|f| {
        f.cut_blobs_after = None;
        f.ignore_range = true;
    });
    c.fetch_blob(&r, &l.digest, l.size, &dest, &mut |_, _| {})
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), img.layers[0].blob);

    // A partial file that is not the blob's start: resumed, does not
    // verify, started over.
    front.set(|f| f.ignore_range = false);
    let dest = dir.path().join("garbage");
    std::fs::write(partial(&dest), vec![0u8; half]).unwrap();
    c.fetch_blob(&r, &l.digest, l.size, &dest, &mut |_, _| {})
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), img.layers[0].blob);
}

#[test]
fn plain_http_to_a_host_that_is_not_loopback_is_refused() {
    let reg = Registry::start(None);
    let img = TestImage::host().layer(&[("x", b"x")], Compression::Gzip);
    reg.push_image("plain/app", "1", &img);

    // A blob redirect to plain HTTP elsewhere: refused before connecting.
    let front = Front::start(
        reg.port,
        FrontConfig {
            redirect_blobs: Some("http://registry.example:5000{path}".into()),
            ..Default::default()
        },
    );
    let c = client();
    let e = c
        .resolve(&reference(&front.host(), "plain/app:1"), &Platform::host())
        .unwrap_err();
    assert!(matches!(e, PullError::PlainHttpRefused { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("registry.example:5000") && msg.contains("STACK_INSECURE_REGISTRIES"),
        "{msg}"
    );

    // A registry by a name that is not loopback, answering in plain HTTP
    // (the name is mapped to the registry's loopback port here).
    let name = "registry.example:5000";
    let addr = ([127, 0, 0, 1], reg.port).into();
    let r = reference(name, "plain/app:1");
    let e = client()
        .with_resolve(name, addr)
        .resolve(&r, &Platform::host())
        .unwrap_err();
    assert!(matches!(e, PullError::PlainHttpRefused { .. }), "{e}");
    assert!(e.to_string().contains("STACK_INSECURE_REGISTRIES"), "{e}");

    // Listed as insecure: HTTPS first, then plain HTTP.
    let c = Client::new(ClientOptions {
        insecure: vec![name.into()],
        docker_config: Some(PathBuf::from("/nonexistent/config.json")),
    })
    .with_resolve(name, addr);
    let remote = c.resolve(&r, &Platform::host()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    fetch_all(&c, &r, &remote, &img, dir.path());
}

#[test]
fn an_unreachable_registry_is_named_with_its_address() {
    let port = common::registry::free_port();
    let r = reference(&format!("127.0.0.1:{port}"), "app:1");
    let e = client().resolve(&r, &Platform::host()).unwrap_err();
    assert!(matches!(e, PullError::Unreachable { .. }), "{e}");
    assert!(
        e.to_string()
            .contains(&format!("cannot reach the registry at 127.0.0.1:{port}")),
        "{e}"
    );
}
