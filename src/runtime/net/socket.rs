//! One NETLINK_ROUTE socket and the two exchanges stack needs on it: a
//! request answered by an acknowledgement, and a dump answered by many
//! messages and a `Done`. Synchronous: a send, then blocking reads.
//!
//! A netlink socket belongs to the network namespace of the thread that
//! opened it, for its whole life; `netns.rs` uses that to act inside a
//! container's namespace without moving the caller's thread.

use std::io;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// What went wrong on the socket, before the caller adds which link and
/// which operation it was about.
#[derive(Debug)]
pub(super) enum Failure {
    /// A send/recv failure, or the kernel's errno (from an NLMSG_ERROR)
    /// with the sentence of its extended ack when it gave one.
    Io(io::Error, Option<String>),
    /// An answer that did not parse.
    Decode(String),
}

impl Failure {
    /// The errno the kernel answered with, if any.
    pub(super) fn errno(&self) -> Option<i32> {
        match self {
            Failure::Io(e, _) => e.raw_os_error(),
            Failure::Decode(_) => None,
        }
    }
}

/// A NETLINK_ROUTE socket bound to the kernel, with its own sequence numbers.
pub(super) struct Rtnl {
    socket: Socket,
    seq: u32,
}

impl Rtnl {
    /// Opens a socket in the calling thread's network namespace.
    pub(super) fn open() -> io::Result<Rtnl> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Extended acks make the kernel say which attribute it refused;
        // best effort (old kernels have no such option).
        let _ = socket.set_ext_ack(true);
        // Echo only the request's header in an error, not the whole request.
        let _ = socket.set_cap_ack(true);
        Ok(Rtnl { socket, seq: 0 })
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<u32, Failure> {
        self.seq = self.seq.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.socket
            .send(&buf, 0)
            .map_err(|e| Failure::Io(e, None))?;
        Ok(self.seq)
    }

    /// Reads datagrams and hands every message of sequence `seq` to `each`
    /// until `each` says it is done.
    fn receive(
        &mut self,
        seq: u32,
        mut each: impl FnMut(NetlinkPayload<RouteNetlinkMessage>) -> Result<bool, Failure>,
    ) -> Result<(), Failure> {
        loop {
            let (datagram, _) = self
                .socket
                .recv_from_full()
                .map_err(|e| Failure::Io(e, None))?;
            let mut offset = 0;
            while offset < datagram.len() {
                let bytes = &datagram[offset..];
                let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes)
                    .map_err(|e| Failure::Decode(e.to_string()))?;
                let length = message.header.length as usize;
                if message.header.sequence_number == seq {
                    if let NetlinkPayload::Error(e) = &message.payload {
                        if e.code.is_some() {
                            return Err(Failure::Io(
                                e.to_io(),
                                ext_ack_message(&message.header, e),
                            ));
                        }
                    }
                }
                if message.header.sequence_number == seq && each(message.payload)? {
                    return Ok(());
                }
                if length == 0 {
                    break;
                }
                offset += length;
            }
        }
    }

    /// Sends `message` with NLM_F_ACK and `flags`, and waits for the ack.
    pub(super) fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<(), Failure> {
        let seq = self.send(message, flags | NLM_F_ACK)?;
        self.receive(seq, |payload| match payload {
            NetlinkPayload::Error(_) => Ok(true),
            _ => Ok(false),
        })
    }

    /// Sends `message` and returns the one answer (a GET without DUMP).
    pub(super) fn get(
        &mut self,
        message: RouteNetlinkMessage,
    ) -> Result<RouteNetlinkMessage, Failure> {
        let seq = self.send(message, 0)?;
        let mut answer = None;
        self.receive(seq, |payload| match payload {
            NetlinkPayload::InnerMessage(m) => {
                answer = Some(m);
                Ok(true)
            }
            _ => Ok(false),
        })?;
        answer.ok_or_else(|| Failure::Decode("no answer".to_string()))
    }

    /// Sends `message` with NLM_F_DUMP and collects every answer.
    pub(super) fn dump(
        &mut self,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, Failure> {
        let seq = self.send(message, NLM_F_DUMP)?;
        let mut all = Vec::new();
        self.receive(seq, |payload| match payload {
            NetlinkPayload::InnerMessage(m) => {
                all.push(m);
                Ok(false)
            }
            NetlinkPayload::Done(_) => Ok(true),
            _ => Ok(false),
        })?;
        Ok(all)
    }
}

/// NLM_F_CAPPED: the error echoes only the request's header.
const NLM_F_CAPPED: u16 = 0x100;
/// NLM_F_ACK_TLVS: attributes (the extended ack) follow the echo.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// NLMSGERR_ATTR_MSG: the kernel's sentence, NUL-terminated.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// The length of a `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;

/// The sentence of an extended ack (`NETLINK_EXT_ACK`), e.g. "Unknown
/// device type", when the kernel sent one.
fn ext_ack_message(
    header: &NetlinkHeader,
    error: &netlink_packet_core::ErrorMessage,
) -> Option<String> {
    if header.flags & NLM_F_ACK_TLVS == 0 || header.flags & NLM_F_CAPPED == 0 {
        return None;
    }
    let mut rest = error.header.get(NLMSG_HDRLEN..)?;
    while rest.len() >= 4 {
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let kind = u16::from_ne_bytes([rest[2], rest[3]]) & 0x3fff;
        if len < 4 || len > rest.len() {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = &rest[4..len];
            let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
            let sentence = String::from_utf8_lossy(&text[..end]).trim().to_string();
            return (!sentence.is_empty()).then_some(sentence);
        }
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    None
}
