//! Compiling a seccomp profile (`crate::seccomp::Profile`) into BPF for the
//! container's effective capabilities, and installing it.
