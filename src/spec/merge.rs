//! Compose's merge of several files (`-f a.yaml -f b.yaml`, an override
//! file beside the default one), on the positioned trees before they are
//! read: maps merge key by key; a later file's scalar replaces; lists that
//! Compose keys (environment, labels, volumes by target, ports, ...) merge
//! by that key, the later file winning; `command`, `entrypoint` and
//! `healthcheck.test` are replaced whole; other lists are appended. A
//! value tagged `!reset` removes what earlier files gave, `!override`
//! replaces it whole. Pure; every node keeps the file and position it came
//! from, so problems point into the right file.

use super::yaml::{Key, Kind, MergeTag, Node};

/// How a list at some key path merges.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Rule {
    /// The later value replaces the earlier one.
    Replace,
    /// `KEY=VALUE` items or a map: merged by key.
    KeyValue,
    /// Items merged by the key `key_of` finds (a mount's target, ...).
    Keyed(Keyer),
    /// Appended, an item equal to an earlier one dropped.
    Unique,
    /// A list of names or a map of name to options: a map, merged.
    NameMap,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Keyer {
    /// `SOURCE:TARGET[:MODE]`, a target alone, or `{target: ...}`.
    Target,
    /// `HOST:CONTAINER[:PERM]` or `{target: ...}` (devices).
    Device,
    /// A port's full text, or `published:target/protocol` of the long form.
    Port,
    /// `NAME` (mounted at PREFIX/NAME) or `{source, target}`.
    Mount(&'static str),
    /// A path, or `{path: ...}` (env_file).
    Path,
    /// `PATH[:OPTIONS]` (tmpfs).
    PathBeforeColon,
}

/// The rule for a key path, `*` standing for a service, volume or network
/// name.
fn rule(path: &[&str]) -> Option<Rule> {
    use Keyer::*;
    use Rule::*;
    Some(match path {
        ["services", _, "command" | "entrypoint"] => Replace,
        ["services", _, "healthcheck", "test"] => Replace,
        ["services", _, "environment" | "labels" | "sysctls" | "annotations" | "extra_hosts"] => {
            KeyValue
        }
        ["services", _, "deploy", "labels"] => KeyValue,
        ["services", _, "build", "args" | "labels"] => KeyValue,
        ["networks" | "volumes", _, "labels"] => KeyValue,
        ["services", _, "volumes"] => Keyed(Target),
        ["services", _, "devices"] => Keyed(Device),
        ["services", _, "ports"] => Keyed(Port),
        ["services", _, "secrets"] => Keyed(Mount("/run/secrets")),
        ["services", _, "configs"] => Keyed(Mount("")),
        ["services", _, "env_file"] => Keyed(Path),
        ["services", _, "tmpfs"] => Keyed(PathBeforeColon),
        ["services", _, "cap_add" | "cap_drop" | "dns" | "dns_opt" | "dns_search" | "expose" | "links"
        | "profiles" | "group_add" | "security_opt" | "external_links" | "volumes_from"] => Unique,
        ["services", _, "networks", _, "aliases"] => Unique,
        ["services", _, "depends_on" | "networks"] => NameMap,
        _ => return None,
    })
}

/// Whether the map at `path` holds names (each child key stands for `*`).
fn named_children(path: &[&str]) -> bool {
    matches!(
        path,
        ["services" | "volumes" | "networks" | "secrets" | "configs"]
            | ["services", _, "networks" | "ulimits" | "depends_on"]
    )
}

/// `over` merged onto `base`: the top of two stack files.
pub fn merge_files(base: Node, over: Node) -> Node {
    merge(base, over, &mut Vec::new())
}

/// One service's keys merged onto another's (`extends`: the extended
/// service is the base).
pub fn merge_service(base: Node, over: Node) -> Node {
    merge(base, over, &mut vec!["services", "*"])
}

fn merge(base: Node, over: Node, path: &mut Vec<&'static str>) -> Node {
    match over.merge {
        MergeTag::Reset => return reset_node(over),
        MergeTag::Override => return over,
        MergeTag::None => {}
    }
    if let Some(r) = rule(path) {
        return merge_by(r, base, over, path);
    }
    match (base.kind, over.kind) {
        (Kind::Map(b), Kind::Map(o)) => Node {
            pos: base.pos,
            merge: MergeTag::None,
            kind: Kind::Map(merge_maps(b, o, path)),
        },
        (Kind::Seq(mut b), Kind::Seq(o)) => {
            b.extend(o);
            Node {
                pos: base.pos,
                merge: MergeTag::None,
                kind: Kind::Seq(b),
            }
        }
        // ulimits: `nofile: 1024` against `{soft, hard}`, a different
        // logging driver, and every scalar: the later one is taken.
        (_, kind) => Node { kind, ..over },
    }
}

/// A `!reset` value: in a map it removes the key (see [`merge_maps`]);
/// elsewhere an empty value of its kind.
fn reset_node(n: Node) -> Node {
    let kind = match n.kind {
        Kind::Seq(_) => Kind::Seq(Vec::new()),
        Kind::Map(_) => Kind::Map(Vec::new()),
        _ => Kind::Null,
    };
    Node {
        pos: n.pos,
        merge: MergeTag::Reset,
        kind,
    }
}

/// Key by key, in the base's order with new keys after; `!reset` removes.
fn merge_maps(
    base: Vec<(Key, Node)>,
    over: Vec<(Key, Node)>,
    path: &mut Vec<&'static str>,
) -> Vec<(Key, Node)> {
    let named = named_children(path);
    let mut out = base;
    for (k, v) in over {
        let seg: &'static str = if named { "*" } else { intern(&k.name) };
        let i = out.iter().position(|(bk, _)| bk.name == k.name);
        if v.merge == MergeTag::Reset {
            if let Some(i) = i {
                out.remove(i);
            }
            continue;
        }
        match i {
            Some(i) => {
                let (bk, bv) = out.remove(i);
                path.push(seg);
                let merged = merge(bv, v, path);
                path.pop();
                out.insert(i, (bk, merged));
            }
            None => out.push((k, strip(v))),
        }
    }
    out
}

/// The key names rules mention, as `'static` segments; any other key is
/// `?` (no rule looks below it by name).
fn intern(name: &str) -> &'static str {
    const NAMES: [&str; 43] = [
        "services",
        "volumes",
        "networks",
        "secrets",
        "configs",
        "command",
        "entrypoint",
        "healthcheck",
        "test",
        "environment",
        "labels",
        "sysctls",
        "annotations",
        "extra_hosts",
        "deploy",
        "build",
        "args",
        "devices",
        "ports",
        "env_file",
        "tmpfs",
        "cap_add",
        "cap_drop",
        "dns",
        "dns_opt",
        "dns_search",
        "expose",
        "links",
        "profiles",
        "group_add",
        "security_opt",
        "external_links",
        "volumes_from",
        "aliases",
        "depends_on",
        "ulimits",
        "logging",
        "resources",
        "limits",
        "reservations",
        "restart_policy",
        "develop",
        "watch",
    ];
    NAMES.iter().find(|n| **n == name).copied().unwrap_or("?")
}

/// `!reset` keys removed from a value no earlier file had (a single file
/// too, as Compose does); `!override` is then plain.
pub fn strip(mut n: Node) -> Node {
    n.merge = MergeTag::None;
    n.kind = match n.kind {
        Kind::Map(m) => Kind::Map(
            m.into_iter()
                .filter(|(_, v)| v.merge != MergeTag::Reset)
                .map(|(k, v)| (k, strip(v)))
                .collect(),
        ),
        Kind::Seq(items) => Kind::Seq(
            items
                .into_iter()
                .filter(|v| v.merge != MergeTag::Reset)
                .map(strip)
                .collect(),
        ),
        k => k,
    };
    n
}

fn merge_by(r: Rule, base: Node, over: Node, path: &mut Vec<&'static str>) -> Node {
    if r == Rule::NameMap {
        return name_map(base, over, path);
    }
    // `labels: { x: !reset }` removes `x`.
    let resets: Vec<String> = match &over.kind {
        Kind::Map(m) => m
            .iter()
            .filter(|(_, v)| v.merge == MergeTag::Reset)
            .map(|(k, _)| k.name.clone())
            .collect(),
        _ => Vec::new(),
    };
    let over = strip(over);
    match r {
        Rule::Replace => over,
        Rule::KeyValue => {
            let mut n = key_value(base, over);
            match &mut n.kind {
                Kind::Map(m) => m.retain(|(k, _)| !resets.contains(&k.name)),
                Kind::Seq(items) => items.retain(|it| !resets.contains(&kv_key(it))),
                _ => {}
            }
            n
        }
        Rule::Keyed(k) => keyed(base, over, |n| key_of(k, n)),
        Rule::Unique => keyed(base, over, |n| Some(text(n))),
        Rule::NameMap => unreachable!("handled above"),
    }
}

/// A scalar's text; other nodes compare by their debug form (never keys
/// a real file merges on).
fn text(n: &Node) -> String {
    match &n.kind {
        Kind::Scalar { value, .. } => value.clone(),
        Kind::Null => String::new(),
        k => format!("{k:?}"),
    }
}

/// A scalar where a list is allowed too (`dns: 1.1.1.1`) as a list.
fn as_items(n: Node) -> Vec<Node> {
    match n.kind {
        Kind::Seq(items) => items,
        Kind::Null => Vec::new(),
        _ => vec![n],
    }
}

/// Items merged by `key`: an item of `over` replaces the base's item with
/// its key in place; new ones are appended; an item without a key is kept.
fn keyed(base: Node, over: Node, key: impl Fn(&Node) -> Option<String>) -> Node {
    let pos = base.pos;
    let mut out = as_items(base);
    for it in as_items(over) {
        let k = key(&it);
        match k.and_then(|k| out.iter().position(|b| key(b).as_deref() == Some(&k))) {
            Some(i) => out[i] = it,
            None => out.push(it),
        }
    }
    Node {
        pos,
        merge: MergeTag::None,
        kind: Kind::Seq(out),
    }
}

fn field<'n>(n: &'n Node, name: &str) -> Option<&'n Node> {
    match &n.kind {
        Kind::Map(m) => m.iter().find(|(k, _)| k.name == name).map(|(_, v)| v),
        _ => None,
    }
}

fn key_of(k: Keyer, n: &Node) -> Option<String> {
    let s = match &n.kind {
        Kind::Scalar { value, .. } => Some(value.as_str()),
        _ => None,
    };
    let f = |name: &str| field(n, name).map(text);
    match k {
        Keyer::Target => match s {
            Some(s) => {
                let parts: Vec<&str> = s.split(':').collect();
                Some(match parts.as_slice() {
                    [one] => one.to_string(),
                    [_, target, ..] => target.to_string(),
                    [] => return None,
                })
            }
            None => f("target"),
        }
        .map(|t| t.trim_end_matches('/').to_string()),
        Keyer::Device => match s {
            Some(s) => {
                let parts: Vec<&str> = s.split(':').collect();
                Some(parts.get(1).unwrap_or(&parts[0]).to_string())
            }
            None => f("target").or_else(|| f("source")),
        },
        Keyer::Port => match s {
            Some(s) => Some(s.to_string()),
            None => Some(format!(
                "{}:{}/{}",
                f("published").unwrap_or_default(),
                f("target").unwrap_or_default(),
                f("protocol").unwrap_or_else(|| "tcp".into())
            )),
        },
        Keyer::Mount(prefix) => match s {
            Some(name) => Some(format!("{prefix}/{name}")),
            None => match f("target") {
                Some(t) if t.starts_with('/') => Some(t),
                Some(t) => Some(format!("{prefix}/{t}")),
                None => f("source").map(|s| format!("{prefix}/{s}")),
            },
        },
        Keyer::Path => s.map(str::to_string).or_else(|| f("path")),
        Keyer::PathBeforeColon => s.map(|s| s.split(':').next().unwrap_or(s).to_string()),
    }
}

/// `KEY=VALUE` lists and maps, merged by key. Two maps stay a map; with a
/// list on either side the result is a list of `KEY=VALUE` (a null value
/// is `KEY` alone, taken from the environment).
fn key_value(base: Node, over: Node) -> Node {
    let both_maps = matches!(
        (&base.kind, &over.kind),
        (Kind::Map(_) | Kind::Null, Kind::Map(_)) | (Kind::Map(_), Kind::Null)
    );
    let pos = base.pos;
    if both_maps {
        let mut out = match base.kind {
            Kind::Map(m) => m,
            _ => Vec::new(),
        };
        if let Kind::Map(o) = over.kind {
            for (k, v) in o {
                match out.iter().position(|(bk, _)| bk.name == k.name) {
                    Some(i) => out[i] = (k, v),
                    None => out.push((k, v)),
                }
            }
        }
        return Node {
            pos,
            merge: MergeTag::None,
            kind: Kind::Map(out),
        };
    }
    keyed(as_kv_list(base), as_kv_list(over), |n| Some(kv_key(n)))
}

/// The key of a `KEY=VALUE` (or `HOST:IP`) item.
fn kv_key(n: &Node) -> String {
    let t = text(n);
    let end = t.find(['=', ':']).unwrap_or(t.len());
    t[..end].trim().to_string()
}

/// A map of `KEY: VALUE` as the list `[KEY=VALUE]`.
fn as_kv_list(n: Node) -> Node {
    let Kind::Map(m) = n.kind else { return n };
    let items = m
        .into_iter()
        .map(|(k, v)| {
            let value = match &v.kind {
                Kind::Null => k.name.clone(),
                _ => format!("{}={}", k.name, text(&v)),
            };
            Node {
                pos: k.pos,
                merge: MergeTag::None,
                kind: Kind::Scalar {
                    value,
                    plain: false,
                },
            }
        })
        .collect();
    Node {
        pos: n.pos,
        merge: MergeTag::None,
        kind: Kind::Seq(items),
    }
}

/// `depends_on`, a service's `networks`: a list of names is a map of each
/// name to nothing; then maps merge, each entry's keys merging too.
fn name_map(base: Node, over: Node, path: &mut Vec<&'static str>) -> Node {
    let pos = base.pos;
    let (b, o) = (as_name_map(base), as_name_map(over));
    let mut out = b;
    for (k, v) in o {
        match out.iter().position(|(bk, _)| bk.name == k.name) {
            Some(i) => {
                let merged = match (&out[i].1.kind, &v.kind) {
                    (Kind::Map(_), Kind::Map(_)) => {
                        let (bk, bv) = out.remove(i);
                        path.push("*");
                        let merged = merge(bv, v, path);
                        path.pop();
                        out.insert(i, (bk, merged));
                        continue;
                    }
                    (Kind::Map(_), Kind::Null) => continue,
                    _ => v,
                };
                out[i].1 = merged;
            }
            None => out.push((k, v)),
        }
    }
    Node {
        pos,
        merge: MergeTag::None,
        kind: Kind::Map(out),
    }
}

fn as_name_map(n: Node) -> Vec<(Key, Node)> {
    match n.kind {
        Kind::Map(m) => m,
        Kind::Seq(items) => items
            .into_iter()
            .filter_map(|it| match &it.kind {
                Kind::Scalar { value, .. } => Some((
                    Key {
                        name: value.clone(),
                        pos: it.pos,
                    },
                    Node {
                        pos: it.pos,
                        merge: MergeTag::None,
                        kind: Kind::Null,
                    },
                )),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
