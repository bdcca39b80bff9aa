//! Valid Compose that the loader read wrongly (issue 13), each case from a
//! real file; and what it must refuse clearly instead of misreading.

use super::*;

#[test]
fn a_long_form_bind_source_is_always_a_path() {
    let d = Dir::new();
    d.write("data.txt", "x");
    let yaml = format!(
        "services:\n  a:\n    {HOST}\n    volumes:\n      - {{ type: bind, source: data.txt, target: /x }}\n"
    );
    let (s, _) = load_in(&d, &yaml, &[], &opts()).unwrap();
    let m = &s.services["a"].volumes[0];
    assert_eq!(
        m,
        &Mount::Bind {
            source: d.path().join("data.txt"),
            target: "/x".into(),
            read_only: false
        }
    );
    // Missing, it is a missing path, not an undeclared volume.
    let yaml = yaml.replace("data.txt", "nope.txt");
    let e = errs_in(&d, &yaml, &[], &opts());
    assert!(
        e[0].contains("bind source \"nope.txt\" does not exist"),
        "{e:?}"
    );
    // The short form still reads a bare name as a volume.
    let e = errs(&format!(
        "services:\n  a:\n    {HOST}\n    volumes: [\"data:/x\"]\n"
    ));
    assert!(e[0].contains("volume `data` is not declared"), "{e:?}");
}

#[test]
fn a_dollar_that_starts_no_variable_stays() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    command: [sh, -c, 'echo $(date) $1 $@ x$', '^a.*$']\n"
    ));
    assert_eq!(
        s.services["a"].command.as_deref().unwrap(),
        ["sh", "-c", "echo $(date) $1 $@ x$", "^a.*$"]
    );
}

#[test]
fn only_the_branch_taken_is_interpolated() {
    let d = Dir::new();
    let yaml = format!(
        "services:\n  a:\n    {HOST}\n    environment:\n      L: '${{A:+${{A}},}}B'\n      M: '${{SET?${{B}}}}'\n      J: '${{JSON:-{{\"json\":1}}}}'\n      K: '${{X:-{{a}}b}}'\n      N: '${{X:+{{a}}}}'\n"
    );
    let (s, warnings) = load_in(&d, &yaml, &[("SET", "s"), ("JSON", "{}")], &opts()).unwrap();
    let env = &s.services["a"].environment;
    assert_eq!(env["L"], "B");
    assert_eq!(env["M"], "s");
    assert_eq!(env["J"], "{}");
    assert_eq!(env["K"], "{a}b");
    assert_eq!(env["N"], "");
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn inputs_that_are_not_regular_files_are_refused() {
    let d = Dir::new();
    let yaml = format!("services:\n  a:\n    {HOST}\n    env_file: /dev/zero\n");
    let e = errs_in(&d, &yaml, &[], &opts());
    assert!(
        e[0].contains(
            "cannot read env file /dev/zero: it is a character device, not a regular file"
        ),
        "{e:?}"
    );
    let fifo = d.path().join("env.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let yaml = format!("services:\n  a:\n    {HOST}\n    env_file: env.fifo\n");
    let e = errs_in(&d, &yaml, &[], &opts());
    assert!(e[0].contains("it is a FIFO"), "{e:?}");
    // The stack file itself, through `load`.
    let o = LoadOptions {
        files: vec!["/dev/zero".into()],
        ..opts()
    };
    let e = load(&o).unwrap_err().to_string();
    assert_eq!(
        e,
        "cannot read /dev/zero: it is a character device, not a regular file; give the path of a file"
    );
}

#[test]
fn control_characters_are_escaped_in_problems() {
    let e = errs(
        "services:\n  \"we\\nb\\e[31m\":\n    rootfs: /nope\n  ok:\n    rootfs: \"/no\\rpe\"\n",
    );
    assert_eq!(e.len(), 2, "{e:?}");
    for line in &e {
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
    assert!(e.iter().any(|l| l.contains("we\\nb\\u{1b}[31m")), "{e:?}");
}

#[test]
fn unsupported_yaml_tags_are_errors() {
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    hostname: !!binary aGVsbG8=\n"
    ));
    assert!(
        e.contains("YAML tag `!!binary` is not supported; remove it"),
        "{e}"
    );
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    labels: !custom {{ a: b }}\n"
    ));
    assert!(e.contains("YAML tag `!custom` is not supported"), "{e}");
    // Compose's merge tags are read (in one file `!reset` drops the key).
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    environment: !reset {{ A: b }}\n"
    ));
    assert!(s.services["a"].environment.is_empty());
    // The core schema's tags say what the node is anyway; `!!str` quotes.
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    environment: !!map {{ P: !!str 0x10, Q: !!int 7 }}\n"
    ));
    assert_eq!(s.services["a"].environment["P"], "0x10");
    assert_eq!(s.services["a"].environment["Q"], "7");
}

#[test]
fn a_file_rootfs_that_is_no_tarball_says_so() {
    let d = Dir::new();
    d.write("root.img", "x");
    let e = errs_in(&d, "services:\n  a:\n    rootfs: root.img\n", &[], &opts());
    assert!(
        e[0].contains("rootfs \"root.img\" is a file but not a tarball by its name"),
        "{e:?}"
    );
}

#[test]
fn every_problem_in_one_run() {
    let e = errs(&format!(
        "services:\n  a:\n    {HOST}\n    storage_opt: {{ size: 1G }}\n    ports: [\"99999:80\"]\n    depends_on: [ghost]\n  b:\n    {HOST}\n    depends_on: [c]\n  c:\n    {HOST}\n    depends_on: [b]\n"
    ));
    let has = |s: &str| e.iter().any(|l| l.contains(s));
    assert!(has("storage_opt"), "{e:#?}");
    assert!(has("99999"), "{e:#?}");
    assert!(has("ghost"), "{e:#?}");
    assert!(has("cycle"), "{e:#?}");
}

#[test]
fn newer_compose_keys_are_not_unknown() {
    for key in ["pre_start", "use_api_socket", "models", "gpus", "uts"] {
        let e = one_err(&format!("services:\n  a:\n    {HOST}\n    {key}: []\n"));
        assert!(e.contains("not support"), "{key}: {e}");
        assert!(!e.contains("unknown"), "{key}: {e}");
    }
}

#[test]
fn a_target_alone_is_an_anonymous_volume() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    volumes: [/data, {{ type: volume, target: /cache/, read_only: true }}]\n"
    ));
    let v = &s.services["a"].volumes;
    assert_eq!(
        v[0],
        Mount::Volume {
            source: anonymous_volume("a", "/data"),
            target: "/data".into(),
            read_only: false,
            backing: crate::spec::Backing::Project,
        }
    );
    let Mount::Volume {
        source, read_only, ..
    } = &v[1]
    else {
        panic!("{v:?}")
    };
    assert_eq!(source, &anonymous_volume("a", "/cache"));
    assert!(read_only);
    assert!(source.starts_with("_anon-a-") && source.len() == "_anon-a-".len() + 16);
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    volumes: [data]\n"
    ));
    assert!(
        e.contains("target \"data\" must be an absolute path"),
        "{e}"
    );
}
