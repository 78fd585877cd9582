//! A unit's main process, pinned: what `inspect` and `verify` read, proven to be the
//! process systemd names as the unit's `MainPID` from before the first read to after the last.
//!
//! systemd is asked for the main PID (through the [`Systemd`] trait); the process is held
//! with a pidfd ([`ProcessHandle`]); after the reads, [`Pinned::confirm`] checks that the
//! pidfd shows the process did not exit, that its cgroup is the unit's, and that systemd
//! still names the same main PID. A unit that restarted meanwhile is an error
//! ([`PinError::Restarted`]), never another process's state. When systemd runs in a
//! container, its PIDs are translated to sandgen's PID namespace through the process that
//! holds the container's namespace ([`pids::translate_pid`]).

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{
    pids, InspectError, Inspection, MountNamespace, NamespaceError, ProcessHandle, ReadError, Roots,
};
use crate::systemd::bus::{BusError, Systemd};
use crate::systemd::status::UnitStatus;

/// Why a unit's main process could not be pinned, or its state not be reported.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    /// systemd does not know the unit.
    #[error("{unit}: no such unit (sandgen start POLICY installs and starts one)")]
    NoSuchUnit {
        /// The unit.
        unit: String,
    },
    /// The unit is stopped or failed.
    #[error(
        "{} is not running ({}): there is no process to look at (sandgen start {} starts it)",
        .unit, .summary, .unit.trim_end_matches(".service")
    )]
    NotRunning {
        /// The unit.
        unit: String,
        /// Its state in words ([`UnitStatus::summary`]).
        summary: String,
    },
    /// Active, activating or deactivating without a main process: between two runs of a
    /// restarting unit, a oneshot's remaining state, or a unit whose process just ended.
    #[error(
        "{unit} has no main process right now ({summary}): there is no process to look at; if it \
         is restarting, run the command again"
    )]
    NoMainProcess {
        /// The unit.
        unit: String,
        /// Its state in words.
        summary: String,
    },
    /// The main process changed while sandgen read it.
    #[error(
        "{unit} restarted while sandgen read it ({what}): nothing is reported, since it could \
         be another process's state; run the command again"
    )]
    Restarted {
        /// The unit.
        unit: String,
        /// What showed it.
        what: String,
    },
    /// systemd forked the main process but it has not exec'd its command yet.
    #[error(
        "the main process of {unit} (PID {pid}, {comm}) is still being set up by systemd \
         after {} s: it has not started its command yet", .waited.as_secs()
    )]
    NotExecuted {
        /// The unit.
        unit: String,
        /// The main PID.
        pid: u32,
        /// Its name, `(COMMAND)` while systemd sets it up.
        comm: String,
        /// How long sandgen waited.
        waited: Duration,
    },
    /// The clock of process start times could not be read.
    #[error("cannot read CLOCK_BOOTTIME")]
    Clock(#[source] io::Error),
    /// systemd could not be asked.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// A kernel file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The unit's state could not be read.
    #[error(transparent)]
    Inspect(InspectError),
    /// The unit's mount namespace could not be entered.
    #[error(transparent)]
    Namespace(NamespaceError),
}

impl PinError {
    fn restarted(unit: &str, what: String) -> Self {
        PinError::Restarted {
            unit: unit.to_owned(),
            what,
        }
    }

    fn exited(unit: &str, pid: u32) -> Self {
        Self::restarted(unit, format!("its main process, PID {pid}, exited"))
    }
}

impl From<InspectError> for PinError {
    fn from(e: InspectError) -> Self {
        match e {
            InspectError::Restarted { unit, pid } => PinError::exited(&unit, pid),
            other => PinError::Inspect(other),
        }
    }
}

/// The unit's main process, pinned, and how to read it.
pub struct Pinned {
    /// The unit.
    pub unit: String,
    /// What systemd said about the unit when asked for its main PID.
    pub status: UnitStatus,
    /// The main process (a PID of sandgen's namespace).
    pub handle: ProcessHandle,
    /// Where to read its state; the service manager's namespaces are the baseline.
    pub roots: Roots,
    /// `CLOCK_BOOTTIME` in clock ticks just before systemd was asked for the main PID.
    asked_at: u64,
}

/// Clock ticks a second (`sysconf(_SC_CLK_TCK)`), the unit of process start times.
fn ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|n| u64::try_from(n).ok())
        .filter(|&n| n > 0)
        .unwrap_or(100)
}

/// `CLOCK_BOOTTIME` in clock ticks (`sysconf(_SC_CLK_TCK)`), the clock and unit of a
/// process's start time in `/proc/PID/stat`.
fn boottime_ticks() -> Result<u64, PinError> {
    let mut now = nix::libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the valid pointer it is given.
    if unsafe { nix::libc::clock_gettime(nix::libc::CLOCK_BOOTTIME, &mut now) } != 0 {
        return Err(PinError::Clock(io::Error::last_os_error()));
    }
    let hz = ticks_per_second();
    let nanos = u128::try_from(now.tv_sec).unwrap_or(0) * 1_000_000_000
        + u128::try_from(now.tv_nsec).unwrap_or(0);
    // The kernel rounds down the same way (nsec_to_clock_t).
    Ok(u64::try_from(nanos * u128::from(hz) / 1_000_000_000).unwrap_or(u64::MAX))
}

/// Look the unit's main process up and pin it. `holder`: the host PID of the process whose
/// PID namespace systemd's PIDs live in (a container's init), if not sandgen's.
///
/// # Errors
///
/// When the unit has no main process, or it exits before it ran its command.
pub fn pin(client: &dyn Systemd, holder: Option<u32>, unit: &str) -> Result<Pinned, PinError> {
    let deadline = Instant::now() + EXEC_TIMEOUT;
    let mut handovers = 0;
    loop {
        let mut named = 0;
        match pin_once(client, holder, unit, &mut named) {
            Err(e @ PinError::Restarted { .. }) if handovers < MAX_HANDOVERS => {
                // Gone before anything was read: follow systemd to the main process it
                // names next, if it names one (see [`MAX_HANDOVERS`]).
                if !successor(client, unit, named, deadline)? {
                    return Err(e);
                }
                handovers += 1;
            }
            other => return other,
        }
    }
}

/// How many times [`pin`] and [`wait_for_main_exec`] follow the main PID when the process
/// systemd named ends before anything was read of it. systemd 257 hands the main PID on
/// while a unit starts with `PrivatePIDs=`: the first process forks the PID namespace's
/// PID 1 and exits, and for a moment MainPID still names it. A restart in that moment is
/// followed too; what is read is then the new process's, never a mix.
const MAX_HANDOVERS: usize = 3;

/// Wait until systemd names another main process than `ended` for `unit`, while the unit is
/// starting or up: `true` once it does, `false` when the unit stops or `deadline` passes.
fn successor(
    client: &dyn Systemd,
    unit: &str,
    ended: u32,
    deadline: Instant,
) -> Result<bool, PinError> {
    loop {
        let status = client.state(unit)?;
        let up = matches!(status.active_state.as_str(), "active" | "activating")
            && !matches!(status.sub_state.as_str(), "auto-restart" | "exited");
        if !up {
            return Ok(false);
        }
        if status.main_pid != 0 && status.main_pid != ended {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One attempt of [`pin`]; `named` is set to the main PID systemd named.
fn pin_once(
    client: &dyn Systemd,
    holder: Option<u32>,
    unit: &str,
    named: &mut u32,
) -> Result<Pinned, PinError> {
    let asked_at = boottime_ticks()?;
    let status = client.status(unit)?;
    *named = status.main_pid;
    if status.load_state == "not-found" {
        return Err(PinError::NoSuchUnit {
            unit: unit.to_owned(),
        });
    }
    if status.main_pid == 0 && matches!(status.active_state.as_str(), "inactive" | "failed") {
        return Err(PinError::NotRunning {
            unit: unit.to_owned(),
            summary: status.summary(),
        });
    }
    if status.main_pid == 0 {
        return Err(PinError::NoMainProcess {
            unit: unit.to_owned(),
            summary: status.summary(),
        });
    }
    let pid = match holder {
        Some(holder) => pids::translate_pid(Path::new("/proc"), holder, status.main_pid)?
            .ok_or_else(|| {
                PinError::restarted(unit, format!("its main PID {} exited", status.main_pid))
            })?,
        None => status.main_pid,
    };
    let handle = ProcessHandle::open(pid).map_err(|e| match e {
        ReadError::Gone { pid } => PinError::restarted(unit, format!("its main PID {pid} exited")),
        other => other.into(),
    })?;
    wait_for_exec(unit, &handle, holder.unwrap_or(1), EXEC_TIMEOUT)?;
    Ok(Pinned {
        unit: unit.to_owned(),
        status,
        handle,
        // The service manager's namespaces are the baseline: the container's systemd, else
        // PID 1.
        roots: Roots {
            host_pid: Some(holder.unwrap_or(1)),
            ..Roots::system()
        },
        asked_at,
    })
}

/// How a unit's main process was seen by [`wait_for_main_exec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MainExec {
    /// It runs its command: seen exec'd at `at`.
    Seen {
        /// When sandgen saw it exec'd.
        at: Instant,
        /// From its fork (its start time) to `at`: the sandbox set-up, plus sandgen's delay
        /// in looking, measured in clock ticks (10 ms on Linux).
        setup: Duration,
    },
    /// There is no main process to wait for; why, in words.
    Unseen(&'static str),
}

/// Why [`MainExec::Unseen`]: the main process ended first.
const ENDED_FIRST: &str = "its main process ended before sandgen saw it run its command";

/// Wait until the main process of the unit just started has exec'd its command, and measure
/// how long systemd took to set it up. `holder`: as for [`pin`]. A unit without a main
/// process (a oneshot that has finished, a forking service between its processes), one whose
/// process ends first, and a main PID that is not a process of the unit's cgroup as seen
/// from here (systemd in another PID namespace and no `holder`) give [`MainExec::Unseen`].
///
/// # Errors
///
/// When systemd cannot be asked, `/proc` cannot be read, or the process has not exec'd
/// within `timeout` ([`PinError::NotExecuted`]).
pub fn wait_for_main_exec(
    client: &dyn Systemd,
    holder: Option<u32>,
    unit: &str,
    timeout: Duration,
) -> Result<MainExec, PinError> {
    let deadline = Instant::now() + timeout;
    let mut handovers = 0;
    loop {
        let mut named = 0;
        let seen = main_exec_once(client, holder, unit, timeout, &mut named)?;
        if seen != MainExec::Unseen(ENDED_FIRST)
            || handovers >= MAX_HANDOVERS
            || !successor(client, unit, named, deadline)?
        {
            return Ok(seen);
        }
        handovers += 1;
    }
}

/// One attempt of [`wait_for_main_exec`]; `named` is set to the main PID systemd named.
fn main_exec_once(
    client: &dyn Systemd,
    holder: Option<u32>,
    unit: &str,
    timeout: Duration,
    named: &mut u32,
) -> Result<MainExec, PinError> {
    let status = client.state(unit)?;
    *named = status.main_pid;
    if status.main_pid == 0 {
        return Ok(MainExec::Unseen("no main process"));
    }
    let pid = match holder {
        Some(holder) => pids::translate_pid(Path::new("/proc"), holder, status.main_pid)?,
        None => Some(status.main_pid),
    };
    let Some(pid) = pid else {
        return Ok(MainExec::Unseen(ENDED_FIRST));
    };
    let handle = match ProcessHandle::open(pid) {
        Ok(handle) => handle,
        Err(ReadError::Gone { .. }) => return Ok(MainExec::Unseen(ENDED_FIRST)),
        Err(e) => return Err(e.into()),
    };
    // systemd moves the child into the unit's cgroup before it names it as MainPID.
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let ours = cgroups
        .lines()
        .filter_map(|line| line.splitn(3, ':').nth(2))
        .any(|path| in_cgroup(path, &status.control_group));
    if !handle.still_same()? {
        return Ok(MainExec::Unseen(ENDED_FIRST));
    }
    if !ours {
        return Ok(MainExec::Unseen(
            "its main PID is not a process of the unit seen from here; --root /proc/PID/root \
             names the PID namespace of a container's systemd",
        ));
    }
    log::info!(
        "{unit}: waiting for its main process (PID {}) to run its command",
        status.main_pid
    );
    match wait_for_exec(unit, &handle, holder.unwrap_or(1), timeout) {
        Ok(()) => {}
        Err(PinError::Restarted { .. }) => return Ok(MainExec::Unseen(ENDED_FIRST)),
        Err(e) => return Err(e),
    }
    let at = Instant::now();
    let ticks = boottime_ticks()?.saturating_sub(handle.start_time());
    let setup = Duration::from_millis(ticks.saturating_mul(1000) / ticks_per_second());
    Ok(MainExec::Seen { at, setup })
}

/// How long a main process may take from systemd's fork to the exec of its command: long,
/// because a busy or emulated machine can take seconds; a process that gets there returns
/// at once.
const EXEC_TIMEOUT: Duration = Duration::from_secs(30);

/// The executable systemd 255 and later run in a new main process to set it up
/// (`/usr/lib/systemd/systemd-executor`), before it execs the command.
const EXECUTOR: &str = "systemd-executor";

/// Wait until the pinned process has exec'd its command. systemd forks the main process and
/// reports its PID as MainPID at once; the child is still systemd (same name, same
/// executable; from systemd 255 on, `systemd-executor`, its name cut to
/// `systemd-executo`), then renames itself `(COMMAND)`, applies the sandbox (namespaces,
/// capabilities, seccomp) and execs: the state read before the exec is not the sandbox yet.
/// The exec happens after the sandbox is complete, so once the process runs another
/// executable than its service manager and its executor, and its name is not parenthesised,
/// everything read is the sandboxed state. `manager` is the service manager's PID.
fn wait_for_exec(
    unit: &str,
    handle: &ProcessHandle,
    manager: u32,
    timeout: Duration,
) -> Result<(), PinError> {
    let deadline = Instant::now() + timeout;
    let manager_exe = executable(manager);
    loop {
        let ran = has_run_its_command(handle.pid(), manager_exe);
        if !handle.still_same()? {
            return Err(PinError::exited(unit, handle.pid()));
        }
        if ran {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let comm =
                std::fs::read_to_string(format!("/proc/{}/comm", handle.pid())).unwrap_or_default();
            return Err(PinError::NotExecuted {
                unit: unit.to_owned(),
                pid: handle.pid(),
                comm: comm.trim_end().to_owned(),
                waited: timeout,
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The executable process `pid` runs (`/proc/PID/exe`), when readable.
pub(crate) fn executable(pid: u32) -> Option<super::FileId> {
    super::file_id(Path::new(&format!("/proc/{pid}/exe")))
}

/// Whether process `pid`, forked by the service manager whose executable is `manager_exe`
/// ([`executable`] of its PID, read once by the caller), has exec'd its command: it runs
/// another executable than the manager and its executor, and its name is not the
/// parenthesised `(COMMAND)` systemd gives it while it sets the sandbox up (see
/// `wait_for_exec`). A process that is gone has not (the caller checks that it is the same).
pub(crate) fn has_run_its_command(pid: u32, manager_exe: Option<super::FileId>) -> bool {
    let exe_path = PathBuf::from(format!("/proc/{pid}/exe"));
    let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
        return false;
    };
    let comm = comm.trim_end();
    let renamed = comm.len() > 2 && comm.starts_with('(') && comm.ends_with(')');
    let Ok(exe) = std::fs::read_link(&exe_path) else {
        return false;
    };
    let executor = exe.file_name().is_some_and(|name| name == EXECUTOR);
    let managers = manager_exe.is_some() && super::file_id(&exe_path) == manager_exe;
    !(renamed || executor || managers)
}

/// Whether cgroup `path` (as sandgen sees it) is `unit_cgroup` (as systemd names it) or below:
/// from outside a container the path has the container's own cgroup in front.
fn in_cgroup(path: &str, unit_cgroup: &str) -> bool {
    !unit_cgroup.is_empty()
        && (path.ends_with(unit_cgroup) || path.contains(&format!("{unit_cgroup}/")))
}

impl Pinned {
    /// Read the pinned process's state ([`super::inspect`]); call [`Pinned::confirm`] after.
    ///
    /// # Errors
    ///
    /// When a file cannot be read, or the process exited meanwhile.
    pub fn inspect(&self) -> Result<Inspection, PinError> {
        Ok(super::inspect(&self.unit, &self.handle, &self.roots)?)
    }

    /// The pinned process's mount namespace, to list paths as it sees them.
    ///
    /// # Errors
    ///
    /// When it cannot be entered, or the process exited.
    pub fn mount_namespace(&self) -> Result<MountNamespace, PinError> {
        MountNamespace::of(&self.handle).map_err(|e| match e {
            NamespaceError::Read(ReadError::Gone { pid }) => PinError::exited(&self.unit, pid),
            other => PinError::Namespace(other),
        })
    }

    /// Confirm, after every read, that the pinned process was the unit's main process
    /// throughout. `cgroup_path` is its cgroup as read with the rest.
    ///
    /// - The pidfd shows it has not exited since: every read was of it. (Checked first: an
    ///   exiting process leaves its cgroup, and "exited" is then the true cause.)
    /// - Its cgroup is the unit's: a PID reused by any other process between systemd's
    ///   answer and the pidfd is caught here.
    /// - It started before sandgen asked systemd (its start time is earlier than the clock
    ///   tick taken before the question): it was alive while systemd answered, PIDs are
    ///   unique among live processes, so it is the process systemd named. When it started in
    ///   or after that tick, systemd is asked again and must name the same PID.
    ///
    /// # Errors
    ///
    /// [`PinError::Restarted`] saying what changed.
    pub fn confirm(&self, client: &dyn Systemd, cgroup_path: &str) -> Result<(), PinError> {
        let (unit, pid) = (&self.unit, self.handle.pid());
        if !self.handle.still_same()? {
            return Err(PinError::exited(unit, pid));
        }
        if !in_cgroup(cgroup_path, &self.status.control_group) {
            return Err(PinError::restarted(
                unit,
                format!(
                    "PID {pid} is in cgroup {cgroup_path}, not the unit's {}: its number was reused",
                    self.status.control_group
                ),
            ));
        }
        let now = if self.handle.start_time() < self.asked_at {
            None
        } else {
            Some(client.status(unit)?)
        };
        if let Some(now) = now.filter(|now| now.main_pid != self.status.main_pid) {
            return Err(PinError::restarted(
                unit,
                format!(
                    "its main PID was {}, now {}",
                    self.status.main_pid,
                    if now.main_pid == 0 {
                        "none".to_owned()
                    } else {
                        now.main_pid.to_string()
                    }
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_still_running_its_managers_executable_has_not_exec_d() {
        // Two `sleep`s share an executable: seen from the first, the second is a fork of
        // its "manager" that has not exec'd its command yet, whatever its name.
        let spawn = || {
            std::process::Command::new("/bin/sleep")
                .arg("60")
                .spawn()
                .expect("spawn sleep")
        };
        let (mut manager, mut child) = (spawn(), spawn());
        // Right after spawn() a child may still run this test's executable: wait for both
        // to have exec'd sleep.
        let sleep = crate::inspect::file_id(Path::new("/bin/sleep"));
        let exe = |pid: u32| crate::inspect::file_id(Path::new(&format!("/proc/{pid}/exe")));
        let deadline = Instant::now() + Duration::from_secs(60);
        while sleep.is_none() || exe(manager.id()) != sleep || exe(child.id()) != sleep {
            assert!(Instant::now() < deadline, "sleep never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        let handle = ProcessHandle::open(child.id()).expect("pidfd");
        let err = wait_for_exec(
            "x.service",
            &handle,
            manager.id(),
            Duration::from_millis(50),
        )
        .expect_err("still the manager's executable");
        assert!(matches!(err, PinError::NotExecuted { .. }), "{err}");
        // Against a manager with another executable (this test), it has exec'd.
        wait_for_exec(
            "x.service",
            &handle,
            std::process::id(),
            Duration::from_secs(60),
        )
        .expect("exec'd");
        for p in [&mut manager, &mut child] {
            let _ = p.kill();
            let _ = p.wait();
        }
    }

    #[test]
    fn a_process_running_systemds_executor_has_not_exec_d() {
        // systemd 255+ sets a main process up in `systemd-executor`: a `sleep` under that
        // name stands for it, whoever the manager is.
        let dir = tempfile::tempdir().expect("tempdir");
        let executor = dir.path().join(EXECUTOR);
        std::fs::copy("/bin/sleep", &executor).expect("copy sleep");
        let mut child = std::process::Command::new(&executor)
            .arg("60")
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(60);
        let exe = || std::fs::read_link(format!("/proc/{}/exe", child.id())).ok();
        while exe().as_deref() != Some(executor.as_path()) {
            assert!(Instant::now() < deadline, "the executor never started");
            std::thread::sleep(Duration::from_millis(5));
        }
        let handle = ProcessHandle::open(child.id()).expect("pidfd");
        let err = wait_for_exec(
            "x.service",
            &handle,
            std::process::id(),
            Duration::from_millis(50),
        )
        .expect_err("still in the executor");
        assert!(
            matches!(&err, PinError::NotExecuted { comm, .. } if comm == "systemd-executo"),
            "{err}"
        );
        let _ = child.kill();
        let _ = child.wait();
    }
    use crate::inspect::cgroup::read_cgroup;
    use crate::systemd::bus::{JobOutcome, JobVerb};
    use crate::systemd::properties::Property;
    use std::cell::RefCell;
    use std::process::{Child, Command};

    /// A systemd that reports the given statuses, one per call (the last one repeats).
    struct Fake(RefCell<Vec<UnitStatus>>);

    impl Systemd for Fake {
        fn version(&self) -> Result<String, BusError> {
            Ok("252.39-1~deb12u1".into())
        }
        fn reload(&self) -> Result<(), BusError> {
            Ok(())
        }
        fn is_loaded(&self, _unit: &str) -> Result<bool, BusError> {
            Ok(true)
        }
        fn status(&self, _unit: &str) -> Result<UnitStatus, BusError> {
            let mut list = self.0.borrow_mut();
            Ok(if list.len() > 1 {
                list.remove(0)
            } else {
                list[0].clone()
            })
        }
        fn job(&self, _: JobVerb, _: &str, _: bool) -> Result<JobOutcome, BusError> {
            unreachable!("inspect runs no jobs")
        }
        fn start_transient(
            &self,
            _: &str,
            _: &[Property],
            _: bool,
        ) -> Result<JobOutcome, BusError> {
            unreachable!("inspect starts nothing")
        }
        fn reset_failed(&self, _: &str) -> Result<(), BusError> {
            Ok(())
        }
        fn freeze(&self, _: &str, _: bool) -> Result<(), BusError> {
            Ok(())
        }
    }

    struct Reaped(Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn running(pid: u32, cgroup: &str) -> UnitStatus {
        UnitStatus {
            unit: "x.service".into(),
            load_state: "loaded".into(),
            active_state: "active".into(),
            sub_state: "running".into(),
            main_pid: pid,
            control_group: cgroup.into(),
            ..UnitStatus::default()
        }
    }

    fn own_cgroup() -> String {
        let me = std::process::id();
        read_cgroup(Path::new("/proc"), Path::new("/sys/fs/cgroup"), me)
            .expect("our cgroup")
            .path
    }

    #[test]
    fn a_reused_pid_in_another_cgroup_is_never_reported() {
        // systemd names PID N as the main process; by the time sandgen pins N, it is a
        // process of another cgroup (this test's), as after the unit's process exited and
        // its number was reused.
        let child = Reaped(Command::new("sleep").arg("30").spawn().expect("sleep"));
        let fake = Fake(RefCell::new(vec![running(
            child.0.id(),
            "/system.slice/x.service",
        )]));
        let pinned = pin(&fake, None, "x.service").expect("pin");
        let got = pinned.inspect().expect("read");
        let err = pinned
            .confirm(&fake, &got.cgroup.path)
            .expect_err("foreign process");
        assert_eq!(
            err.to_string(),
            format!(
                "x.service restarted while sandgen read it (PID {} is in cgroup {}, not the \
                 unit's /system.slice/x.service: its number was reused): nothing is reported, \
                 since it could be another process's state; run the command again",
                child.0.id(),
                got.cgroup.path
            )
        );
    }

    #[test]
    fn a_main_pid_handed_on_before_any_read_is_followed() {
        // systemd 257 with PrivatePIDs=: MainPID first names a process that forks the PID
        // namespace's PID 1 and exits, then the new one. Before anything is read, pin and the
        // start's exec watch follow it; the unit did not restart.
        let mut first = Command::new("true").spawn().expect("true");
        let ended = first.id();
        first.wait().expect("reaped");
        let child = Reaped(Command::new("sleep").arg("30").spawn().expect("sleep"));
        let cgroup = own_cgroup();
        let statuses = || {
            Fake(RefCell::new(vec![
                running(ended, &cgroup),
                running(ended, &cgroup),
                running(child.0.id(), &cgroup),
            ]))
        };
        let pinned = pin(&statuses(), None, "x.service").expect("pin");
        assert_eq!(pinned.handle.pid(), child.0.id());
        let seen = wait_for_main_exec(&statuses(), None, "x.service", Duration::from_secs(60))
            .expect("watch");
        assert!(matches!(seen, MainExec::Seen { .. }), "{seen:?}");
        // A unit that stopped instead has nothing to follow.
        let mut stopped = running(0, &cgroup);
        stopped.active_state = "inactive".into();
        let fake = Fake(RefCell::new(vec![running(ended, &cgroup), stopped]));
        let err = pin(&fake, None, "x.service").err().expect("nothing to pin");
        assert!(
            err.to_string()
                .contains(&format!("its main PID {ended} exited")),
            "{err}"
        );
    }

    #[test]
    fn a_main_pid_that_changed_during_the_reads_is_never_reported() {
        let child = Reaped(Command::new("sleep").arg("30").spawn().expect("sleep"));
        let cgroup = own_cgroup();
        let fake = Fake(RefCell::new(vec![
            running(child.0.id(), &cgroup),
            running(child.0.id() + 1, &cgroup),
        ]));
        let mut pinned = pin(&fake, None, "x.service").expect("pin");
        // A process that started in the clock tick of the question (or later) could be a
        // successor with the same PID: systemd is asked again, and names another PID.
        pinned.asked_at = pinned.handle.start_time();
        let err = pinned.confirm(&fake, &cgroup).expect_err("restarted");
        assert!(
            err.to_string().contains(&format!(
                "(its main PID was {}, now {})",
                child.0.id(),
                child.0.id() + 1
            )),
            "{err}"
        );
        // A process older than the question is the one systemd named: no second question.
        let fake = Fake(RefCell::new(vec![
            running(child.0.id(), &cgroup),
            running(child.0.id() + 1, &cgroup),
        ]));
        let mut pinned = pin(&fake, None, "x.service").expect("pin");
        pinned.asked_at = pinned.handle.start_time() + 1;
        pinned.confirm(&fake, &cgroup).expect("same process");
        assert_eq!(fake.0.borrow().len(), 1, "systemd was asked again");
        // Once the process is gone, nothing is confirmed.
        drop(child);
        let err = pinned.confirm(&fake, &cgroup).expect_err("gone");
        assert!(err.to_string().contains("exited"), "{err}");
    }

    #[test]
    fn the_clock_is_the_one_of_process_start_times() {
        // This test process started before now, and at most ten minutes ago.
        let me = ProcessHandle::open(std::process::id()).expect("self");
        let now = boottime_ticks().expect("clock");
        assert!(me.start_time() <= now, "{} > {now}", me.start_time());
        assert!(
            now - me.start_time() < 600 * 100,
            "{now} vs {}",
            me.start_time()
        );
    }

    /// Why `pin` refuses a unit systemd reports as `status`.
    fn refusal(status: UnitStatus) -> String {
        match pin(&Fake(RefCell::new(vec![status])), None, "x.service") {
            Ok(_) => panic!("pinned"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn not_running_and_missing_units_are_clear_errors() {
        let stopped = UnitStatus {
            main_pid: 0,
            active_state: "inactive".into(),
            sub_state: "dead".into(),
            ..running(0, "")
        };
        assert_eq!(
            refusal(stopped),
            "x.service is not running (inactive (dead)): there is no process to look at \
             (sandgen start x starts it)"
        );
        let missing = UnitStatus {
            load_state: "not-found".into(),
            ..running(0, "")
        };
        assert_eq!(
            refusal(missing),
            "x.service: no such unit (sandgen start POLICY installs and starts one)"
        );
        // Active without a main process (between two runs of a restarting unit): the message
        // must not say "not running (active (running))".
        assert_eq!(
            refusal(running(0, "")),
            "x.service has no main process right now (active (running)): there is no process \
             to look at; if it is restarting, run the command again"
        );
    }

    #[test]
    fn cgroup_paths_match_from_outside_a_container() {
        let unit = "/system.slice/heat.service";
        assert!(in_cgroup("/system.slice/heat.service", unit));
        assert!(in_cgroup(
            "/sandgen-harness-x/payload/system.slice/heat.service",
            unit
        ));
        assert!(in_cgroup("/system.slice/heat.service/worker", unit));
        assert!(!in_cgroup("/system.slice/heat.service2", unit));
        assert!(!in_cgroup("/user.slice/x", unit));
        assert!(!in_cgroup("/x", ""));
    }
}
