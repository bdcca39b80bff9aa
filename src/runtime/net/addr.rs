//! An interface's IPv4 addresses: the one a bridge or a container's
//! interface is given, and extra ones on a bridge.
//!
//! An extra address (a project that joins another project's network runs
//! its resolver on one more address of that bridge) carries stack's mark
//! in IFA_PROTO, the attribute Linux 6.1 added to say who made an address:
//! the owner's `ensure_bridge`, which removes a stale address when the
//! subnet changed, keeps marked ones. An older kernel ignores the
//! attribute, and there an `ensure_bridge` removes extra addresses too.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::address::{
    AddressAttribute, AddressMessage, AddressProtocol, AddressScope,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::socket::Rtnl;
use super::{check_name, check_prefix, fail, link, open, NetError};

/// The IFA_PROTO value of the extra addresses stack adds ([`add_address`]);
/// the kernel's own are 1 to 3, 0 is unspecified.
pub const EXTRA_ADDRESS_PROTO: u8 = 0x5c;

fn message(index: u32, (ip, prefix): (Ipv4Addr, u8)) -> AddressMessage {
    let mut message = AddressMessage::default();
    message.header.family = AddressFamily::Inet;
    message.header.prefix_len = prefix;
    message.header.scope = AddressScope::Universe;
    message.header.index = index;
    message
        .attributes
        .push(AddressAttribute::Local(IpAddr::V4(ip)));
    message
        .attributes
        .push(AddressAttribute::Address(IpAddr::V4(ip)));
    if prefix < 31 {
        let host_bits = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
        let broadcast = Ipv4Addr::from(u32::from(ip) | host_bits);
        message
            .attributes
            .push(AddressAttribute::Broadcast(broadcast));
    }
    message
}

/// Adds `address` to link `index` (replacing it when already there).
pub(super) fn add(
    rtnl: &mut Rtnl,
    index: u32,
    name: &str,
    address: (Ipv4Addr, u8),
) -> Result<(), NetError> {
    rtnl.request(
        RouteNetlinkMessage::NewAddress(message(index, address)),
        NLM_F_CREATE | NLM_F_REPLACE,
    )
    .map_err(fail("add address to", name))
}

/// One IPv4 address of a link, as the kernel lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Listed {
    address: (Ipv4Addr, u8),
    /// It carries [`EXTRA_ADDRESS_PROTO`].
    extra: bool,
}

/// The IPv4 addresses (with prefix lengths) on link `index`.
fn list(rtnl: &mut Rtnl, index: u32, name: &str) -> Result<Vec<Listed>, NetError> {
    let mut request = AddressMessage::default();
    request.header.family = AddressFamily::Inet;
    let answers = rtnl
        .dump(RouteNetlinkMessage::GetAddress(request))
        .map_err(fail("list addresses of", name))?;
    Ok(answers
        .into_iter()
        .filter_map(|answer| match answer {
            RouteNetlinkMessage::NewAddress(a) if a.header.index == index => {
                let extra = a.attributes.iter().any(|attr| {
                    matches!(attr, AddressAttribute::Protocol(p)
                        if u8::from(*p) == EXTRA_ADDRESS_PROTO)
                });
                a.attributes.iter().find_map(|attr| match attr {
                    AddressAttribute::Local(IpAddr::V4(ip)) => Some(Listed {
                        address: (*ip, a.header.prefix_len),
                        extra,
                    }),
                    _ => None,
                })
            }
            _ => None,
        })
        .collect())
}

/// Makes `address` the only IPv4 address of link `index` besides the
/// extra ones ([`add_address`]): others (a network whose subnet changed)
/// are removed.
pub(super) fn ensure_only(
    rtnl: &mut Rtnl,
    index: u32,
    name: &str,
    address: (Ipv4Addr, u8),
) -> Result<(), NetError> {
    let present = list(rtnl, index, name)?;
    for stale in present.iter().filter(|a| a.address != address && !a.extra) {
        rtnl.request(
            RouteNetlinkMessage::DelAddress(message(index, stale.address)),
            0,
        )
        .map_err(fail("remove stale address from", name))?;
    }
    if !present.iter().any(|a| a.address == address) {
        add(rtnl, index, name, address)?;
    }
    Ok(())
}

/// The ifindex of `name`, which must exist.
fn index_of(rtnl: &mut Rtnl, name: &str) -> Result<u32, NetError> {
    link::find(rtnl, name)?
        .map(|l| l.header.index)
        .ok_or_else(|| NetError::NoSuchLink {
            name: name.to_string(),
        })
}

/// Adds `address/prefix` to the link `link` as an extra address (marked,
/// see the module's comment), e.g. a resolver's on a bridge of another
/// project. Already there: nothing changes, not an error. Within the
/// subnet of the link's own address the kernel makes it a secondary one,
/// which goes when the primary goes.
pub fn add_address(link: &str, address: Ipv4Addr, prefix: u8) -> Result<(), NetError> {
    check_name(link)?;
    check_prefix((address, prefix))?;
    let mut rtnl = open()?;
    let index = index_of(&mut rtnl, link)?;
    let mut request = message(index, (address, prefix));
    request
        .attributes
        .push(AddressAttribute::Protocol(AddressProtocol::from(
            EXTRA_ADDRESS_PROTO,
        )));
    match rtnl.request(
        RouteNetlinkMessage::NewAddress(request),
        NLM_F_CREATE | NLM_F_EXCL,
    ) {
        Err(e) if e.errno() == Some(libc::EEXIST) => Ok(()),
        other => other.map_err(fail("add address to", link)),
    }
}

/// Removes `address/prefix` from the link `link`. An address that is not
/// there, or a link that is gone (and its addresses with it), is not an
/// error.
pub fn del_address(link: &str, address: Ipv4Addr, prefix: u8) -> Result<(), NetError> {
    check_name(link)?;
    check_prefix((address, prefix))?;
    let mut rtnl = open()?;
    let Some(found) = link::find(&mut rtnl, link)? else {
        return Ok(());
    };
    let request = message(found.header.index, (address, prefix));
    match rtnl.request(RouteNetlinkMessage::DelAddress(request), 0) {
        Err(e) if matches!(e.errno(), Some(libc::EADDRNOTAVAIL | libc::ENODEV)) => Ok(()),
        other => other.map_err(fail("remove address from", link)),
    }
}

/// The IPv4 addresses of the link `link` with their prefix lengths, in the
/// kernel's order (its own address first).
pub fn addresses(link: &str) -> Result<Vec<(Ipv4Addr, u8)>, NetError> {
    check_name(link)?;
    let mut rtnl = open()?;
    let index = index_of(&mut rtnl, link)?;
    Ok(list(&mut rtnl, index, link)?
        .into_iter()
        .map(|a| a.address)
        .collect())
}
