//! `stack exec`: run a command in a running container.

use super::{ExecArgs, GlobalArgs};
use crate::engine::project::{self, ExecRequest};

pub fn run(global: &GlobalArgs, args: &ExecArgs) -> anyhow::Result<i32> {
    // Everything that enters a container runs from the sealed copy.
    project::seal()?;
    let project = super::project(global)?;
    let req = ExecRequest {
        service: crate::spec::replicas::unit_key(&args.service, args.index),
        command: args.command.clone(),
        env: args.env.clone(),
        workdir: args.workdir.clone(),
        user: args.user.clone(),
        tty: !args.no_tty && super::is_tty(0),
    };
    Ok(project.exec(&req)?)
}
