//! The loop's only ways to touch Linux and time: a [`Spawner`] and a
//! [`Clock`]. The real ones ([`super::linux::LinuxSpawner`],
//! [`SystemClock`]) run containers; the unit tests' fakes record the jobs
//! and move time by hand, so the loop's decisions are tested without root.
//!
//! Every job is answered later by an [`Ev`](super::Ev) into the loop
//! (`Started`, `Stopped`, `Health`, `Synced`, `Exited`): the loop never
//! waits on a container.

use std::time::{Duration, Instant};

use crate::engine::network::Entry;
use crate::runtime::spawn::Spawned;
use crate::runtime::sync::SyncOp;
use crate::spec::Service;
use crate::state::{ContainerRecord, NetAddress, PublishedPort, Store};

/// Prepare the root filesystem and start one container.
pub struct StartJob {
    pub service: String,
    pub gen: u64,
    pub svc: Service,
    pub store: Store,
    /// `network_mode: service:X`: the init pid of X's container.
    pub peer: Option<i32>,
    /// `ipc: service:X` and `pid: service:X`: the same for those.
    pub ipc_peer: Option<i32>,
    pub pid_peer: Option<i32>,
    /// Another service joins this one's IPC namespace (`ipc: service:`
    /// naming it): its `/dev/shm` is a host tmpfs they share.
    pub ipc_shared: bool,
}

/// A started container: its init, and what it holds on its networks.
#[derive(Debug)]
pub struct Started {
    pub spawned: Spawned,
    pub addresses: Vec<NetAddress>,
    pub ports: Vec<PublishedPort>,
}

impl From<Spawned> for Started {
    fn from(spawned: Spawned) -> Started {
        Started {
            spawned,
            addresses: Vec::new(),
            ports: Vec::new(),
        }
    }
}

/// Stop one container: its stop signal, the grace period, then SIGKILL.
pub struct StopJob {
    pub service: String,
    pub gen: u64,
    pub pid: Option<i32>,
    pub start_time: Option<u64>,
    pub cgroup: String,
    pub signal: i32,
    pub grace: Duration,
    /// Also remove its cgroup, mounts and files (it goes or is recreated).
    pub clean: bool,
    pub store: Store,
    /// The service, when it has `pre_stop` hooks to run first.
    pub pre_stop: Option<Box<Service>>,
}

/// Run one health probe inside a container, under its own filter.
pub struct ProbeJob {
    pub service: String,
    pub gen: u64,
    pub pid: i32,
    pub argv: Vec<String>,
    pub svc: Service,
    pub timeout: Duration,
}

/// Copy files into a running container (`develop.watch`).
pub struct SyncJob {
    pub service: String,
    pub gen: u64,
    pub spawned: Spawned,
    pub ops: Vec<SyncOp>,
    pub restart: bool,
}

/// Starts, stops and signals containers; tells when they exit.
pub trait Spawner: Send {
    /// Answered by `Ev::Started`.
    fn start(&self, job: StartJob);
    /// Answered by `Ev::Stopped`.
    fn stop(&self, job: StopJob);
    /// Answered by `Ev::Health`.
    fn probe(&self, job: ProbeJob);
    /// Answered by `Ev::Synced`; an error when no worker could start.
    fn sync(&self, job: SyncJob) -> std::io::Result<()>;
    /// SIGKILL every process of the container now (a second Ctrl-C).
    fn kill(&self, rec: &ContainerRecord);
    /// Whether the recorded init still runs (same pid, same start time).
    fn alive(&self, rec: &ContainerRecord) -> bool;
    /// Whether the kernel's OOM killer killed a process of this cgroup.
    fn oom_killed(&self, cgroup: &str) -> bool;
    /// Remove a stopped container's cgroup, mounts and files.
    fn remove_files(&self, store: &Store, service: &str, cgroup: &str);
    /// The project's containers found by their cgroups, as
    /// `(service, init pid, init start time)`: how a lost record is rebuilt.
    fn cgroup_inits(&self, project: &str) -> Vec<(String, i32, Option<u64>)>;
    /// Report the exit of `pid` as `Ev::Exited`: a child of ours, or
    /// (`adopted`) one an earlier supervisor started.
    fn watch(&self, pid: i32, adopted: bool);
    /// Stop reporting `pid`.
    fn forget(&self, pid: i32);
    /// Reap orphaned zombies nobody claimed.
    fn sweep(&self);
    /// The stack whose names the networks serve (start, reload).
    fn net_stack(&self, _stack: &crate::spec::Stack) {}
    /// After a pass: the running containers' network entries; those of
    /// `starting` containers stay, every other goes.
    fn net_sync(&self, _live: Vec<Entry>, _starting: &std::collections::BTreeSet<String>) {}
}

/// The loop's time: monotonic for its timers, Unix milliseconds for what
/// it records and plans with.
pub trait Clock: Send {
    fn now(&self) -> Instant;
    fn unix_ms(&self) -> u64;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn unix_ms(&self) -> u64 {
        crate::state::unix_now_ms()
    }
}
