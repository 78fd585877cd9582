//! Suggesting a `SystemCallFilter=` allow-list from the system calls a workload made.
//!
//! systemd's filter (systemd.exec(5), "System Call Filtering") takes syscall names and
//! `@group`s; everything else kills the process with SIGSYS. Given the set a trace observed
//! and the target systemd's groups (its `systemd-analyze syscall-filter`), [`suggest`] builds
//! a list that is short enough to read and no wider than the workload needs. The algorithm:
//!
//! 1. **`@default` is always in.** systemd adds it to every allow-list by itself (the first
//!    allow-list assignment parses `@default` before the listed names, in `load-fragment.c`
//!    and `dbus-execute.c`: "Accept default syscalls if we are on an allow list"; systemd.exec(5):
//!    execve, exit, exit_group, getrlimit, rt_sigreturn, sigreturn and the calls to query
//!    time and to sleep "are implicitly allow-listed"). Writing it changes nothing and says
//!    so; observed calls in it need no entry of their own.
//! 2. **Some groups are taken whole, when the workload's use justifies them** ([`WHOLE_GROUPS`]).
//!    A group's *size* and *use* count its members outside `@default`.
//!    - Groups that only act on what the process already holds (its file descriptors, signal
//!      dispositions, timers): `@basic-io`, `@io-event`, `@signal`, `@sync`, `@timer`. Their
//!      other members add next to no authority (`sync`, which flushes every file system,
//!      costs I/O at most), so one used member is enough.
//!    - Groups whose members are each a new kind of access: `@file-system` (unlink, rename,
//!      chmod, mkdir, ...) and `@network-io` (bind, listen, accept, ...). Taken only when the
//!      workload used at least a quarter of the group (a file manager, a server); otherwise
//!      the members it used are listed one by one, so a program that only reads files
//!      cannot unlink, and a client cannot listen.
//!    - On the target's table, a group is taken only if its expansion lies inside
//!      `@system-service` and brings no call of a [`DANGEROUS_GROUPS`] group the workload did
//!      not make itself; a systemd that moves such a call into one of them gets single names.
//! 3. **Every other group is never taken whole**; the calls of it the workload made are
//!    listed by name. These are the groups the workload should not get more of than it
//!    showed it needs: `@clock`, `@cpu-emulation`, `@debug`, `@module`, `@mount`,
//!    `@obsolete`, `@privileged`, `@raw-io`, `@reboot`, `@swap` (privileged or dangerous),
//!    and, decided here: `@aio` (io_uring, a large kernel attack surface), `@chown` and
//!    `@setuid` (ownership and credential changes), `@ipc` (includes `process_vm_readv`/
//!    `process_vm_writev`, which read and write other processes' memory), `@keyring`,
//!    `@memlock`, `@pkey` (rarely needed), `@process` (bundles `unshare`/`setns`, namespace
//!    creation being a usual first step of kernel exploits, and `kill` with fork and wait),
//!    `@resources` (raise rlimits, change scheduling and memory policy), and the composites
//!    `@system-service` and `@known`.
//! 4. **The variants of the calls it made** ([`families`]): where libc versions implement one
//!    operation with different calls (`newfstatat` or `fstat`, `clone` or `clone3`), the
//!    whole family is allowed, as long as each added call is inside `@system-service` and in
//!    no dangerous group; so a list traced under one libc survives the next. `--exact`
//!    ([`suggest_exact`]) skips this step.
//! 5. **Observed names systemd does not know** (newer than its table, or strace's
//!    `syscall_0x1c3`) cannot be listed: [`Suggestion::unlisted`] reports them, and the filter
//!    will refuse them.
//!
//! What that guarantees (tested over random workloads), with `E` the calls the list allows,
//! `O` the listable observed calls and their family variants, and `S` the expansion of
//! `@system-service`:
//! - `O ⊆ E`: the workload's own calls are all allowed;
//! - `E ⊆ S ∪ O`: nothing outside `@system-service` is allowed unless the workload made it;
//! - `E ∩ D ⊆ O`, with `D` the calls of [`DANGEROUS_GROUPS`]: no dangerous call unless the
//!   workload made it;
//! - `E ⊊ S` when `O ⊆ S` (an ordinary program): the never-whole groups, most of
//!   `@system-service`, contribute only what was observed.
//!
//! The trade-off: a whole group allows calls the trace did not see. That buys robustness
//! against code paths the trace missed (error handling, a larger input, `dup3` where the
//! trace saw `dup2`) and a list a person can read, at the price of a wider filter. The rules
//! above spend that price only where it buys no real authority. A path the trace missed
//! still ends in SIGSYS: trace a representative run, check with `suggest --verify`, and
//! [`widen`] the list by the call that was refused.

pub mod closed_loop;
pub mod families;
pub mod whole;
pub mod write;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::data::syscalls::{GroupsSource, SyscallTable};
use crate::directive::{table as directives, Directive, DirectiveValue, Kind, Name, UnitSection};
use crate::trace::{ExitStatusInfo, TraceCommand, TraceResult};
use crate::unit::{self, EscapeError};
pub use write::{write_allow, WriteError};

/// The group systemd adds to every allow-list.
pub const DEFAULT_GROUP: &str = "@default";
/// The group an ordinary service is compared against.
pub const SYSTEM_SERVICE_GROUP: &str = "@system-service";

/// A group that may be taken whole, and how much of it the workload must have used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WholeGroup {
    /// The group, with its `@`.
    pub name: &'static str,
    /// The share of the group's members (outside `@default`) the workload must have used,
    /// in percent; 0 means any one member.
    pub min_used_percent: usize,
}

/// The groups [`suggest`] may take whole (see the module docs for why these).
pub const WHOLE_GROUPS: &[WholeGroup] = &[
    WholeGroup {
        name: "@basic-io",
        min_used_percent: 0,
    },
    WholeGroup {
        name: "@io-event",
        min_used_percent: 0,
    },
    WholeGroup {
        name: "@signal",
        min_used_percent: 0,
    },
    WholeGroup {
        name: "@sync",
        min_used_percent: 0,
    },
    WholeGroup {
        name: "@timer",
        min_used_percent: 0,
    },
    WholeGroup {
        name: "@file-system",
        min_used_percent: 25,
    },
    WholeGroup {
        name: "@network-io",
        min_used_percent: 25,
    },
];

/// Groups whose calls are never allowed unless the workload made them: privileged or
/// dangerous operations (loading modules, mounting, rebooting, raw port I/O, tracing other
/// processes, setting the clock, ...). `@privileged` includes `@chown` and the credential
/// calls of `@setuid`.
pub const DANGEROUS_GROUPS: &[&str] = &[
    "@clock",
    "@cpu-emulation",
    "@debug",
    "@module",
    "@mount",
    "@obsolete",
    "@privileged",
    "@raw-io",
    "@reboot",
    "@swap",
];

/// How many times a closed loop should [`widen`] a list before it gives up: a workload
/// refused more often than this is not converging on a list.
pub const WIDEN_LIMIT: usize = 16;

/// A group taken whole, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupUse {
    /// The group, with its `@`.
    pub name: String,
    /// The members (outside `@default`) the workload used.
    pub used: Vec<String>,
    /// How many members it has outside `@default`.
    pub size: usize,
}

/// A suggested allow-list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The syscalls the trace observed.
    pub observed: BTreeSet<String>,
    /// The list for `[seccomp] allow` / `SystemCallFilter=`, sorted (groups first).
    pub allow: Vec<String>,
    /// The groups taken whole.
    pub groups_used: Vec<GroupUse>,
    /// The syscalls listed by name.
    pub singles: Vec<String>,
    /// Observed (or widened) names systemd does not know: not in the list, so refused.
    pub unlisted: Vec<String>,
    /// Observed names systemd knows that are outside `@system-service`: allowed because the
    /// workload made them, but worth a look.
    pub outside_system_service: Vec<String>,
    /// Names [`widen`] added after the trace, in order.
    pub widened: Vec<String>,
    /// Calls allowed because the trace saw another call of their family
    /// ([`families::FAMILIES`]): the variants other libc versions use. Empty with
    /// [`suggest_exact`].
    pub variants: Vec<String>,
    /// Whether the list is exact: no family variants.
    pub exact: bool,
}

/// Map the syscalls a workload made onto `table`'s groups (see the module docs), with the
/// variants other libc versions use for the same operations ([`families`]): a list that
/// survives a libc upgrade.
pub fn suggest(observed: &BTreeSet<String>, table: &SyscallTable) -> Suggestion {
    build(observed.clone(), Vec::new(), table, false)
}

/// [`suggest`] without the family variants: the tightest list, for this libc only.
pub fn suggest_exact(observed: &BTreeSet<String>, table: &SyscallTable) -> Suggestion {
    build(observed.clone(), Vec::new(), table, true)
}

fn build(
    observed: BTreeSet<String>,
    widened: Vec<String>,
    table: &SyscallTable,
    exact: bool,
) -> Suggestion {
    let mut needed: BTreeSet<&String> = observed.iter().chain(&widened).collect();
    let default = table.expand(DEFAULT_GROUP);
    let service = table.expand(SYSTEM_SERVICE_GROUP);
    let dangerous: BTreeSet<String> = DANGEROUS_GROUPS
        .iter()
        .flat_map(|g| table.expand(g))
        .collect();
    let variants = if exact {
        Vec::new()
    } else {
        families::variants(&needed, table, &service, &dangerous)
    };
    needed.extend(&variants);

    let mut allow: BTreeSet<String> = BTreeSet::new();
    let mut allowed = default.clone();
    if table.group(DEFAULT_GROUP).is_some() {
        allow.insert(DEFAULT_GROUP.to_owned());
    }

    let mut groups_used = Vec::new();
    for rule in WHOLE_GROUPS {
        let members = table.expand(rule.name);
        let brings_danger = members
            .iter()
            .any(|m| dangerous.contains(m) && !needed.contains(m));
        if members.is_empty() || !members.is_subset(&service) || brings_danger {
            continue;
        }
        let own: Vec<&String> = members.difference(&default).collect();
        let used: Vec<String> = own
            .iter()
            .filter(|m| needed.contains(**m))
            .map(|m| (*m).clone())
            .collect();
        if used.is_empty() || used.len() * 100 < own.len() * rule.min_used_percent {
            continue;
        }
        allow.insert(rule.name.to_owned());
        groups_used.push(GroupUse {
            name: rule.name.to_owned(),
            used,
            size: own.len(),
        });
        allowed.extend(members);
    }

    let mut singles = Vec::new();
    let mut unlisted = Vec::new();
    for name in &needed {
        if allowed.contains(*name) {
            continue;
        }
        if table.is_syscall(name) {
            singles.push((*name).clone());
        } else {
            unlisted.push((*name).clone());
        }
    }
    allow.extend(singles.iter().cloned());
    let outside_system_service = needed
        .iter()
        .filter(|n| table.is_syscall(n) && !service.contains(**n))
        .map(|n| (*n).clone())
        .collect();

    Suggestion {
        allow: allow.into_iter().collect(),
        groups_used,
        singles,
        unlisted,
        outside_system_service,
        widened,
        variants,
        exact,
        observed,
    }
}

/// Why [`widen`] cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WidenError {
    /// The refused call is already allowed, so the allow-list is not what refused it.
    #[error(
        "`{name}` is already allowed (by `{by}`), so the allow-list did not refuse it: look at \
         `[seccomp] deny`, `architectures` (SystemCallArchitectures=) or the program itself"
    )]
    AlreadyAllowed {
        /// The refused call.
        name: String,
        /// The list entry that allows it.
        by: String,
    },
    /// systemd does not know the call, so no list can allow it.
    #[error(
        "`{name}` is not a system call systemd knows (`systemd-analyze syscall-filter`), so \
         SystemCallFilter= cannot allow it{}",
        .closest.as_ref().map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default()
    )]
    NotListable {
        /// The refused call.
        name: String,
        /// The nearest known name.
        closest: Option<String>,
    },
}

/// The suggestion with `refused` (a syscall the filter killed the workload for) allowed too.
/// The mapping is recomputed, so the extra call can complete a group.
///
/// # Errors
///
/// [`WidenError`] when `refused` is already allowed or cannot be listed: widening further
/// cannot make the workload pass, and a closed loop must stop.
pub fn widen(
    suggestion: &Suggestion,
    refused: &str,
    table: &SyscallTable,
) -> Result<Suggestion, WidenError> {
    if let Some(by) = suggestion.entry_allowing(refused, table) {
        return Err(WidenError::AlreadyAllowed {
            name: refused.to_owned(),
            by,
        });
    }
    if !table.is_syscall(refused) {
        return Err(WidenError::NotListable {
            name: refused.to_owned(),
            closest: table.closest(refused),
        });
    }
    let mut widened = suggestion.widened.clone();
    widened.push(refused.to_owned());
    Ok(build(
        suggestion.observed.clone(),
        widened,
        table,
        suggestion.exact,
    ))
}

impl Suggestion {
    /// Every syscall the list allows on `table`: its entries expanded, plus `@default`, which
    /// systemd adds by itself.
    pub fn allowed_syscalls(&self, table: &SyscallTable) -> BTreeSet<String> {
        let mut out = table.expand(DEFAULT_GROUP);
        for entry in &self.allow {
            if entry.starts_with('@') {
                out.extend(table.expand(entry));
            } else {
                out.insert(entry.clone());
            }
        }
        out
    }

    /// The list entry that allows `name`: `@default` first (systemd's implicit entry), then
    /// a group, then `name` itself; `None` when the list does not allow it.
    pub fn entry_allowing(&self, name: &str, table: &SyscallTable) -> Option<String> {
        if table.expand(DEFAULT_GROUP).contains(name) {
            return Some(DEFAULT_GROUP.to_owned());
        }
        self.allow
            .iter()
            .find(|entry| {
                if entry.starts_with('@') {
                    table.expand(entry).contains(name)
                } else {
                    *entry == name
                }
            })
            .cloned()
    }

    /// The `[seccomp]` table with the list, ready to paste into a policy.
    pub fn seccomp_toml(&self) -> String {
        let mut doc = toml_edit::DocumentMut::new();
        let mut table = toml_edit::Table::new();
        table.insert("allow", toml_edit::value(write::allow_array(&self.allow)));
        doc.insert("seccomp", toml_edit::Item::Table(table));
        doc.to_string()
    }

    /// The `SystemCallFilter=` line sandgen writes for this list: the directive and its
    /// escaping come from the directive table, as for a rendered unit.
    ///
    /// # Errors
    ///
    /// An [`EscapeError`] if an entry could not be written (names from a [`SyscallTable`]
    /// never have control characters, so this does not happen for a suggestion).
    pub fn system_call_filter(&self) -> Result<String, EscapeError> {
        let (section, name, kind, origin) = match directives::find("seccomp", "allow") {
            Some(spec) => (spec.section, spec.directive, spec.kind, spec.path()),
            None => (
                UnitSection::Service,
                Name::SystemCallFilter,
                Kind::Syscalls,
                "seccomp.allow".to_owned(),
            ),
        };
        unit::line(&Directive {
            section,
            name,
            value: DirectiveValue::Words {
                words: self.allow.clone(),
                negated: false,
            },
            kind,
            origin,
        })
    }
}

/// The name `--json` uses for where the groups came from.
pub fn groups_source_name(source: GroupsSource) -> &'static str {
    match source {
        GroupsSource::SystemdAnalyze { .. } => "systemd-analyze",
        GroupsSource::BuiltIn { .. } => "built-in",
    }
}

/// Everything `sandgen suggest` reports; `--json` serialises it as it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SuggestReport {
    /// The traced command.
    pub command: Vec<String>,
    /// The syscalls observed, sorted.
    pub syscalls: Vec<String>,
    /// The suggested list.
    pub allow: Vec<String>,
    /// `"systemd-analyze"` or `"built-in"`.
    pub groups_source: &'static str,
    /// The systemd version whose groups were used.
    pub groups_systemd_version: u32,
    /// Which built-in table was used and why ("sandgen's built-in table of systemd 257: the
    /// host's systemd-analyze is systemd 252, the target 257"), if one was.
    pub groups_note: Option<String>,
    /// How the traced command ended.
    pub exit_status: ExitStatusInfo,
    /// The groups taken whole.
    pub groups: Vec<GroupUse>,
    /// The syscalls listed by name.
    pub singles: Vec<String>,
    /// Observed names systemd cannot allow.
    pub unlisted: Vec<String>,
    /// Observed names outside `@system-service`.
    pub outside_system_service: Vec<String>,
    /// Names added by widening after the trace.
    pub widened: Vec<String>,
    /// Calls allowed as variants of observed ones (other libc versions' calls).
    pub variants: Vec<String>,
    /// A process ran a non-native ABI.
    pub non_native_abi: bool,
    /// How many processes and threads were traced.
    pub processes: usize,
    /// The `[seccomp]` snippet.
    pub seccomp_toml: String,
    /// The equivalent `SystemCallFilter=` line.
    pub system_call_filter: String,
}

impl SuggestReport {
    /// The report of `suggestion`, made from `trace` of `command` with groups from `source`.
    ///
    /// # Errors
    ///
    /// See [`Suggestion::system_call_filter`].
    pub fn new(
        command: &TraceCommand,
        trace: &TraceResult,
        suggestion: &Suggestion,
        source: GroupsSource,
    ) -> Result<Self, EscapeError> {
        Ok(Self {
            command: command.argv().to_vec(),
            syscalls: suggestion.observed.iter().cloned().collect(),
            allow: suggestion.allow.clone(),
            groups_source: groups_source_name(source),
            groups_systemd_version: source.version(),
            groups_note: source
                .built_in_reason()
                .map(|why| format!("{}: {why}", source.describe())),
            exit_status: trace.exit_status.clone(),
            groups: suggestion.groups_used.clone(),
            singles: suggestion.singles.clone(),
            unlisted: suggestion.unlisted.clone(),
            outside_system_service: suggestion.outside_system_service.clone(),
            widened: suggestion.widened.clone(),
            variants: suggestion.variants.clone(),
            non_native_abi: trace.non_native_abi,
            processes: trace.processes,
            seccomp_toml: suggestion.seccomp_toml(),
            system_call_filter: suggestion.system_call_filter()?,
        })
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and vectors cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report for a terminal: `#` comments with the facts and warnings, then the
    /// `[seccomp]` snippet (so the whole text is valid TOML), then the unit directive as a
    /// comment.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let command = shell_words(&self.command);
        let _ = writeln!(
            out,
            "# `{command}` {}; {} system calls in {} process{}.",
            self.exit_status,
            self.syscalls.len(),
            self.processes,
            if self.processes == 1 { "" } else { "es" }
        );
        if let Some(note) = &self.groups_note {
            let _ = writeln!(out, "# Syscall groups from {note}.");
        }
        if !self.exit_status.success() {
            let _ = writeln!(
                out,
                "# WARNING: the command {}: the list covers only what it did before that.",
                self.exit_status
            );
        }
        if !self.unlisted.is_empty() {
            let _ =
                writeln!(
                out,
                "# WARNING: systemd cannot allow {} (unknown to its syscall table): the filter \
                 will refuse {}.",
                self.unlisted.join(", "),
                if self.unlisted.len() == 1 { "it" } else { "them" }
            );
        }
        if self.non_native_abi {
            out.push_str(
                "# WARNING: a process ran in 32-bit or x32 mode; with architectures = \
                 [\"native\"] it is killed.\n",
            );
        }
        if !self.outside_system_service.is_empty() {
            let _ = writeln!(
                out,
                "# Outside @system-service, allowed because the command made them: {}.",
                self.outside_system_service.join(", ")
            );
        }
        if !self.widened.is_empty() {
            let _ = writeln!(
                out,
                "# Added after the trace, refused in a verification run: {}.",
                self.widened.join(", ")
            );
        }
        if !self.variants.is_empty() {
            let _ = writeln!(
                out,
                "# Also allowed, as other libc versions' calls for what it did (--exact leaves \
                 them out): {}.",
                self.variants.join(", ")
            );
        }
        out.push_str(&self.seccomp_toml);
        let _ = writeln!(
            out,
            "\n# The equivalent unit directive:\n# {}",
            self.system_call_filter
        );
        out
    }
}

/// An argv for messages, words with shell metacharacters in single quotes.
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            let plain = !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
            if plain {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    /// What `/bin/true` makes on Debian 12 (strace 6.1).
    const TRUE: &[&str] = &[
        "access",
        "arch_prctl",
        "brk",
        "close",
        "execve",
        "exit_group",
        "mmap",
        "mprotect",
        "munmap",
        "newfstatat",
        "openat",
        "pread64",
        "prlimit64",
        "read",
        "rseq",
        "set_robust_list",
        "set_tid_address",
    ];

    #[test]
    fn true_gets_basic_io_and_single_file_calls() {
        let table = SyscallTable::built_in();
        let s = suggest_exact(&set(TRUE), &table);
        assert_eq!(
            s.allow,
            ["@basic-io", "@default", "access", "newfstatat", "openat"]
        );
        assert_eq!(s.singles, ["access", "newfstatat", "openat"]);
        assert_eq!(s.groups_used.len(), 1);
        assert_eq!(s.groups_used[0].name, "@basic-io");
        assert_eq!(s.groups_used[0].used, ["close", "pread64", "read"]);
        assert!(s.unlisted.is_empty());
        assert!(s.outside_system_service.is_empty());
        assert_eq!(
            s.system_call_filter().unwrap(),
            "SystemCallFilter=@basic-io @default access newfstatat openat"
        );
        assert_eq!(
            s.seccomp_toml(),
            "[seccomp]\nallow = [\"@basic-io\", \"@default\", \"access\", \"newfstatat\", \"openat\"]\n"
        );
    }

    #[test]
    fn dangerous_calls_are_single_never_their_group() {
        let table = SyscallTable::built_in();
        let s = suggest_exact(
            &set(&["read", "ptrace", "mount", "unshare", "clone", "kill"]),
            &table,
        );
        assert_eq!(
            s.allow,
            [
                "@basic-io",
                "@default",
                "clone",
                "kill",
                "mount",
                "ptrace",
                "unshare"
            ]
        );
        assert_eq!(s.outside_system_service, ["mount", "ptrace"]);
        for group in ["@debug", "@mount", "@process", "@privileged"] {
            assert!(!s.allow.iter().any(|a| a == group), "{group}");
        }
    }

    #[test]
    fn file_system_needs_a_quarter_of_the_group() {
        let table = SyscallTable::built_in();
        let default = table.expand(DEFAULT_GROUP);
        let fs: Vec<String> = table
            .expand("@file-system")
            .difference(&default)
            .cloned()
            .collect();
        let quarter = fs.len().div_ceil(4);
        let few: BTreeSet<String> = fs.iter().take(quarter - 1).cloned().collect();
        assert!(!suggest_exact(&few, &table)
            .allow
            .contains(&"@file-system".to_owned()));
        let enough: BTreeSet<String> = fs.iter().take(quarter).cloned().collect();
        let s = suggest_exact(&enough, &table);
        assert!(s.allow.contains(&"@file-system".to_owned()));
        assert!(s.singles.iter().all(|n| !fs.contains(n)));
    }

    #[test]
    fn default_members_need_no_entry_and_unknown_names_are_reported() {
        let table = SyscallTable::built_in();
        // uretprobe is in 252's @default but not in its @known: covered, not unlisted.
        let s = suggest_exact(
            &set(&["execve", "uretprobe", "syscall_0x1c3", "frobnicate"]),
            &table,
        );
        assert_eq!(s.allow, ["@default"]);
        assert_eq!(s.unlisted, ["frobnicate", "syscall_0x1c3"]);
    }

    #[test]
    fn widen_adds_the_refused_call_or_says_why_not() {
        let table = SyscallTable::built_in();
        let s = suggest_exact(&set(TRUE), &table);
        let wider = widen(&s, "socket", &table).unwrap();
        assert!(wider.allow.contains(&"socket".to_owned()));
        assert_eq!(wider.widened, ["socket"]);
        assert_eq!(wider.observed, s.observed, "the trace is unchanged");
        // A second widening keeps the first.
        let wider = widen(&wider, "connect", &table).unwrap();
        assert_eq!(wider.widened, ["socket", "connect"]);
        assert!(wider.allow.contains(&"socket".to_owned()));
        // One signal call brings the whole (harmless) @signal group.
        let wider = widen(&wider, "rt_sigaction", &table).unwrap();
        assert!(wider.allow.contains(&"@signal".to_owned()));

        assert_eq!(
            widen(&s, "read", &table),
            Err(WidenError::AlreadyAllowed {
                name: "read".into(),
                by: "@basic-io".into()
            })
        );
        assert_eq!(
            widen(&s, "exit_group", &table).unwrap_err().to_string(),
            "`exit_group` is already allowed (by `@default`), so the allow-list did not refuse \
             it: look at `[seccomp] deny`, `architectures` (SystemCallArchitectures=) or the \
             program itself"
        );
        assert_eq!(
            widen(&s, "sockt", &table).unwrap_err().to_string(),
            "`sockt` is not a system call systemd knows (`systemd-analyze syscall-filter`), so \
             SystemCallFilter= cannot allow it (did you mean `socket`?)"
        );
    }

    #[test]
    fn shell_words_quotes_what_needs_it() {
        assert_eq!(
            shell_words(&[
                "sh".into(),
                "-c".into(),
                "ls / | wc -l".into(),
                "it's".into()
            ]),
            r"sh -c 'ls / | wc -l' 'it'\''s'"
        );
    }

    #[test]
    fn by_default_a_call_brings_its_libc_variants_and_exact_does_not() {
        let table = SyscallTable::built_in();
        // What dd made under glibc 2.36: newfstatat, where glibc 2.41 calls fstat.
        let dd = set(&["newfstatat", "openat", "read", "write", "clone"]);
        let generic = suggest(&dd, &table);
        let allowed = generic.allowed_syscalls(&table);
        for variant in ["fstat", "stat", "lstat", "statx", "open", "clone3"] {
            assert!(
                allowed.contains(variant),
                "{variant} in {:?}",
                generic.allow
            );
            assert!(generic.variants.contains(&variant.to_owned()), "{variant}");
        }
        // Only calls inside @system-service and outside the dangerous groups are added.
        let service = table.expand(SYSTEM_SERVICE_GROUP);
        assert!(generic.variants.iter().all(|v| service.contains(v)));
        let exact = suggest_exact(&dd, &table);
        assert!(exact.variants.is_empty());
        assert!(!exact.allowed_syscalls(&table).contains("fstat"));
        // Widening keeps the choice.
        let widened = widen(&generic, "getcwd", &table).expect("widen");
        assert!(widened.variants.contains(&"fstat".to_owned()));
        let widened = widen(&exact, "getcwd", &table).expect("widen");
        assert!(widened.variants.is_empty());
    }
}
