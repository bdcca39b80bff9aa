//! `stack up`, `stack plan` / `up --dry-run`, and the hidden `__supervise`.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::{GlobalArgs, UpArgs};
use crate::engine::control::{Client, Op, Response, UpOptions};
use crate::engine::{ops, supervisor};
use crate::spec::Stack;
use crate::state::{ContainerRecord, Status, Store};

fn options(args: &UpArgs) -> UpOptions {
    UpOptions {
        services: args.services.clone(),
        remove_orphans: args.remove_orphans,
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        no_deps: args.no_deps,
    }
}

fn check_services(stack: &Stack, services: &[String]) -> anyhow::Result<()> {
    for s in services {
        if !stack.services.contains_key(s) {
            let names: Vec<&str> = stack.services.keys().map(|k| k.as_str()).collect();
            bail!(
                "no such service: {s} (the file {} has: {})",
                stack.file.display(),
                names.join(", ")
            );
        }
    }
    Ok(())
}

pub fn run(global: &GlobalArgs, args: &UpArgs, plan_only: bool) -> anyhow::Result<i32> {
    let stack = crate::spec::load(&global.load_options())?;
    check_services(&stack, &args.services)?;
    let store = Store::new(&stack.name)?;
    if plan_only || args.dry_run {
        return dry_run(&store, &stack, args);
    }
    let lock = store.lock(&|m| eprintln!("{m}"))?;
    if let Some(client) = Client::connect(&store.control_socket()) {
        // A supervisor runs: hand it the file.
        let resp = client.call(
            Op::Reload {
                stack: Box::new(stack.clone()),
                options: options(args),
            },
            None,
        )?;
        if resp.actions.is_empty() {
            eprintln!("nothing to do: the stack is up to date");
        }
        if args.watch && !resp.watch {
            super::watch::start(&store)?;
        }
        let code = wait_and_report(&store, args)?;
        drop(lock);
        if !args.detach && code == 0 {
            return super::logs::follow_all(&store, &stack);
        }
        return Ok(code);
    }
    if args.detach {
        spawn_detached(global, &store, &stack, args)?;
        let code = wait_and_report(&store, args)?;
        drop(lock);
        return Ok(code);
    }
    // Foreground: this process is the supervisor.
    let cfg = supervisor::Config {
        store: store.clone(),
        load: Some(reload_options(global, &stack)),
        stack,
        options: options(args),
        foreground: true,
        colour: super::is_tty(1),
        watch: args.watch,
        on_start: None,
    };
    let lock = std::sync::Mutex::new(Some(lock));
    let code = supervisor::run(
        cfg,
        Box::new(move |r| {
            if let Ok(mut l) = lock.lock() {
                l.take();
            }
            if let Err(e) = r {
                eprintln!("stack: {e}");
            }
        }),
    )?;
    Ok(code)
}

/// How the supervisor re-reads the file when it watches it: this file and
/// project, the same profiles, and `--env-file` made absolute (the
/// detached supervisor runs in the stack's directory).
fn reload_options(global: &GlobalArgs, stack: &Stack) -> crate::spec::LoadOptions {
    let mut opts = global.load_options();
    opts.file = Some(stack.file.clone());
    opts.project_name = Some(stack.name.clone());
    opts.env_file = opts.env_file.map(|e| std::path::absolute(&e).unwrap_or(e));
    opts
}

/// The hidden verb a detached supervisor runs as.
pub fn supervise(global: &GlobalArgs, args: &UpArgs) -> anyhow::Result<i32> {
    let stack = crate::spec::load(&global.load_options())?;
    let store = Store::new(&stack.name)?;
    let cfg = supervisor::Config {
        store,
        load: Some(reload_options(global, &stack)),
        stack,
        options: options(args),
        foreground: false,
        colour: false,
        watch: args.watch,
        on_start: None,
    };
    let code = supervisor::run(
        cfg,
        Box::new(|r| match r {
            Ok(()) => eprintln!("stack: the stack has settled"),
            Err(e) => eprintln!("stack: {e}"),
        }),
    )?;
    Ok(code)
}

/// Start `stack __supervise` in its own session, output to
/// `<run>/<project>/supervisor.log`, and wait until its socket answers.
pub fn spawn_detached(
    global: &GlobalArgs,
    store: &Store,
    stack: &Stack,
    args: &UpArgs,
) -> anyhow::Result<()> {
    store.init()?;
    let log_path = store.supervisor_log();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("{}", log_path.display()))?;
    let exe = std::env::current_exe().context("cannot find the stack binary")?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("-f").arg(&stack.file).arg("-p").arg(&stack.name);
    for p in &global.profiles {
        cmd.arg("--profile").arg(p);
    }
    if let Some(e) = &global.env_file {
        // Absolute: the supervisor runs in the stack's directory.
        cmd.arg("--env-file")
            .arg(std::path::absolute(e).unwrap_or_else(|_| e.clone()));
    }
    for _ in 0..global.verbose {
        cmd.arg("--verbose");
    }
    cmd.arg("__supervise");
    if args.remove_orphans {
        cmd.arg("--remove-orphans");
    }
    if args.force_recreate {
        cmd.arg("--force-recreate");
    }
    if args.no_recreate {
        cmd.arg("--no-recreate");
    }
    if args.no_deps {
        cmd.arg("--no-deps");
    }
    if args.watch {
        cmd.arg("--watch");
    }
    cmd.args(&args.services);
    cmd.current_dir(&stack.dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().context("cannot start the supervisor")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if Client::connect(&store.control_socket()).is_some() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(10).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "the supervisor exited ({status}) before it was ready; its log {}:\n{}",
                log_path.display(),
                tail.join("\n")
            );
        }
        if Instant::now() > deadline {
            bail!(
                "the supervisor did not answer within 30 s; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Ask the supervisor to tell when the stack settled, then print one line
/// per service. Non-zero when a service failed.
fn wait_and_report(store: &Store, args: &UpArgs) -> anyhow::Result<i32> {
    let client = Client::connect(&store.control_socket()).context("the supervisor went away")?;
    let timeout_ms = args.wait_timeout.map(|s| s * 1000);
    let resp = client.request(
        Op::Wait {
            healthy: args.wait,
            timeout_ms,
        },
        None,
    )?;
    print_services(&resp);
    match resp.error {
        Some(e) if !resp.ok => {
            eprintln!("stack: {e}");
            Ok(1)
        }
        _ => Ok(0),
    }
}

fn print_services(resp: &Response) {
    let Some(cs) = &resp.containers else { return };
    let w = cs
        .iter()
        .map(|c| c.service.len())
        .chain(resp.pending.keys().map(|k| k.len()))
        .max()
        .unwrap_or(0);
    for c in cs {
        println!("{:<w$}  {}", c.service, service_line(c));
    }
    for (s, why) in &resp.pending {
        println!("{s:<w$}  not started: {why}");
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

/// The observed containers without a supervisor: records + liveness.
pub fn observe_direct(store: &Store) -> anyhow::Result<BTreeMap<String, ContainerRecord>> {
    let (recs, damage) = store.containers()?;
    for d in damage {
        eprintln!("stack: {d}");
    }
    Ok(recs
        .into_iter()
        .map(|mut r| {
            if matches!(
                r.status,
                Status::Running | Status::Stopping | Status::Created
            ) && !ops::rec_alive(&r)
            {
                r.status = Status::Exited;
                r.exit_code = crate::engine::logs::recorded_exit_code(&store.log_file(&r.service));
            }
            (r.service.clone(), r)
        })
        .collect())
}

fn dry_run(store: &Store, stack: &Stack, args: &UpArgs) -> anyhow::Result<i32> {
    let recs: Vec<ContainerRecord> = match Client::connect(&store.control_socket()) {
        Some(c) => c
            .call(Op::Ps, Some(Duration::from_secs(10)))?
            .containers
            .unwrap_or_default(),
        None => observe_direct(store)?.into_values().collect(),
    };
    let observed = crate::plan::Observed {
        containers: recs
            .into_iter()
            .map(|r| (r.service.clone(), crate::engine::observe::observe(&r)))
            .collect(),
    };
    let opts = crate::plan::PlanOptions {
        targets: args.services.clone(),
        no_deps: args.no_deps,
        force_recreate: args.force_recreate,
        no_recreate: args.no_recreate,
        remove_orphans: args.remove_orphans,
        explicit: true,
        explicit_only: None,
        force_only: None,
        now_ms: crate::state::unix_now_ms(),
    };
    let plan = crate::plan::diff(stack, &observed, &opts);
    if plan.executable().next().is_none()
        && plan
            .actions
            .iter()
            .all(|a| matches!(a, crate::plan::Action::Orphan { .. }))
    {
        for a in &plan.actions {
            println!("{a}");
        }
        println!("nothing to do: the stack matches the file");
        return Ok(0);
    }
    println!("{plan}");
    Ok(0)
}
