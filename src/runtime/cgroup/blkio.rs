//! Block I/O limits (`blkio_config`): the v1 `blkio` controller's weight and
//! throttle files, v2's `io.weight` (or BFQ's `io.bfq.weight`) and `io.max`.
//!
//! On a fresh cgroup nothing is written unless asked for. On re-create
//! (`reset`) every device limit the cgroup holds that is no longer asked for
//! is lifted, and the weight goes back to the kernel's default, so a removed
//! line in the file really removes the limit.

use std::fs;
use std::path::Path;

use super::super::{DevNum, IoLimits};
use super::{write, CgroupError};

/// Docker's blkio weight (10–1000) on v2's `io.weight` scale (1–10000), as
/// runc converts it.
pub(super) fn v2_weight(w: u16) -> u64 {
    1 + (u64::from(w).saturating_sub(10)) * 9999 / 990
}

/// Devices named in a `MAJ:MIN ...` per-line file.
fn listed(file: &Path) -> Vec<DevNum> {
    let text = fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (maj, min) = l.split_whitespace().next()?.split_once(':')?;
            Some(DevNum {
                major: maj.parse().ok()?,
                minor: min.parse().ok()?,
            })
        })
        .collect()
}

fn first_existing<'a>(dir: &Path, names: &[&'a str]) -> Option<&'a str> {
    names.iter().copied().find(|n| dir.join(n).exists())
}

fn no_weight_file(cgroup: &str, names: &[&str]) -> CgroupError {
    CgroupError::NoWeightFile {
        path: cgroup.to_string(),
        files: names.iter().map(|n| n.to_string()).collect(),
    }
}

/// v1: `blkio.weight` (CFQ) or `blkio.bfq.weight` (BFQ), their
/// `_device` variants, and the four `blkio.throttle.*_device` files.
pub(super) fn apply_v1(
    dir: &Path,
    cgroup: &str,
    io: &IoLimits,
    reset: bool,
) -> Result<(), CgroupError> {
    if !reset && io.is_empty() {
        return Ok(());
    }
    let weights = ["blkio.weight", "blkio.bfq.weight"];
    match (first_existing(dir, &weights), io.weight) {
        (Some(f), Some(w)) => write(&dir.join(f), &w.to_string())?,
        (None, Some(_)) => return Err(no_weight_file(cgroup, &weights)),
        // The kernel's defaults: CFQ 500, BFQ 100.
        (Some(f), None) if reset => write(
            &dir.join(f),
            if f == "blkio.weight" { "500" } else { "100" },
        )?,
        _ => {}
    }
    let per_device = ["blkio.weight_device", "blkio.bfq.weight_device"];
    match first_existing(dir, &per_device) {
        Some(f) => {
            let file = dir.join(f);
            lift(&file, reset, &keys(&io.weight_device), |d| format!("{d} 0"))?;
            for (d, w) in &io.weight_device {
                weight_write(&file, cgroup, *d, &w.to_string())?;
            }
        }
        None if !io.weight_device.is_empty() => return Err(no_weight_file(cgroup, &per_device)),
        None => {}
    }
    for (name, list) in [
        ("blkio.throttle.read_bps_device", &io.read_bps),
        ("blkio.throttle.write_bps_device", &io.write_bps),
        ("blkio.throttle.read_iops_device", &io.read_iops),
        ("blkio.throttle.write_iops_device", &io.write_iops),
    ] {
        let file = dir.join(name);
        if !file.exists() {
            if list.is_empty() {
                continue;
            }
            return Err(CgroupError::NoThrottling {
                path: cgroup.to_string(),
                file: name,
            });
        }
        // 0 lifts a device's limit.
        lift(&file, reset, &keys(list), |d| format!("{d} 0"))?;
        for (d, rate) in list {
            write(&file, &format!("{d} {rate}"))?;
        }
    }
    Ok(())
}

/// v2: `io.bfq.weight` when BFQ is there (Docker's scale, as runc writes
/// it), else `io.weight`; `io.max` with all four rates per device.
pub(super) fn apply_v2(
    dir: &Path,
    cgroup: &str,
    io: &IoLimits,
    reset: bool,
) -> Result<(), CgroupError> {
    if !reset && io.is_empty() {
        return Ok(());
    }
    let wanted = !io.is_empty();
    if !dir.join("io.max").exists() {
        if !wanted {
            return Ok(());
        }
        return Err(CgroupError::MissingController {
            path: cgroup.to_string(),
            controller: "io",
            limit: "blkio_config",
        });
    }
    let weights = ["io.bfq.weight", "io.weight"];
    match first_existing(dir, &weights) {
        Some(f) => {
            let bfq = f == "io.bfq.weight";
            let scale = |w: u16| if bfq { u64::from(w) } else { v2_weight(w) };
            let file = dir.join(f);
            match io.weight {
                Some(w) => write(&file, &format!("default {}", scale(w)))?,
                None if reset => write(&file, "default 100")?,
                None => {}
            }
            lift(&file, reset, &keys(&io.weight_device), |d| {
                format!("{d} default")
            })?;
            for (d, w) in &io.weight_device {
                weight_write(&file, cgroup, *d, &scale(*w).to_string())?;
            }
        }
        None if io.weight.is_some() || !io.weight_device.is_empty() => {
            return Err(no_weight_file(cgroup, &weights))
        }
        None => {}
    }
    let file = dir.join("io.max");
    let devices = io.throttled();
    lift(&file, reset, &devices, |d| {
        format!("{d} rbps=max wbps=max riops=max wiops=max")
    })?;
    let rate = |list: &[(DevNum, u64)], d: DevNum| {
        list.iter()
            .find(|(x, _)| *x == d)
            .map_or("max".to_string(), |(_, r)| r.to_string())
    };
    for d in devices {
        write(
            &file,
            &format!(
                "{d} rbps={} wbps={} riops={} wiops={}",
                rate(&io.read_bps, d),
                rate(&io.write_bps, d),
                rate(&io.read_iops, d),
                rate(&io.write_iops, d)
            ),
        )?;
    }
    Ok(())
}

/// A per-device weight; the kernel refuses one (EOPNOTSUPP) for a device
/// whose scheduler keeps no per-cgroup weights.
fn weight_write(file: &Path, cgroup: &str, d: DevNum, w: &str) -> Result<(), CgroupError> {
    match write(file, &format!("{d} {w}")) {
        Err(CgroupError::Write { source, .. })
            if source.raw_os_error() == Some(libc::EOPNOTSUPP) =>
        {
            Err(CgroupError::DeviceWeight {
                path: cgroup.to_string(),
                device: d.to_string(),
                source,
            })
        }
        r => r,
    }
}

fn keys<T>(list: &[(DevNum, T)]) -> Vec<DevNum> {
    list.iter().map(|(d, _)| *d).collect()
}

/// On reset, write `line(d)` for every device `file` lists that `keep`
/// does not.
fn lift(
    file: &Path,
    reset: bool,
    keep: &[DevNum],
    line: impl Fn(DevNum) -> String,
) -> Result<(), CgroupError> {
    if reset {
        for d in listed(file).into_iter().filter(|d| !keep.contains(d)) {
            write(file, &line(d))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_map_onto_v2_as_runc_does() {
        assert_eq!(v2_weight(10), 1);
        assert_eq!(v2_weight(1000), 10000);
        assert_eq!(v2_weight(500), 4950);
    }

    #[test]
    fn throttled_devices_once_each() {
        let a = DevNum { major: 8, minor: 0 };
        let b = DevNum {
            major: 254,
            minor: 0,
        };
        let io = IoLimits {
            read_bps: vec![(b, 1), (a, 2)],
            write_iops: vec![(a, 3)],
            ..Default::default()
        };
        assert_eq!(io.throttled(), vec![a, b]);
    }
}
