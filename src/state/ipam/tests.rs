use std::collections::BTreeSet;

use super::*;

fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}
fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn networks() -> (tempfile::TempDir, Networks) {
    let t = tempfile::tempdir().unwrap();
    let n = Networks::at(&t.path().join("state"));
    (t, n)
}

fn with_subnet(name: &str, project: &str, subnet: &str) -> NetworkRequest {
    NetworkRequest {
        config: IpamConfig {
            subnet: Some(net(subnet)),
            ..Default::default()
        },
        ..NetworkRequest::new(name, project)
    }
}

#[test]
fn store_networks_live_under_the_state_root() {
    let t = tempfile::tempdir().unwrap();
    let s = Store::with_roots("demo", &t.path().join("state"), &t.path().join("run")).unwrap();
    let n = s.networks();
    assert_eq!(n.dir, t.path().join("state/networks"));
    assert_eq!(
        n.record_file("demo_default"),
        t.path().join("state/networks/demo_default.json")
    );
}

#[test]
fn create_picks_from_the_pool_and_records_it() {
    let (_t, n) = networks();
    let a = n
        .create(&NetworkRequest::new("demo_default", "demo"), &[])
        .unwrap();
    assert_eq!(a.subnet, net("10.89.0.0/24"));
    assert_eq!(a.gateway, ip("10.89.0.1"));
    assert_eq!(a.project, "demo");
    assert!(
        a.bridge.starts_with("stk-") && a.bridge.len() == 12,
        "{}",
        a.bridge
    );
    assert!(a.created_ms > 0);
    assert_eq!(n.load("demo_default").unwrap(), Some(a.clone()));
    // The record on disk: pretty JSON, subnets as text.
    let text = fs::read_to_string(n.record_file("demo_default")).unwrap();
    assert!(text.contains("\"subnet\": \"10.89.0.0/24\""), "{text}");
    assert!(text.contains("\"gateway\": \"10.89.0.1\""), "{text}");
    // A second network (another project) gets the next subnet.
    let b = n
        .create(&NetworkRequest::new("other_default", "other"), &[])
        .unwrap();
    assert_eq!(b.subnet, net("10.89.1.0/24"));
    assert_ne!(a.bridge, b.bridge);
}

#[test]
fn create_avoids_host_routes() {
    let (_t, n) = networks();
    let routes = [
        net("10.89.0.0/24"),
        net("10.89.1.128/25"),
        net("172.17.0.0/16"),
    ];
    let a = n
        .create(&NetworkRequest::new("demo_default", "demo"), &routes)
        .unwrap();
    assert_eq!(a.subnet, net("10.89.2.0/24"));
}

#[test]
fn create_again_is_the_same_network() {
    let (_t, n) = networks();
    let req = NetworkRequest::new("demo_default", "demo");
    let a = n.create(&req, &[]).unwrap();
    // After a crash the bridge's route is on the host: still the same record.
    let b = n.create(&req, &[a.subnet]).unwrap();
    assert_eq!(a, b);
    assert_eq!(n.list().unwrap().len(), 1);
}

#[test]
fn another_projects_network_is_not_taken_over() {
    let (_t, n) = networks();
    n.create(&NetworkRequest::new("shared", "one"), &[])
        .unwrap();
    let e = n
        .create(&NetworkRequest::new("shared", "two"), &[])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "network shared already exists and belongs to project one: give project two's network another name, or mark it `external: true` to join it"
    );
    // Joining it (external: true) works, and allocating on it.
    let rec = n.join("shared").unwrap();
    assert_eq!(rec.project, "one");
    let a = n
        .allocate("shared", &container_key("two", "web-1"), None)
        .unwrap();
    assert_eq!(a, ip("10.89.0.2"));
    assert_eq!(
        n.join("nope").unwrap_err().to_string(),
        "network nope does not exist: run `stack up` for the project that defines it first"
    );
}

#[test]
fn a_changed_config_is_refused_with_what_to_do() {
    let (_t, n) = networks();
    n.create(&with_subnet("front", "demo", "172.30.0.0/16"), &[])
        .unwrap();
    let e = n
        .create(&with_subnet("front", "demo", "172.31.0.0/16"), &[])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "network front exists with subnet 172.30.0.0/16, the file asks for 172.31.0.0/16: run `stack down` to remove the network, then `stack up`"
    );
    // No subnet in the file: whatever was recorded is fine.
    n.create(&NetworkRequest::new("front", "demo"), &[])
        .unwrap();
}

#[test]
fn overlapping_user_subnets_name_both_networks() {
    let (_t, n) = networks();
    n.create(&with_subnet("front", "one", "10.1.0.0/16"), &[])
        .unwrap();
    let e = n
        .create(&with_subnet("back", "two", "10.1.4.0/24"), &[])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "network back: subnet 10.1.4.0/24 overlaps subnet 10.1.0.0/16 of network front: choose subnets that do not overlap"
    );
    assert!(n.load("back").unwrap().is_none(), "nothing half-made");
    // A picked subnet is never one a user configured.
    n.create(&with_subnet("mine", "two", "10.89.0.0/24"), &[])
        .unwrap();
    let p = n.create(&NetworkRequest::new("auto", "two"), &[]).unwrap();
    assert_eq!(p.subnet, net("10.89.1.0/24"));
}

#[test]
fn pool_exhaustion_names_the_network() {
    let (_t, n) = networks();
    let small = |name: &str| NetworkRequest {
        pool: Pool {
            range: net("10.99.0.0/23"),
            prefix_len: 24,
        },
        ..NetworkRequest::new(name, "demo")
    };
    n.create(&small("a"), &[]).unwrap();
    n.create(&small("b"), &[]).unwrap();
    let e = n.create(&small("c"), &[]).unwrap_err();
    let tiny = NetworkRequest {
        pool: Pool {
            range: net("10.99.0.0/23"),
            prefix_len: 31,
        },
        ..NetworkRequest::new("d", "demo")
    };
    assert!(matches!(
        n.create(&tiny, &[]),
        Err(IpamError::Alloc(AllocError::TooSmall { .. }))
    ));
    assert_eq!(
        e.to_string(),
        "network c: no free subnet of /24 left in the pool 10.99.0.0/23 (the others are used by stack networks or host routes): remove unused networks or set ipam.config.subnet"
    );
}

#[test]
fn deleting_a_network_frees_its_subnet() {
    let (_t, n) = networks();
    let a = n.create(&NetworkRequest::new("a", "demo"), &[]).unwrap();
    n.create(&NetworkRequest::new("b", "demo"), &[]).unwrap();
    assert_eq!(n.delete("a", "demo").unwrap(), Deleted::Removed(a.clone()));
    assert!(!n.record_file("a").exists());
    assert_eq!(n.delete("a", "demo").unwrap(), Deleted::Absent);
    let c = n.create(&NetworkRequest::new("c", "demo"), &[]).unwrap();
    assert_eq!(c.subnet, a.subnet);
}

#[test]
fn another_projects_network_is_never_deleted() {
    let (_t, n) = networks();
    n.create(&NetworkRequest::new("theirs", "one"), &[])
        .unwrap();
    let e = n.delete("theirs", "two").unwrap_err();
    assert_eq!(
        e.to_string(),
        "network theirs belongs to project one, not two: it is left in place"
    );
    assert!(n.load("theirs").unwrap().is_some());
}

#[test]
fn a_network_others_still_use_stays() {
    let (_t, n) = networks();
    n.create(&NetworkRequest::new("shared", "one"), &[])
        .unwrap();
    n.allocate("shared", "one/web-1", None).unwrap();
    n.allocate("shared", "two/client-1", None).unwrap();
    let Deleted::InUse { record, projects } = n.delete("shared", "one").unwrap() else {
        panic!("must stay");
    };
    assert_eq!(projects, vec!["two".to_string()]);
    assert_eq!(record.allocations.len(), 1);
    // Its own address is freed on disk, the other's kept.
    let rec = n.load("shared").unwrap().unwrap();
    assert_eq!(
        rec.allocations.keys().collect::<Vec<_>>(),
        vec!["two/client-1"]
    );
    n.release_project("two").unwrap();
    assert!(matches!(
        n.delete("shared", "one").unwrap(),
        Deleted::Removed(_)
    ));
}

#[test]
fn addresses_are_recorded_released_and_reused() {
    let (_t, n) = networks();
    n.create(&NetworkRequest::new("demo_default", "demo"), &[])
        .unwrap();
    let web = container_key("demo", "web-1");
    let db = container_key("demo", "db-1");
    assert_eq!(
        n.allocate("demo_default", &web, None).unwrap(),
        ip("10.89.0.2")
    );
    assert_eq!(
        n.allocate("demo_default", &db, Some(ip("10.89.0.9")))
            .unwrap(),
        ip("10.89.0.9")
    );
    // A crashed supervisor's next `up` asks again: same address.
    assert_eq!(
        n.allocate("demo_default", &web, None).unwrap(),
        ip("10.89.0.2")
    );
    let rec = n.load("demo_default").unwrap().unwrap();
    assert_eq!(rec.allocations.get(&web), Some(&ip("10.89.0.2")));
    let e = n
        .allocate("demo_default", "demo/x-1", Some(ip("10.89.0.9")))
        .unwrap_err();
    assert!(e.to_string().contains("already taken by demo/db-1"), "{e}");
    assert_eq!(
        n.release("demo_default", &web).unwrap(),
        Some(ip("10.89.0.2"))
    );
    assert_eq!(n.release("demo_default", &web).unwrap(), None);
    assert_eq!(n.release("gone", &web).unwrap(), None);
    assert_eq!(
        n.allocate("demo_default", "demo/cache-1", None).unwrap(),
        ip("10.89.0.2")
    );
    assert!(matches!(
        n.allocate("gone", &web, None),
        Err(IpamError::NotFound(_))
    ));
}

#[test]
fn releasing_a_project_frees_only_its_addresses_everywhere() {
    let (_t, n) = networks();
    n.create(&NetworkRequest::new("a", "demo"), &[]).unwrap();
    n.create(&NetworkRequest::new("b", "other"), &[]).unwrap();
    n.allocate("a", "demo/web-1", None).unwrap();
    n.allocate("a", "demo-x/web-1", None).unwrap();
    n.allocate("b", "demo/web-1", None).unwrap();
    n.allocate("b", "other/db-1", None).unwrap();
    let freed = n.release_project("demo").unwrap();
    assert_eq!(
        freed,
        vec![
            Released {
                network: "a".into(),
                key: "demo/web-1".into(),
                addr: ip("10.89.0.2")
            },
            Released {
                network: "b".into(),
                key: "demo/web-1".into(),
                addr: ip("10.89.1.2")
            },
        ]
    );
    let keys = |name: &str| {
        n.load(name)
            .unwrap()
            .unwrap()
            .allocations
            .into_keys()
            .collect::<Vec<_>>()
    };
    assert_eq!(keys("a"), vec!["demo-x/web-1"]);
    assert_eq!(keys("b"), vec!["other/db-1"]);
    // Both networks stay: releasing addresses deletes no network.
    assert_eq!(n.list().unwrap().len(), 2);
}

#[test]
fn names_are_checked() {
    let (_t, n) = networks();
    for bad in ["", "../x", "a/b", ".hidden", "a b"] {
        assert!(
            matches!(
                n.create(&NetworkRequest::new(bad, "demo"), &[]),
                Err(IpamError::BadName(_))
            ),
            "{bad:?}"
        );
    }
    for good in ["demo_default", "my-net.1", "Front"] {
        assert!(valid_network(good), "{good}");
    }
    assert_eq!(key_project("demo/web-1"), "demo");
}

#[test]
fn configured_bridge_names() {
    let (_t, n) = networks();
    let with_bridge = |name: &str, b: &str| NetworkRequest {
        bridge: Some(b.to_string()),
        ..NetworkRequest::new(name, "demo")
    };
    let a = n.create(&with_bridge("a", "br-front"), &[]).unwrap();
    assert_eq!(a.bridge, "br-front");
    let e = n.create(&with_bridge("b", "br-front"), &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "network b: bridge name br-front is already used by network a: choose another com.docker.network.bridge.name"
    );
    let e = n
        .create(&with_bridge("c", "a-very-long-bridge"), &[])
        .unwrap_err();
    assert!(matches!(e, IpamError::BadBridge { .. }), "{e}");
    // A hashed name taken by a configured one gets longer.
    let hashed = bridge_name("d", 8);
    n.create(&with_bridge("x", &hashed), &[]).unwrap();
    let d = n.create(&NetworkRequest::new("d", "demo"), &[]).unwrap();
    assert_eq!(d.bridge, bridge_name("d", 9));
}

#[test]
fn a_corrupt_record_is_moved_aside_not_overwritten() {
    let (_t, n) = networks();
    n.create(&NetworkRequest::new("a", "demo"), &[]).unwrap();
    fs::write(n.record_file("a"), "{not json").unwrap();
    assert_eq!(n.load("a").unwrap(), None);
    let kept: Vec<_> = fs::read_dir(&n.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("a.json.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert!(n.list().unwrap().is_empty());
}

#[test]
fn racing_ups_of_many_projects_never_share_a_subnet_or_an_address() {
    let (_t, n) = networks();
    n.create(&NetworkRequest::new("shared", "base"), &[])
        .unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let n = n.clone();
            std::thread::spawn(move || {
                let project = format!("p{i}");
                let own = n
                    .create(
                        &NetworkRequest::new(&format!("{project}_default"), &project),
                        &[],
                    )
                    .unwrap();
                let addrs: Vec<Ipv4Addr> = (0..10)
                    .map(|c| {
                        n.allocate("shared", &container_key(&project, &format!("s{c}-1")), None)
                            .unwrap()
                    })
                    .collect();
                (own.subnet, addrs)
            })
        })
        .collect();
    let mut subnets = BTreeSet::new();
    let mut addrs = BTreeSet::new();
    for t in threads {
        let (s, a) = t.join().unwrap();
        assert!(subnets.insert(s), "subnet {s} given twice");
        for x in a {
            assert!(addrs.insert(x), "address {x} given twice");
        }
    }
    assert_eq!(subnets.len(), 8);
    assert!(!subnets.contains(&net("10.89.0.0/24")), "the shared one's");
    // What was handed out is exactly what is on disk.
    let rec = n.load("shared").unwrap().unwrap();
    assert_eq!(rec.allocations.len(), 80);
    let on_disk: BTreeSet<Ipv4Addr> = rec.allocations.values().copied().collect();
    assert_eq!(on_disk, addrs);
}

/// The child half of the process race below: does nothing unless the
/// parent set `STACK_IPAM_RACE_DIR`.
#[test]
fn race_child() {
    let Some(dir) = std::env::var_os("STACK_IPAM_RACE_DIR") else {
        return;
    };
    let me = std::env::var("STACK_IPAM_RACE_ID").unwrap();
    let n = Networks::at(Path::new(&dir));
    n.create(&NetworkRequest::new(&format!("{me}_default"), &me), &[])
        .unwrap();
    for c in 0..15 {
        n.allocate("shared", &container_key(&me, &format!("s{c}-1")), None)
            .unwrap();
    }
}

#[test]
fn racing_processes_never_share_a_subnet_or_an_address() {
    let (t, n) = networks();
    n.create(&NetworkRequest::new("shared", "base"), &[])
        .unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|i| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "state::ipam::tests::race_child",
                    "--test-threads=1",
                ])
                .env("STACK_IPAM_RACE_DIR", t.path().join("state"))
                .env("STACK_IPAM_RACE_ID", format!("c{i}"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let all = n.list().unwrap();
    assert_eq!(all.len(), 5);
    let subnets: BTreeSet<Ipv4Net> = all.iter().map(|r| r.subnet).collect();
    assert_eq!(subnets.len(), 5, "{all:?}");
    let shared = n.load("shared").unwrap().unwrap();
    assert_eq!(shared.allocations.len(), 60);
    let addrs: BTreeSet<Ipv4Addr> = shared.allocations.values().copied().collect();
    assert_eq!(addrs.len(), 60);
}
