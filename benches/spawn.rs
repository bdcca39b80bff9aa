//! Starting a container in its cgroup: `clone3(CLONE_INTO_CGROUP)`, where
//! the kernel places the child at birth, against clone and a write to
//! `cgroup.procs` from the child. Each iteration starts a `/bin/true`
//! container (namespaces, sealed init, pivot_root, seccomp) and reaps it.
//!
//! As root: `cargo bench --bench spawn`; on pure cgroup v2:
//! `cargo bench --bench spawn --no-run` then run the printed binary with
//! `--bench` in `scripts/v2-guest.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

use stack::runtime::cgroup::Cgroup;
use stack::runtime::spawn;
use stack::runtime::CgroupLimits;

fn bench(c: &mut Criterion) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("spawn bench: needs root, skipped");
        return;
    }
    spawn::set_init_exe(env!("CARGO_BIN_EXE_stack"));
    let base = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-spawn");
    std::fs::create_dir_all(&base).unwrap();
    let cfg = common::container_config("bench-spawn", "c", &base, &["/bin/true"]);
    let cg = Cgroup::create(&cfg.cgroup, &CgroupLimits::default()).unwrap();
    let procs = cg.procs_files();
    let mut g = c.benchmark_group("start a /bin/true container in its cgroup");
    g.measurement_time(Duration::from_secs(10));
    for (name, on) in [
        ("clone3 CLONE_INTO_CGROUP", true),
        ("clone + cgroup.procs", false),
    ] {
        spawn::set_clone_into_cgroup(on);
        g.bench_function(name, |b| {
            b.iter(|| {
                let s = spawn::start(&cfg, &procs).unwrap();
                assert_eq!(s.into_cgroup, on);
                // SAFETY: waitpid on our own child.
                unsafe { libc::waitpid(s.pid, std::ptr::null_mut(), 0) };
            })
        });
    }
    g.finish();
    spawn::set_clone_into_cgroup(true);
    cg.delete().unwrap();
    let _ = std::fs::remove_dir_all(&base);
}

criterion_group!(benches, bench);
criterion_main!(benches);
