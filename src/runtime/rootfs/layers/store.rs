//! `<cache>/layers/sha256/<hex>/`: one unpacked layer per digest, built in a
//! temp dir and renamed into place under a lock (`cache::get_or_build`), so
//! ten services on one layer unpack it once and a half-unpacked layer is
//! never used (a crash leaves only a temp dir, removed by the next build).

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::super::cache::{self, io_err};
use super::super::unpack::{self, Counting, Whiteouts};
use super::super::RootfsError;
use super::{LayerBlob, MediaType};

const TICK: Duration = Duration::from_millis(500);

/// The 64 hex digits of a `sha256:<hex>` digest.
fn digest_hex(layer: &LayerBlob) -> Result<&str, RootfsError> {
    let hex = layer.digest.strip_prefix("sha256:").unwrap_or("");
    if hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(hex)
    } else {
        Err(RootfsError::LayerDigestSyntax {
            blob: layer.path.clone(),
            digest: layer.digest.clone(),
        })
    }
}

fn layers_dir(cache: &Path) -> PathBuf {
    cache.join("layers").join("sha256")
}

/// The unpacked layer of `digest`, if it is in the cache already.
pub fn stored(cache: &Path, digest: &str) -> Option<PathBuf> {
    let hex = digest.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let p = layers_dir(cache).join(hex);
    p.is_dir().then_some(p)
}

/// Unpack `layer` into the cache (once per digest) and return its
/// directory, usable as an overlay lower layer. `cache` is
/// `<state dir>/cache`.
///
/// The caller verifies the blob against its digest before use (it fetched
/// or loaded it); this checks it again, cheaply, by hashing the compressed
/// stream as it is read, and refuses a mismatch naming both digests (and
/// keeps nothing of it). A layer already in the cache is not read again.
pub fn ensure_layer(cache: &Path, layer: &LayerBlob) -> Result<PathBuf, RootfsError> {
    ensure_layer_with(cache, layer, &|_| {})
}

/// [`ensure_layer`], with progress lines: `unpacking layer <digest>` when
/// it is unpacked (not when it was in the cache), and more for slow ones.
pub fn ensure_layer_with(
    cache: &Path,
    layer: &LayerBlob,
    progress: &dyn Fn(&str),
) -> Result<PathBuf, RootfsError> {
    let hex = digest_hex(layer)?;
    cache::get_or_build(&layers_dir(cache), hex, |tmp| {
        progress(&format!("unpacking layer {}", layer.digest));
        unpack_layer(layer, tmp, progress)
    })
}

/// The blob's bytes, hashed as they are read.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Unpack `layer` into the existing, empty directory `dest` (whiteouts in
/// overlayfs's form), verifying the blob against its digest. On error,
/// `dest` may hold part of the layer: the caller removes it.
pub fn unpack_layer(
    layer: &LayerBlob,
    dest: &Path,
    progress: &dyn Fn(&str),
) -> Result<(), RootfsError> {
    let expected = digest_hex(layer)?;
    let blob = &layer.path;
    let file = File::open(blob).map_err(|e| io_err("open layer", blob, e))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let read = Rc::new(Cell::new(0u64));
    let mut hashing = Hashing {
        inner: Counting {
            inner: file,
            count: read.clone(),
        },
        hash: Sha256::new(),
    };
    let o = unpack::Options {
        archive: blob,
        whiteouts: Whiteouts::Overlay,
        allow_empty: true,
        progress,
        tick: TICK,
        total,
        read,
    };
    {
        let buffered = BufReader::with_capacity(1 << 17, &mut hashing);
        match layer.media_type {
            MediaType::Tar => unpack::unpack_stream(buffered, dest, &o)?,
            MediaType::TarGzip => {
                unpack::unpack_stream(flate2::bufread::GzDecoder::new(buffered), dest, &o)?
            }
            MediaType::TarZstd => {
                let z = zstd::stream::read::Decoder::with_buffer(buffered)
                    .map_err(|e| io_err("read zstd layer", blob, e))?;
                unpack::unpack_stream(z, dest, &o)?
            }
        }
    }
    // What the tar reader left (end-of-archive padding, a compressed
    // stream's trailer) is part of the blob too.
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| io_err("read layer", blob, e))?;
    let actual = hex::encode(hashing.hash.finalize());
    if actual != expected {
        return Err(RootfsError::LayerDigestMismatch {
            blob: blob.clone(),
            expected: layer.digest.clone(),
            actual: format!("sha256:{actual}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_checked_for_shape() {
        let l = |d: &str| LayerBlob {
            path: PathBuf::from("/b"),
            media_type: MediaType::Tar,
            digest: d.into(),
        };
        let good = format!("sha256:{}", "a".repeat(64));
        assert!(digest_hex(&l(&good)).is_ok());
        for bad in [
            "sha256:abc".to_string(),
            format!("sha512:{}", "a".repeat(64)),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}/../x", "a".repeat(60)),
        ] {
            let e = digest_hex(&l(&bad)).unwrap_err().to_string();
            assert!(e.contains("is not `sha256:`"), "{e}");
        }
        assert!(stored(Path::new("/nonexistent"), &good).is_none());
    }
}
