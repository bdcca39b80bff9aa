//! `stack stop|start|restart [SERVICE...]`: through the supervisor when it
//! runs; else `stop` acts directly and `start`/`restart` start a supervisor.

use std::time::Duration;

use anyhow::{bail, Context};

use super::{GlobalArgs, ServicesArgs, UpArgs};
use crate::engine::control::{Client, Op, Response};
use crate::engine::ops;
use crate::state::{unix_now_ms, Status, Store};

fn report(resp: &Response, services: &[String]) {
    if let Some(cs) = &resp.containers {
        for c in cs {
            if services.is_empty() || services.contains(&c.service) {
                println!("{}  {}", c.service, c.state_text());
            }
        }
    }
}

fn via_supervisor(store: &Store, op: Op, services: &[String]) -> anyhow::Result<Option<i32>> {
    let Some(c) = Client::connect(&store.control_socket()) else {
        return Ok(None);
    };
    let resp = c.request(op, None)?;
    report(&resp, services);
    if !resp.ok {
        eprintln!("stack: {}", resp.error.unwrap_or_default());
        return Ok(Some(1));
    }
    Ok(Some(0))
}

/// Stop directly (no supervisor), dependents first.
fn stop_direct(store: &Store, services: &[String], timeout: Option<u64>) -> anyhow::Result<()> {
    let (mut recs, damage) = store.containers()?;
    for d in damage {
        eprintln!("stack: {d}");
    }
    for s in services {
        if !recs.iter().any(|r| &r.service == s) {
            bail!(
                "no such service: {s} (no container in project {})",
                store.project
            );
        }
    }
    recs.retain(|r| services.is_empty() || services.contains(&r.service));
    // Dependents first: a service goes once nothing left depends on it.
    let mut left: Vec<String> = recs.iter().map(|r| r.service.clone()).collect();
    while !left.is_empty() {
        let next: Vec<String> = left
            .iter()
            .filter(|s| {
                !recs
                    .iter()
                    .any(|r| left.contains(&r.service) && r.config.depends_on.contains_key(*s))
            })
            .cloned()
            .collect();
        let batch = if next.is_empty() { left.clone() } else { next };
        for s in &batch {
            let Some(r) = recs.iter_mut().find(|r| &r.service == s) else {
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
                r.exit_code = crate::engine::logs::recorded_exit_code(&store.log_file(&r.service));
                r.set_finished(unix_now_ms());
            }
            store.save_container(r)?;
            println!("{}  {}", r.service, r.state_text());
        }
        left.retain(|s| !batch.contains(s));
    }
    Ok(())
}

pub fn stop(global: &GlobalArgs, args: &ServicesArgs) -> anyhow::Result<i32> {
    let (store, _) = super::project(global)?;
    let op = Op::Stop {
        services: args.services.clone(),
        timeout: args.timeout,
    };
    if let Some(code) = via_supervisor(&store, op, &args.services)? {
        return Ok(code);
    }
    let _lock = store.lock(&|m| eprintln!("{m}"))?;
    stop_direct(&store, &args.services, args.timeout)?;
    Ok(0)
}

/// No supervisor: clear the `stop` marks and start one for these services.
fn start_supervisor(
    global: &GlobalArgs,
    store: &Store,
    services: &[String],
) -> anyhow::Result<i32> {
    let stack = crate::spec::load(&global.load_options()).or_else(|e| {
        // The file named in project.json, when -f does not find one.
        let (p, _) = store.load_project()?;
        let p = p.with_context(|| format!("{e}"))?;
        let mut opts = global.load_options();
        opts.file = Some(p.file.clone());
        opts.project_name = Some(store.project.clone());
        crate::spec::load(&opts).map_err(anyhow::Error::from)
    })?;
    let _lock = store.lock(&|m| eprintln!("{m}"))?;
    let (recs, _) = store.containers()?;
    for mut r in recs {
        if services.is_empty() || services.contains(&r.service) {
            r.stopped_by_user = false;
            store.save_container(&r)?;
        }
    }
    let up = UpArgs {
        services: services.to_vec(),
        detach: true,
        no_deps: true,
        ..Default::default()
    };
    let mut g = global.clone();
    g.file = Some(stack.file.clone());
    super::up::spawn_detached(&g, store, &stack, &up)?;
    let resp = Client::connect(&store.control_socket())
        .context("the supervisor went away")?
        .request(
            Op::Wait {
                healthy: false,
                timeout_ms: None,
            },
            None,
        )?;
    report(&resp, services);
    if !resp.ok {
        eprintln!("stack: {}", resp.error.unwrap_or_default());
        return Ok(1);
    }
    Ok(0)
}

pub fn start(global: &GlobalArgs, args: &ServicesArgs) -> anyhow::Result<i32> {
    let (store, _) = super::project(global)?;
    let op = Op::Start {
        services: args.services.clone(),
    };
    if let Some(code) = via_supervisor(&store, op, &args.services)? {
        return Ok(code);
    }
    start_supervisor(global, &store, &args.services)
}

pub fn restart(global: &GlobalArgs, args: &ServicesArgs) -> anyhow::Result<i32> {
    let (store, _) = super::project(global)?;
    let op = Op::Restart {
        services: args.services.clone(),
        timeout: args.timeout,
    };
    if let Some(code) = via_supervisor(&store, op, &args.services)? {
        return Ok(code);
    }
    {
        let _lock = store.lock(&|m| eprintln!("{m}"))?;
        stop_direct(&store, &args.services, args.timeout)?;
    }
    start_supervisor(global, &store, &args.services)
}
