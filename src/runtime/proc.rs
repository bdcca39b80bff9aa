//! `/proc/<pid>/stat`, read in one place: the state, the parent and the
//! start time (field 22, which with the pid names one process for good).

/// The fields of `/proc/<pid>/stat` stack uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// `R`, `S`, `D`, `Z`, …
    pub state: char,
    pub ppid: i32,
    /// Clock ticks after boot.
    pub start_time: u64,
}

/// Parse a `stat` line. The command name (field 2) may hold spaces and
/// parentheses, so the fields are counted after the last `)`.
pub fn parse_stat(line: &str) -> Option<Stat> {
    let rest = &line[line.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3.
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        start_time: f.get(22 - 3)?.parse().ok()?,
    })
}

/// `None` when there is no such process.
pub fn stat(pid: i32) -> Option<Stat> {
    if pid <= 0 {
        return None;
    }
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The start time of `pid` in any state, zombies included: to recognise
/// the process a record names (our own child before it is reaped).
pub fn start_time(pid: i32) -> Option<u64> {
    stat(pid).map(|s| s.start_time)
}

/// The start time of `pid` while it runs: `None` when it is gone or a
/// zombie (it has exited, only its parent has not reaped it).
pub fn live_start_time(pid: i32) -> Option<u64> {
    stat(pid).filter(|s| s.state != 'Z').map(|s| s.start_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_after_a_tricky_command_name() {
        let line = "42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1000 10";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: 'S',
                ppid: 7,
                start_time: 12345
            })
        );
        assert_eq!(parse_stat("junk"), None);
    }

    #[test]
    fn self_and_nobody() {
        let me = std::process::id() as i32;
        assert!(live_start_time(me).is_some());
        assert_eq!(start_time(me), live_start_time(me));
        assert_eq!(
            stat(me).map(|s| s.ppid),
            Some(std::os::unix::process::parent_id() as i32)
        );
        assert_eq!(start_time(-5), None);
        assert_eq!(live_start_time(i32::MAX), None);
    }
}
