//! The project's networks, as the engine owns them: Compose's bridge
//! networks made from the runtime's pieces (`runtime::net` bridges and
//! veths, `state::ipam` addresses, `runtime::firewall` rules,
//! `runtime::dns` the resolver).
//!
//! - [`attach`]: one container — its networks made if they are not, its
//!   addresses, its ports held, its `resolv.conf` and `hosts`; called by
//!   the start worker just before the container is spawned, so its names
//!   resolve and its ports are published before its command runs;
//! - [`view`] (pure): the resolver's table and the firewall's rules for
//!   the containers that are live;
//! - keeper.rs: [`Keeper`], the project's network state in a supervisor,
//!   applying each new view (once; an unchanged one costs nothing) and
//!   repairing what an outside reload wiped;
//! - resolver.rs: the resolver process; files.rs: `resolv.conf`/`hosts`;
//! - [`teardown`]: `down` — everything above, also with no supervisor.

mod attach;
mod files;
mod keeper;
mod preflight;
pub mod resolver;
pub mod teardown;
pub mod view;

pub use attach::Attached;
pub use keeper::Keeper;
pub use preflight::preflight;
pub use teardown::teardown;
pub use view::{Entry, InUse};

use crate::runtime::firewall::FirewallError;
use crate::runtime::net::{NetError, PortError};
use crate::state::ipam::IpamError;

/// Why a container's network could not be set up, or a network removed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(transparent)]
    Ipam(#[from] IpamError),
    // The messages below say their cause: it is not a `source` as well,
    // or the CLI's error chain would say it twice.
    #[error("network {network}: {error}")]
    Link { network: String, error: NetError },
    #[error(transparent)]
    Firewall(#[from] FirewallError),
    #[error(transparent)]
    Port(#[from] PortError),
    #[error("network {network} (external) has no bridge {bridge} on this host: run `stack up` for the project that defines it")]
    ExternalGone { network: String, bridge: String },
    #[error("network_mode service:{peer}: {peer} is not running, so there is no network namespace to share: start {peer} first")]
    PeerNotRunning { peer: String },
    #[error("cannot start the project's resolver: {0}")]
    Resolver(std::io::Error),
    #[error("the project's resolver exited: {0}")]
    ResolverExited(String),
    #[error("cannot write {path}: {error}")]
    File {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Dns(#[from] crate::runtime::dns::DnsError),
    #[error("service {service}: {error}")]
    Service {
        service: String,
        error: Box<NetworkError>,
    },
}
