//! cgroup v2's no-internal-processes rule, as met at the root of a private
//! cgroup namespace (a privileged container, a CI job): stack's cgroups
//! cannot get controllers under a cgroup that holds processes, and `create`
//! says what to do instead of "Device or resource busy". Only a pure v2
//! host has controllers to hand down; on a hybrid host it checks nothing
//! and says so in its name.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::path::Path;
use std::process::Command;

use stack::runtime::cgroup::{Cgroup, CgroupError, V2_ROOT_ENV};
use stack::runtime::CgroupLimits;

#[test]
fn busy_root_is_a_sentence_v2_only() {
    if !common::root_or_skip("busy_root_is_a_sentence_v2_only") {
        return;
    }
    if !Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        eprintln!("busy_root_is_a_sentence_v2_only: a hybrid host, nothing to check");
        return;
    }
    // A cgroup with a process and the memory controller: the namespace root.
    let root = Path::new("/sys/fs/cgroup").join(format!("stack-busy-{}", std::process::id()));
    std::fs::create_dir(&root).unwrap();
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(root.join("cgroup.procs"), sleeper.id().to_string()).unwrap();
    // The only test in this binary: set before the layout is first read.
    std::env::set_var(V2_ROOT_ENV, &root);
    let err = Cgroup::create("stack/p/svc", &CgroupLimits::default()).unwrap_err();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    for d in ["stack/p", "stack"] {
        let _ = std::fs::remove_dir(root.join(d));
    }
    let t = std::time::Instant::now();
    while std::fs::remove_dir(&root).is_err() && t.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(matches!(err, CgroupError::Busy { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("holds processes") && msg.contains("init/cgroup.procs"),
        "{msg}"
    );
    assert!(!root.exists());
}
