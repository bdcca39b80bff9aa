//! `${VAR}` interpolation as Compose does it, and `.env` files.

use std::collections::{BTreeMap, BTreeSet};

/// Variables visible to interpolation, and the unset ones already warned
/// about (each is warned about once per load).
#[derive(Debug, Default)]
pub struct Vars {
    pub vars: BTreeMap<String, String>,
    pub warned: BTreeSet<String>,
    /// Warnings to print (the loader prints them on stderr).
    pub warnings: Vec<String>,
}

impl Vars {
    fn lookup(&mut self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
    fn warn_unset(&mut self, name: &str) {
        if self.warned.insert(name.to_string()) {
            self.warnings.push(format!(
                "warning: variable `{name}` is not set, using an empty string (set it, put it in .env, or write ${{{name}:-default}})"
            ));
        }
    }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}
fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Interpolate one string. Errors are messages (`:?`/`?` failures, syntax).
pub fn interpolate(s: &str, vars: &mut Vars) -> Result<String, String> {
    if !s.contains('$') {
        return Ok(s.to_string());
    }
    let chars: Vec<char> = s.chars().collect();
    expand(&chars, vars, 0)
}

/// Expand `c` from the start. A `$` that begins no reference (`$(`, `$1`,
/// `$@`, a trailing `$`) stays literal, as Compose leaves it. Depth is
/// bounded so nested defaults cannot overflow.
fn expand(c: &[char], vars: &mut Vars, depth: usize) -> Result<String, String> {
    if depth > 32 {
        return Err("interpolation nested too deeply".into());
    }
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch != '$' {
            out.push(ch);
            i += 1;
            continue;
        }
        match c.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some('{') => {
                let (v, next) = braced(c, i + 2, vars, depth)?;
                out.push_str(&v);
                i = next;
            }
            Some(&n) if is_name_start(n) => {
                let mut j = i + 1;
                while j < c.len() && is_name_char(c[j]) {
                    j += 1;
                }
                let name: String = c[i + 1..j].iter().collect();
                match vars.lookup(&name) {
                    Some(v) => out.push_str(&v),
                    None => vars.warn_unset(&name),
                }
                i = j;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok(out)
}

/// The index of the `}` that closes a word starting at `start`: braces in
/// the word nest (`${X:-{a}b}` is `{a}b`), `$$` is skipped whole.
fn closing_brace(c: &[char], start: usize) -> Option<usize> {
    let mut open = 1usize;
    let mut k = start;
    while k < c.len() {
        match c[k] {
            '$' if c.get(k + 1) == Some(&'$') => k += 1,
            '{' => open += 1,
            '}' => {
                open -= 1;
                if open == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// After `${`: NAME, then `}` or an operator and a word up to the matching
/// `}`. Only the branch taken is interpolated, so an unused default warns
/// about nothing and cannot fail.
fn braced(
    c: &[char],
    start: usize,
    vars: &mut Vars,
    depth: usize,
) -> Result<(String, usize), String> {
    let mut j = start;
    while j < c.len() && is_name_char(c[j]) {
        j += 1;
    }
    let name: String = c[start..j].iter().collect();
    if name.is_empty() || !is_name_start(c[start]) {
        let rest: String = c[start.saturating_sub(2)..].iter().take(12).collect();
        return Err(format!(
            "invalid interpolation {rest:?} (expected ${{NAME}}; write $$ for a literal $)"
        ));
    }
    let op: String = match c.get(j) {
        Some('}') => {
            return match vars.lookup(&name) {
                Some(v) => Ok((v, j + 1)),
                None => {
                    vars.warn_unset(&name);
                    Ok((String::new(), j + 1))
                }
            };
        }
        Some(':') => match c.get(j + 1) {
            Some(&o @ ('-' | '?' | '+')) => format!(":{o}"),
            _ => {
                return Err(format!(
                    "invalid interpolation in ${{{name}...}} (expected :-, :?, :+, -, ? or +)"
                ))
            }
        },
        Some(&o @ ('-' | '?' | '+')) => o.to_string(),
        None => return Err("unterminated ${ (missing })".into()),
        Some(_) => {
            return Err(format!(
                "invalid interpolation in ${{{name}...}} (expected :-, :?, :+, -, ? or +)"
            ))
        }
    };
    let from = j + op.chars().count();
    let Some(end) = closing_brace(c, from) else {
        return Err("unterminated ${ (missing })".into());
    };
    let word = &c[from..end];
    let value = vars.lookup(&name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let out = match op.as_str() {
        ":-" | "-" => {
            let keep = if op == ":-" { non_empty } else { set };
            match value {
                Some(v) if keep => v,
                _ => expand(word, vars, depth + 1)?,
            }
        }
        ":+" | "+" => {
            let take = if op == ":+" { non_empty } else { set };
            if take {
                expand(word, vars, depth + 1)?
            } else {
                String::new()
            }
        }
        ":?" | "?" => {
            let ok = if op == ":?" { non_empty } else { set };
            if !ok {
                let word = expand(word, vars, depth + 1)?;
                let why = if word.is_empty() {
                    format!("variable `{name}` is required")
                } else {
                    format!("variable `{name}` is required: {word}")
                };
                return Err(why);
            }
            value.unwrap_or_default()
        }
        _ => unreachable!("op is one of the six above"),
    };
    Ok((out, end + 1))
}

/// Parse a `.env`-style file: `KEY=VALUE`, `export KEY=VALUE`, comments,
/// single quotes (literal), double quotes (with `\n` escapes), unquoted
/// values with trailing ` #comment` stripped. Returns `(line, key, value)`
/// or `(line, message)` for each bad line.
/// `(key, value)` pairs (`None`: a `KEY` line without `=`) and
/// `(line, message)` problems.
pub type EnvFileParse = (Vec<(String, Option<String>)>, Vec<(usize, String)>);

pub fn parse_env_file(text: &str) -> EnvFileParse {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (line, None),
        };
        if key.is_empty()
            || !key.chars().next().is_some_and(is_name_start)
            || !key.chars().all(|c| is_name_char(c) || c == '.' || c == '-')
        {
            errs.push((n + 1, format!("invalid line {raw:?} (expected KEY=VALUE)")));
            continue;
        }
        let value = value.map(|v| {
            if let Some(inner) = v.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
                inner.to_string()
            } else if let Some(inner) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                inner
                    .replace("\\n", "\n")
                    .replace("\\t", "\t")
                    .replace("\\\"", "\"")
                    .replace("\\\\", "\\")
            } else {
                match v.find(" #") {
                    Some(p) => v[..p].trim_end().to_string(),
                    None => v.to_string(),
                }
            }
        });
        out.push((key.to_string(), value));
    }
    (out, errs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(kv: &[(&str, &str)]) -> Vars {
        Vars {
            vars: kv
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Vars::default()
        }
    }

    #[test]
    fn forms() {
        let mut v = vars(&[("A", "a"), ("E", ""), ("N", "7")]);
        let i = |s: &str, v: &mut Vars| interpolate(s, v).unwrap();
        assert_eq!(i("$A", &mut v), "a");
        assert_eq!(i("x${A}y", &mut v), "xay");
        assert_eq!(i("$A-$N", &mut v), "a-7");
        assert_eq!(i("${U:-def}", &mut v), "def");
        assert_eq!(i("${E:-def}", &mut v), "def");
        assert_eq!(i("${E-def}", &mut v), "");
        assert_eq!(i("${U-def}", &mut v), "def");
        assert_eq!(i("${A:-def}", &mut v), "a");
        assert_eq!(i("${A:+rep}", &mut v), "rep");
        assert_eq!(i("${E:+rep}", &mut v), "");
        assert_eq!(i("${E+rep}", &mut v), "rep");
        assert_eq!(i("${U+rep}", &mut v), "");
        assert_eq!(i("${A:?boom}", &mut v), "a");
        assert_eq!(i("${E?boom}", &mut v), "");
        assert_eq!(i("$$A", &mut v), "$A");
        assert_eq!(i("cost: $$5", &mut v), "cost: $5");
        assert_eq!(i("${U:-${N}0}", &mut v), "70");
        assert_eq!(i("${U:-${V:-deep}}", &mut v), "deep");
        assert_eq!(i("${U:-a}b}", &mut v), "ab}");
        assert_eq!(i("no dollars", &mut v), "no dollars");
    }

    #[test]
    fn required_fails_with_message() {
        let mut v = vars(&[("E", "")]);
        assert_eq!(
            interpolate("${DB_PASSWORD:?set a password}", &mut v).unwrap_err(),
            "variable `DB_PASSWORD` is required: set a password"
        );
        assert_eq!(
            interpolate("${E:?}", &mut v).unwrap_err(),
            "variable `E` is required"
        );
        assert_eq!(
            interpolate("${U?must}", &mut v).unwrap_err(),
            "variable `U` is required: must"
        );
    }

    #[test]
    fn unset_warns_once() {
        let mut v = vars(&[]);
        assert_eq!(interpolate("$X ${X} $X", &mut v).unwrap(), "  ");
        assert_eq!(v.warnings.len(), 1);
        assert!(v.warnings[0].contains("`X` is not set"));
    }

    #[test]
    fn syntax_errors() {
        let mut v = vars(&[]);
        assert!(interpolate("${A", &mut v)
            .unwrap_err()
            .contains("unterminated"));
        assert!(interpolate("${}", &mut v).is_err());
        assert!(interpolate("${A*b}", &mut v).is_err());
        let deep = "${A:-".repeat(100) + &"}".repeat(100);
        assert!(interpolate(&deep, &mut v).unwrap_err().contains("nested"));
    }

    /// The Compose Specification's interpolation section, case by case, and
    /// the misreadings of real files.
    #[test]
    fn compose_specification_cases() {
        let mut v = vars(&[("FOO", "foo"), ("EMPTY", ""), ("JSON", "{\"a\":2}")]);
        let mut i = |s: &str| interpolate(s, &mut v).unwrap();
        // Direct substitution, braced and not.
        assert_eq!(i("$FOO ${FOO}"), "foo foo");
        // Defaults: `:-` for unset or empty, `-` for unset only.
        assert_eq!(i("${EMPTY:-d}|${EMPTY-d}|${UNSET-d}"), "d||d");
        // Replacements: `:+` for set and non-empty, `+` for set.
        assert_eq!(i("${FOO:+r}|${EMPTY:+r}|${EMPTY+r}|${UNSET+r}"), "r||r|");
        // Nesting, in defaults and in messages.
        assert_eq!(i("${UNSET:-${FOO}}"), "foo");
        assert_eq!(i("${UNSET:-${UNSET2:-default}}"), "default");
        assert_eq!(i("${FOO?$UNSET}"), "foo");
        // `$$` is a literal `$`; a `$` that starts no reference stays.
        assert_eq!(i("$$FOO"), "$FOO");
        assert_eq!(i("sh -c 'echo $(date)'"), "sh -c 'echo $(date)'");
        assert_eq!(i("echo $1 $@ $* $# $?"), "echo $1 $@ $* $# $?");
        assert_eq!(i("^a.*$"), "^a.*$");
        assert_eq!(i("$"), "$");
        assert_eq!(i("a $ b"), "a $ b");
        // Braces in a word nest.
        assert_eq!(i("${UNSET:-{a}b}"), "{a}b");
        assert_eq!(i("${JSON:-{\"json\":1}}"), "{\"a\":2}");
        assert_eq!(i("${UNSET:-{\"json\":1}}"), "{\"json\":1}");
        assert_eq!(i("${UNSET:+{a}}"), "");
        assert_eq!(i("${FOO:+{a}}"), "{a}");
        assert_eq!(i("${UNSET:-$${x}}"), "${x}");
        // Only the branch taken is interpolated: nothing is warned about.
        assert_eq!(i("${UNSET:+${UNSET},}B"), "B");
        assert_eq!(i("${FOO?${UNSET3}}"), "foo");
        assert_eq!(i("${FOO:-$UNSET4}"), "foo");
        assert!(v.warnings.is_empty(), "{:?}", v.warnings);
        // The branch taken does warn.
        assert_eq!(interpolate("${FOO:+$UNSET5}x", &mut v).unwrap(), "x");
        assert_eq!(v.warnings.len(), 1);
        // An unused branch cannot fail either.
        assert_eq!(interpolate("${FOO:-${NEED:?x}}", &mut v).unwrap(), "foo");
        assert!(interpolate("${UNSET:-${NEED:?x}}", &mut v).is_err());
    }

    #[test]
    fn env_file() {
        let (kv, errs) = parse_env_file(
            "# c\nA=1\nexport B = two \nC='lit $X'\nD=\"a\\nb\"\nE=x #comment\nF\n=bad\n",
        );
        assert_eq!(
            kv,
            vec![
                ("A".into(), Some("1".into())),
                ("B".into(), Some("two".into())),
                ("C".into(), Some("lit $X".into())),
                ("D".into(), Some("a\nb".into())),
                ("E".into(), Some("x".into())),
                ("F".into(), None),
            ]
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, 8);
    }
}
