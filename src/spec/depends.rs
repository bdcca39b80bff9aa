//! The loader for `depends_on`: a list of names, or a map with `condition`, `restart` and `required`.

use std::collections::BTreeMap;

use super::load::*;
use super::model::*;
use super::yaml::{Kind, Node, Pos};

impl Cx<'_> {
    pub(super) fn depends_on(
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
}
