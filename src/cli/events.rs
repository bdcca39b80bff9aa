//! `stack events`: stream what the supervisor does.

use anyhow::bail;

use super::{EventsArgs, Format, GlobalArgs};
use crate::engine::control::{Client, Op};

pub fn run(global: &GlobalArgs, args: &EventsArgs) -> anyhow::Result<i32> {
    let (store, _) = super::project(global)?;
    let Some(client) = Client::connect(&store.control_socket()) else {
        bail!(
            "no supervisor runs for project {}; events exist only while one runs (`stack up`)",
            store.project
        );
    };
    client.stream(Op::Events, &mut |resp| {
        if let Some(ev) = resp.event {
            let line = match args.format {
                Format::Json => serde_json::to_string(&ev).unwrap_or_default(),
                _ => ev.text(),
            };
            crate::engine::logs::print_line(&line);
        }
        true
    })?;
    Ok(0)
}
