//! `kill` and `top`: the processes of the project's running containers,
//! signalled or listed, from the state store and the cgroups (no
//! supervisor needed).

use serde::Serialize;

use super::{Project, ProjectError};
use crate::engine::ops;
use crate::spec::replicas;

/// One process of a container, as `top` lists it (host pids).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    pub pid: i32,
    pub ppid: i32,
    /// The real uid (`/proc/<pid>/status`).
    pub uid: u32,
    pub cmd: String,
}

/// A running container's processes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Top {
    /// Its label (`web`, `web-2`).
    pub service: String,
    pub processes: Vec<Process>,
}

impl Project {
    /// `stack kill [-s SIGNAL] [SERVICE…]`: `signal` (a name or number)
    /// to the main process (the init, which passes it on to the command)
    /// of each running container named; the signal's name and the labels
    /// of those signalled. What follows is the restart policy's, as after
    /// any exit.
    pub fn kill(
        &self,
        services: &[String],
        signal: &str,
    ) -> Result<(String, Vec<String>), ProjectError> {
        let Some(name) = crate::spec::normalize_signal(signal) else {
            return Err(ProjectError::BadSignal(signal.to_string()));
        };
        let signal = crate::runtime::stop::signal_number(&name);
        self.check_named(services)?;
        let mut done = Vec::new();
        let mut recs = self.records()?;
        recs.retain(|r| replicas::named(services, &r.service) && ops::rec_alive(r));
        recs.sort_by(|a, b| replicas::split(&a.service).cmp(&replicas::split(&b.service)));
        let units: Vec<String> = recs.iter().map(|r| r.service.clone()).collect();
        for (r, label) in recs.iter().zip(replicas::labels(&units)) {
            if let Some(pid) = r.pid {
                // SAFETY: kill with integer arguments; rec_alive checked the
                // pid is the recorded init (by its start time).
                if unsafe { libc::kill(pid, signal) } == 0 {
                    done.push(label);
                }
            }
        }
        Ok((name, done))
    }

    /// `stack top [SERVICE…]`: each running container's processes, by
    /// host pid.
    pub fn top(&self, services: &[String]) -> Result<Vec<Top>, ProjectError> {
        self.check_named(services)?;
        let mut recs = self.records()?;
        recs.retain(|r| replicas::named(services, &r.service) && ops::rec_alive(r));
        recs.sort_by(|a, b| replicas::split(&a.service).cmp(&replicas::split(&b.service)));
        let units: Vec<String> = recs.iter().map(|r| r.service.clone()).collect();
        let out = recs
            .iter()
            .zip(replicas::labels(&units))
            .map(|(r, service)| {
                let mut pids = crate::runtime::cgroup::Cgroup::open(&r.cgroup)
                    .map(|c| c.pids())
                    .unwrap_or_default();
                pids.sort_unstable();
                let processes = pids.into_iter().filter_map(process).collect();
                Top { service, processes }
            })
            .collect();
        Ok(out)
    }
}

/// What `/proc` says of `pid`; `None` once it is gone.
fn process(pid: i32) -> Option<Process> {
    let stat = crate::runtime::proc::stat(pid)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|u| u.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| crate::spec::printable(&String::from_utf8_lossy(a)))
        .collect();
    let cmd = if args.is_empty() {
        // A kernel thread or a zombie: its name, bracketed as ps does.
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        format!("[{}]", comm.trim())
    } else {
        args.join(" ")
    };
    Some(Process {
        pid,
        ppid: stat.ppid,
        uid,
        cmd,
    })
}
