//! Health probes: due ones are handed to the spawner, results go through
//! the plan's [`Tracker`](crate::plan::Tracker) into the plan's state. An
//! unhealthy container's restart is the planner's decision, not this room's.

use std::time::Duration;

use super::seams::ProbeJob;
use super::Sup;
use crate::engine::observe::record_health;
use crate::plan::HealthStatus;

impl Sup {
    pub(super) fn schedule_probes(&mut self) {
        let now = self.clock.now();
        let mut jobs = Vec::new();
        for (name, c) in self.ctrs.iter_mut() {
            if c.busy.is_some() || c.probe_busy || !c.obs.is_running() {
                continue;
            }
            let Some(hc) = c.obs.config.healthcheck.clone() else {
                continue;
            };
            if c.next_probe.is_none_or(|at| at > now) {
                continue;
            }
            let Some(pid) = c.rec.pid else { continue };
            c.probe_busy = true;
            let timeout = c.tracker.as_ref().map_or(hc.timeout.0, |t| t.timeout_ms());
            jobs.push(ProbeJob {
                service: name.clone(),
                gen: c.gen,
                pid,
                argv: hc.test.clone(),
                svc: c.obs.config.clone(),
                timeout: Duration::from_millis(timeout.max(100)),
            });
        }
        for job in jobs {
            self.spawner.probe(job);
        }
    }

    pub(super) fn on_health(&mut self, name: &str, gen: u64, ok: bool, output: String) {
        let now_ms = self.clock.unix_ms();
        let now = self.clock.now();
        let Some(c) = self.ctrs.get_mut(name) else {
            return;
        };
        c.probe_busy = false;
        if c.gen != gen || !c.obs.is_running() || c.busy.is_some() {
            return;
        }
        let Some(t) = c.tracker.as_mut() else {
            return;
        };
        let before = c.obs.health;
        t.on_result(ok, now_ms);
        // A container with a healthcheck is at least `starting`.
        let status = match t.status() {
            HealthStatus::None => HealthStatus::Starting,
            s => s,
        };
        c.next_probe = Some(super::instant_at(now, t.next_probe_at(), now_ms));
        c.obs.on_health(status);
        c.rec.health_output = Some(output.clone());
        self.save(name);
        if status != before {
            if let Some(h) = record_health(status) {
                self.emit(Some(name), h.as_str(), output);
            }
        }
    }
}
