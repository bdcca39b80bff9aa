//! The loader for `blkio_config`: a relative block I/O weight and
//! per-device weights and rate limits, as Compose and `docker run
//! --blkio-weight/--device-read-bps…` take them.

use super::load::{indexed, Cx};
use super::model::{Blkio, DeviceRate, DeviceWeight};
use super::units::Bytes;
use super::yaml::{Kind, Node};

/// Docker's range for blkio weights.
const WEIGHT: std::ops::RangeInclusive<u64> = 10..=1000;

impl Cx<'_> {
    pub(super) fn blkio(&mut self, n: &Node, path: &str) -> Blkio {
        let mut out = Blkio::default();
        let Some(m) = self.map(n, path) else {
            return out;
        };
        for (k, v) in m.iter().filter(|(k, _)| !k.name.starts_with("x-")) {
            let p = format!("{path}.{}", k.name);
            match k.name.as_str() {
                "weight" => out.weight = self.weight(v, &p),
                "weight_device" => {
                    for (e, ep) in self.entries(v, &p) {
                        let Some((dev, w)) = self.pair(e, &ep, "weight", "WeightDeviceFile") else {
                            continue;
                        };
                        let dev_path = self.device_path(dev, &format!("{ep}.path"));
                        if let (Some(path), Some(weight)) =
                            (dev_path, self.weight(w, &format!("{ep}.weight")))
                        {
                            out.weight_device.push(DeviceWeight { path, weight });
                        }
                    }
                }
                "device_read_bps" | "device_write_bps" | "device_read_iops"
                | "device_write_iops" => {
                    let bytes = k.name.ends_with("_bps");
                    let mut rates = Vec::new();
                    for (e, ep) in self.entries(v, &p) {
                        let Some((dev, r)) = self.pair(e, &ep, "rate", "ThrottleDeviceFile") else {
                            continue;
                        };
                        let dev_path = self.device_path(dev, &format!("{ep}.path"));
                        let rate = self.rate(r, &format!("{ep}.rate"), bytes);
                        if let (Some(path), Some(rate)) = (dev_path, rate) {
                            if rates.iter().any(|d: &DeviceRate| d.path == path) {
                                self.err(
                                    e.pos,
                                    &ep,
                                    format!("{} is listed twice in `{}`", path.display(), k.name),
                                );
                                continue;
                            }
                            rates.push(DeviceRate { path, rate });
                        }
                    }
                    *match k.name.as_str() {
                        "device_read_bps" => &mut out.device_read_bps,
                        "device_write_bps" => &mut out.device_write_bps,
                        "device_read_iops" => &mut out.device_read_iops,
                        _ => &mut out.device_write_iops,
                    } = rates;
                }
                _ => self.unknown(k, path, "BlkioFile"),
            }
        }
        out
    }

    fn weight(&mut self, n: &Node, path: &str) -> Option<u16> {
        let w = self.uint(n, path)?;
        if !WEIGHT.contains(&w) {
            self.err(
                n.pos,
                path,
                format!("blkio weight {w} out of range (10 to 1000)"),
            );
            return None;
        }
        Some(w as u16)
    }

    /// A rate: a size for `_bps` (`12mb`), a plain number for `_iops`;
    /// zero is refused (the kernel reads it as "no limit").
    fn rate(&mut self, n: &Node, path: &str, bytes: bool) -> Option<u64> {
        let r = if bytes {
            let s = self.string(n, path)?;
            Bytes::parse(&s)
                .map_err(|m| self.err(n.pos, path, m))
                .ok()?
                .0
        } else {
            self.uint(n, path)?
        };
        if r == 0 {
            self.err(
                n.pos,
                path,
                "a rate of 0 is not a limit: give a positive rate, or remove the entry",
            );
            return None;
        }
        Some(r)
    }

    /// A device entry's `path`: absolute (it is looked up on the host when
    /// the container is created).
    fn device_path(&mut self, n: &Node, path: &str) -> Option<std::path::PathBuf> {
        let s = self.string(n, path)?;
        if !s.starts_with('/') {
            self.err(
                n.pos,
                path,
                format!("device path {s:?} must be absolute, e.g. /dev/sda"),
            );
            return None;
        }
        Some(std::path::PathBuf::from(s))
    }

    /// The entries of a device list, each a map, with their key paths.
    fn entries<'n>(&mut self, n: &'n Node, path: &str) -> Vec<(&'n Node, String)> {
        match &n.kind {
            Kind::Null => vec![],
            Kind::Seq(items) => indexed(items, path).map(|(p, it)| (it, p)).collect(),
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!(
                        "expected a list of {{path, …}} maps, found {}",
                        n.describe()
                    ),
                );
                vec![]
            }
        }
    }

    /// The two fields of a device entry (`path` and `weight` or `rate`);
    /// an unknown key or a missing field is an error.
    fn pair<'n>(
        &mut self,
        e: &'n Node,
        path: &str,
        second: &str,
        def: &str,
    ) -> Option<(&'n Node, &'n Node)> {
        let m = self.map(e, path)?;
        let (mut a, mut b) = (None, None);
        for (k, v) in m {
            match k.name.as_str() {
                "path" => a = Some(v),
                n if n == second => b = Some(v),
                _ => self.unknown(k, path, def),
            }
        }
        for (found, key) in [(a.is_some(), "path"), (b.is_some(), second)] {
            if !found {
                self.err(e.pos, path, format!("`{key}` is required in each entry"));
            }
        }
        Some((a?, b?))
    }
}
