//! Inspect a running unit from the kernel's own view: the state `sandgen inspect` reports and
//! `sandgen verify` checks a policy against.
//!
//! systemd applies a unit's sandbox when it starts the main process: a private mount namespace
//! (`PrivateTmp=`, `ProtectSystem=`, `ProtectHome=`, `PrivateDevices=` ...), capability sets,
//! the no_new_privs bit and seccomp filters on the process's credentials, and limits on its
//! cgroup. None of that is visible in the unit file that asked for it; all of it is visible in
//! `/proc/PID/...` and the cgroup file system. The readers here gather those facts into plain
//! serde structs:
//!
//! - [`process`]: `/proc/PID/status` (capabilities, NoNewPrivs, seccomp, NSpid) and a pidfd-based
//!   [`ProcessHandle`] that proves the PID still names the same process after the reads;
//! - [`mounts`]: `/proc/PID/mountinfo` of the unit and of the host, compared, as a tree;
//! - [`namespace`]: list a directory or read a file *inside* the unit's mount namespace;
//! - [`cgroup`]: the unit's cgroup and its limits and usage, on cgroup v1/hybrid and v2;
//! - [`lsm`]: the process's SELinux or AppArmor label, and which security modules are active;
//! - [`pids`]: the processes in the unit's cgroup and the PID namespace they see;
//! - [`pin`]: the unit's main process, named by systemd (through the
//!   [`crate::systemd::bus::Systemd`] trait), held with a [`ProcessHandle`] and confirmed to be
//!   the same after the reads;
//! - [`report`]: what `sandgen inspect` prints, in words.
//!
//! Every reader takes its root (`/proc`, `/sys/fs/cgroup`) as a parameter so tests point it
//! at fixture trees. The readers do not talk to D-Bus: [`pin::pin`] resolves the unit's
//! `MainPID` (translated to a host PID when systemd runs in a container) and opens a
//! [`ProcessHandle`] on it, and [`inspect`] reads it.
//!
//! Securebits (`SecureBits=` in systemd.exec(5)) are not reported: the kernel keeps them in the
//! process's credentials and exposes them only to the process itself
//! (`prctl(PR_GET_SECUREBITS)`); no file in `/proc` shows them. See [`SECUREBITS_NOT_READABLE`].

pub mod cgroup;
pub mod lsm;
pub mod mounts;
pub mod namespace;
pub mod pids;
pub mod pin;
pub mod process;
pub mod report;

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use cgroup::CgroupState;
pub use mounts::{MountComparison, MountReport};
pub use namespace::{DirEntry, MountNamespace, NamespaceError};
pub use pids::CgroupProcess;
pub use process::{CapabilitySets, ProcessHandle, Seccomp, SeccompMode};

/// Why securebits are missing from an [`Inspection`]; `verify` reports `SecureBits=` as not
/// checkable with this reason.
pub const SECUREBITS_NOT_READABLE: &str = "securebits cannot be read from outside the process: \
     the kernel shows them only to the process itself (prctl(PR_GET_SECUREBITS)), not in /proc";

/// What seccomp's strict mode (`Seccomp: 1` in `/proc/PID/status`) means, for `inspect`
/// and `verify`. It is the legacy mode (Linux 2.6.12): no filter, a fixed list. systemd never
/// uses it: a program enters it itself with prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) or
/// seccomp(SECCOMP_SET_MODE_STRICT), and then cannot install filters, nor can a process in
/// filter mode switch to it (the kernel refuses a change of mode).
pub const SECCOMP_STRICT_MEANING: &str = "only read(2), write(2), _exit(2) and sigreturn(2) \
     are allowed, any other system call kills the process (SIGKILL); the program entered \
     strict mode itself (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)), systemd never does, and \
     a process in strict mode has no filters";

/// Everything `sandgen inspect --json` reports about one unit. The field names are the stable
/// JSON keys.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The unit's name, e.g. `heat.service`.
    pub unit: String,
    /// The main process's PID, as seen from sandgen's PID namespace.
    pub main_pid: u32,
    /// The unit's mount table compared with the host's: keys `mounts` (every mount of the
    /// unit, with `differs`) and `mounts_host_only`.
    #[serde(flatten)]
    pub mounts: MountComparison,
    /// The main process's capability sets, by name.
    pub capabilities: CapabilitySets,
    /// Whether the no_new_privs bit is set (`NoNewPrivileges=`).
    pub no_new_privs: bool,
    /// The main process's seccomp mode and number of filters.
    pub seccomp: Seccomp,
    /// The unit's cgroup, its limits and usage.
    pub cgroup: CgroupState,
    /// The processes in the unit's cgroup (and its children).
    pub pids: Vec<CgroupProcess>,
    /// The main process's security module labels, and which modules are active.
    pub lsm: lsm::LsmState,
}

/// Where the readers find the kernel's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// The proc file system, normally `/proc`.
    pub proc: PathBuf,
    /// The cgroup file system's mount root, normally `/sys/fs/cgroup`.
    pub cgroup: PathBuf,
    /// The sysfs root, normally `/sys` (which security modules are active).
    pub sys: PathBuf,
    /// The process whose mount namespace counts as "the host's" when marking what the unit's
    /// namespace changes: the service manager's, i.e. the PID of the systemd that runs the unit
    /// (host PID 1 on a normal machine; the container's systemd, as a host PID, when systemd
    /// runs in a container). `None` means sandgen's own namespace (`/proc/self`).
    pub host_pid: Option<u32>,
}

impl Roots {
    /// The real kernel's view: `/proc`, `/sys/fs/cgroup`, and sandgen's own mount namespace as
    /// the host's.
    pub fn system() -> Self {
        Self {
            proc: PathBuf::from("/proc"),
            cgroup: PathBuf::from("/sys/fs/cgroup"),
            sys: PathBuf::from("/sys"),
            host_pid: None,
        }
    }
}

/// Why a reader could not report a piece of kernel state.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The process exited (and its `/proc` directory went away) before or while it was read.
    #[error("process {pid} is gone (the unit restarted or stopped?): run inspect again")]
    Gone {
        /// The PID that was read.
        pid: u32,
    },
    /// The kernel refused the read.
    #[error("permission denied reading {}: run as root", path.display())]
    PermissionDenied {
        /// The file that could not be read.
        path: PathBuf,
    },
    /// Any other I/O error.
    #[error("cannot read {}: {error}", path.display())]
    Io {
        /// The file or directory that could not be read.
        path: PathBuf,
        /// The error the kernel returned (part of the message, so not a `source()`: the CLI
        /// prints error chains).
        error: io::Error,
    },
    /// A kernel file had a line sandgen cannot parse.
    #[error(
        "{}:{line}: {detail} (unexpected format: is this a Linux /proc or cgroup file system?)",
        path.display()
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        detail: String,
    },
    /// A field sandgen needs is missing from a kernel file.
    #[error("{} has no `{field}` line: the kernel is too old (sandgen inspect needs Linux 4.13 or later)", path.display())]
    MissingField {
        /// The file.
        path: PathBuf,
        /// The missing field, e.g. `NoNewPrivs`.
        field: &'static str,
    },
    /// The process's cgroup could not be located under the cgroup root.
    #[error("cannot find the cgroup of process {pid}: {detail}")]
    NoCgroup {
        /// The process.
        pid: u32,
        /// What is missing and where it was looked for.
        detail: String,
    },
}

/// Why [`inspect`] could not report on a unit.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The main process exited or its PID now names another process: what was read may be
    /// another process's state, so nothing is reported.
    #[error(
        "the main process of {unit} (PID {pid}) exited while sandgen read it (the unit restarted?): \
         nothing reported; run inspect again"
    )]
    Restarted {
        /// The unit.
        unit: String,
        /// Its former main PID.
        pid: u32,
    },
    /// A kernel file could not be read.
    #[error("cannot inspect {unit}: {error}")]
    Read {
        /// The unit.
        unit: String,
        /// What failed (part of the message, so not a `source()`).
        error: ReadError,
    },
}

/// Read every section of an [`Inspection`] for the process `pid` of `unit`, from `roots`.
///
/// This does not check that `pid` still names the same process afterwards; [`inspect`] does.
/// Use this directly for fixture trees.
pub fn read_all(unit: &str, pid: u32, roots: &Roots) -> Result<Inspection, ReadError> {
    let status = process::read_status(&roots.proc, pid)?;
    let unit_mounts = mounts::read_mountinfo(&roots.proc, pid)?;
    let host_mounts = match roots.host_pid {
        Some(host) => mounts::read_mountinfo(&roots.proc, host)?,
        None => mounts::read_self_mountinfo(&roots.proc)?,
    };
    let cgroup = cgroup::read_cgroup(&roots.proc, &roots.cgroup, pid)?;
    let pids = pids::read_unit_processes(&roots.proc, &roots.cgroup, pid)?;
    let lsm = lsm::read_lsm(&roots.proc, &roots.sys, pid);
    Ok(Inspection {
        unit: unit.to_owned(),
        main_pid: pid,
        mounts: mounts::compare(&unit_mounts, &host_mounts),
        capabilities: status.capabilities.names(),
        no_new_privs: status.no_new_privs,
        seccomp: status.seccomp,
        cgroup,
        pids,
        lsm,
    })
}

/// Inspect the process behind `main` (the unit's main process) and confirm, after every read,
/// that it is still the same process: if it exited or its PID was reused meanwhile, report
/// [`InspectError::Restarted`] rather than another process's state.
pub fn inspect(
    unit: &str,
    main: &ProcessHandle,
    roots: &Roots,
) -> Result<Inspection, InspectError> {
    let restarted = || InspectError::Restarted {
        unit: unit.to_owned(),
        pid: main.pid(),
    };
    let read = read_all(unit, main.pid(), roots);
    // Check identity whatever the reads returned: a read error is most often the process
    // vanishing under us, and then "restarted" is the true cause.
    match main.still_same() {
        Ok(true) => {}
        Ok(false) => return Err(restarted()),
        Err(error) => {
            return Err(InspectError::Read {
                unit: unit.to_owned(),
                error,
            })
        }
    }
    read.map_err(|error| match error {
        ReadError::Gone { .. } => restarted(),
        error => InspectError::Read {
            unit: unit.to_owned(),
            error,
        },
    })
}

/// A file's identity: the device and inode `stat(2)` reports. It holds across bind mounts,
/// chroots and `/proc/PID/...` links, where paths do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub(crate) struct FileId {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
}

/// The identity of the file at `path` (links followed, `/proc/PID/exe` too), if it exists.
pub(crate) fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

/// Read a whole text file of the kernel. `pid` is the process the file belongs to (for files
/// under `/proc/PID`): a missing file then means the process is gone.
pub(crate) fn read_text(path: &Path, pid: Option<u32>) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|e| io_error(path, pid, e))
}

/// Classify an I/O error on `path` (see [`read_text`]).
pub(crate) fn io_error(path: &Path, pid: Option<u32>, source: io::Error) -> ReadError {
    const ESRCH: i32 = nix::libc::ESRCH;
    const EINVAL: i32 = nix::libc::EINVAL;
    match (source.kind(), source.raw_os_error(), pid) {
        (io::ErrorKind::PermissionDenied, _, _) => ReadError::PermissionDenied {
            path: path.to_owned(),
        },
        (_, Some(ESRCH), Some(pid)) => ReadError::Gone { pid },
        // /proc/PID/mountinfo (and the other per-namespace files) of a process that is
        // exiting: its namespaces are already released (proc_mounts_open: no nsproxy).
        (_, Some(EINVAL), Some(pid)) => ReadError::Gone { pid },
        (io::ErrorKind::NotFound, _, Some(pid)) if !process_dir_exists(path, pid) => {
            ReadError::Gone { pid }
        }
        _ => ReadError::Io {
            path: path.to_owned(),
            error: source,
        },
    }
}

/// Whether the `/proc/PID` directory that `path` lies in still exists.
fn process_dir_exists(path: &Path, pid: u32) -> bool {
    let pid = pid.to_string();
    path.ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| *name == *pid))
        .is_some_and(Path::exists)
}

/// A file under `tests/fixtures/inspect`, for the readers' unit tests.
#[cfg(test)]
pub(crate) fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inspect")
        .join(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_process_file_is_gone_but_missing_cgroup_file_is_not() {
        let proc = fixture("cgroup-v2/proc");
        let gone = read_text(&proc.join("4999/status"), Some(4999)).unwrap_err();
        assert!(matches!(gone, ReadError::Gone { pid: 4999 }), "{gone:?}");
        assert_eq!(
            gone.to_string(),
            "process 4999 is gone (the unit restarted or stopped?): run inspect again"
        );
        let other = read_text(&proc.join("812/no-such-file"), Some(812)).unwrap_err();
        assert!(matches!(other, ReadError::Io { .. }), "{other:?}");
    }

    #[test]
    fn the_mount_table_of_an_exited_process_is_gone_not_an_invalid_argument() {
        // A zombie (exited, not yet reaped) has released its namespaces: reading its
        // mountinfo fails with EINVAL, which means the process is gone.
        let mut child = std::process::Command::new("/bin/true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        let stat = PathBuf::from(format!("/proc/{pid}/stat"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !std::fs::read_to_string(&stat)
            .expect("stat of an unreaped child")
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{pid} never became a zombie"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let got = read_text(&PathBuf::from(format!("/proc/{pid}/mountinfo")), Some(pid));
        child.wait().expect("reap");
        assert!(
            matches!(got, Err(ReadError::Gone { pid: p }) if p == pid),
            "{got:?}"
        );
    }

    #[test]
    fn reads_a_whole_inspection_from_the_v2_fixture_tree() {
        let roots = Roots {
            proc: fixture("cgroup-v2/proc"),
            cgroup: fixture("cgroup-v2/sys/fs/cgroup"),
            sys: fixture("cgroup-v2/sys"),
            host_pid: None,
        };
        let got = read_all("heat.service", 812, &roots).unwrap();
        assert_eq!(got.main_pid, 812);
        assert!(got.no_new_privs);
        assert_eq!(got.seccomp.mode, SeccompMode::Filter);
        assert!(!got
            .capabilities
            .bounding
            .contains(&"CAP_NET_ADMIN".to_owned()));
        assert_eq!(got.cgroup.memory_max, Some(104_857_600));
        assert_eq!(got.pids.len(), 3);

        let json = serde_json::to_value(&got).unwrap();
        for key in [
            "unit",
            "main_pid",
            "mounts",
            "mounts_host_only",
            "capabilities",
            "no_new_privs",
            "seccomp",
            "cgroup",
            "pids",
        ] {
            assert!(json.get(key).is_some(), "no key {key} in {json}");
        }
        assert_eq!(json["seccomp"]["mode"], "filter");
        assert_eq!(json["cgroup"]["version"], 2);
        for key in [
            "effective",
            "permitted",
            "inheritable",
            "bounding",
            "ambient",
        ] {
            assert!(json["capabilities"][key].is_array(), "capabilities.{key}");
        }
        let mount = &json["mounts"][0];
        for key in ["mount_point", "fs_type", "source", "options", "differs"] {
            assert!(mount.get(key).is_some(), "no key {key} in {mount}");
        }
    }
}
