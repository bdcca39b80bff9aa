//! The compiler checked with a small BPF interpreter, and one real filter.

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

/// Classic BPF, the instructions `bpf::emit` uses.
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
    assert_eq!(p.filters.len(), 1, "one filter, every action in it");
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
    assert_eq!(p.filters.len(), 1);
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
        assert_eq!(p.filters.len(), 1);
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
    assert_eq!(p.filters.len(), 1);
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
        e.to_string().starts_with("the seccomp profile makes "),
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
    assert_eq!(hex.matches(',').count(), 0);
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
    assert_eq!(loaded.filters.len(), 1);
    let first = loaded.filters[0][0];
    // The arch check every filter opens with: LD arch.
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
