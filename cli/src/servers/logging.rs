//! Log lines of the servers: `--log-format text|json` on stderr, filtered by `RUST_LOG`
//! (default `info`). Without the flag: text when stderr is a terminal (a person reading),
//! JSON lines otherwise (a container runtime or a log collector reading).

use std::io::IsTerminal as _;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`).
    Json,
}

/// The `--log-format` flag every server takes.
#[derive(clap::Args, Debug, Clone, Copy)]
pub(crate) struct LogArgs {
    /// Log line format on stderr. Default: text when stderr is a terminal, json otherwise.
    #[arg(long, value_enum, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
}

impl LogArgs {
    /// Installs the process-wide subscriber (once; later calls change nothing).
    pub(crate) fn init(self) {
        let format = self
            .log_format
            .unwrap_or(if std::io::stderr().is_terminal() {
                LogFormat::Text
            } else {
                LogFormat::Json
            });
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        let _ = match format {
            LogFormat::Text => builder.try_init(),
            LogFormat::Json => builder.json().try_init(),
        };
    }
}
