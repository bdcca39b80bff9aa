//! IPAM records: stack's networks, machine-wide. Two projects must never
//! get the same subnet, and `external: true` joins another project's
//! network by name, so the records live under the state root, not in one
//! project's directory:
//!
//! ```text
//! <state root>/networks/<network name>.json   a NetworkRecord
//! <state root>/networks/.lock                 flock, held for each read-modify-write
//! ```
//!
//! Every change is one read-modify-write of one record, under the lock,
//! written with the store's fsync'd replace: a supervisor killed at any
//! point leaves the old record or the new one, and the next `up` asks
//! again and gets the same answer (a key keeps its address, a network its
//! subnet). The decisions themselves are pure, in [`alloc`]; the host's
//! routes come in as a value (the engine reads them with
//! `runtime::net_routes::host_routes`).

pub mod alloc;

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;
use sha2::{Digest, Sha256};

pub use alloc::{AllocError, IpamConfig, NetworkRecord, Pool};

use super::{io_err, lock_path, read_json, state_root, unix_now_ms, write_json, StateError, Store};

/// Why a network could not be created, joined, changed or deleted.
#[derive(Debug, thiserror::Error)]
pub enum IpamError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Alloc(#[from] AllocError),
    #[error("invalid network name {0:?}: use letters, digits, '_', '.' and '-', starting with a letter or digit, at most 128 characters")]
    BadName(String),
    #[error("network {0} does not exist: run `stack up` for the project that defines it first")]
    NotFound(String),
    #[error("network {name} already exists and belongs to project {owner}: give project {project}'s network another name, or mark it `external: true` to join it")]
    OwnedByOther {
        name: String,
        owner: String,
        project: String,
    },
    #[error("network {name} exists with {field} {recorded}, the file asks for {wanted}: run `stack down` to remove the network, then `stack up`")]
    Changed {
        name: String,
        field: &'static str,
        recorded: String,
        wanted: String,
    },
    #[error("network {name} belongs to project {owner}, not {project}: it is left in place")]
    NotOwner {
        name: String,
        owner: String,
        project: String,
    },
    #[error("network {name}: bridge name {bridge} is already used by network {other}: choose another com.docker.network.bridge.name")]
    BridgeTaken {
        name: String,
        bridge: String,
        other: String,
    },
    #[error("network {name}: bridge name {bridge:?} is not a valid interface name: use 1 to 15 characters without '/', ':' or spaces")]
    BadBridge { name: String, bridge: String },
}

/// What `up` asks of a network it defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRequest {
    /// The name on the machine (`<project>_default`, or `name:`).
    pub name: String,
    /// The project defining it.
    pub project: String,
    pub config: IpamConfig,
    /// `driver_opts` `com.docker.network.bridge.name`, if set.
    pub bridge: Option<String>,
    /// Where a subnet comes from when `config` names none.
    pub pool: Pool,
}

impl NetworkRequest {
    /// A request with no `ipam.config`, from the default pool.
    pub fn new(name: &str, project: &str) -> NetworkRequest {
        NetworkRequest {
            name: name.to_string(),
            project: project.to_string(),
            config: IpamConfig::default(),
            bridge: None,
            pool: Pool::default(),
        }
    }
}

/// What [`Networks::delete`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    /// The record is gone: its subnet is free. The bridge, rules and
    /// resolver are the caller's to remove.
    Removed(NetworkRecord),
    /// The project's addresses were freed, but containers of other
    /// projects (`external: true`) still hold addresses: the network stays.
    InUse {
        record: NetworkRecord,
        projects: Vec<String>,
    },
    /// There was no such network.
    Absent,
}

/// An address freed by [`Networks::release_project`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub network: String,
    pub key: String,
    pub addr: Ipv4Addr,
}

/// The key of a container in a network's allocations:
/// `<project>/<container>` (`demo/web-1`). Project names have no `/`, so
/// the project is what comes before the first one.
pub fn container_key(project: &str, container: &str) -> String {
    format!("{project}/{container}")
}

/// The project of a [`container_key`].
pub fn key_project(key: &str) -> &str {
    key.split_once('/').map(|(p, _)| p).unwrap_or(key)
}

/// Whether `name` can name a network (and its record file).
pub fn valid_network(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn valid_bridge(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && !name
            .bytes()
            .any(|c| c == b'/' || c == b':' || c.is_ascii_whitespace() || c == 0)
        && name != "."
        && name != ".."
}

/// `stk-` and the first `hex` hex digits of the network name's sha256.
fn bridge_name(network: &str, hex: usize) -> String {
    let digest = hex::encode(Sha256::digest(network.as_bytes()));
    format!("stk-{}", &digest[..hex])
}

/// The machine-wide network records.
#[derive(Debug, Clone)]
pub struct Networks {
    /// `<state root>/networks`.
    pub dir: PathBuf,
}

/// Held for one read-modify-write of the records; released on drop.
#[derive(Debug)]
pub struct NetworksLock {
    _file: fs::File,
}

impl Store {
    /// The networks of the machine this store's state root holds.
    pub fn networks(&self) -> Networks {
        match self.dir.parent() {
            Some(root) => Networks::at(root),
            None => Networks::new(),
        }
    }
}

impl Networks {
    /// The records under `STACK_STATE_DIR` (or `/var/lib/stack`).
    pub fn new() -> Networks {
        Networks::at(&state_root())
    }

    /// The records under the state root `root`.
    pub fn at(root: &Path) -> Networks {
        Networks {
            dir: root.join("networks"),
        }
    }

    pub fn record_file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    pub fn lock_file(&self) -> PathBuf {
        self.dir.join(".lock")
    }

    /// Take the machine-wide lock, waiting while another process holds it
    /// (holds are one read-modify-write: milliseconds).
    pub fn lock(&self) -> Result<NetworksLock, IpamError> {
        fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        let file = lock_path(&self.lock_file(), &|holder| {
            tracing::debug!("waiting for the network lock (held by pid {holder})")
        })?;
        Ok(NetworksLock { _file: file })
    }

    /// One network's record; `None` if it does not exist. A corrupt record
    /// is moved aside, reported as a warning and read as absent.
    pub fn load(&self, name: &str) -> Result<Option<NetworkRecord>, IpamError> {
        if !valid_network(name) {
            return Err(IpamError::BadName(name.to_string()));
        }
        let (rec, damage) = read_json(&self.record_file(name))?;
        if let Some(d) = damage {
            tracing::warn!("{d}");
        }
        Ok(rec)
    }

    /// Every network's record, sorted by name.
    pub fn list(&self) -> Result<Vec<NetworkRecord>, IpamError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&self.dir)(e).into()),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_suffix(".json").map(str::to_string)
            })
            .filter(|n| valid_network(n))
            .collect();
        names.sort();
        let mut out = Vec::new();
        for n in names {
            if let Some(r) = self.load(&n)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn save(&self, rec: &NetworkRecord) -> Result<(), IpamError> {
        Ok(write_json(&self.record_file(&rec.name), rec, true)?)
    }

    /// The network `req` asks for: the existing record when the project
    /// already made it (an `up` after a crash or a second `up`), else a new
    /// one with the configured subnet (checked against every other stack
    /// network) or the first subnet of the pool that overlaps neither
    /// another stack network nor one of `host_routes`.
    pub fn create(
        &self,
        req: &NetworkRequest,
        host_routes: &[Ipv4Net],
    ) -> Result<NetworkRecord, IpamError> {
        if !valid_network(&req.name) {
            return Err(IpamError::BadName(req.name.clone()));
        }
        let configured = alloc::check_config(&req.name, &req.config)?;
        let _lock = self.lock()?;
        let all = self.list()?;
        if let Some(existing) = all.iter().find(|r| r.name == req.name) {
            return same_network(existing, req, configured);
        }
        let others: Vec<&NetworkRecord> = all.iter().collect();
        let bridge = pick_bridge(req, &others)?;
        let (subnet, gateway, ip_range) = match configured {
            Some(c) => {
                check_against(&req.name, c.0, &others)?;
                c
            }
            None => {
                if req.pool.prefix_len > 30 {
                    return Err(AllocError::TooSmall {
                        network: req.name.clone(),
                        subnet: Ipv4Net::new(req.pool.range.network(), req.pool.prefix_len)
                            .unwrap_or(req.pool.range),
                    }
                    .into());
                }
                let taken: Vec<Ipv4Net> = others.iter().map(|r| r.subnet).collect();
                let subnet =
                    alloc::pick_subnet(req.pool.range, &taken, host_routes, req.pool.prefix_len)
                        .ok_or_else(|| AllocError::PoolExhausted {
                            network: req.name.clone(),
                            pool: req.pool.range,
                            prefix_len: req.pool.prefix_len,
                        })?;
                (subnet, alloc::first_host(subnet), None)
            }
        };
        let rec = NetworkRecord {
            name: req.name.clone(),
            project: req.project.clone(),
            subnet,
            gateway,
            ip_range,
            bridge,
            created_ms: unix_now_ms(),
            allocations: Default::default(),
        };
        self.save(&rec)?;
        Ok(rec)
    }

    /// An existing network to join (`external: true`): its record, or an
    /// error naming it when no project made it.
    pub fn join(&self, name: &str) -> Result<NetworkRecord, IpamError> {
        self.load(name)?
            .ok_or_else(|| IpamError::NotFound(name.to_string()))
    }

    /// Read-modify-write of one record under the lock; written only when
    /// `f` changed it.
    fn update<R>(
        &self,
        name: &str,
        f: impl FnOnce(&mut NetworkRecord) -> Result<R, IpamError>,
    ) -> Result<R, IpamError> {
        let _lock = self.lock()?;
        let mut rec = self
            .load(name)?
            .ok_or_else(|| IpamError::NotFound(name.to_string()))?;
        let before = rec.clone();
        let out = f(&mut rec)?;
        if rec != before {
            self.save(&rec)?;
        }
        Ok(out)
    }

    /// An address on `network` for `key` ([`container_key`]): `requested`
    /// (`ipv4_address`) or the next free one; the same again for a key
    /// that has one.
    pub fn allocate(
        &self,
        network: &str,
        key: &str,
        requested: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr, IpamError> {
        self.update(network, |rec| Ok(alloc::allocate(rec, key, requested)?))
    }

    /// Free `key`'s address on `network`; what it was. A network that is
    /// gone has nothing to free.
    pub fn release(&self, network: &str, key: &str) -> Result<Option<Ipv4Addr>, IpamError> {
        match self.update(network, |rec| Ok(alloc::release(rec, key))) {
            Err(IpamError::NotFound(_)) => Ok(None),
            r => r,
        }
    }

    /// Free every address `project`'s containers hold, on every network
    /// (its own and those it joined).
    pub fn release_project(&self, project: &str) -> Result<Vec<Released>, IpamError> {
        let _lock = self.lock()?;
        let mut out = Vec::new();
        for mut rec in self.list()? {
            let before = out.len();
            free_project(&mut rec, project, &mut out);
            if out.len() != before {
                self.save(&rec)?;
            }
        }
        Ok(out)
    }

    /// Delete `project`'s network `name`: its own addresses are freed, and
    /// the record with its subnet goes unless another project's containers
    /// still hold addresses on it. Another project's network is refused.
    pub fn delete(&self, name: &str, project: &str) -> Result<Deleted, IpamError> {
        let _lock = self.lock()?;
        let Some(mut rec) = self.load(name)? else {
            return Ok(Deleted::Absent);
        };
        if rec.project != project {
            return Err(IpamError::NotOwner {
                name: name.to_string(),
                owner: rec.project,
                project: project.to_string(),
            });
        }
        let mut freed = Vec::new();
        free_project(&mut rec, project, &mut freed);
        let mut projects: Vec<String> = rec
            .allocations
            .keys()
            .map(|k| key_project(k).to_string())
            .collect();
        projects.sort();
        projects.dedup();
        if !projects.is_empty() {
            if !freed.is_empty() {
                self.save(&rec)?;
            }
            return Ok(Deleted::InUse {
                record: rec,
                projects,
            });
        }
        let path = self.record_file(name);
        fs::remove_file(&path).map_err(io_err(&path))?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&self.dir))?;
        Ok(Deleted::Removed(rec))
    }
}

impl Default for Networks {
    fn default() -> Networks {
        Networks::new()
    }
}

fn free_project(rec: &mut NetworkRecord, project: &str, out: &mut Vec<Released>) {
    let keys: Vec<String> = rec
        .allocations
        .keys()
        .filter(|k| key_project(k) == project)
        .cloned()
        .collect();
    for key in keys {
        if let Some(addr) = alloc::release(rec, &key) {
            out.push(Released {
                network: rec.name.clone(),
                key,
                addr,
            });
        }
    }
}

/// An existing record is the network `req` asks for when the same project
/// made it and what the file configures is what was recorded.
fn same_network(
    rec: &NetworkRecord,
    req: &NetworkRequest,
    configured: Option<(Ipv4Net, Ipv4Addr, Option<Ipv4Net>)>,
) -> Result<NetworkRecord, IpamError> {
    if rec.project != req.project {
        return Err(IpamError::OwnedByOther {
            name: req.name.clone(),
            owner: rec.project.clone(),
            project: req.project.clone(),
        });
    }
    let changed = |field, recorded: String, wanted: String| IpamError::Changed {
        name: req.name.clone(),
        field,
        recorded,
        wanted,
    };
    if let Some((subnet, gateway, ip_range)) = configured {
        if subnet != rec.subnet {
            return Err(changed(
                "subnet",
                rec.subnet.to_string(),
                subnet.to_string(),
            ));
        }
        if gateway != rec.gateway {
            return Err(changed(
                "gateway",
                rec.gateway.to_string(),
                gateway.to_string(),
            ));
        }
        if ip_range != rec.ip_range {
            let show = |r: Option<Ipv4Net>| r.map_or("none".to_string(), |r| r.to_string());
            return Err(changed("ip_range", show(rec.ip_range), show(ip_range)));
        }
    }
    if let Some(b) = &req.bridge {
        if *b != rec.bridge {
            return Err(changed("bridge name", rec.bridge.clone(), b.clone()));
        }
    }
    Ok(rec.clone())
}

/// A configured subnet must overlap no other stack network.
fn check_against(name: &str, subnet: Ipv4Net, others: &[&NetworkRecord]) -> Result<(), AllocError> {
    let mut list: Vec<(&str, Ipv4Net)> =
        others.iter().map(|r| (r.name.as_str(), r.subnet)).collect();
    list.push((name, subnet));
    alloc::check_overlaps(&list)
}

/// The configured bridge name, or `stk-<hash>` lengthened past any other
/// network's bridge of the same name.
fn pick_bridge(req: &NetworkRequest, others: &[&NetworkRecord]) -> Result<String, IpamError> {
    let holder = |b: &str| {
        others
            .iter()
            .find(|r| r.bridge == b)
            .map(|r| r.name.clone())
    };
    if let Some(b) = &req.bridge {
        if !valid_bridge(b) {
            return Err(IpamError::BadBridge {
                name: req.name.clone(),
                bridge: b.clone(),
            });
        }
        return match holder(b) {
            Some(other) => Err(IpamError::BridgeTaken {
                name: req.name.clone(),
                bridge: b.clone(),
                other,
            }),
            None => Ok(b.clone()),
        };
    }
    let mut last = String::new();
    for hex in 8..=11 {
        last = bridge_name(&req.name, hex);
        if holder(&last).is_none() {
            return Ok(last);
        }
    }
    Err(IpamError::BridgeTaken {
        name: req.name.clone(),
        other: holder(&last).unwrap_or_default(),
        bridge: last,
    })
}

#[cfg(test)]
mod tests;
