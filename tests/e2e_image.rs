//! End-to-end: services whose root filesystem is an `image:` read from
//! local files (an OCI layout, a `docker save` archive), built by the test
//! from the busybox rootfs: the layers stack with their whiteouts, the
//! image's config is applied under the file's, one copy of each layer
//! serves every service, a changed image recreates its containers and a
//! tampered one is refused before anything changes. Real binary, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::oci::{config, tar_dir, tar_of, write_docker_archive, write_layout, Entry, Layer};
use common::{
    assert_nothing_left, busybox_rootfs, container, pid_of, ps_json, root_or_skip, text, wait_for,
    Project,
};
use serde_json::json;

fn base() -> Layer {
    Layer::gzip(tar_dir(&busybox_rootfs()))
}

/// Three layers: busybox (gzip), files (plain), and a zstd layer that
/// deletes one file (`.wh.`) and makes one directory opaque.
fn layers() -> Vec<Layer> {
    let files = tar_of(&[
        Entry::Dir("srv"),
        Entry::Dir("srv/app"),
        Entry::File("srv/app/a.txt", b"a\n"),
        Entry::File("srv/gone.txt", b"gone\n"),
        Entry::Dir("opaque"),
        Entry::File("opaque/below", b"x\n"),
    ]);
    let top = tar_of(&[
        Entry::File("srv/.wh.gone.txt", b""),
        Entry::Dir("opaque"),
        Entry::File("opaque/.wh..wh..opq", b""),
        Entry::File("opaque/above", b"y\n"),
        Entry::File("srv/app/ready", b"1\n"),
    ]);
    vec![base(), Layer::plain(files), Layer::zstd(top)]
}

fn app_config(greeting: &str, layers: &[Layer]) -> serde_json::Value {
    config(
        json!({
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["echo GREETING=$GREETING MODE=$MODE; echo cwd=$(pwd) uid=$(id -u); echo srv: $(ls /srv); echo opaque: $(ls /opaque); exec sleep 1000"],
            "Env": ["PATH=/bin:/usr/bin", format!("GREETING={greeting}"), "MODE=image"],
            "WorkingDir": "/srv/app",
            "User": "65534:65534",
            "StopSignal": "SIGINT",
            "Healthcheck": {"Test": ["CMD-SHELL", "test -f /srv/app/ready"], "Interval": 200_000_000u64, "Retries": 3}
        }),
        layers,
    )
}

const APP: &str = r#"
services:
  app:
    image: oci:./img:v1
    environment: { MODE: file }
"#;

fn layer_dirs(p: &Project) -> usize {
    fs::read_dir(p.state.join("images/layers/sha256"))
        .map(|d| d.flatten().filter(|e| e.path().is_dir()).count())
        .unwrap_or(0)
}

#[test]
fn an_oci_layout_runs_with_its_layers_and_config() {
    if !root_or_skip("an_oci_layout_runs_with_its_layers_and_config") {
        return;
    }
    let p = Project::new("e2e-image-oci", APP);
    let l = layers();
    write_layout(&p.dir.join("img"), "v1", &app_config("hello", &l), &l);
    let out = p.run(&["up", "-d", "--wait", "--wait-timeout", "30"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("importing oci:"), "{}", text(&out));

    wait_for("the app's lines", Duration::from_secs(10), || {
        p.ok(&["logs", "app"]).contains("opaque:")
    });
    let logs = p.ok(&["logs", "app"]);
    assert!(
        logs.contains("GREETING=hello MODE=file"),
        "image env under the file's: {logs}"
    );
    assert!(
        logs.contains("cwd=/srv/app uid=65534"),
        "WorkingDir and User: {logs}"
    );
    assert!(
        logs.contains("srv: app\n") || logs.contains("srv: app"),
        "{logs}"
    );
    assert!(!logs.contains("gone.txt"), "a whiteout deletes: {logs}");
    assert!(
        logs.contains("opaque: above"),
        "an opaque dir hides below: {logs}"
    );
    assert!(!logs.contains("below"), "{logs}");

    let ps = ps_json(&p);
    let c = container(&ps, "app");
    assert_eq!(c["health"], "healthy", "the image's healthcheck: {c:#}");
    assert_eq!(c["config"]["stop_signal"], "SIGINT", "{c:#}");

    // `stack config` shows the effective values now the image is here.
    let cfg = p.ok(&["config", "--format", "json"]);
    let cfg: serde_json::Value = serde_json::from_str(&cfg).unwrap();
    let svc = &cfg["services"]["app"];
    assert_eq!(svc["working_dir"], "/srv/app", "{svc:#}");
    assert_eq!(svc["environment"]["GREETING"], "hello");
    assert!(svc["rootfs"]["image"]["id"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));

    // A second up changes nothing and imports nothing.
    let again = p.run(&["up", "-d"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(!text(&again).contains("importing"), "{}", text(&again));

    p.ok(&["down"]);
    assert_nothing_left(&p);
    assert_eq!(layer_dirs(&p), 3, "the layers stay in the image store");
}

#[test]
fn one_copy_of_a_layer_serves_every_service_and_a_docker_archive() {
    if !root_or_skip("one_copy_of_a_layer_serves_every_service_and_a_docker_archive") {
        return;
    }
    let yaml = r#"
services:
  a: { image: "oci:./img:v1", command: ["sleep", "1000"] }
  b: { image: "oci:./img:v1", command: ["sleep", "1000"] }
  c: { image: "oci:./img:v1", command: ["sleep", "1000"] }
  saved: { image: "docker-archive:./saved.tar" }
"#;
    let p = Project::new("e2e-image-share", yaml);
    let l = vec![Layer::plain(tar_dir(&busybox_rootfs()))];
    write_layout(&p.dir.join("img"), "v1", &config(json!({}), &l), &l);
    write_docker_archive(
        &p.dir.join("saved.tar"),
        "saved:1",
        &config(json!({"Cmd": ["sleep", "1000"]}), &l),
        &l,
    );
    let out = p.run(&["up", "-d"]);
    assert!(out.status.success(), "{}", text(&out));
    let ps = ps_json(&p);
    for s in ["a", "b", "c", "saved"] {
        assert_eq!(container(&ps, s)["status"], "running", "{s}: {ps:#}");
    }
    // Two sources, one layer: stored once.
    assert_eq!(layer_dirs(&p), 1);
    p.ok(&["down"]);
    assert_nothing_left(&p);
}

#[test]
fn a_changed_image_recreates_and_a_tampered_one_changes_nothing() {
    if !root_or_skip("a_changed_image_recreates_and_a_tampered_one_changes_nothing") {
        return;
    }
    let p = Project::new("e2e-image-change", APP);
    let img = p.dir.join("img");
    let l = layers();
    write_layout(&img, "v1", &app_config("one", &l), &l);
    p.ok(&["up", "-d"]);
    let first = pid_of(&p, "app");

    // A new config: the image id changes, and so does the environment.
    write_layout(&img, "v1", &app_config("two", &l), &l);
    let plan = p.ok(&["plan"]);
    assert!(plan.contains("recreate app"), "{plan}");
    assert!(
        plan.contains(r#"environment.GREETING "one" → "two""#),
        "the reason names what changed: {plan}"
    );
    let out = p.run(&["up", "-d"]);
    assert!(out.status.success(), "{}", text(&out));
    let second = pid_of(&p, "app");
    assert_ne!(first, second);

    // A new layer whose blob is tampered with: refused, the digest named,
    // and the running container is left alone.
    let mut l3 = layers();
    l3.push(Layer::plain(tar_of(&[Entry::File("new.txt", b"new\n")])));
    let paths = write_layout(&img, "v1", &app_config("three", &l3), &l3);
    let blob = paths.last().unwrap();
    let mut bytes = fs::read(blob).unwrap();
    let n = bytes.len();
    bytes[n / 3] ^= 0xff;
    fs::write(blob, bytes).unwrap();
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success(), "{}", text(&out));
    let t = text(&out);
    let hex = blob.file_name().unwrap().to_string_lossy().into_owned();
    assert!(t.contains(&hex), "the blob's digest is named: {t}");
    assert!(t.contains("service app"), "{t}");
    assert_eq!(pid_of(&p, "app"), second, "nothing changed");
    assert!(!Path::new(&p.state.join("images/layers/sha256").join(&hex)).exists());
    p.ok(&["down"]);
    assert_nothing_left(&p);
}

/// The memory limit of `svc`'s cgroup, v1 or v2, in bytes.
fn memory_limit(p: &Project, svc: &str) -> u64 {
    let v2 = Path::new("/sys/fs/cgroup/stack")
        .join(&p.name)
        .join(svc)
        .join("memory.max");
    let v1 = Path::new("/sys/fs/cgroup/memory/stack")
        .join(&p.name)
        .join(svc)
        .join("memory.limit_in_bytes");
    let text = fs::read_to_string(&v2)
        .or_else(|_| fs::read_to_string(&v1))
        .unwrap_or_else(|e| panic!("no memory limit file for {svc}: {e}"));
    text.trim().parse().unwrap()
}

#[test]
fn an_image_service_is_limited_and_cannot_change_the_layers_it_shares() {
    if !root_or_skip("an_image_service_is_limited_and_cannot_change_the_layers_it_shares") {
        return;
    }
    let yaml = r#"
services:
  app:
    image: oci:./img:v1
    deploy: { resources: { limits: { memory: 64M, pids: 32 } } }
  peer:
    image: oci:./img:v1
"#;
    let p = Project::new("e2e-image-confined", yaml);
    let files = tar_of(&[
        Entry::Dir("srv"),
        Entry::Dir("srv/app"),
        Entry::File("srv/app/a.txt", b"shared\n"),
    ]);
    let l = vec![base(), Layer::plain(files)];
    let cfg = config(
        json!({"Cmd": ["sleep", "1000"], "Volumes": {"/data": {}}}),
        &l,
    );
    write_layout(&p.dir.join("img"), "v1", &cfg, &l);
    p.ok(&["up", "-d"]);
    assert_eq!(memory_limit(&p, "app"), 64 << 20);

    // Root in the container deletes and writes in the image's layers and
    // in its anonymous volume.
    let sh = |svc: &str, cmd: &str| p.run(&["exec", "-T", svc, "sh", "-c", cmd]);
    let out = sh(
        "app",
        "rm /srv/app/a.txt && echo evil > /bin/busybox.new && echo kept > /data/f && echo done",
    );
    assert!(text(&out).contains("done"), "{}", text(&out));
    // The other container and the store still have the layer as it was.
    let out = sh(
        "peer",
        "cat /srv/app/a.txt; ls /bin/busybox.new 2>&1; ls /data",
    );
    let t = text(&out);
    assert!(t.contains("shared"), "{t}");
    assert!(t.contains("No such file"), "{t}");
    assert!(
        !t.contains("\nf\n") && !t.trim_end().ends_with('f'),
        "volumes are per service: {t}"
    );
    let layers = p.state.join("images/layers/sha256");
    let mut found = false;
    for e in fs::read_dir(&layers).unwrap().flatten() {
        let f = e.path().join("srv/app/a.txt");
        found |= f.exists();
        assert!(!e.path().join("bin/busybox.new").exists());
    }
    assert!(found, "the shared layer keeps a.txt");

    // The image's volume outlives a recreate, as in Compose; down -v
    // removes it.
    p.ok(&["up", "-d", "--force-recreate", "app"]);
    let t = text(&sh("app", "cat /data/f"));
    assert!(t.contains("kept"), "{t}");
    p.ok(&["down", "-v"]);
    assert_nothing_left(&p);
    assert!(!p.state.join(&p.name).join("volumes").exists());
}

#[test]
fn platform_refuses_a_single_manifest_of_another_platform() {
    if !root_or_skip("platform_refuses_a_single_manifest_of_another_platform") {
        return;
    }
    let yaml = "services:\n  app: { image: \"oci:./img:v1\", platform: linux/s390x }\n";
    let p = Project::new("e2e-image-platform", yaml);
    let l = vec![Layer::plain(tar_of(&[Entry::File("x", b"x")]))];
    write_layout(&p.dir.join("img"), "v1", &config(json!({}), &l), &l);
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success(), "{}", text(&out));
    let t = text(&out);
    let host = stack::image::Platform::host().to_string();
    assert!(
        t.contains(&format!("service app: image oci:{}:v1 is for {host}, not the linux/s390x that `platform:` asks for", p.dir.join("img").display())),
        "{t}"
    );
    assert_eq!(t.matches("is for").count(), 1, "said once: {t}");
    assert!(!p.state.join(&p.name).join("containers").exists());
}
