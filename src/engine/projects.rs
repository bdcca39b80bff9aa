//! `stack ls`: every project on this machine, with how many of its
//! containers are in each state and the files it was brought up from,
//! as `docker compose ls` lists them. Read from the state store alone.

use std::collections::BTreeMap;

use serde::Serialize;

/// One project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectRow {
    pub name: String,
    /// `running(2)`, `exited(1), running(2)`; `down` when it has no
    /// containers.
    pub status: String,
    /// The stack file and its override files, as the last `up` read them.
    pub config_files: Vec<String>,
    /// Whether a container runs (Compose's `ls` shows only these by default).
    #[serde(skip)]
    pub running: bool,
}

/// Every project with state on this machine, by name.
pub fn list() -> Vec<ProjectRow> {
    crate::state::projects::all()
        .into_iter()
        .map(|store| {
            let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
            let recs = store.containers().map(|(r, _)| r).unwrap_or_default();
            for r in &recs {
                let state = match r.status {
                    // A record that says running but whose process is gone
                    // (a killed supervisor and a machine restart) is not.
                    crate::state::Status::Running if !super::ops::rec_alive(r) => "exited",
                    s => s.as_str(),
                };
                *counts.entry(state).or_default() += 1;
            }
            let status = if counts.is_empty() {
                "down".to_string()
            } else {
                counts
                    .iter()
                    .map(|(s, n)| format!("{s}({n})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let config_files = match store.load_project() {
                Ok((Some(p), _)) => {
                    let mut files = vec![p.file.display().to_string()];
                    if let Some(stack) = &p.stack {
                        files.extend(stack.overrides.iter().map(|f| f.display().to_string()));
                    }
                    files
                }
                _ => Vec::new(),
            };
            ProjectRow {
                running: counts.contains_key("running"),
                name: store.project,
                status,
                config_files,
            }
        })
        .collect()
}
