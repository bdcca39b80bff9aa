//! The timing of restarts (`deploy.restart_policy`'s `delay` and
//! `window`); the policy itself is `RestartPolicy`.

use serde::{Deserialize, Serialize};

use crate::spec::units::Millis;

/// The shortest `delay`: a crashing container must not spin.
pub const MIN_RESTART_DELAY_MS: u64 = 100;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartTiming {
    /// A fixed wait before every policy restart, instead of the back-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Millis>,
    /// How long a container must stay up to reset the back-off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Millis>,
}

impl RestartTiming {
    pub fn is_default(&self) -> bool {
        *self == RestartTiming::default()
    }
}
