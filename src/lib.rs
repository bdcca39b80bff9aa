//! stack: a compose-style orchestrator for Linux containers built from local
//! root filesystems. See `book/` for the user guide and DESIGN.md for the map.
//!
//! Pure logic (`spec`, `graph`, `plan`) is kept apart from effects
//! (`state`, `runtime`, `engine`); `cli` is the thin edge.

pub mod caps;
pub mod cli;
pub mod device_rules;
pub mod engine;
pub mod graph;
pub mod image;
pub mod plan;
pub mod runtime;
pub mod seccomp;
pub mod spec;
pub mod state;
pub mod sysctls;
