//! System call groups: the `@name` sets systemd's `SystemCallFilter=` understands
//! (systemd.exec(5), "System Call Filtering"), such as `@system-service` (what an ordinary
//! service needs) or `@mount`. A group lists syscall names and other groups; systemd expands
//! them recursively into the seccomp filter it installs for the service.
//!
//! The groups are compiled into systemd (`syscall_filter_sets[]` in `src/shared/seccomp-util.c`)
//! and differ between versions, so the truth is whatever `systemd-analyze syscall-filter` prints
//! on the machine the unit will run on. This module only parses that text (running the command is
//! an edge module's job). The format, as systemd 252 prints it:
//!
//! ```text
//! @default
//!     # System calls that are always permitted
//!     arch_prctl
//!     ...
//!
//! @system-service
//!     # General system service operations
//!     @aio
//!     ...
//!
//! # Ungrouped System Calls (known but not included in any of the groups except @known):
//! #   arc_gettls
//! ```
//!
//! A group is `@name` at column 0, then an indented `# description`, then indented members, one
//! per line. Groups are separated by blank lines. `@known` lists every syscall name systemd knows
//! (it is the only group that is not curated). After the groups systemd prints column-0 `#`
//! sections: "Ungrouped System Calls", "Unlisted System Calls" (when it can read the kernel's list)
//! or, on stderr, "# Not showing unlisted system calls, ...".
//!
//! The built-in listings, `syscall-filter-252.txt` and `syscall-filter-257.txt` next to this
//! file, are the verbatim stdout of `systemd-analyze syscall-filter --no-pager` on x86_64 of
//! Debian 12's systemd 252.38-1~deb12u1 and of Debian 13's systemd 257.13-1~deb13u1 (run in a
//! chroot of a trixie tree, so without the kernel's list). Regenerate one with that command
//! (stdout only) on the systemd version it stands for.
//!
//! What changed from 252 to 257: a new group `@sandbox` (`landlock_*` and `seccomp`), which
//! `@default` now includes, so every allow-list of 257 permits Landlock; `@default` also gained
//! `lsm_get_self_attr`, `lsm_list_modules` and `mseal`; `@basic-io` gained `llseek`;
//! `@file-system` gained `statmount`, `listmount`, the `*xattrat` calls and
//! `file_getattr`/`file_setattr`; `@known` gained those and `cachestat`, `uretprobe`,
//! `set_tls`, `get_tls` and a few other architectures' calls. No name or group was removed.
//!
//! Which table is the target's ([`SyscallTable::for_target`]): the host's `systemd-analyze` when
//! its systemd is the target's version, else the built-in listing of the newest version at or
//! below the target's ([`built_in_version_for`]), else the oldest one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A `systemd-analyze syscall-filter` listing embedded in sandgen (see the module docs).
struct BuiltInListing {
    /// The systemd version it was captured from.
    version: u32,
    /// Its text.
    text: &'static str,
    /// The names of its `@known` that this systemd cannot resolve (see [`SyscallTable::is_unresolved`]).
    unresolved: &'static [&'static str],
}

/// The embedded listings, oldest first.
const BUILT_IN: &[BuiltInListing] = &[
    BuiltInListing {
        version: 252,
        text: include_str!("syscall-filter-252.txt"),
        unresolved: UNRESOLVED_252,
    },
    BuiltInListing {
        version: 257,
        text: include_str!("syscall-filter-257.txt"),
        unresolved: UNRESOLVED_257,
    },
];

/// The systemd versions sandgen has a built-in listing of, oldest first.
pub fn built_in_versions() -> impl Iterator<Item = u32> {
    BUILT_IN.iter().map(|l| l.version)
}

/// The embedded listing for systemd `target`: the newest one at or below it, or the oldest
/// when the target is older than all of them.
fn listing_for(target: u32) -> &'static BuiltInListing {
    // BUILT_IN is a non-empty constant; the index cannot be out of bounds.
    BUILT_IN
        .iter()
        .rev()
        .find(|l| l.version <= target)
        .unwrap_or(&BUILT_IN[0])
}

/// The version of the built-in listing used for systemd `target`: the newest built-in
/// listing at or below `target`, else the oldest.
pub fn built_in_version_for(target: u32) -> u32 {
    listing_for(target).version
}

/// The group whose expansion is every syscall name systemd knows.
const KNOWN_GROUP: &str = "@known";

/// Where a [`SyscallTable`] came from, for reports ("syscall groups from: ...").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupsSource {
    /// Parsed from `systemd-analyze syscall-filter` run on this machine, whose systemd is
    /// `version`.
    SystemdAnalyze {
        /// The host's systemd version.
        version: u32,
    },
    /// A listing embedded in sandgen.
    BuiltIn {
        /// The systemd version the listing was captured from.
        listing: u32,
        /// The systemd version the table is for.
        target: u32,
        /// The host's systemd-analyze version, if it could be run (it is another version).
        host: Option<u32>,
    },
}

impl GroupsSource {
    /// The systemd version whose groups these are.
    pub fn version(&self) -> u32 {
        match *self {
            Self::SystemdAnalyze { version } => version,
            Self::BuiltIn { listing, .. } => listing,
        }
    }

    /// Where the groups come from, in words: "sandgen's built-in table of systemd 252, its
    /// newest at or below systemd 255" or "`systemd-analyze syscall-filter` of systemd 257".
    pub fn describe(&self) -> String {
        match *self {
            Self::SystemdAnalyze { version } => {
                format!("`systemd-analyze syscall-filter` of systemd {version}")
            }
            Self::BuiltIn {
                listing, target, ..
            } => {
                let fit = if listing < target {
                    format!(", its newest at or below systemd {target}")
                } else if listing > target {
                    format!(", its oldest, which may have names systemd {target} does not know")
                } else {
                    String::new()
                };
                format!("sandgen's built-in table of systemd {listing}{fit}")
            }
        }
    }

    /// Why a built-in listing is used ("the host's systemd-analyze is systemd 252, the target
    /// 257"); `None` for the host's own listing.
    pub fn built_in_reason(&self) -> Option<String> {
        match *self {
            Self::SystemdAnalyze { .. } => None,
            Self::BuiltIn { host: None, .. } => {
                Some("systemd-analyze was not available".to_owned())
            }
            Self::BuiltIn {
                host: Some(host),
                target,
                ..
            } => Some(format!(
                "the host's systemd-analyze is systemd {host}, the target {target}"
            )),
        }
    }

    /// How a policy's system call names were checked, for `check` and error messages.
    pub fn checked_against(&self) -> String {
        match self.built_in_reason() {
            None => "checked with `systemd-analyze syscall-filter`".to_owned(),
            Some(reason) => format!("checked against {}; {reason}", self.describe()),
        }
    }
}

impl fmt::Display for GroupsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SystemdAnalyze { version } => write!(f, "systemd-analyze (systemd {version})"),
            Self::BuiltIn { listing, .. } => write!(f, "built-in table (systemd {listing})"),
        }
    }
}

/// One `@group` as systemd lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallGroup {
    /// The group's name, with the leading `@` (`@system-service`).
    pub name: String,
    /// systemd's one-line description, without the `#` (empty if the listing had none).
    pub description: String,
    /// Direct members in listing order: syscall names and `@group` names, not expanded.
    pub members: Vec<String>,
}

/// Why a `systemd-analyze syscall-filter` listing could not be read. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// An indented member appeared before any `@group` header, or after a column-0 comment.
    #[error(
        "syscall-filter listing, line {line}: member `{member}` does not belong to any group \
         (expected an `@group` line at column 0 before it); is this the output of \
         `systemd-analyze syscall-filter`?"
    )]
    MemberOutsideGroup {
        /// Line of the member.
        line: usize,
        /// The member as written.
        member: String,
    },
    /// A column-0 `@` line whose name is empty or has characters systemd never uses.
    #[error(
        "syscall-filter listing, line {line}: `{text}` is not a valid group header \
         (expected `@` followed by lower-case letters, digits and `-`)"
    )]
    InvalidGroupName {
        /// Line of the header.
        line: usize,
        /// The header as written.
        text: String,
    },
    /// The same `@group` header appeared twice.
    #[error(
        "syscall-filter listing, line {line}: group `{name}` is listed again \
         (first listed on line {first})"
    )]
    DuplicateGroup {
        /// Line of the second header.
        line: usize,
        /// The group's name.
        name: String,
        /// Line of the first header.
        first: usize,
    },
    /// An indented line that is neither a comment nor a single syscall or `@group` name.
    #[error(
        "syscall-filter listing, line {line}: `{text}` in group `{group}` is not a syscall or \
         `@group` name (expected one name per line: letters, digits, `_`, `-`)"
    )]
    InvalidMember {
        /// Line of the member.
        line: usize,
        /// The group being read.
        group: String,
        /// The line's text, trimmed.
        text: String,
    },
    /// A non-indented line that is neither an `@group` header nor a `#` comment.
    #[error(
        "syscall-filter listing, line {line}: unexpected `{text}` at column 0 \
         (expected an `@group` header, a `#` comment or an indented member)"
    )]
    UnexpectedLine {
        /// Line of the text.
        line: usize,
        /// The line's text.
        text: String,
    },
    /// A group includes an `@group` the listing never defines.
    #[error(
        "syscall-filter listing, line {line}: group `{group}` includes `{member}`, \
         which the listing does not define"
    )]
    UnknownGroupReference {
        /// Line of the reference.
        line: usize,
        /// The group containing the reference.
        group: String,
        /// The undefined `@group`.
        member: String,
    },
    /// No `@known` group: without it syscall names cannot be told from typos.
    #[error(
        "syscall-filter listing ({lines} lines) has no `@known` group, which lists every syscall \
         name; it is needed to check names (systemd-analyze too old, or not its output?)"
    )]
    MissingKnown {
        /// Number of lines read.
        lines: usize,
    },
}

/// The syscall groups of one systemd version, and every syscall name it knows.
#[derive(Debug, Clone)]
pub struct SyscallTable {
    groups: BTreeMap<String, SyscallGroup>,
    /// `expand("@known")`, kept for [`SyscallTable::is_syscall`] and [`SyscallTable::closest`].
    known: BTreeSet<String>,
    /// The names of `@known` this systemd cannot resolve ([`SyscallTable::is_unresolved`]).
    unresolved: &'static [&'static str],
    source: GroupsSource,
}

impl SyscallTable {
    /// Parses the stdout of `systemd-analyze syscall-filter --no-pager`.
    ///
    /// Blank lines are ignored and do not end a group. Indented `#` lines are ignored except the
    /// first one of a group, which is its description. A column-0 `#` line ends the current group
    /// (systemd uses those for the trailing "Ungrouped"/"Unlisted" sections), so an indented
    /// member after one is an error rather than silently joining the last group. The listing
    /// must define `@known` and every `@group` it references. The names systemd cannot resolve
    /// are those measured for the built-in listing of `source`'s version (the newest
    /// built-in listing at or below that version).
    ///
    /// # Errors
    ///
    /// A [`ParseError`] naming the first offending line: a member outside any group, a malformed
    /// header or member, a group listed twice, a reference to an undefined group, or no `@known`.
    pub fn parse(text: &str, source: GroupsSource) -> Result<Self, ParseError> {
        let mut groups: BTreeMap<String, SyscallGroup> = BTreeMap::new();
        let mut header_lines: BTreeMap<String, usize> = BTreeMap::new();
        // (line, group, member) of every `@group` member, checked once all groups are known.
        let mut references: Vec<(usize, String, String)> = Vec::new();
        let mut current: Option<String> = None;
        let mut lines = 0;

        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            lines = line;
            let trimmed_end = raw.trim_end();
            if trimmed_end.is_empty() {
                continue;
            }
            let content = trimmed_end.trim_start();
            let indented = content.len() != trimmed_end.len();

            if !indented {
                if content.starts_with('#') {
                    current = None;
                } else if content.starts_with('@') {
                    if !is_group_name(content) {
                        return Err(ParseError::InvalidGroupName {
                            line,
                            text: content.to_owned(),
                        });
                    }
                    if let Some(&first) = header_lines.get(content) {
                        return Err(ParseError::DuplicateGroup {
                            line,
                            name: content.to_owned(),
                            first,
                        });
                    }
                    header_lines.insert(content.to_owned(), line);
                    groups.insert(
                        content.to_owned(),
                        SyscallGroup {
                            name: content.to_owned(),
                            description: String::new(),
                            members: Vec::new(),
                        },
                    );
                    current = Some(content.to_owned());
                } else {
                    return Err(ParseError::UnexpectedLine {
                        line,
                        text: content.to_owned(),
                    });
                }
                continue;
            }

            // Indented: a description, a stray comment or a member.
            let group = current.as_ref().and_then(|name| groups.get_mut(name));
            if let Some(comment) = content.strip_prefix('#') {
                if let Some(group) = group {
                    if group.description.is_empty() && group.members.is_empty() {
                        group.description = comment.trim().to_owned();
                    }
                }
                continue;
            }
            let Some(group) = group else {
                return Err(ParseError::MemberOutsideGroup {
                    line,
                    member: content.to_owned(),
                });
            };
            let valid = if content.starts_with('@') {
                is_group_name(content)
            } else {
                is_syscall_name(content)
            };
            if !valid {
                return Err(ParseError::InvalidMember {
                    line,
                    group: group.name.clone(),
                    text: content.to_owned(),
                });
            }
            if content.starts_with('@') {
                references.push((line, group.name.clone(), content.to_owned()));
            }
            group.members.push(content.to_owned());
        }

        if !groups.contains_key(KNOWN_GROUP) {
            return Err(ParseError::MissingKnown { lines });
        }
        if let Some((line, group, member)) = references
            .into_iter()
            .find(|(_, _, member)| !groups.contains_key(member))
        {
            return Err(ParseError::UnknownGroupReference {
                line,
                group,
                member,
            });
        }

        let mut table = Self {
            groups,
            known: BTreeSet::new(),
            unresolved: listing_for(source.version()).unresolved,
            source,
        };
        table.known = table.expand(KNOWN_GROUP);
        Ok(table)
    }

    /// systemd 252's built-in table, the oldest sandgen has (what its examples were traced with).
    pub fn built_in() -> Self {
        Self::built_in_for(BUILT_IN[0].version, None)
    }

    /// The built-in table for systemd `target` (the newest listing at or below it, see
    /// [`built_in_version_for`]), used because the host's systemd-analyze is version `host`,
    /// or could not be run (`None`).
    #[allow(clippy::expect_used)]
    pub fn built_in_for(target: u32, host: Option<u32>) -> Self {
        let listing = listing_for(target);
        let source = GroupsSource::BuiltIn {
            listing: listing.version,
            target,
            host,
        };
        // Cannot fail: the listings are constants compiled into the binary, and the test
        // `built_in_listings_parse` parses exactly those constants, so a listing that did not
        // parse would fail the test suite before it could ship.
        Self::parse(listing.text, source)
            .expect("embedded syscall-filter-*.txt parses (test built_in_listings_parse)")
    }

    /// The table for systemd `target`, given the host's own (`systemd-analyze syscall-filter`,
    /// `None` when it could not be run or read): the host's when its systemd is the target's
    /// version, else the built-in one for the target ([`SyscallTable::built_in_for`]).
    pub fn for_target(target: u32, host: Option<Self>) -> Self {
        match host {
            Some(host) if host.source.version() == target => host,
            host => Self::built_in_for(target, host.map(|h| h.source.version())),
        }
    }

    /// Where this table came from.
    pub fn source(&self) -> GroupsSource {
        self.source
    }

    /// The group called `name`, which includes the leading `@` (`"@mount"`).
    pub fn group(&self, name: &str) -> Option<&SyscallGroup> {
        self.groups.get(name)
    }

    /// Every group, sorted by name.
    pub fn groups(&self) -> impl Iterator<Item = &SyscallGroup> {
        self.groups.values()
    }

    /// Every syscall `group` (with its `@`) stands for, following nested `@group`s to any depth.
    /// A group reached twice, including through a cycle, is expanded once. An unknown group, or
    /// a name without `@`, gives the empty set.
    pub fn expand(&self, group: &str) -> BTreeSet<String> {
        let mut syscalls = BTreeSet::new();
        let mut visited: BTreeSet<&str> = BTreeSet::new();
        let mut pending: Vec<&str> = vec![group];
        while let Some(name) = pending.pop() {
            if !visited.insert(name) {
                continue;
            }
            let Some(found) = self.groups.get(name) else {
                continue;
            };
            for member in &found.members {
                if member.starts_with('@') {
                    pending.push(member);
                } else {
                    syscalls.insert(member.clone());
                }
            }
        }
        syscalls
    }

    /// Whether `name` is a syscall systemd knows and can resolve: a member of `@known`,
    /// expanded, and not [unresolved](SyscallTable::is_unresolved).
    ///
    /// On systemd 252.38, `@known` (systemd's list of syscall names) misses three names used
    /// inside curated groups: `set_tls` and `nfsservctl` (which systemd still accepts in
    /// `SystemCallFilter=`) and `uretprobe` (a Debian backport that systemd rejects with
    /// "Failed to parse system call"). This function answers `false` for all three there; on
    /// 257, whose `@known` has `set_tls` and `uretprobe`, only for `nfsservctl`.
    pub fn is_syscall(&self, name: &str) -> bool {
        self.known.contains(name) && !self.is_unresolved(name)
    }

    /// Whether `name` is in this systemd's `@known` but cannot be resolved by it (another
    /// architecture's call, or one newer than its libseccomp): `SystemCallFilter=` ignores it
    /// with a warning ([`UNRESOLVED_252`], [`UNRESOLVED_257`]; a table of another version
    /// uses the list of its built-in listing, [`built_in_version_for`]).
    pub fn is_unresolved(&self, name: &str) -> bool {
        self.unresolved.contains(&name)
    }

    /// The known syscall or `@group` name nearest to `name` by Levenshtein distance, for
    /// "did you mean ...?" messages; `None` when nothing is within a third of the length (at
    /// least one edit). Case is ignored, and a group may be suggested for a name typed without
    /// its `@`. Ties go to syscalls before groups, then alphabetical order. A known name is its
    /// own nearest name.
    pub fn closest(&self, name: &str) -> Option<String> {
        let needle = name.trim().to_ascii_lowercase();
        if needle.is_empty() {
            return None;
        }
        let limit = (needle.chars().count() / 3).max(1);
        self.known
            .iter()
            .filter(|n| !self.is_unresolved(n))
            .chain(self.groups.keys())
            .map(|candidate| (strsim::levenshtein(&needle, candidate), candidate))
            .filter(|&(distance, _)| distance <= limit)
            .min_by_key(|&(distance, _)| distance)
            .map(|(_, candidate)| candidate.clone())
    }
}

/// Names in systemd 252's `@known` that it cannot resolve with Debian 12's libseccomp
/// (2.5.4): other architectures' calls (`osf_*` of alpha, `arc_*`, `or1k_atomic`, ...) and
/// calls newer than that libseccomp (`riscv_hwprobe`). `SystemCallFilter=` skips each with
/// "Failed to parse system call, ignoring", so a deny-list naming one would not deny it.
/// Measured with `systemd-analyze verify` on a unit denying all of `@known`; the test
/// `the_unresolved_system_calls_are_those_systemd_ignores` (tests/acceptance.rs) checks the
/// list and `systemd_loads_every_known_name_and_every_boundary_value` that every other name
/// loads without a word.
pub const UNRESOLVED_252: &[&str] = &[
    "arc_gettls",
    "arc_settls",
    "arc_usr_cmpxchg",
    "atomic_barrier",
    "atomic_cmpxchg_32",
    "dipc",
    "exec_with_loader",
    "execv",
    "getdomainname",
    "getdtablesize",
    "gethostname",
    "getpagesize",
    "getxgid",
    "getxpid",
    "getxuid",
    "kern_features",
    "memory_ordering",
    "old_adjtimex",
    "oldumount",
    "or1k_atomic",
    "osf_fstat",
    "osf_fstatfs",
    "osf_fstatfs64",
    "osf_getdirentries",
    "osf_getdomainname",
    "osf_getitimer",
    "osf_getrusage",
    "osf_getsysinfo",
    "osf_gettimeofday",
    "osf_lstat",
    "osf_mount",
    "osf_proplist_syscall",
    "osf_select",
    "osf_set_program_attributes",
    "osf_setitimer",
    "osf_setsysinfo",
    "osf_settimeofday",
    "osf_shmat",
    "osf_sigprocmask",
    "osf_sigstack",
    "osf_stat",
    "osf_statfs",
    "osf_statfs64",
    "osf_swapon",
    "osf_syscall",
    "osf_sysinfo",
    "osf_usleep_thread",
    "osf_utimes",
    "osf_utsname",
    "osf_wait4",
    "perfctr",
    "riscv_hwprobe",
    "sched_get_affinity",
    "sched_set_affinity",
    "sethae",
    "setpgrp",
    "utrap_install",
];

/// The same for systemd 257 with Debian 13's libseccomp (2.6.0), which says "System call NAME
/// is not known, ignoring": it resolves `riscv_hwprobe`, `getpagesize` and the `atomic_*`
/// calls that 252 could not, but not the new `file_getattr`/`file_setattr` of `@file-system`,
/// nor `llseek` of `@basic-io` (x86_64 has only `lseek`/`_llseek`). Measured with
/// `systemd-analyze verify --man=no --generators=no` in a chroot of a trixie tree
/// (systemd 257.13-1~deb13u1) on a unit denying every name of 257's `@known`.
pub const UNRESOLVED_257: &[&str] = &[
    "arc_gettls",
    "arc_settls",
    "arc_usr_cmpxchg",
    "dipc",
    "exec_with_loader",
    "execv",
    "file_getattr",
    "file_setattr",
    "getdomainname",
    "getdtablesize",
    "gethostname",
    "getxgid",
    "getxpid",
    "getxuid",
    "kern_features",
    "llseek",
    "memory_ordering",
    "old_adjtimex",
    "oldumount",
    "or1k_atomic",
    "osf_fstat",
    "osf_fstatfs",
    "osf_fstatfs64",
    "osf_getdirentries",
    "osf_getdomainname",
    "osf_getitimer",
    "osf_getrusage",
    "osf_getsysinfo",
    "osf_gettimeofday",
    "osf_lstat",
    "osf_mount",
    "osf_proplist_syscall",
    "osf_select",
    "osf_set_program_attributes",
    "osf_setitimer",
    "osf_setsysinfo",
    "osf_settimeofday",
    "osf_shmat",
    "osf_sigprocmask",
    "osf_sigstack",
    "osf_stat",
    "osf_statfs",
    "osf_statfs64",
    "osf_swapon",
    "osf_syscall",
    "osf_sysinfo",
    "osf_usleep_thread",
    "osf_utimes",
    "osf_utsname",
    "osf_wait4",
    "perfctr",
    "sched_get_affinity",
    "sched_set_affinity",
    "sethae",
    "setpgrp",
    "utrap_install",
];

/// `@` followed by one or more of `a-z`, `0-9`, `-` (every group name systemd has used).
fn is_group_name(text: &str) -> bool {
    text.strip_prefix('@').is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

/// Letters, digits and `_` (syscall names as libseccomp spells them: `_llseek`, `io_uring_enter`).
fn is_syscall_name(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SyscallTable, ParseError> {
        SyscallTable::parse(text, GroupsSource::SystemdAnalyze { version: 252 })
    }

    fn parse_as(text: &str, source: GroupsSource) -> SyscallTable {
        SyscallTable::parse(text, source).expect("parses")
    }

    #[test]
    fn built_in_listings_parse() {
        // This is what makes `built_in_for()`'s expect safe.
        for listing in BUILT_IN {
            let source = GroupsSource::BuiltIn {
                listing: listing.version,
                target: listing.version,
                host: None,
            };
            let table = SyscallTable::parse(listing.text, source).map(|_| ());
            assert_eq!(table, Ok(()), "systemd {}", listing.version);
        }
        let built_in = SyscallTable::built_in();
        assert_eq!(
            built_in.source(),
            GroupsSource::BuiltIn {
                listing: 252,
                target: 252,
                host: None
            }
        );
        // systemd 252 has 29 groups, @default .. @known; 257 adds @sandbox.
        assert_eq!(built_in.groups().count(), 29);
        assert_eq!(SyscallTable::built_in_for(257, None).groups().count(), 30);
        for version in built_in_versions() {
            let table = SyscallTable::built_in_for(version, None);
            assert!(table.groups().all(|g| g.name.starts_with('@')));
            assert!(table.groups().all(|g| !g.description.is_empty()));
        }
        assert!(BUILT_IN.windows(2).all(|w| w[0].version < w[1].version));
    }

    #[test]
    fn the_listing_for_a_target_is_the_newest_at_or_below_it() {
        let chosen: Vec<(u32, u32)> = [200, 251, 252, 255, 256, 257, 258, 300]
            .into_iter()
            .map(|target| (target, built_in_version_for(target)))
            .collect();
        assert_eq!(
            chosen,
            [
                (200, 252),
                (251, 252),
                (252, 252),
                (255, 252),
                (256, 252),
                (257, 257),
                (258, 257),
                (300, 257)
            ]
        );
    }

    #[test]
    fn the_hosts_table_is_used_only_for_its_own_version() {
        let host = || {
            parse_as(
                "@known\n    # K\n    read\n",
                GroupsSource::SystemdAnalyze { version: 252 },
            )
        };
        let same = SyscallTable::for_target(252, Some(host()));
        assert_eq!(same.source(), GroupsSource::SystemdAnalyze { version: 252 });
        assert_eq!(same.groups().count(), 1);

        let newer = SyscallTable::for_target(257, Some(host()));
        assert_eq!(
            newer.source(),
            GroupsSource::BuiltIn {
                listing: 257,
                target: 257,
                host: Some(252)
            }
        );
        assert!(newer.group("@sandbox").is_some());

        let without = SyscallTable::for_target(255, None);
        assert_eq!(
            without.source(),
            GroupsSource::BuiltIn {
                listing: 252,
                target: 255,
                host: None
            }
        );
    }

    #[test]
    fn source_display_names_the_origin() {
        assert_eq!(
            GroupsSource::SystemdAnalyze { version: 252 }.to_string(),
            "systemd-analyze (systemd 252)"
        );
        let built_in = |listing, target, host| GroupsSource::BuiltIn {
            listing,
            target,
            host,
        };
        assert_eq!(
            built_in(257, 257, Some(252)).to_string(),
            "built-in table (systemd 257)"
        );
        let said: Vec<String> = [
            GroupsSource::SystemdAnalyze { version: 257 },
            built_in(252, 252, None),
            built_in(257, 257, Some(252)),
            built_in(252, 255, Some(252)),
            built_in(252, 249, None),
        ]
        .iter()
        .map(GroupsSource::checked_against)
        .collect();
        assert_eq!(
            said,
            [
                "checked with `systemd-analyze syscall-filter`",
                "checked against sandgen's built-in table of systemd 252; systemd-analyze was \
                 not available",
                "checked against sandgen's built-in table of systemd 257; the host's \
                 systemd-analyze is systemd 252, the target 257",
                "checked against sandgen's built-in table of systemd 252, its newest at or \
                 below systemd 255; the host's systemd-analyze is systemd 252, the target 255",
                "checked against sandgen's built-in table of systemd 252, its oldest, which may \
                 have names systemd 249 does not know; systemd-analyze was not available",
            ]
        );
    }

    /// What changed in `SystemCallFilter=` groups from 252 to 257 (see the module docs).
    #[test]
    fn systemd_257_allows_landlock_by_default_and_252_did_not() {
        let old = SyscallTable::built_in_for(252, None);
        let new = SyscallTable::built_in_for(257, None);
        // @default, which every allow-list includes, now includes @sandbox.
        let added: Vec<String> = new
            .expand("@default")
            .difference(&old.expand("@default"))
            .cloned()
            .collect();
        assert_eq!(
            added,
            [
                "landlock_add_rule",
                "landlock_create_ruleset",
                "landlock_restrict_self",
                "lsm_get_self_attr",
                "lsm_list_modules",
                "mseal",
                "seccomp"
            ]
        );
        assert_eq!(
            new.group("@sandbox").map(|g| g.members.clone()),
            Some(vec![
                "landlock_add_rule".to_owned(),
                "landlock_create_ruleset".to_owned(),
                "landlock_restrict_self".to_owned(),
                "seccomp".to_owned()
            ])
        );
        assert!(old.group("@sandbox").is_none());
        // Known to both: only the group changed.
        assert!(
            old.is_syscall("landlock_create_ruleset") && new.is_syscall("landlock_create_ruleset")
        );
        // @file-system learnt the mount listing calls; 252 does not know them at all.
        assert!(new.expand("@file-system").contains("statmount"));
        assert!(!old.is_syscall("statmount") && new.is_syscall("statmount"));
        // No group lost a member.
        for group in old.groups() {
            let before = old.expand(&group.name);
            assert!(before.is_subset(&new.expand(&group.name)), "{}", group.name);
        }
    }

    #[test]
    fn unresolved_names_are_the_targets() {
        let old = SyscallTable::built_in_for(252, None);
        let new = SyscallTable::built_in_for(257, None);
        for (table, names) in [(&old, UNRESOLVED_252), (&new, UNRESOLVED_257)] {
            for name in names {
                assert!(table.expand("@known").contains(*name), "{name}");
                assert!(
                    table.is_unresolved(name) && !table.is_syscall(name),
                    "{name}"
                );
            }
        }
        // Resolved by 257's libseccomp only; in 257's @file-system but unresolved there.
        assert!(old.is_unresolved("riscv_hwprobe") && new.is_syscall("riscv_hwprobe"));
        assert!(new.expand("@file-system").contains("file_getattr"));
        assert!(new.is_unresolved("file_getattr") && !old.is_unresolved("file_getattr"));
        // A host table is read with the unresolved names of its version's listing.
        let host_257 = parse_as(
            "@known\n    # K\n    riscv_hwprobe\n    llseek\n",
            GroupsSource::SystemdAnalyze { version: 257 },
        );
        assert!(host_257.is_syscall("riscv_hwprobe") && !host_257.is_syscall("llseek"));
    }

    #[test]
    fn descriptions_and_direct_members_are_kept() {
        let table = SyscallTable::built_in();
        let service = table.group("@system-service");
        assert_eq!(
            service.map(|g| g.description.as_str()),
            Some("General system service operations")
        );
        let members = service.map(|g| g.members.clone()).unwrap_or_default();
        assert_eq!(members.first().map(String::as_str), Some("@aio"));
        assert!(members.iter().any(|m| m == "@basic-io"));
        // `read` comes in through @basic-io, not as a direct member.
        assert!(!members.iter().any(|m| m == "read"));
        assert!(table.group("system-service").is_none(), "name needs its @");
    }

    #[test]
    fn system_service_allows_io_but_not_mount_or_reboot() {
        let allowed = SyscallTable::built_in().expand("@system-service");
        for call in [
            "read", "write", "openat", "execve", "mmap", "socket", "clone",
        ] {
            assert!(
                allowed.contains(call),
                "{call} should be in @system-service"
            );
        }
        for call in [
            "mount",
            "umount2",
            "reboot",
            "kexec_load",
            "init_module",
            "swapon",
            "ptrace",
        ] {
            assert!(
                !allowed.contains(call),
                "{call} should not be in @system-service"
            );
        }
        assert!(allowed.iter().all(|name| !name.starts_with('@')));
    }

    #[test]
    fn expand_follows_nested_groups() {
        let table = SyscallTable::built_in();
        let privileged = table.group("@privileged").map(|g| g.members.clone());
        assert!(privileged.is_some_and(|m| m.iter().any(|x| x == "@reboot")));
        let expanded = table.expand("@privileged");
        assert!(expanded.contains("reboot"), "via @reboot");
        assert!(expanded.contains("swapon"), "via @swap");
        assert!(expanded.contains("chown"), "via @chown");
        assert!(expanded.contains("init_module"), "via @module");
        // @known includes @obsolete, whose members are not listed in @known directly.
        assert!(table.expand("@known").contains("create_module"));
    }

    #[test]
    fn expand_is_cycle_safe_and_empty_for_unknown_groups() {
        let text = "@a\n    # A\n    one\n    @b\n\n@b\n    # B\n    two\n    @a\n\n@known\n    # K\n    @a\n";
        let table = parse(text).unwrap();
        let names: Vec<String> = table.expand("@a").into_iter().collect();
        assert_eq!(names, ["one", "two"]);
        assert_eq!(table.expand("@b"), table.expand("@a"));
        assert!(table.expand("@nope").is_empty());
        assert!(table.expand("a").is_empty());
    }

    #[test]
    fn is_syscall_knows_systemd_252s_names() {
        let table = SyscallTable::built_in();
        assert!(table.is_syscall("read"));
        assert!(table.is_syscall("mount"));
        // Ungrouped in 252: known, but in no curated group.
        assert!(table.is_syscall("landlock_create_ruleset"));
        // Only reachable through @known -> @obsolete.
        assert!(table.is_syscall("create_module"));
        assert!(!table.is_syscall("@mount"));
        assert!(!table.is_syscall("readx"));
        assert!(!table.is_syscall("READ"));
        // In @default but missing from @known on 252.38 (see `is_syscall`).
        assert!(table.expand("@default").contains("uretprobe"));
        assert!(!table.is_syscall("uretprobe"));
    }

    #[test]
    fn closest_suggests_syscalls_and_groups() {
        let table = SyscallTable::built_in();
        assert_eq!(table.closest("mout").as_deref(), Some("mount"));
        assert_eq!(table.closest("opnat").as_deref(), Some("openat"));
        assert_eq!(table.closest("READ").as_deref(), Some("read"));
        assert_eq!(
            table.closest("@system-servce").as_deref(),
            Some("@system-service")
        );
        assert_eq!(
            table.closest("system-service").as_deref(),
            Some("@system-service")
        );
        assert_eq!(
            table.closest("@fil-system").as_deref(),
            Some("@file-system")
        );
        assert_eq!(table.closest("xyzzyplugh"), None);
        assert_eq!(table.closest(""), None);
    }

    #[test]
    fn trailing_comment_sections_are_ignored() {
        // What 252 prints when it can read the kernel's syscall list, and what it logs when not.
        let text = "\
@known
    # All known syscalls declared in the kernel
    read
    write

# Ungrouped System Calls (known but not included in any of the groups except @known):
#   read
# Unlisted System Calls (supported by the local kernel, but not included in any of the groups listed above):
#   frobnicate

# Not showing unlisted system calls, couldn't retrieve kernel system call list: No such file or directory
";
        let table = parse(text).unwrap();
        assert!(table.is_syscall("write"));
        assert!(!table.is_syscall("frobnicate"));
        assert_eq!(table.groups().count(), 1);
    }

    #[test]
    fn blank_lines_stray_comments_tabs_and_crlf_are_tolerated() {
        let text = "# leading comment\r\n@known\r\n\t# Everything\r\n\tread\r\n\r\n    # stray\r\n    write   \r\n\n\n";
        let table = parse(text).unwrap();
        let known = table.group("@known").unwrap();
        assert_eq!(known.description, "Everything");
        assert_eq!(known.members, ["read", "write"]);
    }

    #[test]
    fn group_without_description_is_accepted() {
        let table =
            parse("@known\n    read\n    # not a description: members came first\n").unwrap();
        assert_eq!(table.group("@known").unwrap().description, "");
    }

    #[test]
    fn member_before_any_group_names_its_line() {
        let err = parse("\n    read\n").unwrap_err();
        assert_eq!(
            err,
            ParseError::MemberOutsideGroup {
                line: 2,
                member: "read".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "syscall-filter listing, line 2: member `read` does not belong to any group \
             (expected an `@group` line at column 0 before it); is this the output of \
             `systemd-analyze syscall-filter`?"
        );
    }

    #[test]
    fn member_after_a_column_0_comment_is_not_attached_to_the_last_group() {
        let err = parse("@known\n    read\n# Section\n    write\n").unwrap_err();
        assert_eq!(
            err,
            ParseError::MemberOutsideGroup {
                line: 4,
                member: "write".into()
            }
        );
    }

    #[test]
    fn malformed_lines_name_their_line() {
        assert_eq!(
            parse("@known\n    read\n@\n").unwrap_err(),
            ParseError::InvalidGroupName {
                line: 3,
                text: "@".into()
            }
        );
        assert_eq!(
            parse("@known\n    read write\n").unwrap_err(),
            ParseError::InvalidMember {
                line: 2,
                group: "@known".into(),
                text: "read write".into()
            }
        );
        assert_eq!(
            parse("@known\n    read\nwrite\n").unwrap_err(),
            ParseError::UnexpectedLine {
                line: 3,
                text: "write".into()
            }
        );
        assert_eq!(
            parse("@known\n    read\n\n@known\n    write\n").unwrap_err(),
            ParseError::DuplicateGroup {
                line: 4,
                name: "@known".into(),
                first: 1
            }
        );
        let err = parse("@known\n    read\n    @missing\n").unwrap_err();
        assert_eq!(
            err,
            ParseError::UnknownGroupReference {
                line: 3,
                group: "@known".into(),
                member: "@missing".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "syscall-filter listing, line 3: group `@known` includes `@missing`, \
             which the listing does not define"
        );
    }

    #[test]
    fn listing_without_known_is_rejected() {
        assert_eq!(
            parse("@basic-io\n    # Basic IO\n    read\n").unwrap_err(),
            ParseError::MissingKnown { lines: 3 }
        );
        assert_eq!(
            parse("").unwrap_err(),
            ParseError::MissingKnown { lines: 0 }
        );
    }
}
