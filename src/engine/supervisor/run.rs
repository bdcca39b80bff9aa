//! The wiring around the loop: the subreaper bit, signals, the control
//! socket, the foreground log printer, then [`Sup`]'s event loop with the
//! real spawner and clock.

use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::linux::LinuxSpawner;
use super::seams::SystemClock;
use super::{server, Config, Ev, OnSettled, Sup};
use crate::engine::reaper::Reaper;
use crate::engine::{logs, EngineError};

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
    signals(&reaper, &tx)?;

    // The control socket. A stale one (dead supervisor) is replaced.
    let sock = store.control_socket();
    if UnixStream::connect(&sock).is_ok() {
        return Err(EngineError::AlreadyRunning(store.project.clone()));
    }
    let _ = std::fs::remove_file(&sock);
    let listener = UnixListener::bind(&sock).map_err(|source| EngineError::Socket {
        path: sock.clone(),
        source,
    })?;
    store.write_pid_file()?;
    {
        let tx = tx.clone();
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || server::serve(listener, tx))
            .map_err(|source| EngineError::Setup {
                what: "control thread",
                source,
            })?;
    }

    let spawner = LinuxSpawner::new(tx.clone(), reaper, &cfg.store);
    let mut sup = Sup::new(&cfg, tx.clone(), Box::new(spawner), Box::new(SystemClock));
    sup.spawner.net_stack(&sup.stack);
    sup.adopt();
    if cfg.watch {
        if let Err(e) = sup.start_watch() {
            eprintln!("stack: {e}");
        }
    }
    let stop_logs = Arc::new(AtomicBool::new(false));
    let log_thread = cfg
        .foreground
        .then(|| print_logs(&sup, cfg.colour, stop_logs.clone()));

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

/// SIGCHLD → the reaper, SIGINT/SIGTERM → the loop.
fn signals(reaper: &Reaper, tx: &Sender<Ev>) -> Result<(), EngineError> {
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGCHLD,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .map_err(|source| EngineError::Setup {
        what: "signal handlers",
        source,
    })?;
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
        .map(|_| ())
        .map_err(|source| EngineError::Setup {
            what: "signal thread",
            source,
        })
}

/// Foreground: stream every service's output until `stop`.
fn print_logs(sup: &Sup, colour: bool, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    let units: Vec<String> = sup.stack.services.keys().cloned().collect();
    let names = crate::spec::replicas::labels(&units);
    let files: Vec<(String, std::path::PathBuf)> = names
        .iter()
        .zip(&units)
        .map(|(n, u)| (n.clone(), sup.store.log_file(u)))
        .collect();
    let prefixer = logs::Prefixer::new(&names, colour, false);
    let new_logs = sup.new_logs.clone();
    std::thread::spawn(move || {
        let mut f = logs::Follower::new(files, true);
        let mut prefixer = prefixer;
        loop {
            if let Ok(mut n) = new_logs.lock() {
                // Unit keys (`web#2`) from a reload, followed as labels.
                for (s, p) in n.drain(..) {
                    let label = crate::spec::replicas::display(&s);
                    f.add(&label, p);
                    prefixer = prefixer.with(&label);
                }
            }
            f.poll(&mut |s, l| logs::print_line(&prefixer.format(s, &l)));
            if stop.load(Ordering::Relaxed) {
                break;
            }
            // Woken early (unpark) when the supervisor stops.
            std::thread::park_timeout(Duration::from_millis(50));
        }
    })
}
