//! The files a stack is read from: found (`-f` in order, or the default
//! file and the override file beside it), read, parsed, interpolated and
//! merged into one positioned tree, as Compose does. Each node keeps the
//! number of its file, so a problem names the file it is in.

use std::path::{Path, PathBuf};

use super::interp::Vars;
use super::load::{self, Problem};
use super::yaml::{self, Kind, Node, Pos};
use super::{extends, merge, printable, LoadError, LoadOptions};

/// Default stack files, looked for in this order; the first found is read
/// with its override file (`stack.override.yaml` beside `stack.yaml`, ...).
pub const DEFAULT_FILES: [&str; 6] = [
    "stack.yaml",
    "stack.yml",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// One file: the path as the user gave it (for messages), absolute, and
/// its bytes.
pub struct Source {
    pub shown: PathBuf,
    pub abs: PathBuf,
    pub bytes: Vec<u8>,
}

/// The files to read, in merge order.
pub fn find(opts: &LoadOptions) -> Result<Vec<PathBuf>, LoadError> {
    if !opts.files.is_empty() {
        return Ok(opts.files.clone());
    }
    let dir = match &opts.project_dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().map_err(|e| LoadError::Read {
            path: PathBuf::from("."),
            source: e,
        })?,
    };
    let shown = |name: &str| match &opts.project_dir {
        Some(d) => d.join(name),
        None => PathBuf::from(name),
    };
    for name in DEFAULT_FILES {
        if dir.join(name).is_file() {
            let mut files = vec![shown(name)];
            let (stem, _) = name.rsplit_once('.').unwrap_or((name, ""));
            for ext in ["yaml", "yml"] {
                let o = format!("{stem}.override.{ext}");
                if dir.join(&o).is_file() {
                    files.push(shown(&o));
                    break;
                }
            }
            return Ok(files);
        }
    }
    Err(LoadError::NotFound(dir))
}

/// Each file read (a regular file of bounded size) with its absolute path.
pub fn read(files: &[PathBuf]) -> Result<Vec<Source>, LoadError> {
    if files.len() > usize::from(u16::MAX) {
        return Err(LoadError::Invalid(vec![format!(
            "{} files given with -f; at most {} can be merged",
            files.len(),
            u16::MAX
        )]));
    }
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let read_err = |e| LoadError::Read {
            path: f.clone(),
            source: e,
        };
        let bytes = super::input::read_bytes(f).map_err(read_err)?;
        let abs = std::path::absolute(f).map_err(read_err)?;
        out.push(Source {
            shown: f.clone(),
            abs: load::normalize(&abs),
            bytes,
        });
    }
    Ok(out)
}

/// Variables for an included project: from its `env_file`s, else the
/// `.env` of its directory, under the process environment.
pub type VarsFor<'a> = &'a dyn Fn(&Path, &[PathBuf]) -> Result<Vars, String>;

/// Includes deeper than this are refused (a cycle is also found by path).
const MAX_INCLUDE_DEPTH: usize = 16;

/// The merged tree of `sources` (`include` and `extends` resolved, which
/// may read more files: they are added to `sources`), and the problems
/// found on the way; or the problems that stop it (a file that does not
/// parse, or is not a map).
pub fn tree(
    sources: &mut Vec<Source>,
    vars: &mut Vars,
    dir: &Path,
    vars_for: VarsFor,
) -> Result<(Node, Vec<Problem>), Vec<Problem>> {
    let mut broken = Vec::new();
    let mut problems = Vec::new();
    let mut roots = Vec::new();
    for i in 0..sources.len() {
        match root_of(sources, i, vars, &mut problems) {
            Ok(r) => roots.push(r),
            Err(ps) => broken.extend(ps),
        }
    }
    if !broken.is_empty() {
        return Err(broken);
    }
    let merged = roots.into_iter().reduce(merge::merge_files);
    let mut root = merged.unwrap_or_else(|| Node {
        pos: Pos::at(1, 1),
        kind: Kind::Map(Vec::new()),
        merge: yaml::MergeTag::None,
    });
    let mut seen: Vec<PathBuf> = sources.iter().map(|s| s.abs.clone()).collect();
    project(
        &mut root,
        dir,
        sources,
        vars,
        vars_for,
        &mut seen,
        &mut problems,
    );
    Ok((merge::strip(root), problems))
}

/// A project's tree made whole: its includes joined, its extends resolved.
fn project(
    root: &mut Node,
    dir: &Path,
    sources: &mut Vec<Source>,
    vars: &mut Vars,
    vars_for: VarsFor,
    seen: &mut Vec<PathBuf>,
    problems: &mut Vec<Problem>,
) {
    if let Some((k, inc)) = root.remove("include") {
        let items = match inc.kind {
            Kind::Seq(items) => items,
            Kind::Null => Vec::new(),
            _ => vec![inc],
        };
        for (i, it) in items.into_iter().enumerate() {
            let at = format!("include[{i}]");
            match include(
                &it,
                dir,
                sources,
                vars_for,
                seen,
                problems,
                &mut vars.warnings,
            ) {
                Ok(Some((inc_root, from))) => {
                    extends::include_into(root, inc_root, &from, problems)
                }
                Ok(None) => {}
                Err(msg) => problems.push(Problem {
                    pos: if it.pos == Pos::default() {
                        k.pos
                    } else {
                        it.pos
                    },
                    path: at,
                    msg,
                }),
            }
        }
    }
    let mut loader = Loader {
        sources,
        vars,
        problems: Vec::new(),
        cache: Vec::new(),
    };
    extends::resolve(root, dir, &mut loader, problems);
    problems.append(&mut loader.problems);
}

/// One `include` entry, read as its own project; `None` when its files
/// had problems (already pushed).
fn include(
    it: &Node,
    dir: &Path,
    sources: &mut Vec<Source>,
    vars_for: VarsFor,
    seen: &mut Vec<PathBuf>,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> Result<Option<(Node, PathBuf)>, String> {
    let list = |n: Option<&Node>, key: &str| -> Result<Vec<String>, String> {
        match n.map(|n| &n.kind) {
            None | Some(Kind::Null) => Ok(Vec::new()),
            Some(Kind::Scalar { value, .. }) => Ok(vec![value.clone()]),
            Some(Kind::Seq(items)) => items
                .iter()
                .map(|i| {
                    i.scalar()
                        .map(str::to_string)
                        .ok_or_else(|| format!("`{key}` must list paths"))
                })
                .collect(),
            Some(_) => Err(format!("`{key}` must be a path or a list of paths")),
        }
    };
    let (paths, pdir, env_files) = match &it.kind {
        Kind::Scalar { value, .. } => (vec![value.clone()], None, Vec::new()),
        Kind::Map(m) => {
            if let Some((k, _)) = m.iter().find(|(k, _)| {
                !matches!(k.name.as_str(), "path" | "project_directory" | "env_file")
            }) {
                return Err(format!(
                    "unknown key `{}` (expected path, project_directory or env_file)",
                    k.name
                ));
            }
            let pdir = it
                .get("project_directory")
                .and_then(Node::scalar)
                .map(|d| dir.join(d));
            (
                list(it.get("path"), "path")?,
                pdir,
                list(it.get("env_file"), "env_file")?,
            )
        }
        _ => {
            return Err(format!(
                "expected a path or {{ path, project_directory, env_file }}, found {}",
                it.describe()
            ))
        }
    };
    if paths.is_empty() {
        return Err("`path` is required: the file to include".into());
    }
    let files: Vec<PathBuf> = paths
        .iter()
        .map(|p| load::normalize(&dir.join(p)))
        .collect();
    if let Some(f) = files.iter().find(|f| seen.contains(f)) {
        return Err(format!("{} is already part of this project (include goes round in a circle, or names a file given with -f)", f.display()));
    }
    if seen.len() > MAX_INCLUDE_DEPTH + sources.len() {
        return Err(format!(
            "includes nest deeper than {MAX_INCLUDE_DEPTH} levels"
        ));
    }
    let pdir = pdir.unwrap_or_else(|| files[0].parent().unwrap_or(Path::new("/")).to_path_buf());
    let env: Vec<PathBuf> = env_files.iter().map(|e| dir.join(e)).collect();
    let mut ivars = vars_for(&pdir, &env)?;
    let mut roots = Vec::new();
    let mut bad = false;
    for f in &files {
        let i = add(sources, f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        match root_of(sources, i, &mut ivars, problems) {
            Ok(r) => roots.push(r),
            Err(ps) => {
                problems.extend(ps);
                bad = true;
            }
        }
    }
    if bad {
        return Ok(None);
    }
    seen.extend(files.iter().cloned());
    let Some(mut iroot) = roots.into_iter().reduce(merge::merge_files) else {
        return Ok(None);
    };
    project(
        &mut iroot, &pdir, sources, &mut ivars, vars_for, seen, problems,
    );
    warnings.append(&mut ivars.warnings);
    if let Some(Node {
        kind: Kind::Map(svcs),
        ..
    }) = iroot.get_mut("services")
    {
        for (_, svc) in svcs.iter_mut() {
            extends::absolutize(svc, &pdir);
        }
    }
    Ok(Some((iroot, files[0].clone())))
}

/// Read `path` as one more source; its index.
fn add(sources: &mut Vec<Source>, path: &Path) -> std::io::Result<usize> {
    if sources.len() >= usize::from(u16::MAX) {
        return Err(std::io::Error::other("too many files"));
    }
    let bytes = super::input::read_bytes(path)?;
    sources.push(Source {
        shown: path.to_path_buf(),
        abs: path.to_path_buf(),
        bytes,
    });
    Ok(sources.len() - 1)
}

/// Source `i` parsed, numbered and interpolated; it must be a map.
fn root_of(
    sources: &[Source],
    i: usize,
    vars: &mut Vars,
    problems: &mut Vec<Problem>,
) -> Result<Node, Vec<Problem>> {
    let file = i as u16;
    let mut root = parse_root(&sources[i].bytes).map_err(|ps| {
        ps.into_iter()
            .map(|mut p| {
                p.pos.file = file;
                p
            })
            .collect::<Vec<_>>()
    })?;
    yaml::set_file(&mut root, file);
    let msg = match &root.kind {
        Kind::Map(_) => None,
        Kind::Null => Some("the file is empty; a stack file is a map with `services:` (see examples/cola-wars/stack.yaml)".to_string()),
        _ => Some(format!(
            "expected a map with `services:` at the top of the file, found {}",
            root.describe()
        )),
    };
    if let Some(msg) = msg {
        return Err(vec![Problem {
            pos: root.pos,
            path: String::new(),
            msg,
        }]);
    }
    load::interpolate_tree(&mut root, vars, problems);
    Ok(root)
}

/// The files `extends` names, read once each, interpolated with the
/// project's variables.
struct Loader<'s> {
    sources: &'s mut Vec<Source>,
    vars: &'s mut Vars,
    problems: Vec<Problem>,
    cache: Vec<(PathBuf, Node)>,
}

impl extends::Files for Loader<'_> {
    fn load(&mut self, path: &Path) -> Result<Node, String> {
        let path = load::normalize(path);
        if let Some((_, n)) = self.cache.iter().find(|(p, _)| *p == path) {
            return Ok(n.clone());
        }
        let i = match self.sources.iter().position(|s| s.abs == path) {
            Some(i) => i,
            None => add(self.sources, &path).map_err(|e| e.to_string())?,
        };
        match root_of(self.sources, i, self.vars, &mut self.problems) {
            Ok(n) => {
                self.cache.push((path, n.clone()));
                Ok(n)
            }
            Err(ps) => {
                self.problems.extend(ps);
                Err("it has problems (listed with its name)".into())
            }
        }
    }
}

/// The positioned tree of a file's bytes: UTF-8, then YAML.
fn parse_root(bytes: &[u8]) -> Result<Node, Vec<Problem>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            // Position of the first bad byte.
            let good = &bytes[..e.valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let col = good.iter().rev().take_while(|b| **b != b'\n').count() + 1;
            return Err(vec![Problem {
                pos: Pos::at(line, col),
                path: String::new(),
                msg: "the file is not UTF-8 text (is it a stack file?)".into(),
            }]);
        }
    };
    yaml::parse(text).map_err(|errs| {
        errs.into_iter()
            .map(|e| Problem {
                pos: e.pos,
                path: String::new(),
                msg: e.msg,
            })
            .collect()
    })
}

/// Problems as `FILE:LINE:COL: key.path: message`, in file then position
/// order, each one printable line.
pub fn format(sources: &[Source], mut problems: Vec<Problem>) -> Vec<String> {
    problems.sort_by_key(|p| p.pos);
    problems
        .into_iter()
        .map(|p| {
            let f = shown(sources, p.pos);
            let line = if p.path.is_empty() {
                format!("{}:{}:{}: {}", f.display(), p.pos.line, p.pos.col, p.msg)
            } else {
                format!(
                    "{}:{}:{}: {}: {}",
                    f.display(),
                    p.pos.line,
                    p.pos.col,
                    p.path,
                    p.msg
                )
            };
            printable(&line)
        })
        .collect()
}

/// The file a position is in, as the user named it.
pub fn shown(sources: &[Source], pos: Pos) -> &Path {
    sources
        .get(usize::from(pos.file))
        .or(sources.first())
        .map(|s| s.shown.as_path())
        .unwrap_or(Path::new("stack.yaml"))
}
