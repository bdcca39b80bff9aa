//! `stack ls`: the projects on this machine (`docker compose ls`), and
//! `stack version`.

use clap::Args;

use super::Format;

#[derive(Debug, Clone, Args)]
pub struct LsArgs {
    /// Show every project, also those with no running container
    #[arg(short, long)]
    pub all: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Print only the names
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(args: &LsArgs) -> anyhow::Result<i32> {
    let rows: Vec<_> = crate::engine::projects::list()
        .into_iter()
        .filter(|r| args.all || r.running)
        .collect();
    match args.format {
        _ if args.quiet => rows.iter().for_each(|r| println!("{}", r.name)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Yaml => print!("{}", serde_yaml::to_string(&rows)?),
        Format::Table => {
            let name_w = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(4);
            let status_w = rows
                .iter()
                .map(|r| r.status.len())
                .max()
                .unwrap_or(0)
                .max(6);
            println!(
                "{:<name_w$}   {:<status_w$}   CONFIG FILES",
                "NAME", "STATUS"
            );
            for r in &rows {
                let line = format!(
                    "{:<name_w$}   {:<status_w$}   {}",
                    r.name,
                    r.status,
                    r.config_files.join(",")
                );
                println!("{}", line.trim_end());
            }
        }
    }
    Ok(0)
}

/// `stack version`: the version, and with `--format json` the same as
/// an object.
pub fn version(format: &Format) -> anyhow::Result<i32> {
    let v = env!("CARGO_PKG_VERSION");
    match format {
        Format::Json => println!("{}", serde_json::json!({ "version": v })),
        Format::Yaml => println!("version: {v}"),
        Format::Table => println!("stack version {v}"),
    }
    Ok(0)
}
