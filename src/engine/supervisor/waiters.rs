//! Requests waiting for the stack to get somewhere: `up` (started, or with
//! `--wait` healthy), `start`/`restart` (their services started), `stop`
//! (stopped), `down` (gone). Whether it got there is the plan's judgement
//! ([`plan::judge`]); this room only answers.

use std::collections::BTreeSet;
use std::sync::mpsc::Sender;
use std::time::Instant;

use super::Sup;
use crate::engine::control::Response;
use crate::plan::{self, Goal, Readiness};

pub(super) enum Waiter {
    /// Until the given services (all when `None`) have settled.
    Settle {
        goal: Goal,
        /// Only these services (`start`/`restart SERVICE...`).
        only: Option<BTreeSet<String>>,
        deadline: Option<Instant>,
        reply: Sender<Response>,
    },
    /// Until none of these is being stopped.
    Stopped {
        services: BTreeSet<String>,
        reply: Sender<Response>,
    },
    Down {
        reply: Sender<Response>,
    },
}

impl Waiter {
    pub fn settle(
        goal: Goal,
        only: Option<BTreeSet<String>>,
        deadline: Option<Instant>,
        reply: Sender<Response>,
    ) -> Waiter {
        Waiter::Settle {
            goal,
            only,
            deadline,
            reply,
        }
    }
}

impl Sup {
    /// Whether the services (all when `only` is `None`) have reached
    /// `goal`: `Ok`, `Err` naming each service that will not (once nothing
    /// of them is in flight any more), `Err(None)` while on their way.
    pub(super) fn settled(
        &self,
        goal: Goal,
        only: Option<&BTreeSet<String>>,
    ) -> Result<(), Option<String>> {
        let wanted = |n: &String| only.is_none_or(|o| o.contains(n));
        if self.to_stop.keys().any(wanted)
            || self.ctrs.iter().any(|(n, c)| wanted(n) && c.busy.is_some())
        {
            return Err(None);
        }
        let opts = self.intent.plan_options(self.clock.unix_ms());
        match plan::judge(&self.stack, &self.observed(), &opts, goal, only) {
            Readiness::Ready => Ok(()),
            Readiness::Pending(_) => Err(None),
            Readiness::Failed(why) => Err(Some(
                why.iter()
                    .map(|(n, w)| self.failure(n, w))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )),
        }
    }

    /// `service web: …`, with the last probe's output when unhealthy.
    fn failure(&self, name: &str, why: &str) -> String {
        if why.starts_with(&format!("service {name}: ")) {
            return why.to_string();
        }
        let output = self
            .ctrs
            .get(name)
            .and_then(|c| c.rec.health_output.as_deref());
        match output {
            Some(out) if why == "unhealthy" => format!("service {name}: unhealthy: {out}"),
            _ => format!("service {name}: {why}"),
        }
    }

    /// What is still awaited, for a timeout's message.
    fn awaited(&self, goal: Goal) -> String {
        let opts = self.intent.plan_options(self.clock.unix_ms());
        let list = match plan::judge(&self.stack, &self.observed(), &opts, goal, None) {
            Readiness::Pending(p) => p,
            _ => Vec::new(),
        };
        if list.is_empty() {
            return "the stack to settle".into();
        }
        list.iter()
            .map(|(n, why)| format!("{n} ({why})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) fn check_waiters(&mut self) {
        let now = self.clock.now();
        for w in std::mem::take(&mut self.waiters) {
            match w {
                Waiter::Settle {
                    goal,
                    only,
                    deadline,
                    reply,
                } => match self.settled(goal, only.as_ref()) {
                    Ok(()) => {
                        let _ = reply.send(self.ps());
                    }
                    Err(Some(e)) => {
                        let _ = reply.send(self.ps_failed(e));
                    }
                    Err(None) if deadline.is_some_and(|d| now >= d) => {
                        let e = format!("timed out waiting for: {}", self.awaited(goal));
                        let _ = reply.send(self.ps_failed(e));
                    }
                    Err(None) => self.waiters.push(Waiter::Settle {
                        goal,
                        only,
                        deadline,
                        reply,
                    }),
                },
                Waiter::Stopped { services, reply } => {
                    let busy = services.iter().any(|s| {
                        self.to_stop.contains_key(s)
                            || self.ctrs.get(s).is_some_and(|c| c.busy.is_some())
                    });
                    if busy {
                        self.waiters.push(Waiter::Stopped { services, reply });
                    } else {
                        let _ = reply.send(self.ps());
                    }
                }
                Waiter::Down { reply } => {
                    if self.done {
                        let _ = reply.send(Response::ok());
                    } else {
                        self.waiters.push(Waiter::Down { reply });
                    }
                }
            }
        }
    }

    fn ps_failed(&self, error: String) -> Response {
        let mut r = self.ps();
        r.ok = false;
        r.error = Some(error);
        r
    }

    /// The earliest deadline of a waiter.
    pub(super) fn waiters_deadline(&self) -> Option<Instant> {
        self.waiters
            .iter()
            .filter_map(|w| match w {
                Waiter::Settle { deadline, .. } => *deadline,
                _ => None,
            })
            .min()
    }
}
