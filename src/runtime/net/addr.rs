//! An interface's IPv4 address.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_REPLACE};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::socket::Rtnl;
use super::{fail, NetError};

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

/// The IPv4 addresses (with prefix lengths) on link `index`.
pub(super) fn list(
    rtnl: &mut Rtnl,
    index: u32,
    name: &str,
) -> Result<Vec<(Ipv4Addr, u8)>, NetError> {
    let mut request = AddressMessage::default();
    request.header.family = AddressFamily::Inet;
    let answers = rtnl
        .dump(RouteNetlinkMessage::GetAddress(request))
        .map_err(fail("list addresses of", name))?;
    Ok(answers
        .into_iter()
        .filter_map(|answer| match answer {
            RouteNetlinkMessage::NewAddress(a) if a.header.index == index => {
                a.attributes.iter().find_map(|attr| match attr {
                    AddressAttribute::Local(IpAddr::V4(ip)) => Some((*ip, a.header.prefix_len)),
                    _ => None,
                })
            }
            _ => None,
        })
        .collect())
}

/// Makes `address` the only IPv4 address of link `index`: others (a
/// network whose subnet changed) are removed.
pub(super) fn ensure_only(
    rtnl: &mut Rtnl,
    index: u32,
    name: &str,
    address: (Ipv4Addr, u8),
) -> Result<(), NetError> {
    let present = list(rtnl, index, name)?;
    for stale in present.iter().filter(|a| **a != address) {
        rtnl.request(RouteNetlinkMessage::DelAddress(message(index, *stale)), 0)
            .map_err(fail("remove stale address from", name))?;
    }
    if !present.contains(&address) {
        add(rtnl, index, name, address)?;
    }
    Ok(())
}
