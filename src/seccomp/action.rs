//! What a seccomp filter returns, and how the kernel combines stacked filters
//! (seccomp(2), "Filter return values"; `seccomp_run_filters()` in `kernel/seccomp.c`).
//!
//! A filter returns a 32-bit value: the action in the high 16 bits, its data (an errno, a
//! trace message) in the low 16. Every attached filter runs on every call; the action that
//! wins is the one with the lowest value of `(s32)(ret & SECCOMP_RET_ACTION_FULL)`, so
//! `KILL_PROCESS` (0x80000000, negative as s32) beats everything, `ALLOW` (0x7fff0000) loses
//! to everything. On equal actions the newest filter's value (its data) is kept.

use serde::Serialize;

/// `SECCOMP_RET_KILL_PROCESS`.
pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
/// `SECCOMP_RET_KILL_THREAD` (also what a program returns when it divides by zero).
pub const RET_KILL_THREAD: u32 = 0x0000_0000;
/// `SECCOMP_RET_TRAP`.
pub const RET_TRAP: u32 = 0x0003_0000;
/// `SECCOMP_RET_ERRNO`.
pub const RET_ERRNO: u32 = 0x0005_0000;
/// `SECCOMP_RET_USER_NOTIF`.
pub const RET_USER_NOTIF: u32 = 0x7fc0_0000;
/// `SECCOMP_RET_TRACE`.
pub const RET_TRACE: u32 = 0x7ff0_0000;
/// `SECCOMP_RET_LOG`.
pub const RET_LOG: u32 = 0x7ffc_0000;
/// `SECCOMP_RET_ALLOW`.
pub const RET_ALLOW: u32 = 0x7fff_0000;
/// `SECCOMP_RET_ACTION_FULL`.
const ACTION_FULL: u32 = 0xffff_0000;
/// `SECCOMP_RET_DATA`.
const DATA: u32 = 0x0000_ffff;

/// A filter's verdict on one call, as the kernel acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case", tag = "action", content = "data")]
pub enum Action {
    /// The whole process is killed (SIGSYS, core dump).
    KillProcess,
    /// The calling thread is killed.
    KillThread,
    /// SIGSYS is sent to the thread; the value is the signal's `si_errno`.
    Trap(u16),
    /// The call fails with this errno, without running.
    Errno(u16),
    /// A user-space supervisor decides (seccomp_unotify(2)).
    UserNotif,
    /// A ptrace tracer is told; without one the call fails with ENOSYS.
    Trace(u16),
    /// The call runs and is logged.
    Log,
    /// The call runs.
    Allow,
}

impl Action {
    /// The action a filter's return value asks for. An action value the kernel does not
    /// know is `KILL_PROCESS`, as the kernel treats it (`seccomp_run_filters()` default).
    pub fn from_ret(ret: u32) -> Self {
        let data = (ret & DATA) as u16;
        match ret & ACTION_FULL {
            RET_KILL_PROCESS => Action::KillProcess,
            RET_KILL_THREAD => Action::KillThread,
            RET_TRAP => Action::Trap(data),
            RET_ERRNO => Action::Errno(data),
            RET_USER_NOTIF => Action::UserNotif,
            RET_TRACE => Action::Trace(data),
            RET_LOG => Action::Log,
            RET_ALLOW => Action::Allow,
            _ => Action::KillProcess,
        }
    }

    /// Whether the call runs (`ALLOW` or `LOG`).
    pub fn runs(self) -> bool {
        matches!(self, Action::Allow | Action::Log)
    }

    /// Words for a report: `allow`, `errno 1 (EPERM)`, `kill process`.
    pub fn describe(self) -> String {
        match self {
            Action::KillProcess => "kill process".to_owned(),
            Action::KillThread => "kill thread".to_owned(),
            Action::Trap(n) => format!("trap ({n})"),
            Action::Errno(n) => match crate::data::errno::name(i32::from(n)) {
                Some(name) => format!("errno {n} ({name})"),
                None => format!("errno {n}"),
            },
            Action::UserNotif => "user notification".to_owned(),
            Action::Trace(n) => format!("trace ({n})"),
            Action::Log => "log".to_owned(),
            Action::Allow => "allow".to_owned(),
        }
    }
}

/// The kernel's precedence of a return value: lower wins (`ACTION_ONLY()`, signed).
fn precedence(ret: u32) -> i32 {
    (ret & ACTION_FULL) as i32
}

/// Combine the return values of stacked filters, given newest first (the order the kernel
/// runs them): the most restrictive action wins; among equal actions, the newest filter's.
/// No filter at all allows the call.
pub fn combine(newest_first: impl IntoIterator<Item = u32>) -> u32 {
    let mut best: Option<u32> = None;
    for ret in newest_first {
        if best.is_none_or(|b| precedence(ret) < precedence(b)) {
            best = Some(ret);
        }
    }
    best.unwrap_or(RET_ALLOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_values_decode_as_the_kernel_reads_them() {
        assert_eq!(Action::from_ret(0x0005_0001), Action::Errno(1));
        assert_eq!(Action::from_ret(RET_ALLOW), Action::Allow);
        assert_eq!(Action::from_ret(0), Action::KillThread);
        assert_eq!(Action::from_ret(RET_KILL_PROCESS), Action::KillProcess);
        assert_eq!(Action::from_ret(RET_TRAP | 7), Action::Trap(7));
        assert_eq!(Action::from_ret(RET_LOG), Action::Log);
        assert_eq!(Action::from_ret(RET_USER_NOTIF), Action::UserNotif);
        assert_eq!(Action::from_ret(RET_TRACE | 3), Action::Trace(3));
        // An action the kernel does not know kills the process.
        assert_eq!(Action::from_ret(0x1234_0000), Action::KillProcess);
        assert_eq!(Action::Errno(1).describe(), "errno 1 (EPERM)");
    }

    #[test]
    fn the_most_restrictive_action_wins_and_ties_keep_the_newest() {
        let errno = |n| RET_ERRNO | n;
        assert_eq!(combine([RET_ALLOW, RET_LOG]), RET_LOG);
        assert_eq!(combine([RET_ALLOW, errno(1), RET_LOG]), errno(1));
        assert_eq!(combine([errno(1), RET_TRAP]), RET_TRAP);
        assert_eq!(combine([RET_TRAP, RET_KILL_THREAD]), RET_KILL_THREAD);
        assert_eq!(
            combine([RET_KILL_THREAD, RET_KILL_PROCESS]),
            RET_KILL_PROCESS
        );
        assert_eq!(combine([RET_USER_NOTIF, RET_TRACE, errno(9)]), errno(9));
        assert_eq!(combine([RET_TRACE, RET_USER_NOTIF]), RET_USER_NOTIF);
        // Two errnos: the newest filter's (the first run) is the one the caller sees.
        assert_eq!(combine([errno(13), errno(1)]), errno(13));
        assert_eq!(combine([]), RET_ALLOW);
    }
}
