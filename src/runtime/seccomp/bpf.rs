//! The classic-BPF code of a seccomp filter: the architecture check, then a
//! binary search over syscall numbers whose leaves return an action, and
//! one block of argument checks per syscall that has conditions.
//!
//! Why not a linear list (seccompiler's, and libseccomp's default): the
//! kernel walks the filter on every syscall, and at install time it runs it
//! once for every syscall number to learn which are always allowed (the
//! seccomp action cache). For Docker's ~350 names a linear list is ~1,600
//! instructions and costs ~1.3 ms to install; the search tree is a few
//! hundred, ~9 comparisons deep, and uses only the instructions the
//! kernel's cache emulator understands, so every unconditionally allowed
//! syscall is answered from the cache without running BPF at all.

use std::collections::BTreeMap;

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const LD_W_ABS: u16 = 0x20;
const ALU_AND_K: u16 = 0x54;
const JA: u16 = 0x05;
const JEQ_K: u16 = 0x15;
const JGT_K: u16 = 0x25;
const JGE_K: u16 = 0x35;
const RET_K: u16 = 0x06;

// Offsets into `struct seccomp_data` (little-endian arguments).
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;
fn off_arg_lo(i: u8) -> u32 {
    16 + 8 * u32::from(i)
}
fn off_arg_hi(i: u8) -> u32 {
    20 + 8 * u32::from(i)
}

/// x86_64's x32 ABI sets this bit in the syscall number; such calls get the
/// default action (Docker's profile names none of them for x32).
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The kernel's limit on one filter (BPF_MAXINSNS).
pub const MAX_INSTRUCTIONS: usize = 4096;

/// A comparison of one 64-bit argument with a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `arg & mask == value`.
    MaskedEq(u64),
}

/// One argument condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cond {
    pub index: u8,
    pub cmp: Cmp,
    pub value: u64,
}

/// A rule of one syscall: its return value when every condition holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `SECCOMP_RET_*` with its data.
    pub ret: u32,
    /// ANDed; empty: whatever the arguments.
    pub conds: Vec<Cond>,
}

/// The filter is larger than the kernel takes.
#[derive(Debug)]
pub struct TooLarge(pub usize);

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// What a range of syscall numbers leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf {
    Ret(u32),
    /// The argument block of this syscall number.
    Block(u32),
}

/// A tree instruction, or a jump to a block not placed yet.
enum Ins {
    Real(libc::sock_filter),
    ToBlock(u32),
}

/// The filter: kill another architecture's calls, give x32 calls
/// `default`, then each syscall its first matching rule, else `default`.
/// Rules of a syscall are tried in the order given.
pub fn emit(
    audit_arch: u32,
    x32: bool,
    default: u32,
    table: &BTreeMap<u32, Vec<Rule>>,
) -> Result<Vec<libc::sock_filter>, TooLarge> {
    let mut out = vec![
        stmt(LD_W_ABS, OFF_ARCH),
        jump(JEQ_K, audit_arch, 1, 0),
        stmt(RET_K, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(LD_W_ABS, OFF_NR),
    ];
    if x32 {
        out.push(jump(JGE_K, X32_SYSCALL_BIT, 0, 1));
        out.push(stmt(RET_K, default));
    }
    let leaves = leaves(default, table);
    let tree = search(&leaves);
    // Blocks follow the tree; their positions resolve the tree's jumps.
    let tree_start = out.len();
    let mut block_at = BTreeMap::new();
    let mut blocks = Vec::new();
    let mut next = tree_start + tree.len();
    for (&nr, rules) in table {
        if leaf_of(rules).is_none() {
            let b = block(default, rules)?;
            block_at.insert(nr, next);
            next += b.len();
            blocks.extend(b);
        }
    }
    for (i, ins) in tree.into_iter().enumerate() {
        out.push(match ins {
            Ins::Real(f) => f,
            Ins::ToBlock(nr) => {
                let at = block_at.get(&nr).copied().unwrap_or(next);
                stmt(JA, (at - (tree_start + i + 1)) as u32)
            }
        });
    }
    out.extend(blocks);
    if out.len() > MAX_INSTRUCTIONS {
        return Err(TooLarge(out.len()));
    }
    Ok(out)
}

/// A syscall whose first rule holds whatever the arguments needs no block.
fn leaf_of(rules: &[Rule]) -> Option<u32> {
    rules.first().filter(|r| r.conds.is_empty()).map(|r| r.ret)
}

/// Consecutive numbers with the same outcome, as `(first number, leaf)`
/// from 0 up; the last range runs to the end.
fn leaves(default: u32, table: &BTreeMap<u32, Vec<Rule>>) -> Vec<(u32, Leaf)> {
    let mut out: Vec<(u32, Leaf)> = vec![(0, Leaf::Ret(default))];
    for (&nr, rules) in table {
        let leaf = match leaf_of(rules) {
            Some(ret) => Leaf::Ret(ret),
            None => Leaf::Block(nr),
        };
        push_range(&mut out, nr, leaf);
        push_range(&mut out, nr + 1, Leaf::Ret(default));
    }
    out
}

fn push_range(out: &mut Vec<(u32, Leaf)>, from: u32, leaf: Leaf) {
    match out.last_mut() {
        Some(last) if last.1 == leaf => {}
        Some(last) if last.0 == from => *last = (from, leaf),
        _ => out.push((from, leaf)),
    }
    // Replacing the last range may make it equal to the one before.
    if out.len() >= 2 && out[out.len() - 2].1 == out[out.len() - 1].1 {
        out.pop();
    }
}

/// A balanced search over the ranges (A holds the syscall number).
fn search(ranges: &[(u32, Leaf)]) -> Vec<Ins> {
    if let [(_, leaf)] = ranges {
        return vec![match *leaf {
            Leaf::Ret(r) => Ins::Real(stmt(RET_K, r)),
            Leaf::Block(nr) => Ins::ToBlock(nr),
        }];
    }
    let mid = ranges.len() / 2;
    let left = search(&ranges[..mid]);
    let right = search(&ranges[mid..]);
    let split = ranges[mid].0;
    let mut out = Vec::with_capacity(left.len() + right.len() + 2);
    match u8::try_from(left.len()) {
        // A >= split: over the left half.
        Ok(n) => out.push(Ins::Real(jump(JGE_K, split, n, 0))),
        Err(_) => {
            out.push(Ins::Real(jump(JGE_K, split, 0, 1)));
            out.push(Ins::Real(stmt(JA, left.len() as u32)));
        }
    }
    out.extend(left);
    out.extend(right);
    out
}

/// A syscall's rules in order, each a run of checks that jump to the next
/// rule on failure, then its return; the default last.
fn block(default: u32, rules: &[Rule]) -> Result<Vec<libc::sock_filter>, TooLarge> {
    let mut out = Vec::new();
    for r in rules {
        let mut code = Vec::new();
        // Jumps to "fail" are patched once the rule's length is known.
        let mut fails = Vec::new();
        for c in &r.conds {
            cond(c, &mut code, &mut fails);
        }
        code.push(stmt(RET_K, r.ret));
        let end = code.len();
        for (at, on_true) in fails {
            let off = u8::try_from(end - at - 1).map_err(|_| TooLarge(end))?;
            if on_true {
                code[at].jt = off;
            } else {
                code[at].jf = off;
            }
        }
        let unconditional = r.conds.is_empty();
        out.extend(code);
        if unconditional {
            return Ok(out);
        }
    }
    out.push(stmt(RET_K, default));
    Ok(out)
}

/// The checks of one condition; `fails` records each jump (its index and
/// whether its true branch) that must land on the rule's end.
fn cond(c: &Cond, code: &mut Vec<libc::sock_filter>, fails: &mut Vec<(usize, bool)>) {
    let (hi, lo) = ((c.value >> 32) as u32, c.value as u32);
    let ld = |code: &mut Vec<libc::sock_filter>, off| code.push(stmt(LD_W_ABS, off));
    let mut fail_jf = |code: &mut Vec<libc::sock_filter>, op, k| {
        fails.push((code.len(), false));
        code.push(jump(op, k, 0, 0));
    };
    match c.cmp {
        Cmp::Eq => {
            ld(code, off_arg_hi(c.index));
            fail_jf(code, JEQ_K, hi);
            ld(code, off_arg_lo(c.index));
            fail_jf(code, JEQ_K, lo);
        }
        Cmp::MaskedEq(mask) => {
            ld(code, off_arg_hi(c.index));
            code.push(stmt(ALU_AND_K, (mask >> 32) as u32));
            fail_jf(code, JEQ_K, hi);
            ld(code, off_arg_lo(c.index));
            code.push(stmt(ALU_AND_K, mask as u32));
            fail_jf(code, JEQ_K, lo);
        }
        Cmp::Ne => {
            // Fails only when both halves are equal.
            ld(code, off_arg_hi(c.index));
            code.push(jump(JEQ_K, hi, 0, 2));
            ld(code, off_arg_lo(c.index));
            fails.push((code.len(), true));
            code.push(jump(JEQ_K, lo, 0, 0));
        }
        Cmp::Gt | Cmp::Ge => {
            // hi > HI passes; hi < HI fails; equal: compare the low half.
            let low_op = if c.cmp == Cmp::Gt { JGT_K } else { JGE_K };
            ld(code, off_arg_hi(c.index));
            code.push(jump(JGT_K, hi, 3, 0));
            fail_jf(code, JEQ_K, hi);
            ld(code, off_arg_lo(c.index));
            fail_jf(code, low_op, lo);
        }
        Cmp::Lt | Cmp::Le => {
            // hi > HI fails; hi < HI passes; equal: the low half decides.
            let low_op = if c.cmp == Cmp::Lt { JGE_K } else { JGT_K };
            ld(code, off_arg_hi(c.index));
            fails.push((code.len(), true));
            code.push(jump(JGT_K, hi, 0, 0));
            code.push(jump(JEQ_K, hi, 0, 2));
            ld(code, off_arg_lo(c.index));
            fails.push((code.len(), true));
            code.push(jump(low_op, lo, 0, 0));
        }
    }
}
