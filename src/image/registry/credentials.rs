//! The user's registry credentials, where Docker keeps them: the docker
//! config file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`)
//! — `credHelpers[registry]`, else `credsStore`, else `auths[registry]`
//! (`auth`: base64 of `user:password`, or `username` and `password`).
//! A helper is the program `docker-credential-<name>`, run as `get` with
//! the registry on its standard input; it prints `{"Username", "Secret"}`.
//! Docker Hub's key is `https://index.docker.io/v1/`; other registries'
//! keys may be `host`, `host:port` or `https://host[:port][/path]`.

use super::error::PullError;
use base64::Engine as _;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Docker Hub's key in the config file.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A user name and a password (or token).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
    /// Where they came from, for messages: `~/.docker/config.json`, or
    /// `docker-credential-pass`.
    pub from: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({} from {})", self.username, self.from)
    }
}

impl Credentials {
    /// The `Authorization` header value for HTTP basic auth.
    pub fn basic(&self) -> String {
        let raw = format!("{}:{}", self.username, self.secret);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(serde::Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Where the docker config file is.
pub fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// `https://host:port/v1/` → `host:port`; Docker Hub's names → `docker.io`.
pub fn normalise_key(key: &str) -> String {
    let k = key.trim().to_ascii_lowercase();
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(&k);
    let k = k.split('/').next().unwrap_or(k);
    match k {
        "index.docker.io" | "registry-1.docker.io" | "docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        other => other.to_string(),
    }
}

/// The key a helper is asked for `registry`.
fn helper_key(registry: &str) -> String {
    if registry == crate::image::reference::DOCKER_HUB {
        DOCKER_HUB_KEY.to_string()
    } else {
        registry.to_string()
    }
}

/// Looks up the credentials for `registry`; `None` when the user has none.
/// `helper_dir`: where `docker-credential-*` are, instead of `$PATH`.
pub fn lookup(
    image: &str,
    config: Option<&Path>,
    helper_dir: Option<&Path>,
    registry: &str,
) -> Result<Option<Credentials>, PullError> {
    let Some(path) = config_path(config) else {
        return Ok(None);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PullError::io(image, path, e)),
    };
    let file: ConfigFile = serde_json::from_slice(&bytes).map_err(|e| PullError::DockerConfig {
        image: image.to_string(),
        path: path.clone(),
        reason: format!("not a docker config file: {e}"),
    })?;
    let wanted = normalise_key(registry);
    let helper = file
        .cred_helpers
        .iter()
        .find(|(k, _)| normalise_key(k) == wanted)
        .map(|(_, h)| h.clone())
        .or_else(|| file.creds_store.clone().filter(|s| !s.is_empty()));
    if let Some(helper) = helper {
        let ctx = HelperCtx {
            image,
            config: &path,
            helper_dir,
            helper: &helper,
        };
        if let Some(c) = ctx.get(&helper_key(registry))? {
            return Ok(Some(c));
        }
    }
    let Some(entry) = file
        .auths
        .iter()
        .find(|(k, _)| normalise_key(k) == wanted)
        .map(|(_, e)| e)
    else {
        return Ok(None);
    };
    from_entry(image, &path, entry)
}

fn from_entry(image: &str, path: &Path, e: &AuthEntry) -> Result<Option<Credentials>, PullError> {
    let from = path.display().to_string();
    let bad = |reason: &str| PullError::DockerConfig {
        image: image.to_string(),
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if let Some(auth) = e.auth.as_deref().filter(|a| !a.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad("an `auth` entry is not base64"))?;
        let raw = String::from_utf8(raw).map_err(|_| bad("an `auth` entry is not UTF-8"))?;
        let (username, secret) = raw
            .split_once(':')
            .ok_or_else(|| bad("an `auth` entry is not base64 of user:password"))?;
        return Ok(Some(Credentials {
            username: username.to_string(),
            secret: secret.to_string(),
            from,
        }));
    }
    match (&e.username, &e.password) {
        (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Credentials {
            username: u.clone(),
            secret: p.clone(),
            from,
        })),
        _ => Ok(None),
    }
}

struct HelperCtx<'a> {
    image: &'a str,
    config: &'a Path,
    helper_dir: Option<&'a Path>,
    helper: &'a str,
}

impl HelperCtx<'_> {
    fn err(&self, reason: String) -> PullError {
        PullError::Helper {
            image: self.image.to_string(),
            helper: self.helper.to_string(),
            config: self.config.to_path_buf(),
            reason,
        }
    }

    /// Runs `docker-credential-<helper> get`; "not found" is `None`.
    fn get(&self, key: &str) -> Result<Option<Credentials>, PullError> {
        let name = format!("docker-credential-{}", self.helper);
        let program = match self.helper_dir {
            Some(d) => d.join(&name),
            None => PathBuf::from(&name),
        };
        let mut child = Command::new(&program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => self.err(format!(
                    "is not installed ({name} is not in PATH): install it, or remove it from the config file"
                )),
                _ => self.err(format!("cannot be run: {e}")),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading its input is judged by
            // its exit status below.
            let _ = stdin.write_all(key.as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|e| self.err(format!("failed: {e}")))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
            if text.to_ascii_lowercase().contains("credentials not found") {
                return Ok(None);
            }
            return Err(self.err(format!(
                "failed for {key} ({}): {}",
                out.status,
                text.trim()
            )));
        }
        let parsed: HelperOutput = serde_json::from_str(stdout.trim()).map_err(|e| {
            self.err(format!(
                "printed no {{Username, Secret}} JSON for {key}: {e}"
            ))
        })?;
        if parsed.username.is_empty() && parsed.secret.is_empty() {
            return Ok(None);
        }
        Ok(Some(Credentials {
            username: parsed.username,
            secret: parsed.secret,
            from: name,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalise_as_docker_writes_them() {
        assert_eq!(normalise_key(DOCKER_HUB_KEY), "docker.io");
        assert_eq!(normalise_key("https://ghcr.io"), "ghcr.io");
        assert_eq!(normalise_key("localhost:5000"), "localhost:5000");
        assert_eq!(
            normalise_key("https://reg.example:5000/v2/"),
            "reg.example:5000"
        );
        assert_eq!(helper_key("docker.io"), DOCKER_HUB_KEY);
    }

    #[test]
    fn auths_entries_are_read_from_a_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        std::fs::write(
            &cfg,
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"},
                          "127.0.0.1:5000": {"username": "a", "password": "b"}}}"#,
        )
        .unwrap();
        let hub = lookup("x", Some(&cfg), None, "docker.io").unwrap().unwrap();
        assert_eq!((hub.username.as_str(), hub.secret.as_str()), ("u", "p"));
        assert_eq!(hub.basic(), "Basic dTpw");
        let local = lookup("x", Some(&cfg), None, "127.0.0.1:5000")
            .unwrap()
            .unwrap();
        assert_eq!(local.username, "a");
        assert!(lookup("x", Some(&cfg), None, "ghcr.io").unwrap().is_none());
        let missing = dir.path().join("none.json");
        assert!(lookup("x", Some(&missing), None, "ghcr.io")
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_missing_helper_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        std::fs::write(&cfg, r#"{"credsStore": "nonexistent-xyz"}"#).unwrap();
        let e = lookup("img", Some(&cfg), Some(dir.path()), "ghcr.io").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("docker-credential-nonexistent-xyz"), "{msg}");
        assert!(msg.contains("not installed"), "{msg}");
    }
}
