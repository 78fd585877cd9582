//! Typed systemd directives: the one vocabulary every stage of sandgen speaks.
//!
//! A policy key (`[resources] memory_max`) stands for one systemd directive (`MemoryMax=`
//! in `[Service]`). [`table::SPECS`] lists every such pairing once, with the kind of value it
//! takes and the systemd version that introduced it. The policy loader validates against the
//! table, `policy::lower` turns a validated policy into a list of [`Directive`]s for one
//! target systemd version, and every output (unit file text, D-Bus properties, checks) reads
//! that list. This module is vocabulary only: it knows nothing of policies. To add a
//! directive, add one row to `table.rs` and its [`Name`], then follow the compiler.

mod name;
pub mod table;
pub mod value;

pub use name::Name;
pub use value::{Amount, CpuSet, DeviceRate, Errno, IpPrefix, IpPrefixes, Size, TimeSpan};

/// A section of a unit file (systemd.unit(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum UnitSection {
    /// `[Unit]`: generic unit options (Description=, After=, ...).
    Unit,
    /// `[Service]`: execution, sandboxing and resource control.
    Service,
    /// `[Install]`: what `systemctl enable` links.
    Install,
}

impl UnitSection {
    /// The section header name as written in a unit file.
    pub fn name(self) -> &'static str {
        match self {
            UnitSection::Unit => "Unit",
            UnitSection::Service => "Service",
            UnitSection::Install => "Install",
        }
    }
}

/// The kind of value a policy key takes: decides how it is validated and escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `true`/`false`, written `yes`/`no`.
    Bool,
    /// `true` (written `yes`), `false` (`no`), or one of the listed modes.
    BoolOrWord(Modes),
    /// One of the listed words.
    Word(&'static [&'static str]),
    /// Free single-line text; specifiers are expanded by systemd.
    Text,
    /// A user or group name (systemd's "strict" user name rules) or a numeric id.
    UserName,
    /// Bytes with an optional K/M/G/T suffix (base 1024), `infinity`, or a percentage of RAM.
    /// systemd refuses 0 for the limits (MemoryMax=, MemoryHigh=) but not for the
    /// protections and the swap limit (MemoryLow=, MemorySwapMax=).
    Size { allows_zero: bool },
    /// An integer in an inclusive range.
    Integer { min: u64, max: u64 },
    /// An integer, `infinity`, or a percentage (TasksMax=).
    TasksMax,
    /// A CPU time percentage, may exceed 100% (CPUQuota=).
    Percent,
    /// A CPU index list such as `0-1,3` (AllowedCPUs=).
    CpuSet,
    /// A time span: seconds as an integer, a systemd time span (`90s`, `5min`), or `infinity`.
    Duration,
    /// One absolute, normalised path.
    Path,
    /// An absolute path or `~` (WorkingDirectory=).
    WorkingDirectory,
    /// A list of absolute paths, each optionally prefixed with `-` (ignore if missing).
    Paths,
    /// A list of `SOURCE[:DEST]` path pairs (BindPaths=).
    BindPaths,
    /// A list of unit names.
    Units,
    /// A command line as an argv array.
    Command,
    /// A table of environment variables.
    Environment,
    /// A list of capability names; `[]` means none.
    Capabilities,
    /// A list of system call names and `@groups`.
    Syscalls,
    /// An errno name (`EPERM`) or number.
    Errno,
    /// A list of seccomp architecture names.
    Architectures,
    /// A list of `AF_*` names; `[]` means none.
    AddressFamilies,
    /// `true` (restrict all), `false`, or the list of namespace types allowed.
    Namespaces,
    /// A list of securebits flag names.
    SecureBits,
    /// An octal file mode mask such as `"0077"`.
    UMask,
    /// A table of device paths and their limit, one `Directive=PATH LIMIT` line each
    /// (IOReadBandwidthMax=, IOReadIOPSMax=): bytes per second with a base-1000 K/M/G/T
    /// suffix (`bandwidth`), or a count of operations per second.
    DeviceLimits { bandwidth: bool },
    /// A list of IP addresses, prefixes (`10.0.0.0/8`, `::1/128`) and the symbolic names
    /// systemd knows (`any`, `localhost`, `link-local`, `multicast`): IPAddressAllow=.
    IpAddresses,
    /// A Linux security module label (a SELinux context, an AppArmor profile name): one
    /// word without white space, optionally prefixed with `-` (systemd starts the service
    /// even when the label cannot be applied).
    SecurityLabel,
}

/// The words a bool-or-word directive takes besides `yes`/`no`, and how it travels over
/// D-Bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes {
    /// The words (`strict`, `read-only`, ...), each with the systemd that knows it.
    pub modes: &'static [Mode],
    /// The D-Bus property shape.
    pub bus: BoolBus,
}

impl Modes {
    /// The mode written `word`, if the directive has one.
    pub fn find(&self, word: &str) -> Option<&'static Mode> {
        self.modes.iter().find(|m| m.word == word)
    }

    /// The words, in table order.
    pub fn words(&self) -> Vec<&'static str> {
        self.modes.iter().map(|m| m.word).collect()
    }
}

/// One word of a bool-or-word directive (`ProtectControlGroups=strict`) and the first
/// systemd version that knows it: a mode can be newer than its directive
/// (`ProtectControlGroups=yes` is from 232, `=strict` from 257), so lowering checks the
/// version of the value as well as the directive's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// The word as written in the unit file.
    pub word: &'static str,
    /// The systemd version that introduced it; 0 when it is as old as its directive.
    pub since: u32,
    /// What a target older than `since` gets instead.
    pub older: Older,
}

/// What lowering writes for a target systemd older than a [`Mode`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Older {
    /// Refused, with the version that would take it: no older form is as strict. The text
    /// (the help of the error) says what the closest older form loses.
    Refuse(&'static str),
    /// Written as `yes`, which is as strict or stricter, with a warning. The text follows
    /// "written as Directive=yes, " and says what changes: "which is stricter: ...".
    Yes(&'static str),
    /// Written as the older mode named first (which may itself be newer than the target
    /// and fall back further), with a warning; the text as for [`Older::Yes`].
    Mode(&'static str, &'static str),
}

/// How a bool-or-word directive is sent as a transient unit property
/// (org.freedesktop.systemd1(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolBus {
    /// One string property holding `yes`, `no` or the word (`ProtectHome`,
    /// `ProtectSystem`, `PrivatePIDs`).
    String,
    /// A boolean property for `yes`/`no`, and the word in the string property named
    /// `<Directive>Ex`: the directives that were booleans before they had modes
    /// (`PrivateTmpEx`, `PrivateUsersEx`, `ProtectControlGroupsEx`, `ProtectHostnameEx`).
    BoolAndEx,
}

impl Kind {
    /// Whether the systemd directives of this kind expand `%` specifiers.
    ///
    /// Every path, text and command directive does (systemd.unit(5) "Specifiers"); values of
    /// the other kinds are validated to a character set without `%`, or (CPUQuota=,
    /// MemoryMax=) are read by parsers that give `%` its literal meaning.
    pub fn expands_specifiers(self) -> bool {
        matches!(
            self,
            Kind::Text
                | Kind::Path
                | Kind::DeviceLimits { .. }
                | Kind::WorkingDirectory
                | Kind::Paths
                | Kind::BindPaths
                | Kind::Command
                | Kind::Environment
                | Kind::SecurityLabel
        )
    }
}

/// How a policy value becomes a directive, for the few keys that are not a plain 1:1 copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emit {
    /// `Directive=value`.
    Plain,
    /// `Directive=~value...`: the list is a deny list (SystemCallFilter=~).
    Negated,
    /// Legacy `CPUShares=` (cgroup v1 shares, default 1024): written as `CPUWeight=`
    /// (default 100) where the target has it, with systemd's conversion.
    CpuShares,
    /// Legacy `MemoryLimit=`: written as `MemoryMax=` where the target has it.
    MemoryLimit,
}

/// One policy key and the systemd directive it stands for.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The policy table the key lives in (`resources`).
    pub table: &'static str,
    /// The policy key (`memory_max`).
    pub key: &'static str,
    /// The systemd directive (`MemoryMax`).
    pub directive: Name,
    /// The unit file section the directive belongs to.
    pub section: UnitSection,
    /// What values the key takes.
    pub kind: Kind,
    /// The systemd version that introduced the directive.
    pub since: u32,
    /// How the value is written.
    pub emit: Emit,
    /// One line of documentation, shown in the policy reference.
    pub doc: &'static str,
}

impl Spec {
    /// `table.key`, the name users see in diagnostics.
    pub fn path(&self) -> String {
        format!("{}.{}", self.table, self.key)
    }
}

/// The value of one directive, typed and unescaped: parsed once from the policy, formatted
/// (with escaping) when it is written out, compared as it is by verify.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum DirectiveValue {
    /// `yes` / `no`.
    Bool(bool),
    /// A word from the directive's fixed set (`oneshot`, `strict`, `none`) or a validated
    /// name (`User=`): written as is.
    Word(String),
    /// Free text, written unquoted.
    Text(String),
    /// A number (`CPUWeight=`, `IOWeight=`).
    Integer(u64),
    /// A size or task count (`MemoryMax=64M`, `TasksMax=10%`).
    Size(Size),
    /// A percentage of one CPU (`CPUQuota=20%`).
    Percent(u64),
    /// A set of CPUs (`AllowedCPUs=0-1`).
    CpuSet(CpuSet),
    /// A time span (`TimeoutStartSec=90s`).
    TimeSpan(TimeSpan),
    /// A file mode creation mask (`UMask=0077`).
    UMask(u32),
    /// An errno (`SystemCallErrorNumber=EPERM`).
    Errno(Errno),
    /// A whitespace-separated list, each word quoted as needed; `negated` prefixes `~`.
    /// An empty list is an empty assignment, which resets the setting (for
    /// CapabilityBoundingSet= that means "no capabilities").
    Words { words: Vec<String>, negated: bool },
    /// A command line (argv).
    Command(Vec<String>),
    /// One environment assignment.
    Environment { name: String, value: String },
    /// One device's I/O limit (`IOReadBandwidthMax=/dev/vda 10M`): the path of the device
    /// node or of a file on it, and the limit.
    DeviceLimit { path: String, limit: DeviceRate },
    /// IP address prefixes (`IPAddressAllow=localhost 10.0.0.0/8`).
    IpAddresses(IpPrefixes),
}

impl DirectiveValue {
    /// The boolean, for `Bool` values.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            DirectiveValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text of a `Text` or `Word` value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            DirectiveValue::Text(t) | DirectiveValue::Word(t) => Some(t),
            _ => None,
        }
    }

    /// The words of a list and whether it is negated; an empty list for other values.
    pub fn words(&self) -> (&[String], bool) {
        match self {
            DirectiveValue::Words { words, negated } => (words, *negated),
            _ => (&[], false),
        }
    }
}

/// One line of a unit file, before escaping.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Directive {
    /// Unit file section.
    pub section: UnitSection,
    /// Directive name (`MemoryMax`).
    #[serde(rename = "key")]
    pub name: Name,
    /// The value.
    pub value: DirectiveValue,
    /// The kind of value of the policy key it came from: decides escaping and the D-Bus type.
    #[serde(skip)]
    pub kind: Kind,
    /// The policy key it came from (`resources.memory_max`), for reports.
    pub origin: String,
}

/// systemd's conversion from cgroup v1 shares (default 1024) to a cgroup v2 weight
/// (default 100): `weight = shares * 100 / 1024`, clamped to 1..=10000
/// (`cgroup_cpu_shares_to_weight` in systemd's cgroup-util).
pub fn cpu_shares_to_weight(shares: u64) -> u64 {
    (shares * 100 / 1024).clamp(1, 10000)
}

/// Directives grouped by unit file section, in section order.
pub fn by_section(directives: &[Directive]) -> Vec<(UnitSection, Vec<&Directive>)> {
    let mut out: Vec<(UnitSection, Vec<&Directive>)> = Vec::new();
    for section in [
        UnitSection::Unit,
        UnitSection::Service,
        UnitSection::Install,
    ] {
        let these: Vec<&Directive> = directives.iter().filter(|d| d.section == section).collect();
        if !these.is_empty() {
            out.push((section, these));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_convert_like_systemd() {
        assert_eq!(cpu_shares_to_weight(1024), 100);
        assert_eq!(cpu_shares_to_weight(256), 25);
        assert_eq!(cpu_shares_to_weight(2), 1);
        assert_eq!(cpu_shares_to_weight(262144), 10000);
    }
}
