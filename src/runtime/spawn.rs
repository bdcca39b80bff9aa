//! Creating the container process: namespaces, the init, pivot_root, exec.
