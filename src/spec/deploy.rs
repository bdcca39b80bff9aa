//! The loader for `deploy` (only `resources`: limits and reservations).

use super::load::*;
use super::units::{Bytes, Cpus};
use super::yaml::Node;

impl Cx<'_> {
    pub(super) fn deploy(
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
}
