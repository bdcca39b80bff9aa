//! Who holds a port: the kernel's socket tables give the inode of the
//! socket bound to it, and `/proc/<pid>/fd` the process that has that
//! socket open (`socket:[inode]`). Best effort: a process of another user
//! namespace or one that is gone by then is simply not found.
//!
//! `/proc/net/{tcp,tcp6,udp,udp6}` list listening, connected and bound UDP
//! sockets, but not a TCP socket that is only bound (which is what a stack
//! reservation is): those come from the kernel's socket diagnostics
//! (`diag.rs`, Linux 6.10 and later).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{diag, Proto};

/// The process holding a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    /// Its `comm` (the kernel's 15-byte name of the program).
    pub command: String,
}

/// One socket of a kernel table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Socket {
    pub local: IpAddr,
    pub port: u16,
    /// The kernel's state number (TCP: 0x0A listening; UDP: 7 unconnected).
    pub state: u8,
    pub inode: u64,
}

/// TCP_LISTEN in the tables' `st` column.
const LISTEN: u8 = 0x0a;

/// The process holding `port`/`proto` in a way that conflicts with binding
/// it on `addr`, if it can be found.
pub fn find_holder(addr: Ipv4Addr, port: u16, proto: Proto) -> Option<Holder> {
    let mut sockets = Vec::new();
    let tables: &[&str] = match proto {
        Proto::Tcp => &["tcp", "tcp6"],
        Proto::Udp => &["udp", "udp6"],
    };
    for table in tables {
        // The calling thread's namespace, where the bind was refused
        // (`/proc/net` is the process leader's).
        if let Ok(text) = std::fs::read_to_string(format!("/proc/thread-self/net/{table}")) {
            sockets.extend(parse_table(&text));
        }
    }
    if proto == Proto::Tcp {
        sockets.extend(diag::bound_tcp(port).unwrap_or_default());
    }
    let ranks = candidates(&sockets, addr, port);
    if ranks.is_empty() {
        return None;
    }
    let (pid, _) = scan_fds(&ranks)?;
    let command = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim_end().to_string())
        .unwrap_or_else(|_| "?".to_string());
    Some(Holder { pid, command })
}

/// The inodes of the sockets in `sockets` that conflict with `addr:port`,
/// each with its rank (0 best): a listener or an unconnected socket before
/// a connection that merely has that local port.
pub(super) fn candidates(sockets: &[Socket], addr: Ipv4Addr, port: u16) -> HashMap<u64, u8> {
    let mut ranks = HashMap::new();
    for s in sockets {
        if s.port != port || s.inode == 0 || !conflicts(addr, s.local) {
            continue;
        }
        let rank = u8::from(!matches!(s.state, LISTEN | 7));
        ranks
            .entry(s.inode)
            .and_modify(|r: &mut u8| *r = (*r).min(rank))
            .or_insert(rank);
    }
    ranks
}

/// Whether a socket bound to `theirs` keeps a bind to `ours` (same port)
/// from succeeding: either is a wildcard, or they are the same address
/// (an IPv6 socket's v4-mapped form included).
pub(super) fn conflicts(ours: Ipv4Addr, theirs: IpAddr) -> bool {
    if ours.is_unspecified() || theirs.is_unspecified() {
        return true;
    }
    match theirs {
        IpAddr::V4(v4) => v4 == ours,
        IpAddr::V6(v6) => v6.to_ipv4_mapped() == Some(ours),
    }
}

/// The lowest pid holding one of `ranks`' inodes with the best rank, and
/// that rank.
fn scan_fds(ranks: &HashMap<u64, u8>) -> Option<(i32, u8)> {
    let mut best: Option<(i32, u8)> = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(rank) = target
                .to_str()
                .and_then(socket_inode)
                .and_then(|inode| ranks.get(&inode))
            else {
                continue;
            };
            let better = match best {
                None => true,
                Some((p, r)) => (*rank, pid) < (r, p),
            };
            if better {
                best = Some((pid, *rank));
            }
        }
    }
    best
}

/// The inode of an fd's link text `socket:[12345]`.
pub(super) fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The sockets of a `/proc/net/{tcp,tcp6,udp,udp6}` table; lines that do
/// not parse (the header) are skipped.
pub(super) fn parse_table(text: &str) -> Vec<Socket> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Socket> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (local, port) = fields.get(1)?.split_once(':')?;
    Some(Socket {
        local: decode_address(local)?,
        port: u16::from_str_radix(port, 16).ok()?,
        state: u8::from_str_radix(fields.get(3)?, 16).ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// An address as the tables print it: each 32-bit word of the address in
/// network order, printed as a native-endian number (`0100007F` is
/// 127.0.0.1 on a little-endian machine).
fn decode_address(hex: &str) -> Option<IpAddr> {
    let word = |i: usize| -> Option<[u8; 4]> {
        let text = hex.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(text, 16).ok()?.to_ne_bytes())
    };
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(0)?))),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table line as the kernel prints it on this machine's endianness.
    fn hex4(ip: Ipv4Addr) -> String {
        format!("{:08X}", u32::from_ne_bytes(ip.octets()))
    }

    fn hex6(ip: Ipv6Addr) -> String {
        ip.octets()
            .chunks(4)
            .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
            .collect()
    }

    const HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

    fn line(local: &str, port: u16, state: u8, inode: u64) -> String {
        format!(
            "   0: {local}:{port:04X} 00000000:0000 {state:02X} 00000000:00000000 00:00000000 00000000     0        0 {inode} 1 0000000000000000 100 0 0 10 0"
        )
    }

    #[test]
    fn tables_parse_on_this_machine() {
        let text = [
            HEADER.to_string(),
            line(&hex4(Ipv4Addr::LOCALHOST), 8080, 0x0a, 111),
            line(&hex4(Ipv4Addr::UNSPECIFIED), 53, 0x07, 222),
            line(&hex6(Ipv6Addr::UNSPECIFIED), 443, 0x0a, 333),
            line(
                &hex6(Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped()),
                80,
                0x01,
                444,
            ),
            "garbage".to_string(),
        ]
        .join("\n");
        let sockets = parse_table(&text);
        assert_eq!(
            sockets,
            [
                Socket {
                    local: Ipv4Addr::LOCALHOST.into(),
                    port: 8080,
                    state: 0x0a,
                    inode: 111
                },
                Socket {
                    local: Ipv4Addr::UNSPECIFIED.into(),
                    port: 53,
                    state: 7,
                    inode: 222
                },
                Socket {
                    local: Ipv6Addr::UNSPECIFIED.into(),
                    port: 443,
                    state: 0x0a,
                    inode: 333
                },
                Socket {
                    local: Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped().into(),
                    port: 80,
                    state: 1,
                    inode: 444
                },
            ]
        );
    }

    #[test]
    fn a_real_little_endian_line() {
        // From a little-endian machine's /proc/net/tcp: 127.0.0.1:3306.
        let text = "   1: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   112        0 23141 1 0000000000000000 100 0 0 10 0";
        let s = parse_table(text);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].port, 3306);
        assert_eq!(s[0].inode, 23141);
        if cfg!(target_endian = "little") {
            assert_eq!(s[0].local, IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
    }

    #[test]
    fn what_conflicts() {
        let any4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let any6 = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        let lo = Ipv4Addr::LOCALHOST;
        let other = Ipv4Addr::new(10, 0, 0, 1);
        assert!(conflicts(lo, any4));
        assert!(conflicts(lo, any6));
        assert!(conflicts(Ipv4Addr::UNSPECIFIED, other.into()));
        assert!(conflicts(lo, lo.into()));
        assert!(conflicts(lo, lo.to_ipv6_mapped().into()));
        assert!(!conflicts(lo, other.into()));
        assert!(!conflicts(lo, Ipv6Addr::LOCALHOST.into()));
    }

    #[test]
    fn candidates_rank_listeners_first() {
        let s = |port, state, inode| Socket {
            local: Ipv4Addr::UNSPECIFIED.into(),
            port,
            state,
            inode,
        };
        let sockets = [
            s(8080, 0x01, 1), // a connection with that local port
            s(8080, 0x0a, 2), // the listener
            s(8081, 0x0a, 3), // another port
            s(8080, 0x06, 0), // TIME_WAIT: no inode, nobody holds it
            Socket {
                local: Ipv4Addr::new(10, 9, 9, 9).into(),
                port: 8080,
                state: 0x0a,
                inode: 4,
            }, // another address
        ];
        let ranks = candidates(&sockets, Ipv4Addr::LOCALHOST, 8080);
        assert_eq!(ranks, HashMap::from([(1, 1), (2, 0)]));
    }

    #[test]
    fn socket_links() {
        assert_eq!(socket_inode("socket:[12345]"), Some(12345));
        assert_eq!(socket_inode("pipe:[12345]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
    }

    #[test]
    fn addresses_of_odd_length_are_refused() {
        assert_eq!(decode_address("0100007"), None);
        assert_eq!(decode_address("zz00007F"), None);
    }
}
