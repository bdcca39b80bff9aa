//! `stack ps`: the engine's listing of the containers (from the supervisor
//! when it runs, else from the state store and the cgroups), printed.

use super::{Format, GlobalArgs, PsArgs};
use crate::engine::project::{Listing, Status};

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

const COLS: usize = 10;

/// `a,b`, or `-` for none.
fn dash_if_empty(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(",")
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
    let mut rows: Vec<[String; COLS]> = vec![[
        "SERVICE".into(),
        "STATE".into(),
        "PID".into(),
        "UPTIME".into(),
        "RESTARTS".into(),
        "HEALTH".into(),
        "CPU".into(),
        "MEMORY".into(),
        "ADDRESSES".into(),
        "PORTS".into(),
    ]];
    for r in &l.containers {
        let running = r.rec.status == Status::Running;
        // `web-1`, `web-2` for a service with replicas, else `web`.
        let replicated = l
            .containers
            .iter()
            .any(|o| o.rec.service == r.rec.service && o.replica > 1);
        rows.push([
            if replicated {
                format!("{}-{}", r.rec.service, r.replica)
            } else {
                r.rec.service.clone()
            },
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
            dash_if_empty(r.rec.addresses.iter().map(|a| a.address.to_string())),
            dash_if_empty(r.rec.ports.iter().map(|p| p.to_string())),
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
            "-".into(),
            "-".into(),
        ]);
    }
    let mut w = [0usize; COLS];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    for r in &rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i == COLS - 1 {
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

/// `stack port SERVICE PRIVATE_PORT[/PROTO]`.
pub fn port(global: &GlobalArgs, args: &super::PortArgs) -> anyhow::Result<i32> {
    let (num, proto) = match args.private_port.split_once('/') {
        Some((n, p)) => (n, p),
        None => (args.private_port.as_str(), args.protocol.as_str()),
    };
    let num: u16 = num.parse().map_err(|_| {
        anyhow::anyhow!(
            "invalid port {:?}: expected a number such as 80 or 53/udp",
            args.private_port
        )
    })?;
    println!(
        "{}",
        super::project(global)?.port(&args.service, num, proto)?
    );
    Ok(0)
}

pub fn run(global: &GlobalArgs, args: &PsArgs) -> anyhow::Result<i32> {
    let l = super::project(global)?.ps()?;
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
    use crate::engine::project::{ContainerRecord, Row};

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
                replica: 1,
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
