//! `stack logs`: from the log files, so logs outlive the supervisor.

use super::{GlobalArgs, LogsArgs};
use crate::engine::project::{print_line, Prefixer};

pub fn run(global: &GlobalArgs, args: &LogsArgs) -> anyhow::Result<i32> {
    let project = super::project(global)?;
    let services = project.log_services(&args.services)?;
    let labels = crate::spec::replicas::labels(&services);
    let prefixer = Prefixer::new(&labels, super::is_tty(1), args.timestamps);
    project.logs(&services, args.tail, args.follow, &mut |s, l| {
        print_line(&prefixer.format(s, l))
    })?;
    Ok(0)
}
