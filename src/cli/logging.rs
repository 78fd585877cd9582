//! Logging: to the journal when stderr is connected to it (a unit's stderr), to plain
//! stderr otherwise. `-v` raises the level, `-q` lowers it to errors only.

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let level = match record.level() {
                Level::Error => "error",
                Level::Warn => "warning",
                Level::Info => "info",
                Level::Debug => "debug",
                Level::Trace => "trace",
            };
            super::output::errln(format_args!("{level}: {}", record.args()));
        }
    }

    fn flush(&self) {}
}

static STDERR: Stderr = Stderr;

/// Install the logger for `verbose` (`-v` count) and `quiet`.
pub(crate) fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::Error,
        (false, 0) => LevelFilter::Warn,
        (false, 1) => LevelFilter::Info,
        (false, 2) => LevelFilter::Debug,
        (false, _) => LevelFilter::Trace,
    };
    let installed = if systemd_journal_logger::connected_to_journal() {
        systemd_journal_logger::JournalLog::new()
            .map(|j| j.with_syslog_identifier("sandgen".to_owned()))
            .and_then(|j| j.install().map_err(std::io::Error::other))
            .is_ok()
    } else {
        false
    };
    if !installed {
        // Only fails if a logger is already installed, in which case that one is used.
        let _ = log::set_logger(&STDERR);
    }
    log::set_max_level(level);
}
