//! Field-level differences between two service configs: the reasons of a
//! `recreate`, e.g. `environment.COLOR "red" → "blue"`.
//!
//! Compose's rule: `depends_on` and `profiles` do not belong to a
//! container's config (changing them never recreates it); everything else
//! does.

use serde_json::Value;

use crate::spec::Service;

/// The service with the fields that do not belong to a container removed.
fn container_view(s: &Service) -> Service {
    let mut v = s.clone();
    v.depends_on.clear();
    v.profiles.clear();
    v
}

/// True when a container created with `old` must be recreated for `new`.
/// Compares field by field without cloning (the no-op `up` path); the
/// exhaustive destructuring makes a new `Service` field a compile error
/// here until it is decided whether it recreates.
pub fn config_changed(old: &Service, new: &Service) -> bool {
    let Service {
        name,
        rootfs,
        pull_policy: _,
        entrypoint,
        command,
        environment,
        working_dir,
        user,
        hostname,
        depends_on: _,
        healthcheck,
        restart,
        restart_timing,
        limits,
        volumes,
        files,
        post_start,
        pre_stop,
        tmpfs,
        read_only,
        stop_signal,
        stop_grace_period,
        init,
        cap_add,
        cap_drop,
        security,
        process,
        ulimits,
        network_mode,
        networks,
        ports,
        expose,
        container_name,
        links,
        extra_hosts,
        dns,
        dns_search,
        dns_opt,
        domainname,
        labels,
        profiles: _,
        develop,
        x_stack,
        // How many units there are, not what one is (each unit has 1).
        replicas: _,
    } = old;
    !(*name == new.name
        && *rootfs == new.rootfs
        && *entrypoint == new.entrypoint
        && *command == new.command
        && *environment == new.environment
        && *working_dir == new.working_dir
        && *user == new.user
        && *hostname == new.hostname
        && *healthcheck == new.healthcheck
        && *restart == new.restart
        && *restart_timing == new.restart_timing
        && *limits == new.limits
        && *volumes == new.volumes
        && *files == new.files
        && *post_start == new.post_start
        && *pre_stop == new.pre_stop
        && *tmpfs == new.tmpfs
        && *read_only == new.read_only
        && *stop_signal == new.stop_signal
        && *stop_grace_period == new.stop_grace_period
        && *init == new.init
        && *cap_add == new.cap_add
        && *cap_drop == new.cap_drop
        && *security == new.security
        && *process == new.process
        && *ulimits == new.ulimits
        && *network_mode == new.network_mode
        && *networks == new.networks
        && *ports == new.ports
        && *expose == new.expose
        && *container_name == new.container_name
        && *links == new.links
        && *extra_hosts == new.extra_hosts
        && *dns == new.dns
        && *dns_search == new.dns_search
        && *dns_opt == new.dns_opt
        && *domainname == new.domainname
        && *labels == new.labels
        && *develop == new.develop
        && *x_stack == new.x_stack)
}

/// Every changed leaf between `old` and `new`, one string each, in field
/// order: `environment.COLOR "red" → "blue"`,
/// `limits.memory 80M → 120M`, `environment.DEBUG added: "1"`,
/// `user removed (was "app")`. Empty when nothing that matters changed.
pub fn changes(old: &Service, new: &Service) -> Vec<String> {
    if !config_changed(old, new) {
        return Vec::new();
    }
    let to_value = |s: &Service| serde_json::to_value(container_view(s)).unwrap_or(Value::Null);
    let mut out = Vec::new();
    walk("", &to_value(old), &to_value(new), &mut out);
    if out.is_empty() {
        // Serialization hid the difference (should not happen); still say
        // why the container is recreated.
        out.push("config changed".into());
    }
    out
}

/// `a.b`, or `a["x.y"]` when the key is not a plain identifier.
fn join(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if path.is_empty() && key == "x_stack" {
        "x-stack"
    } else {
        key
    };
    match (path.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{path}.{key}"),
        (_, false) => format!("{path}[{}]", Value::String(key.into())),
    }
}

fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            // Keys in order; a key on one side only is added/removed. An
            // enum changing variant (`rootfs.dir` → `rootfs.tar`) reads as
            // one removed and one added.
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = join(path, k);
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => walk(&p, x, y, out),
                    (Some(x), None) if !is_empty(x) => {
                        out.push(format!("{p} removed (was {})", leaf(&p, x)))
                    }
                    (None, Some(y)) if !is_empty(y) => {
                        out.push(format!("{p} added: {}", leaf(&p, y)))
                    }
                    _ => {}
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() && a.iter().all(is_compound) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                walk(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ => {
            let (o, n) = (leaf(path, old), leaf(path, new));
            out.push(format!("{} {o} → {n}", display_path(path)));
        }
    }
}

/// A changed value as the user wrote it: sizes in the file's units
/// (`80M`, not `83886080`).
fn leaf(path: &str, v: &Value) -> String {
    const SIZES: [&str; 2] = ["limits.memory", "limits.memory_reservation"];
    match v.as_u64() {
        Some(b) if SIZES.contains(&path) => crate::spec::units::Bytes(b).to_string(),
        _ => v.to_string(),
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() {
        "config"
    } else {
        path
    }
}

/// Lists of objects (mounts, ports) are compared element by element; lists
/// of scalars (argv) are shown whole, which reads better.
fn is_compound(v: &Value) -> bool {
    matches!(v, Value::Object(_) | Value::Array(_))
}

/// A missing key and an empty default (`[]`, `{}`, `null`) mean the same.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::units::Bytes;
    use crate::spec::Rootfs;

    #[test]
    fn reasons_use_the_files_spelling() {
        let old = Service::new("web", Rootfs::Dir("/r".into()));
        let mut new = old.clone();
        new.limits.memory = Some(Bytes(64 << 20));
        new.x_stack.restart_unhealthy = false;
        assert_eq!(
            changes(&old, &new),
            [
                "limits.memory added: 64M",
                "x-stack.restart_unhealthy true → false"
            ]
        );
    }
}
