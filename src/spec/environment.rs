//! The loader for `env_file`: files of `KEY=VALUE` lines, required or not.

use std::path::PathBuf;

use super::load::*;
use super::yaml::{Kind, Node, Pos};

impl Cx<'_> {
    pub(super) fn env_file(&mut self, n: &Node, path: &str) -> Vec<(PathBuf, bool, Pos, String)> {
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
}
