//! A stored record as the planner sees it. The supervisor keeps each
//! container's [`ObservedContainer`] itself and changes it only through the
//! plan's transitions; this is for the moments it starts from records (a
//! supervisor adopting a stack, `stack plan` without a supervisor).

use crate::plan::{HealthStatus, ObservedContainer, RunState, UNKNOWN_EXIT};
use crate::state::{ContainerRecord, Health, Status};

/// `rec` as the planner sees it, with nothing in flight.
pub fn observe(rec: &ContainerRecord) -> ObservedContainer {
    let r = rec;
    let state = match r.status {
        Status::Running => RunState::Running {
            pid: r.pid.unwrap_or(0).max(0) as u32,
            since_ms: r.started_at.unwrap_or(0) * 1000,
        },
        Status::Exited if r.stopped_by_user => RunState::Stopped,
        Status::Exited => RunState::Exited {
            // Unknown (ended while no supervisor ran): not a success.
            code: r.exit_code.unwrap_or(UNKNOWN_EXIT),
            oom_killed: r.oom_killed,
            at_ms: r.finished_ms().unwrap_or(0),
        },
        Status::Failed => RunState::Failed {
            sentence: r.error.clone().unwrap_or_else(|| "could not start".into()),
            at_ms: r.finished_ms().unwrap_or(0),
        },
        Status::Created | Status::Stopping => RunState::Stopped,
    };
    ObservedContainer {
        service: r.service.clone(),
        config: r.config.clone(),
        created_ms: r.created_ms,
        state,
        health: health_status(r.health),
        restarts: r.restarts,
        backoff_level: r.backoff_level,
        stopped_by_user: r.stopped_by_user,
        completed: r.completed,
        deps_at_start: r.deps_at_start.clone(),
    }
}

/// A record's health as the planner sees it.
pub fn health_status(h: Option<Health>) -> HealthStatus {
    match h {
        None => HealthStatus::None,
        Some(Health::Starting) => HealthStatus::Starting,
        Some(Health::Healthy) => HealthStatus::Healthy,
        Some(Health::Unhealthy) => HealthStatus::Unhealthy,
    }
}

/// The planner's health as a record stores it.
pub fn record_health(h: HealthStatus) -> Option<Health> {
    match h {
        HealthStatus::None => None,
        HealthStatus::Starting => Some(Health::Starting),
        HealthStatus::Healthy => Some(Health::Healthy),
        HealthStatus::Unhealthy => Some(Health::Unhealthy),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::convert::tests::svc;

    #[test]
    fn a_user_stopped_exit_is_stopped_and_an_unseen_exit_is_unknown() {
        let mut rec = ContainerRecord::new("demo", &svc("web"), "h".into());
        rec.status = Status::Exited;
        let o = observe(&rec);
        assert!(matches!(
            o.state,
            RunState::Exited {
                code: UNKNOWN_EXIT,
                ..
            }
        ));
        rec.stopped_by_user = true;
        assert_eq!(observe(&rec).state, RunState::Stopped);
        rec.status = Status::Running;
        rec.pid = Some(42);
        rec.started_at = Some(3);
        assert_eq!(
            observe(&rec).state,
            RunState::Running {
                pid: 42,
                since_ms: 3000
            }
        );
    }

    #[test]
    fn health_maps_both_ways() {
        for h in [
            HealthStatus::None,
            HealthStatus::Starting,
            HealthStatus::Healthy,
            HealthStatus::Unhealthy,
        ] {
            assert_eq!(health_status(record_health(h)), h);
        }
    }
}
