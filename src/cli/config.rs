//! `stack config`: validate and print the normalized model.

use std::io::Write;

use anyhow::{bail, Context};
use clap::Args;

use super::GlobalArgs;
use crate::engine::project::start_order;

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

pub fn run(global: &GlobalArgs, args: &ConfigArgs) -> anyhow::Result<i32> {
    let mut stack = crate::spec::load(&global.load_options())?;
    // The images' config, where the image is on this machine already.
    crate::engine::image::resolve(&mut stack, crate::engine::image::Fetch::Present, &|_| {})?;
    let order = start_order(&stack)?;
    let mut out = String::new();
    if args.services {
        for name in &order {
            out.push_str(name);
            out.push('\n');
        }
    } else if let Some(h) = &args.hash {
        if h == "*" {
            for name in &order {
                let svc = &stack.services[name];
                out.push_str(&format!("{name} {}\n", crate::spec::config_hash(svc)));
            }
        } else {
            let Some(svc) = stack.services.get(h) else {
                let known: Vec<String> = stack.services.keys().cloned().collect();
                bail!("{}", crate::spec::no_such_service(h, &known));
            };
            out.push_str(&crate::spec::config_hash(svc));
            out.push('\n');
        }
    } else {
        out = match args.format {
            super::Format::Json => {
                let mut s = serde_json::to_string_pretty(&stack).context("serializing to JSON")?;
                s.push('\n');
                s
            }
            super::Format::Table => {
                bail!("config prints the model as yaml or json: `--format table` has no table to print; use `--format yaml` (the default) or `--format json`")
            }
            super::Format::Yaml => {
                // Enum variants print as plain maps (`rootfs: {host: [...]}`)
                // rather than YAML tags (`!host`); field order is kept.
                let v = untag(serde_yaml::to_value(&stack).context("serializing to YAML")?);
                serde_yaml::to_string(&v).context("serializing to YAML")?
            }
        };
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`stack config | head`) is not an error worth a message.
    match stdout
        .write_all(out.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(e).context("writing to stdout"),
    }
}

/// Replace YAML tags (serde_yaml's spelling of enum variants) by one-key
/// maps, as JSON has them. Depth is bounded by the model's types.
fn untag(v: serde_yaml::Value) -> serde_yaml::Value {
    use serde_yaml::Value;
    match v {
        Value::Tagged(t) => {
            let mut m = serde_yaml::Mapping::new();
            let key = t.tag.to_string();
            m.insert(
                Value::String(key.trim_start_matches('!').to_string()),
                untag(t.value),
            );
            Value::Mapping(m)
        }
        Value::Mapping(m) => Value::Mapping(m.into_iter().map(|(k, v)| (k, untag(v))).collect()),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(untag).collect()),
        other => other,
    }
}
