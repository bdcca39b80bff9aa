//! The project's table as an nft script. Pure: the same rules give the
//! same text, so a reconcile that changes nothing rewrites nothing new.

use std::fmt::Write;

use super::{Publish, Rules};

/// The script that replaces `rules.table` whole: declare it (so the
/// delete cannot fail), delete it, define it again — one transaction.
pub fn render(rules: &Rules) -> String {
    let t = &rules.table;
    let mut s = String::new();
    let _ = writeln!(s, "table inet {t} {{}}");
    let _ = writeln!(s, "delete table inet {t}");
    let _ = writeln!(s, "table inet {t} {{");
    guard(&mut s, rules);
    forward(&mut s, rules);
    prerouting(&mut s, rules);
    output(&mut s, rules);
    postrouting(&mut s, rules);
    s.push_str("}\n");
    s
}

/// A container never reaches the host's loopback: with `route_localnet`
/// on (for `localhost:PORT` publishing) the kernel would route a packet a
/// container sent to 127.0.0.1 through the gateway (moby#45610).
fn guard(s: &mut String, rules: &Rules) {
    s.push_str("\tchain guard {\n\t\ttype filter hook prerouting priority raw; policy accept;\n");
    for n in &rules.networks {
        let _ = writeln!(s, "\t\tiifname \"{}\" ip daddr 127.0.0.0/8 drop", n.bridge);
    }
    s.push_str("\t}\n");
}

/// `internal` networks: nothing in or out but within the bridge.
fn forward(s: &mut String, rules: &Rules) {
    s.push_str("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
    for n in rules.networks.iter().filter(|n| n.internal) {
        let b = &n.bridge;
        let _ = writeln!(s, "\t\tiifname \"{b}\" oifname != \"{b}\" drop");
        let _ = writeln!(s, "\t\toifname \"{b}\" iifname != \"{b}\" drop");
    }
    s.push_str("\t}\n");
}

/// The match of a published port's destination: one host address, or any
/// local address.
fn destination(p: &Publish) -> String {
    match p.host_ip {
        Some(ip) => format!("ip daddr {ip}"),
        None => "fib daddr type local".to_string(),
    }
}

fn dnat(p: &Publish) -> String {
    format!(
        "{} {} dport {} dnat ip to {}:{}",
        destination(p),
        p.proto.as_str(),
        p.host_port,
        p.container_ip,
        p.container_port
    )
}

/// Published ports, for traffic from elsewhere (and from containers: the
/// hairpin). A port published on a loopback address is only for the host
/// itself: it gets no rule here, so a packet for 127.0.0.1 sent to this
/// host by a neighbour stays a martian the kernel drops (moby#45610).
fn prerouting(s: &mut String, rules: &Rules) {
    s.push_str(
        "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n",
    );
    for p in rules
        .ports
        .iter()
        .filter(|p| !p.host_ip.is_some_and(|ip| ip.is_loopback()))
    {
        let _ = writeln!(s, "\t\t{}", dnat(p));
    }
    s.push_str("\t}\n");
}

/// Published ports, for the host itself (`localhost:8080`, its own
/// addresses).
fn output(s: &mut String, rules: &Rules) {
    s.push_str("\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n");
    for p in &rules.ports {
        let _ = writeln!(s, "\t\t{}", dnat(p));
    }
    s.push_str("\t}\n");
}

/// Masquerade what leaves a bridge for elsewhere; and what a DNAT sent into
/// a bridge from the host's loopback or from the bridge itself (hairpin),
/// so the answer comes back the way it went.
fn postrouting(s: &mut String, rules: &Rules) {
    s.push_str(
        "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n",
    );
    for n in &rules.networks {
        let (b, net, len) = (&n.bridge, n.subnet, n.prefix);
        if !n.internal {
            let _ = writeln!(s, "\t\tip saddr {net}/{len} oifname != \"{b}\" masquerade");
        }
        let _ = writeln!(s, "\t\toifname \"{b}\" ct status dnat masquerade");
    }
    s.push_str("\t}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::firewall::{NetworkRules, Proto};
    use std::net::Ipv4Addr;

    fn rules() -> Rules {
        Rules {
            table: "stack-demo".into(),
            networks: vec![
                NetworkRules {
                    bridge: "stk-0a1b2c3d".into(),
                    subnet: Ipv4Addr::new(10, 89, 0, 0),
                    prefix: 24,
                    internal: false,
                },
                NetworkRules {
                    bridge: "stk-99999999".into(),
                    subnet: Ipv4Addr::new(10, 89, 1, 0),
                    prefix: 24,
                    internal: true,
                },
            ],
            ports: vec![
                Publish {
                    host_ip: None,
                    host_port: 8080,
                    proto: Proto::Tcp,
                    bridge: "stk-0a1b2c3d".into(),
                    container_ip: Ipv4Addr::new(10, 89, 0, 2),
                    container_port: 80,
                },
                Publish {
                    host_ip: Some(Ipv4Addr::LOCALHOST),
                    host_port: 5353,
                    proto: Proto::Udp,
                    bridge: "stk-0a1b2c3d".into(),
                    container_ip: Ipv4Addr::new(10, 89, 0, 3),
                    container_port: 53,
                },
            ],
        }
    }

    #[test]
    fn the_table_is_replaced_whole_in_one_script() {
        let s = render(&rules());
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "table inet stack-demo {}");
        assert_eq!(lines[1], "delete table inet stack-demo");
        assert_eq!(lines[2], "table inet stack-demo {");
        assert_eq!(lines.last(), Some(&"}"));
    }

    #[test]
    fn ports_are_dnatted_for_others_and_for_the_host() {
        let s = render(&rules());
        let any = "fib daddr type local tcp dport 8080 dnat ip to 10.89.0.2:80";
        let local = "ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.89.0.3:53";
        // Once in prerouting, once in output; a loopback publish only in
        // output (the host's own traffic).
        assert_eq!(s.matches(any).count(), 2, "{s}");
        assert_eq!(s.matches(local).count(), 1, "{s}");
        let output = &s[s.find("chain output").unwrap()..];
        assert!(output.contains(local), "{s}");
    }

    #[test]
    fn internal_networks_drop_and_do_not_masquerade() {
        let s = render(&rules());
        assert!(s.contains("ip saddr 10.89.0.0/24 oifname != \"stk-0a1b2c3d\" masquerade"));
        assert!(!s.contains("ip saddr 10.89.1.0/24"), "{s}");
        assert!(s.contains("iifname \"stk-99999999\" oifname != \"stk-99999999\" drop"));
        assert!(s.contains("oifname \"stk-0a1b2c3d\" ct status dnat masquerade"));
    }

    #[test]
    fn a_bridge_cannot_send_to_the_hosts_loopback() {
        let s = render(&rules());
        assert!(
            s.contains("type filter hook prerouting priority raw;"),
            "{s}"
        );
        assert!(
            s.contains("iifname \"stk-0a1b2c3d\" ip daddr 127.0.0.0/8 drop"),
            "{s}"
        );
    }

    #[test]
    fn the_same_rules_render_the_same_text() {
        assert_eq!(render(&rules()), render(&rules()));
    }
}
