//! Which project names the state store takes.

/// Validate a project name the way it is used in paths and cgroups.
pub fn valid_project(name: &str) -> bool {
    // The two shared directories beside the projects'.
    !matches!(name, "cache" | "images")
        && !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}
