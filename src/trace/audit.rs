//! The kernel's record of a system call a seccomp filter refused.
//!
//! When a filter's action is logged (`/proc/sys/kernel/seccomp/actions_logged`, which has
//! `kill_process` and `kill_thread` by default), the kernel writes an audit record of type
//! 1326 (`AUDIT_SECCOMP`) to the kernel log, or to auditd's log as `type=SECCOMP`:
//!
//! ```text
//! audit: type=1326 audit(1795885495.891:2): auid=4294967295 uid=0 gid=0 ses=4294967295
//!   pid=13667 comm="uname" exe="/usr/bin/uname" sig=31 arch=c000003e syscall=63 compat=0
//!   ip=0x7f595f677b07 code=0x80000000
//! ```
//!
//! (one line). `syscall` is a number of the ABI `arch` names (an `AUDIT_ARCH_*` value,
//! `c000003e` is x86_64); `code` is the filter's action (`0x80000000` kill the process,
//! `0x0005xxxx` return errno xxxx). `pid` is in the initial PID namespace. This is how the
//! closed loop (`suggest --verify`) learns which call its list refused: the refused process
//! cannot be traced, because the filter applies to strace as well. [`KernelLog`] reads the
//! records as they come (from the audit netlink socket, or the kernel log), and
//! [`queue_barrier_record`] tells when every record of what ran before it has come.
//!
//! Numbers become names with the kernel's own table, `asm/unistd_64.h` (package
//! linux-libc-dev), read at run time; a host without it gets numbers only.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// `AUDIT_ARCH_X86_64` (linux/audit.h).
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_I386`.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `AUDIT_ARCH_AARCH64`.
pub const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;

/// What a seccomp filter did, from the record's `code` (the filter's return value,
/// linux/seccomp.h `SECCOMP_RET_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeccompAction {
    /// `SECCOMP_RET_KILL_PROCESS`: the whole process was killed with SIGSYS.
    KillProcess,
    /// `SECCOMP_RET_KILL_THREAD`: the thread was killed with SIGSYS.
    KillThread,
    /// `SECCOMP_RET_TRAP`: SIGSYS was sent.
    Trap,
    /// `SECCOMP_RET_ERRNO`: the call failed with this errno.
    Errno(u16),
    /// Another action (trace, log, user notification, allow).
    Other(u32),
}

impl SeccompAction {
    /// The action encoded in a filter return value.
    pub fn from_code(code: u32) -> Self {
        match code & 0xffff_0000 {
            0x8000_0000 => Self::KillProcess,
            0x0000_0000 => Self::KillThread,
            0x0003_0000 => Self::Trap,
            // The mask leaves the low 16 bits, so the cast is lossless.
            0x0005_0000 => Self::Errno((code & 0xffff) as u16),
            _ => Self::Other(code),
        }
    }
}

/// One seccomp audit record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SeccompRecord {
    /// The process, in the initial PID namespace.
    pub pid: u32,
    /// Its `comm` (the first 15 bytes of the program name), if the record has it.
    pub comm: Option<String>,
    /// Its executable, if the record has it.
    pub exe: Option<String>,
    /// The `AUDIT_ARCH_*` value of the call's ABI.
    pub arch: u32,
    /// The syscall number in that ABI.
    pub syscall: u32,
    /// What the filter did.
    pub action: SeccompAction,
}

/// Parse one line of the kernel log (`dmesg`, `journalctl -k`) or of auditd's log; `None`
/// for anything that is not a seccomp record.
pub fn parse_seccomp_record(line: &str) -> Option<SeccompRecord> {
    let at = line
        .find("type=1326 ")
        .or_else(|| line.find("type=SECCOMP "))?;
    let fields = fields(&line[at..]);
    let get = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    };
    let hex = |v: &str| u32::from_str_radix(v.trim_start_matches("0x"), 16).ok();
    Some(SeccompRecord {
        pid: get("pid")?.parse().ok()?,
        comm: get("comm").map(str::to_owned),
        exe: get("exe").map(str::to_owned),
        arch: hex(get("arch")?)?,
        syscall: get("syscall")?.parse().ok()?,
        action: SeccompAction::from_code(get("code").and_then(hex)?),
    })
}

/// `key=value` pairs, values unquoted (`comm="a b"`); audit writes values it cannot quote as
/// hex, which are kept as they are.
fn fields(text: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].rsplit(' ').next().unwrap_or("");
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (quoted[..end].to_owned(), &quoted[end + 1..]),
                None => (quoted.to_owned(), ""),
            }
        } else {
            let end = after.find(' ').unwrap_or(after.len());
            (after[..end].to_owned(), &after[end..])
        };
        out.push((key, value));
        rest = next;
    }
    out
}

/// Syscall numbers of one ABI and their names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyscallNumbers {
    names: BTreeMap<u32, String>,
}

impl SyscallNumbers {
    /// Read a kernel header's `#define __NR_name NUMBER` lines (`asm/unistd_64.h`). Defines
    /// whose value is not a plain number (`__NR_fcntl __NR3264_fcntl` in the generic header)
    /// are skipped.
    pub fn parse_unistd_header(text: &str) -> Self {
        let names = text
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                if words.next()? != "#define" {
                    return None;
                }
                let name = words.next()?.strip_prefix("__NR_")?;
                let number = words.next()?.parse().ok()?;
                Some((number, name.to_owned()))
            })
            .collect();
        Self { names }
    }

    /// The table for `arch` (an `AUDIT_ARCH_*` value): the kernel headers under `root` (`/`
    /// on a real host) where they are installed, else the numbers built into sandgen (Linux
    /// 6.1's headers, `src/data/syscall-numbers/`): most machines have no kernel headers, and
    /// a refused call must be named all the same. `None` only for an ABI sandgen does not
    /// know (x86_64, i386 and aarch64 it knows).
    pub fn for_audit_arch(arch: u32, root: &Path) -> Option<Self> {
        let (candidates, built_in): (&[&str], &str) = match arch {
            AUDIT_ARCH_X86_64 => (
                &[
                    "usr/include/x86_64-linux-gnu/asm/unistd_64.h",
                    "usr/include/asm/unistd_64.h",
                ],
                include_str!("../data/syscall-numbers/x86_64.h"),
            ),
            AUDIT_ARCH_I386 => (
                &[
                    "usr/include/x86_64-linux-gnu/asm/unistd_32.h",
                    "usr/include/i386-linux-gnu/asm/unistd_32.h",
                    "usr/include/asm/unistd_32.h",
                ],
                include_str!("../data/syscall-numbers/i386.h"),
            ),
            AUDIT_ARCH_AARCH64 => (
                &["usr/include/asm-generic/unistd.h"],
                include_str!("../data/syscall-numbers/aarch64.h"),
            ),
            _ => return None,
        };
        let mut table = Self::parse_unistd_header(built_in);
        // The machine's headers may be newer than the built-in ones: theirs win.
        if let Some(text) = candidates
            .iter()
            .find_map(|p| std::fs::read_to_string(root.join(p)).ok())
        {
            table.names.extend(Self::parse_unistd_header(&text).names);
        }
        Some(table).filter(|table| !table.names.is_empty())
    }

    /// The table of the ABI sandgen runs as (x86_64 or aarch64), as
    /// [`SyscallNumbers::for_audit_arch`] finds it under `root`.
    pub fn native(root: &Path) -> Option<Self> {
        let arch = if cfg!(target_arch = "x86_64") {
            AUDIT_ARCH_X86_64
        } else if cfg!(target_arch = "aarch64") {
            AUDIT_ARCH_AARCH64
        } else {
            return None;
        };
        Self::for_audit_arch(arch, root)
    }

    /// Every name in the table.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.values().map(String::as_str)
    }

    /// Every number and its name, by number.
    pub fn entries(&self) -> impl Iterator<Item = (u32, &str)> {
        self.names.iter().map(|(n, s)| (*n, s.as_str()))
    }

    /// The number of the call named `name`.
    pub fn number(&self, name: &str) -> Option<u32> {
        self.entries().find(|(_, s)| *s == name).map(|(n, _)| n)
    }

    /// The name of syscall `number`.
    pub fn name(&self, number: u32) -> Option<&str> {
        self.names.get(&number).map(String::as_str)
    }

    /// How many numbers the table has.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The message of one `/dev/kmsg` record: `PRIORITY,SEQUENCE,TIMESTAMP,FLAGS;MESSAGE`, then
/// optional continuation lines (` KEY=VALUE`) that are dropped. `None` for anything else.
pub fn kmsg_message(record: &str) -> Option<&str> {
    let (prefix, rest) = record.split_once(';')?;
    if prefix.split(',').count() < 3 {
        return None;
    }
    Some(rest.lines().next().unwrap_or(""))
}

/// One datagram of the audit socket as kernel log lines: each netlink message (a 16-byte
/// `nlmsghdr` whose type is the record type, then the record's text) becomes
/// `audit: type=TYPE TEXT`, the form the kernel prints.
pub fn netlink_messages(datagram: &[u8]) -> Vec<String> {
    const HEADER: usize = 16;
    let mut out = Vec::new();
    let mut rest = datagram;
    while rest.len() >= HEADER {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if len < HEADER || len > rest.len() {
            break;
        }
        let text = String::from_utf8_lossy(&rest[HEADER..len]);
        out.push(format!(
            "audit: type={kind} {}",
            text.trim_end_matches(['\0', '\n'])
        ));
        // NLMSG_ALIGN: messages start on 4-byte boundaries.
        let next = (len + 3) & !3;
        rest = rest.get(next..).unwrap_or_default();
    }
    out
}

fn recv(fd: &std::os::fd::OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    // SAFETY: `buf` is valid for writes of its length.
    let n = unsafe { nix::libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// The kernel's audit records from a point on: those written after the reader was opened.
///
/// Two sources, the first that can be opened ([`KernelLog::open`]):
/// - the audit netlink socket's read-only multicast group (`AUDIT_NLGRP_READLOG`, linux/audit.h;
///   needs CAP_AUDIT_READ): the kernel sends every record there, as it is, whether or not an
///   audit daemon runs;
/// - `/dev/kmsg` (Documentation/ABI/testing/dev-kmsg), one log record per `read(2)`, where a
///   seek to the end skips what is already there. Without an audit daemon the kernel prints
///   its records there, but rate-limited (`printk_ratelimit`, 10 per 5 s: "kauditd_printk_skb:
///   N callbacks suppressed"), so under load some never arrive; and with an audit daemon,
///   none do. Reading needs root (or CAP_SYSLOG when `kernel.dmesg_restrict` is 1).
///
/// Either way the kernel is shared with its containers, so this sees the records of units run
/// there too (their `pid` in the initial PID namespace).
#[derive(Debug)]
pub struct KernelLog {
    source: LogSource,
}

#[derive(Debug)]
enum LogSource {
    Netlink(std::os::fd::OwnedFd),
    Kmsg(File),
}

/// `AUDIT_NLGRP_READLOG` (linux/audit.h), as a netlink group bit.
const AUDIT_NLGRP_READLOG_BIT: u32 = 1;
/// `NETLINK_AUDIT` (linux/netlink.h).
const NETLINK_AUDIT: i32 = 9;

impl KernelLog {
    /// The audit multicast group if this process may read it, else `/dev/kmsg`.
    ///
    /// # Errors
    ///
    /// When neither can be opened; the error is `/dev/kmsg`'s.
    pub fn open() -> io::Result<Self> {
        match Self::subscribe_audit() {
            Ok(log) => Ok(log),
            Err(e) => {
                log::debug!("cannot join the audit multicast group ({e}); reading /dev/kmsg");
                Self::open_at_end(Path::new("/dev/kmsg"))
            }
        }
    }

    /// Join the audit netlink socket's read-only multicast group.
    ///
    /// # Errors
    ///
    /// `EPERM` without CAP_AUDIT_READ; `EPROTONOSUPPORT` on a kernel without audit.
    pub fn subscribe_audit() -> io::Result<Self> {
        use nix::libc;
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        // SAFETY: socket(2) with constant arguments; the descriptor is checked and owned.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                NETLINK_AUDIT,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_nl is plain data, valid when zeroed.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_groups = AUDIT_NLGRP_READLOG_BIT;
        // SAFETY: `addr` is a valid sockaddr_nl and the length is its size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                std::ptr::addr_of!(addr).cast::<libc::sockaddr>(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            source: LogSource::Netlink(fd),
        })
    }

    /// Open `path` (`/dev/kmsg`) positioned after its last record.
    ///
    /// # Errors
    ///
    /// The open or seek error (permission denied for unprivileged users, no such file in
    /// some containers).
    pub fn open_at_end(path: &Path) -> io::Result<Self> {
        let mut file = OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(path)?;
        file.seek(SeekFrom::End(0))?;
        Ok(Self {
            source: LogSource::Kmsg(file),
        })
    }

    /// Where the records come from, for messages.
    pub fn source_name(&self) -> &'static str {
        match self.source {
            LogSource::Netlink(_) => "the audit multicast group",
            LogSource::Kmsg(_) => "/dev/kmsg",
        }
    }

    /// The messages written since the last call (or the open), as the kernel log shows them
    /// (`audit: type=1326 audit(...): ...`).
    ///
    /// # Errors
    ///
    /// A read error other than "nothing new" (`EAGAIN`) and "records were lost before they
    /// were read" (`EPIPE` from /dev/kmsg, `ENOBUFS` from netlink; reading goes on).
    pub fn read_new(&mut self) -> io::Result<Vec<String>> {
        // A kmsg record is at most 1 KiB of text plus its dictionary (the kernel refuses
        // smaller buffers with EINVAL); an audit record is at most MAX_AUDIT_MESSAGE_LENGTH
        // (8970 bytes).
        let mut buf = vec![0u8; 16 * 1024];
        let mut out = Vec::new();
        loop {
            let read = match &mut self.source {
                LogSource::Kmsg(file) => file.read(&mut buf),
                LogSource::Netlink(fd) => recv(fd, &mut buf),
            };
            match read {
                Ok(0) => return Ok(out),
                Ok(n) => match &self.source {
                    LogSource::Kmsg(_) => {
                        let record = String::from_utf8_lossy(&buf[..n]);
                        if let Some(message) = kmsg_message(&record) {
                            out.push(message.to_owned());
                        }
                    }
                    LogSource::Netlink(_) => out.extend(netlink_messages(&buf[..n])),
                },
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(out),
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOBUFS) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The seccomp records written since the last call, up to the barrier record of the
    /// process named `barrier` ([`queue_barrier_record`]), which is not returned. `None` when
    /// the barrier did not show up within `timeout`: the kernel's audit records do not reach
    /// its log (auditd receives them, or auditing is off), and the log cannot say what was
    /// refused.
    ///
    /// # Errors
    ///
    /// See [`KernelLog::read_new`].
    pub fn seccomp_records_until(
        &mut self,
        barrier: &str,
        timeout: Duration,
    ) -> io::Result<Option<Vec<SeccompRecord>>> {
        let start = Instant::now();
        let mut records = Vec::new();
        loop {
            for record in self.seccomp_records()? {
                if record.comm.as_deref() == Some(barrier) {
                    return Ok(Some(records));
                }
                records.push(record);
            }
            if start.elapsed() >= timeout {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The seccomp records the kernel wrote since the log was opened, up to a barrier record
    /// queued now ([`queue_barrier_record`], named [`BARRIER_PREFIX`]...): the kernel prints
    /// audit records a little after it queues them, so without the barrier a record of a run
    /// that just ended could still be missing.
    ///
    /// # Errors
    ///
    /// Why the log cannot say, in words: it is unreadable, or no record reached it within
    /// [`BARRIER_TIMEOUT`] (auditing off, or an audit daemon receiving them).
    pub fn seccomp_records_so_far(&mut self) -> Result<Vec<SeccompRecord>, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        // At most 15 bytes, the length of a comm.
        let barrier = format!(
            "{BARRIER_PREFIX}{:05}-{}",
            std::process::id() % 100_000,
            NEXT.fetch_add(1, Ordering::Relaxed) % 1000
        );
        let result = queue_barrier_record(&barrier)
            .and_then(|()| self.seccomp_records_until(&barrier, BARRIER_TIMEOUT));
        match result {
            Ok(Some(records)) => Ok(records),
            Ok(None) => Err(format!(
                "no seccomp record came from {} within {} s (auditing off, or an audit daemon \
                 receiving them?)",
                self.source_name(),
                BARRIER_TIMEOUT.as_secs()
            )),
            Err(e) => Err(format!(
                "cannot read seccomp records from {}: {e}",
                self.source_name()
            )),
        }
    }

    /// The seccomp records among the messages written since the last call.
    ///
    /// # Errors
    ///
    /// See [`KernelLog::read_new`].
    pub fn seccomp_records(&mut self) -> io::Result<Vec<SeccompRecord>> {
        Ok(self
            .read_new()?
            .iter()
            .filter_map(|m| parse_seccomp_record(m))
            .collect())
    }
}

/// The start of the `comm` of [`queue_barrier_record`]'s processes as
/// [`KernelLog::seccomp_records_so_far`] names them.
pub const BARRIER_PREFIX: &str = "sgsync";

/// How long the kernel may take to print a seccomp record.
pub const BARRIER_TIMEOUT: Duration = Duration::from_secs(2);

/// Make the kernel write a seccomp record behind every record already queued.
///
/// The kernel queues audit records in one FIFO that its `kauditd` thread prints to the log a
/// little later, so a refused call's record may not be in `/dev/kmsg` yet when the refused
/// process's unit has ended. This runs a child that names itself `comm` (at most 15 bytes,
/// prctl(2) `PR_SET_NAME`), enters seccomp's strict mode (only read, write, exit and
/// sigreturn are allowed) and is killed at its next call, execve; once its record is in the
/// log ([`KernelLog::seccomp_records_until`]), so is every record queued before it.
///
/// # Errors
///
/// When the child cannot be started or did not die of its filter (a kernel without seccomp).
pub fn queue_barrier_record(comm: &str) -> io::Result<()> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let name =
        std::ffi::CString::new(comm).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut child = Command::new("/bin/true");
    // SAFETY: the closure runs between fork and exec and makes only two prctl(2) system
    // calls, which are async-signal-safe; it allocates nothing (the name is prepared above).
    unsafe {
        child.pre_exec(move || {
            use nix::libc;
            if libc::prctl(libc::PR_SET_NAME, name.as_ptr()) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_STRICT) != 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let status = child.status()?;
    if status.signal() == Some(nix::libc::SIGKILL) {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "the seccomp strict-mode child {status} instead of being killed by its filter"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from this machine's kernel log (a filter without `uname`).
    const RECORD: &str =
        "[  713.883210] audit: type=1326 audit(1795885495.891:2): auid=4294967295 \
        uid=0 gid=0 ses=4294967295 pid=13667 comm=\"uname\" exe=\"/usr/bin/uname\" sig=31 \
        arch=c000003e syscall=63 compat=0 ip=0x7f595f677b07 code=0x80000000";

    #[test]
    fn parses_a_kernel_log_record() {
        assert_eq!(
            parse_seccomp_record(RECORD),
            Some(SeccompRecord {
                pid: 13667,
                comm: Some("uname".into()),
                exe: Some("/usr/bin/uname".into()),
                arch: AUDIT_ARCH_X86_64,
                syscall: 63,
                action: SeccompAction::KillProcess,
            })
        );
    }

    #[test]
    fn parses_auditd_records_and_quoted_spaces() {
        let line = "type=SECCOMP msg=audit(1.2:3): auid=0 uid=0 pid=7 comm=\"my prog\" \
                    exe=\"/opt/x\" sig=0 arch=c000003e syscall=41 compat=0 ip=0x1 code=0x50001";
        let record = parse_seccomp_record(line).unwrap();
        assert_eq!(record.comm.as_deref(), Some("my prog"));
        assert_eq!(record.syscall, 41);
        assert_eq!(record.action, SeccompAction::Errno(1));
    }

    #[test]
    fn kmsg_records_give_their_message() {
        let record = format!("5,1234,713883210,-;{}\n SUBSYSTEM=x\n", &RECORD[15..]);
        let message = kmsg_message(&record).unwrap();
        assert!(message.starts_with("audit: type=1326 "), "{message}");
        assert_eq!(parse_seccomp_record(message).unwrap().syscall, 63);
        assert_eq!(kmsg_message("no separator"), None);
        assert_eq!(kmsg_message("a;b"), None);
    }

    #[test]
    fn netlink_datagrams_become_log_lines() {
        let text = b"audit(1.2:3): pid=7 comm=\"x\" arch=c000003e syscall=41 code=0x80000000\0";
        let mut datagram = Vec::new();
        for _ in 0..2 {
            let len = 16 + text.len();
            datagram.extend((len as u32).to_ne_bytes());
            datagram.extend(1326u16.to_ne_bytes());
            datagram.extend([0u8; 10]);
            datagram.extend(text);
            datagram.resize((datagram.len() + 3) & !3, 0);
        }
        let lines = netlink_messages(&datagram);
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "audit: type=1326 audit(1.2:3): pid=7 comm=\"x\" arch=c000003e syscall=41 code=0x80000000"
        );
        assert_eq!(parse_seccomp_record(&lines[1]).unwrap().syscall, 41);
        assert!(netlink_messages(&datagram[..10]).is_empty());
    }

    #[test]
    fn a_barrier_record_follows_what_was_queued_before_it() {
        // Tests run as root (FACTS): both sources can be read. The kernel logs kill_thread
        // actions by default (/proc/sys/kernel/seccomp/actions_logged).
        for log in [
            KernelLog::subscribe_audit().expect("join the audit multicast group"),
            KernelLog::open_at_end(Path::new("/dev/kmsg")).expect("open /dev/kmsg"),
        ] {
            barrier_check(log);
        }
    }

    fn barrier_check(mut log: KernelLog) {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let first = format!("sgb1-{}-{n}", std::process::id() % 100_000);
        let second = format!("sgb2-{}-{n}", std::process::id() % 100_000);
        queue_barrier_record(&first).expect("first barrier");
        queue_barrier_record(&second).expect("second barrier");
        let records = log
            .seccomp_records_until(&second, Duration::from_secs(5))
            .expect("read")
            .expect("the second barrier was logged");
        let ours: Vec<&SeccompRecord> = records
            .iter()
            .filter(|r| r.comm.as_deref() == Some(first.as_str()))
            .collect();
        assert_eq!(ours.len(), 1, "{records:?}");
        assert_eq!(
            ours[0].action,
            SeccompAction::KillThread,
            "{}",
            log.source_name()
        );
        assert!(queue_barrier_record("a\0b").is_err());
    }

    #[test]
    fn other_lines_are_not_records() {
        assert_eq!(
            parse_seccomp_record("audit: type=1400 apparmor=DENIED"),
            None
        );
        assert_eq!(parse_seccomp_record("kernel: eth0 up"), None);
    }

    #[test]
    fn header_numbers_become_names() {
        let table = SyscallNumbers::parse_unistd_header(
            "#ifndef _ASM_UNISTD_64_H\n#define __NR_read 0\n#define __NR_uname 63\n\
             #define __NR_fcntl __NR3264_fcntl\n#endif\n",
        );
        assert_eq!(table.len(), 2);
        assert_eq!(table.name(63), Some("uname"));
        assert_eq!(table.name(1), None);
    }

    #[test]
    fn host_header_names_x86_64_numbers() {
        // linux-libc-dev is part of the build environment (libc6-dev depends on it).
        if cfg!(target_arch = "x86_64") {
            let table = SyscallNumbers::for_audit_arch(AUDIT_ARCH_X86_64, Path::new("/"))
                .expect("asm/unistd_64.h is installed");
            assert_eq!(table.name(0), Some("read"));
            assert_eq!(table.name(63), Some("uname"));
            assert_eq!(table.name(41), Some("socket"));
        }
    }

    #[test]
    fn without_kernel_headers_the_built_in_numbers_name_the_call() {
        // A Debian 13 machine without linux-libc-dev: coreutils 9.7's mkdir was killed at
        // statfs (137) there, and the record must still say so.
        let root = Path::new("/nonexistent");
        let x86_64 = SyscallNumbers::for_audit_arch(AUDIT_ARCH_X86_64, root).expect("built in");
        assert_eq!(x86_64.name(137), Some("statfs"));
        assert_eq!(x86_64.name(83), Some("mkdir"));
        assert_eq!(x86_64.name(435), Some("clone3"));
        let i386 = SyscallNumbers::for_audit_arch(AUDIT_ARCH_I386, root).expect("built in");
        assert_eq!(i386.name(39), Some("mkdir"));
        let aarch64 = SyscallNumbers::for_audit_arch(AUDIT_ARCH_AARCH64, root).expect("built in");
        assert_eq!(aarch64.name(34), Some("mkdirat"));
        assert_eq!(SyscallNumbers::for_audit_arch(0x4000_0028, root), None);
    }
}
