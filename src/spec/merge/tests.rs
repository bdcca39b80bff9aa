//! Compose's merge rules, one case each, on parsed trees.

use super::*;
use crate::spec::yaml::{parse, set_file};

fn merged(files: &[&str]) -> serde_json::Value {
    let mut it = files.iter().map(|f| parse(f).unwrap());
    let first = it.next().unwrap();
    strip(it.fold(first, merge_files)).to_json()
}

fn svc(files: &[&str]) -> serde_json::Value {
    merged(files)["services"]["a"].clone()
}

#[test]
fn maps_merge_and_scalars_are_replaced() {
    let a = svc(&[
        "services: { a: { image: x, restart: always, deploy: { resources: { limits: { memory: 1G, cpus: '1' } } } } }",
        "services: { a: { image: y, deploy: { resources: { limits: { memory: 2G } } } }, b: { image: z } }",
    ]);
    assert_eq!(a["image"], "y");
    assert_eq!(a["restart"], "always");
    assert_eq!(a["deploy"]["resources"]["limits"]["memory"], "2G");
    assert_eq!(a["deploy"]["resources"]["limits"]["cpus"], "1");
}

#[test]
fn command_entrypoint_and_healthcheck_test_are_replaced() {
    let a = svc(&[
        "services: { a: { command: [a, b], entrypoint: [sh], healthcheck: { test: [CMD, x], retries: 3 } } }",
        "services: { a: { command: [c], entrypoint: bash, healthcheck: { test: [CMD, y] } } }",
    ]);
    assert_eq!(a["command"], serde_json::json!(["c"]));
    assert_eq!(a["entrypoint"], "bash");
    assert_eq!(a["healthcheck"]["test"], serde_json::json!(["CMD", "y"]));
    assert_eq!(a["healthcheck"]["retries"], 3);
}

#[test]
fn environment_and_labels_merge_by_key_in_either_form() {
    let a = svc(&[
        "services: { a: { environment: [A=1, B=2, C], labels: { x: '1' } } }",
        "services: { a: { environment: { B: '3', D: '4' }, labels: { y: '2' } } }",
    ]);
    assert_eq!(
        a["environment"],
        serde_json::json!(["A=1", "B=3", "C", "D=4"])
    );
    assert_eq!(a["labels"], serde_json::json!({"x": "1", "y": "2"}));
    let a = svc(&[
        "services: { a: { extra_hosts: ['db:10.0.0.1', 'v6:::1'] } }",
        "services: { a: { extra_hosts: { db: 10.0.0.2 } } }",
    ]);
    assert_eq!(
        a["extra_hosts"],
        serde_json::json!(["db=10.0.0.2", "v6:::1"])
    );
}

#[test]
fn volumes_ports_secrets_merge_by_what_they_name() {
    let a = svc(&[
        "services: { a: { volumes: ['./a:/data', 'logs:/var/log:ro', /anon], ports: ['80:80', '443:443'], secrets: [pw, { source: key, target: /etc/key }] } }",
        "services: { a: { volumes: ['./b:/data/', { type: volume, source: logs2, target: /var/log }], ports: ['80:80', '8080:80'], secrets: [{ source: pw2, target: pw }, key2] } }",
    ]);
    assert_eq!(a["volumes"][0], "./b:/data/");
    assert_eq!(a["volumes"][1]["source"], "logs2");
    assert_eq!(a["volumes"][2], "/anon");
    assert_eq!(a["volumes"].as_array().unwrap().len(), 3);
    assert_eq!(
        a["ports"],
        serde_json::json!(["80:80", "443:443", "8080:80"])
    );
    assert_eq!(a["secrets"][0]["source"], "pw2");
    assert_eq!(a["secrets"][1]["target"], "/etc/key");
    assert_eq!(a["secrets"][2], "key2");
}

#[test]
fn other_lists_append_and_some_stay_unique() {
    let a = svc(&[
        "services: { a: { cap_add: [NET_ADMIN], dns: 1.1.1.1, tmpfs: ['/run:size=1m'], env_file: [a.env] } }",
        "services: { a: { cap_add: [NET_ADMIN, SYS_TIME], dns: [8.8.8.8], tmpfs: /run, env_file: [{ path: b.env }, a.env] } }",
    ]);
    assert_eq!(a["cap_add"], serde_json::json!(["NET_ADMIN", "SYS_TIME"]));
    assert_eq!(a["dns"], serde_json::json!(["1.1.1.1", "8.8.8.8"]));
    assert_eq!(a["tmpfs"], serde_json::json!(["/run"]));
    assert_eq!(
        a["env_file"],
        serde_json::json!(["a.env", {"path": "b.env"}])
    );
}

#[test]
fn depends_on_and_networks_lists_become_maps() {
    let a = svc(&[
        "services: { a: { depends_on: [db, cache], networks: [front] } }",
        "services: { a: { depends_on: { db: { condition: service_healthy } }, networks: { back: { aliases: [x] }, front: null } } }",
    ]);
    assert_eq!(a["depends_on"]["db"]["condition"], "service_healthy");
    assert!(a["depends_on"]["cache"].is_null());
    assert!(a["networks"]["front"].is_null());
    assert_eq!(a["networks"]["back"]["aliases"], serde_json::json!(["x"]));
    let a = svc(&[
        "services: { a: { networks: { n: { aliases: [x, y] } } } }",
        "services: { a: { networks: { n: { aliases: [y, z] } } } }",
    ]);
    assert_eq!(
        a["networks"]["n"]["aliases"],
        serde_json::json!(["x", "y", "z"])
    );
}

#[test]
fn reset_and_override_tags() {
    let a = svc(&[
        "services: { a: { ports: ['80:80'], environment: { A: '1', B: '2' }, labels: { x: '1' }, user: me } }",
        "services: { a: { ports: !reset [], environment: !override { C: '3' }, labels: { x: !reset }, user: !reset null } }",
    ]);
    assert!(a.get("ports").is_none(), "{a}");
    assert_eq!(a["environment"], serde_json::json!({"C": "3"}));
    assert!(a.get("user").is_none(), "{a}");
    // A label reset by key is removed.
    assert_eq!(a["labels"], serde_json::json!({}), "{a}");
    // In one file, `!reset` removes the key and `!override` is plain.
    let a = svc(&["services: { a: { image: x, user: !reset me, command: !override [a] } }"]);
    assert!(a.get("user").is_none(), "{a}");
    assert_eq!(a["command"], serde_json::json!(["a"]));
}

#[test]
fn ulimits_and_top_level_maps() {
    let m = merged(&[
        "services: { a: { ulimits: { nofile: { soft: 1, hard: 2 }, nproc: 5 } } }\nvolumes: { d: { labels: [a=1] } }\nname: one",
        "services: { a: { ulimits: { nofile: 9 } } }\nvolumes: { d: { labels: [a=2, b=3] }, e: {} }\nname: two",
    ]);
    assert_eq!(m["services"]["a"]["ulimits"]["nofile"], 9);
    assert_eq!(m["services"]["a"]["ulimits"]["nproc"], 5);
    assert_eq!(
        m["volumes"]["d"]["labels"],
        serde_json::json!(["a=2", "b=3"])
    );
    assert!(m["volumes"]["e"].is_object());
    assert_eq!(m["name"], "two");
}

#[test]
fn positions_come_from_the_file_that_gave_the_value() {
    let mut b = parse("services:\n  a:\n    image: y\n").unwrap();
    set_file(&mut b, 1);
    let a = parse("services:\n  a:\n    image: x\n    user: me\n").unwrap();
    let m = merge_files(a, b);
    let Kind::Map(top) = &m.kind else { panic!() };
    let Kind::Map(svcs) = &top[0].1.kind else {
        panic!()
    };
    let Kind::Map(keys) = &svcs[0].1.kind else {
        panic!()
    };
    assert_eq!(keys[0].1.pos.file, 1, "image from the second file");
    assert_eq!(keys[1].1.pos.file, 0, "user from the first");
}
