//! The house rules, checked mechanically (issue 10): which room may use
//! which (`use crate::…` and inline `crate::…` paths under src/), and how
//! big a room may grow. Data flows one way: file → spec → graph → plan →
//! engine → runtime; the CLI talks only to spec and engine.
//!
//! Arrows and oversized files that exist today and are still being removed
//! are listed below; each listed one must still exist (delete its line when
//! you remove it), and nothing new may join them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `(room, rooms it must not use)`.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "cli",
        &[
            "runtime",
            "state",
            "plan",
            "graph",
            "caps",
            "seccomp",
            "device_rules",
            "sysctls",
            "image",
        ],
    ),
    (
        "runtime",
        &["spec", "engine", "plan", "state", "cli", "graph"],
    ),
    ("plan", &["runtime", "state", "engine", "cli"]),
    (
        "graph",
        &["engine", "runtime", "state", "plan", "cli", "image"],
    ),
    // Images (issue 12) stand alone: std and crates only, so that the spec
    // (parsing `image:`), the engine and the runtime can all use them.
    (
        "image",
        &[
            "engine",
            "runtime",
            "plan",
            "state",
            "cli",
            "graph",
            "spec",
            "caps",
            "seccomp",
            "device_rules",
        ],
    ),
    (
        "spec",
        &["engine", "runtime", "plan", "state", "cli", "graph"],
    ),
    // The sysctl rule, shared by the loader and the runtime: std only.
    (
        "sysctls",
        &[
            "engine",
            "runtime",
            "plan",
            "state",
            "cli",
            "graph",
            "spec",
            "image",
            "caps",
            "seccomp",
            "device_rules",
        ],
    ),
];

/// Arrows still to remove (issue 10, steps 3–5).
const STILL_TO_REMOVE: &[(&str, &str)] = &[];

/// A room's size limit, in lines before its unit tests.
const MAX_LINES: usize = 700;

/// Files still over it, with the most they may have until they are split.
const STILL_TOO_BIG: &[(&str, usize)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level room of a file under src/: `src/engine/ops.rs` → engine.
fn room(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Lines that are code (not comments), before a trailing `#[cfg(test)]`
/// module, with their numbers.
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start();
        if t.starts_with("#[cfg(test)]") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push((i + 1, l));
    }
    out
}

#[test]
fn rooms_use_only_what_they_may() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut found: BTreeSet<(String, String)> = BTreeSet::new();
    let mut new_arrows = Vec::new();
    for f in &files {
        let from = room(f);
        let Some((_, forbidden)) = FORBIDDEN.iter().find(|(r, _)| *r == from) else {
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in code_lines(&text) {
            // `crate::x` anywhere in the line (a `use`, or an inline path).
            for (at, _) in line.match_indices("crate::") {
                let to: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if forbidden.contains(&to.as_str()) {
                    found.insert((from.clone(), to.clone()));
                    if !STILL_TO_REMOVE.contains(&(from.as_str(), to.as_str())) {
                        new_arrows.push(format!(
                            "{}:{n}: {from} must not use {to}: {}",
                            f.strip_prefix(src().parent().unwrap()).unwrap().display(),
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        new_arrows.is_empty(),
        "forbidden arrows (see the table in book/src/architecture.md):\n{}",
        new_arrows.join("\n")
    );
    let gone: Vec<_> = STILL_TO_REMOVE
        .iter()
        .filter(|(a, b)| !found.contains(&(a.to_string(), b.to_string())))
        .collect();
    assert!(
        gone.is_empty(),
        "these arrows are gone: delete them from STILL_TO_REMOVE in tests/architecture.rs: {gone:?}"
    );
}

#[test]
fn rooms_stay_small() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let root = src().parent().unwrap().to_path_buf();
    let mut problems = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().display().to_string();
        if rel.ends_with("/tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let n = text
            .lines()
            .position(|l| l.trim_start().starts_with("#[cfg(test)]"))
            .unwrap_or(text.lines().count());
        let allowed = STILL_TOO_BIG
            .iter()
            .find(|(p, _)| *p == rel)
            .map_or(MAX_LINES, |(_, m)| *m);
        if n > allowed {
            problems.push(format!(
                "{rel}: {n} lines (at most {allowed}): split it by concept"
            ));
        }
    }
    for (p, _) in STILL_TOO_BIG {
        let text = std::fs::read_to_string(root.join(p)).unwrap_or_default();
        let n = text
            .lines()
            .position(|l| l.trim_start().starts_with("#[cfg(test)]"))
            .unwrap_or(text.lines().count());
        if n <= MAX_LINES {
            problems.push(format!(
                "{p} is {n} lines now: delete it from STILL_TOO_BIG"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A function's size limit, in lines.
const MAX_FN_LINES: usize = 120;

/// Functions allowed over it: the mount set-up is one numbered script of
/// effects on purpose (Firecracker's jailer style: read top to bottom).
const LONG_BY_DESIGN: &[(&str, &str)] = &[("src/runtime/mounts/mod.rs", "setup")];

/// Functions still over it, with the most lines they may have until split.
const STILL_TOO_LONG: &[(&str, &str, usize)] = &[];

/// `(name, first line, lines)` of every `fn` with a body before the file's
/// unit tests. Braces inside strings, chars and comments are skipped.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .iter()
        .position(|l| l.starts_with("#[cfg(test)]"))
        .unwrap_or(lines.len());
    let mut out = Vec::new();
    for i in 0..end {
        let t = lines[i].trim_start();
        if t.starts_with("//") {
            continue;
        }
        let Some(at) = t.find("fn ") else { continue };
        let head = &t[..at];
        let words_ok = head
            .split_whitespace()
            .all(|w| ["pub", "const", "unsafe", "async"].contains(&w) || w.starts_with("pub("));
        if !words_ok {
            continue;
        }
        let name: String = t[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        let (mut depth, mut started) = (0i32, false);
        for (j, l) in lines.iter().enumerate().take(end).skip(i) {
            let code = strip_literals(l);
            for ch in code.chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        started = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if !started && code.trim_end().ends_with(';') {
                break; // a declaration without a body
            }
            if started && depth <= 0 {
                out.push((name.clone(), i + 1, j - i + 1));
                break;
            }
        }
    }
    out
}

/// A line without its comment and the contents of its string and char
/// literals (enough for brace counting).
fn strip_literals(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '/' if chars.peek() == Some(&'/') => break,
            '\'' => {
                // A char literal ('{', '\n'); a lifetime has no closing quote soon.
                let rest: String = chars.clone().take(3).collect();
                if let Some(close) = rest.find('\'') {
                    if close > 0 {
                        for _ in 0..=close {
                            chars.next();
                        }
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn functions_stay_short() {
    let root = src().parent().unwrap().to_path_buf();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap().display().to_string();
        if rel.ends_with("/tests.rs") || rel.contains("/tests/") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (name, line, n) in functions(&text) {
            if n <= MAX_FN_LINES || LONG_BY_DESIGN.contains(&(rel.as_str(), name.as_str())) {
                continue;
            }
            match STILL_TOO_LONG
                .iter()
                .find(|(p, fname, _)| *p == rel && *fname == name)
            {
                Some((_, _, max)) if n <= *max => seen.push((rel.clone(), name.clone())),
                Some((_, _, max)) => problems.push(format!(
                    "{rel}:{line}: fn {name} grew to {n} lines (at most {max}): split it into named steps"
                )),
                None => problems.push(format!(
                    "{rel}:{line}: fn {name} is {n} lines (at most {MAX_FN_LINES}): split it into named steps"
                )),
            }
        }
    }
    for (p, name, _) in STILL_TOO_LONG {
        if !seen.contains(&(p.to_string(), name.to_string())) {
            problems.push(format!(
                "{p}: fn {name} is short now (or gone): delete it from STILL_TOO_LONG"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_function_scanner_counts_bodies_not_strings() {
    let text = "fn a() {\n    let s = \"{\";\n    let c = '}';\n}\n\npub(crate) fn b(x: u8) -> u8 {\n    x\n}\nfn decl();\n";
    assert_eq!(
        functions(text),
        vec![("a".to_string(), 1, 4), ("b".to_string(), 6, 3)]
    );
}
