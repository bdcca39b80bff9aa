//! A new supervisor takes over what an earlier one left: live containers
//! are adopted (same pid, no restart), dead ones noted as exited, and a
//! container whose record was lost is rebuilt from its cgroup.

use super::ctr::Ctr;
use super::Sup;
use crate::engine::observe::health_status;
use crate::plan::Tracker;
use crate::state::{ContainerRecord, Status};

impl Sup {
    /// Read the store: adopt live containers, note the dead ones.
    pub(super) fn adopt(&mut self) {
        let (recs, damage) = match self.store.containers() {
            Ok(v) => v,
            Err(e) => {
                eprintln!("stack: {e}");
                (Vec::new(), Vec::new())
            }
        };
        for d in damage {
            eprintln!("stack: {d}");
        }
        let now_ms = self.clock.unix_ms();
        for mut rec in recs {
            let name = rec.service.clone();
            if matches!(
                rec.status,
                Status::Running | Status::Stopping | Status::Created
            ) {
                if self.spawner.alive(&rec) {
                    rec.status = Status::Running;
                    if let Some(pid) = rec.pid {
                        self.spawner.watch(pid, true);
                    }
                    eprintln!(
                        "stack: adopted {name} (pid {})",
                        rec.pid.unwrap_or_default()
                    );
                } else {
                    rec.status = Status::Exited;
                    rec.exit_code = None;
                    rec.finished_at.get_or_insert(now_ms / 1000);
                }
            }
            let mut c = Ctr::from_record(rec);
            if c.rec.health.is_some() && c.obs.is_running() {
                c.next_probe = Some(self.clock.now());
                c.tracker = c.obs.config.healthcheck.as_ref().map(|hc| {
                    let started_ms = c.rec.started_at.unwrap_or(0).saturating_mul(1000);
                    Tracker::new(hc, started_ms).resumed(health_status(c.rec.health))
                });
            }
            self.ctrs.insert(name.clone(), c);
            self.save(&name);
        }
        self.rebuild_lost();
    }

    /// Containers whose record was lost: rebuilt from their cgroup.
    fn rebuild_lost(&mut self) {
        for (name, pid, start_time) in self.spawner.cgroup_inits(&self.store.project) {
            if self.ctrs.contains_key(&name) {
                continue;
            }
            let Some(svc) = self.stack.services.get(&name).cloned() else {
                continue;
            };
            let mut rec =
                ContainerRecord::new(&self.store.project, &svc, crate::spec::config_hash(&svc));
            rec.pid = Some(pid);
            rec.start_time = start_time;
            rec.status = Status::Running;
            rec.started_at = Some(self.clock.unix_ms() / 1000);
            self.spawner.watch(pid, true);
            eprintln!("stack: rebuilt the record of {name} from its cgroup (pid {pid})");
            self.ctrs.insert(name.clone(), Ctr::from_record(rec));
            self.save(&name);
        }
    }
}
