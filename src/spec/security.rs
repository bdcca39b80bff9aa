//! The loader for the keys that decide how far a container is confined:
//! `privileged`, `security_opt`, `devices`, `device_cgroup_rules`,
//! `shm_size`, and the options of `tmpfs` mounts.

use super::load::Cx;
use super::model::{DeviceMapping, Mount, Seccomp, Security};
use super::units::Bytes;
use super::yaml::{Node, Pos};

/// Options a tmpfs mount accepts (Docker's `--tmpfs` syntax, `/run:size=64m,mode=1777`).
pub fn parse_tmpfs(s: &str) -> Result<Mount, String> {
    let (target, opts) = match s.split_once(':') {
        Some((t, o)) => (t, o),
        None => (s, ""),
    };
    if !target.starts_with('/') {
        return Err(format!("tmpfs target {target:?} must be an absolute path"));
    }
    let (mut size, mut mode) = (None, None);
    for o in opts.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        match o.split_once('=') {
            Some(("size", v)) => size = Some(Bytes::parse(v)?),
            Some(("mode", v)) => mode = Some(parse_mode(v)?),
            // Every tmpfs stack mounts is already nosuid and nodev.
            None if matches!(o, "nosuid" | "nodev" | "rw") => {}
            _ => {
                return Err(format!(
                "tmpfs option {o:?} is not supported yet (use size=, mode=, nosuid, nodev or rw)"
            ))
            }
        }
    }
    Ok(Mount::Tmpfs {
        target: target.to_string(),
        size,
        mode,
    })
}

/// A file mode as written (`1777`, `0755`, `0o755`): octal digits, as
/// Docker's `mode=` reads them.
pub fn parse_mode(v: &str) -> Result<u32, String> {
    let digits = v.trim().trim_start_matches("0o");
    match u32::from_str_radix(digits, 8) {
        Ok(m) if m <= 0o7777 && !digits.is_empty() => Ok(m),
        _ => Err(format!(
            "invalid mode {v:?} (expected octal permission bits, e.g. 1777 or 0755)"
        )),
    }
}

/// A `device_cgroup_rules` entry, normalized (`c 1:3 rwm`), by the same
/// grammar the runtime writes it with (`crate::device_rules`).
pub fn parse_device_rule(s: &str) -> Result<String, String> {
    crate::device_rules::DeviceRule::parse(s)
        .map(|r| r.to_v1())
        .map_err(|e| e.to_string())
}

impl Cx<'_> {
    /// `security_opt`: `seccomp=unconfined|PATH`, `no-new-privileges[:true|false]`
    /// (also `=`); AppArmor and SELinux options are errors.
    pub(super) fn security_opt(&mut self, n: &Node, path: &str, sec: &mut Security) {
        for (s, pos, p) in self.one_or_list(n, path).unwrap_or_default() {
            let (key, value) = match s.split_once(['=', ':']) {
                Some((k, v)) => (k, Some(v)),
                None => (s.as_str(), None),
            };
            match (key, value) {
                ("seccomp", Some("unconfined")) => sec.seccomp = Seccomp::Unconfined,
                ("seccomp", Some(file)) if !file.is_empty() => {
                    if let Some(profile) = self.seccomp_profile(file, pos, &p) {
                        sec.seccomp = profile;
                    }
                }
                ("no-new-privileges", None | Some("true")) => sec.no_new_privileges = true,
                ("no-new-privileges", Some("false")) => sec.no_new_privileges = false,
                ("apparmor" | "label", _) => self.err(
                    pos,
                    &p,
                    format!("`{key}` is not supported: stack confines containers with namespaces, capabilities, seccomp and the device cgroup, not AppArmor or SELinux; remove it"),
                ),
                _ => self.err(
                    pos,
                    &p,
                    format!("unknown security option {s:?} (use seccomp=unconfined, seccomp=PATH or no-new-privileges[:true|false])"),
                ),
            }
        }
    }

    fn seccomp_profile(&mut self, file: &str, pos: Pos, path: &str) -> Option<Seccomp> {
        let abs = self.abs(file);
        self.env_inputs.insert(abs.clone());
        let text = match super::input::read_text(&abs) {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    pos,
                    path,
                    format!(
                        "cannot read seccomp profile {}: {e} (fix the path, or use seccomp=unconfined)",
                        abs.display()
                    ),
                );
                return None;
            }
        };
        match crate::seccomp::parse(&text) {
            Ok(profile) => Some(Seccomp::Profile { path: abs, profile }),
            Err(crate::seccomp::ProfileError::Invalid {
                line,
                column,
                message,
            }) => {
                self.err(
                    pos,
                    path,
                    format!(
                        "invalid seccomp profile {}:{line}:{column}: {message}",
                        abs.display()
                    ),
                );
                None
            }
        }
    }

    /// `devices`: `HOST[:CONTAINER[:PERMISSIONS]]` strings, or the long form
    /// `{source, target, permissions}`. The host node is checked at `up`.
    pub(super) fn devices(&mut self, n: &Node, path: &str) -> Vec<DeviceMapping> {
        let mut out = Vec::new();
        for (s, pos, p) in self.one_or_list(n, path).unwrap_or_default() {
            match parse_device_mapping(&s) {
                Ok(d) => out.push(DeviceMapping {
                    host: self.abs(&d.0),
                    container: d.1,
                    permissions: d.2,
                }),
                Err(m) => self.err(pos, &p, m),
            }
        }
        out
    }

    pub(super) fn device_cgroup_rules(&mut self, n: &Node, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (s, pos, p) in self.one_or_list(n, path).unwrap_or_default() {
            match parse_device_rule(&s) {
                Ok(r) => out.push(r),
                Err(m) => self.err(pos, &p, m),
            }
        }
        out
    }
}

/// `HOST[:CONTAINER[:PERMISSIONS]]` → (host, container, permissions), by
/// the grammar the runtime shares (`crate::device_rules`).
fn parse_device_mapping(s: &str) -> Result<(String, String, String), String> {
    use crate::device_rules::MappingFault;
    crate::device_rules::parse_device_mapping(s)
        .map(|m| (m.host.into(), m.container.into(), m.access.into()))
        .map_err(|f| {
            let why = match f {
                MappingFault::TooManyParts => "too many `:`",
                MappingFault::HostNotAbsolute => "the host path must be absolute",
                MappingFault::ContainerNotUnderDev => "the container path must be under /dev/",
                MappingFault::BadAccess => "permissions are a subset of rwm",
            };
            format!("invalid device {s:?}: {why} (expected HOST[:CONTAINER[:PERMISSIONS]], e.g. /dev/fuse or /dev/sdb:/dev/xvdb:rw)")
        })
}

/// `shm_size`, a size.
pub(super) fn shm_size(cx: &mut Cx<'_>, n: &Node, path: &str) -> Option<Bytes> {
    let s = cx.string(n, path)?;
    match Bytes::parse(&s) {
        Ok(b) if b.0 >= 4096 => Some(b),
        Ok(_) => {
            cx.err(
                n.pos,
                path,
                format!("shm_size {s:?} is too small (at least 4k)"),
            );
            None
        }
        Err(m) => {
            cx.err(n.pos, path, m);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_options() {
        assert_eq!(
            parse_tmpfs("/run:size=64m,mode=1777").unwrap(),
            Mount::Tmpfs {
                target: "/run".into(),
                size: Some(Bytes(64 << 20)),
                mode: Some(0o1777)
            }
        );
        assert_eq!(
            parse_tmpfs("/run").unwrap(),
            Mount::Tmpfs {
                target: "/run".into(),
                size: None,
                mode: None
            }
        );
        assert!(parse_tmpfs("/run:uid=1000")
            .unwrap_err()
            .contains("not supported yet"));
        assert!(parse_tmpfs("run").unwrap_err().contains("absolute"));
        assert!(parse_tmpfs("/run:mode=999").unwrap_err().contains("octal"));
    }

    #[test]
    fn device_rules_and_mappings() {
        assert_eq!(parse_device_rule("c  1:3   rwm").unwrap(), "c 1:3 rwm");
        assert_eq!(parse_device_rule("b 8:* r").unwrap(), "b 8:* r");
        for bad in [
            "c 1:3",
            "x 1:3 r",
            "c 1-3 r",
            "c 1:3 rwx",
            "c a:3 r",
            "c 1:3 rr",
        ] {
            assert!(parse_device_rule(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_device_mapping("/dev/fuse").unwrap(),
            ("/dev/fuse".into(), "/dev/fuse".into(), "rwm".into())
        );
        assert_eq!(
            parse_device_mapping("/dev/sdb:/dev/xvdb:r").unwrap(),
            ("/dev/sdb".into(), "/dev/xvdb".into(), "r".into())
        );
        assert_eq!(
            parse_device_mapping("/dev/sdb:rw").unwrap(),
            ("/dev/sdb".into(), "/dev/sdb".into(), "rw".into())
        );
        assert!(parse_device_mapping("/dev/sdb:/etc/x").is_err());
        assert!(parse_device_mapping("dev/sdb").is_err());
        assert!(parse_device_mapping("/dev/a:/dev/b:rwx").is_err());
    }
}
