//! `plan::diff` on a 50-service stack: the reconcile step the supervisor
//! runs on every event, so it must stay far below a millisecond.
//!
//! `cargo bench --bench plan`
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion};

use stack::plan::{self, Observed, ObservedContainer, PlanOptions};
use stack::spec::units::Bytes;
use stack::spec::{Condition, Dependency, Limits, RestartPolicy, Rootfs, Service, Stack};

const NOW: u64 = 1_000_000;
const SERVICES: usize = 50;

/// A service as the loader would produce it, with enough fields set that
/// the field-by-field comparison has work to do.
fn service(i: usize) -> Service {
    let name = format!("svc{i:02}");
    let mut depends_on = BTreeMap::new();
    // A layered graph: every service after the first five depends on two
    // earlier ones, so the dependency checks run too.
    if i >= 5 {
        for d in [i - 5, i / 2] {
            depends_on.insert(
                format!("svc{d:02}"),
                Dependency {
                    condition: Condition::ServiceStarted,
                    restart: false,
                    required: true,
                },
            );
        }
    }
    let limits = Limits {
        memory: Some(Bytes(80 << 20)),
        ..Default::default()
    };
    Service {
        command: Some(vec!["sleep".into(), "infinity".into()]),
        environment: (0..8)
            .map(|k| (format!("VAR_{k}"), format!("value-{i}-{k}")))
            .collect(),
        working_dir: Some("/".into()),
        hostname: Some(name.clone()),
        depends_on,
        restart: RestartPolicy::Always,
        limits,
        ..Service::new(&name, Rootfs::Dir(PathBuf::from("/srv/rootfs")))
    }
}

fn stack_of(services: Vec<Service>) -> Stack {
    Stack {
        name: "bench".into(),
        file: PathBuf::from("/bench/stack.yaml"),
        overrides: Vec::new(),
        dir: PathBuf::from("/bench"),
        services: services.into_iter().map(|s| (s.name.clone(), s)).collect(),
        volumes: BTreeMap::new(),
        networks: BTreeMap::new(),
        inputs: Vec::new(),
        replicas: Default::default(),
    }
}

/// Every service of `st` running with its current config.
fn converged(st: &Stack) -> Observed {
    let mut obs = Observed::default();
    for s in st.services.values() {
        let mut c = ObservedContainer::new(s.clone(), 1);
        c.on_started(100, NOW - 60_000, BTreeMap::new());
        obs.containers.insert(s.name.clone(), c);
    }
    // Record dependency stamps as the engine does, so nothing looks
    // "recreated since".
    let stamps: Vec<(String, BTreeMap<String, u64>)> = st
        .services
        .values()
        .map(|s| (s.name.clone(), obs.dep_stamps(s)))
        .collect();
    for (name, deps) in stamps {
        if let Some(c) = obs.containers.get_mut(&name) {
            c.deps_at_start = deps;
        }
    }
    obs
}

fn bench_diff(c: &mut Criterion) {
    let st = stack_of((0..SERVICES).map(service).collect());
    let obs = converged(&st);
    let opts = PlanOptions {
        now_ms: NOW,
        ..Default::default()
    };

    // Sanity: the benchmark measures what its name says.
    let p = plan::diff(&st, &obs, &opts);
    assert!(p.is_empty(), "converged stack is not a no-op:\n{p}");

    let mut changed = st.clone();
    if let Some(s) = changed.services.get_mut("svc25") {
        s.environment.insert("VAR_0".into(), "changed".into());
        s.limits.memory = Some(Bytes(120 << 20));
    }
    let p = plan::diff(&changed, &obs, &opts);
    assert!(
        p.actions
            .iter()
            .any(|a| a.verb() == "recreate" && a.service() == "svc25"),
        "one changed service is not recreated:\n{p}"
    );

    let mut g = c.benchmark_group("plan::diff");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(20);
    g.bench_function("50 services, converged (no-op)", |b| {
        b.iter(|| plan::diff(black_box(&st), black_box(&obs), black_box(&opts)))
    });
    g.bench_function("50 services, one changed", |b| {
        b.iter(|| plan::diff(black_box(&changed), black_box(&obs), black_box(&opts)))
    });
    g.finish();
}

criterion_group!(benches, bench_diff);
criterion_main!(benches);
