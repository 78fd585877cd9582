//! The host's systemd: what version it is, which system call groups it knows, and its
//! D-Bus API ([`bus`]) for installing, starting and watching units.
//!
//! These functions run programs (`systemctl --version`, `systemd-analyze syscall-filter`)
//! and so sit at the edge; they return plain facts for the pure core.

pub mod bus;
pub mod journal;
pub mod properties;
pub mod status;

use std::process::Command;

use crate::data::syscalls::{GroupsSource, SyscallTable};

/// The version sandgen targets when it cannot ask the host (Debian 12's systemd).
pub const FALLBACK_VERSION: u32 = 252;

/// Parse the first line of `systemctl --version`: `systemd 252 (252.38-1~deb12u1)`.
pub fn parse_version(output: &str) -> Option<u32> {
    let first = output.lines().next()?;
    let mut words = first.split_whitespace();
    if words.next()? != "systemd" {
        return None;
    }
    words.next()?.parse().ok()
}

/// The version of the host's systemd, from `systemctl --version` (which works without a
/// running systemd), or `None` when systemd is not installed.
pub fn host_version() -> Option<u32> {
    let out = Command::new("systemctl").arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

/// The host's system call groups from `systemd-analyze syscall-filter`, or sandgen's
/// built-in table (captured from systemd 252) when that cannot be run or parsed.
pub fn host_syscalls() -> SyscallTable {
    let from_host = Command::new("systemd-analyze")
        .args(["syscall-filter", "--no-pager"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            SyscallTable::parse(
                &String::from_utf8_lossy(&o.stdout),
                GroupsSource::SystemdAnalyze,
            )
            .map_err(|e| log::warn!("cannot parse `systemd-analyze syscall-filter`: {e}"))
            .ok()
        });
    match from_host {
        Some(table) => table,
        None => {
            log::info!("systemd-analyze is not available; using the built-in system call table");
            SyscallTable::built_in()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_systemctl_version() {
        assert_eq!(
            parse_version("systemd 252 (252.38-1~deb12u1)\n+PAM +AUDIT"),
            Some(252)
        );
        assert_eq!(parse_version("systemd 257 (257.4-1)"), Some(257));
        assert_eq!(parse_version("not systemd"), None);
    }
}
