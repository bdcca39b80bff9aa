use super::super::syscall::Recording;
use super::super::{CgroupLimits, Network};
use super::*;

fn cfg() -> ContainerConfig {
    ContainerConfig {
        id: "p-web-1".into(),
        rootfs: "/rootfs".into(),
        layers: Vec::new(),
        bundle: "/b".into(),
        argv: vec!["sh".into()],
        env: vec![],
        cwd: None,
        user: None,
        hostname: "web".into(),
        mounts: vec![
            MountSpec::Bind {
                source: "/data".into(),
                target: "/srv/data".into(),
                read_only: true,
            },
            MountSpec::Tmpfs {
                target: "/run".into(),
                size: Some(1024),
                mode: None,
            },
        ],
        read_only: true,
        capabilities: vec![],
        rlimits: vec![],
        group_add: vec![],
        sysctls: vec![],
        oom_score_adj: None,
        network: Network::None,
        ipc: Default::default(),
        pid: Default::default(),
        shm_source: None,
        init: true,
        cgroup: "stack/p/web".into(),
        cgroup_hierarchies: vec![],
        security: Default::default(),
        limits: CgroupLimits::default(),
        log_file: "/log".into(),
    }
}

fn position(lines: &[String], prefix: &str) -> usize {
    lines
        .iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {lines:#?}"))
}

#[test]
fn order_of_operations() {
    let mut sys = Recording::default();
    sys.kinds.insert("/rootfs".into(), Kind::Dir);
    sys.kinds.insert("/data".into(), Kind::Dir);
    sys.kinds.insert("/dev/null".into(), Kind::File);
    sys.kinds.insert("/proc/kcore".into(), Kind::File);
    sys.kinds.insert("/proc/acpi".into(), Kind::Dir);
    sys.kinds.insert("/proc/sys".into(), Kind::Dir);
    setup(&sys, &cfg()).unwrap();
    let l = sys.lines();
    assert!(
        l[0].starts_with("mount - / - MS_REC | MS_PRIVATE"),
        "{}",
        l[0]
    );
    let overlay = position(&l, "mount overlay /b/rootfs overlay");
    assert!(l[overlay].contains("lowerdir=/rootfs,upperdir=/b/upper,workdir=/b/work"));
    let proc_ = position(&l, "mount proc /b/rootfs/proc proc");
    let sysfs = position(&l, "mount sysfs /b/rootfs/sys sysfs");
    let dev = position(&l, "mount tmpfs /b/rootfs/dev tmpfs");
    let null = position(&l, "mknod /b/rootfs/dev/null 1:3");
    let pts = position(&l, "mount devpts /b/rootfs/dev/pts");
    let tmp = position(&l, "mount tmpfs /b/rootfs/tmp");
    let vol = position(&l, "mount /data /b/rootfs/srv/data");
    let run = position(&l, "mount tmpfs /b/rootfs/run tmpfs");
    let pivot = position(&l, "pivot_root /b/rootfs");
    let kcore = position(&l, "mount /dev/null /proc/kcore");
    let acpi = position(&l, "mount tmpfs /proc/acpi tmpfs MS_RDONLY");
    let procsys = position(&l, "mount /proc/sys /proc/sys");
    let root_ro = position(&l, "mount - / - MS_RDONLY | MS_REMOUNT | MS_BIND");
    let order = [
        0, overlay, proc_, sysfs, dev, null, pts, tmp, vol, run, pivot, acpi, kcore, procsys,
        root_ro,
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?} in {l:#?}");
    // the read-only volume is remounted read-only and nodev right after its bind
    assert!(
        l[vol + 1].starts_with(
            "mount - /b/rootfs/srv/data - MS_RDONLY | MS_NODEV | MS_REMOUNT | MS_BIND"
        ),
        "{}",
        l[vol + 1]
    );
    // masked paths that do not exist are skipped
    assert!(!l.iter().any(|x| x.contains("/proc/keys")));
}

#[test]
fn host_network_still_gets_a_fresh_sysfs_and_existing_tmp_is_kept() {
    let mut c = cfg();
    c.network = Network::Host;
    c.mounts.clear();
    let mut sys = Recording::default();
    sys.kinds.insert("/rootfs".into(), Kind::Dir);
    sys.kinds.insert("/b/rootfs/tmp".into(), Kind::Dir);
    setup(&sys, &c).unwrap();
    let l = sys.lines();
    position(&l, "mount sysfs /b/rootfs/sys sysfs MS_RDONLY");
    assert!(!l.iter().any(|x| x.starts_with("mount /sys")));
    assert!(!l.iter().any(|x| x.starts_with("mount tmpfs /b/rootfs/tmp")));
}

#[test]
fn a_failing_step_names_itself_and_stops() {
    let mut sys = Recording {
        fail_on: Some("mount overlay".into()),
        ..Default::default()
    };
    sys.kinds.insert("/rootfs".into(), Kind::Dir);
    let e = setup(&sys, &cfg()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot mount the overlay of rootfs /rootfs"),
        "{e}"
    );
    assert!(sys.lines().last().unwrap().starts_with("mount overlay"));
}

#[test]
fn missing_rootfs_and_volume_source_are_sentences() {
    let mut sys = Recording::default();
    let e = setup(&sys, &cfg()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rootfs /rootfs is not a directory; prepare it first or fix the rootfs path"
    );
    sys.kinds.insert("/rootfs".into(), Kind::Dir);
    let e = setup(&sys, &cfg()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "volume source /data does not exist; create it or fix the path"
    );
}

#[test]
fn secure_join_stays_in_root() {
    let mut sys = Recording::default();
    sys.kinds.insert("/r/etc".into(), Kind::Symlink);
    sys.links.insert("/r/etc".into(), "/../../host".into());
    sys.kinds.insert("/r/a".into(), Kind::Symlink);
    sys.links.insert("/r/a".into(), "b/c".into());
    assert_eq!(
        secure_join(&sys, Path::new("/r"), "/etc/x"),
        PathBuf::from("/r/host/x")
    );
    assert_eq!(
        secure_join(&sys, Path::new("/r"), "/a/d"),
        PathBuf::from("/r/b/c/d")
    );
    assert_eq!(
        secure_join(&sys, Path::new("/r"), "/../../x"),
        PathBuf::from("/r/x")
    );
}
