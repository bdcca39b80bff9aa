//! Compiling a seccomp profile (`crate::seccomp::Profile`) into BPF for the
//! container's effective capabilities, and installing it.
//!
//! A profile becomes one filter (`bpf`): per syscall the rules of every
//! group that applies to the container's capabilities, kernel and
//! architecture, strictest action first, so a syscall gets the action of
//! the strictest group that matches it; everything else the default.

mod bpf;

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};
use syscalls::Sysno;

use crate::seccomp::{kernel_version, Action, Arg, Op, Profile, Syscalls};
use bpf::{Cmp, Cond};

/// Why a profile cannot become a program, or a program cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("seccomp filters are not supported on {0}; stack builds them for x86_64, aarch64 and riscv64")]
    UnsupportedArch(&'static str),
    #[error("cannot read the kernel version from its release {0:?}")]
    KernelRelease(String),
    #[error(
        "invalid minKernel {0:?} in the seccomp profile; use \"<kernel>.<major>\" like \"4.8\""
    )]
    MinKernel(String),
    #[error(
        "SCMP_ACT_NOTIFY is not supported: stack runs no seccomp agent to answer notifications"
    )]
    Notify,
    #[error("the seccomp profile makes {len} BPF instructions, over the kernel's 4096 per filter; use fewer argument conditions")]
    TooLarge { len: usize },
    #[error("argument index {0} in the seccomp profile is out of range (syscalls have arguments 0 to 5)")]
    ArgIndex(u32),
    #[error("invalid seccomp program: filter {filter} {problem}")]
    BadProgram { filter: usize, problem: String },
}

use bpf::MAX_INSTRUCTIONS;

/// A compiled program: one or more classic-BPF filters, installed in order.
/// Plain data (crosses a JSON channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeccompProgram {
    /// Each `sock_filter` packed into a u64: code | jt<<16 | jf<<24 | k<<32.
    pub filters: Vec<Vec<u64>>,
}

/// The program as the kernel's `sock_filter` arrays, made before fork
/// (allocates).
#[derive(Debug)]
pub struct Loaded {
    filters: Vec<Vec<libc::sock_filter>>,
}

fn pack(i: &libc::sock_filter) -> u64 {
    u64::from(i.code) | u64::from(i.jt) << 16 | u64::from(i.jf) << 24 | u64::from(i.k) << 32
}

fn unpack(w: u64) -> libc::sock_filter {
    libc::sock_filter {
        code: w as u16,
        jt: (w >> 16) as u8,
        jf: (w >> 24) as u8,
        k: (w >> 32) as u32,
    }
}

impl SeccompProgram {
    pub fn load(&self) -> Loaded {
        Loaded {
            filters: self
                .filters
                .iter()
                .map(|f| f.iter().copied().map(unpack).collect())
                .collect(),
        }
    }

    /// One command-line argument: each filter as 16 hex digits per
    /// instruction, filters separated by commas.
    pub fn to_hex(&self) -> String {
        let len = self.filters.iter().map(|f| f.len() * 16 + 1).sum();
        let mut out = String::with_capacity(len);
        for (i, f) in self.filters.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            for w in f {
                let _ = write!(out, "{w:016x}");
            }
        }
        out
    }

    pub fn from_hex(s: &str) -> Result<SeccompProgram, SeccompError> {
        if s.is_empty() {
            return Ok(SeccompProgram {
                filters: Vec::new(),
            });
        }
        let bad = |filter: usize, problem: String| SeccompError::BadProgram { filter, problem };
        let mut filters = Vec::new();
        for (i, part) in s.split(',').enumerate() {
            let bytes = hex::decode(part).map_err(|e| {
                let why = match e {
                    hex::FromHexError::InvalidHexCharacter { c, index } => {
                        format!("has {c:?} at {index}, not a hex digit")
                    }
                    _ => "has an odd number of hex digits".to_string(),
                };
                bad(i, why)
            })?;
            if bytes.len() % 8 != 0 {
                return Err(bad(
                    i,
                    format!("has {} bytes, not whole instructions", bytes.len()),
                ));
            }
            let n = bytes.len() / 8;
            if n == 0 || n > MAX_INSTRUCTIONS {
                return Err(bad(
                    i,
                    format!("has {n} instructions; the kernel takes 1 to 4096"),
                ));
            }
            let words = bytes
                .chunks_exact(8)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(c);
                    u64::from_be_bytes(b)
                })
                .collect();
            filters.push(words);
        }
        Ok(SeccompProgram { filters })
    }
}

impl Loaded {
    /// Install every filter with seccomp(SECCOMP_SET_MODE_FILTER, 0, …).
    /// Raw syscalls only, no allocation: it runs between fork and exec.
    /// Needs no_new_privs or CAP_SYS_ADMIN. Returns the errno on failure.
    ///
    /// The filters apply to the syscalls that follow, `execve` included:
    /// install last, right before exec.
    pub fn install(&self) -> Result<(), i32> {
        for f in &self.filters {
            let Ok(len) = u16::try_from(f.len()) else {
                return Err(libc::EINVAL);
            };
            let prog = libc::sock_fprog {
                len,
                filter: f.as_ptr().cast_mut(),
            };
            // SAFETY: `prog` points at `len` instructions of `f`, both alive
            // across the call; the kernel copies the program and never
            // writes through the pointer.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::c_ulong::from(libc::SECCOMP_SET_MODE_FILTER),
                    0 as libc::c_ulong,
                    &prog as *const libc::sock_fprog,
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EINVAL));
            }
        }
        Ok(())
    }
}

/// An action as the kernel ranks them: derive(Ord) puts the least
/// permissive first (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > TRACE >
/// LOG > ALLOW).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Act {
    KillProcess,
    KillThread,
    Trap,
    Errno(u16),
    Trace(u16),
    Log,
    Allow,
}

impl Act {
    /// As runc resolves them: errno and trace message default to EPERM.
    fn of(action: Action, errno_ret: Option<u32>) -> Result<Act, SeccompError> {
        // SECCOMP_RET_DATA holds 16 bits, and the kernel caps an errno at
        // 4095 anyway.
        let data = errno_ret.map_or(libc::EPERM as u16, |n| n.min(0xffff) as u16);
        Ok(match action {
            Action::Allow => Act::Allow,
            Action::Errno => Act::Errno(data),
            Action::Kill | Action::KillThread => Act::KillThread,
            Action::KillProcess => Act::KillProcess,
            Action::Trap => Act::Trap,
            Action::Log => Act::Log,
            Action::Trace => Act::Trace(data),
            Action::Notify => return Err(SeccompError::Notify),
        })
    }

    /// The filter's return value (`SECCOMP_RET_*` and its data).
    fn ret(self) -> u32 {
        match self {
            Act::KillProcess => libc::SECCOMP_RET_KILL_PROCESS,
            Act::KillThread => libc::SECCOMP_RET_KILL_THREAD,
            Act::Trap => libc::SECCOMP_RET_TRAP,
            Act::Errno(n) => libc::SECCOMP_RET_ERRNO | u32::from(n),
            Act::Trace(n) => libc::SECCOMP_RET_TRACE | u32::from(n),
            Act::Log => libc::SECCOMP_RET_LOG,
            Act::Allow => libc::SECCOMP_RET_ALLOW,
        }
    }
}

/// What `compile` needs to know of the machine.
#[derive(Debug, Clone)]
struct Host {
    /// `AUDIT_ARCH_*` of this architecture, as `seccomp_data.arch` has it.
    audit_arch: u32,
    /// Whether syscall numbers with the x32 bit exist (x86_64).
    x32: bool,
    /// The names profiles use for this architecture (`includes.arches`).
    arch_names: &'static [&'static str],
    /// Version and major revision of the running kernel.
    kernel: (u64, u64),
}

impl Host {
    fn current() -> Result<Host, SeccompError> {
        // linux/audit.h: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
        let (audit_arch, x32, arch_names): (u32, bool, &'static [&'static str]) =
            match std::env::consts::ARCH {
                "x86_64" => (0xC000_003E, true, &["amd64", "x86_64", "SCMP_ARCH_X86_64"]),
                "aarch64" => (
                    0xC000_00B7,
                    false,
                    &["arm64", "aarch64", "SCMP_ARCH_AARCH64"],
                ),
                "riscv64" => (0xC000_00F3, false, &["riscv64", "SCMP_ARCH_RISCV64"]),
                other => return Err(SeccompError::UnsupportedArch(other)),
            };
        let release = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        let kernel = release_version(&release).ok_or(SeccompError::KernelRelease(release))?;
        Ok(Host {
            audit_arch,
            x32,
            arch_names,
            kernel,
        })
    }
}

/// The version and major revision at the start of a release such as
/// "6.1.0-18-amd64" or "3.12-rc5", as Docker reads it.
fn release_version(release: &str) -> Option<(u64, u64)> {
    let (kernel, rest) = release.split_once('.')?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    Some((kernel.parse().ok()?, rest[..end].parse().ok()?))
}

fn min_kernel(text: &str) -> Result<(u64, u64), SeccompError> {
    kernel_version(text)
        .map(|(k, m)| (k.into(), m.into()))
        .ok_or_else(|| SeccompError::MinKernel(text.into()))
}

/// "sys_admin", "CAP_SYS_ADMIN" and "cap_sys_admin" are one capability.
fn cap_name(c: &str) -> String {
    let up = c.to_ascii_uppercase();
    if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

fn normal_caps(caps: &[String]) -> Vec<String> {
    let mut v: Vec<String> = caps.iter().map(|c| cap_name(c)).collect();
    v.sort();
    v.dedup();
    v
}

/// Whether a group applies to this container on this host, as moby's
/// loader decides.
fn applies(g: &Syscalls, caps: &[String], host: &Host) -> Result<bool, SeccompError> {
    let has = |c: &String| caps.binary_search(&cap_name(c)).is_ok();
    let here = |a: &String| host.arch_names.contains(&a.as_str());
    let (inc, exc) = (&g.includes, &g.excludes);
    if exc.arches.iter().any(here) || exc.caps.iter().any(has) {
        return Ok(false);
    }
    if let Some(v) = &exc.min_kernel {
        if host.kernel >= min_kernel(v)? {
            return Ok(false);
        }
    }
    if !inc.arches.is_empty() && !inc.arches.iter().any(here) {
        return Ok(false);
    }
    if !inc.caps.iter().all(has) {
        return Ok(false);
    }
    if let Some(v) = &inc.min_kernel {
        if host.kernel < min_kernel(v)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One argument condition, or `None` if it can never hold.
fn condition(arg: &Arg) -> Result<Option<Cond>, SeccompError> {
    let index = match u8::try_from(arg.index) {
        Ok(i) if i <= 5 => i,
        _ => return Err(SeccompError::ArgIndex(arg.index)),
    };
    let (cmp, value) = match arg.op {
        Op::NotEqual => (Cmp::Ne, arg.value),
        Op::LessThan => (Cmp::Lt, arg.value),
        Op::LessEqual => (Cmp::Le, arg.value),
        Op::EqualTo => (Cmp::Eq, arg.value),
        Op::GreaterEqual => (Cmp::Ge, arg.value),
        Op::GreaterThan => (Cmp::Gt, arg.value),
        Op::MaskedEqual => {
            // As libseccomp: bits of the expected value outside the mask
            // make the condition impossible.
            if arg.value_two & !arg.value != 0 {
                return Ok(None);
            }
            (Cmp::MaskedEq(arg.value), arg.value_two)
        }
    };
    Ok(Some(Cond { index, cmp, value }))
}

/// A group's argument conditions as alternatives (ORed), each a
/// conjunction; `None` when the group has no conditions.
type Alternatives = Option<Vec<Vec<Cond>>>;

/// As runc: conditions are ANDed, unless two share an argument index; then
/// runc adds each as a rule of its own, so they are ORed.
fn alternatives(args: &[Arg]) -> Result<Alternatives, SeccompError> {
    if args.is_empty() {
        return Ok(None);
    }
    let repeated = args
        .iter()
        .enumerate()
        .any(|(i, a)| args[..i].iter().any(|b| b.index == a.index));
    let mut conds = Vec::with_capacity(args.len());
    for a in args {
        match condition(a)? {
            Some(c) => conds.push(c),
            None if repeated => {}
            None => return Ok(Some(Vec::new())),
        }
    }
    Ok(Some(if repeated {
        conds.into_iter().map(|c| vec![c]).collect()
    } else {
        vec![conds]
    }))
}

/// Compile for a container whose effective capabilities are `caps` (names
/// like "CAP_SYS_ADMIN", the container's bounding set) on this machine's
/// arch and kernel.
///
/// Syscall names this architecture lacks are skipped, as libseccomp does.
/// Only the native architecture is filtered (`architectures` and `archMap`
/// are not consulted): a syscall made through another ABI (32-bit x86 on
/// x86_64) kills the process.
pub fn compile(profile: &Profile, caps: &[String]) -> Result<SeccompProgram, SeccompError> {
    compile_on(profile, &normal_caps(caps), &Host::current()?)
}

/// `compile` with normalised, sorted `caps`, for `host`.
fn compile_on(
    profile: &Profile,
    caps: &[String],
    host: &Host,
) -> Result<SeccompProgram, SeccompError> {
    let default = Act::of(profile.default_action, profile.default_errno_ret)?;
    // Per syscall number: (action, conditions), gathered over every group.
    let mut rules: BTreeMap<u32, Vec<(Act, Vec<Cond>)>> = BTreeMap::new();
    for g in &profile.syscalls {
        if !applies(g, caps, host)? {
            continue;
        }
        let act = Act::of(g.action, g.errno_ret)?;
        // As runc: a rule repeating the default action changes nothing.
        if act == default {
            continue;
        }
        let alts = match alternatives(&g.args)? {
            None => vec![Vec::new()],
            // A group whose conditions can never hold adds nothing.
            Some(alts) => alts,
        };
        for name in g.all_names() {
            let Ok(sysno) = Sysno::from_str(name) else {
                continue;
            };
            let list = rules.entry(sysno.id() as u32).or_default();
            for a in &alts {
                let rule = (act, a.clone());
                if !list.contains(&rule) {
                    list.push(rule);
                }
            }
        }
    }
    // The strictest action first: the first rule that matches wins.
    let table: BTreeMap<u32, Vec<bpf::Rule>> = rules
        .into_iter()
        .map(|(nr, mut list)| {
            list.sort_by_key(|(act, _)| *act);
            let list = list
                .into_iter()
                .map(|(act, conds)| bpf::Rule {
                    ret: act.ret(),
                    conds,
                })
                .collect();
            (nr, list)
        })
        .collect();
    // Nothing to refuse: no filter at all (not even the arch check).
    if default == Act::Allow && table.is_empty() {
        return Ok(SeccompProgram {
            filters: Vec::new(),
        });
    }
    let filter = bpf::emit(host.audit_arch, host.x32, default.ret(), &table)
        .map_err(|bpf::TooLarge(len)| SeccompError::TooLarge { len })?;
    Ok(SeccompProgram {
        filters: vec![filter.iter().map(pack).collect()],
    })
}

/// A compiled program, with what it was compiled from.
type CacheEntry = (Profile, Vec<String>, Arc<SeccompProgram>);

/// More distinct (profile, caps) pairs than any stack has; past it the
/// cache starts over, so edited profiles cannot grow it without bound.
const CACHE_LIMIT: usize = 256;

/// `compile`, memoised per distinct (profile, caps) in this process: the
/// supervisor compiles once per profile and capability set.
pub fn compile_cached(
    profile: &Profile,
    caps: &[String],
) -> Result<Arc<SeccompProgram>, SeccompError> {
    // Keyed by hash, so a hit clones nothing; entries are compared whole.
    static CACHE: OnceLock<Mutex<HashMap<u64, Vec<CacheEntry>>>> = OnceLock::new();
    let caps = normal_caps(caps);
    let mut h = DefaultHasher::new();
    (profile, &caps).hash(&mut h);
    let key = h.finish();
    // Entries are inserted whole, so a poisoned map is still consistent.
    let mut map = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(bucket) = map.get(&key) {
        if let Some((_, _, program)) = bucket.iter().find(|e| e.0 == *profile && e.1 == caps) {
            return Ok(Arc::clone(program));
        }
    }
    let program = Arc::new(compile_on(profile, &caps, &Host::current()?)?);
    if map.len() >= CACHE_LIMIT {
        map.clear();
    }
    map.entry(key)
        .or_default()
        .push((profile.clone(), caps, Arc::clone(&program)));
    Ok(program)
}

#[cfg(test)]
mod tests;
