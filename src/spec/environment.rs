//! The loader for `env_file`: files of `KEY=VALUE` lines, required or not;
//! and the service's environment they make with `environment`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::interp;
use super::load::*;
use super::yaml::{Kind, Node, Pos};

impl Cx<'_> {
    pub(super) fn env_file(&mut self, n: &Node, path: &str) -> Vec<(PathBuf, bool, Pos, String)> {
        let mut out = Vec::new();
        // One path alone is at `path`; list items at `path[i]`.
        let items: Vec<(String, &Node)> = match &n.kind {
            Kind::Null => return out,
            Kind::Scalar { .. } => vec![(path.to_string(), n)],
            Kind::Seq(v) => indexed(v, path).collect(),
            Kind::Map(_) => {
                self.err(n.pos, path, "expected a path or a list, found a map");
                return out;
            }
        };
        for (p, it) in items {
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

    /// The environment: the env files in order, then `environment` wins. A
    /// key without a value takes the variable's (from `.env` or the
    /// process); without one either, it is removed.
    pub(super) fn environment_of(
        &mut self,
        env_files: Vec<(PathBuf, bool, Pos, String)>,
        environment: Vec<(String, Option<String>, Pos)>,
    ) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for (file, required, pos, p) in env_files {
            self.env_inputs.insert(file.clone());
            match super::input::read_text(&file) {
                Ok(text) => {
                    let (kv, errs) = interp::parse_env_file(&text);
                    for (line, msg) in errs {
                        self.err(pos, &p, format!("{}:{line}: {msg}", file.display()));
                    }
                    for (k, v) in kv {
                        self.set_var(&mut env, k, v);
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
            self.set_var(&mut env, k, v);
        }
        env
    }

    fn set_var(&self, env: &mut BTreeMap<String, String>, k: String, v: Option<String>) {
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
