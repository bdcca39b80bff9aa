//! The embedded state store: one directory per project under
//! `STACK_STATE_DIR` (default `/var/lib/stack`), runtime files under
//! `STACK_RUN_DIR` (default `/run/stack`). Atomic writes, a lock per project.
//!
//! Layout (DESIGN.md "State on disk"):
//! ```text
//! <state>/<project>/project.json
//! <state>/<project>/containers/<service>-1.json
//! <state>/<project>/containers/<service>-1/{upper,work,rootfs}
//! <state>/<project>/logs/<service>-1.log
//! <state>/<project>/volumes/<name>/
//! <state>/cache/
//! <run>/<project>/{control.sock, supervisor.pid, supervisor.log, lock}
//! <state>/networks/<network>.json, .lock   machine-wide (ipam)
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::spec::{Service, Stack};

pub mod attached;
pub mod images;
mod names;
pub mod projects;
mod units;
pub mod volumes;
pub use names::valid_project;
use units::unit_stem;
pub use units::{cgroup_path, container_id, stem_unit};
pub mod ipam;

pub use attached::{NetAddress, PublishedPort};

/// Why the state store could not be read or written: the path and the
/// cause.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot encode state: {source}")]
    Encode {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("invalid project name {0:?}: use lower-case letters, digits, '-' and '_'")]
    BadProject(String),
    #[error("project name {0:?} is reserved (the state directory holds the shared `{0}` store under that name): give the project another name with `name:` in the file or -p")]
    ReservedProject(String),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Milliseconds since the Unix epoch.
pub fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `STACK_STATE_DIR` or `/var/lib/stack`.
pub fn state_root() -> PathBuf {
    std::env::var_os("STACK_STATE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/lib/stack"))
}

/// `STACK_RUN_DIR` or `/run/stack`.
pub fn run_root() -> PathBuf {
    std::env::var_os("STACK_RUN_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/stack"))
}

/// Lifecycle state of a container as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being prepared and started.
    #[default]
    Created,
    Running,
    /// Stop requested, waiting for the process to go.
    Stopping,
    Exited,
    /// Could not start (the reason is in `error`).
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Stopping => "stopping",
            Status::Exited => "exited",
            Status::Failed => "failed",
        }
    }
}

/// Health of a container with a healthcheck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Starting,
    Healthy,
    Unhealthy,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        }
    }
}

/// `containers/<service>-1.json`: what the supervisor knows of one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub service: String,
    /// `<project>-<service>-1`.
    pub id: String,
    /// The applied service config.
    pub config: Service,
    /// `spec::config_hash` of `config`.
    pub hash: String,
    #[serde(default)]
    pub pid: Option<i32>,
    /// Field 22 of `/proc/<pid>/stat`, to recognise the pid later.
    #[serde(default)]
    pub start_time: Option<u64>,
    /// Relative cgroup path, `stack/<project>/<service>`.
    pub cgroup: String,
    pub status: Status,
    /// `None` while running, or when the exit was not observed (adopted).
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub oom_killed: bool,
    #[serde(default)]
    pub restarts: u32,
    #[serde(default)]
    pub health: Option<Health>,
    /// Output of the last health probe.
    #[serde(default)]
    pub health_output: Option<String>,
    /// Unix seconds.
    #[serde(default)]
    pub started_at: Option<u64>,
    #[serde(default)]
    pub finished_at: Option<u64>,
    /// Unix ms of the same exit: the back-off (100 ms and up) needs better
    /// than seconds. Absent in records written before it existed
    /// ([`ContainerRecord::finished_ms`] falls back on `finished_at`).
    #[serde(default)]
    pub finished_ms: Option<u64>,
    /// Set by `stack stop`, cleared by `start`: no restart policy brings it back.
    #[serde(default)]
    pub stopped_by_user: bool,
    /// A one-shot job that exited 0.
    #[serde(default)]
    pub completed: bool,
    /// Why the container could not start, as a sentence.
    #[serde(default)]
    pub error: Option<String>,
    /// Unix milliseconds of the next restart attempt, if one is scheduled.
    #[serde(default)]
    pub next_restart_ms: Option<u64>,
    /// Unix ms this container was created; a recreate changes it, a restart
    /// does not (dependents with `restart: true` compare it).
    #[serde(default)]
    pub created_ms: u64,
    /// Consecutive quick restarts (drives the back-off).
    #[serde(default)]
    pub backoff_level: u32,
    /// `created_ms` of each dependency when this container last started.
    #[serde(default)]
    pub deps_at_start: std::collections::BTreeMap<String, u64>,
    /// Its addresses on the networks it joined (empty without a bridge).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<NetAddress>,
    /// Its published ports, as bound.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PublishedPort>,
}

impl ContainerRecord {
    /// A fresh record for a service about to be created.
    pub fn new(project: &str, svc: &Service, hash: String) -> ContainerRecord {
        ContainerRecord {
            service: svc.name.clone(),
            id: container_id(project, &svc.name),
            config: svc.clone(),
            hash,
            pid: None,
            start_time: None,
            cgroup: cgroup_path(project, &svc.name),
            status: Status::Created,
            exit_code: None,
            oom_killed: false,
            restarts: 0,
            health: None,
            health_output: None,
            started_at: None,
            finished_at: None,
            finished_ms: None,
            stopped_by_user: false,
            completed: false,
            error: None,
            next_restart_ms: None,
            created_ms: unix_now_ms(),
            backoff_level: 0,
            deps_at_start: Default::default(),
            addresses: Vec::new(),
            ports: Vec::new(),
        }
    }

    /// Record the end of the command (or of its start attempt) at `now_ms`.
    pub fn set_finished(&mut self, now_ms: u64) {
        self.finished_at = Some(now_ms / 1000);
        self.finished_ms = Some(now_ms);
    }

    /// When the command ended, in Unix ms (from `finished_at` for records
    /// written without `finished_ms`).
    pub fn finished_ms(&self) -> Option<u64> {
        self.finished_ms
            .or(self.finished_at.map(|s| s.saturating_mul(1000)))
    }

    /// `exited (137, oom-killed)`, `running`, `exited (unknown)` …
    pub fn state_text(&self) -> String {
        match self.status {
            Status::Exited => {
                let code = match self.exit_code {
                    Some(c) => c.to_string(),
                    None => "unknown".to_string(),
                };
                let mut reasons = Vec::new();
                if self.oom_killed {
                    reasons.push("oom-killed".to_string());
                } else if let Some(c) = self.exit_code {
                    if c > 128 && c < 128 + 65 {
                        reasons.push(signal_name(c - 128));
                    }
                }
                if self.stopped_by_user {
                    reasons.push("stopped".into());
                } else if self.completed {
                    reasons.push("completed".into());
                }
                if reasons.is_empty() {
                    format!("exited ({code})")
                } else {
                    format!("exited ({code}, {})", reasons.join(", "))
                }
            }
            s => s.as_str().to_string(),
        }
    }
}

/// Name of a signal number, `SIGKILL`; `signal N` if unknown.
pub fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {sig}"))
}

/// `project.json`: the file and the last applied stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRecord {
    pub name: String,
    pub file: PathBuf,
    /// The last applied (desired) stack.
    #[serde(default)]
    pub stack: Option<Stack>,
    /// Whether the supervisor watches the file.
    #[serde(default)]
    pub watch: bool,
    /// Unix seconds of the last apply.
    #[serde(default)]
    pub updated_at: u64,
}

/// A problem found while reading the store that was dealt with (reported,
/// not fatal): a corrupt record moved aside.
#[derive(Debug, Clone, PartialEq)]
pub struct Damage {
    pub path: PathBuf,
    pub moved_to: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "corrupt state file {} ({}), moved aside to {}; it will be rebuilt from what is running",
            self.path.display(),
            self.reason,
            self.moved_to.display()
        )
    }
}

/// Write `bytes` to `path` atomically: temp file in the same dir, fsync,
/// rename over, fsync the dir. A reader sees the old or the new content,
/// never a mix, also after a crash.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    write_replace(path, bytes, true)
}

/// As `write_atomic` without the two fsyncs: readers and a crashed
/// supervisor still see the old or the new content (rename), but a power
/// loss may lose the last write. For what describes running processes
/// (container records, the supervisor's pid file), which a power loss ends
/// anyway: the fsyncs cost 1-5 ms per write on the container start path.
pub fn write_atomic_volatile(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    write_replace(path, bytes, false)
}

fn write_replace(path: &Path, bytes: &[u8], sync: bool) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let res = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        drop(f);
        fs::rename(&tmp, path)?;
        if sync {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res.map_err(io_err(path))
}

/// Read a JSON file; a corrupt one is moved aside and reported.
fn read_json<T: for<'de> Deserialize<'de>>(
    path: &Path,
) -> Result<(Option<T>, Option<Damage>), StateError> {
    let mut s = String::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_string(&mut s).map_err(io_err(path))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, None)),
        Err(e) => return Err(io_err(path)(e)),
    }
    match serde_json::from_str::<T>(&s) {
        Ok(v) => Ok((Some(v), None)),
        Err(e) => {
            let moved_to = PathBuf::from(format!("{}.corrupt-{}", path.display(), unix_now()));
            fs::rename(path, &moved_to).map_err(io_err(path))?;
            Ok((
                None,
                Some(Damage {
                    path: path.to_path_buf(),
                    moved_to,
                    reason: if s.trim().is_empty() {
                        "empty".to_string()
                    } else {
                        e.to_string()
                    },
                }),
            ))
        }
    }
}

/// Write `v` as pretty JSON through [`write_atomic`] (`sync`) or
/// [`write_atomic_volatile`].
fn write_json<T: Serialize>(path: &Path, v: &T, sync: bool) -> Result<(), StateError> {
    let mut bytes = serde_json::to_vec_pretty(v).map_err(|source| StateError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    bytes.push(b'\n');
    write_replace(path, &bytes, sync)
}

/// The store of one project.
#[derive(Debug, Clone)]
pub struct Store {
    pub project: String,
    /// `<state root>/<project>`.
    pub dir: PathBuf,
    /// `<run root>/<project>`.
    pub run: PathBuf,
    /// `<state root>/cache`.
    pub cache: PathBuf,
}

impl Store {
    /// The store for `project` under the roots from the environment.
    /// Creates nothing.
    pub fn new(project: &str) -> Result<Store, StateError> {
        Store::with_roots(project, &state_root(), &run_root())
    }

    pub fn with_roots(project: &str, state: &Path, run: &Path) -> Result<Store, StateError> {
        if !valid_project(project) {
            if names::SHARED_DIRS.contains(&project) {
                return Err(StateError::ReservedProject(project.to_string()));
            }
            return Err(StateError::BadProject(project.to_string()));
        }
        Ok(Store {
            project: project.to_string(),
            dir: state.join(project),
            run: run.join(project),
            cache: state.join("cache"),
        })
    }

    /// Create the project's directories.
    pub fn init(&self) -> Result<(), StateError> {
        for d in [
            self.dir.clone(),
            self.containers_dir(),
            self.logs_dir(),
            self.cache.clone(),
            self.run.clone(),
        ] {
            fs::create_dir_all(&d).map_err(io_err(&d))?;
        }
        Ok(())
    }

    /// Whether anything of the project exists on disk.
    pub fn exists(&self) -> bool {
        self.dir.exists() || self.run.exists()
    }

    pub fn containers_dir(&self) -> PathBuf {
        self.dir.join("containers")
    }
    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }
    pub fn volumes_dir(&self) -> PathBuf {
        self.dir.join("volumes")
    }
    pub fn project_file(&self) -> PathBuf {
        self.dir.join("project.json")
    }
    pub fn record_file(&self, unit: &str) -> PathBuf {
        self.containers_dir()
            .join(format!("{}.json", unit_stem(unit)))
    }
    /// `containers/<service>-<n>/`: holds `upper`, `work`, `rootfs`.
    pub fn bundle_dir(&self, unit: &str) -> PathBuf {
        self.containers_dir().join(unit_stem(unit))
    }
    pub fn log_file(&self, unit: &str) -> PathBuf {
        self.logs_dir().join(format!("{}.log", unit_stem(unit)))
    }
    pub fn volume_dir(&self, name: &str) -> PathBuf {
        self.volumes_dir().join(name)
    }
    pub fn control_socket(&self) -> PathBuf {
        self.run.join("control.sock")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.run.join("supervisor.pid")
    }
    pub fn supervisor_log(&self) -> PathBuf {
        self.run.join("supervisor.log")
    }
    pub fn lock_file(&self) -> PathBuf {
        self.run.join("lock")
    }

    pub fn load_project(&self) -> Result<(Option<ProjectRecord>, Option<Damage>), StateError> {
        read_json(&self.project_file())
    }

    pub fn save_project(&self, rec: &ProjectRecord) -> Result<(), StateError> {
        write_json(&self.project_file(), rec, true)
    }

    pub fn load_container(
        &self,
        service: &str,
    ) -> Result<(Option<ContainerRecord>, Option<Damage>), StateError> {
        read_json(&self.record_file(service))
    }

    pub fn save_container(&self, rec: &ContainerRecord) -> Result<(), StateError> {
        write_json(&self.record_file(&rec.service), rec, false)
    }

    /// Remove a container's record (not its log or layers).
    pub fn remove_container(&self, service: &str) -> Result<(), StateError> {
        let p = self.record_file(service);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&p)(e)),
        }
    }

    /// Every readable container record, sorted by service; corrupt ones are
    /// moved aside and returned as damage.
    pub fn containers(&self) -> Result<(Vec<ContainerRecord>, Vec<Damage>), StateError> {
        let dir = self.containers_dir();
        let mut recs = Vec::new();
        let mut damage = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((recs, damage)),
            Err(e) => return Err(io_err(&dir)(e)),
        };
        let mut units: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| stem_unit(e.file_name().to_str()?.strip_suffix(".json")?))
            .collect();
        // By service, then replica number (web, web#2, …, web#10).
        units.sort_by(|a, b| crate::spec::replicas::split(a).cmp(&crate::spec::replicas::split(b)));
        for service in &units {
            let (rec, dmg) = self.load_container(service)?;
            if let Some(r) = rec {
                recs.push(r);
            }
            if let Some(d) = dmg {
                damage.push(d);
            }
        }
        Ok((recs, damage))
    }

    /// The pid of a live supervisor of this project, if one runs.
    pub fn supervisor_pid(&self) -> Option<i32> {
        let s = fs::read_to_string(self.pid_file()).ok()?;
        let mut it = s.split_whitespace();
        let pid: i32 = it.next()?.parse().ok()?;
        let start: Option<u64> = it.next().and_then(|v| v.parse().ok());
        let now = proc_start_time(pid)?;
        match start {
            Some(st) if st != now => None,
            _ => Some(pid),
        }
    }

    /// Record this process as the project's supervisor.
    pub fn write_pid_file(&self) -> Result<(), StateError> {
        let pid = std::process::id() as i32;
        let st = proc_start_time(pid).unwrap_or(0);
        write_atomic_volatile(&self.pid_file(), format!("{pid} {st}\n").as_bytes())
    }

    /// Take the project's lock, waiting (with a message through `notify`)
    /// while another stack command holds it.
    pub fn lock(&self, notify: &dyn Fn(&str)) -> Result<ProjectLock, StateError> {
        fs::create_dir_all(&self.run).map_err(io_err(&self.run))?;
        let file = lock_path(&self.lock_file(), &|holder| {
            notify(&format!(
                "waiting for another stack command on project {} (pid {holder})…",
                self.project
            ))
        })?;
        Ok(ProjectLock { _file: file })
    }

    /// Remove everything of the project except named volumes (unless
    /// `volumes`) and the shared cache. Only paths the store owns.
    pub fn remove_all(&self, volumes: bool) -> Result<(), StateError> {
        for p in [
            self.containers_dir(),
            self.logs_dir(),
            self.project_file(),
            self.scale_file(),
        ] {
            remove_path(&p)?;
        }
        if volumes {
            remove_path(&self.volumes_dir())?;
        } else {
            let _ = fs::remove_dir(self.volumes_dir()); // only if empty
        }
        // Leave corrupt-*.json copies? They are under containers/ and go with it.
        let _ = fs::remove_dir(&self.dir); // only if empty (volumes kept)
        for p in [
            self.control_socket(),
            self.pid_file(),
            self.supervisor_log(),
        ] {
            remove_path(&p)?;
        }
        Ok(())
    }
}

fn remove_path(p: &Path) -> Result<(), StateError> {
    let r = match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    r.map_err(io_err(p))
}

/// Take an exclusive `flock` on `path` (created if missing), blocking
/// while another process (or another open of it) holds it; `on_wait` is
/// told the holder's pid (`?` if unknown) before waiting. The lock lasts as
/// long as the returned file is open. The holder's pid is written into it.
fn lock_path(path: &Path, on_wait: &dyn Fn(&str)) -> Result<File, StateError> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io_err(path))?;
    // SAFETY: flock on a file descriptor we own; no memory is passed.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(io_err(path)(err));
        }
        let mut holder = String::new();
        let _ = f.read_to_string(&mut holder);
        let holder = holder.trim();
        on_wait(if holder.is_empty() { "?" } else { holder });
        loop {
            // SAFETY: as above; blocking flock.
            let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
            if r == 0 {
                break;
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(io_err(path)(err));
            }
        }
    }
    // The holder's pid, for the message of whoever waits next.
    let _ = f.set_len(0);
    let _ = (&f).write_all(format!("{}\n", std::process::id()).as_bytes());
    Ok(f)
}

/// Held while a stack command changes the project; released on drop.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

/// Field 22 of `/proc/<pid>/stat` (start time in clock ticks); `None` when
/// the process is gone or a zombie.
pub use crate::runtime::proc::live_start_time as proc_start_time;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Rootfs;

    fn svc(name: &str) -> Service {
        Service {
            command: Some(vec!["sleep".into(), "1".into()]),
            ..Service::new(name, Rootfs::Dir("/tmp/r".into()))
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let t = tempfile::tempdir().unwrap();
        let s = Store::with_roots("demo", &t.path().join("state"), &t.path().join("run")).unwrap();
        s.init().unwrap();
        (t, s)
    }

    #[test]
    fn layout() {
        let (t, s) = store();
        assert_eq!(
            s.record_file("web"),
            t.path().join("state/demo/containers/web-1.json")
        );
        assert_eq!(
            s.bundle_dir("web"),
            t.path().join("state/demo/containers/web-1")
        );
        assert_eq!(
            s.log_file("web"),
            t.path().join("state/demo/logs/web-1.log")
        );
        assert_eq!(
            s.volume_dir("data"),
            t.path().join("state/demo/volumes/data")
        );
        assert_eq!(s.control_socket(), t.path().join("run/demo/control.sock"));
        assert_eq!(s.cache, t.path().join("state/cache"));
    }

    #[test]
    fn bad_project_names_are_refused() {
        for n in ["", "A", "a/b", "..", "a b"] {
            assert!(
                Store::with_roots(n, Path::new("/s"), Path::new("/r")).is_err(),
                "{n}"
            );
        }
    }

    #[test]
    fn record_roundtrip() {
        let (_t, s) = store();
        let mut r = ContainerRecord::new("demo", &svc("web"), "abc".into());
        r.pid = Some(42);
        r.status = Status::Running;
        s.save_container(&r).unwrap();
        let (back, dmg) = s.load_container("web").unwrap();
        assert_eq!(back, Some(r.clone()));
        assert!(dmg.is_none());
        let (all, dmg) = s.containers().unwrap();
        assert_eq!(all, vec![r]);
        assert!(dmg.is_empty());
        s.remove_container("web").unwrap();
        assert_eq!(s.load_container("web").unwrap().0, None);
    }

    #[test]
    fn corrupt_record_is_moved_aside_not_overwritten() {
        let (_t, s) = store();
        let r = ContainerRecord::new("demo", &svc("web"), "abc".into());
        s.save_container(&r).unwrap();
        let full = fs::read(s.record_file("web")).unwrap();
        fs::write(s.record_file("web"), &full[..full.len() / 2]).unwrap();
        let (all, dmg) = s.containers().unwrap();
        assert!(all.is_empty());
        assert_eq!(dmg.len(), 1);
        assert!(!s.record_file("web").exists());
        assert_eq!(
            fs::read(&dmg[0].moved_to).unwrap(),
            &full[..full.len() / 2],
            "the damaged bytes are kept"
        );
        assert!(dmg[0].to_string().contains("corrupt state file"));
        assert!(dmg[0].moved_to.to_string_lossy().contains(".corrupt-"));
        // The moved-aside copy is not picked up as a record.
        assert!(s.containers().unwrap().1.is_empty());
    }

    #[test]
    fn empty_record_is_damage() {
        let (_t, s) = store();
        fs::write(s.record_file("db"), "").unwrap();
        let (_, d) = s.load_container("db").unwrap();
        assert_eq!(d.unwrap().reason, "empty");
    }

    #[test]
    fn atomic_write_leaves_no_temp() {
        let (_t, s) = store();
        write_atomic(&s.project_file(), b"{}").unwrap();
        write_atomic(&s.project_file(), b"{\"x\":1}").unwrap();
        let names: Vec<_> = fs::read_dir(&s.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
        assert_eq!(fs::read_to_string(s.project_file()).unwrap(), "{\"x\":1}");
    }

    #[test]
    fn lock_waits_with_message() {
        let (_t, s) = store();
        let held = s.lock(&|_| panic!("first lock must not wait")).unwrap();
        let s2 = s.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let h = std::thread::spawn(move || {
            let tx2 = tx.clone();
            let _l = s2.lock(&move |m| tx2.send(m.to_string()).unwrap()).unwrap();
            tx.send("acquired".into()).unwrap();
        });
        let msg = rx.recv().unwrap();
        assert!(
            msg.starts_with("waiting for another stack command on project demo (pid "),
            "{msg}"
        );
        assert!(msg.contains(&std::process::id().to_string()));
        drop(held);
        assert_eq!(rx.recv().unwrap(), "acquired");
        h.join().unwrap();
    }

    #[test]
    fn state_text() {
        let mut r = ContainerRecord::new("demo", &svc("web"), "h".into());
        r.status = Status::Exited;
        r.exit_code = Some(137);
        r.oom_killed = true;
        assert_eq!(r.state_text(), "exited (137, oom-killed)");
        r.oom_killed = false;
        assert_eq!(r.state_text(), "exited (137, SIGKILL)");
        r.exit_code = None;
        assert_eq!(r.state_text(), "exited (unknown)");
        r.exit_code = Some(0);
        r.completed = true;
        assert_eq!(r.state_text(), "exited (0, completed)");
        r.status = Status::Running;
        assert_eq!(r.state_text(), "running");
    }

    #[test]
    fn remove_all_keeps_volumes_and_cache() {
        let (_t, s) = store();
        fs::create_dir_all(s.volume_dir("data")).unwrap();
        fs::write(s.volume_dir("data").join("f"), "x").unwrap();
        fs::create_dir_all(s.cache.join("abc")).unwrap();
        s.save_container(&ContainerRecord::new("demo", &svc("web"), "h".into()))
            .unwrap();
        fs::write(s.log_file("web"), "x\n").unwrap();
        s.remove_all(false).unwrap();
        assert!(s.volume_dir("data").join("f").exists());
        assert!(s.cache.join("abc").exists());
        assert!(!s.containers_dir().exists());
        assert!(!s.logs_dir().exists());
        s.remove_all(true).unwrap();
        assert!(!s.dir.exists());
        assert!(s.cache.join("abc").exists());
    }

    #[test]
    fn own_start_time_is_readable() {
        let pid = std::process::id() as i32;
        assert!(proc_start_time(pid).is_some());
        assert_eq!(proc_start_time(i32::MAX), None);
    }
}
