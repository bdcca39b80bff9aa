//! The loader for `ulimits`: a number or `{soft, hard}` per resource.

use std::collections::BTreeMap;

use super::load::*;
use super::model::*;
use super::yaml::{Kind, Node};

pub(super) const ULIMITS: &[&str] = &[
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
    pub(super) fn ulimits(&mut self, n: &Node, path: &str) -> BTreeMap<String, Ulimit> {
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
}
