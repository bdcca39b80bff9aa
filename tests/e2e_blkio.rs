//! `blkio_config` at run time: the weight and per-device limits reach the
//! kernel (v1 `blkio`, v2 `io.weight`/`io.max`), a read limit really slows
//! reads, a changed file changes the limits, and a path that is not a block
//! device is refused with the service and path named.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{root_or_skip, text, Project};

/// A block device the tests may read: a whole disk of this machine that
/// root can open (the v2 guest's empty /dev/vda), else a loop device over
/// a file of ours (this host refuses raw reads of its own disk). Detached
/// when dropped.
struct Disk {
    path: String,
    num: String,
    loop_dev: bool,
}

impl Disk {
    fn get() -> Disk {
        let mut names: Vec<String> = std::fs::read_dir("/sys/block")
            .expect("/sys/block")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| {
                !["loop", "ram", "zram", "nbd", "sr", "dm-"]
                    .iter()
                    .any(|p| n.starts_with(p))
            })
            .collect();
        names.sort();
        for n in names {
            let path = format!("/dev/{n}");
            if std::fs::File::open(&path).is_ok() {
                let num = std::fs::read_to_string(format!("/sys/block/{n}/dev")).unwrap();
                return Disk {
                    path,
                    num: num.trim().to_string(),
                    loop_dev: false,
                };
            }
        }
        let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("blkio-{}.img", std::process::id()));
        std::fs::write(&file, vec![7u8; 8 << 20]).unwrap();
        let out = std::process::Command::new("losetup")
            .args(["-f", "--show"])
            .arg(&file)
            .output()
            .expect("losetup (util-linux)");
        let _ = std::fs::remove_file(&file);
        assert!(out.status.success(), "losetup: {}", text(&out));
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let name = path.trim_start_matches("/dev/");
        let num = std::fs::read_to_string(format!("/sys/block/{name}/dev")).unwrap();
        Disk {
            path,
            num: num.trim().to_string(),
            loop_dev: true,
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if self.loop_dev {
            let _ = std::process::Command::new("losetup")
                .args(["-d", &self.path])
                .status();
        }
    }
}

/// The service's cgroup directory holding the block I/O files.
fn io_dir(p: &Project, svc: &str) -> PathBuf {
    let rel = format!("stack/{}/{svc}", p.name);
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        PathBuf::from("/sys/fs/cgroup").join(rel)
    } else {
        PathBuf::from("/sys/fs/cgroup/blkio").join(rel)
    }
}

/// Whether this kernel keeps per-cgroup I/O weights: v2 always has
/// `io.weight` or `io.bfq.weight`; v1 only with BFQ (or CFQ) loaded.
fn weights_available() -> bool {
    let v1 = std::path::Path::new("/sys/fs/cgroup/blkio");
    std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
        || v1.join("blkio.weight").exists()
        || v1.join("blkio.bfq.weight").exists()
}

fn read(dir: &std::path::Path, f: &str) -> String {
    std::fs::read_to_string(dir.join(f))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display()))
}

#[test]
fn blkio_limits_reach_the_kernel_and_slow_reads() {
    if !root_or_skip("blkio_limits_reach_the_kernel_and_slow_reads") {
        return;
    }
    let disk = Disk::get();
    let (dev, num) = (disk.path.clone(), disk.num.clone());
    let yaml = |limits: &str| {
        format!(
            "services:\n  io:\n    rootfs: {{busybox}}\n    command: [sleep, \"1000\"]\n    devices: [\"{dev}:/dev/disk:r\"]\n    blkio_config:\n{limits}"
        )
    };
    let limits = format!(
        "      device_read_bps: [{{ path: {dev}, rate: 1mb }}]\n      device_write_iops: [{{ path: {dev}, rate: 30 }}]\n"
    );
    let p = Project::new("blkio", &yaml(&format!("      weight: 300\n{limits}")));
    let weighs = weights_available();
    if !weighs {
        // A kernel without BFQ (v1): the weight is refused by name, with
        // what to do, and nothing starts.
        let o = p.run(&["up", "-d"]);
        let out = text(&o);
        assert!(!o.status.success(), "{out}");
        assert!(
            out.contains("`blkio_config` weights need a proportional-weight I/O scheduler, and none of blkio.weight, blkio.bfq.weight exists"),
            "{out}"
        );
        p.write(&yaml(&limits));
    }
    p.ok(&["up", "-d"]);
    let dir = io_dir(&p, "io");
    let v2 = dir.join("io.max").exists() || !dir.join("blkio.throttle.read_bps_device").exists();
    if v2 {
        assert_eq!(
            read(&dir, "io.max").trim(),
            format!("{num} rbps=1048576 wbps=max riops=max wiops=30")
        );
        // Docker's 300 on io.weight's 1–10000 scale, as runc maps it
        // (or as given, under BFQ's io.bfq.weight).
        let (w, file) = if dir.join("io.bfq.weight").exists() {
            ("300", "io.bfq.weight")
        } else {
            ("2930", "io.weight")
        };
        let weights = read(&dir, file);
        assert!(
            weights.lines().any(|l| l == format!("default {w}")),
            "{weights}"
        );
    } else {
        assert_eq!(
            read(&dir, "blkio.throttle.read_bps_device").trim(),
            format!("{num} 1048576")
        );
        assert_eq!(
            read(&dir, "blkio.throttle.write_iops_device").trim(),
            format!("{num} 30")
        );
        if weighs {
            let f = if dir.join("blkio.weight").exists() {
                "blkio"
            } else {
                "blkio.bfq"
            };
            let weight = read(&dir, &format!("{f}.weight"));
            assert!(weight.split_whitespace().any(|w| w == "300"), "{weight}");
        }
    }
    // 2 MiB read straight from the disk at 1 MiB/s takes about a second
    // (unthrottled it is milliseconds).
    let t = Instant::now();
    let o = p.run(&[
        "exec",
        "io",
        "dd",
        "if=/dev/disk",
        "of=/dev/null",
        "bs=64k",
        "count=32",
        "iflag=direct",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "2 MiB read in {:?} despite 1 MiB/s",
        t.elapsed()
    );

    // A changed file: the read limit and the weights are gone, the write
    // limit changed.
    p.write(&yaml(&format!(
        "      device_write_bps: [{{ path: {dev}, rate: 2mb }}]\n"
    )));
    p.ok(&["up", "-d"]);
    let dir = io_dir(&p, "io");
    if v2 {
        assert_eq!(
            read(&dir, "io.max").trim(),
            format!("{num} rbps=max wbps=2097152 riops=max wiops=max")
        );
    } else {
        assert_eq!(read(&dir, "blkio.throttle.read_bps_device").trim(), "");
        assert_eq!(read(&dir, "blkio.throttle.write_iops_device").trim(), "");
        assert_eq!(
            read(&dir, "blkio.throttle.write_bps_device").trim(),
            format!("{num} 2097152")
        );
    }
    p.ok(&["down"]);
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn blkio_weight_device_without_a_weighing_scheduler_says_what_to_do() {
    if !root_or_skip("blkio_weight_device_without_a_weighing_scheduler_says_what_to_do") {
        return;
    }
    let disk = Disk::get();
    let (dev, num) = (disk.path.clone(), disk.num.clone());
    let sched = std::fs::read_to_string(format!("/sys/dev/block/{num}/queue/scheduler"))
        .unwrap_or_default();
    let p = Project::new(
        "blkio-wdev",
        &format!(
            "services:\n  io:\n    rootfs: {{busybox}}\n    command: [sleep, \"1000\"]\n    blkio_config:\n      weight_device: [{{ path: {dev}, weight: 400 }}]\n"
        ),
    );
    let o = p.run(&["up", "-d"]);
    let out = text(&o);
    if sched.contains("[bfq]") {
        // BFQ weighs per cgroup: the weight is there.
        assert!(o.status.success(), "{out}");
        return;
    }
    assert!(!o.status.success(), "{out}");
    if !weights_available() {
        // No BFQ in this kernel at all: the v1 files are missing.
        assert!(
            out.contains("none of blkio.weight_device, blkio.bfq.weight_device exists (load BFQ"),
            "{out}"
        );
        return;
    }
    // BFQ is there, but not this disk's scheduler.
    assert!(
        out.contains(&format!("`blkio_config.weight_device` for device {num}: its I/O scheduler keeps no per-cgroup weights")),
        "{out}"
    );
}

#[test]
fn blkio_on_a_path_that_is_not_a_block_device_is_refused() {
    if !root_or_skip("blkio_on_a_path_that_is_not_a_block_device_is_refused") {
        return;
    }
    for (path, why) in [
        ("/dev/null", "not a block device"),
        ("/dev/no-such-disk", "No such file"),
    ] {
        let p = Project::new(
            "blkio-bad",
            &format!(
                "services:\n  io:\n    rootfs: {{busybox}}\n    command: [sleep, \"1000\"]\n    blkio_config:\n      device_read_iops: [{{ path: {path}, rate: 10 }}]\n"
            ),
        );
        let o = p.run(&["up", "-d"]);
        let out = text(&o);
        assert!(!o.status.success(), "{out}");
        assert!(
            out.contains("io") && out.contains(&format!("blkio_config: {path}: {why}")),
            "{out}"
        );
    }
}
