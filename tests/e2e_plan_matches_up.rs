//! `stack plan` says what `stack up` does: for each scenario the plan is
//! printed first, then `up -d` runs with the same flags, and the actions it
//! executed (the lines the supervisor prints as it executes them, in
//! `<run>/<project>/supervisor.log`, plus `up`'s own stderr) must be the
//! plan's actions; the containers' pids then show it really happened.
//! Real binary, as root.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{find, pid_of, ps_json, root_or_skip, text, Project};

/// db, a one-shot job, and web depending on both.
const STACK: &str = r#"
services:
  db:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    environment: { SIZE: small }
  job:
    rootfs: {busybox}
    command: ["true"]
    restart: "no"
  web:
    rootfs: {busybox}
    command: ["sleep", "1000"]
    environment: { COLOR: red }
    depends_on:
      db: { condition: service_started }
      job: { condition: service_completed_successfully }
"#;

const ACTS: [&str; 5] = ["create", "recreate", "start", "restart", "remove"];
const REPORTS: [&str; 2] = ["orphan", "blocked"];

type Set = BTreeSet<(String, String)>;

/// The `(verb, service)` of every line `<verb> <service>: …` whose verb is
/// one of `verbs`; other lines (events, warnings, service lines) are skipped.
fn actions(out: &str, verbs: &[&str]) -> Set {
    out.lines()
        .filter_map(|l| {
            let (verb, rest) = l.trim().split_once(' ')?;
            let (service, _) = rest.split_once(": ")?;
            let ok = verbs.contains(&verb) && !service.is_empty() && !service.contains(' ');
            ok.then(|| (verb.to_string(), service.to_string()))
        })
        .collect()
}

fn set(items: &[(&str, &str)]) -> Set {
    items
        .iter()
        .map(|(v, s)| (v.to_string(), s.to_string()))
        .collect()
}

/// What `up` printed about what it did: its own stderr and what the
/// supervisor wrote to its log since `from` (the log's length before).
fn up_output(p: &Project, out: &std::process::Output, from: u64) -> String {
    let log = std::fs::read(supervisor_log(p)).unwrap_or_default();
    let from = if (log.len() as u64) < from { 0 } else { from };
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&log[from as usize..])
    )
}

fn supervisor_log(p: &Project) -> std::path::PathBuf {
    p.run.join(&p.name).join("supervisor.log")
}

fn log_len(p: &Project) -> u64 {
    std::fs::metadata(supervisor_log(p)).map_or(0, |m| m.len())
}

/// `stack plan <flags>`, then `stack up -d <flags>`; asserts up executed
/// exactly the plan's actions and reported its orphans/blocked the same
/// way. Returns the plan's acting actions.
fn plan_then_up(p: &Project, flags: &[&str]) -> Set {
    let plan = p.ok(&[&["plan"], flags].concat());
    let from = log_len(p);
    let out = p.run(&[&["up", "-d"], flags].concat());
    assert!(
        out.status.success(),
        "up -d {flags:?} failed\n{}",
        text(&out)
    );
    compare(p, flags, &plan, &up_output(p, &out, from))
}

/// up's executed actions: the lines it printed, one per action (a
/// recreate is one action, not a recreate and then a create).
fn executed(up: &str) -> Set {
    actions(up, &ACTS)
}

fn compare(p: &Project, flags: &[&str], plan: &str, up: &str) -> Set {
    let (planned, done) = (actions(plan, &ACTS), executed(up));
    assert_eq!(
        planned,
        done,
        "{flags:?}: plan and up differ\nplan:\n{plan}\nup:\n{up}\nps:\n{:#}",
        ps_json(p)
    );
    if planned.is_empty() {
        assert!(plan.contains("nothing to do"), "{flags:?}: {plan}");
    }
    assert_eq!(
        actions(plan, &REPORTS),
        actions(up, &REPORTS),
        "{flags:?}: plan and up report differently\nplan:\n{plan}\nup:\n{up}"
    );
    planned
}

fn pids(p: &Project) -> (i64, i64) {
    (pid_of(p, "db"), pid_of(p, "web"))
}

#[test]
fn plan_matches_up_across_scenarios() {
    if !root_or_skip("plan_matches_up_across_scenarios") {
        return;
    }
    let p = Project::new("e2e-planup", STACK);

    // (1) Fresh: everything is created, the job runs to completion.
    let did = plan_then_up(&p, &[]);
    assert_eq!(
        did,
        set(&[("create", "db"), ("create", "job"), ("create", "web")])
    );
    let ps = ps_json(&p);
    for s in ["db", "job", "web"] {
        assert!(find(&ps, s).is_some(), "{s} missing: {ps:#}");
    }
    let (db, web) = pids(&p);

    // (2) No change: nothing planned, nothing done, pids kept.
    let did = plan_then_up(&p, &[]);
    assert!(did.is_empty(), "{did:?}");
    assert_eq!(pids(&p), (db, web));

    // (3) An environment change on web: web alone is recreated.
    let v2 = STACK.replace("COLOR: red", "COLOR: blue");
    p.write(&v2);
    let did = plan_then_up(&p, &[]);
    assert_eq!(did, set(&[("recreate", "web")]));
    let web2 = pid_of(&p, "web");
    assert_eq!(pid_of(&p, "db"), db, "db must be kept");
    assert_ne!(web2, web, "web must be recreated");

    // (4) A stopped service is started again.
    p.ok(&["stop", "web"]);
    let did = plan_then_up(&p, &[]);
    assert_eq!(did, set(&[("start", "web")]));
    let web3 = pid_of(&p, "web");
    assert_ne!(web3, web2, "web must run again");
    assert_eq!(pid_of(&p, "db"), db);

    // (5) --force-recreate of one service: that service only.
    let did = plan_then_up(&p, &["--force-recreate", "db"]);
    assert_eq!(did, set(&[("recreate", "db")]));
    let db2 = pid_of(&p, "db");
    assert_ne!(db2, db, "db must be recreated");
    assert_eq!(pid_of(&p, "web"), web3, "web is not forced");

    // (6) A renamed service: the old one is an orphan, reported only;
    // with --remove-orphans it is removed.
    let v3 = v2.replace("  web:\n", "  www:\n");
    p.write(&v3);
    let plan = p.ok(&["plan"]);
    assert!(plan.contains("orphan web: not in the file"), "{plan}");
    let did = plan_then_up(&p, &[]);
    assert_eq!(did, set(&[("create", "www")]));
    assert_eq!(pid_of(&p, "web"), web3, "the orphan is kept");
    assert_eq!(pid_of(&p, "db"), db2);
    let www = pid_of(&p, "www");
    let did = plan_then_up(&p, &["--remove-orphans"]);
    assert_eq!(did, set(&[("remove", "web")]));
    let ps = ps_json(&p);
    assert!(find(&ps, "web").is_none(), "{ps:#}");
    assert_eq!(pid_of(&p, "www"), www);
    assert_eq!(pid_of(&p, "db"), db2);

    // (7) db and www both change; --no-deps www touches www only.
    let v4 = v3
        .replace("COLOR: blue", "COLOR: green")
        .replace("SIZE: small", "SIZE: large");
    p.write(&v4);
    let plan = p.ok(&["plan"]);
    assert!(plan.contains("recreate db:"), "{plan}");
    let did = plan_then_up(&p, &["--no-deps", "www"]);
    assert_eq!(did, set(&[("recreate", "www")]));
    assert_eq!(pid_of(&p, "db"), db2, "db is not touched with --no-deps");
    let www2 = pid_of(&p, "www");
    assert_ne!(www2, www);
    let env = p.ok(&["exec", "-T", "www", "sh", "-c", "echo $COLOR"]);
    assert_eq!(env.trim(), "green");

    p.ok(&["down", "-t", "1"]);
}

/// `plan --force-recreate` on a stack with dependencies promises to
/// recreate every service, and `up -d --force-recreate` does: each once,
/// dependencies first. (Before the engine used the plan's own options for
/// it, the dependent waited for ever for a recreate already done.)
#[test]
fn force_recreate_all_matches_plan() {
    if !root_or_skip("force_recreate_all_matches_plan") {
        return;
    }
    let p = Project::new("e2e-planup-force", STACK);
    p.ok(&["up", "-d"]);
    let (db, web) = pids(&p);
    let plan = p.ok(&["plan", "--force-recreate"]);
    let from = log_len(&p);
    let mut child = p
        .cmd(&["up", "-d", "--force-recreate"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let finished = child.try_wait().unwrap().is_some();
    if !finished {
        child.kill().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let up = up_output(&p, &out, from);
    let ps = ps_json(&p);
    assert!(
        finished,
        "up -d --force-recreate did not return within 60 s\nplan:\n{plan}\nup:\n{up}\nps:\n{ps:#}"
    );
    let did = compare(&p, &["--force-recreate"], &plan, &up);
    assert_eq!(
        did,
        set(&[("recreate", "db"), ("recreate", "job"), ("recreate", "web")])
    );
    assert_ne!(pid_of(&p, "db"), db);
    assert_ne!(pid_of(&p, "web"), web);
    p.ok(&["down", "-t", "1"]);
}
