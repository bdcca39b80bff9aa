//! Seccomp: compiling Docker's default profile (once per profile and
//! capability set in the supervisor) and installing it in a fresh child
//! (once per container start, between fork and exec).
//!
//! `cargo bench --bench seccomp`

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
