//! The loader for `healthcheck`: its test, timings and `disable`.

use super::load::*;
use super::model::*;
use super::units::Millis;
use super::yaml::{Kind, Node};

impl Cx<'_> {
    pub(super) fn healthcheck(&mut self, n: &Node, path: &str) -> Option<Healthcheck> {
        let m = self.map(n, path)?;
        let mut test: Option<Option<Vec<String>>> = None;
        let mut saw_test = false;
        let mut disable = false;
        let mut hc = Healthcheck {
            test: Vec::new(),
            interval: Millis(30_000),
            timeout: Millis(30_000),
            retries: 3,
            start_period: Millis(0),
            start_interval: Millis(5_000),
        };
        for (k, v) in m {
            let p = child(path, &k.name);
            match k.name.as_str() {
                "test" => {
                    saw_test = true;
                    test = self.health_test(v, &p);
                }
                "interval" => hc.interval = self.duration(v, &p).unwrap_or(hc.interval),
                "timeout" => hc.timeout = self.duration(v, &p).unwrap_or(hc.timeout),
                "start_period" => hc.start_period = self.duration(v, &p).unwrap_or(hc.start_period),
                "start_interval" => {
                    hc.start_interval = self.duration(v, &p).unwrap_or(hc.start_interval)
                }
                "retries" => {
                    if let Some(r) = self.uint(v, &p) {
                        hc.retries = u32::try_from(r).unwrap_or(u32::MAX);
                    }
                }
                "disable" => disable = self.boolean(v, &p).unwrap_or(false),
                _ => self.unknown(k, path, "HealthcheckFile"),
            }
        }
        for (d, what) in [
            (hc.interval, "interval"),
            (hc.timeout, "timeout"),
            (hc.start_interval, "start_interval"),
        ] {
            if d.0 == 0 {
                self.err(
                    n.pos,
                    &child(path, what),
                    format!("{what} must be greater than 0"),
                );
            }
        }
        if disable {
            return None;
        }
        match test {
            Some(Some(t)) => {
                hc.test = t;
                Some(hc)
            }
            Some(None) => None,
            None if saw_test => None,
            None => {
                self.err(
                    n.pos,
                    path,
                    "healthcheck needs `test` (e.g. test: [\"CMD\", \"true\"]), or `disable: true`",
                );
                None
            }
        }
    }

    /// `Some(None)` is `NONE`.
    pub(super) fn health_test(&mut self, n: &Node, path: &str) -> Option<Option<Vec<String>>> {
        match &n.kind {
            Kind::Scalar { value, .. } => {
                if value.trim().is_empty() {
                    self.err(n.pos, path, "empty health check command");
                    return None;
                }
                Some(Some(vec!["/bin/sh".into(), "-c".into(), value.clone()]))
            }
            Kind::Seq(_) => {
                let l = self.string_list(n, path)?;
                match l.first().map(String::as_str) {
                    Some("NONE") => Some(None),
                    Some("CMD") if l.len() > 1 => Some(Some(l[1..].to_vec())),
                    Some("CMD-SHELL") if l.len() > 1 => {
                        Some(Some(vec!["/bin/sh".into(), "-c".into(), l[1..].join(" ")]))
                    }
                    Some("CMD" | "CMD-SHELL") => {
                        self.err(n.pos, path, format!("`{}` needs a command after it", l[0]));
                        None
                    }
                    _ => {
                        self.err(n.pos, path, "a test list starts with \"CMD\", \"CMD-SHELL\" or \"NONE\" (e.g. [\"CMD\", \"true\"])");
                        None
                    }
                }
            }
            _ => {
                self.err(
                    n.pos,
                    path,
                    format!("expected a string or a list, found {}", n.describe()),
                );
                None
            }
        }
    }
}
