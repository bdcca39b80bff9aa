//! The resolver's answers, without I/O: the table the engine writes, its
//! compiled form, and the decision for one question.
//!
//! A question is asked *from* a source address. The source is a
//! container's address on one of the project's networks, and the table
//! says which networks that container is on; a name resolves to its
//! addresses on exactly those networks. So `db` on `back` does not
//! resolve from a container that is only on `front`, and `web`, on both,
//! resolves to its `front` address from a `front`-only client.
//!
//! The source also says where a name that is not ours goes: a container
//! with its own upstream resolvers (Compose's `dns:`) has them in
//! [`Table::upstreams`], and [`Zone::upstreams_for`] gives that list for
//! its questions; every other source's go to the host's upstreams. An
//! empty list is "no upstream" (SERVFAIL at once).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::{Deserialize, Deserializer, Serialize};

/// What the engine writes (JSON, replaced by an atomic rename): every
/// name on every network, the networks of every source address, and the
/// upstream resolvers of the sources that have their own.
///
/// Names are service names, aliases, `container_name`s and
/// `<service>-<n>`; one name may have several addresses (replicas).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// network → name → addresses on that network.
    #[serde(default)]
    pub networks: BTreeMap<String, BTreeMap<String, Vec<Ipv4Addr>>>,
    /// a container's address (the source of its queries) → its networks.
    #[serde(default)]
    pub containers: BTreeMap<Ipv4Addr, BTreeSet<String>>,
    /// An optional search domain (`stack.internal`): `web.stack.internal`
    /// is `web`, and a name under it that is not in the table is NXDOMAIN
    /// here rather than asked upstream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// a container's address (the source of its queries) → the upstream
    /// resolvers for its forwarded questions, in order (Compose's `dns:`,
    /// as Docker's 127.0.0.11 forwards to a container's `--dns`). Written
    /// `"192.0.2.1"` (port 53) or `"192.0.2.1:5353"`, `"[2001:db8::1]:53"`.
    /// A source not here uses the host's upstreams; an empty list means no
    /// upstream at all.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "upstream_lists"
    )]
    pub upstreams: BTreeMap<Ipv4Addr, Vec<SocketAddr>>,
}

/// [`Table::upstreams`] from JSON: each address with its port, or port 53.
fn upstream_lists<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<Ipv4Addr, Vec<SocketAddr>>, D::Error> {
    let raw = BTreeMap::<Ipv4Addr, Vec<String>>::deserialize(d)?;
    raw.into_iter()
        .map(|(source, list)| {
            let list = list
                .iter()
                .map(|a| upstream_addr(a).map_err(serde::de::Error::custom))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((source, list))
        })
        .collect()
}

/// `"192.0.2.1"` → 192.0.2.1:53; `"192.0.2.1:5353"`, `"[::1]:53"` as given.
pub fn upstream_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(sa) = text.parse::<SocketAddr>() {
        return Ok(sa);
    }
    text.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{text:?} is not an upstream resolver address (IP or IP:PORT)"))
}

/// The kind of record a question asks for, as far as the answers care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    A,
    Aaaa,
    Ptr,
    /// Any other type (MX, TXT, ANY, …): known names have no such data.
    Other,
}

/// What to do with one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A records, in table order (the name's addresses on the shared
    /// networks, first network first, without duplicates).
    Addresses(Vec<Ipv4Addr>),
    /// PTR records: the names an address has on the shared networks.
    Names(Vec<String>),
    /// The name is ours but has no data of this type (AAAA: no IPv6 yet):
    /// NOERROR with an empty answer.
    NoData,
    /// The name is under our search domain and not in the table.
    NxDomain,
    /// Not ours: ask the upstream resolvers ([`Zone::upstreams_for`] the
    /// source, else the host's).
    Forward,
}

/// One network's names, lowercased, and its reverse map.
#[derive(Debug, Default)]
struct Network {
    names: HashMap<String, Vec<Ipv4Addr>>,
    reverse: HashMap<Ipv4Addr, BTreeSet<String>>,
}

/// A [`Table`] compiled for lookups: lowercase names, reverse maps.
#[derive(Debug, Default)]
pub struct Zone {
    networks: BTreeMap<String, Network>,
    containers: BTreeMap<Ipv4Addr, BTreeSet<String>>,
    domain: Option<String>,
    upstreams: BTreeMap<Ipv4Addr, Vec<SocketAddr>>,
}

impl Zone {
    /// Compiles `table`. Names differing only in case are merged.
    pub fn new(table: &Table) -> Zone {
        let mut networks = BTreeMap::new();
        for (net, names) in &table.networks {
            let mut n = Network::default();
            for (name, addrs) in names {
                let key = normalize(name);
                if key.is_empty() {
                    continue;
                }
                let entry = n.names.entry(key.clone()).or_insert_with(Vec::new);
                for a in addrs {
                    if !entry.contains(a) {
                        entry.push(*a);
                    }
                    n.reverse.entry(*a).or_default().insert(key.clone());
                }
            }
            networks.insert(net.clone(), n);
        }
        let domain = table
            .domain
            .as_deref()
            .map(normalize)
            .filter(|d| !d.is_empty());
        Zone {
            networks,
            containers: table.containers.clone(),
            domain,
            upstreams: table
                .upstreams
                .iter()
                .map(|(source, list)| (*source, dedup(list)))
                .collect(),
        }
    }

    /// Where a [`Decision::Forward`] asked from `source` goes: its own
    /// upstreams, in order and without duplicates (`Some(&[])` when it
    /// has none at all), or `None` for the host's.
    pub fn upstreams_for(&self, source: Ipv4Addr) -> Option<&[SocketAddr]> {
        self.upstreams.get(&source).map(Vec::as_slice)
    }

    /// The decision for the question `(qname, kind)` asked from `source`.
    pub fn decide(&self, source: Ipv4Addr, qname: &str, kind: Kind) -> Decision {
        let name = normalize(qname);
        if kind == Kind::Ptr {
            return match reverse_address(&name) {
                Some(ip) => self.ptr(source, ip),
                None => Decision::Forward,
            };
        }
        let (local, ours) = self.local_part(&name);
        let addrs = self.addresses(source, local);
        if addrs.is_empty() {
            return if ours {
                Decision::NxDomain
            } else {
                Decision::Forward
            };
        }
        match kind {
            Kind::A => Decision::Addresses(addrs),
            _ => Decision::NoData,
        }
    }

    /// The networks `source` is on (none for an unknown source).
    fn shared(&self, source: Ipv4Addr) -> impl Iterator<Item = &Network> {
        self.containers
            .get(&source)
            .into_iter()
            .flatten()
            .filter_map(|net| self.networks.get(net))
    }

    /// `name`'s addresses on the networks `source` is on.
    fn addresses(&self, source: Ipv4Addr, name: &str) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for net in self.shared(source) {
            for a in net.names.get(name).into_iter().flatten() {
                if !out.contains(a) {
                    out.push(*a);
                }
            }
        }
        out
    }

    fn ptr(&self, source: Ipv4Addr, ip: Ipv4Addr) -> Decision {
        let mut names = BTreeSet::new();
        for net in self.shared(source) {
            names.extend(net.reverse.get(&ip).into_iter().flatten().cloned());
        }
        if names.is_empty() {
            return Decision::Forward;
        }
        let names = names
            .into_iter()
            .map(|n| match &self.domain {
                Some(d) => format!("{n}.{d}"),
                None => n,
            })
            .collect();
        Decision::Names(names)
    }

    /// `name` without our search domain, and whether it was under it.
    fn local_part<'a>(&self, name: &'a str) -> (&'a str, bool) {
        if let Some(d) = &self.domain {
            if name == d.as_str() {
                return ("", true);
            }
            if let Some(l) = name.strip_suffix(d.as_str()) {
                if let Some(l) = l.strip_suffix('.') {
                    return (l, true);
                }
            }
        }
        (name, false)
    }
}

/// `list` in order, each address once.
fn dedup(list: &[SocketAddr]) -> Vec<SocketAddr> {
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

/// Lowercase, without the trailing dot.
pub fn normalize(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// `4.3.2.1.in-addr.arpa` → 1.2.3.4 (a normalized name).
fn reverse_address(name: &str) -> Option<Ipv4Addr> {
    let rest = name.strip_suffix(".in-addr.arpa")?;
    let mut octets = [0u8; 4];
    let mut parts = rest.split('.');
    for o in octets.iter_mut().rev() {
        *o = parts.next()?.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    const CLIENT: &str = "10.1.0.10"; // on front only
    const BOTH: &str = "10.1.0.20"; // web: on front and back
    const BACK: &str = "10.2.0.30"; // db: on back only

    /// front: client, web (+ alias www), 2 replicas of api.
    /// back: web, db (+ alias Database).
    fn table() -> Table {
        let mut t = Table::default();
        let front = BTreeMap::from([
            ("client".to_string(), vec![ip(CLIENT)]),
            ("web".to_string(), vec![ip(BOTH)]),
            ("www".to_string(), vec![ip(BOTH)]),
            ("api".to_string(), vec![ip("10.1.0.41"), ip("10.1.0.42")]),
            ("api-1".to_string(), vec![ip("10.1.0.41")]),
        ]);
        let back = BTreeMap::from([
            ("web".to_string(), vec![ip("10.2.0.20")]),
            ("db".to_string(), vec![ip(BACK)]),
            ("Database".to_string(), vec![ip(BACK)]),
        ]);
        t.networks.insert("front".into(), front);
        t.networks.insert("back".into(), back);
        let nets = |n: &[&str]| n.iter().map(|s| s.to_string()).collect();
        t.containers.insert(ip(CLIENT), nets(&["front"]));
        t.containers.insert(ip(BOTH), nets(&["front", "back"]));
        t.containers
            .insert(ip("10.2.0.20"), nets(&["front", "back"]));
        t.containers.insert(ip(BACK), nets(&["back"]));
        t
    }

    fn decide(from: &str, name: &str, kind: Kind) -> Decision {
        Zone::new(&table()).decide(ip(from), name, kind)
    }

    #[test]
    fn a_name_on_a_shared_network_resolves() {
        assert_eq!(
            decide(CLIENT, "web", Kind::A),
            Decision::Addresses(vec![ip(BOTH)])
        );
        assert_eq!(
            decide(BACK, "db", Kind::A),
            Decision::Addresses(vec![ip(BACK)])
        );
    }

    #[test]
    fn a_name_only_on_another_network_does_not_resolve_here() {
        assert_eq!(decide(CLIENT, "db", Kind::A), Decision::Forward);
        assert_eq!(decide(BACK, "client", Kind::A), Decision::Forward);
        assert_eq!(decide(BACK, "api", Kind::A), Decision::Forward);
    }

    #[test]
    fn a_name_on_two_networks_gives_the_address_on_the_shared_one() {
        assert_eq!(
            decide(BACK, "web", Kind::A),
            Decision::Addresses(vec![ip("10.2.0.20")])
        );
        assert_eq!(
            decide(CLIENT, "web", Kind::A),
            Decision::Addresses(vec![ip(BOTH)])
        );
        // From a container on both: both addresses, networks in order.
        assert_eq!(
            decide(BOTH, "web", Kind::A),
            Decision::Addresses(vec![ip("10.2.0.20"), ip(BOTH)])
        );
    }

    #[test]
    fn aliases_replicas_and_numbered_names_resolve() {
        assert_eq!(
            decide(CLIENT, "www", Kind::A),
            Decision::Addresses(vec![ip(BOTH)])
        );
        assert_eq!(
            decide(CLIENT, "api", Kind::A),
            Decision::Addresses(vec![ip("10.1.0.41"), ip("10.1.0.42")])
        );
        assert_eq!(
            decide(CLIENT, "api-1", Kind::A),
            Decision::Addresses(vec![ip("10.1.0.41")])
        );
    }

    #[test]
    fn names_are_case_insensitive_with_or_without_the_trailing_dot() {
        let want = Decision::Addresses(vec![ip(BACK)]);
        for q in ["db", "DB", "Db.", "db.", "database", "DATABASE."] {
            assert_eq!(decide(BACK, q, Kind::A), want, "{q}");
        }
    }

    #[test]
    fn aaaa_and_other_types_of_a_known_name_are_empty_noerror() {
        assert_eq!(decide(CLIENT, "web", Kind::Aaaa), Decision::NoData);
        assert_eq!(decide(CLIENT, "WEB.", Kind::Other), Decision::NoData);
        // Unknown names are not ours, whatever the type.
        assert_eq!(decide(CLIENT, "example.org", Kind::Aaaa), Decision::Forward);
    }

    #[test]
    fn unknown_names_and_unknown_sources_are_forwarded() {
        assert_eq!(decide(CLIENT, "example.org.", Kind::A), Decision::Forward);
        assert_eq!(
            decide(CLIENT, "web.example.org", Kind::A),
            Decision::Forward
        );
        assert_eq!(decide("10.9.9.9", "web", Kind::A), Decision::Forward);
        assert_eq!(decide(CLIENT, "", Kind::A), Decision::Forward);
        assert_eq!(decide(CLIENT, ".", Kind::A), Decision::Forward);
    }

    #[test]
    fn the_search_domain_is_stripped_and_answered_authoritatively() {
        let mut t = table();
        t.domain = Some("Stack.Internal.".into());
        let z = Zone::new(&t);
        let want = Decision::Addresses(vec![ip(BOTH)]);
        assert_eq!(z.decide(ip(CLIENT), "web.stack.internal", Kind::A), want);
        assert_eq!(z.decide(ip(CLIENT), "WEB.STACK.INTERNAL.", Kind::A), want);
        assert_eq!(z.decide(ip(CLIENT), "web", Kind::A), want);
        assert_eq!(
            z.decide(ip(CLIENT), "db.stack.internal", Kind::A),
            Decision::NxDomain
        );
        assert_eq!(
            z.decide(ip(CLIENT), "stack.internal", Kind::A),
            Decision::NxDomain
        );
        // Not a suffix on a label boundary: not ours.
        assert_eq!(
            z.decide(ip(CLIENT), "webstack.internal", Kind::A),
            Decision::Forward
        );
        assert_eq!(
            z.decide(ip(CLIENT), "db", Kind::A),
            Decision::Forward,
            "a bare name stays a forward"
        );
    }

    #[test]
    fn ptr_gives_the_names_on_shared_networks() {
        assert_eq!(
            decide(CLIENT, "20.0.1.10.in-addr.arpa.", Kind::Ptr),
            Decision::Names(vec!["web".into(), "www".into()])
        );
        assert_eq!(
            decide(BACK, "30.0.2.10.IN-ADDR.ARPA", Kind::Ptr),
            Decision::Names(vec!["database".into(), "db".into()])
        );
        // db's address is not on the client's network.
        assert_eq!(
            decide(CLIENT, "30.0.2.10.in-addr.arpa", Kind::Ptr),
            Decision::Forward
        );
        assert_eq!(
            decide(CLIENT, "1.0.0.127.in-addr.arpa", Kind::Ptr),
            Decision::Forward
        );
        assert_eq!(decide(CLIENT, "web", Kind::Ptr), Decision::Forward);
    }

    #[test]
    fn ptr_names_carry_the_search_domain() {
        let mut t = table();
        t.domain = Some("stack.internal".into());
        assert_eq!(
            Zone::new(&t).decide(ip(BACK), "30.0.2.10.in-addr.arpa", Kind::Ptr),
            Decision::Names(vec![
                "database.stack.internal".into(),
                "db.stack.internal".into()
            ])
        );
    }

    #[test]
    fn reverse_names_parse_strictly() {
        assert_eq!(reverse_address("4.3.2.1.in-addr.arpa"), Some(ip("1.2.3.4")));
        assert_eq!(reverse_address("3.2.1.in-addr.arpa"), None);
        assert_eq!(reverse_address("5.4.3.2.1.in-addr.arpa"), None);
        assert_eq!(reverse_address("256.3.2.1.in-addr.arpa"), None);
        assert_eq!(reverse_address("4.3.2.1.ip6.arpa"), None);
    }

    #[test]
    fn duplicate_and_case_variant_names_merge() {
        let mut t = Table::default();
        t.networks.insert(
            "n".into(),
            BTreeMap::from([
                ("Web".to_string(), vec![ip("10.0.0.2"), ip("10.0.0.2")]),
                ("web".to_string(), vec![ip("10.0.0.3")]),
            ]),
        );
        t.containers
            .insert(ip("10.0.0.9"), BTreeSet::from(["n".to_string()]));
        assert_eq!(
            Zone::new(&t).decide(ip("10.0.0.9"), "web", Kind::A),
            Decision::Addresses(vec![ip("10.0.0.2"), ip("10.0.0.3")])
        );
    }

    #[test]
    fn a_container_on_a_network_missing_from_the_table_gets_nothing_from_it() {
        let mut t = table();
        t.containers
            .insert(ip("10.3.0.1"), BTreeSet::from(["gone".to_string()]));
        assert_eq!(
            Zone::new(&t).decide(ip("10.3.0.1"), "web", Kind::A),
            Decision::Forward
        );
    }

    #[test]
    fn the_table_round_trips_as_json() {
        let mut t = table();
        t.domain = Some("stack.internal".into());
        let text = serde_json::to_string_pretty(&t).unwrap();
        assert!(text.contains("\"10.1.0.10\": ["), "{text}");
        let back: Table = serde_json::from_str(&text).unwrap();
        assert_eq!(back, t);
        let empty: Table = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Table::default());
        assert!(serde_json::from_str::<Table>(r#"{"nets": {}}"#).is_err());
        assert!(!text.contains("upstreams"), "empty: left out: {text}");
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_source_with_its_own_upstreams_gets_them_and_others_the_hosts() {
        let mut t = table();
        t.upstreams.insert(
            ip(CLIENT),
            vec![
                sa("192.0.2.53:53"),
                sa("192.0.2.54:5353"),
                sa("192.0.2.53:53"),
            ],
        );
        t.upstreams.insert(ip(BACK), vec![]);
        let z = Zone::new(&t);
        // Its own, in order, each once.
        assert_eq!(
            z.upstreams_for(ip(CLIENT)),
            Some(&[sa("192.0.2.53:53"), sa("192.0.2.54:5353")][..])
        );
        // An empty list is "no upstream", not "the host's".
        assert_eq!(z.upstreams_for(ip(BACK)), Some(&[][..]));
        // Without a list (known or unknown source): the host's.
        assert_eq!(z.upstreams_for(ip(BOTH)), None);
        assert_eq!(z.upstreams_for(ip("10.9.9.9")), None);
        // The decision itself does not change: local names stay local.
        assert_eq!(
            z.decide(ip(CLIENT), "web", Kind::A),
            Decision::Addresses(vec![ip(BOTH)])
        );
        assert_eq!(
            z.decide(ip(CLIENT), "example.org", Kind::A),
            Decision::Forward
        );
        assert_eq!(Zone::new(&table()).upstreams_for(ip(CLIENT)), None);
    }

    #[test]
    fn upstreams_in_json_default_to_port_53_and_round_trip() {
        let text = r#"{"upstreams": {
            "10.1.0.10": ["192.0.2.1", "192.0.2.2:5353", "2001:db8::1", "[2001:db8::2]:54"],
            "10.2.0.30": []
        }}"#;
        let t: Table = serde_json::from_str(text).unwrap();
        assert_eq!(
            t.upstreams[&ip(CLIENT)],
            vec![
                sa("192.0.2.1:53"),
                sa("192.0.2.2:5353"),
                sa("[2001:db8::1]:53"),
                sa("[2001:db8::2]:54")
            ]
        );
        assert_eq!(t.upstreams[&ip(BACK)], vec![]);
        let back: Table = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        for bad in [
            r#"{"upstreams": {"10.1.0.10": ["dns.example"]}}"#,
            r#"{"upstreams": {"10.1.0.10": "192.0.2.1"}}"#,
            r#"{"upstreams": {"not-an-ip": []}}"#,
        ] {
            assert!(serde_json::from_str::<Table>(bad).is_err(), "{bad}");
        }
        let e = serde_json::from_str::<Table>(r#"{"upstreams": {"10.1.0.10": ["x"]}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"x\""), "{e}");
    }
}
