//! The image config: what a container of the image runs, as Docker and
//! the OCI spec write it. The standard fields are read with `oci-spec`'s
//! `ImageConfiguration`; `Healthcheck`, Docker's extension, beside it.

use super::digest::Digest;
use super::manifest::ManifestError;
use oci_spec::image::ImageConfiguration;
use std::collections::BTreeMap;
use std::time::Duration;

/// What stack takes from an image config (serialisable, so the image
/// store can keep it beside the reference it was resolved for).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageConfig {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// `KEY=value` entries, in order.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub stop_signal: Option<String>,
    pub healthcheck: Option<Healthcheck>,
    /// `80/tcp`, `53/udp`, sorted.
    pub exposed_ports: Vec<String>,
    /// Paths the image declares as volumes, sorted.
    pub volumes: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// The digests of the uncompressed layers, bottom first.
    pub diff_ids: Vec<Digest>,
}

/// Docker's `Healthcheck`: a zero or missing duration means "the default".
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Healthcheck {
    /// `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`.
    pub test: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<u32>,
}

#[derive(serde::Deserialize)]
struct DockerExtension {
    #[serde(default)]
    config: Option<DockerConfigExtension>,
}

#[derive(serde::Deserialize)]
struct DockerConfigExtension {
    #[serde(rename = "Healthcheck", default)]
    healthcheck: Option<RawHealthcheck>,
}

/// Durations are Go's `time.Duration`: nanoseconds.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawHealthcheck {
    #[serde(default)]
    test: Option<Vec<String>>,
    #[serde(default)]
    interval: Option<u64>,
    #[serde(default)]
    timeout: Option<u64>,
    #[serde(default)]
    start_period: Option<u64>,
    #[serde(default)]
    start_interval: Option<u64>,
    #[serde(default)]
    retries: Option<u32>,
}

fn nanos(n: Option<u64>) -> Option<Duration> {
    n.filter(|n| *n > 0).map(Duration::from_nanos)
}

impl ImageConfig {
    /// Reads a config blob (already verified against its digest).
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let json = |source| ManifestError::Json {
            what: "the image config",
            source,
        };
        let oci: ImageConfiguration = serde_json::from_slice(bytes).map_err(json)?;
        let ext: DockerExtension = serde_json::from_slice(bytes).map_err(json)?;
        let rootfs = oci.rootfs();
        if rootfs.typ() != "layers" {
            return Err(ManifestError::RootfsType(rootfs.typ().clone()));
        }
        let diff_ids = rootfs
            .diff_ids()
            .iter()
            .map(|d| {
                Digest::parse(d).map_err(|source| ManifestError::Digest {
                    what: "the image config's rootfs.diff_ids".to_string(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let healthcheck = ext.config.and_then(|c| c.healthcheck).map(|h| Healthcheck {
            test: h.test.unwrap_or_default(),
            interval: nanos(h.interval),
            timeout: nanos(h.timeout),
            start_period: nanos(h.start_period),
            start_interval: nanos(h.start_interval),
            retries: h.retries.filter(|r| *r > 0),
        });
        let c = oci.config().clone().unwrap_or_default();
        let sorted = |v: &Option<Vec<String>>| {
            let mut v = v.clone().unwrap_or_default();
            v.sort();
            v
        };
        let non_empty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        Ok(ImageConfig {
            os: oci.os().to_string(),
            architecture: oci.architecture().to_string(),
            variant: non_empty(oci.variant()),
            entrypoint: c.entrypoint().clone(),
            cmd: c.cmd().clone(),
            env: c.env().clone().unwrap_or_default(),
            working_dir: non_empty(c.working_dir()),
            user: non_empty(c.user()),
            stop_signal: non_empty(c.stop_signal()),
            healthcheck,
            exposed_ports: sorted(c.exposed_ports()),
            volumes: sorted(c.volumes()),
            labels: c.labels().clone().unwrap_or_default().into_iter().collect(),
            diff_ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn reads_a_docker_config() {
        let json = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{
              "User":"app:app","ExposedPorts":{{"8080/tcp":{{}},"53/udp":{{}}}},
              "Env":["PATH=/usr/bin","A=1"],"Entrypoint":["/entry.sh"],"Cmd":["serve","--port","8080"],
              "Volumes":{{"/data":{{}}}},"WorkingDir":"/app","Labels":{{"k":"v"}},"StopSignal":"SIGQUIT",
              "Healthcheck":{{"Test":["CMD-SHELL","curl -f localhost:8080"],"Interval":30000000000,
                "Timeout":5000000000,"StartPeriod":0,"Retries":3}}}},
              "rootfs":{{"type":"layers","diff_ids":["{}","{}"]}},
              "history":[{{"created_by":"x"}}]}}"#,
            diff('a'),
            diff('b')
        );
        let c = ImageConfig::parse(json.as_bytes()).unwrap();
        assert_eq!(c.os, "linux");
        assert_eq!(c.architecture, "amd64");
        assert_eq!(c.user.as_deref(), Some("app:app"));
        assert_eq!(c.entrypoint, Some(vec!["/entry.sh".to_string()]));
        assert_eq!(c.cmd.as_ref().map(Vec::len), Some(3));
        assert_eq!(c.env, vec!["PATH=/usr/bin", "A=1"]);
        assert_eq!(c.working_dir.as_deref(), Some("/app"));
        assert_eq!(c.stop_signal.as_deref(), Some("SIGQUIT"));
        assert_eq!(c.exposed_ports, vec!["53/udp", "8080/tcp"]);
        assert_eq!(c.volumes, vec!["/data"]);
        assert_eq!(c.labels.get("k").map(String::as_str), Some("v"));
        assert_eq!(
            c.healthcheck,
            Some(Healthcheck {
                test: vec!["CMD-SHELL".into(), "curl -f localhost:8080".into()],
                interval: Some(Duration::from_secs(30)),
                timeout: Some(Duration::from_secs(5)),
                start_period: None,
                start_interval: None,
                retries: Some(3),
            })
        );
        assert_eq!(
            c.diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            vec![diff('a'), diff('b')]
        );
    }

    #[test]
    fn a_minimal_config_has_defaults() {
        let json = br#"{"architecture":"arm64","os":"linux","variant":"v8","rootfs":{"type":"layers","diff_ids":[]}}"#;
        let c = ImageConfig::parse(json).unwrap();
        assert_eq!(c.variant.as_deref(), Some("v8"));
        assert_eq!(c.entrypoint, None);
        assert_eq!(c.cmd, None);
        assert!(c.env.is_empty() && c.exposed_ports.is_empty() && c.diff_ids.is_empty());
        assert_eq!(c.healthcheck, None);
        assert_eq!(c.working_dir, None);
    }

    #[test]
    fn refuses_bad_configs() {
        let bad_type =
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"other","diff_ids":[]}}"#;
        assert!(ImageConfig::parse(bad_type)
            .unwrap_err()
            .to_string()
            .contains("\"other\""));
        let bad_diff = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:abc"]}}"#;
        assert!(ImageConfig::parse(bad_diff)
            .unwrap_err()
            .to_string()
            .contains("diff_ids"));
        assert!(ImageConfig::parse(b"{}").is_err());
    }
}
