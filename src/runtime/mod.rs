//! Linux container mechanics. Knows nothing of stacks: takes a plain
//! `ContainerConfig` and returns a running container.

pub mod cgroup;
pub mod config;
pub mod rootfs;
pub mod spawn;

pub mod channel;
pub mod devices;
pub mod dns;
pub mod exec;
pub mod firewall;
pub mod init;
pub mod mountinfo;
pub mod mounts;
pub mod net;
pub mod net_routes;
pub mod proc;
pub mod sealed;
pub mod seccomp;
pub mod security;
pub mod stop;
pub mod sync;
pub mod syscall;

pub use config::*;
