//! The project's embedded resolver, as aardvark-dns does it: one process
//! per project, listening on every project network's gateway (port 53,
//! UDP and TCP), answering service names, aliases, `container_name`s and
//! `<service>-<n>` from a table the engine writes, and forwarding every
//! other name upstream: to the asking container's own resolvers when the
//! table has them (Compose's `dns:`, [`Table::upstreams`]), else to the
//! host's. The book's `networking-dns.md` says why it is built this way.
//!
//! - [`answer`]: the table, the decisions and each source's upstreams
//!   (pure).
//! - [`wire`]: DNS messages in and out (hickory-proto, pure).
//! - [`table`]: the table file, re-read when it is replaced.
//! - [`resolv`]: the host's upstreams, from its resolv.conf.
//! - [`forward`]: asking upstreams (UDP, TCP on truncation).
//! - [`server`]: the sockets and threads.
//!
//! # Running it
//!
//! The binary runs it as a helper process (`stack __dns TABLE ADDR...`,
//! hidden, wired by the CLI): the supervisor writes
//! `/run/stack/<project>/resolver/table.json` with [`table::store`],
//! starts the helper detached (its own session, so it outlives a
//! supervisor crash as the containers do) with each network's
//! `<gateway>:53`, records its pid and start time, and from then on only
//! rewrites the table: the helper notices the rename on the next query.
//! `SIGHUP` re-reads the table at once; `SIGTERM` or `SIGINT` stops it.

pub mod answer;
pub mod forward;
pub mod resolv;
pub mod server;
pub mod table;
pub mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use answer::{Decision, Kind, Table, Zone};
pub use server::{Options, Server};

/// What can go wrong starting or running the resolver.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("cannot listen for dns on {addr} ({proto}): {source}; is another resolver running there, or is the address not on this host yet?")]
    Bind {
        addr: SocketAddr,
        proto: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the resolver was given no address to listen on")]
    NoListen,
    #[error("cannot read the resolver table {path}: {source}")]
    ReadTable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the resolver table {path} is not valid: {source}")]
    ParseTable {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write the resolver table {path}: {source}")]
    WriteTable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the host's resolver list {path}: {source}")]
    ReadResolvConf {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start a resolver thread: {source}")]
    Thread {
        #[source]
        source: std::io::Error,
    },
    #[error("cannot watch signals for the resolver: {source}")]
    Signals {
        #[source]
        source: std::io::Error,
    },
}

/// The helper process's body: serve `table_path` on `listen`, forwarding
/// to the host's upstreams (or a container's own, from the table), until
/// SIGTERM or SIGINT; SIGHUP re-reads the table. Returns once stopped.
pub fn serve_main(table_path: &Path, listen: Vec<SocketAddr>) -> Result<(), DnsError> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let upstreams = resolv::host_upstreams()?;
    if upstreams.is_empty() {
        tracing::warn!(
            "dns: {} names no upstream resolver: names outside the project will not resolve",
            resolv::RESOLV_CONF
        );
    }
    let mut signals = signal_hook::iterator::Signals::new([SIGHUP, SIGINT, SIGTERM])
        .map_err(|source| DnsError::Signals { source })?;
    let server = Server::start(Options::new(table_path.to_path_buf(), listen, upstreams))?;
    for sig in signals.forever() {
        if sig == SIGHUP {
            server.reload();
        } else {
            break;
        }
    }
    server.stop();
    Ok(())
}
