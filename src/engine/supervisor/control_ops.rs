//! Requests from the control socket: `ps`, `events`, `stop`, `start`,
//! `restart`, `watch`, `down`, `reload`, `wait`. Each changes the intent or
//! queues stops, then waits (a [`Waiter`]) for the loop to get there.

use std::collections::BTreeSet;
use std::sync::mpsc::Sender;
use std::time::Duration;

use super::ctr::After;
use super::errors::RequestError;
use super::waiters::Waiter;
use super::Sup;
use crate::engine::control::{Op, Response};
use crate::plan::Goal;

impl Sup {
    pub(super) fn on_control(&mut self, op: Op, reply: Sender<Response>) {
        match op {
            Op::Ps => {
                let _ = reply.send(self.ps());
            }
            Op::Events => self.out.subscribers.push(reply),
            Op::Stop { services, timeout } => match self.select(&services) {
                Err(e) => {
                    let _ = reply.send(Response::err(e.to_string()));
                }
                Ok(names) => self.user_stop(names, timeout.map(Duration::from_secs), reply),
            },
            Op::Start { services } => match self.select(&services) {
                Err(e) => {
                    let _ = reply.send(Response::err(e.to_string()));
                }
                Ok(names) => {
                    let only = names.iter().cloned().collect();
                    // The kicked pass plans a user start; `Action::Start`
                    // then forgets the stop and the policy's counters.
                    self.intent.kicked.extend(names);
                    self.waiters
                        .push(Waiter::settle(Goal::Started, Some(only), None, reply));
                }
            },
            Op::Restart { services, timeout } => match self.select(&services) {
                Err(e) => {
                    let _ = reply.send(Response::err(e.to_string()));
                }
                Ok(names) => self.user_restart(names, timeout.map(Duration::from_secs), reply),
            },
            Op::Watch => self.on_watch_op(reply),
            Op::Down { timeout } => {
                self.stop_all(After::Remove, timeout.map(Duration::from_secs));
                self.waiters.push(Waiter::Down { reply });
            }
            Op::Reload { stack, options } => {
                self.emit(None, "reloaded", stack.file.display().to_string());
                self.apply(*stack, options);
                let mut r = self.ps();
                r.actions = self.last_actions.clone();
                let _ = reply.send(r);
            }
            Op::Wait {
                healthy,
                timeout_ms,
            } => {
                let goal = if healthy {
                    Goal::Healthy
                } else {
                    Goal::Started
                };
                let deadline = timeout_ms.map(|ms| self.clock.now() + Duration::from_millis(ms));
                self.waiters
                    .push(Waiter::settle(goal, None, deadline, reply));
            }
        }
    }

    fn user_stop(&mut self, names: Vec<String>, grace: Option<Duration>, reply: Sender<Response>) {
        for n in &names {
            if let Some(c) = self.ctrs.get_mut(n) {
                c.obs.on_user_stop();
                c.rec.next_restart_ms = None;
                self.queue_stop(n, After::Nothing, grace);
                self.save(n);
            }
            self.intent.kicked.remove(n);
        }
        self.waiters.push(Waiter::Stopped {
            services: names.into_iter().collect(),
            reply,
        });
    }

    fn user_restart(
        &mut self,
        names: Vec<String>,
        grace: Option<Duration>,
        reply: Sender<Response>,
    ) {
        let only: BTreeSet<String> = names.iter().cloned().collect();
        for n in names {
            let alive = self.ctrs.get(&n).is_some_and(|c| self.alive(c));
            if alive {
                if let Some(c) = self.ctrs.get_mut(&n) {
                    // A user's restart, as a user's start.
                    c.obs.on_user_start();
                }
                self.queue_stop(&n, After::Restart, grace);
            } else {
                self.intent.kicked.insert(n);
            }
        }
        self.waiters
            .push(Waiter::settle(Goal::Started, Some(only), None, reply));
    }

    /// The named services (all when none), or which name is unknown.
    fn select(&self, services: &[String]) -> Result<Vec<String>, RequestError> {
        if services.is_empty() {
            let mut all: Vec<String> = self.ctrs.keys().cloned().collect();
            for s in self.stack.services.keys() {
                if !all.contains(s) {
                    all.push(s.clone());
                }
            }
            return Ok(all);
        }
        // A service name selects each of its units (replicas).
        let mut out = Vec::new();
        for s in services {
            let before = out.len();
            let units = self.ctrs.keys().chain(self.stack.services.keys());
            for u in units.filter(|u| crate::spec::replicas::named(std::slice::from_ref(s), u)) {
                if !out.contains(u) {
                    out.push(u.clone());
                }
            }
            if out.len() == before && !self.stack.replicas.contains_key(s) {
                let mut names: Vec<String> = self
                    .stack
                    .replicas
                    .keys()
                    .cloned()
                    .chain(
                        self.stack
                            .services
                            .keys()
                            .map(|u| crate::spec::replicas::service_of(u).to_string()),
                    )
                    .collect();
                names.sort();
                names.dedup();
                return Err(RequestError::NoSuchService(crate::spec::no_such_service(
                    s, &names,
                )));
            }
        }
        Ok(out)
    }

    pub(super) fn ps(&self) -> Response {
        let reason = |a: &crate::plan::Action| a.report().unwrap_or_default();
        Response {
            containers: Some(self.ctrs.values().map(|c| c.rec.clone()).collect()),
            // One line per service: a service with a container is shown
            // by its record (a back-off by `next_restart_ms`).
            pending: self
                .pending
                .iter()
                .filter(|(k, _)| !self.ctrs.contains_key(*k))
                .map(|(k, a)| (k.clone(), reason(a)))
                .collect(),
            notes: self
                .pending
                .iter()
                .filter(|(k, a)| self.ctrs.contains_key(*k) && !a.is_backoff())
                .map(|(k, a)| (k.clone(), reason(a)))
                .collect(),
            supervisor_pid: Some(std::process::id() as i32),
            watch: self.watch,
            ..Response::ok()
        }
    }

    pub(super) fn stop_all(&mut self, after: After, grace: Option<Duration>) {
        self.shutdown = Some(after);
        // The watchers stop with the stack.
        self.stop_watching();
        let names: Vec<String> = self.ctrs.keys().cloned().collect();
        for n in names {
            self.queue_stop(&n, after, grace);
        }
    }
}
