//! `sandgen verify`: is the running unit sandboxed the way its policy says?
//!
//! systemd accepts a unit and reports it `active (running)`; that does not prove the kernel
//! enforces what the unit asked for. A directive can be ignored on this cgroup layout
//! (`MemorySwapMax=` on cgroup v1), lost to a unit file edited by hand, or the running
//! process can predate the last `daemon-reload`. This module compares, directive by
//! directive, what a policy asks for with the kernel's own state of the running unit
//! ([`facts::Facts`], gathered from `/proc` and the cgroup file system), and says for each one
//! PASS, FAIL or NOT CHECKABLE, with the evidence.
//!
//! Every directive sandgen can emit ([`crate::directive::table::SPECS`]) has a [`Rule`]: a
//! check, or the reason it cannot be checked from outside the process (securebits,
//! ordering dependencies, ...). The checks are pure functions
//! of the directives and the facts.
//!
//! Two conventions:
//! - A boolean that turns a restriction *off* (`PrivateTmp=no`) asks for nothing, so it never
//!   fails: systemd turns some restrictions on by implication (`DynamicUser=` implies
//!   `PrivateTmp=`, `SystemCallFilter=` implies `NoNewPrivileges=` for unprivileged units), and
//!   the evidence says what is in force anyway.
//! - Directives systemd implements with seccomp (`SystemCallFilter=`, `RestrictNamespaces=`,
//!   `LockPersonality=`, ...) are checked against the unit's filters, read from the kernel
//!   with `ptrace(PTRACE_SECCOMP_GET_FILTER)` and evaluated ([`crate::seccomp`],
//!   [`syscalls`]): the exact set of calls, the address families socket(2) accepts, the
//!   namespace types unshare(2) accepts, the calls with the arguments a directive forbids.
//!   With `--no-ptrace` (or when the filters cannot be read) they pass when the process runs
//!   in seccomp filter mode, and the evidence says that this is all that was seen.

pub(crate) mod facts;
pub(crate) mod report;
pub(crate) mod syscalls;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::data::capabilities;
use crate::directive::{
    cpu_shares_to_weight, Amount, CpuSet, Directive, DirectiveValue, Name, Size,
};
use crate::inspect::cgroup::{AttachedProgram, CgroupVersion};
use crate::inspect::mounts::{Difference, MountReport};
use crate::inspect::{SeccompMode, SECCOMP_STRICT_MEANING, SECUREBITS_NOT_READABLE};
pub(crate) use facts::Facts;
use facts::NoDisk;

/// The verdict on one directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// The kernel's state is what the directive asks for.
    Pass,
    /// It is not.
    Fail,
    /// Nothing outside the process shows whether it is.
    NotCheckable,
}

impl Status {
    /// `PASS`, `FAIL`, `NOT CHECKABLE`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotCheckable => "NOT CHECKABLE",
        }
    }
}

/// The verdict on one directive of the policy, with its evidence. The field names are stable
/// JSON keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Finding {
    /// The policy key, `resources.memory_max`.
    pub key: String,
    /// The directive it became, `MemoryMax`.
    pub directive: Name,
    /// The directive's value as the unit file has it, `64M`.
    pub policy: String,
    /// The verdict.
    pub status: Status,
    /// What the kernel shows, in words.
    pub evidence: String,
    /// The kernel file the evidence comes from, when it is one file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// How a directive is verified.
#[derive(Clone, Copy)]
pub(crate) enum Rule {
    /// Compare the directive with the facts.
    Check(fn(&Directive, &Context<'_>) -> Outcome),
    /// The reason it cannot be checked from outside the process.
    NotCheckable(&'static str),
}

/// What a check sees: the facts, and every directive of the policy (some directives change
/// what others do: `ProtectClock=` drops capabilities from the bounding set).
pub(crate) struct Context<'a> {
    /// The facts.
    pub facts: &'a Facts,
    /// All directives of the policy.
    pub all: &'a [Directive],
}

/// A check's verdict.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    status: Status,
    evidence: String,
    file: Option<PathBuf>,
}

fn pass(evidence: impl Into<String>) -> Outcome {
    Outcome {
        status: Status::Pass,
        evidence: evidence.into(),
        file: None,
    }
}

fn fail(evidence: impl Into<String>) -> Outcome {
    Outcome {
        status: Status::Fail,
        evidence: evidence.into(),
        file: None,
    }
}

fn unknown(evidence: impl Into<String>) -> Outcome {
    Outcome {
        status: Status::NotCheckable,
        evidence: evidence.into(),
        file: None,
    }
}

impl Outcome {
    fn with_file(mut self, file: Option<&PathBuf>) -> Self {
        self.file = file.cloned();
        self
    }
}

/// The rule for a directive. The match is exhaustive: a new directive does not compile
/// until it has a check or the reason it cannot have one.
pub(crate) fn rule(directive: Name) -> Rule {
    use Name as N;
    use Rule::{Check, NotCheckable};
    match directive {
        N::Description => NotCheckable("a label for systemctl and the journal: nothing in the kernel records it"),
        N::Type => NotCheckable("how systemd tracks the start-up (fork, notify, ...): the kernel keeps no trace of it"),
        N::ExecStart => Check(exec_start),
        N::User => Check(user),
        N::Group => Check(group),
        N::DynamicUser => Check(dynamic_user),
        N::WorkingDirectory => Check(working_directory),
        N::Environment => Check(environment),
        N::UMask => Check(umask),
        N::RuntimeDirectory => NotCheckable("a directory systemd creates under /run for the unit; sandgen writes it only for its own tracing units"),
        N::Restart => NotCheckable("what systemd does after the service exits: nothing to see while it runs"),
        N::TimeoutStartSec => NotCheckable("a time-out systemd applies while starting: nothing in the kernel records it"),
        N::KeyringMode => NotCheckable("a process's session keyring is visible only to the process itself (keyctl(2)); /proc/keys lists the reader's keys"),
        N::MemoryMax | N::MemoryLimit => Check(memory_max),
        N::MemoryHigh => Check(memory_high),
        N::MemoryLow => Check(memory_low),
        N::MemorySwapMax => Check(memory_swap_max),
        N::MemoryZSwapMax => Check(memory_zswap_max),
        N::MemoryZSwapWriteback => Check(memory_zswap_writeback),
        N::OOMPolicy => NotCheckable("what systemd does after an OOM kill: nothing to see while it runs"),
        N::CPUWeight | N::CPUShares => Check(cpu_weight),
        N::CPUQuota => Check(cpu_quota),
        N::AllowedCPUs => Check(allowed_cpus),
        N::CPUAffinity => Check(cpu_affinity),
        N::IOWeight => Check(io_weight),
        N::IOReadBandwidthMax | N::IOWriteBandwidthMax | N::IOReadIOPSMax | N::IOWriteIOPSMax => Check(io_limit),
        N::TasksMax => Check(tasks_max),
        N::CapabilityBoundingSet => Check(bounding_set),
        N::AmbientCapabilities => Check(ambient),
        N::NoNewPrivileges => Check(no_new_privileges),
        N::SecureBits => NotCheckable(SECUREBITS_NOT_READABLE),
        N::SystemCallFilter => Check(system_call_filter),
        N::SystemCallArchitectures => Check(system_call_architectures),
        N::SystemCallLog => Check(seccomp),
        N::LockPersonality | N::MemoryDenyWriteExecute | N::RestrictRealtime
        | N::RestrictSUIDSGID => Check(argument_filter),
        N::RestrictAddressFamilies => Check(restrict_address_families),
        N::RestrictNamespaces => Check(restrict_namespaces),
        N::SystemCallErrorNumber => Check(system_call_error_number),
        N::RootDirectory => Check(root_directory),
        N::MountAPIVFS => Check(mount_api_vfs),
        N::PrivateTmp => Check(private_tmp),
        N::PrivateDevices => Check(private_devices),
        N::PrivateMounts => Check(private_mounts),
        N::ProtectHome => Check(protect_home),
        N::ProtectSystem => Check(protect_system),
        N::ReadWritePaths => Check(read_write_paths),
        N::ReadOnlyPaths => Check(read_only_paths),
        N::InaccessiblePaths => Check(inaccessible_paths),
        N::BindPaths | N::BindReadOnlyPaths => Check(bind_paths),
        N::ProtectKernelTunables => Check(protect_kernel_tunables),
        N::ProtectKernelModules => Check(protect_kernel_modules),
        N::ProtectKernelLogs => Check(protect_kernel_logs),
        N::ProtectControlGroups => Check(protect_control_groups),
        N::ProtectClock => Check(protect_clock),
        N::ProtectProc => Check(protect_proc),
        N::ProcSubset => Check(proc_subset),
        N::PrivateNetwork => Check(private_network),
        N::PrivateIPC => Check(private_ipc),
        N::PrivateUsers => Check(private_users),
        N::PrivatePIDs => Check(private_pids),
        N::ProtectHostname => Check(protect_hostname),
        N::IPAddressAllow | N::IPAddressDeny => Check(ip_firewall),
        N::SELinuxContext => Check(selinux_context),
        N::AppArmorProfile => Check(apparmor_profile),
        N::RemoveIPC => NotCheckable("takes effect when the service stops: nothing to see while it runs"),
        N::After | N::Before => NotCheckable("the order of systemd's start jobs: not kernel state of the running service"),
        N::Requires | N::Wants => NotCheckable("dependencies between units in systemd: not kernel state of the running service"),
        N::WantedBy => NotCheckable("what `systemctl enable` links: not kernel state of the running service"),
    }
}

/// What the kernel shows of the unit that no directive asked for but a reader of the
/// verdicts should know: a main process in seccomp strict mode, which the program entered
/// itself.
pub(crate) fn notes(facts: &Facts) -> Vec<String> {
    let mut notes = Vec::new();
    if facts.inspection.seccomp.mode == SeccompMode::Strict {
        notes.push(format!(
            "the main process is in seccomp strict mode (Seccomp: 1 in /proc/PID/status): {SECCOMP_STRICT_MEANING}"
        ));
    }
    notes
}

/// Verify every directive against the facts, in the directives' order.
pub(crate) fn verify(directives: &[Directive], facts: &Facts) -> Vec<Finding> {
    let cx = Context {
        facts,
        all: directives,
    };
    directives
        .iter()
        .map(|d| {
            let outcome = match rule(d.name) {
                Rule::Check(check) => check(d, &cx),
                Rule::NotCheckable(reason) => unknown(reason),
            };
            Finding {
                key: d.origin.clone(),
                directive: d.name,
                policy: crate::unit::value_text(d).unwrap_or_else(|_| format!("{:?}", d.value)),
                status: outcome.status,
                evidence: outcome.evidence,
                file: outcome.file,
            }
        })
        .collect()
}

// ---- values of directives ----

fn flag(d: &Directive) -> Option<bool> {
    d.value.as_bool()
}

/// The text of a word or text value (`User=`, `ProtectSystem=strict`, a path).
fn token(d: &Directive) -> &str {
    d.value.as_text().unwrap_or_default()
}

fn word_list(d: &Directive) -> (&[String], bool) {
    d.value.words()
}

/// The verdict for a directive whose value is not of the type its check takes: lowering
/// never makes one, so this says so rather than guess.
fn mismatch(d: &Directive) -> Outcome {
    unknown(format!(
        "{}= has a value of another type than its check takes ({:?})",
        d.name, d.value
    ))
}

fn has_flag(all: &[Directive], name: Name) -> bool {
    all.iter().any(|d| d.name == name && flag(d) == Some(true))
}

/// Bytes as the policy would write them: `64M`, `1.5G`, `1234`.
fn bytes(n: u64) -> String {
    crate::text::bytes(n, crate::text::ByteStyle::Policy)
}

/// The file name of a cgroup evidence file (`memory.limit_in_bytes`).
fn file_name(path: Option<&PathBuf>) -> String {
    path.and_then(|p| p.file_name()).map_or_else(
        || "(no file)".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The CPUs of a CPU list the kernel wrote (`cpuset.cpus.effective`, `Cpus_allowed_list`);
/// an empty list is no CPU.
fn kernel_cpus(list: &str) -> Option<BTreeSet<u32>> {
    let list = list.trim();
    if list.is_empty() {
        return Some(BTreeSet::new());
    }
    CpuSet::parse(list).ok().map(|c| c.cpus)
}

/// On cgroup v1, a controller that is not enabled for the unit leaves its processes in a
/// parent's cgroup of that hierarchy, and the file read is the parent's: the unit sets
/// nothing there. The evidence for that, when `file` (of `key`) is such a file.
fn not_own(cx: &Context<'_>, file: Option<&PathBuf>) -> Option<String> {
    let cg = &cx.facts.inspection.cgroup;
    if cg.version != CgroupVersion::V1 {
        return None;
    }
    let unit = Path::new(&cg.path).file_name()?;
    let dir = file?.parent()?;
    let controller = file?
        .file_name()?
        .to_string_lossy()
        .split('.')
        .next()
        .unwrap_or("")
        .to_owned();
    (dir.file_name() != Some(unit)).then(|| {
        format!(
            "the unit has no {controller} cgroup of its own: its processes are in {}",
            dir.display()
        )
    })
}

// ---- [service] ----

fn exec_start(d: &Directive, cx: &Context<'_>) -> Outcome {
    let DirectiveValue::Command(argv) = &d.value else {
        return unknown("not a command line");
    };
    let running = &cx.facts.process.cmdline;
    if running == argv {
        pass("the main process runs exactly this command line (/proc/PID/cmdline)")
    } else {
        unknown(format!(
            "the main process now runs `{}`: a program may exec another (sh -c '...; exec sleep'), \
             so a different command line proves nothing",
            running.join(" ")
        ))
    }
}

/// The UID range systemd allocates dynamic users from (systemd's `DYNAMIC_UID_MIN/MAX`).
const DYNAMIC_IDS: std::ops::RangeInclusive<u32> = 61184..=65519;

fn id_check(
    cx: &Context<'_>,
    what: &str,
    name: &str,
    known: Option<u32>,
    actual: Option<u32>,
) -> Outcome {
    let Some(actual) = actual else {
        return unknown(format!("the main process's {what} could not be read"));
    };
    let expected = name.parse::<u32>().ok().or(known);
    match expected {
        Some(id) if id == actual => pass(format!("the main process runs as {what} {actual}")),
        Some(id) => fail(format!(
            "the main process runs as {what} {actual}, not {name} ({id})"
        )),
        None if has_flag(cx.all, Name::DynamicUser) => {
            if DYNAMIC_IDS.contains(&actual) {
                pass(format!(
                    "{name} is a dynamic user; the main process runs as {what} {actual}, in \
                     systemd's dynamic range {}-{}",
                    DYNAMIC_IDS.start(),
                    DYNAMIC_IDS.end()
                ))
            } else {
                fail(format!(
                    "{name} should be a dynamic {what}, but the main process runs as {what} {actual}"
                ))
            }
        }
        None => unknown(format!(
            "{name} is not in the service manager's /etc/{}; the main process runs as {what} {actual}",
            if what == "uid" { "passwd" } else { "group" }
        )),
    }
}

fn user(d: &Directive, cx: &Context<'_>) -> Outcome {
    let name = token(d);
    let known = cx.facts.accounts.users.get(name).map(|a| a.uid);
    id_check(cx, "uid", name, known, cx.facts.process.uid)
}

fn group(d: &Directive, cx: &Context<'_>) -> Outcome {
    let name = token(d);
    let known = cx.facts.accounts.groups.get(name).copied();
    id_check(cx, "gid", name, known, cx.facts.process.gid)
}

fn dynamic_user(d: &Directive, cx: &Context<'_>) -> Outcome {
    let Some(uid) = cx.facts.process.uid else {
        return unknown("the main process's uid could not be read");
    };
    let dynamic = DYNAMIC_IDS.contains(&uid);
    match (flag(d) == Some(true), dynamic) {
        (true, true) => pass(format!("uid {uid} is in systemd's dynamic range")),
        (true, false) => fail(format!(
            "uid {uid} is not in systemd's dynamic range {}-{}",
            DYNAMIC_IDS.start(),
            DYNAMIC_IDS.end()
        )),
        (false, _) => pass(format!("not requested; the main process runs as uid {uid}")),
    }
}

fn working_directory(d: &Directive, cx: &Context<'_>) -> Outcome {
    let f = cx.facts;
    let value = token(d);
    let (dir, optional) = if value == "~" {
        match f.accounts.home_of(facts::service_user(cx.all)) {
            Some(home) => (home, false),
            None => return unknown("`~`: the service user's home directory is not known"),
        }
    } else {
        let (dir, optional) = facts::strip_optional(value);
        (dir.to_owned(), optional)
    };
    let cwd = f.process.cwd.as_deref().unwrap_or("(unreadable)");
    match (f.paths.unit.get(&dir).copied().flatten(), f.paths.cwd) {
        (Some(want), Some(have)) if want == have => {
            pass(format!("the main process's cwd is {cwd}"))
        }
        (Some(_), Some(_)) => fail(format!("the main process's cwd is {cwd}, not {dir}")),
        (None, _) if optional => pass(format!(
            "{dir} does not exist in the unit's view, which `-` allows; cwd is {cwd}"
        )),
        (None, _) => fail(format!(
            "{dir} does not exist in the unit's view; cwd is {cwd}"
        )),
        (_, None) => unknown("the main process's cwd could not be read"),
    }
}

fn environment(d: &Directive, cx: &Context<'_>) -> Outcome {
    let DirectiveValue::Environment { name, value } = &d.value else {
        return unknown("not an environment assignment");
    };
    let prefix = format!("{name}=");
    match cx
        .facts
        .process
        .environ
        .iter()
        .find_map(|e| e.strip_prefix(&prefix))
    {
        Some(v) if v == value => pass(format!(
            "{name} is set in the main process's environment (/proc/PID/environ)"
        )),
        Some(v) => fail(format!(
            "{name}={} in the main process's environment",
            v.escape_debug()
        )),
        None => fail(format!("{name} is not in the main process's environment")),
    }
}

fn umask(d: &Directive, cx: &Context<'_>) -> Outcome {
    let DirectiveValue::UMask(want) = d.value else {
        return mismatch(d);
    };
    match cx.facts.process.umask {
        None => unknown(
            "this kernel does not show a process's umask (Umask: in /proc/PID/status, Linux 4.7+)",
        ),
        Some(have) if have == want => pass(format!("Umask {have:04o}")),
        Some(have) => fail(format!("Umask {have:04o}, not {want:04o}")),
    }
}

// ---- [resources]: cgroups ----

/// Compare a memory limit with the policy's amount.
fn memory_limit(d: &Directive, cx: &Context<'_>, have: Option<u64>, key: &str) -> Outcome {
    let f = cx.facts;
    let file = f.inspection.cgroup.files.get(key);
    let shown = |n: Option<u64>| match n {
        Some(n) => format!("{n} ({})", bytes(n)),
        None => "max (no limit)".to_owned(),
    };
    let (have, evidence) = match not_own(cx, file) {
        Some(why) => (None, why),
        None => (have, format!("cgroup {} {}", file_name(file), shown(have))),
    };
    let page = f.system.page_size.max(1);
    let DirectiveValue::Size(size) = &d.value else {
        return mismatch(d);
    };
    let verdict = match size.amount {
        Amount::Infinity => have.is_none(),
        // The kernel keeps limits in pages and rounds a limit down to one.
        Amount::Value(want) => have.is_some_and(|n| n == want || n == want / page * page),
        Amount::Percent(p) => match (f.system.memory_total, have) {
            (Some(total), Some(n)) => {
                let want = total as f64 * f64::from(p) / 100.0;
                // systemd takes the percentage of what it sees as physical memory, which
                // a memory limit on its own cgroup can lower: allow 1% of RAM.
                (n as f64 - want).abs() <= total as f64 / 100.0
            }
            (None, _) => return unknown("the size of physical memory could not be read"),
            (_, None) => false,
        },
    };
    if verdict {
        pass(evidence).with_file(file)
    } else {
        fail(evidence).with_file(file)
    }
}

fn not_on_v1(d: &Directive) -> Outcome {
    unknown(format!(
        "cgroup v1 memory controller: systemd applies {}= only on cgroup v2, so it is not in force on this host",
        d.name
    ))
}

fn memory_max(d: &Directive, cx: &Context<'_>) -> Outcome {
    memory_limit(d, cx, cx.facts.inspection.cgroup.memory_max, "memory_max")
}

fn memory_high(d: &Directive, cx: &Context<'_>) -> Outcome {
    match cx.facts.inspection.cgroup.version {
        CgroupVersion::V1 => not_on_v1(d),
        CgroupVersion::V2 => {
            memory_limit(d, cx, cx.facts.inspection.cgroup.memory_high, "memory_high")
        }
    }
}

fn memory_swap_max(d: &Directive, cx: &Context<'_>) -> Outcome {
    match cx.facts.inspection.cgroup.version {
        CgroupVersion::V1 => not_on_v1(d),
        CgroupVersion::V2 => memory_limit(
            d,
            cx,
            cx.facts.inspection.cgroup.memory_swap_max,
            "memory_swap_max",
        ),
    }
}

fn memory_zswap_max(d: &Directive, cx: &Context<'_>) -> Outcome {
    let cg = &cx.facts.inspection.cgroup;
    match cg.version {
        CgroupVersion::V1 => not_on_v1(d),
        CgroupVersion::V2 if !cg.files.contains_key("memory_zswap_max") => unknown(
            "the unit's cgroup has no memory.zswap.max: this kernel does not account zswap per cgroup (Linux 5.19+ with zswap)",
        ),
        CgroupVersion::V2 => memory_limit(d, cx, cg.memory_zswap_max, "memory_zswap_max"),
    }
}

fn memory_zswap_writeback(d: &Directive, cx: &Context<'_>) -> Outcome {
    let cg = &cx.facts.inspection.cgroup;
    if cg.version == CgroupVersion::V1 {
        return not_on_v1(d);
    }
    let file = cg.files.get("memory_zswap_writeback");
    let Some(have) = cg.memory_zswap_writeback else {
        return unknown(
            "the unit's cgroup has no memory.zswap.writeback: this kernel cannot stop zswap writeback per cgroup (Linux 6.8+)",
        );
    };
    let Some(want) = flag(d) else {
        return mismatch(d);
    };
    let evidence = format!("cgroup memory.zswap.writeback {}", u8::from(have));
    if have == want {
        pass(evidence).with_file(file)
    } else {
        fail(evidence).with_file(file)
    }
}

fn memory_low(d: &Directive, cx: &Context<'_>) -> Outcome {
    let cg = &cx.facts.inspection.cgroup;
    if cg.version == CgroupVersion::V1 {
        return not_on_v1(d);
    }
    // memory.low is a protection: 0 means none, not "unlimited".
    let file = cg.files.get("memory_low");
    let have = cg.memory_low.unwrap_or(0);
    let want = match &d.value {
        DirectiveValue::Size(Size {
            amount: Amount::Value(v),
            ..
        }) => *v,
        DirectiveValue::Size(Size {
            amount: Amount::Infinity,
            ..
        }) => u64::MAX,
        DirectiveValue::Size(size) => {
            return unknown(format!(
                "`{}`: a percentage of RAM is not checked",
                size.text
            ))
        }
        _ => return mismatch(d),
    };
    let page = cx.facts.system.page_size.max(1);
    let evidence = format!("cgroup memory.low {have} ({})", bytes(have));
    if have == want || have == want / page * page || (want == u64::MAX && cg.memory_low.is_none()) {
        pass(evidence).with_file(file)
    } else {
        fail(evidence).with_file(file)
    }
}

/// systemd's conversion from a cgroup v2 weight to v1 shares (`cgroup_cpu_weight_to_shares`).
fn weight_to_shares(weight: u64) -> u64 {
    (weight * 1024 / 100).clamp(2, 262_144)
}

fn cpu_weight(d: &Directive, cx: &Context<'_>) -> Outcome {
    let cg = &cx.facts.inspection.cgroup;
    let DirectiveValue::Integer(value) = d.value else {
        return mismatch(d);
    };
    // CPUShares= (systemd before 232) is in shares; CPUWeight= in weight.
    let weight = if d.name == Name::CPUShares {
        cpu_shares_to_weight(value)
    } else {
        value
    };
    let (have, want, file, what) = match cg.version {
        CgroupVersion::V2 => (
            cg.cpu_weight,
            weight,
            cg.files.get("cpu_weight"),
            "cpu.weight",
        ),
        CgroupVersion::V1 => {
            let shares = if d.name == Name::CPUShares {
                value
            } else {
                weight_to_shares(weight)
            };
            (
                cg.cpu_shares,
                shares,
                cg.files.get("cpu_shares"),
                "cpu.shares",
            )
        }
    };
    let conversion = match (cg.version, d.name) {
        (CgroupVersion::V1, Name::CPUWeight) => format!(" (= {weight} * 1024 / 100)"),
        (CgroupVersion::V2, Name::CPUShares) => format!(" (= {value} * 100 / 1024)"),
        _ => String::new(),
    };
    if let Some(why) = not_own(cx, file) {
        return fail(why).with_file(file);
    }
    match have {
        Some(n) if n == want => pass(format!("cgroup {what} {n}{conversion}")).with_file(file),
        Some(n) => fail(format!("cgroup {what} {n}, not {want}{conversion}")).with_file(file),
        None => fail(format!("the unit's cgroup has no {what}")),
    }
}

fn cpu_quota(d: &Directive, cx: &Context<'_>) -> Outcome {
    let cg = &cx.facts.inspection.cgroup;
    let file = cg.files.get("cpu_quota");
    let DirectiveValue::Percent(want) = d.value else {
        return mismatch(d);
    };
    let want = want as f64;
    let what = match cg.version {
        CgroupVersion::V2 => "cpu.max",
        CgroupVersion::V1 => "cpu.cfs_quota_us / cpu.cfs_period_us",
    };
    if let Some(why) = not_own(cx, file) {
        return fail(why).with_file(file);
    }
    match cg.cpu_quota {
        // systemd rounds the quota to whole microseconds per period.
        Some(have) if (have - want).abs() < 0.5 => {
            pass(format!("cgroup {what}: {have:.0}% of one CPU")).with_file(file)
        }
        Some(have) => fail(format!("cgroup {what}: {have:.0}% of one CPU")).with_file(file),
        None => fail(format!("cgroup {what}: no quota")).with_file(file),
    }
}

fn allowed_cpus(d: &Directive, cx: &Context<'_>) -> Outcome {
    let cg = &cx.facts.inspection.cgroup;
    if cg.version == CgroupVersion::V1 {
        return unknown(
            "cgroup v1: systemd 252 does not manage the v1 cpuset controller, so AllowedCPUs= is \
             not in force on this host (CPUAffinity= pins on every layout)",
        );
    }
    let file = cg.files.get("cpuset");
    let have = cg.cpuset.as_deref().unwrap_or("");
    let DirectiveValue::CpuSet(want) = &d.value else {
        return mismatch(d);
    };
    match kernel_cpus(have) {
        Some(got) if want.cpus == got && !got.is_empty() => {
            pass(format!("cgroup cpuset.cpus.effective {have}")).with_file(file)
        }
        _ => fail(format!(
            "cgroup cpuset.cpus.effective {}",
            if have.is_empty() { "(none)" } else { have }
        ))
        .with_file(file),
    }
}

fn cpu_affinity(d: &Directive, cx: &Context<'_>) -> Outcome {
    let Some(have) = cx.facts.process.cpus_allowed.as_deref() else {
        return unknown("Cpus_allowed_list of the main process could not be read");
    };
    let DirectiveValue::CpuSet(want) = &d.value else {
        return mismatch(d);
    };
    match kernel_cpus(have) {
        Some(got) if want.cpus == got => {
            pass(format!("the main process's Cpus_allowed_list is {have}"))
        }
        _ => fail(format!("the main process's Cpus_allowed_list is {have}")),
    }
}

/// systemd's conversion of a weight to BFQ's scale (`BFQ_WEIGHT()` in systemd's
/// src/core/cgroup.c: 1..100..10000 onto 1..100..1000). On cgroup v1 systemd 252 applies it to
/// the blkio weight (10..500..1000), so the default blkio weight 500 reads as 136.
fn bfq_weight(weight: u64) -> u64 {
    if weight <= 100 {
        100 - (100 - weight) * 99 / 99
    } else {
        100 + (weight - 100) * 900 / 9900
    }
}

fn io_weight(d: &Directive, cx: &Context<'_>) -> Outcome {
    let cg = &cx.facts.inspection.cgroup;
    let DirectiveValue::Integer(weight) = d.value else {
        return mismatch(d);
    };
    let (have, file) = match cg.version {
        CgroupVersion::V2 => (cg.io_weight, cg.files.get("io_weight")),
        CgroupVersion::V1 => (cg.blkio_weight, cg.files.get("blkio_weight")),
    };
    let name = file_name(file);
    let (want, how) = match (cg.version, name.as_str()) {
        (CgroupVersion::V2, "io.bfq.weight") => (bfq_weight(weight), " (BFQ's scale)".to_owned()),
        (CgroupVersion::V2, _) => (weight, String::new()),
        // systemd's cgroup_weight_io_to_blkio: weight * 500 / 100, within 10..1000.
        (CgroupVersion::V1, scale) => {
            let blkio = (weight * 500 / 100).clamp(10, 1000);
            if scale == "blkio.bfq.weight" {
                (
                    bfq_weight(blkio),
                    format!(" (blkio weight {blkio} = {weight} * 500 / 100, on BFQ's scale)"),
                )
            } else {
                (blkio, format!(" (= {weight} * 500 / 100)"))
            }
        }
    };
    if let Some(why) = not_own(cx, file) {
        return fail(why).with_file(file);
    }
    match have {
        None => unknown(
            "the unit's cgroup has no I/O weight file: the I/O controller is off for it, or the \
             disks' I/O scheduler has no weights (only BFQ has)",
        ),
        Some(n) if n == want => pass(format!("cgroup {name} {n}{how}")).with_file(file),
        Some(n) => fail(format!("cgroup {name} {n}, not {want}{how}")).with_file(file),
    }
}

/// IOReadBandwidthMax= and kin: the limit of the block device systemd resolves the path to,
/// in the unit's `io.max` (v2) or `blkio.throttle.*_device` (v1).
fn io_limit(d: &Directive, cx: &Context<'_>) -> Outcome {
    let DirectiveValue::DeviceLimit { path, limit } = &d.value else {
        return mismatch(d);
    };
    // The io.max key, and for the operation limits the v1 file systemd does not write.
    let (key, v1_file) = match d.name {
        Name::IOReadBandwidthMax => ("rbps", None),
        Name::IOWriteBandwidthMax => ("wbps", None),
        Name::IOReadIOPSMax => ("riops", Some("blkio.throttle.read_iops_device")),
        _ => ("wiops", Some("blkio.throttle.write_iops_device")),
    };
    let device = match cx.facts.io.devices.get(path) {
        Some(Ok(n)) => *n,
        Some(Err(NoDisk::None(why))) => return fail(why.clone()),
        Some(Err(NoDisk::Unknown(why))) => return unknown(why.clone()),
        None => return unknown(format!("{path} was not looked up")),
    };
    let (limits, file) = match &cx.facts.io.limits {
        Some(Ok(l)) => (&l.devices, &l.file),
        Some(Err(why)) => return unknown(why.clone()),
        None => return unknown("the unit's I/O limits were not read"),
    };
    let dev = format!("{}:{}", device.0, device.1);
    let have = limits.get(&device).and_then(|l| l.get(key));
    let v1 = cx.facts.inspection.cgroup.version == CgroupVersion::V1;
    let want = limit.per_second;
    let evidence = |have: Option<u64>| {
        let shown = have.map_or_else(|| "no limit".to_owned(), |n| n.to_string());
        if v1 {
            format!("blkio.throttle: {dev} (the block device of {path}) {key} {shown}")
        } else {
            format!("cgroup io.max: {dev} (the block device of {path}) {key}={shown}")
        }
    };
    match (have, v1_file) {
        (Some(n), _) if n == want => pass(evidence(have)).with_file(Some(file)),
        // Measured on systemd 252: with v1 controllers it writes IOReadBandwidthMax= and
        // IOWriteBandwidthMax= into blkio.throttle.*_bps_device, and no IOPS limit at all.
        (None, Some(v1_name)) if v1 => fail(format!(
            "{v1_name} has no line for {dev}: systemd writes only the bandwidth limits to the cgroup v1 blkio controller, so the kernel does not limit this unit's I/O operations"
        ))
        .with_file(Some(file)),
        _ => {
            // systemd writes each path's limits in turn, all four for the device: a second
            // path on the same device overwrites the first's (measured on 252).
            let others: BTreeSet<&str> = cx
                .all
                .iter()
                .filter_map(|x| match &x.value {
                    DirectiveValue::DeviceLimit { path: p, .. } if p != path => Some(p.as_str()),
                    _ => None,
                })
                .filter(|p| cx.facts.io.devices.get(*p) == Some(&Ok(device)))
                .collect();
            let why = if others.is_empty() {
                String::new()
            } else {
                let others: Vec<&str> = others.into_iter().collect();
                format!(
                    " ({} is on the same device: systemd writes the limits of each path for the whole device in turn, so one path's overwrite the other's; name the device by one path in every I/O limit)",
                    others.join(", ")
                )
            };
            fail(format!("{}, not {want}{why}", evidence(have))).with_file(Some(file))
        }
    }
}

/// IPAddressAllow=/IPAddressDeny=: systemd's IP firewall is a pair of BPF programs on the
/// unit's cgroup v2 directory, at inet ingress and egress, named `sd_fw_ingress` and
/// `sd_fw_egress`. Their presence is checked; the prefixes are compiled into them and not
/// read back.
fn ip_firewall(_: &Directive, cx: &Context<'_>) -> Outcome {
    let fw = &cx.facts.firewall;
    let dir = fw
        .dir
        .as_ref()
        .map_or_else(String::new, |d| d.display().to_string());
    let attached = match &fw.attached {
        None => return unknown("the unit's cgroup was not queried"),
        Some(Err(why)) => return unknown(why.clone()),
        Some(Ok(a)) => a,
    };
    let shown = |programs: &[AttachedProgram]| {
        if programs.is_empty() {
            return "none".to_owned();
        }
        let names: Vec<String> = programs
            .iter()
            .map(|p| match &p.name {
                Some(name) => format!("{name} (id {})", p.id),
                None => format!("id {} (name unreadable)", p.id),
            })
            .collect();
        names.join(", ")
    };
    let evidence = format!(
        "BPF programs on cgroup {dir}: {} at inet ingress, {} at inet egress (BPF_PROG_QUERY)",
        shown(&attached.ingress),
        shown(&attached.egress)
    );
    // systemd's, or one whose name this kernel does not tell.
    let systemds = |programs: &[AttachedProgram]| {
        programs
            .iter()
            .any(|p| p.name.as_deref().is_none_or(|n| n.starts_with("sd_fw_")))
    };
    if systemds(&attached.ingress) && systemds(&attached.egress) {
        pass(format!(
            "{evidence}; the addresses they let through are compiled into them and not read back"
        ))
    } else {
        fail(format!(
            "{evidence}: systemd's IP firewall (sd_fw_ingress, sd_fw_egress) is not in place"
        ))
    }
}

fn tasks_max(d: &Directive, cx: &Context<'_>) -> Outcome {
    let f = cx.facts;
    let cg = &f.inspection.cgroup;
    let file = cg.files.get("tasks_max");
    let shown = cg
        .tasks_max
        .map_or_else(|| "max".to_owned(), |n| n.to_string());
    let (tasks, evidence) = match not_own(cx, file) {
        Some(why) => (None, why),
        None => (cg.tasks_max, format!("cgroup pids.max {shown}")),
    };
    let DirectiveValue::Size(limit) = &d.value else {
        return mismatch(d);
    };
    let ok = match limit.amount {
        Amount::Infinity => tasks.is_none(),
        Amount::Value(n) => tasks == Some(n),
        Amount::Percent(p) => match (f.system.tasks_limit, tasks) {
            (Some(limit), Some(n)) => {
                let want = limit as f64 * f64::from(p) / 100.0;
                (n as f64 - want).abs() <= (limit as f64 / 100.0).max(1.0)
            }
            (None, _) => return unknown("the system's task limit could not be read"),
            (_, None) => false,
        },
    };
    if ok {
        pass(evidence).with_file(file)
    } else {
        fail(evidence).with_file(file)
    }
}

// ---- [capabilities] ----

fn names(mask: u64) -> String {
    let names = capabilities::names_in_mask(mask);
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(" ")
    }
}

/// The names in `mask`, at most six of them.
fn few(mask: u64) -> String {
    let names = capabilities::names_in_mask(mask);
    if names.len() <= 6 {
        return names.join(" ");
    }
    format!("{} capabilities ({} …)", names.len(), names[..4].join(" "))
}

/// A capability set in few words: `none`, `all`, `all but CAP_NET_ADMIN`, or its names.
pub(crate) fn describe_caps(mask: u64, all: u64) -> String {
    let missing = all & !mask;
    if mask == 0 {
        "none".to_owned()
    } else if missing == 0 {
        format!("all {}", all.count_ones())
    } else if missing.count_ones() <= 8 && missing.count_ones() < mask.count_ones() {
        format!("all but {}", names(missing))
    } else {
        names(mask)
    }
}

/// Capabilities systemd removes from the bounding set because of other directives
/// (`unit_patch_contexts()` in systemd's src/core/unit.c).
fn implied_drops(all: &[Directive]) -> Vec<(Name, u64)> {
    let cap = |name: &str| capabilities::by_name(name).map_or(0, |n| 1u64 << n);
    [
        (
            Name::PrivateDevices,
            cap("CAP_MKNOD") | cap("CAP_SYS_RAWIO"),
        ),
        (Name::ProtectKernelModules, cap("CAP_SYS_MODULE")),
        (Name::ProtectKernelLogs, cap("CAP_SYSLOG")),
        (
            Name::ProtectClock,
            cap("CAP_SYS_TIME") | cap("CAP_WAKE_ALARM"),
        ),
    ]
    .into_iter()
    .filter(|(name, _)| has_flag(all, *name))
    .collect()
}

fn bounding_set(d: &Directive, cx: &Context<'_>) -> Outcome {
    let f = cx.facts;
    let (words, negated) = word_list(d);
    let all = capabilities::all_up_to(f.system.cap_last_cap);
    let asked = capabilities::mask(words, negated) & all;
    let implied = implied_drops(cx.all);
    let implied_mask = implied.iter().fold(0, |m, (_, c)| m | c);
    let manager = f.manager.bounding.unwrap_or(all);
    let expected = asked & !implied_mask & manager;
    let actual = capabilities::mask_of(&f.inspection.capabilities.bounding);
    let mut notes = Vec::new();
    if asked & !manager != 0 {
        notes.push(format!(
            "{} not in the service manager's own bounding set",
            names(asked & !manager)
        ));
    }
    for (key, caps) in &implied {
        if asked & caps != 0 {
            notes.push(format!("{} dropped by {key}=", names(asked & caps)));
        }
    }
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    let extra = actual & !expected;
    let missing = expected & !actual;
    if extra == 0 && missing == 0 {
        return pass(format!("CapBnd {}{notes}", describe_caps(actual, all)));
    }
    let mut why = Vec::new();
    if extra != 0 {
        why.push(format!(
            "has {}, which the policy does not keep",
            few(extra)
        ));
    }
    if missing != 0 {
        why.push(format!("lacks {}", names(missing)));
    }
    fail(format!(
        "CapBnd {}: {}{notes}",
        describe_caps(actual, all),
        why.join("; ")
    ))
}

fn ambient(d: &Directive, cx: &Context<'_>) -> Outcome {
    let caps = &cx.facts.inspection.capabilities;
    let (words, _) = word_list(d);
    // A capability outside the bounding set cannot be ambient.
    let want = capabilities::mask(words, false) & capabilities::mask_of(&caps.bounding);
    let have = capabilities::mask_of(&caps.ambient);
    if have == want {
        pass(format!("CapAmb {}", names(have)))
    } else {
        fail(format!("CapAmb {}, not {}", names(have), names(want)))
    }
}

fn no_new_privileges(d: &Directive, cx: &Context<'_>) -> Outcome {
    let have = cx.facts.inspection.no_new_privs;
    match (flag(d) == Some(true), have) {
        (true, true) => pass("NoNewPrivs 1"),
        (true, false) => fail("NoNewPrivs 0: execve() of a setuid program or one with file capabilities gains privileges"),
        (false, true) => pass("not requested; NoNewPrivs is 1 anyway (implied by another setting)"),
        (false, false) => pass("not requested; NoNewPrivs 0"),
    }
}

// ---- [seccomp], and the directives systemd implements with seccomp ----

fn seccomp(d: &Directive, cx: &Context<'_>) -> Outcome {
    let s = &cx.facts.inspection.seccomp;
    let asked = !matches!(d.value, DirectiveValue::Bool(false));
    let filters = s
        .filters
        .map(|n| format!(", {n} filter{}", if n == 1 { "" } else { "s" }))
        .unwrap_or_default();
    match (asked, s.mode) {
        (true, SeccompMode::Filter) => pass(format!(
            "seccomp filter mode{filters} (what the filters allow cannot be read from outside the process)"
        )),
        (true, SeccompMode::Disabled) => fail("seccomp disabled: no filter restricts the process's system calls"),
        (true, SeccompMode::Strict) => unknown(format!(
            "seccomp strict mode (Seccomp: 1), not systemd's filters: {SECCOMP_STRICT_MEANING}; \
             {}= cannot be checked against it (strict mode is stricter than any filter, but it is not the one asked)",
            d.name
        )),
        (false, SeccompMode::Disabled) => pass("not requested; seccomp disabled"),
        (false, _) => pass(format!("not requested; seccomp filter mode{filters} for other settings")),
    }
}

/// The filters as read, or the verdict without them: [`seccomp`] (filter mode) when they
/// were not read (`--no-ptrace`); when reading them failed, NOT CHECKABLE with the reason
/// for a directive that asks for something the filter mode alone would pass.
fn filters_read<'a>(
    d: &Directive,
    cx: &'a Context<'_>,
) -> Result<&'a crate::seccomp::report::FilterReport, Outcome> {
    match &cx.facts.filters {
        facts::FilterFacts::Read(report) => Ok(report),
        facts::FilterFacts::NotRead => Err(seccomp(d, cx)),
        facts::FilterFacts::Unreadable { error } => {
            let base = seccomp(d, cx);
            let asked = !matches!(d.value, DirectiveValue::Bool(false));
            if asked && base.status == Status::Pass {
                Err(unknown(format!(
                    "seccomp filter mode, but the filters could not be read: {error}"
                )))
            } else {
                Err(base)
            }
        }
    }
}

/// `SystemCallFilter=` exactly ([`syscalls`]), when the filters were read; else [`seccomp`]
/// (filter mode), saying why the filters were not evaluated.
fn system_call_filter(d: &Directive, cx: &Context<'_>) -> Outcome {
    let report = match filters_read(d, cx) {
        Ok(report) => report,
        Err(outcome) => return outcome,
    };
    let Some(groups) = &cx.facts.syscall_groups else {
        return seccomp(d, cx);
    };
    let Some(native) = report.native() else {
        return unknown("sandgen knows no syscall numbers of this machine's architecture");
    };
    let Some(expected) = syscalls::expected(cx.all, groups) else {
        return mismatch(d);
    };
    let others = syscalls::denied_by_others(cx.all, groups);
    let unused = cx
        .facts
        .learned
        .as_ref()
        .map(|learned| syscalls::unused(native, learned))
        .unwrap_or_default();
    match syscalls::compare(&expected, native, &others) {
        Ok(evidence) => pass(evidence + &unused),
        Err(evidence) => fail(evidence + &unused),
    }
}

/// `RestrictAddressFamilies=`: the families socket(2) accepts on the native ABI, probed
/// one by one, against the policy's.
fn restrict_address_families(d: &Directive, cx: &Context<'_>) -> Outcome {
    let report = match filters_read(d, cx) {
        Ok(report) => report,
        Err(outcome) => return outcome,
    };
    let (Some(native), Some(expected)) = (report.native(), syscalls::expected_families(d)) else {
        return seccomp(d, cx);
    };
    let Some(kernel) = &native.families else {
        return unknown("this ABI has no socket(2) call to probe");
    };
    let kernel: BTreeSet<String> = kernel.iter().map(|s| (*s).to_owned()).collect();
    let socket = native.calls.get("socket");
    let refused = kernel.is_empty() && socket.is_some_and(|v| !v.conditional);
    outcome(syscalls::compare_names(
        ("address family", "address families"),
        "socket(2)",
        &expected,
        &kernel,
        refused,
    ))
}

/// `RestrictNamespaces=`: the namespace types unshare(2) accepts on the native ABI, one
/// flag at a time, against the policy's.
fn restrict_namespaces(d: &Directive, cx: &Context<'_>) -> Outcome {
    let report = match filters_read(d, cx) {
        Ok(report) => report,
        Err(outcome) => return outcome,
    };
    let (Some(native), Some(expected)) = (report.native(), syscalls::expected_namespaces(d)) else {
        return seccomp(d, cx);
    };
    let Some(kernel) = &native.namespaces else {
        return unknown("this ABI has no unshare(2) call to probe");
    };
    let kernel: BTreeSet<String> = kernel.iter().map(|s| (*s).to_owned()).collect();
    let refused = kernel.is_empty() && native.calls.get("unshare").is_some_and(|v| !v.conditional);
    outcome(syscalls::compare_names(
        ("namespace type", "namespace types"),
        "unshare(2)",
        &expected,
        &kernel,
        refused,
    ))
}

/// `LockPersonality=`, `MemoryDenyWriteExecute=`, `RestrictSUIDSGID=`, `RestrictRealtime=`:
/// the calls with the arguments they forbid must be refused on the native ABI.
fn argument_filter(d: &Directive, cx: &Context<'_>) -> Outcome {
    let report = match filters_read(d, cx) {
        Ok(report) => report,
        Err(outcome) => return outcome,
    };
    match (flag(d), report.native()) {
        (Some(true), Some(native)) => match syscalls::compare_probes(d.name, native) {
            Err(evidence) if d.name == Name::MemoryDenyWriteExecute && cx.facts.mdwe_by_prctl => {
                unknown(format!(
                    "{evidence}: this systemd (254 and later) on this kernel (6.3 and later) \
                     enforces MemoryDenyWriteExecute= with prctl(PR_SET_MDWE) instead of a \
                     seccomp filter, and the kernel shows that flag to no other process"
                ))
            }
            result => outcome(result),
        },
        _ => seccomp(d, cx),
    }
}

fn outcome(result: Result<String, String>) -> Outcome {
    match result {
        Ok(evidence) => pass(evidence),
        Err(evidence) => fail(evidence),
    }
}

/// `SystemCallErrorNumber=`: what the calls `SystemCallFilter=` refuses get, from the
/// filters read; not checkable without them (the errno is inside the BPF program).
fn system_call_error_number(d: &Directive, cx: &Context<'_>) -> Outcome {
    let DirectiveValue::Errno(errno) = &d.value else {
        return mismatch(d);
    };
    let (facts::FilterFacts::Read(report), Some(groups)) =
        (&cx.facts.filters, &cx.facts.syscall_groups)
    else {
        if cx.facts.inspection.seccomp.mode != SeccompMode::Filter {
            return seccomp(d, cx);
        }
        return unknown("the errno is inside the seccomp BPF program, which sandgen reads only with ptrace (PTRACE_SECCOMP_GET_FILTER; not with --no-ptrace, nor when the process has no filter or the read failed)");
    };
    let Some(native) = report.native() else {
        return unknown("sandgen knows no syscall numbers of this machine's architecture");
    };
    let Some(expected) = syscalls::expected(cx.all, groups) else {
        return unknown("no SystemCallFilter= refuses a call with it");
    };
    let Ok(number) = u16::try_from(errno.number) else {
        return mismatch(d);
    };
    outcome(syscalls::compare_errno(&expected, native, number))
}

/// `SystemCallArchitectures=`: with the filters read, no call may run through an ABI not
/// listed (`native` is the first ABI sandgen evaluates).
fn system_call_architectures(d: &Directive, cx: &Context<'_>) -> Outcome {
    let report = match filters_read(d, cx) {
        Ok(report) => report,
        Err(outcome) => return outcome,
    };
    let (words, _) = word_list(d);
    let listed =
        |arch: &str, native: bool| words.iter().any(|w| w == arch || (native && w == "native"));
    let mut open = Vec::new();
    let mut closed = Vec::new();
    for (i, a) in report.arches.iter().enumerate() {
        let n = a.runnable().count();
        if listed(a.arch, i == 0) {
            continue;
        }
        if n > 0 {
            open.push(format!("{} ({n} calls run)", a.arch));
        } else {
            closed.push(format!("{} ({})", a.arch, a.default.describe()));
        }
    }
    if open.is_empty() {
        pass(format!(
            "no system call runs through {}",
            if closed.is_empty() {
                "another ABI".to_owned()
            } else {
                closed.join(", ")
            }
        ))
    } else {
        fail(format!(
            "system calls run through ABIs not listed: {}",
            open.join(", ")
        ))
    }
}

// ---- [filesystem]: the mount namespace ----

fn is_ro(m: &MountReport) -> bool {
    m.options.split(',').any(|o| o == "ro")
}

fn is_inaccessible(m: &MountReport) -> bool {
    m.root.contains("/inaccessible/")
}

/// The mount that holds `path` in the unit's view.
fn mount_of<'a>(cx: &'a Context<'_>, path: &str) -> Option<&'a MountReport> {
    cx.facts.inspection.mounts.mount_for_path(path)
}

/// Run `test` on the mount holding each path that exists in the unit's view; PASS when every
/// one passes. `what` says what a passing path is.
fn each_path(
    cx: &Context<'_>,
    paths: &[String],
    what: &str,
    test: impl Fn(&MountReport, &str) -> bool,
) -> Outcome {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for p in paths {
        match mount_of(cx, p) {
            Some(m) if test(m, p) => good.push(p.as_str()),
            Some(m) => bad.push(format!("{p} is not {what} (mount {})", m_short(m))),
            None => bad.push(format!("{p}: no mount holds it")),
        }
    }
    if !bad.is_empty() {
        fail(bad.join("; "))
    } else if good.is_empty() {
        unknown("none of the paths exists in the unit's view")
    } else {
        pass(format!("{what}: {}", good.join(" ")))
    }
}

/// `/ (overlay, ro,nosuid)`.
fn m_short(m: &MountReport) -> String {
    let root = if m.root == "/" {
        String::new()
    } else {
        format!("[{}]", m.root)
    };
    format!("{}{root} {} {}", m.mount_point, m.fs_type, m.options)
}

fn existing(cx: &Context<'_>, paths: &[&str]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| cx.facts.paths.unit_has(p))
        .map(|p| (*p).to_owned())
        .collect()
}

fn root_directory(d: &Directive, cx: &Context<'_>) -> Outcome {
    let dir = token(d);
    match (
        cx.facts.paths.manager.get(dir).copied().flatten(),
        cx.facts.paths.root,
    ) {
        (None, _) => unknown(format!(
            "{dir} does not exist in the service manager's view"
        )),
        (_, None) => unknown("the main process's root directory could not be read"),
        (Some(want), Some(have)) if want == have => pass(format!(
            "the main process's / is {dir} (same device and inode)"
        )),
        (Some(_), Some(_)) => fail(format!("the main process's / is not {dir}")),
    }
}

fn mount_api_vfs(d: &Directive, cx: &Context<'_>) -> Outcome {
    let mounts = &cx.facts.inspection.mounts;
    let at = |p: &str, fs: &[&str]| {
        mounts
            .top_at(p)
            .is_some_and(|m| fs.contains(&m.fs_type.as_str()))
    };
    let api = [
        ("/proc", at("/proc", &["proc"])),
        ("/sys", at("/sys", &["sysfs"])),
        ("/dev", at("/dev", &["tmpfs", "devtmpfs"])),
    ];
    let missing: Vec<&str> = api.iter().filter(|(_, ok)| !ok).map(|(p, _)| *p).collect();
    match (flag(d) == Some(true), missing.is_empty()) {
        (true, true) => {
            pass("proc on /proc, sysfs on /sys and a /dev are mounted in the unit's view")
        }
        (true, false) => fail(format!(
            "nothing of its kind is mounted on {}",
            missing.join(" ")
        )),
        (false, _) => pass(format!(
            "not requested; {} mounted",
            if missing.is_empty() {
                "all of /proc /sys /dev are"
            } else {
                "not all API file systems are"
            }
        )),
    }
}

/// How a unit sees /tmp or /var/tmp.
enum TmpView {
    /// `PrivateTmp=yes`: a bind mount of a `systemd-private-*` directory under the host's.
    Connected,
    /// `PrivateTmp=disconnected` (systemd 257; implied by `DynamicUser=` there): a directory
    /// of a tmpfs of its own, which the host's mount table does not have.
    Disconnected,
    /// The host's, in words.
    Shared(String),
}

fn tmp_view(cx: &Context<'_>, path: &str) -> TmpView {
    match mount_of(cx, path) {
        Some(m) if m.mount_point == path && m.root.contains("/systemd-private-") => {
            TmpView::Connected
        }
        Some(m)
            if m.mount_point == path
                && m.fs_type == "tmpfs"
                && matches!(
                    m.difference,
                    Difference::Added | Difference::Replaced { .. }
                ) =>
        {
            TmpView::Disconnected
        }
        Some(m) => TmpView::Shared(format!("{path} is the host's ({})", m_short(m))),
        None => TmpView::Shared(format!("{path}: no mount holds it")),
    }
}

fn private_tmp(d: &Directive, cx: &Context<'_>) -> Outcome {
    let disconnected_only = match &d.value {
        DirectiveValue::Bool(_) => false,
        DirectiveValue::Word(w) if w == "disconnected" => true,
        _ => return mismatch(d),
    };
    let requested = disconnected_only || flag(d) == Some(true);
    let (mut connected, mut own_tmpfs, mut shared) = (Vec::new(), Vec::new(), Vec::new());
    for p in existing(cx, &["/tmp", "/var/tmp"]) {
        match tmp_view(cx, &p) {
            TmpView::Connected => connected.push(p),
            TmpView::Disconnected => own_tmpfs.push(p),
            TmpView::Shared(why) => shared.push(why),
        }
    }
    let mut private = Vec::new();
    if !connected.is_empty() {
        private.push(format!(
            "{} private (bind mounts of systemd-private-* directories)",
            connected.join(" and ")
        ));
    }
    if !own_tmpfs.is_empty() {
        private.push(format!(
            "{} private (a tmpfs of their own)",
            own_tmpfs.join(" and ")
        ));
    }
    let private = private.join("; ");
    if !requested {
        let paths = [connected.as_slice(), own_tmpfs.as_slice()].concat();
        return if paths.is_empty() {
            pass("not requested; /tmp is the host's")
        } else {
            pass(format!(
                "not requested; {} private anyway (implied by another setting)",
                paths.join(" and ")
            ))
        };
    }
    if !shared.is_empty() {
        fail(shared.join("; "))
    } else if private.is_empty() {
        unknown("neither /tmp nor /var/tmp exists in the unit's view")
    } else if disconnected_only && !connected.is_empty() {
        fail(format!(
            "{}: directories under the host's /tmp, not a tmpfs of their own",
            connected.join(" and ")
        ))
    } else {
        pass(private)
    }
}

fn private_devices(d: &Directive, cx: &Context<'_>) -> Outcome {
    let dev = cx.facts.inspection.mounts.top_at("/dev");
    let private = dev.is_some_and(|m| {
        m.fs_type == "tmpfs"
            && matches!(
                m.difference,
                Difference::Added | Difference::Replaced { .. }
            )
    });
    let what = dev.map_or_else(|| "nothing is mounted on /dev".to_owned(), m_short);
    match (flag(d) == Some(true), private) {
        (true, true) => pass(format!("/dev is a private tmpfs ({what})")),
        (true, false) => fail(format!("/dev is the host's ({what})")),
        (false, _) => pass(format!("not requested; {what}")),
    }
}

/// PASS when the unit has its own namespace of `kind`, which `d` asks for.
fn own_namespace(
    d: &Directive,
    cx: &Context<'_>,
    kind: &str,
    extra: impl Fn(&Facts) -> String,
) -> Outcome {
    own_namespace_if(flag(d) == Some(true), cx, kind, extra)
}

/// Whether the unit's namespace of `kind` differs from the service manager's, which is
/// `requested` or not.
fn own_namespace_if(
    requested: bool,
    cx: &Context<'_>,
    kind: &str,
    extra: impl Fn(&Facts) -> String,
) -> Outcome {
    let f = cx.facts;
    let (Some(unit), Some(manager)) = (
        f.process.namespaces.get(kind),
        f.manager.namespaces.get(kind),
    ) else {
        return unknown(format!(
            "/proc/PID/ns/{kind} of the unit or of its service manager could not be read"
        ));
    };
    let own = unit != manager;
    let extra = extra(f);
    match (requested, own) {
        (true, true) => pass(format!(
            "its own {kind} namespace {unit} (the service manager's is {manager}){extra}"
        )),
        (true, false) => fail(format!(
            "shares the service manager's {kind} namespace {unit}{extra}"
        )),
        (false, true) => pass(format!(
            "not requested; its own {kind} namespace anyway{extra}"
        )),
        (false, false) => pass(format!(
            "not requested; the service manager's {kind} namespace"
        )),
    }
}

fn private_mounts(d: &Directive, cx: &Context<'_>) -> Outcome {
    own_namespace(d, cx, "mnt", |_| String::new())
}

fn protect_home(d: &Directive, cx: &Context<'_>) -> Outcome {
    let paths = existing(cx, &["/home", "/root", "/run/user"]);
    match &d.value {
        DirectiveValue::Bool(false) => pass("not requested"),
        DirectiveValue::Bool(true) => each_path(cx, &paths, "made inaccessible", |m, p| {
            m.mount_point == p && is_inaccessible(m)
        }),
        DirectiveValue::Word(t) if t == "read-only" => {
            each_path(cx, &paths, "read-only", |m, _| is_ro(m))
        }
        DirectiveValue::Word(t) if t == "tmpfs" => each_path(cx, &paths, "a tmpfs", |m, p| {
            m.mount_point == p && m.fs_type == "tmpfs" && m.differs
        }),
        _ => unknown(format!("`{}` is not a ProtectHome= value", token(d))),
    }
}

/// Whether `path` is `rw` or below it.
fn within(path: &str, rw: &str) -> bool {
    Path::new(path).starts_with(rw)
}

fn protect_system(d: &Directive, cx: &Context<'_>) -> Outcome {
    // systemd.exec(5): yes = /usr, /boot, /efi; full = also /etc; strict = the whole tree
    // but /dev, /proc, /sys (and what ReadWritePaths= and PrivateTmp= exempt).
    let candidates: &[&str] = match &d.value {
        DirectiveValue::Bool(false) => return pass("not requested"),
        DirectiveValue::Bool(true) => &["/usr", "/boot", "/efi"],
        DirectiveValue::Word(t) if t == "full" => &["/usr", "/boot", "/efi", "/etc"],
        DirectiveValue::Word(t) if t == "strict" => &["/", "/usr", "/boot", "/efi", "/etc", "/var"],
        _ => return unknown(format!("`{}` is not a ProtectSystem= value", token(d))),
    };
    let writable: Vec<&str> = cx
        .all
        .iter()
        .filter(|x| x.name == Name::ReadWritePaths)
        .flat_map(|x| word_list(x).0)
        .map(|w| facts::strip_optional(w).0)
        .collect();
    let paths: Vec<String> = existing(cx, candidates)
        .into_iter()
        .filter(|p| !writable.iter().any(|rw| within(p, rw)))
        .collect();
    each_path(cx, &paths, "read-only", |m, _| is_ro(m))
}

/// The paths of a `Paths` directive that must exist or exist in the unit's view.
fn listed_paths(d: &Directive, cx: &Context<'_>) -> (Vec<String>, Vec<String>) {
    let mut check = Vec::new();
    let mut missing = Vec::new();
    for w in word_list(d).0 {
        let (p, optional) = facts::strip_optional(w);
        if cx.facts.paths.unit_has(p) {
            check.push(p.to_owned());
        } else if !optional {
            missing.push(p.to_owned());
        }
    }
    (check, missing)
}

fn paths_check(
    d: &Directive,
    cx: &Context<'_>,
    what: &str,
    test: impl Fn(&MountReport, &str) -> bool,
) -> Outcome {
    let (paths, missing) = listed_paths(d, cx);
    if !missing.is_empty() {
        return fail(format!("{} missing in the unit's view", missing.join(" ")));
    }
    if paths.is_empty() {
        return pass("every path is optional (-) and absent in the unit's view");
    }
    each_path(cx, &paths, what, test)
}

fn read_write_paths(d: &Directive, cx: &Context<'_>) -> Outcome {
    paths_check(d, cx, "writable", |m, _| !is_ro(m))
}

fn read_only_paths(d: &Directive, cx: &Context<'_>) -> Outcome {
    paths_check(d, cx, "read-only", |m, _| is_ro(m))
}

fn inaccessible_paths(d: &Directive, cx: &Context<'_>) -> Outcome {
    let (paths, missing) = listed_paths(d, cx);
    // A path made inaccessible may no longer be stat-able at all; missing ones are checked too.
    let paths: Vec<String> = paths.into_iter().chain(missing).collect();
    if paths.is_empty() {
        return pass("every path is optional (-) and absent in the unit's view");
    }
    each_path(cx, &paths, "made inaccessible", |m, p| {
        m.mount_point == p && is_inaccessible(m)
    })
}

fn bind_paths(d: &Directive, cx: &Context<'_>) -> Outcome {
    let read_only = d.name == Name::BindReadOnlyPaths;
    let f = cx.facts;
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for w in word_list(d).0 {
        let (source, dest, optional) = facts::bind_entry(w);
        let want = f.paths.manager.get(source).copied().flatten();
        let have = f.paths.unit.get(dest).copied().flatten();
        let mount = f.inspection.mounts.top_at(dest);
        match (want, have, mount) {
            (None, _, _) if optional => {}
            (None, _, _) => bad.push(format!(
                "{source} does not exist in the service manager's view"
            )),
            (Some(want), Some(have), Some(m)) if want == have && (!read_only || is_ro(m)) => good
                .push(format!(
                    "{dest} is {source}{}",
                    if read_only { ", read-only" } else { "" }
                )),
            (Some(_), _, Some(m)) if read_only && !is_ro(m) => {
                bad.push(format!("{dest} is writable ({})", m_short(m)));
            }
            (Some(_), _, _) => bad.push(format!("{dest} is not a bind mount of {source}")),
        }
    }
    if !bad.is_empty() {
        fail(bad.join("; "))
    } else if good.is_empty() {
        pass("every source is optional (-) and absent")
    } else {
        pass(good.join("; "))
    }
}

fn protect_kernel_tunables(d: &Directive, cx: &Context<'_>) -> Outcome {
    if flag(d) != Some(true) {
        return pass("not requested");
    }
    // ProcSubset=pid leaves no /proc/sys at all: nothing to protect there.
    let paths = existing(cx, &["/proc/sys", "/sys"]);
    each_path(cx, &paths, "read-only", |m, _| is_ro(m))
}

fn lacks_caps(cx: &Context<'_>, caps: &[&str]) -> Result<String, String> {
    let bounding = &cx.facts.inspection.capabilities.bounding;
    let present: Vec<&str> = caps
        .iter()
        .copied()
        .filter(|c| bounding.iter().any(|b| b == c))
        .collect();
    if present.is_empty() {
        Ok(format!("CapBnd lacks {}", caps.join(" ")))
    } else {
        Err(format!("CapBnd has {}", present.join(" ")))
    }
}

fn protect_kernel_modules(d: &Directive, cx: &Context<'_>) -> Outcome {
    if flag(d) != Some(true) {
        return pass("not requested");
    }
    let caps = lacks_caps(cx, &["CAP_SYS_MODULE"]);
    // On a merged-/usr system /lib/modules is /usr/lib/modules through the /lib symlink:
    // the same directory, whose mount is listed under the /usr path only.
    let mut seen = Vec::new();
    let dirs: Vec<String> = existing(cx, &["/usr/lib/modules", "/lib/modules"])
        .into_iter()
        .filter(|p| match cx.facts.paths.unit.get(p).copied().flatten() {
            Some(id) if seen.contains(&id) => false,
            Some(id) => {
                seen.push(id);
                true
            }
            None => true,
        })
        .collect();
    let open: Vec<&String> = dirs
        .iter()
        .filter(|p| !mount_of(cx, p).is_some_and(is_inaccessible))
        .collect();
    match caps {
        Err(e) => fail(e),
        Ok(_) if !open.is_empty() => fail(format!(
            "{} not made inaccessible",
            open.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        )),
        Ok(e) if dirs.is_empty() => pass(e),
        Ok(e) => pass(format!("{e}; {} made inaccessible", dirs.join(" "))),
    }
}

fn caps_gone(d: &Directive, cx: &Context<'_>, caps: &[&str]) -> Outcome {
    if flag(d) != Some(true) {
        return pass("not requested");
    }
    match lacks_caps(cx, caps) {
        Ok(e) => pass(e),
        Err(e) => fail(e),
    }
}

fn protect_kernel_logs(d: &Directive, cx: &Context<'_>) -> Outcome {
    caps_gone(d, cx, &["CAP_SYSLOG"])
}

fn protect_clock(d: &Directive, cx: &Context<'_>) -> Outcome {
    caps_gone(d, cx, &["CAP_SYS_TIME", "CAP_WAKE_ALARM"])
}

fn protect_control_groups(d: &Directive, cx: &Context<'_>) -> Outcome {
    // yes: /sys/fs/cgroup read-only; private (257): a cgroup namespace of its own, with a
    // writable /sys/fs/cgroup; strict (257): both.
    let (namespace, read_only) = match &d.value {
        DirectiveValue::Bool(false) => return pass("not requested"),
        DirectiveValue::Bool(true) => (false, true),
        DirectiveValue::Word(w) if w == "private" => (true, false),
        DirectiveValue::Word(w) if w == "strict" => (true, true),
        _ => return mismatch(d),
    };
    let ro = if read_only {
        Some(cgroupfs_read_only(cx))
    } else {
        None
    };
    if !namespace {
        return ro.unwrap_or_else(|| mismatch(d));
    }
    let ns = own_namespace_if(true, cx, "cgroup", |_| String::new());
    match ro {
        _ if ns.status != Status::Pass => ns,
        Some(ro) if ro.status != Status::Pass => ro,
        Some(ro) => pass(format!("{}; {}", ns.evidence, ro.evidence)),
        None => ns,
    }
}

/// PASS when every mount under /sys/fs/cgroup is read-only in the unit's view, but the one
/// systemd 254 and later bind writable on purpose: the unit's own cgroup's `memory.pressure`
/// file (MemoryPressureWatch=, so that the service can be told of memory pressure). Writing
/// to it only arms a PSI trigger; no limit can be changed through it.
fn cgroupfs_read_only(cx: &Context<'_>) -> Outcome {
    let mounts: Vec<&MountReport> = cx
        .facts
        .inspection
        .mounts
        .visible()
        .filter(|m| within(&m.mount_point, "/sys/fs/cgroup"))
        .collect();
    // Its path: under the unit's cgroup, or at the top in a cgroup namespace of its own.
    let pressure_watch = |m: &MountReport| {
        let unit_cgroup = &cx.facts.inspection.cgroup.path;
        m.mount_point == format!("/sys/fs/cgroup{unit_cgroup}/memory.pressure")
            || m.mount_point == "/sys/fs/cgroup/memory.pressure"
    };
    let writable: Vec<&str> = mounts
        .iter()
        .filter(|m| !is_ro(m) && !pressure_watch(m))
        .map(|m| m.mount_point.as_str())
        .collect();
    if mounts.is_empty() {
        match mount_of(cx, "/sys/fs/cgroup") {
            Some(m) if is_ro(m) => pass(format!("/sys/fs/cgroup is read-only ({})", m_short(m))),
            Some(m) => fail(format!("/sys/fs/cgroup is writable ({})", m_short(m))),
            None => unknown("nothing holds /sys/fs/cgroup in the unit's view"),
        }
    } else if writable.is_empty() {
        pass(format!(
            "every mount under /sys/fs/cgroup is read-only ({})",
            mounts.len()
        ))
    } else {
        fail(format!("writable: {}", writable.join(" ")))
    }
}

/// The `hidepid=` of a proc mount's super block options, as a ProtectProc= word.
fn hidepid(options: &str) -> &str {
    let value = options
        .split(',')
        .find_map(|o| o.strip_prefix("hidepid="))
        .unwrap_or("off");
    match value {
        "0" | "off" => "default",
        "1" | "noaccess" => "noaccess",
        "2" | "invisible" => "invisible",
        "4" | "ptraceable" => "ptraceable",
        other => other,
    }
}

fn protect_proc(d: &Directive, cx: &Context<'_>) -> Outcome {
    let Some(proc) = cx.facts.inspection.mounts.top_at("/proc") else {
        return fail("nothing is mounted on /proc in the unit's view");
    };
    let have = hidepid(&proc.super_options);
    if have == token(d) {
        pass(format!(
            "/proc is mounted with hidepid={have} ({})",
            proc.super_options
        ))
    } else {
        fail(format!(
            "/proc is mounted with {} (hidepid={have})",
            proc.super_options
        ))
    }
}

fn proc_subset(d: &Directive, cx: &Context<'_>) -> Outcome {
    let Some(proc) = cx.facts.inspection.mounts.top_at("/proc") else {
        return fail("nothing is mounted on /proc in the unit's view");
    };
    let pid_only = proc.super_options.split(',').any(|o| o == "subset=pid");
    match (token(d), pid_only) {
        ("pid", true) | ("all", false) => {
            pass(format!("/proc is mounted with {}", proc.super_options))
        }
        _ => fail(format!("/proc is mounted with {}", proc.super_options)),
    }
}

// ---- [network], [namespaces] ----

fn private_network(d: &Directive, cx: &Context<'_>) -> Outcome {
    own_namespace(d, cx, "net", |f| match &f.process.net_devices {
        Some(devices) => format!(", devices: {}", devices.join(" ")),
        None => String::new(),
    })
}

fn private_ipc(d: &Directive, cx: &Context<'_>) -> Outcome {
    own_namespace(d, cx, "ipc", |_| String::new())
}

/// A `PrivateUsers=` mode's uid_map in words, and the test of a map against it.
type UsersMode = (&'static str, fn(&facts::IdMap) -> bool);

/// The uid_map each `PrivateUsers=` mode sets up (systemd's `setup_private_users()`), in
/// words, and whether a map is it. `self` (and `yes`) maps root and the service's own user
/// to themselves, one id each; `identity` the first 65536 ids; `full` (258) every id, in
/// two lines (`0 0 1`, `1 1 4294967294`) so that it differs from the initial namespace's.
fn users_mode(mode: &str) -> Option<UsersMode> {
    Some(match mode {
        "self" => (
            "root and the service's own user, each mapped to itself",
            |m| m.is_identity() && m.0.iter().all(|e| e.count == 1) && m.0.len() <= 2,
        ),
        "identity" => ("the ids 0-65535, each mapped to itself", |m| {
            m.is_identity() && m.0.len() == 1 && m.0[0].inside == 0 && m.0[0].count == 65536
        }),
        "full" => ("every id, mapped to itself", |m| {
            m.is_identity() && m.0.len() > 1 && m.mapped() == u64::from(u32::MAX)
        }),
        _ => return None,
    })
}

fn private_users(d: &Directive, cx: &Context<'_>) -> Outcome {
    let mode = match &d.value {
        DirectiveValue::Bool(true) => "self",
        DirectiveValue::Bool(false) => "",
        DirectiveValue::Word(w) => w.as_str(),
        _ => return mismatch(d),
    };
    let shown_map = |f: &Facts| match &f.process.uid_map {
        Some(map) => format!(", uid_map {map}"),
        None => String::new(),
    };
    if mode.is_empty() {
        return own_namespace_if(false, cx, "user", shown_map);
    }
    let Some((what, fits)) = users_mode(mode) else {
        return mismatch(d);
    };
    let ns = own_namespace_if(true, cx, "user", shown_map);
    if ns.status != Status::Pass {
        return ns;
    }
    match &cx.facts.process.uid_map {
        None => unknown(format!(
            "{}; its /proc/PID/uid_map could not be read",
            ns.evidence
        )),
        Some(map) if fits(map) => pass(format!("{}: {what}", ns.evidence)),
        Some(_) => fail(format!("{}: not the {mode} mapping ({what})", ns.evidence)),
    }
}

fn private_pids(d: &Directive, cx: &Context<'_>) -> Outcome {
    let outcome = own_namespace(d, cx, "pid", |_| String::new());
    if flag(d) != Some(true) || outcome.status != Status::Pass {
        return outcome;
    }
    // NSpid lists its PID in each namespace from sandgen's down to its own: PrivatePIDs=
    // makes the service PID 1 of its namespace.
    let inside = match cx.facts.process.ns_pid.as_deref() {
        Some([.., 1]) => ", where the main process is PID 1".to_owned(),
        Some(pids @ [.., inner]) => format!(
            ", where the main process is PID {inner} (NSpid {})",
            pids.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        _ => String::new(),
    };
    pass(format!("{}{inside}", outcome.evidence))
}

fn protect_hostname(d: &Directive, cx: &Context<'_>) -> Outcome {
    // yes and private (258) both give the unit a UTS namespace of its own; yes also denies
    // sethostname(2) with a seccomp filter, which cannot be read from outside.
    let requested = match &d.value {
        DirectiveValue::Bool(b) => *b,
        DirectiveValue::Word(w) if w == "private" => true,
        _ => return mismatch(d),
    };
    own_namespace_if(requested, cx, "uts", |_| String::new())
}

// ---- [security]: Linux security modules ----

/// The label a `SELinuxContext=`/`AppArmorProfile=` value asks for, and whether systemd may
/// start the service without it (the `-` prefix).
fn asked_label(d: &Directive) -> Option<(&str, bool)> {
    let DirectiveValue::Text(t) = &d.value else {
        return None;
    };
    Some(match t.strip_prefix('-') {
        Some(label) => (label, true),
        None => (t.as_str(), false),
    })
}

/// What the `-` prefix let happen, for the evidence of a label that is not in force.
fn tolerated(ignore: bool) -> &'static str {
    if ignore {
        " (the \"-\" prefix let systemd start the service without it)"
    } else {
        ""
    }
}

/// `AppArmorProfile=`: the process's AppArmor label is the profile, in enforce mode.
fn apparmor_profile(d: &Directive, cx: &Context<'_>) -> Outcome {
    let Some((want, ignore)) = asked_label(d) else {
        return mismatch(d);
    };
    let lsm = &cx.facts.inspection.lsm;
    if !lsm.is_active("apparmor") {
        return unknown(format!(
            "AppArmor is not active in this kernel, so systemd ignores AppArmorProfile= and no process has an AppArmor label ({})",
            lsm.evidence()
        ));
    }
    let Some(label) = &lsm.apparmor_label else {
        return unknown(format!(
            "AppArmor is active but the process's label cannot be read ({})",
            lsm.evidence()
        ));
    };
    match crate::inspect::lsm::apparmor_profile(label) {
        (name, Some("enforce")) if name == want => {
            pass(format!("confined by AppArmor profile {label}"))
        }
        (name, Some(mode)) if name == want => fail(format!(
            "profile {name} is attached in {mode} mode, not enforce: what it forbids is {}",
            if mode == "complain" {
                "logged, not refused"
            } else {
                "not refused"
            }
        )),
        _ => fail(format!(
            "AppArmor label {label}, not {want}{}",
            tolerated(ignore)
        )),
    }
}

/// `SELinuxContext=`: the process's SELinux context is the one asked.
fn selinux_context(d: &Directive, cx: &Context<'_>) -> Outcome {
    let Some((want, ignore)) = asked_label(d) else {
        return mismatch(d);
    };
    let lsm = &cx.facts.inspection.lsm;
    if !lsm.is_active("selinux") {
        return unknown(format!(
            "SELinux is not active in this kernel, so systemd ignores SELinuxContext= and no process has a SELinux context ({})",
            lsm.evidence()
        ));
    }
    match &lsm.current {
        Some(label) if label == want => {
            pass(format!("SELinux context {label} (/proc/PID/attr/current)"))
        }
        Some(label) => fail(format!(
            "SELinux context {label}, not {want}{}",
            tolerated(ignore)
        )),
        None => unknown(format!(
            "SELinux is active but the process's context cannot be read ({})",
            lsm.evidence()
        )),
    }
}

#[cfg(test)]
mod tests;
