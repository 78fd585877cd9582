//! The facts `sandgen verify` judges a policy by, gathered from the kernel in one place.
//!
//! [`gather`] reads everything the checks need while the unit's main process is pinned by a
//! [`ProcessHandle`]: the [`Inspection`] that `sandgen inspect` reports, and a few more things
//! of the main process (`Uid:`, `Gid:`, `Umask:` and `Cpus_allowed_list:` of
//! `/proc/PID/status`, its command line, environment and working directory, its namespaces
//! next to the service manager's, its network devices), of the system (RAM, the task limit,
//! the kernel's last capability) and of paths the policy names, seen from the unit's root
//! (`/proc/PID/root/PATH`) and from the service manager's (`--root`). Files are compared by
//! device and inode, which holds across bind mounts and chroots.
//!
//! Which paths are looked at is decided by [`probes`], a pure function of the directives,
//! so the checks in [`super`] only ever look up what was gathered.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::data::syscalls::SyscallTable;
use crate::directive::{Directive, DirectiveValue, Name};
use crate::inspect::cgroup::{AttachedProgram, DeviceLimits, DeviceNumber};
use crate::inspect::process::status_field;
pub(crate) use crate::inspect::FileId;
use crate::inspect::{self, file_id, InspectError, Inspection, ProcessHandle, ReadError, Roots};
use crate::seccomp::report::{read_report, FilterReport};

/// The namespace types compared with the service manager's (`/proc/PID/ns/*`).
pub(crate) const NAMESPACES: &[&str] = &["mnt", "net", "ipc", "uts", "pid", "user", "cgroup"];

/// Paths whose protection the checks look at whatever the policy (ProtectSystem=,
/// ProtectHome=, PrivateTmp=, ProtectKernelModules=, ...), in the unit's view.
const FIXED_UNIT_PATHS: &[&str] = &[
    "/",
    "/usr",
    "/boot",
    "/efi",
    "/etc",
    "/var",
    "/home",
    "/root",
    "/run/user",
    "/tmp",
    "/var/tmp",
    "/usr/lib/modules",
    "/lib/modules",
    "/proc/sys",
    "/sys",
];

/// What the main process's own files say beyond [`Inspection`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ProcessFacts {
    /// Effective UID (second field of `Uid:`).
    pub uid: Option<u32>,
    /// Effective GID (second field of `Gid:`).
    pub gid: Option<u32>,
    /// `Umask:` (Linux 4.7+).
    pub umask: Option<u32>,
    /// `Cpus_allowed_list:` (the CPU affinity).
    pub cpus_allowed: Option<String>,
    /// `/proc/PID/cmdline`, split at NUL.
    pub cmdline: Vec<String>,
    /// `/proc/PID/environ`: the environment the program started with.
    pub environ: Vec<String>,
    /// `readlink /proc/PID/cwd` (the path in the process's own namespace).
    pub cwd: Option<String>,
    /// `readlink /proc/PID/ns/KIND` for each of [`NAMESPACES`], e.g. `net:[4026532194]`.
    pub namespaces: BTreeMap<String, String>,
    /// The network devices of its network namespace (`/proc/PID/net/dev`).
    pub net_devices: Option<Vec<String>>,
    /// `/proc/PID/uid_map`: which user ids of its user namespace are which outside.
    pub uid_map: Option<IdMap>,
    /// `NSpid:` of `/proc/PID/status`: its PID in each PID namespace it is in, from the
    /// reader's down to its own (`4242 17 1`: PID 1 of a namespace two levels down).
    pub ns_pid: Option<Vec<u32>>,
}

/// One line of a `/proc/PID/uid_map` (user_namespaces(7)): `count` ids from `inside` in the
/// process's user namespace are the ids from `outside` in the namespace of the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct IdExtent {
    /// The first id inside.
    pub inside: u32,
    /// The first id outside.
    pub outside: u32,
    /// How many ids.
    pub count: u32,
}

/// A `/proc/PID/uid_map`: the ids a user namespace maps. The initial user namespace maps
/// every id to itself in one line, `0 0 4294967295`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub(crate) struct IdMap(pub Vec<IdExtent>);

impl IdMap {
    /// Parse the kernel's text: lines of three numbers. `None` when it is not that.
    pub(crate) fn parse(text: &str) -> Option<IdMap> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let n: Vec<u32> = l
                    .split_whitespace()
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .ok()?;
                match n[..] {
                    [inside, outside, count] => Some(IdExtent {
                        inside,
                        outside,
                        count,
                    }),
                    _ => None,
                }
            })
            .collect::<Option<Vec<_>>>()
            .map(IdMap)
    }

    /// Whether every id it maps keeps its number.
    pub(crate) fn is_identity(&self) -> bool {
        self.0.iter().all(|e| e.inside == e.outside)
    }

    /// How many ids it maps.
    pub(crate) fn mapped(&self) -> u64 {
        self.0.iter().map(|e| u64::from(e.count)).sum()
    }
}

impl std::fmt::Display for IdMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} {} {}", e.inside, e.outside, e.count)?;
        }
        Ok(())
    }
}

/// The service manager the unit runs under (its systemd), for comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct ManagerFacts {
    /// Its PID (in sandgen's PID namespace).
    pub pid: u32,
    /// `readlink /proc/PID/ns/KIND` for each of [`NAMESPACES`].
    pub namespaces: BTreeMap<String, String>,
    /// Its capability bounding set: no service can have more.
    pub bounding: Option<u64>,
}

/// Facts about the machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SystemFacts {
    /// `MemTotal` of `/proc/meminfo`, bytes (what `MemoryMax=10%` is a percentage of).
    pub memory_total: Option<u64>,
    /// The system's task limit, `min(kernel.pid_max, kernel.threads-max)` (what
    /// `TasksMax=10%` is a percentage of).
    pub tasks_limit: Option<u64>,
    /// `/proc/sys/kernel/cap_last_cap`: the highest capability this kernel has.
    pub cap_last_cap: u32,
    /// The page size: cgroup memory limits are kept in pages.
    pub page_size: u64,
}

impl Default for SystemFacts {
    fn default() -> Self {
        Self {
            memory_total: None,
            tasks_limit: None,
            cap_last_cap: crate::data::capabilities::LAST_CAP,
            page_size: 4096,
        }
    }
}

/// A user account of the service manager's `/etc/passwd`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Account {
    /// UID.
    pub uid: u32,
    /// Primary GID.
    pub gid: u32,
    /// Home directory.
    pub home: String,
}

/// The service manager's `/etc/passwd` and `/etc/group`, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Accounts {
    /// Users.
    pub users: BTreeMap<String, Account>,
    /// Groups and their GIDs.
    pub groups: BTreeMap<String, u32>,
}

impl Accounts {
    /// Parse the text of `passwd` and `group` files (`name:x:uid:gid:...`).
    pub(crate) fn parse(passwd: &str, group: &str) -> Self {
        let fields = |line: &str| line.split(':').map(str::to_owned).collect::<Vec<_>>();
        let mut accounts = Accounts::default();
        for f in passwd.lines().map(fields) {
            if let (Some(name), Some(Ok(uid)), Some(Ok(gid))) = (
                f.first(),
                f.get(2).map(|s| s.parse()),
                f.get(3).map(|s| s.parse()),
            ) {
                let home = f.get(5).cloned().unwrap_or_default();
                accounts
                    .users
                    .insert(name.clone(), Account { uid, gid, home });
            }
        }
        for f in group.lines().map(fields) {
            if let (Some(name), Some(Ok(gid))) = (f.first(), f.get(2).map(|s| s.parse())) {
                accounts.groups.insert(name.clone(), gid);
            }
        }
        accounts
    }

    /// The home directory `~` stands for in `WorkingDirectory=~`: the service user's
    /// (root's when there is no `User=`).
    pub(crate) fn home_of(&self, user: Option<&str>) -> Option<String> {
        self.users
            .get(user.unwrap_or("root"))
            .map(|a| a.home.clone())
    }
}

/// Identities of the paths [`probes`] chose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct PathFacts {
    /// In the unit's view (`/proc/PID/root/PATH`); `None` when it does not exist there.
    pub unit: BTreeMap<String, Option<FileId>>,
    /// In the service manager's view (`--root`); `None` when it does not exist there.
    pub manager: BTreeMap<String, Option<FileId>>,
    /// The main process's working directory (`/proc/PID/cwd`).
    pub cwd: Option<FileId>,
    /// The main process's root directory (`/proc/PID/root`).
    pub root: Option<FileId>,
}

impl PathFacts {
    /// Whether `path` exists in the unit's view (it must have been probed).
    pub(crate) fn unit_has(&self, path: &str) -> bool {
        matches!(self.unit.get(path), Some(Some(_)))
    }
}

/// Everything the checks judge by.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Facts {
    /// What `sandgen inspect` reports.
    pub inspection: Inspection,
    /// More of the main process.
    pub process: ProcessFacts,
    /// The service manager, for comparison.
    pub manager: ManagerFacts,
    /// The machine.
    pub system: SystemFacts,
    /// The service manager's accounts.
    pub accounts: Accounts,
    /// Paths the policy names.
    pub paths: PathFacts,
    /// The main process's seccomp filters, evaluated.
    pub filters: FilterFacts,
    /// The target systemd's syscall groups, to expand `SystemCallFilter=` with.
    #[serde(skip)]
    pub syscall_groups: Option<SyscallTable>,
    /// What `sandgen learn` saw the unit do, when it has a profile.
    #[serde(skip)]
    pub learned: Option<Learned>,
    /// Whether the service manager enforces `MemoryDenyWriteExecute=` with
    /// `prctl(PR_SET_MDWE)` rather than a seccomp filter (systemd 254 and later on Linux 6.3
    /// and later): no other process can read that flag.
    #[serde(skip)]
    pub mdwe_by_prctl: bool,
    /// The block devices of the policy's I/O limits and the limits the unit's cgroup holds.
    #[serde(skip)]
    pub io: IoFacts,
    /// The BPF programs of systemd's IP firewall on the unit's cgroup.
    #[serde(skip)]
    pub firewall: FirewallFacts,
}

/// What the I/O limit checks (IOReadBandwidthMax= and kin) judge by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IoFacts {
    /// For each path of the policy's I/O limits, the block device systemd resolves it to
    /// ([`block_device`]), or why there is none.
    pub devices: BTreeMap<String, Result<DeviceNumber, NoDisk>>,
    /// The limits in the unit's cgroup, by device, and the file(s) they come from; or why
    /// they could not be read. `None` when the policy has no I/O limit.
    pub limits: Option<Result<UnitIoLimits, String>>,
}

/// The I/O limits of the unit's cgroup, by device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UnitIoLimits {
    /// The limits of each device that has one.
    pub devices: BTreeMap<DeviceNumber, DeviceLimits>,
    /// The file they come from (v1: `blkio.throttle.*` in the unit's blkio cgroup).
    pub file: PathBuf,
}

/// BPF programs attached to the unit's own cgroup v2 directory (`BPF_PROG_QUERY`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FirewallFacts {
    /// The directory queried (on a hybrid host, under `/sys/fs/cgroup/unified`).
    pub dir: Option<PathBuf>,
    /// Programs at `BPF_CGROUP_INET_INGRESS` and at `BPF_CGROUP_INET_EGRESS`, or why they
    /// could not be counted. `None` when the policy has no IP filter.
    pub attached: Option<Result<Attached, String>>,
}

/// The programs at the two attach points of systemd's IP firewall.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Attached {
    /// At `BPF_CGROUP_INET_INGRESS`.
    pub ingress: Vec<AttachedProgram>,
    /// At `BPF_CGROUP_INET_EGRESS`.
    pub egress: Vec<AttachedProgram>,
}

/// Why an I/O limit's path stands for no disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoDisk {
    /// systemd finds none either: the limit is not in force.
    None(String),
    /// sandgen cannot tell which disk systemd finds.
    Unknown(String),
}

/// The block device systemd limits for `path` (its `lookup_block_device()` in
/// src/core/cgroup.c): a block device node stands for itself, any other file for the
/// device its file system is on; a device-mapper device for the one device under it
/// (`block_get_originating()`), and a partition for its whole disk
/// (`block_get_whole_disk()`), as sysfs shows them (`/sys/dev/block/MAJ:MIN`).
///
/// `path` is looked up at `real` (under the service manager's root); messages name `path`.
pub(crate) fn block_device(path: &str, real: &Path, sys: &Path) -> Result<DeviceNumber, NoDisk> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let meta = std::fs::metadata(real)
        .map_err(|e| NoDisk::Unknown(format!("cannot stat {path} (at {}): {e}", real.display())))?;
    let dev = if meta.file_type().is_block_device() {
        meta.rdev()
    } else {
        meta.dev()
    };
    let split = |dev: u64| {
        (
            nix::sys::stat::major(dev) as u32,
            nix::sys::stat::minor(dev) as u32,
        )
    };
    let mut number = split(dev);
    if number.0 == 0 {
        let btrfs = nix::sys::statfs::statfs(real)
            .is_ok_and(|f| f.filesystem_type() == nix::sys::statfs::BTRFS_SUPER_MAGIC);
        return Err(if btrfs {
            NoDisk::Unknown(format!(
                "{path} is on btrfs, whose disk systemd asks the file system for (BTRFS_IOC_DEV_INFO); sandgen does not"
            ))
        } else {
            NoDisk::None(format!(
                "{path} is on a file system without a block device (device {}:{}, a tmpfs or an overlay): systemd finds no disk to limit, and the unit's I/O is not limited",
                number.0, number.1
            ))
        });
    }
    let sysfs = |n: DeviceNumber| sys.join(format!("dev/block/{}:{}", n.0, n.1));
    let read_number = |dir: &Path| {
        std::fs::read_to_string(dir.join("dev"))
            .ok()
            .and_then(|t| inspect::cgroup::device_number(t.trim()))
    };
    // Under a device-mapper or other stacked device: the one device it sits on.
    for _ in 0..8 {
        let slaves: Vec<PathBuf> = std::fs::read_dir(sysfs(number).join("slaves"))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        match slaves.as_slice() {
            [one] => match read_number(one) {
                Some(n) => number = n,
                None => break,
            },
            _ => break,
        }
    }
    // A partition: its whole disk, the parent directory in sysfs.
    let dir = sysfs(number);
    if dir.join("partition").is_file() {
        if let Some(n) = std::fs::canonicalize(&dir)
            .ok()
            .and_then(|d| d.parent().and_then(read_number))
        {
            number = n;
        }
    }
    Ok(number)
}

/// The I/O limits of the unit's cgroup: v2 `io.max`, v1 the `blkio.throttle.*` files.
fn read_io_limits(
    cgroup_root: &Path,
    membership: &[inspect::cgroup::Membership],
) -> Result<UnitIoLimits, String> {
    use inspect::cgroup::{parse_blkio_throttle, parse_io_max, BLKIO_THROTTLE_FILES};
    if inspect::cgroup::is_unified(cgroup_root) {
        let path = inspect::cgroup::unified_path(membership)
            .ok_or_else(|| "the main process has no cgroup v2 path".to_owned())?;
        let file = under(cgroup_root, path).join("io.max");
        let text = std::fs::read_to_string(&file).map_err(|e| {
            format!(
                "cannot read {}: {e} (the io controller is off for the unit)",
                file.display()
            )
        })?;
        let limits = parse_io_max(&text)
            .ok_or_else(|| format!("{} is not in the io.max format", file.display()))?;
        return Ok(UnitIoLimits {
            devices: limits,
            file,
        });
    }
    let dir = inspect::cgroup::v1_dir(cgroup_root, membership, "blkio")
        .ok_or_else(|| "the main process is in no blkio cgroup".to_owned())?;
    let mut texts: [String; 4] = Default::default();
    for (text, name) in texts.iter_mut().zip(BLKIO_THROTTLE_FILES) {
        let file = dir.join(name);
        *text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    }
    let limits =
        parse_blkio_throttle([&texts[0], &texts[1], &texts[2], &texts[3]]).ok_or_else(|| {
            format!(
                "{}/blkio.throttle.* are not in the MAJ:MIN N format",
                dir.display()
            )
        })?;
    Ok(UnitIoLimits {
        devices: limits,
        file: dir.join("blkio.throttle.*"),
    })
}

/// Count the programs of systemd's IP firewall on the unit's cgroup v2 directory (the
/// unified tree of a hybrid host, where systemd attaches them too).
fn read_firewall(cgroup_root: &Path, membership: &[inspect::cgroup::Membership]) -> FirewallFacts {
    use inspect::cgroup::{attached_programs, BPF_CGROUP_INET_EGRESS, BPF_CGROUP_INET_INGRESS};
    let Some(path) = inspect::cgroup::unified_path(membership) else {
        return FirewallFacts {
            dir: None,
            attached: Some(Err("the main process is in no cgroup v2 hierarchy (no `0::` line in /proc/PID/cgroup): systemd attaches its IP firewall only there".to_owned())),
        };
    };
    let tree = if inspect::cgroup::is_unified(cgroup_root) {
        cgroup_root.to_owned()
    } else {
        cgroup_root.join("unified")
    };
    let dir = under(&tree, path);
    let count = |t| {
        attached_programs(&dir, t).map_err(|e| format!("BPF_PROG_QUERY on {}: {e}", dir.display()))
    };
    let attached = count(BPF_CGROUP_INET_INGRESS).and_then(|ingress| {
        Ok(Attached {
            ingress,
            egress: count(BPF_CGROUP_INET_EGRESS)?,
        })
    });
    FirewallFacts {
        dir: Some(dir),
        attached: Some(attached),
    }
}

/// The native system calls a `sandgen learn` profile saw the unit make.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Learned {
    /// How many recordings the profile holds.
    pub recordings: usize,
    /// Every native call seen.
    pub seen: BTreeSet<String>,
}

/// The main process's seccomp filters as read with ptrace ([`crate::seccomp::read`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub(crate) enum FilterFacts {
    /// Not read: `--no-ptrace`, or the process has no filter.
    #[default]
    NotRead,
    /// Reading them failed; why.
    Unreadable {
        /// The error.
        error: String,
    },
    /// Read and evaluated.
    Read(FilterReport),
}

/// The paths to look at, in the unit's view and in the service manager's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Probes {
    /// Looked up under `/proc/PID/root`.
    pub unit: BTreeSet<String>,
    /// Looked up under the service manager's root.
    pub manager: BTreeSet<String>,
}

/// A `Paths` entry without its `-` (ignore if missing) prefix, and whether it had one.
pub(crate) fn strip_optional(path: &str) -> (&str, bool) {
    match path.strip_prefix('-') {
        Some(rest) => (rest, true),
        None => (path, false),
    }
}

/// A `BindPaths=` entry: `[-]SOURCE[:DEST[:OPTIONS]]`, DEST defaulting to SOURCE.
pub(crate) fn bind_entry(entry: &str) -> (&str, &str, bool) {
    let (entry, optional) = strip_optional(entry);
    let mut parts = entry.splitn(3, ':');
    let source = parts.next().unwrap_or(entry);
    let dest = parts.next().unwrap_or(source);
    (source, dest, optional)
}

fn words(d: &Directive) -> &[String] {
    match &d.value {
        DirectiveValue::Words { words, .. } => words,
        _ => &[],
    }
}

fn text(d: &Directive) -> Option<&str> {
    match &d.value {
        DirectiveValue::Text(t) | DirectiveValue::Word(t) => Some(t),
        _ => None,
    }
}

/// The service user named by the directives (`User=`), if any.
pub(crate) fn service_user(directives: &[Directive]) -> Option<&str> {
    directives
        .iter()
        .find(|d| d.name == Name::User)
        .and_then(text)
}

/// Which paths the checks of `directives` look at.
pub(crate) fn probes(directives: &[Directive], accounts: &Accounts) -> Probes {
    let mut p = Probes::default();
    p.unit
        .extend(FIXED_UNIT_PATHS.iter().map(|s| (*s).to_owned()));
    for d in directives {
        match d.name {
            Name::WorkingDirectory => match text(d) {
                Some("~") => {
                    if let Some(home) = accounts.home_of(service_user(directives)) {
                        p.unit.insert(home);
                    }
                }
                Some(dir) => {
                    p.unit.insert(strip_optional(dir).0.to_owned());
                }
                None => {}
            },
            Name::RootDirectory => {
                if let Some(dir) = text(d) {
                    p.manager.insert(dir.to_owned());
                }
            }
            Name::ReadWritePaths | Name::ReadOnlyPaths | Name::InaccessiblePaths => {
                for w in words(d) {
                    p.unit.insert(strip_optional(w).0.to_owned());
                }
            }
            Name::BindPaths | Name::BindReadOnlyPaths => {
                for w in words(d) {
                    let (source, dest, _) = bind_entry(w);
                    p.manager.insert(source.to_owned());
                    p.unit.insert(dest.to_owned());
                }
            }
            _ => {}
        }
    }
    p
}

/// `base` joined with an absolute `path` (`/proc/42/root` + `/tmp`).
fn under(base: &Path, path: &str) -> PathBuf {
    base.join(path.trim_start_matches('/'))
}

fn read_namespaces(proc_root: &Path, pid: u32) -> BTreeMap<String, String> {
    NAMESPACES
        .iter()
        .filter_map(|kind| {
            let link = std::fs::read_link(proc_root.join(format!("{pid}/ns/{kind}"))).ok()?;
            Some(((*kind).to_owned(), link.to_string_lossy().into_owned()))
        })
        .collect()
}

fn nul_separated(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// Second field of a `Uid:`/`Gid:` line (real, effective, saved, fs).
fn effective(status: &str, field: &str) -> Option<u32> {
    status_field(status, field)?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The numbers of an `NSpid:` line (`4242 17 1`); `None` when it is not a list of PIDs.
pub(crate) fn parse_ns_pid(value: &str) -> Option<Vec<u32>> {
    let pids: Vec<u32> = value
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    (!pids.is_empty()).then_some(pids)
}

/// The device names of a `/proc/net/dev` file (after its two header lines).
pub(crate) fn parse_net_dev(text: &str) -> Vec<String> {
    text.lines()
        .skip(2)
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim().to_owned()))
        .collect()
}

/// Read the main process's own files. Those every process has (`status`, `cmdline`,
/// `environ`) are errors when unreadable, never empty values that look real; the others are
/// `None` ("unknown") when absent.
fn read_process(proc_root: &Path, pid: u32) -> Result<ProcessFacts, ReadError> {
    let dir = proc_root.join(pid.to_string());
    let status = inspect::read_text(&dir.join("status"), Some(pid))?;
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| inspect::io_error(&path, Some(pid), e))
    };
    let field = |name: &str| status_field(&status, name).map(|(_, v)| v.to_owned());
    Ok(ProcessFacts {
        uid: effective(&status, "Uid"),
        gid: effective(&status, "Gid"),
        umask: field("Umask").and_then(|u| u32::from_str_radix(&u, 8).ok()),
        cpus_allowed: field("Cpus_allowed_list"),
        cmdline: nul_separated(&read("cmdline")?),
        environ: nul_separated(&read("environ")?),
        cwd: std::fs::read_link(dir.join("cwd"))
            .ok()
            .map(|p| p.to_string_lossy().into_owned()),
        namespaces: read_namespaces(proc_root, pid),
        net_devices: std::fs::read_to_string(dir.join("net/dev"))
            .ok()
            .map(|t| parse_net_dev(&t)),
        uid_map: std::fs::read_to_string(dir.join("uid_map"))
            .ok()
            .and_then(|t| IdMap::parse(&t)),
        ns_pid: field("NSpid").and_then(|v| parse_ns_pid(&v)),
    })
}

fn read_number(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn read_system(proc_root: &Path) -> SystemFacts {
    let memory_total = std::fs::read_to_string(proc_root.join("meminfo"))
        .ok()
        .and_then(|t| {
            let (_, v) = status_field(&t, "MemTotal")?;
            let kib: u64 = v.trim().strip_suffix("kB")?.trim().parse().ok()?;
            Some(kib * 1024)
        });
    let pid_max = read_number(&proc_root.join("sys/kernel/pid_max"));
    let threads_max = read_number(&proc_root.join("sys/kernel/threads-max"));
    let tasks_limit = match (pid_max, threads_max) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let defaults = SystemFacts::default();
    SystemFacts {
        memory_total,
        tasks_limit,
        cap_last_cap: read_number(&proc_root.join("sys/kernel/cap_last_cap"))
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(defaults.cap_last_cap),
        page_size: nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(defaults.page_size),
    }
}

/// Gather the facts about the unit whose main process is `main`, reading the kernel through
/// `roots` and the service manager's files under `manager_root` (`/`, or `--root`).
///
/// Like [`inspect::inspect`], it confirms after the last read that `main` is still the same
/// process, and reports [`InspectError::Restarted`] otherwise.
pub(crate) fn gather(
    unit: &str,
    main: &ProcessHandle,
    roots: &Roots,
    manager_root: &Path,
    directives: &[Directive],
    read_filters: bool,
) -> Result<Facts, InspectError> {
    let inspection = inspect::inspect(unit, main, roots)?;
    // The filters are read (the process stopped for a moment) only when a check needs them.
    let wanted = directives.iter().any(|d| {
        matches!(
            d.name,
            Name::SystemCallFilter
                | Name::SystemCallErrorNumber
                | Name::SystemCallArchitectures
                | Name::RestrictAddressFamilies
                | Name::RestrictNamespaces
                | Name::LockPersonality
                | Name::MemoryDenyWriteExecute
                | Name::RestrictSUIDSGID
                | Name::RestrictRealtime
        )
    });
    let filters =
        if read_filters && wanted && inspection.seccomp.mode == inspect::SeccompMode::Filter {
            match read_report(&roots.proc, main) {
                Ok(report) => FilterFacts::Read(report),
                Err(error) => FilterFacts::Unreadable {
                    error: error.to_string(),
                },
            }
        } else {
            FilterFacts::NotRead
        };
    let pid = main.pid();
    let read_error = |error: ReadError| match error {
        ReadError::Gone { pid } => InspectError::Restarted {
            unit: unit.to_owned(),
            pid,
        },
        error => InspectError::Read {
            unit: unit.to_owned(),
            error,
        },
    };
    let manager_pid = roots.host_pid.unwrap_or(1);
    let manager_status = inspect::read_text(
        &roots.proc.join(format!("{manager_pid}/status")),
        Some(manager_pid),
    )
    .map_err(read_error)?;
    let manager = ManagerFacts {
        pid: manager_pid,
        namespaces: read_namespaces(&roots.proc, manager_pid),
        bounding: status_field(&manager_status, "CapBnd")
            .and_then(|(_, v)| u64::from_str_radix(v, 16).ok()),
    };
    let read_etc = |name: &str| inspect::read_text(&under(manager_root, name), None);
    let accounts = Accounts::parse(
        &read_etc("/etc/passwd").map_err(read_error)?,
        &read_etc("/etc/group").map_err(read_error)?,
    );
    let wanted = probes(directives, &accounts);
    let unit_root = roots.proc.join(format!("{pid}/root"));
    let paths = PathFacts {
        unit: wanted
            .unit
            .iter()
            .map(|p| (p.clone(), file_id(&under(&unit_root, p))))
            .collect(),
        manager: wanted
            .manager
            .iter()
            .map(|p| (p.clone(), file_id(&under(manager_root, p))))
            .collect(),
        cwd: file_id(&roots.proc.join(format!("{pid}/cwd"))),
        root: file_id(&unit_root),
    };
    let mut facts = Facts {
        inspection,
        process: read_process(&roots.proc, pid).map_err(read_error)?,
        manager,
        system: read_system(&roots.proc),
        accounts,
        paths,
        filters,
        syscall_groups: None,
        learned: None,
        mdwe_by_prctl: false,
        io: IoFacts::default(),
        firewall: FirewallFacts::default(),
    };
    let io_paths: BTreeSet<&str> = directives
        .iter()
        .filter_map(|d| match &d.value {
            DirectiveValue::DeviceLimit { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    let filters_ip = directives
        .iter()
        .any(|d| matches!(d.name, Name::IPAddressAllow | Name::IPAddressDeny));
    if !io_paths.is_empty() || filters_ip {
        let membership = inspect::cgroup::read_proc_cgroup(&roots.proc, pid).map_err(read_error)?;
        if !io_paths.is_empty() {
            facts.io = IoFacts {
                devices: io_paths
                    .iter()
                    .map(|p| {
                        (
                            (*p).to_owned(),
                            block_device(p, &under(manager_root, p), Path::new("/sys")),
                        )
                    })
                    .collect(),
                limits: Some(read_io_limits(&roots.cgroup, &membership)),
            };
        }
        if filters_ip {
            facts.firewall = read_firewall(&roots.cgroup, &membership);
        }
    }
    // The reads above treat a missing file as "unknown": make sure none of them was missing
    // because the process went away.
    match main.still_same() {
        Ok(true) => Ok(facts),
        Ok(false) => Err(InspectError::Restarted {
            unit: unit.to_owned(),
            pid,
        }),
        Err(error) => Err(InspectError::Read {
            unit: unit.to_owned(),
            error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A partition stands for its whole disk, and a device-mapper device for the one device
    /// under it, as sysfs links them (a fixture sysfs around the real device of `/`).
    #[test]
    fn block_devices_resolve_to_the_whole_disk_like_systemd() {
        use std::os::unix::fs::MetadataExt;
        let dev = std::fs::metadata("/").unwrap().dev();
        let own = (
            nix::sys::stat::major(dev) as u32,
            nix::sys::stat::minor(dev) as u32,
        );
        let sys = tempfile::tempdir().unwrap();
        let block = sys.path().join("dev/block");
        std::fs::create_dir_all(&block).unwrap();
        // Without sysfs entries: the file system's device itself.
        assert_eq!(block_device("/", Path::new("/"), sys.path()), Ok(own));
        // `/`'s device is a device-mapper device on partition 8:1 of disk 8:0.
        let devices = sys.path().join("devices");
        let dm = devices.join("dm");
        let part = devices.join("sda/sda1");
        std::fs::create_dir_all(dm.join("slaves")).unwrap();
        std::fs::create_dir_all(&part).unwrap();
        std::fs::write(devices.join("sda/dev"), "8:0\n").unwrap();
        std::fs::write(part.join("dev"), "8:1\n").unwrap();
        std::fs::write(part.join("partition"), "1\n").unwrap();
        std::os::unix::fs::symlink(&part, dm.join("slaves/sda1")).unwrap();
        std::os::unix::fs::symlink(&dm, block.join(format!("{}:{}", own.0, own.1))).unwrap();
        std::os::unix::fs::symlink(&part, block.join("8:1")).unwrap();
        assert_eq!(block_device("/", Path::new("/"), sys.path()), Ok((8, 0)));
        assert!(matches!(
            block_device("/x", Path::new("/nonexistent/x"), sys.path()),
            Err(NoDisk::Unknown(why)) if why.starts_with("cannot stat /x (at /nonexistent/x): ")
        ));
        // /proc is on no block device, and not btrfs.
        assert_eq!(
            block_device("/proc", Path::new("/proc"), sys.path()),
            Err(NoDisk::None(format!(
                "/proc is on a file system without a block device (device 0:{}, a tmpfs or an overlay): systemd finds no disk to limit, and the unit's I/O is not limited",
                nix::sys::stat::minor(std::fs::metadata("/proc").unwrap().dev())
            )))
        );
    }

    #[test]
    fn parses_passwd_group_and_net_dev() {
        let a = Accounts::parse(
            "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nbroken\n",
            "root:x:0:\nnogroup:x:65534:\n",
        );
        assert_eq!(a.users["nobody"].uid, 65534);
        assert_eq!(a.home_of(None).as_deref(), Some("/root"));
        assert_eq!(a.groups["nogroup"], 65534);
        assert_eq!(a.users.len(), 2);
        let dev = "Inter-|   Receive\n face |bytes\n    lo: 0 0\n  eth0: 1 2\n";
        assert_eq!(parse_net_dev(dev), ["lo", "eth0"]);
    }

    #[test]
    fn parses_uid_maps_and_ns_pids() {
        // PrivateUsers=yes for a unit with User=1000, as the kernel writes it (padded).
        let map =
            IdMap::parse("         0          0          1\n      1000       1000          1\n")
                .expect("a uid_map");
        assert_eq!(map.to_string(), "0 0 1, 1000 1000 1");
        assert!(map.is_identity());
        assert_eq!(map.mapped(), 2);
        // PrivateUsers=full (systemd 258): every id, in two lines so that it differs from
        // the initial namespace's `0 0 4294967295`.
        let full = IdMap::parse("0 0 1\n1 1 4294967294\n").expect("a uid_map");
        assert_eq!(full.mapped(), u64::from(u32::MAX));
        assert!(!IdMap::parse("0 1000 1\n").expect("a uid_map").is_identity());
        assert_eq!(IdMap::parse("0 0\n"), None);
        assert_eq!(IdMap::parse("0 0 x\n"), None);
        assert_eq!(parse_ns_pid("4242\t17\t1"), Some(vec![4242, 17, 1]));
        assert_eq!(parse_ns_pid(""), None);
        assert_eq!(parse_ns_pid("12 x"), None);
    }

    #[test]
    fn bind_entries_default_their_destination() {
        assert_eq!(bind_entry("/srv"), ("/srv", "/srv", false));
        assert_eq!(
            bind_entry("-/usr/share:/mnt:rbind"),
            ("/usr/share", "/mnt", true)
        );
    }

    #[test]
    fn reads_this_test_process() {
        let me = std::process::id();
        let p = read_process(Path::new("/proc"), me).expect("our own /proc files");
        assert_eq!(p.uid, Some(nix::unistd::geteuid().as_raw()));
        assert!(p.umask.is_some());
        assert!(!p.cmdline.is_empty());
        assert!(p.namespaces.contains_key("mnt"));
        assert_eq!(p.ns_pid.as_ref().and_then(|n| n.last()), Some(&me));
        let s = read_system(Path::new("/proc"));
        assert!(s.memory_total.is_some_and(|m| m > 0));
        assert!(s.tasks_limit.is_some());
    }

    #[test]
    fn an_unreadable_process_file_is_an_error_not_an_empty_value() {
        // The fixture process has a status file but no cmdline: its command line is not
        // known, which must not read as an empty one (a check would compare against it).
        let proc = crate::inspect::fixture("cgroup-v2/proc");
        let err = read_process(&proc, 812).expect_err("no cmdline");
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read {}: No such file or directory (os error 2)",
                proc.join("812/cmdline").display()
            )
        );
        // A process that is gone altogether is reported as such.
        assert!(matches!(
            read_process(&proc, 4999),
            Err(ReadError::Gone { pid: 4999 })
        ));
    }
}
