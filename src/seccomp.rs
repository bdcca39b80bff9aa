//! Docker's seccomp profile format (moby `profiles/seccomp`) and stack's
//! default profile, as plain data shared by the loader (which validates a
//! `security_opt: seccomp=PATH` file) and the runtime (which compiles it).

// TEMPORARY stand-in until the seccomp branch lands.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Profile {}
#[derive(Debug, thiserror::Error)]
#[error("stub")]
pub struct ProfileError;
pub fn parse(_: &str) -> Result<Profile, ProfileError> {
    Err(ProfileError)
}
