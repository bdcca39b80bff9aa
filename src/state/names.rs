//! Which project names the state store takes.

/// The machine-wide stores beside the projects' directories under the
/// state root: never a project's name.
pub const SHARED_DIRS: [&str; 4] = ["cache", "images", "networks", "volumes"];

/// Validate a project name the way it is used in paths and cgroups.
pub fn valid_project(name: &str) -> bool {
    !SHARED_DIRS.contains(&name)
        && !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shared_stores_are_not_project_names() {
        for n in ["cache", "images", "networks", "volumes"] {
            assert!(!super::valid_project(n), "{n}");
        }
        assert!(super::valid_project("volumes-app"));
    }
}
