//! DNS messages in and out (hickory-proto's codec), still without I/O:
//! a received datagram becomes a [`Request`] or an immediate error reply,
//! and a [`Decision`] becomes the reply's bytes.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, PTR};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};

use super::answer::{Decision, Kind};

/// Replies that fit in a UDP datagram without EDNS (RFC 1035).
pub const CLASSIC_UDP: usize = 512;
/// The most we advertise and send over UDP with EDNS (the 2020 DNS flag
/// day's figure: no IP fragmentation on common paths).
pub const EDNS_UDP: u16 = 1232;

/// One question received.
#[derive(Debug)]
pub struct Request {
    pub message: Message,
    /// The question's name, as asked (`Web.` keeps its case and dot).
    pub name: String,
    pub kind: Kind,
}

/// What a received datagram calls for.
#[derive(Debug)]
pub enum Incoming {
    /// A well-formed standard query with one question.
    Ask(Request),
    /// Answer at once with these bytes (FORMERR, NOTIMP).
    Reply(Vec<u8>),
    /// Not worth answering (too short to carry an id, or a response).
    Ignore,
}

/// Reads one received message.
pub fn read(bytes: &[u8]) -> Incoming {
    let message = match Message::from_vec(bytes) {
        Ok(m) => m,
        Err(_) => return header_error(bytes, ResponseCode::FormErr),
    };
    if message.metadata.message_type != MessageType::Query {
        return Incoming::Ignore;
    }
    if message.metadata.op_code != OpCode::Query {
        return header_error(bytes, ResponseCode::NotImp);
    }
    let [query] = message.queries.as_slice() else {
        return header_error(bytes, ResponseCode::FormErr);
    };
    let kind = match query.query_type {
        RecordType::A => Kind::A,
        RecordType::AAAA => Kind::Aaaa,
        RecordType::PTR => Kind::Ptr,
        _ => Kind::Other,
    };
    // Other classes (CHAOS `version.bind`) are never ours: an empty name
    // makes the decision a forward.
    let name = if query.query_class == DNSClass::IN {
        query.name.to_ascii()
    } else {
        String::new()
    };
    let req = Request {
        message,
        name,
        kind,
    };
    Incoming::Ask(req)
}

/// The reply to `req` for a decision that is not [`Decision::Forward`],
/// cut to `max_len` bytes (with TC set) when it does not fit.
pub fn reply(req: &Request, decision: &Decision, ttl: u32, max_len: usize) -> Vec<u8> {
    let q = &req.message;
    let mut m = response_to(q, ResponseCode::NoError);
    m.metadata.authoritative = true;
    let Some(query) = q.queries.first() else {
        return m.to_vec().unwrap_or_default();
    };
    match decision {
        Decision::Addresses(addrs) => {
            for a in addrs {
                m.add_answer(Record::from_rdata(query.name.clone(), ttl, RData::A(A(*a))));
            }
        }
        Decision::Names(names) => {
            for n in names {
                if let Ok(target) = Name::from_ascii(format!("{n}.")) {
                    m.add_answer(Record::from_rdata(
                        query.name.clone(),
                        ttl,
                        RData::PTR(PTR(target)),
                    ));
                }
            }
        }
        Decision::NxDomain => m.metadata.response_code = ResponseCode::NXDomain,
        Decision::NoData | Decision::Forward => {}
    }
    encode_within(&m, max_len)
}

/// SERVFAIL for `req` (no upstream answered).
pub fn servfail(req: &Request) -> Vec<u8> {
    response_to(&req.message, ResponseCode::ServFail)
        .to_vec()
        .unwrap_or_default()
}

/// The largest UDP reply the asker takes: 512, or its EDNS size
/// (at most [`EDNS_UDP`]).
pub fn udp_limit(req: &Request) -> usize {
    match &req.message.edns {
        Some(e) => usize::from(e.max_payload().clamp(CLASSIC_UDP as u16, EDNS_UDP)),
        None => CLASSIC_UDP,
    }
}

/// The id of a raw message, if it has one.
pub fn id_of(bytes: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.first()?, *bytes.get(1)?]))
}

/// Whether a raw message is a response with TC set.
pub fn truncated(bytes: &[u8]) -> bool {
    bytes.get(2).is_some_and(|b| b & 0x82 == 0x82)
}

/// Whether a raw message is a response.
pub fn is_response(bytes: &[u8]) -> bool {
    bytes.get(2).is_some_and(|b| b & 0x80 != 0)
}

/// `bytes` with its id replaced.
pub fn with_id(mut bytes: Vec<u8>, id: u16) -> Vec<u8> {
    if bytes.len() >= 2 {
        bytes[..2].copy_from_slice(&id.to_be_bytes());
    }
    bytes
}

/// An empty response to `q` (question echoed, EDNS answered).
fn response_to(q: &Message, code: ResponseCode) -> Message {
    let mut m = Message::response(q.metadata.id, q.metadata.op_code);
    m.metadata.recursion_desired = q.metadata.recursion_desired;
    m.metadata.checking_disabled = q.metadata.checking_disabled;
    m.metadata.recursion_available = true;
    m.metadata.response_code = code;
    m.add_queries(q.queries.iter().cloned());
    if q.edns.is_some() {
        let mut e = Edns::new();
        e.set_max_payload(EDNS_UDP);
        m.set_edns(e);
    }
    m
}

fn encode_within(m: &Message, max_len: usize) -> Vec<u8> {
    match m.to_vec() {
        Ok(b) if b.len() <= max_len => b,
        _ => m.truncate().to_vec().unwrap_or_default(),
    }
}

/// A header-only reply to a message that could not be (fully) read:
/// the id, opcode and RD echoed, `code` set, no sections.
fn header_error(bytes: &[u8], code: ResponseCode) -> Incoming {
    let (Some(id), Some(&flags)) = (id_of(bytes), bytes.get(2)) else {
        return Incoming::Ignore;
    };
    if flags & 0x80 != 0 {
        return Incoming::Ignore; // a response: never answer one
    }
    let mut out = vec![0u8; 12];
    out[..2].copy_from_slice(&id.to_be_bytes());
    out[2] = 0x80 | (flags & 0x79); // QR, opcode, RD
    out[3] = 0x80 | (u16::from(code) as u8 & 0x0f); // RA, rcode
    Incoming::Reply(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Query;
    use std::net::Ipv4Addr;

    fn query(name: &str, t: RecordType) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.id = 0x1234;
        m.metadata.recursion_desired = true;
        m.add_query(Query::query(Name::from_ascii(name).unwrap(), t));
        m.to_vec().unwrap()
    }

    fn ask(bytes: &[u8]) -> Request {
        match read(bytes) {
            Incoming::Ask(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_query_reads_as_its_name_and_kind() {
        let r = ask(&query("Web.", RecordType::A));
        assert_eq!((r.name.as_str(), r.kind), ("Web.", Kind::A));
        assert_eq!(ask(&query("x", RecordType::AAAA)).kind, Kind::Aaaa);
        assert_eq!(ask(&query("x", RecordType::MX)).kind, Kind::Other);
        let r = ask(&query("4.3.2.1.in-addr.arpa.", RecordType::PTR));
        assert_eq!(r.kind, Kind::Ptr);
    }

    #[test]
    fn addresses_become_a_records_under_the_asked_name() {
        let r = ask(&query("WeB.", RecordType::A));
        let ips = vec![Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)];
        let out = reply(&r, &Decision::Addresses(ips.clone()), 5, 512);
        let m = Message::from_vec(&out).unwrap();
        assert_eq!(m.metadata.id, 0x1234);
        assert_eq!(m.metadata.message_type, MessageType::Response);
        assert!(m.metadata.authoritative && m.metadata.recursion_desired);
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert_eq!(m.queries.len(), 1);
        let got: Vec<_> = m
            .answers
            .iter()
            .map(|r| {
                assert_eq!(r.name.to_ascii(), "WeB.");
                assert_eq!(r.ttl, 5);
                match &r.data {
                    RData::A(a) => a.0,
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        assert_eq!(got, ips);
    }

    #[test]
    fn nodata_nxdomain_and_servfail_have_no_answers() {
        let r = ask(&query("web.", RecordType::AAAA));
        let m = Message::from_vec(&reply(&r, &Decision::NoData, 5, 512)).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::NoError);
        assert!(m.answers.is_empty());
        let m = Message::from_vec(&reply(&r, &Decision::NxDomain, 5, 512)).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
        let m = Message::from_vec(&servfail(&r)).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
        assert_eq!(m.metadata.id, 0x1234);
    }

    #[test]
    fn ptr_names_become_fqdn_targets() {
        let r = ask(&query("2.0.0.10.in-addr.arpa.", RecordType::PTR));
        let out = reply(&r, &Decision::Names(vec!["web".into()]), 5, 512);
        let m = Message::from_vec(&out).unwrap();
        match &m.answers[0].data {
            RData::PTR(p) => assert_eq!(p.0.to_ascii(), "web."),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_reply_too_big_for_udp_is_truncated() {
        let r = ask(&query("api.", RecordType::A));
        let ips: Vec<_> = (0..100).map(|i| Ipv4Addr::new(10, 0, 1, i)).collect();
        let full = reply(&r, &Decision::Addresses(ips.clone()), 5, 65535);
        assert!(full.len() > 512);
        assert!(!truncated(&full));
        let cut = reply(&r, &Decision::Addresses(ips), 5, udp_limit(&r));
        assert!(cut.len() <= 512 && truncated(&cut));
        let m = Message::from_vec(&cut).unwrap();
        assert!(m.metadata.truncation && m.answers.is_empty());
    }

    #[test]
    fn edns_is_answered_and_raises_the_udp_limit() {
        let mut m = Message::from_vec(&query("web.", RecordType::A)).unwrap();
        let mut e = Edns::new();
        e.set_max_payload(4096);
        m.set_edns(e);
        let r = ask(&m.to_vec().unwrap());
        assert_eq!(udp_limit(&r), usize::from(EDNS_UDP));
        let out = Message::from_vec(&reply(&r, &Decision::NoData, 5, 512)).unwrap();
        assert_eq!(out.edns.map(|e| e.max_payload()), Some(EDNS_UDP));
    }

    #[test]
    fn garbage_gets_formerr_and_responses_are_ignored() {
        assert!(matches!(read(&[1]), Incoming::Ignore));
        let Incoming::Reply(b) = read(&[0xab, 0xcd, 0x01, 0x00, 0xff]) else {
            panic!()
        };
        assert_eq!(id_of(&b), Some(0xabcd));
        let m = Message::from_vec(&b).unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::FormErr);
        assert!(m.metadata.recursion_desired);
        let mut resp = query("web.", RecordType::A);
        resp[2] |= 0x80;
        assert!(matches!(read(&resp), Incoming::Ignore));
        assert!(is_response(&resp) && !truncated(&resp));
    }

    #[test]
    fn other_opcodes_get_notimp_and_two_questions_formerr() {
        let mut m = Message::from_vec(&query("web.", RecordType::A)).unwrap();
        m.metadata.op_code = OpCode::Status;
        let Incoming::Reply(b) = read(&m.to_vec().unwrap()) else {
            panic!()
        };
        let out = Message::from_vec(&b).unwrap();
        assert_eq!(out.metadata.response_code, ResponseCode::NotImp);
        let mut m = Message::from_vec(&query("web.", RecordType::A)).unwrap();
        m.add_query(Query::query(
            Name::from_ascii("db.").unwrap(),
            RecordType::A,
        ));
        let Incoming::Reply(b) = read(&m.to_vec().unwrap()) else {
            panic!()
        };
        let out = Message::from_vec(&b).unwrap();
        assert_eq!(out.metadata.response_code, ResponseCode::FormErr);
    }

    #[test]
    fn ids_are_rewritten_in_place() {
        let b = with_id(query("web.", RecordType::A), 7);
        assert_eq!(id_of(&b), Some(7));
        assert_eq!(Message::from_vec(&b).unwrap().metadata.id, 7);
    }

    #[test]
    fn other_classes_are_never_ours() {
        let mut m = Message::from_vec(&query("version.bind.", RecordType::TXT)).unwrap();
        m.queries[0].query_class = DNSClass::CH;
        let r = ask(&m.to_vec().unwrap());
        assert_eq!(r.name, "");
    }
}
