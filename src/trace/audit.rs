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
//! cannot be traced, because the filter applies to strace as well.
//!
//! Numbers become names with the kernel's own table, `asm/unistd_64.h` (package
//! linux-libc-dev), read at run time; a host without it gets numbers only.

use std::collections::BTreeMap;
use std::path::Path;

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

    /// The table for `arch` (an `AUDIT_ARCH_*` value) from the kernel headers under `root`
    /// (`/` on a real host), or `None` when the headers are not installed or the ABI is not
    /// one sandgen knows the header of (x86_64, i386, aarch64).
    pub fn for_audit_arch(arch: u32, root: &Path) -> Option<Self> {
        let candidates: &[&str] = match arch {
            AUDIT_ARCH_X86_64 => &[
                "usr/include/x86_64-linux-gnu/asm/unistd_64.h",
                "usr/include/asm/unistd_64.h",
            ],
            AUDIT_ARCH_I386 => &[
                "usr/include/x86_64-linux-gnu/asm/unistd_32.h",
                "usr/include/i386-linux-gnu/asm/unistd_32.h",
                "usr/include/asm/unistd_32.h",
            ],
            AUDIT_ARCH_AARCH64 => &["usr/include/asm-generic/unistd.h"],
            _ => &[],
        };
        candidates
            .iter()
            .find_map(|p| std::fs::read_to_string(root.join(p)).ok())
            .map(|text| Self::parse_unistd_header(&text))
            .filter(|table| !table.names.is_empty())
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
        assert_eq!(
            SyscallNumbers::for_audit_arch(AUDIT_ARCH_X86_64, Path::new("/nonexistent")),
            None
        );
    }
}
