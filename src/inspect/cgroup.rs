//! Control groups: where a unit's processes are accounted and limited.
//!
//! systemd gives every unit its own cgroup (`/system.slice/heat.service`) and writes the
//! unit's resource directives (systemd.resource-control(5)) into the controller files there.
//! `/proc/PID/cgroup` (cgroups(7)) names a process's cgroup, one line per hierarchy:
//! `hierarchy-ID:controller-list:path`.
//!
//! Two layouts exist, and sandgen reads both:
//! - **cgroup v2** (unified; most current distributions): one tree mounted at
//!   `/sys/fs/cgroup`, one line `0::/system.slice/heat.service`. Files: `memory.max`,
//!   `memory.current`, `memory.events` (`max`, `oom_kill`), `cpu.weight`, `cpu.max`
//!   (`QUOTA PERIOD` or `max PERIOD`), `cpuset.cpus.effective`, `pids.max`, `pids.current`
//!   (Documentation/admin-guide/cgroup-v2.rst).
//! - **cgroup v1 / hybrid** (Debian 12 booted with legacy or hybrid cgroups): one tree per
//!   controller under `/sys/fs/cgroup/<controller>` (combined ones like `cpu,cpuacct` with
//!   symlinks `cpu` and `cpuacct`), systemd's own tree at `/sys/fs/cgroup/systemd`
//!   (`name=systemd`), and in hybrid mode an empty v2 tree at `/sys/fs/cgroup/unified`.
//!   Files: `memory.limit_in_bytes`, `memory.usage_in_bytes`, `memory.failcnt`,
//!   `memory.oom_control` (`oom_kill`, Linux 4.13+), `cpu.shares`, `cpu.cfs_quota_us` /
//!   `cpu.cfs_period_us`, `cpuset.cpus`, `pids.max`, `pids.current`
//!   (Documentation/admin-guide/cgroup-v1/). A process may sit in a different cgroup in each
//!   hierarchy: systemd 252 does not manage cpuset on v1, so `AllowedCPUs=` is not applied
//!   there and the unit's cpuset is its parent's.
//!
//! A limit file the cgroup lacks (the controller is not enabled for it) reads as "no limit"
//! (`null`); limits inherited from the slice are not added in. On v1, though, a controller
//! not enabled for the unit leaves its processes in an ancestor's cgroup of that hierarchy
//! (the harness's, the slice's, the root), and the files read are that cgroup's: their paths
//! in [`CgroupState::files`] show which cgroup a value belongs to.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{io_error, read_text, ReadError};

/// On cgroup v1 "unlimited" is `PAGE_COUNTER_MAX` pages in bytes: `LONG_MAX` rounded down to
/// the page size (9223372036854771712 with 4 KiB pages). Anything this close to `LONG_MAX`
/// (within 1 MiB, so any page size) is no limit.
const V1_UNLIMITED_FROM: u64 = i64::MAX as u64 - (1 << 20);

/// The cgroup layout a reading came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// v1 controllers (legacy or hybrid).
    V1,
    /// v2 (unified).
    V2,
}

impl Serialize for CgroupVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(match self {
            Self::V1 => 1,
            Self::V2 => 2,
        })
    }
}

/// One line of `/proc/PID/cgroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    /// Hierarchy ID (0 for v2).
    pub hierarchy: u32,
    /// Controllers bound to the hierarchy (`["cpu", "cpuacct"]`; `["name=systemd"]`; empty
    /// for v2).
    pub controllers: Vec<String>,
    /// The cgroup's path in that hierarchy.
    pub path: String,
}

/// Parse the text of `/proc/PID/cgroup`; `path` is only for error messages.
pub fn parse_proc_cgroup(text: &str, path: &Path) -> Result<Vec<Membership>, ReadError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(i, line)| {
            let mut parts = line.splitn(3, ':');
            let parsed = (|| {
                let hierarchy = parts.next()?.parse().ok()?;
                let controllers = parts.next()?;
                let cgroup = parts.next()?;
                Some(Membership {
                    hierarchy,
                    controllers: controllers
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    path: cgroup.to_owned(),
                })
            })();
            parsed.ok_or_else(|| ReadError::Malformed {
                path: path.to_owned(),
                line: i + 1,
                detail: format!("not `ID:controllers:path`: {line:?}"),
            })
        })
        .collect()
}

/// Read `<proc_root>/<pid>/cgroup`.
pub fn read_proc_cgroup(proc_root: &Path, pid: u32) -> Result<Vec<Membership>, ReadError> {
    let path = proc_root.join(pid.to_string()).join("cgroup");
    parse_proc_cgroup(&read_text(&path, Some(pid))?, &path)
}

/// A unit's cgroup, its limits and usage. `None` means "no limit" for limits and "not
/// available" for usage. The field names are stable JSON keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CgroupState {
    /// The unit's cgroup (`/system.slice/heat.service`): the v2 path, or on v1 the path in
    /// systemd's own `name=systemd` hierarchy.
    pub path: String,
    /// Which layout the limits were read from: 1 or 2.
    pub version: CgroupVersion,
    /// Memory limit in bytes (`memory.max`; v1 `memory.limit_in_bytes`); `MemoryMax=`.
    pub memory_max: Option<u64>,
    /// Memory in use, bytes (`memory.current`; v1 `memory.usage_in_bytes`).
    pub memory_current: Option<u64>,
    /// How often usage hit the limit (v2 `memory.events` `max`; v1 `memory.failcnt`).
    pub memory_limit_hits: Option<u64>,
    /// OOM kills in the cgroup (`oom_kill` of v2 `memory.events` / v1 `memory.oom_control`).
    pub oom_kills: Option<u64>,
    /// v2 `cpu.weight` (`CPUWeight=`, 1..10000, default 100); `None` on v1.
    pub cpu_weight: Option<u64>,
    /// v1 `cpu.shares` (systemd writes `CPUWeight= * 1024 / 100`); `None` on v2.
    pub cpu_shares: Option<u64>,
    /// CPU quota in percent of one CPU (`CPUQuota=`): quota / period * 100.
    pub cpu_quota: Option<f64>,
    /// The CPUs the unit may run on (v2 `cpuset.cpus.effective`, v1 `cpuset.cpus`), e.g.
    /// `0-1`.
    pub cpuset: Option<String>,
    /// `pids.max` (`TasksMax=`).
    pub tasks_max: Option<u64>,
    /// `pids.current`.
    pub tasks_current: Option<u64>,
    /// v2 `memory.high` (`MemoryHigh=`); `None` on v1, which has no such limit.
    pub memory_high: Option<u64>,
    /// v2 `memory.low` (`MemoryLow=`); `None` on v1 (0 is "no protection").
    pub memory_low: Option<u64>,
    /// v2 `memory.swap.max` (`MemorySwapMax=`); `None` on v1, which has no swap-only limit.
    pub memory_swap_max: Option<u64>,
    /// v2 `memory.zswap.max` (`MemoryZSwapMax=`, Linux 5.19+); `None` for no limit, on v1,
    /// and where the kernel has no zswap accounting (then `files` has no entry).
    pub memory_zswap_max: Option<u64>,
    /// v2 `memory.zswap.writeback` (`MemoryZSwapWriteback=`, Linux 6.8+); `None` on v1 and
    /// older kernels.
    pub memory_zswap_writeback: Option<bool>,
    /// v2 default I/O weight (`io.weight`, else `io.bfq.weight`: `IOWeight=`, 1..10000);
    /// `None` on v1.
    pub io_weight: Option<u64>,
    /// v1 block I/O weight: BFQ's `blkio.bfq.weight` (1..1000, default 100), else CFQ's
    /// `blkio.weight` (10..1000, default 500); `None` on v2, and on v1 when the disks' I/O
    /// scheduler has no weights.
    pub blkio_weight: Option<u64>,
    /// Whether the kernel has the cgroup frozen (`sandgen freeze`): v2 `frozen` of
    /// `cgroup.events`, v1 `freezer.state` FROZEN; `None` when neither can be read.
    pub frozen: Option<bool>,
    /// For each key above that was read, the file it came from (evidence for `verify`).
    pub files: BTreeMap<&'static str, PathBuf>,
}

/// Whether `cgroup_root` is a v2 (unified) mount: only v2 has `cgroup.controllers` at its
/// root.
pub fn is_unified(cgroup_root: &Path) -> bool {
    cgroup_root.join("cgroup.controllers").is_file()
}

/// How a machine mounts its cgroups (systemd's "unified", "hybrid" and "legacy" modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupLayout {
    /// Pure cgroup v2 at `/sys/fs/cgroup`.
    Unified,
    /// v1 controllers, and a cgroup v2 tree without controllers at `unified/`.
    Hybrid,
    /// v1 only: no cgroup v2 tree at all.
    Legacy,
}

/// The layout of the cgroup file system mounted at `cgroup_root`.
pub fn layout(cgroup_root: &Path) -> CgroupLayout {
    if is_unified(cgroup_root) {
        CgroupLayout::Unified
    } else if is_unified(&cgroup_root.join("unified")) {
        CgroupLayout::Hybrid
    } else {
        CgroupLayout::Legacy
    }
}

/// Find the cgroup of process `pid` and read its limits and usage, from `cgroup_root` (the
/// cgroup file system's mount point, normally `/sys/fs/cgroup`).
pub fn read_cgroup(
    proc_root: &Path,
    cgroup_root: &Path,
    pid: u32,
) -> Result<CgroupState, ReadError> {
    let membership = read_proc_cgroup(proc_root, pid)?;
    read_cgroup_of(cgroup_root, &membership, pid)
}

/// [`read_cgroup`] for an already read `/proc/PID/cgroup`; `pid` is for messages.
pub fn read_cgroup_of(
    cgroup_root: &Path,
    membership: &[Membership],
    pid: u32,
) -> Result<CgroupState, ReadError> {
    let reader = Reader {
        files: BTreeMap::new(),
    };
    if is_unified(cgroup_root) {
        let path = unified_path(membership).ok_or_else(|| ReadError::NoCgroup {
            pid,
            detail: format!(
                "{} is a cgroup v2 mount but /proc/{pid}/cgroup has no `0::` line",
                cgroup_root.display()
            ),
        })?;
        let dir = existing_dir(cgroup_root, path, pid)?;
        return reader.v2(&dir, path);
    }
    let path = v1_unit_path(membership).ok_or_else(|| ReadError::NoCgroup {
        pid,
        detail: format!("/proc/{pid}/cgroup lists no cgroup hierarchy"),
    })?;
    let dir = |controller: &str| v1_dir(cgroup_root, membership, controller);
    if let Some(systemd) = dir("name=systemd") {
        if !systemd.is_dir() {
            return Err(gone_cgroup(&systemd, pid));
        }
    }
    reader.v1(path, dir)
}

/// The process's path in the v2 hierarchy.
pub(crate) fn unified_path(membership: &[Membership]) -> Option<&str> {
    membership
        .iter()
        .find(|m| m.hierarchy == 0 && m.controllers.is_empty())
        .map(|m| m.path.as_str())
}

/// The unit's cgroup path on v1: systemd's `name=systemd` hierarchy, else the hybrid `0::`
/// line, else the memory controller's.
fn v1_unit_path(membership: &[Membership]) -> Option<&str> {
    let with = |c: &str| {
        membership
            .iter()
            .find(|m| m.controllers.iter().any(|x| x == c))
    };
    with("name=systemd")
        .or_else(|| membership.iter().find(|m| m.hierarchy == 0))
        .or_else(|| with("memory"))
        .or_else(|| membership.first())
        .map(|m| m.path.as_str())
}

/// The directory of the process's cgroup in the v1 hierarchy that has `controller`:
/// `<root>/<controller>/<path>`, or `<root>/<a,b>/<path>` for a combined mount without
/// symlinks; `name=systemd` lives at `<root>/systemd`.
pub(crate) fn v1_dir(
    cgroup_root: &Path,
    membership: &[Membership],
    controller: &str,
) -> Option<PathBuf> {
    let m = membership
        .iter()
        .find(|m| m.hierarchy != 0 && m.controllers.iter().any(|c| c == controller))?;
    let rel = m.path.trim_start_matches('/');
    let single = controller.strip_prefix("name=").unwrap_or(controller);
    let candidates = [single.to_owned(), m.controllers.join(",")];
    let dir = candidates
        .iter()
        .map(|mount| cgroup_root.join(mount))
        .find(|mount| mount.is_dir())?;
    Some(dir.join(rel))
}

fn existing_dir(cgroup_root: &Path, path: &str, pid: u32) -> Result<PathBuf, ReadError> {
    let dir = cgroup_root.join(path.trim_start_matches('/'));
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(gone_cgroup(&dir, pid))
    }
}

fn gone_cgroup(dir: &Path, pid: u32) -> ReadError {
    ReadError::NoCgroup {
        pid,
        detail: format!("{} does not exist (the unit stopped?)", dir.display()),
    }
}

/// The directory of the unit's cgroup whose `cgroup.procs` lists all its processes: the v2
/// cgroup, or on v1 the one in systemd's `name=systemd` hierarchy (else `pids`, else
/// `memory`).
pub fn unit_directory(
    cgroup_root: &Path,
    membership: &[Membership],
    pid: u32,
) -> Result<PathBuf, ReadError> {
    if is_unified(cgroup_root) {
        let path = unified_path(membership).ok_or_else(|| ReadError::NoCgroup {
            pid,
            detail: format!("/proc/{pid}/cgroup has no `0::` line"),
        })?;
        return existing_dir(cgroup_root, path, pid);
    }
    let dir = ["name=systemd", "pids", "memory"]
        .iter()
        .find_map(|c| v1_dir(cgroup_root, membership, c))
        .ok_or_else(|| ReadError::NoCgroup {
            pid,
            detail: format!(
                "none of the name=systemd, pids or memory hierarchies of /proc/{pid}/cgroup is \
                 mounted under {}",
                cgroup_root.display()
            ),
        })?;
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(gone_cgroup(&dir, pid))
    }
}

/// Reads cgroup files, remembering which key came from which file.
struct Reader {
    files: BTreeMap<&'static str, PathBuf>,
}

impl Reader {
    /// The trimmed contents of `dir/name`, or `None` when the file (or the controller's
    /// hierarchy, `dir`) does not exist.
    fn text(
        &mut self,
        key: &'static str,
        dir: Option<&Path>,
        name: &str,
    ) -> Result<Option<String>, ReadError> {
        let Some(dir) = dir else {
            return Ok(None);
        };
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                self.files.insert(key, path);
                Ok(Some(text.trim().to_owned()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, None, e)),
        }
    }

    /// A number, or `None` for a missing file or the word `max`.
    fn number(
        &mut self,
        key: &'static str,
        dir: Option<&Path>,
        name: &str,
    ) -> Result<Option<u64>, ReadError> {
        match self.text(key, dir, name)? {
            None => Ok(None),
            Some(t) if t == "max" => Ok(None),
            Some(t) => t.parse().map(Some).map_err(|_| malformed(dir, name, 1, &t)),
        }
    }

    /// The value of `field` in a flat-keyed file (`memory.events`, `memory.oom_control`).
    fn keyed(
        &mut self,
        key: &'static str,
        dir: Option<&Path>,
        name: &str,
        field: &str,
    ) -> Result<Option<u64>, ReadError> {
        let Some(text) = self.text(key, dir, name)? else {
            return Ok(None);
        };
        for (i, line) in text.lines().enumerate() {
            if let Some((k, v)) = line.split_once(' ') {
                if k == field {
                    return v
                        .trim()
                        .parse()
                        .map(Some)
                        .map_err(|_| malformed(dir, name, i + 1, line));
                }
            }
        }
        // The field is newer than this kernel (oom_kill: Linux 4.13).
        self.files.remove(key);
        Ok(None)
    }

    fn v2(mut self, dir: &Path, path: &str) -> Result<CgroupState, ReadError> {
        let dir = Some(dir);
        let cpu_quota = match self.text("cpu_quota", dir, "cpu.max")? {
            None => None,
            Some(text) => {
                let mut words = text.split_whitespace();
                match (words.next(), words.next()) {
                    (Some("max"), _) => None,
                    (Some(quota), Some(period)) => Some(
                        percent(quota, period)
                            .ok_or_else(|| malformed(dir, "cpu.max", 1, &text))?,
                    ),
                    _ => return Err(malformed(dir, "cpu.max", 1, &text)),
                }
            }
        };
        Ok(CgroupState {
            path: path.to_owned(),
            version: CgroupVersion::V2,
            memory_max: self.number("memory_max", dir, "memory.max")?,
            memory_current: self.number("memory_current", dir, "memory.current")?,
            memory_limit_hits: self.keyed("memory_limit_hits", dir, "memory.events", "max")?,
            oom_kills: self.keyed("oom_kills", dir, "memory.events", "oom_kill")?,
            cpu_weight: self.number("cpu_weight", dir, "cpu.weight")?,
            cpu_shares: None,
            cpu_quota,
            cpuset: self.text("cpuset", dir, "cpuset.cpus.effective")?,
            tasks_max: self.number("tasks_max", dir, "pids.max")?,
            tasks_current: self.number("tasks_current", dir, "pids.current")?,
            memory_high: self.number("memory_high", dir, "memory.high")?,
            memory_low: self.number("memory_low", dir, "memory.low")?,
            memory_swap_max: self.number("memory_swap_max", dir, "memory.swap.max")?,
            memory_zswap_max: self.number("memory_zswap_max", dir, "memory.zswap.max")?,
            memory_zswap_writeback: match self.text(
                "memory_zswap_writeback",
                dir,
                "memory.zswap.writeback",
            )? {
                None => None,
                Some(t) if t == "0" => Some(false),
                Some(t) if t == "1" => Some(true),
                Some(t) => return Err(malformed(dir, "memory.zswap.writeback", 1, &t)),
            },
            io_weight: match self.keyed("io_weight", dir, "io.weight", "default")? {
                Some(weight) => Some(weight),
                None => self.keyed("io_weight", dir, "io.bfq.weight", "default")?,
            },
            blkio_weight: None,
            frozen: self
                .keyed("frozen", dir, "cgroup.events", "frozen")?
                .map(|f| f == 1),
            files: self.files,
        })
    }

    fn v1(
        mut self,
        path: &str,
        dir: impl Fn(&str) -> Option<PathBuf>,
    ) -> Result<CgroupState, ReadError> {
        // A controller without a hierarchy reads as all files missing.
        let (memory, cpu) = (dir("memory"), dir("cpu"));
        let (pids, cpuset, blkio) = (dir("pids"), dir("cpuset"), dir("blkio"));
        let freezer = dir("freezer");
        let (memory, cpu) = (memory.as_deref(), cpu.as_deref());
        let (pids, cpuset, blkio) = (pids.as_deref(), cpuset.as_deref(), blkio.as_deref());
        let memory_max = self
            .number("memory_max", memory, "memory.limit_in_bytes")?
            .filter(|&bytes| bytes < V1_UNLIMITED_FROM);
        let quota = self.text("cpu_quota", cpu, "cpu.cfs_quota_us")?;
        let cpu_quota = match quota {
            None => None,
            // -1: no quota.
            Some(q) if q.starts_with('-') => None,
            Some(q) => match self.text("cpu_quota_period", cpu, "cpu.cfs_period_us")? {
                None => None,
                Some(period) => Some(
                    percent(&q, &period)
                        .ok_or_else(|| malformed(cpu, "cpu.cfs_quota_us", 1, &q))?,
                ),
            },
        };
        self.files.remove("cpu_quota_period");
        Ok(CgroupState {
            path: path.to_owned(),
            version: CgroupVersion::V1,
            memory_max,
            memory_current: self.number("memory_current", memory, "memory.usage_in_bytes")?,
            memory_limit_hits: self.number("memory_limit_hits", memory, "memory.failcnt")?,
            oom_kills: self.keyed("oom_kills", memory, "memory.oom_control", "oom_kill")?,
            cpu_weight: None,
            cpu_shares: self.number("cpu_shares", cpu, "cpu.shares")?,
            cpu_quota,
            cpuset: self.text("cpuset", cpuset, "cpuset.cpus")?,
            tasks_max: self.number("tasks_max", pids, "pids.max")?,
            tasks_current: self.number("tasks_current", pids, "pids.current")?,
            memory_high: None,
            memory_low: None,
            memory_swap_max: None,
            memory_zswap_max: None,
            memory_zswap_writeback: None,
            io_weight: None,
            // BFQ has blkio.bfq.weight; CFQ (gone since Linux 5.0) had blkio.weight.
            blkio_weight: match self.number("blkio_weight", blkio, "blkio.bfq.weight")? {
                Some(weight) => Some(weight),
                None => self.number("blkio_weight", blkio, "blkio.weight")?,
            },
            // THAWED, FREEZING or FROZEN: only FROZEN is frozen.
            frozen: self
                .text("frozen", freezer.as_deref(), "freezer.state")?
                .map(|state| state == "FROZEN"),
            files: self.files,
        })
    }
}

/// The I/O limits of one block device in a cgroup (systemd's IOReadBandwidthMax= and kin):
/// bytes and operations per second; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeviceLimits {
    /// Read bytes per second (v2 `rbps`, v1 `blkio.throttle.read_bps_device`).
    pub rbps: Option<u64>,
    /// Write bytes per second (`wbps`, `blkio.throttle.write_bps_device`).
    pub wbps: Option<u64>,
    /// Read operations per second (`riops`, `blkio.throttle.read_iops_device`).
    pub riops: Option<u64>,
    /// Write operations per second (`wiops`, `blkio.throttle.write_iops_device`).
    pub wiops: Option<u64>,
}

impl DeviceLimits {
    /// The limit of an `io.max` key (`rbps`, `wbps`, `riops`, `wiops`).
    pub fn get(&self, key: &str) -> Option<u64> {
        match key {
            "rbps" => self.rbps,
            "wbps" => self.wbps,
            "riops" => self.riops,
            "wiops" => self.wiops,
            _ => None,
        }
    }
}

/// A block device number, `MAJ:MIN` as the cgroup files write it.
pub type DeviceNumber = (u32, u32);

/// `MAJ:MIN` (a cgroup file's device, sysfs's `dev` file) as a [`DeviceNumber`].
pub(crate) fn device_number(text: &str) -> Option<DeviceNumber> {
    let (major, minor) = text.split_once(':')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Parse a v2 `io.max`: a line a device, `MAJ:MIN rbps=N wbps=max riops=max wiops=max`
/// (Documentation/admin-guide/cgroup-v2.rst). `None` when a line is not that.
pub fn parse_io_max(text: &str) -> Option<BTreeMap<DeviceNumber, DeviceLimits>> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_whitespace();
        let device = device_number(words.next()?)?;
        let mut limits = DeviceLimits::default();
        for word in words {
            let (key, value) = word.split_once('=')?;
            let value = match value {
                "max" => None,
                n => Some(n.parse().ok()?),
            };
            match key {
                "rbps" => limits.rbps = value,
                "wbps" => limits.wbps = value,
                "riops" => limits.riops = value,
                "wiops" => limits.wiops = value,
                _ => {}
            }
        }
        out.insert(device, limits);
    }
    Some(out)
}

/// The v1 `blkio.throttle.*_device` files, in the order of [`DeviceLimits`]'s fields.
pub const BLKIO_THROTTLE_FILES: [&str; 4] = [
    "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device",
];

/// Parse the four v1 `blkio.throttle.*_device` files (texts in the order of
/// [`BLKIO_THROTTLE_FILES`]), each a line `MAJ:MIN N` a limited device.
pub fn parse_blkio_throttle(texts: [&str; 4]) -> Option<BTreeMap<DeviceNumber, DeviceLimits>> {
    let mut out: BTreeMap<DeviceNumber, DeviceLimits> = BTreeMap::new();
    for (i, text) in texts.iter().enumerate() {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (device, value) = line.split_once(' ')?;
            let value = Some(value.trim().parse().ok()?);
            let limits = out.entry(device_number(device)?).or_default();
            match i {
                0 => limits.rbps = value,
                1 => limits.wbps = value,
                2 => limits.riops = value,
                _ => limits.wiops = value,
            }
        }
    }
    Some(out)
}

/// `BPF_PROG_QUERY` (linux/bpf.h) for the cgroup attach types systemd's IP firewall
/// (IPAddressAllow=/IPAddressDeny=) uses.
const BPF_PROG_QUERY: nix::libc::c_long = 16;
/// `BPF_CGROUP_INET_INGRESS`.
pub const BPF_CGROUP_INET_INGRESS: u32 = 0;
/// `BPF_CGROUP_INET_EGRESS`.
pub const BPF_CGROUP_INET_EGRESS: u32 = 1;

/// `BPF_PROG_GET_FD_BY_ID` and `BPF_OBJ_GET_INFO_BY_FD` (linux/bpf.h).
const BPF_PROG_GET_FD_BY_ID: nix::libc::c_long = 13;
const BPF_OBJ_GET_INFO_BY_FD: nix::libc::c_long = 15;

/// `bpf(cmd, attr, sizeof attr)`.
fn bpf(cmd: nix::libc::c_long, attr: &mut [u8]) -> std::io::Result<nix::libc::c_long> {
    // SAFETY: the kernel reads and writes at most `attr.len()` bytes of `attr`, which lives
    // until the call returns; the pointers the callers put into it point at buffers that
    // outlive the call, of the lengths they give.
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_bpf,
            cmd,
            attr.as_mut_ptr(),
            attr.len() as nix::libc::c_uint,
        )
    };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A BPF program attached to a cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedProgram {
    /// The kernel's program id.
    pub id: u32,
    /// The name it was loaded with (systemd's IP firewall: `sd_fw_ingress`, `sd_fw_egress`);
    /// `None` when it cannot be read.
    pub name: Option<String>,
}

/// The BPF programs attached to the cgroup directory `dir` itself (not inherited from a
/// parent) at `attach_type`, with `bpf(BPF_PROG_QUERY)`, and their names
/// (`BPF_OBJ_GET_INFO_BY_FD`). Needs CAP_SYS_ADMIN. Works on any cgroup v2 directory: the
/// unified tree of a hybrid host too.
pub fn attached_programs(dir: &Path, attach_type: u32) -> std::io::Result<Vec<AttachedProgram>> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let file = std::fs::File::open(dir)?;
    // union bpf_attr, the query member: target_fd, attach_type, query_flags, attach_flags
    // (u32 each), prog_ids (u64 pointer), prog_cnt (u32, in: room, out: count).
    let mut ids = [0u32; 64];
    let mut attr = [0u8; 32];
    let fd = u32::try_from(file.as_raw_fd()).unwrap_or(u32::MAX);
    attr[0..4].copy_from_slice(&fd.to_ne_bytes());
    attr[4..8].copy_from_slice(&attach_type.to_ne_bytes());
    attr[16..24].copy_from_slice(&(ids.as_mut_ptr() as u64).to_ne_bytes());
    attr[24..28].copy_from_slice(&(ids.len() as u32).to_ne_bytes());
    bpf(BPF_PROG_QUERY, &mut attr)?;
    let mut count = [0u8; 4];
    count.copy_from_slice(&attr[24..28]);
    let count = (u32::from_ne_bytes(count) as usize).min(ids.len());
    Ok(ids[..count]
        .iter()
        .map(|&id| {
            // union bpf_attr: prog_id (u32) for BPF_PROG_GET_FD_BY_ID.
            let mut get = [0u8; 16];
            get[0..4].copy_from_slice(&id.to_ne_bytes());
            let name = bpf(BPF_PROG_GET_FD_BY_ID, &mut get).ok().and_then(|fd| {
                // SAFETY: the kernel returned a new file descriptor that nothing else owns.
                let prog = unsafe { OwnedFd::from_raw_fd(fd as i32) };
                // struct bpf_prog_info up to its name (char[16] at byte 64).
                let mut info = [0u8; 80];
                // union bpf_attr, the info member: bpf_fd, info_len (u32), info (u64).
                let mut attr = [0u8; 16];
                let fd = u32::try_from(prog.as_raw_fd()).unwrap_or(u32::MAX);
                attr[0..4].copy_from_slice(&fd.to_ne_bytes());
                attr[4..8].copy_from_slice(&(info.len() as u32).to_ne_bytes());
                attr[8..16].copy_from_slice(&(info.as_mut_ptr() as u64).to_ne_bytes());
                bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr).ok()?;
                let name = &info[64..80];
                let len = name.iter().position(|b| *b == 0).unwrap_or(name.len());
                (len > 0).then(|| String::from_utf8_lossy(&name[..len]).into_owned())
            });
            AttachedProgram { id, name }
        })
        .collect())
}

/// `quota / period * 100`, from the text of two integers.
fn percent(quota: &str, period: &str) -> Option<f64> {
    let quota: u64 = quota.parse().ok()?;
    let period: u64 = period.parse().ok()?;
    // Microsecond counts: far below 2^52, exact in an f64.
    (period > 0).then(|| quota as f64 * 100.0 / period as f64)
}

fn malformed(dir: Option<&Path>, name: &str, line: usize, text: &str) -> ReadError {
    ReadError::Malformed {
        path: dir.map_or_else(|| PathBuf::from(name), |d| d.join(name)),
        line,
        detail: format!("unexpected value {text:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::fixture;

    #[test]
    fn parses_proc_cgroup_of_a_hybrid_host() {
        let text = "9:name=systemd:/system.slice/heat.service\n6:cpu,cpuacct:/system.slice/heat.service\n0::/system.slice/heat.service\n";
        let m = parse_proc_cgroup(text, Path::new("/proc/1/cgroup")).unwrap();
        assert_eq!(m[1].controllers, ["cpu", "cpuacct"]);
        assert_eq!(m[2].hierarchy, 0);
        assert!(m[2].controllers.is_empty());
        assert_eq!(v1_unit_path(&m), Some("/system.slice/heat.service"));
        let err = parse_proc_cgroup("x\n", Path::new("/proc/1/cgroup")).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("/proc/1/cgroup:1: not `ID:controllers:path`"));
    }

    #[test]
    fn reads_a_pure_v2_unit() {
        let root = fixture("cgroup-v2/sys/fs/cgroup");
        let state = read_cgroup(&fixture("cgroup-v2/proc"), &root, 812).unwrap();
        assert_eq!(state.path, "/system.slice/heat.service");
        assert_eq!(state.version, CgroupVersion::V2);
        assert_eq!(state.memory_max, Some(104_857_600));
        assert_eq!(state.memory_current, Some(1_335_296));
        assert_eq!(state.memory_limit_hits, Some(41));
        assert_eq!(state.oom_kills, Some(3));
        assert_eq!(state.cpu_weight, Some(50));
        assert_eq!(state.cpu_shares, None);
        assert_eq!(state.cpu_quota, Some(50.0));
        assert_eq!(state.cpuset.as_deref(), Some("1"));
        assert_eq!(state.tasks_max, Some(16));
        assert_eq!(state.tasks_current, Some(2));
        assert_eq!(
            state.files["memory_max"],
            root.join("system.slice/heat.service/memory.max")
        );
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(json["version"], 2);
        assert_eq!(json["cpu_shares"], serde_json::Value::Null);
        for key in [
            "path",
            "version",
            "memory_max",
            "memory_current",
            "cpu_weight",
            "cpu_shares",
            "cpu_quota",
            "cpuset",
            "tasks_max",
            "tasks_current",
            "oom_kills",
        ] {
            assert!(json.get(key).is_some(), "no {key} in {json}");
        }
    }

    #[test]
    fn v2_max_and_missing_files_are_no_limit() {
        // The slice has memory.max = max and no other controller files.
        let root = fixture("cgroup-v2/sys/fs/cgroup");
        let m = [Membership {
            hierarchy: 0,
            controllers: vec![],
            path: "/system.slice".into(),
        }];
        let state = read_cgroup_of(&root, &m, 1).unwrap();
        assert_eq!(state.memory_max, None);
        assert_eq!(state.tasks_max, None);
        assert_eq!(state.cpu_quota, None);
        assert!(state.files.contains_key("memory_max"));
        assert!(!state.files.contains_key("tasks_max"));
    }

    #[test]
    fn reads_a_v1_unit_through_combined_controller_mounts() {
        let root = fixture("cgroup-v1/sys/fs/cgroup");
        let state = read_cgroup(&fixture("cgroup-v1/proc"), &root, 9540).unwrap();
        assert_eq!(state.path, "/system.slice/heat.service");
        assert_eq!(state.version, CgroupVersion::V1);
        assert_eq!(state.memory_max, Some(104_857_600));
        assert_eq!(state.memory_current, Some(307_200));
        assert_eq!(state.memory_limit_hits, Some(5));
        assert_eq!(state.oom_kills, Some(1));
        assert_eq!(state.cpu_shares, Some(512));
        assert_eq!(state.cpu_weight, None);
        assert_eq!(state.cpu_quota, Some(50.0));
        assert_eq!(state.cpuset.as_deref(), Some("0-1"));
        assert_eq!(state.tasks_max, Some(16));
        assert_eq!(state.tasks_current, Some(2));
        // `cpu` is a symlink to `cpu,cpuacct`, as on a stock hybrid host.
        assert_eq!(
            state.files["cpu_shares"],
            root.join("cpu/system.slice/heat.service/cpu.shares")
        );
        assert_eq!(
            unit_directory(
                &root,
                &read_proc_cgroup(&fixture("cgroup-v1/proc"), 9540).unwrap(),
                9540
            )
            .unwrap(),
            root.join("systemd/system.slice/heat.service")
        );
    }

    #[test]
    fn v1_huge_limit_is_unlimited() {
        // The root memory cgroup's limit is PAGE_COUNTER_MAX.
        let root = fixture("cgroup-v1/sys/fs/cgroup");
        let m = parse_proc_cgroup("9:memory:/\n", Path::new("x")).unwrap();
        let state = read_cgroup_of(&root, &m, 1).unwrap();
        assert_eq!(state.memory_max, None);
        assert!(state.files.contains_key("memory_max"));
    }

    #[test]
    fn reads_v2_memory_protection_swap_and_io_weight() {
        // Files as a pure v2 host has them for a unit with MemoryHigh=48M, MemoryLow= unset,
        // MemorySwapMax= unset and IOWeight=200.
        let root = tempfile::tempdir().unwrap();
        let unit = root.path().join("system.slice/x.service");
        std::fs::create_dir_all(&unit).unwrap();
        std::fs::write(
            root.path().join("cgroup.controllers"),
            "cpu io memory pids\n",
        )
        .unwrap();
        for (file, value) in [
            ("memory.high", "50331648\n"),
            ("memory.low", "0\n"),
            ("memory.swap.max", "max\n"),
            ("memory.zswap.max", "16777216\n"),
            ("memory.zswap.writeback", "0\n"),
            ("io.weight", "default 200\n8:0 50\n"),
        ] {
            std::fs::write(unit.join(file), value).unwrap();
        }
        let m = parse_proc_cgroup("0::/system.slice/x.service\n", Path::new("x")).unwrap();
        let state = read_cgroup_of(root.path(), &m, 1).unwrap();
        assert_eq!(state.memory_high, Some(48 << 20));
        assert_eq!(state.memory_low, Some(0));
        assert_eq!(state.memory_swap_max, None);
        assert_eq!(state.memory_zswap_max, Some(16 << 20));
        assert_eq!(state.memory_zswap_writeback, Some(false));
        assert_eq!(
            state.files["memory_zswap_writeback"],
            unit.join("memory.zswap.writeback")
        );
        assert_eq!(state.io_weight, Some(200));
        assert_eq!(state.blkio_weight, None);
        assert_eq!(state.files["io_weight"], unit.join("io.weight"));
        assert!(state.files.contains_key("memory_swap_max"));
    }

    #[test]
    fn layouts_are_told_by_their_cgroup_controllers_files() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(layout(root.path()), CgroupLayout::Legacy);
        std::fs::create_dir(root.path().join("unified")).unwrap();
        std::fs::write(root.path().join("unified/cgroup.controllers"), "").unwrap();
        assert_eq!(layout(root.path()), CgroupLayout::Hybrid);
        std::fs::write(
            root.path().join("cgroup.controllers"),
            "cpu io memory pids\n",
        )
        .unwrap();
        assert_eq!(layout(root.path()), CgroupLayout::Unified);
    }

    #[test]
    fn io_limits_of_v2_and_v1() {
        let v2 = parse_io_max(
            "254:0 rbps=4000000 wbps=max riops=max wiops=1000\n8:0 rbps=1 wbps=2 riops=3 wiops=4\n",
        )
        .unwrap();
        assert_eq!(
            v2[&(254, 0)],
            DeviceLimits {
                rbps: Some(4_000_000),
                wbps: None,
                riops: None,
                wiops: Some(1000)
            }
        );
        assert_eq!(v2[&(8, 0)].get("wiops"), Some(4));
        assert_eq!(parse_io_max("").unwrap().len(), 0);
        assert_eq!(parse_io_max("254:0 rbps=lots"), None);
        let v1 = parse_blkio_throttle(["254:0 1000\n", "254:0 2000\n8:16 5\n", "", ""]).unwrap();
        assert_eq!(
            v1[&(254, 0)],
            DeviceLimits {
                rbps: Some(1000),
                wbps: Some(2000),
                riops: None,
                wiops: None
            }
        );
        assert_eq!(v1[&(8, 16)].wbps, Some(5));
        assert_eq!(parse_blkio_throttle(["254:0", "", "", ""]), None);
    }

    #[test]
    fn a_vanished_cgroup_is_reported_with_its_path() {
        let root = fixture("cgroup-v2/sys/fs/cgroup");
        let m = parse_proc_cgroup("0::/system.slice/gone.service\n", Path::new("x")).unwrap();
        let err = read_cgroup_of(&root, &m, 7).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot find the cgroup of process 7: {} does not exist (the unit stopped?)",
                root.join("system.slice/gone.service").display()
            )
        );
    }
}
