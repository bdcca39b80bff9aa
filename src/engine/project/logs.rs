//! `logs` (from the log files, so logs outlive the supervisor), following a
//! running stack's output, and `events` (only while a supervisor runs).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use super::{Project, ProjectError};
use crate::engine::control::{Event, Op};
use crate::engine::logs::{self, Follower, LogLine};
use crate::engine::ops;
use crate::spec::replicas;

impl Project {
    /// Units (see `spec::replicas`) that have a log file or a record, sorted.
    pub(super) fn known_units(&self) -> Vec<String> {
        let store = &self.store;
        let mut names: Vec<String> = std::fs::read_dir(store.logs_dir())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let n = e.file_name().to_string_lossy().into_owned();
                        crate::state::stem_unit(n.strip_suffix(".log")?)
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
        names.sort_by(|a, b| replicas::split(a).cmp(&replicas::split(b)));
        names
    }

    /// The units `logs` shows: every replica of the named services, each of
    /// which must have a log (none named: every unit that has one).
    pub fn log_services(&self, named: &[String]) -> Result<Vec<String>, ProjectError> {
        self.check_named(named)?;
        let known = self.known_units();
        if named.is_empty() {
            return Ok(known);
        }
        let mut out = Vec::new();
        for s in named {
            let units: Vec<&String> = known
                .iter()
                .filter(|u| replicas::named(std::slice::from_ref(s), u))
                .collect();
            if units.is_empty() {
                let mut services: Vec<&str> =
                    known.iter().map(|u| replicas::service_of(u)).collect();
                services.dedup();
                return Err(ProjectError::NoLogs {
                    service: s.clone(),
                    project: self.store.project.clone(),
                    known: if services.is_empty() {
                        "none".to_string()
                    } else {
                        services.join(", ")
                    },
                });
            }
            out.extend(
                units
                    .into_iter()
                    .filter(|u| !out.contains(*u))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
        Ok(out)
    }

    /// Whether anything of the project still runs (to end `follow`).
    fn anything_runs(&self) -> bool {
        if self.supervisor().is_some() {
            return true;
        }
        self.store
            .containers()
            .map(|(recs, _)| recs.iter().any(ops::rec_alive))
            .unwrap_or(false)
    }

    /// `stack logs`: the last `tail` lines of each service's log (by time
    /// when every line has one) through `out`; with `follow`, then new
    /// lines until nothing of the project runs.
    pub fn logs(
        &self,
        services: &[String],
        tail: Option<usize>,
        follow: bool,
        out: &mut dyn FnMut(&str, &LogLine),
    ) -> Result<(), ProjectError> {
        let mut all = Vec::new();
        let mut offsets = Vec::new();
        for (s, label) in services.iter().zip(replicas::labels(services)) {
            let path = self.store.log_file(s);
            let (lines, consumed) = logs::read_lines(&path, tail)?;
            for l in lines {
                all.push((label.clone(), l));
            }
            offsets.push((label, path, consumed));
        }
        // Interleave by time when every line has one (JSON logs).
        if all.iter().all(|(_, l)| !l.time.is_empty()) {
            all.sort_by(|a, b| a.1.time.cmp(&b.1.time));
        }
        for (s, l) in &all {
            out(s, l);
        }
        if !follow {
            return Ok(());
        }
        let mut f = Follower::from_offsets(offsets);
        let mut checks = 0u32;
        loop {
            f.poll(&mut |s, l| out(s, &l));
            std::thread::sleep(Duration::from_millis(100));
            checks += 1;
            if checks.is_multiple_of(10) && !self.anything_runs() {
                f.poll(&mut |s, l| out(s, &l));
                return Ok(());
            }
        }
    }

    /// Foreground `up` against an already running supervisor: follow the
    /// output of `services` (every replica of each) from now until the
    /// stack stops or Ctrl-C.
    pub fn follow_all(&self, services: &[String], out: &mut dyn FnMut(&str, &LogLine)) {
        let mut units = self.log_services(&[]).unwrap_or_default();
        units.retain(|u| services.iter().any(|s| replicas::service_of(u) == s));
        let files: Vec<(String, PathBuf)> = replicas::labels(&units)
            .into_iter()
            .zip(&units)
            .map(|(label, u)| (label, self.store.log_file(u)))
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone());
        Follower::new(files, true).run(stop, &mut |s, l| out(s, &l));
    }

    /// `stack events`: every event of the running supervisor through `out`,
    /// until it closes the stream; an error when none runs.
    pub fn events(&self, out: &mut dyn FnMut(Event)) -> Result<(), ProjectError> {
        let Some(client) = self.supervisor() else {
            return Err(ProjectError::NoEvents(self.store.project.clone()));
        };
        client.stream(Op::Events, &mut |resp| {
            if let Some(ev) = resp.event {
                out(ev);
            }
            true
        })?;
        Ok(())
    }
}
