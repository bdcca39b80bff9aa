//! Top-level volumes at run time: a machine-wide `name:` volume shared by
//! two projects, `external: true` and `stack volume`, and the local
//! driver's bind and tmpfs. Real binary, real containers, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use common::{assert_nothing_left, root_or_skip, text, Project};

const SLEEP: &str = "rootfs: {busybox}\n    command: [sleep, '1000']";

#[test]
fn a_named_volume_is_shared_across_projects_and_external_ones_are_kept() {
    if !root_or_skip("a_named_volume_is_shared_across_projects_and_external_ones_are_kept") {
        return;
    }
    let vol = format!("e2e-shared-{}", std::process::id());
    let a = Project::new(
        "e2e-vol-a",
        &format!("services:\n  app:\n    {SLEEP}\n    volumes: [\"data:/data\"]\nvolumes:\n  data: {{ name: {vol} }}\n"),
    );
    let mut b = Project::new(
        "e2e-vol-b",
        &format!("services:\n  app:\n    {SLEEP}\n    volumes: [\"ext:/ext:ro\"]\nvolumes:\n  ext: {{ external: true, name: {vol} }}\n"),
    );
    // One machine: both projects under the same state and run roots.
    b.state = a.state.clone();
    b.run = a.run.clone();

    // External, before anyone made it: the start fails and says how.
    let o = b.run(&["up", "-d"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "external volume `{vol}` does not exist; create it with `stack volume create {vol}`"
        )),
        "{}",
        text(&o)
    );
    b.ok(&["down"]);

    a.ok(&["up", "-d"]);
    let on_disk = a.state.join("volumes").join(&vol);
    assert!(on_disk.is_dir(), "made in the machine store");
    a.ok(&["exec", "-T", "app", "sh", "-c", "echo from-a > /data/f"]);
    b.ok(&["up", "-d"]);
    let got = b.ok(&["exec", "-T", "app", "cat", "/ext/f"]);
    assert_eq!(got.trim(), "from-a");
    let o = b.run(&["exec", "-T", "app", "sh", "-c", "echo x > /ext/g"]);
    assert!(!o.status.success(), "mounted read-only: {}", text(&o));

    let ls = a.ok(&["volume", "ls", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&ls).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == vol.as_str())
        .unwrap_or_else(|| panic!("{ls}"));
    assert_eq!(
        row["projects"],
        serde_json::json!(["e2e-vol-a", "e2e-vol-b"])
    );
    let o = a.run(&["volume", "rm", &vol]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains(&format!(
            "volume {vol} is used by project e2e-vol-a, e2e-vol-b; take it down first"
        )),
        "{}",
        text(&o)
    );

    // `down -v` of the maker keeps it while the other project uses it.
    let o = a.run(&["down", "-v", "-t", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("kept volume {vol}: project e2e-vol-b uses it too")),
        "{}",
        text(&o)
    );
    assert!(on_disk.join("f").is_file());
    // An external volume is never removed by its user's `down -v`.
    let o = b.run(&["down", "-v", "-t", "1"]);
    assert!(
        !text(&o).contains(&format!("removed volume {vol}")),
        "{}",
        text(&o)
    );
    assert!(on_disk.join("f").is_file());
    assert_nothing_left(&a);
    assert_nothing_left(&b);

    // Now nobody names it: `volume rm` removes it.
    let out = a.ok(&["volume", "rm", &vol]);
    assert_eq!(out.trim(), vol);
    assert!(!on_disk.exists());
    let o = a.run(&["volume", "rm", &vol]);
    assert!(
        text(&o).contains(&format!("no such volume: {vol}")),
        "{}",
        text(&o)
    );
    // And made by hand, `external` finds it.
    a.ok(&["volume", "create", &vol]);
    b.ok(&["up", "-d"]);
    b.ok(&["down", "-v", "-t", "1"]);
    a.ok(&["volume", "rm", &vol]);
}

#[test]
fn down_v_removes_a_named_volume_its_file_made() {
    if !root_or_skip("down_v_removes_a_named_volume_its_file_made") {
        return;
    }
    let vol = format!("e2e-made-{}", std::process::id());
    let p = Project::new(
        "e2e-vol-made",
        &format!("services:\n  app:\n    {SLEEP}\n    volumes: [\"data:/data\", \"own:/own\"]\nvolumes:\n  data: {{ name: {vol} }}\n  own: {{}}\n"),
    );
    p.ok(&["up", "-d"]);
    p.ok(&["down", "-t", "1"]);
    let on_disk = p.state.join("volumes").join(&vol);
    assert!(on_disk.is_dir(), "down keeps it");
    p.ok(&["up", "-d"]);
    let o = p.run(&["down", "-v", "-t", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains(&format!("removed volume {vol}")), "{out}");
    assert!(out.contains("removed volume own"), "{out}");
    assert!(!on_disk.exists());
    assert_nothing_left(&p);
}

#[test]
fn local_driver_bind_and_tmpfs_volumes() {
    if !root_or_skip("local_driver_bind_and_tmpfs_volumes") {
        return;
    }
    let p = Project::new("e2e-vol-local", "services: {}\n");
    let dev = p.dir.join("host-dir");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(dev.join("f"), "on-the-host\n").unwrap();
    p.write(&format!(
        "services:\n  app:\n    {SLEEP}\n    volumes: [\"b:/b\", \"t:/t\"]\nvolumes:\n  b: {{ driver: local, driver_opts: {{ type: none, o: bind, device: {} }} }}\n  t: {{ driver_opts: {{ type: tmpfs, device: tmpfs, o: \"size=2m,mode=0700\" }} }}\n",
        dev.display()
    ));
    p.ok(&["up", "-d"]);
    assert_eq!(
        p.ok(&["exec", "-T", "app", "cat", "/b/f"]).trim(),
        "on-the-host"
    );
    p.ok(&["exec", "-T", "app", "sh", "-c", "echo back > /b/g"]);
    assert_eq!(std::fs::read_to_string(dev.join("g")).unwrap(), "back\n");
    let mounts = p.ok(&["exec", "-T", "app", "cat", "/proc/mounts"]);
    let t = mounts
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("/t"))
        .unwrap_or_else(|| panic!("{mounts}"));
    assert!(t.starts_with("tmpfs /t tmpfs"), "{t}");
    assert!(t.contains("size=2048k") && t.contains("mode=700"), "{t}");
    // `down -v` leaves the host directory of a bind volume alone.
    p.ok(&["down", "-v", "-t", "1"]);
    assert!(dev.join("f").is_file() && dev.join("g").is_file());
    assert_nothing_left(&p);
}
