//! Commands run, and traced, as transient systemd units: in the environment they will have
//! as a service (no `HOME`, the journal for output, maybe another user) and in a policy's
//! sandbox.
//!
//! [`UnitRunner`] runs an argv as a transient `Type=oneshot` unit (the start job lasts until
//! the command exits) with `RemainAfterExit=yes` (a unit that succeeded stays loaded, so its
//! `ExecMainStatus=` can be read), waits for the command to end, and stops and resets the
//! unit when done, also on errors and on SIGINT/SIGTERM ([`catch_interrupts`]). It is the
//! [`CommandRunner`] of a [`StraceTracer`] whose `strace -f` is the unit's `ExecStart=`.
//!
//! [`UnitTracer`] holds a policy's directives and builds the runners: the trace leaves the
//! policy's `SystemCallFilter=` out (it would apply to strace too) and writes the trace file
//! in `/run/sandgen/` (a unit's `/tmp` may be private), made writable with `ReadWritePaths=`
//! or, for a unit running as another user, owned by it through `RuntimeDirectory=`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::audit::{KernelLog, SeccompRecord, SyscallNumbers};
use super::bpf::{unit_cgroup_dir, BpfError, BpfTarget, Recorder};
use super::{CommandRunner, ExitStatusInfo, StraceTracer, SyscallTracer, TraceCommand};
use super::{TraceError, TraceResult};
use crate::data::syscalls::SyscallTable;
use crate::directive::{Directive, DirectiveValue, Kind, Name, UnitSection};
use crate::host::find_program_in;
use crate::inspect::pids;
use crate::inspect::pin::{executable, has_run_its_command};
use crate::suggest::closed_loop::{ClosedLoop, RunFacts, Step, Verification};
use crate::suggest::{shell_words, Suggestion};
use crate::systemd::bus::{BusError, JobOutcome, JobVerb, Systemd};
use crate::systemd::properties::{transient_properties, Property};
use crate::systemd::status::UnitStatus;
use crate::systemd::Manager;

/// The directories systemd searches for a service's programs (its built-in `PATH`).
pub const SERVICE_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// How long a transient unit may stay queued before sandgen gives up on it.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a command could not be run or traced in a transient unit.
#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    /// systemd could not be asked.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The trace could not be taken.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// strace recorded nothing; the unit's journal says why.
    #[error("{error}{journal}")]
    EmptyTrace {
        /// The trace's error.
        error: TraceError,
        /// The unit's last journal lines ([`Manager::journal_lines`]).
        journal: String,
    },
    /// A relative path with a `/`: systemd's `ExecStart=` takes none.
    #[error(
        "cannot run `{program}` in a unit: give an absolute path, or a name systemd finds in {}",
        SERVICE_PATH.join(":")
    )]
    RelativeProgram {
        /// The program as given.
        program: String,
    },
    /// The trace directory could not be made.
    #[error("cannot create {}", .path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        error: io::Error,
    },
    /// systemd refused a property of the transient unit.
    #[error(
        "{action}: {message}\nthis systemd has no transient property for one of the policy's \
         directives"
    )]
    NoTransientProperty {
        /// What sandgen asked.
        action: String,
        /// systemd's answer.
        message: String,
    },
    /// The unit ended before its command ran.
    #[error("{unit} ended without running its command: {failure}{journal}")]
    NotRun {
        /// The unit.
        unit: String,
        /// How it failed ([`UnitStatus::failure`]).
        failure: String,
        /// Its last journal lines.
        journal: String,
    },
    /// The BPF recorder could not record the unit.
    #[error(transparent)]
    Bpf(#[from] BpfError),
    /// The BPF recorder saw no task of the unit exec its command.
    #[error(
        "the BPF recorder saw no process of {unit} exec its command (cgroup {}): systemd does \
         not track the unit in that cgroup2 directory; trace with --tracer strace",
        .path.display()
    )]
    BpfSawNothing {
        /// The unit.
        unit: String,
        /// Its cgroup2 directory.
        path: PathBuf,
    },
    /// sandgen was interrupted while the unit ran.
    #[error("interrupted; {unit} is being stopped")]
    Interrupted {
        /// The unit.
        unit: String,
    },
    /// The unit stayed queued.
    #[error("{unit} did not start within {} s: {summary}", START_TIMEOUT.as_secs())]
    NotStarted {
        /// The unit.
        unit: String,
        /// Its state in words.
        summary: String,
    },
}

/// A transient unit sandgen started, and how its command ended.
pub struct UnitRun {
    /// The unit.
    pub unit: String,
    /// How its command ended (`None`: it never ran).
    pub exit: Option<ExitStatusInfo>,
}

/// Runs argvs as transient oneshot units with a sandbox.
pub struct UnitRunner<'a> {
    manager: &'a Manager,
    /// Stop the unit after this long.
    stop_after: Option<Duration>,
    sandbox: Vec<Directive>,
    purpose: &'static str,
    preserve_runtime_directory: bool,
    /// Which process is the workload `stop_after` counts from.
    workload: Workload,
    last: RefCell<Option<UnitRun>>,
}

/// Which process of a unit runs the command being profiled: `--stop-after` counts from the
/// moment it has exec'd, not from the start job, so that a slow start (strace and the
/// libraries it loads on a busy or emulated machine take seconds) does not eat the time the
/// command is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// The main process runs it.
    Main,
    /// A child of the main process (the main process is `strace -f`).
    ChildOfMain,
}

/// `--stop-after` of one run: stop the unit `after` this long from the workload's exec.
struct StopAfter<'a> {
    after: Duration,
    manager: &'a Manager,
    workload: Workload,
}

/// The longest sandgen waits to see the workload exec before it counts `--stop-after` from the
/// start job instead: long, for the same reason as [`crate::inspect::pin`]'s exec timeout.
const WORKLOAD_EXEC_TIMEOUT: Duration = Duration::from_secs(30);

/// The main PID systemd named, as sandgen's PID, and the service manager's executable:
/// read once per main process, not at every poll.
#[derive(Debug, Clone, Copy)]
struct Translated {
    /// The main PID as systemd names it.
    inner: u32,
    /// The same process in sandgen's PID namespace.
    pid: u32,
    /// The service manager's executable ([`executable`]).
    manager_exe: Option<crate::inspect::FileId>,
}

impl StopAfter<'_> {
    /// Whether the workload of the unit whose main PID (as systemd names it) is `main_pid`
    /// has exec'd its command; `None` when sandgen cannot see it from here. `translated`
    /// caches the main PID's translation into sandgen's PID namespace ([`Translated`]).
    fn workload_runs(&self, main_pid: u32, translated: &mut Option<Translated>) -> Option<bool> {
        if main_pid == 0 {
            return Some(false);
        }
        let holder = self.manager.namespace_holder();
        let (pid, manager_exe) = match *translated {
            Some(Translated {
                inner,
                pid,
                manager_exe,
            }) if inner == main_pid => (pid, manager_exe),
            _ => {
                let pid = match holder {
                    Some(holder) => {
                        match pids::translate_pid(Path::new("/proc"), holder, main_pid) {
                            Ok(Some(pid)) => pid,
                            Ok(None) => return Some(false),
                            Err(e) => {
                                log::debug!("cannot find main PID {main_pid}: {e}");
                                return None;
                            }
                        }
                    }
                    None => main_pid,
                };
                let manager_exe = executable(holder.unwrap_or(1));
                *translated = Some(Translated {
                    inner: main_pid,
                    pid,
                    manager_exe,
                });
                (pid, manager_exe)
            }
        };
        if !has_run_its_command(pid, manager_exe) {
            return Some(false);
        }
        match self.workload {
            Workload::Main => Some(true),
            Workload::ChildOfMain => {
                let path = format!("/proc/{pid}/task/{pid}/children");
                let Ok(children) = std::fs::read_to_string(&path) else {
                    // The main process is gone (not yet seen), or the kernel has no
                    // CONFIG_PROC_CHILDREN (cannot tell).
                    return (!Path::new(&format!("/proc/{pid}")).exists()).then_some(false);
                };
                let exe =
                    |pid: &str| crate::inspect::file_id(Path::new(&format!("/proc/{pid}/exe")));
                let main_exe = exe(&pid.to_string());
                Some(
                    children
                        .split_whitespace()
                        .any(|child| exe(child).is_some_and(|e| Some(e) != main_exe)),
                )
            }
        }
    }
}

impl UnitRunner<'_> {
    /// Run `argv` as `Type=oneshot` (so the start job lasts until it exits) with
    /// `RemainAfterExit=yes` (so the unit, and its ExecMainStatus, stays loaded after a
    /// success), wait for it, stop it. With `allow`, under that system call allow-list.
    ///
    /// # Errors
    ///
    /// When systemd refuses the unit, or it ends without running the command.
    pub fn run_unit(
        &self,
        argv: &[String],
        allow: Option<&[String]>,
    ) -> Result<UnitRun, UnitError> {
        self.run_unit_named(next_unit_name(self.purpose), argv, allow)
    }

    /// [`UnitRunner::run_unit`] with the unit's name chosen by the caller.
    fn run_unit_named(
        &self,
        unit: String,
        argv: &[String],
        allow: Option<&[String]>,
    ) -> Result<UnitRun, UnitError> {
        let mut directives = Vec::new();
        if let Some(allow) = allow {
            // First: systemd reads the first SystemCallFilter= as allow- or deny-list.
            directives.push(list_directive(
                Name::SystemCallFilter,
                Kind::Syscalls,
                allow.to_vec(),
            ));
        }
        directives.extend(self.sandbox.iter().cloned());
        directives.push(Directive {
            section: UnitSection::Service,
            name: Name::Type,
            value: DirectiveValue::Word("oneshot".to_owned()),
            kind: Kind::Word(&[]),
            origin: "sandgen suggest".to_owned(),
        });
        directives.push(Directive {
            section: UnitSection::Service,
            name: Name::ExecStart,
            value: DirectiveValue::Command(argv.to_vec()),
            kind: Kind::Command,
            origin: "sandgen suggest".to_owned(),
        });
        let (mut properties, _) = transient_properties(&directives);
        properties.push(Property {
            name: "RemainAfterExit".to_owned(),
            value: zbus::OwnedVariant::from(true),
        });
        properties.push(Property {
            name: "Description".to_owned(),
            value: zbus::OwnedVariant::from(zbus::Str::from(format!(
                "sandgen {}: {}",
                self.purpose,
                shell_words(argv)
            ))),
        });
        if self.preserve_runtime_directory {
            properties.push(Property {
                name: "RuntimeDirectoryPreserve".to_owned(),
                value: zbus::OwnedVariant::from(zbus::Str::from("yes")),
            });
        }
        log::info!("starting {unit}: {}", shell_words(argv));
        // A connection per job: the client subscribes to job signals for each job, and
        // systemd refuses a second subscription on one connection.
        let client = self.manager.connect()?;
        client
            .start_transient(&unit, &properties, false)
            .map_err(|e| match e {
                BusError::Call { action, message }
                    if message.contains("nknown") || message.contains("Cannot set property") =>
                {
                    UnitError::NoTransientProperty { action, message }
                }
                other => other.into(),
            })
            .map(|outcome: JobOutcome| log::debug!("{unit}: {outcome:?}"))?;
        let guard = StopOnDrop {
            manager: self.manager,
            unit: &unit,
        };
        let stop_after = self.stop_after.map(|after| StopAfter {
            after,
            manager: self.manager,
            workload: self.workload,
        });
        let status = wait_for_end(&client, &unit, stop_after.as_ref())?;
        drop(guard);
        let exit = exit_of(&status);
        if exit.is_none() {
            return Err(UnitError::NotRun {
                failure: status.failure("done"),
                journal: self.manager.journal_lines(&unit),
                unit,
            });
        }
        Ok(UnitRun { unit, exit })
    }
}

impl CommandRunner for &UnitRunner<'_> {
    fn run(
        &self,
        argv: &[String],
    ) -> Result<ExitStatusInfo, Box<dyn std::error::Error + Send + Sync>> {
        let run = self.run_unit(argv, None)?;
        let exit = run.exit.clone().ok_or("the unit did not run its command")?;
        *self.last.borrow_mut() = Some(run);
        Ok(exit)
    }
}

/// How a unit's main process ended (`ExecMainCode=`, waitid(2)'s `CLD_*`).
pub fn exit_of(status: &UnitStatus) -> Option<ExitStatusInfo> {
    match status.exec_main_code {
        1 => Some(ExitStatusInfo::exited(status.exec_main_status)),
        2 => Some(ExitStatusInfo::killed_by(status.exec_main_status, false)),
        3 => Some(ExitStatusInfo::killed_by(status.exec_main_status, true)),
        _ => None,
    }
}

/// Poll a started oneshot unit until its command has ended: `active` (RemainAfterExit),
/// `failed`, or back to `inactive` after it ran.
///
/// With `stop_after`, a unit still running that long after its workload exec'd is stopped
/// (SIGTERM).
fn wait_for_end(
    client: &dyn Systemd,
    unit: &str,
    stop_after: Option<&StopAfter<'_>>,
) -> Result<UnitStatus, UnitError> {
    let queued = Instant::now();
    let mut started = false;
    let mut stop_sent = false;
    // When the workload was seen running: what --stop-after counts from.
    let mut clock: Option<Instant> = None;
    let mut translated = None;
    let mut pause = Duration::from_millis(5);
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err(UnitError::Interrupted {
                unit: unit.to_owned(),
            });
        }
        let status = client.status(unit)?;
        if let Some(stop) = stop_after {
            if started && clock.is_none() {
                clock = match stop.workload_runs(status.main_pid, &mut translated) {
                    Some(true) => {
                        log::debug!(
                            "{unit}: the command runs after {:.2} s; stopping it in {} s",
                            queued.elapsed().as_secs_f64(),
                            stop.after.as_secs_f64()
                        );
                        Some(Instant::now())
                    }
                    Some(false) if queued.elapsed() < WORKLOAD_EXEC_TIMEOUT => None,
                    seen => {
                        log::info!(
                            "{unit}: {}; --stop-after counts from the start job",
                            if seen.is_none() {
                                "sandgen cannot see its processes from here"
                            } else {
                                "its command did not start in time"
                            }
                        );
                        Some(queued)
                    }
                };
            }
            if !stop_sent && clock.is_some_and(|at| at.elapsed() >= stop.after) {
                log::info!(
                    "stopping {unit} after {} s (--stop-after)",
                    stop.after.as_secs_f64()
                );
                // Not waited for: a stop job ends when the unit is down, which the loop sees.
                stop.manager.connect()?.job(JobVerb::Stop, unit, false)?;
                stop_sent = true;
            }
        }
        match status.active_state.as_str() {
            "active" | "failed" => return Ok(status),
            "inactive" if started || status.exec_main_code != 0 => return Ok(status),
            "inactive" if queued.elapsed() > START_TIMEOUT => {
                return Err(UnitError::NotStarted {
                    unit: unit.to_owned(),
                    summary: status.summary(),
                })
            }
            "inactive" => {}
            _ => started = true,
        }
        if status.load_state == "not-found" && started {
            return Ok(status);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// The cgroup2 directory of `unit`, whose `ControlGroup=` (systemd's path, relative to its
/// root cgroup) is `control_group`, as this process sees it: found from the manager's PID 1
/// ([`unit_cgroup_dir`]).
///
/// # Errors
///
/// [`BpfError::NoCgroup2`] when the manager's PID 1 is not tracked in a cgroup2 tree.
pub fn unit_cgroup_here(
    manager: &Manager,
    unit: &str,
    control_group: &str,
) -> Result<PathBuf, BpfError> {
    let mountinfo = manager.host_path(Path::new("/proc/1/mountinfo"));
    let cgroup = manager.host_path(Path::new("/proc/1/cgroup"));
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|error| BpfError::Cgroup {
            path: path.to_owned(),
            error,
        })
    };
    let dir =
        unit_cgroup_dir(&read(&mountinfo)?, &read(&cgroup)?, control_group).ok_or_else(|| {
            BpfError::NoCgroup2(format!(
                "the BPF recorder cannot identify {unit}: the manager's PID 1 has no cgroup2 \
                 tree ({} has no cgroup2 mount with it, see {}): trace with --tracer strace",
                mountinfo.display(),
                cgroup.display()
            ))
        })?;
    Ok(manager.host_path(&dir))
}

/// Removes a cgroup directory sandgen made when dropped, unless systemd already did (it
/// removes a unit's cgroup when the unit stops).
pub struct RemoveCgroupOnDrop<'a>(pub &'a Path);

impl Drop for RemoveCgroupOnDrop<'_> {
    fn drop(&mut self) {
        match std::fs::remove_dir(self.0) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => log::warn!("cannot remove the cgroup {}: {e}", self.0.display()),
        }
    }
}

/// Stops and forgets a transient unit when dropped (also on errors and interrupts).
struct StopOnDrop<'a> {
    manager: &'a Manager,
    unit: &'a str,
}

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let client = match self.manager.connect() {
            Ok(c) => c,
            Err(e) => {
                log::warn!("cannot stop {}: {e:#}", self.unit);
                return;
            }
        };
        if let Err(e) = client.job(JobVerb::Stop, self.unit, true) {
            log::warn!("cannot stop {}: {e}", self.unit);
        }
        if let Err(e) = client.reset_failed(self.unit) {
            log::debug!("cannot reset {}: {e}", self.unit);
        }
    }
}

fn next_unit_name(purpose: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "sandgen-{purpose}-{}-{}.service",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A private directory for trace files under `/run/sandgen` of the managed system, removed
/// on drop unless kept.
struct TraceDir {
    /// The path units see.
    inside: PathBuf,
    /// The same directory seen from here (under the manager's root).
    here: PathBuf,
    keep: bool,
}

impl TraceDir {
    fn create(manager: &Manager, keep: bool) -> Result<Self, UnitError> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let base = Path::new("/run/sandgen");
        let base_here = manager.host_path(base);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&base_here)
            .map_err(|error| UnitError::Dir {
                path: base_here.clone(),
                error,
            })?;
        let name = format!(
            "suggest-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let here = base_here.join(&name);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&here)
            .map_err(|error| UnitError::Dir {
                path: here.clone(),
                error,
            })?;
        Ok(Self {
            inside: base.join(name),
            here,
            keep,
        })
    }

    /// The directory as a `RuntimeDirectory=` (relative to `/run`).
    fn runtime_directory_name(&self) -> String {
        let inside = self.inside.display().to_string();
        inside.strip_prefix("/run/").unwrap_or(&inside).to_owned()
    }
}

impl Drop for TraceDir {
    fn drop(&mut self) {
        if !self.keep {
            if let Err(e) = std::fs::remove_dir_all(&self.here) {
                log::warn!("cannot remove {}: {e}", self.here.display());
            }
        }
    }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: nix::libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Whether SIGINT, SIGTERM or SIGHUP arrived since [`catch_interrupts`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Turn SIGINT, SIGTERM and SIGHUP into a flag that the wait for a unit checks, so that an
/// interrupted sandgen stops the transient unit it started instead of leaving it running.
pub fn catch_interrupts() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        if let Err(e) = unsafe { sigaction(signal, &action) } {
            log::debug!("cannot catch {signal}: {e}");
        }
    }
}

fn list_directive(name: Name, kind: Kind, words: Vec<String>) -> Directive {
    Directive {
        section: UnitSection::Service,
        name,
        value: DirectiveValue::Words {
            words,
            negated: false,
        },
        kind,
        origin: "sandgen suggest".to_owned(),
    }
}

/// Everything that runs commands as transient units of one systemd, in one policy's sandbox.
pub struct UnitTracer<'a> {
    manager: &'a Manager,
    /// The policy's directives.
    directives: &'a [Directive],
    /// Stop each command after this long (`--stop-after`).
    stop_after: Option<Duration>,
    /// Tells the user what the sandbox leaves out.
    tell: &'a dyn Fn(&str),
    /// Trace with strace's `-y` ([`StraceTracer::fd_paths`]).
    fd_paths: bool,
}

impl<'a> UnitTracer<'a> {
    /// Trace with every file descriptor's path (strace `-y`), for the facts of a whole
    /// sandbox ([`crate::trace::facts`]).
    pub fn with_fd_paths(mut self, on: bool) -> Self {
        self.fd_paths = on;
        self
    }

    /// Run commands through `manager` in the sandbox of `directives`, stopping each after
    /// `stop_after`. `tell` receives a line for each directive a transient unit cannot have.
    pub fn new(
        manager: &'a Manager,
        directives: &'a [Directive],
        stop_after: Option<Duration>,
        tell: &'a dyn Fn(&str),
    ) -> Self {
        UnitTracer {
            manager,
            directives,
            stop_after,
            tell,
            fd_paths: false,
        }
    }

    /// `argv` with its program resolved as systemd resolves `ExecStart=`: a name is looked
    /// up in systemd's service `PATH`, on the managed system's file system.
    ///
    /// # Errors
    ///
    /// When the program is a relative path or is not found.
    pub fn resolve_argv(&self, argv: &[String]) -> Result<Vec<String>, UnitError> {
        let Some((program, rest)) = argv.split_first() else {
            return Err(TraceError::EmptyCommand.into());
        };
        let resolved = if program.starts_with('/') {
            program.clone()
        } else if program.contains('/') {
            return Err(UnitError::RelativeProgram {
                program: program.clone(),
            });
        } else {
            self.find_in_service_path(program)
                .ok_or_else(|| TraceError::ProgramNotFound {
                    program: program.clone(),
                    reason: format!(
                        "no program `{program}` in systemd's service PATH ({}){}",
                        SERVICE_PATH.join(":"),
                        self.where_()
                    ),
                })?
        };
        let mut out = vec![resolved];
        out.extend(rest.iter().cloned());
        Ok(out)
    }

    fn where_(&self) -> String {
        match self.manager.root() {
            Some(root) => format!(" under {}", root.display()),
            None => String::new(),
        }
    }

    fn find_in_service_path(&self, program: &str) -> Option<String> {
        find_program_in(program, SERVICE_PATH, self.manager.root()).map(|p| p.display().to_string())
    }

    /// strace as the managed system sees it.
    fn strace(&self, program: &str) -> Result<String, TraceError> {
        let found = if program.starts_with('/') {
            crate::host::is_executable(&self.manager.host_path(Path::new(program)))
                .then(|| program.to_owned())
        } else {
            self.find_in_service_path(program)
        };
        found.ok_or_else(|| TraceError::StraceMissing {
            program: program.to_owned(),
        })
    }

    /// A runner with the policy's settings, minus those `keep` rejects.
    pub fn runner(
        &self,
        purpose: &'static str,
        keep: impl Fn(&Directive) -> bool,
    ) -> UnitRunner<'a> {
        let sandbox: Vec<Directive> = self
            .directives
            .iter()
            .filter(|d| {
                !matches!(
                    d.name,
                    Name::ExecStart
                        | Name::Type
                        | Name::Restart
                        | Name::SystemCallErrorNumber
                        | Name::TimeoutStartSec
                        | Name::Description
                )
            })
            .filter(|d| keep(d))
            .cloned()
            .collect();
        let (_, skipped) = transient_properties(&sandbox);
        for s in &skipped {
            (self.tell)(&format!("not applied to the {purpose} unit: {s}"));
        }
        UnitRunner {
            manager: self.manager,
            sandbox,
            purpose,
            preserve_runtime_directory: false,
            workload: Workload::Main,
            stop_after: self.stop_after,
            last: RefCell::new(None),
        }
    }

    /// Trace `command` (its program resolved) with `strace` in a transient unit; keep the
    /// trace file with `keep`.
    ///
    /// # Errors
    ///
    /// When strace is missing, the unit cannot run, or the trace is empty.
    pub fn trace(
        &self,
        command: &TraceCommand,
        strace: &str,
        keep: bool,
    ) -> Result<TraceResult, UnitError> {
        let strace = self.strace(strace)?;
        let dir = TraceDir::create(self.manager, keep)?;
        let runs_as_other_user = self.directives.iter().any(|d| {
            d.name == Name::User
                || (d.name == Name::DynamicUser && d.value == DirectiveValue::Bool(true))
        });
        let confined_fs = self
            .directives
            .iter()
            .any(|d| d.origin.starts_with("filesystem."));
        let mut runner = self.runner("suggest", |d| d.name != Name::SystemCallFilter);
        if runs_as_other_user {
            // systemd creates (here: takes over) the runtime directory for the unit's user,
            // trace file included, and keeps it writable under ProtectSystem=strict.
            runner.sandbox.push(list_directive(
                Name::RuntimeDirectory,
                Kind::Paths,
                vec![dir.runtime_directory_name()],
            ));
            runner.preserve_runtime_directory = true;
        } else if confined_fs {
            runner.sandbox.push(list_directive(
                Name::ReadWritePaths,
                Kind::Paths,
                vec![dir.inside.display().to_string()],
            ));
        }
        // strace -f is the main process; the command is its child.
        runner.workload = Workload::ChildOfMain;
        let tracer = StraceTracer::new(&runner)
            .fd_paths(self.fd_paths)
            .trace_dir(&dir.here, Some(dir.inside.clone()))
            .keep_trace_file(keep)
            .strace_resolved_by_caller(strace);
        match tracer.trace(command) {
            Ok(t) => Ok(t),
            Err(error @ TraceError::EmptyTrace { .. }) => {
                let journal = match runner.last.borrow().as_ref() {
                    Some(last) => self.manager.journal_lines(&last.unit),
                    None => String::new(),
                };
                Err(UnitError::EmptyTrace { error, journal })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The cgroup2 directory the manager will give a system unit named `unit`, as this
    /// process sees it.
    ///
    /// # Errors
    ///
    /// [`BpfError::NoCgroup2`] when its PID 1 is not tracked in a cgroup2 tree.
    pub fn unit_cgroup(&self, unit: &str) -> Result<PathBuf, BpfError> {
        unit_cgroup_here(self.manager, unit, &format!("/system.slice/{unit}"))
    }

    /// Record `command` (its program resolved) with the BPF recorder in a transient unit.
    /// The unit's cgroup2 directory is made before the unit starts (systemd takes an
    /// existing directory over), so its id is known before the command's exec; the recorder
    /// arms the unit's tasks at that exec.
    ///
    /// # Errors
    ///
    /// When the recorder cannot run, the unit cannot run, or nothing exec'd in the unit.
    pub fn trace_bpf(&self, command: &TraceCommand) -> Result<(TraceResult, BpfTarget), UnitError> {
        use std::os::unix::fs::MetadataExt;
        let runner = self.runner("suggest", |d| d.name != Name::SystemCallFilter);
        let unit = next_unit_name("suggest");
        let path = self.unit_cgroup(&unit)?;
        let cgroup_error = |error| BpfError::Cgroup {
            path: path.clone(),
            error,
        };
        std::fs::create_dir(&path).map_err(cgroup_error)?;
        let _remove = RemoveCgroupOnDrop(&path);
        let id = std::fs::metadata(&path).map_err(cgroup_error)?.ino();
        let target = BpfTarget::Cgroup {
            id,
            path: path.clone(),
            skip_exec: super::bpf::systemd_executor(&self.manager.host_path(Path::new("/"))),
        };
        let recorder = Recorder::start(&target)?;
        let run = runner.run_unit_named(unit.clone(), command.argv(), None)?;
        let recorded = recorder.recorded()?;
        drop(recorder);
        if recorded.armed_at_exec == 0 {
            return Err(UnitError::BpfSawNothing {
                unit,
                path: path.clone(),
            });
        }
        let exit = run.exit.ok_or_else(|| UnitError::NotRun {
            unit: unit.clone(),
            failure: "no exit status".to_owned(),
            journal: self.manager.journal_lines(&unit),
        })?;
        let root = self.manager.host_path(Path::new("/"));
        Ok((super::bpf::trace_result(&recorded, exit, &root), target))
    }

    /// The closed loop ([`ClosedLoop`]) of `argv`, traced as `trace`: run it under the
    /// suggestion in a transient unit, read what the kernel logged, widen, until it ends as
    /// the trace did; `strace` takes a second trace when the log cannot say. Returns the
    /// result and the final list.
    ///
    /// # Errors
    ///
    /// When a unit cannot run, or the second trace cannot be taken.
    pub fn verify(
        &self,
        argv: &[String],
        trace: &TraceResult,
        suggestion: Suggestion,
        table: &SyscallTable,
        strace: &str,
    ) -> Result<(Verification, Suggestion), UnitError> {
        // The policy's allow-list is replaced by the suggestion; its deny list stays.
        let runner = self.runner("verify", |d| {
            !(d.name == Name::SystemCallFilter
                && matches!(d.value, DirectiveValue::Words { negated: false, .. }))
        });
        let numbers: RefCell<BTreeMap<u32, Option<SyscallNumbers>>> = RefCell::default();
        let name_of = |r: &SeccompRecord| {
            let mut numbers = numbers.borrow_mut();
            let table = numbers
                .entry(r.arch)
                .or_insert_with(|| SyscallNumbers::for_audit_arch(r.arch, Path::new("/")));
            table.as_ref()?.name(r.syscall).map(str::to_owned)
        };
        let mut closed = ClosedLoop::new(argv, trace, suggestion, table);
        let mut log_trouble = false;
        let mut trouble = |problem: String| {
            if !log_trouble {
                (self.tell)(&format!(
                    "{problem}; refused calls are looked for with a second trace"
                ));
                log_trouble = true;
            }
        };
        loop {
            let mut log = match KernelLog::open() {
                Ok(log) => Some(log),
                Err(e) => {
                    trouble(format!(
                    "cannot read the kernel's audit records (from its audit multicast group or \
                     /dev/kmsg: {e})"
                ));
                    None
                }
            };
            let run = runner.run_unit(argv, Some(closed.allow()))?;
            let records = log
                .as_mut()
                .and_then(|log| log.seccomp_records_so_far().map_err(&mut trouble).ok());
            let facts = RunFacts {
                unit: run.unit,
                exit: run.exit,
                records,
            };
            let step = closed.judge(&facts, &name_of, || {
                let again = self.trace(&TraceCommand::new(argv.to_vec())?, strace, false)?;
                Ok::<_, UnitError>(again.syscalls)
            })?;
            match step {
                Step::Widened { run, refused } => (self.tell)(&format!(
                    "verify run {run} refused {}; widening the list",
                    refused.join(", ")
                )),
                Step::Done {
                    mut verification,
                    unexplained,
                } => {
                    if unexplained {
                        verification
                            .message
                            .push_str(&self.manager.journal_lines(&facts.unit));
                    }
                    return Ok((verification, closed.into_suggestion()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_exit_codes_become_exit_statuses() {
        let status = |code, st| UnitStatus {
            exec_main_code: code,
            exec_main_status: st,
            ..UnitStatus::default()
        };
        assert_eq!(exit_of(&status(0, 0)), None);
        assert_eq!(exit_of(&status(1, 3)), Some(ExitStatusInfo::exited(3)));
        assert_eq!(
            exit_of(&status(3, 31)),
            Some(ExitStatusInfo::killed_by(31, true))
        );
        assert_eq!(
            exit_of(&status(2, 9)).map(|e| e.to_string()).as_deref(),
            Some("killed by SIGKILL")
        );
    }

    #[test]
    fn programs_resolve_in_systemds_service_path() {
        let manager = Manager {
            bus: crate::systemd::bus::Bus::System,
            timeout: Duration::from_secs(1),
            root: None,
        };
        let tracer = UnitTracer::new(&manager, &[], None, &|_| {});
        let argv = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let sh = tracer
            .resolve_argv(&argv(&["sh", "-c", "true"]))
            .expect("sh");
        assert!(
            sh[0].ends_with("/sh") && sh[1..] == argv(&["-c", "true"]),
            "{sh:?}"
        );
        assert_eq!(
            tracer
                .resolve_argv(&argv(&["./x"]))
                .expect_err("relative")
                .to_string(),
            "cannot run `./x` in a unit: give an absolute path, or a name systemd finds in \
             /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        );
        assert_eq!(
            tracer
                .resolve_argv(&argv(&["no-such-program-xyz"]))
                .expect_err("missing")
                .to_string(),
            "cannot trace `no-such-program-xyz`: no program `no-such-program-xyz` in systemd's \
             service PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)"
        );
    }
}
