//! The group mapping of `sandgen suggest`, against captured `systemd-analyze syscall-filter`
//! listings (systemd 252, embedded in the crate; and a doctored one in
//! tests/fixtures/suggest/) and a captured strace output, plus properties over random
//! workloads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

use std::collections::BTreeSet;

use proptest::prelude::*;
use sandgen::data::syscalls::{GroupsSource, SyscallTable};
use sandgen::suggest::{self, suggest, suggest_exact, widen, DANGEROUS_GROUPS, WHOLE_GROUPS};
use sandgen::trace::parse_strace_output;

const SH_PIPELINE: &str = include_str!("fixtures/suggest/sh-pipeline.strace");
/// systemd 252's listing with `@basic-io` made to include `ptrace`, as a future systemd could.
const DOCTORED: &str = include_str!("fixtures/suggest/syscall-filter-basic-io-ptrace.txt");

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_captured_shell_pipeline_maps_to_a_short_tight_list() {
    let table = SyscallTable::built_in();
    let trace = parse_strace_output(SH_PIPELINE);
    assert_eq!(trace.processes, 3);
    assert_eq!(trace.unparsed, 0, "{:?}", trace.unparsed_examples);
    // The grouping itself, without the libc variants (see the families test below).
    let s = suggest_exact(&trace.syscalls, &table);
    assert_eq!(
        s.allow,
        [
            "@basic-io",
            "@default",
            "@signal",
            "access",
            "clone",
            "fadvise64",
            "getcwd",
            "getdents64",
            "ioctl",
            "newfstatat",
            "openat",
            "pipe2",
            "statfs",
            "statx",
            "wait4",
        ]
    );
    let groups: Vec<&str> = s.groups_used.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(groups, ["@basic-io", "@signal"]);
    assert_eq!(
        s.system_call_filter().unwrap(),
        "SystemCallFilter=@basic-io @default @signal access clone fadvise64 getcwd getdents64 \
         ioctl newfstatat openat pipe2 statfs statx wait4"
    );
}

#[test]
fn the_host_table_is_the_one_used() {
    // In the doctored listing @basic-io brings ptrace (@debug): the group is no longer taken
    // whole unless the workload itself traced, its used members are listed instead.
    let doctored = SyscallTable::parse(DOCTORED, GroupsSource::SystemdAnalyze { version: 252 })
        .expect("parses");
    assert!(doctored.expand("@basic-io").contains("ptrace"));
    let observed = set(&["execve", "read", "write", "close"]);
    let s = suggest(&observed, &doctored);
    assert_eq!(s.allow, ["@default", "close", "read", "write"]);
    assert!(!s.allowed_syscalls(&doctored).contains("ptrace"));

    let mut tracer = observed.clone();
    tracer.insert("ptrace".to_owned());
    assert_eq!(suggest(&tracer, &doctored).allow, ["@basic-io", "@default"]);

    let built_in = suggest(&observed, &SyscallTable::built_in());
    assert_eq!(built_in.allow, ["@basic-io", "@default"]);
    assert_eq!(
        suggest::groups_source_name(doctored.source()),
        "systemd-analyze"
    );
    assert_eq!(
        suggest::groups_source_name(SyscallTable::built_in_for(257, Some(252)).source()),
        "built-in"
    );
}

#[test]
fn the_heat_policy_s_hand_written_list_is_wider_than_the_suggestion() {
    // `sandgen suggest -- dd if=/dev/zero of=/dev/null count=1` on Debian 12.
    let table = SyscallTable::built_in();
    let dd = set(&[
        "access",
        "arch_prctl",
        "brk",
        "close",
        "dup2",
        "execve",
        "exit_group",
        "futex",
        "getrandom",
        "lseek",
        "mmap",
        "mprotect",
        "munmap",
        "newfstatat",
        "openat",
        "pread64",
        "prlimit64",
        "read",
        "rseq",
        "rt_sigaction",
        "set_robust_list",
        "set_tid_address",
        "write",
    ]);
    let s = suggest_exact(&dd, &table);
    assert_eq!(
        s.allow,
        [
            "@basic-io",
            "@default",
            "@signal",
            "access",
            "newfstatat",
            "openat"
        ]
    );
    let heat = [
        "@basic-io",
        "@default",
        "@file-system",
        "@io-event",
        "@process",
        "@signal",
    ];
    let heat_allows: BTreeSet<String> = heat.iter().flat_map(|g| table.expand(g)).collect();
    let ours = s.allowed_syscalls(&table);
    assert!(ours.is_subset(&heat_allows));
    assert!(
        ours.len() * 2 < heat_allows.len(),
        "{} vs {}",
        ours.len(),
        heat_allows.len()
    );
}

/// Every syscall name systemd 252 knows and can resolve on this architecture (a traced
/// workload cannot make the others), for random workloads.
fn known_names() -> Vec<String> {
    let table = SyscallTable::built_in();
    table
        .expand("@known")
        .into_iter()
        .filter(|n| table.is_syscall(n))
        .collect()
}

fn service_names() -> Vec<String> {
    SyscallTable::built_in()
        .expand("@system-service")
        .into_iter()
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any workload: its calls are allowed, nothing outside @system-service and no dangerous
    /// call is added, only safe groups are taken whole, and every entry is one the policy validator accepts.
    #[test]
    fn covers_and_adds_nothing_dangerous(
        observed in proptest::sample::subsequence(known_names(), 0..80)
    ) {
        let table = SyscallTable::built_in();
        let observed: BTreeSet<String> = observed.into_iter().collect();
        let s = suggest(&observed, &table);
        let allowed = s.allowed_syscalls(&table);
        let service = table.expand("@system-service");
        prop_assert!(observed.is_subset(&allowed));
        prop_assert!(allowed.iter().all(|n| service.contains(n) || observed.contains(n)));
        let dangerous: BTreeSet<String> =
            DANGEROUS_GROUPS.iter().flat_map(|g| table.expand(g)).collect();
        prop_assert!(allowed.iter().all(|n| !dangerous.contains(n) || observed.contains(n)));
        for entry in &s.allow {
            if entry.starts_with('@') {
                prop_assert!(
                    entry == "@default" || WHOLE_GROUPS.iter().any(|g| g.name == entry),
                    "group {} taken whole", entry
                );
            } else {
                prop_assert!(table.is_syscall(entry));
            }
        }
        let mut sorted = s.allow.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(&sorted, &s.allow);
        prop_assert!(s.unlisted.is_empty());
    }

    /// An ordinary workload (inside @system-service) gets strictly less than @system-service.
    #[test]
    fn strictly_tighter_than_system_service(
        observed in proptest::sample::subsequence(service_names(), 0..120)
    ) {
        let table = SyscallTable::built_in();
        let observed: BTreeSet<String> = observed.into_iter().collect();
        let allowed = suggest(&observed, &table).allowed_syscalls(&table);
        let service = table.expand("@system-service");
        prop_assert!(allowed.is_subset(&service));
        prop_assert!(allowed.len() < service.len());
    }

    /// Widening by a call the list refuses makes it allowed and keeps everything else.
    #[test]
    fn widening_allows_the_refused_call(
        observed in proptest::sample::subsequence(service_names(), 0..40),
        refused in proptest::sample::select(known_names()),
    ) {
        let table = SyscallTable::built_in();
        let observed: BTreeSet<String> = observed.into_iter().collect();
        let s = suggest(&observed, &table);
        let before = s.allowed_syscalls(&table);
        match widen(&s, &refused, &table) {
            Ok(wider) => {
                let after = wider.allowed_syscalls(&table);
                prop_assert!(!before.contains(&refused));
                prop_assert!(after.contains(&refused));
                prop_assert!(before.is_subset(&after));
            }
            Err(suggest::WidenError::AlreadyAllowed { .. }) => {
                prop_assert!(before.contains(&refused));
            }
            Err(e) => prop_assert!(false, "{}", e),
        }
    }
}

/// The same trace gets another list for systemd 257 than for 252: 257's `@default` includes
/// the new `@sandbox` (Landlock and `seccomp`), which every allow-list gets, so a program
/// that sandboxes itself needs no entry for it there, and its calls are no longer "outside
/// @system-service".
#[test]
fn the_target_s_groups_decide_the_list() {
    let observed = set(&[
        "close",
        "execve",
        "landlock_add_rule",
        "landlock_create_ruleset",
        "landlock_restrict_self",
        "openat",
        "prctl",
        "read",
        "write",
    ]);
    let old = SyscallTable::built_in_for(252, Some(252));
    let new = SyscallTable::built_in_for(257, Some(252));
    let on_252 = suggest_exact(&observed, &old);
    let on_257 = suggest_exact(&observed, &new);
    assert_eq!(
        on_252.allow,
        [
            "@basic-io",
            "@default",
            "landlock_add_rule",
            "landlock_create_ruleset",
            "landlock_restrict_self",
            "openat",
            "prctl"
        ]
    );
    assert_eq!(
        on_252.outside_system_service,
        [
            "landlock_add_rule",
            "landlock_create_ruleset",
            "landlock_restrict_self"
        ]
    );
    assert_eq!(on_257.allow, ["@basic-io", "@default", "openat", "prctl"]);
    assert!(on_257.outside_system_service.is_empty());
}
