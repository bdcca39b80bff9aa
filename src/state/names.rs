//! Which project names the state store takes.

/// Validate a project name the way it is used in paths and cgroups.
pub fn valid_project(name: &str) -> bool {
    // The shared directories beside the projects'.
    !matches!(name, "cache" | "images" | "volumes")
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
        for n in ["cache", "images", "volumes"] {
            assert!(!super::valid_project(n), "{n}");
        }
        assert!(super::valid_project("volumes-app"));
    }
}
