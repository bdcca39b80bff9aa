//! Keys that put Compose files together: a service's `extends` and the
//! top-level `include`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The service this one starts from: its name in this file, or the long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ExtendsFile {
    Name(String),
    Long(ExtendsLongFile),
}

/// `extends`, long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendsLongFile {
    /// The service to start from. Example: `service: webapp`
    pub service: String,
    /// The file it is in (relative to the file that names it); default: the
    /// same file. Its relative paths stay relative to its own directory.
    /// Example: `file: common.yaml`
    #[serde(default)]
    pub file: Option<String>,
}

/// One included file: a path, or the long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum IncludeFile {
    Path(String),
    Long(IncludeLongFile),
}

/// `include`, long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncludeLongFile {
    /// The file, or several merged in order (as with `-f`), relative to the
    /// including file. Example: `path: ../db/compose.yaml`
    pub path: PathOrList,
    /// The directory its relative paths and `.env` are found in; default:
    /// the (first) included file's directory. Example: `project_directory: ../db`
    #[serde(default)]
    pub project_directory: Option<String>,
    /// Variables for its interpolation, instead of the `.env` of its project
    /// directory. Example: `env_file: ../db/db.env`
    #[serde(default)]
    pub env_file: Option<PathOrList>,
}

/// A path or a list of paths.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PathOrList {
    One(String),
    Many(Vec<String>),
}

/// A top-level secret: where its content comes from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretFile {
    /// A file holding it, relative to the project directory. Example: `file: ./db_password.txt`
    #[serde(default)]
    pub file: Option<String>,
    /// A variable holding it (the environment or `.env`). Example: `environment: DB_PASSWORD`
    #[serde(default)]
    pub environment: Option<String>,
}

/// A top-level config: where its content comes from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// A file holding it, relative to the project directory. Example: `file: ./nginx.conf`
    #[serde(default)]
    pub file: Option<String>,
    /// A variable holding it. Example: `environment: APP_CONFIG`
    #[serde(default)]
    pub environment: Option<String>,
    /// The content itself (interpolated). Example: `content: "debug = true"`
    #[serde(default)]
    pub content: Option<String>,
}

/// A secret or config a service uses: its name, or the long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum FileRefFile {
    Name(String),
    Long(FileRefLongFile),
}

/// A service's secret or config, long form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRefLongFile {
    /// The top-level secret or config. Example: `source: db_password`
    pub source: String,
    /// Where it appears: for a secret, a name under `/run/secrets/` or an
    /// absolute path (default `/run/secrets/<source>`); for a config, a path
    /// (default `/<source>`). Example: `target: /etc/nginx/nginx.conf`
    #[serde(default)]
    pub target: Option<String>,
    /// Owner of the file in the container. Default: `0`. Example: `uid: "103"`
    #[serde(default)]
    pub uid: Option<String>,
    /// Group of the file in the container. Default: `0`. Example: `gid: "103"`
    #[serde(default)]
    pub gid: Option<String>,
    /// Permission bits, octal. Default: `0444`. Example: `mode: 0440`
    #[serde(default)]
    pub mode: Option<serde_json::Value>,
}
