//! One container onto its networks: the networks made if they are not
//! (IPAM record, bridge), its addresses, its published ports held, its
//! `resolv.conf` and `hosts` — everything the start worker needs before
//! it spawns the container, as plain runtime types.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::view::InUse;
use super::NetworkError;
use crate::runtime::firewall::Proto;
use crate::runtime::net::{self, Reservation};
use crate::runtime::{Attachment, MountSpec, Network};
use crate::spec::{NetworkDef, Port, Service, ServiceNetwork};
use crate::state::ipam::{self, IpamConfig, IpamError, NetworkRequest, Networks, Pool};
use crate::state::{NetAddress, PublishedPort};

/// What a container gets from its networks.
#[derive(Debug)]
pub struct Attached {
    pub network: Network,
    /// `/etc/resolv.conf` and `/etc/hosts`, when stack writes them.
    pub mounts: Vec<MountSpec>,
    pub addresses: Vec<NetAddress>,
    pub ports: Vec<PublishedPort>,
    /// The held host ports (dropping them frees the ports).
    pub held: Vec<Reservation>,
}

/// The lock every network is made under, machine-wide whatever the state
/// root: picking a subnet reads the host's routes and making the bridge
/// adds one, so two `up`s (even of different state roots) never pick the
/// same subnet.
struct MachineLock(#[allow(dead_code)] File);

const MACHINE_LOCK: &str = "/run/lock/stack-networks.lock";

fn machine_lock() -> Result<MachineLock, NetworkError> {
    let path = Path::new(MACHINE_LOCK);
    let file = path
        .parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(path)
        })
        .map_err(|source| NetworkError::File {
            path: path.to_path_buf(),
            error: source,
        })?;
    // SAFETY: flock on a descriptor we own; no memory is touched.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(NetworkError::File {
            path: path.to_path_buf(),
            error: std::io::Error::last_os_error(),
        });
    }
    Ok(MachineLock(file))
}

/// The network `def` made (or found) for `project`: its IPAM record and
/// its bridge. An external one must exist; the project's resolver gets an
/// address of its own on it.
pub(super) fn ensure(project: &str, def: &NetworkDef) -> Result<InUse, NetworkError> {
    let nets = Networks::new();
    let link = |source| NetworkError::Link {
        network: def.name.clone(),
        error: source,
    };
    if def.external {
        let rec = nets.join(&def.name)?;
        if !net::link_exists(&rec.bridge).map_err(link)? {
            return Err(NetworkError::ExternalGone {
                network: def.name.clone(),
                bridge: rec.bridge,
            });
        }
        let resolver = if rec.project == project {
            rec.gateway
        } else {
            let a = nets.allocate(&rec.name, &resolver_key(project), None)?;
            net::add_address(&rec.bridge, a, 32).map_err(link)?;
            a
        };
        return Ok(InUse {
            name: rec.name,
            bridge: rec.bridge,
            subnet: rec.subnet,
            gateway: rec.gateway,
            internal: def.internal,
            resolver,
        });
    }
    let req = NetworkRequest {
        name: def.name.clone(),
        project: project.to_string(),
        config: IpamConfig {
            subnet: def.subnet,
            ip_range: def.ip_range,
            gateway: def.gateway,
        },
        bridge: def.bridge.clone(),
        pool: Pool::default(),
    };
    let _lock = machine_lock()?;
    let routes = crate::runtime::net_routes::host_routes().unwrap_or_default();
    let rec = match nets.create(&req, &routes) {
        // The file changed the network and nothing holds an address on it
        // any more (its containers were recreated first): make it again.
        Err(IpamError::Changed { .. }) if unused(&nets, &def.name) => {
            if let Some(old) = nets.load(&def.name)? {
                net::delete_link(&old.bridge).map_err(link)?;
            }
            nets.delete(&def.name, project)?;
            nets.create(&req, &routes)?
        }
        r => r?,
    };
    net::ensure_bridge(&net::Bridge {
        name: rec.bridge.clone(),
        mac: net::mac_for(&rec.bridge),
        mtu: def.mtu,
        address: (rec.gateway, rec.subnet.prefix_len()),
    })
    .map_err(link)?;
    Ok(InUse {
        name: rec.name,
        bridge: rec.bridge,
        subnet: rec.subnet,
        gateway: rec.gateway,
        internal: def.internal,
        resolver: rec.gateway,
    })
}

fn unused(nets: &Networks, name: &str) -> bool {
    nets.load(name)
        .ok()
        .flatten()
        .is_some_and(|r| r.allocations.is_empty())
}

/// The IPAM key of the project's resolver on a network it joined.
pub(super) fn resolver_key(project: &str) -> String {
    ipam::container_key(project, ".resolver")
}

/// A service's networks, highest priority first (then by key): `eth0` is
/// the first, and carries the default route.
pub(super) fn ordered(svc: &Service) -> Vec<(&String, &ServiceNetwork)> {
    let mut v: Vec<_> = svc.networks.iter().collect();
    v.sort_by(|a, b| b.1.priority.cmp(&a.1.priority).then(a.0.cmp(b.0)));
    v
}

/// The host end of a container's veth: unique per start, so a restart
/// never meets the previous one still being torn down with its namespace.
fn veth_name(id: &str, network: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let h = Sha256::digest(format!("{id}\0{network}\0{nanos}\0{}", std::process::id()));
    let hex: String = h.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("stkv{hex}")
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<u8> = s
        .split(':')
        .map(|p| u8::from_str_radix(p, 16))
        .collect::<Result<_, _>>()
        .ok()?;
    parts.try_into().ok()
}

/// Addresses on `networks` (ensured, by name) for container `id`, and the
/// runtime's attachments.
pub(super) fn addresses(
    project: &str,
    id: &str,
    svc: &Service,
    networks: &BTreeMap<String, InUse>,
) -> Result<(Vec<Attachment>, Vec<NetAddress>), NetworkError> {
    let nets = Networks::new();
    let key = ipam::container_key(project, id);
    let (mut atts, mut addrs) = (Vec::new(), Vec::new());
    let mut routed = false;
    for (i, (k, sn)) in ordered(svc).into_iter().enumerate() {
        let Some(n) = networks.get(&sn.network.name) else {
            continue;
        };
        let address = nets.allocate(&n.name, &key, sn.ipv4_address)?;
        let gateway = (!routed && !n.internal).then_some(n.gateway);
        routed |= gateway.is_some();
        atts.push(Attachment {
            bridge: n.bridge.clone(),
            host_veth: veth_name(id, &n.name),
            interface: format!("eth{i}"),
            address,
            prefix: n.subnet.prefix_len(),
            gateway,
            // One address, one MAC (as Docker derives it from the IP): a
            // recreated container that gets its address back is reached
            // at once, whatever its neighbours' ARP caches still say.
            mac: sn
                .mac_address
                .as_deref()
                .and_then(parse_mac)
                .or_else(|| Some(net::mac_for(&format!("{}/{address}", n.name)))),
            mtu: sn.network.mtu,
        });
        addrs.push(NetAddress {
            network: n.name.clone(),
            key: k.clone(),
            address,
            bridge: n.bridge.clone(),
        });
    }
    Ok((atts, addrs))
}

/// Hold the host side of each published port (a range takes its first
/// free port; no host port: one the kernel picks).
pub(super) fn hold_ports(
    ports: &[Port],
) -> Result<(Vec<PublishedPort>, Vec<Reservation>), NetworkError> {
    let (mut out, mut held) = (Vec::new(), Vec::new());
    for p in ports {
        let ip = p
            .host_ip
            .as_deref()
            .and_then(|s| s.parse::<Ipv4Addr>().ok())
            .filter(|ip| !ip.is_unspecified());
        let proto = Proto::from_name(&p.protocol);
        let r = match p.published.as_deref() {
            None => net::reserve(ip, 0, proto)?,
            Some(s) => match s.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (a.parse().unwrap_or(0), b.parse().unwrap_or(0));
                    net::reserve_in_range(ip, a, b, proto)?
                }
                None => net::reserve(ip, s.parse().unwrap_or(0), proto)?,
            },
        };
        out.push(PublishedPort {
            host_ip: ip,
            host_port: r.port(),
            container_port: p.target,
            proto: p.protocol.clone(),
        });
        held.push(r);
    }
    Ok((out, held))
}

/// Write `resolv.conf` and `hosts` into the bundle; their bind mounts.
pub(super) fn files(
    bundle: &Path,
    svc: &Service,
    resolver: Ipv4Addr,
    own: Option<Ipv4Addr>,
    gateway: Option<Ipv4Addr>,
) -> Result<Vec<MountSpec>, NetworkError> {
    let mut mounts = Vec::new();
    for (name, text) in [
        ("resolv.conf", super::files::resolv_conf(resolver, svc)),
        ("hosts", super::files::hosts(own, gateway, svc)),
    ] {
        let path: PathBuf = bundle.join(name);
        std::fs::write(&path, text).map_err(|source| NetworkError::File {
            path: path.clone(),
            error: source,
        })?;
        mounts.push(MountSpec::Bind {
            source: path,
            target: format!("/etc/{name}"),
            read_only: false,
        });
    }
    Ok(mounts)
}
