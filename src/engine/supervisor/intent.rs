//! What the current `up` asked for beyond the file, and how it becomes the
//! plan's options: the one place the loop's request state meets the
//! planner.

use std::collections::BTreeSet;

use super::Sup;
use crate::engine::control::UpOptions;
use crate::plan::{self, PlanOptions};
use crate::spec::Stack;

#[derive(Debug, Clone, Default)]
pub(super) struct Intent {
    pub options: UpOptions,
    /// Services an `up`/`start` asked to (re)start even though they were
    /// stopped or exited, not started yet: the plan runs as `explicit` for
    /// these only.
    pub kicked: BTreeSet<String>,
    /// Services still to be force-recreated by this `up`.
    pub force: BTreeSet<String>,
    /// Services whose recreate has removed the old container: their next
    /// `create` completes it (it is not printed as an action of its own).
    pub recreating: BTreeSet<String>,
}

impl Intent {
    /// The planner's options for a pass at `now_ms`.
    pub fn plan_options(&self, now_ms: u64) -> PlanOptions {
        PlanOptions {
            targets: self.options.services.clone(),
            no_deps: self.options.no_deps,
            force_recreate: !self.force.is_empty(),
            force_only: Some(self.force.clone()),
            no_recreate: self.options.no_recreate,
            remove_orphans: self.options.remove_orphans,
            explicit: !self.kicked.is_empty(),
            explicit_only: Some(self.kicked.clone()),
            now_ms,
        }
    }
}

impl Sup {
    /// Take a new desired stack (first `up`, reload, watch).
    pub(super) fn apply(&mut self, stack: Stack, options: UpOptions) {
        let scoping = PlanOptions {
            targets: options.services.clone(),
            no_deps: options.no_deps,
            ..PlanOptions::default()
        };
        let kicked: BTreeSet<String> = plan::scope(&stack, &scoping)
            .into_iter()
            .map(String::from)
            .collect();
        let force = if options.force_recreate {
            kicked.clone()
        } else {
            BTreeSet::new()
        };
        // A recreate under way stays one, unless its service left the file.
        let mut recreating = std::mem::take(&mut self.intent.recreating);
        recreating.retain(|n| stack.services.contains_key(n));
        self.stack = stack;
        self.spawner.net_stack(&self.stack);
        self.intent = Intent {
            options,
            kicked,
            force,
            recreating,
        };
        self.out.reported.clear();
        self.save_project();
        if let Ok(mut n) = self.new_logs.lock() {
            for s in self.stack.services.keys() {
                n.push((s.clone(), self.store.log_file(s)));
            }
        }
        self.last_actions.clear();
        self.refresh_watches();
        self.step();
    }
}
