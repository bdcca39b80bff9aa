//! Acting inside a container's network namespace without moving the
//! caller's thread: a short-lived thread enters the namespace, opens a
//! netlink socket there and ends; the socket stays bound to that namespace
//! and the caller uses it from where it is.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::sched::{setns, CloneFlags};

use super::socket::Rtnl;
use super::{addr, check_name, check_prefix, link, open, route, IfConfig, NetError};

/// Runs `f` on a new thread that has entered the network namespace
/// `netns`, and returns its result. The thread ends with `f`, so no thread
/// of the caller's is ever left in another namespace.
pub fn in_netns<T: Send>(
    netns: BorrowedFd<'_>,
    f: impl FnOnce() -> Result<T, NetError> + Send,
) -> Result<T, NetError> {
    let fd = netns.as_raw_fd();
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                setns(netns, CloneFlags::CLONE_NEWNET).map_err(|errno| NetError::Setns {
                    fd,
                    source: io::Error::from(errno),
                })?;
                f()
            })
            .join()
            .map_err(|_| NetError::NetnsThread { fd })?
    })
}

/// A NETLINK_ROUTE socket inside `netns`.
fn socket_in(netns: BorrowedFd<'_>) -> Result<Rtnl, NetError> {
    in_netns(netns, open)
}

/// Inside `netns`: brings `lo` and `config.name` up, gives the latter its
/// address and, with a gateway, the default route through it. Safe to
/// repeat (the address and route are replaced, not duplicated).
pub fn configure_netns(netns: BorrowedFd<'_>, config: &IfConfig) -> Result<(), NetError> {
    check_name(&config.name)?;
    check_prefix(config.address)?;
    let mut rtnl = socket_in(netns)?;
    let index_of = |rtnl: &mut Rtnl, name: &str| -> Result<u32, NetError> {
        link::find(rtnl, name)?
            .map(|l| l.header.index)
            .ok_or_else(|| NetError::NoSuchLink {
                name: name.to_string(),
            })
    };
    let lo = index_of(&mut rtnl, "lo")?;
    link::set_up(&mut rtnl, lo, "lo")?;
    let index = index_of(&mut rtnl, &config.name)?;
    link::set_up(&mut rtnl, index, &config.name)?;
    addr::add(&mut rtnl, index, &config.name, config.address)?;
    if let Some(gateway) = config.gateway {
        route::replace_default(&mut rtnl, index, &config.name, gateway)?;
    }
    Ok(())
}
