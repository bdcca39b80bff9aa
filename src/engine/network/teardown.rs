//! `down`'s part for networks, from the state alone (no supervisor need
//! run): the resolver, the firewall table, Docker's rules, the addresses
//! the project held everywhere, and the networks it made that nobody else
//! still uses — each bridge with its record.

use super::resolver;
use crate::runtime::firewall::{self, docker};
use crate::runtime::net;
use crate::state::ipam::{Deleted, Networks};
use crate::state::Store;

/// Remove what the project's networks left; what could not be is said.
pub fn teardown(store: &Store) -> Vec<String> {
    let project = &store.project;
    let mut warnings = Vec::new();
    resolver::stop(&store.run);
    if let Err(e) = firewall::remove(&firewall::table_name(project)) {
        warnings.push(e.to_string());
    }
    if let Err(e) = docker::revoke(project) {
        warnings.push(e.to_string());
    }
    let nets = Networks::new();
    let records = match nets.list() {
        Ok(r) => r,
        Err(e) => {
            warnings.push(e.to_string());
            return warnings;
        }
    };
    // The resolver's own address on networks the project joined.
    let key = super::attach::resolver_key(project);
    for rec in records.iter().filter(|r| &r.project != project) {
        if let Some(a) = rec.allocations.get(&key) {
            let _ = net::del_address(&rec.bridge, *a, 32);
        }
    }
    if let Err(e) = nets.release_project(project) {
        warnings.push(e.to_string());
    }
    for rec in records.iter().filter(|r| &r.project == project) {
        match nets.delete(&rec.name, project) {
            Ok(Deleted::Removed(r)) => {
                if let Err(e) = net::delete_bridge(&r.bridge) {
                    warnings.push(format!("network {}: {e}", r.name));
                }
            }
            Ok(Deleted::InUse { record, projects }) => warnings.push(format!(
                "network {} is kept: project(s) {} still use it",
                record.name,
                projects.join(", ")
            )),
            Ok(Deleted::Absent) => {}
            Err(e) => warnings.push(e.to_string()),
        }
    }
    warnings
}
