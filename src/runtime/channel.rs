//! The typed parent ↔ init channel: length-prefixed JSON messages over one
//! end of a socketpair (as youki does), so a failure inside the container
//! comes back as a sentence instead of an exit code.

use std::io::{self, Read, Write};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::ContainerConfig;

/// The fd number the channel has in the init (dup2'd there before exec).
pub const INIT_CHANNEL_FD: i32 = 3;

/// Largest message accepted, so a corrupt length cannot make us allocate
/// gigabytes.
const MAX_MESSAGE: u32 = 16 << 20;

/// Parent → init.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToInit {
    Config(Box<ContainerConfig>),
}

/// The sending side of `ToInit`, borrowing (same encoding), so the parent
/// need not clone the config.
#[derive(Debug, Serialize)]
#[serde(rename = "ToInit")]
pub enum ToInitRef<'a> {
    Config(&'a ContainerConfig),
}

/// Init → parent.
#[derive(Debug, Serialize, Deserialize)]
pub enum FromInit {
    /// The command was exec'd (its pid inside the container).
    Started { pid: i32 },
    /// `init: false`: the init execs the command itself next; the channel
    /// closing (close-on-exec) means it worked.
    Exec,
    /// Set-up or exec failed; a sentence for the user.
    Failed { sentence: String },
}

/// Write one message: 4-byte little-endian length, then JSON.
pub fn send<T: Serialize>(w: &mut impl Write, msg: &T) -> io::Result<()> {
    w.write_all(&encode(msg)?)
}

/// One message as the bytes `send` writes.
pub fn encode<T: Serialize>(msg: &T) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 4];
    serde_json::to_writer(&mut buf, msg).map_err(io::Error::other)?;
    let len = u32::try_from(buf.len() - 4).map_err(io::Error::other)?;
    buf[..4].copy_from_slice(&len.to_le_bytes());
    Ok(buf)
}

/// Read one message; `Ok(None)` on a clean end of stream before any byte.
pub fn recv<T: DeserializeOwned>(r: &mut impl Read) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_MESSAGE {
        return Err(io::Error::other(format!(
            "message of {len} bytes is too large"
        )));
    }
    let mut body = vec![0u8; len as usize];
    r.read_exact(&mut body)?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_eof() {
        let mut buf = Vec::new();
        send(
            &mut buf,
            &FromInit::Failed {
                sentence: "x".into(),
            },
        )
        .unwrap();
        send(&mut buf, &FromInit::Started { pid: 2 }).unwrap();
        let mut r = &buf[..];
        assert!(
            matches!(recv::<FromInit>(&mut r).unwrap(), Some(FromInit::Failed { sentence }) if sentence == "x")
        );
        assert!(matches!(
            recv::<FromInit>(&mut r).unwrap(),
            Some(FromInit::Started { pid: 2 })
        ));
        assert!(recv::<FromInit>(&mut r).unwrap().is_none());
    }

    #[test]
    fn borrowed_config_decodes_as_owned() {
        let cfg: ContainerConfig = serde_json::from_str(
            r#"{"id":"a","rootfs":"/r","bundle":"/b","argv":["sh"],"env":[],"cwd":null,"user":null,
            "hostname":"h","mounts":[],"read_only":false,"capabilities":[],"rlimits":[],"network":"None",
            "init":true,"cgroup":"c","limits":{"cpu_quota_us":null,"cpu_period_us":null,"cpu_shares":null,
            "cpuset":null,"memory":null,"memory_reservation":null,"memswap":null,"pids":null},"log_file":"/l"}"#,
        )
        .unwrap();
        let bytes = encode(&ToInitRef::Config(&cfg)).unwrap();
        match recv::<ToInit>(&mut &bytes[..]).unwrap() {
            Some(ToInit::Config(got)) => assert_eq!(*got, cfg),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oversized_length_is_refused() {
        let buf = u32::MAX.to_le_bytes();
        assert!(recv::<FromInit>(&mut &buf[..]).is_err());
    }
}
