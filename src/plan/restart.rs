//! Restart policies and exponential back-off. Pure.

use crate::spec::RestartPolicy;

/// The first back-off delay.
pub const BACKOFF_START_MS: u64 = 100;
/// The longest back-off delay.
pub const BACKOFF_MAX_MS: u64 = 10_000;
/// A container that stayed up this long resets the back-off.
pub const RESET_AFTER_MS: u64 = 10_000;

/// Delay before the restart at back-off `level` (0 → 100 ms, doubling,
/// capped at [`BACKOFF_MAX_MS`]).
pub fn backoff(level: u32) -> u64 {
    BACKOFF_START_MS
        .saturating_mul(1u64.checked_shl(level.min(63)).unwrap_or(u64::MAX))
        .min(BACKOFF_MAX_MS)
}

/// The back-off level after an exit, given how long the container was up.
pub fn level_after_exit(level: u32, up_ms: u64) -> u32 {
    if up_ms >= RESET_AFTER_MS {
        0
    } else {
        level
    }
}

/// True for policies under which an exit 0 means "done" (`no`, `on-failure`).
pub fn is_one_shot(policy: &RestartPolicy) -> bool {
    matches!(policy, RestartPolicy::No | RestartPolicy::OnFailure { .. })
}
