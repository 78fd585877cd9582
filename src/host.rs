//! Facts about the host that the policy pipeline needs, gathered once and only when needed:
//! the version of the systemd to render for, its system call groups (the target's, not
//! necessarily the host's), and where programs are.
//!
//! [`Host`] asks for them (`systemctl --version`, the manager's `Version` property over
//! D-Bus, `systemd-analyze syscall-filter`) and hands them to the pure pipeline
//! ([`crate::load_policy`]): every command that reads a policy, from a file, from a unit
//! file's record or rewritten by `suggest --write`, loads it through [`Host::load`].
//!
//! Programs are looked up as execvp(3) does ([`find_program_in`]): the first executable file
//! `DIR/NAME` of a list of directories, an empty entry meaning the current directory.

use std::cell::OnceCell;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::data::syscalls::SyscallTable;
use crate::diagnostic::Diagnostics;
use crate::policy::Context;
use crate::systemd::{self, bus::Systemd, ssh::Ssh};
use crate::Loaded;

/// Facts about the target systemd, gathered once and only when needed.
pub(crate) struct Host {
    version: u32,
    syscalls: OnceCell<SyscallTable>,
    /// The machine the target systemd runs on, when it is another one (`--host`).
    remote: Option<Ssh>,
}

impl Host {
    /// Facts for rendering for systemd `version`, else the host's (`systemctl --version`),
    /// else [`systemd::FALLBACK_VERSION`] with a warning.
    pub(crate) fn new(version: Option<u32>) -> Self {
        let version = version.unwrap_or_else(|| {
            systemd::host_version().unwrap_or_else(|| {
                log::warn!(
                    "cannot run `systemctl --version`; rendering for systemd {} (use --systemd-version)",
                    systemd::FALLBACK_VERSION
                );
                systemd::FALLBACK_VERSION
            })
        });
        Host::with_version(version)
    }

    /// Facts for rendering for the systemd at the other end of `client`: its version comes
    /// over the bus (cheaper than running `systemctl --version`, and right for a container).
    pub(crate) fn for_bus(version: Option<u32>, client: &dyn Systemd) -> Self {
        let version = version.or_else(|| {
            client
                .version()
                .ok()
                .and_then(|v| systemd::major_version(&v))
        });
        match version {
            Some(version) => Host::with_version(version),
            None => Host::new(None),
        }
    }

    fn with_version(version: u32) -> Self {
        log::info!("target systemd version: {version}");
        Host {
            version,
            syscalls: OnceCell::new(),
            remote: None,
        }
    }

    /// Facts for the systemd `manager` names: over the bus (its version) and, for one on
    /// another machine, its own `systemd-analyze` there for the groups. `client` is a
    /// connection to it, when the caller has one.
    pub(crate) fn for_manager(
        version: Option<u32>,
        client: &dyn Systemd,
        manager: &systemd::Manager,
    ) -> Self {
        let mut host = Host::for_bus(version, client);
        host.remote = manager.remote().cloned();
        host
    }

    /// The systemd version policies are lowered for.
    pub(crate) fn version(&self) -> u32 {
        self.version
    }

    /// The target's system call table, asked for on first use: the host's
    /// `systemd-analyze syscall-filter` when the host's systemd is the target's version, else
    /// sandgen's built-in listing for the target ([`systemd::syscalls_for`]).
    pub(crate) fn syscalls(&self) -> &SyscallTable {
        self.syscalls.get_or_init(|| {
            let table = match &self.remote {
                Some(ssh) => SyscallTable::for_target(self.version, systemd::remote_syscalls(ssh)),
                None => systemd::syscalls_for(self.version),
            };
            let source = table.source();
            let reason = source
                .built_in_reason()
                .map(|why| format!(": {why}"))
                .unwrap_or_default();
            log::info!("system call groups from {}{reason}", source.describe());
            table
        })
    }

    /// The system call table if a policy needed it so far.
    pub(crate) fn syscalls_if_loaded(&self) -> Option<&SyscallTable> {
        self.syscalls.get()
    }

    /// Validate the policy `text` and lower it for this host's systemd. `name` is the file
    /// shown in diagnostics and in the unit's header.
    ///
    /// # Errors
    ///
    /// Every problem of the policy, located.
    pub(crate) fn load(&self, name: &str, text: String) -> Result<Loaded, Diagnostics> {
        let syscalls = || self.syscalls();
        let find = |program: &str| find_program(program).map(|p| p.display().to_string());
        let cx = Context {
            syscalls: &syscalls,
            find_program: &find,
        };
        let mut loaded = crate::load_policy(name, text, &cx, self.version)?;
        // The cgroup layout is this machine's, and so the target's, unless the target is
        // another machine (`--host`), whose layout sandgen does not ask for.
        if self.remote.is_none() {
            let layout = crate::inspect::cgroup::layout(Path::new("/sys/fs/cgroup"));
            loaded
                .warnings
                .extend(crate::policy::layout_warnings(&loaded.policy, layout));
        }
        Ok(loaded)
    }
}

/// Whether `path` is a file someone may execute.
pub(crate) fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first executable `DIR/program` of `dirs`, as execvp(3) finds it: an empty `DIR` is the
/// current directory. With a `root`, each candidate is checked at `root/DIR/program` (the
/// file system of another system, a container's) and returned as that system sees it.
pub(crate) fn find_program_in<D: AsRef<Path>>(
    program: &str,
    dirs: impl IntoIterator<Item = D>,
    root: Option<&Path>,
) -> Option<PathBuf> {
    dirs.into_iter()
        .map(|dir| {
            let dir = dir.as_ref();
            if dir.as_os_str().is_empty() {
                Path::new(".").join(program)
            } else {
                dir.join(program)
            }
        })
        .find(|candidate| {
            is_executable(&match root {
                Some(root) => root.join(candidate.strip_prefix("/").unwrap_or(candidate)),
                None => candidate.clone(),
            })
        })
}

/// [`find_program_in`] the directories of the `:`-separated `path_var`.
pub(crate) fn find_program_on(program: &str, path_var: &OsStr) -> Option<PathBuf> {
    find_program_in(program, std::env::split_paths(path_var), None)
}

/// [`find_program_in`] the directories of this process's `PATH`.
pub(crate) fn find_program(program: &str) -> Option<PathBuf> {
    find_program_on(program, &std::env::var_os("PATH")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_like_execvp_does() {
        let path = OsStr::new("/nonexistent:/bin:/usr/bin");
        let sh = find_program_on("sh", path).expect("sh");
        assert!(sh.ends_with("sh") && sh.is_absolute(), "{}", sh.display());
        assert_eq!(find_program_on("no-such-program-xyz", path), None);
        // Not executable: a directory, and a plain file.
        assert_eq!(find_program_on("etc", OsStr::new("/")), None);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("data"), "x").expect("write");
        assert_eq!(find_program_on("data", dir.path().as_os_str()), None);
    }

    #[test]
    fn programs_are_found_under_another_root_as_it_sees_them() {
        let root = tempfile::tempdir().expect("tempdir");
        let bin = root.path().join("usr/bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let tool = bin.join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(
            find_program_in("tool", ["/bin", "/usr/bin"], Some(root.path())),
            Some(PathBuf::from("/usr/bin/tool"))
        );
        assert_eq!(find_program_in("tool", ["/usr/bin"], None), None);
    }
}
