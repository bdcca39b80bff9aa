//! Desired (the file) vs observed (the state store) → a plan of actions,
//! each with its reason. Pure; unit-tested without root.
