//! Warnings and diagnostics on stderr: every `tracing` event at `warn` and
//! above by default (a limit the kernel could not apply, a cache entry that
//! could not be removed), more with `--verbose` (info; twice debug, three
//! times trace), or any env-filter in `STACK_LOG` (`debug`, `stack::runtime=trace`).
//! A detached supervisor's stderr is its log file, so its warnings are there.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// Environment variable with an env-filter for stack's diagnostics.
pub const LOG_ENV: &str = "STACK_LOG";

/// Install the subscriber once per process.
pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = match std::env::var(LOG_ENV) {
        Ok(s) if !s.is_empty() => EnvFilter::try_new(&s).unwrap_or_else(|e| {
            eprintln!(
                "stack: warning: {LOG_ENV}={s:?} is not a valid filter ({e}); using {default:?}"
            );
            EnvFilter::new(default)
        }),
        _ => EnvFilter::new(default),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(Plain)
        .try_init();
}

/// `stack: warning: memswap_limit not applied: …`, as stack's other
/// messages read.
struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        write!(w, "stack: {level}: ")?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}
