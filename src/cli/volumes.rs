//! `stack volume ls|create|rm`: the machine's named volumes, as
//! `docker volume` manages Docker's.

use clap::{Args, Subcommand};

use super::Format;

#[derive(Debug, Clone, Subcommand)]
pub enum VolumeCommand {
    /// List the machine's named volumes (`name:` and `external:` ones)
    Ls(VolumeLsArgs),
    /// Create a volume (for a file's `external: true` volume to find)
    Create {
        /// The volume's name
        name: String,
    },
    /// Remove volumes and their data (refused while a project names one)
    Rm {
        /// The volumes' names
        #[arg(required = true)]
        names: Vec<String>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct VolumeLsArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Print only the names
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(cmd: &VolumeCommand) -> anyhow::Result<i32> {
    use crate::engine::volumes;
    match cmd {
        VolumeCommand::Ls(args) => {
            let rows = volumes::list();
            match args.format {
                _ if args.quiet => rows.iter().for_each(|r| println!("{}", r.name)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
                Format::Yaml => print!("{}", serde_yaml::to_string(&rows)?),
                Format::Table => {
                    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(4);
                    println!("{:<w$}   PROJECTS", "NAME");
                    for r in &rows {
                        let users = if r.projects.is_empty() {
                            "-".to_string()
                        } else {
                            r.projects.join(",")
                        };
                        println!("{:<w$}   {users}", r.name);
                    }
                }
            }
            Ok(0)
        }
        VolumeCommand::Create { name } => {
            if !volumes::create(name)? {
                eprintln!("volume {name} exists already");
            }
            println!("{name}");
            Ok(0)
        }
        VolumeCommand::Rm { names } => {
            let mut code = 0;
            for n in names {
                match volumes::remove(n) {
                    Ok(()) => println!("{n}"),
                    Err(e) => {
                        eprintln!("stack: {e}");
                        code = 1;
                    }
                }
            }
            Ok(code)
        }
    }
}
