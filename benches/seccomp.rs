//! Seccomp: compiling Docker's default profile (once per profile and
//! capability set in the supervisor) and installing it in a fresh child
//! (once per container start, between fork and exec).
//!
//! `cargo bench --bench seccomp`
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use stack::runtime::seccomp::{compile, compile_cached, SeccompProgram};
use stack::seccomp::{default_profile, parse};

fn docker_caps() -> Vec<String> {
    stack::caps::DOCKER_DEFAULT
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// Fork a child that sets no_new_privs, installs `loaded` and exits; the
/// exit status says whether the install worked.
fn install_in_child(loaded: &stack::runtime::seccomp::Loaded) -> bool {
    // SAFETY: the child makes only raw syscalls and leaves by _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: prctl with integer arguments, then _exit.
        unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            libc::_exit(if loaded.install().is_ok() { 0 } else { 1 });
        }
    }
    let mut status = 0;
    // SAFETY: waitpid into a local int.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}

/// The `seccomp(2)` call alone, timed inside a fresh child (what a
/// container start pays), in nanoseconds.
fn timed_install_in_child(loaded: &stack::runtime::seccomp::Loaded) -> Duration {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two fds into a local array.
    unsafe { libc::pipe(fds.as_mut_ptr()) };
    // SAFETY: the child makes only raw syscalls and leaves by _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: raw syscalls on local data, then _exit.
        unsafe {
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            let mut t0: libc::timespec = std::mem::zeroed();
            let mut t1: libc::timespec = std::mem::zeroed();
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t0);
            let ok = loaded.install().is_ok();
            libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t1);
            let ns: u64 = if ok {
                ((t1.tv_sec - t0.tv_sec) * 1_000_000_000 + (t1.tv_nsec - t0.tv_nsec)) as u64
            } else {
                u64::MAX
            };
            libc::write(fds[1], (&ns as *const u64).cast(), 8);
            libc::_exit(0);
        }
    }
    let mut ns = 0u64;
    // SAFETY: read 8 bytes into a local u64, reap the child, close the pipe.
    unsafe {
        libc::read(fds[0], (&mut ns as *mut u64).cast(), 8);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        libc::close(fds[0]);
        libc::close(fds[1]);
    }
    assert!(ns != u64::MAX, "install fails in a child");
    Duration::from_nanos(ns)
}

fn bench_seccomp(c: &mut Criterion) {
    let caps = docker_caps();
    let program = match compile(default_profile(), &caps) {
        Ok(p) => p,
        Err(e) => panic!("the default profile does not compile: {e}"),
    };
    let sizes: Vec<usize> = program.filters.iter().map(Vec::len).collect();
    eprintln!("default program, Docker's caps: filters of {sizes:?} instructions");
    let hex = program.to_hex();
    let loaded = program.load();
    assert!(install_in_child(&loaded), "install fails in a child");
    let json = serde_json::to_string(default_profile()).unwrap_or_default();
    assert!(
        parse(&json).is_ok(),
        "the default profile does not round-trip"
    );

    let mut g = c.benchmark_group("seccomp");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    g.bench_function("parse default profile JSON", |b| {
        b.iter(|| parse(black_box(&json)))
    });
    g.bench_function("compile default profile", |b| {
        b.iter(|| compile(black_box(default_profile()), black_box(&caps)))
    });
    g.bench_function("compile_cached default profile (hit)", |b| {
        b.iter(|| compile_cached(black_box(default_profile()), black_box(&caps)))
    });
    g.bench_function("from_hex + load", |b| {
        b.iter(|| SeccompProgram::from_hex(black_box(&hex)).map(|p| p.load()))
    });
    g.bench_function("fork + install + exit + wait", |b| {
        b.iter(|| install_in_child(black_box(&loaded)))
    });
    g.bench_function("install alone, timed in the child", |b| {
        b.iter_custom(|n| (0..n).map(|_| timed_install_in_child(&loaded)).sum())
    });
    g.bench_function("fork + exit + wait (baseline)", |b| {
        b.iter(|| {
            // SAFETY: the child exits at once.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: _exit without unwinding.
                unsafe { libc::_exit(0) };
            }
            let mut status = 0;
            // SAFETY: waitpid into a local int.
            unsafe { libc::waitpid(pid, &mut status, 0) };
        })
    });
    g.finish();
}

criterion_group!(benches, bench_seccomp);
criterion_main!(benches);
