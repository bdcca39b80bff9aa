//! The loader for `deploy`: `resources` (limits and reservations) and
//! `restart_policy` (the same as `restart`, with its timing).

use super::draft::Draft;
use super::load::*;
use super::model::{RestartPolicy, RestartTiming, MIN_RESTART_DELAY_MS};
use super::yaml::Node;

impl Cx<'_> {
    pub(super) fn deploy(&mut self, n: &Node, path: &str, d: &mut Draft) {
        let l = &mut d.limits;
        let (cpus, memory, mem_res, pids) =
            (&mut l.cpus, &mut l.memory, &mut l.mem_res, &mut l.pids);
        let cpus_res = &mut l.cpus_res;
        let restart = &mut d.deploy_restart;
        let Some(m) = self.map(n, path) else { return };
        for (k, v) in m {
            let p = child(path, &k.name);
            if k.name == "restart_policy" {
                if let Some((policy, timing)) = self.restart_policy(v, &p) {
                    *restart = Some((policy, timing, v.pos, p));
                }
                continue;
            }
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
                                "cpus" => {
                                    if let Some(c) = self.cpus(lv, &lp) {
                                        *cpus_res = Some((c, lv.pos, lp.clone()));
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

impl Cx<'_> {
    /// `deploy.restart_policy`: `condition` as `restart` (`any` is
    /// `always`, `none` is `no`), `max_attempts` as `on-failure:N`.
    fn restart_policy(&mut self, n: &Node, path: &str) -> Option<(RestartPolicy, RestartTiming)> {
        let m = self.map(n, path)?;
        let mut condition = ("any".to_string(), n.pos, child(path, "condition"));
        let mut max = None;
        let mut timing = RestartTiming::default();
        for (k, v) in m {
            let p = child(path, &k.name);
            match k.name.as_str() {
                "condition" => {
                    if let Some(c) = self.string(v, &p) {
                        condition = (c, v.pos, p);
                    }
                }
                "max_attempts" => {
                    max = self
                        .uint(v, &p)
                        .map(|x| (u32::try_from(x).unwrap_or(u32::MAX), v.pos, p));
                }
                "delay" => {
                    timing.delay = self.duration(v, &p);
                    if let Some(d) = timing.delay.filter(|d| d.0 < MIN_RESTART_DELAY_MS) {
                        self.err(v.pos, &p, format!("delay {d} is too short (at least 100ms, so a crashing container cannot spin)"));
                    }
                }
                "window" => timing.window = self.duration(v, &p),
                _ => self.unknown(k, path, "RestartPolicyFile"),
            }
        }
        let policy = match condition.0.as_str() {
            "any" | "always" => RestartPolicy::Always,
            "on-failure" => RestartPolicy::OnFailure {
                max_retries: max.as_ref().map(|m| m.0),
            },
            "none" | "no" => RestartPolicy::No,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            other => {
                let shown = super::printable(other);
                self.err(
                    condition.1,
                    &condition.2,
                    format!("invalid condition {shown:?} (expected any, on-failure or none)"),
                );
                return None;
            }
        };
        if let (Some((_, pos, p)), false) =
            (&max, matches!(policy, RestartPolicy::OnFailure { .. }))
        {
            self.err(*pos, p, format!("max_attempts needs condition: on-failure (condition `{}` restarts without limit)", condition.0));
        }
        Some((policy, timing))
    }

    /// `restart` and `deploy.restart_policy` are one setting: given both,
    /// they must agree.
    pub(super) fn restart_done(&mut self, d: &mut Draft) {
        let Some((policy, _, pos, p)) = &d.deploy_restart else {
            return;
        };
        if let Some((_, at)) = &d.restart_at {
            if *policy != d.restart {
                let msg = format!("conflicts with {at} (both say when to restart; give one)");
                self.err(*pos, p, msg);
            }
        }
        d.restart = *policy;
    }
}
