//! The loop, unit-tested without root: a fake [`Spawner`] records the jobs
//! the loop hands out (the test then answers them as a worker would), and a
//! manual [`Clock`] moves time by hand. Every test drives the real `Sup`:
//! its pass, its plan, its waiters.

use std::collections::BTreeSet;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::seams::{Clock, ProbeJob, Spawner, StartJob, StopJob, SyncJob};
use super::{Config, Ev, OnSettled, Sup};
use crate::engine::control::{Op, Response, UpOptions};
use crate::engine::convert::tests::svc;
use crate::runtime::spawn::Spawned;
use crate::spec::units::Millis;
use crate::spec::{Condition, Dependency, Healthcheck, Service, Stack};
use crate::state::{ContainerRecord, Status, Store};

mod adoption;
mod requests;
mod restarts;
mod starts;

/// A job the loop handed to the spawner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    Start(String),
    Stop { service: String, clean: bool },
    Probe(String),
    Sync(String),
    Kill(String),
    RemoveFiles(String),
}

#[derive(Default)]
struct World {
    jobs: Vec<Job>,
    /// Generation of each service's last start/stop/probe job.
    gens: std::collections::BTreeMap<String, u64>,
    /// Pids that "run".
    live: BTreeSet<i32>,
    /// Pids watched as adopted.
    adopted: BTreeSet<i32>,
    /// What `cgroup_inits` finds.
    cgroups: Vec<(String, i32, Option<u64>)>,
}

#[derive(Clone, Default)]
struct FakeSpawner(Arc<Mutex<World>>);

impl FakeSpawner {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.0.lock().unwrap()
    }
}

impl Spawner for FakeSpawner {
    fn start(&self, job: StartJob) {
        let mut w = self.world();
        w.gens.insert(job.service.clone(), job.gen);
        w.jobs.push(Job::Start(job.service));
    }
    fn stop(&self, job: StopJob) {
        let mut w = self.world();
        w.gens.insert(job.service.clone(), job.gen);
        w.jobs.push(Job::Stop {
            service: job.service,
            clean: job.clean,
        });
    }
    fn probe(&self, job: ProbeJob) {
        let mut w = self.world();
        w.gens.insert(job.service.clone(), job.gen);
        w.jobs.push(Job::Probe(job.service));
    }
    fn sync(&self, job: SyncJob) -> std::io::Result<()> {
        self.world().jobs.push(Job::Sync(job.service));
        Ok(())
    }
    fn kill(&self, rec: &ContainerRecord) {
        self.world().jobs.push(Job::Kill(rec.service.clone()));
    }
    fn alive(&self, rec: &ContainerRecord) -> bool {
        rec.pid.is_some_and(|p| self.world().live.contains(&p))
    }
    fn oom_killed(&self, _cgroup: &str) -> bool {
        false
    }
    fn remove_files(&self, _store: &Store, service: &str, _cgroup: &str) {
        self.world()
            .jobs
            .push(Job::RemoveFiles(service.to_string()));
    }
    fn cgroup_inits(&self, _project: &str) -> Vec<(String, i32, Option<u64>)> {
        self.world().cgroups.clone()
    }
    fn watch(&self, pid: i32, adopted: bool) {
        if adopted {
            self.world().adopted.insert(pid);
        }
    }
    fn forget(&self, _pid: i32) {}
    fn sweep(&self) {}
}

/// Time moved by hand.
#[derive(Clone)]
struct ManualClock(Arc<Mutex<(Instant, u64)>>);

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.0.lock().unwrap().0
    }
    fn unix_ms(&self) -> u64 {
        self.0.lock().unwrap().1
    }
}

/// The start of every test's timeline (Unix ms).
pub const T0: u64 = 1_700_000_000_000;

pub struct Harness {
    pub sup: Sup,
    spawner: FakeSpawner,
    clock: ManualClock,
    _rx: Receiver<Ev>,
    _dir: tempfile::TempDir,
}

pub fn stack(services: Vec<Service>) -> Stack {
    Stack {
        name: "t".into(),
        file: "/t/stack.yaml".into(),
        overrides: Vec::new(),
        dir: "/t".into(),
        services: services.into_iter().map(|s| (s.name.clone(), s)).collect(),
        volumes: Default::default(),
        networks: Default::default(),
        inputs: Vec::new(),
        replicas: Default::default(),
    }
}

/// `svc` depending on `deps` with `cond`.
pub fn needs(mut s: Service, deps: &[&str], cond: Condition) -> Service {
    for d in deps {
        s.depends_on.insert(
            d.to_string(),
            Dependency {
                condition: cond,
                restart: false,
                required: true,
            },
        );
    }
    s
}

pub fn healthy_svc(name: &str) -> Service {
    let mut s = svc(name);
    s.healthcheck = Some(Healthcheck {
        test: vec!["true".into()],
        interval: Millis(1000),
        timeout: Millis(500),
        retries: 2,
        start_period: Millis(0),
        start_interval: Millis(0),
    });
    s
}

pub use crate::engine::convert::tests::svc as plain;

impl Harness {
    /// A supervisor for `st` over an empty store (records written before
    /// `adopt` with [`Harness::with_records`]).
    pub fn new(st: Stack) -> Harness {
        Harness::with_records(st, Vec::new(), &[])
    }

    /// A supervisor whose store holds `recs`, `live` of whose pids run.
    pub fn with_records(st: Stack, recs: Vec<ContainerRecord>, live: &[i32]) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::with_roots("t", &dir.path().join("state"), &dir.path().join("run")).unwrap();
        store.init().unwrap();
        for r in &recs {
            store.save_container(r).unwrap();
        }
        let (tx, rx): (Sender<Ev>, Receiver<Ev>) = mpsc::channel();
        let spawner = FakeSpawner::default();
        spawner.world().live.extend(live);
        let clock = ManualClock(Arc::new(Mutex::new((Instant::now(), T0))));
        let cfg = Config {
            store,
            stack: st,
            options: UpOptions::default(),
            foreground: false,
            colour: false,
            watch: false,
            load: None,
            on_start: None,
        };
        let mut sup = Sup::new(&cfg, tx, Box::new(spawner.clone()), Box::new(clock.clone()));
        sup.adopt();
        Harness {
            sup,
            spawner,
            clock,
            _rx: rx,
            _dir: dir,
        }
    }

    /// `stack up` with `options`.
    pub fn up_with(&mut self, options: UpOptions) {
        let st = self.sup.stack.clone();
        self.sup.apply(st, options);
        self.settle_pass();
    }

    pub fn up(&mut self) {
        self.up_with(UpOptions::default());
    }

    /// What the loop does before it waits (flush, answer waiters).
    fn settle_pass(&mut self) {
        let mut none: Option<OnSettled> = None;
        self.sup.before_wait(&mut none);
    }

    /// Deliver events, then the loop's pass and its answers.
    pub fn deliver(&mut self, evs: Vec<Ev>) {
        self.sup.pass(evs);
        self.settle_pass();
    }

    /// The jobs handed out since the last call.
    pub fn jobs(&self) -> Vec<Job> {
        std::mem::take(&mut self.spawner.world().jobs)
    }

    fn gen(&self, service: &str) -> u64 {
        self.spawner.world().gens[service]
    }

    /// The start worker of `service` succeeded: its init is `pid`.
    pub fn started(&mut self, service: &str, pid: i32) {
        let gen = self.gen(service);
        self.spawner.world().live.insert(pid);
        self.deliver(vec![Ev::Started {
            service: service.into(),
            gen,
            result: Ok(Spawned {
                pid,
                start_time: 1,
                into_cgroup: false,
            }
            .into()),
        }]);
    }

    /// The start worker of `service` failed with `msg`.
    pub fn start_failed(&mut self, service: &str, msg: &str) {
        let gen = self.gen(service);
        self.deliver(vec![Ev::Started {
            service: service.into(),
            gen,
            result: Err(super::errors::StartError::Fake(msg.into())),
        }]);
    }

    /// `pid` exited with `code`.
    pub fn exited(&mut self, pid: i32, code: Option<i32>) {
        self.spawner.world().live.remove(&pid);
        self.deliver(vec![Ev::Exited { pid, code }]);
    }

    /// The stop worker of `service` finished (its init, `pid`, is gone).
    pub fn stopped(&mut self, service: &str, pid: i32, cleaned: bool) {
        let gen = self.gen(service);
        self.spawner.world().live.remove(&pid);
        self.deliver(vec![Ev::Stopped {
            service: service.into(),
            gen,
            cleaned,
        }]);
    }

    /// A probe of `service` answered.
    pub fn probed(&mut self, service: &str, ok: bool) {
        let gen = self.gen(service);
        self.deliver(vec![Ev::Health {
            service: service.into(),
            gen,
            ok,
            output: if ok { "ok".into() } else { "boom".into() },
        }]);
    }

    /// Move time on by `ms`, then the pass a timer would wake.
    pub fn advance(&mut self, ms: u64) {
        {
            let mut c = self.clock.0.lock().unwrap();
            c.0 += Duration::from_millis(ms);
            c.1 += ms;
        }
        self.deliver(Vec::new());
    }

    /// Send a control request; its reply channel.
    pub fn request(&mut self, op: Op) -> Receiver<Response> {
        let (tx, rx) = mpsc::channel();
        self.deliver(vec![Ev::Control { op, reply: tx }]);
        rx
    }

    pub fn status(&self, service: &str) -> Status {
        self.sup.ctrs[service].rec.status
    }

    pub fn rec(&self, service: &str) -> &ContainerRecord {
        &self.sup.ctrs[service].rec
    }

    /// The pids the fake watches as adopted.
    pub fn adopted(&self) -> BTreeSet<i32> {
        self.spawner.world().adopted.clone()
    }

    /// Make `cgroup_inits` find these.
    pub fn set_cgroups(&self, found: Vec<(String, i32, Option<u64>)>) {
        self.spawner.world().cgroups = found;
    }

    /// When the loop would wake next, from now.
    pub fn next_wake(&self) -> Option<Duration> {
        let now = self.clock.now();
        self.sup
            .next_deadline()
            .map(|t| t.saturating_duration_since(now))
    }
}

pub fn start(s: &str) -> Job {
    Job::Start(s.into())
}

pub fn stop(s: &str, clean: bool) -> Job {
    Job::Stop {
        service: s.into(),
        clean,
    }
}
