//! `volumes_from`: a service mounts another service's volumes and bind
//! mounts at the same targets (read-only with `:ro`), and starts after it,
//! as in Compose. Resolved in the spec, so `stack config` shows the mounts
//! and the engine sees plain `volumes`.

use std::collections::{BTreeMap, BTreeSet};

use super::draft::Draft;
use super::load::*;
use super::model::*;
use super::yaml::{Node, Pos};

/// One `volumes_from` entry, with where it was.
#[derive(Debug, Clone)]
pub(crate) struct From {
    pub service: String,
    pub read_only: bool,
    pub pos: Pos,
    pub path: String,
}

impl Cx<'_> {
    /// `SERVICE`, `SERVICE:ro`, `SERVICE:rw`; `container:NAME` is refused.
    pub(super) fn volumes_from(&mut self, v: &Node, p: &str, name: &str, d: &mut Draft) {
        let Some(items) = self.list(v, p) else { return };
        for (ip, it) in indexed(items, p) {
            let Some(s) = self.string(it, &ip) else {
                continue;
            };
            let shown = super::printable(&s);
            if s.starts_with("container:") {
                self.err(it.pos, &ip, format!("{shown:?}: `volumes_from: container:` is not supported yet (stack knows only its project's services); name a service"));
                continue;
            }
            let (service, read_only) = match s.rsplit_once(':') {
                Some((svc, "ro")) => (svc, true),
                Some((svc, "rw")) => (svc, false),
                Some((_, mode)) => {
                    let mode = super::printable(mode);
                    self.err(
                        it.pos,
                        &ip,
                        format!("{shown:?}: unknown mode {mode:?} (expected ro or rw)"),
                    );
                    continue;
                }
                None => (s.as_str(), false),
            };
            if !self.service_names.contains(service) {
                let msg = super::undefined_dependency(name, service, &self.service_names).replacen(
                    "depends on",
                    "takes volumes from",
                    1,
                );
                self.err(it.pos, &ip, msg);
                continue;
            }
            d.volumes_from.push(From {
                service: service.to_string(),
                read_only,
                pos: it.pos,
                path: ip,
            });
        }
    }
}

/// Gives every service its `volumes_from` mounts (the source's own
/// `volumes`, with what it takes from others; a target the service mounts
/// itself stays its own; tmpfs mounts are not shared, as in Docker).
pub(super) fn resolve(
    services: &mut BTreeMap<String, Service>,
    from: &BTreeMap<String, Vec<From>>,
) {
    let mut done = BTreeSet::new();
    let names: Vec<String> = services.keys().cloned().collect();
    for name in names {
        resolve_one(&name, services, from, &mut done, &mut BTreeSet::new());
    }
}

fn resolve_one(
    name: &str,
    services: &mut BTreeMap<String, Service>,
    from: &BTreeMap<String, Vec<From>>,
    done: &mut BTreeSet<String>,
    visiting: &mut BTreeSet<String>,
) {
    // A circle is the dependency check's to report (the entries imply
    // dependencies); here it just stops.
    if done.contains(name) || !visiting.insert(name.to_string()) {
        return;
    }
    let mut add = Vec::new();
    for f in from.get(name).into_iter().flatten() {
        resolve_one(&f.service, services, from, done, visiting);
        let Some(src) = services.get(&f.service) else {
            continue;
        };
        for m in &src.volumes {
            let mut copy = m.clone();
            match &mut copy {
                Mount::Bind { read_only, .. } | Mount::Volume { read_only, .. } => {
                    *read_only |= f.read_only
                }
                Mount::Tmpfs { .. } => continue,
            }
            add.push(copy);
        }
    }
    if let Some(svc) = services.get_mut(name) {
        for m in add {
            if !svc.volumes.iter().any(|v| v.target() == m.target()) {
                svc.volumes.push(m);
            }
        }
    }
    visiting.remove(name);
    done.insert(name.to_string());
}
