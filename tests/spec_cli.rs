//! `stack config` on good and bad files, through the real binary: every
//! bad input ends with exit code 1 and a clear message, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("spec_cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stack(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stack"))
        .args(args)
        .current_dir(cwd)
        .env_remove("STACK_FILE")
        .env_remove("STACK_PROJECT_NAME")
        .env_remove("STACK_PROFILES")
        .output()
        .unwrap()
}

/// Write `stack.yaml` in a fresh dir and run `stack config ARGS`.
fn config(name: &str, yaml: &[u8], args: &[&str]) -> (i32, String, String) {
    let d = dir(name);
    std::fs::write(d.join("stack.yaml"), yaml).unwrap();
    let mut a = vec!["config"];
    a.extend_from_slice(args);
    let out = stack(&d, &a);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fails_with(name: &str, yaml: &[u8], want: &str) {
    let (code, _, err) = config(name, yaml, &[]);
    assert_eq!(code, 1, "{name}: stderr: {err}");
    assert!(
        err.contains(want),
        "{name}: expected {want:?} in stderr:\n{err}"
    );
    assert!(!err.contains("panicked"), "{name}: {err}");
}

#[test]
fn bad_inputs_exit_1_with_a_clear_message() {
    fails_with("empty", b"", "stack.yaml:1:1: the file is empty");
    fails_with(
        "list",
        b"- a\n- b\n",
        "stack.yaml:1:1: expected a map with `services:` at the top of the file, found a list",
    );
    fails_with(
        "scalar",
        b"42\n",
        "stack.yaml:1:1: expected a map with `services:` at the top of the file, found a scalar",
    );
    fails_with(
        "null-service",
        b"services:\n  web:\n",
        "stack.yaml:2:3: services.web: service `web` is empty; it needs at least `image` or `rootfs`",
    );
    fails_with(
        "tabs",
        b"services:\n\tweb:\n\t\trootfs: /\n",
        "(YAML indentation must use spaces, not tabs)",
    );
    fails_with(
        "unknown-key",
        b"services:\n  web:\n    rootfs: { host: [/bin/sh] }\n    comand: x\n",
        "stack.yaml:4:5: services.web.comand: unknown key `comand` (did you mean `command`?)",
    );
    fails_with("bad-size", b"services:\n  web:\n    rootfs: { host: [/bin/sh] }\n    deploy: { resources: { limits: { memory: 12XB } } }\n", "services.web.deploy.resources.limits.memory: invalid size \"12XB\" (expected e.g. 80M, 1.5G, 1048576)");
    fails_with("cycle", b"services:\n  alpha: { rootfs: { host: [/bin/sh] }, depends_on: [beta] }\n  beta: { rootfs: { host: [/bin/sh] }, depends_on: [gamma] }\n  gamma: { rootfs: { host: [/bin/sh] }, depends_on: [alpha] }\n", "dependency cycle: alpha → beta → gamma → alpha");
    fails_with(
        "deep-nesting",
        "[".repeat(100_000).as_bytes(),
        "invalid YAML",
    );
}

#[test]
fn random_bytes_never_panic() {
    // A deterministic xorshift stream: bytes, then printable noise.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..12 {
        let len = 1 + (next() % 4096) as usize;
        let bytes: Vec<u8> = if i % 2 == 0 {
            (0..len).map(|_| next() as u8).collect()
        } else {
            let alphabet = b"ab: -[]{}&*<>|'\"\n\t#$%!,?~.0123";
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        };
        let (code, _, err) = config(&format!("random{i}"), &bytes, &[]);
        assert_eq!(code, 1, "input {i}: {err}");
        assert!(err.contains("stack.yaml:"), "input {i}: {err}");
        assert!(!err.contains("panicked"), "input {i}: {err}");
    }
}

#[test]
fn missing_file_and_unknown_hash_service() {
    let d = dir("nofile");
    let out = stack(&d, &["config"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no stack file found: looked for stack.yaml, stack.yml, compose.yaml"),
        "{err}"
    );

    let (code, _, err) = config(
        "hash-unknown",
        b"services:\n  web: { rootfs: { host: [/bin/sh] } }\n",
        &["--hash", "db"],
    );
    assert_eq!(code, 1);
    assert_eq!(err.trim(), "stack: no such service: db (services: web)");
    let (code, out, err) = config(
        "format-table",
        b"services:\n  web: { rootfs: { host: [/bin/sh] } }\n",
        &["--format", "table"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("`--format table` has no table to print"),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_said_once_and_every_line_is_prefixed() {
    let d = dir("missing-f");
    let out = stack(&d, &["-f", "missing.yaml", "config"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("No such file or directory").count(),
        1,
        "the OS error once: {err}"
    );
    let (code, _, err) = config(
        "two-problems",
        b"services:\n  a: { rootfs: { host: [/bin/sh] }, mem_limit: lots }\n  b: { rootfs: { host: [/bin/sh] }, cpus: many }\n",
        &[],
    );
    assert_eq!(code, 1);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() >= 2, "{err}");
    assert!(lines.iter().all(|l| l.starts_with("stack: ")), "{err}");
}

#[test]
fn services_hash_and_formats() {
    let yaml = b"name: demo\nservices:\n  web: { rootfs: { host: [/bin/sh] }, depends_on: [db] }\n  db: { rootfs: { host: [/bin/sh] }, mem_limit: 80M }\n";
    let (code, out, err) = config("ok", yaml, &["--services"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "db\nweb\n");
    let (_, out, _) = config("ok", yaml, &["--hash", "*"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("db ") && lines[0].len() == 3 + 64,
        "{out}"
    );
    let (_, one, _) = config("ok", yaml, &["--hash", "db"]);
    assert_eq!(one.trim(), &lines[0][3..]);
    let (code, out, _) = config("ok", yaml, &["--format", "json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["name"], "demo");
    assert_eq!(v["services"]["db"]["limits"]["memory"], 80 << 20);
    let (code, out, _) = config("ok", yaml, &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with("name: demo\n"), "{out}");
    assert!(!out.contains('!'), "no YAML tags: {out}");
    let v: serde_json::Value = serde_yaml::from_str(&out).unwrap();
    let from_yaml: stack::spec::Stack = serde_json::from_value(v).unwrap();
    let (_, json, _) = config("ok", yaml, &["--format", "json"]);
    let from_json: stack::spec::Stack = serde_json::from_str(&json).unwrap();
    assert_eq!(from_yaml, from_json);
    // Global options after the verb, as in Compose.
    let d = dir("opts-after");
    std::fs::write(d.join("x.yaml"), yaml).unwrap();
    let out = stack(&d, &["config", "--services", "-f", "x.yaml", "-p", "Other"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn three_thousand_services() {
    let mut y = String::from("services:\n");
    for i in 0..3000 {
        y.push_str(&format!(
            "  s{i:04}:\n    rootfs: {{ host: [/bin/sh] }}\n    mem_limit: 64M\n"
        ));
        if i % 3 == 1 {
            y.push_str(&format!("    depends_on: [s{:04}]\n", i - 1));
        }
    }
    let (code, out, err) = config("big", y.as_bytes(), &["--services"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3000);
}

#[test]
fn six_hundred_deep_chain() {
    let mut y = String::from("services:\n");
    for i in 0..600 {
        y.push_str(&format!("  s{i:03}:\n    rootfs: {{ host: [/bin/sh] }}\n"));
        if i > 0 {
            y.push_str(&format!("    depends_on: [s{:03}]\n", i - 1));
        }
    }
    let (code, out, err) = config("chain", y.as_bytes(), &["--services"]);
    assert_eq!(code, 0, "{err}");
    let order: Vec<&str> = out.lines().collect();
    assert_eq!(order.len(), 600);
    assert_eq!(order[0], "s000");
    assert_eq!(order[599], "s599");
    // Close it into a 600-long cycle: an error, not a stack overflow.
    let y = y.replacen(
        "  s000:\n    rootfs: { host: [/bin/sh] }\n",
        "  s000:\n    rootfs: { host: [/bin/sh] }\n    depends_on: [s599]\n",
        1,
    );
    let (code, _, err) = config("chain-cycle", y.as_bytes(), &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("dependency cycle: s000 → s599 → s598"),
        "{}",
        &err[..err.len().min(300)]
    );
}

#[test]
fn every_example_through_the_binary() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for ex in [
        "cola-wars",
        "healthcheck",
        "volumes",
        "interpolation",
        "networks",
    ] {
        let f = root.join("examples").join(ex).join("stack.yaml");
        let out = stack(&root, &["config", "-f", f.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{ex}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn config_shows_the_normalised_networks() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let f = root.join("examples/networks/stack.yaml");
    let run = |format: &str| {
        let out = stack(
            &root,
            &["config", "-f", f.to_str().unwrap(), "--format", format],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let yaml = run("yaml");
    let v: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    // Top level: the networks some service joins, with their names.
    assert_eq!(v["networks"]["front"]["name"], "networks_front");
    assert_eq!(v["networks"]["front"]["mtu"], 1400);
    assert_eq!(v["networks"]["back"]["internal"], true);
    assert_eq!(v["networks"]["back"]["subnet"], "172.28.0.0/24");
    // Per service: the attachment, with the network's definition.
    let db = &v["services"]["db"];
    assert_eq!(db["networks"]["back"]["ipv4_address"], "172.28.0.10");
    assert_eq!(db["networks"]["back"]["aliases"][0], "database");
    assert_eq!(db["networks"]["back"]["network"]["name"], "networks_back");
    assert_eq!(db["expose"][0], "5432/tcp");
    let web = &v["services"]["web"];
    assert_eq!(web["ports"].as_array().unwrap().len(), 3);
    assert_eq!(web["ports"][2]["published"], "9001");
    let side = &v["services"]["sidecar"];
    assert_eq!(side["network_mode"]["service"], "web");
    assert_eq!(side["depends_on"]["web"]["restart"], true);
    assert!(!yaml.contains('!'), "no YAML tags: {yaml}");
    // The YAML and the JSON are the same model.
    let from_yaml: stack::spec::Stack = serde_json::from_value(v).unwrap();
    let from_json: stack::spec::Stack = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(from_yaml, from_json);
}
