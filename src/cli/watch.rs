//! `stack watch`: make the supervisor of a stack that is already up watch
//! its file (and `.env`, `env_file`s, `develop.watch` trees), as
//! `up --watch` does.

use super::GlobalArgs;

pub fn run(global: &GlobalArgs) -> anyhow::Result<i32> {
    let project = super::project(global)?;
    project.watch()?;
    println!(
        "watching the file of project {}: saves are applied (see `stack events` or {})",
        project.name(),
        project.supervisor_log().display()
    );
    Ok(0)
}
