//! `host: [binaries]`: the walk-through's first step, automated. Copy each
//! binary and every shared library it needs (its ELF interpreter and
//! `DT_NEEDED` entries, resolved as the dynamic loader would, recursively)
//! into a rootfs cached by the files' contents.
//!
//! Paths are mirrored as they are on the host, symlinks included: `/bin/sh →
//! dash` stays a symlink next to the real `dash`, and a usr-merged host's
//! `/lib → usr/lib` is recreated, so every path the loader or a script uses
//! on the host also works inside.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use goblin::elf::Elf;
use sha2::{Digest, Sha256};

use super::cache::{self, io_err};
use super::RootfsError;

/// Bumped when the layout built here changes, so old cache entries are not reused.
const LAYOUT: &str = "stack-host-rootfs-v1";
const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const GROUP: &str = "root:x:0:\nnogroup:x:65534:\n";
/// Empty mount points and the directories every container expects.
const MOUNT_POINTS: &[&str] = &["proc", "sys", "dev", "tmp", "etc", "root", "run"];

/// One path of the rootfs to build, absolute as inside the container.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir {
        mode: u32,
    },
    Symlink {
        target: PathBuf,
    },
    File {
        host: PathBuf,
        mode: u32,
        sha: String,
    },
}

#[derive(Default)]
struct Plan {
    nodes: BTreeMap<PathBuf, Node>,
}

/// What the loader needs to know about one ELF object.
struct ElfInfo {
    interp: Option<String>,
    needed: Vec<String>,
    rpath: Vec<String>,
    runpath: Vec<String>,
    machine: u16,
    is_64: bool,
}

fn host_err(path: &Path, message: impl Into<String>) -> RootfsError {
    RootfsError::Host {
        path: path.into(),
        message: message.into(),
    }
}

/// A file `host:` cannot copy as an executable.
#[derive(Debug, thiserror::Error)]
#[error("not an ELF binary ({0})")]
struct NotElf(#[source] goblin::error::Error);

fn parse_elf(path: &Path, bytes: &[u8]) -> Result<ElfInfo, NotElf> {
    let elf = Elf::parse(bytes).map_err(NotElf)?;
    let split = |v: &Vec<&str>| -> Vec<String> {
        v.iter()
            .flat_map(|s| s.split(':'))
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let _ = path;
    Ok(ElfInfo {
        interp: elf.interpreter.map(String::from),
        needed: elf.libraries.iter().map(|s| s.to_string()).collect(),
        rpath: split(&elf.rpaths),
        runpath: split(&elf.runpaths),
        machine: elf.header.e_machine,
        is_64: elf.is_64,
    })
}

/// The names and `..`s of `path`, last first: a stack to pop while walking.
fn to_walk(path: &Path) -> Vec<std::ffi::OsString> {
    let mut comps: Vec<std::ffi::OsString> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    comps.reverse();
    comps
}

impl Plan {
    /// Add `path` (absolute, on the host) to the plan the way the kernel
    /// resolves it: every directory on the way, every symlink as a symlink
    /// (then its target), and the final regular file. Returns the real host
    /// path of that file.
    fn mirror(&mut self, path: &Path, for_what: &Path) -> Result<PathBuf, RootfsError> {
        let mut todo: Vec<PathBuf> = Vec::new();
        let mut rest = to_walk(path);
        let mut resolved = PathBuf::from("/");
        let mut hops = 0;
        while let Some(comp) = rest.pop() {
            if comp == ".." {
                resolved.pop();
                continue;
            }
            let candidate = resolved.join(&comp);
            let meta = fs::symlink_metadata(&candidate).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    host_err(
                        for_what,
                        format!("{} does not exist on the host", candidate.display()),
                    )
                } else {
                    io_err("stat", &candidate, e)
                }
            })?;
            let ft = meta.file_type();
            if ft.is_symlink() {
                hops += 1;
                if hops > 40 {
                    return Err(host_err(
                        for_what,
                        format!("too many symlinks resolving {}", path.display()),
                    ));
                }
                let target =
                    fs::read_link(&candidate).map_err(|e| io_err("read link", &candidate, e))?;
                self.nodes
                    .entry(candidate.clone())
                    .or_insert(Node::Symlink {
                        target: target.clone(),
                    });
                // Continue with the target's components, then what was left.
                if target.is_absolute() {
                    resolved = PathBuf::from("/");
                }
                rest.extend(to_walk(&target));
            } else if ft.is_dir() {
                self.nodes.entry(candidate.clone()).or_insert(Node::Dir {
                    mode: meta.permissions().mode() & 0o7777,
                });
                resolved = candidate;
            } else if ft.is_file() {
                if !rest.is_empty() {
                    return Err(host_err(
                        for_what,
                        format!("{} is not a directory", candidate.display()),
                    ));
                }
                if !self.nodes.contains_key(&candidate) {
                    let sha = cache::sha256_file(&candidate, &mut |_| {})?;
                    self.nodes.insert(
                        candidate.clone(),
                        Node::File {
                            host: candidate.clone(),
                            mode: meta.permissions().mode() & 0o7777,
                            sha,
                        },
                    );
                }
                todo.push(candidate.clone());
                resolved = candidate;
            } else {
                return Err(host_err(
                    for_what,
                    format!("{} is not a regular file", candidate.display()),
                ));
            }
        }
        match todo.pop() {
            Some(f) => Ok(f),
            None => Err(host_err(
                for_what,
                format!("{} is a directory, not a binary", path.display()),
            )),
        }
    }

    fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(LAYOUT);
        h.update(PASSWD);
        h.update(GROUP);
        for (path, node) in &self.nodes {
            h.update(path.as_os_str().as_encoded_bytes());
            h.update([0]);
            match node {
                Node::Dir { mode } => h.update(format!("d{mode:o}")),
                Node::Symlink { target } => {
                    h.update("l");
                    h.update(target.as_os_str().as_encoded_bytes());
                }
                Node::File { mode, sha, .. } => h.update(format!("f{mode:o}:{sha}")),
            }
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    fn files(&self) -> usize {
        self.nodes
            .values()
            .filter(|n| matches!(n, Node::File { .. }))
            .count()
    }

    /// Write the planned tree into `root` (an empty directory we own, so
    /// nothing in it can redirect a write).
    fn build(&self, root: &Path) -> Result<(), RootfsError> {
        let inside = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
        for (path, node) in &self.nodes {
            let dest = inside(path);
            match node {
                Node::Dir { mode } => {
                    match fs::create_dir(&dest) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(io_err("create", &dest, e)),
                    }
                    fs::set_permissions(&dest, fs::Permissions::from_mode(*mode))
                        .map_err(|e| io_err("chmod", &dest, e))?;
                }
                Node::Symlink { target } => {
                    std::os::unix::fs::symlink(target, &dest)
                        .map_err(|e| io_err("symlink", &dest, e))?;
                }
                Node::File { host, mode, .. } => {
                    fs::copy(host, &dest).map_err(|e| io_err("copy to rootfs", host, e))?;
                    fs::set_permissions(&dest, fs::Permissions::from_mode(*mode))
                        .map_err(|e| io_err("chmod", &dest, e))?;
                }
            }
        }
        for d in MOUNT_POINTS {
            let p = root.join(d);
            if fs::symlink_metadata(&p).is_err() {
                fs::create_dir(&p).map_err(|e| io_err("create", &p, e))?;
            }
        }
        let tmp = root.join("tmp");
        if fs::symlink_metadata(&tmp)
            .map(|m| m.is_dir())
            .unwrap_or(false)
        {
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o1777))
                .map_err(|e| io_err("chmod", &tmp, e))?;
        }
        // A host without usr-merge may have given us only /usr/bin/x: keep
        // `/bin/x` working.
        for d in ["bin", "sbin"] {
            if fs::symlink_metadata(root.join(d)).is_err() && root.join("usr").join(d).is_dir() {
                let link = root.join(d);
                std::os::unix::fs::symlink(format!("usr/{d}"), &link)
                    .map_err(|e| io_err("symlink", &link, e))?;
            }
        }
        for (name, content) in [("passwd", PASSWD), ("group", GROUP)] {
            let p = root.join("etc").join(name);
            if fs::symlink_metadata(&p).is_err() {
                fs::write(&p, content).map_err(|e| io_err("write", &p, e))?;
            }
        }
        Ok(())
    }
}

/// Directories from `/etc/ld.so.conf` (and its `include`s), in order.
fn ld_so_conf_dirs() -> Vec<PathBuf> {
    fn read(path: &Path, out: &mut Vec<PathBuf>, depth: u32) {
        if depth > 4 {
            return;
        }
        let Ok(text) = fs::read_to_string(path) else {
            return;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(pat) = line.strip_prefix("include") {
                let pat = pat.trim();
                // Only the common `dir/*.conf` form.
                if let Some(dir) = pat.strip_suffix("/*.conf") {
                    let dir = if Path::new(dir).is_absolute() {
                        PathBuf::from(dir)
                    } else {
                        path.parent().unwrap_or(Path::new("/")).join(dir)
                    };
                    if let Ok(rd) = fs::read_dir(&dir) {
                        let mut files: Vec<PathBuf> = rd
                            .flatten()
                            .map(|e| e.path())
                            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                            .collect();
                        files.sort();
                        for f in files {
                            read(&f, out, depth + 1);
                        }
                    }
                }
            } else if line.starts_with('/') {
                out.push(PathBuf::from(line));
            }
        }
    }
    let mut out = Vec::new();
    read(Path::new("/etc/ld.so.conf"), &mut out, 0);
    out
}

fn multiarch(machine: u16, is_64: bool) -> Option<&'static str> {
    use goblin::elf::header::*;
    Some(match (machine, is_64) {
        (EM_X86_64, true) => "x86_64-linux-gnu",
        (EM_386, false) => "i386-linux-gnu",
        (EM_AARCH64, true) => "aarch64-linux-gnu",
        (EM_ARM, false) => "arm-linux-gnueabihf",
        (EM_RISCV, true) => "riscv64-linux-gnu",
        (EM_PPC64, true) => "powerpc64le-linux-gnu",
        (EM_S390, true) => "s390x-linux-gnu",
        _ => return None,
    })
}

/// Whether `path` is an ELF object the loader would accept for an object of
/// `machine`/`is_64` (it skips, e.g., 32-bit libraries in a shared dir).
fn compatible(path: &Path, machine: u16, is_64: bool) -> bool {
    use std::io::Read;
    // The ELF header is all we need; libraries can be large.
    let mut head = [0u8; 64];
    let ok = fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok();
    if !ok {
        return false;
    }
    match Elf::parse_header(&head) {
        Ok(h) => h.e_machine == machine && (h.e_ident[4] == 2) == is_64,
        Err(_) => false,
    }
}

/// Prepare the rootfs for `bins` (absolute host paths) in the cache.
pub fn prepare(
    bins: &[PathBuf],
    cache_dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<PathBuf, RootfsError> {
    let plan = plan(bins)?;
    let key = plan.key();
    cache::get_or_build(cache_dir, &key, |tmp| {
        progress(&format!(
            "building rootfs from {} host binaries ({} files)",
            bins.len(),
            plan.files()
        ));
        plan.build(tmp)
    })
}

fn plan(bins: &[PathBuf]) -> Result<Plan, RootfsError> {
    if bins.is_empty() {
        return Err(RootfsError::HostEmpty);
    }
    let mut plan = Plan::default();
    let conf_dirs = ld_so_conf_dirs();
    // (real host path, the listed binary it is needed by, rpath inherited from the executable)
    let mut queue: Vec<(PathBuf, PathBuf, Vec<String>, bool)> = Vec::new();
    for b in bins {
        if !b.is_absolute() {
            return Err(host_err(b, "must be an absolute path (e.g. /bin/sh)"));
        }
        let real = plan.mirror(b, b)?;
        queue.push((real, b.clone(), Vec::new(), true));
    }
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    while let Some((real, binary, inherited_rpath, listed)) = queue.pop() {
        if !seen.insert(real.clone()) {
            continue;
        }
        let bytes = fs::read(&real).map_err(|e| io_err("read", &real, e))?;
        let info = match parse_elf(&real, &bytes) {
            Ok(i) => i,
            Err(m) if listed => {
                return Err(host_err(
                    &binary,
                    format!("{m}; `host:` copies ELF executables and their libraries, so list the interpreter of a script (e.g. /bin/sh) instead"),
                ))
            }
            Err(m) => return Err(host_err(&binary, format!("{}: {m}", real.display()))),
        };
        let origin = real.parent().unwrap_or(Path::new("/")).to_path_buf();
        let expand = |d: &str| -> PathBuf {
            PathBuf::from(
                d.replace("${ORIGIN}", &origin.to_string_lossy())
                    .replace("$ORIGIN", &origin.to_string_lossy()),
            )
        };
        let mut interp_dir = None;
        if let Some(interp) = &info.interp {
            let ireal = plan.mirror(Path::new(interp), &binary)?;
            interp_dir = ireal.parent().map(Path::to_path_buf);
            queue.push((ireal, binary.clone(), Vec::new(), false));
        }
        // DT_RPATH applies (with the executable's) only when there is no DT_RUNPATH.
        let mut dirs: Vec<PathBuf> = Vec::new();
        let mut rpath_for_children = inherited_rpath.clone();
        if info.runpath.is_empty() {
            for d in info.rpath.iter().chain(inherited_rpath.iter()) {
                dirs.push(expand(d));
            }
            rpath_for_children.extend(
                info.rpath
                    .iter()
                    .map(|d| expand(d).to_string_lossy().into_owned()),
            );
        } else {
            dirs.extend(info.runpath.iter().map(|d| expand(d)));
        }
        dirs.extend(conf_dirs.iter().cloned());
        if let Some(d) = &interp_dir {
            dirs.push(d.clone());
        }
        if let Some(ma) = multiarch(info.machine, info.is_64) {
            dirs.push(Path::new("/lib").join(ma));
            dirs.push(Path::new("/usr/lib").join(ma));
        }
        for d in ["/lib64", "/usr/lib64", "/lib", "/usr/lib"] {
            dirs.push(PathBuf::from(d));
        }
        let mut unique = BTreeSet::new();
        dirs.retain(|d| unique.insert(d.clone()));
        for lib in &info.needed {
            let found = if lib.contains('/') {
                let p = PathBuf::from(lib);
                p.exists().then_some(p)
            } else {
                dirs.iter()
                    .map(|d| d.join(lib))
                    .find(|p| p.is_file() && compatible(p, info.machine, info.is_64))
            };
            let Some(found) = found else {
                return Err(RootfsError::LibraryNotFound {
                    binary: binary.clone(),
                    library: if listed {
                        lib.clone()
                    } else {
                        format!("{lib} (for {})", real.display())
                    },
                    searched: dirs
                        .iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            let lreal = plan.mirror(&found, &binary)?;
            queue.push((lreal, binary.clone(), rpath_for_children.clone(), false));
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_sh_with_its_libraries_and_same_key() {
        let a = plan(&[PathBuf::from("/bin/sh")]).unwrap();
        let b = plan(&[PathBuf::from("/bin/sh")]).unwrap();
        assert_eq!(a.key(), b.key());
        // A dynamically linked /bin/sh needs its interpreter and libc.
        let files: Vec<String> = a
            .nodes
            .iter()
            .filter(|(_, n)| matches!(n, Node::File { .. }))
            .map(|(p, _)| p.display().to_string())
            .collect();
        assert!(files.iter().any(|f| f.contains("libc.so")), "{files:?}");
        let real = fs::canonicalize("/bin/sh").unwrap();
        assert!(
            matches!(a.nodes.get(&real), Some(Node::File { .. })),
            "{:?}",
            a.nodes
        );
    }

    #[test]
    fn static_binary_needs_nothing_else() {
        let bb = Path::new("/bin/busybox");
        let Ok(bytes) = fs::read(bb) else { return };
        let info = parse_elf(bb, &bytes).unwrap();
        if info.interp.is_some() {
            return; // a dynamic busybox: nothing to check here
        }
        let p = plan(&[bb.to_path_buf()]).unwrap();
        assert_eq!(p.files(), 1, "{:?}", p.nodes);
    }

    #[test]
    fn non_elf_and_missing_are_named() {
        let d = tempfile::tempdir().unwrap();
        let script = d.path().join("script.sh");
        fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
        let e = plan(std::slice::from_ref(&script))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("script.sh") && e.contains("not an ELF"), "{e}");
        let missing = d.path().join("nope");
        let e = plan(&[missing]).err().unwrap().to_string();
        assert!(e.contains("nope") && e.contains("does not exist"), "{e}");
        let e = plan(&[PathBuf::from("sh")]).err().unwrap().to_string();
        assert!(e.contains("absolute"), "{e}");
    }
}
