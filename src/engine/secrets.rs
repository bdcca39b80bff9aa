//! Secrets and configs into a container. Each is written, with its owner
//! and mode, into the container's bundle under a directory only root can
//! enter. It is then bind-mounted read-only at its target. It is a copy,
//! so the container cannot change the host's file, and a mode or owner
//! applies without touching it. It goes when the container's bundle goes.

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::runtime::MountSpec;
use crate::spec::{FileKind, FileSource, Service};

/// Larger than any secret or config file by far.
const MAX_SIZE: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("service {service}: {kind} `{name}`: cannot read {}: {source}", path.display())]
    Read {
        service: String,
        kind: &'static str,
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("service {service}: {kind} `{name}`: {} is larger than 16 MiB; a {kind} is a small file", path.display())]
    TooLarge {
        service: String,
        kind: &'static str,
        name: String,
        path: PathBuf,
    },
    #[error("service {service}: cannot write {}: {source}", path.display())]
    Write {
        service: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("service {service}: {kind} `{name}`: the value of `{var}` is not known to this supervisor (its stack came from the state record); run `stack up` again")]
    NoValue {
        service: String,
        kind: &'static str,
        name: String,
        var: String,
    },
}

fn kind_name(k: FileKind) -> &'static str {
    match k {
        FileKind::Secret => "secret",
        FileKind::Config => "config",
    }
}

/// Write `svc`'s secrets and configs under `bundle` and return their
/// read-only mounts, in the file's order.
pub fn materialize(bundle: &Path, svc: &Service) -> Result<Vec<MountSpec>, SecretsError> {
    if svc.files.is_empty() {
        return Ok(Vec::new());
    }
    let dir = bundle.join("files");
    let write_err = |path: &Path, source| SecretsError::Write {
        service: svc.name.clone(),
        path: path.to_path_buf(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| write_err(&dir, e))?;
    // An existing directory keeps its mode; make sure of it.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| write_err(&dir, e))?;
    let mut mounts = Vec::with_capacity(svc.files.len());
    for (i, f) in svc.files.iter().enumerate() {
        let kind = kind_name(f.kind);
        let content = match &f.from {
            FileSource::Content(c) => c.clone().into_bytes(),
            FileSource::Environment { var, value } => match value {
                Some(v) => v.clone().into_bytes(),
                None => {
                    return Err(SecretsError::NoValue {
                        service: svc.name.clone(),
                        kind,
                        name: f.name.clone(),
                        var: var.clone(),
                    })
                }
            },
            FileSource::File(path) => read(path).map_err(|e| match e {
                None => SecretsError::TooLarge {
                    service: svc.name.clone(),
                    kind,
                    name: f.name.clone(),
                    path: path.clone(),
                },
                Some(source) => SecretsError::Read {
                    service: svc.name.clone(),
                    kind,
                    name: f.name.clone(),
                    path: path.clone(),
                    source,
                },
            })?,
        };
        // Named by position: a name from the file never becomes a path.
        let path = dir.join(format!("{kind}-{i}"));
        let _ = std::fs::remove_file(&path);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| write_err(&path, e))?;
        out.write_all(&content).map_err(|e| write_err(&path, e))?;
        std::os::unix::fs::fchown(&out, Some(f.uid), Some(f.gid))
            .map_err(|e| write_err(&path, e))?;
        out.set_permissions(std::fs::Permissions::from_mode(f.mode))
            .map_err(|e| write_err(&path, e))?;
        mounts.push(MountSpec::Bind {
            source: path,
            target: f.target.clone(),
            read_only: true,
        });
    }
    Ok(mounts)
}

/// The file's bytes; `Err(None)` when it is too large.
fn read(path: &Path) -> Result<Vec<u8>, Option<std::io::Error>> {
    let f = std::fs::File::open(path).map_err(Some)?;
    let mut out = Vec::new();
    f.take(MAX_SIZE + 1).read_to_end(&mut out).map_err(Some)?;
    if out.len() as u64 > MAX_SIZE {
        return Err(None);
    }
    Ok(out)
}
