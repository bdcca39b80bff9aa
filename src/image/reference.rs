//! What Compose's `image:` holds, parsed and normalised as Docker does
//! (the grammar of distribution's `reference` package):
//!
//! ```text
//! reference       := name [ ":" tag ] [ "@" digest ]
//! name            := [domain "/"] path-component ["/" path-component]*
//! domain          := host [":" port]    host: domain-name | IPv4 | "[" IPv6 "]"
//! domain-name     := component ("." component)*  component: [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
//! path-component  := [a-z0-9]+ (separator [a-z0-9]+)*   separator: [_.] | "__" | "-"+
//! tag             := [\w][\w.-]{0,127}
//! ```
//!
//! The first component is a domain when it holds a `.` or a `:`, is
//! `localhost`, or has an uppercase letter (which a path never has);
//! otherwise the image is on Docker Hub: `alpine` is
//! `docker.io/library/alpine:latest`, `user/app` is
//! `docker.io/user/app:latest`, and `index.docker.io` is `docker.io`.

use super::digest::{Digest, DigestError};
use std::fmt;
use std::str::FromStr;

/// Docker Hub's name, as references spell it.
pub const DOCKER_HUB: &str = "docker.io";

/// A repository's whole normalised name (`docker.io/library/…`) may be at
/// most this long.
pub const NAME_MAX: usize = 255;

/// Why an image reference is refused.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid image reference {reference:?}: {reason}")]
    Invalid { reference: String, reason: String },
    #[error("invalid image reference {reference:?}: {source}")]
    Digest {
        reference: String,
        source: DigestError,
    },
}

/// A registry image, normalised: `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`.
    pub registry: String,
    /// `library/alpine`, `user/app`.
    pub repository: String,
    /// `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// When both are given the digest is what is pulled (the tag is kept
    /// for display, as Docker does).
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises a reference as `docker pull` would.
    pub fn parse(s: &str) -> Result<Self, ReferenceError> {
        let invalid = |reason: &str| ReferenceError::Invalid {
            reference: s.to_string(),
            reason: reason.to_string(),
        };
        if s.is_empty() {
            return Err(invalid("it is empty"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, d)) => {
                let digest = parse_digest(s, d)?;
                (rest, Some(digest))
            }
            None => (s, None),
        };
        let (name, tag) = split_tag(rest);
        if name.is_empty() {
            return Err(invalid("the name is empty"));
        }
        if let Some(t) = tag {
            check_tag(t).map_err(invalid)?;
        }
        if is_hex64(name) {
            return Err(invalid(
                "a 64-digit hexadecimal string is an image id, not a name",
            ));
        }
        let (registry, repository) = split_domain(name);
        if let Some(domain) = &registry {
            check_domain(domain).map_err(invalid)?;
        }
        check_path(repository).map_err(invalid)?;
        let registry = match registry {
            None | Some("index.docker.io") => DOCKER_HUB.to_string(),
            Some(d) => d.to_string(),
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        let full_len = registry.len() + 1 + repository.len();
        if full_len > NAME_MAX {
            return Err(invalid(&format!(
                "the whole name {registry}/{repository} is {full_len} characters long; at most {NAME_MAX} are allowed"
            )));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, None) => Some("latest".to_string()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What a registry is asked for: the digest when there is one, else
    /// the tag.
    pub fn pull_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, ReferenceError> {
        Reference::parse(s)
    }
}

fn parse_digest(reference: &str, d: &str) -> Result<Digest, ReferenceError> {
    Digest::parse(d).map_err(|source| ReferenceError::Digest {
        reference: reference.to_string(),
        source,
    })
}

/// `name[:tag]`: the tag follows the last `:` after the last `/` (so a
/// registry's port is not a tag).
fn split_tag(s: &str) -> (&str, Option<&str>) {
    let after_slash = s.rfind('/').map_or(0, |i| i + 1);
    match s[after_slash..].rfind(':') {
        Some(i) => (&s[..after_slash + i], Some(&s[after_slash + i + 1..])),
        None => (s, None),
    }
}

/// Docker's rule for whether the first component names a registry.
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn check_tag(t: &str) -> Result<(), &'static str> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = t.chars();
    match chars.next() {
        None => return Err("the tag after ':' is empty"),
        Some(c) if !word(c) => return Err("a tag starts with a letter, a digit or '_'"),
        Some(_) => {}
    }
    if !chars.all(|c| word(c) || c == '.' || c == '-') {
        return Err("a tag holds only letters, digits, '_', '.' and '-'");
    }
    if t.len() > 128 {
        return Err("a tag is at most 128 characters");
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), &'static str> {
    let (host, port) = if let Some(v6) = domain.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or("an IPv6 registry address is written [addr]:port")?;
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Err("the registry's IPv6 address is not valid");
        }
        match after {
            "" => ("", None),
            p => (
                "",
                Some(
                    p.strip_prefix(':')
                        .ok_or("a registry's port follows its address after ':'")?,
                ),
            ),
        }
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (domain, None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err("a registry's port is a number");
        }
    }
    if domain.starts_with('[') {
        return Ok(());
    }
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !c.starts_with('-')
            && !c.ends_with('-')
    };
    if host.split('.').all(component_ok) {
        Ok(())
    } else {
        Err("the registry is not a valid host name")
    }
}

fn check_path(path: &str) -> Result<(), &'static str> {
    for component in path.split('/') {
        if component.is_empty() {
            return Err("the name has an empty path component (a '/' too many)");
        }
        if component.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err("a repository name must be lowercase");
        }
        if !path_component_ok(component) {
            return Err("a path component is lowercase letters and digits, separated by '.', '_', '__' or dashes");
        }
    }
    Ok(())
}

/// `[a-z0-9]+((?:[._]|__|-+)[a-z0-9]+)*`.
fn path_component_ok(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        let sep = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let ok = match &b[sep..i] {
            b"." | b"_" | b"__" => true,
            s => s.iter().all(|&x| x == b'-'),
        };
        if !ok {
            return false;
        }
    }
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(c: char) -> String {
        c.to_string().repeat(64)
    }

    #[test]
    fn normalises_as_docker_does() {
        let f = hex('f');
        let cases: Vec<(String, String)> = vec![
            ("alpine", "docker.io/library/alpine:latest"),
            ("alpine:3.19", "docker.io/library/alpine:3.19"),
            ("library/alpine", "docker.io/library/alpine:latest"),
            ("docker.io/alpine", "docker.io/library/alpine:latest"),
            (
                "docker.io/library/alpine",
                "docker.io/library/alpine:latest",
            ),
            ("index.docker.io/alpine", "docker.io/library/alpine:latest"),
            ("index.docker.io/user/app", "docker.io/user/app:latest"),
            ("user/app", "docker.io/user/app:latest"),
            ("user/app:v1", "docker.io/user/app:v1"),
            ("test_com", "docker.io/library/test_com:latest"),
            ("test.com:tag", "docker.io/library/test.com:tag"),
            ("test.com:5000", "docker.io/library/test.com:5000"),
            ("test.com/repo:tag", "test.com/repo:tag"),
            ("test:5000/repo", "test:5000/repo:latest"),
            ("test:5000/repo:tag", "test:5000/repo:tag"),
            ("localhost/x", "localhost/x:latest"),
            ("localhost:5000/ns/name:tag", "localhost:5000/ns/name:tag"),
            ("host:5000/ns/name:tag", "host:5000/ns/name:tag"),
            (
                "lowercase:Uppercase",
                "docker.io/library/lowercase:Uppercase",
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux",
                "sub-dom1.foo.com/bar/baz/quux:latest",
            ),
            (
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
                "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
            ),
            (
                "b.gcr.io/test.example.com/my-app:test.example.com",
                "b.gcr.io/test.example.com/my-app:test.example.com",
            ),
            (
                "xn--n3h.com/myimage:xn--n3h.com",
                "xn--n3h.com/myimage:xn--n3h.com",
            ),
            ("foo_bar.com:8080", "docker.io/library/foo_bar.com:8080"),
            ("foo/foo_bar.com:8080", "docker.io/foo/foo_bar.com:8080"),
            ("192.168.1.1/repo", "192.168.1.1/repo:latest"),
            ("192.168.1.1:5/repo", "192.168.1.1:5/repo:latest"),
            ("[2001:db8::1]/repo", "[2001:db8::1]/repo:latest"),
            ("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000/repo:tag"),
            ("[::1]:5000/repo", "[::1]:5000/repo:latest"),
            (
                "a__b/c--d/e---f.g_h",
                "docker.io/a__b/c--d/e---f.g_h:latest",
            ),
            // Uppercase in the first component makes it a domain (Docker).
            ("Docker/docker", "Docker/docker:latest"),
            ("ghcr.io/owner/repo/sub:1.0", "ghcr.io/owner/repo/sub:1.0"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .chain([
            (
                format!("test:5000/repo@sha256:{f}"),
                format!("test:5000/repo@sha256:{f}"),
            ),
            (
                format!("test:5000/repo:tag@sha256:{f}"),
                format!("test:5000/repo:tag@sha256:{f}"),
            ),
            (
                format!("alpine@sha256:{f}"),
                format!("docker.io/library/alpine@sha256:{f}"),
            ),
            (
                format!("a:{}", "t".repeat(128)),
                format!("docker.io/library/a:{}", "t".repeat(128)),
            ),
        ])
        .collect();
        for (input, want) in cases {
            let r = Reference::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), want, "{input}");
            // Normalising is idempotent.
            assert_eq!(Reference::parse(&want).unwrap(), r, "{want}");
        }
    }

    #[test]
    fn splits_into_parts() {
        let r = Reference::parse("host:5000/ns/name:tag").unwrap();
        assert_eq!(r.registry, "host:5000");
        assert_eq!(r.repository, "ns/name");
        assert_eq!(r.tag.as_deref(), Some("tag"));
        assert_eq!(r.digest, None);
        assert_eq!(r.name(), "host:5000/ns/name");
        assert_eq!(r.pull_reference(), "tag");
        let d = format!("sha256:{}", hex('a'));
        let r = Reference::parse(&format!("name:tag@{d}")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("tag"));
        assert_eq!(r.digest.as_ref().unwrap().to_string(), d);
        // The digest wins.
        assert_eq!(r.pull_reference(), d);
        let r = Reference::parse(&format!("name@{d}")).unwrap();
        assert_eq!(r.tag, None);
    }

    #[test]
    fn refuses_what_docker_refuses() {
        let f = hex('f');
        let cases: Vec<String> = [
            "",
            ":justtag",
            "repo@sha256:ffffffffffffffffffffffffffffffffff",
            "Uppercase:tag",
            "UPPERCASE",
            "test:5000/Uppercase/lowercase:tag",
            "docker/Docker",
            "aa/asdf$$^/aa",
            "-foo",
            "foo-",
            "foo..bar",
            "foo___bar",
            "foo._bar",
            "repo/",
            "/repo",
            "a//b",
            "a:",
            "a:-tag",
            "a:.tag",
            "a:ta g",
            "a b",
            "a:tag:tag2",
            "host:port/repo",
            "host:/repo",
            "-host.com/repo",
            "host-.com/repo",
            "ho_st.com/repo",
            "[fe80::1%eth0]:5000/repo",
            "[2001:db8::1/repo",
            "[2001:db8::1]x/repo",
            "[]/repo",
            "name@",
            "name@sha256:",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            format!("@sha256:{f}"),
            f.clone(),
            format!("a:{}", "t".repeat(129)),
            format!("validname@invaliddigest:{f}"),
            format!("name@sha256:{}", hex('F')),
            format!("name@sha256:{f}0"),
            format!("{}/{}", "a".repeat(128), "b".repeat(127)),
            format!("a@sha256:{f}@sha256:{f}"),
        ])
        .collect();
        for input in cases {
            assert!(
                Reference::parse(&input).is_err(),
                "{input:?} was accepted as {}",
                Reference::parse(&input).unwrap()
            );
        }
    }

    #[test]
    fn the_length_limit_is_the_whole_name() {
        // docker.io/ (10) + 245 = 255.
        let ok = format!("{}/{}", "a".repeat(100), "b".repeat(144));
        Reference::parse(&ok).unwrap();
        let long = format!("{}/{}", "a".repeat(101), "b".repeat(144));
        assert!(Reference::parse(&long).is_err());
    }

    #[test]
    fn messages_name_the_reference_and_the_reason() {
        let e = Reference::parse("Uppercase:tag").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid image reference \"Uppercase:tag\": a repository name must be lowercase"
        );
        let e = Reference::parse(&format!("a@sha512:{}", "f".repeat(128)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not supported yet"), "{e}");
    }
}
