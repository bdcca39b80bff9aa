//! The supervisor: one event loop per project. Every event — a child
//! exited, a start or stop finished, a health result, a control request, a
//! timer, a signal — leads to the same step: observe, plan, dispatch what
//! can run now to worker threads, record. The loop itself never blocks on a
//! container.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod watching;

use super::control::{self, Event, Op, Response, UpOptions};
use super::reaper::Reaper;
use super::reconcile::{self, Action, Intent, Kind, Observed};
use super::{convert, logs, ops, EngineError};
use crate::plan::{HealthStatus, Tracker};
use crate::runtime::cgroup::{self, Cgroup};
use crate::runtime::spawn::{self, Spawned};
use crate::spec::{Service, Stack};
use crate::state::{unix_now, unix_now_ms, ContainerRecord, Health, ProjectRecord, Status, Store};

/// How the supervisor runs.
pub struct Config {
    pub store: Store,
    pub stack: Stack,
    pub options: UpOptions,
    /// Foreground `up`: stream the containers' output to stdout.
    pub foreground: bool,
    /// Colour the output prefixes.
    pub colour: bool,
    /// Watch the file from the start (`up --watch`); `stack watch` turns
    /// it on later. Shown by `ps`.
    pub watch: bool,
    /// How to re-read the file on a change (profiles, `--env-file`);
    /// `None`: the stack's own file and project name, `.env` beside it.
    pub load: Option<crate::spec::LoadOptions>,
    /// Called once the loop is ready, with a sender into it (an extra event
    /// source; the file watcher itself is built in).
    pub on_start: Option<Box<dyn FnOnce(Sender<Ev>) + Send>>,
}

/// Messages into the loop.
pub enum Ev {
    Exited {
        pid: i32,
        code: Option<i32>,
    },
    Started {
        service: String,
        gen: u64,
        result: Result<Spawned, String>,
    },
    Stopped {
        service: String,
        gen: u64,
        /// The worker also removed the container's cgroup and files (it
        /// was stopped to be removed or recreated).
        cleaned: bool,
    },
    Health {
        service: String,
        gen: u64,
        ok: bool,
        output: String,
    },
    Control {
        op: Op,
        reply: Sender<Response>,
    },
    Signal(i32),
    /// A new, valid stack from the file watcher.
    Reload(Box<Stack>),
    /// A watched file changed but does not load (one line per problem,
    /// with file:line:col).
    ReloadFailed(String),
    /// Changes under a `develop.watch` rule (`gen`: the tree watcher's).
    Tree {
        gen: u64,
        ev: super::watch::TreeEvent,
    },
    /// A `develop.watch` sync finished (`gen`: the container's).
    Synced {
        service: String,
        gen: u64,
        result: Result<usize, String>,
        restart: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Starting,
    Stopping,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    Nothing,
    Remove,
    Recreate,
    Restart,
}

struct Ctr {
    rec: ContainerRecord,
    gen: u64,
    busy: Option<Busy>,
    started: Instant,
    probe_busy: bool,
    next_probe: Option<Instant>,
    /// The health state machine (the planner's, one implementation).
    tracker: Option<Tracker>,
}

impl Ctr {
    fn new(rec: ContainerRecord) -> Ctr {
        Ctr {
            rec,
            gen: 0,
            busy: None,
            started: Instant::now(),
            probe_busy: false,
            next_probe: None,
            tracker: None,
        }
    }
    fn alive(&self) -> bool {
        matches!(self.rec.status, Status::Running | Status::Stopping) && ops::rec_alive(&self.rec)
    }
}

struct StopReq {
    after: After,
    grace: Option<Duration>,
}

enum Waiter {
    /// Until the given services (all when `None`) have settled.
    Settle {
        healthy: bool,
        /// Only these services (`stop`/`start`/`restart SERVICE...`).
        only: Option<BTreeSet<String>>,
        deadline: Option<Instant>,
        reply: Sender<Response>,
    },
    /// Until none of these is being stopped.
    Stopped {
        services: BTreeSet<String>,
        reply: Sender<Response>,
    },
    Down {
        reply: Sender<Response>,
    },
}

struct Sup {
    store: Store,
    stack: Stack,
    intent: Intent,
    foreground: bool,
    watch: bool,
    tx: Sender<Ev>,
    reaper: Reaper,
    ctrs: BTreeMap<String, Ctr>,
    pending: BTreeMap<String, (Kind, String)>,
    reported: BTreeSet<String>,
    to_stop: BTreeMap<String, StopReq>,
    /// When the planner wants to be asked again (a back-off ends).
    wake_at: Option<Instant>,
    waiters: Vec<Waiter>,
    subscribers: Vec<Sender<Response>>,
    shutdown: Option<After>,
    interrupts: u32,
    done: bool,
    last_actions: Vec<String>,
    new_logs: Arc<Mutex<Vec<(String, std::path::PathBuf)>>>,
    gen: u64,
    /// The file and `develop.watch` watchers.
    live: watching::Live,
    /// Records changed since the last `flush` (see `save`).
    dirty: BTreeSet<String>,
}

/// Called once when the first reconcile has settled.
pub type OnSettled = Box<dyn FnOnce(Result<(), String>) + Send>;

/// Run the supervisor until the stack is stopped (`Ctrl-C`, SIGTERM) or
/// taken down. `on_settled` is called once, when the first reconcile has
/// settled (the caller then releases the project lock).
pub fn run(cfg: Config, on_settled: OnSettled) -> Result<i32, EngineError> {
    let store = cfg.store.clone();
    // The sealed copy of our binary every container's init runs from is
    // made while the file is parsed and the state written, not on the
    // first start's critical path.
    crate::runtime::sealed::prewarm();
    store.init()?;
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };

    let (tx, rx) = mpsc::channel::<Ev>();
    let sink_tx = Mutex::new(tx.clone());
    let reaper = Reaper::new(Arc::new(move |pid, code| {
        if let Ok(t) = sink_tx.lock() {
            let _ = t.send(Ev::Exited { pid, code });
        }
    }));

    // Signals: SIGCHLD → reaper, SIGINT/SIGTERM → the loop.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGCHLD,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(|e| EngineError::Io(format!("cannot install signal handlers: {e}")))?;
    {
        let reaper = reaper.clone();
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                for s in signals.forever() {
                    if s == signal_hook::consts::SIGCHLD {
                        reaper.on_sigchld();
                    } else if tx.send(Ev::Signal(s)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| EngineError::Io(e.to_string()))?;
    }

    // The control socket. A stale one (dead supervisor) is replaced.
    let sock = store.control_socket();
    if UnixStream::connect(&sock).is_ok() {
        return Err(EngineError::AlreadyRunning(store.project.clone()));
    }
    let _ = std::fs::remove_file(&sock);
    let listener = UnixListener::bind(&sock)
        .map_err(|e| EngineError::Io(format!("{}: {e}", sock.display())))?;
    store.write_pid_file()?;
    {
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || serve(listener, tx))
            .map_err(|e| EngineError::Io(e.to_string()))?;
    }

    let mut sup = Sup {
        store: store.clone(),
        stack: cfg.stack.clone(),
        intent: Intent::default(),
        foreground: cfg.foreground,
        watch: cfg.watch,
        tx: tx.clone(),
        reaper,
        ctrs: BTreeMap::new(),
        pending: BTreeMap::new(),
        reported: BTreeSet::new(),
        to_stop: BTreeMap::new(),
        wake_at: None,
        waiters: Vec::new(),
        subscribers: Vec::new(),
        shutdown: None,
        interrupts: 0,
        done: false,
        last_actions: Vec::new(),
        new_logs: Arc::new(Mutex::new(Vec::new())),
        gen: 0,
        live: watching::Live::new(cfg.load.clone(), &cfg.stack),
        dirty: BTreeSet::new(),
    };
    sup.adopt();
    if cfg.watch {
        if let Err(e) = sup.start_watch() {
            eprintln!("stack: {e}");
        }
    }

    // Foreground: stream every service's output.
    let stop_logs = Arc::new(AtomicBool::new(false));
    let log_thread = if cfg.foreground {
        let names: Vec<String> = sup.stack.services.keys().cloned().collect();
        let files: Vec<(String, std::path::PathBuf)> = names
            .iter()
            .map(|n| (n.clone(), store.log_file(n)))
            .collect();
        let prefixer = logs::Prefixer::new(&names, cfg.colour, false);
        let stop = stop_logs.clone();
        let new_logs = sup.new_logs.clone();
        Some(std::thread::spawn(move || {
            let mut f = logs::Follower::new(files, true);
            let mut prefixer = prefixer;
            loop {
                if let Ok(mut n) = new_logs.lock() {
                    for (s, p) in n.drain(..) {
                        f.add(&s, p);
                        prefixer = prefixer.with(&s);
                    }
                }
                f.poll(&mut |s, l| logs::print_line(&prefixer.format(s, &l)));
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                // Woken early (unpark) when the supervisor stops.
                std::thread::park_timeout(Duration::from_millis(50));
            }
        }))
    } else {
        None
    };

    if let Some(f) = cfg.on_start {
        f(tx.clone());
    }
    sup.apply(cfg.stack, cfg.options);
    let mut on_settled = Some(on_settled);
    sup.event_loop(&rx, &mut on_settled);

    stop_logs.store(true, Ordering::Relaxed);
    if let Some(h) = log_thread {
        h.thread().unpark();
        let _ = h.join();
    }
    let _ = std::fs::remove_file(&sock);
    let _ = std::fs::remove_file(store.pid_file());
    Ok(0)
}

fn serve(listener: UnixListener, tx: Sender<Ev>) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let tx = tx.clone();
        let _ = std::thread::Builder::new()
            .name("control-conn".into())
            .spawn(move || handle_conn(conn, tx));
    }
}

fn write_resp(w: &mut UnixStream, r: &Response) -> bool {
    let Ok(mut s) = serde_json::to_string(r) else {
        return false;
    };
    s.push('\n');
    w.write_all(s.as_bytes()).is_ok()
}

fn handle_conn(conn: UnixStream, tx: Sender<Ev>) {
    let Ok(rd) = conn.try_clone() else { return };
    let mut line = String::new();
    // A request larger than 16 MiB is not one of ours.
    if BufReader::new(rd.take(16 << 20))
        .read_line(&mut line)
        .is_err()
    {
        return;
    }
    let mut w = conn;
    let req = match control::parse_request(&line) {
        Ok(r) => r,
        Err(e) => {
            write_resp(&mut w, &Response::err(e));
            return;
        }
    };
    let streaming = matches!(req.op, Op::Events);
    let (rtx, rrx) = mpsc::channel();
    if tx
        .send(Ev::Control {
            op: req.op,
            reply: rtx,
        })
        .is_err()
    {
        write_resp(&mut w, &Response::err("the supervisor is shutting down"));
        return;
    }
    loop {
        let Ok(resp) = rrx.recv() else { return };
        if !write_resp(&mut w, &resp) || !streaming {
            return;
        }
    }
}

/// Run a health probe through `stack __exec` (exec needs a
/// single-threaded process), with a timeout.
fn probe(pid: i32, argv: &[String], svc: &Service, timeout: Duration) -> (bool, String) {
    // The probe runs under the container's own filter, never without one.
    let seccomp = match convert::seccomp(svc) {
        Ok(s) => s,
        Err(e) => return (false, format!("cannot run the probe: seccomp: {e}")),
    };
    let opts = spawn::ExecOptions {
        argv: argv.to_vec(),
        capabilities: Some(convert::service_capabilities(svc)),
        seccomp,
        ..Default::default()
    };
    let mut cmd = spawn::exec_helper_command(pid, &opts);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (false, format!("cannot run the probe: {e}")),
    };
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.take(4096).read_to_end(&mut buf);
        }
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.take(4096).read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).trim().to_string()
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Err(_) => break None,
        }
    };
    match status {
        Some(s) => {
            let out = reader.join().unwrap_or_default();
            (s.success(), out)
        }
        None => (
            false,
            format!("probe timed out after {} ms", timeout.as_millis()),
        ),
    }
}

impl Sup {
    fn emit(&mut self, service: Option<&str>, kind: &str, detail: String) {
        self.emit_to(service, kind, detail, true);
    }

    /// `emit`, printing the event only when `print` (its text was printed
    /// another way already).
    fn emit_to(&mut self, service: Option<&str>, kind: &str, detail: String, print: bool) {
        let ev = Event {
            time: unix_now_ms(),
            service: service.map(String::from),
            kind: kind.to_string(),
            detail,
        };
        if print && (!self.foreground || !matches!(kind, "created")) {
            eprintln!("{}", ev.text());
        }
        let resp = Response {
            event: Some(ev),
            ..Response::ok()
        };
        self.subscribers.retain(|s| s.send(resp.clone()).is_ok());
    }

    /// Mark a record for writing. Each write is an fsync'd atomic replace
    /// (two fsyncs), so the loop writes every changed record once per pass
    /// (`flush`), in parallel, before it answers anyone or waits: starting
    /// 50 containers wrote 100 records one by one before.
    fn save(&mut self, name: &str) {
        self.dirty.insert(name.to_string());
    }

    /// Write the records marked by `save`; concurrent fsyncs share journal
    /// commits.
    fn flush(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let names = std::mem::take(&mut self.dirty);
        let recs: Vec<&ContainerRecord> = names
            .iter()
            .filter_map(|n| self.ctrs.get(n).map(|c| &c.rec))
            .collect();
        let store = &self.store;
        let per_thread = recs.len().div_ceil(8).max(1);
        std::thread::scope(|s| {
            for chunk in recs.chunks(per_thread) {
                s.spawn(move || {
                    for rec in chunk {
                        if let Err(e) = store.save_container(rec) {
                            eprintln!("stack: cannot record {}: {e}", rec.service);
                        }
                    }
                });
            }
        });
    }

    /// Read the store: adopt live containers, note the dead ones.
    fn adopt(&mut self) {
        let (recs, damage) = match self.store.containers() {
            Ok(v) => v,
            Err(e) => {
                eprintln!("stack: {e}");
                (Vec::new(), Vec::new())
            }
        };
        for d in damage {
            eprintln!("stack: {d}");
        }
        for mut rec in recs {
            let name = rec.service.clone();
            match rec.status {
                Status::Running | Status::Stopping | Status::Created => {
                    if ops::rec_alive(&rec) {
                        rec.status = Status::Running;
                        if let Some(pid) = rec.pid {
                            self.reaper.watch_adopted(pid);
                        }
                        eprintln!(
                            "stack: adopted {name} (pid {})",
                            rec.pid.unwrap_or_default()
                        );
                    } else {
                        rec.status = Status::Exited;
                        rec.exit_code = None;
                        rec.finished_at.get_or_insert(unix_now());
                    }
                }
                _ => {}
            }
            let mut c = Ctr::new(rec);
            if c.rec.health.is_some() && c.rec.status == Status::Running {
                c.next_probe = Some(Instant::now());
                c.tracker = c.rec.config.healthcheck.as_ref().map(|hc| {
                    let started_ms = c.rec.started_at.unwrap_or(0).saturating_mul(1000);
                    Tracker::new(hc, started_ms).resumed(health_status(c.rec.health))
                });
            }
            self.ctrs.insert(name.clone(), c);
            self.save(&name);
        }
        // Containers whose record was lost: rebuilt from their cgroup.
        for path in cgroup::list(&format!("stack/{}", self.store.project)) {
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            if self.ctrs.contains_key(&name) {
                continue;
            }
            let Some(svc) = self.stack.services.get(&name).cloned() else {
                continue;
            };
            let Some(cg) = Cgroup::open(&path) else {
                continue;
            };
            let pids = cg.pids();
            let init = pids
                .iter()
                .copied()
                .filter(|p| {
                    let ppid = crate::runtime::proc::stat(*p).map(|s| s.ppid);
                    ppid.is_none_or(|pp| !pids.contains(&pp))
                })
                .min();
            let Some(pid) = init else { continue };
            let mut rec = ContainerRecord::new(&self.store.project, &svc, reconcile::hash(&svc));
            rec.pid = Some(pid);
            rec.start_time = crate::state::proc_start_time(pid);
            rec.status = Status::Running;
            rec.started_at = Some(unix_now());
            self.reaper.watch_adopted(pid);
            eprintln!("stack: rebuilt the record of {name} from its cgroup (pid {pid})");
            self.ctrs.insert(name.clone(), Ctr::new(rec));
            self.save(&name);
        }
    }

    /// Take a new desired stack (first `up`, reload, watch).
    fn apply(&mut self, stack: Stack, options: UpOptions) {
        let scope = reconcile::scope(&stack, &options.services, options.no_deps);
        let in_scope = |n: &String| scope.as_ref().is_none_or(|s| s.contains(n));
        let kicked: BTreeSet<String> = stack
            .services
            .keys()
            .filter(|n| in_scope(n))
            .cloned()
            .collect();
        let force = if options.force_recreate {
            kicked.clone()
        } else {
            BTreeSet::new()
        };
        self.stack = stack;
        self.intent = Intent {
            options,
            scope,
            kicked,
            force,
        };
        self.reported.clear();
        let rec = ProjectRecord {
            name: self.store.project.clone(),
            file: self.stack.file.clone(),
            stack: Some(self.stack.clone()),
            watch: self.watch,
            updated_at: unix_now(),
        };
        if let Err(e) = self.store.save_project(&rec) {
            eprintln!("stack: {e}");
        }
        if let Ok(mut n) = self.new_logs.lock() {
            for s in self.stack.services.keys() {
                n.push((s.clone(), self.store.log_file(s)));
            }
        }
        self.last_actions.clear();
        self.refresh_watches();
        self.step();
    }

    fn observed(&self) -> BTreeMap<String, Observed> {
        self.ctrs
            .iter()
            .map(|(n, c)| {
                (
                    n.clone(),
                    Observed {
                        rec: c.rec.clone(),
                        busy: c.busy.is_some() || self.to_stop.contains_key(n),
                    },
                )
            })
            .collect()
    }

    /// Observe, plan, dispatch.
    fn step(&mut self) {
        if self.shutdown.is_none() {
            let now_ms = unix_now_ms();
            let (actions, wake) =
                reconcile::decide(&self.stack, &self.observed(), &self.intent, now_ms);
            self.wake_at =
                wake.map(|w| Instant::now() + Duration::from_millis(w.saturating_sub(now_ms)));
            self.pending.clear();
            // A kick lasts until the service is started or nothing is to be
            // done for it (it runs, or it is a finished job).
            let still: BTreeSet<String> = actions
                .iter()
                .filter(|a| {
                    matches!(
                        a.kind,
                        Kind::Start | Kind::Wait | Kind::Blocked | Kind::Create
                    )
                })
                .map(|a| a.service.clone())
                .collect();
            let busy: BTreeSet<String> = self
                .ctrs
                .iter()
                .filter(|(n, c)| c.busy.is_some() || self.to_stop.contains_key(*n))
                .map(|(n, _)| n.clone())
                .collect();
            self.intent
                .kicked
                .retain(|n| still.contains(n) || busy.contains(n));
            for a in actions {
                self.execute(a);
            }
        }
        self.dispatch_stops();
        self.schedule_probes();
    }

    fn execute(&mut self, a: Action) {
        let name = a.service.clone();
        match a.kind {
            Kind::Backoff => {
                if let Some(c) = self.ctrs.get_mut(&name) {
                    if c.rec.next_restart_ms != a.until_ms {
                        c.rec.next_restart_ms = a.until_ms;
                        self.save(&name);
                    }
                }
                self.pending.insert(name, (a.kind, a.reason));
                return;
            }
            Kind::Wait | Kind::Blocked => {
                let first = self.pending.get(&name).map(|p| &p.1) != Some(&a.reason)
                    && !self.reported.contains(&format!("{a}"));
                if first && a.kind == Kind::Blocked {
                    eprintln!("{a}");
                    self.reported.insert(format!("{a}"));
                }
                self.pending.insert(name, (a.kind, a.reason));
                return;
            }
            Kind::Orphan => {
                if self.reported.insert(format!("{a}")) {
                    eprintln!("{a}");
                    self.emit(Some(&name), "orphan", a.reason.clone());
                }
                return;
            }
            _ => {}
        }
        let line = a.to_string();
        eprintln!("{line}");
        self.last_actions.push(line);
        match a.kind {
            Kind::Create => {
                let Some(svc) = self.stack.services.get(&name).cloned() else {
                    return;
                };
                let rec = ContainerRecord::new(&self.store.project, &svc, reconcile::hash(&svc));
                self.ctrs.insert(name.clone(), Ctr::new(rec));
                self.save(&name);
                self.emit(Some(&name), "created", String::new());
                self.start(&name);
            }
            Kind::Start => {
                if let Some(c) = self.ctrs.get_mut(&name) {
                    if c.rec.stopped_by_user {
                        // `start` forgets the stop and the policy's counters.
                        c.rec.stopped_by_user = false;
                        c.rec.restarts = 0;
                        c.rec.backoff_level = 0;
                    }
                }
                self.start(&name);
            }
            Kind::Restart => {
                let alive = self.ctrs.get(&name).is_some_and(|c| c.alive());
                if let Some(c) = self.ctrs.get_mut(&name) {
                    if a.policy {
                        c.rec.restarts = c.rec.restarts.saturating_add(1);
                        c.rec.backoff_level = c.rec.backoff_level.saturating_add(1);
                    }
                }
                self.emit(Some(&name), "restarting", a.reason.clone());
                if alive {
                    self.to_stop.insert(
                        name,
                        StopReq {
                            after: After::Restart,
                            grace: None,
                        },
                    );
                } else {
                    self.start(&name);
                }
            }
            Kind::Recreate => {
                self.intent.force.remove(&name);
                self.to_stop.insert(
                    name,
                    StopReq {
                        after: After::Recreate,
                        grace: None,
                    },
                );
            }
            Kind::Remove => {
                self.to_stop.insert(
                    name,
                    StopReq {
                        after: After::Remove,
                        grace: None,
                    },
                );
            }
            _ => {}
        }
    }

    /// Start (or restart) a container on a worker thread.
    fn start(&mut self, name: &str) {
        self.intent.kicked.remove(name);
        let Some(svc) = self.stack.services.get(name).cloned() else {
            return;
        };
        self.gen += 1;
        let gen = self.gen;
        let Some(c) = self.ctrs.get_mut(name) else {
            return;
        };
        c.gen = gen;
        c.busy = Some(Busy::Starting);
        c.rec.status = Status::Created;
        c.rec.config = svc.clone();
        c.rec.hash = reconcile::hash(&svc);
        c.rec.error = None;
        c.rec.next_restart_ms = None;
        self.save(name);
        let store = self.store.clone();
        let tx = self.tx.clone();
        let service = name.to_string();
        let _ = std::thread::Builder::new()
            .name(format!("start-{name}"))
            .spawn(move || {
                let result = start_container(&store, &svc);
                let _ = tx.send(Ev::Started {
                    service,
                    gen,
                    result,
                });
            });
    }

    /// Dispatch stop workers for `to_stop`, dependents first.
    fn dispatch_stops(&mut self) {
        let names: Vec<String> = self.to_stop.keys().cloned().collect();
        for name in names {
            let Some(c) = self.ctrs.get(&name) else {
                self.to_stop.remove(&name);
                continue;
            };
            if c.busy == Some(Busy::Stopping) {
                continue;
            }
            if c.busy == Some(Busy::Starting) {
                continue; // stopped once the start finished
            }
            // Wait for the dependents that are being stopped too.
            let waiting = self.to_stop.keys().any(|other| {
                other != &name
                    && self
                        .stack
                        .services
                        .get(other)
                        .is_some_and(|s| s.depends_on.contains_key(&name))
                    && self
                        .ctrs
                        .get(other)
                        .is_some_and(|o| o.alive() || o.busy.is_some())
            });
            if waiting {
                continue;
            }
            if !c.alive() {
                let after = self
                    .to_stop
                    .remove(&name)
                    .map(|r| r.after)
                    .unwrap_or(After::Nothing);
                self.after_stop(&name, after);
                continue;
            }
            let grace = self.to_stop[&name]
                .grace
                .unwrap_or(c.rec.config.stop_grace_period.as_duration());
            let sig = ops::signal_number(&c.rec.config.stop_signal);
            let (pid, st, cg) = (c.rec.pid, c.rec.start_time, c.rec.cgroup.clone());
            let gen = c.gen;
            // Removing the cgroup, mounts and files takes milliseconds: on
            // the worker, not in the loop.
            let clean = matches!(self.to_stop[&name].after, After::Remove | After::Recreate);
            let store = self.store.clone();
            if let Some(c) = self.ctrs.get_mut(&name) {
                c.busy = Some(Busy::Stopping);
                c.rec.status = Status::Stopping;
            }
            self.save(&name);
            let tx = self.tx.clone();
            let service = name.clone();
            let _ = std::thread::Builder::new()
                .name(format!("stop-{name}"))
                .spawn(move || {
                    ops::stop_container(pid, st, &cg, sig, grace);
                    if clean {
                        ops::remove_container_files(&store, &service, &cg);
                    }
                    let _ = tx.send(Ev::Stopped {
                        service,
                        gen,
                        cleaned: clean,
                    });
                });
        }
    }

    fn after_stop(&mut self, name: &str, after: After) {
        self.after_stop_cleaned(name, after, false);
    }

    /// `after_stop`; `cleaned`: the container's cgroup and files are gone.
    fn after_stop_cleaned(&mut self, name: &str, after: After, cleaned: bool) {
        match after {
            After::Nothing => {
                self.save(name);
            }
            After::Restart => {
                // Counted (or not) when the restart was decided.
                self.start(name);
            }
            After::Remove | After::Recreate => {
                if let Some(c) = self.ctrs.remove(name) {
                    if let Some(pid) = c.rec.pid {
                        self.reaper.forget(pid);
                    }
                    if !cleaned {
                        ops::remove_container_files(&self.store, name, &c.rec.cgroup);
                    }
                    if after == After::Remove {
                        let _ = std::fs::remove_file(self.store.log_file(name));
                    }
                }
                let _ = self.store.remove_container(name);
                self.emit(Some(name), "removed", String::new());
            }
        }
    }

    fn schedule_probes(&mut self) {
        let now = Instant::now();
        let names: Vec<String> = self.ctrs.keys().cloned().collect();
        for name in names {
            let Some(c) = self.ctrs.get_mut(&name) else {
                continue;
            };
            if c.busy.is_some() || c.probe_busy || c.rec.status != Status::Running {
                continue;
            }
            let Some(hc) = c.rec.config.healthcheck.clone() else {
                continue;
            };
            let Some(at) = c.next_probe else { continue };
            if at > now {
                continue;
            }
            let Some(pid) = c.rec.pid else { continue };
            c.probe_busy = true;
            let gen = c.gen;
            let tx = self.tx.clone();
            let service = name.clone();
            let timeout = Duration::from_millis(
                c.tracker
                    .as_ref()
                    .map_or(hc.timeout.0, |t| t.timeout_ms())
                    .max(100),
            );
            let svc = c.rec.config.clone();
            let _ = std::thread::Builder::new()
                .name(format!("probe-{name}"))
                .spawn(move || {
                    let (ok, output) = probe(pid, &hc.test, &svc, timeout);
                    let _ = tx.send(Ev::Health {
                        service,
                        gen,
                        ok,
                        output,
                    });
                });
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut d: Option<Instant> = None;
        let mut take = |t: Instant| d = Some(d.map_or(t, |x| x.min(t)));
        if let Some(t) = self.wake_at {
            take(t);
        }
        for c in self.ctrs.values() {
            if !c.probe_busy && c.busy.is_none() && c.rec.status == Status::Running {
                if let Some(t) = c.next_probe {
                    take(t);
                }
            }
        }
        for w in &self.waiters {
            if let Waiter::Settle {
                deadline: Some(t), ..
            } = w
            {
                take(*t);
            }
        }
        d
    }

    fn event_loop(&mut self, rx: &Receiver<Ev>, on_settled: &mut Option<OnSettled>) {
        loop {
            self.flush();
            if on_settled.is_some() {
                if let Some(r) = self.settled(false, None) {
                    if let Some(f) = on_settled.take() {
                        f(r);
                    }
                }
            }
            self.check_waiters();
            // As `docker compose up`: once every container has exited and
            // none will be started again, the foreground `up` returns.
            if self.done || (on_settled.is_none() && self.foreground_finished()) {
                return;
            }
            let timeout = self
                .next_deadline()
                .map(|t| t.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(3600));
            match rx.recv_timeout(timeout) {
                Ok(ev) => self.handle(ev),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush();
                    return;
                }
            }
            // Take whatever else is queued before planning again.
            while let Ok(ev) = rx.try_recv() {
                self.handle(ev);
            }
            self.reaper.sweep();
            self.step();
            if let Some(after) = self.shutdown {
                if self.to_stop.is_empty() && self.ctrs.values().all(|c| c.busy.is_none()) {
                    if after == After::Remove {
                        let names: Vec<String> = self.ctrs.keys().cloned().collect();
                        for n in names {
                            self.after_stop(&n, After::Remove);
                        }
                    }
                    self.done = true;
                }
            }
        }
    }

    /// Foreground `up` (not watching) with nothing left to run: every
    /// container has exited, failed or is blocked for good, and nothing is
    /// starting, stopping or waiting for a back-off.
    fn foreground_finished(&self) -> bool {
        self.foreground
            && !self.watch
            && self.shutdown.is_none()
            && !self.ctrs.is_empty()
            && self.wake_at.is_none()
            && self.to_stop.is_empty()
            && self.pending.values().all(|(k, _)| *k == Kind::Blocked)
            && self.ctrs.values().all(|c| {
                c.busy.is_none()
                    && matches!(c.rec.status, Status::Exited | Status::Failed)
                    && !c.alive()
            })
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Exited { pid, code } => self.on_exit(pid, code),
            Ev::Started {
                service,
                gen,
                result,
            } => self.on_started(&service, gen, result),
            Ev::Stopped {
                service,
                gen,
                cleaned,
            } => {
                let Some(c) = self.ctrs.get_mut(&service) else {
                    return;
                };
                if c.gen != gen {
                    return;
                }
                c.busy = None;
                if matches!(c.rec.status, Status::Running | Status::Stopping) {
                    c.rec.status = Status::Exited;
                    c.rec.set_finished(unix_now_ms());
                }
                self.emit(Some(&service), "stopped", String::new());
                let after = self
                    .to_stop
                    .remove(&service)
                    .map(|r| r.after)
                    .unwrap_or(After::Nothing);
                self.after_stop_cleaned(&service, after, cleaned);
            }
            Ev::Health {
                service,
                gen,
                ok,
                output,
            } => self.on_health(&service, gen, ok, output),
            Ev::Control { op, reply } => self.on_control(op, reply),
            Ev::Signal(_) => {
                self.interrupts += 1;
                if self.interrupts == 1 {
                    eprintln!("stopping the stack (Ctrl-C again to kill it)…");
                    self.stop_all(After::Nothing, None);
                } else {
                    eprintln!("killing the stack…");
                    for c in self.ctrs.values() {
                        ops::kill_now(c.rec.pid, c.rec.start_time, &c.rec.cgroup);
                    }
                }
            }
            Ev::Reload(stack) => self.on_reload(*stack),
            Ev::ReloadFailed(msg) => self.on_reload_failed(msg),
            Ev::Tree { gen, ev } => self.on_tree(gen, ev),
            Ev::Synced {
                service,
                gen,
                result,
                restart,
            } => self.on_synced(&service, gen, result, restart),
        }
    }

    fn stop_all(&mut self, after: After, grace: Option<Duration>) {
        self.shutdown = Some(after);
        // The watchers stop with the stack.
        self.stop_watching();
        let names: Vec<String> = self.ctrs.keys().cloned().collect();
        for n in names {
            self.to_stop.insert(n, StopReq { after, grace });
        }
    }

    fn on_exit(&mut self, pid: i32, code: Option<i32>) {
        let Some((name, c)) = self.ctrs.iter_mut().find(|(_, c)| c.rec.pid == Some(pid)) else {
            return;
        };
        let name = name.clone();
        if c.rec.status == Status::Exited && c.rec.exit_code.is_some() {
            return;
        }
        // An adopted container is not our child: its init left the code in the log.
        let code = code.or_else(|| logs::recorded_exit_code(&self.store.log_file(&name)));
        c.rec.exit_code = code.or(c.rec.exit_code);
        if c.rec.status == Status::Exited {
            // Already marked by the stop worker; just note the code.
            self.save(&name);
            return;
        }
        c.rec.status = Status::Exited;
        c.rec.set_finished(unix_now_ms());
        c.rec.oom_killed = Cgroup::open(&c.rec.cgroup).is_some_and(|g| g.oom_killed());
        c.rec.completed =
            code == Some(0) && crate::plan::restart::is_one_shot(&c.rec.config.restart);
        c.probe_busy = false;
        c.next_probe = None;
        // The back-off resets after a long enough run.
        c.rec.backoff_level = crate::plan::restart::level_after_exit(
            c.rec.backoff_level,
            c.started.elapsed().as_millis() as u64,
        );
        let detail = match code {
            Some(c) => format!("exit {c}"),
            None => "exit code unknown (adopted container)".into(),
        };
        let oom = c.rec.oom_killed;
        self.save(&name);
        self.emit(Some(&name), "died", detail);
        if oom {
            self.emit(Some(&name), "oom", String::new());
        }
    }

    fn on_started(&mut self, name: &str, gen: u64, result: Result<Spawned, String>) {
        // What each dependency was when this started (for `restart: true`).
        let stamps: BTreeMap<String, u64> = self
            .ctrs
            .get(name)
            .map(|c| {
                c.rec
                    .config
                    .depends_on
                    .keys()
                    .filter_map(|d| self.ctrs.get(d).map(|o| (d.clone(), o.rec.created_ms)))
                    .collect()
            })
            .unwrap_or_default();
        let Some(c) = self.ctrs.get_mut(name) else {
            return;
        };
        if c.gen != gen {
            return;
        }
        c.busy = None;
        match result {
            Ok(sp) => {
                c.rec.pid = Some(sp.pid);
                c.rec.start_time = Some(sp.start_time);
                c.rec.deps_at_start = stamps;
                c.rec.status = Status::Running;
                c.rec.started_at = Some(unix_now());
                c.rec.finished_at = None;
                c.rec.finished_ms = None;
                c.rec.exit_code = None;
                c.rec.oom_killed = false;
                c.rec.completed = false;
                c.started = Instant::now();
                c.probe_busy = false;
                let now_ms = unix_now_ms();
                c.tracker = c
                    .rec
                    .config
                    .healthcheck
                    .as_ref()
                    .map(|h| Tracker::new(h, now_ms));
                c.next_probe = c
                    .tracker
                    .as_ref()
                    .map(|t| instant_at(t.next_probe_at(), now_ms));
                c.rec.health = c.rec.config.healthcheck.as_ref().map(|_| Health::Starting);
                self.reaper.watch_child(sp.pid);
                self.save(name);
                self.emit(Some(name), "started", format!("pid {}", sp.pid));
                if self.ctrs.get(name).is_some_and(|c| c.rec.stopped_by_user) {
                    self.to_stop.entry(name.to_string()).or_insert(StopReq {
                        after: After::Nothing,
                        grace: None,
                    });
                }
            }
            Err(msg) => {
                let sentence = format!("service {name}: {msg}");
                c.rec.status = Status::Failed;
                c.rec.error = Some(sentence.clone());
                c.rec.set_finished(unix_now_ms());
                self.save(name);
                eprintln!("{sentence}");
                self.emit(Some(name), "failed", msg);
            }
        }
    }

    fn on_health(&mut self, name: &str, gen: u64, ok: bool, output: String) {
        let Some(c) = self.ctrs.get_mut(name) else {
            return;
        };
        c.probe_busy = false;
        if c.gen != gen || c.rec.status != Status::Running || c.busy.is_some() {
            return;
        }
        let Some(t) = c.tracker.as_mut() else {
            return;
        };
        let before = c.rec.health;
        c.rec.health_output = Some(output.clone());
        let now_ms = unix_now_ms();
        t.on_result(ok, now_ms);
        c.rec.health = match t.status() {
            HealthStatus::Healthy => Some(Health::Healthy),
            HealthStatus::Unhealthy => Some(Health::Unhealthy),
            HealthStatus::Starting | HealthStatus::None => Some(Health::Starting),
        };
        c.next_probe = Some(instant_at(t.next_probe_at(), now_ms));
        // An unhealthy container's restart is the planner's decision.
        let after = c.rec.health;
        self.save(name);
        if after != before {
            if let Some(h) = after {
                self.emit(Some(name), h.as_str(), output);
            }
        }
    }

    fn select(&self, services: &[String]) -> Result<Vec<String>, String> {
        if services.is_empty() {
            let mut all: Vec<String> = self.ctrs.keys().cloned().collect();
            for s in self.stack.services.keys() {
                if !all.contains(s) {
                    all.push(s.clone());
                }
            }
            return Ok(all);
        }
        for s in services {
            if !self.ctrs.contains_key(s) && !self.stack.services.contains_key(s) {
                return Err(format!("no such service: {s}"));
            }
        }
        Ok(services.to_vec())
    }

    fn ps(&self) -> Response {
        Response {
            containers: Some(self.ctrs.values().map(|c| c.rec.clone()).collect()),
            // One line per service: a service with a container is shown
            // by its record (a back-off by `next_restart_ms`).
            pending: self
                .pending
                .iter()
                .filter(|(k, _)| !self.ctrs.contains_key(*k))
                .map(|(k, (_, r))| (k.clone(), r.clone()))
                .collect(),
            notes: self
                .pending
                .iter()
                .filter(|(k, (kind, _))| self.ctrs.contains_key(*k) && *kind != Kind::Backoff)
                .map(|(k, (_, r))| (k.clone(), r.clone()))
                .collect(),
            supervisor_pid: Some(std::process::id() as i32),
            watch: self.watch,
            ..Response::ok()
        }
    }

    fn on_control(&mut self, op: Op, reply: Sender<Response>) {
        match op {
            Op::Ps => {
                let _ = reply.send(self.ps());
            }
            Op::Events => self.subscribers.push(reply),
            Op::Stop { services, timeout } => match self.select(&services) {
                Err(e) => {
                    let _ = reply.send(Response::err(e));
                }
                Ok(names) => {
                    let grace = timeout.map(Duration::from_secs);
                    for n in &names {
                        if let Some(c) = self.ctrs.get_mut(n) {
                            c.rec.stopped_by_user = true;
                            c.rec.next_restart_ms = None;
                            self.to_stop.insert(
                                n.clone(),
                                StopReq {
                                    after: After::Nothing,
                                    grace,
                                },
                            );
                        }
                        self.intent.kicked.remove(n);
                    }
                    self.waiters.push(Waiter::Stopped {
                        services: names.into_iter().collect(),
                        reply,
                    });
                }
            },
            Op::Start { services } => match self.select(&services) {
                Err(e) => {
                    let _ = reply.send(Response::err(e));
                }
                Ok(names) => {
                    let only = names.iter().cloned().collect();
                    // `stopped_by_user` stays set: the kicked pass plans a
                    // user start, and `Kind::Start` forgets the stop and
                    // the policy's counters (cleared here, the stopped
                    // container would be planned as a policy restart).
                    for n in names {
                        self.intent.kicked.insert(n);
                    }
                    self.waiters.push(Waiter::Settle {
                        healthy: false,
                        only: Some(only),
                        deadline: None,
                        reply,
                    });
                }
            },
            Op::Restart { services, timeout } => match self.select(&services) {
                Err(e) => {
                    let _ = reply.send(Response::err(e));
                }
                Ok(names) => {
                    let grace = timeout.map(Duration::from_secs);
                    let only: BTreeSet<String> = names.iter().cloned().collect();
                    for n in names {
                        let alive = self.ctrs.get(&n).is_some_and(|c| c.alive());
                        if alive {
                            if let Some(c) = self.ctrs.get_mut(&n) {
                                c.rec.stopped_by_user = false;
                            }
                            self.to_stop.insert(
                                n,
                                StopReq {
                                    after: After::Restart,
                                    grace,
                                },
                            );
                        } else {
                            self.intent.kicked.insert(n);
                        }
                    }
                    self.waiters.push(Waiter::Settle {
                        healthy: false,
                        only: Some(only),
                        deadline: None,
                        reply,
                    });
                }
            },
            Op::Watch => self.on_watch_op(reply),
            Op::Down { timeout } => {
                self.stop_all(After::Remove, timeout.map(Duration::from_secs));
                self.waiters.push(Waiter::Down { reply });
            }
            Op::Reload { stack, options } => {
                self.emit(None, "reloaded", stack.file.display().to_string());
                self.apply(*stack, options);
                let mut r = self.ps();
                r.actions = self.last_actions.clone();
                let _ = reply.send(r);
            }
            Op::Wait {
                healthy,
                timeout_ms,
            } => self.waiters.push(Waiter::Settle {
                healthy,
                only: None,
                deadline: timeout_ms.map(|ms| Instant::now() + Duration::from_millis(ms)),
                reply,
            }),
        }
    }

    /// Whether every service in scope has settled: `Ok` when all are
    /// started (with `healthy`: healthy or completed), `Err` naming each
    /// service that failed, `None` while something is still on its way.
    fn settled(
        &self,
        healthy: bool,
        only: Option<&BTreeSet<String>>,
    ) -> Option<Result<(), String>> {
        let wanted = |n: &String| only.is_none_or(|o| o.contains(n));
        if self.to_stop.keys().any(wanted)
            || self.ctrs.iter().any(|(n, c)| wanted(n) && c.busy.is_some())
        {
            return None;
        }
        let mut errors = Vec::new();
        let mut waiting = false;
        for name in self.stack.services.keys().filter(|n| wanted(n)) {
            let in_scope = self.intent.scope.as_ref().is_none_or(|s| s.contains(name));
            if let Some((kind, why)) = self.pending.get(name) {
                match kind {
                    Kind::Blocked => errors.push(format!("service {name}: {why}")),
                    // A crash-looping service has started; `--wait` waits on.
                    Kind::Backoff if !healthy => {}
                    _ => waiting = true,
                }
                continue;
            }
            let Some(c) = self.ctrs.get(name) else {
                if in_scope {
                    waiting = true;
                }
                continue;
            };
            if self.intent.kicked.contains(name) && in_scope && !c.rec.completed {
                waiting = true;
                continue;
            }
            match c.rec.status {
                Status::Failed => errors.push(
                    c.rec
                        .error
                        .clone()
                        .unwrap_or_else(|| format!("service {name}: failed to start")),
                ),
                Status::Running if healthy => match c.rec.health {
                    Some(Health::Starting) => waiting = true,
                    Some(Health::Unhealthy) => errors.push(format!(
                        "service {name}: unhealthy: {}",
                        c.rec.health_output.as_deref().unwrap_or("")
                    )),
                    _ => {}
                },
                Status::Exited
                    if healthy && !c.rec.stopped_by_user && c.rec.exit_code != Some(0) =>
                {
                    errors.push(format!("service {name}: {}", c.rec.state_text()));
                }
                Status::Created | Status::Stopping => waiting = true,
                _ => {}
            }
        }
        if !errors.is_empty() {
            return Some(Err(errors.join("\n")));
        }
        if waiting {
            return None;
        }
        Some(Ok(()))
    }

    fn check_waiters(&mut self) {
        let waiters = std::mem::take(&mut self.waiters);
        for w in waiters {
            match w {
                Waiter::Settle {
                    healthy,
                    only,
                    deadline,
                    reply,
                } => match self.settled(healthy, only.as_ref()) {
                    Some(Ok(())) => {
                        let _ = reply.send(self.ps());
                    }
                    Some(Err(e)) => {
                        let mut r = self.ps();
                        r.ok = false;
                        r.error = Some(e);
                        let _ = reply.send(r);
                    }
                    None if deadline.is_some_and(|d| Instant::now() >= d) => {
                        let mut r = self.ps();
                        let pending: Vec<String> = self
                            .stack
                            .services
                            .keys()
                            .filter_map(|n| {
                                let st = match (self.pending.get(n), self.ctrs.get(n)) {
                                    (Some((_, why)), _) => why.clone(),
                                    (None, Some(c)) => match c.rec.health {
                                        Some(Health::Starting)
                                            if c.rec.status == Status::Running =>
                                        {
                                            "health: starting".into()
                                        }
                                        _ => return None,
                                    },
                                    (None, None) => "not created".into(),
                                };
                                Some(format!("{n} ({st})"))
                            })
                            .collect();
                        r.ok = false;
                        r.error = Some(format!(
                            "timed out waiting for: {}",
                            if pending.is_empty() {
                                "the stack to settle".to_string()
                            } else {
                                pending.join(", ")
                            }
                        ));
                        let _ = reply.send(r);
                    }
                    None => self.waiters.push(Waiter::Settle {
                        healthy,
                        only,
                        deadline,
                        reply,
                    }),
                },
                Waiter::Stopped { services, reply } => {
                    let busy = services.iter().any(|s| {
                        self.to_stop.contains_key(s)
                            || self.ctrs.get(s).is_some_and(|c| c.busy.is_some())
                    });
                    if busy {
                        self.waiters.push(Waiter::Stopped { services, reply });
                    } else {
                        let _ = reply.send(self.ps());
                    }
                }
                Waiter::Down { reply } => {
                    if self.done {
                        let _ = reply.send(Response::ok());
                    } else {
                        self.waiters.push(Waiter::Down { reply });
                    }
                }
            }
        }
    }
}

/// The monotonic instant of Unix time `at_ms`, given the Unix time now.
fn instant_at(at_ms: u64, now_ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(at_ms.saturating_sub(now_ms))
}

/// A record's health as the planner's tracker sees it.
fn health_status(h: Option<Health>) -> HealthStatus {
    match h {
        None => HealthStatus::None,
        Some(Health::Starting) => HealthStatus::Starting,
        Some(Health::Healthy) => HealthStatus::Healthy,
        Some(Health::Unhealthy) => HealthStatus::Unhealthy,
    }
}

/// Prepare the rootfs and start one container (on a worker thread).
fn start_container(store: &Store, svc: &Service) -> Result<Spawned, String> {
    let (name, source) = (svc.name.clone(), convert::rootfs_source(&svc.rootfs));
    let lower =
        crate::runtime::rootfs::prepare(&source, &store.cache, &|m| eprintln!("{name}: {m}"))
            .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(store.bundle_dir(&svc.name))
        .map_err(|e| format!("{}: {e}", store.bundle_dir(&svc.name).display()))?;
    std::fs::create_dir_all(store.logs_dir())
        .map_err(|e| format!("{}: {e}", store.logs_dir().display()))?;
    let cfg = convert::container_config(store, svc, &lower).map_err(|e| e.to_string())?;
    let cg = Cgroup::create(&cfg.cgroup, &cfg.limits).map_err(|e| e.to_string())?;
    spawn::start(&cfg, &cg.procs_files()).map_err(|e| e.to_string())
}
