//! What the project's networks must look like for the containers that are
//! live now: the resolver's table, where it listens, and the firewall's
//! rules. Pure: the keeper applies the result and compares it with what
//! it applied last, so an unchanged view costs nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};

use ipnet::Ipv4Net;

use crate::runtime::dns::Table;
use crate::runtime::firewall::{self, NetworkRules, Proto, Publish, Rules};
use crate::spec::Stack;
use crate::state::{NetAddress, PublishedPort};

/// A live container as the keeper knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub service: String,
    /// `<project>-<service>-1`.
    pub id: String,
    /// Highest priority first (its first is the one ports are DNATed to).
    pub addresses: Vec<NetAddress>,
    pub ports: Vec<PublishedPort>,
}

/// A network the project's containers are on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InUse {
    /// The name on the machine.
    pub name: String,
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub internal: bool,
    /// Where this project's resolver answers on it: the gateway of a
    /// network the project made, an address of its own on one it joined.
    pub resolver: Ipv4Addr,
}

/// The resolver's table and addresses and the firewall's rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    pub table: Table,
    pub listen: Vec<SocketAddr>,
    pub rules: Rules,
    /// The bridges (for Docker's DOCKER-USER chain).
    pub bridges: Vec<String>,
    /// Bridges with a port the host reaches on a loopback address
    /// (`route_localnet` is needed there).
    pub localnet: BTreeSet<String>,
}

/// The names of `e` on network `key`: the service (shared by its
/// replicas), `<service>-<n>`, the container's id, its `container_name`,
/// its aliases there, and the `links` aliases other services give it.
pub fn names(stack: &Stack, e: &Entry, key: &str) -> Vec<String> {
    let (service, n) = crate::spec::replicas::split(&e.service);
    let mut v = vec![service.to_string(), format!("{service}-{n}"), e.id.clone()];
    if let Some(svc) = stack.services.get(&e.service) {
        if let Some(n) = &svc.container_name {
            v.push(n.clone());
        }
        if let Some(sn) = svc.networks.get(key) {
            v.extend(sn.aliases.iter().cloned());
        }
    }
    for other in stack.services.values() {
        for (target, alias) in &other.links {
            if target == service && alias != target {
                v.push(alias.clone());
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// The view for `entries` on `networks` (by name on the machine).
pub fn view(
    project: &str,
    stack: &Stack,
    entries: &[Entry],
    networks: &BTreeMap<String, InUse>,
) -> View {
    let mut table = Table::default();
    for n in networks.keys() {
        table.networks.insert(n.clone(), BTreeMap::new());
    }
    let mut ports = Vec::new();
    for e in entries {
        for a in &e.addresses {
            let Some(names_on) = table.networks.get_mut(&a.network) else {
                continue;
            };
            for name in names(stack, e, &a.key) {
                let addrs = names_on.entry(name).or_default();
                if !addrs.contains(&a.address) {
                    addrs.push(a.address);
                }
            }
            table
                .containers
                .entry(a.address)
                .or_default()
                .insert(a.network.clone());
            // `dns:`: this container's other names go to its own resolvers.
            if let Some(svc) = stack.services.get(&e.service).filter(|s| !s.dns.is_empty()) {
                table.upstreams.insert(
                    a.address,
                    svc.dns.iter().map(|ip| SocketAddr::new(*ip, 53)).collect(),
                );
            }
        }
        let target = e
            .addresses
            .iter()
            .find(|a| networks.get(&a.network).is_some_and(|n| !n.internal));
        if let Some(t) = target {
            for p in &e.ports {
                ports.push(Publish {
                    host_ip: p.host_ip,
                    host_port: p.host_port,
                    proto: Proto::from_name(&p.proto),
                    bridge: t.bridge.clone(),
                    container_ip: t.address,
                    container_port: p.container_port,
                });
            }
        }
    }
    ports.sort_by(|a, b| {
        (a.host_port, a.proto, a.host_ip, a.container_ip).cmp(&(
            b.host_port,
            b.proto,
            b.host_ip,
            b.container_ip,
        ))
    });
    // The host's own `localhost:PORT` is DNATed to the bridge with its
    // 127.0.0.1 source (masqueraded on the way): the kernel routes such a
    // packet only where `route_localnet` is on.
    let localnet = ports
        .iter()
        .filter(|p| p.host_ip.is_none_or(|ip| ip.is_loopback()))
        .map(|p| p.bridge.clone())
        .collect();
    let rules = Rules {
        table: firewall::table_name(project),
        networks: networks
            .values()
            .map(|n| NetworkRules {
                bridge: n.bridge.clone(),
                subnet: n.subnet.network(),
                prefix: n.subnet.prefix_len(),
                internal: n.internal,
            })
            .collect(),
        ports,
    };
    View {
        table,
        // No live container, no resolver (a stopped stack leaves none).
        listen: if entries.is_empty() {
            Vec::new()
        } else {
            networks
                .values()
                .map(|n| SocketAddr::from((n.resolver, 53)))
                .collect()
        },
        rules,
        bridges: networks.values().map(|n| n.bridge.clone()).collect(),
        localnet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{NetworkDef, Rootfs, Service, ServiceNetwork};

    fn net(name: &str, third: u8, internal: bool) -> InUse {
        InUse {
            name: name.into(),
            bridge: format!("stk-{third}"),
            subnet: Ipv4Net::new(Ipv4Addr::new(10, 89, third, 0), 24).unwrap(),
            gateway: Ipv4Addr::new(10, 89, third, 1),
            internal,
            resolver: Ipv4Addr::new(10, 89, third, 1),
        }
    }

    fn addr(n: &InUse, key: &str, last: u8) -> NetAddress {
        let o = n.gateway.octets();
        NetAddress {
            network: n.name.clone(),
            key: key.into(),
            address: Ipv4Addr::new(o[0], o[1], o[2], last),
            bridge: n.bridge.clone(),
        }
    }

    fn stack() -> Stack {
        let mut web = Service::new("web", Rootfs::Dir("/r".into()));
        web.container_name = Some("the-web".into());
        web.networks.insert(
            "front".into(),
            ServiceNetwork {
                aliases: vec!["www".into()],
                ipv4_address: None,
                mac_address: None,
                priority: 0,
                network: NetworkDef::new("demo_front"),
            },
        );
        let mut client = Service::new("client", Rootfs::Dir("/r".into()));
        client.links = vec![("web".into(), "site".into())];
        Stack {
            name: "demo".into(),
            file: "/s/stack.yaml".into(),
            overrides: Vec::new(),
            dir: "/s".into(),
            services: [("web".into(), web), ("client".into(), client)].into(),
            volumes: Default::default(),
            networks: Default::default(),
            inputs: vec![],
            replicas: Default::default(),
        }
    }

    #[test]
    fn names_are_service_number_id_container_name_aliases_and_links() {
        let e = Entry {
            service: "web".into(),
            id: "demo-web-1".into(),
            addresses: vec![],
            ports: vec![],
        };
        assert_eq!(
            names(&stack(), &e, "front"),
            ["demo-web-1", "site", "the-web", "web", "web-1", "www"]
        );
        // Aliases are per network.
        assert!(!names(&stack(), &e, "back").contains(&"www".to_string()));
    }

    #[test]
    fn a_name_is_on_the_networks_of_its_addresses_and_ports_go_to_the_first_open_one() {
        let front = net("demo_front", 1, false);
        let back = net("demo_back", 2, true);
        let networks: BTreeMap<String, InUse> = [
            (front.name.clone(), front.clone()),
            (back.name.clone(), back.clone()),
        ]
        .into();
        let web = Entry {
            service: "web".into(),
            id: "demo-web-1".into(),
            // The internal network first: ports still go to front.
            addresses: vec![addr(&back, "back", 5), addr(&front, "front", 7)],
            ports: vec![
                PublishedPort {
                    host_ip: Some(Ipv4Addr::LOCALHOST),
                    host_port: 8080,
                    container_port: 80,
                    proto: "tcp".into(),
                },
                PublishedPort {
                    host_ip: None,
                    host_port: 5353,
                    container_port: 53,
                    proto: "udp".into(),
                },
            ],
        };
        let v = view("demo", &stack(), &[web], &networks);
        assert_eq!(
            v.table.networks["demo_front"]["web"],
            [Ipv4Addr::new(10, 89, 1, 7)]
        );
        assert_eq!(
            v.table.networks["demo_back"]["web"],
            [Ipv4Addr::new(10, 89, 2, 5)]
        );
        assert!(v.table.networks["demo_front"].contains_key("www"));
        assert!(!v.table.networks["demo_back"].contains_key("www"));
        assert_eq!(v.rules.ports.len(), 2);
        assert!(v
            .rules
            .ports
            .iter()
            .all(|p| p.container_ip == Ipv4Addr::new(10, 89, 1, 7) && p.bridge == "stk-1"));
        assert_eq!(v.localnet, ["stk-1".to_string()].into());
        assert_eq!(v.rules.table, "stack-demo");
        assert_eq!(v.listen.len(), 2);
    }
}
