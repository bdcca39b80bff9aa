//! The committed schema and reference tables match the code; every example
//! loads and validates against the schema. `STACK_BLESS=1 cargo test --test
//! spec_schema` rewrites the generated files.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bless() -> bool {
    std::env::var("STACK_BLESS").is_ok_and(|v| v == "1")
}

const BEGIN: &str = "<!-- BEGIN GENERATED KEY TABLES: edit src/spec/file.rs, then STACK_BLESS=1 cargo test --test spec_schema -->\n";
const END: &str = "<!-- END GENERATED KEY TABLES -->\n";

#[test]
fn committed_schema_is_generated() {
    let path = root().join("schemas/stack.schema.json");
    let want = stack::spec::file::schema_json();
    if bless() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "schemas/stack.schema.json differs from the Rust types; run STACK_BLESS=1 cargo test --test spec_schema"
    );
}

#[test]
fn reference_tables_are_generated_and_cover_every_key() {
    let path = root().join("book/src/reference.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        panic!("book/src/reference.md lacks the generated-section markers");
    };
    let want = stack::spec::file::reference_tables();
    if bless() {
        let new = format!("{}{BEGIN}\n{want}{}", &text[..a], &text[b..]);
        std::fs::write(&path, new).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let a = text.find(BEGIN).unwrap() + BEGIN.len();
    let b = text.find(END).unwrap();
    assert!(
        text[a..b].trim() == want.trim(),
        "the key tables in book/src/reference.md are stale; run STACK_BLESS=1 cargo test --test spec_schema"
    );
    // Every property of every object in the schema appears in the chapter.
    let schema: serde_json::Value =
        serde_json::from_str(&stack::spec::file::schema_json()).unwrap();
    let mut objects = vec![&schema];
    objects.extend(schema["definitions"].as_object().unwrap().values());
    for o in objects {
        if let Some(props) = o["properties"].as_object() {
            for key in props.keys() {
                assert!(
                    text.contains(&format!("| `{key}` |")),
                    "key `{key}` is not documented"
                );
            }
        }
    }
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path().join("stack.yaml"))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Validates against the generated schema (equal to the committed one when
/// `committed_schema_is_generated` passes; no race with blessing).
fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&stack::spec::file::schema_json()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    stack::spec::yaml::parse(&text).unwrap().to_json()
}

/// An example that builds its images with `make-image.sh` is loaded from a
/// copy beside what the script built (the loader checks local images exist),
/// so the source tree stays as committed.
fn with_its_images(path: &Path, scratch: &Path) -> PathBuf {
    let dir = path.parent().unwrap();
    let script = dir.join("make-image.sh");
    if !script.is_file() {
        return path.to_path_buf();
    }
    let out = scratch.join(dir.file_name().unwrap());
    let status = std::process::Command::new(&script)
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{}: {status}", script.display());
    let copy = out.join("stack.yaml");
    std::fs::copy(path, &copy).unwrap();
    copy
}

#[test]
fn every_example_loads_and_validates() {
    let v = validator();
    let ex = examples();
    assert!(ex.len() >= 4, "examples: {ex:?}");
    let built = tempfile::tempdir().unwrap();
    for path in ex {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../../schemas/stack.schema.json\n"),
            "{}: first line must be the schema hint",
            path.display()
        );
        let path = with_its_images(&path, built.path());
        let opts = stack::spec::LoadOptions {
            files: vec![path.clone()],
            ..Default::default()
        };
        let stack = stack::spec::load(&opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!stack.services.is_empty());
        stack::graph::DepGraph::new(&stack).unwrap();
        let errors: Vec<String> = v
            .iter_errors(&as_json(&path))
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn cola_wars_has_the_walkthrough_limits() {
    let opts = stack::spec::LoadOptions {
        files: vec![root().join("examples/cola-wars/stack.yaml")],
        ..Default::default()
    };
    let s = stack::spec::load(&opts).unwrap();
    assert_eq!(s.name, "cola-wars");
    for name in ["cocacola", "pepsi"] {
        let l = &s.services[name].limits;
        assert_eq!(l.cpus, Some(stack::spec::units::Cpus(50)));
        assert_eq!(l.memory, Some(stack::spec::units::Bytes(80 << 20)));
        assert_eq!(l.pids, Some(64));
        assert_eq!(
            s.services[name].command.as_deref(),
            Some(&["sleep".to_string(), "infinity".to_string()][..])
        );
    }
}

#[test]
fn interpolation_example_uses_dot_env() {
    let opts = stack::spec::LoadOptions {
        files: vec![root().join("examples/interpolation/stack.yaml")],
        ..Default::default()
    };
    let s = stack::spec::load(&opts).unwrap();
    let app = &s.services["app"];
    if std::env::var_os("GREETING").is_none() {
        assert_eq!(app.environment["GREETING"], "hello from .env");
    }
    assert_eq!(app.environment["LOG_LEVEL"], "info");
    assert!(app.command.as_ref().unwrap()[2].contains("echo $GREETING"));
}

#[test]
fn schema_rejects_what_the_loader_rejects() {
    let v = validator();
    let bad = serde_json::json!({"services": {"web": {"rootfs": "/", "comand": "x"}}});
    assert!(!v.is_valid(&bad));
    let bad = serde_json::json!({"services": {"web": {"image": "nginx", "build": "."}}});
    assert!(!v.is_valid(&bad));
    let bad = serde_json::json!({"services": {"web": {"rootfs": "/"}}, "networks": {"n": {"ipam": {"options": {}}}}});
    assert!(!v.is_valid(&bad));
    let bad = serde_json::json!({"services": {"web": {"rootfs": "/", "networks": {"n": {"gw_priority": 1}}}}});
    assert!(!v.is_valid(&bad));
    let good = serde_json::json!({"services": {"web": {"rootfs": {"host": ["/bin/sh"]}, "x-note": 1}}, "x-any": {}});
    assert!(
        v.is_valid(&good),
        "{:?}",
        v.iter_errors(&good)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
}
