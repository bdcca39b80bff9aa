//! Compiling a seccomp profile (`crate::seccomp::Profile`) into BPF for the
//! container's effective capabilities, and installing it.
//!
//! seccompiler builds filters with a single match action each, so a
//! profile becomes one filter per action. The first (the gate) returns the
//! default action for everything no group names and allows the rest; each
//! further filter returns its action for its own rules and allows the rest.
//! The kernel runs every filter and takes the least permissive answer, so
//! each syscall gets the action of the strictest group that matches it.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::io;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use seccompiler::{
    BackendError, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};
use serde::{Deserialize, Serialize};
use syscalls::Sysno;

use crate::seccomp::{kernel_version, Action, Arg, Op, Profile, Syscalls};

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
    #[error("the seccomp profile's {action} rules make {len} BPF instructions, over the kernel's 4096 per filter; use fewer argument conditions")]
    TooLarge { action: String, len: usize },
    #[error("argument index {0} in the seccomp profile is out of range (syscalls have arguments 0 to 5)")]
    ArgIndex(u32),
    #[error("cannot compile the seccomp profile: {0}")]
    Backend(BackendError),
    #[error("invalid seccomp program: filter {filter} {problem}")]
    BadProgram { filter: usize, problem: String },
}

/// The kernel's limit on one filter (BPF_MAXINSNS).
const MAX_INSTRUCTIONS: usize = 4096;

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

fn pack(i: &seccompiler::sock_filter) -> u64 {
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

    /// For messages: the profile's spelling.
    fn label(self) -> String {
        match self {
            Act::KillProcess => "SCMP_ACT_KILL_PROCESS".into(),
            Act::KillThread => "SCMP_ACT_KILL_THREAD".into(),
            Act::Trap => "SCMP_ACT_TRAP".into(),
            Act::Errno(n) => format!("SCMP_ACT_ERRNO {n}"),
            Act::Trace(n) => format!("SCMP_ACT_TRACE {n}"),
            Act::Log => "SCMP_ACT_LOG".into(),
            Act::Allow => "SCMP_ACT_ALLOW".into(),
        }
    }

    fn backend(self) -> SeccompAction {
        match self {
            Act::KillProcess => SeccompAction::KillProcess,
            Act::KillThread => SeccompAction::KillThread,
            Act::Trap => SeccompAction::Trap,
            Act::Errno(n) => SeccompAction::Errno(n.into()),
            Act::Trace(n) => SeccompAction::Trace(n.into()),
            Act::Log => SeccompAction::Log,
            Act::Allow => SeccompAction::Allow,
        }
    }
}

/// What `compile` needs to know of the machine.
#[derive(Debug, Clone)]
struct Host {
    arch: TargetArch,
    /// The names profiles use for this architecture (`includes.arches`).
    arch_names: &'static [&'static str],
    /// Version and major revision of the running kernel.
    kernel: (u64, u64),
}

impl Host {
    fn current() -> Result<Host, SeccompError> {
        let (arch, arch_names): (_, &'static [&'static str]) = match std::env::consts::ARCH {
            "x86_64" => (TargetArch::x86_64, &["amd64", "x86_64", "SCMP_ARCH_X86_64"]),
            "aarch64" => (
                TargetArch::aarch64,
                &["arm64", "aarch64", "SCMP_ARCH_AARCH64"],
            ),
            "riscv64" => (TargetArch::riscv64, &["riscv64", "SCMP_ARCH_RISCV64"]),
            other => return Err(SeccompError::UnsupportedArch(other)),
        };
        let release = nix::sys::utsname::uname()
            .map(|u| u.release().to_string_lossy().into_owned())
            .unwrap_or_default();
        let kernel = release_version(&release).ok_or(SeccompError::KernelRelease(release))?;
        Ok(Host {
            arch,
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
fn condition(arg: &Arg) -> Result<Option<SeccompCondition>, SeccompError> {
    let op = match arg.op {
        Op::NotEqual => SeccompCmpOp::Ne,
        Op::LessThan => SeccompCmpOp::Lt,
        Op::LessEqual => SeccompCmpOp::Le,
        Op::EqualTo => SeccompCmpOp::Eq,
        Op::GreaterEqual => SeccompCmpOp::Ge,
        Op::GreaterThan => SeccompCmpOp::Gt,
        Op::MaskedEqual => {
            // seccompiler masks the expected value too, libseccomp does
            // not: bits outside the mask make the condition impossible.
            if arg.value_two & !arg.value != 0 {
                return Ok(None);
            }
            SeccompCmpOp::MaskedEq(arg.value)
        }
    };
    let datum = match arg.op {
        Op::MaskedEqual => arg.value_two,
        _ => arg.value,
    };
    let index = match u8::try_from(arg.index) {
        Ok(i) if i <= 5 => i,
        _ => return Err(SeccompError::ArgIndex(arg.index)),
    };
    SeccompCondition::new(index, SeccompCmpArgLen::Qword, op, datum)
        .map(Some)
        .map_err(SeccompError::Backend)
}

/// A group's argument conditions as alternatives (ORed), each a
/// conjunction; `None` when the group has no conditions.
type Alternatives = Option<Vec<Vec<SeccompCondition>>>;

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

/// The rules of one filter: per syscall number, `None` to match whatever
/// the arguments, or the alternatives that match.
#[derive(Default)]
struct Table(BTreeMap<i64, Option<Vec<Vec<SeccompCondition>>>>);

impl Table {
    fn add(&mut self, nr: i64, alts: &Alternatives) {
        match alts {
            None => {
                self.0.insert(nr, None);
            }
            // A group that can never match adds nothing (an empty rule list
            // would mean "any arguments" to seccompiler).
            Some(alts) if alts.is_empty() => {}
            Some(alts) => {
                if let Some(list) = self.0.entry(nr).or_insert_with(|| Some(Vec::new())) {
                    for a in alts {
                        if !list.contains(a) {
                            list.push(a.clone());
                        }
                    }
                }
            }
        }
    }

    fn build(
        self,
        mismatch: Act,
        matched: Act,
        arch: TargetArch,
    ) -> Result<Vec<u64>, SeccompError> {
        let mut rules = BTreeMap::new();
        for (nr, alts) in self.0 {
            let list = alts
                .unwrap_or_default()
                .into_iter()
                .map(SeccompRule::new)
                .collect::<Result<Vec<_>, _>>()
                .map_err(SeccompError::Backend)?;
            rules.insert(nr, list);
        }
        let filter = SeccompFilter::new(rules, mismatch.backend(), matched.backend(), arch)
            .map_err(SeccompError::Backend)?;
        let bpf = BpfProgram::try_from(filter).map_err(|e| match e {
            BackendError::FilterTooLarge(len) => SeccompError::TooLarge {
                action: matched.label(),
                len,
            },
            e => SeccompError::Backend(e),
        })?;
        Ok(bpf.iter().map(pack).collect())
    }
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
    let mut gate = Table::default();
    let mut others: BTreeMap<Act, Table> = BTreeMap::new();
    for g in &profile.syscalls {
        if !applies(g, caps, host)? {
            continue;
        }
        let act = Act::of(g.action, g.errno_ret)?;
        // As runc: a rule repeating the default action changes nothing.
        if act == default {
            continue;
        }
        let alts = alternatives(&g.args)?;
        for name in g.all_names() {
            let Ok(sysno) = Sysno::from_str(name) else {
                continue;
            };
            let nr = i64::from(sysno.id());
            // Every rule passes the gate, so its own filter decides.
            if default != Act::Allow {
                gate.add(nr, &alts);
            }
            if act != Act::Allow {
                others.entry(act).or_default().add(nr, &alts);
            }
        }
    }
    let mut filters = Vec::new();
    // A deny-list (default ALLOW) needs no gate: it would allow everything.
    if default != Act::Allow {
        filters.push(gate.build(default, Act::Allow, host.arch)?);
    }
    for (act, table) in others {
        if !table.0.is_empty() {
            filters.push(table.build(Act::Allow, act, host.arch)?);
        }
    }
    Ok(SeccompProgram { filters })
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
mod tests {
    use super::*;
    use crate::seccomp::{default_profile, parse, Filter};

    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
    const KILL_PROCESS: u32 = libc::SECCOMP_RET_KILL_PROCESS;

    fn errno(n: i32) -> u32 {
        libc::SECCOMP_RET_ERRNO | n as u32
    }

    #[cfg(target_arch = "x86_64")]
    const NATIVE: u32 = 0xC000_003E;
    #[cfg(target_arch = "aarch64")]
    const NATIVE: u32 = 0xC000_00B7;
    #[cfg(target_arch = "riscv64")]
    const NATIVE: u32 = 0xC000_00F3;
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;

    fn names(caps: &[&str]) -> Vec<String> {
        caps.iter().map(|c| c.to_string()).collect()
    }

    fn docker_caps() -> Vec<String> {
        names(crate::caps::DOCKER_DEFAULT)
    }

    /// `struct seccomp_data` as the kernel lays it out.
    fn data(arch: u32, nr: Sysno, args: &[u64]) -> [u8; 64] {
        let mut d = [0u8; 64];
        d[0..4].copy_from_slice(&nr.id().to_le_bytes());
        d[4..8].copy_from_slice(&arch.to_le_bytes());
        for (i, a) in args.iter().enumerate() {
            d[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        d
    }

    /// Classic BPF, the instructions seccompiler emits.
    fn run_filter(filter: &[u64], d: &[u8; 64]) -> u32 {
        let (mut a, mut pc) = (0u32, 0usize);
        loop {
            let i = unpack(filter[pc]);
            pc += 1;
            let (k, jt, jf) = (i.k, usize::from(i.jt), usize::from(i.jf));
            let jump = |cond: bool| if cond { jt } else { jf };
            match i.code {
                // LD | W | ABS
                0x20 => {
                    let o = k as usize;
                    a = u32::from_le_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]]);
                }
                // ALU | AND | K
                0x54 => a &= k,
                // JMP | JA
                0x05 => pc += k as usize,
                0x15 => pc += jump(a == k),
                0x25 => pc += jump(a > k),
                0x35 => pc += jump(a >= k),
                0x45 => pc += jump(a & k != 0),
                // RET | K
                0x06 => return k,
                code => panic!("instruction {code:#x} at {}", pc - 1),
            }
        }
    }

    /// As the kernel: every filter runs, newest first, and the least
    /// permissive action wins (the first one met among equals).
    fn run(p: &SeccompProgram, d: &[u8; 64]) -> u32 {
        let rank = |r: u32| (r & libc::SECCOMP_RET_ACTION_FULL) as i32;
        let mut ret = ALLOW;
        for f in p.filters.iter().rev() {
            let cur = run_filter(f, d);
            if rank(cur) < rank(ret) {
                ret = cur;
            }
        }
        ret
    }

    fn call(p: &SeccompProgram, nr: Sysno, args: &[u64]) -> u32 {
        run(p, &data(NATIVE, nr, args))
    }

    fn host(kernel: (u64, u64)) -> Host {
        Host {
            kernel,
            ..Host::current().unwrap()
        }
    }

    #[test]
    fn default_program_for_docker_caps() {
        let p = compile(default_profile(), &docker_caps()).unwrap();
        assert_eq!(p.filters.len(), 2, "the allow-list and clone3's ENOSYS");
        let eperm = errno(libc::EPERM);
        for nr in [Sysno::read, Sysno::write, Sysno::execve, Sysno::getpid] {
            assert_eq!(call(&p, nr, &[]), ALLOW, "{nr}");
        }
        for nr in [
            Sysno::unshare,
            Sysno::mount,
            Sysno::keyctl,
            Sysno::add_key,
            Sysno::request_key,
            Sysno::perf_event_open,
            Sysno::userfaultfd,
            Sysno::io_uring_setup,
            Sysno::io_uring_enter,
            Sysno::io_uring_register,
            Sysno::kexec_load,
            Sysno::reboot,
            Sysno::open_by_handle_at,
            Sysno::setns,
            Sysno::bpf,
            Sysno::init_module,
            Sysno::swapon,
            Sysno::clock_settime,
            Sysno::acct,
            Sysno::pivot_root,
        ] {
            assert_eq!(call(&p, nr, &[]), eperm, "{nr}");
        }
        // CAP_SYS_CHROOT is one of Docker's defaults.
        assert_eq!(call(&p, Sysno::chroot, &[]), ALLOW);
        let newuser = libc::CLONE_NEWUSER as u64;
        let plain = (libc::SIGCHLD | libc::CLONE_VM) as u64;
        assert_eq!(call(&p, Sysno::clone, &[newuser | plain]), eperm);
        assert_eq!(call(&p, Sysno::clone, &[libc::CLONE_NEWNS as u64]), eperm);
        assert_eq!(call(&p, Sysno::clone, &[plain]), ALLOW);
        assert_eq!(call(&p, Sysno::clone3, &[0, 88]), errno(libc::ENOSYS));
        assert_eq!(call(&p, Sysno::personality, &[0x40_0000]), eperm);
        for ok in [0, 8, 0x20000, 0x20008, 0xffff_ffff] {
            assert_eq!(call(&p, Sysno::personality, &[ok]), ALLOW, "{ok:#x}");
        }
        // The upper half counts: not 0xffffffff.
        assert_eq!(call(&p, Sysno::personality, &[0x1_ffff_ffff]), eperm);
        for denied in [libc::AF_VSOCK, libc::AF_ALG] {
            assert_eq!(call(&p, Sysno::socket, &[denied as u64]), eperm);
        }
        for family in [libc::AF_UNIX, libc::AF_INET, libc::AF_INET6, 39, 41] {
            assert_eq!(call(&p, Sysno::socket, &[family as u64]), ALLOW);
        }
        // Other ABIs (32-bit x86 on x86_64) are not filtered, so refused.
        assert_eq!(
            run(&p, &data(AUDIT_ARCH_I386, Sysno::read, &[])),
            KILL_PROCESS
        );
        // x32 syscall numbers carry bit 30 and match nothing.
        let mut x32 = data(NATIVE, Sysno::read, &[]);
        x32[0..4].copy_from_slice(&(0x4000_0000 | Sysno::read.id()).to_le_bytes());
        assert_eq!(run(&p, &x32), eperm);
    }

    #[test]
    fn capabilities_open_their_syscalls() {
        let mut caps = docker_caps();
        caps.push("CAP_SYS_ADMIN".into());
        let p = compile(default_profile(), &caps).unwrap();
        assert_eq!(p.filters.len(), 1, "clone3 is allowed, no ENOSYS filter");
        for nr in [Sysno::unshare, Sysno::mount, Sysno::setns, Sysno::clone3] {
            assert_eq!(call(&p, nr, &[]), ALLOW, "{nr}");
        }
        assert_eq!(call(&p, Sysno::clone, &[libc::CLONE_NEWUSER as u64]), ALLOW);
        assert_eq!(call(&p, Sysno::keyctl, &[]), errno(libc::EPERM));

        let all = compile(default_profile(), &names(crate::caps::ALL)).unwrap();
        assert_eq!(all.filters.len(), 1);
        for nr in [
            Sysno::clone3,
            Sysno::reboot,
            Sysno::open_by_handle_at,
            Sysno::init_module,
            Sysno::settimeofday,
            Sysno::bpf,
            Sysno::perf_event_open,
            Sysno::kcmp,
            Sysno::acct,
            Sysno::vhangup,
            Sysno::mbind,
            Sysno::syslog,
        ] {
            assert_eq!(call(&all, nr, &[]), ALLOW, "{nr}");
        }
        // No capability allows these in Docker's profile.
        for nr in [Sysno::keyctl, Sysno::io_uring_setup, Sysno::kexec_load] {
            assert_eq!(call(&all, nr, &[]), errno(libc::EPERM), "{nr}");
        }
        // Names are compared as capabilities, whatever their spelling.
        let short = compile(default_profile(), &names(&["sys_admin"])).unwrap();
        assert_eq!(call(&short, Sysno::unshare, &[]), ALLOW);
    }

    #[test]
    fn kernel_and_arch_conditions() {
        let caps = normal_caps(&docker_caps());
        let old = compile_on(default_profile(), &caps, &host((4, 4))).unwrap();
        assert_eq!(call(&old, Sysno::ptrace, &[]), errno(libc::EPERM));
        let new = compile_on(default_profile(), &caps, &host((4, 8))).unwrap();
        assert_eq!(call(&new, Sysno::ptrace, &[]), ALLOW);
        let excluded = Profile {
            syscalls: vec![Syscalls {
                excludes: Filter {
                    min_kernel: Some("5.0".into()),
                    ..Filter::default()
                },
                ..group(Action::Allow, "read")
            }],
            ..deny_all()
        };
        let p = compile_on(&excluded, &caps, &host((4, 19))).unwrap();
        assert_eq!(call(&p, Sysno::read, &[]), ALLOW);
        let p = compile_on(&excluded, &caps, &host((5, 0))).unwrap();
        assert_eq!(call(&p, Sysno::read, &[]), errno(libc::EPERM));
        assert_eq!(release_version("6.1.0-18-amd64"), Some((6, 1)));
        assert_eq!(release_version("3.12-rc5"), Some((3, 12)));
        assert_eq!(release_version("6"), None);
        #[cfg(target_arch = "x86_64")]
        {
            let p = compile(default_profile(), &caps).unwrap();
            assert_eq!(call(&p, Sysno::arch_prctl, &[]), ALLOW);
            assert_eq!(call(&p, Sysno::modify_ldt, &[]), ALLOW);
        }
    }

    fn deny_all() -> Profile {
        Profile {
            default_action: Action::Errno,
            default_errno_ret: None,
            architectures: Vec::new(),
            arch_map: Vec::new(),
            syscalls: Vec::new(),
            flags: Vec::new(),
        }
    }

    fn group(action: Action, names: &str) -> Syscalls {
        Syscalls {
            names: names.split_whitespace().map(String::from).collect(),
            name: None,
            action,
            errno_ret: None,
            args: Vec::new(),
            includes: Filter::default(),
            excludes: Filter::default(),
            comment: None,
        }
    }

    fn arg(index: u32, op: Op, value: u64, value_two: u64) -> Arg {
        Arg {
            index,
            value,
            value_two,
            op,
        }
    }

    #[test]
    fn least_permissive_filter_wins() {
        // Each action gets a filter of its own; all of them match getpid.
        let order = [
            Action::KillProcess,
            Action::KillThread,
            Action::Trap,
            Action::Errno,
            Action::Trace,
            Action::Log,
        ];
        let want = [
            libc::SECCOMP_RET_KILL_PROCESS,
            libc::SECCOMP_RET_KILL_THREAD,
            libc::SECCOMP_RET_TRAP,
            errno(libc::EPERM),
            libc::SECCOMP_RET_TRACE | libc::EPERM as u32,
            libc::SECCOMP_RET_LOG,
        ];
        for start in 0..order.len() {
            let syscalls = order[start..]
                .iter()
                .rev()
                .map(|a| group(*a, "getpid"))
                .collect::<Vec<_>>();
            let profile = Profile {
                default_action: Action::Allow,
                syscalls,
                ..deny_all()
            };
            let p = compile(&profile, &[]).unwrap();
            assert_eq!(p.filters.len(), order.len() - start);
            assert_eq!(
                call(&p, Sysno::getpid, &[]),
                want[start],
                "{:?}",
                order[start]
            );
            assert_eq!(call(&p, Sysno::getppid, &[]), ALLOW);
        }
        assert!(Act::KillProcess < Act::KillThread && Act::Errno(1) < Act::Trace(1));
        assert!(Act::Trace(1) < Act::Log && Act::Log < Act::Allow);
    }

    #[test]
    fn deny_lists_and_other_actions() {
        let profile = Profile {
            default_action: Action::Allow,
            syscalls: vec![
                Syscalls {
                    errno_ret: Some(libc::EACCES as u32),
                    ..group(Action::Errno, "mount umount2 no_such_syscall")
                },
                // Repeats the default: changes nothing.
                group(Action::Allow, "read"),
            ],
            ..deny_all()
        };
        let p = compile(&profile, &[]).unwrap();
        assert_eq!(p.filters.len(), 1);
        assert_eq!(call(&p, Sysno::mount, &[]), errno(libc::EACCES));
        assert_eq!(call(&p, Sysno::read, &[]), ALLOW);
        assert_eq!(call(&p, Sysno::unshare, &[]), ALLOW);

        // An allow-list whose errno rules pass the gate.
        let profile = Profile {
            default_errno_ret: Some(libc::ENOSYS as u32),
            syscalls: vec![
                group(Action::Allow, "read write"),
                Syscalls {
                    args: vec![arg(0, Op::EqualTo, 1, 0)],
                    errno_ret: Some(libc::EBADF as u32),
                    ..group(Action::Errno, "write")
                },
                group(Action::KillProcess, "kill"),
            ],
            ..deny_all()
        };
        let p = compile(&profile, &[]).unwrap();
        assert_eq!(p.filters.len(), 3);
        assert_eq!(call(&p, Sysno::write, &[1]), errno(libc::EBADF));
        assert_eq!(call(&p, Sysno::write, &[2]), ALLOW);
        assert_eq!(call(&p, Sysno::kill, &[]), KILL_PROCESS);
        assert_eq!(call(&p, Sysno::getpid, &[]), errno(libc::ENOSYS));

        // A file in Docker's form, with the old one-name groups.
        let profile = parse(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"name": "mount", "action": "SCMP_ACT_ERRNO"},
                {"name": "ptrace", "action": "SCMP_ACT_KILL"}]}"#,
        )
        .unwrap();
        let p = compile(&profile, &[]).unwrap();
        assert_eq!(call(&p, Sysno::mount, &[]), errno(libc::EPERM));
        assert_eq!(call(&p, Sysno::ptrace, &[]), libc::SECCOMP_RET_KILL_THREAD);
        assert_eq!(call(&p, Sysno::read, &[]), ALLOW);

        // Nothing listed: everything gets the default.
        let p = compile(&deny_all(), &[]).unwrap();
        assert_eq!(p.filters.len(), 1);
        assert_eq!(call(&p, Sysno::read, &[]), errno(libc::EPERM));
        let allow_all = Profile {
            default_action: Action::Allow,
            ..deny_all()
        };
        assert!(compile(&allow_all, &[]).unwrap().filters.is_empty());
    }

    #[test]
    fn argument_conditions() {
        let profile = Profile {
            syscalls: vec![
                // Different indexes: ANDed.
                Syscalls {
                    args: vec![arg(0, Op::GreaterEqual, 10, 0), arg(1, Op::NotEqual, 0, 0)],
                    ..group(Action::Allow, "read")
                },
                // The same index twice: ORed, as runc does.
                Syscalls {
                    args: vec![arg(0, Op::EqualTo, 3, 0), arg(0, Op::EqualTo, 5, 0)],
                    ..group(Action::Allow, "write")
                },
                Syscalls {
                    args: vec![arg(2, Op::MaskedEqual, 0xf0, 0x30)],
                    ..group(Action::Allow, "lseek")
                },
                // Can never hold: value_two has bits outside the mask.
                Syscalls {
                    args: vec![arg(0, Op::MaskedEqual, 0xf0, 0x31)],
                    ..group(Action::Allow, "close")
                },
                Syscalls {
                    args: vec![arg(0, Op::LessThan, 1 << 33, 0)],
                    ..group(Action::Allow, "dup")
                },
                Syscalls {
                    args: vec![arg(0, Op::LessEqual, 7, 0), arg(1, Op::GreaterThan, 7, 0)],
                    ..group(Action::Allow, "dup2")
                },
            ],
            ..deny_all()
        };
        let p = compile(&profile, &[]).unwrap();
        let eperm = errno(libc::EPERM);
        assert_eq!(call(&p, Sysno::read, &[10, 1]), ALLOW);
        assert_eq!(call(&p, Sysno::read, &[10, 0]), eperm);
        assert_eq!(call(&p, Sysno::read, &[9, 1]), eperm);
        assert_eq!(call(&p, Sysno::read, &[1 << 32, 1 << 32]), ALLOW);
        assert_eq!(call(&p, Sysno::write, &[3]), ALLOW);
        assert_eq!(call(&p, Sysno::write, &[5]), ALLOW);
        assert_eq!(call(&p, Sysno::write, &[4]), eperm);
        assert_eq!(call(&p, Sysno::lseek, &[0, 0, 0x135]), ALLOW);
        assert_eq!(call(&p, Sysno::lseek, &[0, 0, 0x145]), eperm);
        assert_eq!(call(&p, Sysno::close, &[0x31]), eperm);
        assert_eq!(call(&p, Sysno::dup, &[(1 << 33) - 1]), ALLOW);
        assert_eq!(call(&p, Sysno::dup, &[1 << 33]), eperm);
        assert_eq!(call(&p, Sysno::dup2, &[7, 8]), ALLOW);
        assert_eq!(call(&p, Sysno::dup2, &[8, 8]), eperm);
        assert_eq!(call(&p, Sysno::dup2, &[7, 7]), eperm);
    }

    #[test]
    fn refuses_what_it_cannot_build() {
        let notify = Profile {
            syscalls: vec![group(Action::Notify, "mount")],
            ..deny_all()
        };
        assert!(matches!(compile(&notify, &[]), Err(SeccompError::Notify)));
        let bad_kernel = Profile {
            syscalls: vec![Syscalls {
                includes: Filter {
                    min_kernel: Some("four".into()),
                    ..Filter::default()
                },
                ..group(Action::Allow, "read")
            }],
            ..deny_all()
        };
        let bad_index = Profile {
            syscalls: vec![Syscalls {
                args: vec![arg(6, Op::EqualTo, 0, 0)],
                ..group(Action::Allow, "read")
            }],
            ..deny_all()
        };
        assert!(matches!(
            compile(&bad_index, &[]),
            Err(SeccompError::ArgIndex(6))
        ));
        let e = compile(&bad_kernel, &[]).unwrap_err();
        assert!(
            e.to_string().starts_with("invalid minKernel \"four\""),
            "{e}"
        );
        // 700 write rules of six conditions each cannot fit one filter.
        let big = Profile {
            syscalls: (0..700)
                .map(|i| Syscalls {
                    args: (0..6).map(|a| arg(a, Op::EqualTo, i, 0)).collect(),
                    ..group(Action::Allow, "write")
                })
                .collect(),
            ..deny_all()
        };
        let e = compile(&big, &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("the seccomp profile's SCMP_ACT_ALLOW rules make "),
            "{e}"
        );
    }

    #[test]
    fn compiles_once_per_profile_and_caps() {
        let a = compile_cached(default_profile(), &docker_caps()).unwrap();
        let mut reordered = docker_caps();
        reordered.reverse();
        let b = compile_cached(default_profile(), &reordered).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = compile_cached(&default_profile().clone(), &docker_caps()).unwrap();
        assert!(Arc::ptr_eq(&a, &c), "equal profiles share one program");
        let d = compile_cached(default_profile(), &names(crate::caps::ALL)).unwrap();
        assert!(!Arc::ptr_eq(&a, &d));
        assert_eq!(*a, compile(default_profile(), &docker_caps()).unwrap());
    }

    #[test]
    fn hex_round_trips() {
        let p = compile(default_profile(), &docker_caps()).unwrap();
        let hex = p.to_hex();
        assert_eq!(SeccompProgram::from_hex(&hex).unwrap(), p);
        assert_eq!(hex.matches(',').count(), 1);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<SeccompProgram>(&json).unwrap(), p);
        let none = SeccompProgram { filters: vec![] };
        assert_eq!(SeccompProgram::from_hex(&none.to_hex()).unwrap(), none);
        for (bad, want) in [
            (
                "0000000000000006,zz",
                "filter 1 has 'z' at 0, not a hex digit",
            ),
            ("000000000000006", "filter 0 has an odd number"),
            ("00000000000006", "not whole instructions"),
            ("0000000000000006,", "filter 1 has 0 instructions"),
        ] {
            let e = SeccompProgram::from_hex(bad).unwrap_err().to_string();
            assert!(e.contains(want), "{bad}: {e}");
        }
        let loaded = p.load();
        assert_eq!(loaded.filters.len(), 2);
        let first = loaded.filters[0][0];
        // The arch check seccompiler opens every filter with: LD arch.
        assert_eq!((first.code, first.k), (0x20, 4));
    }

    fn errno_of(rc: libc::c_long) -> i32 {
        if rc == -1 {
            io::Error::last_os_error().raw_os_error().unwrap_or(-1)
        } else {
            0
        }
    }

    /// No root needed: with no_new_privs anyone may install a filter.
    #[test]
    fn installed_program_refuses_in_a_child() {
        let loaded = compile(default_profile(), &docker_caps()).unwrap().load();
        let mut fds = [0; 2];
        // SAFETY: pipe writes two fds into a local array.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the test process is multi-threaded, so the child makes
        // only raw syscalls (no allocation, no locks) and leaves by _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            let mut out = [0i64; 6];
            // SAFETY: prctl, syscall and write with integer arguments and
            // local buffers; clone3 with a null argument faults before it
            // could create anything.
            unsafe {
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                out[0] = loaded.install().err().unwrap_or(0).into();
                out[1] = errno_of(libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUSER)).into();
                // KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING.
                out[2] = errno_of(libc::syscall(libc::SYS_keyctl, 0, -3, 0)).into();
                out[3] = libc::syscall(libc::SYS_getpid);
                out[4] = errno_of(libc::syscall(libc::SYS_clone3, 0usize, 0usize)).into();
                out[5] = libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0).into();
                libc::write(fds[1], out.as_ptr().cast(), std::mem::size_of_val(&out));
                libc::_exit(0);
            }
        }
        let mut out = [0i64; 6];
        let mut status = 0;
        // SAFETY: read into and waitpid on local buffers; the fds are ours.
        unsafe {
            libc::close(fds[1]);
            let n = libc::read(fds[0], out.as_mut_ptr().cast(), std::mem::size_of_val(&out));
            libc::close(fds[0]);
            assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
            assert_eq!(n as usize, std::mem::size_of_val(&out));
        }
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{status:#x}"
        );
        assert_eq!(out[0], 0, "install failed");
        assert_eq!(out[5], 2, "SECCOMP_MODE_FILTER");
        assert_eq!(out[1], i64::from(libc::EPERM), "unshare(CLONE_NEWUSER)");
        assert_eq!(out[2], i64::from(libc::EPERM), "keyctl");
        assert_eq!(out[3], i64::from(pid), "getpid");
        assert_eq!(out[4], i64::from(libc::ENOSYS), "clone3");
    }
}
