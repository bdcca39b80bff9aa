//! The Compose keys stack does not support (yet), each with what to do
//! instead: "not supported yet" rather than "unknown key" for a key that
//! Compose has.

/// Compose keys stack does not support, with what to do instead.
pub(super) fn compose_unsupported(def: &str, key: &str) -> Option<String> {
    let msg = match (def, key) {
        ("ServiceFile", "image") => {
            "`image` is not used by stack: give a root filesystem with `rootfs` (a directory, a tarball, `host:` binaries or `debootstrap:`)".to_string()
        }
        ("ServiceFile", "build") => {
            "`build` is not used by stack: use a `rootfs` source (`rootfs: { debootstrap: {...} }` or `rootfs: { host: [...] }`)".to_string()
        }
        (
            "ServiceFile",
            "secrets" | "configs" | "pid" | "ipc" | "logging"
            | "external_links" | "sysctls"
            | "stdin_open" | "tty" | "userns_mode" | "cgroup" | "cgroup_parent"
            | "platform" | "pull_policy" | "runtime" | "scale" | "storage_opt"
            | "volumes_from" | "group_add" | "oom_kill_disable" | "oom_score_adj"
            | "mem_swappiness" | "cpu_count" | "cpu_percent" | "cpu_period" | "cpu_quota"
            | "cpu_rt_runtime" | "cpu_rt_period"
            | "isolation" | "annotations" | "attach" | "credential_spec" | "extends" | "gpus"
            | "post_start" | "pre_stop" | "uts" | "label_file" | "models" | "provider"
            | "use_api_socket" | "lifecycle_hooks" | "develop_watch",
        )
        | (
            "StackFile",
            "secrets" | "configs" | "include" | "models",
        )
        | (
            "DeployFile",
            "replicas" | "mode" | "restart_policy" | "placement" | "update_config"
            | "rollback_config" | "labels" | "endpoint_mode",
        )
        | ("LimitsFile", "devices")
        | ("ReservationsFile", "cpus" | "devices" | "pids" | "generic_resources")
        | ("VolumeFile", "driver" | "driver_opts" | "external" | "name")
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
