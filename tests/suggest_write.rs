//! `suggest --policy FILE --write`: the list replaces `[seccomp] allow` in a commented policy
//! (a copy of policies/heat.toml) and nothing else changes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

use sandgen::data::syscalls::SyscallTable;
use sandgen::diagnostic::Source;
use sandgen::policy::{self, Context};
use sandgen::suggest::write_allow;

const HEAT: &str = include_str!("fixtures/suggest/heat.toml");

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn validates(name: &str, text: &str) {
    let table = SyscallTable::built_in();
    let cx = Context {
        syscalls: &|| &table,
        find_program: &|_| None,
    };
    if let Err(e) = policy::parse(Source::new(name, text), &cx) {
        panic!("{name} does not validate:\n{e}\n---\n{text}");
    }
}

#[test]
fn only_the_allow_line_of_heat_changes() {
    validates("heat.toml", HEAT);
    let allow = list(&[
        "@basic-io",
        "@default",
        "@signal",
        "access",
        "newfstatat",
        "openat",
    ]);
    let out = write_allow(HEAT, &allow).expect("rewritten");
    validates("heat.toml", &out);

    let before: Vec<&str> = HEAT.lines().collect();
    let after: Vec<&str> = out.lines().collect();
    assert_eq!(before.len(), after.len());
    let changed: Vec<(&str, &str)> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a)
        .map(|(b, a)| (*b, *a))
        .collect();
    assert_eq!(
        changed,
        [(
            "allow = [\"@basic-io\", \"@default\", \"@file-system\", \"@io-event\", \"@process\", \"@signal\", \"brk\", \"mmap\", \"mprotect\", \"munmap\"]",
            "allow = [\"@basic-io\", \"@default\", \"@signal\", \"access\", \"newfstatat\", \"openat\"]"
        )]
    );
    // Every comment survived, the one right above `allow` too.
    for comment in HEAT.lines().filter(|l| l.trim_start().starts_with('#')) {
        assert!(out.contains(comment), "lost comment {comment:?}");
    }
    assert!(out.ends_with('\n') == HEAT.ends_with('\n'));
}

#[test]
fn writing_twice_is_the_same_as_once() {
    let allow = list(&["@default", "read"]);
    let once = write_allow(HEAT, &allow).expect("once");
    assert_eq!(write_allow(&once, &allow).expect("twice"), once);
}

#[test]
fn a_policy_without_seccomp_gets_the_table_at_its_end() {
    // heat without its [seccomp] table, ending in a comment about [filesystem].
    let start = HEAT.find("[seccomp]").expect("heat has [seccomp]");
    let end = HEAT.find("[filesystem]").expect("heat has [filesystem]");
    let without = format!("{}{}# end of the policy\n", &HEAT[..start], &HEAT[end..]);
    validates("heat.toml", &without);
    let out = write_allow(&without, &list(&["@default", "read"])).expect("rewritten");
    validates("heat.toml", &out);
    assert_eq!(
        out,
        format!("{without}\n[seccomp]\nallow = [\"@default\", \"read\"]\n")
    );
}
