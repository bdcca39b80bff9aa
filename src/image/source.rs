//! Where an image comes from, in skopeo's transport syntax:
//!
//! | written | source |
//! |---|---|
//! | `alpine:3.19`, `docker://alpine:3.19` | a registry ([`Reference`]) |
//! | `oci:PATH[:TAG]` | an OCI image layout directory |
//! | `oci-archive:PATH[:TAG]` | a tar of such a layout |
//! | `docker-archive:PATH[:REF]` | what `docker save` writes (`REF` a `RepoTags` name, or `@N`) |
//!
//! As in skopeo, the path ends at its first `:`. A Docker Hub image that is
//! itself named `oci` or `docker-archive` is written `docker://oci:tag`.

use super::reference::{Reference, ReferenceError};
use std::fmt;
use std::path::PathBuf;

/// An image source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Registry(Reference),
    OciLayout {
        path: PathBuf,
        tag: Option<String>,
    },
    OciArchive {
        path: PathBuf,
        tag: Option<String>,
    },
    DockerArchive {
        path: PathBuf,
        reference: Option<String>,
    },
}

impl Source {
    /// Parses what `image:` holds.
    pub fn parse(s: &str) -> Result<Self, ReferenceError> {
        if let Some(r) = s.strip_prefix("docker://") {
            return Ok(Source::Registry(Reference::parse(r)?));
        }
        let local = [("oci:", 0u8), ("oci-archive:", 1), ("docker-archive:", 2)];
        for (prefix, kind) in local {
            let Some(rest) = s.strip_prefix(prefix) else {
                continue;
            };
            let (path, name) = match rest.split_once(':') {
                Some((p, n)) => (p, Some(n)),
                None => (rest, None),
            };
            let path = check_path(s, path)?;
            let name = name.map(|n| check_name(s, n)).transpose()?;
            return Ok(match kind {
                0 => Source::OciLayout { path, tag: name },
                1 => Source::OciArchive { path, tag: name },
                _ => Source::DockerArchive {
                    path,
                    reference: name,
                },
            });
        }
        Ok(Source::Registry(Reference::parse(s)?))
    }

    /// Whether the image is read from this machine's files.
    pub fn is_local(&self) -> bool {
        !matches!(self, Source::Registry(_))
    }
}

fn invalid(s: &str, reason: &str) -> ReferenceError {
    ReferenceError::Invalid {
        reference: s.to_string(),
        reason: reason.to_string(),
    }
}

fn check_path(s: &str, path: &str) -> Result<PathBuf, ReferenceError> {
    if path.is_empty() {
        return Err(invalid(s, "the path after the transport is empty"));
    }
    Ok(PathBuf::from(path))
}

/// A tag (`oci:`) or reference (`docker-archive:`): not empty, no spaces
/// or control characters.
fn check_name(s: &str, name: &str) -> Result<String, ReferenceError> {
    if name.is_empty() {
        return Err(invalid(s, "the name after the path's ':' is empty"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(s, "the name after the path holds a space"));
    }
    Ok(name.to_string())
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, path, name) = match self {
            Source::Registry(r) => return write!(f, "{r}"),
            Source::OciLayout { path, tag } => ("oci", path, tag),
            Source::OciArchive { path, tag } => ("oci-archive", path, tag),
            Source::DockerArchive { path, reference } => ("docker-archive", path, reference),
        };
        write!(f, "{prefix}:{}", path.display())?;
        if let Some(n) = name {
            write!(f, ":{n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn parses_transports() {
        let cases = [
            (
                "oci:./dir",
                Source::OciLayout {
                    path: p("./dir"),
                    tag: None,
                },
            ),
            (
                "oci:/srv/img:v1",
                Source::OciLayout {
                    path: p("/srv/img"),
                    tag: Some("v1".into()),
                },
            ),
            (
                "oci-archive:x.tar",
                Source::OciArchive {
                    path: p("x.tar"),
                    tag: None,
                },
            ),
            (
                "oci-archive:x.tar:latest",
                Source::OciArchive {
                    path: p("x.tar"),
                    tag: Some("latest".into()),
                },
            ),
            (
                "docker-archive:./x.tar",
                Source::DockerArchive {
                    path: p("./x.tar"),
                    reference: None,
                },
            ),
            (
                "docker-archive:./x.tar:busybox:latest",
                Source::DockerArchive {
                    path: p("./x.tar"),
                    reference: Some("busybox:latest".into()),
                },
            ),
            (
                "docker-archive:x.tar:@1",
                Source::DockerArchive {
                    path: p("x.tar"),
                    reference: Some("@1".into()),
                },
            ),
        ];
        for (input, want) in cases {
            let got = Source::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got, want, "{input}");
            assert_eq!(got.to_string(), input);
            assert!(got.is_local());
        }
    }

    #[test]
    fn registry_references_with_or_without_docker_prefix() {
        for (input, want) in [
            ("alpine", "docker.io/library/alpine:latest"),
            ("docker://alpine", "docker.io/library/alpine:latest"),
            ("docker://oci:1", "docker.io/library/oci:1"),
            ("docker://localhost:5000/a:b", "localhost:5000/a:b"),
            ("ocifoo:1", "docker.io/library/ocifoo:1"),
        ] {
            let s = Source::parse(input).unwrap();
            assert!(!s.is_local());
            assert_eq!(s.to_string(), want, "{input}");
        }
    }

    #[test]
    fn refuses_empty_parts() {
        for input in [
            "oci:",
            "oci::tag",
            "oci:dir:",
            "oci-archive:",
            "docker-archive:",
            "docker-archive:x.tar:",
            "oci:dir:a b",
            "docker://",
            "docker://UPPER",
        ] {
            assert!(Source::parse(input).is_err(), "{input:?} was accepted");
        }
    }
}
