//! Docker's device cgroup rule syntax (`device_cgroup_rules`, "c 1:3 rwm"),
//! one grammar for the loader, which checks the file, and the runtime,
//! which writes the rules to the v1 devices cgroup or compiles them to BPF.

use serde::{Deserialize, Serialize};

/// A rule that does not parse; the sentence says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid device cgroup rule {rule:?}: {reason}; use TYPE MAJOR:MINOR ACCESS like \"c 1:3 rwm\" or \"b 8:* r\" (TYPE a, b or c; MAJOR and MINOR a number or *; ACCESS some of r, w, m)")]
pub struct RuleError {
    pub rule: String,
    pub reason: &'static str,
}

/// Which devices a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeviceKind {
    /// `a`: every device; the whole policy, not one exception.
    All,
    /// `c`: character devices.
    Char,
    /// `b`: block devices.
    Block,
}

impl DeviceKind {
    pub(crate) fn letter(self) -> char {
        match self {
            DeviceKind::All => 'a',
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
        }
    }
}

/// One line of a devices cgroup list, as Docker's `device_cgroup_rules`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DeviceRule {
    pub allow: bool,
    pub kind: DeviceKind,
    /// `None` is `*`.
    pub major: Option<u32>,
    /// `None` is `*`.
    pub minor: Option<u32>,
    /// A non-empty subset of "rwm".
    pub access: String,
}

// Access bits, the values bpf_cgroup_dev_ctx uses (BPF_DEVCG_ACC_*).
pub(crate) const ACC_MKNOD: u8 = 1;
pub(crate) const ACC_READ: u8 = 2;
pub(crate) const ACC_WRITE: u8 = 4;
pub(crate) const ACC_ALL: u8 = ACC_MKNOD | ACC_READ | ACC_WRITE;

// The kernel's dev_t has 12 bits of major and 20 of minor: larger numbers
// name no device (and v1 would read ~0 as `*`).
pub(crate) const MAX_MAJOR: u32 = (1 << 12) - 1;
pub(crate) const MAX_MINOR: u32 = (1 << 20) - 1;

/// "rwm" letters as bits; `None` if empty, repeated, or another letter appears.
pub(crate) fn access_bits(access: &str) -> Option<u8> {
    let mut bits = 0;
    for c in access.chars() {
        let bit = match c {
            'r' => ACC_READ,
            'w' => ACC_WRITE,
            'm' => ACC_MKNOD,
            _ => return None,
        };
        // Each letter once ("rr" is a typo, not a rule).
        if bits & bit != 0 {
            return None;
        }
        bits |= bit;
    }
    (bits != 0).then_some(bits)
}

/// Bits back as letters, in the kernel's order.
pub(crate) fn access_string(bits: u8) -> String {
    [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')]
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// `*` or a decimal number up to `max`; `Err` otherwise.
pub(crate) fn number(s: &str, max: u32) -> Result<Option<u32>, ()> {
    if s == "*" {
        return Ok(None);
    }
    // `parse` alone would take "+3".
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    match s.parse::<u32>() {
        Ok(n) if n <= max => Ok(Some(n)),
        _ => Err(()),
    }
}

pub(crate) fn star(n: Option<u32>) -> String {
    n.map_or_else(|| "*".to_string(), |n| n.to_string())
}

impl DeviceRule {
    /// Compose/Docker `device_cgroup_rules` syntax: "c 1:3 rwm", "b 8:* r",
    /// "a *:* rwm" (an allow rule).
    pub fn parse(s: &str) -> Result<DeviceRule, RuleError> {
        let bad = |reason| RuleError {
            rule: s.to_string(),
            reason,
        };
        let fields: Vec<&str> = s.split_whitespace().collect();
        let [kind, numbers, access] = fields[..] else {
            return Err(bad("it needs three fields separated by spaces"));
        };
        let kind = match kind {
            "a" => DeviceKind::All,
            "c" => DeviceKind::Char,
            "b" => DeviceKind::Block,
            _ => return Err(bad("the type must be a, b or c")),
        };
        let (major, minor) = numbers
            .split_once(':')
            .ok_or_else(|| bad("the device numbers must be MAJOR:MINOR"))?;
        let major = number(major, MAX_MAJOR)
            .map_err(|_| bad("the major must be * or a number up to 4095"))?;
        let minor = number(minor, MAX_MINOR)
            .map_err(|_| bad("the minor must be * or a number up to 1048575"))?;
        let bits = access_bits(access).ok_or_else(|| bad("the access must be some of r, w, m"))?;
        // The kernel reads any `a` line as "every device", whatever follows:
        // a narrower-looking "a 1:3 r" would silently grant everything.
        if kind == DeviceKind::All && (major.is_some() || minor.is_some() || bits != ACC_ALL) {
            return Err(bad("type a (all devices) only takes *:* rwm"));
        }
        Ok(DeviceRule {
            allow: true,
            kind,
            major,
            minor,
            access: access_string(bits),
        })
    }

    /// "c 1:3 rwm" for devices.allow / devices.deny.
    pub fn to_v1(&self) -> String {
        format!(
            "{} {}:{} {}",
            self.kind.letter(),
            star(self.major),
            star(self.minor),
            self.access
        )
    }
}

/// Why a `devices:` entry does not parse; each caller words it its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingFault {
    /// More than `HOST:CONTAINER:PERMS`.
    TooManyParts,
    /// HOST is not an absolute path.
    HostNotAbsolute,
    /// CONTAINER is not below `/dev/`, or has a `..`.
    ContainerNotUnderDev,
    /// PERMS is not some of r, w, m (each once).
    BadAccess,
}

/// One `devices:` entry as written: host path, container path and the
/// access letters (not reordered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceMapping<'a> {
    pub host: &'a str,
    pub container: &'a str,
    pub access: &'a str,
}

/// Compose's `devices:` short syntax `HOST[:CONTAINER[:PERMS]]` (PERMS
/// default rwm); as Docker, `HOST:PERMS` too. The one grammar of the
/// loader, which checks the file, and the runtime.
pub fn parse_device_mapping(s: &str) -> Result<DeviceMapping<'_>, MappingFault> {
    let parts: Vec<&str> = s.split(':').collect();
    let (host, container, access) = match parts[..] {
        [h] => (h, h, "rwm"),
        // A container path is absolute, so it cannot look like "rw".
        [h, a] if access_bits(a).is_some() => (h, h, a),
        [h, c] => (h, c, "rwm"),
        [h, c, a] => (h, c, a),
        _ => return Err(MappingFault::TooManyParts),
    };
    if !host.starts_with('/') {
        return Err(MappingFault::HostNotAbsolute);
    }
    if !container.starts_with("/dev/") || container.split('/').any(|c| c == "..") {
        return Err(MappingFault::ContainerNotUnderDev);
    }
    if access_bits(access).is_none() {
        return Err(MappingFault::BadAccess);
    }
    Ok(DeviceMapping {
        host,
        container,
        access,
    })
}
