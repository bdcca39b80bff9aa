//! Acting on a project's containers without the loop: removing a
//! container's files and `down` with no supervisor. The mechanics (stopping
//! a process tree through its cgroup, detaching mounts) are the runtime's
//! (`runtime::stop`, `runtime::mountinfo`). Used by the supervisor's
//! workers and by `project` (the CLI's API) when no supervisor runs.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use crate::runtime::cgroup::{self, Cgroup};
use crate::runtime::mountinfo;
use crate::state::{ContainerRecord, StateError, Store};

pub use crate::runtime::stop::{alive, kill_now, signal_number, stop_container};

/// Whether a record's container still runs.
pub fn rec_alive(rec: &ContainerRecord) -> bool {
    alive(rec.pid, rec.start_time)
}

/// Unmount everything under `dir` (lazily: a busy mount still goes).
pub fn unmount_under(dir: &Path) {
    let _ = mountinfo::unmount_under(dir);
}

/// Remove a container's cgroup and its overlay dirs (after it stopped).
pub fn remove_container_files(store: &Store, service: &str, cgroup_path: &str) {
    if let Some(c) = Cgroup::open(cgroup_path) {
        let _ = c.delete();
    }
    let bundle = store.bundle_dir(service);
    unmount_under(&bundle);
    let _ = std::fs::remove_dir_all(&bundle);
}

/// What `down` found and did, for its report.
#[derive(Debug, Default)]
pub struct DownReport {
    pub removed: Vec<String>,
    /// The volumes removed (with `volumes`): the project's own by key,
    /// machine volumes by name.
    pub volumes: Vec<String>,
    pub warnings: Vec<String>,
}

/// `down -v`: the project's own volumes go with its directory (listed
/// here), and the machine volumes its file made with `name:`, unless
/// another project's file names them too. External ones stay.
fn remove_volumes(store: &Store, report: &mut DownReport) {
    if let Ok(rd) = std::fs::read_dir(store.volumes_dir()) {
        let mut own: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        own.sort();
        report.volumes.extend(own);
    }
    let machine = crate::state::volumes::VolumeStore::new();
    for (name, external) in crate::state::volumes::machine_volumes(store) {
        let Ok(path) = machine.path(&name) else {
            continue;
        };
        if external || !path.is_dir() {
            continue;
        }
        let mut others = crate::state::volumes::users(&name);
        others.retain(|p| *p != store.project);
        if !others.is_empty() {
            report.warnings.push(format!(
                "kept volume {name}: project {} uses it too",
                others.join(", ")
            ));
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => report.volumes.push(name),
            Err(e) => report
                .warnings
                .push(format!("volume {name}: {}: {e}", path.display())),
        }
    }
}

/// `stack down` with no supervisor: find containers through the state dir
/// and the cgroups, stop them (grace `timeout`, else each service's own),
/// delete cgroups, mounts and files. Keeps named volumes unless `volumes`.
pub fn down_direct(
    store: &Store,
    timeout: Option<Duration>,
    volumes: bool,
) -> Result<DownReport, StateError> {
    let mut report = DownReport::default();
    let (recs, damage) = store.containers()?;
    for d in damage {
        report.warnings.push(d.to_string());
    }
    let mut seen = BTreeSet::new();
    // Stop in parallel; each has its own grace period.
    let handles: Vec<_> = recs
        .iter()
        .map(|r| {
            seen.insert(r.cgroup.clone());
            let (pid, st, cg) = (r.pid, r.start_time, r.cgroup.clone());
            let sig = signal_number(&r.config.stop_signal);
            let grace = timeout.unwrap_or(r.config.stop_grace_period.as_duration());
            std::thread::spawn(move || stop_container(pid, st, &cg, sig, grace))
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    // Containers whose record is lost: only their cgroup is left to find them by.
    for path in cgroup::list(&format!("stack/{}", store.project)) {
        if seen.insert(path.clone()) {
            stop_container(None, None, &path, libc::SIGKILL, Duration::ZERO);
            report.warnings.push(format!(
                "cgroup {path} had no state record; its processes were killed"
            ));
        }
        if let Some(c) = Cgroup::open(&path) {
            if let Err(e) = c.delete() {
                report.warnings.push(e.to_string());
            }
        }
    }
    for r in &recs {
        remove_container_files(store, &r.service, &r.cgroup);
        report.removed.push(r.service.clone());
    }
    unmount_under(&store.containers_dir());
    report.warnings.extend(super::network::teardown(store));
    if volumes {
        remove_volumes(store, &mut report);
    }
    store.remove_all(volumes)?;
    let _ = std::fs::remove_file(store.lock_file());
    let _ = std::fs::remove_dir(&store.run);
    Ok(report)
}
