//! Replicas (`deploy.replicas`, `scale`, `up --scale`): a service run as
//! N containers, its *units*.
//!
//! Everything after the spec (plan, supervisor, state, networks) works on
//! units, so [`expand`] turns the loaded stack into one with a service
//! entry per unit: replica 1 keeps the service's name as its key (a stack
//! without replicas is unchanged, and so are its records), replica `k ≥ 2`
//! is keyed `NAME#k` — `#` is not allowed in a service name, so no key of
//! one service can be another's. Users see `NAME-k` (Compose's container
//! number): [`display`].
//!
//! Dependents wait for every replica; a dependency on a service scaled to
//! zero waits for nothing. Each replica gets its own anonymous volumes and
//! hostname (`NAME-k`); named volumes, networks and the DNS name `NAME`
//! are shared, so `NAME` resolves to every replica.

use std::collections::BTreeMap;

use super::model::{Mount, Stack};

const SEP: char = '#';

/// The key of replica `index` (1-based) of `service`.
pub fn unit_key(service: &str, index: u32) -> String {
    if index <= 1 {
        service.to_string()
    } else {
        format!("{service}{SEP}{index}")
    }
}

/// `(service, index)` of a unit key: `web#2` → `("web", 2)`, `web` → `("web", 1)`.
pub fn split(unit: &str) -> (&str, u32) {
    match unit.rsplit_once(SEP) {
        Some((s, k)) => match k.parse::<u32>() {
            Ok(k) if k >= 2 => (s, k),
            _ => (unit, 1),
        },
        None => (unit, 1),
    }
}

/// The service a unit belongs to.
pub fn service_of(unit: &str) -> &str {
    split(unit).0
}

/// What users see for a unit: `web` for the first replica, `web-2` after.
pub fn display(unit: &str) -> String {
    match split(unit) {
        (s, 1) => s.to_string(),
        (s, k) => format!("{s}-{k}"),
    }
}

/// What to call each of `units` beside the others (log prefixes, as
/// Compose's): [`display`], but `web-1` for the first replica when
/// another replica of the same service is among them.
pub fn labels(units: &[String]) -> Vec<String> {
    units
        .iter()
        .map(|u| match split(u) {
            (s, 1) if units.iter().any(|o| o != u && service_of(o) == s) => format!("{s}-1"),
            _ => display(u),
        })
        .collect()
}

/// `names` (services or unit keys; none means all) selects `unit`.
pub fn named(names: &[String], unit: &str) -> bool {
    names.is_empty() || names.iter().any(|n| n == unit || n == service_of(unit))
}

/// The unit keys of `stack` (expanded) that `names` select, in key order;
/// a name that selects none is kept as it is (for the caller's "no such
/// service").
pub fn units_named(stack: &Stack, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        let before = out.len();
        out.extend(
            stack
                .services
                .keys()
                .filter(|k| *k == n || service_of(k) == n)
                .cloned(),
        );
        if out.len() == before {
            out.push(n.clone());
        }
    }
    out.dedup();
    out
}

/// The number of replicas of each service: the file's, overridden by
/// `scale` (`up --scale`, `stack scale`).
pub fn counts(stack: &Stack, scale: &BTreeMap<String, u32>) -> BTreeMap<String, u32> {
    stack
        .services
        .iter()
        .map(|(n, s)| (n.clone(), scale.get(n).copied().unwrap_or(s.replicas)))
        .collect()
}

/// The stack with one service entry per unit (see the module docs).
/// `scale` overrides the file's counts; names in it that are not services
/// are ignored (the CLI checks them). Expanding twice changes nothing.
pub fn expand(stack: &Stack, scale: &BTreeMap<String, u32>) -> Stack {
    if !stack.replicas.is_empty() {
        return stack.clone();
    }
    let counts = counts(stack, scale);
    let mut out = stack.clone();
    out.services = BTreeMap::new();
    for (name, svc) in &stack.services {
        for k in 1..=counts[name] {
            let mut u = svc.clone();
            u.replicas = 1;
            if k >= 2 {
                u.name = unit_key(name, k);
                if u.hostname.is_none() {
                    u.hostname = Some(format!("{name}-{k}"));
                }
                let anon = format!("_anon-{name}-");
                for m in &mut u.volumes {
                    if let Mount::Volume { source, .. } = m {
                        if let Some(rest) = source.strip_prefix(&anon) {
                            *source = format!("_anon-{}-{rest}", u.name);
                        }
                    }
                }
            }
            out.services.insert(u.name.clone(), u);
        }
    }
    for u in out.services.values_mut() {
        let deps = std::mem::take(&mut u.depends_on);
        for (d, dep) in deps {
            match counts.get(&d) {
                Some(&n) => {
                    for k in 1..=n {
                        u.depends_on.insert(unit_key(&d, k), dep.clone());
                    }
                }
                None => {
                    u.depends_on.insert(d, dep);
                }
            }
        }
    }
    out.replicas = counts;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Condition, Dependency, Rootfs, Service};

    fn stack(replicas: &[(&str, u32)]) -> Stack {
        let mut s = Stack {
            name: "p".into(),
            file: "/x/stack.yaml".into(),
            overrides: vec![],
            dir: "/x".into(),
            services: BTreeMap::new(),
            volumes: BTreeMap::new(),
            networks: BTreeMap::new(),
            inputs: vec![],
            replicas: BTreeMap::new(),
        };
        for (n, r) in replicas {
            let mut svc = Service::new(n, Rootfs::Host(vec!["/bin/sh".into()]));
            svc.replicas = *r;
            s.services.insert(n.to_string(), svc);
        }
        s
    }

    #[test]
    fn keys_split_and_display() {
        assert_eq!(unit_key("web", 1), "web");
        assert_eq!(unit_key("web", 3), "web#3");
        assert_eq!(split("web#3"), ("web", 3));
        assert_eq!(split("web"), ("web", 1));
        assert_eq!(split("web-2"), ("web-2", 1));
        assert_eq!(display("web#3"), "web-3");
        assert_eq!(display("web"), "web");
        let units = ["db".to_string(), "web".into(), "web#2".into()];
        assert_eq!(labels(&units), ["db", "web-1", "web-2"]);
        assert!(named(&[], "x#2"));
        assert!(named(&["web".into()], "web#2"));
        assert!(named(&["web#2".into()], "web#2"));
        assert!(!named(&["web".into()], "web-2"));
    }

    #[test]
    fn expand_makes_units_and_dependents_wait_for_each() {
        let mut s = stack(&[("web", 3), ("db", 1), ("off", 0)]);
        let dep = Dependency {
            condition: Condition::ServiceStarted,
            restart: false,
            required: true,
        };
        let app = s.services.get_mut("db").unwrap();
        app.depends_on.insert("web".into(), dep.clone());
        app.depends_on.insert("off".into(), dep.clone());
        let web = s.services.get_mut("web").unwrap();
        web.volumes.push(Mount::Volume {
            source: "_anon-web-abc".into(),
            target: "/data".into(),
            read_only: false,
            backing: crate::spec::Backing::Project,
        });
        let e = expand(&s, &BTreeMap::new());
        let keys: Vec<&str> = e.services.keys().map(String::as_str).collect();
        assert_eq!(keys, ["db", "web", "web#2", "web#3"]);
        let deps: Vec<&str> = e.services["db"]
            .depends_on
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(deps, ["web", "web#2", "web#3"]);
        assert_eq!(e.services["web#2"].hostname.as_deref(), Some("web-2"));
        assert_eq!(e.services["web"].hostname, None);
        let source = |u: &str| match &e.services[u].volumes[0] {
            Mount::Volume { source, .. } => source.clone(),
            m => panic!("{m:?}"),
        };
        assert_eq!(source("web#3"), "_anon-web#3-abc");
        assert_eq!(source("web"), "_anon-web-abc");
        assert!(e.services.values().all(|u| u.replicas == 1));
        assert_eq!(e.replicas["off"], 0);
        // Idempotent, and a scale override wins over the file.
        assert_eq!(expand(&e, &BTreeMap::new()), e);
        let scaled = expand(&s, &BTreeMap::from([("web".into(), 1), ("off".into(), 2)]));
        let keys: Vec<&str> = scaled.services.keys().map(String::as_str).collect();
        assert_eq!(keys, ["db", "off", "off#2", "web"]);
        assert_eq!(
            units_named(&e, &["web".into(), "nope".into()]),
            ["web", "web#2", "web#3", "nope"]
        );
    }

    #[test]
    fn a_stack_without_replicas_is_unchanged_but_for_the_counts() {
        let s = stack(&[("a", 1), ("b", 1)]);
        let e = expand(&s, &BTreeMap::new());
        assert_eq!(e.services, s.services);
        assert_eq!(e.replicas.len(), 2);
    }
}
