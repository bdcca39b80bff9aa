//! `stack logs`: from the log files, so logs outlive the supervisor.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;

use super::{GlobalArgs, LogsArgs};
use crate::engine::control::Client;
use crate::engine::logs::{self, Follower, Prefixer};
use crate::engine::ops;
use crate::spec::Stack;
use crate::state::Store;

/// Services that have a log file or a record.
fn known_services(store: &Store) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store.logs_dir())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| {
                    let n = e.file_name().to_string_lossy().into_owned();
                    n.strip_suffix("-1.log").map(String::from)
                })
                .collect()
        })
        .unwrap_or_default();
    if let Ok((recs, _)) = store.containers() {
        for r in recs {
            if !names.contains(&r.service) {
                names.push(r.service);
            }
        }
    }
    names.sort();
    names
}

/// Whether anything of the project still runs (to end `-f`).
fn anything_runs(store: &Store) -> bool {
    if Client::connect(&store.control_socket()).is_some() {
        return true;
    }
    store
        .containers()
        .map(|(recs, _)| recs.iter().any(ops::rec_alive))
        .unwrap_or(false)
}

pub fn run(global: &GlobalArgs, args: &LogsArgs) -> anyhow::Result<i32> {
    let (store, _) = super::project(global)?;
    let known = known_services(&store);
    let services = if args.services.is_empty() {
        known.clone()
    } else {
        for s in &args.services {
            if !known.contains(s) {
                bail!(
                    "no logs for service {s} in project {} (known: {})",
                    store.project,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
        }
        args.services.clone()
    };
    let prefixer = Prefixer::new(&services, super::is_tty(1), args.timestamps);
    let mut all = Vec::new();
    let mut offsets = Vec::new();
    for s in &services {
        let path = store.log_file(s);
        let (lines, consumed) = logs::read_lines(&path, args.tail)?;
        for l in lines {
            all.push((s.clone(), l));
        }
        offsets.push((s.clone(), path, consumed));
    }
    // Interleave by time when every line has one (JSON logs).
    if all.iter().all(|(_, l)| !l.time.is_empty()) {
        all.sort_by(|a, b| a.1.time.cmp(&b.1.time));
    }
    for (s, l) in &all {
        logs::print_line(&prefixer.format(s, l));
    }
    if args.follow {
        let mut f = Follower::from_offsets(offsets);
        let mut checks = 0u32;
        loop {
            f.poll(&mut |s, l| logs::print_line(&prefixer.format(s, &l)));
            std::thread::sleep(Duration::from_millis(100));
            checks += 1;
            if checks.is_multiple_of(10) && !anything_runs(&store) {
                f.poll(&mut |s, l| logs::print_line(&prefixer.format(s, &l)));
                break;
            }
        }
    }
    Ok(0)
}

/// Foreground `up` against an already running supervisor: follow every
/// service's output until the stack stops or Ctrl-C.
pub fn follow_all(store: &Store, stack: &Stack) -> anyhow::Result<i32> {
    let names: Vec<String> = stack.services.keys().cloned().collect();
    let files: Vec<(String, PathBuf)> = names
        .iter()
        .map(|n| (n.clone(), store.log_file(n)))
        .collect();
    let prefixer = Prefixer::new(&names, super::is_tty(1), false);
    let stop = Arc::new(AtomicBool::new(false));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone());
    Follower::new(files, true).run(stop, &mut |s, l| logs::print_line(&prefixer.format(s, &l)));
    Ok(0)
}
