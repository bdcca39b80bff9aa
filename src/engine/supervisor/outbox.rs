//! What leaves the loop: events to subscribers (and stderr), and records
//! to the store, written once per pass.

use std::collections::BTreeSet;
use std::sync::mpsc::Sender;

use super::Sup;
use crate::engine::control::{Event, Response};
use crate::state::ContainerRecord;

/// The event subscribers (`stack events`) and what was reported once.
#[derive(Default)]
pub(super) struct Outbox {
    pub subscribers: Vec<Sender<Response>>,
    /// Foreground `up` prints the containers' output; `created` is noise there.
    pub foreground: bool,
    /// Lines said once until the next `apply` (blocked, orphan).
    pub reported: BTreeSet<String>,
}

impl Sup {
    pub(super) fn emit(&mut self, service: Option<&str>, kind: &str, detail: String) {
        self.emit_to(service, kind, detail, true);
    }

    /// `emit`, printing the event only when `print` (its text was printed
    /// another way already).
    pub(super) fn emit_to(
        &mut self,
        service: Option<&str>,
        kind: &str,
        detail: String,
        print: bool,
    ) {
        let ev = Event {
            time: self.clock.unix_ms(),
            // As users name it: `web-2`, not the unit key `web#2`.
            service: service.map(crate::spec::replicas::display),
            kind: kind.to_string(),
            detail,
        };
        if print && (!self.out.foreground || !matches!(kind, "created")) {
            eprintln!("{}", ev.text());
        }
        let resp = Response {
            event: Some(ev),
            ..Response::ok()
        };
        self.out
            .subscribers
            .retain(|s| s.send(resp.clone()).is_ok());
    }

    /// Project the plan's state into the record and mark it for writing.
    /// Each write is an fsync'd atomic replace (two fsyncs), so the loop
    /// writes every changed record once per pass (`flush`), in parallel,
    /// before it answers anyone or waits: starting 50 containers wrote 100
    /// records one by one before.
    pub(super) fn save(&mut self, name: &str) {
        if let Some(c) = self.ctrs.get_mut(name) {
            c.sync();
        }
        self.dirty.insert(name.to_string());
    }

    /// Write the records marked by `save`; concurrent fsyncs share journal
    /// commits.
    pub(super) fn flush(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let names = std::mem::take(&mut self.dirty);
        let recs: Vec<&ContainerRecord> = names
            .iter()
            .filter_map(|n| self.ctrs.get(n).map(|c| &c.rec))
            .collect();
        let store = &self.store;
        let per_thread = recs.len().div_ceil(8).max(1);
        std::thread::scope(|s| {
            for chunk in recs.chunks(per_thread) {
                s.spawn(move || {
                    for rec in chunk {
                        if let Err(e) = store.save_container(rec) {
                            eprintln!("stack: cannot record {}: {e}", rec.service);
                        }
                    }
                });
            }
        });
    }
}
