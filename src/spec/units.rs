//! Sizes, durations and CPU counts as Compose writes them.
//!
//! Parsing returns a message fit to follow `FILE:LINE:COL: key.path: `.

use serde::{Deserialize, Serialize};

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Bytes(pub u64);

/// A duration in milliseconds. Serialized as Compose writes it (`"1m30s"`);
/// deserialized from that or from a number of milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    pub fn as_duration(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0)
    }
}

/// CPUs as thousandths of a core (`0.05` → 50), exact and hashable.
/// Serialized as the decimal a user writes (`0.05`); deserialized from a
/// number or a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cpus(pub u64);

/// A number or a string, for the lenient deserializers below.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr {
    U(u64),
    F(f64),
    S(String),
}

impl Serialize for Millis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match NumOrStr::deserialize(d)? {
            NumOrStr::U(n) => Ok(Millis(n)),
            NumOrStr::F(f) if f >= 0.0 && f.fract() == 0.0 => Ok(Millis(f as u64)),
            NumOrStr::F(f) => Err(serde::de::Error::custom(format!("invalid duration {f}"))),
            NumOrStr::S(s) => Millis::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for Cpus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Thousandths are exact in a decimal string; the f64 printed from it
        // parses back to the same thousandths.
        s.serialize_f64(self.0 as f64 / 1000.0)
    }
}

impl<'de> Deserialize<'de> for Cpus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = match NumOrStr::deserialize(d)? {
            NumOrStr::U(n) => n.to_string(),
            NumOrStr::F(f) => format!("{f:.3}"),
            NumOrStr::S(s) => s,
        };
        Cpus::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Parse a non-negative decimal (`1`, `1.5`, `.5`) into an exact
/// `(whole, fraction-as-string)` pair; `None` when it is not one.
fn split_decimal(s: &str) -> Option<(&str, &str)> {
    let (w, f) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if (w.is_empty() && f.is_empty())
        || !w.bytes().all(|b| b.is_ascii_digit())
        || !f.bytes().all(|b| b.is_ascii_digit())
        || (s.contains('.') && f.is_empty() && w.is_empty())
    {
        return None;
    }
    Some((w, f))
}

/// `whole.frac * scale`, exactly (truncating below one unit), `None` on overflow.
fn scaled(w: &str, f: &str, scale: u64) -> Option<u64> {
    let whole: u64 = if w.is_empty() { 0 } else { w.parse().ok()? };
    let mut v = whole.checked_mul(scale)?;
    // Fraction: add digit * scale / 10^k, computed with u128 to stay exact.
    let mut frac: u128 = 0;
    let mut den: u128 = 1;
    for d in f.bytes().take(30) {
        frac = frac * 10 + u128::from(d - b'0');
        den *= 10;
    }
    let add = frac * u128::from(scale) / den;
    v = v.checked_add(u64::try_from(add).ok()?)?;
    Some(v)
}

impl Bytes {
    /// `80M`, `1.5g`, `512kb`, `1048576` (plain integers are bytes).
    pub fn parse(s: &str) -> Result<Bytes, String> {
        let bad = || format!("invalid size {s:?} (expected e.g. 80M, 1.5G, 1048576)");
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        let split = lower
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(lower.len());
        let (num, unit) = lower.split_at(split);
        let scale: u64 = match unit {
            "" | "b" => 1,
            "k" | "kb" => 1 << 10,
            "m" | "mb" => 1 << 20,
            "g" | "gb" => 1 << 30,
            _ => return Err(bad()),
        };
        let (w, f) = split_decimal(num).ok_or_else(bad)?;
        scaled(w, f, scale).map(Bytes).ok_or_else(bad)
    }
}

impl Millis {
    /// Compose durations: `1m30s`, `500ms`, `2h`, `10s`, `1.5s`; a plain
    /// number is seconds.
    pub fn parse(s: &str) -> Result<Millis, String> {
        let bad = || format!("invalid duration {s:?} (expected e.g. 10s, 1m30s, 500ms, 2h)");
        let t = s.trim();
        if t.is_empty() {
            return Err(bad());
        }
        if let Some((w, f)) = split_decimal(t) {
            return scaled(w, f, 1000).map(Millis).ok_or_else(bad);
        }
        let mut rest = t;
        let mut total: u64 = 0;
        while !rest.is_empty() {
            let n = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(bad)?;
            if n == 0 {
                return Err(bad());
            }
            let (num, tail) = rest.split_at(n);
            let u = tail
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(u);
            // Sub-millisecond units are accepted and rounded down, as Go's
            // parser (which Compose uses) accepts them.
            let (scale, div) = match unit {
                "h" => (3_600_000, 1),
                "m" => (60_000, 1),
                "s" => (1000, 1),
                "ms" => (1, 1),
                "us" | "µs" => (1, 1000),
                "ns" => (1, 1_000_000),
                _ => return Err(bad()),
            };
            let (w, f) = split_decimal(num).ok_or_else(bad)?;
            let v = scaled(w, f, scale).ok_or_else(bad)? / div;
            total = total.checked_add(v).ok_or_else(bad)?;
            rest = tail;
        }
        Ok(Millis(total))
    }
}

impl Cpus {
    /// A positive decimal number of CPUs (`0.05`, `2`), in thousandths.
    pub fn parse(s: &str) -> Result<Cpus, String> {
        let bad = || format!("invalid cpus {s:?} (expected a positive number, e.g. 0.5 or 2)");
        let (w, f) = split_decimal(s.trim()).ok_or_else(bad)?;
        let v = scaled(w, f, 1000).ok_or_else(bad)?;
        if v == 0 {
            return Err(format!(
                "invalid cpus {s:?} (must be at least 0.001; remove the key for no limit)"
            ));
        }
        Ok(Cpus(v))
    }
}

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        for (unit, s) in [("G", 1u64 << 30), ("M", 1 << 20), ("K", 1 << 10)] {
            if v >= s && v.is_multiple_of(s) {
                return write!(f, "{}{unit}", v / s);
            }
        }
        write!(f, "{v}")
    }
}

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v == 0 {
            return write!(f, "0s");
        }
        if !v.is_multiple_of(1000) {
            return write!(f, "{v}ms");
        }
        let s = v / 1000;
        let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 {
            write!(f, "{s}s")?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Cpus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = format!("{}.{:03}", self.0 / 1000, self.0 % 1000);
        f.write_str(s.trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(Bytes::parse("80M"), Ok(Bytes(80 << 20)));
        assert_eq!(Bytes::parse("80m"), Ok(Bytes(80 << 20)));
        assert_eq!(Bytes::parse("80mb"), Ok(Bytes(80 << 20)));
        assert_eq!(Bytes::parse("1.5G"), Ok(Bytes(3 << 29)));
        assert_eq!(Bytes::parse("1.5gB"), Ok(Bytes(3 << 29)));
        assert_eq!(Bytes::parse("512k"), Ok(Bytes(512 << 10)));
        assert_eq!(Bytes::parse("512KB"), Ok(Bytes(512 << 10)));
        assert_eq!(Bytes::parse("1048576"), Ok(Bytes(1048576)));
        assert_eq!(Bytes::parse("100b"), Ok(Bytes(100)));
        assert_eq!(Bytes::parse(".5k"), Ok(Bytes(512)));
        let e = Bytes::parse("12XB").unwrap_err();
        assert_eq!(
            e,
            "invalid size \"12XB\" (expected e.g. 80M, 1.5G, 1048576)"
        );
        assert!(Bytes::parse("").is_err());
        assert!(Bytes::parse("M").is_err());
        assert!(Bytes::parse("-1").is_err());
        assert!(Bytes::parse("1.2.3m").is_err());
        assert!(Bytes::parse("99999999999999999999g").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(Millis::parse("1m30s"), Ok(Millis(90_000)));
        assert_eq!(Millis::parse("500ms"), Ok(Millis(500)));
        assert_eq!(Millis::parse("2h"), Ok(Millis(7_200_000)));
        assert_eq!(Millis::parse("10s"), Ok(Millis(10_000)));
        assert_eq!(Millis::parse("1.5s"), Ok(Millis(1500)));
        assert_eq!(Millis::parse("1h2m3s4ms"), Ok(Millis(3_723_004)));
        assert_eq!(Millis::parse("30"), Ok(Millis(30_000)));
        assert_eq!(Millis::parse("1500us"), Ok(Millis(1)));
        let e = Millis::parse("10x").unwrap_err();
        assert_eq!(
            e,
            "invalid duration \"10x\" (expected e.g. 10s, 1m30s, 500ms, 2h)"
        );
        assert!(Millis::parse("s").is_err());
        assert!(Millis::parse("").is_err());
        assert!(Millis::parse("-1s").is_err());
        assert!(Millis::parse("1..2s").is_err());
    }

    #[test]
    fn cpus() {
        assert_eq!(Cpus::parse("0.05"), Ok(Cpus(50)));
        assert_eq!(Cpus::parse("2"), Ok(Cpus(2000)));
        assert_eq!(Cpus::parse("1.5"), Ok(Cpus(1500)));
        assert!(Cpus::parse("0").unwrap_err().contains("at least 0.001"));
        assert!(Cpus::parse("-1").is_err());
        assert!(Cpus::parse("abc").is_err());
        assert_eq!(Cpus(50).to_string(), "0.05");
        assert_eq!(Cpus(2000).to_string(), "2");
    }

    #[test]
    fn serde_forms() {
        assert_eq!(serde_json::to_string(&Millis(90_000)).unwrap(), "\"1m30s\"");
        assert_eq!(
            serde_json::from_str::<Millis>("\"1m30s\"").unwrap(),
            Millis(90_000)
        );
        assert_eq!(
            serde_json::from_str::<Millis>("1500").unwrap(),
            Millis(1500)
        );
        assert_eq!(serde_json::to_string(&Cpus(50)).unwrap(), "0.05");
        for c in [1, 50, 333, 1000, 1500, 64_000] {
            let j = serde_json::to_string(&Cpus(c)).unwrap();
            assert_eq!(serde_json::from_str::<Cpus>(&j).unwrap(), Cpus(c), "{j}");
        }
        assert_eq!(serde_json::from_str::<Cpus>("\"0.5\"").unwrap(), Cpus(500));
        assert!(serde_json::from_str::<Cpus>("-1").is_err());
        for ms in [0, 1, 999, 1000, 61_001, 7_200_000] {
            let j = serde_json::to_string(&Millis(ms)).unwrap();
            assert_eq!(
                serde_json::from_str::<Millis>(&j).unwrap(),
                Millis(ms),
                "{j}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["80M", "1G", "1536K", "100"] {
            assert_eq!(Bytes::parse(s).unwrap().to_string(), s);
        }
        for s in ["1m30s", "500ms", "2h", "0s"] {
            assert_eq!(Millis::parse(s).unwrap().to_string(), s);
        }
    }
}
