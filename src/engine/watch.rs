//! File watching for `stack up --watch`: the stack file, its `env_file`s and
//! `.env` ([`FileWatcher`]), and `develop.watch` source trees
//! ([`TreeWatcher`]). Both sit on `notify` and deliver one debounced event
//! per burst of changes on a plain `std::sync::mpsc` channel, so the
//! supervisor's loop can select on it like on any other event source.
//!
//! Why parent directories: editors save in many ways — write in place,
//! truncate then write, write a temp file and rename it over, delete then
//! create. A watch on the file itself is lost at the first rename or
//! delete; a (non-recursive) watch on its directory sees every one of them,
//! and we keep only the events that name a watched file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher};

use crate::spec::WatchRule;

/// The default quiet time after the last change before an event is sent.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(100);

/// How long a changed file may stay missing or empty (delete then create,
/// or an editor's rename dance) before the change is reported anyway.
pub const MISSING_GRACE: Duration = Duration::from_secs(2);

/// Errors setting up a watch.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch {path}: {source}")]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("cannot watch {path}: {reason}")]
    Path { path: PathBuf, reason: String },
    #[error("cannot start the file watcher: {0}")]
    Init(#[source] notify::Error),
    #[error("cannot start the file watcher thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// One burst of changes to the watched files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    /// The watched files that changed (absolute, sorted, deduplicated).
    pub paths: Vec<PathBuf>,
}

/// One burst of changes under a `develop.watch` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEvent {
    /// Index of the rule in the list given to [`TreeWatcher::new`].
    pub rule: usize,
    /// Changed paths under the rule's `path` (absolute, sorted,
    /// deduplicated); ignored files are left out.
    pub paths: Vec<PathBuf>,
}

/// Make `p` absolute against the current directory (no symlink resolution:
/// events are reported under the path we watched).
fn absolute(p: &Path) -> Result<PathBuf, WatchError> {
    std::path::absolute(p).map_err(|e| WatchError::Path {
        path: p.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Access events are reads (ours included: reloading the file opens it);
/// only a close after writing is a change.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

/// Watches a set of files through their parent directories.
pub struct FileWatcher {
    watcher: RecommendedWatcher,
    /// Path an event names → the watched file it stands for (the file
    /// itself, and the target of a symlinked file).
    files: Arc<Mutex<BTreeMap<PathBuf, PathBuf>>>,
    dirs: BTreeSet<PathBuf>,
}

impl std::fmt::Debug for FileWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWatcher")
            .field("dirs", &self.dirs)
            .finish_non_exhaustive()
    }
}

impl FileWatcher {
    /// Watch `files` (they need not exist yet, their directories must).
    /// Sends one [`WatchEvent`] per burst, `debounce` after the last change;
    /// a changed file that is missing then is waited for (up to
    /// [`MISSING_GRACE`]). The thread stops when the watcher is dropped.
    pub fn new(
        files: Vec<PathBuf>,
        debounce: Duration,
    ) -> Result<(FileWatcher, Receiver<WatchEvent>), WatchError> {
        let (raw_tx, raw_rx) = mpsc::channel::<notify::Result<Event>>();
        let (out_tx, out_rx) = mpsc::channel();
        let watcher = notify::recommended_watcher(move |res| {
            // The debounce thread is gone only when we are being dropped.
            let _ = raw_tx.send(res);
        })
        .map_err(WatchError::Init)?;
        let shared = Arc::new(Mutex::new(BTreeMap::new()));
        let mut fw = FileWatcher {
            watcher,
            files: shared.clone(),
            dirs: BTreeSet::new(),
        };
        fw.set_files(files)?;
        thread::Builder::new()
            .name("stack-watch".into())
            .spawn(move || file_debounce_loop(raw_rx, out_tx, shared, debounce))
            .map_err(WatchError::Thread)?;
        Ok((fw, out_rx))
    }

    /// Replace the watched set (e.g. `env_file`s changed after a reload).
    /// On error the previous set stays watched.
    pub fn set_files(&mut self, files: Vec<PathBuf>) -> Result<(), WatchError> {
        let mut wanted = BTreeMap::new();
        let mut dirs = BTreeSet::new();
        for f in &files {
            let abs = absolute(f)?;
            let (Some(dir), Some(_)) = (abs.parent(), abs.file_name()) else {
                return Err(WatchError::Path {
                    path: f.clone(),
                    reason: "not a file path".into(),
                });
            };
            dirs.insert(dir.to_path_buf());
            // A symlinked file (dotfiles): edits happen at the target, so
            // watch its directory too and report them under our name.
            if let Ok(real) = std::fs::canonicalize(&abs) {
                if real != abs {
                    if let Some(rdir) = real.parent() {
                        dirs.insert(rdir.to_path_buf());
                        wanted.insert(real.clone(), abs.clone());
                    }
                }
            }
            wanted.insert(abs.clone(), abs);
        }
        let mut added: Vec<PathBuf> = Vec::new();
        for d in dirs.difference(&self.dirs) {
            if let Err(source) = self.watcher.watch(d, RecursiveMode::NonRecursive) {
                for a in &added {
                    let _ = self.watcher.unwatch(a);
                }
                return Err(WatchError::Watch {
                    path: d.clone(),
                    source,
                });
            }
            added.push(d.clone());
        }
        for d in self.dirs.difference(&dirs) {
            // Already gone (directory deleted) is fine.
            let _ = self.watcher.unwatch(d);
        }
        self.dirs = dirs;
        match self.files.lock() {
            Ok(mut g) => *g = wanted,
            Err(poisoned) => *poisoned.into_inner() = wanted,
        }
        Ok(())
    }

    /// The files watched now (absolute).
    pub fn files(&self) -> Vec<PathBuf> {
        match self.files.lock() {
            Ok(g) => g.values().cloned().collect::<BTreeSet<_>>(),
            Err(poisoned) => poisoned.into_inner().values().cloned().collect(),
        }
        .into_iter()
        .collect()
    }
}

fn file_debounce_loop(
    raw: Receiver<notify::Result<Event>>,
    out: Sender<WatchEvent>,
    files: Arc<Mutex<BTreeMap<PathBuf, PathBuf>>>,
    debounce: Duration,
) {
    let mut pending: BTreeSet<PathBuf> = BTreeSet::new();
    let mut last_change = Instant::now();
    let mut first_change = Instant::now();
    // The last trailing edge found a changed file missing.
    let mut held = false;
    loop {
        let msg = next_raw(&raw, !pending.is_empty(), last_change + debounce);
        match msg {
            Ok(res) => {
                let watched = match files.lock() {
                    Ok(g) => g.clone(),
                    Err(p) => p.into_inner().clone(),
                };
                let hits: Vec<PathBuf> = match res {
                    Ok(ev) if ev.need_rescan() => watched.values().cloned().collect(),
                    Ok(ev) if is_change(&ev.kind) => ev
                        .paths
                        .iter()
                        .filter_map(|p| watched.get(p).cloned())
                        .collect(),
                    Ok(_) => Vec::new(),
                    Err(e) => {
                        // An overflowed queue or a lost watch: we cannot know
                        // what changed, so report everything.
                        tracing::warn!("file watcher: {e}");
                        watched.values().cloned().collect()
                    }
                };
                if !hits.is_empty() {
                    if pending.is_empty() {
                        first_change = Instant::now();
                    }
                    last_change = Instant::now();
                    pending.extend(hits);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                // Trailing edge. Hold the event while a changed file is
                // missing (delete-then-create, rename dance) or still empty
                // (created, its content not yet written: on a busy machine
                // the two may be more than a debounce apart), up to a grace.
                let missing = pending
                    .iter()
                    .any(|p| std::fs::metadata(p).map_or(true, |m| m.len() == 0));
                if missing && first_change.elapsed() < MISSING_GRACE {
                    last_change = Instant::now();
                    held = true;
                    continue;
                }
                // Back since the last look: this timeout may have fired the
                // instant it was created, before the events of its creation
                // came in. Let them settle for one more debounce.
                if std::mem::take(&mut held) && !missing {
                    last_change = Instant::now();
                    continue;
                }
                let paths: Vec<PathBuf> = std::mem::take(&mut pending).into_iter().collect();
                if out.send(WatchEvent { paths }).is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Watches `develop.watch` source trees.
pub struct TreeWatcher {
    _watcher: RecommendedWatcher,
}

impl std::fmt::Debug for TreeWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeWatcher").finish_non_exhaustive()
    }
}

/// Editor and tool droppings never worth a sync or a restart (vim swap and
/// its `4913` probe file, emacs lock and backup files, `~` backups).
const ALWAYS_IGNORED: &[&str] = &[
    "*.swp",
    "*.swo",
    "*.swx",
    "*~",
    ".#*",
    "#*#",
    "4913",
    ".*.kate-swp",
];

/// One rule, ready to match event paths.
#[derive(Debug, Clone)]
struct TreeRule {
    root: PathBuf,
    ignore: Vec<String>,
}

impl TreeRule {
    /// True when `p` is under the rule's root and not ignored.
    fn accepts(&self, p: &Path) -> bool {
        let Ok(rel) = p.strip_prefix(&self.root) else {
            return false;
        };
        let comps: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        // The root itself (a watched file) is judged by its own name.
        let name = match comps.last() {
            Some(n) => n.clone(),
            None => match self.root.file_name() {
                Some(n) => n.to_string_lossy().into_owned(),
                None => return true,
            },
        };
        if ALWAYS_IGNORED.iter().any(|g| glob_match(g, &name)) {
            return false;
        }
        !self.ignore.iter().any(|pat| ignored_by(pat, &comps))
    }
}

/// Whether the relative path `comps` is ignored by `pat` (simple globs:
/// `*`, `?`, `**`). A pattern without `/` matches any path component (so
/// `node_modules` and `*.log` work anywhere); one with `/` matches from the
/// rule's root. Matching a directory ignores everything under it.
fn ignored_by(pat: &str, comps: &[String]) -> bool {
    let pat = pat.trim_start_matches("./").trim_end_matches('/');
    if pat.is_empty() {
        return false;
    }
    if !pat.contains('/') {
        return comps.iter().any(|c| glob_match(pat, c));
    }
    let pat = pat.trim_start_matches('/');
    (1..=comps.len()).any(|n| glob_match(pat, &comps[..n].join("/")))
}

/// Glob match: `*` any run without `/`, `**` any run, `?` one non-`/` char.
pub fn glob_match(pat: &str, text: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_at(&p, &t)
}

fn glob_at(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') if p.get(1) == Some(&'*') => {
            let rest = &p[2..];
            // `**/` also matches zero directories.
            if rest.first() == Some(&'/') && glob_at(&rest[1..], t) {
                return true;
            }
            (0..=t.len()).any(|i| glob_at(rest, &t[i..]))
        }
        Some('*') => {
            let rest = &p[1..];
            for i in 0..=t.len() {
                if glob_at(rest, &t[i..]) {
                    return true;
                }
                if t.get(i) == Some(&'/') {
                    break;
                }
            }
            false
        }
        Some('?') => matches!(t.first(), Some(c) if *c != '/') && glob_at(&p[1..], &t[1..]),
        Some(c) => t.first() == Some(c) && glob_at(&p[1..], &t[1..]),
    }
}

impl TreeWatcher {
    /// Watch every rule's `path` recursively (a file path is watched
    /// alone). Sends one [`TreeEvent`] per rule and burst, `debounce` after
    /// the last change.
    pub fn new(
        rules: &[WatchRule],
        debounce: Duration,
    ) -> Result<(TreeWatcher, Receiver<TreeEvent>), WatchError> {
        let (raw_tx, raw_rx) = mpsc::channel::<notify::Result<Event>>();
        let (out_tx, out_rx) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |res| {
            let _ = raw_tx.send(res);
        })
        .map_err(WatchError::Init)?;
        let mut compiled = Vec::with_capacity(rules.len());
        for r in rules {
            let root = absolute(&r.path)?;
            watcher
                .watch(&root, RecursiveMode::Recursive)
                .map_err(|source| WatchError::Watch {
                    path: root.clone(),
                    source,
                })?;
            compiled.push(TreeRule {
                root,
                ignore: r.ignore.clone(),
            });
        }
        thread::Builder::new()
            .name("stack-watch-tree".into())
            .spawn(move || tree_debounce_loop(raw_rx, out_tx, compiled, debounce))
            .map_err(WatchError::Thread)?;
        Ok((TreeWatcher { _watcher: watcher }, out_rx))
    }
}

fn tree_debounce_loop(
    raw: Receiver<notify::Result<Event>>,
    out: Sender<TreeEvent>,
    rules: Vec<TreeRule>,
    debounce: Duration,
) {
    let mut pending: BTreeMap<usize, BTreeSet<PathBuf>> = BTreeMap::new();
    let mut last_change = Instant::now();
    loop {
        let msg = next_raw(&raw, !pending.is_empty(), last_change + debounce);
        match msg {
            Ok(Ok(ev)) if is_change(&ev.kind) || ev.need_rescan() => {
                let mut hit = false;
                for p in &ev.paths {
                    for (i, r) in rules.iter().enumerate() {
                        if r.accepts(p) {
                            pending.entry(i).or_default().insert(p.clone());
                            hit = true;
                        }
                    }
                }
                if ev.need_rescan() {
                    for (i, r) in rules.iter().enumerate() {
                        pending.entry(i).or_default().insert(r.root.clone());
                    }
                    hit = true;
                }
                if hit {
                    last_change = Instant::now();
                }
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!("develop.watch: {e}");
                for (i, r) in rules.iter().enumerate() {
                    pending.entry(i).or_default().insert(r.root.clone());
                }
                last_change = Instant::now();
            }
            Err(RecvTimeoutError::Timeout) => {
                for (rule, paths) in std::mem::take(&mut pending) {
                    let ev = TreeEvent {
                        rule,
                        paths: paths.into_iter().collect(),
                    };
                    if out.send(ev).is_err() {
                        return;
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The watcher's next raw event: wait for ever while nothing is pending,
/// else until `due` (a timeout then ends the quiet time).
fn next_raw<T>(raw: &Receiver<T>, pending: bool, due: Instant) -> Result<T, RecvTimeoutError> {
    if pending {
        raw.recv_timeout(due.saturating_duration_since(Instant::now()))
    } else {
        raw.recv().map_err(|_| RecvTimeoutError::Disconnected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(s: &str) -> Vec<String> {
        s.split('/').map(String::from).collect()
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.swp", ".main.rs.swp"));
        assert!(glob_match("*~", "main.rs~"));
        assert!(glob_match(".#*", ".#main.rs"));
        assert!(!glob_match("*.swp", "main.rs"));
        assert!(glob_match("src/*.rs", "src/main.rs"));
        assert!(!glob_match("src/*.rs", "src/a/main.rs"));
        assert!(glob_match("src/**/*.rs", "src/a/b/main.rs"));
        assert!(glob_match("src/**/*.rs", "src/main.rs"));
        assert!(glob_match("?.txt", "a.txt"));
        assert!(!glob_match("?.txt", "ab.txt"));
    }

    #[test]
    fn ignore_patterns() {
        assert!(ignored_by("node_modules", &comps("node_modules/x/y.js")));
        assert!(ignored_by("node_modules/", &comps("a/node_modules/y.js")));
        assert!(ignored_by("*.log", &comps("logs/today.log")));
        assert!(ignored_by("build/out", &comps("build/out/a.o")));
        assert!(!ignored_by("build/out", &comps("src/build/out/a.o")));
        assert!(!ignored_by("*.log", &comps("src/main.rs")));
    }

    #[test]
    fn rule_accepts() {
        let r = TreeRule {
            root: PathBuf::from("/src/app"),
            ignore: vec!["target".into()],
        };
        assert!(r.accepts(Path::new("/src/app/main.rs")));
        assert!(!r.accepts(Path::new("/src/other/main.rs")));
        assert!(!r.accepts(Path::new("/src/app/target/debug/x")));
        assert!(!r.accepts(Path::new("/src/app/.main.rs.swp")));
        assert!(!r.accepts(Path::new("/src/app/4913")));
        assert!(r.accepts(Path::new("/src/app")));
    }
}
