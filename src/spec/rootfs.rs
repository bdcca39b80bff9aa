//! The loader for `rootfs`: a directory, a tarball, `host:` binaries or `debootstrap:`.

use std::path::PathBuf;

use super::load::*;
use super::model::*;
use super::yaml::{Key, Kind, Node};

impl Cx<'_> {
    /// `rootfs: PATH`: a tarball by its name, else a directory.
    fn rootfs_path(&mut self, n: &Node, value: &str, path: &str) -> Option<Rootfs> {
        let p = self.abs(value);
        let lower = value.to_ascii_lowercase();
        let is_tar = [".tar", ".tar.gz", ".tgz"]
            .iter()
            .any(|e| lower.ends_with(e));
        if is_tar {
            if !p.is_file() {
                self.err(n.pos, path, format!("rootfs tarball {value:?} not found (looked at {}; check the path, relative to the stack file)", p.display()));
                return None;
            }
            Some(Rootfs::Tar(p))
        } else {
            if p.is_file() {
                self.err(n.pos, path, format!("rootfs {value:?} is a file but not a tarball by its name (looked at {}); a rootfs is a directory or a .tar, .tar.gz or .tgz file: rename it, or unpack it into a directory", p.display()));
                return None;
            }
            if !p.is_dir() {
                self.err(n.pos, path, format!("rootfs directory {value:?} not found (looked at {}; create it or fix the path, relative to the stack file)", p.display()));
                return None;
            }
            Some(Rootfs::Dir(p))
        }
    }

    pub fn rootfs(&mut self, n: &Node, path: &str) -> Option<Rootfs> {
        match &n.kind {
            Kind::Scalar { value, .. } => self.rootfs_path(n, value, path),
            Kind::Map(m) => {
                let mut found: Vec<(&Key, &Node)> = Vec::new();
                let mut unknown = false;
                for (k, v) in m {
                    match k.name.as_str() {
                        "host" | "debootstrap" => found.push((k, v)),
                        _ => {
                            unknown |= !k.name.starts_with("x-");
                            self.unknown(k, path, "RootfsSourceFile");
                        }
                    }
                }
                if found.is_empty() && unknown {
                    return None;
                }
                if found.len() != 1 {
                    let msg = if found.is_empty() {
                        "rootfs map needs exactly one of `host` or `debootstrap`"
                    } else {
                        "rootfs takes exactly one of `host` or `debootstrap`, not both"
                    };
                    self.err(n.pos, path, msg);
                    return None;
                }
                let (k, v) = found[0];
                let p = child(path, &k.name);
                if k.name == "host" {
                    let items = self.list(v, &p)?;
                    if items.is_empty() {
                        self.err(v.pos, &p, "list at least one binary, e.g. [/bin/sh]");
                        return None;
                    }
                    let mut bins = Vec::new();
                    for (ip, it) in indexed(items, &p) {
                        let Some(s) = self.string(it, &ip) else {
                            continue;
                        };
                        let pb = PathBuf::from(&s);
                        if !pb.is_absolute() {
                            self.err(
                                it.pos,
                                &ip,
                                format!(
                                    "host binary {s:?} must be an absolute path (e.g. /bin/{s})"
                                ),
                            );
                        } else if !self.host_seen.contains(&pb) && !pb.is_file() {
                            self.err(
                                it.pos,
                                &ip,
                                format!("host binary {s:?} not found on this machine"),
                            );
                        } else {
                            self.host_seen.insert(pb.clone());
                            bins.push(normalize(&pb));
                        }
                    }
                    (bins.len() == items.len()).then_some(Rootfs::Host(bins))
                } else {
                    let m = self.map(v, &p)?;
                    let (mut suite, mut variant, mut mirror) = (None, None, None);
                    for (k, v) in m {
                        let kp = child(&p, &k.name);
                        match k.name.as_str() {
                            "suite" => suite = self.string(v, &kp),
                            "variant" => variant = self.opt_string(v, &kp),
                            "mirror" => mirror = self.opt_string(v, &kp),
                            _ => self.unknown(k, &p, "DebootstrapFile"),
                        }
                    }
                    match suite {
                        Some(suite) => Some(Rootfs::Debootstrap(Debootstrap {
                            suite,
                            variant,
                            mirror,
                        })),
                        None => {
                            self.err(v.pos, &p, "`suite` is required (e.g. suite: bookworm)");
                            None
                        }
                    }
                }
            }
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!(
                        "expected a path or a map with `host` or `debootstrap`, found {}",
                        n.describe()
                    ),
                );
                None
            }
        }
    }
}
