//! The health-check state machine. Pure: the engine runs the probes and
//! feeds results in with the time.

use serde::{Deserialize, Serialize};

use crate::spec::Healthcheck;

/// Health as `ps` shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// No healthcheck.
    #[default]
    None,
    Starting,
    Healthy,
    Unhealthy,
}

/// Tracks one container's health from its probe results, Docker's rules:
///
/// - the first probe runs one interval after the start; while `Starting`
///   within `start_period` the interval is `start_interval` (0: Docker's
///   default, 5 s); `interval` 0 is 30 s, `timeout` 0 is 30 s, `retries` 0
///   is 3;
/// - a success makes it `Healthy` and clears the failing streak;
/// - a failure during `start_period`, while still `Starting`, does not
///   count; otherwise `retries` consecutive failures make it `Unhealthy`;
/// - a probe that outlives `timeout` is a failure (the engine enforces the
///   timeout and reports `on_result(false, ..)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    interval_ms: u64,
    timeout_ms: u64,
    retries: u32,
    start_period_ms: u64,
    start_interval_ms: u64,
    started_ms: u64,
    status: HealthStatus,
    failing_streak: u32,
    last_probe_ms: Option<u64>,
}

/// Interval used when the file's is zero (Docker's default, 30 s).
const DEFAULT_INTERVAL_MS: u64 = 30_000;
/// Start interval used when the file's is zero (Docker's default, 5 s).
const DEFAULT_START_INTERVAL_MS: u64 = 5_000;

impl Tracker {
    /// A tracker for a container whose command started at `started_ms`.
    pub fn new(hc: &Healthcheck, started_ms: u64) -> Tracker {
        let interval_ms = if hc.interval.0 == 0 {
            DEFAULT_INTERVAL_MS
        } else {
            hc.interval.0
        };
        Tracker {
            interval_ms,
            timeout_ms: if hc.timeout.0 == 0 {
                DEFAULT_INTERVAL_MS
            } else {
                hc.timeout.0
            },
            // Docker treats 0 as its default, 3.
            retries: if hc.retries == 0 { 3 } else { hc.retries },
            start_period_ms: hc.start_period.0,
            start_interval_ms: if hc.start_interval.0 == 0 {
                DEFAULT_START_INTERVAL_MS
            } else {
                hc.start_interval.0
            },
            started_ms,
            status: HealthStatus::Starting,
            failing_streak: 0,
            last_probe_ms: None,
        }
    }

    /// The tracker of a container adopted from an earlier supervisor, with
    /// the status that one recorded (`None` is taken as `Starting`).
    pub fn resumed(mut self, status: HealthStatus) -> Tracker {
        if status != HealthStatus::None {
            self.status = status;
        }
        self
    }

    /// The current status (never `None`).
    pub fn status(&self) -> HealthStatus {
        self.status
    }

    /// Consecutive failures that counted.
    pub fn failing_streak(&self) -> u32 {
        self.failing_streak
    }

    /// How long a probe may run before the engine kills it and reports a
    /// failure.
    pub fn timeout_ms(&self) -> u64 {
        self.timeout_ms
    }

    fn in_start_period(&self, at_ms: u64) -> bool {
        at_ms.saturating_sub(self.started_ms) < self.start_period_ms
    }

    /// When the next probe is due: one interval after the last result (or
    /// after the start). May be ≤ now, meaning "probe now".
    pub fn next_probe_at(&self) -> u64 {
        let from = self.last_probe_ms.unwrap_or(self.started_ms);
        let interval = if self.status == HealthStatus::Starting && self.in_start_period(from) {
            self.start_interval_ms
        } else {
            self.interval_ms
        };
        from.saturating_add(interval)
    }

    /// True when a probe should be run at `now_ms`.
    pub fn probe_due(&self, now_ms: u64) -> bool {
        now_ms >= self.next_probe_at()
    }

    /// Record a probe result finished at `now_ms`. Returns the new status
    /// when it changed (the engine emits a `healthy`/`unhealthy` event).
    pub fn on_result(&mut self, ok: bool, now_ms: u64) -> Option<HealthStatus> {
        self.last_probe_ms = Some(now_ms);
        let before = self.status;
        if ok {
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
        } else if !(self.status == HealthStatus::Starting && self.in_start_period(now_ms)) {
            self.failing_streak = self.failing_streak.saturating_add(1);
            if self.failing_streak >= self.retries {
                self.status = HealthStatus::Unhealthy;
            }
        }
        (self.status != before).then_some(self.status)
    }
}
