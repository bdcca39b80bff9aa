//! The cgroup v2 device filter: the reduced policy compiled by a tiny eBPF
//! assembler into a `BPF_CGROUP_DEVICE` program, loaded and attached with
//! the raw bpf(2) syscall.
//!
//! The program sees `struct bpf_cgroup_dev_ctx { u32 access_type /* access
//! << 16 | type */; u32 major; u32 minor; }` and returns 1 to allow, 0 to
//! deny. It is attached with `BPF_F_ALLOW_MULTI` (as runc and systemd do, so
//! a nested runtime can still add its own filters below ours); a re-apply
//! attaches the new program first and then detaches the old ones, so the
//! cgroup is never unfiltered and ends with exactly one program.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::{DeviceAccess, DeviceError, DeviceKind, Policy, ACC_ALL};

// Opcodes (include/uapi/linux/bpf.h, bpf_common.h): class | op | source.
/// `dst = *(u32 *)(src + off)`.
const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
/// `dst = (u32)dst & imm`.
const AND32_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K
/// `dst = (u32)dst >> imm`.
const RSH32_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
/// `dst = (u32)imm`.
const MOV32_K: u8 = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
/// `dst = (u32)src`.
const MOV32_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
/// `if dst == imm goto pc + 1 + off`.
const JEQ_K: u8 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
/// `if dst != imm goto pc + 1 + off`.
const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
/// `return r0`.
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

// Registers: r0 the verdict, r1 the context on entry, then scratch.
const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;

// bpf_cgroup_dev_ctx's device types (BPF_DEVCG_DEV_*).
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

/// `struct bpf_insn`: opcode, dst and src registers in one byte (4 bits
/// each, in the bitfield order of the host's endianness), offset, immediate.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

impl Insn {
    const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        let regs = if cfg!(target_endian = "little") {
            dst | src << 4
        } else {
            dst << 4 | src
        };
        Insn {
            code,
            regs,
            off,
            imm,
        }
    }

    #[cfg(test)]
    fn dst(self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs & 0xf
        } else {
            self.regs >> 4
        }
    }

    #[cfg(test)]
    fn src(self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs >> 4
        } else {
            self.regs & 0xf
        }
    }

    fn is_jump(self) -> bool {
        self.code == JEQ_K || self.code == JNE_K
    }
}

fn ldx_w(dst: u8, src: u8, off: i16) -> Insn {
    Insn::new(LDX_MEM_W, dst, src, off, 0)
}
fn alu32(code: u8, dst: u8, imm: i32) -> Insn {
    Insn::new(code, dst, 0, 0, imm)
}
fn mov32_reg(dst: u8, src: u8) -> Insn {
    Insn::new(MOV32_X, dst, src, 0, 0)
}
/// A jump to the next block; its offset is set once the block ends.
fn jump(code: u8, dst: u8, imm: i32) -> Insn {
    Insn::new(code, dst, 0, 0, imm)
}
fn exit() -> Insn {
    Insn::new(EXIT, 0, 0, 0, 0)
}

/// The filter for `policy`: one block per exception, tried in order, each
/// ending in the exception's verdict; falling off the last gives the
/// default. Numbers are checked (≤ 2^20) before, so they fit an `imm`.
pub(super) fn program(policy: &Policy) -> Vec<Insn> {
    let mut p = vec![
        // r2 = type, r3 = access, r4 = major, r5 = minor.
        ldx_w(R2, R1, 0),
        alu32(AND32_K, R2, 0xffff),
        ldx_w(R3, R1, 0),
        alu32(RSH32_K, R3, 16),
        ldx_w(R4, R1, 4),
        ldx_w(R5, R1, 8),
    ];
    let verdict = i32::from(!policy.default_allow);
    for e in &policy.exceptions {
        let start = p.len();
        let kind = if e.kind == DeviceKind::Block {
            DEV_BLOCK
        } else {
            DEV_CHAR
        };
        p.push(jump(JNE_K, R2, kind));
        if e.access != ACC_ALL {
            // r1 (the context pointer is no longer needed) = requested bits.
            p.push(mov32_reg(R1, R3));
            if policy.default_allow {
                // A deny exception hits if it shares any bit with the request.
                p.push(alu32(AND32_K, R1, i32::from(e.access)));
                p.push(jump(JEQ_K, R1, 0));
            } else {
                // An allow exception must cover every requested bit.
                p.push(alu32(AND32_K, R1, i32::from(!e.access & ACC_ALL)));
                p.push(jump(JNE_K, R1, 0));
            }
        }
        if let Some(major) = e.major {
            p.push(jump(JNE_K, R4, major as i32));
        }
        if let Some(minor) = e.minor {
            p.push(jump(JNE_K, R5, minor as i32));
        }
        // Every jump of the block goes past its two-instruction verdict.
        let next = p.len() + 2;
        for (pc, insn) in p.iter_mut().enumerate().skip(start) {
            if insn.is_jump() {
                insn.off = (next - pc - 1) as i16;
            }
        }
        p.push(alu32(MOV32_K, R0, verdict));
        p.push(exit());
    }
    p.push(alu32(MOV32_K, R0, i32::from(policy.default_allow)));
    p.push(exit());
    p
}

// bpf(2) commands, program and attach types, flags.
const BPF_PROG_LOAD: libc::c_int = 5;
const BPF_PROG_ATTACH: libc::c_int = 8;
const BPF_PROG_DETACH: libc::c_int = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_int = 13;
const BPF_PROG_QUERY: libc::c_int = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

const LICENSE: &[u8] = b"Apache\0";
const PROG_NAME: &[u8] = b"stack_devices";
/// Enough for the verifier's log of any program we build.
const LOG_SIZE: usize = 1 << 16;

// The members of `union bpf_attr` we use, laid out without padding so every
// byte the kernel reads is initialised.
#[repr(C)]
#[derive(Clone, Copy)]
struct LoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
}

#[repr(C)]
#[derive(Clone, Copy)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// A whole `union bpf_attr`, zeroed: the kernel writes some results (a
/// query's `revision`) at fixed offsets whatever size we pass, so the
/// buffer must be as large as its union.
#[repr(C)]
union Attr {
    load: LoadAttr,
    attach: AttachAttr,
    query: QueryAttr,
    get_fd: GetFdAttr,
    bytes: [u64; 32],
}

impl Attr {
    fn zeroed() -> Attr {
        Attr { bytes: [0; 32] }
    }
}

/// bpf(2); the result (an fd or 0).
///
/// # Safety
/// Every pointer inside `attr` must point to a live buffer of the size the
/// attr states, valid for the kernel to read (and, for the log and the
/// query's ids, to write) during the call.
unsafe fn bpf(cmd: libc::c_int, attr: &mut Attr) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a full, initialised bpf_attr the kernel may read and
    // write back into; the caller vouches for the pointers inside it.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut Attr,
            std::mem::size_of::<Attr>(),
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Take ownership of the fd bpf(2) returned.
fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the kernel just returned this fd (O_CLOEXEC, as bpf(2) makes
    // all its fds) and nothing else holds it.
    unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) }
}

fn load_once(insns: &[Insn], log: Option<&mut [u8]>) -> io::Result<OwnedFd> {
    let mut name = [0u8; 16];
    name[..PROG_NAME.len()].copy_from_slice(PROG_NAME);
    let (log_level, log_size, log_buf) = match log {
        Some(buf) => (1, buf.len() as u32, buf.as_mut_ptr() as u64),
        None => (0, 0, 0),
    };
    let mut attr = Attr::zeroed();
    attr.load = LoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        log_level,
        log_size,
        log_buf,
        kern_version: 0,
        prog_flags: 0,
        prog_name: name,
    };
    // SAFETY: insns, the NUL-terminated licence and the log buffer (of
    // log_size bytes) are borrowed for the whole call.
    unsafe { bpf(BPF_PROG_LOAD, &mut attr) }.map(owned)
}

/// Load the program; if the kernel refuses it, load again with a log so
/// the error carries the verifier's text.
fn load(insns: &[Insn]) -> Result<OwnedFd, DeviceError> {
    let first = match load_once(insns, None) {
        Ok(fd) => return Ok(fd),
        Err(e) => e,
    };
    let mut log = vec![0u8; LOG_SIZE];
    match load_once(insns, Some(&mut log)) {
        Ok(fd) => Ok(fd),
        Err(_) => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]).trim().to_string();
            let detail = if text.is_empty() {
                "stack must run as root on a kernel with CONFIG_CGROUP_BPF (4.15 or later; before 5.11 also raise RLIMIT_MEMLOCK)".to_string()
            } else {
                format!("the verifier says: {text}")
            };
            Err(DeviceError::Load {
                detail,
                source: first,
            })
        }
    }
}

/// The ids of the device programs attached directly to the cgroup.
fn attached_ids(dir: &Path, cgroup: &File) -> Result<Vec<u32>, DeviceError> {
    let mut ids = vec![0u32; 16];
    loop {
        let mut attr = Attr::zeroed();
        attr.query = QueryAttr {
            target_fd: cgroup.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            query_flags: 0,
            attach_flags: 0,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: ids.len() as u32,
            _pad: 0,
        };
        // SAFETY: prog_ids points to prog_cnt u32s we own for the call.
        let r = unsafe { bpf(BPF_PROG_QUERY, &mut attr) };
        // SAFETY: every member of Attr is plain integers; any bits are valid.
        let count = unsafe { attr.query.prog_cnt } as usize;
        match r {
            Ok(_) => {
                ids.truncate(count);
                return Ok(ids);
            }
            // More attached than we had room for: the count is the total.
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && count > ids.len() => {
                ids = vec![0; count];
            }
            Err(source) => {
                return Err(DeviceError::Bpf {
                    action: "list",
                    dir: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
}

/// Fds of the device programs attached directly to the cgroup (a program
/// detached meanwhile is skipped).
fn attached(dir: &Path, cgroup: &File) -> Result<Vec<OwnedFd>, DeviceError> {
    let mut fds = Vec::new();
    for id in attached_ids(dir, cgroup)? {
        let mut attr = Attr::zeroed();
        attr.get_fd = GetFdAttr {
            prog_id: id,
            next_id: 0,
            open_flags: 0,
        };
        // SAFETY: this attr holds no pointers.
        match unsafe { bpf(BPF_PROG_GET_FD_BY_ID, &mut attr) } {
            Ok(fd) => fds.push(owned(fd)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(source) => {
                return Err(DeviceError::Bpf {
                    action: "take hold of",
                    dir: dir.to_path_buf(),
                    source,
                })
            }
        }
    }
    Ok(fds)
}

/// Attach or detach `prog` on the cgroup.
fn attach_cmd(
    cmd: libc::c_int,
    dir: &Path,
    cgroup: &File,
    prog: &OwnedFd,
) -> Result<(), DeviceError> {
    let (action, flags) = if cmd == BPF_PROG_ATTACH {
        ("attach", BPF_F_ALLOW_MULTI)
    } else {
        ("detach", 0)
    };
    let mut attr = Attr::zeroed();
    attr.attach = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: flags,
        replace_bpf_fd: 0,
    };
    // SAFETY: this attr holds no pointers, only fds we keep open.
    match unsafe { bpf(cmd, &mut attr) } {
        Ok(_) => Ok(()),
        // Someone detached it first: the outcome we want.
        Err(e) if cmd == BPF_PROG_DETACH && e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        Err(source) => Err(DeviceError::Bpf {
            action,
            dir: dir.to_path_buf(),
            source,
        }),
    }
}

/// v2: build, load and attach the program to the cgroup directory `dir`,
/// replacing the device programs attached there before (ours from an
/// earlier create: the cgroup is the container's alone). `All` detaches
/// them and attaches nothing. The kernel frees the program with the cgroup.
pub fn apply_v2(dir: &Path, access: &DeviceAccess) -> Result<(), DeviceError> {
    let policy = Policy::of(access)?;
    let cgroup = File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)
        .map_err(|source| DeviceError::OpenCgroup {
            dir: dir.to_path_buf(),
            source,
        })?;
    let old = attached(dir, &cgroup)?;
    if let DeviceAccess::Rules(_) = access {
        let prog = load(&program(&policy))?;
        // New first, old after: the filters in between only add up
        // (all must allow), so the cgroup is never unfiltered.
        attach_cmd(BPF_PROG_ATTACH, dir, &cgroup, &prog)?;
    }
    for prog in &old {
        attach_cmd(BPF_PROG_DETACH, dir, &cgroup, prog)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{default_rules, DeviceRule, ACC_MKNOD, ACC_READ, ACC_WRITE};
    use super::*;

    /// Runs a program of the subset `program` emits on one device request;
    /// panics on anything else (unknown opcode, backward or out-of-range
    /// jump, context misuse, exit without a verdict), as the verifier would
    /// refuse it.
    fn run(prog: &[Insn], kind: i32, access: u8, major: u32, minor: u32) -> u32 {
        let ctx = [u32::from(access) << 16 | kind as u32, major, minor];
        let mut r = [0u64; 11];
        let mut is_ctx = [false; 11];
        let mut set = [false; 11];
        is_ctx[1] = true;
        set[1] = true;
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            let (d, s) = (i.dst() as usize, i.src() as usize);
            pc += 1;
            if i.code != EXIT && !i.is_jump() {
                set[d] = true;
            }
            match i.code {
                LDX_MEM_W => {
                    assert!(is_ctx[s], "load from r{s}, not the context");
                    assert!(i.off >= 0 && i.off % 4 == 0 && i.off < 12, "off {}", i.off);
                    r[d] = u64::from(ctx[i.off as usize / 4]);
                    is_ctx[d] = false;
                }
                AND32_K => {
                    assert!(!is_ctx[d], "ALU on the context pointer");
                    r[d] = u64::from(r[d] as u32 & i.imm as u32);
                }
                RSH32_K => {
                    assert!(!is_ctx[d], "ALU on the context pointer");
                    r[d] = u64::from((r[d] as u32) >> i.imm);
                }
                MOV32_K => {
                    r[d] = u64::from(i.imm as u32);
                    is_ctx[d] = false;
                }
                MOV32_X => {
                    assert!(set[s] && !is_ctx[s]);
                    r[d] = u64::from(r[s] as u32);
                    is_ctx[d] = false;
                }
                JEQ_K | JNE_K => {
                    assert!(set[d] && !is_ctx[d]);
                    assert!(i.off >= 0, "backward jump");
                    let equal = r[d] == i.imm as i64 as u64;
                    if equal == (i.code == JEQ_K) {
                        pc += i.off as usize;
                    }
                }
                EXIT => {
                    assert!(set[0], "exit without a verdict");
                    return r[0] as u32;
                }
                code => panic!("opcode {code:#x} outside the subset"),
            }
            assert!(pc < prog.len(), "fell off the end");
        }
    }

    const ALL: u8 = ACC_READ | ACC_WRITE | ACC_MKNOD;
    const RW: u8 = ACC_READ | ACC_WRITE;

    fn defaults() -> Vec<Insn> {
        program(&Policy::of(&DeviceAccess::Rules(default_rules())).unwrap())
    }

    #[test]
    fn default_program_grants_the_default_list_only() {
        let p = defaults();
        assert_eq!(p.len(), 69);
        let allowed = |kind, access, major, minor| run(&p, kind, access, major, minor) == 1;
        assert!(allowed(DEV_CHAR, RW, 1, 3), "/dev/null rw");
        assert!(allowed(DEV_CHAR, ALL, 1, 3), "/dev/null with mknod");
        assert!(allowed(DEV_CHAR, ACC_READ, 1, 9), "/dev/urandom");
        assert!(!allowed(DEV_BLOCK, ACC_READ, 8, 0), "block 8:0 read");
        assert!(allowed(DEV_BLOCK, ACC_MKNOD, 8, 0), "mknod of a block node");
        assert!(allowed(DEV_CHAR, ACC_MKNOD, 1, 1), "mknod of a char node");
        assert!(allowed(DEV_CHAR, RW, 5, 1), "console");
        assert!(allowed(DEV_CHAR, RW, 136, 7), "pts/7");
        assert!(allowed(DEV_CHAR, RW, 10, 200), "net/tun");
        assert!(!allowed(DEV_CHAR, RW, 10, 232), "kvm");
        assert!(!allowed(DEV_CHAR, ACC_READ, 1, 1), "/dev/mem");
        assert!(
            !allowed(DEV_CHAR, ACC_READ | ACC_MKNOD, 1, 1),
            "/dev/mem, mknod and read"
        );
        assert!(
            !allowed(DEV_BLOCK, RW, 1, 3),
            "a block device numbered like /dev/null"
        );
    }

    #[test]
    fn all_allows_everything() {
        let p = program(&Policy::of(&DeviceAccess::All).unwrap());
        assert_eq!(p.len(), 8);
        for kind in [DEV_BLOCK, DEV_CHAR] {
            for (major, minor) in [(1, 1), (8, 0), (10, 232)] {
                assert_eq!(run(&p, kind, ALL, major, minor), 1);
            }
        }
    }

    /// The program decides as the v1 kernel model does, for a grid of
    /// requests and rule lists in both modes.
    #[test]
    fn program_matches_the_policy() {
        let deny = |s: &str| DeviceRule {
            allow: false,
            ..DeviceRule::parse(s).unwrap()
        };
        let parse = |s: &str| DeviceRule::parse(s).unwrap();
        let lists = [
            default_rules(),
            vec![parse("c 1:3 r"), parse("c 1:* w"), parse("b 8:* rm")],
            vec![
                parse("a *:* rwm"),
                deny("b 8:0 w"),
                deny("c 10:* rwm"),
                deny("c 1:1 m"),
            ],
            vec![parse("c *:* rwm"), deny("c *:* w")],
            vec![],
        ];
        for rules in lists {
            let policy = Policy::of(&DeviceAccess::Rules(rules.clone())).unwrap();
            let p = program(&policy);
            for (kind, dk) in [(DEV_CHAR, DeviceKind::Char), (DEV_BLOCK, DeviceKind::Block)] {
                for access in 1..=ALL {
                    for (major, minor) in [(1, 1), (1, 3), (8, 0), (8, 1), (10, 200), (10, 232)] {
                        assert_eq!(
                            run(&p, kind, access, major, minor) == 1,
                            allows(&policy, dk, major, minor, access),
                            "{rules:?}: {dk:?} {major}:{minor} access {access}"
                        );
                    }
                }
            }
        }
    }

    /// security/device_cgroup.c's decision, written out directly.
    fn allows(p: &Policy, kind: DeviceKind, major: u32, minor: u32, access: u8) -> bool {
        let hit = |e: &&super::super::Exception| {
            e.kind == kind
                && e.major.is_none_or(|m| m == major)
                && e.minor.is_none_or(|m| m == minor)
        };
        if p.default_allow {
            !p.exceptions
                .iter()
                .filter(hit)
                .any(|e| e.access & access != 0)
        } else {
            p.exceptions
                .iter()
                .filter(hit)
                .any(|e| access & !e.access == 0)
        }
    }

    #[test]
    fn encoding() {
        let i = Insn::new(JNE_K, 4, 0, 3, 136);
        assert_eq!(std::mem::size_of::<Insn>(), 8);
        assert_eq!((i.dst(), i.src()), (4, 0));
        assert_eq!(ldx_w(R2, R1, 4).src(), 1);
        assert_eq!(std::mem::size_of::<Attr>(), 256);
    }
}
