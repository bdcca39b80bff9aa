use super::layout::v1_hierarchies;
use super::parse_stall;
use super::*;

#[test]
fn every_v1_hierarchy_is_found_once() {
    let mi = "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n\
              32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
              36 31 0:33 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n\
              40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd,release_agent=/x\n\
              41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
              42 31 0:33 / /mnt/devices-again rw - cgroup cgroup rw,devices\n\
              43 31 0:29 /sub /mnt/sub rw - cgroup cgroup rw,cpu,cpuacct\n";
    let h = v1_hierarchies(mi);
    let names: Vec<Vec<String>> = h.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(
        names,
        vec![
            vec!["cpu".to_string(), "cpuacct".to_string()],
            vec!["devices".to_string()],
            vec!["name=systemd".to_string()],
            vec!["unified".to_string()],
        ]
    );
    assert_eq!(h[1].1, PathBuf::from("/sys/fs/cgroup/devices"));
}

#[test]
fn paths_are_validated() {
    assert!(valid("stack/p/s").is_ok());
    assert!(valid("").is_err());
    assert!(valid("/stack").is_err());
    assert!(valid("stack/../x").is_err());
    assert!(valid("./stack").is_err());
}

#[test]
fn memswap_defaults_to_twice_memory() {
    let mut l = CgroupLimits {
        memory: Some(100),
        ..Default::default()
    };
    assert_eq!(memswap_total(&l), Some(200));
    l.memswap = Some(-1);
    assert_eq!(memswap_total(&l), None);
    l.memswap = Some(150);
    assert_eq!(memswap_total(&l), Some(150));
    assert_eq!(memswap_total(&CgroupLimits::default()), None);
}

#[test]
fn weight_conversion() {
    assert_eq!(shares_to_weight(2), 1);
    assert_eq!(shares_to_weight(262_144), 10_000);
    assert_eq!(shares_to_weight(1024), 39);
}

#[test]
fn keyed_file_parsing() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("memory.oom_control");
    fs::write(&f, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n").unwrap();
    assert_eq!(keyed(&f, "oom_kill"), Some(3));
    assert_eq!(keyed(&f, "missing"), None);
}

#[test]
fn pressure_lines() {
    let s = parse_stall(
        "some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\nfull avg10=0.50 avg60=0.00 avg300=0.00 total=99\n",
    )
    .unwrap();
    assert_eq!(s.some.avg10, 1.5);
    assert_eq!(s.some.total_us, 12345);
    assert_eq!(s.full.unwrap().total_us, 99);
    let cpu_only = parse_stall("some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n").unwrap();
    assert!(cpu_only.full.is_none());
    assert!(parse_stall("").is_none());
}
