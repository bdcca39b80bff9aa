//! When a service starts and how it is watched: `depends_on`, `healthcheck`, `develop`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// Dependencies: names, or a map by name.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DependsOnFile {
    List(Vec<String>),
    Map(BTreeMap<String, DependencyFile>),
}

/// One dependency, long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyFile {
    /// `service_started` (default), `service_healthy` or `service_completed_successfully`.
    /// Example: `condition: service_healthy`
    #[serde(default)]
    pub condition: Option<ConditionFile>,
    /// Restart this service when the dependency is recreated. Default: `false`.
    /// Example: `restart: true`
    #[serde(default)]
    pub restart: Option<bool>,
    /// When `false`, a missing or disabled dependency is ignored. Default: `true`.
    /// Example: `required: false`
    #[serde(default)]
    pub required: Option<bool>,
}

/// When a dependency counts as ready.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionFile {
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

/// A health check, run inside the container.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthcheckFile {
    /// A shell command string, `["CMD", args...]`, `["CMD-SHELL", "command"]` or `["NONE"]`.
    /// Example: `test: ["CMD", "test", "-f", "/tmp/ready"]`
    #[serde(default)]
    pub test: Option<StringOrList>,
    /// Time between checks. Default: `30s`. Example: `interval: 5s`
    #[serde(default)]
    pub interval: Option<String>,
    /// Time one check may take. Default: `30s`. Example: `timeout: 2s`
    #[serde(default)]
    pub timeout: Option<String>,
    /// Failures in a row that make the service unhealthy. Default: `3`. Example: `retries: 5`
    #[serde(default)]
    pub retries: Option<u32>,
    /// Failures during this time after start do not count. Default: `0s`. Example: `start_period: 10s`
    #[serde(default)]
    pub start_period: Option<String>,
    /// Time between checks during `start_period`. Default: `5s`. Example: `start_interval: 1s`
    #[serde(default)]
    pub start_interval: Option<String>,
    /// Remove the health check (like `test: ["NONE"]`). Example: `disable: true`
    #[serde(default)]
    pub disable: Option<bool>,
}

/// Development settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DevelopFile {
    /// Paths watched by `stack up --watch` and what to do when they change.
    /// Example: `watch: [{ path: ./app, action: sync+restart, target: /app }]`
    #[serde(default)]
    pub watch: Option<Vec<WatchFile>>,
}

/// A watch rule.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchFile {
    /// Host path to watch, relative to the stack file. Example: `path: ./app`
    pub path: String,
    /// `restart`, `sync`, `sync+restart` or `rebuild`. Example: `action: restart`
    pub action: String,
    /// Path in the container (for `sync` actions). Example: `target: /app`
    #[serde(default)]
    pub target: Option<String>,
    /// Patterns to ignore, relative to `path`. Example: `ignore: ["*.tmp"]`
    #[serde(default)]
    pub ignore: Option<Vec<String>>,
}

/// A lifecycle hook: a command run inside the container through the same
/// path as `stack exec`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HookFile {
    /// The command: a list, or a string split like a shell would.
    /// Example: `command: [sh, -c, "echo started"]`
    pub command: StringOrList,
    /// Who runs it [default: the service's user]. Example: `user: root`
    #[serde(default)]
    pub user: Option<String>,
    /// Run it with every capability and no seccomp filter, whatever the
    /// service's. Default: `false`. Example: `privileged: true`
    #[serde(default)]
    pub privileged: Option<bool>,
    /// Where it runs [default: the service's working_dir].
    /// Example: `working_dir: /app`
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Variables on top of the service's. Example: `environment: { STAGE: hook }`
    #[serde(default)]
    pub environment: Option<MapOrList>,
}
