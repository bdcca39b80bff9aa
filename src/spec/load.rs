//! Positioned YAML tree → typed, normalized `Stack`, collecting every
//! problem (not stopping at the first).
//!
//! This file holds the reading helpers of `Cx` (strings, lists, sizes,
//! positions in messages) and `service`, which dispatches each key into a
//! `Draft` (`draft.rs`). A key group with more to it has its own file named
//! after the key: `rootfs.rs`, `depends.rs` (`depends_on`), `health.rs`
//! (`healthcheck`), `deploy.rs`, `limits.rs` (`cpus`, `mem_limit`, …),
//! `process.rs` (`working_dir`, `hostname`, `restart`, `stop_signal`,
//! `cap_add`), `volumes.rs` (and `tmpfs`), `ports.rs` (and
//! `network_mode`), `networks.rs` (the top-level `networks`), `netkeys.rs`
//! (a service's `networks`, `links`, `extra_hosts`, `dns`, …),
//! `netmode.rs` (what `network_mode` allows; checks across services),
//! `ulimits.rs`, `develop.rs`, `environment.rs` (`env_file`),
//! `security.rs` (`privileged`, `security_opt`, `devices`, `shm_size`,
//! tmpfs options), `blkio.rs` (`blkio_config`). Compose keys that stack
//! lacks are in `unsupported.rs`. To add a Compose key: its field in
//! `file/` (the schema), its model in `model.rs`, its arm in `service_key`
//! here, and a file of its own if it has structure.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use super::draft::Draft;
use super::interp::{self, Vars};
use super::model::*;
use super::units::{Bytes, Cpus, Millis};
use super::unsupported::compose_unsupported;
use super::yaml::{Key, Kind, Node, Pos};

/// One problem: where, which key, what.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub pos: Pos,
    pub path: String,
    pub msg: String,
}

/// Keys the schema declares for each object type (by definition name;
/// the top level is `StackFile`).
pub(crate) fn known_keys(def: &str) -> &'static [String] {
    static KEYS: OnceLock<HashMap<String, Vec<String>>> = OnceLock::new();
    let all = KEYS.get_or_init(|| {
        let root = super::file::schema();
        let mut m = HashMap::new();
        let props = |o: &schemars::schema::SchemaObject| -> Vec<String> {
            o.object
                .as_ref()
                .map(|o| o.properties.keys().cloned().collect())
                .unwrap_or_default()
        };
        m.insert("StackFile".to_string(), props(&root.schema));
        for (name, def) in &root.definitions {
            if let schemars::schema::Schema::Object(o) = def {
                m.insert(name.clone(), props(o));
            }
        }
        m
    });
    all.get(def).map(Vec::as_slice).unwrap_or(&[])
}

pub(super) fn suggest(key: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(key, c), c))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}

pub(super) fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}
pub(super) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A list's items with their key paths (`path[0]`, `path[1]`, …): the one
/// loop every list key walks.
pub(super) fn indexed<'n, 'p>(
    items: &'n [Node],
    path: &'p str,
) -> impl Iterator<Item = (String, &'n Node)> + use<'n, 'p> {
    items
        .iter()
        .enumerate()
        .map(move |(i, it)| (index(path, i), it))
}

/// Lexical normalization: `.` dropped, `..` pops (never above `/`).
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("/");
                }
                if out.as_os_str().is_empty() {
                    out.push("/");
                }
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// Interpolate every scalar value (not keys) of the tree in place. Key
/// paths are only built for the (rare) scalar that fails.
pub(crate) fn interpolate_tree(root: &mut Node, vars: &mut Vars, problems: &mut Vec<Problem>) {
    let mut stack: Vec<(&mut Node, usize, Option<Seg>)> = vec![(root, 0, None)];
    let mut path: Vec<Seg> = Vec::new();
    while let Some((n, depth, seg)) = stack.pop() {
        path.truncate(depth);
        if let Some(seg) = seg {
            path.push(seg);
        }
        let depth = path.len();
        let pos = n.pos;
        match &mut n.kind {
            Kind::Scalar { value, .. } => {
                if value.contains('$') {
                    match interp::interpolate(value, vars) {
                        Ok(v) => *value = v,
                        Err(msg) => {
                            let mut p = String::new();
                            for s in &path {
                                match s {
                                    Seg::Key(k) => p = child(&p, k),
                                    Seg::Index(i) => p = index(&p, *i),
                                }
                            }
                            problems.push(Problem { pos, path: p, msg });
                        }
                    }
                }
            }
            Kind::Seq(items) => {
                for (i, it) in items.iter_mut().enumerate() {
                    stack.push((it, depth, Some(Seg::Index(i))));
                }
            }
            Kind::Map(kv) => {
                for (k, v) in kv.iter_mut() {
                    let k: &Key = k;
                    stack.push((v, depth, Some(Seg::Key(&k.name))));
                }
            }
            Kind::Null => {}
        }
    }
}

/// The conversion context.
pub(crate) struct Cx<'a> {
    pub dir: PathBuf,
    pub vars: &'a Vars,
    pub problems: Vec<Problem>,
    /// Top-level volumes by key, with their backing and where they are
    /// declared (for the services' `volumes:`).
    pub volume_names: BTreeMap<String, (Backing, Pos)>,
    /// Host binaries already found (one `stat` per path, not per service).
    pub host_seen: BTreeSet<PathBuf>,
    /// Every `env_file` named by a service (for the file watcher).
    pub env_inputs: BTreeSet<PathBuf>,
    /// The top-level networks by key, `default` included (declared or
    /// not), for the services' `networks`.
    pub networks: BTreeMap<String, NetworkDef>,
    /// Every service declared in the file (for `links`, `service:NAME`).
    pub service_names: BTreeSet<String>,
    /// Top-level secrets and configs, by name, for the services' own.
    pub secret_defs: BTreeMap<String, FileSource>,
    pub config_defs: BTreeMap<String, FileSource>,
}

/// What a service's conversion yields beyond the model: positions of its
/// dependencies, for graph errors with line and column.
pub(crate) struct ServiceExtra {
    pub pos: Pos,
    pub depends_pos: BTreeMap<String, Pos>,
    /// The key path of a dependency that another key implies
    /// (`network_mode: service:db` → `services.web.network_mode`).
    pub depends_path: BTreeMap<String, String>,
    /// Where what must be unique across the file was.
    pub net: super::draft::NetAt,
    /// `volumes_from`, for `volumes_from::resolve`.
    pub volumes_from: Vec<super::volumes_from::From>,
}

impl Cx<'_> {
    pub fn err(&mut self, pos: Pos, path: &str, msg: impl Into<String>) {
        self.problems.push(Problem {
            pos,
            path: path.to_string(),
            msg: msg.into(),
        });
    }

    /// Report a key not in `def` (unless it is an `x-` extension).
    pub fn unknown(&mut self, key: &Key, path: &str, def: &str) {
        if key.name.starts_with("x-") {
            return;
        }
        let p = child(path, &key.name);
        if let Some(msg) = compose_unsupported(def, &key.name) {
            self.err(key.pos, &p, msg);
            return;
        }
        let msg = match suggest(&key.name, known_keys(def)) {
            Some(s) => format!("unknown key `{}` (did you mean `{s}`?)", key.name),
            None => format!(
                "unknown key `{}` (expected one of: {})",
                key.name,
                known_keys(def).join(", ")
            ),
        };
        self.err(key.pos, &p, msg);
    }

    pub fn map<'n>(&mut self, n: &'n Node, path: &str) -> Option<&'n [(Key, Node)]> {
        match &n.kind {
            Kind::Map(m) => Some(m),
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!("expected a map, found {}", n.describe()),
                );
                None
            }
        }
    }

    /// A scalar as a string (numbers and booleans as written).
    pub fn string(&mut self, n: &Node, path: &str) -> Option<String> {
        match &n.kind {
            Kind::Scalar { value, .. } => Some(value.clone()),
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!("expected a string, found {}", n.describe()),
                );
                None
            }
        }
    }

    pub fn opt_string(&mut self, n: &Node, path: &str) -> Option<String> {
        if n.kind == Kind::Null {
            return None;
        }
        self.string(n, path)
    }

    pub fn boolean(&mut self, n: &Node, path: &str) -> Option<bool> {
        match &n.kind {
            Kind::Scalar { value, .. } => match value.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                v => {
                    self.err(n.pos, path, format!("expected true or false, found {v:?}"));
                    None
                }
            },
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!("expected true or false, found {}", n.describe()),
                );
                None
            }
        }
    }

    pub fn int(&mut self, n: &Node, path: &str) -> Option<i64> {
        let s = self.string(n, path)?;
        match s.trim().parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.err(n.pos, path, format!("expected an integer, found {s:?}"));
                None
            }
        }
    }

    pub fn uint(&mut self, n: &Node, path: &str) -> Option<u64> {
        let s = self.string(n, path)?;
        match s.trim().parse::<u64>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.err(
                    n.pos,
                    path,
                    format!("expected a non-negative integer, found {s:?}"),
                );
                None
            }
        }
    }

    pub fn list<'n>(&mut self, n: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &n.kind {
            Kind::Seq(v) => Some(v),
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!("expected a list, found {}", n.describe()),
                );
                None
            }
        }
    }

    pub fn string_list(&mut self, n: &Node, path: &str) -> Option<Vec<String>> {
        let items = self.list(n, path)?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (p, it) in indexed(items, path) {
            match self.string(it, &p) {
                Some(s) => out.push(s),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A string (split like a shell) or a list: `command`, `entrypoint`.
    pub fn argv(&mut self, n: &Node, path: &str) -> Option<Vec<String>> {
        match &n.kind {
            Kind::Null => None,
            Kind::Scalar { value, .. } => match shell_words::split(value) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.err(n.pos, path, format!("cannot split {value:?} like a shell: {e} (check the quotes, or write a list)"));
                    None
                }
            },
            Kind::Seq(_) => self.string_list(n, path),
            Kind::Map(_) => {
                self.err(n.pos, path, "expected a string or a list, found a map");
                None
            }
        }
    }

    /// A string or a list of strings.
    pub fn one_or_list(&mut self, n: &Node, path: &str) -> Option<Vec<(String, Pos, String)>> {
        match &n.kind {
            Kind::Null => Some(Vec::new()),
            Kind::Scalar { value, .. } => Some(vec![(value.clone(), n.pos, path.to_string())]),
            Kind::Seq(items) => {
                let mut out = Vec::new();
                for (p, it) in indexed(items, path) {
                    if let Some(s) = self.string(it, &p) {
                        out.push((s, it.pos, p));
                    }
                }
                Some(out)
            }
            Kind::Map(_) => {
                self.err(n.pos, path, "expected a string or a list, found a map");
                None
            }
        }
    }

    /// Map or `KEY=VALUE` list. Values `None` mean "KEY alone"/null.
    pub fn kv(&mut self, n: &Node, path: &str) -> Vec<(String, Option<String>, Pos)> {
        let mut out = Vec::new();
        match &n.kind {
            Kind::Null => {}
            Kind::Map(m) => {
                for (k, v) in m {
                    let p = child(path, &k.name);
                    let val = match &v.kind {
                        Kind::Null => None,
                        Kind::Scalar { value, .. } => Some(value.clone()),
                        _ => {
                            self.err(
                                v.pos,
                                &p,
                                format!("expected a string, found {}", v.describe()),
                            );
                            continue;
                        }
                    };
                    out.push((k.name.clone(), val, k.pos));
                }
            }
            Kind::Seq(items) => {
                let mut seen: HashMap<String, Pos> = HashMap::new();
                for (p, it) in indexed(items, path) {
                    let Some(s) = self.string(it, &p) else {
                        continue;
                    };
                    let (k, v) = match s.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (s.clone(), None),
                    };
                    if k.is_empty() {
                        self.err(it.pos, &p, format!("expected KEY=VALUE, found {s:?}"));
                        continue;
                    }
                    if let Some(first) = seen.insert(k.clone(), it.pos) {
                        self.err(
                            it.pos,
                            &p,
                            format!(
                                "duplicate key `{k}` (first defined at line {}, column {})",
                                first.line, first.col
                            ),
                        );
                        continue;
                    }
                    out.push((k, v, it.pos));
                }
            }
            Kind::Scalar { .. } => {
                self.err(
                    n.pos,
                    path,
                    "expected a map or a list of KEY=VALUE strings, found a scalar",
                );
            }
        }
        out
    }

    /// Absolute path for a path in the file (relative to the file's dir, `~` = $HOME).
    pub fn abs(&self, p: &str) -> PathBuf {
        let expanded = if p == "~" || p.starts_with("~/") {
            let home = self
                .vars
                .vars
                .get("HOME")
                .cloned()
                .or_else(|| std::env::var("HOME").ok())
                .unwrap_or_else(|| "/root".into());
            format!("{home}{}", &p[1..])
        } else {
            p.to_string()
        };
        normalize(&self.dir.join(expanded))
    }

    /// A scalar read with one of the `units` parsers; its message on error.
    pub(super) fn unit<T>(
        &mut self,
        n: &Node,
        path: &str,
        parse: fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = self.string(n, path)?;
        parse(&s).map_err(|m| self.err(n.pos, path, m)).ok()
    }

    pub(super) fn size(&mut self, n: &Node, path: &str) -> Option<Bytes> {
        self.unit(n, path, Bytes::parse)
    }

    pub(super) fn duration(&mut self, n: &Node, path: &str) -> Option<Millis> {
        self.unit(n, path, Millis::parse)
    }

    pub(super) fn cpus(&mut self, n: &Node, path: &str) -> Option<Cpus> {
        self.unit(n, path, Cpus::parse)
    }

    /// Set a limit given possibly two ways; differing values are an error.
    pub(super) fn set_limit<T: PartialEq + Copy + std::fmt::Debug>(
        &mut self,
        slot: &mut Option<(T, String)>,
        v: T,
        pos: Pos,
        path: &str,
        shown: impl Fn(T) -> String,
    ) {
        match slot {
            Some((old, old_path)) if *old != v => {
                let msg = format!(
                    "{} conflicts with {old_path}: {} (give this limit once)",
                    shown(v),
                    shown(*old)
                );
                self.err(pos, path, msg);
            }
            Some(_) => {}
            None => *slot = Some((v, path.to_string())),
        }
    }

    /// Convert one service. `name` is already validated.
    pub fn service(&mut self, key: &Key, n: &Node, path: &str) -> Option<(Service, ServiceExtra)> {
        let name = key.name.as_str();
        let m = match &n.kind {
            Kind::Map(m) => m,
            Kind::Null => {
                self.err(
                    key.pos,
                    path,
                    format!("service `{name}` is empty; it needs at least `image` or `rootfs`"),
                );
                return None;
            }
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!("expected a map, found {}", n.describe()),
                );
                return None;
            }
        };
        let before = self.problems.len();
        let mut d = Draft::default();
        for (k, v) in m {
            self.service_key(&mut d, name, k, v, path);
        }
        if !d.saw_rootfs {
            self.err(key.pos, path, format!("service `{name}` has no `image` or `rootfs` (an image such as `alpine:3.20` or `oci:./dir`, or a root filesystem: a directory, a tarball, or `{{ host: [/bin/sh] }}`)"));
        }
        self.image_done(&mut d, name);
        let limits = self.limits_done(std::mem::take(&mut d.limits));
        let env_files = std::mem::take(&mut d.env_files);
        let env = self.environment_of(env_files, std::mem::take(&mut d.environment));

        let depends_path = self.network_done(&mut d, name, key.pos, path);
        self.restart_done(&mut d);
        self.replicas_done(&d);
        let sysctls_at = std::mem::take(&mut d.sysctls_at);
        self.process_done(&d, &sysctls_at);
        if self.problems.len() > before {
            // The service is dropped, so say now what would be said of its
            // dependencies later: every problem in one run.
            for (dep, dd) in &d.depends_on {
                if dd.required && !self.service_names.contains(dep) {
                    let pos = d.depends_pos.get(dep).copied().unwrap_or(key.pos);
                    let p = depends_path
                        .get(dep)
                        .cloned()
                        .unwrap_or_else(|| format!("{path}.depends_on.{dep}"));
                    let msg = super::undefined_dependency(name, dep, &self.service_names);
                    self.err(pos, &p, msg);
                }
            }
            return None;
        }
        let rootfs = d.rootfs.take()?;
        let depends_pos = std::mem::take(&mut d.depends_pos);
        let net = std::mem::take(&mut d.net.unique);
        let volumes_from = std::mem::take(&mut d.volumes_from);
        Some((
            d.into_service(name, rootfs, env, limits),
            ServiceExtra {
                pos: n.pos,
                depends_pos,
                depends_path,
                net,
                volumes_from,
            },
        ))
    }

    /// One key `k` of service `name` (at `path`): its arm, or the method
    /// of its key group.
    fn service_key(&mut self, d: &mut Draft, name: &str, k: &Key, v: &Node, path: &str) {
        let p = child(path, &k.name);
        let p = p.as_str();
        if super::netmode::MODE_BOUND.contains(&k.name.as_str()) {
            d.net.at.insert(k.name.clone(), (v.pos, p.to_string()));
        }
        match k.name.as_str() {
            "rootfs" | "image" => self.root_key(d, name, k, v, p),
            "platform" => {
                d.platform = self.platform(v, p).map(|s| (s, k.pos, p.to_string()));
            }
            "pull_policy" => {
                if let Some(policy) = self.pull_policy(v, p) {
                    d.pull_policy = policy;
                }
            }
            "command" => d.command = self.argv(v, p),
            "entrypoint" => d.entrypoint = self.argv(v, p),
            "environment" => d.environment = self.kv(v, p),
            "env_file" => d.env_files = self.env_file(v, p),
            "working_dir" => d.working_dir = self.working_dir(v, p),
            "user" => d.user = self.opt_string(v, p),
            "hostname" => d.hostname = self.hostname(v, p),
            "depends_on" => self.depends_on(v, p, name, &mut d.depends_on, &mut d.depends_pos),
            "healthcheck" => {
                d.healthcheck_given = true;
                d.healthcheck = self.healthcheck(v, p);
            }
            "restart" => {
                d.restart_at = Some((v.pos, p.to_string()));
                if let Some(r) = self.restart(v, p) {
                    d.restart = r;
                }
            }
            "deploy" => self.deploy(v, p, d),
            "scale" => {
                if let Some(r) = self.replica_count(v, p) {
                    d.replicas_at.push(r);
                }
            }
            key @ ("cpus" | "mem_limit" | "mem_reservation" | "memswap_limit" | "pids_limit"
            | "cpu_shares" | "cpuset" | "cpu_period" | "cpu_quota" | "mem_swappiness"
            | "oom_kill_disable") => self.limit_key(&mut d.limits, key, v, p),
            "group_add" => d.process.group_add = self.group_add(v, p),
            "oom_score_adj" => d.process.oom_score_adj = self.oom_score_adj(v, p),
            "sysctls" => d.process.sysctls = self.sysctls(v, p, &mut d.sysctls_at),
            "ipc" | "pid" => self.namespace_key(d, name, k, v, p),
            "volumes" => d.volumes = self.volumes(v, p, name),
            "volumes_from" => self.volumes_from(v, p, name, d),
            "secrets" => d.files.extend(self.service_files(v, p, FileKind::Secret)),
            "configs" => d.files.extend(self.service_files(v, p, FileKind::Config)),
            "post_start" => d.post_start = self.hooks(v, p),
            "pre_stop" => d.pre_stop = self.hooks(v, p),
            "tmpfs" => {
                let t = self.tmpfs(v, p);
                d.tmpfs.extend(t);
            }
            "privileged" => d.security.privileged = self.boolean(v, p).unwrap_or(false),
            "security_opt" => self.security_opt(v, p, &mut d.security),
            "devices" => d.security.devices = self.devices(v, p),
            "device_cgroup_rules" => {
                d.security.device_cgroup_rules = self.device_cgroup_rules(v, p)
            }
            "shm_size" => d.security.shm_size = super::security::shm_size(self, v, p),
            "blkio_config" => d.limits.limits.blkio = self.blkio(v, p),
            "read_only" => d.read_only = self.boolean(v, p).unwrap_or(false),
            "stop_signal" => {
                d.saw_stop_signal = true;
                if let Some(s) = self.stop_signal(v, p) {
                    d.stop_signal = s;
                }
            }
            "stop_grace_period" => {
                if let Some(g) = self.duration(v, p) {
                    d.stop_grace_period = g;
                }
            }
            "init" => d.init = self.boolean(v, p).unwrap_or(true),
            "cap_add" => d.cap_add = self.caps(v, p),
            "cap_drop" => d.cap_drop = self.caps(v, p),
            "ulimits" => d.ulimits = self.ulimits(v, p),
            "network_mode" => {
                d.net.mode_at = Some((v.pos, p.to_string()));
                if let Some(m) = self.network_mode(v, p, name) {
                    d.network_mode = m;
                }
            }
            "ports" => {
                let (ports, at) = self.ports(v, p).into_iter().unzip();
                (d.ports, d.net.unique.ports) = (ports, at);
            }
            key @ ("networks" | "mac_address" | "container_name" | "links" | "expose"
            | "extra_hosts" | "dns" | "dns_search" | "dns_opt" | "domainname") => {
                self.net_key(&mut d.net, name, key, v, p)
            }
            "labels" => {
                for (k, val, _) in self.kv(v, p) {
                    d.labels.insert(k, val.unwrap_or_default());
                }
            }
            "profiles" => {
                if let Some(l) = self.string_list(v, p) {
                    d.profiles = l;
                }
            }
            "develop" => d.develop = self.develop(v, p),
            "x-stack" => self.x_stack(v, p, &mut d.x_stack),
            _ => self.unknown(k, path, "ServiceFile"),
        }
    }
}
