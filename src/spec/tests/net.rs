//! Loader tests for networking (issue 11): top-level `networks`, a
//! service's `networks`, `network_mode`, `ports`, `expose`,
//! `container_name`, `links`, `extra_hosts`, `dns*` — each rule by its
//! exact `LINE:COL: path: message`.

use super::*;
use std::net::{IpAddr, Ipv4Addr};

/// Service `a` with `body` (starting on line 4), then `tail` at the top level.
fn file(body: &str, tail: &str) -> String {
    format!("services:\n  a:\n    {HOST}\n    {body}\n{tail}")
}

/// Each `(service body, top-level tail, the one expected error)`.
fn check_cases(cases: &[(&str, &str, &str)]) {
    let mut failures = Vec::new();
    for (body, tail, want) in cases {
        let yaml = file(body, tail);
        let d = Dir::new();
        let got = match load_in(&d, &yaml, &[], &opts()) {
            Ok(_) => vec!["(loaded)".to_string()],
            Err(e) => {
                let prefix = format!("{}:", d.file().display());
                e.into_iter()
                    .map(|l| l.strip_prefix(&prefix).unwrap_or(&l).to_string())
                    .collect()
            }
        };
        if got != vec![want.to_string()] {
            failures.push(format!("{body} / {tail}\n  want: {want}\n  got:  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn top_level_networks_load_as_compose_names_them() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    networks: [front, back, ext]\n  b:\n    {HOST}\nnetworks:\n  front:\n    driver: bridge\n    attachable: true\n    labels: [tier=front]\n    driver_opts: {{ com.docker.network.bridge.name: br-front, com.docker.network.driver.mtu: 1400 }}\n    ipam:\n      driver: default\n      config:\n        - subnet: 172.28.0.0/16\n          ip_range: 172.28.5.0/24\n          gateway: 172.28.5.254\n  back: {{ internal: true, name: my-back, enable_ipv6: false }}\n  ext: {{ external: true, name: shared }}\n  unused: {{ ipam: {{ config: [{{ subnet: 10.9.0.0/24 }}] }} }}\n"
    ));
    let front = &s.networks["front"];
    assert_eq!(front.name, "t_front");
    assert_eq!(front.subnet, Some("172.28.0.0/16".parse().unwrap()));
    assert_eq!(front.ip_range, Some("172.28.5.0/24".parse().unwrap()));
    assert_eq!(front.gateway, Some(Ipv4Addr::new(172, 28, 5, 254)));
    assert_eq!(front.bridge.as_deref(), Some("br-front"));
    assert_eq!(front.mtu, Some(1400));
    assert_eq!(front.labels["tier"], "front");
    assert!(!front.internal && !front.external);
    let back = &s.networks["back"];
    assert_eq!((back.name.as_str(), back.internal), ("my-back", true));
    let ext = &s.networks["ext"];
    assert_eq!((ext.name.as_str(), ext.external), ("shared", true));
    // Only the networks a service joins; `b` joins `default`.
    assert_eq!(
        s.networks.keys().collect::<Vec<_>>(),
        ["back", "default", "ext", "front"]
    );
    assert_eq!(s.networks["default"], NetworkDef::new("t_default"));
    let a = &s.services["a"];
    assert_eq!(a.networks["front"].network, *front);
    assert_eq!(a.networks["ext"].network, *ext);
    assert_eq!(
        s.services["b"].networks.keys().collect::<Vec<_>>(),
        ["default"]
    );
    // An external network's name defaults to its key (no project prefix).
    let s = ok(&file(
        "networks: [shared]",
        "networks:\n  shared: { external: true }\n",
    ));
    assert_eq!(s.networks["shared"].name, "shared");
    // `default` may be declared to configure it.
    let s = ok(&file(
        "ports: [\"8080:80\"]",
        "networks:\n  default: { ipam: { config: [{ subnet: 10.5.0.0/24 }] } }\n",
    ));
    assert_eq!(s.networks["default"].name, "t_default");
    assert_eq!(
        s.services["a"].networks["default"].network.subnet,
        Some("10.5.0.0/24".parse().unwrap())
    );
}

#[test]
fn top_level_network_errors_say_where() {
    let net = |n: &str| format!("networks:\n  front: {n}\n");
    let cases: Vec<(String, &str)> = vec![
        (net("{ driver: overlay }"), "6:20: networks.front.driver: network driver \"overlay\" is not supported (only bridge)"),
        (net("{ enable_ipv6: true }"), "6:25: networks.front.enable_ipv6: IPv6 networks are not supported yet; remove `enable_ipv6` (or set it to false)"),
        (net("{ enable_ipv4: false }"), "6:25: networks.front.enable_ipv4: IPv6-only networks are not supported yet: a network always has IPv4; remove `enable_ipv4: false`"),
        (net("{ ipam: { config: [{ subnet: \"fd00::/64\" }] } }"), "6:39: networks.front.ipam.config[0].subnet: IPv6 subnet \"fd00::/64\" is not supported yet; give an IPv4 network such as 172.28.0.0/16"),
        (net("{ ipam: { config: [{ subnet: 10.0.0.0/33 }] } }"), "6:39: networks.front.ipam.config[0].subnet: invalid subnet \"10.0.0.0/33\" (expected an IPv4 network such as 172.28.0.0/16)"),
        (net("{ ipam: { config: [{ subnet: 10.0.1.0/16 }] } }"), "6:39: networks.front.ipam.config[0].subnet: subnet 10.0.1.0/16 has host bits set; write 10.0.0.0/16"),
        (net("{ ipam: { config: [{ subnet: 10.0.0.0/31 }] } }"), "6:39: networks.front.ipam.config[0].subnet: subnet 10.0.0.0/31 is too small; give at least a /30 (a network needs its gateway and an address per container)"),
        (net("{ ipam: { config: [{ subnet: 10.0.0.0/24, gateway: 10.0.1.1 }] } }"), "6:61: networks.front.ipam.config[0].gateway: gateway 10.0.1.1 is not inside subnet 10.0.0.0/24"),
        (net("{ ipam: { config: [{ subnet: 10.0.0.0/24, gateway: 10.0.0.255 }] } }"), "6:61: networks.front.ipam.config[0].gateway: gateway 10.0.0.255 is the broadcast address of subnet 10.0.0.0/24"),
        (net("{ ipam: { config: [{ subnet: 10.0.0.0/24, ip_range: 10.1.0.0/25 }] } }"), "6:62: networks.front.ipam.config[0].ip_range: ip_range 10.1.0.0/25 is not inside subnet 10.0.0.0/24; give a part of the subnet"),
        (net("{ ipam: { config: [{ gateway: 10.0.0.1 }] } }"), "6:40: networks.front.ipam.config[0].gateway: `gateway` needs `subnet` beside it"),
        (net("{ ipam: { config: [{ subnet: 10.0.0.0/24 }, { subnet: 10.1.0.0/24 }] } }"), "6:54: networks.front.ipam.config[1]: a network has one subnet in stack: give one `ipam.config` entry; remove this one"),
        (net("{ ipam: { driver: dhcp } }"), "6:28: networks.front.ipam.driver: ipam driver \"dhcp\" is not supported (only `default`, stack's own address management)"),
        (net("{ ipam: { options: { a: b } } }"), "6:20: networks.front.ipam.options: `options` is a Compose key stack does not support yet; remove it"),
        (net("{ ipam: { config: [{ subnet: 10.0.0.0/24, aux_addresses: { h: 10.0.0.5 } }] } }"), "6:52: networks.front.ipam.config[0].aux_addresses: `aux_addresses` is a Compose key stack does not support yet; remove it"),
        (net("{ driver_opts: { com.docker.network.bridge.name: \"a/b\" } }"), "6:59: networks.front.driver_opts.com.docker.network.bridge.name: invalid bridge name \"a/b\" (1 to 15 bytes, no `/`, `:` or whitespace)"),
        (net("{ driver_opts: { com.docker.network.bridge.name: sixteen-bytes-xx } }"), "6:59: networks.front.driver_opts.com.docker.network.bridge.name: invalid bridge name \"sixteen-bytes-xx\" (1 to 15 bytes, no `/`, `:` or whitespace)"),
        (net("{ driver_opts: { com.docker.network.driver.mtu: 67 } }"), "6:58: networks.front.driver_opts.com.docker.network.driver.mtu: invalid mtu \"67\" (68 to 65535)"),
        (net("{ driver_opts: { com.docker.network.bridge.enable_icc: \"false\" } }"), "6:27: networks.front.driver_opts.com.docker.network.bridge.enable_icc: driver option `com.docker.network.bridge.enable_icc` is not supported yet (only com.docker.network.bridge.name and com.docker.network.driver.mtu); remove it"),
        (net("{ external: true, internal: true }"), "6:28: networks.front.internal: `internal` cannot be set on an external network (another project makes it); keep only `name`"),
        (net("{ external: { name: x } }"), "6:22: networks.front.external: `external: { name: … }` is Compose's obsolete form; write `external: true` and `name: …` beside it"),
        (net("{ name: \"-x\" }"), "6:18: networks.front.name: invalid network name \"-x\" (letters, digits, `_`, `.` and `-`, starting with a letter or digit)"),
        (net("{ drivr: bridge }"), "6:12: networks.front.drivr: unknown key `drivr` (did you mean `driver`?)"),
        (net("[x]"), "6:10: networks.front: expected a map, found a list"),
        ("networks:\n  front: { ipam: { config: [{ subnet: 10.0.0.0/16 }] } }\n  back: { ipam: { config: [{ subnet: 10.0.3.0/24 }] } }\n".to_string(), "7:38: networks.back.ipam.config[0].subnet: subnet 10.0.3.0/24 overlaps subnet 10.0.0.0/16 of network `front`; give each network a range of its own"),
        ("networks:\n  front: { name: same }\n  back: { name: same }\n".to_string(), "7:17: networks.back.name: network name `same` is already the name of network `front`; give each network its own name"),
        ("networks:\n  front: { driver_opts: { com.docker.network.bridge.name: br0 } }\n  back: { driver_opts: { com.docker.network.bridge.name: br0 } }\n".to_string(), "7:58: networks.back.driver_opts.com.docker.network.bridge.name: bridge name `br0` is already the bridge of network `front`; give each network its own"),
        ("networks:\n  \"-bad\": {}\n".to_string(), "6:3: networks.-bad: invalid network name \"-bad\" (letters, digits, `_`, `.` and `-`, starting with a letter or digit)"),
    ];
    let cases: Vec<(&str, &str, &str)> = cases
        .iter()
        .map(|(t, w)| ("init: true", t.as_str(), *w))
        .collect();
    check_cases(&cases);
    // Two external networks may name the same network; a second network
    // made by this file may not take an external one's name.
    ok(&file(
        "init: true",
        "networks:\n  a: { external: true, name: x }\n  b: { external: true, name: x }\n",
    ));
    check_cases(&[(
        "init: true",
        "networks:\n  a: { external: true, name: x }\n  b: { name: x }\n",
        "7:14: networks.b.name: network name `x` is already the name of network `a`; give each network its own name",
    )]);
}

#[test]
fn service_networks_list_and_map_forms() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    networks:\n      front:\n        aliases: [www, web.local]\n        ipv4_address: 10.1.0.10\n        mac_address: 02:42:AC:11:00:02\n        priority: 100\n      back:\n  b:\n    {HOST}\n    networks: [back]\n    mac_address: 02-42-AC-11-00-03\nnetworks:\n  front: {{ ipam: {{ config: [{{ subnet: 10.1.0.0/24 }}] }} }}\n  back:\n"
    ));
    let a = &s.services["a"];
    let f = &a.networks["front"];
    assert_eq!(f.aliases, ["www", "web.local"]);
    assert_eq!(f.ipv4_address, Some(Ipv4Addr::new(10, 1, 0, 10)));
    assert_eq!(f.mac_address.as_deref(), Some("02:42:ac:11:00:02"));
    assert_eq!(f.priority, 100);
    assert_eq!(a.networks["back"].priority, 0);
    assert_eq!(a.networks["back"].network.name, "t_back");
    // The service-level mac_address goes to its (first) network.
    let b = &s.services["b"];
    assert_eq!(
        b.networks["back"].mac_address.as_deref(),
        Some("02:42:ac:11:00:03")
    );
    assert_eq!(
        s.networks.keys().collect::<Vec<_>>(),
        ["back", "front"],
        "no service joins default"
    );
    // ... the one of highest priority, else the first key.
    let s = ok(&file(
        "networks: { x: { priority: 1 }, y: { priority: 5 } }\n    mac_address: 02:00:00:00:00:01",
        "networks: { x: {}, y: {} }\n",
    ));
    assert!(s.services["a"].networks["y"].mac_address.is_some());
    assert!(s.services["a"].networks["x"].mac_address.is_none());
    // `networks: []` is `default`, as Compose.
    let s = ok(&file("networks: []", ""));
    assert_eq!(
        s.services["a"].networks.keys().collect::<Vec<_>>(),
        ["default"]
    );
    // `default` joined explicitly, beside another.
    let s = ok(&file(
        "networks: [default, front]",
        "networks: { front: {} }\n",
    ));
    assert_eq!(s.services["a"].networks.len(), 2);
}

#[test]
fn service_network_errors_say_where() {
    let sub = "networks:\n  front: { ipam: { config: [{ subnet: 10.1.0.0/24, gateway: 10.1.0.254 }] } }\n";
    let plain = "networks:\n  front: {}\n";
    check_cases(&[
        ("networks: [frnt]", plain, "4:16: services.a.networks[0]: network `frnt` is not declared; add it to the top-level `networks` (did you mean `front`?)"),
        ("networks: [front, front]", plain, "4:23: services.a.networks[1]: `front` is listed twice"),
        ("networks: front", plain, "4:15: services.a.networks: expected a list of network names or a map, found a scalar"),
        ("networks: { front: { ipv4_address: 10.1.0.9 } }", plain, "4:40: services.a.networks.front.ipv4_address: ipv4_address needs the network's subnet: give networks.front.ipam.config[0].subnet (Docker, too, assigns fixed addresses only from a configured subnet)"),
        ("networks: { front: { ipv4_address: 10.2.0.9 } }", sub, "4:40: services.a.networks.front.ipv4_address: ipv4_address 10.2.0.9 is not inside subnet 10.1.0.0/24 of network `front`; give an address inside it"),
        ("networks: { front: { ipv4_address: 10.1.0.0 } }", sub, "4:40: services.a.networks.front.ipv4_address: ipv4_address 10.1.0.0 is the network address of subnet 10.1.0.0/24 of network `front`; give an address inside it"),
        ("networks: { front: { ipv4_address: 10.1.0.255 } }", sub, "4:40: services.a.networks.front.ipv4_address: ipv4_address 10.1.0.255 is the broadcast address of subnet 10.1.0.0/24 of network `front`; give an address inside it"),
        ("networks: { front: { ipv4_address: 10.1.0.254 } }", sub, "4:40: services.a.networks.front.ipv4_address: ipv4_address 10.1.0.254 is the gateway of network `front`; give another address"),
        ("networks: { front: { ipv4_address: 10.1.0.1 } }", "networks:\n  front: { ipam: { config: [{ subnet: 10.1.0.0/24 }] } }\n", "4:40: services.a.networks.front.ipv4_address: ipv4_address 10.1.0.1 is the gateway of network `front`; give another address"),
        ("networks: { front: { ipv4_address: \"fd00::1\" } }", sub, "4:40: services.a.networks.front.ipv4_address: IPv6 ipv4_address \"fd00::1\" is not supported yet; give an IPv4 address"),
        ("networks: { front: { ipv4_address: nope } }", sub, "4:40: services.a.networks.front.ipv4_address: invalid ipv4_address \"nope\" (expected an IPv4 address such as 172.28.0.10)"),
        ("networks: { ext: { ipv4_address: 10.1.0.9 } }", "networks:\n  ext: { external: true }\n", "4:38: services.a.networks.ext.ipv4_address: a fixed ipv4_address on external network `ext` is not supported yet (its subnet is not in this file); remove it"),
        ("networks: { front: { mac_address: \"01:00:5e:00:00:01\" } }", plain, "4:39: services.a.networks.front.mac_address: mac_address \"01:00:5e:00:00:01\" is a multicast address (its first byte must be even); use e.g. 02:42:ac:11:00:02"),
        ("networks: { front: { mac_address: \"02:42:ac:11:00\" } }", plain, "4:39: services.a.networks.front.mac_address: invalid mac_address \"02:42:ac:11:00\" (expected six hex pairs such as 02:42:ac:11:00:02)"),
        ("mac_address: \"00:00:00:00:00:00\"", "", "4:18: services.a.mac_address: mac_address 00:00:00:00:00:00 cannot be an interface's; use e.g. 02:42:ac:11:00:02"),
        ("networks: { front: { mac_address: \"02:00:00:00:00:01\" } }\n    mac_address: \"02:00:00:00:00:02\"", plain, "5:18: services.a.mac_address: `mac_address` is given both here and in networks.front.mac_address; give it once, on the network"),
        ("networks: { front: { aliases: [\"a b\"] } }", plain, "4:36: services.a.networks.front.aliases[0]: invalid alias \"a b\" (letters, digits, `-`, `_` and `.`, starting with a letter or digit)"),
        ("networks: { front: { aliases: [x, x] } }", plain, "4:39: services.a.networks.front.aliases[1]: `x` is listed twice"),
        ("networks: { front: { priority: 1e3 } }", plain, "4:36: services.a.networks.front.priority: expected an integer, found \"1e3\""),
        ("networks: { front: { priority: 3000000000 } }", plain, "4:36: services.a.networks.front.priority: priority 3000000000 out of range (-2147483648 to 2147483647)"),
        ("networks: { front: { gw_priority: 1 } }", plain, "4:26: services.a.networks.front.gw_priority: `gw_priority` is a Compose key stack does not support yet; remove it"),
        ("networks: { front: { link_local_ips: [169.254.0.5] } }", plain, "4:26: services.a.networks.front.link_local_ips: `link_local_ips` is a Compose key stack does not support yet; remove it"),
        ("networks: { front: { driver_opts: { a: b } } }", plain, "4:26: services.a.networks.front.driver_opts: `driver_opts` is a Compose key stack does not support yet; remove it"),
        ("networks: { front: { ipv6_address: \"fd00::5\" } }", plain, "4:26: services.a.networks.front.ipv6_address: `ipv6_address` is a Compose key stack does not support yet; remove it"),
        ("networks: { front: { alias: [x] } }", plain, "4:26: services.a.networks.front.alias: unknown key `alias` (did you mean `aliases`?)"),
    ]);
}

#[test]
fn addresses_and_names_are_unique_in_the_file() {
    let net = "networks:\n  front: { ipam: { config: [{ subnet: 10.1.0.0/24 }] } }\n";
    let e = errs(&format!(
        "services:\n  b:\n    {HOST}\n    networks: {{ front: {{ ipv4_address: 10.1.0.5, mac_address: \"02:00:00:00:00:01\" }} }}\n    container_name: one\n  a:\n    {HOST}\n    networks: {{ front: {{ ipv4_address: 10.1.0.5, mac_address: \"02:00:00:00:00:01\" }} }}\n    container_name: one\n{net}"
    ));
    assert_eq!(
        e,
        [
            "8:40: services.a.networks.front.ipv4_address: ipv4_address 10.1.0.5 is already given by services.b.networks.front.ipv4_address; give each container its own address",
            "8:63: services.a.networks.front.mac_address: mac_address 02:00:00:00:00:01 is already given by services.b.networks.front.mac_address on network `front`; give each container its own",
            "9:21: services.a.container_name: container_name `one` is already the name of service `b`; give each container its own",
        ]
    );
    // A service whose profile is off takes no address.
    ok(&format!(
        "services:\n  b:\n    {HOST}\n    profiles: [x]\n    networks: {{ front: {{ ipv4_address: 10.1.0.5 }} }}\n  a:\n    {HOST}\n    networks: {{ front: {{ ipv4_address: 10.1.0.5 }} }}\n{net}"
    ));
}

#[test]
fn network_modes_and_what_they_forbid() {
    let s = ok(&format!(
        "services:\n  web:\n    {HOST}\n  side:\n    {HOST}\n    network_mode: service:web\n  h:\n    {HOST}\n    network_mode: host\n    dns: 1.1.1.1\n  n:\n    {HOST}\n    network_mode: none\n  b:\n    {HOST}\n    network_mode: bridge\n"
    ));
    let side = &s.services["side"];
    assert_eq!(side.network_mode, NetworkMode::Service("web".into()));
    assert!(side.networks.is_empty());
    // Compose's implied dependency: started after web, restarted with it.
    assert_eq!(
        side.depends_on["web"],
        Dependency {
            condition: Condition::ServiceStarted,
            restart: true,
            required: true
        }
    );
    assert_eq!(s.services["h"].network_mode, NetworkMode::Host);
    assert!(s.services["h"].networks.is_empty());
    assert!(s.services["n"].networks.is_empty());
    assert_eq!(s.services["b"].network_mode, NetworkMode::Bridge);
    assert_eq!(
        s.services["b"].networks.keys().collect::<Vec<_>>(),
        ["default"]
    );
    // An explicit depends_on wins over the implied one.
    let s = ok(&format!(
        "services:\n  web:\n    {HOST}\n  side:\n    {HOST}\n    network_mode: service:web\n    depends_on: {{ web: {{ condition: service_healthy }} }}\n"
    ));
    let d = &s.services["side"].depends_on["web"];
    assert_eq!((d.condition, d.restart), (Condition::ServiceHealthy, false));

    let two = |body: &str| format!("{body}\n  web:\n    {HOST}");
    let svc = "network_mode: service:web";
    let why = "network_mode: service:web (the service uses `web`'s network namespace); set it on `web` or remove it";
    let cases: Vec<(String, String)> = vec![
        (two(&format!("{svc}\n    ports: [\"80:80\"]")), format!("5:12: services.a.ports: `ports` cannot be set with {why}")),
        (two(&format!("{svc}\n    hostname: x")), format!("5:15: services.a.hostname: `hostname` cannot be set with {why}")),
        (two(&format!("{svc}\n    dns: 1.1.1.1")), format!("5:10: services.a.dns: `dns` cannot be set with {why}")),
        (two(&format!("{svc}\n    dns_search: example.com")), format!("5:17: services.a.dns_search: `dns_search` cannot be set with {why}")),
        (two(&format!("{svc}\n    dns_opt: [ndots:2]")), format!("5:14: services.a.dns_opt: `dns_opt` cannot be set with {why}")),
        (two(&format!("{svc}\n    extra_hosts: [\"x:1.2.3.4\"]")), format!("5:18: services.a.extra_hosts: `extra_hosts` cannot be set with {why}")),
        (two(&format!("{svc}\n    mac_address: 02:00:00:00:00:01")), format!("5:18: services.a.mac_address: `mac_address` cannot be set with {why}")),
        (two(&format!("{svc}\n    networks: [default]")), format!("5:15: services.a.networks: `networks` cannot be set with {why}")),
        (two(&format!("{svc}\n    links: [web]")), format!("5:12: services.a.links: `links` cannot be set with {why}")),
        (two(&format!("{svc}\n    expose: [80]")), format!("5:13: services.a.expose: `expose` cannot be set with {why}")),
        ("network_mode: host\n    networks: [default]".into(), "5:15: services.a.networks: `networks` cannot be set with network_mode: host (the service uses the host's network); remove it or the network_mode".into()),
        (two("network_mode: host\n    links: [web]"), "5:12: services.a.links: `links` cannot be set with network_mode: host (the service uses the host's network); remove it or the network_mode".into()),
        ("network_mode: none\n    mac_address: 02:00:00:00:00:01".into(), "5:18: services.a.mac_address: `mac_address` cannot be set with network_mode: none (the container has only loopback); remove it or the network_mode".into()),
        ("network_mode: service:a".into(), "4:19: services.a.network_mode: service `a` cannot share its own network namespace; name another service after `service:`".into()),
        (two("network_mode: service:webx"), "4:19: services.a.network_mode: network_mode: service `webx` is not defined (did you mean `web`?); name a service of this file".into()),
        ("network_mode: default".into(), "4:19: services.a.network_mode: invalid network_mode \"default\" (expected bridge, none, host or service:NAME; to join a network, list it under `networks`)".into()),
    ];
    let cases: Vec<(&str, &str, &str)> = cases
        .iter()
        .map(|(b, w)| (b.as_str(), "", w.as_str()))
        .collect();
    check_cases(&cases);
}

#[test]
fn a_cycle_through_network_mode_says_so() {
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    network_mode: service:b\n  b:\n    {HOST}\n    depends_on: [a]\n"
    ));
    assert_eq!(e, "4:19: services.a.depends_on: dependency cycle: a → b → a (`a` has network_mode: service:b; remove one of these depends_on, network_mode or links)");
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    links: [b]\n  b:\n    {HOST}\n    links: [\"a:x\"]\n"
    ));
    assert_eq!(e, "4:12: services.a.depends_on: dependency cycle: a → b → a (`a` links to `b`, `b` links to `a`; remove one of these depends_on, network_mode or links)");
    // The implied dependency on a service whose profile is off.
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    network_mode: service:b\n  b:\n    {HOST}\n    profiles: [x]\n"
    ));
    assert_eq!(e, "4:19: services.a.network_mode: service `a` depends on `b`, which is not active: enable its profile with --profile x");
}

#[test]
fn ports_ranges_expand_and_bad_ones_say_why() {
    let s = ok(&file(
        "ports: [\"8000-8001:80-81\", \"90-91/udp\", \"127.0.0.1:9000-9010:99\", \"127.0.0.1::100\", { target: 200, published: \"2000-2005\", host_ip: 127.0.0.1 }, { target: 300, published: 3000, protocol: udp }]",
        "",
    ));
    let p = &s.services["a"].ports;
    let shown: Vec<(Option<&str>, Option<&str>, u16, &str)> = p
        .iter()
        .map(|p| {
            (
                p.host_ip.as_deref(),
                p.published.as_deref(),
                p.target,
                p.protocol.as_str(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (None, Some("8000"), 80, "tcp"),
            (None, Some("8001"), 81, "tcp"),
            (None, None, 90, "udp"),
            (None, None, 91, "udp"),
            (Some("127.0.0.1"), Some("9000-9010"), 99, "tcp"),
            (Some("127.0.0.1"), None, 100, "tcp"),
            (Some("127.0.0.1"), Some("2000-2005"), 200, "tcp"),
            (None, Some("3000"), 300, "udp"),
        ]
    );
    check_cases(&[
        ("ports: [\"8000-8002:80-81\"]", "", "4:13: services.a.ports[0]: port ranges differ in size: host 8000-8002 is 3 ports, container 80-81 is 2 ports; give ranges of the same size"),
        ("ports: [\"[::1]:80:80\"]", "", "4:13: services.a.ports[0]: IPv6 publishing is not supported yet; publish on an IPv4 address (e.g. 127.0.0.1:8080:80) or on all of them (8080:80)"),
        ("ports: [\"::1:80:80\"]", "", "4:13: services.a.ports[0]: IPv6 publishing is not supported yet; publish on an IPv4 address (e.g. 127.0.0.1:8080:80) or on all of them (8080:80)"),
        ("ports: [{ target: 80, host_ip: \"::\" }]", "", "4:36: services.a.ports[0].host_ip: IPv6 publishing is not supported yet; publish on an IPv4 address (e.g. 127.0.0.1:8080:80) or on all of them (8080:80)"),
        ("ports: [{ target: 80, host_ip: 1.2.3 }]", "", "4:36: services.a.ports[0].host_ip: invalid host IP \"1.2.3\" in port \"1.2.3\""),
        ("ports: [\"81-80\"]", "", "4:13: services.a.ports[0]: invalid port \"81-80\" (expected [[IP:]HOST:]CONTAINER[/tcp|udp], e.g. 8080:80)"),
        ("ports: [\"80/sctp\"]", "", "4:13: services.a.ports[0]: protocol \"sctp\" is not supported (tcp or udp)"),
        ("ports: [{ target: 80-81 }]", "", "4:23: services.a.ports[0].target: `target` takes one port, not \"80-81\"; write a range in the short form (\"8000-8001:80-81\") or one entry per port"),
        ("ports: [{ target: 0 }]", "", "4:23: services.a.ports[0].target: invalid port \"0\" (1 to 65535)"),
        ("ports: [{ target: 80, published: 9-8 }]", "", "4:38: services.a.ports[0].published: invalid port \"9-8\" (1 to 65535, or a range like 8000-8010)"),
        ("ports: [\"8080:80\", \"127.0.0.1:8080:81\"]", "", "4:24: services.a.ports[1]: host port 127.0.0.1:8080/tcp is already published by services.a.ports[0]; publish each host port once"),
        ("ports: [\"1-2:80-81\", \"2:90\"]", "", "4:26: services.a.ports[1]: host port 0.0.0.0:2/tcp is already published by services.a.ports[0]; publish each host port once"),
        ("networks: [back]\n    ports: [\"80:80\"]", "networks:\n  back: { internal: true }\n", "5:12: services.a.ports: the service joins only internal networks (`back`), which publish no ports; join a network that is not internal, or remove `ports`"),
    ]);
    // Different addresses, or protocols, do not clash; across services they do.
    ok(&file(
        "ports: [\"127.0.0.1:80:80\", \"127.0.0.2:80:80\", \"80:80/udp\"]",
        "",
    ));
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    ports: [\"80:80\"]\n  b:\n    {HOST}\n    ports: [\"0.0.0.0:80:81\"]\n"
    ));
    assert_eq!(e, "7:13: services.b.ports[0]: host port 0.0.0.0:80/tcp is already published by services.a.ports[0]; publish each host port once");
    // One network that is not internal is enough.
    ok(&file(
        "networks: [back, default]\n    ports: [\"80:80\"]",
        "networks:\n  back: { internal: true }\n",
    ));
}

#[test]
fn expose_container_name_links_hosts_and_dns() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    expose: [80, \"53/udp\", \"8000-8002\", \"80/tcp\"]\n    container_name: my-a.1\n    links: [b, \"b:database\"]\n    extra_hosts: [\"h1:10.0.0.1\", \"h2=::1\", \"h3:[fd00::2]\", \"gw:host-gateway\"]\n    dns: 1.1.1.1\n    dns_search: example.com\n    dns_opt: [\"ndots:2\", use-vc]\n    domainname: example.com\n  b:\n    {HOST}\n    extra_hosts: {{ h4: 10.0.0.4, h5: [10.0.0.5, 10.0.0.6] }}\n    dns: [\"9.9.9.9\", \"2620:fe::fe\"]\n"
    ));
    let a = &s.services["a"];
    assert_eq!(
        a.expose,
        ["80/tcp", "53/udp", "8000/tcp", "8001/tcp", "8002/tcp"]
    );
    assert_eq!(a.container_name.as_deref(), Some("my-a.1"));
    assert_eq!(
        a.links,
        [
            ("b".to_string(), "b".to_string()),
            ("b".to_string(), "database".to_string())
        ]
    );
    // links imply depends_on, as Compose.
    assert!(a.depends_on["b"].restart);
    let hosts: Vec<(&str, &str)> = a
        .extra_hosts
        .iter()
        .map(|h| (h.host.as_str(), h.ip.as_str()))
        .collect();
    assert_eq!(
        hosts,
        [
            ("h1", "10.0.0.1"),
            ("h2", "::1"),
            ("h3", "fd00::2"),
            ("gw", "host-gateway")
        ]
    );
    assert_eq!(a.dns, [IpAddr::from([1, 1, 1, 1])]);
    assert_eq!(a.dns_search, ["example.com"]);
    assert_eq!(a.dns_opt, ["ndots:2", "use-vc"]);
    assert_eq!(a.domainname.as_deref(), Some("example.com"));
    let b = &s.services["b"];
    assert_eq!(b.extra_hosts.len(), 3);
    assert_eq!(b.extra_hosts[2].ip, "10.0.0.6");
    assert_eq!(b.dns[1], "2620:fe::fe".parse::<IpAddr>().unwrap());

    let b = format!("\n  b:\n    {HOST}");
    let b = b.as_str();
    check_cases(&[
        ("expose: [\"80/sctp\"]", "", "4:14: services.a.expose[0]: invalid expose entry \"80/sctp\" (expected PORT[/tcp|udp] or a range such as 8000-8010)"),
        ("expose: [\"0\"]", "", "4:14: services.a.expose[0]: invalid expose entry \"0\" (expected PORT[/tcp|udp] or a range such as 8000-8010)"),
        ("container_name: \"-x\"", "", "4:21: services.a.container_name: invalid container_name \"-x\" (letters, digits, `_`, `.` and `-`, starting with a letter or digit)"),
        ("links: [c]", "", "4:13: services.a.links[0]: link to `c`, which is not a service of this file"),
        ("links: [a]", "", "4:13: services.a.links[0]: service `a` cannot link to itself; remove this link"),
        (&format!("links: [\"b:x y\"]{b}"), "", "4:13: services.a.links[0]: invalid link alias \"x y\" (letters, digits, `-`, `_` and `.`, starting with a letter or digit)"),
        (&format!("links: [b, b]{b}"), "", "4:16: services.a.links[1]: alias `b` is linked twice; give each link its own alias"),
        ("extra_hosts: [\"nohost\"]", "", "4:19: services.a.extra_hosts[0]: invalid extra_hosts entry \"nohost\" (expected HOST:IP or HOST=IP)"),
        ("extra_hosts: [\"h:999.0.0.1\"]", "", "4:19: services.a.extra_hosts[0]: invalid address \"999.0.0.1\" for host `h` (an IP address, or host-gateway)"),
        ("extra_hosts: [\"a b:1.2.3.4\"]", "", "4:19: services.a.extra_hosts[0]: invalid host name \"a b\" in extra_hosts (letters, digits, `-`, `_` and `.`)"),
        ("extra_hosts: { h: [x] }", "", "4:24: services.a.extra_hosts.h[0]: invalid address \"x\" for host `h` (an IP address, or host-gateway)"),
        ("extra_hosts: h", "", "4:18: services.a.extra_hosts: expected a list of HOST:IP strings or a map, found a scalar"),
        ("dns: [1.1.1]", "", "4:11: services.a.dns[0]: invalid dns server \"1.1.1\" (an IP address such as 1.1.1.1)"),
        ("dns_search: [\"a b\"]", "", "4:18: services.a.dns_search[0]: invalid search domain \"a b\" (one word, no spaces)"),
        ("dns_opt: [\"\"]", "", "4:15: services.a.dns_opt[0]: invalid resolver option \"\" (one word, no spaces)"),
        ("domainname: \"a_b\"", "", "4:17: services.a.domainname: invalid domainname \"a_b\" (letters, digits, `-` and `.`, at most 255)"),
    ]);
}

#[test]
fn a_network_no_active_service_joins_is_left_out_but_checked() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n  b:\n    {HOST}\n    profiles: [x]\n    networks: [back]\nnetworks:\n  back: {{}}\n"
    ));
    assert_eq!(s.networks.keys().collect::<Vec<_>>(), ["default"]);
    let e = one_err(&file(
        "init: true",
        "networks:\n  back: { driver: macvlan }\n",
    ));
    assert_eq!(
        e,
        "6:19: networks.back.driver: network driver \"macvlan\" is not supported (only bridge)"
    );
}

#[test]
fn networks_round_trip_through_json_and_yaml() {
    let s = ok(&format!(
        "services:\n  a:\n    {HOST}\n    networks: {{ front: {{ aliases: [x], ipv4_address: 10.1.0.9, priority: 3 }} }}\n    ports: [\"8000-8001:80-81\"]\n    extra_hosts: [\"h:::1\"]\n    dns: [1.1.1.1]\n  b:\n    {HOST}\n    network_mode: service:a\n    depends_on: []\n  c:\n    {HOST}\n    links: [\"a:alias\"]\n    networks: [front]\nnetworks:\n  front: {{ internal: false, labels: {{ a: b }}, ipam: {{ config: [{{ subnet: 10.1.0.0/24, ip_range: 10.1.0.128/25 }}] }}, driver_opts: {{ com.docker.network.driver.mtu: \"1450\" }} }}\n"
    ));
    let json = serde_json::to_string(&s).unwrap();
    let back: Stack = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let yaml = serde_yaml::to_string(&s).unwrap();
    let back: Stack = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(back, s);
}

#[test]
fn a_link_needs_a_shared_network() {
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    links: [\"db:database\"]\n  db:\n    {HOST}\n    networks: [back, other]\nnetworks: {{ back: {{}}, other: {{}} }}\n"
    ));
    assert_eq!(e, "4:13: services.a.links[0]: `a` and `db` share no network, so the link cannot resolve; join one of `back`, `other`");
    let e = one_err(&format!(
        "services:\n  a:\n    {HOST}\n    links: [db]\n  db:\n    {HOST}\n    network_mode: host\n"
    ));
    assert_eq!(e, "4:13: services.a.links[0]: link to `db`, which is on no network of the project (its network_mode); remove the link");
    // Through a shared namespace: `side` is on web's networks.
    ok(&format!(
        "services:\n  a:\n    {HOST}\n    links: [side]\n  web:\n    {HOST}\n  side:\n    {HOST}\n    network_mode: service:web\n"
    ));
}
