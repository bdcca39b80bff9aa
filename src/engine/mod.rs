//! The supervisor: one event loop that observes, plans and acts.
