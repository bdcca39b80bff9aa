//! The real [`Spawner`]: each job on its own worker thread, answered into
//! the loop; exits noticed by the [`Reaper`].

use std::io::Read;
use std::process::Stdio;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::errors::StartError;
use super::seams::{ProbeJob, Spawner, StartJob, Started, StopJob, SyncJob};
use super::Ev;
use crate::engine::network::{Entry, Keeper};
use crate::engine::reaper::Reaper;
use crate::engine::{convert, ops};
use crate::runtime::cgroup::{self, Cgroup};
use crate::runtime::spawn;
use crate::runtime::sync::sync_spawned;
use crate::spec::Service;
use crate::state::{ContainerRecord, Store};

pub struct LinuxSpawner {
    tx: Sender<Ev>,
    reaper: Reaper,
    keeper: Arc<Keeper>,
}

/// How often the networks are checked for what an outside reload wiped.
const REPAIR_EVERY: Duration = Duration::from_secs(2);

impl LinuxSpawner {
    pub fn new(tx: Sender<Ev>, reaper: Reaper, store: &Store) -> LinuxSpawner {
        let keeper = Arc::new(Keeper::new(store));
        let k = Arc::downgrade(&keeper);
        worker("network-repair".into(), move || loop {
            std::thread::sleep(REPAIR_EVERY);
            match k.upgrade() {
                Some(k) => k.repair(),
                None => return,
            }
        });
        LinuxSpawner { tx, reaper, keeper }
    }
}

/// Run `f` on a named worker thread; a thread that cannot start is said.
fn worker(name: String, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.clone()).spawn(f) {
        eprintln!("stack: cannot start the {name} worker: {e}");
    }
}

impl Spawner for LinuxSpawner {
    fn start(&self, job: StartJob) {
        let tx = self.tx.clone();
        let keeper = self.keeper.clone();
        worker(format!("start-{}", job.service), move || {
            let result = start_container(&job, &keeper);
            let _ = tx.send(Ev::Started {
                service: job.service,
                gen: job.gen,
                result,
            });
        });
    }

    fn stop(&self, job: StopJob) {
        let tx = self.tx.clone();
        let keeper = self.keeper.clone();
        worker(format!("stop-{}", job.service), move || {
            pre_stop(&job);
            ops::stop_container(job.pid, job.start_time, &job.cgroup, job.signal, job.grace);
            // Removing the cgroup, mounts and files takes milliseconds:
            // here, not in the loop.
            if job.clean {
                ops::remove_container_files(&job.store, &job.service, &job.cgroup);
                keeper.detach(&job.service);
            }
            let _ = tx.send(Ev::Stopped {
                service: job.service,
                gen: job.gen,
                cleaned: job.clean,
            });
        });
    }

    fn probe(&self, job: ProbeJob) {
        let tx = self.tx.clone();
        worker(format!("probe-{}", job.service), move || {
            let (ok, output) = probe(job.pid, &job.argv, &job.svc, job.timeout);
            let _ = tx.send(Ev::Health {
                service: job.service,
                gen: job.gen,
                ok,
                output,
            });
        });
    }

    fn sync(&self, job: SyncJob) -> std::io::Result<()> {
        let tx = self.tx.clone();
        std::thread::Builder::new()
            .name(format!("sync-{}", job.service))
            .spawn(move || {
                let n = job.ops.len();
                let result = sync_spawned(&job.spawned, &job.ops).map(|()| n);
                let _ = tx.send(Ev::Synced {
                    service: job.service,
                    gen: job.gen,
                    result,
                    restart: job.restart,
                });
            })
            .map(|_| ())
    }

    fn kill(&self, rec: &ContainerRecord) {
        ops::kill_now(rec.pid, rec.start_time, &rec.cgroup);
    }

    fn alive(&self, rec: &ContainerRecord) -> bool {
        ops::rec_alive(rec)
    }

    fn oom_killed(&self, cgroup: &str) -> bool {
        Cgroup::open(cgroup).is_some_and(|g| g.oom_killed())
    }

    fn remove_files(&self, store: &Store, service: &str, cgroup: &str) {
        ops::remove_container_files(store, service, cgroup);
        self.keeper.detach(service);
    }

    fn cgroup_inits(&self, project: &str) -> Vec<(String, i32, Option<u64>)> {
        let mut out = Vec::new();
        for path in cgroup::list(&format!("stack/{project}")) {
            let name = path.rsplit('/').next().unwrap_or_default().to_string();
            let Some(cg) = Cgroup::open(&path) else {
                continue;
            };
            let pids = cg.pids();
            // The init: the process whose parent is outside the cgroup.
            let init = pids
                .iter()
                .copied()
                .filter(|p| {
                    let ppid = crate::runtime::proc::stat(*p).map(|s| s.ppid);
                    ppid.is_none_or(|pp| !pids.contains(&pp))
                })
                .min();
            if let Some(pid) = init {
                out.push((name, pid, crate::runtime::proc::start_time(pid)));
            }
        }
        out
    }

    fn watch(&self, pid: i32, adopted: bool) {
        if adopted {
            self.reaper.watch_adopted(pid);
        } else {
            self.reaper.watch_child(pid);
        }
    }

    fn forget(&self, pid: i32) {
        self.reaper.forget(pid);
    }

    fn sweep(&self) {
        self.reaper.sweep();
    }

    fn net_stack(&self, stack: &crate::spec::Stack) {
        self.keeper.set_stack(stack);
    }

    fn net_sync(&self, live: Vec<Entry>, starting: &std::collections::BTreeSet<String>) {
        self.keeper.sync(live, starting);
    }
}

/// A failed `post_start` fails the start, as in Compose: the reason goes to
/// the container's log and the container is killed, so its exit is seen as
/// any other and its restart policy applies.
fn post_start(store: &Store, svc: &Service, spawned: &spawn::Spawned, cgroup: &str) {
    if svc.post_start.is_empty() {
        return;
    }
    let log = store.log_file(&svc.name);
    let hooks = &svc.post_start;
    let timeout = crate::engine::hooks::POST_START_TIMEOUT;
    if let Err(e) =
        crate::engine::hooks::run_all(spawned.pid, svc, "post_start", hooks, &log, timeout)
    {
        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&log) {
            crate::runtime::init::write_line(
                &mut f,
                "stderr",
                format!("stack: {e}; stopping the container").as_bytes(),
            );
        }
        ops::kill_now(Some(spawned.pid), Some(spawned.start_time), cgroup);
    }
}

/// `pre_stop` hooks, within the grace period; one that fails is said in the
/// log and the stop goes on.
fn pre_stop(job: &StopJob) {
    let (Some(svc), Some(pid)) = (&job.pre_stop, job.pid) else {
        return;
    };
    let log = job.store.log_file(&job.service);
    if let Err(e) =
        crate::engine::hooks::run_all(pid, svc, "pre_stop", &svc.pre_stop, &log, job.grace)
    {
        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&log) {
            crate::runtime::init::write_line(
                &mut f,
                "stderr",
                format!("stack: {e}; stopping it anyway").as_bytes(),
            );
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

/// The read-only layers of a service's root filesystem: the top-most, and
/// the ones below it, top-most first. A `rootfs` is one prepared directory;
/// an image is its unpacked layers (flattened when too many for one overlay).
fn lowers(
    store: &Store,
    svc: &Service,
) -> Result<(std::path::PathBuf, Vec<std::path::PathBuf>), StartError> {
    if let crate::spec::Rootfs::Image(img) = &svc.rootfs {
        let dirs = crate::engine::image::layer_dirs(&svc.name, img)?;
        let images = crate::state::images::ImageStore::new();
        let mut lowers = crate::runtime::rootfs::layers::image_lowers(&images.dir, &dirs)?;
        let top = lowers.pop().unwrap_or_default();
        lowers.reverse();
        return Ok((top, lowers));
    }
    let name = &svc.name;
    let lower = match convert::rootfs_source(&svc.rootfs) {
        Some(source) => {
            crate::runtime::rootfs::prepare(&source, &store.cache, &|m| eprintln!("{name}: {m}"))?
        }
        // Only an image has no rootfs source, and it returned above.
        None => Default::default(),
    };
    Ok((lower, Vec::new()))
}

/// `ipc`/`pid: service:NAME`: the namespaces of NAME's running container.
fn shared_namespaces(
    job: &StartJob,
    cfg: &mut crate::runtime::ContainerConfig,
) -> Result<(), StartError> {
    use crate::runtime::Share;
    use crate::spec::{IpcMode, PidMode};
    let gone = |key, what, peer: &String| StartError::PeerGone {
        key,
        what,
        peer: peer.clone(),
    };
    if let IpcMode::Service(p) = &job.svc.process.ipc {
        cfg.ipc = Share::Join(job.ipc_peer.ok_or_else(|| gone("ipc", "IPC", p))?);
        cfg.shm_source = Some(job.store.bundle_dir(p).join("shm"));
    }
    if job.ipc_shared && cfg.ipc != Share::Host {
        let dir = job.store.bundle_dir(&job.svc.name).join("shm");
        crate::runtime::mounts::shared_shm(&dir, cfg.security.shm_size)?;
        cfg.shm_source = Some(dir);
    }
    if let PidMode::Service(p) = &job.svc.process.pid {
        cfg.pid = Share::Join(job.pid_peer.ok_or_else(|| gone("pid", "PID", p))?);
    }
    Ok(())
}

/// Prepare the rootfs and the networks, and start one container (on a
/// worker thread).
fn start_container(job: &StartJob, keeper: &Keeper) -> Result<Started, StartError> {
    let (store, svc, peer) = (&job.store, &job.svc, job.peer);
    let (lower, below) = lowers(store, svc)?;
    for path in [store.bundle_dir(&svc.name), store.logs_dir()] {
        std::fs::create_dir_all(&path).map_err(|source| StartError::Dir { path, source })?;
    }
    let mut cfg = convert::container_config(store, svc, &lower)?;
    cfg.layers = below;
    shared_namespaces(job, &mut cfg)?;
    let mut files = crate::engine::secrets::materialize(&store.bundle_dir(&svc.name), svc)?;
    cfg.mounts.append(&mut files);
    let net = keeper.attach(store, svc, peer)?;
    cfg.network = net.network;
    // stack's resolv.conf and hosts first: the user's own mounts of
    // either still win, as in Docker.
    let mut mounts = net.mounts;
    mounts.append(&mut cfg.mounts);
    cfg.mounts = mounts;
    let cg = Cgroup::create(&cfg.cgroup, &cfg.limits)?;
    let spawned = spawn::start(&cfg, &cg.procs_files())?;
    keeper.hold(&svc.name, net.held);
    post_start(store, svc, &spawned, &cfg.cgroup);
    Ok(Started {
        spawned,
        addresses: net.addresses,
        ports: net.ports,
    })
}
