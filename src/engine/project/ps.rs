//! `ps`: the containers, from the supervisor when it runs, else from the
//! state store and the cgroups.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Project, ProjectError};
use crate::runtime::cgroup::{Cgroup, Pressure};
use crate::state::{unix_now, unix_now_ms, ContainerRecord, Status};

/// One row of `ps`, also its JSON form.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub rec: ContainerRecord,
    /// `running`, `exited (137, oom-killed)`, …
    pub state: String,
    pub uptime_s: Option<u64>,
    pub cpu_ns: Option<u64>,
    pub memory_bytes: Option<u64>,
    /// Whether a supervisor watches this container.
    pub supervised: bool,
    /// `privileged: true`: not confined beyond its namespaces.
    pub privileged: bool,
    /// Pressure stall information (cgroup v2): how much of the time its
    /// tasks waited for CPU, memory or I/O.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pressure: Option<Pressure>,
    /// Which replica of `service` this is (1 to its `replicas`); `id` is
    /// `<project>-<service>-<replica>`.
    pub replica: u32,
}

/// Everything `ps` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub project: String,
    pub supervisor_pid: Option<i32>,
    pub watch: bool,
    pub containers: Vec<Row>,
    /// Services not created yet, with why.
    pub pending: BTreeMap<String, String>,
}

impl Project {
    /// `stack ps`: every container with its state, usage and why it waits.
    pub fn ps(&self) -> Result<Listing, ProjectError> {
        let (recs, mut pending, notes, sup, watch) = match self.supervisor_ps()? {
            Some(r) => (
                r.containers.unwrap_or_default(),
                r.pending,
                r.notes,
                r.supervisor_pid,
                r.watch,
            ),
            None => {
                // Nobody watches the file without a supervisor.
                let recs = self.observe_direct()?.into_values().collect();
                (recs, BTreeMap::new(), BTreeMap::new(), None, false)
            }
        };
        let now = unix_now();
        let mut containers = recs
            .into_iter()
            .map(|rec| {
                let note = notes.get(&rec.service).map(String::as_str);
                row(rec, sup, note, now)
            })
            .collect::<Vec<Row>>();
        // By service, then replica number (web-2 before web-10).
        containers.sort_by(|a, b| (&a.rec.service, a.replica).cmp(&(&b.rec.service, b.replica)));
        // One line per unit, also with an older supervisor.
        pending.retain(|s, _| {
            let (svc, k) = crate::spec::replicas::split(s);
            !containers
                .iter()
                .any(|r| r.rec.service == svc && r.replica == k)
        });
        let pending = pending
            .into_iter()
            .map(|(s, why)| (crate::spec::replicas::display(&s), why))
            .collect();
        Ok(Listing {
            project: self.store.project.clone(),
            supervisor_pid: sup,
            watch,
            containers,
            pending,
        })
    }
}

impl Project {
    /// `stack port SERVICE PRIVATE_PORT`: the host address a container
    /// port is published on (Compose's `0.0.0.0:8080`).
    pub fn port(&self, service: &str, port: u16, proto: &str) -> Result<String, ProjectError> {
        self.check_named(&[service.to_string()])?;
        let listing = self.ps()?;
        let Some(row) = listing.containers.iter().find(|r| r.rec.service == service) else {
            return Err(ProjectError::NoContainer {
                service: service.to_string(),
                project: self.store.project.clone(),
            });
        };
        row.rec
            .ports
            .iter()
            .find(|p| p.container_port == port && p.proto == proto)
            .map(|p| {
                let ip = p.host_ip.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED);
                format!("{ip}:{}", p.host_port)
            })
            .ok_or_else(|| ProjectError::NotPublished {
                service: service.to_string(),
                port: format!("{port}/{proto}"),
            })
    }
}

/// One container's row: its state in words, and usage while it runs.
fn row(mut rec: ContainerRecord, sup: Option<i32>, note: Option<&str>, now: u64) -> Row {
    // Users see the service and the replica number, not the unit key.
    let (service, replica) = crate::spec::replicas::split(&rec.service);
    let service = service.to_string();
    rec.service = service;
    let running = rec.status == Status::Running;
    let cg = running.then(|| Cgroup::open(&rec.cgroup)).flatten();
    let stats = cg.as_ref().map(|c| c.stats());
    let pressure = cg.as_ref().and_then(|c| c.pressure());
    let mut state = rec.state_text();
    if running && sup.is_none() {
        state.push_str(" (unsupervised)");
    }
    if let (Status::Exited, Some(at), Some(_)) = (rec.status, rec.next_restart_ms, sup) {
        let now_ms = unix_now_ms();
        if at > now_ms {
            state.push_str(&format!(", restarting in {} ms", at - now_ms));
        }
    }
    if rec.status == Status::Exited && rec.exit_code.is_none() {
        state.push_str(" — exit code not observed: the container ended while no supervisor ran");
    }
    if rec.status == Status::Failed {
        if let Some(e) = &rec.error {
            state = format!("failed: {e}");
        }
    }
    if let Some(why) = note {
        state.push_str(&format!(" — {why}"));
    }
    Row {
        state,
        uptime_s: if running {
            rec.started_at.map(|s| now.saturating_sub(s))
        } else {
            None
        },
        cpu_ns: stats.map(|s| s.cpu_usage_ns),
        memory_bytes: stats.map(|s| s.memory_bytes),
        supervised: sup.is_some(),
        privileged: rec.config.security.privileged,
        pressure,
        replica,
        rec,
    }
}
