//! `extends` and `include`, on the positioned tree before it is read, as
//! Compose does them. A service that extends another starts from that
//! service's keys (its own `extends` resolved first, in its own file) and
//! merges its keys on top with the rules of merging files; the base's
//! `depends_on`, `links` and `volumes_from` are not inherited. A base from
//! another file keeps its relative paths relative to that file's
//! directory: they are made absolute before merging, and so are those of
//! an included project.

use std::path::{Path, PathBuf};

use super::load::Problem;
use super::merge;
use super::yaml::{Key, Kind, Node, Pos};

/// Reads the other files `extends` and `include` name (parsed,
/// interpolated, numbered for messages).
pub trait Files {
    /// The tree of `path`, or a sentence saying why not.
    fn load(&mut self, path: &Path) -> Result<Node, String>;
}

/// Chains longer than this are refused (they are cycles in practice, and
/// a cycle is also found by name).
const MAX_CHAIN: usize = 32;

/// Resolve every service's `extends` in `root`, whose relative `extends`
/// files are relative to `dir`.
pub fn resolve(root: &mut Node, dir: &Path, files: &mut dyn Files, problems: &mut Vec<Problem>) {
    let Some(Kind::Map(services)) = root.get("services").map(|s| &s.kind) else {
        return;
    };
    let names: Vec<String> = services
        .iter()
        .filter(|(_, v)| v.get("extends").is_some())
        .map(|(k, _)| k.name.clone())
        .collect();
    if names.is_empty() {
        return;
    }
    let tree = root.clone();
    let mut done = Vec::new();
    for name in names {
        let mut chain = Vec::new();
        match service(&tree, None, dir, &name, files, &mut chain) {
            Ok(n) => done.push((name, n)),
            Err(p) => {
                // Said once: the service is read without its `extends`.
                problems.push(p);
                let mut n = tree.get("services").and_then(|s| s.get(&name)).cloned();
                if let Some(n) = n.as_mut() {
                    n.remove("extends");
                    done.push((name, n.clone()));
                }
            }
        }
    }
    if let Some(Node {
        kind: Kind::Map(m), ..
    }) = root.get_mut("services")
    {
        for (name, n) in done {
            if let Some((_, v)) = m.iter_mut().find(|(k, _)| k.name == name) {
                *v = n;
            }
        }
    }
}

/// Service `name` of `tree` (the file at `file`, `None` for the project's
/// own files) with its `extends` resolved.
fn service(
    tree: &Node,
    file: Option<&Path>,
    dir: &Path,
    name: &str,
    files: &mut dyn Files,
    chain: &mut Vec<(Option<PathBuf>, String)>,
) -> Result<Node, Problem> {
    let here = (file.map(Path::to_path_buf), name.to_string());
    let Some(node) = tree.get("services").and_then(|s| s.get(name)) else {
        unreachable!("callers look the service up first")
    };
    let mut node = node.clone();
    let Some((key, ext)) = node.remove("extends") else {
        return Ok(node);
    };
    let problem = |pos: Pos, path: &str, msg: String| Problem {
        pos,
        path: path.to_string(),
        msg,
    };
    let at = format!("services.{name}.extends");
    if chain.contains(&here) || chain.len() > MAX_CHAIN {
        let mut names: Vec<&str> = chain.iter().map(|(_, n)| n.as_str()).collect();
        names.push(name);
        return Err(problem(
            key.pos,
            &at,
            format!("extends goes round in a circle: {}", names.join(" → ")),
        ));
    }
    let (base_name, base_file) = target(&ext).map_err(|m| problem(ext.pos, &at, m))?;
    chain.push(here);
    let base = match base_file {
        None => {
            if tree
                .get("services")
                .and_then(|s| s.get(&base_name))
                .is_none()
            {
                return Err(problem(
                    ext.pos,
                    &at,
                    format!("service `{name}` extends `{base_name}`, which is not defined in this file (add `file:` if it is in another one)"),
                ));
            }
            service(tree, file, dir, &base_name, files, chain)?
        }
        Some(f) => {
            let path = dir.join(&f);
            let other = files.load(&path).map_err(|m| {
                problem(
                    ext.pos,
                    &format!("{at}.file"),
                    format!("cannot read {}: {m}", path.display()),
                )
            })?;
            if other
                .get("services")
                .and_then(|s| s.get(&base_name))
                .is_none()
            {
                return Err(problem(
                    ext.pos,
                    &at,
                    format!(
                        "service `{name}` extends `{base_name}`, which {} does not define",
                        path.display()
                    ),
                ));
            }
            let other_dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
            let mut b = service(&other, Some(&path), &other_dir, &base_name, files, chain)?;
            absolutize(&mut b, &other_dir);
            b
        }
    };
    chain.pop();
    let mut base = base;
    for k in ["depends_on", "links", "volumes_from"] {
        base.remove(k);
    }
    Ok(merge::merge_service(base, node))
}

/// `extends: NAME` or `{ service: NAME, file: F }`.
fn target(ext: &Node) -> Result<(String, Option<String>), String> {
    if let Some(s) = ext.scalar() {
        return Ok((s.to_string(), None));
    }
    let Kind::Map(m) = &ext.kind else {
        return Err(format!(
            "expected a service name or {{ service, file }}, found {}",
            ext.describe()
        ));
    };
    let mut service = None;
    let mut file = None;
    for (k, v) in m {
        match (k.name.as_str(), v.scalar()) {
            ("service", Some(s)) => service = Some(s.to_string()),
            ("file", Some(f)) => file = Some(f.to_string()),
            ("service" | "file", None) => {
                return Err(format!(
                    "`{}` must be a string, found {}",
                    k.name,
                    v.describe()
                ))
            }
            (other, _) => {
                return Err(format!(
                    "unknown key `{other}` in extends (expected `service` and `file`)"
                ))
            }
        }
    }
    match service {
        Some(s) => Ok((s, file)),
        None => Err("`service` is required in extends' long form".into()),
    }
}

/// Make a service's relative paths absolute against `dir`, for a service
/// that came from a file in another directory: `rootfs`, local `image`
/// sources, `env_file`, bind sources, `develop.watch[].path` and a
/// seccomp profile file.
pub fn absolutize(svc: &mut Node, dir: &Path) {
    let join = |p: &str| -> Option<String> {
        let relative = !p.is_empty() && !p.starts_with('/') && !p.starts_with('~');
        relative.then(|| dir.join(p).to_string_lossy().into_owned())
    };
    let Kind::Map(m) = &mut svc.kind else { return };
    for (k, v) in m.iter_mut() {
        match k.name.as_str() {
            "rootfs" => set_scalar(v, |s| join(s)),
            "image" => set_scalar(v, |s| {
                let (t, rest) = s.split_once(':')?;
                if !matches!(t, "oci" | "oci-archive" | "docker-archive") {
                    return None;
                }
                Some(format!("{t}:{}", join(rest)?))
            }),
            "env_file" => each(v, |it| match &mut it.kind {
                Kind::Map(_) => {
                    if let Some(p) = it.get_mut("path") {
                        set_scalar(p, |s| join(s));
                    }
                }
                _ => set_scalar(it, |s| join(s)),
            }),
            "volumes" => each(v, |it| match &mut it.kind {
                Kind::Map(_) => {
                    let bind = it.get("type").and_then(Node::scalar) == Some("bind");
                    if let (true, Some(src)) = (bind, it.get_mut("source")) {
                        set_scalar(src, |s| join(s));
                    }
                }
                _ => set_scalar(it, |s| {
                    let (src, rest) = s.split_once(':')?;
                    src.starts_with('.')
                        .then(|| format!("{}:{rest}", join(src).unwrap_or_default()))
                }),
            }),
            "security_opt" => each(v, |it| {
                set_scalar(it, |s| {
                    let f = s
                        .strip_prefix("seccomp=")
                        .or_else(|| s.strip_prefix("seccomp:"))?;
                    (f != "unconfined").then(|| Some(format!("seccomp={}", join(f)?)))?
                })
            }),
            "develop" => {
                if let Some(w) = v.get_mut("watch") {
                    each(w, |it| {
                        if let Some(p) = it.get_mut("path") {
                            set_scalar(p, |s| join(s));
                        }
                    });
                }
            }
            _ => {}
        }
    }
}

fn set_scalar(n: &mut Node, f: impl Fn(&str) -> Option<String>) {
    if let Kind::Scalar { value, plain } = &mut n.kind {
        if let Some(v) = f(value) {
            *value = v;
            *plain = false;
        }
    }
}

fn each(n: &mut Node, mut f: impl FnMut(&mut Node)) {
    match &mut n.kind {
        Kind::Seq(items) => items.iter_mut().for_each(f),
        _ => f(n),
    }
}

/// Merge an included project's services, networks and volumes into
/// `root`; a name both define is a problem at the included definition.
pub fn include_into(root: &mut Node, included: Node, from: &Path, problems: &mut Vec<Problem>) {
    let Kind::Map(top) = included.kind else {
        return;
    };
    for (k, v) in top {
        if !matches!(k.name.as_str(), "services" | "networks" | "volumes") {
            continue;
        }
        let Kind::Map(entries) = v.kind else { continue };
        let section = match root.get_mut(&k.name) {
            Some(s) => s,
            None => {
                if let Kind::Map(m) = &mut root.kind {
                    m.push((
                        Key {
                            name: k.name.clone(),
                            pos: k.pos,
                        },
                        Node {
                            pos: v.pos,
                            merge: super::yaml::MergeTag::None,
                            kind: Kind::Map(Vec::new()),
                        },
                    ));
                }
                match root.get_mut(&k.name) {
                    Some(s) => s,
                    None => continue,
                }
            }
        };
        if matches!(section.kind, Kind::Null) {
            section.kind = Kind::Map(Vec::new());
        }
        let Kind::Map(mine) = &mut section.kind else {
            continue;
        };
        for (ek, ev) in entries {
            if ek.name.starts_with("x-") {
                continue;
            }
            if mine.iter().any(|(mk, _)| mk.name == ek.name) {
                problems.push(Problem {
                    pos: ek.pos,
                    path: format!("{}.{}", k.name, ek.name),
                    msg: format!(
                        "{} `{}` of the included {} is also defined by the project that includes it; include does not merge: rename one, or merge the files with -f",
                        &k.name[..k.name.len() - 1],
                        ek.name,
                        from.display()
                    ),
                });
                continue;
            }
            mine.push((ek, ev));
        }
    }
}
