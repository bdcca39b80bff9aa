//! The stack file: parsing with positions, interpolation, units, validation
//! and the config hash. Reads files, nothing else.
//!
//! Pipeline: read → [`yaml::parse`] (positioned tree, anchors, merge keys,
//! duplicates) → interpolation of every scalar value → conversion to the
//! normalized [`model`], collecting every problem → profiles and
//! dependency checks ([`check_dependencies`]).

mod blkio;
mod depends;
mod deploy;
mod develop;
mod draft;
mod environment;
mod extends;
pub mod file;
mod health;
mod hooks;
mod image;
pub mod input;
pub mod interp;
mod kernel;
mod limits;
mod load;
mod merge;
pub mod model;
mod names;
mod netkeys;
mod netmode;
mod networks;
mod ports;
mod process;
pub mod replicas;
mod rootfs;
mod secrets;
mod security;
mod sources;
mod ulimits;
pub mod units;
mod unsupported;
mod volume_defs;
mod volumes;
mod volumes_from;
pub mod yaml;

pub use depends::{check_dependencies, DependsError};
pub use model::*;
pub use names::no_such_service;
pub use process::normalize_signal;
pub use security::parse_tmpfs;
pub use volume_defs::valid_volume_name;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use load::{Cx, Problem};
use yaml::{Kind, Pos};

/// What `load` needs besides the file itself (the global CLI options).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f`, in merge order; none looks for `stack.yaml`, `compose.yaml`, ...
    /// (and the override file beside it) in the project directory.
    pub files: Vec<PathBuf>,
    /// `--project-directory`: relative paths, `.env` and the default files
    /// are found here [default: the first file's directory].
    pub project_dir: Option<PathBuf>,
    /// `-p`; else `name:` in the file, else the file's directory name.
    pub project_name: Option<String>,
    pub profiles: Vec<String>,
    /// `--env-file`, replacing `.env` beside the stack file.
    pub env_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// One or more problems, each already formatted as
    /// `FILE:LINE:COL: key.path: message`.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// No file given and none of the default names found.
    #[error("no stack file found: looked for stack.yaml, stack.yml, compose.yaml, compose.yml, docker-compose.yaml and docker-compose.yml in {0} (give one with -f FILE)")]
    NotFound(PathBuf),
    /// The file (or `--env-file`) could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Warnings the last load printed (for tests); the loader prints each on
/// stderr as it goes.
fn print_warnings(w: &[String]) {
    for w in w {
        eprintln!("{}", printable(w));
    }
}

/// The rule for project names; `Err` is the message.
pub fn check_project_name(name: &str) -> Result<String, String> {
    let lower = name.to_lowercase();
    let ok = !lower.is_empty()
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && lower
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(lower)
    } else {
        Err(format!(
            "invalid project name {name:?} (use lower case letters, digits, `_` and `-`, starting with a letter or digit)"
        ))
    }
}

fn valid_service_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
}

/// Variables for interpolation: `.env` (or `--env-file`), overridden by the
/// process environment.
fn load_vars(
    dir: &Path,
    opts: &LoadOptions,
    problems: &mut Vec<String>,
) -> Result<interp::Vars, LoadError> {
    let mut vars = interp::Vars::default();
    let (path, required) = match &opts.env_file {
        Some(p) => (p.clone(), true),
        None => (dir.join(".env"), false),
    };
    match input::read_text(&path) {
        Ok(text) => {
            let (kv, errs) = interp::parse_env_file(&text);
            for (line, msg) in errs {
                problems.push(format!("{}:{line}:1: {msg}", path.display()));
            }
            for (k, v) in kv {
                if let Some(v) = v {
                    vars.vars.insert(k, v);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {}
        Err(e) => return Err(LoadError::Read { path, source: e }),
    }
    for (k, v) in std::env::vars_os() {
        if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
            vars.vars.insert(k, v);
        }
    }
    Ok(vars)
}

/// Variables for an included project in `dir`: its `env_file`s (each
/// required), else its `.env` (optional), under the process environment.
fn vars_for(dir: &Path, env_files: &[PathBuf]) -> Result<interp::Vars, String> {
    let mut vars = interp::Vars::default();
    let files: Vec<(PathBuf, bool)> = if env_files.is_empty() {
        vec![(dir.join(".env"), false)]
    } else {
        env_files.iter().map(|f| (f.clone(), true)).collect()
    };
    for (path, required) in files {
        match input::read_text(&path) {
            Ok(text) => {
                let (kv, errs) = interp::parse_env_file(&text);
                if let Some((line, msg)) = errs.first() {
                    return Err(format!("{}:{line}: {msg}", path.display()));
                }
                vars.vars
                    .extend(kv.into_iter().filter_map(|(k, v)| Some((k, v?))));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
    }
    for (k, v) in std::env::vars_os() {
        if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
            vars.vars.insert(k, v);
        }
    }
    Ok(vars)
}

/// Load, interpolate, merge, validate and normalize a stack's files.
pub fn load(opts: &LoadOptions) -> Result<Stack, LoadError> {
    let files = sources::find(opts)?;
    let sources = sources::read(&files)?;
    let dir = match &opts.project_dir {
        Some(d) => match std::path::absolute(d) {
            Ok(a) => load::normalize(&a),
            Err(e) => {
                return Err(LoadError::Read {
                    path: d.clone(),
                    source: e,
                })
            }
        },
        None => sources[0]
            .abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| "/".into()),
    };
    let mut pre = Vec::new();
    let vars = load_vars(&dir, opts, &mut pre)?;
    let mut sources = sources;
    let (stack, warnings) = load_str(&mut sources, &dir, vars, opts);
    print_warnings(&warnings);
    match stack {
        Ok(mut s) if pre.is_empty() => {
            // The stack files and the variables file first, then env_files.
            let env = match &opts.env_file {
                Some(p) => std::path::absolute(p)
                    .map(|a| load::normalize(&a))
                    .unwrap_or_else(|_| p.clone()),
                None => dir.join(".env"),
            };
            let mut inputs: Vec<PathBuf> = sources.iter().map(|s| s.abs.clone()).collect();
            inputs.push(env);
            for f in std::mem::take(&mut s.inputs) {
                if !inputs.contains(&f) {
                    inputs.push(f);
                }
            }
            s.inputs = inputs;
            Ok(s)
        }
        Ok(_) => Err(LoadError::Invalid(pre)),
        Err(mut e) => {
            pre.append(&mut e);
            Err(LoadError::Invalid(pre))
        }
    }
}

/// `s` with control characters escaped (`\n`, `\u{1b}`): a key or value
/// from the file may hold them, and a problem stays one line that cannot
/// drive the user's terminal.
pub fn printable(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The whole pipeline on files already read; returns the stack (or the
/// formatted problems) and the warnings to print.
fn load_str(
    sources: &mut Vec<sources::Source>,
    dir: &Path,
    mut vars: interp::Vars,
    opts: &LoadOptions,
) -> (Result<Stack, Vec<String>>, Vec<String>) {
    // Files `extends` and `include` read are added after these.
    let given = sources.len();
    let (root, problems) = match sources::tree(sources, &mut vars, dir, &vars_for) {
        Ok(t) => t,
        Err(problems) => return (Err(sources::format(sources, problems)), vars.warnings),
    };
    let mut warnings = std::mem::take(&mut vars.warnings);
    let Kind::Map(top) = &root.kind else {
        unreachable!("sources::tree refuses a file that is not a map")
    };
    let mut cx = Cx {
        dir: dir.to_path_buf(),
        vars: &vars,
        problems,
        volume_names: BTreeMap::new(),
        host_seen: BTreeSet::new(),
        env_inputs: BTreeSet::new(),
        networks: BTreeMap::new(),
        service_names: BTreeSet::new(),
        secret_defs: BTreeMap::new(),
        config_defs: BTreeMap::new(),
    };

    // First pass: names of top-level volumes and networks (services
    // refer to them).
    let mut volumes = BTreeMap::new();
    let mut services_node = None;
    let mut name_node = None;
    let mut networks_node = None;
    for (k, v) in top {
        match k.name.as_str() {
            "services" => services_node = Some((k, v)),
            "name" => name_node = Some(v),
            "networks" => networks_node = Some(v),
            "version" => warnings.push(format!(
                "warning: {}:{}:{}: `version` is obsolete and ignored; remove it",
                sources::shown(sources, k.pos).display(),
                k.pos.line,
                k.pos.col
            )),
            "volumes" => volumes.extend(cx.top_volumes(v)),
            "secrets" => cx.secret_defs = cx.top_files(v, FileKind::Secret),
            "configs" => cx.config_defs = cx.top_files(v, FileKind::Config),
            _ => cx.unknown(k, "", "StackFile"),
        }
    }
    let name = project_name(&mut cx, opts, name_node, dir);
    cx.top_networks(networks_node, name.as_deref().unwrap_or("stack"));
    let (mut services, extras) = read_services(&mut cx, services_node);

    let all_declared: BTreeSet<String> = match services_node.map(|(_, v)| &v.kind) {
        Some(Kind::Map(m)) => m.iter().map(|(k, _)| k.name.clone()).collect(),
        _ => BTreeSet::new(),
    };
    let from = extras
        .iter()
        .map(|(k, e)| (k.clone(), e.volumes_from.clone()))
        .collect();
    volumes_from::resolve(&mut services, &from);
    cx.check_tmpfs_sharing(&services);
    let mut problems = std::mem::take(&mut cx.problems);
    let active = apply_profiles(&mut services, &extras, &all_declared, opts, &mut problems);
    problems.extend(netmode::check_across(&active, &extras));

    // Cycles are looked for even when other keys have problems, so one run
    // reports all of them. A dependency on a service that failed to load
    // is not missing, and a missing one is apply_profiles' to say: with
    // problems, only the loaded services' edges are checked.
    let checked = if problems.is_empty() {
        check_dependencies(&active)
    } else {
        let mut known = active.clone();
        for svc in known.values_mut() {
            svc.depends_on.retain(|d, _| active.contains_key(d));
        }
        check_dependencies(&known)
    };
    if let Err(e) = checked {
        let p = depends_problem(&e, &extras, &active);
        if !problems.iter().any(|q| q.path == p.path) {
            problems.push(p);
        }
    }
    if problems.is_empty() {
        if let Some(name) = name {
            let networks = netmode::used_networks(&active);
            let stack = Stack {
                name,
                file: sources[0].abs.clone(),
                overrides: sources[1..given].iter().map(|s| s.abs.clone()).collect(),
                dir: dir.to_path_buf(),
                services: active,
                volumes,
                networks,
                inputs: std::mem::take(&mut cx.env_inputs).into_iter().collect(),
                replicas: BTreeMap::new(),
            };
            return (Ok(stack), warnings);
        }
    }
    (Err(sources::format(sources, problems)), warnings)
}

/// The project name: -p, else `name:`, else the directory's name.
fn project_name(
    cx: &mut Cx,
    opts: &LoadOptions,
    name_node: Option<&yaml::Node>,
    dir: &Path,
) -> Option<String> {
    if let Some(p) = &opts.project_name {
        match check_project_name(p) {
            Ok(n) => Some(n),
            Err(m) => {
                cx.err(Pos::at(1, 1), "", format!("-p/STACK_PROJECT_NAME: {m}"));
                None
            }
        }
    } else if let Some(n) = name_node {
        cx.string(n, "name")
            .and_then(|s| match check_project_name(&s) {
                Ok(n) => Some(n),
                Err(m) => {
                    cx.err(n.pos, "name", m);
                    None
                }
            })
    } else {
        let d = dir
            .file_name()
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        match check_project_name(&d) {
            Ok(n) => Some(n),
            Err(m) => {
                cx.err(
                    Pos::at(1, 1),
                    "",
                    format!("no `name:` in the file and the directory name is not a valid project name: {m}; add `name:` or use -p"),
                );
                None
            }
        }
    }
}

/// The services by name, and what each one's conversion yields beside
/// the model (positions for dependency errors).
type Services = (
    BTreeMap<String, Service>,
    BTreeMap<String, load::ServiceExtra>,
);

/// Every service under `services:` (the key and its value), converted.
fn read_services(cx: &mut Cx, node: Option<(&yaml::Key, &yaml::Node)>) -> Services {
    let mut services = BTreeMap::new();
    let mut extras = BTreeMap::new();
    // No services is a project too (a file of networks and volumes, or
    // one that only includes others), as in Compose.
    let Some((_, v)) = node else {
        return (services, extras);
    };
    match &v.kind {
        Kind::Null => {}
        Kind::Map(m) if m.is_empty() => {}
        _ => {
            let Some(m) = cx.map(v, "services") else {
                return (services, extras);
            };
            cx.service_names = m
                .iter()
                .filter(|(k, _)| !k.name.starts_with("x-"))
                .map(|(k, _)| k.name.clone())
                .collect();
            for (sk, sv) in m {
                let path = format!("services.{}", sk.name);
                if sk.name.starts_with("x-") {
                    continue;
                }
                if !valid_service_name(&sk.name) {
                    cx.err(sk.pos, &path, format!("invalid service name {:?} (letters, digits, `_`, `-` and `.`, starting with a letter or digit)", sk.name));
                    continue;
                }
                if let Some((svc, extra)) = cx.service(sk, sv, &path) {
                    services.insert(sk.name.clone(), svc);
                    extras.insert(sk.name.clone(), extra);
                }
            }
        }
    }
    (services, extras)
}

/// A `depends_on` problem at the service's first dependency (or the
/// service itself).
fn depends_problem(
    e: &DependsError,
    extras: &BTreeMap<String, load::ServiceExtra>,
    services: &BTreeMap<String, Service>,
) -> Problem {
    let svc = match e {
        DependsError::Cycle { first, .. } => first,
        DependsError::Missing { service, .. } | DependsError::SelfDependency(service) => service,
    };
    let pos = extras
        .get(svc)
        .map(|x| x.depends_pos.values().next().copied().unwrap_or(x.pos))
        .unwrap_or_default();
    let msg = match e {
        DependsError::Cycle { path, .. } => netmode::cycle_message(path, services),
        _ => None,
    };
    Problem {
        pos,
        path: format!("services.{svc}.depends_on"),
        msg: msg.unwrap_or_else(|| e.to_string()),
    }
}

/// Keep the services whose profiles are enabled; check that every
/// dependency exists and is active.
fn apply_profiles(
    services: &mut BTreeMap<String, Service>,
    extras: &BTreeMap<String, load::ServiceExtra>,
    declared: &BTreeSet<String>,
    opts: &LoadOptions,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, Service> {
    let all = opts.profiles.iter().any(|p| p == "*");
    let enabled: BTreeSet<&str> = opts.profiles.iter().map(String::as_str).collect();
    let is_active = |s: &Service| {
        s.profiles.is_empty() || all || s.profiles.iter().any(|p| enabled.contains(p.as_str()))
    };
    let inactive: BTreeMap<String, Vec<String>> = services
        .iter()
        .filter(|(_, s)| !is_active(s))
        .map(|(n, s)| (n.clone(), s.profiles.clone()))
        .collect();
    let mut active: BTreeMap<String, Service> = std::mem::take(services)
        .into_iter()
        .filter(|(n, _)| !inactive.contains_key(n))
        .collect();
    for (name, svc) in active.iter_mut() {
        let extra = &extras[name];
        let mut drop = Vec::new();
        for (dep, d) in &svc.depends_on {
            let pos = extra.depends_pos.get(dep).copied().unwrap_or(extra.pos);
            let path = extra
                .depends_path
                .get(dep)
                .cloned()
                .unwrap_or_else(|| format!("services.{name}.depends_on.{dep}"));
            if let Some(profiles) = inactive.get(dep) {
                if d.required {
                    let list = profiles
                        .iter()
                        .map(|p| format!("--profile {p}"))
                        .collect::<Vec<_>>()
                        .join(" or ");
                    problems.push(Problem {
                        pos,
                        path,
                        msg: format!("service `{name}` depends on `{dep}`, which is not active: enable its profile with {list}"),
                    });
                } else {
                    drop.push(dep.clone());
                }
            } else if !declared.contains(dep) {
                if d.required {
                    let msg = undefined_dependency(name, dep, declared);
                    problems.push(Problem { pos, path, msg });
                } else {
                    drop.push(dep.clone());
                }
            }
        }
        for d in drop {
            svc.depends_on.remove(&d);
        }
    }
    active
}

/// "service `a` depends on `b`, which is not defined (did you mean ...)".
pub(crate) fn undefined_dependency(name: &str, dep: &str, declared: &BTreeSet<String>) -> String {
    match load_suggest(dep, declared) {
        Some(s) => format!(
            "service `{name}` depends on `{dep}`, which is not defined (did you mean `{s}`?)"
        ),
        None => format!("service `{name}` depends on `{dep}`, which is not defined"),
    }
}

fn load_suggest(key: &str, names: &BTreeSet<String>) -> Option<String> {
    names
        .iter()
        .map(|c| (strsim::jaro_winkler(key, c), c))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.clone())
}

/// Canonical JSON: object keys sorted, no whitespace. The model is shallow,
/// so recursion here is bounded by its type depth.
fn canonical(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// sha256 (hex) of the canonical JSON of a service's effective config,
/// excluding `depends_on` and `profiles`.
pub fn config_hash(svc: &Service) -> String {
    let mut v = serde_json::to_value(svc).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(m) = &mut v {
        m.remove("depends_on");
        m.remove("profiles");
    }
    let mut s = String::new();
    canonical(&v, &mut s);
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Load from a string (tests, tools): `file` is only used for messages and
/// to resolve relative paths (its directory). Variables come from `vars`
/// only (no `.env`, no process environment).
pub fn load_from_str(
    text: &str,
    file: &Path,
    vars: BTreeMap<String, String>,
    opts: &LoadOptions,
) -> Result<(Stack, Vec<String>), LoadError> {
    let src = sources::Source {
        shown: file.to_path_buf(),
        abs: load::normalize(&std::path::absolute(file).map_err(|e| LoadError::Read {
            path: file.to_path_buf(),
            source: e,
        })?),
        bytes: text.as_bytes().to_vec(),
    };
    let dir = src
        .abs
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| "/".into());
    let v = interp::Vars {
        vars,
        ..Default::default()
    };
    let (r, w) = load_str(&mut vec![src], &dir, v, opts);
    r.map(|s| (s, w)).map_err(LoadError::Invalid)
}

#[cfg(test)]
mod tests;
