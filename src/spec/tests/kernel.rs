//! `sysctls`, `group_add`, `oom_score_adj`, `cpu_period`/`cpu_quota`,
//! `mem_swappiness`, `oom_kill_disable` (issue 13, item 7).

use super::*;

#[test]
fn kernel_keys_load_in_either_form() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    sysctls: {{ net.core.somaxconn: 1024, kernel.shmmax: '68719476736' }}\n    group_add: [audio, 4242]\n    oom_score_adj: -200\n    cpu_period: 50000\n    cpu_quota: 25000\n    mem_swappiness: 0\n    oom_kill_disable: true\n  b:\n    {HOST}\n    sysctls: [net/ipv4/ip_forward=1, fs.mqueue.msg_max=20]\n    cpu_quota: -1\n    mem_swappiness: -1\n"
    ));
    let a = &s.services["a"];
    assert_eq!(a.process.sysctls["net.core.somaxconn"], "1024");
    assert_eq!(a.process.sysctls["kernel.shmmax"], "68719476736");
    assert_eq!(a.process.group_add, ["audio", "4242"]);
    assert_eq!(a.process.oom_score_adj, Some(-200));
    assert_eq!(a.limits.cpu_period, Some(50_000));
    assert_eq!(a.limits.cpu_quota, Some(25_000));
    assert_eq!(a.limits.mem_swappiness, Some(0));
    assert!(a.limits.oom_kill_disable);
    let b = &s.services["b"];
    assert_eq!(
        b.process.sysctls["net.ipv4.ip_forward"], "1",
        "slashes are dots"
    );
    assert_eq!(b.process.sysctls["fs.mqueue.msg_max"], "20");
    assert_eq!(b.limits.cpu_quota, None, "-1 is no quota");
    assert_eq!(b.limits.mem_swappiness, None, "-1 is the kernel's default");
}

#[test]
fn kernel_keys_errors_say_what_is_allowed() {
    let e = errs(&format!(
        "services:\n  a:\n    {HOST}\n    sysctls: {{ kernel.core_pattern: x, net..x: 1, 'net.a/../b': 1, net.core.x: }}\n    group_add: ['a b']\n    oom_score_adj: 1001\n    cpu_period: 10\n    cpu_quota: 5\n    mem_swappiness: 101\n"
    ));
    let all = e.join("\n");
    for want in [
        "services.a.sysctls.kernel.core_pattern: sysctl kernel.core_pattern is not namespaced: it would change the host; allowed are net.*, fs.mqueue.*, kernel.msgmax",
        "services.a.sysctls.net..x: \"net..x\" is not a sysctl name",
        "is not a sysctl name (dotted, e.g. net.core.somaxconn)",
        "services.a.sysctls.net.core.x: sysctl net.core.x has no value",
        "services.a.group_add: group \"a b\" is neither a group name nor a number",
        "services.a.oom_score_adj: oom_score_adj 1001 out of range (-1000 to 1000)",
        "services.a.cpu_period: cpu_period 10 out of range (1000 to 1000000 microseconds)",
        "services.a.cpu_quota: cpu_quota 5 out of range",
        "services.a.mem_swappiness: mem_swappiness 101 out of range (0 to 100)",
    ] {
        assert!(all.contains(want), "want {want:?} in:\n{all}");
    }
    assert_eq!(e.len(), 9, "{all}");
}

#[test]
fn cfs_keys_conflict_with_cpus_and_net_sysctls_need_an_own_network() {
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    cpus: 0.5\n    cpu_quota: 25000\n"
    ));
    assert!(
        e.contains(
            "services.a.cpu_quota: cannot be set with services.a.cpus (both set the CFS quota)"
        ),
        "{e}"
    );
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    network_mode: host\n    sysctls: {{ net.core.somaxconn: 1, kernel.sem: '1 2 3 4' }}\n"
    ));
    assert!(
        e.contains("services.a.sysctls.net.core.somaxconn: sysctl net.core.somaxconn cannot be set with network_mode: host"),
        "{e}"
    );
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    network_mode: service:b\n    sysctls: [net.ipv4.ip_forward=1]\n  b:\n    {HOST}\n"
    ));
    assert!(e.contains("cannot be set with network_mode: service:b (it would change `b`'s network); set it on `b`"), "{e}");
}

#[test]
fn a_cpu_reservation_is_a_weight_and_not_with_cpu_shares() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    deploy: {{ resources: {{ reservations: {{ cpus: '0.25', memory: 10M }} }} }}\n"
    ));
    assert_eq!(s.services["a"].limits.cpus_reserved.map(|c| c.0), Some(250));
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    cpu_shares: 512\n    deploy: {{ resources: {{ reservations: {{ cpus: '0.5' }} }} }}\n"
    ));
    assert!(
        e.contains("services.a.deploy.resources.reservations.cpus: cannot be set with services.a.cpu_shares (both set the CPU weight); give one"),
        "{e}"
    );
}

#[test]
fn ipc_and_pid_modes_load_and_imply_a_dependency() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    ipc: shareable\n  b:\n    {HOST}\n    ipc: service:a\n    pid: service:a\n  c:\n    {HOST}\n    ipc: host\n    pid: host\n  d:\n    {HOST}\n    ipc: private\n"
    ));
    assert_eq!(s.services["a"].process.ipc, IpcMode::Shareable);
    let b = &s.services["b"];
    assert_eq!(b.process.ipc, IpcMode::Service("a".into()));
    assert_eq!(b.process.pid, PidMode::Service("a".into()));
    let dep = &b.depends_on["a"];
    assert!(
        dep.restart && dep.condition == Condition::ServiceStarted,
        "{dep:?}"
    );
    assert_eq!(s.services["c"].process.ipc, IpcMode::Host);
    assert_eq!(s.services["c"].process.pid, PidMode::Host);
    assert_eq!(s.services["d"].process.ipc, IpcMode::Private);
}

#[test]
fn ipc_and_pid_errors_say_what_to_do() {
    let one = |svc: &str| {
        errs(&format!(
            "services:\n  a:\n    {HOST}\n    ipc: private\n  h:\n    {HOST}\n    ipc: host\n  b:\n    {HOST}\n{svc}"
        ))
    };
    let cases: &[(&str, &str)] = &[
        ("    ipc: none\n", "10:10: services.b.ipc: ipc \"none\" (no /dev/shm) is not supported yet; use `private`"),
        ("    ipc: container:x\n", "10:10: services.b.ipc: ipc \"container:x\" is not supported yet; use service:NAME to share the IPC namespace of a service of this file"),
        ("    ipc: bogus\n", "10:10: services.b.ipc: invalid ipc \"bogus\" (expected private, shareable, host or service:NAME)"),
        ("    ipc: service:b\n", "10:10: services.b.ipc: service `b` cannot share its own IPC namespace; name another service after `service:`"),
        ("    pid: service:hh\n", "10:10: services.b.pid: pid: service `hh` is not defined (did you mean `h`?); name a service of this file"),
        ("    pid: container:x\n", "10:10: services.b.pid: pid \"container:x\" is not supported yet; use service:NAME to share the PID namespace of a service of this file"),
        ("    ipc: service:a\n", "10:10: services.b.ipc: service `a` has `ipc: private`, which no other container may join; make it `shareable` (or remove its `ipc`)"),
        ("    ipc: service:h\n", "10:10: services.b.ipc: service `h` has `ipc: host`; write `ipc: host` here too"),
        ("    ipc: host\n    sysctls: { kernel.shmmax: '1' }\n", "11:16: services.b.sysctls.kernel.shmmax: sysctl kernel.shmmax cannot be set with ipc: host (it would change the host's)"),
    ];
    let mut wrong = Vec::new();
    for (svc, want) in cases {
        let e = one(svc);
        if e != vec![want.to_string()] {
            wrong.push(format!("{svc}  got {e:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
