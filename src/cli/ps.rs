//! `stack ps`: the containers, from the supervisor when it runs, else from
//! the state store and the cgroups.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use super::{Format, GlobalArgs, PsArgs};
use crate::engine::control::{Client, Op};
use crate::runtime::cgroup::{Cgroup, Pressure};
use crate::state::{unix_now, ContainerRecord, Status, Store};

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

/// Gather the listing (used by `ps` and by tests).
pub fn listing(store: &Store) -> anyhow::Result<Listing> {
    let (recs, mut pending, notes, sup, watch) = match Client::connect(&store.control_socket()) {
        Some(c) => {
            let r = c.call(Op::Ps, Some(Duration::from_secs(10)))?;
            (
                r.containers.unwrap_or_default(),
                r.pending,
                r.notes,
                r.supervisor_pid,
                r.watch,
            )
        }
        None => {
            // Nobody watches the file without a supervisor.
            let recs = super::up::observe_direct(store)?.into_values().collect();
            (recs, BTreeMap::new(), BTreeMap::new(), None, false)
        }
    };
    let now = unix_now();
    let containers = recs
        .into_iter()
        .map(|rec| {
            let running = rec.status == Status::Running;
            let cg = running.then(|| Cgroup::open(&rec.cgroup)).flatten();
            let stats = cg.as_ref().map(|c| c.stats());
            let pressure = cg.as_ref().and_then(|c| c.pressure());
            let mut state = rec.state_text();
            if running && sup.is_none() {
                state.push_str(" (unsupervised)");
            }
            if let (Status::Exited, Some(at), Some(_)) = (rec.status, rec.next_restart_ms, sup) {
                let now_ms = crate::state::unix_now_ms();
                if at > now_ms {
                    state.push_str(&format!(", restarting in {} ms", at - now_ms));
                }
            }
            if rec.status == Status::Exited && rec.exit_code.is_none() {
                state.push_str(
                    " — exit code not observed: the container ended while no supervisor ran",
                );
            }
            if rec.status == Status::Failed {
                if let Some(e) = &rec.error {
                    state = format!("failed: {e}");
                }
            }
            if let Some(why) = notes.get(&rec.service) {
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
                rec,
            }
        })
        .collect::<Vec<Row>>();
    // One line per service, also with an older supervisor.
    pending.retain(|s, _| !containers.iter().any(|r| &r.rec.service == s));
    Ok(Listing {
        project: store.project.clone(),
        supervisor_pid: sup,
        watch,
        containers,
        pending,
    })
}

/// `3s`, `4m05s`, `2h03m`, `3d04h`.
pub fn human_duration(s: u64) -> String {
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        3600..=86399 => format!("{}h{:02}m", s / 3600, (s / 60) % 60),
        _ => format!("{}d{:02}h", s / 86400, (s / 3600) % 24),
    }
}

/// `512B`, `12.3MiB`.
pub fn human_bytes(b: u64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b}B")
    } else {
        format!("{v:.1}{}", U[i])
    }
}

/// The table, header first (supervisor and watch status on the first line).
pub fn table(l: &Listing) -> String {
    let mut out = String::new();
    match l.supervisor_pid {
        Some(p) => out.push_str(&format!(
            "project {}: supervisor running (pid {p}), {}\n",
            l.project,
            if l.watch { "watching the file" } else { "not watching the file" }
        )),
        None if l.containers.is_empty() && l.pending.is_empty() => {
            out.push_str(&format!("project {}: no containers\n", l.project));
            return out;
        }
        None => out.push_str(&format!(
            "project {}: no supervisor runs (containers are not supervised; `stack up` adopts them)\n",
            l.project
        )),
    }
    let mut rows: Vec<[String; 8]> = vec![[
        "SERVICE".into(),
        "STATE".into(),
        "PID".into(),
        "UPTIME".into(),
        "RESTARTS".into(),
        "HEALTH".into(),
        "CPU".into(),
        "MEMORY".into(),
    ]];
    for r in &l.containers {
        let running = r.rec.status == Status::Running;
        rows.push([
            r.rec.service.clone(),
            r.state.clone(),
            r.rec
                .pid
                .filter(|_| running)
                .map(|p| p.to_string())
                .unwrap_or("-".into()),
            r.uptime_s.map(human_duration).unwrap_or("-".into()),
            r.rec.restarts.to_string(),
            r.rec
                .health
                .map(|h| h.as_str().to_string())
                .unwrap_or("-".into()),
            r.cpu_ns
                .map(|n| format!("{:.2}s", n as f64 / 1e9))
                .unwrap_or("-".into()),
            r.memory_bytes.map(human_bytes).unwrap_or("-".into()),
        ]);
    }
    for (s, why) in &l.pending {
        rows.push([
            s.clone(),
            format!("not started: {why}"),
            "-".into(),
            "-".into(),
            "0".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ]);
    }
    let mut w = [0usize; 8];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    for r in &rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i == 7 {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<width$}  ", width = w[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn run(global: &GlobalArgs, args: &PsArgs) -> anyhow::Result<i32> {
    let (store, _) = super::project(global)?;
    let l = listing(&store)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&l)?),
        Format::Yaml => print!("{}", serde_yaml::to_string(&l)?),
        Format::Table => print!("{}", table(&l)),
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(245), "4m05s");
        assert_eq!(human_duration(7380), "2h03m");
        assert_eq!(human_bytes(512), "512B");
        assert_eq!(human_bytes(12 * 1024 * 1024 + 300 * 1024), "12.3MiB");
    }

    #[test]
    fn table_shows_supervisor_state_and_reasons() {
        let svc = crate::engine::convert::tests::svc("web");
        let mut rec = ContainerRecord::new("demo", &svc, "h".into());
        rec.status = Status::Exited;
        rec.exit_code = Some(137);
        rec.oom_killed = true;
        rec.restarts = 2;
        let l = Listing {
            project: "demo".into(),
            supervisor_pid: None,
            watch: false,
            containers: vec![Row {
                state: rec.state_text(),
                rec,
                uptime_s: None,
                cpu_ns: None,
                memory_bytes: None,
                supervised: false,
                privileged: false,
                pressure: None,
            }],
            pending: [(
                "api".to_string(),
                "waiting for db to be healthy".to_string(),
            )]
            .into(),
        };
        let t = table(&l);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].contains("no supervisor runs"), "{t}");
        assert!(lines[1].starts_with("SERVICE"), "{t}");
        assert!(lines[2].starts_with("web"), "{t}");
        assert!(lines[2].contains("exited (137, oom-killed)"), "{t}");
        assert!(
            lines[3].contains("not started: waiting for db to be healthy"),
            "{t}"
        );
        let j = serde_json::to_value(&l).unwrap();
        assert_eq!(j["containers"][0]["exit_code"], 137);
        assert_eq!(j["containers"][0]["oom_killed"], true);
        assert_eq!(j["containers"][0]["service"], "web");
    }
}
