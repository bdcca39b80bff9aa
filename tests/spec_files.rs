//! Several stack files through the real binary (issue 13): `-f` merged in
//! order, the override file beside the default one, `STACK_FILE` as a
//! list, `--project-directory`, and problems that name the file they are in.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("spec_files")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn stack(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stack"));
    c.args(args)
        .current_dir(cwd)
        .env_remove("STACK_FILE")
        .env_remove("STACK_PROJECT_NAME")
        .env_remove("STACK_PROFILES");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn config(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let mut a = vec!["config", "--format", "json"];
    a.extend_from_slice(args);
    let out = stack(cwd, &a, env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const BASE: &str = "name: merged\nservices:\n  web:\n    rootfs: { host: [/bin/sh] }\n    command: [sh, -c, base]\n    environment: [A=1, B=2]\n    ports: [\"8080:80\"]\n";

#[test]
fn later_files_merge_onto_earlier_ones() {
    let d = dir("two");
    std::fs::write(d.join("stack.yaml"), BASE).unwrap();
    std::fs::write(
        d.join("prod.yaml"),
        "services:\n  web:\n    command: [sh, -c, prod]\n    environment: { B: '3' }\n    ports: !reset []\n  worker:\n    rootfs: { host: [/bin/sh] }\n    depends_on: [web]\n",
    )
    .unwrap();
    let v = config(&d, &["-f", "stack.yaml", "-f", "prod.yaml"], &[]);
    let web = &v["services"]["web"];
    assert_eq!(web["command"], serde_json::json!(["sh", "-c", "prod"]));
    assert_eq!(web["environment"]["A"], "1");
    assert_eq!(web["environment"]["B"], "3");
    assert_eq!(
        web["ports"].as_array().map(Vec::len).unwrap_or(0),
        0,
        "{web}"
    );
    assert!(v["services"]["worker"]["depends_on"]["web"].is_object());
    assert_eq!(v["overrides"][0], d.join("prod.yaml").to_str().unwrap());
    // The same list from STACK_FILE.
    let w = config(&d, &[], &[("STACK_FILE", "stack.yaml:prod.yaml")]);
    assert_eq!(w["services"], v["services"]);
}

#[test]
fn the_override_file_beside_the_default_is_read() {
    let d = dir("override");
    std::fs::write(d.join("compose.yaml"), BASE).unwrap();
    std::fs::write(
        d.join("compose.override.yaml"),
        "services:\n  web:\n    environment: [C=4]\n",
    )
    .unwrap();
    let v = config(&d, &[], &[]);
    assert_eq!(v["services"]["web"]["environment"]["C"], "4");
    assert_eq!(v["services"]["web"]["environment"]["A"], "1");
    // Given with -f, only the files named are read.
    let v = config(&d, &["-f", "compose.yaml"], &[]);
    assert!(v["services"]["web"]["environment"].get("C").is_none());
}

#[test]
fn project_directory_holds_the_files_and_the_relative_paths() {
    let d = dir("projdir");
    let sub = d.join("app");
    std::fs::create_dir_all(sub.join("html")).unwrap();
    std::fs::write(
        sub.join("stack.yaml"),
        "services:\n  web:\n    rootfs: { host: [/bin/sh] }\n    volumes: [./html:/srv]\n    environment: [X=$X]\n",
    )
    .unwrap();
    std::fs::write(sub.join(".env"), "X=from-dot-env\n").unwrap();
    let v = config(&d, &["--project-directory", "app"], &[]);
    let web = &v["services"]["web"];
    assert_eq!(web["environment"]["X"], "from-dot-env");
    assert_eq!(
        web["volumes"][0]["source"],
        sub.join("html").to_str().unwrap()
    );
    assert_eq!(v["name"], "app");
}

#[test]
fn problems_name_the_file_they_are_in() {
    let d = dir("problems");
    std::fs::write(d.join("stack.yaml"), BASE).unwrap();
    std::fs::write(
        d.join("bad.yaml"),
        "services:\n  web:\n    restart: sometimes\n",
    )
    .unwrap();
    std::fs::write(d.join("empty.yaml"), "").unwrap();
    let out = stack(&d, &["config", "-f", "stack.yaml", "-f", "bad.yaml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.yaml:3:14: services.web.restart:"),
        "{err}"
    );
    let out = stack(&d, &["config", "-f", "stack.yaml", "-f", "empty.yaml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("empty.yaml:1:1: the file is empty"), "{err}");
    let out = stack(&d, &["config", "-f", "stack.yaml", "-f", "nope.yaml"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read nope.yaml"), "{err}");
}
