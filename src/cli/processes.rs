//! `stack kill` and `stack top`.

use clap::Args;

use super::{Format, GlobalArgs};

#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// The signal, by name or number
    #[arg(short, long, default_value = "SIGKILL")]
    pub signal: String,
    /// Services to signal [default: all]
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Services whose processes to list [default: all]
    pub services: Vec<String>,
}

pub fn kill(global: &GlobalArgs, args: &KillArgs) -> anyhow::Result<i32> {
    let (name, killed) = super::project(global)?.kill(&args.services, &args.signal)?;
    for label in killed {
        eprintln!("{label}  killed ({name})");
    }
    Ok(0)
}

pub fn top(global: &GlobalArgs, args: &TopArgs) -> anyhow::Result<i32> {
    let tops = super::project(global)?.top(&args.services)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&tops)?),
        Format::Yaml => print!("{}", serde_yaml::to_string(&tops)?),
        Format::Table => {
            for (i, t) in tops.iter().enumerate() {
                if i > 0 {
                    println!();
                }
                println!("{}", t.service);
                println!("{:<6} {:<8} {:<8} CMD", "UID", "PID", "PPID");
                for p in &t.processes {
                    println!("{:<6} {:<8} {:<8} {}", p.uid, p.pid, p.ppid, p.cmd);
                }
            }
        }
    }
    Ok(0)
}
