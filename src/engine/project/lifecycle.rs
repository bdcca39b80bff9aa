//! `stop`, `start`, `restart`: through the supervisor when it runs; else
//! `stop` acts directly (dependents first) and `start`/`restart` start a
//! supervisor for the named services.

use std::collections::HashMap;
use std::time::Duration;

use super::up::UpRequest;
use super::{Progress, Project, ProjectError};
use crate::engine::control::{Op, Response};
use crate::engine::{logs, ops};
use crate::graph::DepGraph;
use crate::spec::replicas::named;
use crate::spec::Stack;
use crate::state::{unix_now_ms, ContainerRecord, Status};

/// How a verb the supervisor answered ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// It did what was asked.
    Done,
    /// The supervisor refused or failed, with its reason.
    Refused(String),
}

impl Project {
    /// `stack stop [SERVICE...]` (`timeout`: seconds before SIGKILL,
    /// default each service's `stop_grace_period`); remembered until `start`.
    pub fn stop(&self, services: &[String], timeout: Option<u64>) -> Result<Answer, ProjectError> {
        self.check_named(services)?;
        let op = Op::Stop {
            services: services.to_vec(),
            timeout,
        };
        if let Some(a) = self.via_supervisor(op, services)? {
            return Ok(a);
        }
        let _lock = self.lock()?;
        self.stop_direct(services, timeout)?;
        Ok(Answer::Done)
    }

    /// `stack start [SERVICE...]`: clears the `stop` marks.
    pub fn start(&self, services: &[String]) -> Result<Answer, ProjectError> {
        self.check_named(services)?;
        let op = Op::Start {
            services: services.to_vec(),
        };
        if let Some(a) = self.via_supervisor(op, services)? {
            return Ok(a);
        }
        self.refuse_if_down("start")?;
        self.start_supervisor(services)
    }

    /// `stack restart [SERVICE...]`.
    pub fn restart(
        &self,
        services: &[String],
        timeout: Option<u64>,
    ) -> Result<Answer, ProjectError> {
        self.check_named(services)?;
        let op = Op::Restart {
            services: services.to_vec(),
            timeout,
        };
        if let Some(a) = self.via_supervisor(op, services)? {
            return Ok(a);
        }
        self.refuse_if_down("restart")?;
        {
            let _lock = self.lock()?;
            self.stop_direct(services, timeout)?;
        }
        self.start_supervisor(services)
    }

    /// As Compose: `start` and `restart` act on containers `up` made; a
    /// project that is down has none, and they do not bring it up.
    fn refuse_if_down(&self, verb: &'static str) -> Result<(), ProjectError> {
        if self.records()?.is_empty() {
            return Err(ProjectError::NothingTo {
                verb,
                project: self.store.project.clone(),
            });
        }
        Ok(())
    }

    /// Tell the services' states from a supervisor's answer.
    fn report(&self, resp: Response, services: &[String]) -> Answer {
        for c in resp.containers.iter().flatten() {
            if named(services, &c.service) {
                self.tell(Progress::Service {
                    service: crate::spec::replicas::display(&c.service),
                    state: c.state_text(),
                });
            }
        }
        match resp.ok {
            true => Answer::Done,
            false => Answer::Refused(resp.error.unwrap_or_default()),
        }
    }

    /// `None` when no supervisor runs.
    fn via_supervisor(&self, op: Op, services: &[String]) -> Result<Option<Answer>, ProjectError> {
        let Some(c) = self.supervisor() else {
            return Ok(None);
        };
        let resp = c.request(op, None)?;
        Ok(Some(self.report(resp, services)))
    }

    /// Stop directly (no supervisor), dependents first.
    fn stop_direct(&self, services: &[String], timeout: Option<u64>) -> Result<(), ProjectError> {
        let store = &self.store;
        let mut recs = self.records()?;
        for s in services {
            if !recs
                .iter()
                .any(|r| named(std::slice::from_ref(s), &r.service))
            {
                return Err(ProjectError::NoContainer {
                    service: s.clone(),
                    project: store.project.clone(),
                });
            }
        }
        recs.retain(|r| named(services, &r.service));
        for s in stop_order(&recs) {
            let Some(r) = recs.iter_mut().find(|r| r.service == s) else {
                continue;
            };
            let grace = timeout
                .map(Duration::from_secs)
                .unwrap_or(r.config.stop_grace_period.as_duration());
            let was_alive = ops::rec_alive(r);
            ops::stop_container(
                r.pid,
                r.start_time,
                &r.cgroup,
                ops::signal_number(&r.config.stop_signal),
                grace,
            );
            r.stopped_by_user = true;
            if was_alive || r.status == Status::Running {
                r.status = Status::Exited;
                r.exit_code = logs::recorded_exit_code(&store.log_file(&r.service));
                r.set_finished(unix_now_ms());
            }
            store.save_container(r)?;
            self.tell(Progress::Service {
                service: crate::spec::replicas::display(&r.service),
                state: r.state_text(),
            });
        }
        Ok(())
    }

    /// The file to start a supervisor with: this command's, else the one
    /// project.json names.
    fn stack_for_start(&self) -> Result<Stack, ProjectError> {
        let mut stack = match crate::spec::load(&self.load) {
            Ok(s) => s,
            Err(e) => {
                let (p, _) = self.store.load_project()?;
                let p = p.ok_or_else(|| ProjectError::NoFile(e.to_string()))?;
                let mut opts = self.load.clone();
                opts.files = match &p.stack {
                    Some(s) => s.files(),
                    None => vec![p.file.clone()],
                };
                opts.project_name = Some(self.store.project.clone());
                crate::spec::load(&opts)?
            }
        };
        self.resolve(&mut stack, crate::engine::image::Fetch::Policy)?;
        Ok(stack)
    }

    /// No supervisor: clear the `stop` marks and start one for these services.
    fn start_supervisor(&self, services: &[String]) -> Result<Answer, ProjectError> {
        let stack = self.stack_for_start()?;
        let _lock = self.lock()?;
        let (recs, _) = self.store.containers()?;
        for mut r in recs {
            if named(services, &r.service) {
                r.stopped_by_user = false;
                self.store.save_container(&r)?;
            }
        }
        let up = UpRequest {
            services: services.to_vec(),
            detach: true,
            no_deps: true,
            ..Default::default()
        };
        self.spawn_detached(&stack, &up)?;
        let resp = self
            .supervisor()
            .ok_or(ProjectError::SupervisorGone)?
            .request(
                Op::Wait {
                    healthy: false,
                    timeout_ms: None,
                },
                None,
            )?;
        Ok(self.report(resp, services))
    }
}

/// The order a direct stop goes in: a service once nothing left depends on
/// it (by `DepGraph`, over the services being stopped), ties in record
/// order, as the supervisor stops them.
fn stop_order(recs: &[ContainerRecord]) -> Vec<String> {
    let names: Vec<String> = recs.iter().map(|r| r.service.clone()).collect();
    // Dependencies outside the set are left out by the graph; records
    // written by different files that disagree into a cycle are cut.
    let services = recs
        .iter()
        .map(|r| (r.service.clone(), r.config.clone()))
        .collect();
    let graph = DepGraph::of_services(&services);
    // Height: 0 when nothing depends on it, else one more than its highest
    // dependent. The stop order lists dependents first, so each is known.
    let mut height: HashMap<String, usize> = HashMap::new();
    for s in graph.stop_order() {
        let h = graph
            .dependents(&s)
            .iter()
            .filter_map(|d| height.get(d))
            .map(|h| h + 1)
            .max()
            .unwrap_or(0);
        height.insert(s, h);
    }
    let mut order = names;
    // Stable: ties keep record order.
    order.sort_by_key(|s| height.get(s).copied().unwrap_or(0));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, deps: &[&str]) -> ContainerRecord {
        let mut svc = crate::engine::convert::tests::svc(name);
        for d in deps {
            svc.depends_on.insert(
                d.to_string(),
                crate::spec::Dependency {
                    condition: crate::spec::Condition::ServiceStarted,
                    restart: false,
                    required: true,
                },
            );
        }
        ContainerRecord::new("demo", &svc, "h".into())
    }

    #[test]
    fn dependents_stop_first_ties_by_name() {
        // b → a, c alone, d → b: c and d (by name), then b, then a.
        let recs = [
            rec("a", &[]),
            rec("b", &["a"]),
            rec("c", &[]),
            rec("d", &["b"]),
        ];
        assert_eq!(stop_order(&recs), ["c", "d", "b", "a"]);
    }

    #[test]
    fn dependencies_outside_the_set_are_ignored() {
        let recs = [rec("b", &["a"]), rec("c", &["b"])];
        assert_eq!(stop_order(&recs), ["c", "b"]);
    }
}
