//! Links: the bridge of a network, a container's veth pair, and finding and
//! deleting links by name.

use std::os::fd::AsRawFd;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;

use super::socket::Rtnl;
use super::{addr, check_name, check_prefix, fail, open, Bridge, NetError, Veth};

/// Makes sure the bridge `bridge.name` exists, carries `bridge.mac`,
/// `bridge.mtu` and exactly the IPv4 address `bridge.address`, and is up;
/// returns its ifindex. An existing bridge of that name is reused, so this
/// may be called before every container start.
///
/// The MAC is set explicitly, which the kernel records as "set by the user"
/// (`addr_assign_type` NET_ADDR_SET): a bridge whose MAC was never set
/// takes the lowest MAC among its ports and changes it as veths come and
/// go, which makes every container's ARP entry for the gateway go stale.
pub fn ensure_bridge(bridge: &Bridge) -> Result<u32, NetError> {
    check_name(&bridge.name)?;
    check_prefix(bridge.address)?;
    let mut rtnl = open()?;
    let index = match find(&mut rtnl, &bridge.name)? {
        Some(link) => bridge_index(&link, &bridge.name)?,
        None => create_bridge(&mut rtnl, bridge)?,
    };
    let mut message = LinkMessage::default();
    message.header.index = index;
    message.header.flags = LinkFlags::Up;
    message.header.change_mask = LinkFlags::Up;
    message
        .attributes
        .push(LinkAttribute::Address(bridge.mac.to_vec()));
    if let Some(mtu) = bridge.mtu {
        message.attributes.push(LinkAttribute::Mtu(mtu));
    }
    rtnl.request(RouteNetlinkMessage::SetLink(message), 0)
        .map_err(fail("set up bridge", &bridge.name))?;
    addr::ensure_only(&mut rtnl, index, &bridge.name, bridge.address)?;
    Ok(index)
}

fn create_bridge(rtnl: &mut Rtnl, bridge: &Bridge) -> Result<u32, NetError> {
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(bridge.name.clone()));
    message
        .attributes
        .push(LinkAttribute::Address(bridge.mac.to_vec()));
    if let Some(mtu) = bridge.mtu {
        message.attributes.push(LinkAttribute::Mtu(mtu));
    }
    message
        .attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Bridge,
        )]));
    match rtnl.request(
        RouteNetlinkMessage::NewLink(message),
        NLM_F_CREATE | NLM_F_EXCL,
    ) {
        Ok(()) => {}
        // Made by someone else since we looked: reuse it, if it is a bridge.
        Err(e) if e.errno() == Some(libc::EEXIST) => {}
        Err(e) => return Err(fail("create bridge", &bridge.name)(e)),
    }
    let link = find(rtnl, &bridge.name)?.ok_or_else(|| NetError::NoSuchLink {
        name: bridge.name.clone(),
    })?;
    bridge_index(&link, &bridge.name)
}

fn bridge_index(link: &LinkMessage, name: &str) -> Result<u32, NetError> {
    let is_bridge = link.attributes.iter().any(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos
            .iter()
            .any(|i| matches!(i, LinkInfo::Kind(InfoKind::Bridge))),
        _ => false,
    });
    if !is_bridge {
        return Err(NetError::NotABridge {
            name: name.to_string(),
        });
    }
    Ok(link.header.index)
}

/// Creates a veth pair in ONE request: the host end `host_name`, up and
/// enslaved to the bridge, in the caller's namespace; its peer
/// `peer_name` born directly inside `peer_netns` (VETH_INFO_PEER carrying
/// IFLA_NET_NS_FD), so nothing is moved afterwards and no name can clash
/// with the host's. The peer stays down until [`super::configure_netns`].
/// Returns the host end's ifindex. An existing `host_name` is an error
/// (EEXIST): delete a leftover with [`delete_link`] first.
pub fn create_veth(veth: &Veth<'_>) -> Result<u32, NetError> {
    check_name(veth.host_name)?;
    check_name(veth.peer_name)?;
    let mut peer = LinkMessage::default();
    peer.attributes
        .push(LinkAttribute::IfName(veth.peer_name.to_string()));
    peer.attributes
        .push(LinkAttribute::NetNsFd(veth.peer_netns.as_raw_fd()));
    if let Some(mtu) = veth.mtu {
        peer.attributes.push(LinkAttribute::Mtu(mtu));
    }
    if let Some(mac) = veth.peer_mac {
        peer.attributes.push(LinkAttribute::Address(mac.to_vec()));
    }
    let mut host = LinkMessage::default();
    host.header.flags = LinkFlags::Up;
    host.header.change_mask = LinkFlags::Up;
    host.attributes
        .push(LinkAttribute::IfName(veth.host_name.to_string()));
    host.attributes
        .push(LinkAttribute::Controller(veth.bridge_ifindex));
    if let Some(mtu) = veth.mtu {
        host.attributes.push(LinkAttribute::Mtu(mtu));
    }
    host.attributes.push(LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Veth),
        LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
    ]));
    let mut rtnl = open()?;
    rtnl.request(
        RouteNetlinkMessage::NewLink(host),
        NLM_F_CREATE | NLM_F_EXCL,
    )
    .map_err(fail("create veth", veth.host_name))?;
    let link = find(&mut rtnl, veth.host_name)?.ok_or_else(|| NetError::NoSuchLink {
        name: veth.host_name.to_string(),
    })?;
    Ok(link.header.index)
}

/// Deletes the link `name` (for a veth, both ends; for a bridge, its ports
/// are released). A link that does not exist is not an error.
pub fn delete_link(name: &str) -> Result<(), NetError> {
    check_name(name)?;
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_string()));
    match open()?.request(RouteNetlinkMessage::DelLink(message), 0) {
        Ok(()) => Ok(()),
        Err(e) if e.errno() == Some(libc::ENODEV) => Ok(()),
        Err(e) => Err(fail("delete link", name)(e)),
    }
}

/// Deletes the bridge `name` with every port still on it: a stopped
/// container's veth would otherwise outlive `down` until the kernel gets
/// round to freeing the container's network namespace, which it does
/// asynchronously. A bridge that does not exist is not an error.
pub fn delete_bridge(name: &str) -> Result<(), NetError> {
    for port in ports_of(name)? {
        delete_link(&port)?;
    }
    delete_link(name)
}

/// Whether a link named `name` exists in the caller's namespace.
pub fn link_exists(name: &str) -> Result<bool, NetError> {
    Ok(link_index(name)?.is_some())
}

/// Whether a bridge named `name` exists in the caller's namespace (an
/// external network's, made by another project). A link of that name that
/// is not a bridge is an error ([`NetError::NotABridge`]).
pub fn bridge_exists(name: &str) -> Result<bool, NetError> {
    check_name(name)?;
    match find(&mut open()?, name)? {
        Some(link) => bridge_index(&link, name).map(|_| true),
        None => Ok(false),
    }
}

/// The ifindex of the link `name`, if it exists.
pub fn link_index(name: &str) -> Result<Option<u32>, NetError> {
    check_name(name)?;
    Ok(find(&mut open()?, name)?.map(|link| link.header.index))
}

/// The names of every link whose name starts with `prefix`, sorted (for
/// `down` and leak checks: `stk-`).
pub fn links_with_prefix(prefix: &str) -> Result<Vec<String>, NetError> {
    let answers = open()?
        .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
        .map_err(fail("list links", prefix))?;
    let mut names: Vec<String> = answers
        .into_iter()
        .filter_map(|answer| match answer {
            RouteNetlinkMessage::NewLink(link) => name_of(&link),
            _ => None,
        })
        .filter(|name| name.starts_with(prefix))
        .collect();
    names.sort();
    Ok(names)
}

/// The names of the links enslaved to the bridge `bridge` (its ports),
/// sorted; none when the bridge does not exist.
pub fn ports_of(bridge: &str) -> Result<Vec<String>, NetError> {
    let Some(index) = link_index(bridge)? else {
        return Ok(Vec::new());
    };
    let answers = open()?
        .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
        .map_err(fail("list links", bridge))?;
    let mut names: Vec<String> = answers
        .into_iter()
        .filter_map(|answer| match answer {
            RouteNetlinkMessage::NewLink(link)
                if link
                    .attributes
                    .iter()
                    .any(|a| matches!(a, LinkAttribute::Controller(i) if *i == index)) =>
            {
                name_of(&link)
            }
            _ => None,
        })
        .collect();
    names.sort();
    Ok(names)
}

fn name_of(link: &LinkMessage) -> Option<String> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(name) => Some(name.clone()),
        _ => None,
    })
}

/// The link `name` as the kernel describes it, or `None` (ENODEV).
pub(super) fn find(rtnl: &mut Rtnl, name: &str) -> Result<Option<LinkMessage>, NetError> {
    let mut message = LinkMessage::default();
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_string()));
    match rtnl.get(RouteNetlinkMessage::GetLink(message)) {
        Ok(RouteNetlinkMessage::NewLink(link)) => Ok(Some(link)),
        Ok(other) => Err(NetError::Decode {
            op: "look up link",
            name: name.to_string(),
            message: format!("unexpected answer {:?}", other.message_type()),
        }),
        Err(e) if e.errno() == Some(libc::ENODEV) => Ok(None),
        Err(e) => Err(fail("look up link", name)(e)),
    }
}

/// Brings the link `index` (named `name`, for errors) up.
pub(super) fn set_up(rtnl: &mut Rtnl, index: u32, name: &str) -> Result<(), NetError> {
    let mut message = LinkMessage::default();
    message.header.index = index;
    message.header.flags = LinkFlags::Up;
    message.header.change_mask = LinkFlags::Up;
    rtnl.request(RouteNetlinkMessage::SetLink(message), 0)
        .map_err(fail("bring up", name))
}
