//! Content digests (`sha256:<64 lowercase hex>`), and hashing while a blob
//! is read or written, so that no blob is used before it is known to be the
//! one its digest names.

use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

/// Why a digest is not accepted, or why a blob does not match one.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("invalid digest {digest:?}: {reason}")]
    Invalid {
        digest: String,
        reason: &'static str,
    },
    #[error("digest {digest:?}: algorithm {algorithm} is not supported yet (stack verifies sha256 digests)")]
    Unsupported { digest: String, algorithm: String },
    #[error("digest mismatch: expected {expected}, got {actual}: the blob is refused")]
    Mismatch { expected: Digest, actual: Digest },
    #[error("size mismatch: {expected_digest} is {expected} bytes, the blob has {actual}: the blob is refused")]
    Size {
        expected_digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("reading the blob: {0}")]
    Read(#[from] io::Error),
}

/// A sha256 content digest; displayed as `sha256:<hex>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `algorithm:hex`; only sha256 is accepted (sha384 and sha512
    /// are valid OCI digests that stack does not verify yet).
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let invalid = |reason| DigestError::Invalid {
            digest: s.to_string(),
            reason,
        };
        let (algorithm, hex) = s
            .split_once(':')
            .ok_or_else(|| invalid("expected algorithm:hex, like sha256:<64 hex digits>"))?;
        if !valid_algorithm(algorithm) {
            return Err(invalid("the algorithm is not a valid name"));
        }
        match algorithm {
            "sha256" => {}
            "sha384" | "sha512" => {
                return Err(DigestError::Unsupported {
                    digest: s.to_string(),
                    algorithm: algorithm.to_string(),
                })
            }
            _ => return Err(invalid("unknown algorithm (sha256 is the one in use)")),
        }
        if hex.len() != 64 {
            return Err(invalid("a sha256 digest has 64 hex digits"));
        }
        if !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(invalid("a sha256 digest is lowercase hex"));
        }
        Ok(Digest {
            hex: hex.to_string(),
        })
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let mut h = Hasher::new();
        h.update(bytes);
        h.finish()
    }

    /// `sha256`.
    pub fn algorithm(&self) -> &'static str {
        "sha256"
    }

    /// The 64 hex digits, which name the blob in `blobs/sha256/`.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// `Ok` when `bytes` hash to this digest.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), DigestError> {
        verify(bytes, self)
    }
}

/// An OCI algorithm name: `[a-z0-9]+(?:[+._-][a-z0-9]+)*`.
fn valid_algorithm(a: &str) -> bool {
    !a.is_empty()
        && a.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, DigestError> {
        Digest::parse(s)
    }
}

/// A running sha256.
#[derive(Clone, Default)]
pub struct Hasher {
    inner: Sha256,
    bytes: u64,
}

impl Hasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
        self.bytes += data.len() as u64;
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    pub fn finish(self) -> Digest {
        Digest {
            hex: hex::encode(self.inner.finalize()),
        }
    }
}

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader that hashes what passes through it.
pub struct DigestReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> DigestReader<R> {
    pub fn new(inner: R) -> Self {
        DigestReader {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// Bytes read so far.
    pub fn len(&self) -> u64 {
        self.hasher.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hasher.is_empty()
    }

    /// The digest of everything read, and its length.
    pub fn finish(self) -> (Digest, u64) {
        let n = self.hasher.len();
        (self.hasher.finish(), n)
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// A writer that hashes what passes through it.
pub struct DigestWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> DigestWriter<W> {
    pub fn new(inner: W) -> Self {
        DigestWriter {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// The writer back, the digest of everything written, and its length.
    pub fn finish(self) -> (W, Digest, u64) {
        let n = self.hasher.len();
        (self.inner, self.hasher.finish(), n)
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `Ok` when `bytes` hash to `expected`, else the mismatch naming both.
pub fn verify(bytes: &[u8], expected: &Digest) -> Result<(), DigestError> {
    check(Digest::of(bytes), expected)
}

/// Reads `reader` to its end and checks what it held; returns its length.
pub fn verify_reader(reader: impl Read, expected: &Digest) -> Result<u64, DigestError> {
    copy_verified(reader, io::sink(), expected)
}

/// Copies `reader` into `writer`, hashing on the way, and checks the
/// result. The writer has the bytes either way: a caller writing a blob
/// to its final place writes to a temporary name and renames only on `Ok`.
pub fn copy_verified(
    reader: impl Read,
    writer: impl Write,
    expected: &Digest,
) -> Result<u64, DigestError> {
    let mut r = DigestReader::new(reader);
    let mut w = writer;
    io::copy(&mut r, &mut w)?;
    w.flush()?;
    let (actual, n) = r.finish();
    check(actual, expected)?;
    Ok(n)
}

/// `Ok` when `actual` is `expected`.
pub fn check(actual: Digest, expected: &Digest) -> Result<(), DigestError> {
    if &actual == expected {
        Ok(())
    } else {
        Err(DigestError::Mismatch {
            expected: expected.clone(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_and_displays() {
        let d = Digest::parse(EMPTY).unwrap();
        assert_eq!(d.to_string(), EMPTY);
        assert_eq!(d.algorithm(), "sha256");
        assert_eq!(d.hex().len(), 64);
        assert_eq!(EMPTY.parse::<Digest>().unwrap(), d);
        assert_eq!(Digest::of(b""), d);
    }

    #[test]
    fn refuses_bad_digests() {
        let bad = [
            "",
            "sha256",
            "sha256:",
            ":abc",
            "sha256:abc",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555",
            "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sha-:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ];
        for s in bad {
            assert!(
                matches!(Digest::parse(s), Err(DigestError::Invalid { .. })),
                "{s:?} was accepted"
            );
        }
    }

    #[test]
    fn sha512_is_not_supported_yet() {
        let s = format!("sha512:{}", "f".repeat(128));
        let e = Digest::parse(&s).unwrap_err();
        assert!(matches!(e, DigestError::Unsupported { .. }));
        assert!(e.to_string().contains("not supported yet"), "{e}");
    }

    #[test]
    fn verifies_bytes_and_readers() {
        let d = Digest::of(b"hello");
        verify(b"hello", &d).unwrap();
        assert_eq!(verify_reader(&b"hello"[..], &d).unwrap(), 5);
        let e = verify(b"hellO", &d).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(&d.to_string()), "{msg}");
        assert!(msg.contains(&Digest::of(b"hellO").to_string()), "{msg}");
        assert!(msg.contains("refused"), "{msg}");
        assert!(matches!(
            verify_reader(&b"hellO"[..], &d),
            Err(DigestError::Mismatch { .. })
        ));
    }

    #[test]
    fn hashes_while_copying() {
        let d = Digest::of(b"blob");
        let mut out = Vec::new();
        assert_eq!(copy_verified(&b"blob"[..], &mut out, &d).unwrap(), 4);
        assert_eq!(out, b"blob");
        let mut w = DigestWriter::new(Vec::new());
        w.write_all(b"bl").unwrap();
        w.write_all(b"ob").unwrap();
        let (bytes, got, n) = w.finish();
        assert_eq!((bytes.as_slice(), got, n), (&b"blob"[..], d.clone(), 4));
        let mut r = DigestReader::new(&b"blob"[..]);
        io::copy(&mut r, &mut io::sink()).unwrap();
        assert_eq!(r.finish(), (d, 4));
    }
}
