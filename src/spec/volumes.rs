//! The loader for `volumes`: the short `SOURCE:TARGET[:MODE]` form and the long form (bind, volume, tmpfs);
//! and for `tmpfs`.

use super::load::*;
use super::model::*;
use super::yaml::{Key, Kind, Node, Pos};

impl Cx<'_> {
    /// `tmpfs`: one mount or a list, `PATH[:OPTIONS]`, kept as written.
    pub(super) fn tmpfs(&mut self, n: &Node, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (s, pos, ip) in self.one_or_list(n, path).unwrap_or_default() {
            match super::security::parse_tmpfs(&s) {
                Ok(_) => out.push(s),
                Err(m) => self.err(pos, &ip, m),
            }
        }
        out
    }

    /// A mount's target must be an absolute path in the container.
    fn absolute_target(&mut self, target: &str, pos: Pos, path: &str) -> Option<()> {
        if target.starts_with('/') {
            return Some(());
        }
        self.err(
            pos,
            path,
            format!("target {target:?} must be an absolute path inside the container"),
        );
        None
    }

    pub(super) fn volumes(&mut self, n: &Node, path: &str, service: &str) -> Vec<Mount> {
        let mut out = Vec::new();
        let Some(items) = self.list(n, path) else {
            return out;
        };
        for (p, it) in indexed(items, path) {
            let m = match &it.kind {
                Kind::Scalar { value, .. } => self.short_volume(value, it.pos, &p, service),
                Kind::Map(m) => self.long_volume(m, it.pos, &p, service),
                _ => {
                    self.err(
                        it.pos,
                        &p,
                        format!(
                            "expected SOURCE:TARGET[:ro] or a map, found {}",
                            it.describe()
                        ),
                    );
                    None
                }
            };
            out.extend(m);
        }
        out
    }

    pub(super) fn mount_for(
        &mut self,
        source: &str,
        target: String,
        read_only: bool,
        pos: Pos,
        path: &str,
        bind: bool,
    ) -> Option<Mount> {
        self.absolute_target(&target, pos, path)?;
        // The short form tells a path from a volume name by its first
        // character, as Compose does; for `type: bind` the source is a path.
        if bind || source.starts_with('.') || source.starts_with('/') || source.starts_with('~') {
            let src = self.abs(source);
            if !src.exists() {
                self.err(
                    pos,
                    path,
                    format!(
                        "bind source {source:?} does not exist (looked at {}; create it first)",
                        src.display()
                    ),
                );
                return None;
            }
            Some(Mount::Bind {
                source: src,
                target,
                read_only,
            })
        } else {
            let Some((backing, _)) = self.volume_names.get(source) else {
                self.err(pos, path, format!("volume `{source}` is not declared; add it under the top-level `volumes:` (e.g. volumes: {{ {source}: {{}} }})"));
                return None;
            };
            Some(Mount::Volume {
                source: source.to_string(),
                target,
                read_only,
                backing: backing.clone(),
            })
        }
    }

    /// A volume Compose calls anonymous (a target alone): named after the
    /// service and the path, so a recreated container gets it back.
    fn anonymous(
        &mut self,
        target: &str,
        ro: bool,
        pos: Pos,
        path: &str,
        service: &str,
    ) -> Option<Mount> {
        self.absolute_target(target, pos, path)?;
        Some(Mount::Volume {
            source: anonymous_volume(service, target),
            target: target.to_string(),
            read_only: ro,
            backing: Backing::Project,
        })
    }

    pub(super) fn short_volume(
        &mut self,
        s: &str,
        pos: Pos,
        path: &str,
        service: &str,
    ) -> Option<Mount> {
        let parts: Vec<&str> = s.split(':').collect();
        let (src, dst, mode) = match parts.as_slice() {
            [target] => return self.anonymous(target, false, pos, path, service),
            [a, b] => (*a, *b, ""),
            [a, b, c] => (*a, *b, *c),
            _ => {
                self.err(
                    pos,
                    path,
                    format!("invalid volume {s:?} (expected SOURCE:TARGET[:ro|rw])"),
                );
                return None;
            }
        };
        let mut ro = false;
        for opt in mode.split(',').filter(|o| !o.is_empty()) {
            match opt {
                "ro" => ro = true,
                "rw" => ro = false,
                o => {
                    self.err(
                        pos,
                        path,
                        format!("volume option {o:?} is not supported (use ro or rw)"),
                    );
                    return None;
                }
            }
        }
        if src.is_empty() {
            self.err(pos, path, format!("invalid volume {s:?} (empty source)"));
            return None;
        }
        self.mount_for(src, dst.to_string(), ro, pos, path, false)
    }

    pub(super) fn long_volume(
        &mut self,
        m: &[(Key, Node)],
        pos: Pos,
        path: &str,
        service: &str,
    ) -> Option<Mount> {
        let (mut kind, mut source, mut target, mut ro, mut size) = (None, None, None, false, None);
        let mut mode = None;
        let mut kind_pos = pos;
        for (k, v) in m {
            let p = child(path, &k.name);
            match k.name.as_str() {
                "type" => {
                    kind = self.string(v, &p);
                    kind_pos = v.pos;
                }
                "source" => source = self.opt_string(v, &p),
                "target" => target = self.string(v, &p),
                "read_only" => ro = self.boolean(v, &p).unwrap_or(false),
                "bind" | "volume" | "tmpfs" => {
                    let def = match k.name.as_str() {
                        "bind" => "BindOptsFile",
                        "volume" => "VolumeOptsFile",
                        _ => "TmpfsOptsFile",
                    };
                    let Some(om) = self.map(v, &p) else { continue };
                    for (ok, ov) in om {
                        let op = child(&p, &ok.name);
                        match (def, ok.name.as_str()) {
                            ("BindOptsFile", "create_host_path") | ("VolumeOptsFile", "nocopy") => {
                                self.boolean(ov, &op);
                            }
                            ("TmpfsOptsFile", "size") => size = self.size(ov, &op),
                            ("TmpfsOptsFile", "mode") => {
                                mode = self.string(ov, &op).and_then(|m| {
                                    super::security::parse_mode(&m)
                                        .map_err(|e| self.err(ov.pos, &op, e))
                                        .ok()
                                })
                            }
                            _ => self.unknown(ok, &p, def),
                        }
                    }
                }
                _ => self.unknown(k, path, "VolumeLongFile"),
            }
        }
        let Some(target) = target else {
            self.err(pos, path, "`target` is required");
            return None;
        };
        match kind.as_deref() {
            Some("tmpfs") => {
                self.absolute_target(&target, pos, path)?;
                Some(Mount::Tmpfs { target, size, mode })
            }
            Some("volume") if source.is_none() => self.anonymous(&target, ro, pos, path, service),
            Some(t @ ("bind" | "volume")) => {
                let Some(src) = source else {
                    self.err(pos, path, format!("`source` is required for type {t}"));
                    return None;
                };
                if t == "volume"
                    && (src.starts_with('.') || src.starts_with('/') || src.starts_with('~'))
                {
                    self.err(pos, path, format!("source {src:?} does not fit type volume (a path is a bind source: write `type: bind`)"));
                    return None;
                }
                self.mount_for(&src, target, ro, pos, path, t == "bind")
            }
            Some(other) => {
                self.err(
                    kind_pos,
                    &child(path, "type"),
                    format!("volume type {other:?} is not supported (use bind, volume or tmpfs)"),
                );
                None
            }
            None => {
                self.err(pos, path, "`type` is required (bind, volume or tmpfs)");
                None
            }
        }
    }
}
