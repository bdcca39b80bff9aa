//! The stack file as written (before normalization): the single source of
//! truth for `schemas/stack.schema.json`, the key tables of the "Stack file
//! reference" chapter, and the set of keys the loader accepts (an unknown
//! key is checked against these for "did you mean").
//!
//! The loader itself walks a positioned YAML tree (see `load.rs`) so that it
//! can report every problem with its line and column; a test asserts that
//! it handles exactly the keys declared here.
//!
//! Doc comments become the schema's descriptions and the reference's text:
//! first sentence what it is, then `Compose:` differences, then `Example:`.

#![allow(dead_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
mod compose;
mod lifecycle;
mod mounts;
mod networks;
mod ports;
mod reference;
mod resources;
mod rootfs;
mod service;

pub use compose::*;
pub use lifecycle::*;
pub use mounts::*;
pub use networks::*;
pub use ports::*;
pub use reference::{reference_tables, schema, schema_json, SECTIONS};
pub use resources::*;
pub use rootfs::*;
pub use service::*;

/// A string, or a number/boolean YAML turns into one.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Number(f64),
    Bool(bool),
}

/// One string or a list of strings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StringOrList {
    String(String),
    List(Vec<String>),
}

/// A map of strings, or a list of `KEY=VALUE` strings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum MapOrList {
    Map(BTreeMap<String, Option<Scalar>>),
    List(Vec<String>),
}

/// A stack file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "stack file")]
pub struct StackFile {
    /// Project name: lower case letters, digits, `_` and `-`. `-p` overrides it;
    /// without both, the file's directory name is used.
    /// Example: `name: cola-wars`
    #[serde(default)]
    pub name: Option<String>,
    /// The services (containers) of the stack, by name. A file without
    /// services is a project too (networks and volumes only, or merged
    /// onto another with `-f`).
    /// Example: `services: { web: { rootfs: ./rootfs } }`
    #[serde(default)]
    pub services: BTreeMap<String, ServiceFile>,
    /// Named volumes, kept under the project's state directory until
    /// `stack down -v` (or machine-wide, with `name` or `external`).
    /// Example: `volumes: { data: {} }`
    #[serde(default)]
    pub volumes: BTreeMap<String, Option<VolumeFile>>,
    /// The project's networks, by key; a service joins `default`
    /// (`<project>_default`, made when used) unless it names others.
    /// Declaring `default` configures it.
    /// Example: `networks: { front: {}, back: { internal: true } }`
    #[serde(default)]
    pub networks: BTreeMap<String, Option<NetworkFile>>,
    /// Other stack files whose services, networks and volumes join this
    /// project, each read as its own project (its own directory and `.env`);
    /// a name defined twice is an error.
    /// Example: `include: [../db/compose.yaml]`
    #[serde(default)]
    pub include: Option<Vec<IncludeFile>>,
    /// Secrets services mount read-only under `/run/secrets/`; their content
    /// never appears in `stack config`, logs or state.
    /// Example: `secrets: { db_password: { file: ./db_password.txt } }`
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretFile>,
    /// Configuration files services mount read-only.
    /// Example: `configs: { nginx: { file: ./nginx.conf } }`
    #[serde(default)]
    pub configs: BTreeMap<String, ConfigFile>,
    /// Obsolete, as in Compose: accepted and ignored with a warning.
    #[serde(default)]
    pub version: Option<String>,
}

/// A named volume.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeFile {
    /// Labels recorded with the volume.
    /// Example: `labels: { backup: daily }`
    #[serde(default)]
    pub labels: Option<MapOrList>,
    /// A machine-wide name: the volume lives in `<state root>/volumes/NAME`,
    /// shared with every project that names it, and `down -v` removes it
    /// (unless another project names it too). Without it the volume is
    /// the project's own.
    /// Example: `name: shared-cache`
    #[serde(default)]
    pub name: Option<String>,
    /// The volume exists already (`stack volume create NAME`, or another
    /// project's `name:`): a container that mounts it fails if it does
    /// not, and `down -v` keeps it. Only `name` may go beside it.
    /// Example: `external: true`
    #[serde(default)]
    pub external: Option<bool>,
    /// Only `local`, the default.
    /// Example: `driver: local`
    #[serde(default)]
    pub driver: Option<String>,
    /// The local driver's `type`, `o` and `device`, as `mount` takes them:
    /// a bind of a host directory (`type: none`, `o: bind`, `device:
    /// /abs/path`) or a tmpfs (`type: tmpfs`, `o: "size=64m,mode=1777"`,
    /// mounted for each container; used by one container only). Other
    /// file systems are refused.
    /// Example: `driver_opts: { type: none, o: bind, device: /srv/data }`
    #[serde(default)]
    pub driver_opts: Option<BTreeMap<String, String>>,
}
