//! The loader for `develop.watch`: sync, rebuild and restart rules.

use super::load::*;
use super::model::*;
use super::yaml::Node;

impl Cx<'_> {
    pub(super) fn develop(&mut self, n: &Node, path: &str) -> Option<Develop> {
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
            for (ip, it) in indexed(items, &p) {
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
