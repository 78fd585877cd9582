//! Families of system calls that libc versions use interchangeably for one operation.
//!
//! A list traced under one libc can die under the next: glibc 2.36 (Debian 12) implements
//! `fstat()` with `newfstatat`, while coreutils 9.7 with glibc 2.41 (Debian 13) calls `fstat`
//! itself, so a filter traced on Debian 12 kills `dd` on Debian 13 with SIGSYS. shh, the
//! closest tool, offers the same trade-off as its "generic" mode. By default
//! [`crate::suggest::suggest`] allows a whole family when the trace saw one member; `sandgen
//! suggest --exact` keeps the tightest list.
//!
//! Each family is one operation a program asks libc for, and the calls that implement it
//! across libc versions (`*at` forms, `2`/`3` variants, `statx`, `clone3`) and kernels (a libc falls back to the older call on ENOSYS, but a
//! seccomp filter that kills never returns ENOSYS). A family member is added only where it
//! is inside `@system-service` and in no dangerous group, so the extra width never brings
//! authority the workload did not show it needs (`chown` variants, for one, are not added).
//! The families name x86-64 calls only: names that exist on other architectures alone
//! (`fstatat64`, `_llseek`) would be refused by validation where libseccomp cannot resolve
//! them, and `setrlimit` stays out of the `getrlimit()` family, since it raises limits.

use std::collections::BTreeSet;

use crate::data::syscalls::SyscallTable;

/// The families (see the module docs). A call may be in one family only.
pub const FAMILIES: &[(&str, &[&str])] = &[
    (
        "stat(), fstat(), lstat(), fstatat()",
        &["stat", "fstat", "lstat", "newfstatat", "statx"],
    ),
    ("open()", &["open", "openat"]),
    (
        "access(), faccessat()",
        &["access", "faccessat", "faccessat2"],
    ),
    ("dup2(), dup3()", &["dup2", "dup3"]),
    ("pipe(), pipe2()", &["pipe", "pipe2"]),
    ("wait(), waitpid(), waitid()", &["wait4", "waitid"]),
    ("select(), pselect()", &["select", "pselect6"]),
    ("poll(), ppoll()", &["poll", "ppoll"]),
    (
        "epoll_wait(), epoll_pwait()",
        &["epoll_wait", "epoll_pwait", "epoll_pwait2"],
    ),
    ("epoll_create()", &["epoll_create", "epoll_create1"]),
    (
        "fork(), pthread_create(), posix_spawn()",
        &["clone", "clone3", "fork", "vfork"],
    ),
    ("signalfd()", &["signalfd", "signalfd4"]),
    ("eventfd()", &["eventfd", "eventfd2"]),
    ("readdir()", &["getdents", "getdents64"]),
    ("readlink()", &["readlink", "readlinkat"]),
    ("mkdir()", &["mkdir", "mkdirat"]),
    ("unlink(), rmdir()", &["unlink", "unlinkat", "rmdir"]),
    ("rename()", &["rename", "renameat", "renameat2"]),
    ("link()", &["link", "linkat"]),
    ("symlink()", &["symlink", "symlinkat"]),
    ("chmod()", &["chmod", "fchmodat", "fchmodat2"]),
    (
        "utime(), utimes(), utimensat()",
        &["utime", "utimes", "futimesat", "utimensat"],
    ),
    ("getrlimit()", &["getrlimit", "prlimit64"]),
    (
        "sendfile(), copy_file_range()",
        &["sendfile", "copy_file_range"],
    ),
    ("accept()", &["accept", "accept4"]),
    ("sleep(), nanosleep()", &["nanosleep", "clock_nanosleep"]),
];

/// The family members to allow beside `needed`: those of every family `needed` has a
/// member of, that `table` knows, that are in `service` (the expansion of
/// `@system-service`) and not in `dangerous`, and that are not needed already.
pub fn variants(
    needed: &BTreeSet<&String>,
    table: &SyscallTable,
    service: &BTreeSet<String>,
    dangerous: &BTreeSet<String>,
) -> Vec<String> {
    let mut out = BTreeSet::new();
    for (_, members) in FAMILIES {
        if !members
            .iter()
            .any(|m| needed.iter().any(|n| n.as_str() == *m))
        {
            continue;
        }
        for m in *members {
            let name = (*m).to_owned();
            if table.is_syscall(m)
                && service.contains(&name)
                && !dangerous.contains(&name)
                && !needed.contains(&name)
            {
                out.insert(name);
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_call_is_in_two_families() {
        let mut seen = BTreeSet::new();
        for (_, members) in FAMILIES {
            for m in *members {
                assert!(seen.insert(*m), "{m} is in two families");
            }
        }
    }
}
