//! How a service's processes meet the kernel beyond limits and
//! confinement: extra groups, namespaced sysctls, the OOM killer's view.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `group_add`, `sysctls`, `oom_score_adj`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    /// Names (from the container's `/etc/group`) or numbers, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// By dotted name (`net.core.somaxconn`); only the namespaced ones.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
}

impl Process {
    pub fn is_empty(&self) -> bool {
        *self == Process::default()
    }
}
