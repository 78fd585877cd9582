//! Every policy key sandgen knows, and the systemd directive it stands for.
//!
//! This is the one place a directive is defined. A row says which policy table and key
//! it has, which directive and unit file section it becomes, what values it takes
//! ([`Kind`]), the systemd version that introduced it (systemd's NEWS and the "Added in
//! version" notes of systemd.exec(5), systemd.resource-control(5), systemd.service(5),
//! systemd.unit(5)), and one line of documentation for the policy reference.
//!
//! Rows are in output order: the rendered unit lists directives in this order, so related
//! settings stay together and the output is deterministic.

use super::{BoolBus, Emit, Kind, Mode, Modes, Name, Older, Spec, UnitSection};

/// A mode as old as its directive: no target that has the directive lacks it.
const fn original(word: &'static str) -> Mode {
    Mode {
        word,
        since: 0,
        older: Older::Refuse("it is as old as its directive"),
    }
}

const PROTECT_HOME: Modes = Modes {
    modes: &[original("read-only"), original("tmpfs")],
    bus: BoolBus::String,
};
const PROTECT_SYSTEM: Modes = Modes {
    modes: &[original("full"), original("strict")],
    bus: BoolBus::String,
};

/// `PrivateTmp=disconnected` (systemd 257): /tmp and /var/tmp are a tmpfs of their own
/// instead of directories under the host's /tmp and /var/tmp.
///
/// Older: `yes`, just as strict. The service sees exactly the same thing, a private /tmp and
/// /var/tmp that nothing outside it shares; only where the files live differs (on the
/// host's /tmp, readable by the host's root, instead of in memory).
const PRIVATE_TMP: Modes = Modes {
    modes: &[Mode {
        word: "disconnected",
        since: 257,
        older: Older::Yes("which is just as strict: the service sees the same private /tmp and /var/tmp, but they are directories under the host's /tmp and /var/tmp rather than a tmpfs of their own"),
    }],
    bus: BoolBus::BoolAndEx,
};

/// `ProtectControlGroups=private|strict` (systemd 257): a cgroup namespace, so that
/// /sys/fs/cgroup shows only the unit's own subtree (writable with `private`, read-only
/// with `strict`).
///
/// Older: refused. `yes` keeps /sys/fs/cgroup read-only but has no cgroup namespace: the
/// service sees the host's whole cgroup tree, every unit's name and usage, which is the
/// exposure both modes exist to close.
const PROTECT_CONTROL_GROUPS: Modes = Modes {
    modes: &[
        Mode {
            word: "private",
            since: 257,
            older: Older::Refuse("true is the closest older form, but without a cgroup namespace the service sees the host's whole cgroup tree: write true if that is acceptable"),
        },
        Mode {
            word: "strict",
            since: 257,
            older: Older::Refuse("true is the closest older form, but without a cgroup namespace the service sees the host's whole cgroup tree: write true if that is acceptable"),
        },
    ],
    bus: BoolBus::BoolAndEx,
};

/// `PrivateUsers=` modes. `yes` maps root and the service's own user to themselves and
/// every other id to nobody.
///
/// - `self` (257) is another name for `yes`: older targets get `yes`, the same mapping.
/// - `identity` (257) maps the first 65536 ids to themselves. Older: `yes`, stricter:
///   fewer ids are mapped, so the other users' files appear owned by nobody; the process
///   has no capabilities in the host's user namespace either way.
/// - `full` (258) maps every id to itself. Older: `identity`, stricter for the same reason
///   (ids above 65535 appear as nobody), and from there `yes` before 257.
const PRIVATE_USERS: Modes = Modes {
    modes: &[
        Mode {
            word: "self",
            since: 257,
            older: Older::Yes("which systemd reads as the same mapping"),
        },
        Mode {
            word: "identity",
            since: 257,
            older: Older::Yes("which is stricter: only root and the service's own user are mapped, so other users' files appear owned by nobody"),
        },
        Mode {
            word: "full",
            since: 258,
            older: Older::Mode("identity", "which is stricter: only the first 65536 user and group ids are mapped, so files of higher ids appear owned by nobody"),
        },
    ],
    bus: BoolBus::BoolAndEx,
};

/// `ProtectHostname=private` (systemd 258): a UTS namespace in which the service may change
/// its own host name.
///
/// Older: `yes`, stricter: the same private UTS namespace, and the host name cannot be
/// changed at all (sethostname() fails).
const PROTECT_HOSTNAME: Modes = Modes {
    modes: &[Mode {
        word: "private",
        since: 258,
        older: Older::Yes("which is stricter: the same private UTS namespace, but the service cannot change its host name (sethostname() fails)"),
    }],
    bus: BoolBus::BoolAndEx,
};

/// `PrivatePIDs=` takes only a boolean, but systemd declares it an enum: its D-Bus property
/// is a string, `"yes"` or `"no"`.
const PRIVATE_PIDS: Modes = Modes {
    modes: &[],
    bus: BoolBus::String,
};
/// systemd's service types but `dbus`, which needs BusName= (not a policy key): systemd
/// refuses to load a Type=dbus unit without it.
const SERVICE_TYPES: &[&str] = &["simple", "exec", "forking", "oneshot", "notify", "idle"];
const RESTART: &[&str] = &[
    "no",
    "on-success",
    "on-failure",
    "on-abnormal",
    "on-watchdog",
    "on-abort",
    "always",
];
const KEYRING_MODE: &[&str] = &["inherit", "private", "shared"];
const OOM_POLICY: &[&str] = &["continue", "stop", "kill"];
const PROTECT_PROC: &[&str] = &["noaccess", "invisible", "ptraceable", "default"];
const PROC_SUBSET: &[&str] = &["all", "pid"];

/// A row, with the common defaults filled in: `[Service]`, written as is.
const fn row(
    table: &'static str,
    key: &'static str,
    directive: Name,
    kind: Kind,
    since: u32,
    doc: &'static str,
) -> Spec {
    Spec {
        table,
        key,
        directive,
        section: UnitSection::Service,
        kind,
        since,
        emit: Emit::Plain,
        doc,
    }
}

/// The same row in another unit file section.
const fn in_section(spec: Spec, section: UnitSection) -> Spec {
    Spec { section, ..spec }
}

/// The same row with a different way of being written.
const fn emitted(spec: Spec, emit: Emit) -> Spec {
    Spec { emit, ..spec }
}

/// The policy tables, in the order the reference documents them.
pub const TABLES: &[&str] = &[
    "service",
    "resources",
    "capabilities",
    "seccomp",
    "filesystem",
    "network",
    "namespaces",
    "security",
    "install",
];

/// Keys of `[service]` that configure sandgen itself rather than a directive.
pub const SERVICE_NAME_KEY: &str = "name";

/// Every directive sandgen can write.
#[rustfmt::skip]
pub static SPECS: &[Spec] = &[
    // [service]: what runs, as whom.
    in_section(
        row("service", "description", Name::Description, Kind::Text, 1, "Human-readable unit description."),
        UnitSection::Unit,
    ),
    row("service", "type", Name::Type, Kind::Word(SERVICE_TYPES), 1, "Start-up type: simple, exec, forking, oneshot, notify, idle (not dbus: it needs BusName=)."),
    row("service", "exec", Name::ExecStart, Kind::Command, 1, "The command as an argv array; argv[0] an absolute path. Never a shell string."),
    row("service", "user", Name::User, Kind::UserName, 1, "User the service runs as."),
    row("service", "group", Name::Group, Kind::UserName, 1, "Group the service runs as."),
    row("service", "dynamic_user", Name::DynamicUser, Kind::Bool, 232, "Run as a transient user allocated at start."),
    row("service", "working_directory", Name::WorkingDirectory, Kind::WorkingDirectory, 1, "Working directory: an absolute path or \"~\"."),
    row("service", "environment", Name::Environment, Kind::Environment, 1, "Environment variables, as a table NAME = \"value\"."),
    row("service", "umask", Name::UMask, Kind::UMask, 1, "File mode creation mask, octal, e.g. \"0077\"."),
    row("service", "restart", Name::Restart, Kind::Word(RESTART), 1, "When to restart: no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always."),
    row("service", "timeout_start_sec", Name::TimeoutStartSec, Kind::Duration, 188, "Start-up time-out: seconds, a time span (\"90s\", \"5min\") or \"infinity\"."),
    row("service", "keyring_mode", Name::KeyringMode, Kind::Word(KEYRING_MODE), 235, "Kernel session keyring: inherit, private, shared."),
    // [resources]: cgroup limits (systemd.resource-control(5)).
    row("resources", "memory_max", Name::MemoryMax, Kind::Size { allows_zero: false }, 231, "Hard memory limit: bytes with K/M/G/T, a percentage of RAM, or \"infinity\"."),
    emitted(
        row("resources", "memory_limit", Name::MemoryLimit, Kind::Size { allows_zero: false }, 208, "Legacy cgroup v1 name of memory_max; written as MemoryMax= on systemd 231 and later."),
        Emit::MemoryLimit,
    ),
    row("resources", "memory_high", Name::MemoryHigh, Kind::Size { allows_zero: false }, 231, "Memory throttling threshold."),
    row("resources", "memory_low", Name::MemoryLow, Kind::Size { allows_zero: true }, 231, "Memory protection below which the unit is not reclaimed."),
    row("resources", "memory_swap_max", Name::MemorySwapMax, Kind::Size { allows_zero: true }, 232, "Swap limit."),
    row("resources", "memory_zswap_max", Name::MemoryZSwapMax, Kind::Size { allows_zero: true }, 253, "Limit of compressed swap in memory (zswap, cgroup v2 memory.zswap.max)."),
    row("resources", "memory_zswap_writeback", Name::MemoryZSwapWriteback, Kind::Bool, 256, "Whether zswap may write pages on to the swap device (cgroup v2 memory.zswap.writeback); false keeps them in memory."),
    row("resources", "oom_policy", Name::OOMPolicy, Kind::Word(OOM_POLICY), 243, "What systemd does once the kernel OOM-kills a process of the unit: continue, stop the unit (the default) or kill it. Seen on cgroup v2; systemd hears no OOM kill on v1 controllers."),
    row("resources", "cpu_weight", Name::CPUWeight, Kind::Integer { min: 1, max: 10000 }, 232, "CPU weight, 1..10000, default 100."),
    emitted(
        row("resources", "cpu_shares", Name::CPUShares, Kind::Integer { min: 2, max: 262144 }, 208, "Legacy cgroup v1 CPU shares, 2..262144, default 1024; written as CPUWeight=shares*100/1024 on systemd 232 and later."),
        Emit::CpuShares,
    ),
    row("resources", "cpu_quota", Name::CPUQuota, Kind::Percent, 213, "CPU time quota as a percentage of one CPU, e.g. \"20%\" (may exceed 100%)."),
    row("resources", "allowed_cpus", Name::AllowedCPUs, Kind::CpuSet, 244, "CPUs the unit may run on (cpuset), e.g. \"0-1,3\"."),
    row("resources", "cpu_affinity", Name::CPUAffinity, Kind::CpuSet, 1, "CPUs the processes may run on (sched_setaffinity), e.g. \"0\"; enforced on every cgroup layout."),
    row("resources", "io_weight", Name::IOWeight, Kind::Integer { min: 1, max: 10000 }, 230, "Block IO weight, 1..10000, default 100."),
    row("resources", "io_read_bandwidth_max", Name::IOReadBandwidthMax, Kind::DeviceLimits { bandwidth: true }, 230, "Read bandwidth limits, a table { \"/dev/vda\" = \"10M\" }: a device node or a file on the device (its whole disk is limited), bytes per second with K/M/G/T to the base of 1000. Name a device by the same path in every I/O limit: systemd writes each path's limits for the whole device, and a second path overwrites the first's. systemd.resource-control(5) of 252 describes it for cgroup v2 and deprecates BlockIOReadBandwidth=, yet 252 with v1 controllers writes it to blkio.throttle.read_bps_device itself (measured): no BlockIO* name is needed."),
    row("resources", "io_write_bandwidth_max", Name::IOWriteBandwidthMax, Kind::DeviceLimits { bandwidth: true }, 230, "Write bandwidth limits, as io_read_bandwidth_max (v1: blkio.throttle.write_bps_device)."),
    row("resources", "io_read_iops_max", Name::IOReadIOPSMax, Kind::DeviceLimits { bandwidth: false }, 230, "Read operations per second, a table { \"/dev/vda\" = 500 } (a plain count; systemd would also read K/M/G/T). cgroup v2 only: systemd writes no IOPS limit to the v1 blkio controller (measured on 252)."),
    row("resources", "io_write_iops_max", Name::IOWriteIOPSMax, Kind::DeviceLimits { bandwidth: false }, 230, "Write operations per second, as io_read_iops_max; cgroup v2 only."),
    row("resources", "tasks_max", Name::TasksMax, Kind::TasksMax, 227, "Maximum number of tasks: a number, a percentage, or \"infinity\"."),
    // [capabilities]: capabilities(7).
    row("capabilities", "bounding", Name::CapabilityBoundingSet, Kind::Capabilities, 1, "Capability bounding set: the capabilities kept; [] keeps none."),
    emitted(
        row("capabilities", "bounding_drop", Name::CapabilityBoundingSet, Kind::Capabilities, 1, "Capabilities removed from the bounding set, all others kept (CapabilityBoundingSet=~)."),
        Emit::Negated,
    ),
    row("capabilities", "ambient", Name::AmbientCapabilities, Kind::Capabilities, 229, "Ambient capabilities passed to an unprivileged process."),
    row("capabilities", "no_new_privileges", Name::NoNewPrivileges, Kind::Bool, 187, "Forbid gaining privileges through execve() (setuid, file capabilities)."),
    row("capabilities", "secure_bits", Name::SecureBits, Kind::SecureBits, 1, "Securebits: keep-caps, keep-caps-locked, no-setuid-fixup, no-setuid-fixup-locked, noroot, noroot-locked."),
    // [seccomp]: system call filtering, and the directives systemd implements with seccomp.
    row("seccomp", "allow", Name::SystemCallFilter, Kind::Syscalls, 187, "System calls and @groups allowed; all others fail or kill."),
    emitted(
        row("seccomp", "deny", Name::SystemCallFilter, Kind::Syscalls, 187, "System calls and @groups denied (SystemCallFilter=~); applied after allow."),
        Emit::Negated,
    ),
    row("seccomp", "error_number", Name::SystemCallErrorNumber, Kind::Errno, 209, "errno returned by a filtered call instead of killing the process, e.g. \"EPERM\"."),
    row("seccomp", "architectures", Name::SystemCallArchitectures, Kind::Architectures, 209, "Architectures whose system calls are allowed, e.g. [\"native\"]."),
    row("seccomp", "log", Name::SystemCallLog, Kind::Syscalls, 247, "System calls to log to the audit log without blocking them."),
    row("seccomp", "lock_personality", Name::LockPersonality, Kind::Bool, 235, "Forbid changing the execution domain (personality(2))."),
    row("seccomp", "memory_deny_write_execute", Name::MemoryDenyWriteExecute, Kind::Bool, 231, "Forbid memory that is both writable and executable."),
    row("seccomp", "restrict_realtime", Name::RestrictRealtime, Kind::Bool, 231, "Forbid realtime scheduling."),
    row("seccomp", "restrict_suid_sgid", Name::RestrictSUIDSGID, Kind::Bool, 242, "Forbid creating setuid/setgid files."),
    // [filesystem]: the mount namespace.
    row("filesystem", "root_directory", Name::RootDirectory, Kind::Path, 1, "Change root into this directory (chroot)."),
    row("filesystem", "mount_api_vfs", Name::MountAPIVFS, Kind::Bool, 233, "Mount /proc, /sys, /dev and /run inside root_directory."),
    row("filesystem", "private_tmp", Name::PrivateTmp, Kind::BoolOrWord(PRIVATE_TMP), 1, "A private /tmp and /var/tmp: true (directories under the host's), or \"disconnected\" (a tmpfs of their own)."),
    row("filesystem", "private_devices", Name::PrivateDevices, Kind::Bool, 209, "A private /dev with only pseudo devices (null, zero, random, ...)."),
    row("filesystem", "private_mounts", Name::PrivateMounts, Kind::Bool, 239, "A private mount namespace, without other changes."),
    row("filesystem", "protect_home", Name::ProtectHome, Kind::BoolOrWord(PROTECT_HOME), 214, "Hide /home, /root, /run/user: true (inaccessible), \"read-only\" or \"tmpfs\"."),
    row("filesystem", "protect_system", Name::ProtectSystem, Kind::BoolOrWord(PROTECT_SYSTEM), 214, "Read-only /usr and /boot: true, \"full\" (also /etc) or \"strict\" (everything)."),
    row("filesystem", "read_write_paths", Name::ReadWritePaths, Kind::Paths, 231, "Paths kept writable (prefix \"-\" to ignore a missing one)."),
    row("filesystem", "read_only_paths", Name::ReadOnlyPaths, Kind::Paths, 231, "Paths made read-only."),
    row("filesystem", "inaccessible_paths", Name::InaccessiblePaths, Kind::Paths, 231, "Paths made inaccessible."),
    row("filesystem", "bind_paths", Name::BindPaths, Kind::BindPaths, 233, "Bind mounts, \"SOURCE\" or \"SOURCE:DESTINATION\"."),
    row("filesystem", "bind_read_only_paths", Name::BindReadOnlyPaths, Kind::BindPaths, 233, "Read-only bind mounts, \"SOURCE\" or \"SOURCE:DESTINATION\"."),
    row("filesystem", "protect_kernel_tunables", Name::ProtectKernelTunables, Kind::Bool, 232, "Read-only /proc/sys, /sys and friends."),
    row("filesystem", "protect_kernel_modules", Name::ProtectKernelModules, Kind::Bool, 232, "Forbid loading kernel modules."),
    row("filesystem", "protect_kernel_logs", Name::ProtectKernelLogs, Kind::Bool, 244, "Forbid access to the kernel log ring buffer."),
    row("filesystem", "protect_control_groups", Name::ProtectControlGroups, Kind::BoolOrWord(PROTECT_CONTROL_GROUPS), 232, "Read-only /sys/fs/cgroup: true; \"private\" (a cgroup namespace, writable) or \"strict\" (a cgroup namespace, read-only)."),
    row("filesystem", "protect_clock", Name::ProtectClock, Kind::Bool, 245, "Forbid changing the system clock."),
    row("filesystem", "protect_proc", Name::ProtectProc, Kind::Word(PROTECT_PROC), 247, "Visibility of other processes in /proc: noaccess, invisible, ptraceable, default."),
    row("filesystem", "proc_subset", Name::ProcSubset, Kind::Word(PROC_SUBSET), 247, "Which part of /proc is visible: all, pid."),
    // [network]
    row("network", "private_network", Name::PrivateNetwork, Kind::Bool, 1, "A private network namespace with only a loopback device."),
    row("network", "restrict_address_families", Name::RestrictAddressFamilies, Kind::AddressFamilies, 211, "Socket address families allowed, e.g. [\"AF_UNIX\"]; [] allows none."),
    row("network", "ip_address_allow", Name::IPAddressAllow, Kind::IpAddresses, 235, "IP addresses and prefixes the unit may exchange packets with, e.g. [\"localhost\", \"10.0.0.0/8\"]; any, localhost, link-local, multicast are names. Wins over ip_address_deny. A BPF program on the unit's cgroup v2 directory (the unified tree of a hybrid host works too)."),
    row("network", "ip_address_deny", Name::IPAddressDeny, Kind::IpAddresses, 235, "IP addresses and prefixes the unit may not exchange packets with, e.g. [\"any\"]: refused sends fail with EPERM, packets in are dropped."),
    // [namespaces]
    row("namespaces", "restrict_namespaces", Name::RestrictNamespaces, Kind::Namespaces, 233, "Forbid creating namespaces: true (all), false, or the list of types allowed."),
    row("namespaces", "private_ipc", Name::PrivateIPC, Kind::Bool, 248, "A private IPC namespace."),
    row("namespaces", "private_users", Name::PrivateUsers, Kind::BoolOrWord(PRIVATE_USERS), 232, "A private user namespace: true or \"self\" (maps root and the service user), \"identity\" (the first 65536 ids), \"full\" (every id)."),
    row("namespaces", "private_pids", Name::PrivatePIDs, Kind::BoolOrWord(PRIVATE_PIDS), 257, "A private PID namespace in which the service is PID 1."),
    row("namespaces", "protect_hostname", Name::ProtectHostname, Kind::BoolOrWord(PROTECT_HOSTNAME), 242, "A private UTS namespace: true (the host name cannot be changed) or \"private\" (the service may change its own)."),
    row("namespaces", "remove_ipc", Name::RemoveIPC, Kind::Bool, 232, "Remove the service user's IPC objects when it stops."),
    // [security]: labels of Linux security modules (systemd.exec(5) "Mandatory Access
    // Control"). systemd expands specifiers in both and reads a leading "-" as "start anyway
    // when the label cannot be applied".
    row("security", "selinux_context", Name::SELinuxContext, Kind::SecurityLabel, 209, "SELinux security context the process runs in, e.g. \"system_u:system_r:httpd_t:s0\"; prefix \"-\" to start anyway when it cannot be set. Ignored where SELinux is off."),
    row("security", "apparmor_profile", Name::AppArmorProfile, Kind::SecurityLabel, 210, "AppArmor profile the process is confined by (it must be loaded); prefix \"-\" to start anyway when it cannot be applied. Ignored where AppArmor is off."),
    // [install]: ordering and dependencies go to [Unit], WantedBy= to [Install].
    in_section(row("install", "after", Name::After, Kind::Units, 1, "Start after these units."), UnitSection::Unit),
    in_section(row("install", "before", Name::Before, Kind::Units, 1, "Start before these units."), UnitSection::Unit),
    in_section(row("install", "requires", Name::Requires, Kind::Units, 1, "Units this one requires."), UnitSection::Unit),
    in_section(row("install", "wants", Name::Wants, Kind::Units, 1, "Units this one wants."), UnitSection::Unit),
    in_section(row("install", "wanted_by", Name::WantedBy, Kind::Units, 1, "Targets that pull this unit in when it is enabled."), UnitSection::Install),
];

/// The row for `table.key`, if there is one.
pub fn find(table: &str, key: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.table == table && s.key == key)
}

/// The row's place in [`SPECS`], which is the order directives are written in.
pub fn position(spec: &Spec) -> usize {
    SPECS
        .iter()
        .position(|s| s.table == spec.table && s.key == spec.key)
        .unwrap_or(usize::MAX)
}

/// The keys of one policy table, in table order.
pub fn keys_of(table: &str) -> impl Iterator<Item = &'static str> + '_ {
    SPECS
        .iter()
        .filter(move |s| s.table == table)
        .map(|s| s.key)
}

/// What the policy reference says before its tables, in both renderings: plain text with
/// `code` in backticks.
const REFERENCE_INTRO: &str = "\
    A policy is a TOML file with the tables below. Every key is optional except\n\
    `service.exec`. `service.name` sets the unit name (default: the file name without\n\
    `.toml`). \"Since\" is the systemd version that introduced the directive: sandgen\n\
    refuses a key the target systemd lacks. A mode can be newer than its directive: for\n\
    an older target it is written as the older form named, which is as strict, with a\n\
    warning, or refused.\n";

/// One key of the policy reference, as both renderings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceEntry {
    /// The policy key (`memory_max`).
    pub key: &'static str,
    /// The directive it becomes (`MemoryMax=`, `CapabilityBoundingSet=~`) and the unit file
    /// section it is written in; `None` for `service.name`, which names the unit.
    pub directive: Option<(String, &'static str)>,
    /// The systemd version that introduced the directive.
    pub since: Option<u32>,
    /// What it means, with the modes newer than the directive and what an older target
    /// gets instead.
    pub meaning: String,
}

/// The entries of one policy table for the reference, in table order: the data that
/// [`reference_markdown`] and [`reference_roff`] lay out.
pub fn reference_entries(table: &str) -> Vec<ReferenceEntry> {
    let mut entries = Vec::new();
    if table == "service" {
        entries.push(ReferenceEntry {
            key: SERVICE_NAME_KEY,
            directive: None,
            since: None,
            meaning: "The unit is NAME.service; default: the policy file's stem.".to_owned(),
        });
    }
    for s in SPECS.iter().filter(|s| s.table == table) {
        let directive = match s.emit {
            super::Emit::Negated => format!("{}=~", s.directive),
            _ => format!("{}=", s.directive),
        };
        entries.push(ReferenceEntry {
            key: s.key,
            directive: Some((directive, s.section.name())),
            since: Some(s.since),
            meaning: format!("{}{}", s.doc, newer_modes(s)),
        });
    }
    entries
}

/// The policy reference in Markdown, generated from [`SPECS`] (`sandgen reference`).
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Policy reference\n\n\
         Generated from `src/directive/table.rs` by `sandgen reference`; do not edit.\n\n",
    );
    out.push_str(REFERENCE_INTRO);
    for t in TABLES {
        out.push_str(&format!(
            "\n## [{t}]\n\n| key | directive | since | meaning |\n|---|---|---|---|\n"
        ));
        for e in reference_entries(t) {
            let directive = match &e.directive {
                Some((directive, section)) => format!("`{directive}` [{section}]"),
                None => "(unit name)".to_owned(),
            };
            let since = e.since.map_or_else(|| " ".to_owned(), |v| format!(" {v} "));
            out.push_str(&format!(
                "| `{}` | {directive} |{since}| {} |\n",
                e.key,
                e.meaning.replace('|', "\\|"),
            ));
        }
    }
    out
}

/// The policy reference as the manual page sandgen.toml(5), from the same entries as
/// [`reference_markdown`] (`sandgen man`).
pub fn reference_roff() -> String {
    use roff::{bold, italic, roman, Roff};

    let mut page = Roff::new();
    page.control("SH", ["NAME"]);
    page.text([roman("sandgen.toml - a sandgen sandbox policy")]);
    page.control("SH", ["SYNOPSIS"]);
    for place in [
        "./NAME.toml",
        "./policies/NAME.toml",
        "/etc/sandgen/policies/NAME.toml",
    ] {
        page.text([italic(place)]).control("br", []);
    }
    page.control("SH", ["DESCRIPTION"]);
    page.text(ticks_to_bold(&REFERENCE_INTRO.replace('\n', " ")));
    page.control("PP", []);
    page.text(ticks_to_bold(
        "`sandgen start NAME` and `sandgen install NAME` look for the policy in the places \
         above, in that order; `sandgen render` and `sandgen check` take a file.",
    ));
    for t in TABLES {
        page.control("SH", [format!("[{t}]").as_str()]);
        for e in reference_entries(t) {
            page.control("TP", []);
            page.text([bold(e.key)]);
            match (&e.directive, e.since) {
                (Some((directive, section)), Some(since)) => {
                    page.text([
                        bold(directive.as_str()),
                        roman(format!(" in [{section}], since systemd {since}.")),
                    ]);
                    page.control("br", []);
                }
                _ => {
                    page.text([roman("(the unit name)")]);
                    page.control("br", []);
                }
            }
            page.text([roman(e.meaning)]);
        }
    }
    page.control("SH", ["EXAMPLES"]);
    page.text(ticks_to_bold(
        "Commented example policies are in `/usr/share/doc/sandgen/examples/` when sandgen \
         is installed from its Debian package, and in `policies/` of its source.",
    ));
    page.control("SH", ["SEE ALSO"]);
    page.text([
        bold("sandgen"),
        roman("(1), "),
        bold("systemd.exec"),
        roman("(5), "),
        bold("systemd.resource-control"),
        roman("(5), "),
        bold("systemd.service"),
        roman("(5), "),
        bold("systemd.unit"),
        roman("(5), "),
        bold("capabilities"),
        roman("(7)"),
    ]);
    // The title line by hand: the roff crate leaves an empty argument (the date, left out
    // so that the page does not go stale every day) unquoted, which shifts the others.
    format!(
        ".\\\" Generated from src/directive/table.rs by `sandgen man`; do not edit.\n\
         .TH SANDGEN.TOML 5 \"\" \"sandgen {}\" \"\"\n{}",
        env!("CARGO_PKG_VERSION"),
        page.render()
    )
}

/// Text with `code` in backticks, as roff: the code in bold.
fn ticks_to_bold(text: &str) -> Vec<roff::Inline> {
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| {
            if i % 2 == 1 {
                roff::bold(part)
            } else {
                roff::roman(part)
            }
        })
        .collect()
}

/// For the reference: the modes of `spec` newer than the directive itself, with their
/// version and what an older target gets.
fn newer_modes(spec: &Spec) -> String {
    let Kind::BoolOrWord(modes) = spec.kind else {
        return String::new();
    };
    modes
        .modes
        .iter()
        .filter(|m| m.since > spec.since)
        .map(|m| {
            let before = match m.older {
                Older::Refuse(_) => "refused".to_owned(),
                Older::Yes(_) => "written as true".to_owned(),
                Older::Mode(word, _) => format!("written as \"{word}\""),
            };
            format!(" \"{}\" needs {}; {before} before.", m.word, m.since)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_in_a_known_table_and_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for s in SPECS {
            assert!(
                TABLES.contains(&s.table),
                "{} is in unknown table",
                s.path()
            );
            assert!(seen.insert(s.path()), "{} is defined twice", s.path());
            assert_ne!(
                s.key, SERVICE_NAME_KEY,
                "`name` is reserved for the unit name"
            );
        }
    }

    /// Lowering follows `Older::Mode` from mode to mode: each must name another mode of the
    /// same row that is older, so the chain ends; no mode predates its directive.
    #[test]
    fn older_modes_are_older_modes_of_the_row() {
        for s in SPECS {
            let Kind::BoolOrWord(modes) = s.kind else {
                continue;
            };
            for m in modes.modes {
                if let Older::Mode(older, _) = m.older {
                    let o = modes.find(older).unwrap_or_else(|| {
                        panic!("{}: {} falls back to unknown {older}", s.path(), m.word)
                    });
                    assert!(
                        o.since < m.since,
                        "{}: {older} is not older than {}",
                        s.path(),
                        m.word
                    );
                }
                assert!(
                    m.since == 0 || m.since > s.since,
                    "{}: {}",
                    s.path(),
                    m.word
                );
            }
        }
    }

    #[test]
    fn keys_are_snake_case() {
        for s in SPECS {
            assert!(
                s.key.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                s.key
            );
        }
    }
}
