//! Positioned YAML tree → typed, normalized `Stack`, collecting every
//! problem (not stopping at the first).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use super::interp::{self, Vars};
use super::model::*;
use super::units::{Bytes, Cpus, Millis};
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

/// Compose keys stack does not support, with what to do instead.
fn compose_unsupported(def: &str, key: &str) -> Option<String> {
    let msg = match (def, key) {
        ("ServiceFile", "image") => {
            "`image` is not used by stack: give a root filesystem with `rootfs` (a directory, a tarball, `host:` binaries or `debootstrap:`)".to_string()
        }
        ("ServiceFile", "build") => {
            "`build` is not used by stack: use a `rootfs` source (`rootfs: { debootstrap: {...} }` or `rootfs: { host: [...] }`)".to_string()
        }
        (
            "ServiceFile",
            "networks" | "secrets" | "configs" | "pid" | "ipc"
            | "extra_hosts" | "dns" | "dns_search" | "dns_opt" | "logging" | "container_name"
            | "expose" | "links" | "external_links" | "sysctls"
            | "stdin_open" | "tty" | "userns_mode" | "cgroup" | "cgroup_parent" | "domainname"
            | "mac_address" | "platform" | "pull_policy" | "runtime" | "scale" | "storage_opt"
            | "volumes_from" | "group_add" | "oom_kill_disable" | "oom_score_adj"
            | "mem_swappiness" | "cpu_count" | "cpu_percent" | "cpu_period" | "cpu_quota"
            | "cpu_rt_runtime" | "cpu_rt_period"
            | "isolation" | "annotations" | "attach" | "credential_spec" | "extends" | "gpus"
            | "post_start" | "pre_stop" | "uts" | "label_file" | "models" | "provider"
            | "use_api_socket" | "lifecycle_hooks" | "develop_watch",
        )
        | (
            "StackFile",
            "networks" | "secrets" | "configs" | "include" | "models",
        )
        | (
            "DeployFile",
            "replicas" | "mode" | "restart_policy" | "placement" | "update_config"
            | "rollback_config" | "labels" | "endpoint_mode",
        )
        | ("LimitsFile", "devices")
        | ("ReservationsFile", "cpus" | "devices" | "pids" | "generic_resources")
        | ("VolumeFile", "driver" | "driver_opts" | "external" | "name")
        | ("BindOptsFile", "propagation" | "selinux" | "recursive")
        | ("VolumeOptsFile", "subpath")
        | ("VolumeLongFile", "consistency" | "image") => {
            format!("`{key}` is a Compose key stack does not support yet; remove it")
        }
        _ => return None,
    };
    Some(msg)
}

fn suggest(key: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(key, c), c))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}
fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
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
    /// Top-level volume names (for checking `volumes:` of services).
    pub volume_names: BTreeSet<String>,
    /// Host binaries already found (one `stat` per path, not per service).
    pub host_seen: BTreeSet<PathBuf>,
    /// Every `env_file` named by a service (for the file watcher).
    pub env_inputs: BTreeSet<PathBuf>,
}

/// What a service's conversion yields beyond the model: positions of its
/// dependencies, for graph errors with line and column.
pub(crate) struct ServiceExtra {
    pub pos: Pos,
    pub depends_pos: BTreeMap<String, Pos>,
}

const ULIMITS: &[&str] = &[
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

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
        for (i, it) in items.iter().enumerate() {
            match self.string(it, &index(path, i)) {
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
                for (i, it) in items.iter().enumerate() {
                    let p = index(path, i);
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
                for (i, it) in items.iter().enumerate() {
                    let p = index(path, i);
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
    fn unit<T>(&mut self, n: &Node, path: &str, parse: fn(&str) -> Result<T, String>) -> Option<T> {
        let s = self.string(n, path)?;
        parse(&s).map_err(|m| self.err(n.pos, path, m)).ok()
    }

    fn size(&mut self, n: &Node, path: &str) -> Option<Bytes> {
        self.unit(n, path, Bytes::parse)
    }

    fn duration(&mut self, n: &Node, path: &str) -> Option<Millis> {
        self.unit(n, path, Millis::parse)
    }

    fn cpus(&mut self, n: &Node, path: &str) -> Option<Cpus> {
        self.unit(n, path, Cpus::parse)
    }

    /// Set a limit given possibly two ways; differing values are an error.
    fn set_limit<T: PartialEq + Copy + std::fmt::Debug>(
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

    pub fn rootfs(&mut self, n: &Node, path: &str) -> Option<Rootfs> {
        match &n.kind {
            Kind::Scalar { value, .. } => {
                let p = self.abs(value);
                let lower = value.to_ascii_lowercase();
                let is_tar = [".tar", ".tar.gz", ".tgz"]
                    .iter()
                    .any(|e| lower.ends_with(e));
                if is_tar {
                    if !p.is_file() {
                        self.err(n.pos, path, format!("rootfs tarball {value:?} not found (looked at {}; check the path, relative to the stack file)", p.display()));
                        return None;
                    }
                    Some(Rootfs::Tar(p))
                } else {
                    if !p.is_dir() {
                        self.err(n.pos, path, format!("rootfs directory {value:?} not found (looked at {}; create it or fix the path, relative to the stack file)", p.display()));
                        return None;
                    }
                    Some(Rootfs::Dir(p))
                }
            }
            Kind::Map(m) => {
                let mut found: Vec<(&Key, &Node)> = Vec::new();
                let mut unknown = false;
                for (k, v) in m {
                    match k.name.as_str() {
                        "host" | "debootstrap" => found.push((k, v)),
                        _ => {
                            unknown |= !k.name.starts_with("x-");
                            self.unknown(k, path, "RootfsSourceFile");
                        }
                    }
                }
                if found.is_empty() && unknown {
                    return None;
                }
                if found.len() != 1 {
                    let msg = if found.is_empty() {
                        "rootfs map needs exactly one of `host` or `debootstrap`"
                    } else {
                        "rootfs takes exactly one of `host` or `debootstrap`, not both"
                    };
                    self.err(n.pos, path, msg);
                    return None;
                }
                let (k, v) = found[0];
                let p = child(path, &k.name);
                if k.name == "host" {
                    let items = self.list(v, &p)?;
                    if items.is_empty() {
                        self.err(v.pos, &p, "list at least one binary, e.g. [/bin/sh]");
                        return None;
                    }
                    let mut bins = Vec::new();
                    for (i, it) in items.iter().enumerate() {
                        let ip = index(&p, i);
                        let Some(s) = self.string(it, &ip) else {
                            continue;
                        };
                        let pb = PathBuf::from(&s);
                        if !pb.is_absolute() {
                            self.err(
                                it.pos,
                                &ip,
                                format!(
                                    "host binary {s:?} must be an absolute path (e.g. /bin/{s})"
                                ),
                            );
                        } else if !self.host_seen.contains(&pb) && !pb.is_file() {
                            self.err(
                                it.pos,
                                &ip,
                                format!("host binary {s:?} not found on this machine"),
                            );
                        } else {
                            self.host_seen.insert(pb.clone());
                            bins.push(normalize(&pb));
                        }
                    }
                    (bins.len() == items.len()).then_some(Rootfs::Host(bins))
                } else {
                    let m = self.map(v, &p)?;
                    let (mut suite, mut variant, mut mirror) = (None, None, None);
                    for (k, v) in m {
                        let kp = child(&p, &k.name);
                        match k.name.as_str() {
                            "suite" => suite = self.string(v, &kp),
                            "variant" => variant = self.opt_string(v, &kp),
                            "mirror" => mirror = self.opt_string(v, &kp),
                            _ => self.unknown(k, &p, "DebootstrapFile"),
                        }
                    }
                    match suite {
                        Some(suite) => Some(Rootfs::Debootstrap(Debootstrap {
                            suite,
                            variant,
                            mirror,
                        })),
                        None => {
                            self.err(v.pos, &p, "`suite` is required (e.g. suite: bookworm)");
                            None
                        }
                    }
                }
            }
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!(
                        "expected a path or a map with `host` or `debootstrap`, found {}",
                        n.describe()
                    ),
                );
                None
            }
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
                    format!("service `{name}` is empty; it needs at least `rootfs`"),
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
        let mut rootfs = None;
        let mut saw_rootfs = false;
        let (mut entrypoint, mut command) = (None, None);
        let mut env_files: Vec<(PathBuf, bool, Pos, String)> = Vec::new();
        let mut environment: Vec<(String, Option<String>, Pos)> = Vec::new();
        let (mut working_dir, mut user, mut hostname) = (None, None, None);
        let mut depends_on = BTreeMap::new();
        let mut depends_pos = BTreeMap::new();
        let mut healthcheck = None;
        let mut restart = RestartPolicy::No;
        let mut cpus: Option<(Cpus, String)> = None;
        let mut memory: Option<(Bytes, String)> = None;
        let mut mem_res: Option<(Bytes, String)> = None;
        let mut pids: Option<(i64, String)> = None;
        let mut limits = Limits::default();
        let mut memswap_pos = (n.pos, path.to_string());
        let mut volumes = Vec::new();
        let mut tmpfs = Vec::new();
        let mut read_only = false;
        let mut stop_signal = "SIGTERM".to_string();
        let mut stop_grace_period = Millis(10_000);
        let mut init = true;
        let (mut cap_add, mut cap_drop) = (Vec::new(), Vec::new());
        let mut security = Security::default();
        let mut ulimits = BTreeMap::new();
        let mut network_mode = NetworkMode::None;
        let mut ports = Vec::new();
        let mut ports_at = None;
        let mut labels = BTreeMap::new();
        let mut profiles = Vec::new();
        let mut develop = None;
        let mut x_stack = XStack::default();

        for (k, v) in m {
            let p = child(path, &k.name);
            let p = p.as_str();
            match k.name.as_str() {
                "rootfs" => {
                    saw_rootfs = true;
                    rootfs = self.rootfs(v, p);
                }
                "command" => command = self.argv(v, p),
                "entrypoint" => entrypoint = self.argv(v, p),
                "environment" => environment = self.kv(v, p),
                "env_file" => env_files = self.env_file(v, p),
                "working_dir" => {
                    working_dir = self.opt_string(v, p);
                    if let Some(w) = &working_dir {
                        if !w.starts_with('/') {
                            self.err(v.pos, p, format!("working_dir {w:?} must be an absolute path inside the container"));
                        }
                    }
                }
                "user" => user = self.opt_string(v, p),
                "hostname" => {
                    hostname = self.opt_string(v, p);
                    if let Some(h) = &hostname {
                        if h.is_empty()
                            || h.len() > 64
                            || !h
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                        {
                            self.err(v.pos, p, format!("invalid hostname {h:?} (letters, digits, `-` and `.`, at most 64)"));
                        }
                    }
                }
                "depends_on" => self.depends_on(v, p, name, &mut depends_on, &mut depends_pos),
                "healthcheck" => healthcheck = self.healthcheck(v, p),
                "restart" => {
                    if let Some(s) = self.string(v, p) {
                        match parse_restart(&s) {
                            Some(r) => restart = r,
                            None => self.err(v.pos, p, format!("invalid restart policy {s:?} (expected no, always, on-failure, on-failure:N or unless-stopped)")),
                        }
                    }
                }
                "deploy" => self.deploy(v, p, &mut cpus, &mut memory, &mut mem_res, &mut pids),
                "cpus" => {
                    if let Some(c) = self.cpus(v, p) {
                        self.set_limit(&mut cpus, c, v.pos, p, |c| c.to_string());
                    }
                }
                "mem_limit" => {
                    if let Some(b) = self.size(v, p) {
                        self.set_limit(&mut memory, b, v.pos, p, |b| b.to_string());
                    }
                }
                "mem_reservation" => {
                    if let Some(b) = self.size(v, p) {
                        self.set_limit(&mut mem_res, b, v.pos, p, |b| b.to_string());
                    }
                }
                "memswap_limit" => {
                    memswap_pos = (v.pos, p.to_string());
                    let s = self.string(v, p);
                    limits.memswap = match s.as_deref() {
                        Some("-1") => Some(-1),
                        Some(_) => self.size(v, p).and_then(|b| i64::try_from(b.0).ok()),
                        None => None,
                    };
                }
                "pids_limit" => {
                    if let Some(n) = self.int(v, p) {
                        self.set_limit(&mut pids, n, v.pos, p, |n| n.to_string());
                    }
                }
                "cpu_shares" => {
                    if let Some(n) = self.uint(v, p) {
                        if !(2..=262_144).contains(&n) {
                            self.err(
                                v.pos,
                                p,
                                format!("cpu_shares {n} out of range (2 to 262144)"),
                            );
                        }
                        limits.cpu_shares = Some(n);
                    }
                }
                "cpuset" => {
                    if let Some(s) = self.string(v, p) {
                        if s.is_empty()
                            || !s.split(',').all(|part| {
                                let mut it = part.splitn(2, '-');
                                it.all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
                            })
                        {
                            self.err(
                                v.pos,
                                p,
                                format!("invalid cpuset {s:?} (expected e.g. 0-1,3)"),
                            );
                        }
                        limits.cpuset = Some(s);
                    }
                }
                "volumes" => volumes = self.volumes(v, p),
                "tmpfs" => {
                    for (s, pos, ip) in self.one_or_list(v, p).unwrap_or_default() {
                        match super::security::parse_tmpfs(&s) {
                            Ok(_) => tmpfs.push(s),
                            Err(m) => self.err(pos, &ip, m),
                        }
                    }
                }
                "privileged" => security.privileged = self.boolean(v, p).unwrap_or(false),
                "security_opt" => self.security_opt(v, p, &mut security),
                "devices" => security.devices = self.devices(v, p),
                "device_cgroup_rules" => {
                    security.device_cgroup_rules = self.device_cgroup_rules(v, p)
                }
                "shm_size" => security.shm_size = super::security::shm_size(self, v, p),
                "blkio_config" => limits.blkio = self.blkio(v, p),
                "read_only" => read_only = self.boolean(v, p).unwrap_or(false),
                "stop_signal" => {
                    if let Some(s) = self.string(v, p) {
                        match normalize_signal(&s) {
                            Some(sig) => stop_signal = sig,
                            None => self.err(
                                v.pos,
                                p,
                                format!("unknown signal {s:?} (e.g. SIGTERM, SIGINT, SIGQUIT)"),
                            ),
                        }
                    }
                }
                "stop_grace_period" => {
                    if let Some(d) = self.duration(v, p) {
                        stop_grace_period = d;
                    }
                }
                "init" => init = self.boolean(v, p).unwrap_or(true),
                "cap_add" => cap_add = self.caps(v, p),
                "cap_drop" => cap_drop = self.caps(v, p),
                "ulimits" => ulimits = self.ulimits(v, p),
                "network_mode" => {
                    if let Some(s) = self.string(v, p) {
                        match s.as_str() {
                            "none" => network_mode = NetworkMode::None,
                            "host" => network_mode = NetworkMode::Host,
                            other => self.err(v.pos, p, format!("network_mode {other:?} is not supported yet (use `none` or `host`)")),
                        }
                    }
                }
                "ports" => {
                    ports = self.ports(v, p);
                    ports_at = Some((v.pos, p.to_string()));
                }
                "labels" => {
                    for (k, val, _) in self.kv(v, p) {
                        labels.insert(k, val.unwrap_or_default());
                    }
                }
                "profiles" => {
                    if let Some(l) = self.string_list(v, p) {
                        profiles = l;
                    }
                }
                "develop" => develop = self.develop(v, p),
                "x-stack" => {
                    if let Some(m) = self.map(v, p) {
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
                _ => self.unknown(k, path, "ServiceFile"),
            }
        }
        if !saw_rootfs {
            self.err(key.pos, path, format!("service `{name}` has no `rootfs` (a directory, a tarball, or `{{ host: [/bin/sh] }}`)"));
        }
        limits.cpus = cpus.map(|c| c.0);
        limits.memory = memory.map(|c| c.0);
        limits.memory_reservation = mem_res.map(|c| c.0);
        limits.pids = pids.map(|c| c.0);
        if let (Some(mem), Some(swap)) = (limits.memory, limits.memswap) {
            if swap >= 0 && (swap as u64) < mem.0 {
                let (pos, p) = memswap_pos;
                self.err(
                    pos,
                    &p,
                    format!(
                        "memswap_limit ({}) must be at least the memory limit ({mem})",
                        Bytes(swap as u64)
                    ),
                );
            }
        }

        // Environment: env files in order, then `environment` wins.
        let mut env = BTreeMap::new();
        for (file, required, pos, p) in env_files {
            self.env_inputs.insert(file.clone());
            match std::fs::read_to_string(&file) {
                Ok(text) => {
                    let (kv, errs) = interp::parse_env_file(&text);
                    for (line, msg) in errs {
                        self.err(pos, &p, format!("{}:{line}: {msg}", file.display()));
                    }
                    for (k, v) in kv {
                        match v.or_else(|| self.vars.vars.get(&k).cloned()) {
                            Some(v) => {
                                env.insert(k, v);
                            }
                            None => {
                                env.remove(&k);
                            }
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {}
                Err(e) => self.err(
                    pos,
                    &p,
                    format!("cannot read env file {}: {e}", file.display()),
                ),
            }
        }
        for (k, v, _) in environment {
            match v.or_else(|| self.vars.vars.get(&k).cloned()) {
                Some(v) => {
                    env.insert(k, v);
                }
                None => {
                    env.remove(&k);
                }
            }
        }

        if self.problems.len() > before {
            return None;
        }
        if let (Some((pos, p)), NetworkMode::None, false) =
            (&ports_at, &network_mode, ports.is_empty())
        {
            self.err(
                *pos,
                p,
                "publishing ports is not supported yet: with `network_mode: none` (the default) \
                 the container has only loopback; use `network_mode: host` to serve on the host's ports",
            );
        }
        let svc = Service {
            name: name.to_string(),
            rootfs: rootfs?,
            entrypoint,
            command,
            environment: env,
            working_dir,
            user,
            hostname,
            depends_on,
            healthcheck,
            restart,
            limits,
            volumes,
            tmpfs,
            read_only,
            stop_signal,
            stop_grace_period,
            init,
            cap_add,
            cap_drop,
            security,
            ulimits,
            network_mode,
            ports,
            labels,
            profiles,
            develop,
            x_stack,
        };
        Some((
            svc,
            ServiceExtra {
                pos: n.pos,
                depends_pos,
            },
        ))
    }

    fn env_file(&mut self, n: &Node, path: &str) -> Vec<(PathBuf, bool, Pos, String)> {
        let mut out = Vec::new();
        let items: Vec<(usize, &Node)> = match &n.kind {
            Kind::Null => return out,
            Kind::Scalar { .. } => vec![(usize::MAX, n)],
            Kind::Seq(v) => v.iter().enumerate().collect(),
            Kind::Map(_) => {
                self.err(n.pos, path, "expected a path or a list, found a map");
                return out;
            }
        };
        for (i, it) in items {
            let p = if i == usize::MAX {
                path.to_string()
            } else {
                index(path, i)
            };
            match &it.kind {
                Kind::Scalar { value, .. } => out.push((self.abs(value), true, it.pos, p)),
                Kind::Map(m) => {
                    let (mut file, mut required) = (None, true);
                    for (k, v) in m {
                        let kp = child(&p, &k.name);
                        match k.name.as_str() {
                            "path" => file = self.string(v, &kp),
                            "required" => required = self.boolean(v, &kp).unwrap_or(true),
                            // `format` (Compose: `raw`) is not supported: report it.
                            _ => self.unknown(k, &p, "EnvFileLong"),
                        }
                    }
                    match file {
                        Some(f) => out.push((self.abs(&f), required, it.pos, p)),
                        None => self.err(it.pos, &p, "`path` is required"),
                    }
                }
                _ => self.err(
                    it.pos,
                    &p,
                    format!("expected a path or a map, found {}", it.describe()),
                ),
            }
        }
        out
    }

    fn depends_on(
        &mut self,
        n: &Node,
        path: &str,
        me: &str,
        out: &mut BTreeMap<String, Dependency>,
        pos_out: &mut BTreeMap<String, Pos>,
    ) {
        let default = Dependency {
            condition: Condition::ServiceStarted,
            restart: false,
            required: true,
        };
        match &n.kind {
            Kind::Null => {}
            Kind::Seq(items) => {
                for (i, it) in items.iter().enumerate() {
                    let p = index(path, i);
                    let Some(s) = self.string(it, &p) else {
                        continue;
                    };
                    if s == me {
                        self.err(
                            it.pos,
                            &p,
                            format!(
                                "service `{me}` depends on itself; remove it from its depends_on"
                            ),
                        );
                        continue;
                    }
                    if out.insert(s.clone(), default.clone()).is_some() {
                        self.err(it.pos, &p, format!("`{s}` is listed twice"));
                    }
                    pos_out.insert(s, it.pos);
                }
            }
            Kind::Map(m) => {
                // `x-` keys are extensions, never service names.
                for (k, v) in m.iter().filter(|(k, _)| !k.name.starts_with("x-")) {
                    let p = child(path, &k.name);
                    if k.name == me {
                        self.err(
                            k.pos,
                            &p,
                            format!(
                                "service `{me}` depends on itself; remove it from its depends_on"
                            ),
                        );
                        continue;
                    }
                    let mut d = default.clone();
                    if let Some(m) = match &v.kind {
                        Kind::Null => None,
                        _ => self.map(v, &p),
                    } {
                        for (kk, vv) in m {
                            let kp = child(&p, &kk.name);
                            match kk.name.as_str() {
                                "condition" => {
                                    if let Some(s) = self.string(vv, &kp) {
                                        d.condition = match s.as_str() {
                                            "service_started" => Condition::ServiceStarted,
                                            "service_healthy" => Condition::ServiceHealthy,
                                            "service_completed_successfully" => {
                                                Condition::ServiceCompletedSuccessfully
                                            }
                                            _ => {
                                                self.err(vv.pos, &kp, format!("invalid condition {s:?} (expected service_started, service_healthy or service_completed_successfully)"));
                                                continue;
                                            }
                                        }
                                    }
                                }
                                "restart" => d.restart = self.boolean(vv, &kp).unwrap_or(false),
                                "required" => d.required = self.boolean(vv, &kp).unwrap_or(true),
                                _ => self.unknown(kk, &p, "DependencyFile"),
                            }
                        }
                    }
                    out.insert(k.name.clone(), d);
                    pos_out.insert(k.name.clone(), k.pos);
                }
            }
            Kind::Scalar { .. } => self.err(
                n.pos,
                path,
                "expected a list of service names or a map, found a scalar",
            ),
        }
    }

    fn healthcheck(&mut self, n: &Node, path: &str) -> Option<Healthcheck> {
        let m = self.map(n, path)?;
        let mut test: Option<Option<Vec<String>>> = None;
        let mut saw_test = false;
        let mut disable = false;
        let mut hc = Healthcheck {
            test: Vec::new(),
            interval: Millis(30_000),
            timeout: Millis(30_000),
            retries: 3,
            start_period: Millis(0),
            start_interval: Millis(5_000),
        };
        for (k, v) in m {
            let p = child(path, &k.name);
            match k.name.as_str() {
                "test" => {
                    saw_test = true;
                    test = self.health_test(v, &p);
                }
                "interval" => hc.interval = self.duration(v, &p).unwrap_or(hc.interval),
                "timeout" => hc.timeout = self.duration(v, &p).unwrap_or(hc.timeout),
                "start_period" => hc.start_period = self.duration(v, &p).unwrap_or(hc.start_period),
                "start_interval" => {
                    hc.start_interval = self.duration(v, &p).unwrap_or(hc.start_interval)
                }
                "retries" => {
                    if let Some(r) = self.uint(v, &p) {
                        hc.retries = u32::try_from(r).unwrap_or(u32::MAX);
                    }
                }
                "disable" => disable = self.boolean(v, &p).unwrap_or(false),
                _ => self.unknown(k, path, "HealthcheckFile"),
            }
        }
        for (d, what) in [
            (hc.interval, "interval"),
            (hc.timeout, "timeout"),
            (hc.start_interval, "start_interval"),
        ] {
            if d.0 == 0 {
                self.err(
                    n.pos,
                    &child(path, what),
                    format!("{what} must be greater than 0"),
                );
            }
        }
        if disable {
            return None;
        }
        match test {
            Some(Some(t)) => {
                hc.test = t;
                Some(hc)
            }
            Some(None) => None,
            None if saw_test => None,
            None => {
                self.err(
                    n.pos,
                    path,
                    "healthcheck needs `test` (e.g. test: [\"CMD\", \"true\"]), or `disable: true`",
                );
                None
            }
        }
    }

    /// `Some(None)` is `NONE`.
    fn health_test(&mut self, n: &Node, path: &str) -> Option<Option<Vec<String>>> {
        match &n.kind {
            Kind::Scalar { value, .. } => {
                if value.trim().is_empty() {
                    self.err(n.pos, path, "empty health check command");
                    return None;
                }
                Some(Some(vec!["/bin/sh".into(), "-c".into(), value.clone()]))
            }
            Kind::Seq(_) => {
                let l = self.string_list(n, path)?;
                match l.first().map(String::as_str) {
                    Some("NONE") => Some(None),
                    Some("CMD") if l.len() > 1 => Some(Some(l[1..].to_vec())),
                    Some("CMD-SHELL") if l.len() > 1 => {
                        Some(Some(vec!["/bin/sh".into(), "-c".into(), l[1..].join(" ")]))
                    }
                    Some("CMD" | "CMD-SHELL") => {
                        self.err(n.pos, path, format!("`{}` needs a command after it", l[0]));
                        None
                    }
                    _ => {
                        self.err(n.pos, path, "a test list starts with \"CMD\", \"CMD-SHELL\" or \"NONE\" (e.g. [\"CMD\", \"true\"])");
                        None
                    }
                }
            }
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!("expected a string or a list, found {}", n.describe()),
                );
                None
            }
        }
    }

    fn deploy(
        &mut self,
        n: &Node,
        path: &str,
        cpus: &mut Option<(Cpus, String)>,
        memory: &mut Option<(Bytes, String)>,
        mem_res: &mut Option<(Bytes, String)>,
        pids: &mut Option<(i64, String)>,
    ) {
        let Some(m) = self.map(n, path) else { return };
        for (k, v) in m {
            let p = child(path, &k.name);
            if k.name != "resources" {
                self.unknown(k, path, "DeployFile");
                continue;
            }
            let Some(rm) = self.map(v, &p) else { continue };
            for (rk, rv) in rm {
                let rp = child(&p, &rk.name);
                match rk.name.as_str() {
                    "limits" => {
                        let Some(lm) = self.map(rv, &rp) else {
                            continue;
                        };
                        for (lk, lv) in lm {
                            let lp = child(&rp, &lk.name);
                            match lk.name.as_str() {
                                "cpus" => {
                                    if let Some(c) = self.cpus(lv, &lp) {
                                        self.set_limit(cpus, c, lv.pos, &lp, |c| c.to_string());
                                    }
                                }
                                "memory" => {
                                    if let Some(b) = self.size(lv, &lp) {
                                        self.set_limit(memory, b, lv.pos, &lp, |b| b.to_string());
                                    }
                                }
                                "pids" => {
                                    if let Some(x) = self.int(lv, &lp) {
                                        self.set_limit(pids, x, lv.pos, &lp, |n| n.to_string());
                                    }
                                }
                                _ => self.unknown(lk, &rp, "LimitsFile"),
                            }
                        }
                    }
                    "reservations" => {
                        let Some(lm) = self.map(rv, &rp) else {
                            continue;
                        };
                        for (lk, lv) in lm {
                            let lp = child(&rp, &lk.name);
                            match lk.name.as_str() {
                                "memory" => {
                                    if let Some(b) = self.size(lv, &lp) {
                                        self.set_limit(mem_res, b, lv.pos, &lp, |b| b.to_string());
                                    }
                                }
                                _ => self.unknown(lk, &rp, "ReservationsFile"),
                            }
                        }
                    }
                    _ => self.unknown(rk, &p, "ResourcesFile"),
                }
            }
        }
    }

    fn volumes(&mut self, n: &Node, path: &str) -> Vec<Mount> {
        let mut out = Vec::new();
        let Some(items) = self.list(n, path) else {
            return out;
        };
        for (i, it) in items.iter().enumerate() {
            let p = index(path, i);
            let m = match &it.kind {
                Kind::Scalar { value, .. } => self.short_volume(value, it.pos, &p),
                Kind::Map(m) => self.long_volume(m, it.pos, &p),
                _ => {
                    self.err(
                        it.pos,
                        &p,
                        format!(
                            "expected SOURCE:TARGET[:ro] or a map, found {}",
                            it.describe()
                        ),
                    );
                    None
                }
            };
            out.extend(m);
        }
        out
    }

    fn mount_for(
        &mut self,
        source: &str,
        target: String,
        read_only: bool,
        pos: Pos,
        path: &str,
    ) -> Option<Mount> {
        if !target.starts_with('/') {
            self.err(
                pos,
                path,
                format!("target {target:?} must be an absolute path inside the container"),
            );
            return None;
        }
        if source.starts_with('.') || source.starts_with('/') || source.starts_with('~') {
            let src = self.abs(source);
            if !src.exists() {
                self.err(
                    pos,
                    path,
                    format!(
                        "bind source {source:?} does not exist (looked at {}; create it first)",
                        src.display()
                    ),
                );
                return None;
            }
            Some(Mount::Bind {
                source: src,
                target,
                read_only,
            })
        } else {
            if !self.volume_names.contains(source) {
                self.err(pos, path, format!("volume `{source}` is not declared; add it under the top-level `volumes:` (e.g. volumes: {{ {source}: {{}} }})"));
                return None;
            }
            Some(Mount::Volume {
                source: source.to_string(),
                target,
                read_only,
            })
        }
    }

    fn short_volume(&mut self, s: &str, pos: Pos, path: &str) -> Option<Mount> {
        let parts: Vec<&str> = s.split(':').collect();
        let (src, dst, mode) = match parts.as_slice() {
            [_] => {
                self.err(pos, path, format!("anonymous volume {s:?} is not supported yet; name it (e.g. data:{s}) and declare it under top-level `volumes:`"));
                return None;
            }
            [a, b] => (*a, *b, ""),
            [a, b, c] => (*a, *b, *c),
            _ => {
                self.err(
                    pos,
                    path,
                    format!("invalid volume {s:?} (expected SOURCE:TARGET[:ro|rw])"),
                );
                return None;
            }
        };
        let mut ro = false;
        for opt in mode.split(',').filter(|o| !o.is_empty()) {
            match opt {
                "ro" => ro = true,
                "rw" => ro = false,
                o => {
                    self.err(
                        pos,
                        path,
                        format!("volume option {o:?} is not supported (use ro or rw)"),
                    );
                    return None;
                }
            }
        }
        if src.is_empty() {
            self.err(pos, path, format!("invalid volume {s:?} (empty source)"));
            return None;
        }
        self.mount_for(src, dst.to_string(), ro, pos, path)
    }

    fn long_volume(&mut self, m: &[(Key, Node)], pos: Pos, path: &str) -> Option<Mount> {
        let (mut kind, mut source, mut target, mut ro, mut size) = (None, None, None, false, None);
        let mut mode = None;
        let mut kind_pos = pos;
        for (k, v) in m {
            let p = child(path, &k.name);
            match k.name.as_str() {
                "type" => {
                    kind = self.string(v, &p);
                    kind_pos = v.pos;
                }
                "source" => source = self.opt_string(v, &p),
                "target" => target = self.string(v, &p),
                "read_only" => ro = self.boolean(v, &p).unwrap_or(false),
                "bind" | "volume" | "tmpfs" => {
                    let def = match k.name.as_str() {
                        "bind" => "BindOptsFile",
                        "volume" => "VolumeOptsFile",
                        _ => "TmpfsOptsFile",
                    };
                    let Some(om) = self.map(v, &p) else { continue };
                    for (ok, ov) in om {
                        let op = child(&p, &ok.name);
                        match (def, ok.name.as_str()) {
                            ("BindOptsFile", "create_host_path") | ("VolumeOptsFile", "nocopy") => {
                                self.boolean(ov, &op);
                            }
                            ("TmpfsOptsFile", "size") => size = self.size(ov, &op),
                            ("TmpfsOptsFile", "mode") => {
                                mode = self.string(ov, &op).and_then(|m| {
                                    super::security::parse_mode(&m)
                                        .map_err(|e| self.err(ov.pos, &op, e))
                                        .ok()
                                })
                            }
                            _ => self.unknown(ok, &p, def),
                        }
                    }
                }
                _ => self.unknown(k, path, "VolumeLongFile"),
            }
        }
        let Some(target) = target else {
            self.err(pos, path, "`target` is required");
            return None;
        };
        match kind.as_deref() {
            Some("tmpfs") => {
                if !target.starts_with('/') {
                    self.err(
                        pos,
                        path,
                        format!("target {target:?} must be an absolute path inside the container"),
                    );
                    return None;
                }
                Some(Mount::Tmpfs { target, size, mode })
            }
            Some(t @ ("bind" | "volume")) => {
                let Some(src) = source else {
                    self.err(pos, path, format!("`source` is required for type {t}"));
                    return None;
                };
                let m = self.mount_for(&src, target, ro, pos, path)?;
                let matches = matches!(
                    (&m, t),
                    (Mount::Bind { .. }, "bind") | (Mount::Volume { .. }, "volume")
                );
                if !matches {
                    self.err(pos, path, format!("source {src:?} does not fit type {t} (a bind source starts with ., / or ~)"));
                    return None;
                }
                Some(m)
            }
            Some(other) => {
                self.err(
                    kind_pos,
                    &child(path, "type"),
                    format!("volume type {other:?} is not supported (use bind, volume or tmpfs)"),
                );
                None
            }
            None => {
                self.err(pos, path, "`type` is required (bind, volume or tmpfs)");
                None
            }
        }
    }

    fn caps(&mut self, n: &Node, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let Some(items) = self.list(n, path) else {
            return out;
        };
        for (i, it) in items.iter().enumerate() {
            let p = index(path, i);
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

    fn ulimits(&mut self, n: &Node, path: &str) -> BTreeMap<String, Ulimit> {
        let mut out = BTreeMap::new();
        let Some(m) = self.map(n, path) else {
            return out;
        };
        for (k, v) in m.iter().filter(|(k, _)| !k.name.starts_with("x-")) {
            let p = child(path, &k.name);
            let name = k.name.to_ascii_lowercase();
            if !ULIMITS.contains(&name.as_str()) {
                self.err(
                    k.pos,
                    &p,
                    format!(
                        "unknown ulimit `{}` (expected one of: {})",
                        k.name,
                        ULIMITS.join(", ")
                    ),
                );
                continue;
            }
            let u = match &v.kind {
                Kind::Scalar { .. } => self.uint(v, &p).map(|x| Ulimit { soft: x, hard: x }),
                Kind::Map(m) => {
                    let (mut soft, mut hard) = (None, None);
                    for (kk, vv) in m {
                        let kp = child(&p, &kk.name);
                        match kk.name.as_str() {
                            "soft" => soft = self.uint(vv, &kp),
                            "hard" => hard = self.uint(vv, &kp),
                            _ => self.unknown(kk, &p, "UlimitPairFile"),
                        }
                    }
                    match (soft, hard) {
                        (Some(s), Some(h)) if s <= h => Some(Ulimit { soft: s, hard: h }),
                        (Some(s), Some(h)) => {
                            self.err(v.pos, &p, format!("soft limit {s} is above hard limit {h}"));
                            None
                        }
                        _ => {
                            self.err(v.pos, &p, "both `soft` and `hard` are required");
                            None
                        }
                    }
                }
                _ => {
                    self.err(
                        v.pos,
                        &p,
                        format!(
                            "expected a number or {{soft, hard}}, found {}",
                            v.describe()
                        ),
                    );
                    None
                }
            };
            if let Some(u) = u {
                out.insert(name, u);
            }
        }
        out
    }

    fn ports(&mut self, n: &Node, path: &str) -> Vec<Port> {
        let mut out = Vec::new();
        let Some(items) = self.list(n, path) else {
            return out;
        };
        for (i, it) in items.iter().enumerate() {
            let p = index(path, i);
            match &it.kind {
                Kind::Scalar { value, .. } => match parse_port(value) {
                    Ok(port) => out.push(port),
                    Err(m) => self.err(it.pos, &p, m),
                },
                Kind::Map(m) => {
                    let mut port = Port {
                        host_ip: None,
                        published: None,
                        target: 0,
                        protocol: "tcp".into(),
                    };
                    let mut has_target = false;
                    for (k, v) in m {
                        let kp = child(&p, &k.name);
                        match k.name.as_str() {
                            "target" => {
                                if let Some(t) = self.uint(v, &kp) {
                                    match u16::try_from(t) {
                                        Ok(t) if t > 0 => {
                                            port.target = t;
                                            has_target = true;
                                        }
                                        _ => self.err(
                                            v.pos,
                                            &kp,
                                            format!("port {t} out of range (1 to 65535)"),
                                        ),
                                    }
                                }
                            }
                            "published" => {
                                port.published = self.opt_string(v, &kp);
                                if let Some(pb) = &port.published {
                                    if let Err(m) = check_port_or_range(pb) {
                                        self.err(v.pos, &kp, m);
                                    }
                                }
                            }
                            "host_ip" => port.host_ip = self.opt_string(v, &kp),
                            "protocol" => {
                                if let Some(s) = self.string(v, &kp) {
                                    if s != "tcp" && s != "udp" {
                                        self.err(
                                            v.pos,
                                            &kp,
                                            format!("protocol {s:?} is not supported (tcp or udp)"),
                                        );
                                    }
                                    port.protocol = s;
                                }
                            }
                            "mode" => {
                                if let Some(s) = self.string(v, &kp) {
                                    if s != "host" && s != "ingress" {
                                        self.err(
                                            v.pos,
                                            &kp,
                                            format!("mode {s:?} is not supported (host)"),
                                        );
                                    }
                                }
                            }
                            "name" | "app_protocol" => {
                                self.string(v, &kp);
                            }
                            _ => self.unknown(k, &p, "PortLongFile"),
                        }
                    }
                    if !has_target {
                        self.err(it.pos, &p, "`target` is required");
                    } else {
                        out.push(port);
                    }
                }
                _ => self.err(
                    it.pos,
                    &p,
                    format!("expected a port string or a map, found {}", it.describe()),
                ),
            }
        }
        out
    }

    fn develop(&mut self, n: &Node, path: &str) -> Option<Develop> {
        let m = self.map(n, path)?;
        let mut dev = Develop::default();
        for (k, v) in m {
            let p = child(path, &k.name);
            if k.name != "watch" {
                self.unknown(k, path, "DevelopFile");
                continue;
            }
            let Some(items) = self.list(v, &p) else {
                continue;
            };
            for (i, it) in items.iter().enumerate() {
                let ip = index(&p, i);
                let Some(wm) = self.map(it, &ip) else {
                    continue;
                };
                let (mut wpath, mut action, mut target, mut ignore) =
                    (None, None, None, Vec::new());
                let before = self.problems.len();
                for (wk, wv) in wm {
                    let wp = child(&ip, &wk.name);
                    match wk.name.as_str() {
                        "path" => wpath = self.string(wv, &wp).map(|s| self.abs(&s)),
                        "action" => {
                            if let Some(s) = self.string(wv, &wp) {
                                action = match s.as_str() {
                                    "restart" => Some(WatchAction::Restart),
                                    "sync" => Some(WatchAction::Sync),
                                    "sync+restart" => Some(WatchAction::SyncRestart),
                                    "rebuild" => Some(WatchAction::Rebuild),
                                    _ => {
                                        self.err(wv.pos, &wp, format!("invalid action {s:?} (expected restart, sync, sync+restart or rebuild)"));
                                        None
                                    }
                                };
                            }
                        }
                        "target" => target = self.opt_string(wv, &wp),
                        "ignore" => ignore = self.string_list(wv, &wp).unwrap_or_default(),
                        _ => self.unknown(wk, &ip, "WatchFile"),
                    }
                }
                match (wpath, action) {
                    (Some(path), Some(action)) => {
                        if matches!(action, WatchAction::Sync | WatchAction::SyncRestart)
                            && target.is_none()
                        {
                            self.err(it.pos, &ip, "`target` is required for sync actions");
                        }
                        dev.watch.push(WatchRule {
                            path,
                            action,
                            target,
                            ignore,
                        });
                    }
                    _ if self.problems.len() > before => {}
                    _ => self.err(it.pos, &ip, "`path` and `action` are required"),
                }
            }
        }
        Some(dev)
    }
}

pub(crate) fn parse_restart(s: &str) -> Option<RestartPolicy> {
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

pub(crate) fn normalize_signal(s: &str) -> Option<String> {
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

fn check_port_or_range(s: &str) -> Result<(), String> {
    let ok = |x: &str| x.parse::<u16>().is_ok_and(|v| v > 0);
    let valid = match s.split_once('-') {
        Some((a, b)) => ok(a) && ok(b) && a.parse::<u16>().ok() <= b.parse::<u16>().ok(),
        None => ok(s),
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid port {s:?} (1 to 65535, or a range like 8000-8010)"
        ))
    }
}

/// `[[IP:]HOST:]CONTAINER[/PROTOCOL]`.
pub(crate) fn parse_port(s: &str) -> Result<Port, String> {
    let bad =
        || format!("invalid port {s:?} (expected [[IP:]HOST:]CONTAINER[/tcp|udp], e.g. 8080:80)");
    let (spec, protocol) = match s.rsplit_once('/') {
        Some((a, p)) if p == "tcp" || p == "udp" => (a, p.to_string()),
        Some(_) => return Err(bad()),
        None => (s, "tcp".to_string()),
    };
    let (rest, container) = match spec.rsplit_once(':') {
        Some((r, c)) => (Some(r), c),
        None => (None, spec),
    };
    if container.contains('-') {
        return Err(format!(
            "port range {container:?} in the container is not supported yet; list each port"
        ));
    }
    let target: u16 = container.parse().ok().filter(|v| *v > 0).ok_or_else(bad)?;
    let (host_ip, published) = match rest {
        None => (None, None),
        Some(r) => {
            let (ip, host) = if let Some(stripped) = r.strip_prefix('[') {
                let (ip, h) = stripped.split_once("]:").ok_or_else(bad)?;
                (Some(ip.to_string()), h)
            } else {
                match r.rsplit_once(':') {
                    Some((ip, h)) => (Some(ip.to_string()), h),
                    None => (None, r),
                }
            };
            if let Some(ip) = &ip {
                if ip.parse::<std::net::IpAddr>().is_err() {
                    return Err(format!("invalid host IP {ip:?} in port {s:?}"));
                }
            }
            if host.is_empty() {
                (ip, None)
            } else {
                check_port_or_range(host)?;
                (ip, Some(host.to_string()))
            }
        }
    };
    Ok(Port {
        host_ip,
        published,
        target,
        protocol,
    })
}
