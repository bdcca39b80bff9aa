//! The loader for a service's own limit keys (`cpus`, `mem_limit`,
//! `mem_reservation`, `memswap_limit`, `pids_limit`, `cpu_shares`,
//! `cpuset`, `cpu_period`, `cpu_quota`, `mem_swappiness`,
//! `oom_kill_disable`), folded with `deploy.resources` into one `Limits`.

use super::load::*;
use super::model::*;
use super::units::{Bytes, Cpus};
use super::yaml::{Node, Pos};

/// A service's limits while its keys are read. cpus, memory, memory
/// reservation and pids may each be given twice (a service key and
/// `deploy.resources`), so each keeps the path that gave it.
#[derive(Debug, Default)]
pub(super) struct LimitKeys {
    pub cpus: Option<(Cpus, String)>,
    pub memory: Option<(Bytes, String)>,
    pub mem_res: Option<(Bytes, String)>,
    pub pids: Option<(i64, String)>,
    /// Where `memswap_limit` was, for the check against the memory limit.
    pub memswap_at: (Pos, String),
    /// Where `cpu_period` or `cpu_quota` was, for the check against `cpus`.
    pub cfs_at: Option<(Pos, String)>,
    /// `deploy.resources.reservations.cpus`, with where it was.
    pub cpus_res: Option<(Cpus, Pos, String)>,
    /// Where `cpu_shares` was, for the check against the reservation.
    pub shares_at: Option<String>,
    /// Everything else, set directly.
    pub limits: Limits,
}

impl Cx<'_> {
    /// One of the service-level limit keys (see the module doc); `key` is
    /// its name.
    pub(super) fn limit_key(&mut self, l: &mut LimitKeys, key: &str, v: &Node, p: &str) {
        match key {
            "cpus" => {
                if let Some(c) = self.cpus(v, p) {
                    self.set_limit(&mut l.cpus, c, v.pos, p, |c| c.to_string());
                }
            }
            "mem_limit" => {
                if let Some(b) = self.size(v, p) {
                    self.set_limit(&mut l.memory, b, v.pos, p, |b| b.to_string());
                }
            }
            "mem_reservation" => {
                if let Some(b) = self.size(v, p) {
                    self.set_limit(&mut l.mem_res, b, v.pos, p, |b| b.to_string());
                }
            }
            "memswap_limit" => {
                l.memswap_at = (v.pos, p.to_string());
                let s = self.string(v, p);
                l.limits.memswap = match s.as_deref() {
                    Some("-1") => Some(-1),
                    Some(_) => self.size(v, p).and_then(|b| i64::try_from(b.0).ok()),
                    None => None,
                };
            }
            "pids_limit" => {
                if let Some(n) = self.int(v, p) {
                    self.set_limit(&mut l.pids, n, v.pos, p, |n| n.to_string());
                }
            }
            "cpu_shares" => {
                if let Some(n) = self.uint(v, p) {
                    if !(2..=262_144).contains(&n) {
                        self.err(
                            v.pos,
                            p,
                            format!("cpu_shares {n} out of range (2 to 262144)"),
                        );
                    }
                    l.limits.cpu_shares = Some(n);
                    l.shares_at = Some(p.to_string());
                }
            }
            "cpuset" => {
                if let Some(s) = self.string(v, p) {
                    if !valid_cpuset(&s) {
                        self.err(
                            v.pos,
                            p,
                            format!("invalid cpuset {s:?} (expected e.g. 0-1,3)"),
                        );
                    }
                    l.limits.cpuset = Some(s);
                }
            }
            "cpu_period" => {
                l.cfs_at = Some((v.pos, p.to_string()));
                if let Some(n) = self.uint(v, p) {
                    if !(1000..=1_000_000).contains(&n) {
                        self.err(
                            v.pos,
                            p,
                            format!("cpu_period {n} out of range (1000 to 1000000 microseconds)"),
                        );
                    }
                    l.limits.cpu_period = Some(n);
                }
            }
            "cpu_quota" => {
                l.cfs_at = Some((v.pos, p.to_string()));
                if let Some(n) = self.int(v, p) {
                    if n != -1 && n < 1000 {
                        self.err(v.pos, p, format!("cpu_quota {n} out of range (at least 1000 microseconds, or -1 for none)"));
                    }
                    l.limits.cpu_quota = Some(n).filter(|n| *n > 0);
                }
            }
            "mem_swappiness" => {
                if let Some(n) = self.int(v, p) {
                    match u8::try_from(n) {
                        Ok(n) if n <= 100 => l.limits.mem_swappiness = Some(n),
                        // Docker's "the kernel's default".
                        _ if n == -1 => {}
                        _ => self.err(
                            v.pos,
                            p,
                            format!("mem_swappiness {n} out of range (0 to 100)"),
                        ),
                    }
                }
            }
            "oom_kill_disable" => l.limits.oom_kill_disable = self.boolean(v, p).unwrap_or(false),
            // `service` dispatches only the keys above here.
            _ => {}
        }
    }

    /// The folded limits, once every key is read; checks what spans keys.
    pub(super) fn limits_done(&mut self, l: LimitKeys) -> Limits {
        let mut limits = l.limits;
        limits.cpus = l.cpus.as_ref().map(|c| c.0);
        limits.memory = l.memory.map(|c| c.0);
        limits.memory_reservation = l.mem_res.map(|c| c.0);
        limits.pids = l.pids.map(|c| c.0);
        if let Some((c, pos, p)) = &l.cpus_res {
            match &l.shares_at {
                Some(at) => {
                    let msg =
                        format!("cannot be set with {at} (both set the CPU weight); give one");
                    self.err(*pos, p, msg);
                }
                None => limits.cpus_reserved = Some(*c),
            }
        }
        if let (Some((_, cpus_at)), Some((pos, p))) = (&l.cpus, &l.cfs_at) {
            let msg = format!("cannot be set with {cpus_at} (both set the CFS quota); give `cpus`, or `cpu_period` with `cpu_quota`");
            self.err(*pos, p, msg);
        }
        if let (Some(mem), Some(swap)) = (limits.memory, limits.memswap) {
            if swap >= 0 && (swap as u64) < mem.0 {
                let (pos, p) = l.memswap_at;
                self.err(
                    pos,
                    &p,
                    format!(
                        "memswap_limit ({}) must be at least the memory limit ({mem})",
                        Bytes(swap as u64)
                    ),
                );
            }
        }
        limits
    }
}

/// `0-1,3`: comma-separated CPU numbers and ranges.
fn valid_cpuset(s: &str) -> bool {
    !s.is_empty()
        && s.split(',').all(|part| {
            let mut it = part.splitn(2, '-');
            it.all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
        })
}
