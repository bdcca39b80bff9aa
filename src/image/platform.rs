//! Which image of a multi-platform index this machine runs: `os/arch[/variant]`
//! in Go's names (`linux/amd64`, `linux/arm64`, `linux/arm/v7`), as
//! Compose's `platform:` key writes it.

use std::fmt;
use std::str::FromStr;

/// Why a `platform:` string is refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid platform {platform:?}: {reason}")]
pub struct PlatformError {
    pub platform: String,
    pub reason: &'static str,
}

/// An OS, an architecture and maybe a variant, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// This machine: linux, and the architecture this binary was built for.
    pub fn host() -> Self {
        Platform {
            os: "linux".to_string(),
            architecture: go_arch(std::env::consts::ARCH).to_string(),
            variant: None,
        }
    }

    /// Parses `os/arch[/variant]`, e.g. `linux/arm64` or `linux/arm/v7`;
    /// aliases (`x86_64`, `aarch64`) are normalised to Go's names.
    pub fn parse(s: &str) -> Result<Self, PlatformError> {
        let err = |reason| PlatformError {
            platform: s.to_string(),
            reason,
        };
        let parts: Vec<&str> = s.split('/').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(err("expected os/arch or os/arch/variant, like linux/arm64"));
        }
        let ok = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !parts.iter().all(|p| ok(p)) {
            return Err(err("each part is letters, digits, '_' or '-'"));
        }
        let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        Ok(Platform::new(
            &lower[0],
            &lower[1],
            lower.get(2).map(String::as_str),
        ))
    }

    /// A platform from an index or a config, normalised the same way.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        let architecture = go_arch(architecture).to_string();
        let variant = variant.filter(|v| !v.is_empty()).map(str::to_string);
        // arm64's only variant in practice is v8, which is also its default.
        let variant = match (architecture.as_str(), variant.as_deref()) {
            ("arm64", Some("v8")) => None,
            _ => variant,
        };
        Platform {
            os: os.to_string(),
            architecture,
            variant,
        }
    }

    /// Whether an image for `other` runs here: same OS and architecture,
    /// and the same variant when this platform names one.
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || self.variant == other.variant)
    }
}

/// Rust's (or a distribution's) architecture name as Go spells it.
pub fn go_arch(arch: &str) -> &str {
    match arch {
        "x86_64" | "x86-64" | "x64" => "amd64",
        "aarch64" | "armv8" => "arm64",
        "x86" | "i386" | "i686" => "386",
        "armhf" | "armel" | "armv7" | "armv7l" => "arm",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "powerpc" => "ppc",
        "loongarch64" => "loong64",
        "mips64" if cfg!(target_endian = "little") => "mips64le",
        "mips" if cfg!(target_endian = "little") => "mipsle",
        other => other,
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, PlatformError> {
        Platform::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        for (input, want) in [
            ("linux/amd64", "linux/amd64"),
            ("linux/arm64", "linux/arm64"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/aarch64", "linux/arm64"),
            ("linux/x86_64", "linux/amd64"),
            ("linux/arm/v7", "linux/arm/v7"),
            ("Linux/AMD64", "linux/amd64"),
            ("linux/s390x", "linux/s390x"),
            ("linux/riscv64", "linux/riscv64"),
        ] {
            assert_eq!(Platform::parse(input).unwrap().to_string(), want, "{input}");
        }
        for bad in [
            "",
            "linux",
            "linux/",
            "/amd64",
            "linux/amd64/v1/x",
            "linux/am d64",
        ] {
            assert!(Platform::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_host_is_linux_in_go_names() {
        let h = Platform::host();
        assert_eq!(h.os, "linux");
        assert_ne!(h.architecture, "x86_64");
        assert_ne!(h.architecture, "aarch64");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(h.architecture, "amd64");
        #[cfg(target_arch = "aarch64")]
        assert_eq!(h.architecture, "arm64");
    }

    #[test]
    fn matching() {
        let p = |s| Platform::parse(s).unwrap();
        assert!(p("linux/amd64").matches(&p("linux/amd64")));
        assert!(!p("linux/amd64").matches(&p("linux/arm64")));
        assert!(!p("linux/amd64").matches(&p("windows/amd64")));
        assert!(p("linux/arm").matches(&p("linux/arm/v7")));
        assert!(!p("linux/arm/v6").matches(&p("linux/arm/v7")));
        assert!(p("linux/arm64").matches(&Platform::new("linux", "arm64", Some("v8"))));
    }
}
