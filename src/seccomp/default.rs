//! Docker's default profile (moby `profiles/seccomp`, as of Docker 29): an
//! allow-list, a few argument filters, and the syscalls a capability makes
//! safe. The groups follow Docker's order so the two compare line by line.

use super::{Action, ArchMap, Arg, Filter, Op, Profile, Syscalls};

/// Allowed whatever the container's capabilities. Names absent on an
/// architecture (`chown32`, `_llseek`, ...) are skipped when compiling.
const ALLOWED: &str = "
    accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir
    chmod chown chown32 clock_adjtime clock_adjtime64 clock_getres
    clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep
    clock_nanosleep_time64 close close_range connect copy_file_range creat dup
    dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait
    epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit
    exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate
    fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat
    fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr
    fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate
    ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv
    futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32
    geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
    getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid
    getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid
    getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32
    getxattr getxattrat inotify_add_watch inotify_init inotify_init1
    inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
    io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill
    landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown
    lchown32 lgetxattr link linkat listen listmount listxattr listxattrat
    llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise
    map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat
    mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr
    mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend
    mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync
    munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect
    open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc
    pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2
    prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev
    pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
    recvmmsg_time64 recvmsg remap_file_pages removexattr removexattrat rename
    renameat renameat2 restart_syscall riscv_hwprobe rmdir rseq rt_sigaction
    rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
    rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity
    sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
    sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
    sched_setaffinity sched_setattr sched_setparam sched_setscheduler
    sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64
    send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32
    setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid
    setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32
    setreuid setreuid32 setrlimit set_robust_list setsid setsockopt
    set_thread_area set_tid_address setuid setuid32 setxattr setxattrat shmat
    shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask
    sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statmount
    statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
    timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64
    timer_settime timer_settime64 timerfd_create timerfd_gettime
    timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate
    truncate64 ugetrlimit umask uname unlink unlinkat uretprobe utime utimensat
    utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev
";

/// Socket families refused: kernel code few containers need, with a
/// record of privilege escalations.
const AF_ALG: u64 = 38;
const AF_VSOCK: u64 = 40;

/// The personalities programs ask for: Linux, with `UNAME26` and/or
/// `ADDR_NO_RANDOMIZE`, and 0xffffffff (a query). The rest, such as
/// `READ_IMPLIES_EXEC`, weaken the address space.
const PERSONALITIES: [u64; 5] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// CLONE_NEWNS | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWCGROUP:
/// `clone` may not make namespaces without CAP_SYS_ADMIN.
const CLONE_NAMESPACES: u64 = 0x7E02_0000;

/// ENOSYS, so that glibc falls back from `clone3` (whose flags sit in
/// memory, beyond a filter's reach) to the filtered `clone`.
const ENOSYS: u32 = 38;

const SYS_ADMIN: &str = "CAP_SYS_ADMIN";

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

fn allow(names: &str) -> Syscalls {
    group(Action::Allow, names)
}

fn allow_if(names: &str, args: Vec<Arg>) -> Syscalls {
    Syscalls {
        args,
        ..allow(names)
    }
}

fn caps(caps: &[&str]) -> Filter {
    Filter {
        caps: caps.iter().map(|c| c.to_string()).collect(),
        ..Filter::default()
    }
}

fn arches(arches: &[&str]) -> Filter {
    Filter {
        arches: arches.iter().map(|a| a.to_string()).collect(),
        ..Filter::default()
    }
}

fn allow_with(cap: &str, names: &str) -> Syscalls {
    Syscalls {
        includes: caps(&[cap]),
        ..allow(names)
    }
}

fn allow_on(on: &[&str], names: &str) -> Syscalls {
    Syscalls {
        includes: arches(on),
        ..allow(names)
    }
}

fn arg(index: u32, op: Op, value: u64) -> Arg {
    Arg {
        index,
        value,
        value_two: 0,
        op,
    }
}

fn arch_map(architecture: &str, subs: &[&str]) -> ArchMap {
    ArchMap {
        architecture: architecture.into(),
        sub_architectures: subs.iter().map(|s| s.to_string()).collect(),
    }
}

pub(super) fn build() -> Profile {
    let mut syscalls = vec![
        allow(ALLOWED),
        // Before 4.8, ptrace could bypass seccomp.
        Syscalls {
            includes: Filter {
                min_kernel: Some("4.8".into()),
                ..Filter::default()
            },
            ..allow("process_vm_readv process_vm_writev ptrace")
        },
        allow_if("socket", vec![arg(0, Op::LessThan, AF_ALG)]),
        allow_if("socket", vec![arg(0, Op::EqualTo, AF_ALG + 1)]),
        allow_if("socket", vec![arg(0, Op::GreaterThan, AF_VSOCK)]),
    ];
    for p in PERSONALITIES {
        syscalls.push(allow_if("personality", vec![arg(0, Op::EqualTo, p)]));
    }
    syscalls.extend([
        allow_on(&["ppc64le"], "sync_file_range2 swapcontext"),
        allow_on(
            &["arm", "arm64"],
            "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
        ),
        allow_on(&["amd64", "x32"], "arch_prctl"),
        allow_on(&["amd64", "x32", "x86"], "modify_ldt"),
        allow_on(
            &["s390", "s390x"],
            "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr",
        ),
        allow_on(&["riscv64"], "riscv_flush_icache"),
        allow_with("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
        allow_with(
            SYS_ADMIN,
            "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie
             lsm_get_self_attr lsm_list_modules lsm_set_self_attr mount mount_setattr
             move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname
             sethostname setns syslog umount umount2 unshare",
        ),
        Syscalls {
            args: vec![arg(0, Op::MaskedEqual, CLONE_NAMESPACES)],
            excludes: Filter {
                caps: vec![SYS_ADMIN.into()],
                arches: vec!["s390".into(), "s390x".into()],
                min_kernel: None,
            },
            ..allow("clone")
        },
        Syscalls {
            args: vec![arg(1, Op::MaskedEqual, CLONE_NAMESPACES)],
            includes: arches(&["s390", "s390x"]),
            excludes: caps(&[SYS_ADMIN]),
            comment: Some("s390 parameter ordering for clone is different".into()),
            ..allow("clone")
        },
        Syscalls {
            errno_ret: Some(ENOSYS),
            excludes: caps(&[SYS_ADMIN]),
            ..group(Action::Errno, "clone3")
        },
        allow_with("CAP_SYS_BOOT", "reboot"),
        allow_with("CAP_SYS_CHROOT", "chroot"),
        allow_with("CAP_SYS_MODULE", "delete_module init_module finit_module"),
        allow_with("CAP_SYS_PACCT", "acct"),
        allow_with(
            "CAP_SYS_PTRACE",
            "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
        ),
        allow_with("CAP_SYS_RAWIO", "iopl ioperm"),
        allow_with(
            "CAP_SYS_TIME",
            "settimeofday stime clock_settime clock_settime64",
        ),
        allow_with("CAP_SYS_TTY_CONFIG", "vhangup"),
        allow_with(
            "CAP_SYS_NICE",
            "get_mempolicy mbind set_mempolicy set_mempolicy_home_node",
        ),
        allow_with("CAP_SYSLOG", "syslog"),
        allow_with("CAP_BPF", "bpf"),
        allow_with("CAP_PERFMON", "perf_event_open"),
    ]);
    Profile {
        default_action: Action::Errno,
        default_errno_ret: Some(1),
        architectures: Vec::new(),
        arch_map: vec![
            arch_map("SCMP_ARCH_X86_64", &["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
            arch_map("SCMP_ARCH_AARCH64", &["SCMP_ARCH_ARM"]),
            arch_map(
                "SCMP_ARCH_MIPS64",
                &["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"],
            ),
            arch_map(
                "SCMP_ARCH_MIPS64N32",
                &["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"],
            ),
            arch_map(
                "SCMP_ARCH_MIPSEL64",
                &["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"],
            ),
            arch_map(
                "SCMP_ARCH_MIPSEL64N32",
                &["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"],
            ),
            arch_map("SCMP_ARCH_S390X", &["SCMP_ARCH_S390"]),
            arch_map("SCMP_ARCH_RISCV64", &[]),
            arch_map("SCMP_ARCH_LOONGARCH64", &[]),
        ],
        syscalls,
        flags: Vec::new(),
    }
}
