//! Downloading one blob: into `<dest>.partial`, hashed as it arrives,
//! checked against its digest and size, fsynced, renamed to `dest`. A
//! partial file left by a broken download is resumed with a `Range`
//! request; when the server ignores the range (200), refuses it (416), or
//! the resumed whole does not verify, the download starts over once.
//! A blob that does not verify is refused and its partial file removed; a
//! download cut short keeps its partial file for the next try.

use super::request::Target;
use super::resolve::check_digest;
use super::{Client, PullError};
use crate::image::digest::{Digest, Hasher};
use crate::image::reference::Reference;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const BUF: usize = 64 << 10;

/// How one attempt ended, short of an error.
enum Attempt {
    Done,
    /// The resumed bytes did not verify: start over.
    StartOver,
}

/// The blob being downloaded, for messages and files.
struct Job<'a> {
    r: &'a Reference,
    image: String,
    digest: &'a Digest,
    size: u64,
    dest: &'a Path,
    partial: PathBuf,
}

impl Client {
    pub(super) fn download(
        &self,
        r: &Reference,
        digest: &Digest,
        size: u64,
        dest: &Path,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), PullError> {
        let mut partial = dest.as_os_str().to_owned();
        partial.push(".partial");
        let job = Job {
            r,
            image: r.to_string(),
            digest,
            size,
            dest,
            partial: PathBuf::from(partial),
        };
        match self.attempt(&job, true, progress)? {
            Attempt::Done => Ok(()),
            Attempt::StartOver => match self.attempt(&job, false, progress)? {
                Attempt::Done => Ok(()),
                // A fresh download does not ask to start over.
                Attempt::StartOver => Err(job.mismatch_unknown()),
            },
        }
    }

    fn attempt(
        &self,
        job: &Job<'_>,
        resume: bool,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Attempt, PullError> {
        let mut have = if resume { job.partial_len() } else { 0 };
        if have > job.size {
            have = 0;
        }
        let mut hasher = Hasher::new();
        let mut file = job.open(have)?;
        if have > 0 {
            hash_file(&job.partial, &mut hasher).map_err(|e| job.io(e))?;
        }
        let resumed = have > 0;
        progress(have, job.size);
        if have < job.size {
            let mut headers = Vec::new();
            if have > 0 {
                headers.push(("Range", format!("bytes={have}-")));
            }
            let path = format!("blobs/{}", job.digest);
            let mut resp = self.get(job.r, &path, &headers, Target::Blob(job.digest))?;
            let ranged = resp.status() == 206
                && resp
                    .header("content-range")
                    .is_some_and(|c| c.trim().starts_with(&format!("bytes {have}-")));
            if have > 0 && !ranged {
                // The range was ignored (200) or refused (416): from zero.
                if resp.status() == 416 {
                    resp = self.get(job.r, &path, &[], Target::Blob(job.digest))?;
                }
                if resp.status() != 200 {
                    return Ok(Attempt::StartOver);
                }
                have = 0;
                hasher = Hasher::new();
                file = job.open(0)?;
                progress(0, job.size);
            }
            job.copy_body(resp, &mut file, &mut hasher, have, progress)?;
        }
        let actual = hasher.finish();
        if actual != *job.digest {
            job.remove_partial();
            if resumed {
                return Ok(Attempt::StartOver);
            }
            check_digest(&job.image, &job.what(), job.digest, &actual)?;
        }
        file.sync_all().map_err(|e| job.io(e))?;
        drop(file);
        fs::rename(&job.partial, job.dest).map_err(|e| job.io(e))?;
        if let Some(dir) = job.dest.parent() {
            // The rename is durable once the directory is; best effort.
            let _ = File::open(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
            .and_then(|d| d.sync_all());
        }
        Ok(Attempt::Done)
    }
}

impl Job<'_> {
    fn what(&self) -> String {
        format!("blob {}", self.digest)
    }

    fn io(&self, e: io::Error) -> PullError {
        PullError::io(&self.image, self.partial.clone(), e)
    }

    fn partial_len(&self) -> u64 {
        fs::metadata(&self.partial).map_or(0, |m| m.len())
    }

    fn remove_partial(&self) {
        let _ = fs::remove_file(&self.partial);
    }

    /// The partial file, truncated to `keep` bytes, for appending.
    fn open(&self, keep: u64) -> Result<File, PullError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.partial)
            .map_err(|e| self.io(e))?;
        file.set_len(keep).map_err(|e| self.io(e))?;
        Ok(file)
    }

    /// Reads the body into the file until `size` bytes are there.
    fn copy_body(
        &self,
        resp: ureq::Response,
        file: &mut File,
        hasher: &mut Hasher,
        mut done: u64,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), PullError> {
        let mut body = resp.into_reader().take(self.size - done + 1);
        let mut buf = vec![0u8; BUF];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = file.flush();
                    return Err(self.truncated(done, &e));
                }
            };
            if done + n as u64 > self.size {
                self.remove_partial();
                return Err(PullError::SizeMismatch {
                    image: self.image.clone(),
                    what: self.what(),
                    expected: self.size,
                    actual: done + n as u64,
                });
            }
            file.write_all(&buf[..n]).map_err(|e| self.io(e))?;
            hasher.update(&buf[..n]);
            done += n as u64;
            progress(done, self.size);
        }
        if done < self.size {
            let _ = file.flush();
            let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed");
            return Err(self.truncated(done, &eof));
        }
        Ok(())
    }

    fn truncated(&self, done: u64, e: &io::Error) -> PullError {
        let reason = match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                "no data came for 30 seconds".to_string()
            }
            io::ErrorKind::UnexpectedEof => "the connection closed".to_string(),
            _ => format!("the connection broke: {e}"),
        };
        PullError::Truncated {
            image: self.image.clone(),
            digest: self.digest.clone(),
            done,
            size: self.size,
            reason,
        }
    }

    fn mismatch_unknown(&self) -> PullError {
        PullError::Protocol {
            image: self.image.clone(),
            registry: self.r.registry.clone(),
            reason: format!("did not send {} whole twice: pull again", self.what()),
        }
    }
}

fn hash_file(path: &Path, hasher: &mut Hasher) -> io::Result<()> {
    let mut f = File::open(path)?;
    io::copy(&mut f, hasher)?;
    Ok(())
}
