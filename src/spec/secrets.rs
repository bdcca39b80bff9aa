//! The loader for `secrets` and `configs`: the top-level definitions (a
//! file, a variable, or a config's own content) and each service's use of
//! them (a name, or `{source, target, uid, gid, mode}`).

use std::collections::BTreeMap;

use super::load::*;
use super::model::*;
use super::yaml::{Kind, Node};

fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Secret => "secret",
        FileKind::Config => "config",
    }
}

impl Cx<'_> {
    /// Top-level `secrets:` or `configs:`.
    pub(super) fn top_files(&mut self, n: &Node, kind: FileKind) -> BTreeMap<String, FileSource> {
        let section = format!("{}s", kind_name(kind));
        let mut out = BTreeMap::new();
        let Some(m) = (match &n.kind {
            Kind::Null => None,
            _ => self.map(n, &section),
        }) else {
            return out;
        };
        let def = match kind {
            FileKind::Secret => "SecretFile",
            FileKind::Config => "ConfigFile",
        };
        for (k, v) in m.iter().filter(|(k, _)| !k.name.starts_with("x-")) {
            let path = child(&section, &k.name);
            let Some(entries) = self.map(v, &path) else {
                continue;
            };
            let mut sources = Vec::new();
            for (ek, ev) in entries {
                let p = child(&path, &ek.name);
                match (ek.name.as_str(), kind) {
                    ("file", _) => {
                        if let Some(f) = self.string(ev, &p) {
                            let abs = self.abs(&f);
                            if !abs.is_file() {
                                self.err(ev.pos, &p, format!("{} file {f:?} not found (looked at {}; create it or fix the path, relative to the project directory)", kind_name(kind), abs.display()));
                                continue;
                            }
                            sources.push(FileSource::File(abs));
                        }
                    }
                    ("environment", _) => {
                        if let Some(var) = self.string(ev, &p) {
                            match self.vars.vars.get(&var) {
                                Some(value) => sources.push(FileSource::Environment {
                                    var,
                                    value: Some(value.clone()),
                                }),
                                None => self.err(ev.pos, &p, format!("variable `{var}` is not set; set it (or put it in .env) to give {} `{}` its content", kind_name(kind), k.name)),
                            }
                        }
                    }
                    ("content", FileKind::Config) => {
                        if let Some(c) = self.string(ev, &p) {
                            sources.push(FileSource::Content(c));
                        }
                    }
                    ("external", _) | ("name", _) => self.err(
                        ek.pos,
                        &p,
                        format!("`{}` is for swarm's {}s, which stack does not have; give `file` or `environment`", ek.name, kind_name(kind)),
                    ),
                    _ => self.unknown(ek, &path, def),
                }
            }
            match sources.len() {
                1 => {
                    out.insert(k.name.clone(), sources.remove(0));
                }
                0 if self.problems.iter().any(|p| p.path.starts_with(&path)) => {}
                0 => self.err(
                    v.pos,
                    &path,
                    format!(
                        "{} `{}` needs `file` or `environment`{}",
                        kind_name(kind),
                        k.name,
                        if kind == FileKind::Config {
                            " or `content`"
                        } else {
                            ""
                        }
                    ),
                ),
                _ => self.err(
                    v.pos,
                    &path,
                    format!(
                        "{} `{}` takes one source, not several",
                        kind_name(kind),
                        k.name
                    ),
                ),
            }
        }
        out
    }

    /// A service's `secrets:` or `configs:`.
    pub(super) fn service_files(&mut self, n: &Node, path: &str, kind: FileKind) -> Vec<FileMount> {
        let mut out = Vec::new();
        let Some(items) = self.list(n, path) else {
            return out;
        };
        for (p, it) in indexed(items, path) {
            if let Some(f) = self.file_ref(it, &p, kind) {
                if out.iter().any(|o: &FileMount| o.target == f.target) {
                    self.err(
                        it.pos,
                        &p,
                        format!("{} target {} is given twice", kind_name(kind), f.target),
                    );
                    continue;
                }
                out.push(f);
            }
        }
        out
    }

    fn file_ref(&mut self, it: &Node, p: &str, kind: FileKind) -> Option<FileMount> {
        let (mut source, mut target, mut uid, mut gid, mut mode) = (None, None, 0, 0, 0o444);
        match &it.kind {
            Kind::Scalar { value, .. } => source = Some(value.clone()),
            Kind::Map(m) => {
                for (k, v) in m {
                    let kp = child(p, &k.name);
                    match k.name.as_str() {
                        "source" => source = self.string(v, &kp),
                        "target" => target = self.string(v, &kp),
                        "uid" | "gid" => {
                            let s = self.string(v, &kp)?;
                            let Ok(id) = s.parse::<u32>() else {
                                self.err(
                                    v.pos,
                                    &kp,
                                    format!("invalid {} {s:?} (expected a number)", k.name),
                                );
                                return None;
                            };
                            if k.name == "uid" {
                                uid = id
                            } else {
                                gid = id
                            }
                        }
                        "mode" => {
                            let s = self.string(v, &kp)?;
                            match super::security::parse_mode(&s) {
                                Ok(m) => mode = m,
                                Err(e) => {
                                    self.err(v.pos, &kp, e);
                                    return None;
                                }
                            }
                        }
                        _ => self.unknown(k, p, "FileRefLongFile"),
                    }
                }
            }
            _ => {
                self.err(
                    it.pos,
                    p,
                    format!(
                        "expected a {} name or {{ source, target }}, found {}",
                        kind_name(kind),
                        it.describe()
                    ),
                );
                return None;
            }
        }
        let Some(name) = source else {
            self.err(it.pos, p, "`source` is required: the top-level name");
            return None;
        };
        let defs = match kind {
            FileKind::Secret => &self.secret_defs,
            FileKind::Config => &self.config_defs,
        };
        let Some(from) = defs.get(&name).cloned() else {
            let msg = format!("{} `{name}` is not declared; add it under the top-level `{}s:` (e.g. {}s: {{ {name}: {{ file: ./{name}.txt }} }})", kind_name(kind), kind_name(kind), kind_name(kind));
            self.err(it.pos, p, msg);
            return None;
        };
        let t = target.unwrap_or_else(|| name.clone());
        let target = match (kind, t.starts_with('/')) {
            (_, true) => t,
            (FileKind::Secret, false) => format!("/run/secrets/{t}"),
            (FileKind::Config, false) => format!("/{t}"),
        };
        if target.split('/').any(|c| c == "..") {
            self.err(it.pos, p, format!("target {target:?} may not contain `..`"));
            return None;
        }
        Some(FileMount {
            kind,
            name,
            from,
            target,
            uid,
            gid,
            mode,
        })
    }
}
