//! The cgroup v2 code paths (`cgroup.kill`, `cgroup.freeze`, `cgroup.events`)
//! on a hybrid host's controller-less `/sys/fs/cgroup/unified` mount, and on
//! a pure v2 host's own tree.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::path::Path;
use std::process::Command;

use stack::runtime::cgroup::{list, Cgroup, CgroupError, Layout, V2_ROOT_ENV};
use stack::runtime::CgroupLimits;

const UNIFIED: &str = "/sys/fs/cgroup/unified";

#[test]
fn cgroup_v2_join_kill_freeze_delete() {
    if !common::root_or_skip("cgroup_v2_join_kill_freeze_delete") {
        return;
    }
    // A pure v2 host: its own tree. A hybrid one: the controller-less
    // cgroup2 beside the v1 hierarchies, which also shows a missing
    // controller failing cleanly.
    let pure = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let root = if pure { "/sys/fs/cgroup" } else { UNIFIED };
    assert!(
        Path::new(root).join("cgroup.procs").exists(),
        "no cgroup2 mount at {root}"
    );
    if !pure {
        // The only test in this binary: set before the layout is first read.
        std::env::set_var(V2_ROOT_ENV, UNIFIED);
    }
    assert!(Layout::get().is_v2());
    let project = format!("stack/test-v2-{}", std::process::id());
    let path = format!("{project}/svc");

    if !pure {
        // Asking for a limit whose controller is absent fails clearly and leaves nothing.
        let err = Cgroup::create(
            &path,
            &CgroupLimits {
                memory: Some(1 << 24),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                CgroupError::MissingController {
                    controller: "memory",
                    ..
                }
            ),
            "{err}"
        );
        assert!(Cgroup::open(&path).is_none());
    }

    let cg = Cgroup::create(&path, &CgroupLimits::default()).expect("create");
    assert_eq!(
        cg.procs_files(),
        vec![Path::new(root).join(&path).join("cgroup.procs")]
    );
    let mut a = Command::new("sleep").arg("100").spawn().unwrap();
    let mut b = Command::new("sleep").arg("100").spawn().unwrap();
    for pid in [a.id(), b.id()] {
        std::fs::write(&cg.procs_files()[0], pid.to_string()).unwrap();
    }
    assert_eq!(cg.pids().len(), 2);
    assert_eq!(list(&project), vec![path.clone()]);

    // SIGTERM goes through freeze → signal → thaw.
    cg.kill_all(libc::SIGTERM).unwrap();
    let sa = a.wait().unwrap();
    let sb = b.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&sa),
        Some(libc::SIGTERM)
    );
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&sb),
        Some(libc::SIGTERM)
    );
    let frozen =
        std::fs::read_to_string(Path::new(root).join(&path).join("cgroup.events")).unwrap();
    assert!(frozen.contains("frozen 0"), "left frozen: {frozen}");

    // SIGKILL through cgroup.kill.
    let mut c = Command::new("sleep").arg("100").spawn().unwrap();
    std::fs::write(&cg.procs_files()[0], c.id().to_string()).unwrap();
    cg.kill_all(libc::SIGKILL).unwrap();
    assert!(cg.pids().is_empty());
    let sc = c.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&sc),
        Some(libc::SIGKILL)
    );

    cg.delete().unwrap();
    assert!(!Path::new(root).join(&project).exists());
    assert!(list(&project).is_empty());
}
