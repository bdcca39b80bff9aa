//! Observe, plan, dispatch: each pass asks the planner and hands what can
//! run now to the [`Spawner`](super::seams::Spawner)'s workers. Starts and
//! stops are jobs; their answers come back as events.

use std::collections::BTreeMap;
use std::time::Duration;

use super::ctr::{After, Busy, Ctr, StopReq};
use super::seams::{StartJob, StopJob};
use super::Sup;
use crate::graph::DepGraph;
use crate::plan::{self, Action, Observed};
use crate::state::ContainerRecord;

impl Sup {
    /// The plan's state of every container, as the planner must see it now.
    pub(super) fn observed(&self) -> Observed {
        Observed {
            containers: self
                .ctrs
                .iter()
                .map(|(n, c)| (n.clone(), c.planned(self.to_stop.contains_key(n))))
                .collect(),
        }
    }

    /// Observe, plan, dispatch.
    pub(super) fn step(&mut self) {
        if self.shutdown.is_none() {
            let now_ms = self.clock.unix_ms();
            let opts = self.intent.plan_options(now_ms);
            let p = plan::diff(&self.stack, &self.observed(), &opts);
            self.wake_at = p
                .wake_at_ms
                .map(|w| self.clock.now() + Duration::from_millis(w.saturating_sub(now_ms)));
            self.pending.clear();
            // A kick lasts until the service is started or nothing is to be
            // done for it (it runs, or it is a finished job).
            let busy: Vec<String> = self
                .ctrs
                .iter()
                .filter(|(n, c)| c.busy.is_some() || self.to_stop.contains_key(*n))
                .map(|(n, _)| n.clone())
                .collect();
            let still: Vec<String> = p
                .actions
                .iter()
                .filter(|a| match a {
                    Action::Create { .. } | Action::Start { .. } | Action::Blocked { .. } => true,
                    Action::Wait { .. } => !a.is_backoff(),
                    _ => false,
                })
                .map(|a| a.service().to_string())
                .collect();
            self.intent
                .kicked
                .retain(|n| still.contains(n) || busy.contains(n));
            for a in p.actions {
                self.execute(a);
            }
        }
        self.dispatch_stops();
        self.schedule_probes();
        self.sync_networks();
    }

    /// Tell the networks which containers are live: a running one's
    /// names resolve and its ports are published; an exited one's not.
    fn sync_networks(&self) {
        let mut live = Vec::new();
        let mut starting = std::collections::BTreeSet::new();
        for c in self.ctrs.values() {
            if c.busy == Some(super::ctr::Busy::Starting) {
                starting.insert(c.rec.id.clone());
            } else if c.obs.is_running() && !c.rec.addresses.is_empty() {
                live.push(crate::engine::network::Entry {
                    service: c.rec.service.clone(),
                    id: c.rec.id.clone(),
                    addresses: c.rec.addresses.clone(),
                    ports: c.rec.ports.clone(),
                });
            }
        }
        self.spawner.net_sync(live, &starting);
    }

    /// Execute one of the plan's actions, or note one of its reports.
    fn execute(&mut self, a: Action) {
        let name = a.service().to_string();
        let line = a.to_string();
        match &a {
            Action::Wait { until_ms, .. } if a.is_backoff() => {
                if let Some(c) = self.ctrs.get_mut(&name) {
                    if c.rec.next_restart_ms != *until_ms {
                        c.rec.next_restart_ms = *until_ms;
                        self.save(&name);
                    }
                }
                self.pending.insert(name, a);
                return;
            }
            Action::Wait { .. } => {
                self.pending.insert(name, a);
                return;
            }
            Action::Blocked { .. } => {
                if self.out.reported.insert(line.clone()) {
                    eprintln!("{line}");
                }
                self.pending.insert(name, a);
                return;
            }
            Action::Orphan { .. } => {
                if self.out.reported.insert(line.clone()) {
                    eprintln!("{line}");
                    let why = a.report().unwrap_or_default();
                    self.emit(Some(&name), "orphan", why);
                }
                return;
            }
            _ => {}
        }
        let second_half =
            matches!(a, Action::Create { .. }) && self.intent.recreating.remove(&name);
        if !second_half {
            eprintln!("{line}");
            self.last_actions.push(line);
        }
        match a {
            Action::Create { .. } => self.create(&name),
            Action::Start { .. } => {
                if let Some(c) = self.ctrs.get_mut(&name) {
                    if c.obs.stopped_by_user {
                        c.obs.on_user_start();
                    }
                }
                self.start(&name);
            }
            Action::Restart { reason, policy, .. } => {
                let alive = self.ctrs.get(&name).is_some_and(|c| self.alive(c));
                if policy {
                    if let Some(c) = self.ctrs.get_mut(&name) {
                        c.obs.on_policy_restart();
                    }
                }
                self.emit(Some(&name), "restarting", reason);
                if alive {
                    self.queue_stop(&name, After::Restart, None);
                } else {
                    self.start(&name);
                }
            }
            Action::Recreate { .. } => {
                self.intent.force.remove(&name);
                self.queue_stop(&name, After::Recreate, None);
            }
            Action::Remove { .. } => self.queue_stop(&name, After::Remove, None),
            Action::Wait { .. } | Action::Blocked { .. } | Action::Orphan { .. } => {}
        }
    }

    pub(super) fn queue_stop(&mut self, name: &str, after: After, grace: Option<Duration>) {
        self.to_stop
            .insert(name.to_string(), StopReq { after, grace });
    }

    /// Whether the container's init runs (for the plan, and in fact).
    pub(super) fn alive(&self, c: &Ctr) -> bool {
        c.obs.is_running() && self.spawner.alive(&c.rec)
    }

    fn create(&mut self, name: &str) {
        let Some(svc) = self.stack.services.get(name).cloned() else {
            return;
        };
        let mut rec =
            ContainerRecord::new(&self.store.project, &svc, crate::spec::config_hash(&svc));
        rec.created_ms = self.clock.unix_ms();
        self.ctrs.insert(name.to_string(), Ctr::created(rec));
        // A container created by this `up` needs no forced recreate.
        self.intent.force.remove(name);
        self.save(name);
        self.emit(Some(name), "created", String::new());
        self.start(name);
    }

    /// Start (or restart) a container on a worker.
    pub(super) fn start(&mut self, name: &str) {
        self.intent.kicked.remove(name);
        let Some(svc) = self.stack.services.get(name).cloned() else {
            return;
        };
        self.gen += 1;
        let gen = self.gen;
        let Some(c) = self.ctrs.get_mut(name) else {
            return;
        };
        c.gen = gen;
        c.busy = Some(Busy::Starting);
        c.obs.on_start(svc.clone());
        c.rec.hash = crate::spec::config_hash(&svc);
        c.rec.error = None;
        c.rec.next_restart_ms = None;
        self.save(name);
        let running_pid = |p: &str| {
            self.ctrs
                .get(p)
                .filter(|o| o.obs.is_running())
                .and_then(|o| o.rec.pid)
        };
        let peer = match &svc.network_mode {
            crate::spec::NetworkMode::Service(p) => running_pid(p),
            _ => None,
        };
        let ipc_peer = match &svc.process.ipc {
            crate::spec::IpcMode::Service(p) => running_pid(p),
            _ => None,
        };
        let pid_peer = match &svc.process.pid {
            crate::spec::PidMode::Service(p) => running_pid(p),
            _ => None,
        };
        let ipc_shared = self
            .stack
            .services
            .values()
            .any(|s| matches!(&s.process.ipc, crate::spec::IpcMode::Service(x) if x == name));
        self.spawner.start(StartJob {
            service: name.to_string(),
            gen,
            svc,
            store: self.store.clone(),
            peer,
            ipc_peer,
            pid_peer,
            ipc_shared,
        });
    }

    /// Dispatch stop workers for `to_stop`, dependents first.
    pub(super) fn dispatch_stops(&mut self) {
        if self.to_stop.is_empty() {
            return;
        }
        let graph = DepGraph::lenient(&self.stack);
        let names: Vec<String> = self.to_stop.keys().cloned().collect();
        for name in names {
            let Some(c) = self.ctrs.get(&name) else {
                self.to_stop.remove(&name);
                continue;
            };
            if c.busy.is_some() {
                continue; // a start is stopped once it finished
            }
            if self.dependents_still_up(&graph, &name) {
                continue;
            }
            let after = self.to_stop[&name].after;
            if !self.alive(c) {
                self.to_stop.remove(&name);
                self.after_stop(&name, after, false);
                continue;
            }
            let grace = self.to_stop[&name]
                .grace
                .unwrap_or(c.rec.config.stop_grace_period.as_duration());
            let job = StopJob {
                service: name.clone(),
                gen: c.gen,
                pid: c.rec.pid,
                start_time: c.rec.start_time,
                cgroup: c.rec.cgroup.clone(),
                signal: crate::runtime::stop::signal_number(&c.rec.config.stop_signal),
                grace,
                clean: matches!(after, After::Remove | After::Recreate),
                store: self.store.clone(),
                pre_stop: (!c.rec.config.pre_stop.is_empty())
                    .then(|| Box::new(c.rec.config.clone())),
            };
            if let Some(c) = self.ctrs.get_mut(&name) {
                c.busy = Some(Busy::Stopping);
            }
            self.save(&name);
            self.spawner.stop(job);
        }
    }

    /// A dependent of `name` (by the graph) that is being stopped too and
    /// still runs, or has a worker: `name` waits for it.
    fn dependents_still_up(&self, graph: &DepGraph, name: &str) -> bool {
        graph.dependents(name).iter().any(|d| {
            self.to_stop.contains_key(d)
                && self
                    .ctrs
                    .get(d)
                    .is_some_and(|o| self.alive(o) || o.busy.is_some())
        })
    }

    /// What follows a stop; `cleaned`: the container's cgroup and files
    /// are gone already (the stop worker removed them).
    pub(super) fn after_stop(&mut self, name: &str, after: After, cleaned: bool) {
        match after {
            After::Nothing => self.save(name),
            // Counted (or not) when the restart was decided.
            After::Restart => self.start(name),
            After::Remove | After::Recreate => {
                if let Some(c) = self.ctrs.remove(name) {
                    if let Some(pid) = c.rec.pid {
                        self.spawner.forget(pid);
                    }
                    if !cleaned {
                        self.spawner.remove_files(&self.store, name, &c.rec.cgroup);
                    }
                    if after == After::Remove {
                        let _ = std::fs::remove_file(self.store.log_file(name));
                    }
                }
                let _ = self.store.remove_container(name);
                self.emit(Some(name), "removed", String::new());
                // The create is the second half of the planned recreate:
                // planned (so its dependencies are judged again now), but
                // not said again as an action of its own.
                if after == After::Recreate && self.shutdown.is_none() {
                    self.intent.recreating.insert(name.to_string());
                }
            }
        }
    }
}

/// Pending reports by service (wait, blocked), as `ps` shows them.
pub(super) type Pending = BTreeMap<String, Action>;
