//! The reconcile step: desired vs observed → [`Plan`].

use super::{Observed, Plan, PlanOptions};
use crate::spec::Stack;

/// Compute the plan that brings `observed` to `desired`. Pure.
pub fn diff(_desired: &Stack, _observed: &Observed, _opts: &PlanOptions) -> Plan {
    Plan::default()
}
