//! What `up` checks before it makes anything (validate first, then act):
//! every host port the file publishes is free, or held by this project's
//! own container already; every external network exists. A failure is
//! one sentence and nothing is made.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use super::NetworkError;
use crate::runtime::firewall::Proto;
use crate::runtime::net;
use crate::spec::Stack;
use crate::state::ipam::Networks;
use crate::state::{ContainerRecord, Store};

pub fn preflight(store: &Store, stack: &Stack) -> Result<(), NetworkError> {
    let nets = Networks::new();
    for def in stack.networks.values().filter(|d| d.external) {
        let rec = nets.join(&def.name)?;
        if !net::link_exists(&rec.bridge).unwrap_or(false) {
            return Err(NetworkError::ExternalGone {
                network: def.name.clone(),
                bridge: rec.bridge,
            });
        }
    }
    // Ports this project's containers hold now (a second `up`). Read
    // as they are: a damaged record is the supervisor's to report and
    // move aside, not this check's.
    let ours: BTreeSet<(Option<Ipv4Addr>, u16, String)> = std::fs::read_dir(store.containers_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<ContainerRecord>(&b).ok())
        .flat_map(|r| r.ports)
        .map(|p| (p.host_ip, p.host_port, p.proto))
        .collect();
    for svc in stack.services.values() {
        for p in &svc.ports {
            let Some(port) = p.published.as_deref().and_then(|s| s.parse::<u16>().ok()) else {
                continue; // none, or a range: any free port of it will do
            };
            let ip = p
                .host_ip
                .as_deref()
                .and_then(|s| s.parse::<Ipv4Addr>().ok())
                .filter(|ip| !ip.is_unspecified());
            if ours.contains(&(ip, port, p.protocol.clone())) {
                continue;
            }
            let proto = Proto::from_name(&p.protocol);
            // Bound and dropped at once: only whether it can be had.
            drop(
                net::reserve(ip, port, proto).map_err(|e| NetworkError::Service {
                    service: svc.name.clone(),
                    error: Box::new(e.into()),
                })?,
            );
        }
    }
    Ok(())
}
