//! One cgroup per container, `stack/<project>/<service>`, in every
//! hierarchy used, on cgroup v1 and v2.
//!
//! cgroups-rs finds the hierarchies: whether `/sys/fs/cgroup` is the unified
//! (v2) tree, and on v1 where each controller is mounted (from
//! `/proc/self/mountinfo`, so a combined `cpu,cpuacct` mount is handled).
//! The cgroup files themselves are written directly: cgroups-rs's
//! `create`/`apply` ignore some failures (cpuset copy, per-controller
//! creation), report errors without the file and value, and have no
//! `cgroup.kill`, freeze-and-kill loop or ordered memory/memsw update, all of
//! which we need to say precisely what went wrong and to leave nothing behind.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use super::CgroupLimits;

mod blkio;
mod layout;
mod limits;

use layout::V2_CONTROLLERS;
pub use layout::{Layout, V2_ROOT_ENV};

/// Why a cgroup operation failed: the path, the cause and what to do.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// `blkio_config` weights, and no weight file of any scheduler.
    #[error("cgroup {path}: `blkio_config` weights need a proportional-weight I/O scheduler, and none of {} exists (load BFQ with `modprobe bfq` and select it for the device, or remove the weight)", files.join(", "))]
    NoWeightFile { path: String, files: Vec<String> },
    /// `blkio_config` rates, and no throttle file.
    #[error("cgroup {path}: {file} is missing: this kernel has no block I/O throttling (CONFIG_BLK_DEV_THROTTLING), so `blkio_config` rates cannot be applied; remove them")]
    NoThrottling { path: String, file: &'static str },
    /// The kernel refused a per-device weight (EOPNOTSUPP).
    #[error("cgroup {path}: `blkio_config.weight_device` for device {device}: its I/O scheduler keeps no per-cgroup weights (select BFQ for it: `echo bfq > /sys/dev/block/{device}/queue/scheduler`), or remove the entry")]
    DeviceWeight {
        path: String,
        device: String,
        #[source]
        source: io::Error,
    },
    /// The device cgroup (v1 list or v2 program) could not be set.
    #[error("cgroup {path}: cannot restrict device access: {source}")]
    Devices {
        path: String,
        #[source]
        source: super::devices::DeviceError,
    },
    /// A v1-only limit on a v2 machine.
    #[error("cgroup {path}: `{limit}` needs cgroup v1, and this machine has cgroup v2, which has no {what}; remove it")]
    V1Only {
        path: String,
        limit: &'static str,
        what: &'static str,
    },
    #[error("cgroup path {path:?} is invalid: it must be relative, like stack/<project>/<service>, without `.` or `..`")]
    InvalidPath { path: String },
    #[error("no cgroup hierarchy found under /sys/fs/cgroup (mount cgroup2 there, or the v1 controllers cpu, cpuacct, cpuset, memory, pids, freezer)")]
    NoHierarchy,
    #[error("cannot create cgroup {dir}: {source} (stack must run as root with /sys/fs/cgroup writable)")]
    Create {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {value:?} to {file}: {source}")]
    Write {
        file: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },
    #[error("cgroup {path}: the {controller} controller is not available, so `{limit}` cannot be applied (mount or enable the {controller} controller, or remove the limit)")]
    MissingController {
        path: String,
        controller: &'static str,
        limit: &'static str,
    },
    #[error("cgroup {path}: still has {count} processes (pids {pids:?}); stop them first")]
    NotEmpty {
        path: String,
        count: usize,
        pids: Vec<i32>,
    },
    #[error("cannot enable controllers for stack's cgroups in {dir}: it holds processes, which cgroup v2 forbids for a cgroup with controlled children (as at the root of a container's cgroup namespace); move them into a leaf first, e.g. `mkdir {dir}/init && for p in $(cat {dir}/cgroup.procs); do echo $p > {dir}/init/cgroup.procs; done`, as Docker-in-Docker does, then run stack again")]
    Busy { dir: PathBuf },
    #[error("cannot remove cgroup {dir}: {source}")]
    Remove {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Usage read from the cgroup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupStats {
    /// Total CPU time used, in nanoseconds.
    pub cpu_usage_ns: u64,
    /// Memory in use, without reclaimable (inactive) page cache.
    pub memory_bytes: u64,
    /// Number of tasks.
    pub pids: u64,
}

/// Pressure stall information of a cgroup (cgroup v2's `cpu.pressure`,
/// `memory.pressure`, `io.pressure`): the share of time some (or all) of
/// its tasks were stalled waiting for the resource.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pressure {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Stall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<Stall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub io: Option<Stall>,
}

/// One pressure file: the `some` line, and `full` where the kernel has one.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stall {
    pub some: StallLine,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full: Option<StallLine>,
}

/// Percent of the last 10, 60 and 300 seconds, and the total in µs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StallLine {
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    pub total_us: u64,
}

/// `some avg10=0.12 avg60=0.05 avg300=0.01 total=1234` lines.
fn parse_stall(text: &str) -> Option<Stall> {
    let line = |kind: &str| -> Option<StallLine> {
        let l = text.lines().find(|l| l.starts_with(kind))?;
        let mut out = StallLine::default();
        for kv in l.split_whitespace().skip(1) {
            let (k, v) = kv.split_once('=')?;
            match k {
                "avg10" => out.avg10 = v.parse().ok()?,
                "avg60" => out.avg60 = v.parse().ok()?,
                "avg300" => out.avg300 = v.parse().ok()?,
                "total" => out.total_us = v.parse().ok()?,
                _ => {}
            }
        }
        Some(out)
    };
    Some(Stall {
        some: line("some ")?,
        full: line("full "),
    })
}

fn valid(path: &str) -> Result<(), CgroupError> {
    let p = Path::new(path);
    let ok = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(())
    } else {
        Err(CgroupError::InvalidPath { path: path.into() })
    }
}

fn write(file: &Path, value: &str) -> Result<(), CgroupError> {
    fs::write(file, value).map_err(|source| CgroupError::Write {
        file: file.to_path_buf(),
        value: value.to_string(),
        source,
    })
}

fn read_trim(file: &Path) -> Option<String> {
    fs::read_to_string(file).ok().map(|s| s.trim().to_string())
}

fn read_u64(file: &Path) -> Option<u64> {
    read_trim(file)?.parse().ok()
}

/// Value of `key` in a flat-keyed file (`memory.stat`, `memory.events`, …).
fn keyed(file: &Path, key: &str) -> Option<u64> {
    let text = fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        (it.next() == Some(key)).then(|| it.next()?.parse().ok())?
    })
}

/// A container's cgroup: the same relative path in every hierarchy used.
#[derive(Debug, Clone)]
pub struct Cgroup {
    /// Relative path, e.g. `stack/demo/web`.
    pub path: String,
}

impl Cgroup {
    /// Create (idempotent) with limits applied; limits not given are reset
    /// to unlimited. Skippable limits the machine cannot apply are logged
    /// with `tracing::warn` (see `create_with_warnings`).
    pub fn create(path: &str, limits: &CgroupLimits) -> Result<Cgroup, CgroupError> {
        let (cg, warnings) = Cgroup::create_with_warnings(path, limits)?;
        for w in warnings {
            tracing::warn!("{w}");
        }
        Ok(cg)
    }

    /// As `create`, returning the limits that could not be applied on this
    /// machine but are safe to skip (e.g. `memswap_limit` without swap
    /// accounting), as sentences for the user.
    pub fn create_with_warnings(
        path: &str,
        limits: &CgroupLimits,
    ) -> Result<(Cgroup, Vec<String>), CgroupError> {
        valid(path)?;
        let layout = Layout::get();
        let roots = layout.roots();
        if roots.is_empty() {
            return Err(CgroupError::NoHierarchy);
        }
        let cg = Cgroup { path: path.into() };
        // Another container's `delete` may remove an empty `stack/<project>`
        // between our mkdirs; once our leaf exists that cannot happen, so
        // retrying the (idempotent) walk is enough.
        let mut attempt = 0;
        let fresh = loop {
            match make_dirs(layout, &roots, path) {
                Ok(fresh) => break fresh,
                Err(e) if attempt < 5 && vanished(&e) => attempt += 1,
                Err(e) => {
                    let _ = cg.delete();
                    return Err(e);
                }
            }
        };
        let warnings = match cg.apply(limits, !fresh) {
            Ok(w) => w,
            Err(e) => {
                // A half-configured cgroup must not stay around looking valid.
                let _ = cg.delete();
                return Err(e);
            }
        };
        Ok((cg, warnings))
    }

    /// Open an existing cgroup; `None` when it does not exist.
    pub fn open(path: &str) -> Option<Cgroup> {
        valid(path).ok()?;
        let exists = Layout::get().roots().iter().any(|r| r.join(path).is_dir());
        exists.then(|| Cgroup { path: path.into() })
    }

    /// The cgroup's directory in every hierarchy.
    pub fn dirs(&self) -> Vec<PathBuf> {
        Layout::get()
            .roots()
            .iter()
            .map(|r| r.join(&self.path))
            .collect()
    }

    fn dir_of(&self, controller: &str) -> Option<PathBuf> {
        Layout::get()
            .root_of(controller)
            .map(|r| r.join(&self.path))
    }

    /// `cgroup.procs` of every hierarchy, for the spawner to join.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs()
            .into_iter()
            .map(|d| d.join("cgroup.procs"))
            .collect()
    }

    /// Every pid in the cgroup (in any hierarchy).
    pub fn pids(&self) -> Vec<i32> {
        let mut set = BTreeSet::new();
        for f in self.procs_files() {
            if let Ok(text) = fs::read_to_string(f) {
                set.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
            }
        }
        set.into_iter().collect()
    }

    /// Send `signal` to every process in the cgroup. With SIGKILL, returns
    /// once the cgroup is empty (or fails saying which pids survived).
    pub fn kill_all(&self, signal: i32) -> Result<(), CgroupError> {
        let layout = Layout::get();
        let kill = signal == libc::SIGKILL;
        if kill && layout.is_v2() {
            let f = self.dirs()[0].join("cgroup.kill");
            if f.exists() {
                write(&f, "1")?;
                return self.wait_empty(Duration::from_secs(5));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            // Frozen, nothing can fork between reading the pids and signalling them.
            let frozen = self.freeze(true);
            let pids = self.pids();
            for pid in &pids {
                // SAFETY: kill(2) has no memory-safety preconditions; a pid
                // that has exited in between yields ESRCH, which we ignore.
                unsafe { libc::kill(*pid, signal) };
            }
            if frozen {
                self.freeze(false);
            }
            if !kill {
                return Ok(());
            }
            if pids.is_empty() || self.wait_empty(Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let pids = self.pids();
                return Err(CgroupError::NotEmpty {
                    path: self.path.clone(),
                    count: pids.len(),
                    pids,
                });
            }
        }
    }

    /// Freeze (or thaw) the cgroup; false when no freezer is available.
    fn freeze(&self, on: bool) -> bool {
        let layout = Layout::get();
        let (file, value, done_file, done): (PathBuf, &str, PathBuf, &str) = match layout {
            Layout::V1(_) => {
                let Some(dir) = self.dir_of("freezer") else {
                    return false;
                };
                let state = dir.join("freezer.state");
                let v = if on { "FROZEN" } else { "THAWED" };
                (state.clone(), v, state, v)
            }
            Layout::V2(_) => {
                let dir = self.dirs()[0].clone();
                let v = if on { "1" } else { "0" };
                (dir.join("cgroup.freeze"), v, dir.join("cgroup.events"), v)
            }
        };
        if fs::write(&file, value).is_err() {
            return false;
        }
        // Freezing is asynchronous: wait (briefly) until the kernel says so.
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            let reached = match layout {
                Layout::V1(_) => read_trim(&done_file).as_deref() == Some(done),
                Layout::V2(_) => keyed(&done_file, "frozen") == done.parse().ok(),
            };
            if reached {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }

    fn wait_empty(&self, timeout: Duration) -> Result<(), CgroupError> {
        let deadline = Instant::now() + timeout;
        loop {
            let pids = self.pids();
            if pids.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(CgroupError::NotEmpty {
                    path: self.path.clone(),
                    count: pids.len(),
                    pids,
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// CPU time, memory in use (without reclaimable page cache) and
    /// process count; zero for what cannot be read.
    pub fn stats(&self) -> CgroupStats {
        let layout = Layout::get();
        let mut s = CgroupStats::default();
        match layout {
            Layout::V1(_) => {
                if let Some(d) = self.dir_of("cpuacct") {
                    s.cpu_usage_ns = read_u64(&d.join("cpuacct.usage")).unwrap_or(0);
                }
                if let Some(d) = self.dir_of("memory") {
                    let usage = read_u64(&d.join("memory.usage_in_bytes")).unwrap_or(0);
                    let inactive =
                        keyed(&d.join("memory.stat"), "total_inactive_file").unwrap_or(0);
                    s.memory_bytes = usage.saturating_sub(inactive);
                }
                s.pids = match self.dir_of("pids") {
                    Some(d) => read_u64(&d.join("pids.current")).unwrap_or(0),
                    None => self.pids().len() as u64,
                };
            }
            Layout::V2(_) => {
                let d = &self.dirs()[0];
                s.cpu_usage_ns = keyed(&d.join("cpu.stat"), "usage_usec").unwrap_or(0) * 1000;
                let usage = read_u64(&d.join("memory.current")).unwrap_or(0);
                let inactive = keyed(&d.join("memory.stat"), "inactive_file").unwrap_or(0);
                s.memory_bytes = usage.saturating_sub(inactive);
                s.pids = read_u64(&d.join("pids.current")).unwrap_or(self.pids().len() as u64);
            }
        }
        s
    }

    /// Pressure stall information; `None` on v1 or a kernel without PSI.
    pub fn pressure(&self) -> Option<Pressure> {
        if !Layout::get().is_v2() {
            return None;
        }
        let d = &self.dirs()[0];
        let read = |f: &str| {
            fs::read_to_string(d.join(f))
                .ok()
                .and_then(|t| parse_stall(&t))
        };
        let p = Pressure {
            cpu: read("cpu.pressure"),
            memory: read("memory.pressure"),
            io: read("io.pressure"),
        };
        (p != Pressure::default()).then_some(p)
    }

    /// Whether the kernel OOM-killed a process in this cgroup.
    pub fn oom_killed(&self) -> bool {
        let Some(d) = self.dir_of("memory") else {
            return false;
        };
        let n = match Layout::get() {
            Layout::V1(_) => keyed(&d.join("memory.oom_control"), "oom_kill"),
            Layout::V2(_) => keyed(&d.join("memory.events"), "oom_kill"),
        };
        n.unwrap_or(0) > 0
    }

    /// Remove the cgroup (must be empty) and its empty parents up to `stack/`.
    /// Only `rmdir` is used, which the kernel refuses on a cgroup with
    /// processes or children, so nothing in use is ever removed.
    pub fn delete(&self) -> Result<(), CgroupError> {
        valid(&self.path)?;
        for root in Layout::get().roots() {
            let leaf = root.join(&self.path);
            rmdir_retry(&leaf).map_err(|source| {
                if source.raw_os_error() == Some(libc::EBUSY) {
                    let pids = self.pids();
                    if !pids.is_empty() {
                        return CgroupError::NotEmpty {
                            path: self.path.clone(),
                            count: pids.len(),
                            pids,
                        };
                    }
                }
                CgroupError::Remove {
                    dir: leaf.clone(),
                    source,
                }
            })?;
            let mut parent = Path::new(&self.path).parent();
            while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
                match fs::remove_dir(root.join(p)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    // Not empty (another container, or in use): keep it and above.
                    Err(_) => break,
                }
                parent = p.parent();
            }
        }
        Ok(())
    }
}

/// `rmdir` a cgroup, tolerating a missing one and retrying briefly while
/// the last killed processes finish exiting.
fn rmdir_retry(dir: &Path) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Make the cgroup's directories; true when every leaf was new (so it
/// holds the kernel's defaults).
fn make_dirs(layout: &Layout, roots: &[PathBuf], path: &str) -> Result<bool, CgroupError> {
    let mut fresh = true;
    match layout {
        Layout::V1(_) => {
            let cpuset_root = layout.root_of("cpuset");
            for root in roots {
                fresh &= mkdirs(root, path, cpuset_root.as_ref() == Some(root))?;
            }
        }
        Layout::V2(root) => {
            enable_v2_controllers(root, path)?;
            fresh &= mkdirs(root, path, false)?;
        }
    }
    Ok(fresh)
}

/// Whether an error came from a directory removed under our feet.
fn vanished(e: &CgroupError) -> bool {
    match e {
        // ENODEV: a write into a directory another container's delete has
        // just removed (its `cgroup.subtree_control` on v2).
        CgroupError::Create { source, .. } | CgroupError::Write { source, .. } => {
            source.kind() == io::ErrorKind::NotFound || source.raw_os_error() == Some(libc::ENODEV)
        }
        _ => false,
    }
}

/// Create `root/path` level by level. In the v1 cpuset hierarchy a new
/// cgroup starts with empty `cpuset.cpus`/`mems` and refuses processes, so
/// each level inherits its parent's. True when the leaf was created here.
fn mkdirs(root: &Path, path: &str, cpuset: bool) -> Result<bool, CgroupError> {
    let mut dir = root.to_path_buf();
    let mut created = false;
    for comp in Path::new(path).components() {
        let parent = dir.clone();
        dir.push(comp);
        match fs::create_dir(&dir) {
            Ok(()) => created = true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => created = false,
            Err(source) => return Err(CgroupError::Create { dir, source }),
        }
        if cpuset {
            for f in ["cpuset.cpus", "cpuset.mems"] {
                if read_trim(&dir.join(f)).unwrap_or_default().is_empty() {
                    let v = read_trim(&parent.join(f)).unwrap_or_default();
                    write(&dir.join(f), &v)?;
                }
            }
        }
    }
    Ok(created)
}

/// On v2, enable our controllers in `cgroup.subtree_control` of the root and
/// of every parent of the leaf, so the leaf gets its own limit files.
fn enable_v2_controllers(root: &Path, path: &str) -> Result<(), CgroupError> {
    let mut dir = root.to_path_buf();
    let comps: Vec<_> = Path::new(path).components().collect();
    for (i, comp) in comps.iter().enumerate() {
        let available = read_trim(&dir.join("cgroup.controllers")).unwrap_or_default();
        let enabled = read_trim(&dir.join("cgroup.subtree_control")).unwrap_or_default();
        let want: Vec<String> = V2_CONTROLLERS
            .iter()
            .filter(|c| available.split_whitespace().any(|a| a == **c))
            .filter(|c| !enabled.split_whitespace().any(|a| a == **c))
            .map(|c| format!("+{c}"))
            .collect();
        if !want.is_empty() {
            let file = dir.join("cgroup.subtree_control");
            match fs::write(&file, want.join(" ")) {
                Ok(()) => {}
                // cgroup v2's no-internal-processes rule: a cgroup that holds
                // processes cannot hand controllers to children. Seen at the
                // root of a private cgroup namespace (a privileged container,
                // a CI job, systemd-nspawn).
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    return Err(CgroupError::Busy { dir: dir.clone() })
                }
                Err(source) => {
                    return Err(CgroupError::Write {
                        file,
                        value: want.join(" "),
                        source,
                    })
                }
            }
        }
        dir.push(comp);
        if i + 1 < comps.len() {
            match fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(CgroupError::Create { dir, source }),
            }
        }
    }
    Ok(())
}

/// Memory + swap limit: the given one, or Compose/Docker's default of twice
/// the memory limit; `None` for unlimited.
fn memswap_total(l: &CgroupLimits) -> Option<i64> {
    match (l.memswap, l.memory) {
        (Some(v), _) if v < 0 => None,
        (Some(v), _) => Some(v),
        (None, Some(m)) => Some(m.saturating_mul(2)),
        (None, None) => None,
    }
}

fn max_or(v: Option<i64>) -> String {
    match v {
        Some(v) if v >= 0 => v.to_string(),
        _ => "max".into(),
    }
}

/// cgroup v1 `cpu.shares` (2..262144) to v2 `cpu.weight` (1..10000), as runc does.
fn shares_to_weight(shares: u64) -> u64 {
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

/// Relative paths of the leaf cgroups under `prefix` (e.g. `stack/demo`).
pub fn list(prefix: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    if valid(prefix).is_err() {
        return Vec::new();
    }
    fn walk(dir: &Path, rel: &Path, top: bool, out: &mut BTreeSet<String>) {
        let mut has_child = false;
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    has_child = true;
                    walk(&e.path(), &rel.join(e.file_name()), false, out);
                }
            }
        }
        // The prefix itself (an empty project) is not a container's cgroup.
        if !has_child && !top {
            out.insert(rel.to_string_lossy().into_owned());
        }
    }
    for root in Layout::get().roots() {
        let dir = root.join(prefix);
        if dir.is_dir() {
            let mut sub = BTreeSet::new();
            walk(&dir, Path::new(prefix), true, &mut sub);
            out.extend(sub);
        }
    }
    // A path that is a leaf in one hierarchy but a parent in another is not a leaf.
    let all: Vec<String> = out.iter().cloned().collect();
    all.iter()
        .filter(|p| {
            !all.iter()
                .any(|q| q.len() > p.len() && q.starts_with(&format!("{p}/")))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests;
