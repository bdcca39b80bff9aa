//! End-to-end: `image:` services pulled from a real registry on loopback
//! (Debian's docker-registry, filled by the test), through a front that
//! counts requests, asks for a bearer token, or cuts a download: one pull
//! for three services, a second `up` that needs no registry, pull
//! policies, `stack pull` resuming a cut download, `stack images` and
//! `stack image prune`. Real binary, as root; traffic to 127.0.0.1 only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::collections::HashSet;

use common::registry::front::{Front, FrontConfig};
use common::registry::{Compression, Registry, TestImage};
use common::{
    assert_nothing_left, busybox_rootfs, container, ps_json, root_or_skip, text, Project,
};

fn app() -> TestImage {
    TestImage::host()
        .layer_dir(&busybox_rootfs(), Compression::Gzip)
        .layer(
            &[("srv/app.txt", b"from the registry\n")],
            Compression::Zstd,
        )
        .cmd(&[
            "sh",
            "-c",
            "cat /srv/app.txt; echo MODE=$MODE; exec sleep 1000",
        ])
        .env("MODE=pulled")
}

fn blob_requests(front: &Front) -> Vec<String> {
    front
        .forwarded
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.contains("/blobs/sha256:"))
        .map(|(p, _)| p.clone())
        .collect()
}

#[test]
fn one_pull_serves_three_services_and_a_second_up_needs_no_registry() {
    if !root_or_skip("one_pull_serves_three_services_and_a_second_up_needs_no_registry") {
        return;
    }
    let registry = Registry::start(None);
    registry.push_image("test/app", "v1", &app());
    let front = Front::start(registry.port, FrontConfig::default());
    let image = format!("{}/test/app:v1", front.host());
    let yaml = format!(
        "services:\n  a: {{ image: \"{image}\" }}\n  b: {{ image: \"{image}\" }}\n  c: {{ image: \"{image}\", environment: {{ MODE: file }} }}\n"
    );
    let p = Project::new("e2e-pull-once", &yaml);
    let out = p.run(&["up", "-d"]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("pulling 127.0.0.1:"), "{t}");
    let ps = ps_json(&p);
    for s in ["a", "b", "c"] {
        assert_eq!(container(&ps, s)["status"], "running", "{s}: {ps:#}");
    }
    common::wait_for("c's output", std::time::Duration::from_secs(10), || {
        p.ok(&["logs", "c"]).contains("MODE=file")
    });
    assert!(p.ok(&["logs", "c"]).contains("from the registry"));

    // The config and two layers, each fetched once for three services.
    let blobs = blob_requests(&front);
    let unique: HashSet<&String> = blobs.iter().collect();
    assert_eq!(blobs.len(), 3, "{blobs:#?}");
    assert_eq!(unique.len(), 3, "{blobs:#?}");

    let images = p.ok(&["images"]);
    assert!(images.contains("a,b,c"), "{images}");
    assert!(images.contains(&image), "{images}");
    assert!(!images.contains("(not pulled)"), "{images}");

    // No registry any more: what is here is enough (pull_policy missing).
    drop(front);
    drop(registry);
    p.ok(&["down"]);
    let out = p.run(&["up", "-d"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("pulling"), "{}", text(&out));

    // `always` must reach the registry, which is gone: a sentence naming
    // it, and the running containers are left alone.
    let before = ps_json(&p);
    p.write(&yaml.replace("{ image:", "{ pull_policy: always, image:"));
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("cannot reach the registry at 127.0.0.1:"), "{t}");
    assert_eq!(t.matches("cannot reach").count(), 1, "said once: {t}");
    assert!(t.contains("service a"), "{t}");
    let after = ps_json(&p);
    assert_eq!(
        container(&before, "a")["pid"],
        container(&after, "a")["pid"]
    );

    p.ok(&["down"]);
    assert_nothing_left(&p);
    let pruned = p.ok(&["image", "prune"]);
    assert!(pruned.contains("removed 127.0.0.1:"), "{pruned}");
    assert!(pruned.contains("2 layers"), "{pruned}");
    let layers = p.state.join("images/layers/sha256");
    let left: Vec<_> = std::fs::read_dir(&layers).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_missing_image_with_pull_policy_never_is_a_sentence_and_makes_nothing() {
    if !root_or_skip("a_missing_image_with_pull_policy_never_is_a_sentence_and_makes_nothing") {
        return;
    }
    let p = Project::new(
        "e2e-pull-never",
        "services:\n  web: { image: \"127.0.0.1:1/none:v1\", pull_policy: never }\n",
    );
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("service web: image 127.0.0.1:1/none:v1 is not on this machine, and its pull_policy is never"),
        "{t}"
    );
    assert!(!p.state.join("e2e-pull-never").join("containers").exists());
}

#[test]
fn stack_pull_with_a_bearer_token_resumes_a_cut_download() {
    if !root_or_skip("stack_pull_with_a_bearer_token_resumes_a_cut_download") {
        return;
    }
    let registry = Registry::start(None);
    registry.push_image("test/app", "v2", &app());
    let front = Front::start(
        registry.port,
        FrontConfig {
            bearer: Some("t0ken".into()),
            token_basic: Some(("alice".into(), "s3cret".into())),
            cut_blobs_after: Some(20_000),
            ..Default::default()
        },
    );
    let image = format!("{}/test/app:v2", front.host());
    let p = Project::new(
        "e2e-pull-resume",
        &format!("services:\n  app: {{ image: \"{image}\" }}\n"),
    );
    let docker = p.dir.join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let auth = base64_encode("alice:s3cret");
    std::fs::write(
        docker.join("config.json"),
        format!(
            "{{\"auths\": {{\"{}\": {{\"auth\": \"{auth}\"}}}}}}",
            front.host()
        ),
    )
    .unwrap();
    let pull = || {
        p.cmd(&["pull"])
            .env("DOCKER_CONFIG", &docker)
            .output()
            .unwrap()
    };

    let out = pull();
    assert!(!out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("service app: image"), "{t}");
    assert!(
        p.ok(&["images"]).contains("(not pulled)"),
        "a cut pull records nothing"
    );

    front.set(|c| c.cut_blobs_after = None);
    let out = pull();
    assert!(out.status.success(), "{}", text(&out));
    let ranged = front
        .forwarded
        .lock()
        .unwrap()
        .iter()
        .any(|(path, range)| path.contains("/blobs/") && range.is_some());
    assert!(ranged, "the cut download is resumed with a Range request");
    assert!(front.tokens() >= 1);

    let out = p.run(&["up", "-d"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(container(&ps_json(&p), "app")["status"], "running");
    p.ok(&["down"]);
    assert_nothing_left(&p);
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn platform_picks_from_an_index_and_shared_layers_are_fetched_once() {
    if !root_or_skip("platform_picks_from_an_index_and_shared_layers_are_fetched_once") {
        return;
    }
    let registry = Registry::start(None);
    let other = if stack::image::Platform::host().architecture == "arm64" {
        "amd64"
    } else {
        "arm64"
    };
    // The busybox binary is this machine's in both, so both run here;
    // each says which one it is.
    let image = |arch: TestImage, name: &str| {
        arch.layer_dir(&busybox_rootfs(), Compression::Gzip)
            .layer(&[("arch.txt", name.as_bytes())], Compression::Plain)
            .cmd(&["sh", "-c", "echo ARCH=$(cat /arch.txt); exec sleep 1000"])
    };
    let host = image(TestImage::host(), "host");
    let foreign = image(TestImage::new(other), other);
    registry.push_index("test/multi", "v1", &[&host, &foreign], false);
    let front = Front::start(registry.port, FrontConfig::default());
    let yaml = format!(
        "services:\n  native: {{ image: \"{0}/test/multi:v1\" }}\n  foreign: {{ image: \"{0}/test/multi:v1\", platform: linux/{other} }}\n",
        front.host()
    );
    let p = Project::new("e2e-pull-platform", &yaml);
    let out = p.run(&["up", "-d"]);
    assert!(out.status.success(), "{}", text(&out));
    for (svc, want) in [
        ("native", "ARCH=host".to_string()),
        ("foreign", format!("ARCH={other}")),
    ] {
        common::wait_for(
            &format!("{svc}'s output"),
            std::time::Duration::from_secs(10),
            || p.ok(&["logs", svc]).contains(&want),
        );
    }
    let images = p.ok(&["images", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&images).unwrap();
    let platforms: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["platform"].as_str().unwrap())
        .collect();
    assert!(
        platforms.contains(&format!("linux/{other}").as_str()),
        "{images}"
    );
    assert_eq!(platforms.len(), 2, "{images}");
    // Two configs, two small layers, and the busybox layer once.
    let blobs = blob_requests(&front);
    let unique: HashSet<&String> = blobs.iter().collect();
    assert_eq!(blobs.len(), unique.len(), "{blobs:#?}");
    assert_eq!(blobs.len(), 5, "{blobs:#?}");
    p.ok(&["down"]);
    assert_nothing_left(&p);
}
