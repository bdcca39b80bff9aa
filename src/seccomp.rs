//! Docker's seccomp profile format (moby `profiles/seccomp`) and stack's
//! default profile, as plain data shared by the loader (which validates a
//! `security_opt: seccomp=PATH` file) and the runtime (which compiles it).
