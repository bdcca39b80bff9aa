//! Every project on this machine: a directory under the state root or the
//! run root with a valid project name (the shared stores beside them are
//! not projects).

use std::collections::BTreeSet;

use super::{names::valid_project, run_root, state_root, Store};

/// The stores of every project that has state or runtime files, by name.
pub fn all() -> Vec<Store> {
    let mut names = BTreeSet::new();
    for root in [state_root(), run_root()] {
        let Ok(rd) = std::fs::read_dir(&root) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if valid_project(&name) && e.path().is_dir() {
                names.insert(name);
            }
        }
    }
    names
        .into_iter()
        .filter_map(|n| Store::new(&n).ok())
        .collect()
}
