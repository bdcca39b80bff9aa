//! Reading container logs: `logs/<service>-1.log` holds JSON lines
//! `{time, stream, line}` written by the container's init, or raw lines with
//! `init: false`. Both are accepted. Used by `stack logs` and by the
//! foreground `stack up`, which tails every service's file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::runtime::init::EXIT_STREAM;
use crate::spec::replicas;

/// One parsed log line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// As written (RFC 3339 text) or formatted from a Unix time; empty for raw lines.
    pub time: String,
    pub stream: String,
    pub line: String,
}

#[derive(Deserialize)]
struct JsonLine {
    #[serde(default)]
    time: Option<serde_json::Value>,
    #[serde(default)]
    stream: Option<String>,
    line: String,
}

/// Parse one line of a log file (JSON or raw).
pub fn parse_line(raw: &str) -> LogLine {
    let raw = raw.strip_suffix('\n').unwrap_or(raw);
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    if raw.starts_with('{') {
        if let Ok(j) = serde_json::from_str::<JsonLine>(raw) {
            let time = match j.time {
                Some(serde_json::Value::String(s)) => s,
                Some(serde_json::Value::Number(n)) => {
                    // Seconds, milliseconds or nanoseconds since the epoch.
                    let v = n.as_f64().unwrap_or(0.0);
                    let ms = if v > 1e17 {
                        v / 1e6
                    } else if v > 1e11 {
                        v
                    } else {
                        v * 1000.0
                    };
                    format_time_ms(ms as u64)
                }
                _ => String::new(),
            };
            return LogLine {
                time,
                stream: j.stream.unwrap_or_else(|| "stdout".into()),
                line: j.line,
            };
        }
    }
    LogLine {
        time: String::new(),
        stream: "stdout".into(),
        line: raw.to_string(),
    }
}

/// `2026-11-29T10:33:52.123Z` from Unix milliseconds.
pub fn format_time_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ms % 1000
    )
}

const COLOURS: [&str; 6] = ["36", "33", "32", "35", "34", "31"];

/// Formats `name  | line` prefixes, padded to the longest name, coloured on a TTY.
#[derive(Debug, Clone)]
pub struct Prefixer {
    width: usize,
    colour: bool,
    timestamps: bool,
    colours: BTreeMap<String, &'static str>,
}

impl Prefixer {
    /// `names`: services, unit keys (`web#2`, shown `web-2`) or labels.
    pub fn new(names: &[String], colour: bool, timestamps: bool) -> Prefixer {
        let names: Vec<String> = names.iter().map(|n| replicas::display(n)).collect();
        let colours = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), COLOURS[i % COLOURS.len()]))
            .collect();
        Prefixer {
            width: names.iter().map(|n| n.len()).max().unwrap_or(0),
            colour,
            timestamps,
            colours,
        }
    }

    /// The same, knowing one more service (added by a reload).
    pub fn with(mut self, service: &str) -> Prefixer {
        let service = &replicas::display(service);
        if !self.colours.contains_key(service) {
            let c = COLOURS[self.colours.len() % COLOURS.len()];
            self.colours.insert(service.to_string(), c);
            self.width = self.width.max(service.len());
        }
        self
    }

    /// `service`: a label as given to [`Prefixer::new`] (`web-2`).
    pub fn format(&self, service: &str, l: &LogLine) -> String {
        let name = format!("{service:<w$}  |", w = self.width);
        let name = if self.colour {
            let c = self.colours.get(service).copied().unwrap_or("36");
            format!("\x1b[{c}m{name}\x1b[0m")
        } else {
            name
        };
        if self.timestamps && !l.time.is_empty() {
            format!("{name} {} {}", l.time, l.line)
        } else {
            format!("{name} {}", l.line)
        }
    }
}

/// The last `n` lines of a file (all with `None`).
pub fn read_lines(path: &Path, tail: Option<usize>) -> std::io::Result<(Vec<LogLine>, u64)> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(e),
    };
    let mut buf = Vec::new();
    f.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    // A partial last line (no newline yet) is left for the follower.
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    let lines: Vec<LogLine> = complete
        .lines()
        .map(parse_line)
        .filter(|l| l.stream != EXIT_STREAM)
        .collect();
    let start = match tail {
        Some(n) => lines.len().saturating_sub(n),
        None => 0,
    };
    Ok((lines[start..].to_vec(), complete.len() as u64))
}

/// The exit status the container's init recorded as its last log line, if
/// it did (a container that ended while no supervisor was its parent).
pub fn recorded_exit_code(path: &Path) -> Option<i32> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(4096))).ok()?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let last = parse_line(text.trim_end().lines().last()?);
    (last.stream == EXIT_STREAM).then(|| last.line.parse().ok())?
}

/// Follows a set of log files, calling `out(service, line)` for every new
/// complete line, until `stop` is set. Handles files that appear later,
/// and files truncated or replaced (a recreated container).
pub struct Follower {
    files: BTreeMap<String, Tailed>,
}

/// A followed file: path, bytes consumed, (dev, inode) when last seen.
type Tailed = (PathBuf, u64, Option<(u64, u64)>);

impl Follower {
    /// `start_at_end`: skip what the files hold now.
    pub fn new(files: Vec<(String, PathBuf)>, start_at_end: bool) -> Follower {
        let files = files
            .into_iter()
            .map(|(s, p)| {
                let (pos, id) = if start_at_end {
                    match std::fs::metadata(&p) {
                        Ok(m) => (m.len(), Some(ident(&m))),
                        Err(_) => (0, None),
                    }
                } else {
                    (0, None)
                };
                (s, (p, pos, id))
            })
            .collect();
        Follower { files }
    }

    /// Follow from known offsets (what `read_lines` consumed).
    pub fn from_offsets(files: Vec<(String, PathBuf, u64)>) -> Follower {
        let files = files
            .into_iter()
            .map(|(s, p, pos)| {
                let id = std::fs::metadata(&p).ok().map(|m| ident(&m));
                (s, (p, pos, id))
            })
            .collect();
        Follower { files }
    }

    /// Start following another file (a service added later).
    /// (A file followed already, under another name, is not added again:
    /// a replica's label may change when its service is scaled.)
    pub fn add(&mut self, service: &str, path: PathBuf) {
        if self.files.values().any(|(p, _, _)| *p == path) {
            return;
        }
        self.files
            .entry(service.to_string())
            .or_insert((path, 0, None));
    }

    /// Read what is new in every file once.
    pub fn poll(&mut self, out: &mut dyn FnMut(&str, LogLine)) {
        for (svc, (path, pos, id)) in self.files.iter_mut() {
            let Ok(meta) = std::fs::metadata(&*path) else {
                continue;
            };
            let now_id = ident(&meta);
            if *id != Some(now_id) || meta.len() < *pos {
                if id.is_some() {
                    *pos = 0;
                }
                *id = Some(now_id);
            }
            if meta.len() <= *pos {
                continue;
            }
            let Ok(mut f) = File::open(&*path) else {
                continue;
            };
            if f.seek(SeekFrom::Start(*pos)).is_err() {
                continue;
            }
            let mut r = BufReader::new(f);
            let mut line = String::new();
            loop {
                line.clear();
                match r.read_line(&mut line) {
                    Ok(0) => break,
                    Ok(n) => {
                        if !line.ends_with('\n') {
                            break; // incomplete: read again next time
                        }
                        *pos += n as u64;
                        let l = parse_line(&line);
                        if l.stream != EXIT_STREAM {
                            out(svc, l);
                        }
                    }
                    Err(_) => break,
                }
            }
        }
    }

    /// Poll every 100 ms until `stop`.
    pub fn run(mut self, stop: Arc<AtomicBool>, out: &mut dyn FnMut(&str, LogLine)) {
        while !stop.load(Ordering::Relaxed) {
            self.poll(out);
            std::thread::sleep(Duration::from_millis(100));
        }
        self.poll(out);
    }
}

fn ident(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

/// Write a line to stdout, ignoring a closed pipe.
pub fn print_line(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{s}");
    let _ = o.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_json_and_raw_lines() {
        let l = parse_line(r#"{"time":"2026-01-01T00:00:00Z","stream":"stderr","line":"hi"}"#);
        assert_eq!(l.line, "hi");
        assert_eq!(l.stream, "stderr");
        assert_eq!(l.time, "2026-01-01T00:00:00Z");
        let l = parse_line("plain text\n");
        assert_eq!(l.line, "plain text");
        assert_eq!(l.time, "");
        let l = parse_line("{not json");
        assert_eq!(l.line, "{not json");
        let l = parse_line(r#"{"time":1767225600000,"line":"x"}"#);
        assert_eq!(l.time, "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn formats_time() {
        assert_eq!(format_time_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_time_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }

    #[test]
    fn prefixes_are_padded() {
        let p = Prefixer::new(&["a".into(), "long".into()], false, false);
        let l = parse_line("x");
        assert_eq!(p.format("a", &l), "a     | x");
        assert_eq!(p.format("long", &l), "long  | x");
    }

    #[test]
    fn tail_and_follow() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("web-1.log");
        std::fs::write(&f, "1\n2\n3\npartial").unwrap();
        let (lines, _) = read_lines(&f, Some(2)).unwrap();
        assert_eq!(
            lines.iter().map(|l| l.line.as_str()).collect::<Vec<_>>(),
            ["2", "3"]
        );
        let mut fol = Follower::new(vec![("web".into(), f.clone())], false);
        let mut got = Vec::new();
        fol.poll(&mut |s, l| got.push(format!("{s}:{}", l.line)));
        assert_eq!(got, ["web:1", "web:2", "web:3"]);
        let mut h = std::fs::OpenOptions::new().append(true).open(&f).unwrap();
        h.write_all(b" done\n4\n").unwrap();
        got.clear();
        fol.poll(&mut |s, l| got.push(format!("{s}:{}", l.line)));
        assert_eq!(got, ["web:partial done", "web:4"]);
        // Replaced file (recreated container): read from its start.
        std::fs::remove_file(&f).unwrap();
        std::fs::write(&f, "new\n").unwrap();
        got.clear();
        fol.poll(&mut |s, l| got.push(format!("{s}:{}", l.line)));
        assert_eq!(got, ["web:new"]);
    }
}
