//! `stack pull`, `stack images` and `stack image prune`.

use clap::{Args, Subcommand};

use super::{Format, GlobalArgs};
use crate::engine::image::catalog::ImageRow;

#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    /// Services whose images to pull [default: every service with `image:`]
    pub services: Vec<String>,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ImagesArgs {
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Print only the image ids
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ImageCommand {
    /// Remove the images no project on this machine references, and the
    /// layers only they use
    Prune,
}

pub fn pull(global: &GlobalArgs, args: &PullArgs) -> anyhow::Result<i32> {
    let project = if args.quiet {
        crate::engine::Project::load(global.load_options(), &args.services)?
    } else {
        super::project_of_file(global, &args.services)?
    };
    let rows = project.pull(&args.services)?;
    if !args.quiet && rows.is_empty() {
        eprintln!("no service has an `image:` to pull");
    }
    Ok(0)
}

pub fn images(global: &GlobalArgs, args: &ImagesArgs) -> anyhow::Result<i32> {
    let rows = super::project_of_file(global, &[])?.images()?;
    match args.format {
        _ if args.quiet => {
            for r in rows.iter().filter_map(|r| r.id.as_deref()) {
                println!("{r}");
            }
        }
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Yaml => print!("{}", serde_yaml::to_string(&rows)?),
        Format::Table => print!("{}", table(&rows)),
    }
    Ok(0)
}

fn table(rows: &[ImageRow]) -> String {
    let mut lines = vec![[
        "SERVICE".to_string(),
        "IMAGE".into(),
        "PLATFORM".into(),
        "IMAGE ID".into(),
        "LAYERS".into(),
        "SIZE".into(),
    ]];
    for r in rows {
        let id =
            r.id.as_deref()
                .and_then(|i| i.strip_prefix("sha256:"))
                .map_or("(not pulled)".to_string(), |h| {
                    h[..12.min(h.len())].to_string()
                });
        lines.push([
            r.services.join(","),
            r.reference.clone(),
            r.platform.clone(),
            id,
            r.layers.to_string(),
            super::ps::human_bytes(r.size),
        ]);
    }
    let mut w = [0usize; 6];
    for l in &lines {
        for (i, c) in l.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for l in &lines {
        let cells: Vec<String> = l
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<width$}", width = w[i]))
            .collect();
        out.push_str(cells.join("   ").trim_end());
        out.push('\n');
    }
    out
}

pub fn image(cmd: &ImageCommand) -> anyhow::Result<i32> {
    match cmd {
        ImageCommand::Prune => {
            let p = crate::engine::image::catalog::prune()?;
            for i in &p.images {
                println!("removed {i}");
            }
            let plural =
                |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
            println!(
                "freed {} ({}, {})",
                super::ps::human_bytes(p.bytes),
                plural(p.images.len(), "image"),
                plural(p.layers, "layer")
            );
        }
    }
    Ok(0)
}
