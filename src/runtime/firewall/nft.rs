//! Running `nft`: a script on stdin is one atomic transaction (all of it
//! or none), which is how the table is replaced without a gap.

use std::io::Write;
use std::process::{Command, Stdio};

use super::FirewallError;

/// Run `nft ARGS`; its stdout.
pub fn run_nft(args: &[&str]) -> Result<String, FirewallError> {
    let out = Command::new("nft")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(FirewallError::Spawn)?;
    if !out.status.success() {
        return Err(FirewallError::Failed {
            what: args.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Apply `script` (for `table`) with `nft -f -`.
pub fn apply_script(table: &str, script: &str) -> Result<(), FirewallError> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(FirewallError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(FirewallError::Spawn)?;
    }
    let out = child.wait_with_output().map_err(FirewallError::Spawn)?;
    if !out.status.success() {
        return Err(FirewallError::Refused {
            table: table.to_string(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// Every table as `family name` (`inet stack-demo`, `ip filter`).
pub fn list_tables() -> Result<Vec<String>, FirewallError> {
    let out = run_nft(&["list", "tables"])?;
    Ok(out
        .lines()
        .filter_map(|l| l.strip_prefix("table "))
        .map(|t| t.trim().to_string())
        .collect())
}
