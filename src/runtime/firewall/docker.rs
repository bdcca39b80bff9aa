//! Living beside a Docker engine: its `ip filter FORWARD` chain drops what
//! it does not know (policy DROP), and `DOCKER-USER` is the chain Docker
//! leaves to its users. Our bridges' accept rules go there, each with the
//! comment `stack:<project>`, so they are found and removed exactly (and
//! Docker's own rules, and other projects', are never touched).

use super::{run_nft, FirewallError};

const CHAIN: [&str; 3] = ["ip", "filter", "DOCKER-USER"];

/// Whether a Docker engine's `DOCKER-USER` chain exists here.
pub fn present() -> bool {
    run_nft(&["list", "chain", CHAIN[0], CHAIN[1], CHAIN[2]]).is_ok()
}

fn comment(project: &str) -> String {
    format!("stack:{project}")
}

/// The rules that let `bridges`' traffic through Docker's FORWARD chain:
/// all that leaves a bridge (to the world, the host, its own bridge), and
/// into a bridge what answers it or what a published port sent there.
pub fn render_allow(project: &str, bridges: &[String]) -> String {
    let c = comment(project);
    let mut s = String::new();
    for b in bridges {
        for rule in [
            format!("iifname \"{b}\" accept"),
            format!("oifname \"{b}\" ct state established,related accept"),
            format!("oifname \"{b}\" ct status dnat accept"),
        ] {
            s.push_str(&format!(
                "insert rule {} {} {} {rule} comment \"{c}\"\n",
                CHAIN[0], CHAIN[1], CHAIN[2]
            ));
        }
    }
    s
}

/// Replace the project's rules in `DOCKER-USER` with those for `bridges`
/// (none: remove them), in one transaction. Without Docker: nothing to do.
pub fn allow(project: &str, bridges: &[String]) -> Result<(), FirewallError> {
    if !present() {
        return Ok(());
    }
    let mut script = deletes(project)?;
    script.push_str(&render_allow(project, bridges));
    if script.is_empty() {
        return Ok(());
    }
    super::apply_script(CHAIN[2], &script)
}

/// Remove the project's rules from `DOCKER-USER`.
pub fn revoke(project: &str) -> Result<(), FirewallError> {
    allow(project, &[])
}

/// `delete rule … handle N` for each rule of `project`.
fn deletes(project: &str) -> Result<String, FirewallError> {
    let listing = run_nft(&["-a", "list", "chain", CHAIN[0], CHAIN[1], CHAIN[2]])?;
    Ok(handles(&listing, project)
        .into_iter()
        .map(|h| {
            format!(
                "delete rule {} {} {} handle {h}\n",
                CHAIN[0], CHAIN[1], CHAIN[2]
            )
        })
        .collect())
}

/// The handles of the rules carrying `project`'s comment in an
/// `nft -a list chain` listing.
pub fn handles(listing: &str, project: &str) -> Vec<u64> {
    let tag = format!("comment \"{}\"", comment(project));
    listing
        .lines()
        .filter(|l| l.contains(&tag))
        .filter_map(|l| {
            l.rsplit_once("# handle ")
                .and_then(|(_, h)| h.trim().parse().ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_project_s_own_rules_are_found() {
        let listing = r#"table ip filter {
	chain DOCKER-USER { # handle 7
		iifname "stk-1" accept comment "stack:demo" # handle 31
		iifname "stk-2" accept comment "stack:demo2" # handle 32
		oifname "stk-1" ct state established,related accept comment "stack:demo" # handle 33
		counter packets 0 bytes 0 return # handle 8
	}
}"#;
        assert_eq!(handles(listing, "demo"), vec![31, 33]);
        assert_eq!(handles(listing, "demo2"), vec![32]);
        assert!(handles(listing, "other").is_empty());
    }

    #[test]
    fn each_bridge_gets_its_three_rules_tagged() {
        let s = render_allow("demo", &["stk-1".into()]);
        assert_eq!(s.lines().count(), 3);
        assert!(s.lines().all(|l| l.ends_with("comment \"stack:demo\"")));
        assert!(s.contains("insert rule ip filter DOCKER-USER iifname \"stk-1\" accept"));
    }
}
