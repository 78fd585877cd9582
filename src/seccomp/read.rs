//! Reading a running process's seccomp filters from the kernel.
//!
//! `ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, buf)` (ptrace(2), Linux 4.4+) copies out
//! filter `index` (0 is the oldest) as `struct sock_filter`s. It needs CAP_SYS_ADMIN, a
//! tracer that is not itself under seccomp, and a tracee in a ptrace-stop. So:
//! `PTRACE_SEIZE` (no signal sent, the process is not stopped by it), `PTRACE_INTERRUPT` and
//! `waitpid` for the stop, read every filter, `PTRACE_DETACH`. The process is stopped for
//! the time of a few system calls.
//!
//! It must never stay stopped or traced: `Seized` detaches when dropped, on every path;
//! and when sandgen itself dies mid-way (SIGKILL included) the kernel detaches its tracees
//! (`exit_ptrace()`), which lets a process stopped by `PTRACE_INTERRUPT` run on. A stop for
//! a signal that arrived meanwhile is detached with that signal, so it is delivered.
//!
//! A process that is already traced (a debugger, strace) is refused before anything is
//! done: `TracerPid:` of its status, then `PTRACE_SEIZE`'s own `EPERM`. Yama's
//! `kernel.yama.ptrace_scope` 3 forbids every attach; it is named when it is the reason.
//!
//! For the tests of that promise, `SANDGEN_TEST_HOLD_TRACEE` set in the environment makes
//! sandgen announce on stderr that it holds the process stopped and wait there until it
//! is killed: the only way to kill it at that point on demand.

use std::io;
use std::path::Path;

use nix::libc;

use super::bpf::{Program, ProgramError};
use super::table::Filters;

/// `PTRACE_SECCOMP_GET_FILTER` (linux/ptrace.h).
const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;
/// `PTRACE_EVENT_STOP`: the stop `PTRACE_INTERRUPT` causes.
const PTRACE_EVENT_STOP: i32 = 128;
/// The environment variable that holds the tracee stopped (see the module docs).
pub const HOLD_VARIABLE: &str = "SANDGEN_TEST_HOLD_TRACEE";

/// Why the filters could not be read. Every message names the process and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReadFiltersError {
    /// Another tracer holds the process.
    #[error("process {pid} is already traced by process {tracer} (a debugger or strace?): its seccomp filters cannot be read while it is; run again when it is not, or give --no-ptrace")]
    Traced {
        /// The process.
        pid: u32,
        /// Its tracer.
        tracer: u32,
    },
    /// The kernel refused to let sandgen trace the process.
    #[error("the kernel does not let sandgen trace process {pid} ({reason}): its seccomp filters cannot be read; give --no-ptrace to check only that filters are attached")]
    Forbidden {
        /// The process.
        pid: u32,
        /// Why, as far as sandgen can tell.
        reason: String,
    },
    /// The process exited.
    #[error("process {pid} is gone (the unit restarted or stopped?): run the command again")]
    Gone {
        /// The process.
        pid: u32,
    },
    /// A filter the kernel returned does not check as a seccomp program.
    #[error("filter {index} of process {pid}: {error}")]
    Invalid {
        /// The process.
        pid: u32,
        /// Which filter (0 is the oldest).
        index: usize,
        /// What is wrong.
        error: ProgramError,
    },
    /// A ptrace or wait call failed otherwise.
    #[error("{call} on process {pid}: {error}")]
    Call {
        /// The process.
        pid: u32,
        /// The call.
        call: &'static str,
        /// The error.
        error: io::Error,
    },
}

fn os_error() -> io::Error {
    io::Error::last_os_error()
}

/// `ptrace(request, pid, addr, data)`, the error as an [`io::Error`].
fn ptrace(request: libc::c_uint, pid: u32, addr: usize, data: usize) -> io::Result<libc::c_long> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    // SAFETY: the requests used here (SEIZE, INTERRUPT, DETACH, SECCOMP_GET_FILTER) read or
    // write no memory of ours, except SECCOMP_GET_FILTER, which writes at most `count * 8`
    // bytes to `data`, a buffer of that size (see `read_filters`), or nothing when it is 0.
    let r = unsafe {
        libc::ptrace(
            request,
            pid,
            addr as *mut libc::c_void,
            data as *mut libc::c_void,
        )
    };
    if r == -1 {
        Err(os_error())
    } else {
        Ok(r)
    }
}

/// How the tracee stopped.
enum Stop {
    /// Seized, not interrupted: it will not stop, and cannot be detached; the kernel
    /// detaches it when sandgen exits.
    Seized,
    /// Interrupted, the stop not seen yet.
    Running,
    /// Stopped; detach with this signal (0: none) so that a signal that arrived is kept.
    Stopped(i32),
    /// It exited; nothing to detach.
    Exited,
}

/// A seized process; detached when dropped.
struct Seized {
    pid: u32,
    stop: Stop,
}

impl Seized {
    /// Wait for the stop `PTRACE_INTERRUPT` asked for.
    fn wait_stop(&mut self) -> Result<(), ReadFiltersError> {
        let pid = self.pid as libc::pid_t;
        loop {
            let mut status = 0;
            // SAFETY: waitpid writes one int to the valid pointer it is given.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
            if r == -1 {
                let error = os_error();
                if error.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(ReadFiltersError::Call {
                    pid: self.pid,
                    call: "waitpid",
                    error,
                });
            }
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                self.stop = Stop::Exited;
                return Err(ReadFiltersError::Gone { pid: self.pid });
            }
            if libc::WIFSTOPPED(status) {
                let signal = libc::WSTOPSIG(status);
                let event = status >> 16;
                // PTRACE_EVENT_STOP is the interrupt's stop (or a group-stop, which the
                // process stays in after the detach, as it would have untraced); any other
                // stop is a signal being delivered, which the detach passes on.
                let pass = if event == PTRACE_EVENT_STOP {
                    0
                } else {
                    signal
                };
                self.stop = Stop::Stopped(pass);
                return Ok(());
            }
        }
    }
}

impl Drop for Seized {
    fn drop(&mut self) {
        // A seized tracee can only be detached in a stop: wait for the one the interrupt
        // asked for when it has not been seen yet.
        if matches!(self.stop, Stop::Running) && self.wait_stop().is_err() {
            return;
        }
        if let Stop::Stopped(signal) = self.stop {
            // Nothing more can be done about a failed detach here; the kernel detaches
            // anyway when sandgen exits, which it is about to do.
            let _ = ptrace(libc::PTRACE_DETACH, self.pid, 0, signal as usize);
        }
    }
}

/// `TracerPid:` of `/proc/PID/status`; `None` when not readable.
fn tracer_of(proc_root: &Path, pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(proc_root.join(format!("{pid}/status"))).ok()?;
    let (_, value) = crate::inspect::process::status_field(&status, "TracerPid")?;
    value.trim().parse().ok()
}

/// Why an attach was refused: Yama's setting when it forbids it, else the kernel's error.
fn refusal(proc_root: &Path, error: &io::Error) -> String {
    let yama = std::fs::read_to_string(proc_root.join("sys/kernel/yama/ptrace_scope"))
        .ok()
        .map(|s| s.trim().to_owned());
    match yama.as_deref() {
        Some("3") => {
            "kernel.yama.ptrace_scope is 3: no process may be traced until reboot".to_owned()
        }
        Some(scope @ ("1" | "2")) => {
            format!("{error}; kernel.yama.ptrace_scope is {scope}: sandgen needs CAP_SYS_PTRACE")
        }
        _ => format!("{error}; an LSM (AppArmor, SELinux) may forbid ptrace"),
    }
}

/// Read every seccomp filter of process `pid` (a PID of sandgen's namespace), oldest first.
///
/// # Errors
///
/// A [`ReadFiltersError`]; the process is never left stopped or traced.
pub fn read_filters(proc_root: &Path, pid: u32) -> Result<Filters, ReadFiltersError> {
    match tracer_of(proc_root, pid) {
        Some(0) => {}
        Some(tracer) => return Err(ReadFiltersError::Traced { pid, tracer }),
        None => return Err(ReadFiltersError::Gone { pid }),
    }
    if let Err(error) = ptrace(libc::PTRACE_SEIZE, pid, 0, 0) {
        return Err(match error.raw_os_error() {
            Some(libc::ESRCH) => ReadFiltersError::Gone { pid },
            Some(libc::EPERM) => match tracer_of(proc_root, pid) {
                Some(tracer) if tracer != 0 => ReadFiltersError::Traced { pid, tracer },
                _ => ReadFiltersError::Forbidden {
                    pid,
                    reason: refusal(proc_root, &error),
                },
            },
            _ => ReadFiltersError::Call {
                pid,
                call: "ptrace(PTRACE_SEIZE)",
                error,
            },
        });
    }
    let mut seized = Seized {
        pid,
        stop: Stop::Seized,
    };
    ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0).map_err(|error| ReadFiltersError::Call {
        pid,
        call: "ptrace(PTRACE_INTERRUPT)",
        error,
    })?;
    seized.stop = Stop::Running;
    seized.wait_stop()?;
    if std::env::var_os(HOLD_VARIABLE).is_some() {
        eprintln!("sandgen: holding process {pid} stopped ({HOLD_VARIABLE} is set)");
        loop {
            // SAFETY: pause() has no arguments and only returns on a signal.
            unsafe { libc::pause() };
        }
    }
    let mut programs = Vec::new();
    loop {
        let index = programs.len();
        let call_error = |error: io::Error| {
            match error.raw_os_error() {
            Some(libc::ESRCH) => ReadFiltersError::Gone { pid },
            Some(libc::EACCES) => ReadFiltersError::Forbidden {
                pid,
                reason: "PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN, and sandgen must not run under seccomp itself".to_owned(),
            },
            Some(libc::EIO | libc::EINVAL) => ReadFiltersError::Forbidden {
                pid,
                reason: "this kernel has no PTRACE_SECCOMP_GET_FILTER (it needs CONFIG_CHECKPOINT_RESTORE)".to_owned(),
            },
            _ => ReadFiltersError::Call {
                pid,
                call: "ptrace(PTRACE_SECCOMP_GET_FILTER)",
                error,
            },
        }
        };
        let count = match ptrace(PTRACE_SECCOMP_GET_FILTER, pid, index, 0) {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => break,
            Err(e) => return Err(call_error(e)),
        };
        let mut buf = vec![0u8; count * 8];
        let got = ptrace(
            PTRACE_SECCOMP_GET_FILTER,
            pid,
            index,
            buf.as_mut_ptr() as usize,
        )
        .map_err(call_error)?;
        buf.truncate(usize::try_from(got).unwrap_or(0).min(count) * 8);
        let program = Program::from_bytes(&buf).map_err(|error| ReadFiltersError::Invalid {
            pid,
            index,
            error,
        })?;
        programs.push(program);
    }
    drop(seized);
    Ok(Filters(programs))
}

/// [`read_filters`] of the pinned process `main`, checking before and after that the PID
/// still names it ([`crate::inspect::ProcessHandle::still_same`]): what was read is its filters, never
/// those of a process that took its PID.
///
/// # Errors
///
/// As [`read_filters`]; [`ReadFiltersError::Gone`] when the process changed.
pub fn read_pinned(
    proc_root: &Path,
    main: &crate::inspect::ProcessHandle,
) -> Result<Filters, ReadFiltersError> {
    let pid = main.pid();
    let same = || matches!(main.still_same(), Ok(true));
    if !same() {
        return Err(ReadFiltersError::Gone { pid });
    }
    let filters = read_filters(proc_root, pid)?;
    if !same() {
        return Err(ReadFiltersError::Gone { pid });
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::seccomp::action::{Action, RET_ALLOW, RET_ERRNO};
    use crate::seccomp::bpf::{Insn, SeccompData, ABS, JEQ, JMP, K, LD, RET, W};

    /// uname(2) on this ABI.
    const UNAME: u32 = if cfg!(target_arch = "aarch64") {
        160
    } else {
        63
    };

    fn status(pid: u32) -> String {
        std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default()
    }

    fn field(pid: u32, name: &str) -> String {
        crate::inspect::process::status_field(&status(pid), name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn reads_back_the_filter_a_process_installed_and_leaves_it_running() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN: run the tests as root (scripts/test.sh)"
        );
        // uname() fails with EPERM, everything else runs.
        let insns = vec![
            Insn::stmt(LD | W | ABS, 0),
            Insn::jump(JMP | JEQ | K, UNAME, 0, 1),
            Insn::stmt(RET | K, RET_ERRNO | 1),
            Insn::stmt(RET | K, RET_ALLOW),
        ];
        let mut raw: Vec<libc::sock_filter> = insns
            .iter()
            .map(|i| libc::sock_filter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect();
        let prog = libc::sock_fprog {
            len: raw.len() as u16,
            filter: raw.as_mut_ptr(),
        };
        let prog_addr = &prog as *const libc::sock_fprog as usize;
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("600");
        // SAFETY: between fork and exec the closure only calls prctl(2), which is
        // async-signal-safe, on memory allocated before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                    || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, prog_addr) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn sleep");
        let pid = child.id();
        let start = Instant::now();
        while std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default() != "sleep\n"
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "sleep did not start"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let filters = read_filters(Path::new("/proc"), pid);
        let (state, tracer) = (field(pid, "State"), field(pid, "TracerPid"));
        let _ = child.kill();
        let _ = child.wait();
        let filters = filters.expect("the filters of our child");
        assert_eq!(filters.0, vec![Program::new(insns).expect("valid")]);
        assert_eq!(tracer, "0", "left traced");
        assert!(
            state.starts_with('S') || state.starts_with('R'),
            "left stopped: {state}"
        );
        let uname = filters.verdict(&SeccompData {
            nr: UNAME,
            ..SeccompData::default()
        });
        assert_eq!(uname.action, Action::Errno(1));
    }

    #[test]
    fn a_process_that_is_gone_is_reported_as_gone() {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        let _ = child.wait();
        assert!(matches!(
            read_filters(Path::new("/proc"), pid),
            Err(ReadFiltersError::Gone { pid: p }) if p == pid
        ));
    }
}
