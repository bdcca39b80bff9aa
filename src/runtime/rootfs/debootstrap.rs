//! `debootstrap: {suite, variant, mirror}`: the walk-through's second step,
//! run once and cached by its arguments. Its output is streamed as progress;
//! a failed run leaves no cache entry (see `cache::get_or_build`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use super::cache;
use super::Debootstrap;
use super::RootfsError;

/// Lines of output kept to explain a failure.
const TAIL: usize = 12;

/// Where `debootstrap` is: `$PATH`, then the sbin dirs a non-login root
/// shell may lack.
pub fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join("debootstrap"))
        .find(|p| p.is_file())
}

/// The cache key of a debootstrap source.
pub fn key(d: &Debootstrap) -> String {
    let mut h = Sha256::new();
    for part in [
        "debootstrap-v1",
        &d.suite,
        d.variant.as_deref().unwrap_or(""),
        d.mirror.as_deref().unwrap_or(""),
    ] {
        h.update(part);
        h.update([0]);
    }
    hex::encode(h.finalize())
}

fn validate(d: &Debootstrap) -> Result<(), RootfsError> {
    let word = |what: &str, v: &str| {
        let ok = !v.is_empty()
            && !v.starts_with('-')
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c));
        if ok {
            Ok(())
        } else {
            Err(RootfsError::Debootstrap {
                suite: d.suite.clone(),
                message: format!(
                    "{what} {v:?} is not a valid name (letters, digits, `.`, `_`, `-`, `+`)"
                ),
            })
        }
    };
    word("suite", &d.suite)?;
    if let Some(v) = &d.variant {
        word("variant", v)?;
    }
    if let Some(m) = &d.mirror {
        if !["http://", "https://", "file:/"]
            .iter()
            .any(|p| m.starts_with(p))
        {
            return Err(RootfsError::Debootstrap {
                suite: d.suite.clone(),
                message: format!("mirror {m:?} must be an http://, https:// or file:/ URL"),
            });
        }
    }
    Ok(())
}

/// Build (once) and return the rootfs for `d`.
pub fn prepare(
    d: &Debootstrap,
    cache_dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<PathBuf, RootfsError> {
    validate(d)?;
    let done = cache::entry(cache_dir, &key(d));
    if done.is_dir() {
        return Ok(done);
    }
    let bin = find_binary().ok_or(RootfsError::DebootstrapMissing)?;
    prepare_with(&bin, d, cache_dir, progress)
}

/// As `prepare`, with an explicit `debootstrap` binary.
pub fn prepare_with(
    bin: &Path,
    d: &Debootstrap,
    cache_dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<PathBuf, RootfsError> {
    validate(d)?;
    if !bin.is_file() {
        return Err(RootfsError::DebootstrapMissing);
    }
    cache::get_or_build(cache_dir, &key(d), |tmp| run(bin, d, tmp, progress))
}

fn run(
    bin: &Path,
    d: &Debootstrap,
    target: &Path,
    progress: &dyn Fn(&str),
) -> Result<(), RootfsError> {
    let fail = |message: String| RootfsError::Debootstrap {
        suite: d.suite.clone(),
        message,
    };
    let mut cmd = Command::new(bin);
    if let Some(v) = &d.variant {
        cmd.arg(format!("--variant={v}"));
    }
    cmd.arg(&d.suite).arg(target);
    if let Some(m) = &d.mirror {
        cmd.arg(m);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    progress(&format!(
        "debootstrap {} into the cache (once; this takes a few minutes)",
        d.suite
    ));
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", bin.display())))?;
    // Both streams carry progress (debootstrap logs I:/W:/E: lines to stderr).
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        }));
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        }));
    }
    drop(tx);
    let mut tail: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    for line in rx {
        let line = line.trim_end().to_string();
        if line.is_empty() {
            continue;
        }
        progress(&format!("debootstrap {}: {line}", d.suite));
        if tail.len() == TAIL {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child
        .wait()
        .map_err(|e| fail(format!("waiting for debootstrap: {e}")))?;
    if !status.success() {
        let last: Vec<String> = tail.into_iter().collect();
        return Err(fail(format!(
            "debootstrap failed ({status}); check the suite, variant and mirror. Last output:\n  {}",
            last.join("\n  ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(suite: &str) -> Debootstrap {
        Debootstrap {
            suite: suite.into(),
            variant: Some("minbase".into()),
            mirror: None,
        }
    }

    #[test]
    fn key_depends_on_every_field() {
        let a = d("bookworm");
        let mut b = a.clone();
        b.variant = None;
        let mut c = a.clone();
        c.mirror = Some("http://deb.debian.org/debian".into());
        assert_ne!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
        assert_eq!(key(&a), key(&a.clone()));
    }

    #[test]
    fn rejects_option_like_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let e = prepare(&d("--foreign"), dir.path(), &|_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a valid name"), "{e}");
        let mut m = d("bookworm");
        m.mirror = Some("--keyring=/x".into());
        let e = prepare(&m, dir.path(), &|_| {}).unwrap_err().to_string();
        assert!(e.contains("mirror"), "{e}");
    }

    #[test]
    fn missing_binary_says_how_to_install() {
        let dir = tempfile::tempdir().unwrap();
        let e = prepare_with(
            Path::new("/nonexistent/debootstrap"),
            &d("bookworm"),
            dir.path(),
            &|_| {},
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("apt-get install debootstrap"), "{e}");
        assert!(!cache::entry(dir.path(), &key(&d("bookworm"))).exists());
    }
}
