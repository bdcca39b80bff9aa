//! `stack down`: through the supervisor when it runs, then always directly
//! from the state dir and the cgroups, so it also cleans up after a
//! supervisor that was killed.

use std::time::{Duration, Instant};

use super::{DownArgs, GlobalArgs};
use crate::engine::control::{Client, Op};
use crate::engine::ops;

pub fn run(global: &GlobalArgs, args: &DownArgs) -> anyhow::Result<i32> {
    let (store, _) = super::project(global)?;
    let cgroups = crate::runtime::cgroup::list(&format!("stack/{}", store.project));
    if !store.exists() && cgroups.is_empty() {
        eprintln!("nothing to remove for project {}", store.project);
        return Ok(0);
    }
    let _lock = store.lock(&|m| eprintln!("{m}"))?;
    // What exists now is what `down` removes, whoever does it (the
    // supervisor or the direct clean-up below).
    let mut removed: std::collections::BTreeSet<String> = store
        .containers()
        .map(|(recs, _)| recs.into_iter().map(|r| r.service).collect())
        .unwrap_or_default();
    if let Some(c) = Client::connect(&store.control_socket()) {
        let sup = store.supervisor_pid();
        match c.request(
            Op::Down {
                timeout: args.timeout,
            },
            None,
        ) {
            Ok(r) if !r.ok => eprintln!(
                "stack: the supervisor could not take the stack down ({}); cleaning up directly",
                r.error.unwrap_or_default()
            ),
            Ok(_) => {}
            Err(e) => eprintln!("stack: {e}; cleaning up directly"),
        }
        // Let it exit before its files go.
        if let Some(pid) = sup {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && crate::state::proc_start_time(pid).is_some() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    let report = ops::down_direct(&store, args.timeout.map(Duration::from_secs), args.volumes)?;
    for w in &report.warnings {
        eprintln!("stack: {w}");
    }
    removed.extend(report.removed.iter().cloned());
    for s in &removed {
        eprintln!("removed {s}");
    }
    let kept = std::fs::read_dir(store.volumes_dir()).is_ok_and(|mut d| d.next().is_some());
    if !args.volumes && kept {
        eprintln!(
            "kept named volumes in {} (remove them with `stack down -v`)",
            store.volumes_dir().display()
        );
    }
    Ok(0)
}
