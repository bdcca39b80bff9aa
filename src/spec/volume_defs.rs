//! The top-level `volumes:`: each key's labels and where its data lives
//! (`name`, `external`, `driver`, `driver_opts`), read before the services
//! so their `volumes:` entries can carry it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::load::{child, Cx};
use super::model::{Backing, Mount, VolumeDef};
use super::security::parse_tmpfs;
use super::yaml::{Kind, Node, Pos};

/// Docker's rule for volume names (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`); also a
/// single path component under the machine's volume store.
pub fn valid_volume_name(s: &str) -> bool {
    s.len() >= 2
        && s.len() <= 255
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'-')
}

impl Cx<'_> {
    /// The top-level `volumes:`; their keys and backings go into `cx` for
    /// the services' `volumes:`.
    pub(super) fn top_volumes(&mut self, v: &Node) -> BTreeMap<String, VolumeDef> {
        let mut volumes = BTreeMap::new();
        let Some(m) = (match &v.kind {
            Kind::Null => None,
            _ => self.map(v, "volumes"),
        }) else {
            return volumes;
        };
        for (vk, vv) in m.iter().filter(|(k, _)| !k.name.starts_with("x-")) {
            let p = format!("volumes.{}", vk.name);
            let def = self.volume_def(&vk.name, vv, &p);
            self.volume_names
                .insert(vk.name.clone(), (def.backing.clone(), vk.pos));
            volumes.insert(vk.name.clone(), def);
        }
        volumes
    }

    fn volume_def(&mut self, key: &str, vv: &Node, p: &str) -> VolumeDef {
        let mut def = VolumeDef::default();
        let m = match &vv.kind {
            Kind::Null => return def,
            _ => self.map(vv, p).unwrap_or(&[]),
        };
        let (mut name, mut external, mut opts) = (None, false, None);
        for (k, v) in m {
            let kp = child(p, &k.name);
            match k.name.as_str() {
                "labels" => {
                    for (k, val, _) in self.kv(v, &kp) {
                        def.labels.insert(k, val.unwrap_or_default());
                    }
                }
                "name" => {
                    let Some(s) = self.string(v, &kp) else {
                        continue;
                    };
                    if valid_volume_name(&s) {
                        name = Some(s);
                    } else {
                        self.err(v.pos, &kp, format!("invalid volume name {s:?} (two or more letters, digits, `_`, `.` and `-`, starting with a letter or digit)"));
                    }
                }
                "external" => external = self.external(v, &kp),
                "driver" => {
                    if let Some(d) = self.opt_string(v, &kp) {
                        if d != "local" {
                            self.err(v.pos, &kp, format!("volume driver {d:?} is not supported (stack has the `local` driver only); remove `driver`"));
                        }
                    }
                }
                "driver_opts" => opts = self.driver_opts_backing(v, &kp),
                _ if k.name.starts_with("x-") => {}
                _ => self.unknown(k, p, "VolumeFile"),
            }
        }
        if external {
            for (k, _) in m {
                if !matches!(k.name.as_str(), "name" | "external") && !k.name.starts_with("x-") {
                    let msg = format!("`{}` cannot be set on an external volume (it exists already, made by `stack volume create` or another project); keep only `name`", k.name);
                    self.err(k.pos, &child(p, &k.name), msg);
                }
            }
            def.labels.clear();
            let name = name.unwrap_or_else(|| key.to_string());
            if !valid_volume_name(&name) {
                self.err(vv.pos, p, format!("external volume {name:?} needs a valid name (two or more letters, digits, `_`, `.` and `-`); add `name:`"));
            }
            def.backing = Backing::Machine {
                name,
                external: true,
            };
        } else if let Some(backing) = opts {
            if name.is_some() {
                self.err(vv.pos, p, "a volume with `driver_opts` (a bind or tmpfs) cannot also have a machine-wide `name`; remove one of them");
            }
            def.backing = backing;
        } else if let Some(name) = name {
            def.backing = Backing::Machine {
                name,
                external: false,
            };
        }
        def
    }

    /// `driver_opts` of the local driver: `type`, `o` and `device`, as
    /// `mount -t TYPE -o O DEVICE`. A bind of a host directory and a
    /// tmpfs are what it is used for; other file systems are refused.
    fn driver_opts_backing(&mut self, v: &Node, p: &str) -> Option<Backing> {
        let m = match &v.kind {
            Kind::Null => return None,
            _ => self.map(v, p)?,
        };
        let (mut ty, mut o, mut device) = (None, String::new(), None);
        for (k, v) in m {
            let kp = child(p, &k.name);
            match k.name.as_str() {
                "type" => ty = self.string(v, &kp),
                "o" => o = self.string(v, &kp).unwrap_or_default(),
                "device" => device = self.string(v, &kp).map(|d| (d, v.pos, kp)),
                other => {
                    self.err(k.pos, &kp, format!("driver option `{other}` is not one of the local driver's (`type`, `o`, `device`); remove it"));
                    return None;
                }
            }
        }
        let opts: Vec<&str> = o
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        match ty.as_deref() {
            Some("tmpfs") => match parse_tmpfs(&format!("/v:{}", opts.join(","))) {
                Ok(Mount::Tmpfs { size, mode, .. }) => Some(Backing::Tmpfs { size, mode }),
                Ok(_) => None,
                Err(e) => {
                    self.err(v.pos, &child(p, "o"), e);
                    None
                }
            },
            None | Some("none") if opts.iter().any(|o| matches!(*o, "bind" | "rbind")) => {
                if let Some(bad) = opts
                    .iter()
                    .find(|o| !matches!(**o, "bind" | "rbind" | "rw"))
                {
                    self.err(v.pos, &child(p, "o"), format!("bind option {bad:?} is not supported yet (only bind, rbind, rw; mount it read-only with `:ro` in the service)"));
                    return None;
                }
                let Some((device, pos, kp)) = device else {
                    self.err(
                        v.pos,
                        p,
                        "a bind volume needs `device:` (the host directory to bind)",
                    );
                    return None;
                };
                let path = PathBuf::from(&device);
                if !path.is_absolute() {
                    self.err(pos, &kp, format!("bind device {device:?} must be an absolute path (the local driver mounts it as given)"));
                    return None;
                }
                if !path.is_dir() {
                    self.err(pos, &kp, format!("bind device {device:?} is not a directory on this machine; create it first"));
                    return None;
                }
                Some(Backing::Bind { device: path })
            }
            other => {
                let what = other.unwrap_or("none");
                self.err(v.pos, p, format!("local volume of type {what:?} with o {o:?} is not supported yet (only a bind, `type: none` with `o: bind`, and `type: tmpfs`)"));
                None
            }
        }
    }

    /// A tmpfs volume is mounted once per container, so two containers
    /// would not share its files as they would on Docker: refused.
    pub(super) fn check_tmpfs_sharing(
        &mut self,
        services: &BTreeMap<String, super::model::Service>,
    ) {
        let tmpfs: Vec<(String, Pos)> = self
            .volume_names
            .iter()
            .filter(|(_, (b, _))| matches!(b, Backing::Tmpfs { .. }))
            .map(|(k, (_, pos))| (k.clone(), *pos))
            .collect();
        for (key, pos) in tmpfs {
            let users: Vec<&str> = services
                .values()
                .filter(|s| {
                    s.volumes
                        .iter()
                        .any(|m| matches!(m, Mount::Volume { source, .. } if *source == key))
                })
                .flat_map(|s| std::iter::repeat_n(s.name.as_str(), s.replicas.max(1) as usize))
                .collect();
            if users.len() > 1 {
                let mut names = users.clone();
                names.dedup();
                self.err(
                    pos,
                    &format!("volumes.{key}"),
                    format!("tmpfs volume `{key}` is used by {} containers ({}): stack mounts a tmpfs volume per container, so they would not share its files; give each container its own, or use a volume without driver_opts", users.len(), names.join(", ")),
                );
            }
        }
    }
}
