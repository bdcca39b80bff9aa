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
    let (out, _) = expand(&chars, 0, false, vars, 0)?;
    Ok(out)
}

/// Expand from `i`; when `in_braces` stop at the matching `}` and return the
/// index just past it. Depth is bounded so nested defaults cannot overflow.
fn expand(
    c: &[char],
    mut i: usize,
    in_braces: bool,
    vars: &mut Vars,
    depth: usize,
) -> Result<(String, usize), String> {
    if depth > 32 {
        return Err("interpolation nested too deeply".into());
    }
    let mut out = String::new();
    while i < c.len() {
        let ch = c[i];
        if in_braces && ch == '}' {
            return Ok((out, i + 1));
        }
        if ch != '$' {
            out.push(ch);
            i += 1;
            continue;
        }
        // `$` ...
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
                let rest: String = c[i..].iter().take(12).collect();
                return Err(format!(
                    "invalid interpolation at {rest:?} (write $$ for a literal $)"
                ));
            }
        }
    }
    if in_braces {
        return Err("unterminated ${ (missing })".into());
    }
    Ok((out, i))
}

/// After `${`: NAME, then `}` or an operator and a word up to the matching `}`.
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
            "invalid interpolation {rest:?} (expected ${{NAME}})"
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
    let (word, next) = expand(c, j + op.chars().count(), true, vars, depth + 1)?;
    let value = vars.lookup(&name);
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let out = match op.as_str() {
        ":-" => {
            if non_empty {
                value.unwrap_or_default()
            } else {
                word
            }
        }
        "-" => {
            if set {
                value.unwrap_or_default()
            } else {
                word
            }
        }
        ":+" => {
            if non_empty {
                word
            } else {
                String::new()
            }
        }
        "+" => {
            if set {
                word
            } else {
                String::new()
            }
        }
        ":?" | "?" => {
            let ok = if op == ":?" { non_empty } else { set };
            if !ok {
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
    Ok((out, next))
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
        assert!(interpolate("a $ b", &mut v).unwrap_err().contains("$$"));
        let deep = "${A:-".repeat(100) + &"}".repeat(100);
        assert!(interpolate(&deep, &mut v).unwrap_err().contains("nested"));
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
