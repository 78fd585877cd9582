//! Signal names (signal(7)): how systemd and the kernel report a process killed by a signal
//! (`ExecMainStatus=` with `ExecMainCode=killed`, strace's `+++ killed by SIGSYS +++`).
//!
//! The names are those of the C library's `<signal.h>` for this architecture, through
//! `nix::sys::signal::Signal`; real-time signals (`SIGRTMIN+n`) have none.

/// The name of signal `number` (`SIGSYS` for 31 on x86_64), or `signal N` for numbers
/// without one (real-time signals).
pub fn signal_name(number: i32) -> String {
    nix::sys::signal::Signal::try_from(number)
        .map_or_else(|_| format!("signal {number}"), |s| s.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_named_like_the_kernel_headers() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(31), "SIGSYS");
        assert_eq!(signal_name(40), "signal 40");
    }
}
