//! Starting a container in its cgroup: `clone3(CLONE_INTO_CGROUP)`, where
//! the kernel places the child at birth, against clone and a write to
//! `cgroup.procs` from the child. Each iteration starts a `/bin/true`
//! container (namespaces, sealed init, pivot_root, seccomp) and reaps it.
//!
//! A second group: the same start on loopback only and with one veth on a
//! bridge (what a network adds).
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
    network(c, &cfg, &procs);
    cg.delete().unwrap();
    let _ = std::fs::remove_dir_all(&base);
}

/// What a bridge network adds to a start (issue 11's budget: 3 ms): the
/// same `/bin/true` container with loopback only, and with a veth born in
/// its namespace and configured (address, default route) before its init
/// gets its config. The veth goes with the namespace when it exits.
fn network(c: &mut Criterion, cfg: &stack::runtime::ContainerConfig, procs: &[std::path::PathBuf]) {
    use stack::runtime::{net, Attachment, Network};
    use std::net::Ipv4Addr;
    let bridge = format!("stktbn{}", std::process::id() % 100_000);
    net::ensure_bridge(&net::Bridge {
        name: bridge.clone(),
        mac: net::mac_for(&bridge),
        mtu: None,
        address: (Ipv4Addr::new(10, 250, 30, 1), 24),
    })
    .unwrap();
    let mut bridged = cfg.clone();
    bridged.network = Network::Bridge(vec![Attachment {
        bridge: bridge.clone(),
        host_veth: format!("{bridge}v"),
        interface: "eth0".into(),
        address: Ipv4Addr::new(10, 250, 30, 2),
        prefix: 24,
        gateway: Some(Ipv4Addr::new(10, 250, 30, 1)),
        mac: None,
        mtu: None,
    }]);
    // STACK_BENCH_SETTLE_MS: a pause after each run, untimed.
    let settle: u64 = std::env::var("STACK_BENCH_SETTLE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut g = c.benchmark_group("start a /bin/true container on a network");
    g.measurement_time(Duration::from_secs(10));
    for (name, cfg) in [("loopback only", cfg), ("bridge, one veth", &bridged)] {
        // Only the start is timed: a namespace is torn down by the kernel
        // after the container is reaped, asynchronously (tens of ms), and
        // the next start waits for its veth name to be free, untimed.
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut took = Duration::ZERO;
                for _ in 0..iters {
                    let t = std::time::Instant::now();
                    let s = spawn::start(cfg, procs).unwrap();
                    took += t.elapsed();
                    // SAFETY: waitpid on our own child.
                    unsafe { libc::waitpid(s.pid, std::ptr::null_mut(), 0) };
                    while net::link_exists(&format!("{bridge}v")).unwrap_or(false) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    // And for the dead namespace's clean-up (the kernel's
                    // cleanup_net holds the locks a new veth needs).
                    std::thread::sleep(Duration::from_millis(settle));
                }
                took
            })
        });
    }
    g.finish();
    net::delete_link(&bridge).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
