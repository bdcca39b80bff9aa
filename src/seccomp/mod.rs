//! Docker's seccomp profile format (moby `profiles/seccomp`) and stack's
//! default profile, as plain data shared by the loader (which validates a
//! `security_opt: seccomp=PATH` file) and the runtime (which compiles it).
//!
//! The types read any profile Docker reads: unknown fields (such as
//! `listenerPath`) are ignored, `"name"` (the old one-syscall form) and
//! `null` lists are accepted. Everything is checked while parsing so that an
//! error can say where it is.

mod default;

use std::fmt;
use std::sync::OnceLock;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// Why a profile cannot be used: where, and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("line {line}, column {column}: {message}")]
    Invalid {
        line: usize,
        column: usize,
        message: String,
    },
}

/// A seccomp profile in Docker's JSON format.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawProfile")]
pub struct Profile {
    /// What happens to a syscall no group matches.
    pub default_action: Action,
    /// The errno of a default `SCMP_ACT_ERRNO` (EPERM when unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    /// libseccomp names (`SCMP_ARCH_X86_64`); exclusive with `arch_map`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    /// Per native architecture, the sub-architectures also filtered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arch_map: Vec<ArchMap>,
    pub syscalls: Vec<Syscalls>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
}

/// A native architecture and the ones its kernel also runs (`SCMP_ARCH_*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchMap {
    #[serde(deserialize_with = "arch_name")]
    pub architecture: String,
    #[serde(default, deserialize_with = "arch_names")]
    pub sub_architectures: Vec<String>,
}

/// One group of syscalls sharing an action, argument conditions and the
/// conditions under which the group applies at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "RawSyscalls")]
pub struct Syscalls {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// The old one-syscall form; exclusive with `names`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: Action,
    /// The errno of `SCMP_ACT_ERRNO` (or the message of `SCMP_ACT_TRACE`);
    /// EPERM when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    /// Conditions on the arguments, all of which must hold; as in runc,
    /// conditions sharing an argument index are alternatives instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<Arg>,
    #[serde(skip_serializing_if = "Filter::is_empty")]
    pub includes: Filter,
    #[serde(skip_serializing_if = "Filter::is_empty")]
    pub excludes: Filter,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Syscalls {
    /// Every syscall the group names, in either form.
    pub fn all_names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .chain(self.name.iter())
            .map(String::as_str)
    }
}

/// When a group applies: `includes` needs all of these, `excludes` any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// Capability names (`CAP_SYS_ADMIN`) of the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_empty")]
    pub caps: Vec<String>,
    /// Docker's architecture names (`amd64`, `arm64`, `s390x`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[serde(deserialize_with = "null_as_empty")]
    pub arches: Vec<String>,
    /// `"<kernel>.<major>"`, compared with the running kernel's release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "min_kernel")]
    pub min_kernel: Option<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.caps.is_empty() && self.arches.is_empty() && self.min_kernel.is_none()
    }
}

/// A condition on one syscall argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Arg {
    /// 0 to 5.
    #[serde(deserialize_with = "arg_index")]
    pub index: u32,
    pub value: u64,
    /// The expected result of `SCMP_CMP_MASKED_EQ` (`value` is the mask).
    #[serde(default)]
    pub value_two: u64,
    pub op: Op,
}

/// A seccomp action, spelled as libseccomp does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Allow,
    Errno,
    /// libseccomp's old name for `KillThread`.
    Kill,
    KillProcess,
    KillThread,
    Trap,
    Log,
    Trace,
    /// User-space notification: stack has no agent to answer, so a
    /// profile using it is refused.
    Notify,
}

/// An argument comparison; all compare the full 64 bits, unsigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    NotEqual,
    LessThan,
    LessEqual,
    EqualTo,
    GreaterEqual,
    GreaterThan,
    /// `(arg & value) == value_two`.
    MaskedEqual,
}

/// `seccomp(2)` flags a profile may ask for. None changes which syscalls
/// are allowed: the runtime installs filters from one thread right before
/// exec (so `TSYNC` is moot) and ignores the audit and speculation flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    Tsync,
    Log,
    SpecAllow,
    WaitKillableRecv,
}

/// The names of a JSON string enum, and its (de)serialisation by name.
macro_rules! json_names {
    ($ty:ident, $($variant:ident = $name:literal),+ $(,)?) => {
        impl $ty {
            /// Every value.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name in Docker's JSON.
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }
    };
}

json_names!(
    Action,
    Allow = "SCMP_ACT_ALLOW",
    Errno = "SCMP_ACT_ERRNO",
    Kill = "SCMP_ACT_KILL",
    KillProcess = "SCMP_ACT_KILL_PROCESS",
    KillThread = "SCMP_ACT_KILL_THREAD",
    Trap = "SCMP_ACT_TRAP",
    Log = "SCMP_ACT_LOG",
    Trace = "SCMP_ACT_TRACE",
    Notify = "SCMP_ACT_NOTIFY",
);

json_names!(
    Op,
    NotEqual = "SCMP_CMP_NE",
    LessThan = "SCMP_CMP_LT",
    LessEqual = "SCMP_CMP_LE",
    EqualTo = "SCMP_CMP_EQ",
    GreaterEqual = "SCMP_CMP_GE",
    GreaterThan = "SCMP_CMP_GT",
    MaskedEqual = "SCMP_CMP_MASKED_EQ",
);

json_names!(
    Flag,
    Tsync = "SECCOMP_FILTER_FLAG_TSYNC",
    Log = "SECCOMP_FILTER_FLAG_LOG",
    SpecAllow = "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    WaitKillableRecv = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
);

/// The value of `all` called `text`, or an error listing the names.
fn by_name<T: Copy, E: de::Error>(
    text: &str,
    what: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, E> {
    all.iter()
        .copied()
        .find(|v| name(*v) == text)
        .ok_or_else(|| {
            let names: Vec<_> = all.iter().map(|v| name(*v)).collect();
            E::custom(format!(
                "unknown {what} {text:?} (use {})",
                names.join(", ")
            ))
        })
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == Action::Notify.name() {
            return Err(de::Error::custom(
                "SCMP_ACT_NOTIFY is not supported: stack runs no seccomp agent to answer \
                 notifications (use SCMP_ACT_ERRNO or SCMP_ACT_TRACE)",
            ));
        }
        let usable: Vec<Action> = Action::ALL
            .iter()
            .copied()
            .filter(|a| *a != Action::Notify)
            .collect();
        by_name(&text, "action", &usable, Action::name)
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        by_name(&String::deserialize(d)?, "operator", Op::ALL, Op::name)
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        by_name(&String::deserialize(d)?, "flag", Flag::ALL, Flag::name)
    }
}

/// libseccomp's architecture names.
pub const ARCHITECTURES: &[&str] = &[
    "SCMP_ARCH_NATIVE",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];

/// Parse a `"<kernel>.<major>"` version as Docker does (`"4.8"`; each part
/// at most 255, not `0.0`).
pub fn kernel_version(text: &str) -> Option<(u8, u8)> {
    let (kernel, major) = text.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(kernel) || !digits(major) {
        return None;
    }
    let v = (kernel.parse().ok()?, major.parse().ok()?);
    (v != (0, 0)).then_some(v)
}

/// An architecture name, checked where it stands in the file.
struct ArchName(String);

impl<'de> Deserialize<'de> for ArchName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if ARCHITECTURES.contains(&text.as_str()) {
            Ok(ArchName(text))
        } else {
            Err(de::Error::custom(format!(
                "unknown architecture {text:?} (use {})",
                ARCHITECTURES.join(", ")
            )))
        }
    }
}

/// A syscall name, checked where it stands in the file.
struct SyscallName(String);

impl<'de> Deserialize<'de> for SyscallName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim().is_empty() {
            return Err(de::Error::custom(
                "a syscall name cannot be empty (use a name like \"mount\")",
            ));
        }
        Ok(SyscallName(text))
    }
}

fn arch_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(ArchName::deserialize(d)?.0)
}

fn arch_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v: Option<Vec<ArchName>> = Option::deserialize(d)?;
    Ok(v.unwrap_or_default().into_iter().map(|a| a.0).collect())
}

/// Docker's Go structs write absent lists as `null`.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn min_kernel<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    // Docker reads "" as no minimum.
    if text.is_empty() {
        return Ok(None);
    }
    match kernel_version(&text) {
        Some(_) => Ok(Some(text)),
        None => Err(de::Error::custom(format!(
            "invalid minKernel {text:?} (use \"<kernel>.<major>\" like \"4.8\")"
        ))),
    }
}

fn arg_index<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let index = u32::deserialize(d)?;
    if index > 5 {
        return Err(de::Error::custom(format!(
            "argument index {index} is out of range (syscalls have arguments 0 to 5)"
        )));
    }
    Ok(index)
}

/// SECCOMP_RET_DATA is 16 bits; Docker would silently truncate more.
fn errno<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = Option::<u32>::deserialize(d)?;
    match v {
        Some(n) if n > 0xffff => Err(de::Error::custom(format!(
            "errno {n} does not fit in seccomp's 16 bits (use an errno like 1 for EPERM)"
        ))),
        _ => Ok(v),
    }
}

/// The file's form of `Profile`, before the checks across fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProfile {
    default_action: Action,
    #[serde(default, deserialize_with = "errno")]
    default_errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "arch_names")]
    architectures: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    arch_map: Vec<ArchMap>,
    #[serde(default, deserialize_with = "null_as_empty")]
    syscalls: Vec<Syscalls>,
    #[serde(default, deserialize_with = "null_as_empty")]
    flags: Vec<Flag>,
}

impl TryFrom<RawProfile> for Profile {
    type Error = String;

    fn try_from(raw: RawProfile) -> Result<Self, String> {
        if !raw.architectures.is_empty() && !raw.arch_map.is_empty() {
            return Err("the profile has both architectures and archMap; use one of them".into());
        }
        Ok(Profile {
            default_action: raw.default_action,
            default_errno_ret: raw.default_errno_ret,
            architectures: raw.architectures,
            arch_map: raw.arch_map,
            syscalls: raw.syscalls,
            flags: raw.flags,
        })
    }
}

/// The file's form of `Syscalls`, before the checks across fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSyscalls {
    #[serde(default, deserialize_with = "null_as_empty")]
    names: Vec<SyscallName>,
    #[serde(default)]
    name: Option<SyscallName>,
    action: Action,
    #[serde(default, deserialize_with = "errno")]
    errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "null_as_empty")]
    args: Vec<Arg>,
    #[serde(default)]
    includes: Option<Filter>,
    #[serde(default)]
    excludes: Option<Filter>,
    #[serde(default)]
    comment: Option<String>,
}

impl TryFrom<RawSyscalls> for Syscalls {
    type Error = String;

    fn try_from(raw: RawSyscalls) -> Result<Self, String> {
        let names: Vec<String> = raw.names.into_iter().map(|n| n.0).collect();
        let name = raw.name.map(|n| n.0);
        match (&name, names.first()) {
            (Some(one), Some(first)) => {
                return Err(format!(
                    "a syscall group has both name ({one:?}) and names (from {first:?}); use \
                     only names"
                ))
            }
            (None, None) => {
                return Err(format!(
                    "a {} syscall group names no syscalls; list them in names",
                    raw.action
                ))
            }
            _ => {}
        }
        Ok(Syscalls {
            names,
            name,
            action: raw.action,
            errno_ret: raw.errno_ret,
            args: raw.args,
            includes: raw.includes.unwrap_or_default(),
            excludes: raw.excludes.unwrap_or_default(),
            comment: raw.comment,
        })
    }
}

/// Read and check a profile in Docker's JSON format.
pub fn parse(text: &str) -> Result<Profile, ProfileError> {
    serde_json::from_str(text).map_err(|e| {
        // serde_json appends the position to every message; we lead with it.
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        ProfileError::Invalid {
            line: e.line(),
            column: e.column(),
            message: full.strip_suffix(&suffix).unwrap_or(&full).to_string(),
        }
    })
}

/// Docker's default profile (moby `profiles/seccomp/default.json`), built
/// once.
pub fn default_profile() -> &'static Profile {
    static DEFAULT: OnceLock<Profile> = OnceLock::new();
    DEFAULT.get_or_init(default::build)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> (usize, usize, String) {
        match parse(text) {
            Err(ProfileError::Invalid {
                line,
                column,
                message,
            }) => (line, column, message),
            Ok(p) => panic!("parsed: {p:?}"),
        }
    }

    #[test]
    fn default_profile_round_trips_as_json() {
        let text = serde_json::to_string_pretty(default_profile()).unwrap();
        assert_eq!(&parse(&text).unwrap(), default_profile());
        assert!(text.contains("\"defaultErrnoRet\": 1"));
        assert!(text.contains("\"SCMP_CMP_MASKED_EQ\""));
    }

    #[test]
    fn default_profile_is_dockers() {
        let p = default_profile();
        assert_eq!(p.default_action, Action::Errno);
        assert_eq!(p.default_errno_ret, Some(1));
        let allowed = &p.syscalls[0];
        assert_eq!(allowed.action, Action::Allow);
        assert!(allowed.includes.is_empty() && allowed.args.is_empty());
        assert!(allowed.names.len() > 350, "{}", allowed.names.len());
        for absent in [
            "io_uring_setup",
            "io_uring_enter",
            "io_uring_register",
            "keyctl",
            "add_key",
            "request_key",
            "userfaultfd",
            "kexec_load",
            "open_by_handle_at",
            "clone",
            "clone3",
            "unshare",
            "mount",
            "bpf",
        ] {
            assert!(!allowed.names.iter().any(|n| n == absent), "{absent}");
        }
        let clone3 = p
            .syscalls
            .iter()
            .find(|g| g.action == Action::Errno)
            .unwrap();
        assert_eq!(clone3.names, ["clone3"]);
        assert_eq!(clone3.errno_ret, Some(38));
        assert_eq!(clone3.excludes.caps, ["CAP_SYS_ADMIN"]);
    }

    #[test]
    fn reads_dockers_variants() {
        let p = parse(
            r#"{
                "defaultAction": "SCMP_ACT_ERRNO",
                "listenerPath": "/run/agent.sock",
                "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                "archMap": [{"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}],
                "syscalls": [
                    {"name": "read", "action": "SCMP_ACT_ALLOW", "args": null},
                    {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                     "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}],
                     "includes": {"minKernel": ""}, "excludes": {"caps": null}}
                ]
            }"#,
        )
        .unwrap();
        assert_eq!(p.flags, [Flag::Log]);
        assert_eq!(p.arch_map[0].sub_architectures, Vec::<String>::new());
        assert_eq!(p.syscalls[0].name.as_deref(), Some("read"));
        assert_eq!(p.syscalls[1].args[0].value_two, 0);
        assert!(p.syscalls[1].includes.is_empty() && p.syscalls[1].excludes.is_empty());
    }

    #[test]
    fn errors_say_where_and_what() {
        let (line, column, msg) = error_of(
            "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [\n    {\"names\": [\"read\"], \"action\": \"SCMP_ACT_FOO\"}\n  ]\n}",
        );
        assert_eq!((line, column), (4, 49), "just after the bad value");
        assert!(
            msg.starts_with("unknown action \"SCMP_ACT_FOO\" (use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO"),
            "{msg}"
        );
        assert!(!msg.contains("NOTIFY"), "{msg}");
        let e = parse("{\"defaultAction\": \"SCMP_ACT_KILL\",\n\"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}").unwrap_err();
        assert!(
            e.to_string().starts_with("line 2, column ")
                && e.to_string().contains("argument index 6 is out of range"),
            "{e}"
        );
        let (_, _, msg) = error_of(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BAD"}]}]}"#,
        );
        assert!(
            msg.starts_with("unknown operator \"SCMP_CMP_BAD\" (use SCMP_CMP_NE"),
            "{msg}"
        );
        let (_, _, msg) = error_of(r#"{"syscalls": []}"#);
        assert_eq!(msg, "missing field `defaultAction`");
        let (line, column, _) = error_of("{\"defaultAction\": \"SCMP_ACT_ALLOW\",,}");
        assert_eq!((line, column), (1, 36));
    }

    #[test]
    fn notify_is_not_supported() {
        let (_, _, msg) = error_of(r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#);
        assert!(msg.starts_with("SCMP_ACT_NOTIFY is not supported"), "{msg}");
        let (_, _, msg) = error_of(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}]}"#,
        );
        assert!(msg.starts_with("SCMP_ACT_NOTIFY is not supported"), "{msg}");
    }

    #[test]
    fn groups_must_name_syscalls() {
        for (text, want) in [
            (
                r#"{"names": [], "action": "SCMP_ACT_ALLOW"}"#,
                "names no syscalls",
            ),
            (r#"{"action": "SCMP_ACT_ALLOW"}"#, "names no syscalls"),
            (
                r#"{"names": [""], "action": "SCMP_ACT_ALLOW"}"#,
                "cannot be empty",
            ),
            (
                r#"{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}"#,
                "both name (\"read\") and names",
            ),
        ] {
            let doc = format!(r#"{{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{text}]}}"#);
            let (_, _, msg) = error_of(&doc);
            assert!(msg.contains(want), "{text}: {msg}");
        }
    }

    #[test]
    fn checks_kernels_architectures_and_errnos() {
        let (_, _, msg) = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8.1"}}]}"#,
        );
        assert!(msg.starts_with("invalid minKernel \"4.8.1\""), "{msg}");
        let (_, _, msg) = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_65"]}"#,
        );
        assert!(
            msg.starts_with("unknown architecture \"SCMP_ARCH_X86_65\""),
            "{msg}"
        );
        let (_, _, msg) = error_of(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
        );
        assert!(msg.contains("both architectures and archMap"), "{msg}");
        let (_, _, msg) =
            error_of(r#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}"#);
        assert!(msg.starts_with("errno 70000 does not fit"), "{msg}");
        let (_, _, msg) =
            error_of(r#"{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_X"]}"#);
        assert!(msg.starts_with("unknown flag"), "{msg}");
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(kernel_version("4.8"), Some((4, 8)));
        assert_eq!(kernel_version("5.10"), Some((5, 10)));
        for bad in ["0.0", "4", "4.8.1", "a.b", "4.", ".8", "256.1", "+4.8"] {
            assert_eq!(kernel_version(bad), None, "{bad}");
        }
    }
}
