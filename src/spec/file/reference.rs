//! The JSON Schema and the reference tables, generated from the types.

use super::StackFile;

/// The JSON Schema of the stack file, as committed in `schemas/`.
pub fn schema() -> schemars::schema::RootSchema {
    let settings = schemars::gen::SchemaSettings::draft07().with(|s| {
        s.option_nullable = false;
        s.option_add_null_type = true;
    });
    let mut root = settings
        .into_generator()
        .into_root_schema_for::<StackFile>();
    // `x-*` keys are allowed (and ignored) in every object.
    allow_extensions(&mut root.schema);
    for def in root.definitions.values_mut() {
        if let schemars::schema::Schema::Object(o) = def {
            allow_extensions(o);
        }
    }
    root
}

fn allow_extensions(o: &mut schemars::schema::SchemaObject) {
    if let Some(obj) = o.object.as_mut() {
        if !obj.properties.is_empty() {
            obj.pattern_properties
                .insert("^x-".to_string(), schemars::schema::Schema::Bool(true));
        }
    }
}

/// The schema as pretty JSON with a trailing newline.
pub fn schema_json() -> String {
    let mut s = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    s.push('\n');
    s
}

/// Where each object of the schema appears in a file, in reference order.
pub const SECTIONS: &[(&str, &str)] = &[
    ("StackFile", "Top level"),
    ("IncludeLongFile", "include[] (long form)"),
    ("SecretFile", "secrets.NAME"),
    ("ConfigFile", "configs.NAME"),
    ("VolumeFile", "volumes.NAME"),
    ("NetworkFile", "networks.NAME"),
    ("IpamFile", "networks.NAME.ipam"),
    ("IpamConfigFile", "networks.NAME.ipam.config[]"),
    ("ServiceFile", "services.NAME"),
    ("RootfsSourceFile", "services.NAME.rootfs (map form)"),
    ("DebootstrapFile", "services.NAME.rootfs.debootstrap"),
    ("EnvFileLong", "services.NAME.env_file[] (long form)"),
    ("ExtendsLongFile", "services.NAME.extends (long form)"),
    ("HookFile", "services.NAME.{post_start,pre_stop}[]"),
    (
        "FileRefLongFile",
        "services.NAME.{secrets,configs}[] (long form)",
    ),
    (
        "DependencyFile",
        "services.NAME.depends_on.SERVICE (long form)",
    ),
    ("HealthcheckFile", "services.NAME.healthcheck"),
    ("BlkioFile", "services.NAME.blkio_config"),
    (
        "WeightDeviceFile",
        "services.NAME.blkio_config.weight_device[]",
    ),
    (
        "ThrottleDeviceFile",
        "services.NAME.blkio_config.device_{read,write}_{bps,iops}[]",
    ),
    ("DeployFile", "services.NAME.deploy"),
    ("ResourcesFile", "services.NAME.deploy.resources"),
    ("LimitsFile", "services.NAME.deploy.resources.limits"),
    (
        "ReservationsFile",
        "services.NAME.deploy.resources.reservations",
    ),
    ("RestartPolicyFile", "services.NAME.deploy.restart_policy"),
    ("VolumeLongFile", "services.NAME.volumes[] (long form)"),
    ("BindOptsFile", "services.NAME.volumes[].bind"),
    ("VolumeOptsFile", "services.NAME.volumes[].volume"),
    ("TmpfsOptsFile", "services.NAME.volumes[].tmpfs"),
    ("UlimitPairFile", "services.NAME.ulimits.NAME (long form)"),
    ("PortLongFile", "services.NAME.ports[] (long form)"),
    (
        "ServiceNetworkFile",
        "services.NAME.networks.NETWORK (map form)",
    ),
    ("DevelopFile", "services.NAME.develop"),
    ("WatchFile", "services.NAME.develop.watch[]"),
    ("XStackFile", "services.NAME.x-stack"),
];

fn anchor(def: &str) -> String {
    SECTIONS
        .iter()
        .find(|(d, _)| *d == def)
        .map(|(_, t)| {
            t.to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
                    ' ' => Some('-'),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_else(|| def.to_lowercase())
}

/// A readable type for a schema, e.g. `string or list of string`.
fn type_name(
    s: &schemars::schema::Schema,
    defs: &schemars::Map<String, schemars::schema::Schema>,
) -> String {
    use schemars::schema::{InstanceType, Schema, SingleOrVec};
    let Schema::Object(o) = s else {
        return "any".into();
    };
    if let Some(r) = &o.reference {
        let name = r.trim_start_matches("#/definitions/");
        if name == "Scalar" {
            return "string or number".into();
        }
        // Untagged helper enums are spelled out; objects link to their section.
        if let Some(d) = defs.get(name) {
            if SECTIONS.iter().any(|(x, _)| *x == name) {
                return format!("[map](#{})", anchor(name));
            }
            return type_name(d, defs);
        }
        return name.to_string();
    }
    if let Some(e) = &o.enum_values {
        return e
            .iter()
            .map(|v| format!("`{}`", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(" \\| ");
    }
    if let Some(sub) = &o.subschemas {
        let list = sub
            .any_of
            .as_ref()
            .or(sub.one_of.as_ref())
            .or(sub.all_of.as_ref());
        if let Some(list) = list {
            let mut parts: Vec<String> = list
                .iter()
                .map(|x| type_name(x, defs))
                .filter(|t| t != "null" && !t.is_empty())
                .collect();
            parts.dedup();
            return parts.join(" or ");
        }
    }
    let types: Vec<InstanceType> = match &o.instance_type {
        Some(SingleOrVec::Single(t)) => vec![**t],
        Some(SingleOrVec::Vec(v)) => v.clone(),
        None => return "any".into(),
    };
    let parts: Vec<String> = types
        .into_iter()
        .filter(|t| *t != InstanceType::Null)
        .map(|t| match t {
            InstanceType::Array => {
                let item = match o.array.as_ref().and_then(|a| a.items.as_ref()) {
                    Some(SingleOrVec::Single(i)) => type_name(i, defs),
                    _ => "any".into(),
                };
                format!("list of {item}")
            }
            InstanceType::Object => match o
                .object
                .as_ref()
                .and_then(|a| a.additional_properties.as_ref())
            {
                Some(v) => format!("map of {}", type_name(v, defs)),
                None => "map".into(),
            },
            InstanceType::Boolean => "boolean".into(),
            InstanceType::Integer => "integer".into(),
            InstanceType::Number => "number".into(),
            InstanceType::String => "string".into(),
            InstanceType::Null => "null".into(),
        })
        .collect();
    parts.join(" or ")
}

/// The generated key tables of the "Stack file reference" chapter.
pub fn reference_tables() -> String {
    use schemars::schema::Schema;
    let root = schema();
    let mut out = String::new();
    for (def, title) in SECTIONS {
        let obj = if *def == "StackFile" {
            Some(&root.schema)
        } else {
            match root.definitions.get(*def) {
                Some(Schema::Object(o)) => Some(o),
                _ => None,
            }
        };
        let Some(obj) = obj else { continue };
        let Some(props) = obj.object.as_ref() else {
            continue;
        };
        out.push_str(&format!("### {title}\n\n"));
        if let Some(d) = obj.metadata.as_ref().and_then(|m| m.description.as_ref()) {
            out.push_str(d);
            out.push_str("\n\n");
        }
        out.push_str("| Key | Type | Default | Description |\n|---|---|---|---|\n");
        for (key, s) in &props.properties {
            let desc = match s {
                Schema::Object(o) => o
                    .metadata
                    .as_ref()
                    .and_then(|m| m.description.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let desc = desc.replace('\n', " ");
            // "Default: `x`." moves to its own column; required keys say so.
            let (default, desc) = match desc.find("Default: ") {
                Some(i) => {
                    let rest = &desc[i + "Default: ".len()..];
                    let end = rest.find(". ").map(|e| e + 1).unwrap_or(rest.len());
                    let d = rest[..end].trim_end_matches('.').to_string();
                    let tail = rest[end..].trim_start();
                    (d, format!("{}{tail}", &desc[..i]))
                }
                None if props.required.contains(key) => ("required".to_string(), desc),
                None => (String::new(), desc),
            };
            let desc = desc.trim().replace('|', "\\|");
            let default = default.replace('|', "\\|");
            out.push_str(&format!(
                "| `{key}` | {} | {default} | {desc} |\n",
                type_name(s, &root.definitions)
            ));
        }
        out.push('\n');
    }
    out
}
