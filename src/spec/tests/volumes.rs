//! Top-level volumes: `name`, `external`, `driver`, `driver_opts`.

use super::*;

fn with_volumes(volumes: &str, mounts: &str) -> String {
    format!("services:\n  a:\n    {HOST}\n    volumes: {mounts}\nvolumes:\n{volumes}")
}

fn backing(s: &Stack, svc: &str) -> Backing {
    match &s.services[svc].volumes[0] {
        Mount::Volume { backing, .. } => backing.clone(),
        m => panic!("{m:?}"),
    }
}

#[test]
fn name_and_external_make_machine_volumes_and_mounts_carry_them() {
    let s = ok(&with_volumes(
        "  data: { name: shared-data, labels: { a: b } }\n  ext: { external: true }\n  ext2: { external: true, name: made-elsewhere }\n  own: {}\n",
        "[\"data:/d\", \"ext:/e\", \"ext2:/f\", \"own:/o\"]",
    ));
    let want = [
        ("data", "shared-data", false),
        ("ext", "ext", true),
        ("ext2", "made-elsewhere", true),
    ];
    for (key, name, external) in want {
        assert_eq!(
            s.volumes[key].backing,
            Backing::Machine {
                name: name.into(),
                external
            },
            "{key}"
        );
    }
    assert_eq!(s.volumes["own"].backing, Backing::Project);
    assert_eq!(s.volumes["data"].labels["a"], "b");
    let backings: Vec<Backing> = s.services["a"]
        .volumes
        .iter()
        .map(|m| match m {
            Mount::Volume { backing, .. } => backing.clone(),
            m => panic!("{m:?}"),
        })
        .collect();
    assert_eq!(backings[0], s.volumes["data"].backing);
    assert_eq!(backings[1], s.volumes["ext"].backing);
    assert_eq!(backings[3], Backing::Project);
}

#[test]
fn driver_opts_bind_and_tmpfs() {
    let d = Dir::new();
    d.mkdir("srv");
    let dev = d.path().join("srv");
    let yaml = with_volumes(
        &format!("  b: {{ driver: local, driver_opts: {{ type: none, o: bind, device: {} }} }}\n  t: {{ driver_opts: {{ type: tmpfs, device: tmpfs, o: \"size=64m,mode=0700\" }} }}\n", dev.display()),
        "[\"b:/b\", \"t:/t\"]",
    );
    let (s, _) = load_in(&d, &yaml, &[], &opts()).unwrap();
    assert_eq!(backing(&s, "a"), Backing::Bind { device: dev });
    assert_eq!(
        s.volumes["t"].backing,
        Backing::Tmpfs {
            size: Some(Bytes(64 << 20)),
            mode: Some(0o700)
        }
    );
}

#[test]
fn volume_problems_name_the_key_and_what_to_do() {
    let cases: &[(&str, &str)] = &[
        ("  v: { driver: nfs }\n", "6:16: volumes.v.driver: volume driver \"nfs\" is not supported (stack has the `local` driver only); remove `driver`"),
        ("  v: { name: \"../x\" }\n", "6:14: volumes.v.name: invalid volume name \"../x\" (two or more letters, digits, `_`, `.` and `-`, starting with a letter or digit)"),
        ("  v: { external: true, name: vv, labels: [a=b] }\n", "6:34: volumes.v.labels: `labels` cannot be set on an external volume (it exists already, made by `stack volume create` or another project); keep only `name`"),
        ("  v: { external: { name: x } }\n", "6:18: volumes.v.external: `external: { name: … }` is Compose's obsolete form; write `external: true` and `name: …` beside it"),
        ("  v: { driver_opts: { type: nfs, o: \"addr=1.2.3.4\", device: \":/x\" } }\n", "6:21: volumes.v.driver_opts: local volume of type \"nfs\" with o \"addr=1.2.3.4\" is not supported yet (only a bind, `type: none` with `o: bind`, and `type: tmpfs`)"),
        ("  v: { driver_opts: { type: none, o: bind, device: rel/dir } }\n", "6:52: volumes.v.driver_opts.device: bind device \"rel/dir\" must be an absolute path (the local driver mounts it as given)"),
        ("  v: { driver_opts: { type: none, o: bind, device: /no/such/dir } }\n", "6:52: volumes.v.driver_opts.device: bind device \"/no/such/dir\" is not a directory on this machine; create it first"),
        ("  v: { driver_opts: { type: none, o: \"bind,ro\", device: /tmp } }\n", "6:21: volumes.v.driver_opts.o: bind option \"ro\" is not supported yet (only bind, rbind, rw; mount it read-only with `:ro` in the service)"),
        ("  v: { driver_opts: { type: none, o: bind } }\n", "6:21: volumes.v.driver_opts: a bind volume needs `device:` (the host directory to bind)"),
        ("  v: { driver_opts: { type: tmpfs, o: \"uid=1000\" } }\n", "6:21: volumes.v.driver_opts.o: tmpfs option \"uid=1000\" is not supported yet (use size=, mode=, nosuid, nodev or rw)"),
        ("  v: { driver_opts: { kind: x } }\n", "6:23: volumes.v.driver_opts.kind: driver option `kind` is not one of the local driver's (`type`, `o`, `device`); remove it"),
        ("  v: { name: vv, driver_opts: { type: tmpfs } }\n", "6:6: volumes.v: a volume with `driver_opts` (a bind or tmpfs) cannot also have a machine-wide `name`; remove one of them"),
    ];
    let mut wrong = Vec::new();
    for (vol, want) in cases {
        let e = errs(&with_volumes(vol, "[\"v:/v\"]"));
        if e != vec![want.to_string()] {
            wrong.push(format!("{vol}  got {e:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_tmpfs_volume_is_for_one_container() {
    let yaml = format!(
        "services:\n  a:\n    {HOST}\n    volumes: [\"t:/t\"]\n  b:\n    {HOST}\n    volumes: [\"t:/t\"]\nvolumes:\n  t: {{ driver_opts: {{ type: tmpfs, device: tmpfs }} }}\n"
    );
    assert_eq!(
        errs(&yaml),
        vec!["9:3: volumes.t: tmpfs volume `t` is used by 2 containers (a, b): stack mounts a tmpfs volume per container, so they would not share its files; give each container its own, or use a volume without driver_opts".to_string()]
    );
    let yaml = format!(
        "services:\n  a:\n    {HOST}\n    scale: 2\n    volumes: [\"t:/t\"]\nvolumes:\n  t: {{ driver_opts: {{ type: tmpfs, device: tmpfs }} }}\n"
    );
    assert!(errs(&yaml)[0].contains("is used by 2 containers (a)"));
}
