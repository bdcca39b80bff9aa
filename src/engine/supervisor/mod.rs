//! The supervisor: one event loop per project. Every event — a child
//! exited, a start or stop finished, a health result, a control request, a
//! timer, a signal — leads to the same pass: observe, plan, dispatch what
//! can run now to the spawner's workers, record. The loop itself never
//! blocks on a container.
//!
//! Its rooms, each owning its part of the state:
//!
//! - [`run`](run()) (run.rs): the wiring — signals, the control socket,
//!   the foreground log printer — around [`Sup`];
//! - server.rs: the control socket's connections;
//! - seams.rs: the [`Spawner`](seams::Spawner) and [`Clock`](seams::Clock)
//!   the loop acts and tells time through; linux.rs: the real spawner;
//! - ctr.rs: one container — the plan's state machine and its record;
//! - intent.rs: what the current `up` asked for, as the plan's options;
//! - dispatch.rs: the pass (plan → start/stop jobs); lifecycle.rs: their
//!   answers; probes.rs: health; adopt.rs: taking over a stack;
//! - control_ops.rs: requests; waiters.rs: answering them when settled;
//! - outbox.rs: events and records out; watching.rs: `--watch` and
//!   `develop.watch`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod adopt;
mod control_ops;
mod ctr;
mod dispatch;
mod errors;
mod intent;
mod lifecycle;
mod linux;
mod outbox;
mod probes;
mod run;
mod seams;
mod server;
#[cfg(test)]
mod tests;
mod waiters;
mod watching;

pub use run::run;

use super::control::{Op, Response, UpOptions};
use crate::plan::Goal;
use crate::spec::Stack;
use crate::state::{Status, Store};
use ctr::{After, Ctr, StopReq};
use seams::{Clock, Spawner};

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
        result: Result<seams::Started, errors::StartError>,
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
        result: Result<usize, crate::runtime::sync::SyncError>,
        restart: bool,
    },
}

/// The loop's state.
struct Sup {
    store: Store,
    stack: Stack,
    intent: intent::Intent,
    watch: bool,
    tx: Sender<Ev>,
    spawner: Box<dyn Spawner>,
    clock: Box<dyn Clock>,
    ctrs: BTreeMap<String, Ctr>,
    /// The plan's reports (wait, blocked) of the last pass, by service.
    pending: dispatch::Pending,
    to_stop: BTreeMap<String, StopReq>,
    /// When the planner wants to be asked again (a back-off ends).
    wake_at: Option<Instant>,
    /// Start generations: an answer for an older start is dropped.
    gen: u64,
    /// The executed actions' lines since the last `apply` (a reload's answer).
    last_actions: Vec<String>,
    out: outbox::Outbox,
    waiters: Vec<waiters::Waiter>,
    /// Records changed since the last `flush` (see `save`).
    dirty: BTreeSet<String>,
    /// Stopping the whole stack, and what follows (`down`: remove).
    shutdown: Option<After>,
    interrupts: u32,
    done: bool,
    /// Log files for the foreground printer to follow.
    new_logs: Arc<Mutex<Vec<(String, std::path::PathBuf)>>>,
    /// The file and `develop.watch` watchers.
    live: watching::Live,
}

/// Called once when the first reconcile has settled.
pub type OnSettled = Box<dyn FnOnce(Result<(), String>) + Send>;

impl Sup {
    fn new(cfg: &Config, tx: Sender<Ev>, spawner: Box<dyn Spawner>, clock: Box<dyn Clock>) -> Sup {
        Sup {
            store: cfg.store.clone(),
            stack: cfg.stack.clone(),
            intent: intent::Intent::default(),
            watch: cfg.watch,
            tx,
            spawner,
            clock,
            ctrs: BTreeMap::new(),
            pending: BTreeMap::new(),
            to_stop: BTreeMap::new(),
            wake_at: None,
            gen: 0,
            last_actions: Vec::new(),
            out: outbox::Outbox {
                foreground: cfg.foreground,
                ..Default::default()
            },
            waiters: Vec::new(),
            dirty: BTreeSet::new(),
            shutdown: None,
            interrupts: 0,
            done: false,
            new_logs: Arc::new(Mutex::new(Vec::new())),
            live: watching::Live::new(cfg.load.clone(), &cfg.stack),
        }
    }

    fn event_loop(&mut self, rx: &Receiver<Ev>, on_settled: &mut Option<OnSettled>) {
        loop {
            if self.before_wait(on_settled) {
                return;
            }
            let timeout = self
                .next_deadline()
                .map(|t| t.saturating_duration_since(self.clock.now()))
                .unwrap_or(Duration::from_secs(3600));
            let mut evs = Vec::new();
            match rx.recv_timeout(timeout) {
                Ok(ev) => evs.push(ev),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush();
                    return;
                }
            }
            // Take whatever else is queued before planning again.
            evs.extend(rx.try_iter());
            self.pass(evs);
        }
    }

    /// Before the loop waits: write the records, answer whoever waits.
    /// True when the loop is over.
    fn before_wait(&mut self, on_settled: &mut Option<OnSettled>) -> bool {
        self.flush();
        if on_settled.is_some() {
            match self.settled(Goal::Started, None) {
                Err(None) => {}
                r => {
                    if let Some(f) = on_settled.take() {
                        f(r.map_err(|e| e.unwrap_or_default()));
                    }
                }
            }
        }
        self.check_waiters();
        // As `docker compose up`: once every container has exited and
        // none will be started again, the foreground `up` returns.
        self.done || (on_settled.is_none() && self.foreground_finished())
    }

    /// Handle what happened, then one pass: observe, plan, dispatch.
    fn pass(&mut self, evs: Vec<Ev>) {
        for ev in evs {
            self.handle(ev);
        }
        self.spawner.sweep();
        self.step();
        if let Some(after) = self.shutdown {
            if self.to_stop.is_empty() && self.ctrs.values().all(|c| c.busy.is_none()) {
                if after == After::Remove {
                    let names: Vec<String> = self.ctrs.keys().cloned().collect();
                    for n in names {
                        self.after_stop(&n, After::Remove, false);
                    }
                }
                self.done = true;
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let probes = self.ctrs.values().filter_map(|c| {
            let idle = !c.probe_busy && c.busy.is_none() && c.obs.is_running();
            c.next_probe.filter(|_| idle)
        });
        self.wake_at
            .into_iter()
            .chain(probes)
            .chain(self.waiters_deadline())
            .min()
    }

    /// Foreground `up` (not watching) with nothing left to run: every
    /// container has exited, failed or is blocked for good, and nothing is
    /// starting, stopping or waiting for a back-off.
    fn foreground_finished(&self) -> bool {
        self.out.foreground
            && !self.watch
            && self.shutdown.is_none()
            && !self.ctrs.is_empty()
            && self.wake_at.is_none()
            && self.to_stop.is_empty()
            && self
                .pending
                .values()
                .all(|a| matches!(a, crate::plan::Action::Blocked { .. }))
            && self.ctrs.values().all(|c| {
                c.busy.is_none()
                    && matches!(c.rec.status, Status::Exited | Status::Failed)
                    && !self.alive(c)
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
            } => self.on_stopped(&service, gen, cleaned),
            Ev::Health {
                service,
                gen,
                ok,
                output,
            } => self.on_health(&service, gen, ok, output),
            Ev::Control { op, reply } => self.on_control(op, reply),
            Ev::Signal(_) => self.on_signal(),
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

    /// Ctrl-C or SIGTERM: stop the stack; a second one kills it.
    fn on_signal(&mut self) {
        self.interrupts += 1;
        if self.interrupts == 1 {
            eprintln!("stopping the stack (Ctrl-C again to kill it)…");
            self.stop_all(After::Nothing, None);
        } else {
            eprintln!("killing the stack…");
            for c in self.ctrs.values() {
                self.spawner.kill(&c.rec);
            }
        }
    }
}

/// The monotonic instant of Unix time `at_ms`, given both clocks now.
fn instant_at(now: Instant, at_ms: u64, now_ms: u64) -> Instant {
    now + Duration::from_millis(at_ms.saturating_sub(now_ms))
}
