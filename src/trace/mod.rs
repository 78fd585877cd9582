//! Tracing the system calls of a process tree.
//!
//! A seccomp allow-list (systemd.exec(5), `SystemCallFilter=`) can only be as good as the
//! list of system calls the workload really makes. The kernel offers two ways to watch them
//! from outside: ptrace(2), which stops the tracee at every syscall entry and exit (strace
//! uses it; slow, about 1000x on a syscall-heavy loop), and BPF programs attached to the
//! `raw_syscalls:sys_enter` tracepoint (fast, a later backend). Either way the result is the
//! same plain fact: the set of syscall names a process and all its descendants made, and how
//! the first process ended.
//!
//! [`SyscallTracer`] is that interface. [`StraceTracer`] implements it with strace: it builds
//! `strace -f -q -o FILE -- CMD` ([`strace::strace_argv`]), hands the argv to a
//! [`CommandRunner`] (a plain child of sandgen with [`LocalRunner`], or a transient systemd
//! unit, so that the command runs in the environment it will have as a service), then parses
//! FILE ([`strace::StraceOutput`]). The command's own exit status is read from the trace
//! (`+++ exited with N +++` of the first process), not from strace's.

pub mod audit;
pub mod bpf;
pub mod facts;
pub mod files;
pub mod strace;
pub mod unit;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::data::signals::signal_name;
use crate::host::{find_program_on, is_executable};
pub use facts::TraceFacts;
pub use strace::{parse_strace_output, strace_argv, StraceOutput, StraceParser};

/// The command to trace: an argv whose first element is the program (a path, or a name
/// looked up in `PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceCommand {
    argv: Vec<String>,
}

impl TraceCommand {
    /// A command from its argv.
    ///
    /// # Errors
    ///
    /// [`TraceError::EmptyCommand`] when `argv` is empty or its program is the empty string.
    pub fn new(argv: Vec<String>) -> Result<Self, TraceError> {
        match argv.first() {
            Some(program) if !program.is_empty() => Ok(Self { argv }),
            _ => Err(TraceError::EmptyCommand),
        }
    }

    /// The full argv.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The program, `argv[0]`.
    pub fn program(&self) -> &str {
        // `new` guarantees a first element.
        self.argv.first().map_or("", String::as_str)
    }
}

/// How a process ended: its exit code, or the signal that killed it.
///
/// Serialised for `--json` as `{"code": N}` or `{"signal": "SIGSYS", "core_dumped": true}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum ExitStatusInfo {
    /// The process called exit(2) with this status.
    Exited {
        /// The exit status, 0..=255.
        code: i32,
    },
    /// A signal killed the process.
    Killed {
        /// The signal's name, `SIGSEGV` (or `signal N` for one without a name).
        signal: String,
        /// Whether the kernel wrote a core dump (strace says "(core dumped)").
        core_dumped: bool,
    },
}

impl ExitStatusInfo {
    /// Exited with `code`.
    pub fn exited(code: i32) -> Self {
        Self::Exited { code }
    }

    /// Killed by signal number `signal`, named with [`signal_name`].
    pub fn killed_by(signal: i32, core_dumped: bool) -> Self {
        Self::Killed {
            signal: signal_name(signal),
            core_dumped,
        }
    }

    /// How a child of this process ended, from its wait status; `None` for a stopped or
    /// continued child (which has not ended).
    pub fn from_std(status: std::process::ExitStatus) -> Option<Self> {
        if let Some(code) = status.code() {
            return Some(Self::exited(code));
        }
        status
            .signal()
            .map(|signal| Self::killed_by(signal, status.core_dumped()))
    }

    /// Whether the process exited with status 0.
    pub fn success(&self) -> bool {
        matches!(self, Self::Exited { code: 0 })
    }

    /// The signal number, for [`ExitStatusInfo::Killed`] with a known signal name.
    pub fn signal_number(&self) -> Option<i32> {
        match self {
            Self::Exited { .. } => None,
            Self::Killed { signal, .. } => signal
                .parse::<nix::sys::signal::Signal>()
                .ok()
                .map(|s| s as i32),
        }
    }
}

impl fmt::Display for ExitStatusInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exited { code } => write!(f, "exited with status {code}"),
            Self::Killed {
                signal,
                core_dumped,
            } => {
                write!(f, "killed by {signal}")?;
                if *core_dumped {
                    f.write_str(" (core dumped)")?;
                }
                Ok(())
            }
        }
    }
}

/// What a trace found out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceResult {
    /// Every syscall name the process tree made, as the tracer names them (strace uses the
    /// kernel's names, which are systemd's too). A call counts when it was entered, whether it
    /// succeeded, failed or never returned (`exit_group`).
    pub syscalls: BTreeSet<String>,
    /// How the traced command (the first process) ended.
    pub exit_status: ExitStatusInfo,
    /// The paths the process tree passed to `execve`.
    pub executables: BTreeSet<String>,
    /// How many processes and threads were traced.
    pub processes: usize,
    /// Some process switched to a non-native ABI (a 32-bit program on x86_64): its calls are
    /// named after that ABI, and `SystemCallArchitectures=native` would kill it.
    pub non_native_abi: bool,
    /// The trace file, when it was kept ([`StraceTracer::keep_trace_file`]).
    pub trace_file: Option<PathBuf>,
    /// What the calls' arguments showed (paths placed only with
    /// [`StraceTracer::fd_paths`]).
    pub facts: TraceFacts,
}

/// Why a trace could not be taken. (A command that fails is not an error: see
/// [`TraceResult::exit_status`].)
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// No command was given.
    #[error("nothing to trace: the command is empty (give it after `--`, e.g. `sandgen suggest -- /bin/true`)")]
    EmptyCommand,
    /// strace is not installed.
    #[error(
        "strace is not installed (`{program}` is not in PATH): sandgen records the system calls \
         of a command with it; install it with `apt-get install strace` (or your distribution's \
         strace package)"
    )]
    StraceMissing {
        /// The strace program looked for.
        program: String,
    },
    /// The command's program does not exist.
    #[error("cannot trace `{program}`: {reason}")]
    ProgramNotFound {
        /// The program as given.
        program: String,
        /// Not found in PATH, not executable, ...
        reason: String,
    },
    /// A path sandgen must pass to strace is not UTF-8.
    #[error("the trace file path {} is not UTF-8; set TMPDIR to a UTF-8 path", .path.display())]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
    // The errors of the next two are part of their messages, and so not also their
    // `source()`: the CLI prints an error with its chain of sources, which would repeat them.
    /// The trace file could not be created or read.
    #[error("trace file {}: {error}", .path.display())]
    TraceFile {
        /// The trace file.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// The runner could not run strace.
    #[error("cannot run `{program}`: {error}")]
    Run {
        /// The program the runner was asked to run (strace).
        program: String,
        /// What went wrong.
        error: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The BPF recorder cannot run here.
    #[error(transparent)]
    Bpf(#[from] bpf::BpfError),
    /// strace ran but recorded nothing: it could not start the command.
    #[error(
        "strace recorded no system call of `{program}` in {} and {status}: it could not start \
         the command (its message is above, or in the unit's journal)",
        .path.display()
    )]
    EmptyTrace {
        /// The command's program.
        program: String,
        /// The trace file.
        path: PathBuf,
        /// How strace ended.
        status: ExitStatusInfo,
    },
}

/// Collects the syscalls of a command and its descendants. The tracing backend (strace, a BPF
/// counter) sits behind this.
pub trait SyscallTracer {
    /// Run `cmd` to completion under the tracer.
    ///
    /// # Errors
    ///
    /// A [`TraceError`] when the trace could not be taken. A command that fails or is killed
    /// is a successful trace whose [`TraceResult::exit_status`] says so.
    fn trace(&self, cmd: &TraceCommand) -> Result<TraceResult, TraceError>;
}

/// Runs an argv to completion somewhere and reports how it ended: as a child of sandgen
/// ([`LocalRunner`]) or as a transient systemd unit (the D-Bus client implements this).
pub trait CommandRunner {
    /// Run `argv` (`argv[0]` is an absolute path) and wait for it.
    ///
    /// # Errors
    ///
    /// Whatever kept the command from running; a command that ran and failed is `Ok`.
    fn run(
        &self,
        argv: &[String],
    ) -> Result<ExitStatusInfo, Box<dyn std::error::Error + Send + Sync>>;
}

/// Where a [`LocalRunner`] sends the command's standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChildOutput {
    /// Sandgen's own standard output.
    #[default]
    Inherit,
    /// Sandgen's standard error, keeping stdout free for a report (`--json`).
    Stderr,
    /// Discarded.
    Null,
}

/// Runs a command as a plain child of sandgen (`--direct`). Standard input is `/dev/null`, as
/// for a service; standard error is sandgen's (strace's own messages go there too).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalRunner {
    /// Where the command's standard output goes.
    pub stdout: ChildOutput,
}

impl CommandRunner for LocalRunner {
    fn run(
        &self,
        argv: &[String],
    ) -> Result<ExitStatusInfo, Box<dyn std::error::Error + Send + Sync>> {
        let (program, args) = argv.split_first().ok_or("empty argv")?;
        let stdout = match self.stdout {
            ChildOutput::Inherit => Stdio::inherit(),
            ChildOutput::Null => Stdio::null(),
            ChildOutput::Stderr => {
                use std::os::fd::AsFd;
                Stdio::from(io::stderr().as_fd().try_clone_to_owned()?)
            }
        };
        let status = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(stdout)
            .status()?;
        ExitStatusInfo::from_std(status)
            .ok_or_else(|| format!("`{program}` did not end ({status})").into())
    }
}

/// The strace backend: `strace -f -q -o FILE -- CMD` run by a [`CommandRunner`], then FILE
/// parsed. See the module docs.
#[derive(Debug, Clone)]
pub struct StraceTracer<R> {
    runner: R,
    strace: String,
    trace_dir: PathBuf,
    trace_dir_for_runner: Option<PathBuf>,
    keep_trace_file: bool,
    resolved_by_caller: bool,
    fd_paths: bool,
}

/// Traces a command run as a plain child of sandgen.
pub type DirectTracer = StraceTracer<LocalRunner>;

impl StraceTracer<LocalRunner> {
    /// Trace commands as children of sandgen, with the command's output on `stdout`.
    pub fn direct(stdout: ChildOutput) -> Self {
        Self::new(LocalRunner { stdout })
    }
}

impl<R: CommandRunner> StraceTracer<R> {
    /// Trace commands that `runner` runs, with `strace` from `PATH` and the trace file in the
    /// temporary directory (`TMPDIR`, else `/tmp`).
    pub fn new(runner: R) -> Self {
        Self {
            runner,
            strace: "strace".to_owned(),
            trace_dir: std::env::temp_dir(),
            trace_dir_for_runner: None,
            keep_trace_file: false,
            resolved_by_caller: false,
            fd_paths: false,
        }
    }

    /// Have strace print every file descriptor with its path (`-y`), so that the facts
    /// ([`TraceResult::facts`]) place relative paths and know opened files by their
    /// resolved path. It costs a readlink per descriptor argument.
    pub fn fd_paths(mut self, on: bool) -> Self {
        self.fd_paths = on;
        self
    }

    /// Use `strace`, an absolute path as the runner sees it, and do not look for strace or
    /// the command's program on this machine: the caller found both where the runner runs
    /// them (a unit of a container's systemd sees the container's file system, whose
    /// programs need not exist at the same paths here).
    pub fn strace_resolved_by_caller(mut self, strace: impl Into<String>) -> Self {
        self.strace = strace.into();
        self.resolved_by_caller = true;
        self
    }

    /// Use this strace program (a name looked up in `PATH`, or a path).
    pub fn strace_program(mut self, program: impl Into<String>) -> Self {
        self.strace = program.into();
        self
    }

    /// Create the trace file in `dir`. When the runner sees that directory under another path
    /// (a container's root, a unit's mount namespace), give that path as `as_seen_by_runner`:
    /// it is the one passed to `strace -o`. The command must be able to write there (a unit
    /// with `ProtectSystem=strict` or `PrivateTmp=yes` needs it in `ReadWritePaths=`, or
    /// outside `/tmp`).
    pub fn trace_dir(
        mut self,
        dir: impl Into<PathBuf>,
        as_seen_by_runner: Option<PathBuf>,
    ) -> Self {
        self.trace_dir = dir.into();
        self.trace_dir_for_runner = as_seen_by_runner;
        self
    }

    /// Keep the trace file (reported in [`TraceResult::trace_file`]) instead of deleting it.
    pub fn keep_trace_file(mut self, keep: bool) -> Self {
        self.keep_trace_file = keep;
        self
    }

    /// The runner.
    pub fn runner(&self) -> &R {
        &self.runner
    }
}

impl<R: CommandRunner> SyscallTracer for StraceTracer<R> {
    fn trace(&self, cmd: &TraceCommand) -> Result<TraceResult, TraceError> {
        let strace = if self.resolved_by_caller {
            self.strace.clone()
        } else {
            let path_var = std::env::var_os("PATH").unwrap_or_default();
            let strace =
                find_program(&self.strace, &path_var).map_err(|_| TraceError::StraceMissing {
                    program: self.strace.clone(),
                })?;
            let strace = path_str(&strace)?.to_owned();
            find_program(cmd.program(), &path_var).map_err(|reason| {
                TraceError::ProgramNotFound {
                    program: cmd.program().to_owned(),
                    reason,
                }
            })?;
            strace
        };

        let file = TraceFile::create(&self.trace_dir, self.keep_trace_file)?;
        let for_runner = match (&self.trace_dir_for_runner, file.path.file_name()) {
            (Some(dir), Some(name)) => dir.join(name),
            _ => file.path.clone(),
        };
        let argv = strace_argv(&strace, path_str(&for_runner)?, cmd.argv(), self.fd_paths);
        let status = self.runner.run(&argv).map_err(|error| TraceError::Run {
            program: strace.clone(),
            error,
        })?;

        let read_error = |error| TraceError::TraceFile {
            path: file.path.clone(),
            error,
        };
        let reader = File::open(&file.path).map_err(read_error)?;
        let output = strace::read_strace_output(BufReader::new(reader)).map_err(read_error)?;
        if output.syscalls.is_empty() {
            return Err(TraceError::EmptyTrace {
                program: cmd.program().to_owned(),
                path: file.path.clone(),
                status,
            });
        }
        let exit_status = output.main_exit.clone().unwrap_or(status);
        Ok(TraceResult {
            processes: output.processes,
            executables: output.executables,
            non_native_abi: output.non_native_abi,
            syscalls: output.syscalls,
            exit_status,
            trace_file: file.keep.then(|| file.path.clone()),
            facts: output.facts,
        })
    }
}

fn path_str(path: &Path) -> Result<&str, TraceError> {
    path.to_str().ok_or_else(|| TraceError::NonUtf8Path {
        path: path.to_owned(),
    })
}

/// Where `program` is: itself when it contains a `/`, else the first executable match in the
/// `:`-separated `path_var` (empty entries mean the current directory, as for execvp(3)).
///
/// # Errors
///
/// Why it was not found, for a message: "not found in PATH", "... is not executable".
pub fn find_program(program: &str, path_var: &OsStr) -> Result<PathBuf, String> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return if is_executable(&path) {
            Ok(path)
        } else if path.exists() {
            Err(format!("{program} is not an executable file"))
        } else {
            Err(format!("{program} does not exist"))
        };
    }
    find_program_on(program, path_var).ok_or_else(|| format!("no program `{program}` in PATH"))
}

/// A uniquely named, initially empty trace file, deleted on drop unless kept.
struct TraceFile {
    path: PathBuf,
    keep: bool,
}

impl TraceFile {
    fn create(dir: &Path, keep: bool) -> Result<Self, TraceError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let mut attempt = 0;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!(
                "sandgen-trace-{}-{nanos:09}-{n}.strace",
                std::process::id()
            ));
            // create_new: never follow or reuse a file someone else put there (shared /tmp).
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(_) => return Ok(Self { path, keep }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
                Err(error) => return Err(TraceError::TraceFile { path, error }),
            }
        }
    }
}

impl Drop for TraceFile {
    fn drop(&mut self) {
        if !self.keep {
            if let Err(e) = std::fs::remove_file(&self.path) {
                log::warn!("cannot remove the trace file {}: {e}", self.path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_must_not_be_empty() {
        assert!(matches!(
            TraceCommand::new(vec![]),
            Err(TraceError::EmptyCommand)
        ));
        assert!(matches!(
            TraceCommand::new(vec![String::new()]),
            Err(TraceError::EmptyCommand)
        ));
        let cmd = TraceCommand::new(vec!["true".into()]).unwrap();
        assert_eq!(cmd.program(), "true");
    }

    #[test]
    fn exit_status_displays_and_serialises() {
        let ok = ExitStatusInfo::exited(0);
        assert!(ok.success());
        assert_eq!(ok.to_string(), "exited with status 0");
        assert_eq!(serde_json::to_string(&ok).unwrap(), r#"{"code":0}"#);
        let sys = ExitStatusInfo::killed_by(31, true);
        assert!(!sys.success());
        assert_eq!(sys.to_string(), "killed by SIGSYS (core dumped)");
        assert_eq!(sys.signal_number(), Some(31));
        assert_eq!(
            serde_json::to_string(&sys).unwrap(),
            r#"{"signal":"SIGSYS","core_dumped":true}"#
        );
    }

    #[test]
    fn find_program_searches_path_like_execvp() {
        let path = OsStr::new("/nonexistent:/bin:/usr/bin");
        assert!(find_program("sh", path).is_ok());
        assert_eq!(
            find_program("no-such-program-xyz", path),
            Err("no program `no-such-program-xyz` in PATH".to_owned())
        );
        assert_eq!(
            find_program("/nonexistent/x", path),
            Err("/nonexistent/x does not exist".to_owned())
        );
        let plain = tempfile::NamedTempFile::new().unwrap();
        let plain = plain.path().to_str().unwrap();
        assert_eq!(
            find_program(plain, path),
            Err(format!("{plain} is not an executable file"))
        );
    }
}
