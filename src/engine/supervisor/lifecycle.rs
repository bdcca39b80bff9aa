//! A worker's or the kernel's answer about one container: started, failed
//! to start, exited, stopped. Each goes through the plan's transition for
//! it, then into the record.

use std::collections::BTreeMap;

use super::ctr::{After, Busy};
use super::Sup;
use crate::engine::logs;
use crate::plan::{Tracker, UNKNOWN_EXIT};

impl Sup {
    pub(super) fn on_started(
        &mut self,
        name: &str,
        gen: u64,
        result: Result<super::seams::Started, super::errors::StartError>,
    ) {
        let now_ms = self.clock.unix_ms();
        let now = self.clock.now();
        // What each dependency was when this started (for `restart: true`).
        let stamps: BTreeMap<String, u64> = self
            .ctrs
            .get(name)
            .map(|c| {
                c.obs
                    .config
                    .depends_on
                    .keys()
                    .filter_map(|d| self.ctrs.get(d).map(|o| (d.clone(), o.obs.created_ms)))
                    .collect()
            })
            .unwrap_or_default();
        let Some(c) = self.ctrs.get_mut(name) else {
            return;
        };
        if c.gen != gen {
            return;
        }
        c.busy = None;
        match result {
            Ok(started) => {
                let sp = started.spawned;
                c.rec.addresses = started.addresses;
                c.rec.ports = started.ports;
                c.rec.pid = Some(sp.pid);
                c.rec.start_time = Some(sp.start_time);
                c.rec.started_at = Some(now_ms / 1000);
                c.rec.finished_at = None;
                c.rec.finished_ms = None;
                c.rec.exit_code = None;
                c.rec.oom_killed = false;
                c.obs.on_started(sp.pid.max(0) as u32, now_ms, stamps);
                c.probe_busy = false;
                c.tracker = c
                    .obs
                    .config
                    .healthcheck
                    .as_ref()
                    .map(|h| Tracker::new(h, now_ms));
                c.next_probe = c
                    .tracker
                    .as_ref()
                    .map(|t| super::instant_at(now, t.next_probe_at(), now_ms));
                let stopped_by_user = c.obs.stopped_by_user;
                self.spawner.watch(sp.pid, false);
                self.save(name);
                self.emit(Some(name), "started", format!("pid {}", sp.pid));
                // `stack stop` while it was starting: stop it now.
                if stopped_by_user && !self.to_stop.contains_key(name) {
                    self.queue_stop(name, After::Nothing, None);
                }
            }
            Err(msg) => {
                let sentence = format!("service {name}: {msg}");
                c.rec.error = Some(sentence.clone());
                c.rec.set_finished(now_ms);
                c.obs.on_failed(sentence.clone(), now_ms);
                self.save(name);
                eprintln!("{sentence}");
                self.emit(Some(name), "failed", msg.to_string());
            }
        }
    }

    /// A container's init exited (`code` unknown for an adopted one).
    pub(super) fn on_exit(&mut self, pid: i32, code: Option<i32>) {
        let now_ms = self.clock.unix_ms();
        let Some(name) = self
            .ctrs
            .iter()
            .find(|(_, c)| c.rec.pid == Some(pid))
            .map(|(n, _)| n.clone())
        else {
            return;
        };
        // An adopted container is not our child: its init left the code in the log.
        let code = code.or_else(|| logs::recorded_exit_code(&self.store.log_file(&name)));
        let oom = self
            .ctrs
            .get(&name)
            .is_some_and(|c| c.obs.is_running() && self.spawner.oom_killed(&c.rec.cgroup));
        let Some(c) = self.ctrs.get_mut(&name) else {
            return;
        };
        if !c.obs.is_running() {
            // Marked exited already (by the stop worker's answer): note
            // the code, once.
            if c.rec.exit_code.is_none() {
                if let Some(code) = code {
                    c.rec.exit_code = Some(code);
                    c.obs.on_exit_code(code);
                    self.save(&name);
                }
            }
            return;
        }
        // Sharing a PID namespace, the init's end kills nothing by itself
        // (it kills its cgroup, but it may have been killed first): what
        // is left of the container goes now, before a restart.
        let shared_pid = self
            .stack
            .services
            .get(&name)
            .is_some_and(|s| !s.process.pid.is_default());
        if shared_pid {
            self.spawner.kill(&c.rec);
        }
        c.rec.exit_code = code;
        c.rec.set_finished(now_ms);
        c.rec.oom_killed = oom;
        c.obs.on_exited(code.unwrap_or(UNKNOWN_EXIT), oom, now_ms);
        c.probe_busy = false;
        c.next_probe = None;
        let detail = match code {
            Some(c) => format!("exit {c}"),
            None => "exit code unknown (adopted container)".into(),
        };
        self.save(&name);
        self.emit(Some(&name), "died", detail);
        if oom {
            self.emit(Some(&name), "oom", String::new());
        }
    }

    /// A stop worker finished (`cleaned`: it also removed the container's
    /// cgroup and files).
    pub(super) fn on_stopped(&mut self, name: &str, gen: u64, cleaned: bool) {
        let now_ms = self.clock.unix_ms();
        let Some(c) = self.ctrs.get_mut(name) else {
            return;
        };
        if c.gen != gen || c.busy != Some(Busy::Stopping) {
            return;
        }
        c.busy = None;
        if c.obs.is_running() {
            // The exit itself is not seen yet.
            c.rec.set_finished(now_ms);
            c.obs.on_stopped(now_ms);
        }
        self.save(name);
        self.emit(Some(name), "stopped", String::new());
        let after = self
            .to_stop
            .remove(name)
            .map(|r| r.after)
            .unwrap_or(After::Nothing);
        self.after_stop(name, after, cleaned);
    }
}
