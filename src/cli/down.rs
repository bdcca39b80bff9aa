//! `stack down`: the engine asks the supervisor when it runs, then always
//! cleans up directly, so it also works after a supervisor was killed.

use super::{DownArgs, GlobalArgs};
use crate::engine::project::DownOutcome;

pub fn run(global: &GlobalArgs, args: &DownArgs) -> anyhow::Result<i32> {
    let project = super::project(global)?;
    match project.down(args.timeout, args.volumes)? {
        DownOutcome::NothingToRemove => {
            eprintln!("nothing to remove for project {}", project.name());
        }
        DownOutcome::Removed {
            services,
            kept_volumes,
            removed_volumes,
        } => {
            let mut services: Vec<String> = services.into_iter().collect();
            services.sort_by(|a, b| {
                crate::spec::replicas::split(a).cmp(&crate::spec::replicas::split(b))
            });
            for s in crate::spec::replicas::labels(&services) {
                eprintln!("removed {s}");
            }
            for v in removed_volumes {
                eprintln!("removed volume {v}");
            }
            if let Some(dir) = kept_volumes {
                eprintln!(
                    "kept named volumes in {} (remove them with `stack down -v`)",
                    dir.display()
                );
            }
        }
    }
    Ok(0)
}
