//! `stack stop|start|restart [SERVICE...]`: the engine talks to the
//! supervisor when it runs, else acts itself; each service's state is
//! printed as it goes.

use super::{GlobalArgs, ServicesArgs};
use crate::engine::project::Answer;

fn exit_code(a: Answer) -> i32 {
    match a {
        Answer::Done => 0,
        Answer::Refused(e) => {
            eprintln!("stack: {e}");
            1
        }
    }
}

pub fn stop(global: &GlobalArgs, args: &ServicesArgs) -> anyhow::Result<i32> {
    let project = super::project(global)?;
    Ok(exit_code(project.stop(&args.services, args.timeout)?))
}

pub fn start(global: &GlobalArgs, args: &ServicesArgs) -> anyhow::Result<i32> {
    let project = super::project(global)?;
    Ok(exit_code(project.start(&args.services)?))
}

pub fn restart(global: &GlobalArgs, args: &ServicesArgs) -> anyhow::Result<i32> {
    let project = super::project(global)?;
    Ok(exit_code(project.restart(&args.services, args.timeout)?))
}
