//! `SystemCallFilter=` checked exactly: the set of system calls the policy allows, computed
//! the way the target systemd computes it, against what the kernel's filters let run
//! ([`crate::seccomp`]).
//!
//! How systemd builds the set (systemd.exec(5), "System Call Filtering"; systemd 252's
//! `config_parse_syscall_filter()` and `seccomp_parse_syscall_filter()`):
//! - the first `SystemCallFilter=` line decides: an allow-list, or with `~` a deny-list;
//! - an allow-list always gets `@default` (what every program needs to start and exit);
//! - later lines of the same kind add to the set, of the other kind remove from it;
//! - `@group`s expand with that systemd's groups (`systemd-analyze syscall-filter`);
//! - names this kernel's ABI has no number for are skipped (libseccomp cannot place them).
//!
//! Other directives deny calls with seccomp too, unconditionally (systemd 252's
//! `exec_context` apply functions): `ProtectClock=` the `@clock` group, `ProtectKernelModules=`
//! `@module`, `ProtectKernelLogs=` `syslog`, `PrivateDevices=` `@raw-io`, `ProtectHostname=`
//! `sethostname`/`setdomainname`, `RestrictNamespaces=` `clone3` (ENOSYS, as it cannot
//! inspect its flags) and, when it forbids every type, `setns`; `RestrictSUIDSGID=` `openat2`
//! (ENOSYS: its flags are in a structure); `RestrictAddressFamilies=none` `socket`
//! (EAFNOSUPPORT, for every family). A call they deny is not
//! missing from `SystemCallFilter=`. The argument filters (`RestrictAddressFamilies=`,
//! `MemoryDenyWriteExecute=`, ...) leave their calls running for some arguments: such
//! calls count as allowed here.

use std::collections::{BTreeMap, BTreeSet};

use crate::data::syscalls::SyscallTable;
use crate::directive::{Directive, DirectiveValue, Name};
use crate::seccomp::table::ArchFilter;

/// The set systemd builds from the `SystemCallFilter=` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expected {
    /// An allow-list (else a deny-list).
    pub allow_list: bool,
    /// The calls allowed (or, for a deny-list, denied).
    pub names: BTreeSet<String>,
    /// Of an allow-list, the calls only systemd's `@default` brings in.
    pub implicit: BTreeSet<String>,
}

fn expand(word: &str, groups: &SyscallTable) -> BTreeSet<String> {
    if word.starts_with('@') {
        groups.expand(word)
    } else {
        BTreeSet::from([word.to_owned()])
    }
}

/// The set the `SystemCallFilter=` lines of `all` ask for; `None` when there is none.
pub(crate) fn expected(all: &[Directive], groups: &SyscallTable) -> Option<Expected> {
    let mut result: Option<Expected> = None;
    let mut named = BTreeSet::new();
    for d in all.iter().filter(|d| d.name == Name::SystemCallFilter) {
        let (words, negated) = d.value.words();
        let e = result.get_or_insert_with(|| Expected {
            allow_list: !negated,
            names: if negated {
                BTreeSet::new()
            } else {
                groups.expand("@default")
            },
            implicit: BTreeSet::new(),
        });
        for w in words {
            let set = expand(w, groups);
            if negated != e.allow_list {
                named.extend(set.iter().cloned());
                e.names.extend(set);
            } else {
                for n in &set {
                    e.names.remove(n);
                    named.remove(n);
                }
            }
        }
    }
    let mut e = result?;
    e.names.retain(|n| !groups.is_unresolved(n));
    if e.allow_list {
        e.implicit = e.names.difference(&named).cloned().collect();
    }
    Some(e)
}

/// The calls other directives of `all` deny unconditionally, and which directive.
pub(crate) fn denied_by_others(all: &[Directive], groups: &SyscallTable) -> BTreeMap<String, Name> {
    let mut out = BTreeMap::new();
    for d in all {
        let on = match &d.value {
            DirectiveValue::Bool(b) => *b,
            // RestrictNamespaces= with a list of types still filters clone3.
            DirectiveValue::Words { .. } => d.name == Name::RestrictNamespaces,
            DirectiveValue::Word(w) => {
                (d.name == Name::ProtectHostname && w == "private")
                    || (d.name == Name::RestrictAddressFamilies && w == "none")
            }
            _ => false,
        };
        if !on {
            continue;
        }
        let calls: BTreeSet<String> = match d.name {
            Name::ProtectClock => groups.expand("@clock"),
            Name::ProtectKernelModules => groups.expand("@module"),
            Name::PrivateDevices => groups.expand("@raw-io"),
            Name::ProtectKernelLogs => BTreeSet::from(["syslog".to_owned()]),
            Name::ProtectHostname => {
                BTreeSet::from(["sethostname".to_owned(), "setdomainname".to_owned()])
            }
            // With every type forbidden (`yes`) setns(2) is refused altogether
            // (`seccomp_restrict_namespaces()`); with some allowed, only for flags.
            Name::RestrictNamespaces if matches!(d.value, DirectiveValue::Bool(true)) => {
                BTreeSet::from(["clone3".to_owned(), "setns".to_owned()])
            }
            Name::RestrictNamespaces => BTreeSet::from(["clone3".to_owned()]),
            // openat2(2) takes its flags in a structure seccomp cannot read, so
            // `seccomp_restrict_suid_sgid()` refuses it altogether (ENOSYS) rather than let
            // it create a setuid file.
            Name::RestrictSUIDSGID => BTreeSet::from(["openat2".to_owned()]),
            // An allow-list with no family (`none`): `seccomp_restrict_address_families()`
            // has no range to allow and refuses socket(2) for every argument (EAFNOSUPPORT).
            Name::RestrictAddressFamilies => BTreeSet::from(["socket".to_owned()]),
            _ => continue,
        };
        for c in calls {
            out.entry(c).or_insert(d.name);
        }
    }
    out
}

/// Whether the kernel lets `name` run (for some arguments).
fn runs(arch: &ArchFilter, name: &str) -> bool {
    arch.calls
        .get(name)
        .is_some_and(|v| v.action.runs() || v.conditional)
}

fn list(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(" ")
}

/// The calls the filters let run on `arch` that `learned` never saw the unit make, as a
/// sentence to append to the evidence: permissions it could give up.
pub(crate) fn unused(arch: &ArchFilter, learned: &super::facts::Learned) -> String {
    let allowed: BTreeSet<&String> = arch.calls.keys().filter(|n| runs(arch, n)).collect();
    let never: Vec<&str> = allowed
        .iter()
        .filter(|n| !learned.seen.contains(n.as_str()))
        .map(|n| n.as_str())
        .collect();
    format!(
        "; the learned profile ({} recording{}) never saw {} of the {} allowed calls, \
         permissions it could give up{}{}",
        learned.recordings,
        plural(learned.recordings),
        never.len(),
        allowed.len(),
        if never.is_empty() { "" } else { ": " },
        never.join(" ")
    )
}

/// The verdict of comparing `expected` with what the filters do on `arch`: `Ok` with the
/// evidence when they agree, `Err` naming every call that differs.
pub(crate) fn compare(
    expected: &Expected,
    arch: &ArchFilter,
    others: &BTreeMap<String, Name>,
) -> Result<String, String> {
    let here = |n: &String| arch.calls.contains_key(n);
    let placed: BTreeSet<String> = expected.names.iter().filter(|n| here(n)).cloned().collect();
    let unplaced = expected.names.len() - placed.len();
    let allowed: BTreeSet<String> = arch
        .calls
        .keys()
        .filter(|n| runs(arch, n))
        .cloned()
        .collect();
    // Numbers sandgen's tables have no name for (calls of a kernel newer than them) that
    // run: they may be names of the policy this table cannot place, so they are told, not
    // failed.
    let unnamed: Vec<String> = arch
        .unnamed
        .iter()
        .filter(|(_, v)| expected.allow_list && (v.action.runs() || v.conditional))
        .map(|(nr, _)| format!("#{nr}"))
        .collect();
    let unnamed_note = if unnamed.is_empty() {
        String::new()
    } else {
        format!(
            "; it also allows {} number{} sandgen has no name for ({}: calls newer than its tables, not compared)",
            unnamed.len(),
            plural(unnamed.len()),
            unnamed.join(" ")
        )
    };
    // What the kernel allows beyond the policy, and what the policy allows that it refuses.
    let (extra, refused): (BTreeSet<String>, BTreeSet<String>) = if expected.allow_list {
        (
            allowed.difference(&placed).cloned().collect(),
            placed.difference(&allowed).cloned().collect(),
        )
    } else {
        (
            placed.intersection(&allowed).cloned().collect(),
            arch.calls
                .keys()
                .filter(|n| !allowed.contains(*n) && !placed.contains(*n))
                .cloned()
                .collect(),
        )
    };
    let (explained, missing): (BTreeSet<String>, BTreeSet<String>) =
        refused.into_iter().partition(|n| others.contains_key(n));
    let skipped = if unplaced > 0 {
        format!(
            "; {unplaced} name{} of the policy ha{} no number on {} and {} skipped",
            plural(unplaced),
            if unplaced == 1 { "s" } else { "ve" },
            arch.arch,
            if unplaced == 1 { "is" } else { "are" }
        )
    } else {
        String::new()
    };
    let by_others = if explained.is_empty() {
        String::new()
    } else {
        let mut by: BTreeMap<Name, Vec<&str>> = BTreeMap::new();
        for n in &explained {
            if let Some(d) = others.get(n) {
                by.entry(*d).or_default().push(n);
            }
        }
        let parts: Vec<String> = by
            .iter()
            .map(|(d, names)| format!("{d}= denies {}", names.join(" ")))
            .collect();
        format!("; {}", parts.join("; "))
    };
    if extra.is_empty() && missing.is_empty() {
        return Ok(if expected.allow_list {
            let implicit: BTreeSet<String> =
                expected.implicit.intersection(&placed).cloned().collect();
            let own = allowed.len() - implicit.len();
            let adds = if implicit.is_empty() {
                "systemd adds none".to_owned()
            } else {
                format!("+ {} systemd adds: {}", implicit.len(), list(&implicit))
            };
            format!(
                "the kernel allows exactly the {own} system calls the policy allows on {} ({adds}){skipped}{by_others}{unnamed_note}",
                arch.arch
            )
        } else {
            format!(
                "the kernel refuses exactly the {} system calls the policy denies on {} and allows the other {}{skipped}{by_others}",
                placed.len(),
                arch.arch,
                allowed.len()
            )
        });
    }
    let mut parts = Vec::new();
    if !extra.is_empty() {
        let names: Vec<String> = extra.iter().cloned().collect();
        parts.push(format!(
            "the kernel allows {} system call{} the policy does not: {}",
            names.len(),
            plural(names.len()),
            names.join(" ")
        ));
    }
    if !missing.is_empty() {
        parts.push(format!(
            "the kernel refuses {} system call{} the policy allows: {}",
            missing.len(),
            plural(missing.len()),
            list(&missing)
        ));
    }
    Err(format!(
        "on {}, {}{skipped}{by_others}",
        arch.arch,
        parts.join("; ")
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directive::UnitSection;
    use crate::seccomp::action::Action;
    use crate::seccomp::table::Verdict;

    fn groups() -> SyscallTable {
        SyscallTable::built_in_for(252, None)
    }

    fn filter(words: &[&str], negated: bool) -> Directive {
        Directive {
            section: UnitSection::Service,
            name: Name::SystemCallFilter,
            value: DirectiveValue::Words {
                words: words.iter().map(|w| (*w).to_owned()).collect(),
                negated,
            },
            kind: crate::directive::Kind::Syscalls,
            origin: if negated {
                "seccomp.deny"
            } else {
                "seccomp.allow"
            }
            .to_owned(),
        }
    }

    /// An ABI whose calls are `names`, of which `allowed` run, the others kill.
    fn arch(names: &[&str], allowed: &[&str]) -> ArchFilter {
        let verdict = |a| Verdict {
            action: a,
            conditional: false,
        };
        ArchFilter {
            arch: "x86-64",
            audit_arch: 0,
            default: Action::KillProcess,
            calls: names
                .iter()
                .map(|n| {
                    let a = if allowed.contains(n) {
                        Action::Allow
                    } else {
                        Action::KillProcess
                    };
                    ((*n).to_owned(), verdict(a))
                })
                .collect(),
            unnamed: BTreeMap::new(),
            families: None,
            namespaces: None,
            probes: BTreeMap::new(),
        }
    }

    #[test]
    fn an_allow_list_gets_default_and_later_lines_remove() {
        let g = groups();
        let e = expected(
            &[filter(&["@signal", "read"], false), filter(&["kill"], true)],
            &g,
        )
        .expect("a filter");
        assert!(e.allow_list);
        assert!(e.names.contains("read") && e.names.contains("rt_sigaction"));
        assert!(e.names.contains("execve"), "@default is always allowed");
        assert!(!e.names.contains("kill"), "removed by the ~ line");
        assert!(e.implicit.contains("execve") && !e.implicit.contains("read"));
        let deny = expected(&[filter(&["@mount", "ptrace"], true)], &g).expect("a filter");
        assert!(!deny.allow_list);
        assert!(deny.names.contains("ptrace") && deny.names.contains("mount"));
        assert!(!deny.names.contains("execve"));
        assert_eq!(expected(&[], &g), None);
    }

    #[test]
    fn the_errno_of_refused_calls_is_the_filters_default_or_the_denied_calls_answer() {
        let allow = Expected {
            allow_list: true,
            names: ["read"].iter().map(|s| (*s).to_owned()).collect(),
            implicit: BTreeSet::new(),
        };
        let mut a = arch(&["read", "ptrace"], &["read"]);
        assert_eq!(
            compare_errno(&allow, &a, 1),
            Err("on x86-64, the calls SystemCallFilter= refuses get kill process, not errno 1 (EPERM)".to_owned())
        );
        a.default = Action::Errno(1);
        assert_eq!(
            compare_errno(&allow, &a, 1),
            Ok(
                "on x86-64, the calls SystemCallFilter= refuses fail with errno 1 (EPERM)"
                    .to_owned()
            )
        );
        let deny = Expected {
            allow_list: false,
            names: ["ptrace"].iter().map(|s| (*s).to_owned()).collect(),
            implicit: BTreeSet::new(),
        };
        a.calls.insert(
            "ptrace".to_owned(),
            Verdict {
                action: Action::Errno(13),
                conditional: false,
            },
        );
        assert_eq!(
            compare_errno(&deny, &a, 13),
            Ok(
                "on x86-64, the calls SystemCallFilter= refuses fail with errno 13 (EACCES)"
                    .to_owned()
            )
        );
    }

    #[test]
    fn restrict_suid_sgid_and_no_address_family_deny_whole_calls() {
        let directive = |name, value, kind: crate::directive::Kind| Directive {
            section: UnitSection::Service,
            name,
            value,
            kind,
            origin: String::new(),
        };
        let all = [
            directive(
                Name::RestrictSUIDSGID,
                DirectiveValue::Bool(true),
                crate::directive::Kind::Bool,
            ),
            directive(
                Name::RestrictAddressFamilies,
                DirectiveValue::Word("none".to_owned()),
                crate::directive::Kind::AddressFamilies,
            ),
        ];
        let others = denied_by_others(&all, &groups());
        assert_eq!(others.get("openat2"), Some(&Name::RestrictSUIDSGID));
        assert_eq!(others.get("socket"), Some(&Name::RestrictAddressFamilies));
        // With a family allowed, socket(2) runs for it: nothing is denied outright.
        let some = [directive(
            Name::RestrictAddressFamilies,
            DirectiveValue::Words {
                words: vec!["AF_INET".to_owned()],
                negated: false,
            },
            crate::directive::Kind::AddressFamilies,
        )];
        assert!(denied_by_others(&some, &groups()).is_empty());
        let off = [directive(
            Name::RestrictSUIDSGID,
            DirectiveValue::Bool(false),
            crate::directive::Kind::Bool,
        )];
        assert!(denied_by_others(&off, &groups()).is_empty());
    }

    #[test]
    fn allowed_calls_a_learned_profile_never_saw_are_named() {
        let a = arch(
            &["read", "write", "exit", "ptrace"],
            &["read", "write", "exit"],
        );
        let learned = crate::verify::facts::Learned {
            recordings: 2,
            seen: ["read", "exit", "openat"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        };
        assert_eq!(
            unused(&a, &learned),
            "; the learned profile (2 recordings) never saw 1 of the 3 allowed calls, \
             permissions it could give up: write"
        );
    }

    #[test]
    fn exact_agreement_passes_with_the_count_and_differences_fail_by_name() {
        let e = Expected {
            allow_list: true,
            names: ["read", "write", "exit", "_llseek"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            implicit: ["exit"].iter().map(|s| (*s).to_owned()).collect(),
        };
        let names = ["read", "write", "exit", "ptrace", "clock_settime"];
        assert_eq!(
            compare(&e, &arch(&names, &["read", "write", "exit"]), &BTreeMap::new()),
            Ok("the kernel allows exactly the 2 system calls the policy allows on x86-64 (+ 1 systemd adds: exit); 1 name of the policy has no number on x86-64 and is skipped".to_owned())
        );
        assert_eq!(
            compare(&e, &arch(&names, &["read", "exit", "ptrace"]), &BTreeMap::new()),
            Err("on x86-64, the kernel allows 1 system call the policy does not: ptrace; the kernel refuses 1 system call the policy allows: write; 1 name of the policy has no number on x86-64 and is skipped".to_owned())
        );
        // A newer kernel's call sandgen cannot name: told, not failed.
        let mut newer = arch(&names, &["read", "write", "exit"]);
        newer.unnamed.insert(
            462,
            Verdict {
                action: Action::Allow,
                conditional: false,
            },
        );
        assert_eq!(
            compare(&e, &newer, &BTreeMap::new()),
            Ok("the kernel allows exactly the 2 system calls the policy allows on x86-64 (+ 1 systemd adds: exit); 1 name of the policy has no number on x86-64 and is skipped; it also allows 1 number sandgen has no name for (#462: calls newer than its tables, not compared)".to_owned())
        );
        // A deny-list: ptrace denied, and clock_settime refused because of ProtectClock=.
        let deny = Expected {
            allow_list: false,
            names: ["ptrace"].iter().map(|s| (*s).to_owned()).collect(),
            implicit: BTreeSet::new(),
        };
        let others = BTreeMap::from([("clock_settime".to_owned(), Name::ProtectClock)]);
        assert_eq!(
            compare(&deny, &arch(&names, &["read", "write", "exit"]), &others),
            Ok("the kernel refuses exactly the 1 system calls the policy denies on x86-64 and allows the other 3; ProtectClock= denies clock_settime".to_owned())
        );
        assert_eq!(
            compare(&deny, &arch(&names, &["read", "ptrace", "exit", "clock_settime"]), &others),
            Err("on x86-64, the kernel allows 1 system call the policy does not: ptrace; the kernel refuses 1 system call the policy allows: write".to_owned())
        );
    }
}

/// Compare a set of names the policy allows with those the kernel lets through (`what`:
/// "address family", "namespace type"): `Ok` when equal, else `Err` naming each difference.
/// `refused_altogether` says the call probed runs for no argument at all: the kernel is
/// then stricter than the directive (another filter refuses the call), which it says.
pub(crate) fn compare_names(
    (what, whats): (&str, &str),
    call: &str,
    expected: &BTreeSet<String>,
    kernel: &BTreeSet<String>,
    refused_altogether: bool,
) -> Result<String, String> {
    let extra: BTreeSet<String> = kernel.difference(expected).cloned().collect();
    let missing: BTreeSet<String> = expected.difference(kernel).cloned().collect();
    if extra.is_empty() && missing.is_empty() {
        return Ok(if kernel.is_empty() {
            format!("{call} refuses every {what}")
        } else {
            format!(
                "{call} accepts exactly the {whats} the policy allows: {}",
                list(kernel)
            )
        });
    }
    if extra.is_empty() && refused_altogether {
        return Ok(format!(
            "{call} is refused whatever the {what} (another filter refuses the call), so none of {} is usable",
            list(&missing)
        ));
    }
    let noun = |n: usize| if n == 1 { what } else { whats };
    let mut parts = Vec::new();
    if !extra.is_empty() {
        parts.push(format!(
            "{call} accepts {} {} the policy does not allow: {}",
            extra.len(),
            noun(extra.len()),
            list(&extra)
        ));
    }
    if !missing.is_empty() {
        parts.push(format!(
            "{call} refuses {} {} the policy allows: {}",
            missing.len(),
            noun(missing.len()),
            list(&missing)
        ));
    }
    Err(parts.join("; "))
}

/// What the calls `SystemCallFilter=` refuses get on `arch`: for an allow-list the filters'
/// default, for a deny-list the answers to the denied calls. `Ok` when that is errno
/// `errno`, else `Err` naming what they get.
pub(crate) fn compare_errno(
    expected: &Expected,
    arch: &ArchFilter,
    errno: u16,
) -> Result<String, String> {
    let wanted = crate::seccomp::action::Action::Errno(errno);
    let got: BTreeSet<crate::seccomp::action::Action> = if expected.allow_list {
        BTreeSet::from([arch.default])
    } else {
        expected
            .names
            .iter()
            .filter_map(|n| arch.calls.get(n))
            .filter(|v| !v.action.runs())
            .map(|v| v.action)
            .collect()
    };
    if got.iter().all(|a| *a == wanted) && !got.is_empty() {
        Ok(format!(
            "on {}, the calls SystemCallFilter= refuses fail with {}",
            arch.arch,
            wanted.describe()
        ))
    } else {
        let got: Vec<String> = got.iter().map(|a| a.describe()).collect();
        Err(format!(
            "on {}, the calls SystemCallFilter= refuses get {}, not {}",
            arch.arch,
            if got.is_empty() {
                "nothing (none is refused)".to_owned()
            } else {
                got.join(", ")
            },
            wanted.describe()
        ))
    }
}

/// The argument probes ([`crate::seccomp::table::PROBES`]) that must be refused when
/// `directive` is in force.
pub(crate) fn probes_of(directive: Name) -> &'static [&'static str] {
    match directive {
        Name::LockPersonality => &["personality(PER_LINUX32)"],
        Name::MemoryDenyWriteExecute => &["mmap(PROT_WRITE|PROT_EXEC)", "mprotect(PROT_EXEC)"],
        Name::RestrictSUIDSGID => &["chmod(S_ISUID)", "fchmodat(S_ISGID)"],
        Name::RestrictRealtime => &["sched_setscheduler(SCHED_FIFO)"],
        _ => &[],
    }
}

/// Whether the probes of `directive` are refused on `arch`: `Ok` naming them, `Err` naming
/// those that run.
pub(crate) fn compare_probes(directive: Name, arch: &ArchFilter) -> Result<String, String> {
    let names = probes_of(directive);
    let (run, refused): (Vec<&str>, Vec<&str>) = names
        .iter()
        .filter(|n| arch.probes.contains_key(*n))
        .partition(|n| arch.probes.get(*n).is_some_and(|v| v.action.runs()));
    if run.is_empty() {
        let how: Vec<String> = refused
            .iter()
            .map(|n| format!("{n} ({})", arch.probes[n].action.describe()))
            .collect();
        Ok(format!(
            "on {}, the kernel refuses {}",
            arch.arch,
            how.join(", ")
        ))
    } else {
        Err(format!(
            "on {}, the kernel lets {} run",
            arch.arch,
            run.join(" and ")
        ))
    }
}

/// The address families `RestrictAddressFamilies=` allows, by their kernel names (aliases
/// as the family they alias); `None` for a deny-list (`~`), which this does not compare.
pub(crate) fn expected_families(d: &Directive) -> Option<BTreeSet<String>> {
    let numbered: BTreeMap<u32, &str> = crate::data::address_families::numbered().collect();
    match &d.value {
        DirectiveValue::Word(w) if w == "none" => Some(BTreeSet::new()),
        DirectiveValue::Words {
            words,
            negated: false,
        } => Some(
            words
                .iter()
                .filter_map(|w| crate::data::address_families::number(w))
                .filter_map(|n| numbered.get(&n).map(|s| (*s).to_owned()))
                .collect(),
        ),
        _ => None,
    }
}

/// The namespace types `RestrictNamespaces=` allows; `None` when it restricts nothing.
pub(crate) fn expected_namespaces(d: &Directive) -> Option<BTreeSet<String>> {
    match &d.value {
        DirectiveValue::Bool(true) => Some(BTreeSet::new()),
        DirectiveValue::Words {
            words,
            negated: false,
        } => Some(words.iter().cloned().collect()),
        _ => None,
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    const AF: (&str, &str) = ("address family", "address families");
    const NS: (&str, &str) = ("namespace type", "namespace types");

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn families_and_namespaces_compare_by_name() {
        assert_eq!(
            compare_names(
                AF,
                "socket(2)",
                &set(&["AF_UNIX"]),
                &set(&["AF_UNIX"]),
                false
            ),
            Ok(
                "socket(2) accepts exactly the address families the policy allows: AF_UNIX"
                    .to_owned()
            )
        );
        assert_eq!(
            compare_names(
                AF,
                "socket(2)",
                &set(&["AF_UNIX"]),
                &set(&["AF_UNIX", "AF_INET"]),
                false
            ),
            Err("socket(2) accepts 1 address family the policy does not allow: AF_INET".to_owned())
        );
        assert_eq!(
            compare_names(NS, "unshare(2)", &set(&[]), &set(&[]), true),
            Ok("unshare(2) refuses every namespace type".to_owned())
        );
        assert_eq!(
            compare_names(NS, "unshare(2)", &set(&["net"]), &set(&[]), true),
            Ok("unshare(2) is refused whatever the namespace type (another filter refuses the call), so none of net is usable".to_owned())
        );
        assert_eq!(
            compare_names(NS, "unshare(2)", &set(&["net", "ipc"]), &set(&["net", "uts"]), false),
            Err("unshare(2) accepts 1 namespace type the policy does not allow: uts; unshare(2) refuses 1 namespace type the policy allows: ipc".to_owned())
        );
    }
}
