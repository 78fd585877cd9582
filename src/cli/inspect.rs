//! `sandgen inspect` and `sandgen verify`: a running unit seen from the kernel's side.
//!
//! Both ask systemd (over D-Bus) for the unit's main PID, pin that process with a pidfd
//! ([`ProcessHandle`]), read the kernel's state of it ([`crate::inspect`]) and only then report,
//! after confirming that what was read was the unit's main process all along: the pidfd
//! shows the process did not exit, its cgroup is the unit's, and systemd still names the same
//! main PID. A unit that restarted meanwhile is reported as such, never with another
//! process's state. When systemd runs in a container (`--root /proc/N/root`), its PIDs are
//! translated to sandgen's PID namespace through process N.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use serde::Serialize;

use super::note;
use super::service::{unit_name, Connection};
use crate::host::Host;
use crate::inspect::namespace::{DirEntry, Listing};
use crate::inspect::{
    self, pids, CgroupState, InspectError, Inspection, MountNamespace, ProcessHandle, ReadError,
    Roots, SeccompMode, SECUREBITS_NOT_READABLE,
};
use crate::systemd::bus::Systemd;
use crate::systemd::status::UnitStatus;
use crate::verify::{self, Finding, Status};
use crate::Loaded;

/// Arguments of `sandgen inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The unit (NAME or NAME.service).
    pub name: String,
    /// The mount table of the unit's namespace as a tree, marking what differs from the service manager's.
    #[arg(long)]
    pub mounts: bool,
    /// List PATH as the unit sees it, from inside its mount namespace (repeatable).
    #[arg(long = "ls", value_name = "PATH")]
    pub ls: Vec<PathBuf>,
    /// Capability sets by name, NoNewPrivs, securebits.
    #[arg(long)]
    pub caps: bool,
    /// Seccomp mode and number of filters.
    #[arg(long)]
    pub seccomp: bool,
    /// The unit's cgroup: limits and usage, OOM kills.
    #[arg(long)]
    pub cgroup: bool,
    /// The processes of the unit's cgroup and the PID namespace they see.
    #[arg(long)]
    pub pids: bool,
    /// Everything as one JSON object (stable keys).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `sandgen verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The unit (NAME or NAME.service).
    pub name: String,
    /// The policy to verify against [default: the one sandgen recorded in the unit file].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// One JSON object: every check with its status and evidence.
    #[arg(long)]
    pub json: bool,
    /// Lower the policy for this systemd version [default: the running systemd's].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(200..1000))]
    pub systemd_version: Option<u32>,
}

/// The unit's main process, pinned, and how to read it.
struct Pinned {
    unit: String,
    status: UnitStatus,
    handle: ProcessHandle,
    roots: Roots,
    /// `CLOCK_BOOTTIME` in clock ticks just before systemd was asked for the main PID.
    asked_at: u64,
}

/// `CLOCK_BOOTTIME` in clock ticks (`sysconf(_SC_CLK_TCK)`), the clock and unit of a
/// process's start time in `/proc/PID/stat`.
fn boottime_ticks() -> Result<u64> {
    let mut now = nix::libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the valid pointer it is given.
    if unsafe { nix::libc::clock_gettime(nix::libc::CLOCK_BOOTTIME, &mut now) } != 0 {
        return Err(std::io::Error::last_os_error()).context("cannot read CLOCK_BOOTTIME");
    }
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(100);
    let nanos = u128::try_from(now.tv_sec).unwrap_or(0) * 1_000_000_000
        + u128::try_from(now.tv_nsec).unwrap_or(0);
    // The kernel rounds down the same way (nsec_to_clock_t).
    Ok(u64::try_from(nanos * u128::from(hz) / 1_000_000_000).unwrap_or(u64::MAX))
}

fn require_root(command: &str) -> Result<()> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    bail!(
        "sandgen {command} needs root: it reads the /proc files of the unit's processes and \
         enters their mount namespace (run it with sudo)"
    )
}

fn restarted(unit: &str, what: &str) -> anyhow::Error {
    anyhow!(
        "{unit} restarted while sandgen read it ({what}): nothing is reported, since it could \
         be another process's state; run the command again"
    )
}

fn inspect_error(e: InspectError) -> anyhow::Error {
    match e {
        InspectError::Restarted { unit, pid } => {
            restarted(&unit, &format!("its main process, PID {pid}, exited"))
        }
        other => other.into(),
    }
}

/// Look the unit's main process up and pin it.
fn pin(client: &dyn Systemd, holder: Option<u32>, unit: &str) -> Result<Pinned> {
    let asked_at = boottime_ticks()?;
    let status = client.status(unit)?;
    if status.load_state == "not-found" {
        bail!("{unit}: no such unit (sandgen start POLICY installs and starts one)");
    }
    if status.main_pid == 0 && matches!(status.active_state.as_str(), "inactive" | "failed") {
        bail!(
            "{unit} is not running ({}): there is no process to look at (sandgen start {} starts it)",
            status.summary(),
            unit.trim_end_matches(".service")
        );
    }
    if status.main_pid == 0 {
        // Active, activating or deactivating without a main process: between two runs of a
        // restarting unit, a oneshot's remaining state, or a unit whose process just ended.
        bail!(
            "{unit} has no main process right now ({}): there is no process to look at; if it \
             is restarting, run the command again",
            status.summary()
        );
    }
    let pid = match holder {
        Some(holder) => pids::translate_pid(Path::new("/proc"), holder, status.main_pid)?
            .ok_or_else(|| restarted(unit, &format!("its main PID {} exited", status.main_pid)))?,
        None => status.main_pid,
    };
    let handle = ProcessHandle::open(pid).map_err(|e| match e {
        ReadError::Gone { pid } => restarted(unit, &format!("its main PID {pid} exited")),
        other => other.into(),
    })?;
    wait_for_exec(unit, &handle)?;
    Ok(Pinned {
        unit: unit.to_owned(),
        status,
        handle,
        // The service manager's namespaces are the baseline: the container's systemd, else
        // PID 1.
        roots: Roots {
            host_pid: Some(holder.unwrap_or(1)),
            ..Roots::system()
        },
        asked_at,
    })
}

/// How long a main process may take from systemd's fork to the exec of its command.
const EXEC_TIMEOUT: Duration = Duration::from_secs(2);

/// Wait until the pinned process has exec'd its command. systemd forks the main process,
/// names it `(COMMAND)` and reports its PID as MainPID at once, then applies the sandbox
/// (namespaces, capabilities, seccomp) and execs: the state read before the exec is not the
/// sandbox yet. The exec happens after the sandbox is complete, so once the name is not
/// parenthesised any more, everything read is the sandboxed state.
fn wait_for_exec(unit: &str, handle: &ProcessHandle) -> Result<()> {
    let comm_path = PathBuf::from(format!("/proc/{}/comm", handle.pid()));
    let deadline = Instant::now() + EXEC_TIMEOUT;
    loop {
        let comm = std::fs::read_to_string(&comm_path).unwrap_or_default();
        let comm = comm.trim_end();
        let forked = comm.len() > 2 && comm.starts_with('(') && comm.ends_with(')');
        if !handle.still_same()? {
            return Err(restarted(
                unit,
                &format!("its main process, PID {}, exited", handle.pid()),
            ));
        }
        if !forked {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "the main process of {unit} (PID {}, {comm}) is still being set up by systemd \
                 after {} s: it has not started its command yet",
                handle.pid(),
                EXEC_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether cgroup `path` (as sandgen sees it) is `unit_cgroup` (as systemd names it) or below:
/// from outside a container the path has the container's own cgroup in front.
fn in_cgroup(path: &str, unit_cgroup: &str) -> bool {
    !unit_cgroup.is_empty()
        && (path.ends_with(unit_cgroup) || path.contains(&format!("{unit_cgroup}/")))
}

/// Confirm, after every read, that the pinned process was the unit's main process throughout.
///
/// - The pidfd shows it has not exited since: every read was of it. (Checked first: an
///   exiting process leaves its cgroup, and "exited" is then the true cause.)
/// - Its cgroup (read with the rest) is the unit's: a PID reused by any other process
///   between systemd's answer and the pidfd is caught here.
/// - It started before sandgen asked systemd (its start time is earlier than the clock
///   tick taken before the question): it was alive while systemd answered, PIDs are unique
///   among live processes, so it is the process systemd named. When it started in or after
///   that tick, systemd is asked again and must name the same PID.
fn confirm(client: &dyn Systemd, pinned: &Pinned, cgroup_path: &str) -> Result<()> {
    let (unit, pid) = (&pinned.unit, pinned.handle.pid());
    if !pinned.handle.still_same()? {
        return Err(restarted(
            unit,
            &format!("its main process, PID {pid}, exited"),
        ));
    }
    if !in_cgroup(cgroup_path, &pinned.status.control_group) {
        return Err(restarted(
            unit,
            &format!(
                "PID {pid} is in cgroup {cgroup_path}, not the unit's {}: its number was reused",
                pinned.status.control_group
            ),
        ));
    }
    let now = if pinned.handle.start_time() < pinned.asked_at {
        None
    } else {
        Some(client.status(unit)?)
    };
    if let Some(now) = now.filter(|now| now.main_pid != pinned.status.main_pid) {
        return Err(restarted(
            unit,
            &format!(
                "its main PID was {}, now {}",
                pinned.status.main_pid,
                if now.main_pid == 0 {
                    "none".to_owned()
                } else {
                    now.main_pid.to_string()
                }
            ),
        ));
    }
    Ok(())
}

/// `sandgen inspect`.
pub fn inspect(conn: &Connection, args: InspectArgs) -> Result<()> {
    require_root("inspect")?;
    let unit = unit_name(&args.name, None)?;
    let client = conn.connect()?;
    let pinned = pin(&client, conn.namespace_holder(), &unit)?;
    let mut listings = Vec::new();
    if !args.ls.is_empty() {
        let namespace = MountNamespace::of(&pinned.handle).map_err(|e| match e {
            inspect::NamespaceError::Read(ReadError::Gone { pid }) => {
                restarted(&unit, &format!("its main process, PID {pid}, exited"))
            }
            other => other.into(),
        })?;
        for path in &args.ls {
            listings.push((path.clone(), namespace.list(path)?));
        }
    }
    let inspection =
        inspect::inspect(&unit, &pinned.handle, &pinned.roots).map_err(inspect_error)?;
    confirm(&client, &pinned, &inspection.cgroup.path)?;

    if args.json {
        let view = InspectView {
            inspection: &inspection,
            ls: listings
                .iter()
                .map(|(path, l)| LsView {
                    path: path.display().to_string(),
                    entry: &l.path,
                    entries: &l.entries,
                })
                .collect(),
        };
        outln!("{}", serde_json::to_string_pretty(&view)?)?;
        return Ok(());
    }
    super::output::stdout_fmt(format_args!(
        "{}",
        render_inspection(&pinned, &inspection, &args, &listings)
    ))?;
    Ok(())
}

/// `sandgen inspect --json`: the [`Inspection`], and the listings of `--ls`.
#[derive(Serialize)]
struct InspectView<'a> {
    #[serde(flatten)]
    inspection: &'a Inspection,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ls: Vec<LsView<'a>>,
}

#[derive(Serialize)]
struct LsView<'a> {
    path: String,
    entry: &'a DirEntry,
    entries: &'a [DirEntry],
}

/// The human report: a summary, or the sections asked for.
fn render_inspection(
    pinned: &Pinned,
    got: &Inspection,
    args: &InspectArgs,
    listings: &[(PathBuf, Listing)],
) -> String {
    let mut out = String::new();
    let main = got.pids.iter().find(|p| p.pid == got.main_pid);
    let comm = main.map(|p| format!(" ({})", p.comm)).unwrap_or_default();
    let inner = main
        .and_then(|p| p.nspid.last())
        .filter(|inner| **inner != got.main_pid)
        .map(|inner| format!(", PID {inner} in its PID namespace"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{}: {} ({}), main PID {}{comm}{inner}",
        got.unit, pinned.status.active_state, pinned.status.sub_state, got.main_pid
    );
    let any =
        args.mounts || !args.ls.is_empty() || args.caps || args.seccomp || args.cgroup || args.pids;
    if !any {
        let row = |out: &mut String, k: &str, v: String| {
            let _ = writeln!(out, "  {k:<8} {v}");
        };
        row(&mut out, "mounts", mounts_summary(got));
        row(&mut out, "caps", caps_summary(got));
        row(&mut out, "seccomp", seccomp_text(got));
        row(&mut out, "cgroup", cgroup_summary(&got.cgroup));
        row(&mut out, "pids", pids_summary(got));
        out.push_str("  details: --mounts --ls PATH --caps --seccomp --cgroup --pids, or --json\n");
        return out;
    }
    if args.mounts {
        out.push_str("\nmounts (+ only in the unit, ! replaces the manager's mount, ~ other options, - only in the manager's namespace):\n");
        out.push_str(&got.mounts.render_tree());
    }
    for (path, listing) in listings {
        let _ = writeln!(out, "\n{} as {} sees it:", path.display(), got.unit);
        out.push_str(&listing.render());
    }
    if args.caps {
        out.push_str("\ncapabilities:\n");
        out.push_str(&caps_text(got));
    }
    if args.seccomp {
        let _ = writeln!(out, "\nseccomp: {}", seccomp_text(got));
    }
    if args.cgroup {
        out.push('\n');
        out.push_str(&cgroup_text(&got.cgroup));
    }
    if args.pids {
        out.push('\n');
        out.push_str(&pids_text(got));
    }
    out
}

/// What differs in the unit's mount namespace, grouped by what it most likely is.
fn mounts_summary(got: &Inspection) -> String {
    let m = &got.mounts;
    let visible: Vec<_> = m
        .mounts
        .iter()
        .filter(|r| r.differs && m.top_at(&r.mount_point).is_some_and(|t| t.id == r.id))
        .collect();
    if visible.is_empty() && m.host_only.is_empty() {
        return format!(
            "the service manager's mount table ({} mounts), unchanged",
            m.mounts.len()
        );
    }
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for r in &visible {
        let note = r.note.clone().unwrap_or_else(|| "differs".to_owned());
        match groups.iter_mut().find(|(n, _)| *n == note) {
            Some((_, paths)) => paths.push(&r.mount_point),
            None => groups.push((note, vec![&r.mount_point])),
        }
    }
    let mut parts: Vec<String> = groups
        .into_iter()
        .map(|(note, paths)| {
            if paths.len() == 1 && note.contains(paths[0]) {
                note
            } else if paths.len() > 4 {
                format!("{note}: {} (+{})", paths[..4].join(" "), paths.len() - 4)
            } else if paths.len() == 1 && paths[0] == "/" {
                format!("/ {note}")
            } else {
                format!("{note}: {}", paths.join(" "))
            }
        })
        .collect();
    if !m.host_only.is_empty() {
        parts.push(format!(
            "{} of the manager's mounts absent",
            m.host_only.len()
        ));
    }
    parts.join("; ")
}

fn all_caps() -> u64 {
    (1u64 << (crate::data::capabilities::LAST_CAP + 1)) - 1
}

fn caps_mask(names: &[String]) -> u64 {
    names
        .iter()
        .filter_map(|n| crate::data::capabilities::by_name(n))
        .fold(0, |m, n| m | 1u64 << n)
}

fn caps_summary(got: &Inspection) -> String {
    let c = &got.capabilities;
    let set = |names: &[String]| verify::describe_caps(caps_mask(names), all_caps());
    format!(
        "bounding {}; effective {}; ambient {}; no_new_privs {}",
        set(&c.bounding),
        set(&c.effective),
        set(&c.ambient),
        if got.no_new_privs { "yes" } else { "no" }
    )
}

fn caps_text(got: &Inspection) -> String {
    let c = &got.capabilities;
    let mut out = String::new();
    for (name, set) in [
        ("effective", &c.effective),
        ("permitted", &c.permitted),
        ("inheritable", &c.inheritable),
        ("bounding", &c.bounding),
        ("ambient", &c.ambient),
    ] {
        let described = verify::describe_caps(caps_mask(set), all_caps());
        let _ = writeln!(out, "  {name:<13} {described}");
    }
    let _ = writeln!(
        out,
        "  {:<13} {}",
        "no_new_privs",
        if got.no_new_privs { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "  {:<13} not shown: {SECUREBITS_NOT_READABLE}",
        "securebits"
    );
    out
}

fn seccomp_text(got: &Inspection) -> String {
    let s = &got.seccomp;
    let filters = match s.filters {
        Some(1) => ", 1 filter".to_owned(),
        Some(n) => format!(", {n} filters"),
        None => String::new(),
    };
    match s.mode {
        SeccompMode::Disabled => "disabled: no system call filter".to_owned(),
        SeccompMode::Strict => "strict (only read, write, _exit, sigreturn)".to_owned(),
        SeccompMode::Filter => format!("filter{filters}"),
    }
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1}G", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1}M", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1}K", n as f64 / 1024.0),
        n => format!("{n}B"),
    }
}

fn opt<T: ToString>(v: Option<T>, none: &str) -> String {
    v.map_or_else(|| none.to_owned(), |v| v.to_string())
}

fn cgroup_summary(c: &CgroupState) -> String {
    let cpu = match (c.cpu_weight, c.cpu_shares) {
        (Some(w), _) => format!("cpu.weight {w}"),
        (None, Some(s)) => format!("cpu.shares {s}"),
        (None, None) => "no CPU weight".to_owned(),
    };
    format!(
        "{} (v{}): memory {} {}, {} OOM kills; {cpu}{}; tasks {} {}",
        c.path,
        version(c),
        opt(c.memory_current.map(bytes), "?"),
        c.memory_max
            .map_or_else(|| "(no limit)".to_owned(), |m| format!("of {}", bytes(m))),
        opt(c.oom_kills, "?"),
        c.cpu_quota
            .map(|q| format!(", quota {q:.0}%"))
            .unwrap_or_default(),
        opt(c.tasks_current, "?"),
        c.tasks_max
            .map_or_else(|| "(no limit)".to_owned(), |m| format!("of {m}")),
    )
}

fn version(c: &CgroupState) -> u8 {
    match c.version {
        inspect::cgroup::CgroupVersion::V1 => 1,
        inspect::cgroup::CgroupVersion::V2 => 2,
    }
}

fn cgroup_text(c: &CgroupState) -> String {
    // On cgroup v1 a controller not enabled for the unit leaves its processes in a parent's
    // cgroup of that hierarchy: say so, since that value is not the unit's.
    let unit = Path::new(&c.path).file_name();
    let file = |keys: &[&str]| -> String {
        let names: Vec<String> = keys
            .iter()
            .filter_map(|k| c.files.get(k))
            .filter_map(|p| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                let dir = p.parent()?;
                Some(if dir.file_name() == unit {
                    name
                } else {
                    format!("{name} of {}", dir.display())
                })
            })
            .collect();
        names.join(", ")
    };
    let mut rows: Vec<(&str, String, String)> = vec![
        (
            "memory",
            format!(
                "{} used, limit {}",
                opt(c.memory_current.map(bytes), "?"),
                opt(c.memory_max.map(bytes), "none")
            ),
            file(&["memory_current", "memory_max"]),
        ),
        (
            "limit hits",
            opt(c.memory_limit_hits, "?"),
            file(&["memory_limit_hits"]),
        ),
        ("OOM kills", opt(c.oom_kills, "?"), file(&["oom_kills"])),
    ];
    if c.version == inspect::cgroup::CgroupVersion::V2 {
        rows.push((
            "memory.high",
            opt(c.memory_high.map(bytes), "none"),
            file(&["memory_high"]),
        ));
        rows.push((
            "swap limit",
            opt(c.memory_swap_max.map(bytes), "none"),
            file(&["memory_swap_max"]),
        ));
    }
    rows.push(match (c.cpu_weight, c.cpu_shares) {
        (_, Some(s)) => ("CPU shares", s.to_string(), file(&["cpu_shares"])),
        (w, None) => ("CPU weight", opt(w, "?"), file(&["cpu_weight"])),
    });
    rows.push((
        "CPU quota",
        c.cpu_quota
            .map_or_else(|| "none".to_owned(), |q| format!("{q:.0}% of one CPU")),
        file(&["cpu_quota"]),
    ));
    rows.push(("cpuset", opt(c.cpuset.clone(), "?"), file(&["cpuset"])));
    rows.push((
        "tasks",
        format!(
            "{} of {}",
            opt(c.tasks_current, "?"),
            opt(c.tasks_max, "no limit")
        ),
        file(&["tasks_current", "tasks_max"]),
    ));
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let mut out = format!("cgroup {} (cgroup v{}):\n", c.path, version(c));
    for (name, value, files) in rows {
        let row = format!("  {name:<11} {value:<width$}  {files}");
        let _ = writeln!(out, "{}", row.trim_end());
    }
    out
}

fn pids_summary(got: &Inspection) -> String {
    let list: Vec<String> = got
        .pids
        .iter()
        .take(5)
        .map(|p| format!("{} {}", p.pid, p.comm))
        .collect();
    let more = got.pids.len().saturating_sub(5);
    format!(
        "{} process{}: {}{}",
        got.pids.len(),
        if got.pids.len() == 1 { "" } else { "es" },
        list.join(", "),
        if more > 0 {
            format!(" (+{more})")
        } else {
            String::new()
        }
    )
}

fn pids_text(got: &Inspection) -> String {
    let mut namespaces: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &got.pids {
        *namespaces
            .entry(p.pid_namespace.as_deref().unwrap_or("?"))
            .or_default() += 1;
    }
    let mine = std::fs::read_link("/proc/self/ns/pid")
        .map(|l| l.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = format!("processes of {}:\n", got.unit);
    let w = got
        .pids
        .iter()
        .map(|p| p.pid.to_string().len())
        .max()
        .unwrap_or(3)
        .max(3);
    let _ = writeln!(out, "  {:>w$} {:>6}  {:<15} CGROUP", "PID", "NSPID", "COMM");
    for p in &got.pids {
        let inner = p.nspid.last().copied().unwrap_or(p.pid);
        let cgroup = if p.cgroup.is_empty() { "." } else { &p.cgroup };
        let _ = writeln!(out, "  {:>w$} {:>6}  {:<15} {cgroup}", p.pid, inner, p.comm);
    }
    for (ns, count) in namespaces {
        let whose = if ns == mine {
            "sandgen's own: PIDs are the same inside"
        } else {
            "not sandgen's: NSPID is the PID they see"
        };
        let _ = writeln!(out, "  PID namespace {ns} ({count}): {whose}");
    }
    out
}

// ---- verify ----

/// The policy to verify against, and where it came from.
struct PolicyToCheck {
    loaded: Loaded,
    /// The policy file, or the unit file that records it.
    file: String,
    /// Whether it is the policy recorded in the unit file.
    recorded: bool,
}

impl PolicyToCheck {
    /// Where the policy came from, in words.
    fn from(&self) -> String {
        if self.recorded {
            format!("the policy recorded in {}", self.file)
        } else {
            self.file.clone()
        }
    }
}

/// The policy sandgen recorded in the installed unit file.
fn recorded_policy(conn: &Connection, host: &Host, status: &UnitStatus) -> Result<PolicyToCheck> {
    let unit = &status.unit;
    // systemd writes the properties of a transient unit to a file of its own there.
    if status.fragment_path.is_empty()
        || status.fragment_path.starts_with("/run/systemd/transient/")
    {
        bail!(
            "{unit} has no unit file (a transient unit from `sandgen run`?): give its policy with --policy FILE"
        );
    }
    let path = conn.host_path(Path::new(&status.fragment_path));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the unit file {}", path.display()))?;
    let Some(policy) = crate::unit::recorded_policy(&text) else {
        if crate::unit::is_generated(&text) {
            bail!(
                "{} records no policy (rendered by an older sandgen): install it again with `sandgen start`, or give --policy FILE",
                status.fragment_path
            );
        }
        bail!(
            "{} was not generated by sandgen, so it records no policy: give one with --policy FILE",
            status.fragment_path
        );
    };
    if status.need_daemon_reload {
        note(&format!(
            "{} changed since systemd loaded it (daemon-reload pending): the recorded policy may not be the one running",
            status.fragment_path
        ));
    }
    // The file name of the source gives the unit name when the policy names none.
    let name = format!("{} (recorded policy)", status.fragment_path);
    Ok(PolicyToCheck {
        loaded: host.load(&name, policy)?,
        file: status.fragment_path.clone(),
        recorded: true,
    })
}

/// `sandgen verify --json` output.
#[derive(Serialize)]
struct VerifyView<'a> {
    unit: &'a str,
    main_pid: u32,
    policy: &'a str,
    policy_recorded: bool,
    checks: &'a [Finding],
    pass: usize,
    fail: usize,
    not_checkable: usize,
}

/// `sandgen verify`.
pub fn verify(conn: &Connection, args: VerifyArgs) -> Result<()> {
    require_root("verify")?;
    let unit = unit_name(&args.name, None)?;
    let client = conn.connect()?;
    let pinned = pin(&client, conn.namespace_holder(), &unit)?;
    let version = match args.systemd_version {
        Some(v) => v,
        None => {
            let reported = client.version()?;
            crate::systemd::major_version(&reported).ok_or_else(|| {
                anyhow!("systemd reports version {reported:?}, which sandgen cannot read: give --systemd-version N")
            })?
        }
    };
    let host = Host::new(Some(version));
    let policy = match &args.policy {
        Some(path) => PolicyToCheck {
            loaded: super::load(&host, path)?,
            file: path.display().to_string(),
            recorded: false,
        },
        None => recorded_policy(conn, &host, &pinned.status)?,
    };
    let directives = &policy.loaded.directives;
    let manager_root = conn.root().unwrap_or(Path::new("/"));
    let facts = verify::facts::gather(
        &unit,
        &pinned.handle,
        &pinned.roots,
        manager_root,
        directives,
    )
    .map_err(inspect_error)?;
    confirm(&client, &pinned, &facts.inspection.cgroup.path)?;
    let findings = verify::verify(directives, &facts);
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    let (pass, fail, not_checkable) = (
        count(Status::Pass),
        count(Status::Fail),
        count(Status::NotCheckable),
    );
    if args.json {
        let view = VerifyView {
            unit: &unit,
            main_pid: facts.inspection.main_pid,
            policy: &policy.file,
            policy_recorded: policy.recorded,
            checks: &findings,
            pass,
            fail,
            not_checkable,
        };
        outln!("{}", serde_json::to_string_pretty(&view)?)?;
    } else {
        super::output::stdout_fmt(format_args!(
            "{}",
            render_findings(&unit, facts.inspection.main_pid, &policy.from(), &findings)
        ))?;
    }
    if fail > 0 {
        let keys: Vec<&str> = findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .map(|f| f.key.as_str())
            .collect();
        bail!(
            "{unit} does not run as {} asks: {} failed",
            policy.from(),
            keys.join(", ")
        );
    }
    Ok(())
}

/// At most `max` characters of `text`, with `…` for the rest.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn render_findings(unit: &str, main_pid: u32, from: &str, findings: &[Finding]) -> String {
    let mut out = format!("{unit} (main PID {main_pid}) against {from}:\n");
    let width = findings.iter().map(|f| f.key.len()).max().unwrap_or(0);
    for f in findings {
        let _ = writeln!(
            out,
            "  {:<13}  {:<width$}  {}={}: {}",
            f.status.label(),
            f.key,
            f.directive,
            clip(&f.policy, 40),
            f.evidence
        );
    }
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    let _ = writeln!(
        out,
        "{unit}: {} pass, {} fail, {} not checkable",
        count(Status::Pass),
        count(Status::Fail),
        count(Status::NotCheckable)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systemd::bus::{BusError, JobOutcome, JobVerb};
    use crate::systemd::properties::Property;
    use std::cell::RefCell;
    use std::process::{Child, Command};

    /// A systemd that reports the given statuses, one per call (the last one repeats).
    struct Fake(RefCell<Vec<UnitStatus>>);

    impl Systemd for Fake {
        fn version(&self) -> Result<String, BusError> {
            Ok("252.39-1~deb12u1".into())
        }
        fn reload(&self) -> Result<(), BusError> {
            Ok(())
        }
        fn is_loaded(&self, _unit: &str) -> Result<bool, BusError> {
            Ok(true)
        }
        fn status(&self, _unit: &str) -> Result<UnitStatus, BusError> {
            let mut list = self.0.borrow_mut();
            Ok(if list.len() > 1 {
                list.remove(0)
            } else {
                list[0].clone()
            })
        }
        fn job(&self, _: JobVerb, _: &str, _: bool) -> Result<JobOutcome, BusError> {
            unreachable!("inspect runs no jobs")
        }
        fn start_transient(
            &self,
            _: &str,
            _: &[Property],
            _: bool,
        ) -> Result<JobOutcome, BusError> {
            unreachable!("inspect starts nothing")
        }
        fn reset_failed(&self, _: &str) -> Result<(), BusError> {
            Ok(())
        }
        fn freeze(&self, _: &str, _: bool) -> Result<(), BusError> {
            Ok(())
        }
    }

    struct Reaped(Child);

    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn running(pid: u32, cgroup: &str) -> UnitStatus {
        UnitStatus {
            unit: "x.service".into(),
            load_state: "loaded".into(),
            active_state: "active".into(),
            sub_state: "running".into(),
            main_pid: pid,
            control_group: cgroup.into(),
            ..UnitStatus::default()
        }
    }

    fn own_cgroup() -> String {
        let me = std::process::id();
        inspect::cgroup::read_cgroup(Path::new("/proc"), Path::new("/sys/fs/cgroup"), me)
            .expect("our cgroup")
            .path
    }

    #[test]
    fn a_reused_pid_in_another_cgroup_is_never_reported() {
        // systemd names PID N as the main process; by the time sandgen pins N, it is a
        // process of another cgroup (this test's), as after the unit's process exited and
        // its number was reused.
        let child = Reaped(Command::new("sleep").arg("30").spawn().expect("sleep"));
        let fake = Fake(RefCell::new(vec![running(
            child.0.id(),
            "/system.slice/x.service",
        )]));
        let pinned = pin(&fake, None, "x.service").expect("pin");
        let got = inspect::inspect("x.service", &pinned.handle, &pinned.roots).expect("read");
        let err = confirm(&fake, &pinned, &got.cgroup.path).expect_err("foreign process");
        assert_eq!(
            err.to_string(),
            format!(
                "x.service restarted while sandgen read it (PID {} is in cgroup {}, not the \
                 unit's /system.slice/x.service: its number was reused): nothing is reported, \
                 since it could be another process's state; run the command again",
                child.0.id(),
                got.cgroup.path
            )
        );
    }

    #[test]
    fn a_main_pid_that_changed_during_the_reads_is_never_reported() {
        let child = Reaped(Command::new("sleep").arg("30").spawn().expect("sleep"));
        let cgroup = own_cgroup();
        let fake = Fake(RefCell::new(vec![
            running(child.0.id(), &cgroup),
            running(child.0.id() + 1, &cgroup),
        ]));
        let mut pinned = pin(&fake, None, "x.service").expect("pin");
        // A process that started in the clock tick of the question (or later) could be a
        // successor with the same PID: systemd is asked again, and names another PID.
        pinned.asked_at = pinned.handle.start_time();
        let err = confirm(&fake, &pinned, &cgroup).expect_err("restarted");
        assert!(
            err.to_string().contains(&format!(
                "(its main PID was {}, now {})",
                child.0.id(),
                child.0.id() + 1
            )),
            "{err}"
        );
        // A process older than the question is the one systemd named: no second question.
        let fake = Fake(RefCell::new(vec![
            running(child.0.id(), &cgroup),
            running(child.0.id() + 1, &cgroup),
        ]));
        let mut pinned = pin(&fake, None, "x.service").expect("pin");
        pinned.asked_at = pinned.handle.start_time() + 1;
        confirm(&fake, &pinned, &cgroup).expect("same process");
        assert_eq!(fake.0.borrow().len(), 1, "systemd was asked again");
        // Once the process is gone, nothing is confirmed.
        drop(child);
        let err = confirm(&fake, &pinned, &cgroup).expect_err("gone");
        assert!(err.to_string().contains("exited"), "{err}");
    }

    #[test]
    fn the_clock_is_the_one_of_process_start_times() {
        // This test process started before now, and at most ten minutes ago.
        let me = ProcessHandle::open(std::process::id()).expect("self");
        let now = boottime_ticks().expect("clock");
        assert!(me.start_time() <= now, "{} > {now}", me.start_time());
        assert!(
            now - me.start_time() < 600 * 100,
            "{now} vs {}",
            me.start_time()
        );
    }

    #[test]
    fn not_running_and_missing_units_are_clear_errors() {
        let stopped = UnitStatus {
            main_pid: 0,
            active_state: "inactive".into(),
            sub_state: "dead".into(),
            ..running(0, "")
        };
        let err = pin(&Fake(RefCell::new(vec![stopped])), None, "x.service")
            .err()
            .expect("not running");
        assert_eq!(
            err.to_string(),
            "x.service is not running (inactive (dead)): there is no process to look at \
             (sandgen start x starts it)"
        );
        let missing = UnitStatus {
            load_state: "not-found".into(),
            ..running(0, "")
        };
        let err = pin(&Fake(RefCell::new(vec![missing])), None, "x.service")
            .err()
            .expect("no unit");
        assert_eq!(
            err.to_string(),
            "x.service: no such unit (sandgen start POLICY installs and starts one)"
        );
        // Active without a main process (between two runs of a restarting unit): the message
        // must not say "not running (active (running))".
        let between = running(0, "");
        let err = pin(&Fake(RefCell::new(vec![between])), None, "x.service")
            .err()
            .expect("no main process");
        assert_eq!(
            err.to_string(),
            "x.service has no main process right now (active (running)): there is no process \
             to look at; if it is restarting, run the command again"
        );
    }

    #[test]
    fn cgroup_paths_match_from_outside_a_container() {
        let unit = "/system.slice/heat.service";
        assert!(in_cgroup("/system.slice/heat.service", unit));
        assert!(in_cgroup(
            "/sandgen-harness-x/payload/system.slice/heat.service",
            unit
        ));
        assert!(in_cgroup("/system.slice/heat.service/worker", unit));
        assert!(!in_cgroup("/system.slice/heat.service2", unit));
        assert!(!in_cgroup("/user.slice/x", unit));
        assert!(!in_cgroup("/x", ""));
    }

    #[test]
    fn the_summary_of_a_fixture_unit_reads_at_a_glance() {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect/cgroup-v2");
        let roots = Roots {
            proc: fixture.join("proc"),
            cgroup: fixture.join("sys/fs/cgroup"),
            host_pid: None,
        };
        let got = inspect::read_all("heat.service", 812, &roots).expect("fixture");
        let me = ProcessHandle::open(std::process::id()).expect("self");
        let pinned = Pinned {
            unit: "heat.service".into(),
            status: running(812, "/system.slice/heat.service"),
            handle: me,
            roots,
            asked_at: 0,
        };
        let args = InspectArgs {
            name: "heat".into(),
            mounts: false,
            ls: vec![],
            caps: false,
            seccomp: false,
            cgroup: false,
            pids: false,
            json: false,
        };
        let text = render_inspection(&pinned, &got, &args, &[]);
        assert_eq!(
            text,
            "\
heat.service: active (running), main PID 812 (heat)
  mounts   new tmpfs: /tmp; private /dev; bind mount, read-only: /work; new tmpfs, read-only: /home
  caps     bounding all but CAP_NET_ADMIN CAP_SYS_RAWIO CAP_SYS_RESOURCE CAP_MKNOD; effective all but CAP_NET_ADMIN CAP_SYS_RAWIO CAP_SYS_RESOURCE CAP_MKNOD; ambient none; no_new_privs yes
  seccomp  filter, 6 filters
  cgroup   /system.slice/heat.service (v2): memory 1.3M of 100.0M, 3 OOM kills; cpu.weight 50, quota 50%; tasks 2 of 16
  pids     3 processes: 812 heat, 815 heat-worker, 820 sleep
  details: --mounts --ls PATH --caps --seccomp --cgroup --pids, or --json
"
        );
    }

    #[test]
    fn prints_cgroup_and_caps_sections() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect");
        let v1 = inspect::cgroup::read_cgroup(
            &fixtures.join("cgroup-v1/proc"),
            &fixtures.join("cgroup-v1/sys/fs/cgroup"),
            9540,
        )
        .expect("fixture");
        // systemd 252 does not manage cpuset on v1: the unit sits in the root cpuset.
        assert_eq!(
            cgroup_text(&v1),
            format!(
                "\
cgroup /system.slice/heat.service (cgroup v1):
  memory      300.0K used, limit 100.0M  memory.usage_in_bytes, memory.limit_in_bytes
  limit hits  5                          memory.failcnt
  OOM kills   1                          memory.oom_control
  CPU shares  512                        cpu.shares
  CPU quota   50% of one CPU             cpu.cfs_quota_us
  cpuset      0-1                        cpuset.cpus of {}
  tasks       2 of 16                    pids.current, pids.max
",
                fixtures.join("cgroup-v1/sys/fs/cgroup/cpuset").display()
            )
        );
        let roots = Roots {
            proc: fixtures.join("cgroup-v2/proc"),
            cgroup: fixtures.join("cgroup-v2/sys/fs/cgroup"),
            host_pid: None,
        };
        let got = inspect::read_all("heat.service", 812, &roots).expect("fixture");
        assert_eq!(
            cgroup_text(&got.cgroup),
            "\
cgroup /system.slice/heat.service (cgroup v2):
  memory      1.3M used, limit 100.0M  memory.current, memory.max
  limit hits  41                       memory.events
  OOM kills   3                        memory.events
  memory.high none
  swap limit  none
  CPU weight  50                       cpu.weight
  CPU quota   50% of one CPU           cpu.max
  cpuset      1                        cpuset.cpus.effective
  tasks       2 of 16                  pids.current, pids.max
"
        );
        let caps = caps_text(&got);
        assert!(
            caps.starts_with(
                "  effective     all but CAP_NET_ADMIN CAP_SYS_RAWIO CAP_SYS_RESOURCE CAP_MKNOD\n"
            ),
            "{caps}"
        );
        assert!(caps.contains("\n  inheritable   none\n"), "{caps}");
        assert!(caps.contains("\n  no_new_privs  yes\n"), "{caps}");
        assert!(
            caps.ends_with(&format!(
                "  securebits    not shown: {SECUREBITS_NOT_READABLE}\n"
            )),
            "{caps}"
        );
    }
}
