//! `stack config`: validate and print the normalized model.

use clap::Args;

use super::GlobalArgs;

#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "yaml")]
    pub format: super::Format,
    /// Print service names in start order, one per line
    #[arg(long)]
    pub services: bool,
    /// Print the config hash of SERVICE (`*` for all: `name hash` lines)
    #[arg(long, value_name = "SERVICE")]
    pub hash: Option<String>,
}

pub fn run(global: &GlobalArgs, _args: &ConfigArgs) -> anyhow::Result<i32> {
    let _stack = crate::spec::load(&global.load_options())?;
    Ok(0)
}
