//! Watch mode inside the supervisor: the [`FileWatcher`] over the files the
//! stack was built from (`Stack::inputs`), whose changes reload the stack
//! through the same reconcile as `up`, and the [`TreeWatcher`] over the
//! services' `develop.watch` rules (restart, sync, sync+restart).
//!
//! The loop never waits on either: loading the file runs on the `reload`
//! thread, copying files on a `sync-*` worker; both answer with an [`Ev`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::errors::WatchStartError;
use super::seams::SyncJob;
use super::{After, Ev, Sup};
use crate::engine::control::Response;
use crate::engine::watch::{FileWatcher, TreeEvent, TreeWatcher, DEFAULT_DEBOUNCE};
use crate::runtime::spawn::Spawned;
use crate::runtime::sync::SyncOp;
use crate::spec::{LoadOptions, Stack, WatchAction, WatchRule};
use crate::state::ProjectRecord;

/// The quiet time after the last change before a reload: `STACK_WATCH_DEBOUNCE_MS`
/// (milliseconds), else [`DEFAULT_DEBOUNCE`].
pub fn debounce() -> Duration {
    std::env::var("STACK_WATCH_DEBOUNCE_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_DEBOUNCE)
}

/// The watchers' state, owned by the loop.
pub(super) struct Live {
    /// How the `reload` thread re-reads the file (kept pointing at the
    /// stack's file after each reload).
    load: Arc<Mutex<LoadOptions>>,
    files: Option<FileWatcher>,
    tree: Option<TreeWatcher>,
    /// Bumped with each new tree watcher: events of an older one are
    /// dropped (their rule indices mean other rules now).
    tree_gen: u64,
    /// Every rule of the stack when the tree watcher was built (`None`: not
    /// built), to rebuild it only when the rules change.
    tree_seen: Option<Vec<(String, WatchRule)>>,
    /// The rules the tree watcher watches, by its rule index.
    tree_rules: Vec<(String, WatchRule)>,
    /// Services with a sync in flight; later changes wait in `sync_queue`
    /// so an older copy never lands after a newer one.
    syncing: BTreeSet<String>,
    sync_queue: BTreeMap<String, (Vec<SyncOp>, bool)>,
    debounce: Duration,
    /// Inputs not watched because their directory does not exist (said
    /// once per change of this list).
    unwatchable: Vec<PathBuf>,
}

impl Live {
    pub(super) fn new(load: Option<LoadOptions>, stack: &Stack) -> Live {
        let mut load = load.unwrap_or_default();
        load.files = stack.files();
        load.project_dir = Some(stack.dir.clone());
        load.project_name = Some(stack.name.clone());
        Live {
            load: Arc::new(Mutex::new(load)),
            files: None,
            tree: None,
            tree_gen: 0,
            tree_seen: None,
            tree_rules: Vec::new(),
            syncing: BTreeSet::new(),
            sync_queue: BTreeMap::new(),
            debounce: debounce(),
            unwatchable: Vec::new(),
        }
    }
}

/// The files to watch for `stack`: its recorded inputs, or (a stack from an
/// older record) the file and the `.env` beside it.
fn inputs(stack: &Stack) -> Vec<PathBuf> {
    if stack.inputs.is_empty() {
        vec![stack.file.clone(), stack.dir.join(".env")]
    } else {
        stack.inputs.clone()
    }
}

/// Split `files` into those that can be watched (their directory exists)
/// and those that cannot (an optional `env_file` in a missing directory).
fn watchable(files: Vec<PathBuf>) -> (Vec<PathBuf>, Vec<PathBuf>) {
    files
        .into_iter()
        .partition(|f| f.parent().is_some_and(|d| d.is_dir()))
}

fn shown(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What to do in the container for changed host paths under `rule`: copy
/// what exists to `target` + its path relative to the rule's `path`,
/// remove what is gone.
pub(super) fn sync_ops(rule: &WatchRule, paths: &[PathBuf]) -> Vec<SyncOp> {
    let Some(target) = rule.target.as_deref() else {
        return Vec::new();
    };
    let mut ops = Vec::new();
    for p in paths {
        let Ok(rel) = p.strip_prefix(&rule.path) else {
            continue;
        };
        let t = if rel.as_os_str().is_empty() {
            target.to_string()
        } else {
            format!("{}/{}", target.trim_end_matches('/'), rel.display())
        };
        // Not following a symlink: a link is copied as a link.
        if p.symlink_metadata().is_ok() {
            ops.push(SyncOp::Copy {
                host: p.clone(),
                target: t,
            });
        } else {
            ops.push(SyncOp::Remove { target: t });
        }
    }
    ops
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Sup {
    /// Start watching the stack's input files (and its `develop.watch`
    /// trees). Watching already: nothing to do.
    pub(super) fn start_watch(&mut self) -> Result<(), WatchStartError> {
        if self.live.files.is_some() {
            return Ok(());
        }
        let (files, skipped) = watchable(inputs(&self.stack));
        self.note_unwatchable(skipped);
        let (fw, rx) = FileWatcher::new(files.clone(), self.live.debounce)
            .map_err(WatchStartError::Watcher)?;
        let tx: Sender<Ev> = self.tx.clone();
        let load = self.live.load.clone();
        let store = self.store.clone();
        std::thread::Builder::new()
            .name("reload".into())
            .spawn(move || {
                // Ends when the watcher is dropped (stack stopped).
                for _burst in rx {
                    let opts = lock(&load).clone();
                    let ev = match reload(&opts, &store) {
                        Ok(s) => Ev::Reload(Box::new(s)),
                        Err(e) => Ev::ReloadFailed(e),
                    };
                    if tx.send(ev).is_err() {
                        break;
                    }
                }
            })
            .map_err(WatchStartError::Thread)?;
        self.live.files = Some(fw);
        self.watch = true;
        let list = shown(&files);
        eprintln!("watching {list}");
        self.emit_to(None, "watching", list, false);
        self.save_project();
        self.rebuild_tree();
        Ok(())
    }

    /// Drop both watchers (the stack is being stopped).
    pub(super) fn stop_watching(&mut self) {
        self.live.files = None;
        self.live.tree = None;
        self.live.tree_seen = None;
        self.live.tree_rules.clear();
        self.live.sync_queue.clear();
        self.watch = false;
    }

    /// After the stack changed: watch its current inputs and rules.
    pub(super) fn refresh_watches(&mut self) {
        {
            let mut l = lock(&self.live.load);
            l.files = self.stack.files();
            l.project_dir = Some(self.stack.dir.clone());
            l.project_name = Some(self.stack.name.clone());
        }
        if self.live.files.is_some() {
            let (files, skipped) = watchable(inputs(&self.stack));
            self.note_unwatchable(skipped);
            if let Some(fw) = self.live.files.as_mut() {
                if let Err(e) = fw.set_files(files) {
                    eprintln!("stack: {e}; still watching {}", shown(&fw.files()));
                }
            }
        }
        self.rebuild_tree();
    }

    fn note_unwatchable(&mut self, skipped: Vec<PathBuf>) {
        if skipped != self.live.unwatchable && !skipped.is_empty() {
            eprintln!(
                "stack: not watching {}: the directory does not exist (create it, then save the stack file)",
                shown(&skipped)
            );
        }
        self.live.unwatchable = skipped;
    }

    /// Record the project: its file, its stack, whether it is watched.
    pub(super) fn save_project(&self) {
        let rec = ProjectRecord {
            name: self.store.project.clone(),
            file: self.stack.file.clone(),
            stack: Some(self.stack.clone()),
            watch: self.watch,
            updated_at: self.clock.unix_ms() / 1000,
        };
        if let Err(e) = self.store.save_project(&rec) {
            eprintln!("stack: {e}");
        }
    }

    /// (Re)build the `develop.watch` tree watcher when the rules changed.
    fn rebuild_tree(&mut self) {
        if self.live.files.is_none() {
            return;
        }
        let all: Vec<(String, WatchRule)> = self
            .stack
            .services
            .iter()
            .flat_map(|(n, s)| {
                s.develop
                    .iter()
                    .flat_map(|d| d.watch.iter())
                    .map(move |r| (n.clone(), r.clone()))
            })
            .collect();
        if self.live.tree_seen.as_ref() == Some(&all) {
            return;
        }
        self.live.tree = None;
        self.live.tree_gen += 1;
        self.live.tree_rules.clear();
        self.live.tree_seen = Some(all.clone());
        let mut rules = Vec::new();
        for (svc, r) in all {
            if r.action == WatchAction::Rebuild {
                eprintln!(
                    "stack: service {svc}: develop.watch action `rebuild` is not supported yet (stack builds no images); the rule for {} is ignored — use `restart` or `sync+restart`",
                    r.path.display()
                );
                continue;
            }
            if !r.path.exists() {
                eprintln!(
                    "stack: service {svc}: develop.watch path {} does not exist; the rule is ignored until a reload finds it",
                    r.path.display()
                );
                continue;
            }
            rules.push((svc, r));
        }
        if rules.is_empty() {
            return;
        }
        let only: Vec<WatchRule> = rules.iter().map(|(_, r)| r.clone()).collect();
        let (tw, rx) = match TreeWatcher::new(&only, self.live.debounce) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("stack: develop.watch: {e}; source trees are not watched");
                return;
            }
        };
        let tx = self.tx.clone();
        let gen = self.live.tree_gen;
        let spawned = std::thread::Builder::new()
            .name("develop-watch".into())
            .spawn(move || {
                for ev in rx {
                    if tx.send(Ev::Tree { gen, ev }).is_err() {
                        break;
                    }
                }
            });
        if let Err(e) = spawned {
            eprintln!("stack: develop.watch: cannot start its thread: {e}");
            return;
        }
        for (svc, r) in &rules {
            eprintln!(
                "develop.watch: {svc}: {} ({})",
                r.path.display(),
                action_name(r.action)
            );
        }
        self.live.tree = Some(tw);
        self.live.tree_rules = rules;
    }

    /// `stack watch`: start watching a stack that is already up.
    pub(super) fn on_watch_op(&mut self, reply: Sender<Response>) {
        if self.shutdown.is_some() {
            let _ = reply.send(Response::err("the stack is being stopped"));
            return;
        }
        match self.start_watch() {
            Ok(()) => {
                let _ = reply.send(self.ps());
            }
            Err(e) => {
                let _ = reply.send(Response::err(e.to_string()));
            }
        }
    }

    /// A valid new stack from the watched files: the reconcile of `up`,
    /// with the flags of the last `up` (but not a one-time
    /// `--force-recreate`), and removing services deleted from the file.
    pub(super) fn on_reload(&mut self, stack: Stack) {
        if self.shutdown.is_some() || self.live.files.is_none() {
            return;
        }
        let mut options = self.intent.options.clone();
        options.force_recreate = false;
        // The watched file is the truth: a service deleted from it goes.
        options.remove_orphans = true;
        self.apply(stack, options);
        // `execute` printed each action's line already.
        let lines = self.last_actions.clone();
        if lines.is_empty() {
            eprintln!("reload: nothing changed");
            self.emit_to(None, "reloaded", "nothing changed".into(), false);
        }
        for l in lines {
            let service = l.split_whitespace().nth(1).map(|s| s.trim_end_matches(':'));
            let service = service
                .filter(|s| self.stack.services.contains_key(*s) || self.ctrs.contains_key(*s))
                .map(String::from);
            self.emit_to(service.as_deref(), "reloaded", l, false);
        }
    }

    /// A watched file changed but does not load: say why, touch nothing.
    pub(super) fn on_reload_failed(&mut self, msg: String) {
        if self.shutdown.is_some() || self.live.files.is_none() {
            return;
        }
        eprintln!("{msg}\nreload: the file is not valid; the stack keeps running as it was (fix it and save again)");
        self.emit_to(None, "invalid", msg, false);
    }

    /// Changes under a `develop.watch` rule.
    pub(super) fn on_tree(&mut self, gen: u64, ev: TreeEvent) {
        if gen != self.live.tree_gen || self.shutdown.is_some() {
            return;
        }
        let Some((svc, rule)) = self.live.tree_rules.get(ev.rule).cloned() else {
            return;
        };
        let n = ev.paths.len();
        let running = self
            .ctrs
            .get(&svc)
            .is_some_and(|c| self.alive(c) && c.busy.is_none())
            && !self.to_stop.contains_key(&svc);
        if !running {
            eprintln!(
                "develop.watch: {svc} is not running; {n} change(s) under {} ignored",
                rule.path.display()
            );
            return;
        }
        match rule.action {
            WatchAction::Restart => {
                let why = format!("develop.watch: {n} change(s) under {}", rule.path.display());
                self.watch_restart(&svc, why);
            }
            WatchAction::Sync | WatchAction::SyncRestart => {
                let ops = sync_ops(&rule, &ev.paths);
                let restart = rule.action == WatchAction::SyncRestart;
                if self.live.syncing.contains(&svc) {
                    let q = self.live.sync_queue.entry(svc).or_default();
                    q.0.extend(ops);
                    q.1 |= restart;
                } else {
                    self.run_sync(&svc, ops, restart);
                }
            }
            WatchAction::Rebuild => {}
        }
    }

    fn watch_restart(&mut self, svc: &str, why: String) {
        self.emit(Some(svc), "restarting", why);
        self.queue_stop(svc, After::Restart, None);
    }

    /// Copy into the container on a worker.
    fn run_sync(&mut self, svc: &str, ops: Vec<SyncOp>, restart: bool) {
        let Some(c) = self.ctrs.get(svc) else { return };
        let Some(pid) = c.rec.pid else { return };
        let job = SyncJob {
            service: svc.to_string(),
            gen: c.gen,
            spawned: Spawned {
                pid,
                start_time: c.rec.start_time.unwrap_or(0),
                into_cgroup: false,
            },
            ops,
            restart,
        };
        self.live.syncing.insert(svc.to_string());
        if let Err(e) = self.spawner.sync(job) {
            self.live.syncing.remove(svc);
            eprintln!("service {svc}: develop.watch: cannot start the sync: {e}");
        }
    }

    /// A sync finished: report, restart for `sync+restart`, run what queued.
    pub(super) fn on_synced(
        &mut self,
        svc: &str,
        gen: u64,
        result: Result<usize, crate::runtime::sync::SyncError>,
        restart: bool,
    ) {
        self.live.syncing.remove(svc);
        let same = self
            .ctrs
            .get(svc)
            .is_some_and(|c| c.gen == gen && self.alive(c) && c.busy.is_none())
            && !self.to_stop.contains_key(svc)
            && self.shutdown.is_none();
        match result {
            Ok(n) => {
                self.emit(Some(svc), "synced", format!("{n} path(s)"));
                if restart && same {
                    self.watch_restart(svc, "develop.watch: synced, sync+restart".into());
                }
            }
            Err(e) => {
                eprintln!("service {svc}: develop.watch sync failed: {e}");
                self.emit(Some(svc), "sync_failed", e.to_string());
            }
        }
        if let Some((ops, restart)) = self.live.sync_queue.remove(svc) {
            let alive = self
                .ctrs
                .get(svc)
                .is_some_and(|c| self.alive(c) && c.busy.is_none());
            if alive && self.shutdown.is_none() {
                self.run_sync(svc, ops, restart);
            }
        }
    }
}

fn action_name(a: WatchAction) -> &'static str {
    match a {
        WatchAction::Restart => "restart",
        WatchAction::Sync => "sync",
        WatchAction::SyncRestart => "sync+restart",
        WatchAction::Rebuild => "rebuild",
    }
}

/// The edited file, with its images made present (a new `image:` is pulled
/// here, on the reload thread, not in the loop), as its units with the
/// counts of the last `up --scale` or `stack scale`.
fn reload(
    opts: &crate::spec::LoadOptions,
    store: &crate::state::Store,
) -> Result<crate::spec::Stack, String> {
    use crate::engine::image::{resolve, Fetch};
    let mut s = crate::spec::load(opts).map_err(|e| e.to_string())?;
    resolve(&mut s, Fetch::Policy, &|m| eprintln!("{m}")).map_err(|e| e.to_string())?;
    Ok(crate::spec::replicas::expand(&s, &store.scale()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_ops_map_paths_under_the_target() {
        let dir = std::env::temp_dir().join(format!("stack-syncops-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a.txt"), "x").unwrap();
        let rule = WatchRule {
            path: dir.clone(),
            action: WatchAction::Sync,
            target: Some("/app/".into()),
            ignore: vec![],
        };
        let ops = sync_ops(
            &rule,
            &[
                dir.join("sub/a.txt"),
                dir.join("gone.txt"),
                PathBuf::from("/elsewhere/x"),
                dir.clone(),
            ],
        );
        assert_eq!(
            ops,
            vec![
                SyncOp::Copy {
                    host: dir.join("sub/a.txt"),
                    target: "/app/sub/a.txt".into()
                },
                SyncOp::Remove {
                    target: "/app/gone.txt".into()
                },
                SyncOp::Copy {
                    host: dir.clone(),
                    target: "/app/".into()
                },
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn files_in_missing_directories_are_not_watched() {
        let tmp = std::env::temp_dir();
        let (ok, skipped) = watchable(vec![
            tmp.join("stack.yaml"),
            PathBuf::from("/no/such/dir/web.env"),
        ]);
        assert_eq!(ok, vec![tmp.join("stack.yaml")]);
        assert_eq!(skipped, vec![PathBuf::from("/no/such/dir/web.env")]);
    }

    #[test]
    fn old_records_watch_the_file_and_env() {
        let s = Stack {
            name: "p".into(),
            file: "/x/stack.yaml".into(),
            overrides: Vec::new(),
            dir: "/x".into(),
            services: Default::default(),
            volumes: Default::default(),
            networks: Default::default(),
            inputs: vec![],
            replicas: Default::default(),
        };
        assert_eq!(
            inputs(&s),
            vec![PathBuf::from("/x/stack.yaml"), PathBuf::from("/x/.env")]
        );
    }
}
