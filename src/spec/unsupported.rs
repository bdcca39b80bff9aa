//! The Compose keys stack does not support (yet), each with what to do
//! instead: "not supported yet" rather than "unknown key" for a key that
//! Compose has.

/// Compose keys stack does not support, with what to do instead.
pub(super) fn compose_unsupported(def: &str, key: &str) -> Option<String> {
    let msg = match (def, key) {
        ("ServiceFile", "build") => {
            "`build` is not supported: stack has no builds; build the image elsewhere and give it as `image:` (a registry reference, `oci:DIR` or `docker-archive:FILE`), or use a `rootfs` source (`rootfs: { debootstrap: {...} }`)".to_string()
        }
        ("ServiceFile", "cpu_count" | "cpu_percent") => {
            format!("`{key}` applies to Windows containers only (Docker ignores it on Linux); limit CPU with `cpus`")
        }
        (
            "ServiceFile",
            "logging"
            | "external_links"
            | "stdin_open" | "tty" | "userns_mode" | "cgroup" | "cgroup_parent"
            | "runtime" | "storage_opt"
            | "cpu_rt_runtime" | "cpu_rt_period"
            | "isolation" | "annotations" | "attach" | "credential_spec" | "gpus"
            | "pre_start" | "uts" | "label_file" | "models" | "provider"
            | "use_api_socket" | "lifecycle_hooks" | "develop_watch",
        )
        | (
            "StackFile",
            "models",
        )
        | (
            "DeployFile",
            "mode" | "placement" | "update_config"
            | "rollback_config" | "labels" | "endpoint_mode",
        )
        | ("LimitsFile", "devices")
        | ("ReservationsFile", "devices" | "pids" | "generic_resources")
        | ("IpamFile", "options")
        | ("IpamConfigFile", "aux_addresses")
        | (
            "ServiceNetworkFile",
            "ipv6_address" | "link_local_ips" | "driver_opts" | "gw_priority" | "interface_name",
        )
        | ("BindOptsFile", "propagation" | "selinux" | "recursive")
        | ("VolumeOptsFile", "subpath")
        | ("VolumeLongFile", "consistency" | "image") => {
            format!("`{key}` is a Compose key stack does not support yet; remove it")
        }
        _ => return None,
    };
    Some(msg)
}
