//! The loader for `group_add`, `sysctls` and `oom_score_adj`: how a
//! service's processes meet the kernel (see `model::Process`).

use std::collections::BTreeMap;

use super::draft::Draft;
use super::load::*;
use super::model::*;
use super::yaml::{Node, Pos};

/// Where each sysctl was, for the check against `network_mode`.
pub(super) type SysctlsAt = BTreeMap<String, (Pos, String)>;

impl Cx<'_> {
    pub(super) fn group_add(&mut self, v: &Node, p: &str) -> Vec<String> {
        let groups = self.string_list(v, p).unwrap_or_default();
        for g in &groups {
            let ok = !g.is_empty()
                && g.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            if !ok {
                let shown = super::printable(g);
                self.err(v.pos, p, format!("group {shown:?} is neither a group name nor a number (letters, digits, `_`, `.`, `-`)"));
            }
        }
        groups
    }

    pub(super) fn oom_score_adj(&mut self, v: &Node, p: &str) -> Option<i32> {
        let n = self.int(v, p)?;
        if !(-1000..=1000).contains(&n) {
            self.err(
                v.pos,
                p,
                format!("oom_score_adj {n} out of range (-1000 to 1000)"),
            );
            return None;
        }
        i32::try_from(n).ok()
    }

    /// `sysctls` as a map or `KEY=VALUE` list; names Docker would refuse
    /// are refused here, with the ones it allows.
    pub(super) fn sysctls(
        &mut self,
        v: &Node,
        p: &str,
        at: &mut SysctlsAt,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (key, value, pos) in self.kv(v, p) {
            let kp = format!("{p}.{key}");
            let Some(value) = value else {
                self.err(
                    pos,
                    &kp,
                    format!("sysctl {key} has no value; give one (`{key}: VALUE`)"),
                );
                continue;
            };
            let name = key.replace('/', ".");
            if let Some(why) = refused_sysctl(&name) {
                self.err(pos, &kp, why);
                continue;
            }
            if value.contains('\n') {
                self.err(pos, &kp, format!("sysctl {name}: a value is one line"));
                continue;
            }
            at.insert(name.clone(), (pos, kp));
            out.insert(name, value);
        }
        out
    }

    /// What spans keys: `net.*` needs the container's own network
    /// namespace.
    pub(super) fn process_done(&mut self, d: &Draft, at: &SysctlsAt) {
        let why = match &d.network_mode {
            NetworkMode::Host => {
                "network_mode: host (it would change the host's network)".to_string()
            }
            NetworkMode::Service(x) => {
                format!(
                    "network_mode: service:{x} (it would change `{x}`'s network); set it on `{x}`"
                )
            }
            NetworkMode::Bridge | NetworkMode::None => return,
        };
        for (name, (pos, p)) in at.iter().filter(|(n, _)| n.starts_with("net.")) {
            self.err(*pos, p, format!("sysctl {name} cannot be set with {why}"));
        }
    }
}

/// Why the sysctl `name` (dotted) is refused, or `None`: only what lives
/// in the container's own namespaces, and only a name that stays inside
/// `/proc/sys` (`crate::sysctls`).
pub(super) fn refused_sysctl(name: &str) -> Option<String> {
    if crate::sysctls::proc_path(name).is_none() {
        let shown = super::printable(name);
        return Some(format!(
            "{shown:?} is not a sysctl name (dotted, e.g. net.core.somaxconn)"
        ));
    }
    (!crate::sysctls::is_namespaced(name)).then(|| {
        format!("sysctl {name} is not namespaced: it would change the host; allowed are net.*, fs.mqueue.*, {}", crate::sysctls::IPC.join(", "))
    })
}
