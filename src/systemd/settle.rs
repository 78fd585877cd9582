//! How long `start`, `restart` and `run` watch a service they started before they call it
//! running.
//!
//! A start job of a `Type=simple` service ends when systemd has forked its main process, not
//! when the command runs: the child still sets up the sandbox (namespaces, mounts,
//! capabilities, the seccomp filter), execs the command, and only then can the command make a
//! system call its filter forbids and die of SIGSYS. So sandgen waits until the main process
//! has exec'd ([`crate::inspect::pin::wait_for_main_exec`]) and watches it from there.
//!
//! How long a command takes to reach its first forbidden call depends on the machine, and so
//! does the sandbox set-up of the very same start (systemd's fork of the main process to its
//! exec): measured here with heat's sandbox, 50 to 90 ms in the systemd 252 test container,
//! 1.6 to 20 s in a systemd 257 guest under qemu's software emulation, where a shell loop that
//! takes 10 ms on the host takes 1.7 s. So the window is scaled by it ([`window`]):
//! [`SETUP_FACTOR`] times the set-up time, at least `--settle` (the floor, 0.1 s by default)
//! and at most [`SETTLE_CAP`] (unless `--settle` asks for more). A set-up of 20 ms gives the
//! floor, 0.1 s; one of 60 ms, 0.18 s; one of 1.2 s in an emulated guest, 3.6 s. `--settle 0`
//! does not watch at all. When there is no main process to wait for (a oneshot or forking
//! service that has finished, or a PID sandgen cannot see), the floor is counted from the
//! end of the start job, as the report says.

use std::fmt;
use std::time::{Duration, Instant};

use super::bus::{BusError, Systemd};
use super::status::UnitStatus;

/// How many times its sandbox set-up time a started service is watched (before the floor
/// and the cap apply).
pub const SETUP_FACTOR: u32 = 3;

/// The longest watch the set-up time can ask for; a larger `--settle` still wins.
pub const SETTLE_CAP: Duration = Duration::from_secs(10);

/// How often the unit's state is read while it is watched.
const POLL: Duration = Duration::from_millis(25);

/// The watch window of a start whose sandbox set-up took `setup` (`None`: not measured):
/// [`SETUP_FACTOR`] × `setup`, capped at [`SETTLE_CAP`], and never shorter than `floor`
/// (`--settle`).
pub fn window(floor: Duration, setup: Option<Duration>) -> Duration {
    let scaled = setup.map_or(Duration::ZERO, |s| s.saturating_mul(SETUP_FACTOR));
    scaled.min(SETTLE_CAP).max(floor)
}

/// What the watch counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchedFrom {
    /// The moment the main process was seen running its command.
    Exec,
    /// The end of the start job, because the main process could not be waited for (why).
    StartJob(&'static str),
}

/// How long a started unit was watched, and from when: the end of the report line
/// (`watched for 0.10 s after exec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watched {
    /// What the watch counted from.
    pub from: WatchedFrom,
    /// How long it lasted.
    pub duration: Duration,
}

impl fmt::Display for Watched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.duration.as_secs_f64();
        match self.from {
            WatchedFrom::Exec => write!(f, "watched for {seconds:.2} s after exec"),
            WatchedFrom::StartJob(why) => {
                write!(f, "watched for {seconds:.2} s after the start job ({why})")
            }
        }
    }
}

/// Read the unit's state until `until`, or until it failed or stopped: a service that fails
/// in the window is caught here. Returns the last state read.
///
/// # Errors
///
/// When systemd cannot be asked.
pub fn watch(client: &dyn Systemd, unit: &str, until: Instant) -> Result<UnitStatus, BusError> {
    loop {
        let status = client.state(unit)?;
        let done = !status.is_ok() || status.active_state == "inactive";
        let now = Instant::now();
        if done || now >= until {
            return Ok(status);
        }
        std::thread::sleep(POLL.min(until - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_window_scales_with_the_set_up_between_the_floor_and_the_cap() {
        let floor = 100 * MS;
        let cases = [
            // Not measured, or as fast as this host: the floor.
            (None, 100 * MS),
            (Some(Duration::ZERO), 100 * MS),
            (Some(10 * MS), 100 * MS),
            (Some(30 * MS), 100 * MS),
            // Slower: three times the set-up.
            (Some(60 * MS), 180 * MS),
            (Some(1200 * MS), 3600 * MS),
            // An absurd set-up is capped.
            (Some(20_000 * MS), SETTLE_CAP),
            (Some(Duration::MAX), SETTLE_CAP),
        ];
        for (setup, expected) in cases {
            assert_eq!(window(floor, setup), expected, "{setup:?}");
        }
        // A floor above the cap is what the user asked for.
        assert_eq!(window(60_000 * MS, Some(300 * MS)), 60_000 * MS);
    }

    #[test]
    fn the_report_says_how_long_and_from_when() {
        let exec = Watched {
            from: WatchedFrom::Exec,
            duration: 104 * MS,
        };
        assert_eq!(exec.to_string(), "watched for 0.10 s after exec");
        let job = Watched {
            from: WatchedFrom::StartJob("no main process"),
            duration: 2500 * MS,
        };
        assert_eq!(
            job.to_string(),
            "watched for 2.50 s after the start job (no main process)"
        );
    }
}
