//! Reading the files a stack file names (itself, `.env`, `env_file`,
//! seccomp profiles): regular files of bounded size only, so `-f /dev/zero`
//! or an `env_file` that is a FIFO is an error, not a hang or an
//! out-of-memory.

use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Larger than any real stack or env file by far.
pub const MAX_INPUT: u64 = 16 << 20;

/// The bytes of the regular file at `path`, at most [`MAX_INPUT`].
pub fn read_bytes(path: &Path) -> io::Result<Vec<u8>> {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
    // just below. It does not change reads of a regular file.
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)?;
    let t = f.metadata()?.file_type();
    if !t.is_file() {
        let what = if t.is_dir() {
            "a directory"
        } else if t.is_fifo() {
            "a FIFO"
        } else if t.is_char_device() {
            "a character device"
        } else if t.is_block_device() {
            "a block device"
        } else if t.is_socket() {
            "a socket"
        } else {
            "not a file"
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file; give the path of a file"),
        ));
    }
    let mut out = Vec::new();
    f.take(MAX_INPUT + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_INPUT {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is larger than {} MiB, more than any stack or env file needs; check the path",
                MAX_INPUT >> 20
            ),
        ));
    }
    Ok(out)
}

/// [`read_bytes`] as UTF-8 text.
pub fn read_text(path: &Path) -> io::Result<String> {
    String::from_utf8(read_bytes(path)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_only_and_bounded() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a");
        std::fs::write(&f, "x: 1\n").unwrap();
        assert_eq!(read_text(&f).unwrap(), "x: 1\n");
        let e = read_bytes(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        assert!(read_bytes(d.path())
            .unwrap_err()
            .to_string()
            .contains("a directory"));
        let fifo = d.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(read_bytes(&fifo)
            .unwrap_err()
            .to_string()
            .contains("a FIFO"));
        let big = d.path().join("big");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_INPUT + 1)
            .unwrap();
        assert!(read_bytes(&big)
            .unwrap_err()
            .to_string()
            .contains("larger than"));
        std::fs::write(&f, b"\xff").unwrap();
        assert!(read_text(&f).unwrap_err().to_string().contains("not UTF-8"));
    }
}
