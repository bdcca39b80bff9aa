//! One container as the loop holds it: the plan's state machine
//! ([`ObservedContainer`], changed only through its transitions), the
//! record that is stored and shown (its status and counters projected from
//! the plan's state by [`Ctr::sync`]), and what the loop has in flight.

use std::time::{Duration, Instant};

use crate::engine::observe::{observe, record_health};
use crate::plan::{ObservedContainer, RunState, Tracker};
use crate::state::{ContainerRecord, Status};

/// An operation on a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Busy {
    Starting,
    Stopping,
}

/// What follows a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    Nothing,
    Remove,
    Recreate,
    Restart,
}

pub(super) struct StopReq {
    pub after: After,
    pub grace: Option<Duration>,
}

pub(super) struct Ctr {
    /// The plan's per-container state: the one state machine.
    pub obs: ObservedContainer,
    /// What is stored and shown: the runtime's facts (pid, cgroup, times,
    /// exit code, error) and, through `sync`, the plan's state.
    pub rec: ContainerRecord,
    /// Bumped with each start: answers for an older one are dropped.
    pub gen: u64,
    pub busy: Option<Busy>,
    pub probe_busy: bool,
    pub next_probe: Option<Instant>,
    /// The health state machine (the planner's, one implementation).
    pub tracker: Option<Tracker>,
}

impl Ctr {
    /// A container known from its stored record.
    pub fn from_record(rec: ContainerRecord) -> Ctr {
        Ctr {
            obs: observe(&rec),
            rec,
            gen: 0,
            busy: None,
            probe_busy: false,
            next_probe: None,
            tracker: None,
        }
    }

    /// A container being created now.
    pub fn created(rec: ContainerRecord) -> Ctr {
        let obs = ObservedContainer::new(rec.config.clone(), rec.created_ms);
        Ctr {
            obs,
            ..Ctr::from_record(rec)
        }
    }

    /// The plan's state as the planner must see it now: in flight while a
    /// worker starts or stops it, or a stop is queued.
    pub fn planned(&self, stop_queued: bool) -> ObservedContainer {
        if self.busy.is_some() || stop_queued {
            self.obs.in_flight()
        } else {
            self.obs.clone()
        }
    }

    /// Write the plan's state into the record (one direction only: the
    /// record never feeds back, except when a supervisor adopts it).
    pub fn sync(&mut self) {
        let (o, r) = (&self.obs, &mut self.rec);
        r.config = o.config.clone();
        r.created_ms = o.created_ms;
        r.restarts = o.restarts;
        r.backoff_level = o.backoff_level;
        r.stopped_by_user = o.stopped_by_user;
        r.completed = o.completed;
        r.deps_at_start = o.deps_at_start.clone();
        r.health = record_health(o.health);
        r.status = match (self.busy, &o.state) {
            (Some(Busy::Starting), _) | (None, RunState::Creating) => Status::Created,
            (Some(Busy::Stopping), _) => Status::Stopping,
            (None, RunState::Running { .. }) => Status::Running,
            (None, RunState::Exited { .. }) => Status::Exited,
            (None, RunState::Failed { .. }) => Status::Failed,
            // Stopped: by the user or by stack once it had run; else never
            // started yet.
            (None, RunState::Stopped) if r.started_at.is_some() => Status::Exited,
            (None, RunState::Stopped) => Status::Created,
        };
    }
}
