//! A process's credentials as the kernel reports them in `/proc/PID/status`, and a handle
//! that proves a PID still names the same process.
//!
//! `/proc/PID/status` (proc(5)) shows, for the thread-group leader:
//! - `CapInh`, `CapPrm`, `CapEff`, `CapBnd`, `CapAmb`: the five capability sets as 64-bit hex
//!   masks, bit N = capability N (capabilities(7)); systemd sets them from
//!   `CapabilityBoundingSet=` and `AmbientCapabilities=` (systemd.exec(5)).
//! - `NoNewPrivs`: 1 when `prctl(PR_SET_NO_NEW_PRIVS)` was called (`NoNewPrivileges=`, and
//!   implied by `SystemCallFilter=` and most `Protect*=` options for unprivileged units).
//! - `Seccomp`: 0 disabled, 1 strict, 2 filter (`SystemCallFilter=` and friends install
//!   filters); `Seccomp_filters` (Linux 5.9+): how many filters are attached.
//! - `NSpid`: the PID in each PID namespace from the reader's down to the process's own.
//!
//! Securebits are not there: the kernel exposes them only to the process itself
//! (`prctl(PR_GET_SECUREBITS)`), so they cannot be read from outside.
//!
//! PIDs are reused. Between learning a unit's main PID (over D-Bus) and reading its files the
//! process can exit and another take its number. [`ProcessHandle`] holds a pidfd
//! (`pidfd_open(2)`, Linux 5.3+), which keeps referring to the original process and becomes
//! readable when it exits, plus the process's start time (field 22 of `/proc/PID/stat`), so a
//! caller can confirm after reading that it read the process it meant.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use nix::libc;
use serde::Serialize;

use super::{read_text, ReadError};
use crate::data::capabilities::names_in_mask;

/// The five capability sets of a process, as the kernel's bit masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CapabilityMasks {
    /// `CapEff`.
    pub effective: u64,
    /// `CapPrm`.
    pub permitted: u64,
    /// `CapInh`.
    pub inheritable: u64,
    /// `CapBnd`.
    pub bounding: u64,
    /// `CapAmb`.
    pub ambient: u64,
}

impl CapabilityMasks {
    /// The sets by name (`CAP_NET_ADMIN`, ...), in capability number order.
    pub fn names(&self) -> CapabilitySets {
        CapabilitySets {
            effective: names_in_mask(self.effective),
            permitted: names_in_mask(self.permitted),
            inheritable: names_in_mask(self.inheritable),
            bounding: names_in_mask(self.bounding),
            ambient: names_in_mask(self.ambient),
        }
    }
}

/// The five capability sets of a process, by name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CapabilitySets {
    /// What the process can do now.
    pub effective: Vec<String>,
    /// What it may make effective.
    pub permitted: Vec<String>,
    /// What it passes through execve to programs with matching file capabilities.
    pub inheritable: Vec<String>,
    /// The limit on everything it and its children can ever gain.
    pub bounding: Vec<String>,
    /// What it keeps across execve of unprivileged programs.
    pub ambient: Vec<String>,
}

/// The seccomp mode of a process (`Seccomp:` in `/proc/PID/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeccompMode {
    /// 0: no seccomp.
    Disabled,
    /// 1: `SECCOMP_MODE_STRICT` (read, write, _exit, sigreturn only).
    Strict,
    /// 2: `SECCOMP_MODE_FILTER`: BPF filters decide (systemd's `SystemCallFilter=`).
    Filter,
}

/// A process's seccomp state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Seccomp {
    /// The mode.
    pub mode: SeccompMode,
    /// How many filters are attached (`Seccomp_filters:`, Linux 5.9+; `None` on older
    /// kernels).
    pub filters: Option<u32>,
}

/// The parts of `/proc/PID/status` sandgen reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessStatus {
    /// `Name:`: the command name (comm), at most 15 bytes.
    pub name: String,
    /// `Pid:`: the PID in the reader's PID namespace.
    pub pid: u32,
    /// `NSpid:`: the PID in each PID namespace, outermost (the reader's) first, the
    /// process's own last. One entry when it shares the reader's namespace.
    pub nspid: Vec<u32>,
    /// The capability sets.
    pub capabilities: CapabilityMasks,
    /// `NoNewPrivs:`.
    pub no_new_privs: bool,
    /// `Seccomp:` and `Seccomp_filters:`.
    pub seccomp: Seccomp,
}

/// Parse the text of `/proc/PID/status`; `path` is only for error messages.
pub fn parse_status(text: &str, path: &Path) -> Result<ProcessStatus, ReadError> {
    let field = |name: &'static str| -> Result<(usize, &str), ReadError> {
        status_field(text, name).ok_or_else(|| ReadError::MissingField {
            path: path.to_owned(),
            field: name,
        })
    };
    let malformed = |line: usize, detail: String| ReadError::Malformed {
        path: path.to_owned(),
        line,
        detail,
    };
    let number = |name: &'static str| -> Result<u32, ReadError> {
        let (line, value) = field(name)?;
        value
            .parse()
            .map_err(|_| malformed(line, format!("`{name}` is not a number: {value:?}")))
    };
    let mask = |name: &'static str| -> Result<u64, ReadError> {
        let (line, value) = field(name)?;
        u64::from_str_radix(value, 16)
            .map_err(|_| malformed(line, format!("`{name}` is not a hex mask: {value:?}")))
    };

    let nspid = match status_field(text, "NSpid") {
        Some((line, value)) => parse_pid_list(value)
            .ok_or_else(|| malformed(line, format!("`NSpid` is not a PID list: {value:?}")))?,
        // NSpid exists since Linux 4.1; without it the process is in our namespace.
        None => vec![number("Pid")?],
    };
    let (seccomp_line, _) = field("Seccomp")?;
    let mode = match number("Seccomp")? {
        0 => SeccompMode::Disabled,
        1 => SeccompMode::Strict,
        2 => SeccompMode::Filter,
        other => {
            return Err(malformed(
                seccomp_line,
                format!("unknown seccomp mode {other}"),
            ))
        }
    };
    let filters = match status_field(text, "Seccomp_filters") {
        Some(_) => Some(number("Seccomp_filters")?),
        None => None,
    };
    Ok(ProcessStatus {
        name: field("Name")?.1.to_owned(),
        pid: number("Pid")?,
        nspid,
        capabilities: CapabilityMasks {
            effective: mask("CapEff")?,
            permitted: mask("CapPrm")?,
            inheritable: mask("CapInh")?,
            bounding: mask("CapBnd")?,
            ambient: mask("CapAmb")?,
        },
        no_new_privs: number("NoNewPrivs")? != 0,
        seccomp: Seccomp { mode, filters },
    })
}

/// Read and parse `<proc_root>/<pid>/status`.
pub fn read_status(proc_root: &Path, pid: u32) -> Result<ProcessStatus, ReadError> {
    let path = proc_root.join(pid.to_string()).join("status");
    parse_status(&read_text(&path, Some(pid))?, &path)
}

/// The value of the `name:` line of a status file, with its 1-based line number.
pub(crate) fn status_field<'a>(text: &'a str, name: &str) -> Option<(usize, &'a str)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let (key, value) = line.split_once(':')?;
        // `Name:` values can contain spaces; every value is separated by one tab.
        (key == name).then(|| (i + 1, value.strip_prefix('\t').unwrap_or(value).trim_end()))
    })
}

/// Parse a whitespace-separated PID list (`NSpid:`).
pub(crate) fn parse_pid_list(value: &str) -> Option<Vec<u32>> {
    let pids: Option<Vec<u32>> = value.split_whitespace().map(|p| p.parse().ok()).collect();
    pids.filter(|p| !p.is_empty())
}

/// The start time of a process (field 22 of `/proc/PID/stat`: clock ticks after boot).
///
/// The fields are counted after the last `)`, because field 2 (comm, in parentheses) may
/// itself contain spaces and parentheses.
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after comm, so field 22 is the 20th.
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// Read the start time of `pid` from `<proc_root>/<pid>/stat`.
pub fn read_start_time(proc_root: &Path, pid: u32) -> Result<u64, ReadError> {
    let path = proc_root.join(pid.to_string()).join("stat");
    let text = read_text(&path, Some(pid))?;
    parse_start_time(&text).ok_or_else(|| ReadError::Malformed {
        path,
        line: 1,
        detail: "no start time in field 22".to_owned(),
    })
}

/// A live process, pinned: the PID plus a pidfd and start time that tell whether the PID
/// still names the same process. Open it as early as possible after learning the PID, then
/// read, then call [`ProcessHandle::still_same`].
///
/// Opening cannot prove the PID was not already reused between the caller learning it and
/// [`ProcessHandle::open`]: compare [`ProcessHandle::start_time`] or the process's cgroup with
/// what the service manager reports for that.
#[derive(Debug)]
pub struct ProcessHandle {
    pid: u32,
    pidfd: Option<OwnedFd>,
    start_time: u64,
}

impl ProcessHandle {
    /// Pin process `pid` (a PID in sandgen's PID namespace).
    ///
    /// Fails with [`ReadError::Gone`] when there is no such process. On kernels without
    /// `pidfd_open(2)` (before Linux 5.3) the handle relies on the start time alone.
    pub fn open(pid: u32) -> Result<Self, ReadError> {
        let handle = Self {
            pid,
            pidfd: pidfd_open(pid)?,
            start_time: read_start_time(Path::new("/proc"), pid)?,
        };
        // The start time was read after the pidfd was opened: if the pidfd's process is still
        // alive now, the start time is that process's.
        if handle.still_same()? {
            Ok(handle)
        } else {
            Err(ReadError::Gone { pid })
        }
    }

    /// The PID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The process's start time in clock ticks after boot (field 22 of `/proc/PID/stat`).
    pub fn start_time(&self) -> u64 {
        self.start_time
    }

    /// The pidfd, when the kernel supports them. It refers to this process and no other;
    /// `setns(2)` accepts it (Linux 5.8+).
    pub fn pidfd(&self) -> Option<BorrowedFd<'_>> {
        self.pidfd.as_ref().map(AsFd::as_fd)
    }

    /// Whether the PID still names the process opened: it has not exited (a zombie counts as
    /// exited), and `/proc/PID/stat` shows the same start time. Call it after reading to make
    /// sure the reads were of this process.
    ///
    /// Without a pidfd, a process reusing the PID within the same clock tick (10 ms) as the
    /// original started, or a not yet reaped zombie, cannot be told apart.
    pub fn still_same(&self) -> Result<bool, ReadError> {
        if let Some(fd) = &self.pidfd {
            if pidfd_exited(fd.as_fd(), self.pid)? {
                return Ok(false);
            }
        }
        match read_start_time(Path::new("/proc"), self.pid) {
            Ok(start) => Ok(start == self.start_time),
            Err(ReadError::Gone { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// [`ProcessHandle::still_same`], as an error: [`ReadError::Gone`] when it is not.
    pub fn ensure_same(&self) -> Result<(), ReadError> {
        if self.still_same()? {
            Ok(())
        } else {
            Err(ReadError::Gone { pid: self.pid })
        }
    }

    #[cfg(test)]
    fn without_pidfd(pid: u32) -> Result<Self, ReadError> {
        Ok(Self {
            pid,
            pidfd: None,
            start_time: read_start_time(Path::new("/proc"), pid)?,
        })
    }
}

/// `pidfd_open(pid, 0)`; `None` when the kernel has no pidfds.
fn pidfd_open(pid: u32) -> Result<Option<OwnedFd>, ReadError> {
    let raw_pid = libc::pid_t::try_from(pid).map_err(|_| ReadError::Gone { pid })?;
    // SAFETY: pidfd_open takes two integers and returns a new file descriptor or -1; no
    // memory is shared with the kernel.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, raw_pid, 0) };
    if ret < 0 {
        return match Errno::last() {
            Errno::ESRCH | Errno::EINVAL => Err(ReadError::Gone { pid }),
            Errno::ENOSYS => Ok(None),
            errno => Err(ReadError::Io {
                path: format!("pidfd of process {pid}").into(),
                error: errno.into(),
            }),
        };
    }
    // A file descriptor fits in an int: the kernel returns one.
    let fd = libc::c_int::try_from(ret).map_err(|_| ReadError::Io {
        path: format!("pidfd of process {pid}").into(),
        error: std::io::Error::other("pidfd_open returned a value that is not a descriptor"),
    })?;
    // SAFETY: `fd` was just returned by pidfd_open; nothing else owns it.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// Whether the process behind a pidfd has exited: the pidfd polls readable then.
fn pidfd_exited(fd: BorrowedFd<'_>, pid: u32) -> Result<bool, ReadError> {
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: `poll` points to one valid pollfd for the duration of the call; timeout 0
        // never blocks.
        let ret = unsafe { libc::poll(&mut poll, 1, 0) };
        if ret >= 0 {
            return Ok(ret > 0 && poll.revents & (libc::POLLIN | libc::POLLHUP) != 0);
        }
        match Errno::last() {
            Errno::EINTR => continue,
            errno => {
                return Err(ReadError::Io {
                    path: format!("pidfd of process {pid}").into(),
                    error: errno.into(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::fixture;
    use std::process::{Child, Command};

    #[test]
    fn parses_a_sandboxed_service_status() {
        // Captured from a systemd 252 unit with NoNewPrivileges=yes, SystemCallFilter=,
        // CapabilityBoundingSet=~CAP_NET_ADMIN, in a container (NSpid: host, container).
        let path = fixture("status/nspawn-heat-service.txt");
        let status = parse_status(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
        assert_eq!(status.name, "sleep");
        assert_eq!(status.pid, 9540);
        assert_eq!(status.nspid, vec![9540, 54]);
        assert!(status.no_new_privs);
        assert_eq!(
            status.seccomp,
            Seccomp {
                mode: SeccompMode::Filter,
                filters: Some(6)
            }
        );
        assert_eq!(status.capabilities.bounding, 0x1ff_f6fd_efff);
        assert_eq!(status.capabilities.ambient, 0);
        let names = status.capabilities.names();
        assert!(!names.bounding.contains(&"CAP_NET_ADMIN".to_owned()));
        assert!(names.bounding.contains(&"CAP_NET_RAW".to_owned()));
        assert_eq!(names.bounding, names.effective);
        assert!(names.ambient.is_empty());
    }

    #[test]
    fn reports_a_missing_field_and_a_bad_value_with_the_file() {
        let path = Path::new("/proc/77/status");
        let err = parse_status("Name:\tx\nPid:\t77\n", path).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/proc/77/status has no `Seccomp` line: the kernel is too old (sandgen inspect needs \
             Linux 4.13 or later)"
        );
        let text = "Name:\tx\nPid:\t77\nSeccomp:\t7\n";
        let err = parse_status(text, path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/proc/77/status:3: unknown seccomp mode 7"),
            "{err}"
        );
    }

    #[test]
    fn start_time_survives_a_comm_with_parentheses_and_spaces() {
        let stat = "9540 (a) b (c) S 9405 9540 9540 0 -1 4194560 366 0 0 0 1 1 0 0 20 0 1 0 \
                    150934 2990080 410";
        assert_eq!(parse_start_time(stat), Some(150_934));
        assert_eq!(parse_start_time("1 (x) S 0"), None);
    }

    #[test]
    fn reads_this_test_process_for_real() {
        let status = read_status(Path::new("/proc"), std::process::id()).unwrap();
        assert_eq!(status.seccomp.mode, SeccompMode::Disabled);
        assert_eq!(status.seccomp.filters, Some(0));
        assert!(!status.no_new_privs);
        assert_eq!(status.pid, std::process::id());
    }

    fn spawn(program: &str, args: &[&str]) -> Child {
        Command::new(program)
            .args(args)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program} (util-linux/libcap2-bin): {e}"))
    }

    /// How long these tests wait for a state they can observe: generous, for a saturated
    /// 2-core machine; a passing test never waits this long.
    const WAIT: std::time::Duration = std::time::Duration::from_secs(60);

    /// Polls `done` every 10 ms until it holds; panics naming `what` after [`WAIT`].
    fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
        let start = std::time::Instant::now();
        while !done() {
            assert!(start.elapsed() < WAIT, "waited {WAIT:?} for {what}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Wait until `pid` has exec'd `comm` (so its credentials are the final ones). Right
    /// after spawn() the child can still carry this thread's name, or be the wrapper.
    fn wait_for_comm(pid: u32, comm: &str) {
        wait_until(&format!("process {pid} to become {comm}"), || {
            let now = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            now.trim_end() == comm
        });
    }

    /// Clock ticks since boot (`/proc/uptime`, the clock of a process's start time).
    fn uptime_ticks() -> u64 {
        let text = std::fs::read_to_string("/proc/uptime").unwrap();
        let (secs, centis) = text
            .split_whitespace()
            .next()
            .unwrap()
            .split_once('.')
            .unwrap();
        secs.parse::<u64>().unwrap() * 100 + centis.parse::<u64>().unwrap()
    }

    #[test]
    fn sees_no_new_privs_set_by_setpriv() {
        let mut child = spawn("setpriv", &["--no-new-privs", "sleep", "30"]);
        wait_for_comm(child.id(), "sleep");
        let status = read_status(Path::new("/proc"), child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        let status = status.unwrap();
        assert!(status.no_new_privs);
        assert_eq!(status.seccomp.mode, SeccompMode::Disabled);
    }

    #[test]
    fn sees_cap_net_admin_dropped_from_the_bounding_set() {
        let mut child = spawn(
            "capsh",
            &["--drop=cap_net_admin", "--", "-c", "exec sleep 30"],
        );
        wait_for_comm(child.id(), "sleep");
        let status = read_status(Path::new("/proc"), child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        let caps = status.unwrap().capabilities.names();
        assert!(
            !caps.bounding.contains(&"CAP_NET_ADMIN".to_owned()),
            "{caps:?}"
        );
        assert!(
            caps.bounding.contains(&"CAP_NET_RAW".to_owned()),
            "{caps:?}"
        );
        // Our own bounding set still has it: the drop was the child's alone.
        let own = read_status(Path::new("/proc"), std::process::id()).unwrap();
        assert!(own
            .capabilities
            .names()
            .bounding
            .contains(&"CAP_NET_ADMIN".to_owned()));
    }

    #[test]
    fn a_pid_that_does_not_exist_is_gone() {
        // PIDs never reach i32::MAX - 1 (pid_max is at most 2^22).
        let err = ProcessHandle::open(i32::MAX as u32 - 1).unwrap_err();
        assert!(matches!(err, ReadError::Gone { .. }), "{err:?}");
    }

    /// Make the next process spawned get `pid` by writing `pid - 1` to ns_last_pid (needs
    /// root) just before spawning. Other processes on the machine fork too, so retry.
    fn spawn_with_pid(pid: u32) -> Child {
        for _ in 0..200 {
            std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string())
                .expect("write /proc/sys/kernel/ns_last_pid (run the tests as root)");
            let mut child = spawn("sleep", &["30"]);
            if child.id() == pid {
                return child;
            }
            child.kill().unwrap();
            child.wait().unwrap();
        }
        panic!("could not get PID {pid} reused in 200 tries");
    }

    #[test]
    fn detects_an_exited_and_reaped_process_and_a_reused_pid() {
        let mut child = spawn("sleep", &["30"]);
        let pid = child.id();
        let handle = ProcessHandle::open(pid).unwrap();
        assert!(handle.pidfd().is_some(), "this kernel has pidfds");
        let fallback = ProcessHandle::without_pidfd(pid).unwrap();
        assert!(handle.still_same().unwrap());
        assert!(fallback.still_same().unwrap());
        assert_eq!(handle.start_time(), fallback.start_time());

        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!handle.still_same().unwrap());
        assert!(!fallback.still_same().unwrap());
        assert!(matches!(
            handle.ensure_same(),
            Err(ReadError::Gone { pid: p }) if p == pid
        ));

        // Another process takes the same PID: /proc/PID exists again, kill(pid, 0) would say
        // "alive", but neither the pidfd nor the start time is fooled. Wait until the clock is
        // two ticks past the old start time so the new process's start time differs for the
        // fallback.
        wait_until("two clock ticks to pass", || {
            uptime_ticks() > handle.start_time() + 1
        });
        let mut reuser = spawn_with_pid(pid);
        assert!(Path::new(&format!("/proc/{pid}")).exists());
        let same = (handle.still_same(), fallback.still_same());
        reuser.kill().unwrap();
        reuser.wait().unwrap();
        assert!(!same.0.unwrap(), "pidfd check fooled by PID reuse");
        assert!(!same.1.unwrap(), "start time check fooled by PID reuse");
    }

    #[test]
    fn a_zombie_is_not_the_same_process() {
        let mut child = spawn("sh", &["-c", "exit 0"]);
        let handle = match ProcessHandle::open(child.id()) {
            Ok(handle) => handle,
            // It may already have exited: that is the property under test, too.
            Err(ReadError::Gone { .. }) => {
                child.wait().unwrap();
                return;
            }
            Err(e) => panic!("{e}"),
        };
        // Not reaped yet: /proc/PID still exists, with the same start time.
        wait_until("sh to exit", || !handle.still_same().unwrap());
        assert!(Path::new(&format!("/proc/{}", child.id())).exists());
        assert!(!handle.still_same().unwrap());
        child.wait().unwrap();
    }
}
