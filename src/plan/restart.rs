//! Restart policies and exponential back-off. Pure.

use crate::spec::{RestartPolicy, RestartTiming};

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

/// The wait before a policy restart at back-off `level`: `timing.delay`
/// when the service gives one (`deploy.restart_policy.delay`), else
/// [`backoff`].
pub fn delay_ms(timing: &RestartTiming, level: u32) -> u64 {
    match timing.delay {
        Some(d) => d.0.max(crate::spec::MIN_RESTART_DELAY_MS),
        None => backoff(level),
    }
}

/// The back-off level after an exit, given how long the container was up
/// and the service's `window` [default: [`RESET_AFTER_MS`]].
pub fn level_after_exit(level: u32, up_ms: u64, timing: &RestartTiming) -> u32 {
    if up_ms >= timing.window.map_or(RESET_AFTER_MS, |w| w.0) {
        0
    } else {
        level
    }
}

/// True for policies under which an exit 0 means "done" (`no`, `on-failure`).
pub fn is_one_shot(policy: &RestartPolicy) -> bool {
    matches!(policy, RestartPolicy::No | RestartPolicy::OnFailure { .. })
}

/// What a restart policy says after the container stopped on its own (or
/// turned unhealthy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Leave it stopped.
    Stay,
    /// Restart it; this is restart number `attempt` (1-based).
    Restart { attempt: u32 },
    /// `on-failure:max` used up its `max` restarts.
    GiveUp { max: u32 },
}

/// Apply `policy` to a container that `failed` (non-zero exit, set-up
/// failure or unhealthy) or not, after `restarts` policy restarts. Whether
/// the user stopped it is the caller's business (it suppresses every
/// policy).
pub fn decide(policy: &RestartPolicy, failed: bool, restarts: u32) -> Decision {
    let attempt = restarts.saturating_add(1);
    match policy {
        RestartPolicy::No => Decision::Stay,
        RestartPolicy::Always | RestartPolicy::UnlessStopped => Decision::Restart { attempt },
        RestartPolicy::OnFailure { .. } if !failed => Decision::Stay,
        RestartPolicy::OnFailure {
            max_retries: Some(max),
        } if restarts >= *max => Decision::GiveUp { max: *max },
        RestartPolicy::OnFailure { .. } => Decision::Restart { attempt },
    }
}

/// The policy as the file spells it: `no`, `always`, `on-failure`,
/// `unless-stopped`.
pub fn policy_name(policy: &RestartPolicy) -> &'static str {
    match policy {
        RestartPolicy::No => "no",
        RestartPolicy::Always => "always",
        RestartPolicy::OnFailure { .. } => "on-failure",
        RestartPolicy::UnlessStopped => "unless-stopped",
    }
}

/// `restart=on-failure (2/5)`, `restart=always (3)`.
pub fn describe(policy: &RestartPolicy, attempt: u32) -> String {
    match policy {
        RestartPolicy::OnFailure {
            max_retries: Some(max),
        } => format!("restart={} ({attempt}/{max})", policy_name(policy)),
        _ => format!("restart={} ({attempt})", policy_name(policy)),
    }
}

/// `400ms`, `1.6s`, `10s`.
pub fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}
