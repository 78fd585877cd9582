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
//! The built-in fallback, `syscall-filter-252.txt` next to this file, is the verbatim stdout of
//! `systemd-analyze syscall-filter --no-pager` from Debian 12's systemd 252.38-1~deb12u1 on
//! x86_64. Regenerate it with that command (stdout only) on the systemd version to target.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The embedded `systemd-analyze syscall-filter` output of systemd 252 (see the module docs).
const BUILT_IN_LISTING: &str = include_str!("syscall-filter-252.txt");

/// The group whose expansion is every syscall name systemd knows.
const KNOWN_GROUP: &str = "@known";

/// Where a [`SyscallTable`] came from, for reports ("syscall groups from: ...").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupsSource {
    /// Parsed from `systemd-analyze syscall-filter` run on this machine.
    SystemdAnalyze,
    /// The table embedded in sandgen, captured from systemd 252.
    BuiltIn,
}

impl fmt::Display for GroupsSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SystemdAnalyze => "systemd-analyze",
            Self::BuiltIn => "built-in table (systemd 252)",
        })
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
    source: GroupsSource,
}

impl SyscallTable {
    /// Parses the stdout of `systemd-analyze syscall-filter --no-pager`.
    ///
    /// Blank lines are ignored and do not end a group. Indented `#` lines are ignored except the
    /// first one of a group, which is its description. A column-0 `#` line ends the current group
    /// (systemd uses those for the trailing "Ungrouped"/"Unlisted" sections), so an indented
    /// member after one is an error rather than silently joining the last group. The listing
    /// must define `@known` and every `@group` it references.
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
            source,
        };
        table.known = table.expand(KNOWN_GROUP);
        Ok(table)
    }

    /// The table embedded in sandgen: systemd 252's groups, for when `systemd-analyze` is
    /// missing or its output does not parse.
    #[allow(clippy::expect_used)]
    pub fn built_in() -> Self {
        // Cannot fail: the listing is a constant compiled into the binary, and the test
        // `built_in_listing_parses` parses exactly that constant, so a listing that did not parse
        // would fail the test suite before it could ship.
        Self::parse(BUILT_IN_LISTING, GroupsSource::BuiltIn)
            .expect("embedded syscall-filter-252.txt parses (test built_in_listing_parses)")
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
    /// expanded, and not one of [`UNRESOLVED`].
    ///
    /// On systemd 252.38, `@known` (systemd's list of syscall names) misses three names used
    /// inside curated groups: `set_tls` and `nfsservctl` (which systemd still accepts in
    /// `SystemCallFilter=`) and `uretprobe` (a Debian backport that systemd rejects with
    /// "Failed to parse system call"). This function answers `false` for all three.
    pub fn is_syscall(&self, name: &str) -> bool {
        self.known.contains(name) && !is_unresolved(name)
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
            .filter(|n| !is_unresolved(n))
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
/// `systemd_loads_every_known_name_and_every_boundary_value` (tests/acceptance.rs) checks
/// that every other name loads without a word.
pub const UNRESOLVED: &[&str] = &[
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

/// Whether systemd 252 cannot resolve the syscall `name` (see [`UNRESOLVED`]).
pub fn is_unresolved(name: &str) -> bool {
    UNRESOLVED.contains(&name)
}

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
        SyscallTable::parse(text, GroupsSource::SystemdAnalyze)
    }

    #[test]
    fn built_in_listing_parses() {
        // This is what makes `built_in()`'s expect safe.
        let table = parse(BUILT_IN_LISTING).map(|_| ());
        assert_eq!(table, Ok(()));
        let built_in = SyscallTable::built_in();
        assert_eq!(built_in.source(), GroupsSource::BuiltIn);
        // systemd 252 has 29 groups, @default .. @known.
        assert_eq!(built_in.groups().count(), 29);
        assert!(built_in.groups().all(|g| g.name.starts_with('@')));
        assert!(built_in.groups().all(|g| !g.description.is_empty()));
    }

    #[test]
    fn source_display_names_the_origin() {
        assert_eq!(GroupsSource::SystemdAnalyze.to_string(), "systemd-analyze");
        assert_eq!(
            GroupsSource::BuiltIn.to_string(),
            "built-in table (systemd 252)"
        );
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
