//! The loader for `group_add`, `sysctls`, `oom_score_adj`, `ipc` and
//! `pid`: how a service's processes meet the kernel (see `model::Process`).

use std::collections::BTreeMap;

use super::draft::Draft;
use super::load::*;
use super::model::*;
use super::yaml::{Key, Node, Pos};

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

    /// `ipc:` `private`, `shareable`, `host` or `service:NAME`.
    pub(super) fn ipc_mode(&mut self, v: &Node, p: &str, me: &str) -> Option<IpcMode> {
        let s = self.string(v, p)?;
        match s.as_str() {
            "private" => Some(IpcMode::Private),
            "shareable" | "" => Some(IpcMode::Shareable),
            "host" => Some(IpcMode::Host),
            _ if s.starts_with("service:") => self
                .shared_service(v, p, me, &s["service:".len()..], "ipc", "IPC")
                .map(IpcMode::Service),
            "none" => {
                self.err(
                    v.pos,
                    p,
                    "ipc \"none\" (no /dev/shm) is not supported yet; use `private`",
                );
                None
            }
            _ if s.starts_with("container:") => {
                self.err(v.pos, p, format!("ipc {s:?} is not supported yet; use service:NAME to share the IPC namespace of a service of this file"));
                None
            }
            other => {
                let shown = super::printable(other);
                self.err(
                    v.pos,
                    p,
                    format!(
                        "invalid ipc {shown:?} (expected private, shareable, host or service:NAME)"
                    ),
                );
                None
            }
        }
    }

    /// `pid:` `host` or `service:NAME` (empty: the container's own).
    pub(super) fn pid_mode(&mut self, v: &Node, p: &str, me: &str) -> Option<PidMode> {
        let s = self.string(v, p)?;
        match s.as_str() {
            "" | "private" => Some(PidMode::Private),
            "host" => Some(PidMode::Host),
            _ if s.starts_with("service:") => self
                .shared_service(v, p, me, &s["service:".len()..], "pid", "PID")
                .map(PidMode::Service),
            _ if s.starts_with("container:") => {
                self.err(v.pos, p, format!("pid {s:?} is not supported yet; use service:NAME to share the PID namespace of a service of this file"));
                None
            }
            other => {
                let shown = super::printable(other);
                self.err(
                    v.pos,
                    p,
                    format!("invalid pid {shown:?} (expected host or service:NAME)"),
                );
                None
            }
        }
    }

    /// `ipc` or `pid` (key `k`), with where it was for the dependency it
    /// implies.
    pub(super) fn namespace_key(&mut self, d: &mut Draft, me: &str, k: &Key, v: &Node, p: &str) {
        if k.name == "ipc" {
            if let Some(m) = self.ipc_mode(v, p, me) {
                d.process.ipc = m;
            }
        } else if let Some(m) = self.pid_mode(v, p, me) {
            d.process.pid = m;
        }
        d.ns_at.insert(k.name.clone(), (v.pos, p.to_string()));
    }

    /// The NAME of `KEY: service:NAME`: another service of this file.
    fn shared_service(
        &mut self,
        v: &Node,
        p: &str,
        me: &str,
        name: &str,
        key: &str,
        what: &str,
    ) -> Option<String> {
        if name == me {
            self.err(v.pos, p, format!("service `{me}` cannot share its own {what} namespace; name another service after `service:`"));
            return None;
        }
        if !self.service_names.contains(name) {
            let names: Vec<String> = self.service_names.iter().cloned().collect();
            let hint = suggest(name, &names)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            let shown = super::printable(name);
            self.err(
                v.pos,
                p,
                format!(
                    "{key}: service `{shown}` is not defined{hint}; name a service of this file"
                ),
            );
            return None;
        }
        Some(name.to_string())
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
    /// namespace, the others its own IPC namespace.
    pub(super) fn process_done(&mut self, d: &Draft, at: &SysctlsAt) {
        self.ipc_sysctls(d, at);
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

    /// The IPC sysctls need the container's own IPC namespace.
    fn ipc_sysctls(&mut self, d: &Draft, at: &SysctlsAt) {
        let why = match &d.process.ipc {
            IpcMode::Host => "ipc: host (it would change the host's)".to_string(),
            IpcMode::Service(x) => {
                format!("ipc: service:{x} (it would change `{x}`'s); set it on `{x}`")
            }
            IpcMode::Private | IpcMode::Shareable => return,
        };
        for (name, (pos, p)) in at.iter().filter(|(n, _)| !n.starts_with("net.")) {
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
