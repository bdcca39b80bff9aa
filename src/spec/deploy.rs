//! The loader for `deploy`: `resources` (limits and reservations) and
//! `restart_policy` (the same as `restart`, with its timing).

use super::draft::Draft;
use super::load::*;
use super::model::{RestartPolicy, RestartTiming, MIN_RESTART_DELAY_MS};
use super::yaml::{Node, Pos};

impl Cx<'_> {
    pub(super) fn deploy(&mut self, n: &Node, path: &str, d: &mut Draft) {
        let l = &mut d.limits;
        let (cpus, memory, mem_res, pids) =
            (&mut l.cpus, &mut l.memory, &mut l.mem_res, &mut l.pids);
        let cpus_res = &mut l.cpus_res;
        let replicas_at = &mut d.replicas_at;
        let Some(m) = self.map(n, path) else { return };
        for (k, v) in m {
            let p = child(path, &k.name);
            if k.name == "restart_policy" {
                if let Some((policy, timing)) = self.restart_policy(v, &p) {
                    d.deploy_restart = Some((policy, timing, v.pos, p));
                }
                continue;
            }
            if k.name == "replicas" {
                if let Some(r) = self.replica_count(v, &p) {
                    replicas_at.push(r);
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

    /// `scale` or `deploy.replicas`: how many containers run the service.
    pub(super) fn replica_count(&mut self, v: &Node, p: &str) -> Option<(u32, Pos, String)> {
        let n = self.int(v, p)?;
        if !(0..=MAX_REPLICAS).contains(&n) {
            let msg = format!("expected 0 to {MAX_REPLICAS} replicas, found {n}");
            self.err(v.pos, p, msg);
            return None;
        }
        Some((n as u32, v.pos, p.to_string()))
    }

    /// `scale` and `deploy.replicas` agree, and nothing that names one
    /// container (`container_name`, a fixed address, one host port) is
    /// given to several.
    pub(super) fn replicas_done(&mut self, d: &Draft) {
        let Some((n, pos, p)) = d.replicas_at.first() else {
            return;
        };
        if let Some((m, pos2, p2)) = d.replicas_at.get(1).filter(|r| r.0 != *n) {
            let msg = format!("{m} conflicts with {p}: {n} (both say how many replicas; give one)");
            self.err(*pos2, p2, msg);
        }
        if *n <= 1 {
            return;
        }
        let one = |what: &str| {
            format!("{n} replicas cannot share one {what}; remove it or run one replica")
        };
        if let Some((_, at)) = &d.net.unique.container_name {
            self.err(
                *pos,
                p,
                format!("{} (given at {at})", one("container_name")),
            );
        }
        if let Some((_, _, _, at)) = d.net.unique.ipv4.first() {
            self.err(*pos, p, format!("{} (given at {at})", one("ipv4_address")));
        }
        if let Some((_, _, _, at)) = d.net.unique.mac.first() {
            self.err(*pos, p, format!("{} (given at {at})", one("mac_address")));
        }
        for (port, (_, at)) in d.ports.iter().zip(&d.net.unique.ports) {
            let Some(host) = &port.published else {
                continue;
            };
            let Ok((lo, hi)) = super::ports::port_range(host) else {
                continue;
            };
            if u32::from(hi - lo) + 1 < *n {
                let top = (u32::from(lo) + n - 1).min(65535);
                let msg = format!("{n} replicas cannot all publish host port {host} (given at {at}): leave the host port out, or give a range of at least {n} ports (`{lo}-{top}:{}`)", port.target);
                self.err(*pos, p, msg);
            }
        }
    }
}

/// More would be a typo, not a deployment on one machine.
pub(super) const MAX_REPLICAS: i64 = 1000;
