//! Loading stack files and building the dependency graph: the pure work
//! every `stack` command does before it acts.
//!
//! `cargo bench --bench spec`
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use stack::graph::DepGraph;
use stack::spec::{self, LoadOptions, Stack};

/// A stack file with `n` services using the common keys: a directory
/// rootfs, command, environment with interpolation, limits, restart,
/// a healthcheck on every fourth and `depends_on` on up to two earlier ones.
fn generated(n: usize) -> String {
    let mut y = String::from(
        "name: bench\nx-limits: &limits\n  deploy:\n    resources:\n      limits: { cpus: \"0.05\", memory: 80M, pids: 64 }\nservices:\n",
    );
    for i in 0..n {
        let _ = write!(
            y,
            "  svc{i:04}:\n    <<: *limits\n    rootfs: ./rootfs\n    command: [\"sleep\", \"infinity\"]\n    environment:\n      INDEX: \"{i}\"\n      TAG: ${{TAG:-latest}}\n      COLOR: blue\n    restart: on-failure:3\n    stop_grace_period: 5s\n"
        );
        if i % 4 == 0 {
            y.push_str(
                "    healthcheck: { test: [\"CMD\", \"true\"], interval: 1s, retries: 3 }\n",
            );
        }
        if i >= 1 {
            let _ = write!(y, "    depends_on: [svc{:04}", i - 1);
            if i >= 10 {
                let _ = write!(y, ", svc{:04}", i / 2);
            }
            y.push_str("]\n");
        }
    }
    y
}

/// A 600-service chain (each depends on the one before), loaded once.
fn chain(dir: &Path, n: usize) -> Stack {
    let mut y = String::from("services:\n");
    for i in 0..n {
        let _ = write!(y, "  s{i:04}:\n    rootfs: ./rootfs\n");
        if i > 0 {
            let _ = writeln!(y, "    depends_on: [s{:04}]", i - 1);
        }
    }
    let opts = LoadOptions {
        project_name: Some("chain".into()),
        ..Default::default()
    };
    match spec::load_from_str(&y, &dir.join("chain.yaml"), Default::default(), &opts) {
        Ok((st, _)) => st,
        Err(e) => panic!("the generated chain does not load: {e}"),
    }
}

fn load_ok(opts: &LoadOptions) -> Stack {
    match spec::load(opts) {
        Ok(st) => st,
        Err(e) => panic!("{e}"),
    }
}

fn bench_spec(c: &mut Criterion) {
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => panic!("cannot make a temp dir: {e}"),
    };
    let dir = tmp.path();
    if let Err(e) = std::fs::create_dir_all(dir.join("rootfs")) {
        panic!("cannot make {}/rootfs: {e}", dir.display());
    }

    let big = dir.join("big.yaml");
    let text = generated(3000);
    if let Err(e) = std::fs::write(&big, &text) {
        panic!("cannot write {}: {e}", big.display());
    }
    let big_opts = LoadOptions {
        files: vec![big.clone()],
        ..Default::default()
    };
    assert_eq!(load_ok(&big_opts).services.len(), 3000);

    // The shipped example when there is one that loads here; else a small
    // generated file of the same size.
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/cola-wars/stack.yaml");
    let example_opts = LoadOptions {
        files: vec![example.clone()],
        ..Default::default()
    };
    let (small_name, small_opts) = if example.is_file() && spec::load(&example_opts).is_ok() {
        ("examples/cola-wars/stack.yaml".to_string(), example_opts)
    } else {
        eprintln!(
            "note: {} is missing or does not load here; timing a generated 3-service file instead",
            example.display()
        );
        let small = dir.join("small.yaml");
        if let Err(e) = std::fs::write(&small, generated(3)) {
            panic!("cannot write {}: {e}", small.display());
        }
        (
            "generated 3 services".to_string(),
            LoadOptions {
                files: vec![small],
                ..Default::default()
            },
        )
    };
    load_ok(&small_opts);

    let mut g = c.benchmark_group("spec::load");
    // 20 loads of the 3,000-service file take about 4 s.
    g.measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    g.bench_function(
        format!("generated 3000 services ({} KiB)", text.len() / 1024),
        |b| b.iter(|| spec::load(black_box(&big_opts))),
    );
    g.bench_function(small_name, |b| {
        b.iter(|| spec::load(black_box(&small_opts)))
    });
    g.finish();

    let st = chain(dir, 600);
    match DepGraph::new(&st) {
        Ok(gr) => assert_eq!(gr.levels().len(), 600),
        Err(e) => panic!("{e}"),
    }
    let mut g = c.benchmark_group("graph::DepGraph::new");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    g.bench_function("600-deep chain", |b| {
        b.iter(|| DepGraph::new(black_box(&st)))
    });
    g.finish();
}

criterion_group!(benches, bench_spec);
criterion_main!(benches);
