//! The embedded state store: one directory per project under
//! `STACK_STATE_DIR` (default `/var/lib/stack`), runtime files under
//! `STACK_RUN_DIR` (default `/run/stack`). Atomic writes, a lock per project.
