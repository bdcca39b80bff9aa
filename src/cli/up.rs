//! `stack up`, `stack plan` / `up --dry-run`, and the hidden `__supervise`.

use std::collections::BTreeMap;

use super::{GlobalArgs, ScaleArgs, UpArgs};
use crate::engine::project::{
    ContainerRecord, Prefixer, Project, Settled, Status, UpOutcome, UpRequest,
};

fn request(args: &UpArgs) -> UpRequest {
    UpRequest {
        services: args.services.clone(),
        detach: args.detach,
        wait: args.wait,
        wait_timeout: args.wait_timeout,
        remove_orphans: args.remove_orphans,
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        no_deps: args.no_deps,
        watch: args.watch,
    }
}

pub fn run(global: &GlobalArgs, args: &UpArgs, plan_only: bool) -> anyhow::Result<i32> {
    // Every `up` sets the counts: the file's, or `--scale`'s over them.
    let scale: BTreeMap<String, u32> = args.scale.iter().cloned().collect();
    let project = super::project_of_file(global, &args.services)?.scale(scale);
    let req = request(args);
    if plan_only || args.dry_run {
        return dry_run(&project, &req);
    }
    match project.up(&req, super::is_tty(1))? {
        UpOutcome::Exited(code) => Ok(code),
        UpOutcome::Settled { settled, follow } => {
            let code = report(&settled);
            if follow {
                follow_all(&project);
            }
            Ok(code)
        }
    }
}

/// `stack scale SERVICE=N…`: `up -d` of those services with these counts
/// over the ones in force.
pub fn scale(global: &GlobalArgs, args: &ScaleArgs) -> anyhow::Result<i32> {
    let names: Vec<String> = args.services.iter().map(|(s, _)| s.clone()).collect();
    let project = super::project_of_file(global, &names)?;
    let mut counts = project.scale_in_force();
    counts.extend(args.services.iter().cloned());
    let project = project.scale(counts);
    let req = UpRequest {
        services: names,
        detach: true,
        wait: false,
        wait_timeout: None,
        remove_orphans: false,
        force_recreate: false,
        no_recreate: true,
        no_deps: args.no_deps,
        watch: false,
    };
    match project.up(&req, false)? {
        UpOutcome::Exited(code) => Ok(code),
        UpOutcome::Settled { settled, .. } => Ok(report(&settled)),
    }
}

/// The hidden verb a detached supervisor runs as.
pub fn supervise(global: &GlobalArgs, args: &UpArgs) -> anyhow::Result<i32> {
    let project = super::project_of_file(global, &[])?;
    Ok(project.supervise(&request(args))?)
}

/// Foreground `up` against an already running supervisor: follow every
/// service's output until the stack stops or Ctrl-C.
fn follow_all(project: &Project) {
    let names: Vec<String> = project
        .stack()
        .map(|s| s.services.keys().cloned().collect())
        .unwrap_or_default();
    let prefixer = Prefixer::new(&names, super::is_tty(1), false);
    project.follow_all(&names, &mut |s, l| {
        crate::engine::project::print_line(&prefixer.format(s, l))
    });
}

/// One line per service; non-zero when a service failed.
fn report(settled: &Settled) -> i32 {
    print_services(settled);
    match &settled.error {
        Some(e) => {
            eprintln!("stack: {e}");
            1
        }
        None => 0,
    }
}

fn print_services(settled: &Settled) {
    let cs = &settled.containers;
    let units: Vec<String> = cs
        .iter()
        .map(|c| c.service.clone())
        .chain(settled.pending.keys().cloned())
        .collect();
    let labels = crate::spec::replicas::labels(&units);
    let w = labels.iter().map(|l| l.len()).max().unwrap_or(0);
    for (c, l) in cs.iter().zip(&labels) {
        println!("{l:<w$}  {}", service_line(c));
    }
    for ((_, why), l) in settled.pending.iter().zip(&labels[cs.len()..]) {
        println!("{l:<w$}  not started: {why}");
    }
}

fn service_line(c: &ContainerRecord) -> String {
    let mut s = c.state_text();
    if c.status == Status::Running {
        if let Some(p) = c.pid {
            s.push_str(&format!(" (pid {p})"));
        }
        if let Some(h) = c.health {
            s.push_str(&format!(", {}", h.as_str()));
        }
    }
    if c.status == Status::Failed {
        if let Some(e) = &c.error {
            s = format!("failed: {e}");
        }
    }
    s
}

fn dry_run(project: &Project, req: &UpRequest) -> anyhow::Result<i32> {
    let dry = project.plan(req)?;
    if dry.up_to_date {
        for a in &dry.plan.actions {
            println!("{a}");
        }
        println!("nothing to do: the stack matches the file");
        return Ok(0);
    }
    println!("{}", dry.plan);
    Ok(0)
}
