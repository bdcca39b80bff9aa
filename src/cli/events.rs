//! `stack events`: stream what the supervisor does.

use super::{EventsArgs, Format, GlobalArgs};
use crate::engine::project::print_line;

pub fn run(global: &GlobalArgs, args: &EventsArgs) -> anyhow::Result<i32> {
    let project = super::project(global)?;
    project.events(&mut |ev| {
        let line = match args.format {
            Format::Json => serde_json::to_string(&ev).unwrap_or_default(),
            _ => ev.text(),
        };
        print_line(&line);
    })?;
    Ok(0)
}
