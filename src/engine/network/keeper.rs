//! [`Keeper`]: a supervisor's view of its project's networks — the
//! networks made, the live containers' addresses and ports, the ports it
//! holds — and the one place that applies it: the resolver's table and
//! process, the nftables table, Docker's DOCKER-USER rules. Every change
//! goes through `refresh`, which computes the [`View`] and applies only
//! what differs from the last one applied; `repair` puts back what an
//! outside firewall reload wiped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use super::attach::{self, Attached};
use super::resolver;
use super::view::{self, Entry, InUse, View};
use super::NetworkError;
use crate::runtime::dns;
use crate::runtime::firewall::{self, docker};
use crate::runtime::net::{self, Reservation};
use crate::runtime::Network;
use crate::spec::{NetworkMode, Service, Stack};
use crate::state::{container_id, ipam, Store};

#[derive(Default)]
struct Inner {
    stack: Option<Stack>,
    /// The networks ensured, by name on the machine.
    networks: BTreeMap<String, InUse>,
    /// Live (or starting) containers, by id.
    entries: BTreeMap<String, Entry>,
    /// Held host ports, by container id.
    held: BTreeMap<String, Vec<Reservation>>,
    /// What was applied last; `None`: apply everything again.
    applied: Option<View>,
    forwarding_checked: bool,
}

/// One project's networks in a supervisor.
pub struct Keeper {
    project: String,
    run: PathBuf,
    inner: Mutex<Inner>,
}

impl Keeper {
    pub fn new(store: &Store) -> Keeper {
        Keeper {
            project: store.project.clone(),
            run: store.run.clone(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stack the names come from (aliases, links); set at start and
    /// on every reload.
    pub fn set_stack(&self, stack: &Stack) {
        let mut inner = self.lock();
        inner.stack = Some(stack.clone());
        self.retire(&mut inner);
        if let Err(e) = self.refresh(&mut inner) {
            eprintln!("stack: networks: {e}");
        }
    }

    /// Everything `svc`'s container needs from its networks, its names
    /// and ports live before it is spawned. `peer`: the init pid of the
    /// service whose namespace it shares (`network_mode: service:X`).
    pub fn attach(
        &self,
        store: &Store,
        svc: &Service,
        peer: Option<i32>,
    ) -> Result<Attached, NetworkError> {
        let id = container_id(&self.project, &svc.name);
        let bundle = store.bundle_dir(&svc.name);
        let mut inner = self.lock();
        match &svc.network_mode {
            NetworkMode::None | NetworkMode::Host => Ok(Attached {
                network: if svc.network_mode == NetworkMode::Host {
                    Network::Host
                } else {
                    Network::None
                },
                mounts: vec![],
                addresses: vec![],
                ports: vec![],
                held: vec![],
            }),
            NetworkMode::Service(peer_name) => {
                let pid = peer.ok_or_else(|| NetworkError::PeerNotRunning {
                    peer: peer_name.clone(),
                })?;
                let peer_id = container_id(&self.project, peer_name);
                let first = inner
                    .entries
                    .get(&peer_id)
                    .and_then(|e| e.addresses.first().cloned());
                let net = first
                    .as_ref()
                    .and_then(|a| Some((a, inner.networks.get(&a.network)?)));
                let mounts = match (net, inner.stack.as_ref()) {
                    (Some((a, n)), Some(stack)) => {
                        let host = stack.services.get(peer_name).unwrap_or(svc);
                        attach::files(&bundle, host, n.resolver, Some(a.address), Some(n.gateway))?
                    }
                    _ => vec![],
                };
                Ok(Attached {
                    network: Network::Join(format!("/proc/{pid}/ns/net").into()),
                    mounts,
                    addresses: vec![],
                    ports: vec![],
                    held: vec![],
                })
            }
            NetworkMode::Bridge => self.attach_bridge(&mut inner, &id, &bundle, svc),
        }
    }

    fn attach_bridge(
        &self,
        inner: &mut Inner,
        id: &str,
        bundle: &std::path::Path,
        svc: &Service,
    ) -> Result<Attached, NetworkError> {
        for (_, sn) in attach::ordered(svc) {
            if !inner.networks.contains_key(&sn.network.name) {
                let n = attach::ensure(&self.project, &sn.network)?;
                inner.networks.insert(n.name.clone(), n);
            }
        }
        let (atts, addresses) = attach::addresses(&self.project, id, svc, &inner.networks)?;
        // A restart binds its ports again: free them first.
        inner.held.remove(id);
        let (ports, held) = attach::hold_ports(&svc.ports)?;
        let mounts = match addresses.first() {
            Some(a) => {
                let n = &inner.networks[&a.network];
                let gw = atts.iter().find_map(|t| t.gateway).or(Some(n.gateway));
                attach::files(bundle, svc, n.resolver, Some(a.address), gw)?
            }
            None => vec![],
        };
        inner.entries.insert(
            id.to_string(),
            Entry {
                service: svc.name.clone(),
                id: id.to_string(),
                addresses: addresses.clone(),
                ports: ports.clone(),
            },
        );
        if let Err(e) = self.refresh(inner) {
            inner.entries.remove(id);
            return Err(e);
        }
        Ok(Attached {
            // No network at all: loopback only, up.
            network: if atts.is_empty() {
                Network::None
            } else {
                Network::Bridge(atts)
            },
            mounts,
            addresses,
            ports,
            held,
        })
    }

    /// Keep the ports a started container holds until it is removed.
    pub fn hold(&self, service: &str, held: Vec<Reservation>) {
        let id = container_id(&self.project, service);
        self.lock().held.insert(id, held);
    }

    /// The loop's view after a pass: `live` are the running containers
    /// (from their records); the entries of `starting` ones stay; every
    /// other entry goes (an exited container's names stop resolving).
    pub fn sync(&self, live: Vec<Entry>, starting: &BTreeSet<String>) {
        let mut inner = self.lock();
        let mut next: BTreeMap<String, Entry> =
            live.into_iter().map(|e| (e.id.clone(), e)).collect();
        for (id, e) in &inner.entries {
            if starting.contains(id) && !next.contains_key(id) {
                next.insert(id.clone(), e.clone());
            }
        }
        if next == inner.entries && inner.applied.is_some() {
            return;
        }
        inner.entries = next;
        // Adopted containers: the ports an earlier supervisor held are
        // held again (best effort: they were the containers' own).
        let unheld: Vec<Entry> = inner
            .entries
            .values()
            .filter(|e| {
                !e.ports.is_empty() && !inner.held.contains_key(&e.id) && !starting.contains(&e.id)
            })
            .cloned()
            .collect();
        for e in unheld {
            let held = e
                .ports
                .iter()
                .filter_map(|p| {
                    let proto = firewall::Proto::from_name(&p.proto);
                    net::reserve(p.host_ip, p.host_port, proto).ok()
                })
                .collect();
            inner.held.insert(e.id.clone(), held);
        }
        // Adopted containers: their networks are known from their records.
        let missing: Vec<(String, String)> = inner
            .entries
            .values()
            .flat_map(|e| e.addresses.iter())
            .filter(|a| !inner.networks.contains_key(&a.network))
            .map(|a| (a.key.clone(), a.network.clone()))
            .collect();
        for (key, name) in missing {
            let def = inner
                .stack
                .as_ref()
                .and_then(|s| s.networks.get(&key).cloned())
                .filter(|d| d.name == name);
            if let Some(def) = def {
                match attach::ensure(&self.project, &def) {
                    Ok(n) => {
                        inner.networks.insert(n.name.clone(), n);
                    }
                    Err(e) => eprintln!("stack: networks: {e}"),
                }
            }
        }
        if let Err(e) = self.refresh(&mut inner) {
            eprintln!("stack: networks: {e}");
        }
    }

    /// A container was removed: its address, its ports and its names go.
    pub fn detach(&self, service: &str) {
        let id = container_id(&self.project, service);
        let mut inner = self.lock();
        inner.entries.remove(&id);
        inner.held.remove(&id);
        let key = ipam::container_key(&self.project, &id);
        let nets = ipam::Networks::new();
        for name in inner.networks.keys() {
            if let Err(e) = nets.release(name, &key) {
                eprintln!("stack: networks: {e}");
            }
        }
        self.retire(&mut inner);
        if let Err(e) = self.refresh(&mut inner) {
            eprintln!("stack: networks: {e}");
        }
    }

    /// Networks the file no longer names go once no container holds an
    /// address on them (after the last one attached was removed), as
    /// Compose removes them; external ones are only forgotten.
    fn retire(&self, inner: &mut Inner) {
        let Some(stack) = inner.stack.as_ref() else {
            return;
        };
        let wanted: BTreeSet<&str> = stack.networks.values().map(|d| d.name.as_str()).collect();
        let gone: Vec<String> = inner
            .networks
            .keys()
            .filter(|n| !wanted.contains(n.as_str()))
            .cloned()
            .collect();
        let nets = ipam::Networks::new();
        for name in gone {
            let Ok(Some(rec)) = nets.load(&name) else {
                inner.networks.remove(&name);
                continue;
            };
            if rec.project != self.project {
                inner.networks.remove(&name);
                continue;
            }
            if !rec.allocations.is_empty() {
                continue;
            }
            match nets.delete(&name, &self.project) {
                Ok(ipam::Deleted::Removed(r)) => {
                    if let Err(e) = net::delete_bridge(&r.bridge) {
                        eprintln!("stack: network {name}: {e}");
                    } else {
                        eprintln!("stack: removed network {name} (no longer in the file)");
                    }
                    inner.networks.remove(&name);
                }
                Ok(_) => {}
                Err(e) => eprintln!("stack: network {name}: {e}"),
            }
        }
    }

    /// Put back what was wiped from outside (`nft flush ruleset`, a
    /// firewalld reload, a killed resolver).
    pub fn repair(&self) {
        let mut inner = self.lock();
        let Some(v) = inner.applied.clone() else {
            return;
        };
        let table = format!("inet {}", v.rules.table);
        let wiped = !v.rules.networks.is_empty()
            && firewall::list_tables().is_ok_and(|t| !t.contains(&table));
        let resolver_gone = !v.listen.is_empty() && resolver::running(&self.run).is_none();
        if wiped || resolver_gone {
            if wiped {
                eprintln!(
                    "stack: the firewall table {table} was removed from outside: putting it back"
                );
            }
            inner.applied = None;
            if let Err(e) = self.refresh(&mut inner) {
                eprintln!("stack: networks: {e}");
            }
        }
    }

    /// Apply the view of `inner`, only what changed since the last.
    fn refresh(&self, inner: &mut Inner) -> Result<(), NetworkError> {
        let Some(stack) = inner.stack.as_ref() else {
            return Ok(());
        };
        let entries: Vec<Entry> = inner.entries.values().cloned().collect();
        let v = view::view(&self.project, stack, &entries, &inner.networks);
        let old = inner.applied.take();
        if old.as_ref() == Some(&v) {
            inner.applied = old;
            return Ok(());
        }
        if v.rules.networks.is_empty() {
            inner.applied = Some(v);
            return Ok(());
        }
        if !inner.forwarding_checked {
            enable_forwarding();
            host_firewall_note(&v.bridges);
            inner.forwarding_checked = true;
        }
        if old.as_ref().map(|o| &o.table) != Some(&v.table) {
            let path = resolver::table_file(&self.run);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|source| NetworkError::File {
                    path: dir.to_path_buf(),
                    error: source,
                })?;
            }
            dns::table::store(&path, &v.table)?;
        }
        if old.as_ref().map(|o| &o.listen) != Some(&v.listen) {
            resolver::ensure(&self.run, &v.listen)?;
        }
        for b in &v.localnet {
            net::set_route_localnet(b, true).map_err(|source| NetworkError::Link {
                network: b.clone(),
                error: source,
            })?;
        }
        if old.as_ref().map(|o| &o.rules) != Some(&v.rules) {
            firewall::apply(&v.rules)?;
        }
        if old.as_ref().map(|o| &o.bridges) != Some(&v.bridges) {
            docker::allow(&self.project, &v.bridges)?;
        }
        inner.applied = Some(v);
        Ok(())
    }
}

/// A host firewall that drops forwarded traffic by default drops the
/// containers' too, and stack does not edit its rules: say what to run.
fn host_firewall_note(bridges: &[String]) {
    let b = bridges.first().map(String::as_str).unwrap_or("stk-…");
    if std::path::Path::new("/run/firewalld").is_dir() {
        eprintln!(
            "stack: firewalld runs here: if it drops forwarded traffic, put the bridge in a trusted zone: firewall-cmd --zone=trusted --add-interface={b}"
        );
    }
    let ufw_on = std::fs::read_to_string("/etc/ufw/ufw.conf")
        .is_ok_and(|c| c.lines().any(|l| l.trim() == "ENABLED=yes"));
    if ufw_on {
        eprintln!("stack: ufw is enabled here: if it drops forwarded traffic, allow the bridge: ufw route allow in on {b}");
    }
}

/// Bridged traffic out of a container needs IPv4 forwarding, as Docker
/// turns it on; say so when it was off.
fn enable_forwarding() {
    let path = "/proc/sys/net/ipv4/ip_forward";
    if std::fs::read_to_string(path).is_ok_and(|v| v.trim() == "0") {
        match std::fs::write(path, "1") {
            Ok(()) => eprintln!("stack: turned on net.ipv4.ip_forward (containers reach the outside through it)"),
            Err(e) => eprintln!("stack: cannot turn on net.ipv4.ip_forward: {e}; containers will not reach the outside"),
        }
    }
}
