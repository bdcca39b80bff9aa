//! A YAML node tree that keeps the line and column of every node.
//!
//! serde_yaml loses positions and does not apply merge keys, so the loader
//! drives yaml-rust2's event parser itself (iteratively: no recursion that a
//! hostile file could overflow), resolves aliases, applies `<<` merge keys
//! and rejects duplicate keys.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// 1-based line and column, in the file numbered `file` (0: the first of
/// the files merged, in `-f` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub file: u16,
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub fn at(line: usize, col: usize) -> Pos {
        Pos { file: 0, line, col }
    }
    fn from_marker(m: &Marker) -> Pos {
        Pos::at(m.line().max(1), m.col() + 1)
    }
}

/// Compose's merge tags: `!reset` removes what earlier files gave a key,
/// `!override` replaces it whole instead of merging.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MergeTag {
    #[default]
    None,
    Reset,
    Override,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `~`, `null` or nothing.
    Null,
    /// A scalar's text; `plain` is false for quoted and block scalars.
    Scalar {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Keys in file order; keys are scalars (others are rejected).
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub kind: Kind,
    pub merge: MergeTag,
}

impl Node {
    /// The value of `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(m) => m.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value of `key` in a map, for changing it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match &mut self.kind {
            Kind::Map(m) => m.iter_mut().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Take `key` (and its value) out of a map.
    pub fn remove(&mut self, key: &str) -> Option<(Key, Node)> {
        match &mut self.kind {
            Kind::Map(m) => {
                let i = m.iter().position(|(k, _)| k.name == key)?;
                Some(m.remove(i))
            }
            _ => None,
        }
    }

    /// The text of a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// What the node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Scalar { .. } => "a scalar",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a map",
        }
    }
}

/// Number every position in `n` as being in file `file` (after parsing,
/// before files are merged).
pub fn set_file(n: &mut Node, file: u16) {
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        n.pos.file = file;
        match &mut n.kind {
            Kind::Seq(v) => stack.extend(v.iter_mut()),
            Kind::Map(v) => {
                for (k, v) in v.iter_mut() {
                    k.pos.file = file;
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
}

/// A YAML problem at a position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub pos: Pos,
    pub msg: String,
}

/// Nesting deeper than this is refused: no real stack file needs it, and it
/// keeps every later walk (and the tree's drop) shallow.
pub const MAX_DEPTH: usize = 128;
/// Total nodes after alias expansion ("billion laughs" guard).
pub const MAX_NODES: usize = 2_000_000;

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        merge: MergeTag,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        merge: MergeTag,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

fn count(n: &Node) -> usize {
    // Iterative: the tree is shallow by construction but stay safe.
    let mut stack = vec![n];
    let mut c = 0;
    while let Some(n) = stack.pop() {
        c += 1;
        match &n.kind {
            Kind::Seq(v) => stack.extend(v.iter()),
            Kind::Map(v) => stack.extend(v.iter().map(|(_, n)| n)),
            _ => {}
        }
    }
    c
}

/// Parse one YAML document. An empty document is `Kind::Null`. All
/// duplicate-key problems are reported; a syntax error stops parsing.
pub fn parse(src: &str) -> Result<Node, Vec<YamlError>> {
    let mut parser = Parser::new_from_str(src);
    let mut b = Builder::default();
    loop {
        let (ev, mark) = match parser.next_token() {
            Ok(x) => x,
            Err(e) => {
                b.errors.push(syntax_error(src, &e));
                return Err(b.errors);
            }
        };
        if matches!(ev, Event::StreamEnd) {
            break;
        }
        match b.event(ev, Pos::from_marker(&mark)) {
            Ok(Some((node, anchor))) => b.place(node, anchor),
            Ok(None) => {}
            Err(e) => {
                b.errors.push(e);
                return Err(b.errors);
            }
        }
    }
    if !b.errors.is_empty() {
        return Err(b.errors);
    }
    Ok(b.root.unwrap_or(Node {
        merge: MergeTag::None,
        pos: Pos::at(1, 1),
        kind: Kind::Null,
    }))
}

/// The parser's own error, said for a stack file's author.
fn syntax_error(src: &str, e: &yaml_rust2::scanner::ScanError) -> YamlError {
    let pos = Pos::from_marker(e.marker());
    let mut msg = if e.info().contains("unknown anchor") {
        "invalid YAML: alias `*name` to an anchor not defined before it (define `&name` first)"
            .to_string()
    } else {
        format!("invalid YAML: {}", e.info())
    };
    if src
        .lines()
        .nth(pos.line.saturating_sub(1))
        .is_some_and(|l| l.trim_start_matches(' ').starts_with('\t'))
        || e.info().contains("tab")
    {
        msg.push_str(" (YAML indentation must use spaces, not tabs)");
    }
    YamlError { pos, msg }
}

/// The tree being built from the parser's events.
#[derive(Default)]
struct Builder {
    /// Open sequences and maps, innermost last.
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    /// Problems that do not stop parsing (duplicate keys).
    errors: Vec<YamlError>,
    /// Nodes so far, aliases expanded.
    nodes: usize,
    docs: usize,
}

impl Builder {
    /// One event: the node it completes (with its anchor id, 0 for none),
    /// if any; `Err` stops parsing.
    fn event(&mut self, ev: Event, pos: Pos) -> Result<Option<(Node, usize)>, YamlError> {
        let err = |msg: String| Err(YamlError { pos, msg });
        Ok(match ev {
            Event::DocumentStart => {
                self.docs += 1;
                if self.docs > 1 {
                    return err(
                        "a stack file holds one YAML document; remove the extra `---`".into(),
                    );
                }
                None
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => None,
            Event::Alias(id) => {
                let Some(n) = self.anchors.get(&id) else {
                    return err("unknown alias".into());
                };
                self.nodes += count(n);
                if self.nodes > MAX_NODES {
                    return err(format!(
                        "aliases expand to more than {MAX_NODES} nodes; simplify the file"
                    ));
                }
                let mut n = n.clone();
                // Errors about an alias point at where it is used.
                n.pos = pos;
                Some((n, 0))
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.nodes += 1;
                let (core, merge) = self.tag(tag.as_ref(), pos);
                // `!!str 8080` is a string, as if quoted.
                let plain = style == TScalarStyle::Plain && core != Some("str");
                let is_null = plain
                    && tag.is_none()
                    && matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL");
                let kind = if is_null {
                    Kind::Null
                } else {
                    Kind::Scalar { value, plain }
                };
                Some((Node { pos, kind, merge }, anchor))
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                let (_, merge) = self.tag(tag.as_ref(), pos);
                if self.stack.len() >= MAX_DEPTH {
                    return err(format!("nesting deeper than {MAX_DEPTH} levels"));
                }
                self.stack.push(if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        pos,
                        anchor,
                        merge,
                        items: Vec::new(),
                    }
                } else {
                    Frame::Map {
                        pos,
                        anchor,
                        merge,
                        entries: Vec::new(),
                        key: None,
                    }
                });
                None
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    pos,
                    anchor,
                    merge,
                    items,
                }) => {
                    self.nodes += 1;
                    Some((
                        Node {
                            merge,
                            pos,
                            kind: Kind::Seq(items),
                        },
                        anchor,
                    ))
                }
                _ => return err("invalid YAML: unbalanced sequence".into()),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    pos,
                    anchor,
                    merge,
                    entries,
                    ..
                }) => {
                    self.nodes += 1;
                    let map = build_map(entries, &mut self.errors);
                    Some((
                        Node {
                            merge,
                            pos,
                            kind: Kind::Map(map),
                        },
                        anchor,
                    ))
                }
                _ => return err("invalid YAML: unbalanced mapping".into()),
            },
        })
    }

    /// A node's tag: the YAML core schema's `!!str`, `!!int`, ... are what
    /// the node is anyway (`Some(suffix)`); any other tag would change its
    /// meaning, so it is refused rather than ignored.
    fn tag<'t>(&mut self, tag: Option<&'t Tag>, pos: Pos) -> (Option<&'t str>, MergeTag) {
        let Some(t) = tag else {
            return (None, MergeTag::None);
        };
        const CORE: [&str; 7] = ["str", "int", "float", "bool", "null", "map", "seq"];
        if t.handle == "tag:yaml.org,2002:" && CORE.contains(&t.suffix.as_str()) {
            return (Some(&t.suffix), MergeTag::None);
        }
        let shown = match t.handle.as_str() {
            "tag:yaml.org,2002:" => format!("!!{}", t.suffix),
            "!" | "" => format!("!{}", t.suffix),
            h => format!("{h}{}", t.suffix),
        };
        match shown.as_str() {
            "!reset" => return (None, MergeTag::Reset),
            "!override" => return (None, MergeTag::Override),
            _ => {}
        }
        self.errors.push(YamlError {
            pos,
            msg: format!("YAML tag `{shown}` is not supported; remove it"),
        });
        (None, MergeTag::None)
    }

    /// Put a completed node where it belongs: the root, the open list, or
    /// the open map (as its next key or the value of the pending key).
    fn place(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

/// Turn raw entries into a key list: scalar keys only, explicit duplicates
/// rejected with both positions, `<<` merges applied (explicit keys win,
/// then earlier merged maps win over later ones, as the YAML spec says).
fn build_map(entries: Vec<(Node, Node)>, errors: &mut Vec<YamlError>) -> Vec<(Key, Node)> {
    let mut out: Vec<(Key, Node)> = Vec::with_capacity(entries.len());
    let mut seen: HashMap<String, Pos> = HashMap::new();
    let mut merges: Vec<Node> = Vec::new();
    for (k, v) in entries {
        let name = match k.kind {
            Kind::Scalar { value, .. } => value,
            Kind::Null => "null".to_string(),
            _ => {
                errors.push(YamlError {
                    pos: k.pos,
                    msg: format!("a key must be a string, found {}", k.describe()),
                });
                continue;
            }
        };
        if name == "<<" {
            merges.push(v);
            continue;
        }
        if let Some(first) = seen.get(&name) {
            errors.push(YamlError {
                pos: k.pos,
                msg: format!(
                    "duplicate key `{name}` (first defined at line {}, column {})",
                    first.line, first.col
                ),
            });
            continue;
        }
        seen.insert(name.clone(), k.pos);
        out.push((Key { name, pos: k.pos }, v));
    }
    for m in merges {
        let sources: Vec<Node> = match m.kind {
            Kind::Map(_) => vec![m],
            Kind::Seq(items) => items,
            _ => {
                errors.push(YamlError {
                    pos: m.pos,
                    msg: format!(
                        "a merge key `<<` takes a map or a list of maps, found {}",
                        m.describe()
                    ),
                });
                continue;
            }
        };
        for src in sources {
            match src.kind {
                Kind::Map(kv) => {
                    for (k, v) in kv {
                        if !seen.contains_key(&k.name) {
                            seen.insert(k.name.clone(), k.pos);
                            out.push((k, v));
                        }
                    }
                }
                _ => errors.push(YamlError {
                    pos: src.pos,
                    msg: format!(
                        "a merge key `<<` takes a map or a list of maps, found {}",
                        src.describe()
                    ),
                }),
            }
        }
    }
    out
}

impl Node {
    /// The tree as JSON (for schema validation): plain scalars typed as
    /// YAML's core schema does (int, float, bool), quoted ones as strings.
    /// Recursion is bounded by `MAX_DEPTH`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Scalar { value, plain } => {
                if *plain {
                    if let Ok(i) = value.parse::<i64>() {
                        return Value::from(i);
                    }
                    if let Ok(f) = value.parse::<f64>() {
                        if f.is_finite() && value.bytes().any(|b| b.is_ascii_digit()) {
                            return Value::from(f);
                        }
                    }
                    match value.as_str() {
                        "true" | "True" | "TRUE" => return Value::Bool(true),
                        "false" | "False" | "FALSE" => return Value::Bool(false),
                        _ => {}
                    }
                }
                Value::String(value.clone())
            }
            Kind::Seq(v) => Value::Array(v.iter().map(Node::to_json).collect()),
            Kind::Map(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(n: &Node) -> &Vec<(Key, Node)> {
        match &n.kind {
            Kind::Map(m) => m,
            k => panic!("not a map: {k:?}"),
        }
    }
    fn get<'a>(n: &'a Node, k: &str) -> &'a Node {
        &map(n).iter().find(|(kk, _)| kk.name == k).unwrap().1
    }
    fn s(n: &Node) -> &str {
        match &n.kind {
            Kind::Scalar { value, .. } => value,
            k => panic!("not a scalar: {k:?}"),
        }
    }

    #[test]
    fn positions() {
        let n = parse("a: 1\nb:\n  c: [x, y]\n").unwrap();
        let a = get(&n, "a");
        assert_eq!(a.pos, Pos::at(1, 4));
        let c = get(get(&n, "b"), "c");
        assert_eq!(c.pos, Pos::at(3, 6));
        let b_key = &map(&n)[1].0;
        assert_eq!(b_key.pos, Pos::at(2, 1));
    }

    #[test]
    fn empty_is_null() {
        assert_eq!(parse("").unwrap().kind, Kind::Null);
        assert_eq!(parse("# only a comment\n").unwrap().kind, Kind::Null);
    }

    #[test]
    fn anchors_and_merge() {
        let src = "base: &b {x: 1, y: 2}\nother: &o {z: 3, x: 9}\nm:\n  <<: [*b, *o]\n  y: 5\nsingle:\n  <<: *b\n";
        let n = parse(src).unwrap();
        let m = get(&n, "m");
        assert_eq!(s(get(m, "x")), "1"); // first merged map wins
        assert_eq!(s(get(m, "y")), "5"); // explicit key wins
        assert_eq!(s(get(m, "z")), "3");
        assert_eq!(s(get(get(&n, "single"), "y")), "2");
    }

    #[test]
    fn merge_of_scalar_is_error() {
        let e = parse("a:\n  <<: 3\n").unwrap_err();
        assert_eq!(e[0].pos, Pos::at(2, 7));
        assert!(e[0].msg.contains("merge key"));
    }

    #[test]
    fn duplicates_report_both_positions() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].pos, Pos::at(3, 1));
        assert_eq!(
            e[0].msg,
            "duplicate key `a` (first defined at line 1, column 1)"
        );
    }

    #[test]
    fn tabs_and_garbage_are_errors() {
        let e = parse("services:\n\tweb: {}\n").unwrap_err();
        assert!(e[0].msg.contains("tabs"), "{e:?}");
        assert!(parse("a: [1, 2\n").is_err());
        assert!(parse("\u{0}\u{1}\u{2}").is_err() || parse("\u{0}\u{1}\u{2}").is_ok());
        assert!(parse("a: *nope\n").is_err());
    }

    #[test]
    fn depth_limit() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse(&deep).unwrap_err();
        assert!(
            e[0].msg.contains("nesting deeper") || e[0].msg.contains("recursion"),
            "{e:?}"
        );
    }

    #[test]
    fn billion_laughs() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse(&src).unwrap_err();
        assert!(e[0].msg.contains("aliases expand"));
    }
}
