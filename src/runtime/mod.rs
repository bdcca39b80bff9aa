//! Linux container mechanics. Knows nothing of stacks: takes a plain
//! `ContainerConfig` and returns a running container.

pub mod cgroup;
pub mod config;
pub mod rootfs;
pub mod spawn;

pub use config::*;
