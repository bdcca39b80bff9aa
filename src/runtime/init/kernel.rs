//! The init's writes to the kernel about its container: namespaced
//! sysctls and the OOM score. Both happen before the container's root is
//! entered, through the host's `/proc` (a sysctl file answers for the
//! namespaces of whoever opens it, here the container's own), so nothing
//! of the image can stand in the way.

use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;

/// Why a sysctl or the OOM score could not be set.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error("sysctl {name:?} is not a sysctl name")]
    BadName { name: String },
    #[error("sysctl {name}: no such parameter in the container's namespaces (no {path}): this kernel lacks it or does not namespace it; remove it")]
    Missing { name: String, path: String },
    #[error("sysctl {name}={value}: cannot set it: {source}")]
    Write {
        name: String,
        value: String,
        #[source]
        source: io::Error,
    },
    #[error("oom_score_adj {value}: cannot set it: {source}{}", if *value < 0 { " (lowering it needs CAP_SYS_RESOURCE, which stack does not hold here)" } else { "" })]
    OomScore {
        value: i32,
        #[source]
        source: io::Error,
    },
}

/// Writes each `(dotted name, value)` under `/proc/sys`.
pub fn apply_sysctls(sysctls: &[(String, String)]) -> Result<(), KernelError> {
    for (name, value) in sysctls {
        let Some(path) = crate::sysctls::proc_path(name) else {
            return Err(KernelError::BadName { name: name.clone() });
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path);
        let mut file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(KernelError::Missing {
                    name: name.clone(),
                    path,
                })
            }
            Err(source) => {
                return Err(KernelError::Write {
                    name: name.clone(),
                    value: value.clone(),
                    source,
                })
            }
        };
        file.write_all(value.as_bytes())
            .map_err(|source| KernelError::Write {
                name: name.clone(),
                value: value.clone(),
                source,
            })?;
    }
    Ok(())
}

/// Sets this process's OOM score adjustment, which the command inherits.
pub fn set_oom_score_adj(value: i32) -> Result<(), KernelError> {
    std::fs::write("/proc/self/oom_score_adj", value.to_string())
        .map_err(|source| KernelError::OomScore { value, source })
}
