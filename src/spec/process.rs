//! The loader for how a service's process runs: `working_dir`,
//! `hostname`, `restart`, `stop_signal`, `cap_add`/`cap_drop` and
//! `x-stack`.

use super::load::*;
use super::model::*;
use super::yaml::Node;

impl Cx<'_> {
    /// `working_dir`: absolute, inside the container. The value is kept
    /// even when wrong (the error is reported).
    pub(super) fn working_dir(&mut self, v: &Node, p: &str) -> Option<String> {
        let w = self.opt_string(v, p)?;
        if !w.starts_with('/') {
            self.err(
                v.pos,
                p,
                format!("working_dir {w:?} must be an absolute path inside the container"),
            );
        }
        Some(w)
    }

    /// `hostname`: letters, digits, `-` and `.`, at most 64. Kept even when
    /// wrong, as `working_dir`.
    pub(super) fn hostname(&mut self, v: &Node, p: &str) -> Option<String> {
        let h = self.opt_string(v, p)?;
        if h.is_empty()
            || h.len() > 64
            || !h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            self.err(
                v.pos,
                p,
                format!("invalid hostname {h:?} (letters, digits, `-` and `.`, at most 64)"),
            );
        }
        Some(h)
    }

    /// `restart`; `None` when absent or wrong (reported).
    pub(super) fn restart(&mut self, v: &Node, p: &str) -> Option<RestartPolicy> {
        let s = self.string(v, p)?;
        let r = parse_restart(&s);
        if r.is_none() {
            self.err(v.pos, p, format!("invalid restart policy {s:?} (expected no, always, on-failure, on-failure:N or unless-stopped)"));
        }
        r
    }

    /// `stop_signal`, normalized (`term`, `15` → `SIGTERM`).
    pub(super) fn stop_signal(&mut self, v: &Node, p: &str) -> Option<String> {
        let s = self.string(v, p)?;
        let sig = normalize_signal(&s);
        if sig.is_none() {
            self.err(
                v.pos,
                p,
                format!("unknown signal {s:?} (e.g. SIGTERM, SIGINT, SIGQUIT)"),
            );
        }
        sig
    }

    /// `cap_add`/`cap_drop`: capability names, with or without `CAP_`, or
    /// `ALL`.
    pub(super) fn caps(&mut self, n: &Node, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Some(items) = self.list(n, path) else {
            return out;
        };
        for (p, it) in indexed(items, path) {
            let Some(s) = self.string(it, &p) else {
                continue;
            };
            let up = s.to_ascii_uppercase();
            let bare = up.strip_prefix("CAP_").unwrap_or(&up);
            if bare == "ALL" {
                out.push("ALL".to_string());
            } else if crate::caps::ALL.iter().any(|c| c[4..] == *bare) {
                out.push(format!("CAP_{bare}"));
            } else {
                self.err(
                    it.pos,
                    &p,
                    format!("unknown capability {s:?} (e.g. NET_ADMIN, SYS_PTRACE, ALL)"),
                );
            }
        }
        out
    }

    /// `x-stack`: stack's own options for a service.
    pub(super) fn x_stack(&mut self, v: &Node, p: &str, x_stack: &mut XStack) {
        let Some(m) = self.map(v, p) else {
            return;
        };
        for (k, v) in m {
            let kp = child(p, &k.name);
            match k.name.as_str() {
                "restart_unhealthy" => {
                    x_stack.restart_unhealthy = self.boolean(v, &kp).unwrap_or(true)
                }
                _ => self.unknown(k, p, "XStackFile"),
            }
        }
    }
}

/// `no`, `always`, `unless-stopped`, `on-failure[:N]` (`false` as `no`).
fn parse_restart(s: &str) -> Option<RestartPolicy> {
    match s {
        "no" | "false" => Some(RestartPolicy::No),
        "always" => Some(RestartPolicy::Always),
        "unless-stopped" => Some(RestartPolicy::UnlessStopped),
        "on-failure" => Some(RestartPolicy::OnFailure { max_retries: None }),
        _ => {
            let n = s.strip_prefix("on-failure:")?;
            n.parse::<u32>().ok().map(|n| RestartPolicy::OnFailure {
                max_retries: Some(n),
            })
        }
    }
}

/// A signal by number or name, with or without `SIG`, as `SIGTERM`.
pub fn normalize_signal(s: &str) -> Option<String> {
    use std::str::FromStr;
    if let Ok(n) = s.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(n)
            .ok()
            .map(|s| s.as_str().to_string());
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    nix::sys::signal::Signal::from_str(&name)
        .ok()
        .map(|s| s.as_str().to_string())
}
