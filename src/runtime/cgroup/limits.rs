//! Writing a container's limits into its cgroup files, v1 and v2, and its
//! device access.

use std::path::PathBuf;

use super::super::devices;
use super::super::CgroupLimits;
use super::{
    max_or, memswap_total, read_trim, shares_to_weight, write, Cgroup, CgroupError, Layout,
};

/// Whether any CPU limit is asked for.
fn any_cpu(l: &CgroupLimits) -> bool {
    l.cpu_quota_us.is_some() || l.cpu_shares.is_some()
}

/// Whether any memory limit is asked for.
fn any_mem(l: &CgroupLimits) -> bool {
    l.memory.is_some()
        || l.memory_reservation.is_some()
        || l.memswap.is_some()
        || l.swappiness.is_some()
        || l.oom_kill_disable
}

impl Cgroup {
    /// Apply `limits`; with `reset`, also set the ones not given to
    /// "unlimited" so that re-creating with fewer limits really removes
    /// them. A cgroup this call just made already has the kernel's defaults
    /// (unlimited, the parent's cpuset), so it skips those writes: on v1
    /// that is ten file writes fewer per container start.
    pub(super) fn apply(&self, l: &CgroupLimits, reset: bool) -> Result<Vec<String>, CgroupError> {
        let layout = Layout::get();
        let mut warnings = Vec::new();
        match layout {
            Layout::V1(_) => self.apply_v1(layout, l, reset, &mut warnings)?,
            Layout::V2(_) => self.apply_v2(layout, l, reset, &mut warnings)?,
        }
        Ok(warnings)
    }

    /// The directory of `controller`, or the error naming the `limit` that
    /// needs it.
    fn need(
        &self,
        layout: &Layout,
        controller: &'static str,
        limit: &'static str,
    ) -> Result<PathBuf, CgroupError> {
        let dir = self
            .dir_of(controller)
            .ok_or(CgroupError::MissingController {
                path: self.path.clone(),
                controller,
                limit,
            })?;
        if layout.is_v2() {
            let enabled = read_trim(&dir.join("cgroup.controllers")).unwrap_or_default();
            if !enabled.split_whitespace().any(|c| c == controller) {
                return Err(CgroupError::MissingController {
                    path: self.path.clone(),
                    controller,
                    limit,
                });
            }
        }
        Ok(dir)
    }

    /// v1: one hierarchy per controller.
    fn apply_v1(
        &self,
        layout: &Layout,
        l: &CgroupLimits,
        reset: bool,
        warnings: &mut Vec<String>,
    ) -> Result<(), CgroupError> {
        let (any_cpu, any_mem) = (any_cpu(l), any_mem(l));
        if let Some(dir) = self
            .dir_of("cpu")
            .filter(|_| reset || any_cpu || l.cpu_period_us.is_some())
        {
            let period = l.cpu_period_us.unwrap_or(100_000);
            write(&dir.join("cpu.cfs_period_us"), &period.to_string())?;
            let quota = l.cpu_quota_us.filter(|q| *q > 0).unwrap_or(-1);
            write(&dir.join("cpu.cfs_quota_us"), &quota.to_string())?;
            write(
                &dir.join("cpu.shares"),
                &l.cpu_shares.unwrap_or(1024).to_string(),
            )?;
        } else if any_cpu {
            self.need(layout, "cpu", "cpus")?;
        }
        if let Some(dir) = self
            .dir_of("cpuset")
            .filter(|_| reset || l.cpuset.is_some())
        {
            // Without a cpuset, the parent's (reset on re-create).
            let cpus = match &l.cpuset {
                Some(c) => c.clone(),
                None => dir
                    .parent()
                    .and_then(|p| read_trim(&p.join("cpuset.cpus")))
                    .unwrap_or_default(),
            };
            if !cpus.is_empty() {
                write(&dir.join("cpuset.cpus"), &cpus)?;
            }
        } else if l.cpuset.is_some() {
            self.need(layout, "cpuset", "cpuset")?;
        }
        if let Some(dir) = self.dir_of("memory").filter(|_| reset || any_mem) {
            let memsw = dir.join("memory.memsw.limit_in_bytes");
            let has_swap_accounting = memsw.exists();
            // memsw must stay >= memory: lift it first, then set both.
            if has_swap_accounting {
                write(&memsw, "-1")?;
            }
            write(
                &dir.join("memory.limit_in_bytes"),
                &l.memory.unwrap_or(-1).to_string(),
            )?;
            write(
                &dir.join("memory.soft_limit_in_bytes"),
                &l.memory_reservation.unwrap_or(-1).to_string(),
            )?;
            match (memswap_total(l), has_swap_accounting) {
                (Some(v), true) => write(&memsw, &v.to_string())?,
                (Some(_), false) if l.memswap.is_some() => warnings.push(format!(
                    "cgroup {}: memswap_limit not applied: this kernel has no swap accounting (boot with swapaccount=1)",
                    self.path
                )),
                _ => {}
            }
            // Without one, the parent's (reset on re-create).
            let swappiness = match l.swappiness {
                Some(s) => Some(s.to_string()),
                None => dir
                    .parent()
                    .and_then(|p| read_trim(&p.join("memory.swappiness"))),
            };
            if let Some(s) = swappiness {
                write(&dir.join("memory.swappiness"), &s)?;
            }
            let oom = if l.oom_kill_disable { "1" } else { "0" };
            write(&dir.join("memory.oom_control"), oom)?;
        } else if any_mem {
            self.need(layout, "memory", "memory")?;
        }
        if let Some(dir) = self.dir_of("pids").filter(|_| reset || l.pids.is_some()) {
            write(&dir.join("pids.max"), &max_or(l.pids))?;
        } else if l.pids.is_some() {
            self.need(layout, "pids", "pids")?;
        }
        match self.dir_of("blkio") {
            Some(dir) => super::blkio::apply_v1(&dir, &self.path, &l.io, reset)?,
            None if !l.io.is_empty() => {
                self.need(layout, "blkio", "blkio_config")?;
            }
            None => {}
        }
        // Always: a fresh cgroup inherits its parent's "a *:* rwm".
        // Only a privileged container may go without the controller.
        match self.dir_of("devices") {
            Some(dir) => devices::apply_v1(&dir, &l.devices).map_err(|e| self.device_error(e))?,
            None if l.devices == devices::DeviceAccess::All => {}
            None => {
                self.need(layout, "devices", "device access")?;
            }
        }
        Ok(())
    }

    /// v2: one directory, a file per enabled controller.
    fn apply_v2(
        &self,
        layout: &Layout,
        l: &CgroupLimits,
        reset: bool,
        warnings: &mut Vec<String>,
    ) -> Result<(), CgroupError> {
        let (any_cpu, any_mem) = (any_cpu(l), any_mem(l));
        let v1_only = |limit, what| CgroupError::V1Only {
            path: self.path.clone(),
            limit,
            what,
        };
        if l.swappiness.is_some() {
            return Err(v1_only("mem_swappiness", "per-cgroup swappiness"));
        }
        if l.oom_kill_disable {
            return Err(v1_only(
                "oom_kill_disable",
                "way to turn the OOM killer off for a cgroup",
            ));
        }
        // A limit file exists only when its controller is enabled
        // for us; write every one that exists (resetting what is not
        // asked for) and fail only when an asked-for one is missing.
        let dir = &self.dirs()[0];
        let has = |f: &str| dir.join(f).exists();
        if has("cpu.max") {
            let period = l.cpu_period_us.unwrap_or(100_000);
            let quota = match l.cpu_quota_us.filter(|q| *q > 0) {
                Some(q) => q.to_string(),
                None => "max".into(),
            };
            write(&dir.join("cpu.max"), &format!("{quota} {period}"))?;
            let weight = l.cpu_shares.map(shares_to_weight).unwrap_or(100);
            write(&dir.join("cpu.weight"), &weight.to_string())?;
        } else if any_cpu {
            self.need(layout, "cpu", "cpus")?;
        }
        if has("cpuset.cpus") {
            // Empty means "the parent's"; a newline, because an
            // empty write(2) is never made and would reset nothing.
            write(
                &dir.join("cpuset.cpus"),
                l.cpuset.as_deref().unwrap_or("\n"),
            )?;
        } else if l.cpuset.is_some() {
            self.need(layout, "cpuset", "cpuset")?;
        }
        if has("memory.max") {
            write(&dir.join("memory.max"), &max_or(l.memory))?;
            write(
                &dir.join("memory.low"),
                &l.memory_reservation.unwrap_or(0).to_string(),
            )?;
            let swap = dir.join("memory.swap.max");
            if swap.exists() {
                let v = match (memswap_total(l), l.memory) {
                    (Some(total), Some(mem)) => (total - mem).max(0).to_string(),
                    _ => "max".into(),
                };
                write(&swap, &v)?;
            } else if l.memswap.is_some_and(|v| v >= 0) {
                warnings.push(format!(
                    "cgroup {}: memswap_limit not applied: this kernel has no swap accounting (memory.swap.max is missing)",
                    self.path
                ));
            }
        } else if any_mem {
            self.need(layout, "memory", "memory")?;
        }
        if has("pids.max") {
            write(&dir.join("pids.max"), &max_or(l.pids))?;
        } else if l.pids.is_some() {
            self.need(layout, "pids", "pids")?;
        }
        super::blkio::apply_v2(dir, &self.path, &l.io, reset)?;
        // v2's only device control: a program on the cgroup.
        devices::apply_v2(dir, &l.devices).map_err(|e| self.device_error(e))?;
        Ok(())
    }

    fn device_error(&self, e: devices::DeviceError) -> CgroupError {
        CgroupError::Devices {
            path: self.path.clone(),
            source: e,
        }
    }
}
