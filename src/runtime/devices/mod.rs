//! Device access control: which device nodes a container may create and
//! open (the v1 `devices` cgroup, a `BPF_CGROUP_DEVICE` program on v2).
//!
//! A container gets runc's default for Docker: deny everything, then allow
//! a short list (`default_rules`) plus the user's `device_cgroup_rules` and
//! `devices:`. On v1 the rules are written to `devices.deny`/`devices.allow`
//! and the kernel keeps them; v2 has no such files, so the same list is
//! reduced to what the v1 kernel would hold (`Policy`, mirroring
//! security/device_cgroup.c) and compiled into an eBPF program, so that
//! both versions grant exactly the same access.

mod bpf;
mod node;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub(crate) use crate::device_rules::ACC_ALL;
use crate::device_rules::{access_bits, access_string, star, MAX_MAJOR, MAX_MINOR};
pub use crate::device_rules::{DeviceKind, DeviceRule, RuleError};
#[cfg(test)]
use crate::device_rules::{ACC_MKNOD, ACC_READ, ACC_WRITE};
pub use bpf::apply_v2;
pub use node::{host_device, host_devices, parse_device_mapping, DeviceNode};

/// Why device access cannot be parsed or applied; each a sentence.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("{0}")]
    InvalidRule(#[from] RuleError),
    #[error("invalid device {spec:?}: {reason}; use HOST[:CONTAINER[:PERMS]] like \"/dev/fuse\" or \"/dev/sda:/dev/xvda:rwm\" (PERMS some of r, w, m)")]
    InvalidMapping { spec: String, reason: &'static str },
    #[error(
        "device path {path:?} inside the container must be absolute and under /dev, like /dev/fuse"
    )]
    InvalidContainerPath { path: String },
    #[error(
        "{path} is not a character or block device; `devices:` takes device nodes like /dev/fuse"
    )]
    NotADevice { path: PathBuf },
    #[error("cannot stat device {path}: {source} (check that it exists on this host)")]
    Stat {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot list devices in {path}: {source}")]
    ReadDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {value:?} to {file}: {source} (the devices cgroup must exist and have no child cgroups, and its parent must allow the device)")]
    Write {
        file: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {file}: {source} (is the devices controller mounted there?)")]
    Read {
        file: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{file} lists {found:?} after applying the rules, not the expected {expected:?}; check that nothing else writes to this cgroup")]
    Mismatch {
        file: PathBuf,
        expected: Vec<String>,
        found: Vec<String>,
    },
    #[error("cannot open cgroup directory {dir}: {source} (create the cgroup first)")]
    OpenCgroup {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the kernel refused the cgroup device program: {source}; {detail}")]
    Load {
        detail: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot {action} a device program on cgroup {dir}: {source} (it must be a cgroup2 directory, and stack must run as root on a kernel with CONFIG_CGROUP_BPF)")]
    Bpf {
        action: &'static str,
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl DeviceRule {
    /// The access bits, checking what `parse` checks (rules may also be
    /// built directly).
    fn checked_bits(&self) -> Result<u8, DeviceError> {
        let bad = |reason| {
            DeviceError::InvalidRule(RuleError {
                rule: self.to_v1(),
                reason,
            })
        };
        if self.major.is_some_and(|m| m > MAX_MAJOR) {
            return Err(bad("the major must be * or a number up to 4095"));
        }
        if self.minor.is_some_and(|m| m > MAX_MINOR) {
            return Err(bad("the minor must be * or a number up to 1048575"));
        }
        access_bits(&self.access).ok_or_else(|| bad("the access must be some of r, w, m"))
    }
}

fn allow(kind: DeviceKind, major: Option<u32>, minor: Option<u32>, access: &str) -> DeviceRule {
    DeviceRule {
        allow: true,
        kind,
        major,
        minor,
        access: access.to_string(),
    }
}

/// runc's default allow-list for Docker containers: mknod of any char and
/// block node ("c *:* m", "b *:* m"), and read/write/mknod of /dev/null
/// 1:3, zero 1:5, full 1:7, random 1:8, urandom 1:9, tty 5:0, console 5:1,
/// ptmx 5:2, pts/* 136:*, net/tun 10:200.
pub fn default_rules() -> Vec<DeviceRule> {
    use DeviceKind::{Block, Char};
    let mut rules = vec![allow(Char, None, None, "m"), allow(Block, None, None, "m")];
    for (major, minor) in [
        (1, 3),
        (1, 5),
        (1, 7),
        (1, 8),
        (1, 9),
        (5, 0),
        (5, 1),
        (5, 2),
    ] {
        rules.push(allow(Char, Some(major), Some(minor), "rwm"));
    }
    rules.push(allow(Char, Some(136), None, "rwm"));
    rules.push(allow(Char, Some(10), Some(200), "rwm"));
    rules
}

/// The full access list a container gets: deny everything, then allow
/// `rules` in order (callers pass `default_rules()` + the user's). `All`
/// for a privileged container: allow everything (on v1 "a *:* rwm"; on v2
/// detach any program).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceAccess {
    All,
    Rules(Vec<DeviceRule>),
}

impl Default for DeviceAccess {
    /// What a container gets unless told otherwise: `default_rules()`.
    fn default() -> Self {
        DeviceAccess::Rules(default_rules())
    }
}

/// One exception of the reduced policy: never `All`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Exception {
    kind: DeviceKind,
    major: Option<u32>,
    minor: Option<u32>,
    access: u8,
}

impl Exception {
    fn to_v1(self) -> String {
        format!(
            "{} {}:{} {}",
            self.kind.letter(),
            star(self.major),
            star(self.minor),
            access_string(self.access)
        )
    }
}

/// What the v1 kernel holds after the rules are written: a default and
/// exceptions to it (security/device_cgroup.c's behavior and exception
/// list). In default-deny mode an exception grants its access if it alone
/// covers the whole request; in default-allow mode an exception denies if
/// it shares any bit with the request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Policy {
    default_allow: bool,
    exceptions: Vec<Exception>,
}

impl Policy {
    fn of(access: &DeviceAccess) -> Result<Policy, DeviceError> {
        let mut policy = Policy {
            default_allow: true,
            exceptions: Vec::new(),
        };
        if let DeviceAccess::Rules(rules) = access {
            policy.default_allow = false;
            for rule in rules {
                policy.apply(rule, rule.checked_bits()?);
            }
        }
        Ok(policy)
    }

    fn apply(&mut self, rule: &DeviceRule, bits: u8) {
        if rule.kind == DeviceKind::All {
            self.default_allow = rule.allow;
            self.exceptions.clear();
            return;
        }
        let same =
            |e: &Exception| e.kind == rule.kind && e.major == rule.major && e.minor == rule.minor;
        if rule.allow == self.default_allow {
            // As the kernel does: a rule agreeing with the default only takes
            // bits back from an exception with the very same numbers; it
            // cannot punch a hole in a wildcard.
            for e in self.exceptions.iter_mut().filter(|e| same(e)) {
                e.access &= !bits;
            }
            self.exceptions.retain(|e| e.access != 0);
        } else if let Some(e) = self.exceptions.iter_mut().find(|e| same(e)) {
            e.access |= bits;
        } else {
            self.exceptions.push(Exception {
                kind: rule.kind,
                major: rule.major,
                minor: rule.minor,
                access: bits,
            });
        }
    }

    /// `devices.list` as the kernel prints it: only "a *:* rwm" in
    /// default-allow mode, else the exceptions.
    fn v1_list(&self) -> Vec<String> {
        if self.default_allow {
            return vec!["a *:* rwm".to_string()];
        }
        self.exceptions.iter().map(|e| e.to_v1()).collect()
    }
}

fn write(file: PathBuf, value: &str) -> Result<(), DeviceError> {
    fs::write(&file, value).map_err(|source| DeviceError::Write {
        file,
        value: value.to_string(),
        source,
    })
}

/// v1: write "a" to devices.deny then each allow rule to devices.allow
/// (deny rules of the list to devices.deny), in the container's devices
/// cgroup directory. Works on a fresh child cgroup and on a re-created one
/// (the "a" clears whatever was there), and checks `devices.list` after.
pub fn apply_v1(dir: &Path, access: &DeviceAccess) -> Result<(), DeviceError> {
    // Check every rule before writing anything.
    let policy = Policy::of(access)?;
    match access {
        DeviceAccess::All => write(dir.join("devices.allow"), "a *:* rwm")?,
        DeviceAccess::Rules(rules) => {
            write(dir.join("devices.deny"), "a")?;
            for rule in rules {
                let file = if rule.allow {
                    "devices.allow"
                } else {
                    "devices.deny"
                };
                write(dir.join(file), &rule.to_v1())?;
            }
        }
    }
    // The kernel ignores some writes silently (a deny with no matching
    // exception); compare with what it should now hold.
    let file = dir.join("devices.list");
    let text = fs::read_to_string(&file).map_err(|source| DeviceError::Read {
        file: file.clone(),
        source,
    })?;
    let mut found: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    found.retain(|l| !l.is_empty());
    let mut expected = policy.v1_list();
    found.sort();
    expected.sort();
    if found != expected {
        return Err(DeviceError::Mismatch {
            file,
            expected,
            found,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> DeviceRule {
        DeviceRule::parse(s).unwrap()
    }

    #[test]
    fn parses_docker_rules() {
        let r = rule("c 1:3 rwm");
        assert_eq!(
            r,
            DeviceRule {
                allow: true,
                kind: DeviceKind::Char,
                major: Some(1),
                minor: Some(3),
                access: "rwm".into()
            }
        );
        let b = rule("b 8:* r");
        assert_eq!(
            (b.kind, b.major, b.minor),
            (DeviceKind::Block, Some(8), None)
        );
        let a = rule("a *:* rwm");
        assert_eq!(
            (a.kind, a.major, a.minor, a.allow),
            (DeviceKind::All, None, None, true)
        );
        // Access letters in any order, stored as the kernel prints them.
        assert_eq!(rule("c 10:200 mwr").access, "rwm");
        assert_eq!(rule("c  *:*   m").to_v1(), "c *:* m");
    }

    #[test]
    fn rejects_bad_rules_with_the_form() {
        for (input, reason) in [
            ("", "three fields"),
            ("c 1:3", "three fields"),
            ("c 1:3 rwm x", "three fields"),
            ("x 1:3 rwm", "the type must be a, b or c"),
            ("c 1-3 rwm", "MAJOR:MINOR"),
            ("c +1:3 rwm", "the major"),
            ("c 4096:0 r", "the major"),
            ("c 1:x r", "the minor"),
            ("c 1:1048576 r", "the minor"),
            ("c 1:3 rx", "the access"),
            ("c 1:3 -", "the access"),
            ("a 1:3 r", "type a (all devices) only takes *:* rwm"),
            ("a *:* r", "type a"),
        ] {
            let e = DeviceRule::parse(input).unwrap_err().to_string();
            assert!(e.contains(reason), "{input:?}: {e}");
            assert!(
                e.starts_with(&format!("invalid device cgroup rule {input:?}: ")),
                "{e}"
            );
            assert!(
                e.contains("use TYPE MAJOR:MINOR ACCESS like \"c 1:3 rwm\""),
                "{e}"
            );
        }
    }

    #[test]
    fn v1_strings() {
        let strings: Vec<String> = default_rules().iter().map(DeviceRule::to_v1).collect();
        assert_eq!(
            strings,
            [
                "c *:* m",
                "b *:* m",
                "c 1:3 rwm",
                "c 1:5 rwm",
                "c 1:7 rwm",
                "c 1:8 rwm",
                "c 1:9 rwm",
                "c 5:0 rwm",
                "c 5:1 rwm",
                "c 5:2 rwm",
                "c 136:* rwm",
                "c 10:200 rwm",
            ]
        );
        let deny = DeviceRule {
            allow: false,
            ..rule("b 8:0 rw")
        };
        assert_eq!(deny.to_v1(), "b 8:0 rw");
    }

    #[test]
    fn default_list_is_allow_only_and_valid() {
        let rules = default_rules();
        assert_eq!(rules.len(), 12);
        for r in &rules {
            assert!(r.allow);
            assert_ne!(r.kind, DeviceKind::All);
            assert_eq!(DeviceRule::parse(&r.to_v1()).unwrap(), *r);
        }
    }

    #[test]
    fn policy_follows_the_v1_kernel() {
        let mut rules = default_rules();
        // Merged into the existing exception, as the kernel does.
        rules.push(rule("c 1:3 r"));
        let p = Policy::of(&DeviceAccess::Rules(rules.clone())).unwrap();
        assert!(!p.default_allow);
        assert_eq!(
            p.v1_list(),
            rules[..12].iter().map(|r| r.to_v1()).collect::<Vec<_>>()
        );

        // A deny takes bits back from the same numbers only.
        rules.push(DeviceRule {
            allow: false,
            ..rule("c 1:3 w")
        });
        rules.push(DeviceRule {
            allow: false,
            ..rule("c 136:1 rwm")
        });
        let p = Policy::of(&DeviceAccess::Rules(rules.clone())).unwrap();
        assert!(p.v1_list().contains(&"c 1:3 rm".to_string()));
        assert!(p.v1_list().contains(&"c 136:* rwm".to_string()));

        // "a" resets; then denies become the exceptions.
        rules.push(rule("a *:* rwm"));
        rules.push(DeviceRule {
            allow: false,
            ..rule("b 8:* rw")
        });
        let p = Policy::of(&DeviceAccess::Rules(rules)).unwrap();
        assert!(p.default_allow);
        assert_eq!(p.exceptions.len(), 1);
        assert_eq!(p.v1_list(), ["a *:* rwm"]);
        assert_eq!(
            Policy::of(&DeviceAccess::All).unwrap().v1_list(),
            ["a *:* rwm"]
        );

        let built = DeviceRule {
            access: String::new(),
            ..rule("c 1:3 r")
        };
        let e = Policy::of(&DeviceAccess::Rules(vec![built])).unwrap_err();
        assert!(e.to_string().contains("the access must be"), "{e}");
    }

    #[test]
    fn apply_v1_reports_the_file() {
        let dir = std::env::temp_dir().join(format!("stack-nodevcg-{}", std::process::id()));
        let e = apply_v1(&dir, &DeviceAccess::Rules(default_rules())).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("cannot write \"a\" to "), "{text}");
        assert!(text.contains("devices.deny"), "{text}");
    }
}
