//! TCP sockets that are bound but neither listening nor connected, from
//! the kernel's socket diagnostics (NETLINK_SOCK_DIAG, `inet_diag`): no
//! `/proc/net` table lists them, and a stack reservation is one. Linux
//! 6.10 dumps them as the pseudo-state TCP_BOUND_INACTIVE; an older kernel
//! answers with none.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket as Netlink, SocketAddr};

use super::holder::Socket;

/// `SOCK_DIAG_BY_FAMILY`, the request and answer type.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// `TCP_BOUND_INACTIVE` (include/net/tcp_states.h), as a state bit.
const BOUND_INACTIVE: u32 = 1 << 13;
/// `struct nlmsghdr`.
const HEADER: usize = 16;
/// `struct inet_diag_msg`: family, state, timer, retrans (4), the socket
/// id (48: ports, addresses, interface, cookie), then expires, rqueue,
/// wqueue, uid and inode (5 × 4).
const MESSAGE: usize = 72;

/// The bound-only TCP sockets (IPv4 and IPv6) on local port `port`.
pub(super) fn bound_tcp(port: u16) -> io::Result<Vec<Socket>> {
    let mut socket = Netlink::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let mut found = Vec::new();
    for (seq, family) in [(1, libc::AF_INET), (2, libc::AF_INET6)] {
        socket.send(&request(family as u8, seq), 0)?;
        loop {
            let (datagram, _) = socket.recv_from_full()?;
            if parse(&datagram, seq, port, &mut found)? {
                break;
            }
        }
    }
    Ok(found)
}

/// An `inet_diag_req_v2` dump of the TCP sockets of `family` in state
/// TCP_BOUND_INACTIVE.
fn request(family: u8, seq: u32) -> Vec<u8> {
    let len = HEADER + 56;
    let mut b = Vec::with_capacity(len);
    b.extend_from_slice(&(len as u32).to_ne_bytes());
    b.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    b.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    b.extend_from_slice(&seq.to_ne_bytes());
    b.extend_from_slice(&0u32.to_ne_bytes());
    // sdiag_family, sdiag_protocol, idiag_ext, pad, idiag_states, id.
    b.extend_from_slice(&[family, libc::IPPROTO_TCP as u8, 0, 0]);
    b.extend_from_slice(&BOUND_INACTIVE.to_ne_bytes());
    b.resize(len, 0);
    b
}

/// Adds the sockets on `port` of one answer datagram to `out`; whether
/// the dump of `seq` is done.
fn parse(datagram: &[u8], seq: u32, port: u16, out: &mut Vec<Socket>) -> io::Result<bool> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "short sock_diag answer");
    let u32_at = |b: &[u8], at: usize| -> io::Result<u32> {
        let bytes = b.get(at..at + 4).ok_or_else(bad)?;
        Ok(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    let mut rest = datagram;
    while rest.len() >= HEADER {
        let len = u32_at(rest, 0)? as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if len < HEADER || len > rest.len() {
            return Err(bad());
        }
        if u32_at(rest, 8)? == seq {
            match kind {
                NLMSG_DONE => return Ok(true),
                NLMSG_ERROR => {
                    let errno = u32_at(rest, HEADER)? as i32;
                    return match errno {
                        0 => Ok(true),
                        e => Err(io::Error::from_raw_os_error(-e)),
                    };
                }
                SOCK_DIAG_BY_FAMILY if len >= HEADER + MESSAGE => {
                    if let Some(socket) = socket_of(&rest[HEADER..len]) {
                        if socket.port == port {
                            out.push(socket);
                        }
                    }
                }
                _ => {}
            }
        }
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    Ok(false)
}

/// The socket an `inet_diag_msg` describes.
fn socket_of(m: &[u8]) -> Option<Socket> {
    let family = i32::from(*m.first()?);
    let state = *m.get(1)?;
    let port = u16::from_be_bytes([*m.get(4)?, *m.get(5)?]);
    let src = m.get(8..24)?;
    let local = match family {
        libc::AF_INET => IpAddr::V4(Ipv4Addr::new(src[0], src[1], src[2], src[3])),
        libc::AF_INET6 => {
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(src);
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    let inode = m.get(68..72)?;
    let inode = u32::from_ne_bytes([inode[0], inode[1], inode[2], inode[3]]);
    Some(Socket {
        local,
        port,
        state,
        inode: u64::from(inode),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(seq: u32, family: u8, ip: [u8; 4], port: u16, inode: u32) -> Vec<u8> {
        let mut m = vec![0u8; MESSAGE];
        m[0] = family;
        m[1] = 7;
        m[4..6].copy_from_slice(&port.to_be_bytes());
        m[8..12].copy_from_slice(&ip);
        m[68..72].copy_from_slice(&inode.to_ne_bytes());
        let mut b = Vec::new();
        b.extend_from_slice(&((HEADER + MESSAGE) as u32).to_ne_bytes());
        b.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        b.extend_from_slice(&0u16.to_ne_bytes());
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&m);
        b
    }

    fn done(seq: u32) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&20u32.to_ne_bytes());
        b.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        b.extend_from_slice(&0u16.to_ne_bytes());
        b.extend_from_slice(&seq.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b.extend_from_slice(&0u32.to_ne_bytes());
        b
    }

    #[test]
    fn the_request_is_a_v2_dump_of_bound_sockets() {
        let r = request(libc::AF_INET as u8, 7);
        assert_eq!(r.len(), 72);
        assert_eq!(u32::from_ne_bytes([r[0], r[1], r[2], r[3]]), 72);
        assert_eq!(u16::from_ne_bytes([r[4], r[5]]), 20);
        assert_eq!(u16::from_ne_bytes([r[6], r[7]]), 0x301);
        assert_eq!(u32::from_ne_bytes([r[8], r[9], r[10], r[11]]), 7);
        assert_eq!(&r[16..20], &[libc::AF_INET as u8, 6, 0, 0]);
        assert_eq!(u32::from_ne_bytes([r[20], r[21], r[22], r[23]]), 1 << 13);
        assert!(r[24..].iter().all(|&b| b == 0));
    }

    #[test]
    fn answers_parse_and_filter_by_port() {
        let mut datagram = answer(1, libc::AF_INET as u8, [127, 0, 0, 1], 8080, 99);
        datagram.extend(answer(1, libc::AF_INET as u8, [0, 0, 0, 0], 8081, 98));
        datagram.extend(answer(2, libc::AF_INET as u8, [0, 0, 0, 0], 8080, 97));
        let mut out = Vec::new();
        assert!(!parse(&datagram, 1, 8080, &mut out).unwrap());
        assert_eq!(
            out,
            [Socket {
                local: Ipv4Addr::LOCALHOST.into(),
                port: 8080,
                state: 7,
                inode: 99
            }]
        );
        assert!(parse(&done(1), 1, 8080, &mut out).unwrap());
        assert!(parse(&datagram[..30], 1, 8080, &mut out).is_err());
    }
}
