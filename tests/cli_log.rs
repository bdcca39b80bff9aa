//! Diagnostics reach the user: `tracing` events go to stderr as
//! `stack: LEVEL: …` — warnings always, debug with `--verbose --verbose` or
//! `STACK_LOG=debug` — and a bad `STACK_LOG` is said, not ignored.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::process::Command;

use common::{busybox_rootfs, root_or_skip, Project};

/// A tarball of the busybox rootfs with one device node in it, which the
/// unpacker skips and reports at debug level.
fn tarball_with_a_device(p: &Project, marker: &str) -> std::path::PathBuf {
    let dir = p.dir.join(format!("root-{marker}"));
    let st = Command::new("cp")
        .arg("-a")
        .arg(busybox_rootfs())
        .arg(&dir)
        .status()
        .unwrap();
    assert!(st.success());
    let st = Command::new("mknod")
        .arg(dir.join("dev/null"))
        .args(["c", "1", "3"])
        .status()
        .unwrap();
    assert!(st.success());
    // Different content, so each tarball is unpacked anew.
    std::fs::write(dir.join("etc/marker"), marker).unwrap();
    let tar = p.dir.join(format!("root-{marker}.tar"));
    let st = Command::new("tar")
        .arg("-C")
        .arg(&dir)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success());
    tar
}

#[test]
fn debug_and_warnings_reach_stderr() {
    if !root_or_skip("debug_and_warnings_reach_stderr") {
        return;
    }
    let p = Project::new("cli-log", "services: {}\n");
    let tar = tarball_with_a_device(&p, &format!("a{}", std::process::id()));
    let yaml = format!(
        "services:\n  job:\n    rootfs: {}\n    command: [\"true\"]\n",
        tar.display()
    );
    p.write(&yaml);
    // Quiet by default: the skipped device is only debug.
    let o = p.run(&["up"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("stack: debug:"), "{err}");
    p.ok(&["down"]);

    // A fresh unpack (new archive content) with --verbose twice.
    let tar = tarball_with_a_device(&p, &format!("b{}", std::process::id()));
    p.write(&format!(
        "services:\n  job:\n    rootfs: {}\n    command: [\"true\"]\n",
        tar.display()
    ));
    let o = p.run(&["--verbose", "--verbose", "up"]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("stack: debug: ") && l.contains("skipped 1 device nodes")),
        "{err}"
    );
    p.ok(&["down"]);

    // A filter that does not parse is reported, and warnings still show.
    let o = p
        .cmd(&["config"])
        .env("STACK_LOG", "stack=[")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("stack: warning: STACK_LOG=\"stack=[\" is not a valid filter"),
        "{err}"
    );
}
