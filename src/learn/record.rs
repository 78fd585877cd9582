//! One recording of an installed unit with the in-kernel recorder ([`crate::trace::bpf`]):
//! the facts `sandgen learn` gathers before the pure [`super::profile`] takes over.
//!
//! - **A running unit** is recorded in place: the recorder is attached to its cgroup v2 in
//!   whole-cgroup mode ([`BpfTarget::WholeCgroup`]: every task of the unit counts from the
//!   moment of attach; its tasks exec'd long ago). Nothing is restarted; its main PID is
//!   read before and after.
//! - **`--start`**: the recorder is armed on the cgroup the unit is about to get (made
//!   beforehand; systemd takes an existing directory over) in exec mode
//!   ([`BpfTarget::Cgroup`]: each task from its exec on, so systemd's set-up calls are not
//!   counted), then the unit is started: nothing of a short-lived oneshot's life is missed.
//!   On systemd 255 and later the exec of `systemd-executor`, which sets the sandbox up before
//!   it execs the command, does not arm ([`crate::trace::bpf::systemd_executor`]).
//!
//! The recording lasts until `--for` elapses, a signal arrives
//! ([`crate::trace::unit::catch_interrupts`]) or the unit stops; progress is read from the
//! recorder's map while it runs.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::profile::{Abi, Armed, Ending, Observed, Recording};
use crate::systemd::bus::{BusError, JobVerb, Systemd};
use crate::systemd::status::UnitStatus;
use crate::systemd::Manager;
use crate::trace::audit::SyscallNumbers;
use crate::trace::bpf::{
    compat_numbers, systemd_executor, BpfError, BpfTarget, Recorded, Recorder,
};
use crate::trace::unit::{interrupted, unit_cgroup_here, RemoveCgroupOnDrop};

/// How long sandgen waits for a unit started with `--start` to show that it started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How often sandgen wakes up to look at the clock and for signals.
const POLL: Duration = Duration::from_millis(100);

/// How often the state of a running unit is read over D-Bus: each read costs systemd and
/// the bus some CPU, which a loaded service on a small machine feels at 10 reads a second
/// (`benches/learn.sh`); a recording's end is late by this much at most. A unit started
/// with `--start` is read every [`POLL`]: it may live for a moment only.
const STATE_EVERY: Duration = Duration::from_secs(1);

/// How often progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Why a unit could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// systemd does not know the unit.
    #[error("{unit}: no such unit (install it with `sandgen install POLICY` first)")]
    NotInstalled {
        /// The unit.
        unit: String,
    },
    /// The unit does not run (and `--start` was not given).
    #[error(
        "{unit} is not running ({state}): start it first, or give --start to record it from \
         its start (a oneshot unit)"
    )]
    NotRunning {
        /// The unit.
        unit: String,
        /// Its state in words.
        state: String,
    },
    /// `--start` on a unit that runs already.
    #[error("{unit} is already running ({state}): leave out --start to learn from it as it runs")]
    AlreadyRunning {
        /// The unit.
        unit: String,
        /// Its state in words.
        state: String,
    },
    /// The unit did not start.
    #[error("{unit} did not start within {} s: {state}", START_TIMEOUT.as_secs())]
    NotStarted {
        /// The unit.
        unit: String,
        /// Its state in words.
        state: String,
    },
    /// systemd could not be asked.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The recorder could not run.
    #[error(transparent)]
    Bpf(#[from] BpfError),
}

/// What to record.
#[derive(Debug, Clone)]
pub struct LearnRequest {
    /// The unit, `NAME.service`.
    pub unit: String,
    /// Stop after this long (else at a signal or when the unit stops).
    pub duration: Option<Duration>,
    /// Start the (inactive) unit, armed before its start.
    pub start: bool,
}

/// Progress while recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// How long it has recorded.
    pub elapsed: Duration,
    /// The distinct calls so far.
    pub syscalls: usize,
    /// Those that the profile lacked.
    pub new: usize,
}

/// What one recording saw.
#[derive(Debug, Clone)]
pub struct Learned {
    /// The recording (its `syscalls` and `count` are set when it becomes a profile).
    pub recording: Recording,
    /// The calls it counted.
    pub observed: Observed,
    /// The unit's main PID (as its manager numbers it) when the recording started (0 when
    /// it had none, as with `--start`).
    pub main_pid_before: u32,
    /// And when it ended (0 when it had stopped).
    pub main_pid_after: u32,
    /// How the recorder picked the unit's tasks, for the line saying so.
    pub target: BpfTarget,
    /// How many tasks it armed at exec or fork (whole-cgroup mode counts the tasks that
    /// were there already without arming them).
    pub tasks: usize,
}

/// Record `request.unit` of `manager`. `attached` is called once the recorder counts (before
/// the start job with `--start`), with the target and the unit's main PID; `known` says how
/// many calls are new, for `progress`, called about once a second (the recorder's map is
/// read for it only when there is one).
///
/// # Errors
///
/// [`LearnError`]: the unit is not installed, not running (or running, with `--start`), the
/// recorder cannot run, or systemd cannot be asked.
pub fn record(
    manager: &Manager,
    request: &LearnRequest,
    attached: &mut dyn FnMut(&BpfTarget, u32),
    known: &dyn Fn(&Observed) -> usize,
    mut progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<Learned, LearnError> {
    let unit = request.unit.as_str();
    let client = manager.connect()?;
    let status = client.status(unit)?;
    if status.load_state == "not-found" {
        return Err(LearnError::NotInstalled {
            unit: unit.to_owned(),
        });
    }
    let root = manager.host_path(Path::new("/"));
    let native = SyscallNumbers::native(&root).unwrap_or_default();
    let compat = compat_numbers(&root);
    let observed_of = |r: &Recorded| observed(r, &native, &compat);

    let mut made_cgroup: Option<PathBuf> = None;
    let (target, main_pid_before) = if request.start {
        if runs(&status) || status.active_state == "activating" {
            return Err(LearnError::AlreadyRunning {
                unit: unit.to_owned(),
                state: status.summary(),
            });
        }
        if status.active_state == "failed" {
            client.reset_failed(unit)?;
        }
        let control_group = if status.control_group.is_empty() {
            format!("/system.slice/{unit}")
        } else {
            status.control_group.clone()
        };
        let path = unit_cgroup_here(manager, unit, &control_group)?;
        match std::fs::create_dir(&path) {
            Ok(()) => made_cgroup = Some(path.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(BpfError::Cgroup { path, error }.into()),
        }
        (
            BpfTarget::Cgroup {
                id: cgroup_id(&path)?,
                path,
                skip_exec: systemd_executor(&root),
            },
            0,
        )
    } else {
        if !runs(&status) {
            return Err(LearnError::NotRunning {
                unit: unit.to_owned(),
                state: status.summary(),
            });
        }
        let path = unit_cgroup_here(manager, unit, &status.control_group)?;
        (
            BpfTarget::WholeCgroup {
                id: cgroup_id(&path)?,
                path,
            },
            status.main_pid,
        )
    };
    // Removes a cgroup directory made for --start if the unit never took it over.
    let mut remove = made_cgroup.as_deref().map(RemoveCgroupOnDrop);

    let recorder = Recorder::start(&target)?;
    let started_at = SystemTime::now();
    let clock = Instant::now();
    attached(&target, main_pid_before);
    if request.start {
        client.job(JobVerb::Start, unit, false)?;
    }

    let mut started = !request.start;
    let mut next_progress = clock + PROGRESS_EVERY;
    let mut next_state = clock;
    let mut main_pid_after = main_pid_before;
    let ending = loop {
        if interrupted() {
            break Ending::Interrupted;
        }
        if request.duration.is_some_and(|d| clock.elapsed() >= d) {
            break Ending::TimeUp;
        }
        if !started {
            // The recorder first: a task armed at its exec means the unit's state read next
            // is at least `activating`, or already over.
            let execs = recorder.recorded()?.armed_at_exec;
            let now = client.status(unit)?;
            if execs > 0 || now.active_state != "inactive" {
                // It ran (or runs): from now on its end is the recording's end, and the
                // cgroup is systemd's.
                started = true;
                remove = None;
            } else if clock.elapsed() > START_TIMEOUT {
                return Err(LearnError::NotStarted {
                    unit: unit.to_owned(),
                    state: now.summary(),
                });
            }
        }
        if started && (request.start || Instant::now() >= next_state) {
            next_state = Instant::now() + STATE_EVERY;
            let now = client.status(unit)?;
            main_pid_after = now.main_pid;
            let over = if request.start {
                !runs(&now) && now.active_state != "activating"
            } else {
                // A new main PID is a restart: another life of the unit, not this one.
                !runs(&now) || now.main_pid != main_pid_before
            };
            if over {
                break Ending::UnitStopped;
            }
        }
        if let Some(progress) = progress
            .as_mut()
            .filter(|_| Instant::now() >= next_progress)
        {
            let so_far = observed_of(&recorder.recorded()?);
            progress(&Progress {
                elapsed: clock.elapsed(),
                syscalls: so_far.len(),
                new: known(&so_far),
            });
            next_progress += PROGRESS_EVERY;
        }
        let pause = request
            .duration
            .map_or(POLL, |d| d.saturating_sub(clock.elapsed()).min(POLL));
        std::thread::sleep(pause);
    };
    let duration = clock.elapsed();
    let recorded = recorder.recorded()?;
    drop(recorder);
    drop(remove);
    if ending != Ending::UnitStopped {
        main_pid_after = client.status(unit)?.main_pid;
    }
    Ok(Learned {
        recording: Recording {
            started_unix_ms: unix_ms(started_at),
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            ended: ending,
            armed: if request.start {
                Armed::Start
            } else {
                Armed::Running
            },
            host: host_name(manager),
            syscalls: 0,
            count: 0,
        },
        observed: observed_of(&recorded),
        main_pid_before,
        main_pid_after,
        target,
        tasks: recorded.tasks(),
    })
}

/// Whether a unit runs: active with processes (not a oneshot's `active (exited)`), or
/// reloading.
fn runs(status: &UnitStatus) -> bool {
    match status.active_state.as_str() {
        "active" => status.sub_state != "exited",
        "reloading" => true,
        _ => false,
    }
}

/// A cgroup's id: the inode number of its directory in the cgroup2 file system.
fn cgroup_id(path: &Path) -> Result<u64, BpfError> {
    std::fs::metadata(path)
        .map(|m| m.ino())
        .map_err(|error| BpfError::Cgroup {
            path: path.to_owned(),
            error,
        })
}

/// The recorder's counts by `(name, abi)`.
pub fn observed(recorded: &Recorded, native: &SyscallNumbers, compat: &SyscallNumbers) -> Observed {
    let (natives, compats) = recorded.counted_names(native, compat);
    natives
        .into_iter()
        .map(|(name, n)| ((name, Abi::Native), n))
        .chain(
            compats
                .into_iter()
                .map(|(name, n)| ((name, Abi::Compat), n)),
        )
        .collect()
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The managed machine's host name: its `/etc/hostname`, else this kernel's.
fn host_name(manager: &Manager) -> String {
    [
        manager.host_path(Path::new("/etc/hostname")),
        PathBuf::from("/proc/sys/kernel/hostname"),
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .map(|t| t.trim().to_owned())
    .find(|t| !t.is_empty())
    .unwrap_or_default()
}
