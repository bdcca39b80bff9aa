//! `stack watch`: make the supervisor of a stack that is already up watch
//! its file (and `.env`, `env_file`s, `develop.watch` trees), as
//! `up --watch` does.

use std::time::Duration;

use anyhow::{bail, Context};

use super::GlobalArgs;
use crate::engine::control::{Client, Op};
use crate::state::Store;

/// Ask the running supervisor to watch; an error when none runs.
pub fn start(store: &Store) -> anyhow::Result<()> {
    let Some(client) = Client::connect(&store.control_socket()) else {
        bail!(
            "project {} is not up: start it with `stack up -d --watch` (or `stack up --watch`)",
            store.project
        );
    };
    let resp = client
        .call(Op::Watch, Some(Duration::from_secs(10)))
        .context("the supervisor did not start watching")?;
    if !resp.watch {
        bail!("the supervisor did not start watching; see `stack logs` and its log");
    }
    Ok(())
}

pub fn run(global: &GlobalArgs) -> anyhow::Result<i32> {
    let (store, _) = super::project(global)?;
    start(&store)?;
    println!(
        "watching the file of project {}: saves are applied (see `stack events` or {})",
        store.project,
        store.supervisor_log().display()
    );
    Ok(0)
}
