//! `down`: through the supervisor when it runs, then always directly from
//! the state dir and the cgroups, so it also cleans up after a supervisor
//! that was killed.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Progress, Project, ProjectError};
use crate::engine::control::Op;
use crate::engine::ops;

/// How `down` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownOutcome {
    /// The project left nothing on disk or in the cgroups.
    NothingToRemove,
    /// Containers, cgroups and files are gone.
    Removed {
        /// The services whose containers went.
        services: BTreeSet<String>,
        /// Named volumes kept (no `volumes`), in this directory.
        kept_volumes: Option<PathBuf>,
        /// The volumes removed (with `volumes`).
        removed_volumes: Vec<String>,
    },
}

impl Project {
    /// `stack down` (`timeout`: seconds before SIGKILL; `volumes`: also
    /// remove named volumes).
    pub fn down(&self, timeout: Option<u64>, volumes: bool) -> Result<DownOutcome, ProjectError> {
        let store = &self.store;
        let cgroups = crate::runtime::cgroup::list(&format!("stack/{}", store.project));
        if !store.exists() && cgroups.is_empty() {
            return Ok(DownOutcome::NothingToRemove);
        }
        let _lock = self.lock()?;
        // What exists now is what `down` removes, whoever does it (the
        // supervisor or the direct clean-up below).
        let mut removed: BTreeSet<String> = store
            .containers()
            .map(|(recs, _)| recs.into_iter().map(|r| r.service).collect())
            .unwrap_or_default();
        if let Some(c) = self.supervisor() {
            let sup = store.supervisor_pid();
            match c.request(Op::Down { timeout }, None) {
                Ok(r) if !r.ok => self.tell(Progress::DownRefused(r.error.unwrap_or_default())),
                Ok(_) => {}
                Err(e) => self.tell(Progress::DownFailed(e.to_string())),
            }
            // Let it exit before its files go.
            if let Some(pid) = sup {
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline && crate::state::proc_start_time(pid).is_some() {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        let report = ops::down_direct(store, timeout.map(Duration::from_secs), volumes)?;
        for w in report.warnings {
            self.tell(Progress::Warning(w));
        }
        removed.extend(report.removed);
        let removed_volumes = report.volumes;
        let kept = std::fs::read_dir(store.volumes_dir()).is_ok_and(|mut d| d.next().is_some());
        Ok(DownOutcome::Removed {
            services: removed,
            kept_volumes: (!volumes && kept).then(|| store.volumes_dir()),
            removed_volumes,
        })
    }
}
