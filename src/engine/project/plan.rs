//! `plan` / `up --dry-run`, and how the CLI's verbs observe the stack: the
//! supervisor's view when it runs, else the records checked for liveness.

use std::collections::BTreeMap;
use std::time::Duration;

use super::up::UpRequest;
use super::{Project, ProjectError};
use crate::engine::control::{Op, Response};
use crate::engine::{logs, ops};
use crate::plan::{Action, Plan, PlanOptions};
use crate::state::{ContainerRecord, Status};

/// What `up` would do.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRun {
    /// The actions, in order, each with its reason.
    pub plan: Plan,
    /// Nothing would change: every action is an orphan only reported.
    pub up_to_date: bool,
}

impl Project {
    /// `stack plan`: the plan `up` with `req` would execute; changes nothing.
    pub fn plan(&self, req: &UpRequest) -> Result<DryRun, ProjectError> {
        let stack = self.stack_with(crate::engine::image::Fetch::Present)?;
        let recs: Vec<ContainerRecord> = match self.supervisor_ps()? {
            Some(r) => r.containers.unwrap_or_default(),
            None => self.observe_direct()?.into_values().collect(),
        };
        let opts = PlanOptions {
            targets: req.services.clone(),
            no_deps: req.no_deps,
            force_recreate: req.force_recreate,
            no_recreate: req.no_recreate,
            remove_orphans: req.remove_orphans,
            explicit: true,
            explicit_only: None,
            force_only: None,
            now_ms: crate::state::unix_now_ms(),
        };
        let plan = crate::plan::diff(&stack, &observe(recs), &opts);
        let up_to_date = plan.executable().next().is_none()
            && plan
                .actions
                .iter()
                .all(|a| matches!(a, Action::Orphan { .. }));
        Ok(DryRun { plan, up_to_date })
    }

    /// The supervisor's answer to `ps`, if one runs.
    pub(super) fn supervisor_ps(&self) -> Result<Option<Response>, ProjectError> {
        match self.supervisor() {
            Some(c) => Ok(Some(c.call(Op::Ps, Some(Duration::from_secs(10)))?)),
            None => Ok(None),
        }
    }

    /// The containers without a supervisor: records, and a container whose
    /// process is gone counted as exited (with the code its log recorded).
    pub(super) fn observe_direct(&self) -> Result<BTreeMap<String, ContainerRecord>, ProjectError> {
        Ok(self
            .records()?
            .into_iter()
            .map(|mut r| {
                if matches!(
                    r.status,
                    Status::Running | Status::Stopping | Status::Created
                ) && !ops::rec_alive(&r)
                {
                    r.status = Status::Exited;
                    r.exit_code = logs::recorded_exit_code(&self.store.log_file(&r.service));
                }
                (r.service.clone(), r)
            })
            .collect())
    }
}

/// Records as the planner sees them (nothing is in flight without a
/// supervisor; with one, `ps` answered from its own records).
fn observe(recs: Vec<ContainerRecord>) -> crate::plan::Observed {
    crate::plan::Observed {
        containers: recs
            .into_iter()
            .map(|r| (r.service.clone(), crate::engine::observe::observe(&r)))
            .collect(),
    }
}
