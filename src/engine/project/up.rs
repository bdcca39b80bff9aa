//! `up` (through a running supervisor, detached, or as the foreground
//! supervisor), the hidden `__supervise`, and `watch`.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::{Progress, Project, ProjectError};
use crate::engine::control::{Op, Response, UpOptions};
use crate::engine::image::Fetch;
use crate::engine::supervisor;
use crate::spec::{LoadOptions, Stack};
use crate::state::ContainerRecord;

/// What `up` was asked for (its flags, minus `--dry-run`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpRequest {
    /// Services to bring up (with their dependencies); empty: all.
    pub services: Vec<String>,
    /// Start a background supervisor and return once it settled.
    pub detach: bool,
    /// Settled means every service healthy or completed.
    pub wait: bool,
    /// Seconds `wait` waits at most.
    pub wait_timeout: Option<u64>,
    /// Remove containers of services no longer in the file.
    pub remove_orphans: bool,
    /// Recreate containers even if their config did not change.
    pub force_recreate: bool,
    /// Never recreate existing containers.
    pub no_recreate: bool,
    /// Do not start the dependencies of the named services.
    pub no_deps: bool,
    /// Keep the stack equal to the file while it is edited.
    pub watch: bool,
}

impl UpRequest {
    fn options(&self) -> UpOptions {
        UpOptions {
            services: self.services.clone(),
            remove_orphans: self.remove_orphans,
            force_recreate: self.force_recreate,
            no_recreate: self.no_recreate,
            no_deps: self.no_deps,
        }
    }
}

/// How the stack stood once a supervisor said it settled.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settled {
    /// Every container, as the supervisor recorded it.
    pub containers: Vec<ContainerRecord>,
    /// Services not started, with why.
    pub pending: BTreeMap<String, String>,
    /// Why it did not settle (a service failed, the wait timed out).
    pub error: Option<String>,
}

impl Settled {
    fn from(resp: Response) -> Settled {
        let Some(containers) = resp.containers else {
            // Nothing to list without the containers.
            return Settled {
                error: resp.error.filter(|_| !resp.ok),
                ..Default::default()
            };
        };
        Settled {
            containers,
            pending: resp.pending,
            error: resp.error.filter(|_| !resp.ok),
        }
    }
}

/// How `up` ended.
#[derive(Debug, Clone, PartialEq)]
pub enum UpOutcome {
    /// A supervisor (running already, or started detached) settled the
    /// stack. `follow`: a foreground `up` handed the file to a running
    /// supervisor; it should now follow the output ([`Project::follow_all`]).
    Settled {
        /// How the stack stood.
        settled: Settled,
        /// Follow the output now.
        follow: bool,
    },
    /// This process was the supervisor and ended with this exit code.
    Exited(i32),
}

impl Project {
    /// The stack, its images made present as `fetch` allows and applied,
    /// as its units (one entry per replica; `up --scale` or `stack scale`
    /// over the file's counts).
    pub(super) fn stack_with(&self, fetch: Fetch) -> Result<Stack, ProjectError> {
        let mut stack = self.stack_or_load()?;
        self.resolve(&mut stack, fetch)?;
        let scale = self.scale.clone().unwrap_or_else(|| self.store.scale());
        check_scale(&stack, &scale)?;
        Ok(crate::spec::replicas::expand(&stack, &scale))
    }

    /// The stack as the file has it, images not looked at.
    pub(super) fn stack_or_load(&self) -> Result<Stack, ProjectError> {
        match &self.stack {
            Some(s) => Ok(s.clone()),
            None => Ok(crate::spec::load(&self.load)?),
        }
    }

    pub(super) fn resolve(&self, stack: &mut Stack, fetch: Fetch) -> Result<(), ProjectError> {
        let progress = self.progress;
        crate::engine::image::resolve(stack, fetch, &move |m| {
            progress(Progress::Image(m.to_string()))
        })?;
        Ok(())
    }

    /// `stack up`: hand the file to the running supervisor, else start one
    /// detached, else be the supervisor here (`colour`: prefix output in
    /// colour).
    pub fn up(&self, req: &UpRequest, colour: bool) -> Result<UpOutcome, ProjectError> {
        let stack = self.stack_with(Fetch::Policy)?;
        let lock = self.lock()?;
        // Until the next `up`, a detached or watching supervisor reloads
        // the file with these counts.
        self.store
            .set_scale(self.scale.as_ref().unwrap_or(&BTreeMap::new()))?;
        crate::engine::network::preflight(&self.store, &stack)?;
        if let Some(client) = self.supervisor() {
            let resp = client.call(
                Op::Reload {
                    stack: Box::new(stack),
                    options: req.options(),
                },
                None,
            )?;
            if resp.actions.is_empty() {
                self.tell(Progress::UpToDate);
            }
            if req.watch && !resp.watch {
                self.watch()?;
            }
            let settled = self.wait(req.wait, req.wait_timeout)?;
            drop(lock);
            let follow = !req.detach && settled.error.is_none();
            return Ok(UpOutcome::Settled { settled, follow });
        }
        if req.detach {
            self.spawn_detached(&stack, req)?;
            let settled = self.wait(req.wait, req.wait_timeout)?;
            drop(lock);
            return Ok(UpOutcome::Settled {
                settled,
                follow: false,
            });
        }
        // Foreground: this process is the supervisor.
        let cfg = supervisor::Config {
            store: self.store.clone(),
            load: Some(self.reload_options(&stack)),
            stack,
            options: req.options(),
            foreground: true,
            colour,
            watch: req.watch,
            on_start: None,
        };
        let lock = std::sync::Mutex::new(Some(lock));
        let progress = self.progress;
        let code = supervisor::run(
            cfg,
            Box::new(move |r| {
                if let Ok(mut l) = lock.lock() {
                    l.take();
                }
                if let Err(e) = r {
                    progress(Progress::Warning(e));
                }
            }),
        )?;
        Ok(UpOutcome::Exited(code))
    }

    /// The hidden verb a detached supervisor runs as.
    pub fn supervise(&self, req: &UpRequest) -> Result<i32, ProjectError> {
        // `up` made the images present before it started this.
        let stack = self.stack_with(Fetch::Present)?;
        let cfg = supervisor::Config {
            store: self.store.clone(),
            load: Some(self.reload_options(&stack)),
            stack,
            options: req.options(),
            foreground: false,
            colour: false,
            watch: req.watch,
            on_start: None,
        };
        let progress = self.progress;
        let code = supervisor::run(
            cfg,
            Box::new(move |r| match r {
                Ok(()) => progress(Progress::Settled),
                Err(e) => progress(Progress::Warning(e)),
            }),
        )?;
        Ok(code)
    }

    /// How the supervisor re-reads the file when it watches it: this file
    /// and project, the same profiles, and `--env-file` made absolute (the
    /// detached supervisor runs in the stack's directory).
    fn reload_options(&self, stack: &Stack) -> LoadOptions {
        let mut opts = self.load.clone();
        opts.files = stack.files();
        opts.project_dir = Some(stack.dir.clone());
        opts.project_name = Some(stack.name.clone());
        opts.env_file = opts.env_file.map(|e| std::path::absolute(&e).unwrap_or(e));
        opts
    }

    /// Start `stack __supervise` for `stack` in its own session, output to
    /// `<run>/<project>/supervisor.log`, and wait until its socket answers.
    pub(super) fn spawn_detached(
        &self,
        stack: &Stack,
        req: &UpRequest,
    ) -> Result<(), ProjectError> {
        let store = &self.store;
        store.init()?;
        let log_path = store.supervisor_log();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|source| ProjectError::SupervisorLog {
                path: log_path.clone(),
                source,
            })?;
        let exe = std::env::current_exe().map_err(ProjectError::NoBinary)?;
        let mut cmd = std::process::Command::new(exe);
        self.supervise_args(&mut cmd, stack, req);
        cmd.current_dir(&stack.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(ProjectError::Spawn)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.supervisor().is_some() {
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                let tail = std::fs::read_to_string(&log_path).unwrap_or_default();
                let tail: Vec<&str> = tail.lines().rev().take(10).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(ProjectError::SupervisorExited {
                    status,
                    log: log_path,
                    tail: tail.join("\n"),
                });
            }
            if Instant::now() > deadline {
                return Err(ProjectError::SupervisorSilent(log_path));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The command line of `stack __supervise`: the same file, project,
    /// profiles, `--env-file` and verbosity as this command.
    fn supervise_args(&self, cmd: &mut std::process::Command, stack: &Stack, req: &UpRequest) {
        for f in stack.files() {
            cmd.arg("-f").arg(f);
        }
        cmd.arg("--project-directory").arg(&stack.dir);
        cmd.arg("-p").arg(&stack.name);
        for p in &self.load.profiles {
            cmd.arg("--profile").arg(p);
        }
        if let Some(e) = &self.load.env_file {
            // Absolute: the supervisor runs in the stack's directory.
            cmd.arg("--env-file")
                .arg(std::path::absolute(e).unwrap_or_else(|_| e.clone()));
        }
        for _ in 0..self.verbose {
            cmd.arg("--verbose");
        }
        cmd.arg("__supervise");
        for (on, flag) in [
            (req.remove_orphans, "--remove-orphans"),
            (req.force_recreate, "--force-recreate"),
            (req.no_recreate, "--no-recreate"),
            (req.no_deps, "--no-deps"),
            (req.watch, "--watch"),
        ] {
            if on {
                cmd.arg(flag);
            }
        }
        cmd.args(&req.services);
    }

    /// Ask the supervisor to answer once the stack settled (`healthy`:
    /// every service healthy or completed).
    pub(super) fn wait(
        &self,
        healthy: bool,
        timeout_s: Option<u64>,
    ) -> Result<Settled, ProjectError> {
        let client = self.supervisor().ok_or(ProjectError::SupervisorGone)?;
        let resp = client.request(
            Op::Wait {
                healthy,
                timeout_ms: timeout_s.map(|s| s * 1000),
            },
            None,
        )?;
        Ok(Settled::from(resp))
    }

    /// `stack watch`: make the running supervisor watch the file; an error
    /// when none runs.
    pub fn watch(&self) -> Result<(), ProjectError> {
        let Some(client) = self.supervisor() else {
            return Err(ProjectError::NotUp(self.store.project.clone()));
        };
        let resp = client
            .call(Op::Watch, Some(Duration::from_secs(10)))
            .map_err(ProjectError::WatchRefused)?;
        if !resp.watch {
            return Err(ProjectError::NotWatching);
        }
        Ok(())
    }
}

/// Every service `--scale` names is in the file.
fn check_scale(stack: &Stack, scale: &BTreeMap<String, u32>) -> Result<(), ProjectError> {
    let names: Vec<String> = scale.keys().cloned().collect();
    super::check_services(stack, &names)
}
