//! `stack exec` and the hidden `__exec PID -- CMD` used by health probes.

use anyhow::bail;

use super::{ExecArgs, GlobalArgs};
use crate::engine::ops;
use crate::runtime::spawn::{self, ExecOptions};

pub fn run(global: &GlobalArgs, args: &ExecArgs) -> anyhow::Result<i32> {
    // Everything that enters a container runs from the sealed copy.
    crate::runtime::sealed::reexec_sealed().map_err(anyhow::Error::msg)?;
    let (store, _) = super::project(global)?;
    let (rec, damage) = store.load_container(&args.service)?;
    if let Some(d) = damage {
        eprintln!("stack: {d}");
    }
    let Some(rec) = rec else {
        bail!(
            "service {} has no container in project {} (is the stack up?)",
            args.service,
            store.project
        );
    };
    let Some(pid) = rec.pid.filter(|_| ops::rec_alive(&rec)) else {
        bail!(
            "service {} is not running ({}); start it with `stack start {}`",
            args.service,
            rec.state_text(),
            args.service
        );
    };
    for e in &args.env {
        if !e.contains('=') {
            bail!("-e {e}: expected KEY=VALUE");
        }
    }
    let opts = ExecOptions {
        argv: args.command.clone(),
        env: args.env.clone(),
        cwd: args.workdir.clone(),
        user: args.user.clone(),
        tty: !args.no_tty && super::is_tty(0),
        capabilities: Some(crate::engine::convert::service_capabilities(&rec.config)),
        seccomp: crate::engine::convert::seccomp(&rec.config)
            .map_err(|e| anyhow::anyhow!("service {}: seccomp: {e}", args.service))?,
    };
    spawn::exec(pid, &opts).map_err(|e| anyhow::anyhow!("service {}: {e}", args.service))
}
