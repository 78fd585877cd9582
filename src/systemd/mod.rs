//! The host's systemd: what version it is, which system call groups it knows, the service
//! manager to talk to ([`Manager`]) and its D-Bus API ([`bus`]) for installing, starting and
//! watching units.
//!
//! These functions run programs (`systemctl --version`, `systemd-analyze syscall-filter`)
//! and so sit at the edge; they return plain facts for the pure core.

pub mod bus;
pub mod journal;
pub mod properties;
pub mod settle;
pub mod ssh;
pub mod status;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bus::{Bus, BusError, Client};

use crate::data::syscalls::{GroupsSource, SyscallTable};

/// A service manager sandgen talks to: the bus to reach it on, the time-out of each call,
/// and the root of its file system when that is not this one (a container's
/// `/proc/PID/root`), where its unit files and journal are.
#[derive(Debug, Clone)]
pub struct Manager {
    /// Its bus.
    pub bus: Bus,
    /// The time-out of each D-Bus call (connecting, then each call).
    pub timeout: Duration,
    /// The root of its file system, if not `/`.
    pub root: Option<PathBuf>,
}

impl Manager {
    /// A new D-Bus client for it. Each client subscribes to job signals once, so a caller
    /// that watches several jobs at a time takes a client for each.
    ///
    /// # Errors
    ///
    /// When the bus cannot be reached in time.
    pub fn connect(&self) -> Result<Client, BusError> {
        Client::connect(&self.bus, self.timeout)
    }

    /// The machine it runs on, when that is another one reached over SSH (`--host`).
    pub fn remote(&self) -> Option<&ssh::Ssh> {
        match &self.bus {
            Bus::Remote(ssh) => Some(ssh),
            _ => None,
        }
    }

    /// The root of its file system, if not `/`.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// The host PID of the process whose root the manager's root is, when it has the form
    /// `/proc/PID/root` (a container's init): PIDs that systemd reports over D-Bus live in
    /// that process's PID namespace and are translated through it.
    pub fn namespace_holder(&self) -> Option<u32> {
        let root = self.root.as_deref()?;
        let rest = root.strip_prefix("/proc").ok()?;
        let mut parts = rest.components();
        let pid = parts.next()?.as_os_str().to_str()?.parse().ok()?;
        (parts.next()?.as_os_str() == "root" && parts.next().is_none()).then_some(pid)
    }

    /// A path of the managed system, seen from here.
    pub fn host_path(&self, path: &Path) -> PathBuf {
        match &self.root {
            Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
            None => path.to_path_buf(),
        }
    }

    /// The last journal lines of `unit`, as text to append to a message (empty when there
    /// are none).
    pub fn journal_lines(&self, unit: &str) -> String {
        let lines = match self.remote() {
            Some(ssh) => journal::tail_remote(ssh, unit, 10),
            None => journal::tail(self.root(), unit, 10),
        };
        if lines.is_empty() {
            String::new()
        } else {
            format!("\nlast journal lines of {unit}:\n{}", lines.join("\n"))
        }
    }
}

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

/// The major version in the manager's `Version` D-Bus property (`252.39-1~deb12u1`).
pub fn major_version(version: &str) -> Option<u32> {
    let digits: String = version.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
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

/// The system call groups of systemd `target` ([`SyscallTable::for_target`]): the host's
/// `systemd-analyze syscall-filter` when the host's systemd is that version, else sandgen's
/// built-in listing for it.
pub fn syscalls_for(target: u32) -> SyscallTable {
    SyscallTable::for_target(target, host_syscalls())
}

/// The system call groups of the machine `ssh` reaches, from its `systemd-analyze
/// syscall-filter` (one SSH round trip for the version and the listing); `None` when it
/// cannot be run there or its output does not parse.
pub fn remote_syscalls(ssh: &ssh::Ssh) -> Option<SyscallTable> {
    let out = ssh
        .run(&[
            "sh",
            "-c",
            "systemd-analyze --version | head -n 1 && systemd-analyze syscall-filter --no-pager",
        ])
        .map_err(|e| log::warn!("cannot list the system call groups there: {e}"))
        .ok()?;
    let (first, listing) = out.split_once('\n')?;
    let version = parse_version(first)?;
    let table = SyscallTable::parse(listing, GroupsSource::SystemdAnalyze { version });
    match table {
        Ok(table) => {
            log::info!(
                "system call groups from `systemd-analyze syscall-filter` on {}",
                ssh.destination
            );
            Some(table)
        }
        Err(e) => {
            log::warn!(
                "{}: cannot parse `systemd-analyze syscall-filter`: {e}",
                ssh.destination
            );
            None
        }
    }
}

/// The host's system call groups from `systemd-analyze syscall-filter`, with the version of
/// that systemd-analyze; `None` when it cannot be run or its output does not parse.
///
/// Running systemd-analyze costs about 10 ms, more than the rest of a render, so its
/// output is cached in `$XDG_CACHE_HOME/sandgen` (or `~/.cache/sandgen`) under a key made of
/// the binary's inode, size and modification time and the kernel release: a new systemd or
/// kernel gets a fresh listing. The cached text starts with the first line of
/// `systemd-analyze --version` as a `#` comment (which the listing's parser skips).
pub fn host_syscalls() -> Option<SyscallTable> {
    let cache = cache_file();
    if let Some(text) = cache.as_ref().and_then(|p| std::fs::read_to_string(p).ok()) {
        if let Some(table) = cached_table(&text) {
            return Some(table);
        }
    }
    let run = |args: &[&str]| {
        Command::new("systemd-analyze")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let Some(listing) = run(&["syscall-filter", "--no-pager"]) else {
        log::info!("systemd-analyze is not available; using a built-in system call table");
        return None;
    };
    let Some((version_line, version)) = run(&["--version"]).and_then(|out| {
        let line = out.lines().next()?.to_owned();
        let version = parse_version(&line)?;
        Some((line, version))
    }) else {
        log::warn!("cannot read the version of `systemd-analyze --version`; using a built-in system call table");
        return None;
    };
    let table = SyscallTable::parse(&listing, GroupsSource::SystemdAnalyze { version })
        .map_err(|e| log::warn!("cannot parse `systemd-analyze syscall-filter`: {e}"))
        .ok()?;
    if let Some(path) = &cache {
        store(path, &format!("# {version_line}\n{listing}"));
    }
    Some(table)
}

/// A cached listing ([`host_syscalls`]), if it has its version line and parses.
fn cached_table(text: &str) -> Option<SyscallTable> {
    let version = parse_version(text.lines().next()?.strip_prefix("# ")?)?;
    SyscallTable::parse(text, GroupsSource::SystemdAnalyze { version }).ok()
}

/// Where the listing of the installed systemd-analyze is cached, if it can be.
fn cache_file() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let analyze = crate::host::find_program("systemd-analyze")?;
    let meta = std::fs::metadata(&analyze).ok()?;
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    let dir = match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(dir.join("sandgen").join(format!(
        "syscall-filter-{:x}-{:x}-{:x}-{}.txt",
        meta.ino(),
        meta.size(),
        meta.mtime(),
        kernel.trim()
    )))
}

/// Best effort: a cache that cannot be written is only slower.
fn store(path: &std::path::Path, text: &str) {
    let Some(dir) = path.parent() else { return };
    let tmp = dir.join(format!(".{}.tmp", std::process::id()));
    let stored = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, text))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = stored {
        log::debug!("cannot cache the syscall listing in {}: {e}", dir.display());
        let _ = std::fs::remove_file(&tmp);
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

    #[test]
    fn a_cached_listing_needs_its_version_line() {
        let listing = "@known\n    # All known syscalls\n    read\n";
        let table = cached_table(&format!("# systemd 257 (257.13-1~deb13u1)\n{listing}"));
        assert_eq!(
            table.map(|t| t.source()),
            Some(GroupsSource::SystemdAnalyze { version: 257 })
        );
        // What sandgen cached before it recorded the version: read again.
        assert!(cached_table(listing).is_none());
        assert!(cached_table("# systemd 257\n@known\nread\n").is_none());
    }

    #[test]
    fn reads_systemds_version_property() {
        assert_eq!(major_version("252.39-1~deb12u1"), Some(252));
        assert_eq!(major_version("257"), Some(257));
        assert_eq!(major_version("v1"), None);
    }
}
