//! The supervisor: one event loop that observes, plans and acts.

pub mod watch;
