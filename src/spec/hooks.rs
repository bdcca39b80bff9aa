//! The loader for `post_start` and `pre_stop`.

use std::collections::BTreeMap;

use super::load::*;
use super::model::*;
use super::yaml::{Kind, Node};

impl Cx<'_> {
    pub(super) fn hooks(&mut self, n: &Node, path: &str) -> Vec<Hook> {
        let mut out = Vec::new();
        let Some(items) = self.list(n, path) else {
            return out;
        };
        for (p, it) in indexed(items, path) {
            let Kind::Map(m) = &it.kind else {
                self.err(
                    it.pos,
                    &p,
                    format!("expected a map with `command`, found {}", it.describe()),
                );
                continue;
            };
            let mut hook = Hook {
                command: Vec::new(),
                user: None,
                privileged: false,
                working_dir: None,
                environment: BTreeMap::new(),
            };
            for (k, v) in m {
                let kp = child(&p, &k.name);
                match k.name.as_str() {
                    "command" => hook.command = self.argv(v, &kp).unwrap_or_default(),
                    "user" => hook.user = self.opt_string(v, &kp),
                    "privileged" => hook.privileged = self.boolean(v, &kp).unwrap_or(false),
                    "working_dir" => hook.working_dir = self.opt_string(v, &kp),
                    "environment" => {
                        for (key, value, _) in self.kv(v, &kp) {
                            // `KEY` alone: from the variables, as a service's.
                            let value = value.or_else(|| self.vars.vars.get(&key).cloned());
                            if let Some(value) = value {
                                hook.environment.insert(key, value);
                            }
                        }
                    }
                    _ => self.unknown(k, &p, "HookFile"),
                }
            }
            if hook.command.is_empty() {
                self.err(
                    it.pos,
                    &p,
                    "`command` is required: what to run in the container",
                );
                continue;
            }
            out.push(hook);
        }
        out
    }
}
