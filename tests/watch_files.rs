//! The file watcher of `stack up --watch`, alone (no root needed): every
//! editor save style is seen exactly once, bursts coalesce, unrelated files
//! are ignored, a briefly missing file is reported once it is back.
//!
//! Timing: we wait generously for the first event (up to 2 s) and count
//! events only after a quiet period, so a slow machine makes the test slower,
//! not flaky.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::thread::sleep;
use std::time::Duration;

use stack::engine::watch::{FileWatcher, TreeEvent, TreeWatcher, WatchEvent};
use stack::spec::{WatchAction, WatchRule};

const DEBOUNCE: Duration = Duration::from_millis(100);
const FIRST: Duration = Duration::from_secs(2);
/// Longer than the debounce plus scheduling noise: after this much silence
/// no further event of the same burst can come.
const QUIET: Duration = Duration::from_millis(600);

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("stack.yaml");
    fs::write(&file, "services: {}\n").expect("write");
    (dir, file)
}

/// Wait up to `FIRST` for one event, then collect whatever else arrives
/// until `QUIET` has passed without one.
fn collect<T>(rx: &Receiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    if let Ok(ev) = rx.recv_timeout(FIRST) {
        out.push(ev);
        while let Ok(ev) = rx.recv_timeout(QUIET) {
            out.push(ev);
        }
    }
    out
}

fn expect_one(rx: &Receiver<WatchEvent>, file: &Path, how: &str) {
    let evs = collect(rx);
    assert_eq!(evs.len(), 1, "{how}: expected one event, got {evs:?}");
    assert_eq!(evs[0].paths, vec![file.to_path_buf()], "{how}");
}

#[test]
fn write_in_place_is_seen_once() {
    let (_d, file) = setup();
    let (_w, rx) = FileWatcher::new(vec![file.clone()], DEBOUNCE).expect("watch");
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .expect("open");
    f.write_all(b"# edited\n").expect("append");
    drop(f);
    expect_one(&rx, &file, "write in place");
}

#[test]
fn truncate_then_write_is_seen_once() {
    let (_d, file) = setup();
    let (_w, rx) = FileWatcher::new(vec![file.clone()], DEBOUNCE).expect("watch");
    let mut f = fs::File::create(&file).expect("truncate");
    f.flush().expect("flush");
    sleep(Duration::from_millis(20));
    f.write_all(b"services: {a: {}}\n").expect("write");
    drop(f);
    expect_one(&rx, &file, "truncate + write");
}

#[test]
fn rename_over_is_seen_once() {
    let (d, file) = setup();
    let (_w, rx) = FileWatcher::new(vec![file.clone()], DEBOUNCE).expect("watch");
    let tmp = d.path().join(".stack.yaml.tmp");
    fs::write(&tmp, "services: {b: {}}\n").expect("write tmp");
    fs::rename(&tmp, &file).expect("rename over");
    expect_one(&rx, &file, "temp + rename over");
    assert_eq!(
        fs::read_to_string(&file).expect("read"),
        "services: {b: {}}\n"
    );
}

#[test]
fn delete_then_create_is_seen_once_after_it_is_back() {
    let (_d, file) = setup();
    let (_w, rx) = FileWatcher::new(vec![file.clone()], DEBOUNCE).expect("watch");
    fs::remove_file(&file).expect("delete");
    sleep(Duration::from_millis(50));
    fs::write(&file, "services: {c: {}}\n").expect("create");
    expect_one(&rx, &file, "delete then create");
    assert!(file.exists());
}

#[test]
fn missing_longer_than_the_debounce_waits_for_the_file() {
    let (_d, file) = setup();
    let (_w, rx) = FileWatcher::new(vec![file.clone()], DEBOUNCE).expect("watch");
    fs::remove_file(&file).expect("delete");
    // Three debounce periods without the file: still no event.
    sleep(Duration::from_millis(300));
    assert!(
        rx.try_recv().is_err(),
        "an event came while the file was missing"
    );
    fs::write(&file, "services: {d: {}}\n").expect("create");
    expect_one(&rx, &file, "delete, wait, create");
}

#[test]
fn a_burst_of_ten_writes_is_one_event() {
    let (_d, file) = setup();
    let (_w, rx) = FileWatcher::new(vec![file.clone()], DEBOUNCE).expect("watch");
    for i in 0..10 {
        fs::write(&file, format!("services: {{s{i}: {{}}}}\n")).expect("write");
        sleep(Duration::from_millis(8));
    }
    expect_one(&rx, &file, "burst of 10");
    assert_eq!(
        fs::read_to_string(&file).expect("read"),
        "services: {s9: {}}\n"
    );
}

#[test]
fn unrelated_file_in_the_same_dir_is_ignored() {
    let (d, file) = setup();
    let (_w, rx) = FileWatcher::new(vec![file.clone()], DEBOUNCE).expect("watch");
    let other = d.path().join("notes.txt");
    fs::write(&other, "x").expect("write");
    fs::write(&other, "y").expect("write");
    fs::remove_file(&other).expect("rm");
    // Reading the watched file (as a reload does) is not a change either.
    let _ = fs::read_to_string(&file).expect("read");
    let evs = collect(&rx);
    assert!(evs.is_empty(), "unexpected events: {evs:?}");
}

#[test]
fn separate_saves_are_separate_events() {
    let (_d, file) = setup();
    let (_w, rx) = FileWatcher::new(vec![file.clone()], DEBOUNCE).expect("watch");
    fs::write(&file, "one\n").expect("write");
    expect_one(&rx, &file, "first save");
    fs::write(&file, "two\n").expect("write");
    expect_one(&rx, &file, "second save");
}

#[test]
fn set_files_changes_the_watched_set() {
    let (d, file) = setup();
    let sub = d.path().join("env");
    fs::create_dir(&sub).expect("mkdir");
    let env = sub.join("web.env");
    fs::write(&env, "A=1\n").expect("write");
    let (mut w, rx) = FileWatcher::new(vec![file.clone()], DEBOUNCE).expect("watch");
    fs::write(&env, "A=2\n").expect("write");
    assert!(collect(&rx).is_empty(), "env file not watched yet");

    w.set_files(vec![file.clone(), env.clone()])
        .expect("set_files");
    fs::write(&env, "A=3\n").expect("write");
    expect_one(&rx, &env, "env file after set_files");

    w.set_files(vec![env.clone()]).expect("set_files");
    fs::write(&file, "x\n").expect("write");
    assert!(collect(&rx).is_empty(), "stack file no longer watched");
}

#[test]
fn a_missing_directory_is_an_error_naming_it() {
    let d = tempfile::tempdir().expect("tempdir");
    let file = d.path().join("nope").join("stack.yaml");
    let err = FileWatcher::new(vec![file], DEBOUNCE).expect_err("must fail");
    assert!(err.to_string().contains("nope"), "{err}");
}

fn rule(path: &Path, ignore: &[&str]) -> WatchRule {
    WatchRule {
        path: path.to_path_buf(),
        action: WatchAction::Restart,
        target: None,
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn tree_watcher_reports_changes_per_rule_and_skips_ignored() {
    let d = tempfile::tempdir().expect("tempdir");
    let src = d.path().join("src");
    let assets = d.path().join("assets");
    fs::create_dir_all(src.join("deep/er")).expect("mkdir");
    fs::create_dir_all(src.join("target")).expect("mkdir");
    fs::create_dir(&assets).expect("mkdir");
    let rules = vec![rule(&src, &["target", "*.log"]), rule(&assets, &[])];
    let (_w, rx) = TreeWatcher::new(&rules, DEBOUNCE).expect("watch");

    let a = src.join("deep/er/main.c");
    let b = src.join("util.c");
    fs::write(&a, "int main;").expect("write");
    fs::write(&b, "int x;").expect("write");
    // Ignored: by the rule and by the editor-temp defaults.
    fs::write(src.join("target/out.o"), "x").expect("write");
    fs::write(src.join("build.log"), "x").expect("write");
    fs::write(src.join(".util.c.swp"), "x").expect("write");
    fs::write(src.join("util.c~"), "x").expect("write");
    fs::write(src.join(".#util.c"), "x").expect("write");

    let evs: Vec<TreeEvent> = collect(&rx);
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].rule, 0);
    assert_eq!(evs[0].paths, vec![a, b]);

    // Only the assets rule fires for a change under assets.
    let logo = assets.join("logo.svg");
    fs::write(&logo, "<svg/>").expect("write");
    let evs = collect(&rx);
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].rule, 1);
    assert_eq!(evs[0].paths, vec![logo]);
}

#[test]
fn tree_watcher_sees_files_in_new_directories() {
    let d = tempfile::tempdir().expect("tempdir");
    let (_w, rx) = TreeWatcher::new(&[rule(d.path(), &[])], DEBOUNCE).expect("watch");
    let nd = d.path().join("new");
    fs::create_dir(&nd).expect("mkdir");
    // Give the recursive watch time to add the new directory.
    let evs = collect(&rx);
    assert_eq!(evs.len(), 1, "{evs:?}");
    let f = nd.join("file.txt");
    fs::write(&f, "x").expect("write");
    let evs = collect(&rx);
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert!(evs[0].paths.contains(&f), "{evs:?}");
}

#[test]
fn a_symlinked_file_is_watched_at_its_target() {
    let d = tempfile::tempdir().expect("tempdir");
    let real_dir = d.path().join("dotfiles");
    let proj = d.path().join("proj");
    fs::create_dir(&real_dir).expect("mkdir");
    fs::create_dir(&proj).expect("mkdir");
    let real = real_dir.join("stack.yaml");
    fs::write(&real, "a\n").expect("write");
    let link = proj.join("stack.yaml");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let (_w, rx) = FileWatcher::new(vec![link.clone()], DEBOUNCE).expect("watch");
    // An editor saving the real file by rename-over.
    let tmp = real_dir.join(".stack.yaml.swp");
    fs::write(&tmp, "b\n").expect("write");
    fs::rename(&tmp, &real).expect("rename");
    expect_one(&rx, &link, "save at the symlink's target");
}
