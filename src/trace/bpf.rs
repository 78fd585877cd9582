//! The in-kernel recorder: a BPF program on the `raw_syscalls:sys_enter` raw tracepoint that
//! counts the system calls of the target tasks in a map, read once at the end. It costs a
//! comparison per system call of every other task, and about a map update per call of the
//! target's, instead of ptrace's two stops per call.
//!
//! The program is C (`bpf/recorder.bpf.c`, where each helper and map type is explained with
//! the kernel it needs), compiled by `scripts/build-bpf.sh` into `bpf/recorder.bpf.o`, which
//! is built into sandgen; aya loads it. Targets ([`BpfTarget`]): a unit's cgroup v2 id,
//! armed at the exec of its command so systemd's set-up calls are not counted; or the
//! children sandgen forks (`--direct`). [`Recorded`] is what the map held: the pure part,
//! numbers to names with [`SyscallNumbers`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::audit::{SyscallNumbers, AUDIT_ARCH_I386};
use super::{find_program, ChildOutput, CommandRunner, ExitStatusInfo, LocalRunner};
use super::{SyscallTracer, TraceCommand, TraceError, TraceFacts, TraceResult};

/// The recorder's object, compiled from `bpf/recorder.bpf.c`.
static OBJECT: &[u8] = include_bytes!("../../bpf/recorder.bpf.o");

/// Syscall numbers the program records one by one; the map's layout (`recorder.bpf.c`).
const MAX_NR: usize = 1024;
const OUT_OF_RANGE: usize = 2 * MAX_NR;
const ARMED_AT_EXEC: usize = 2 * MAX_NR + 1;
const ARMED_AT_FORK: usize = 2 * MAX_NR + 2;
const SLOTS: usize = 2 * MAX_NR + 3;

/// Whose system calls are recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BpfTarget {
    /// Tasks in this cgroup v2 (a unit's), from their exec on.
    Cgroup {
        /// The cgroup's id: its directory's inode number in the cgroup2 file system.
        id: u64,
        /// That directory, for messages.
        path: PathBuf,
        /// An exec of this file does not arm: systemd's executor ([`systemd_executor`]).
        skip_exec: Option<FileIdentity>,
    },
    /// Every task in this cgroup v2 (a running unit's), from the moment the recorder is
    /// attached: its tasks exec'd before, so the unit is armed as a whole (`sandgen learn`).
    WholeCgroup {
        /// The cgroup's id: its directory's inode number in the cgroup2 file system.
        id: u64,
        /// That directory, for messages.
        path: PathBuf,
    },
    /// Children that this process (sandgen) forks, from their exec on, and their children.
    ChildrenOf {
        /// The forking process's PID (thread group id).
        tgid: u32,
    },
}

impl BpfTarget {
    /// How the target is followed, for the line that says which tracer was used.
    pub fn describe(&self) -> String {
        match self {
            Self::Cgroup { id, path, .. } => {
                format!("cgroup v2 id {id} ({})", path.display())
            }
            Self::WholeCgroup { id, path } => format!(
                "cgroup v2 id {id} ({}), every task from attach on",
                path.display()
            ),
            Self::ChildrenOf { .. } => "the PIDs forked by sandgen, followed at fork".to_owned(),
        }
    }
}

/// Why the recorder cannot run here.
#[derive(Debug, thiserror::Error)]
pub enum BpfError {
    /// Not root (loading tracing programs needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN).
    #[error("the BPF recorder needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)")]
    NotRoot,
    /// The kernel has no BTF, needed to read task_struct fields (CO-RE).
    #[error(
        "the kernel has no BTF ({} is missing; it needs CONFIG_DEBUG_INFO_BTF, Linux 5.5 or \
         later): the BPF recorder reads task fields at the running kernel's offsets",
        .path.display()
    )]
    NoBtf {
        /// The BTF file looked for.
        path: PathBuf,
    },
    /// The kernel refused the program or a map.
    #[error(
        "the kernel refused the BPF recorder ({what}): {error}; it needs Linux 5.5 or later \
         with raw tracepoints, BTF and bpf_probe_read_kernel"
    )]
    Load {
        /// The step that failed.
        what: String,
        /// aya's error, as text (its types are not part of sandgen's API).
        error: String,
    },
    /// The unit's cgroup2 directory could not be made or read.
    #[error("cannot prepare the unit's cgroup {}: {error}", .path.display())]
    Cgroup {
        /// The directory.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// systemd tracks no unit in a cgroup2 tree here.
    #[error("{0}")]
    NoCgroup2(String),
}

/// What the recorder counted, read from its map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Native calls: number -> how many.
    pub native: BTreeMap<u32, u64>,
    /// 32-bit compat calls (i386 numbers on x86_64): number -> how many.
    pub compat: BTreeMap<u32, u64>,
    /// Calls whose number was beyond the map (x32 calls have bit 30 set).
    pub out_of_range: u64,
    /// Tasks armed at their exec of the workload.
    pub armed_at_exec: u64,
    /// Tasks armed at fork, from an armed parent.
    pub armed_at_fork: u64,
}

impl Recorded {
    /// The map's slots (summed over CPUs) as counts.
    pub fn from_slots(slots: &[u64]) -> Self {
        let numbered = |range: std::ops::Range<usize>| -> BTreeMap<u32, u64> {
            slots
                .get(range.clone())
                .unwrap_or_default()
                .iter()
                .zip(0u32..)
                .filter(|(n, _)| **n > 0)
                .map(|(n, nr)| (nr, *n))
                .collect()
        };
        let at = |i: usize| slots.get(i).copied().unwrap_or(0);
        Self {
            native: numbered(0..MAX_NR),
            compat: numbered(MAX_NR..2 * MAX_NR),
            out_of_range: at(OUT_OF_RANGE),
            armed_at_exec: at(ARMED_AT_EXEC),
            armed_at_fork: at(ARMED_AT_FORK),
        }
    }

    /// The calls' names, native and compat: a number the table lacks is named as strace names
    /// it, `syscall_0x1c3`. The exec that armed a task was the workload's own `execve`, made
    /// before the task was armed: it is added, as strace records it.
    pub fn names(
        &self,
        native: &SyscallNumbers,
        compat: &SyscallNumbers,
    ) -> (BTreeSet<String>, BTreeSet<String>) {
        let (natives, compats) = self.counted_names(native, compat);
        (natives.into_keys().collect(), compats.into_keys().collect())
    }

    /// [`Recorded::names`] with how many calls each name had: the `execve`s that armed tasks
    /// count once per armed task (at least; a task armed in whole-cgroup mode made its exec
    /// inside the cgroup, where it was counted too).
    pub fn counted_names(
        &self,
        native: &SyscallNumbers,
        compat: &SyscallNumbers,
    ) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        let named = |table: &SyscallNumbers, counts: &BTreeMap<u32, u64>| {
            let mut out: BTreeMap<String, u64> = BTreeMap::new();
            for (&nr, &n) in counts {
                let name = table
                    .name(nr)
                    .map_or_else(|| format!("syscall_{nr:#x}"), str::to_owned);
                *out.entry(name).or_default() += n;
            }
            out
        };
        let mut natives = named(native, &self.native);
        if self.armed_at_exec > 0 {
            let execve = natives.entry("execve".to_owned()).or_default();
            *execve = (*execve).max(self.armed_at_exec);
        }
        (natives, named(compat, &self.compat))
    }

    /// How many tasks were recorded.
    pub fn tasks(&self) -> usize {
        usize::try_from(self.armed_at_exec + self.armed_at_fork).unwrap_or(usize::MAX)
    }
}

/// The i386 table, for compat calls on x86_64.
pub fn compat_numbers(root: &Path) -> SyscallNumbers {
    SyscallNumbers::for_audit_arch(AUDIT_ARCH_I386, root).unwrap_or_default()
}

/// Whether this process can load the recorder, before trying: root, and the kernel's BTF.
///
/// # Errors
///
/// [`BpfError::NotRoot`], [`BpfError::NoBtf`].
pub fn check_prerequisites(euid: u32, btf: &Path) -> Result<(), BpfError> {
    if euid != 0 {
        return Err(BpfError::NotRoot);
    }
    if !btf.exists() {
        return Err(BpfError::NoBtf {
            path: btf.to_owned(),
        });
    }
    Ok(())
}

/// A file as the kernel tells files apart: its inode number and its file system's device,
/// in the kernel's own encoding (`MKDEV(major, minor)`, `major << 20 | minor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileIdentity {
    /// The inode number.
    pub ino: u64,
    /// The device, kernel encoding.
    pub dev: u32,
}

impl FileIdentity {
    /// The identity of the file at `path`, if there is one.
    pub fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            ino: meta.ino(),
            dev: kernel_dev(meta.dev()),
        })
    }
}

/// A device number as `stat(2)` gives it (glibc's encoding) in the kernel's encoding
/// (include/linux/kdev_t.h: `MKDEV(ma, mi) = ma << 20 | mi`).
pub fn kernel_dev(dev: u64) -> u32 {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    u32::try_from((major << 20) | (minor & 0xf_ffff)).unwrap_or(0)
}

/// systemd's executor under `root`, if this systemd has one: systemd 255 and later fork,
/// exec `systemd-executor` in the unit's cgroup, which sets up the sandbox and then execs
/// the command. Its exec must not arm a task, or the set-up calls would count.
pub fn systemd_executor(root: &Path) -> Option<FileIdentity> {
    [
        "usr/lib/systemd/systemd-executor",
        "lib/systemd/systemd-executor",
    ]
    .iter()
    .find_map(|p| FileIdentity::of(&root.join(p)))
}

/// The kernel's BTF.
pub const KERNEL_BTF: &str = "/sys/kernel/btf/vmlinux";

/// The recorder, loaded and attached; detached when dropped.
pub struct Recorder {
    ebpf: aya::Ebpf,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

/// The programs and the tracepoints they attach to.
const PROGRAMS: &[(&str, &str)] = &[
    // Arming and following first, so no task is missed between attaches.
    ("process_exit", "sched_process_exit"),
    ("process_fork", "sched_process_fork"),
    ("process_exec", "sched_process_exec"),
    ("sys_enter", "sys_enter"),
];

impl Recorder {
    /// Load the recorder for `target` and attach it.
    ///
    /// # Errors
    ///
    /// [`BpfError`] saying what is missing.
    pub fn start(target: &BpfTarget) -> Result<Self, BpfError> {
        check_prerequisites(nix::unistd::geteuid().as_raw(), Path::new(KERNEL_BTF))?;
        let load = |what: &str, error: &dyn std::fmt::Display| BpfError::Load {
            what: what.to_owned(),
            error: error.to_string(),
        };
        let (cgroup, tgid, whole): (u64, u32, u8) = match target {
            BpfTarget::Cgroup { id, .. } => (*id, 0, 0),
            BpfTarget::WholeCgroup { id, .. } => (*id, 0, 1),
            BpfTarget::ChildrenOf { tgid } => (0, *tgid, 0),
        };
        let skip = match target {
            BpfTarget::Cgroup {
                skip_exec: Some(file),
                ..
            } => *file,
            _ => FileIdentity { ino: 0, dev: 0 },
        };
        let mut ebpf = aya::EbpfLoader::new()
            .override_global("target_cgroup", &cgroup, true)
            .override_global("launcher_tgid", &tgid, true)
            .override_global("whole_cgroup", &whole, true)
            .override_global("skip_exec_ino", &skip.ino, true)
            .override_global("skip_exec_dev", &skip.dev, true)
            .load(OBJECT)
            .map_err(|e| load("loading the object", &error_chain(&e)))?;
        for (program, tracepoint) in PROGRAMS {
            let prog: &mut aya::programs::RawTracePoint = ebpf
                .program_mut(program)
                .ok_or_else(|| load(program, &"not in the object"))?
                .try_into()
                .map_err(|e| load(program, &e))?;
            prog.load()
                .map_err(|e| load(&format!("loading {program}"), &error_chain(&e)))?;
            prog.attach(tracepoint)
                .map_err(|e| load(&format!("attaching to {tracepoint}"), &error_chain(&e)))?;
        }
        Ok(Self { ebpf })
    }

    /// What was recorded so far.
    ///
    /// # Errors
    ///
    /// When the map cannot be read.
    pub fn recorded(&self) -> Result<Recorded, BpfError> {
        let read = |e: &dyn std::fmt::Display| BpfError::Load {
            what: "reading the map `seen`".to_owned(),
            error: e.to_string(),
        };
        let map = self.ebpf.map("seen").ok_or_else(|| read(&"no such map"))?;
        let seen: aya::maps::PerCpuArray<&aya::maps::MapData, u64> =
            aya::maps::PerCpuArray::try_from(map).map_err(|e| read(&e))?;
        let mut slots = vec![0u64; SLOTS];
        for (index, slot) in (0u32..).zip(slots.iter_mut()) {
            let values = seen.get(&index, 0).map_err(|e| read(&e))?;
            *slot = values.iter().sum();
        }
        Ok(Recorded::from_slots(&slots))
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// Where a unit's cgroup is in the cgroup2 tree, as the manager's PID 1 sees it: the
/// cgroup2 mount in `mountinfo` (PID 1's `/proc/1/mountinfo`; `/sys/fs/cgroup` on a pure
/// v2 host, `/sys/fs/cgroup/unified` on a hybrid one), and the unit's `control_group`
/// (systemd's `ControlGroup=`, relative to systemd's root cgroup, which is where PID 1's own
/// `0::/init.scope` line in `pid1_cgroup` places it). `None` when there is no cgroup2
/// mount or PID 1 is not tracked in it (cgroup v1 only).
pub fn unit_cgroup_dir(mountinfo: &str, pid1_cgroup: &str, control_group: &str) -> Option<PathBuf> {
    // mountinfo(5): ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE ...
    let (root, mountpoint) = mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let fields: Vec<&str> = left.split_whitespace().collect();
        Some((*fields.get(3)?, *fields.get(4)?))
    })?;
    let pid1 = pid1_cgroup
        .lines()
        .find_map(|line| line.strip_prefix("0::"))?;
    let systemd_root = match pid1.strip_suffix("/init.scope").unwrap_or(pid1) {
        "" => "/",
        root => root,
    };
    // The part of systemd's root below the mount's root.
    let below = Path::new(systemd_root).strip_prefix(root).ok()?;
    let unit = control_group.trim_start_matches('/');
    Some(Path::new(mountpoint).join(below).join(unit))
}

/// The tracer asked for with `--tracer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TracerChoice {
    /// The BPF recorder where it can run, else strace.
    Auto,
    /// The in-kernel BPF recorder: near-native speed; needs root and a kernel with BTF.
    Bpf,
    /// strace (ptrace): every call's arguments, at hundreds of times the cost.
    Strace,
}

/// The backend that traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// [`Recorder`].
    Bpf,
    /// strace.
    Strace,
}

/// Which backend traces: `requested`, given why strace is needed (`--whole` reads the calls'
/// arguments) and whether the recorder's prerequisites hold. Returns the backend and, for
/// `auto`, the line saying which and why.
///
/// # Errors
///
/// `--tracer bpf` when the recorder cannot serve: the reason.
pub fn choose_backend(
    requested: TracerChoice,
    needs_strace: Option<&str>,
    prerequisites: Result<(), String>,
) -> Result<(Backend, Option<String>), String> {
    match (requested, needs_strace, prerequisites) {
        (TracerChoice::Strace, _, _) => Ok((Backend::Strace, None)),
        (TracerChoice::Bpf, Some(why), _) => Err(format!("--tracer bpf: {why}")),
        (TracerChoice::Bpf, None, Err(why)) => Err(why),
        (TracerChoice::Bpf, None, Ok(())) => Ok((Backend::Bpf, None)),
        (TracerChoice::Auto, Some(why), _) => Ok((
            Backend::Strace,
            Some(format!("tracer: strace, because {why}")),
        )),
        (TracerChoice::Auto, None, Err(why)) => Ok((
            Backend::Strace,
            Some(format!("tracer: strace, because {why}")),
        )),
        (TracerChoice::Auto, None, Ok(())) => Ok((
            Backend::Bpf,
            Some("tracer: the BPF recorder (root, and the kernel has BTF)".to_owned()),
        )),
    }
}

/// A trace from what the recorder counted, and how the command ended. Compat calls are
/// named after i386 and marked as a non-native ABI.
pub fn trace_result(recorded: &Recorded, exit_status: ExitStatusInfo, root: &Path) -> TraceResult {
    let native = SyscallNumbers::native(root).unwrap_or_default();
    let (mut syscalls, compat) = recorded.names(&native, &compat_numbers(root));
    let non_native_abi = !compat.is_empty() || recorded.out_of_range > 0;
    syscalls.extend(compat);
    TraceResult {
        syscalls,
        exit_status,
        executables: BTreeSet::new(),
        processes: recorded.tasks(),
        non_native_abi,
        trace_file: None,
        facts: TraceFacts::default(),
    }
}

/// The BPF backend for a plain child of sandgen (`--direct`): the recorder follows the
/// children sandgen forks from their exec on.
#[derive(Debug, Clone, Copy, Default)]
pub struct DirectBpfTracer {
    /// Where the command's standard output goes.
    pub stdout: ChildOutput,
}

impl SyscallTracer for DirectBpfTracer {
    fn trace(&self, cmd: &TraceCommand) -> Result<TraceResult, TraceError> {
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        let program = find_program(cmd.program(), &path_var).map_err(|reason| {
            TraceError::ProgramNotFound {
                program: cmd.program().to_owned(),
                reason,
            }
        })?;
        let mut argv = cmd.argv().to_vec();
        if let Some(first) = argv.first_mut() {
            *first = program.display().to_string();
        }
        let recorder = Recorder::start(&BpfTarget::ChildrenOf {
            tgid: std::process::id(),
        })?;
        let runner = LocalRunner {
            stdout: self.stdout,
        };
        let status = runner.run(&argv).map_err(|error| TraceError::Run {
            program: cmd.program().to_owned(),
            error,
        })?;
        let recorded = recorder.recorded()?;
        drop(recorder);
        Ok(trace_result(&recorded, status, Path::new("/")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_become_counts_and_names() {
        let mut slots = vec![0u64; SLOTS];
        slots[0] = 5; // read
        slots[231] = 1; // exit_group
        slots[MAX_NR + 1] = 1; // i386 exit
        slots[1000] = 2; // no name in the table
        slots[OUT_OF_RANGE] = 3;
        slots[ARMED_AT_EXEC] = 1;
        slots[ARMED_AT_FORK] = 2;
        let r = Recorded::from_slots(&slots);
        assert_eq!(r.native, BTreeMap::from([(0, 5), (231, 1), (1000, 2)]));
        assert_eq!(r.compat, BTreeMap::from([(1, 1)]));
        assert_eq!((r.out_of_range, r.tasks()), (3, 3));
        let native = SyscallNumbers::parse_unistd_header(
            "#define __NR_read 0\n#define __NR_exit_group 231\n",
        );
        let compat = SyscallNumbers::parse_unistd_header("#define __NR_exit 1\n");
        let (n, c) = r.names(&native, &compat);
        assert_eq!(
            n.into_iter().collect::<Vec<_>>(),
            ["execve", "exit_group", "read", "syscall_0x3e8"]
        );
        assert_eq!(c.into_iter().collect::<Vec<_>>(), ["exit"]);
    }

    #[test]
    fn device_numbers_take_the_kernel_s_encoding() {
        // 8:1 (sda1), 259:3 (nvme0n1p3), 0:27 (an overlay) as glibc encodes them.
        let glibc = |major: u64, minor: u64| {
            ((major & 0xfff) << 8)
                | ((major & !0xfff) << 32)
                | (minor & 0xff)
                | ((minor & !0xff) << 12)
        };
        assert_eq!(kernel_dev(glibc(8, 1)), (8 << 20) | 1);
        assert_eq!(kernel_dev(glibc(259, 3)), (259 << 20) | 3);
        assert_eq!(kernel_dev(glibc(0, 27)), 27);
        assert_eq!(kernel_dev(glibc(0, 300)), 300);
    }

    #[test]
    fn no_exec_armed_means_no_execve() {
        let mut slots = vec![0u64; SLOTS];
        slots[0] = 1;
        let (n, _) = Recorded::from_slots(&slots)
            .names(&SyscallNumbers::default(), &SyscallNumbers::default());
        assert_eq!(n.into_iter().collect::<Vec<_>>(), ["syscall_0x0"]);
    }

    #[test]
    fn auto_prefers_bpf_and_says_why_not() {
        use TracerChoice::{Auto, Bpf, Strace};
        assert_eq!(
            choose_backend(Strace, None, Ok(())),
            Ok((Backend::Strace, None))
        );
        assert_eq!(choose_backend(Bpf, None, Ok(())), Ok((Backend::Bpf, None)));
        assert_eq!(
            choose_backend(Bpf, None, Err("needs root".into())),
            Err("needs root".to_owned())
        );
        assert_eq!(
            choose_backend(
                Bpf,
                Some("--whole reads the calls' arguments, which only strace records"),
                Ok(())
            ),
            Err(
                "--tracer bpf: --whole reads the calls' arguments, which only strace records"
                    .to_owned()
            )
        );
        assert_eq!(
            choose_backend(Auto, None, Ok(())),
            Ok((
                Backend::Bpf,
                Some("tracer: the BPF recorder (root, and the kernel has BTF)".to_owned())
            ))
        );
        assert_eq!(
            choose_backend(Auto, None, Err("the BPF recorder needs root".into())),
            Ok((
                Backend::Strace,
                Some("tracer: strace, because the BPF recorder needs root".to_owned())
            ))
        );
    }

    #[test]
    fn prerequisites_name_what_is_missing() {
        assert!(matches!(
            check_prerequisites(1000, Path::new("/")),
            Err(BpfError::NotRoot)
        ));
        let err = check_prerequisites(0, Path::new("/nonexistent/vmlinux")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the kernel has no BTF (/nonexistent/vmlinux is missing; it needs \
             CONFIG_DEBUG_INFO_BTF, Linux 5.5 or later): the BPF recorder reads task fields at \
             the running kernel's offsets"
        );
        assert!(check_prerequisites(0, Path::new("/")).is_ok());
    }

    #[test]
    fn unit_cgroup_dirs_on_hybrid_and_pure_v2_hosts() {
        // The hybrid test container: cgroup2 at /sys/fs/cgroup/unified, PID 1 at its root.
        let hybrid =
            "30 25 0:27 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw\n\
                      31 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
        assert_eq!(
            unit_cgroup_dir(
                hybrid,
                "1:name=systemd:/init.scope\n0::/init.scope\n",
                "/system.slice/x.service"
            ),
            Some(PathBuf::from(
                "/sys/fs/cgroup/unified/system.slice/x.service"
            ))
        );
        // A pure v2 host.
        let v2 = "35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            unit_cgroup_dir(v2, "0::/init.scope\n", "/system.slice/x.service"),
            Some(PathBuf::from("/sys/fs/cgroup/system.slice/x.service"))
        );
        // A systemd in a container without a cgroup namespace: its root is a subtree.
        let nested = "35 24 0:30 /machine/c /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            unit_cgroup_dir(
                nested,
                "0::/machine/c/init.scope\n",
                "/system.slice/x.service"
            ),
            Some(PathBuf::from("/sys/fs/cgroup/system.slice/x.service"))
        );
        // cgroup v1 only: nothing to identify.
        assert_eq!(
            unit_cgroup_dir(
                "31 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw\n",
                "1:memory:/\n",
                "/system.slice/x.service"
            ),
            None
        );
    }
}
