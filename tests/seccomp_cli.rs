//! Exact seccomp checks against a real systemd 252 (the container `scripts/test.sh` boots):
//! `inspect --seccomp` and `verify` read the unit's filters from the kernel
//! (`PTRACE_SECCOMP_GET_FILTER`) and evaluate them; the process is running and untraced
//! after every read, also when sandgen is killed while it holds the process. These tests
//! panic, never skip, without the container. They name x86-64's calls: the machines the
//! project tests on are x86-64.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use support::sandgen::{statuses, Sandgen};
use support::{describe, unit_name, wait_for, WAIT};

fn demo(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("policies/{name}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `sandgen verify UNIT ARGS --json`, which must exit with `code`.
fn verify(s: &Sandgen, unit: &str, args: &[&str], code: i32) -> Value {
    let mut all = vec!["verify", unit, "--json"];
    all.extend_from_slice(args);
    let out = s.run(&all);
    assert_eq!(out.status.code(), Some(code), "{all:?}: {}", describe(&out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&out)))
}

/// `State:` and `TracerPid:` of host process `pid`.
fn trace_state(pid: u64) -> (String, u32) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("process {pid}: {e}"));
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {status}"))
            .trim()
            .to_owned()
    };
    (field("State"), field("TracerPid").parse().expect("a PID"))
}

/// The process runs (not stopped, not traced) and nobody traces it.
fn assert_running_untraced(pid: u64) {
    let (state, tracer) = trace_state(pid);
    assert_eq!(tracer, 0, "process {pid} is still traced");
    assert!(
        !state.starts_with('t') && !state.starts_with('T'),
        "process {pid} is stopped: {state}"
    );
}

/// A drop-in of `unit` in the container, removed when dropped (with a daemon-reload).
struct DropIn<'a> {
    s: &'a Sandgen,
    dir: PathBuf,
}

impl<'a> DropIn<'a> {
    /// Write `text` as a drop-in of `unit`, reload systemd and restart the unit, so that
    /// the process runs with it.
    fn restart_with(s: &'a Sandgen, unit: &str, text: &str) -> Self {
        let dir = s.root().join(format!("etc/systemd/system/{unit}.d"));
        std::fs::create_dir_all(&dir).expect("mkdir drop-in dir");
        std::fs::write(dir.join("tamper.conf"), text).expect("write drop-in");
        s.container.exec_ok(&["systemctl", "daemon-reload"]);
        s.container.exec_ok(&["systemctl", "restart", unit]);
        s.wait_for_exec(unit);
        DropIn { s, dir }
    }
}

impl Drop for DropIn<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = self.s.container.systemctl(&["daemon-reload"]);
    }
}

/// The syscalls `words` stand for, as the container's systemd expands groups
/// (`systemd-analyze syscall-filter`), that x86_64 has a number for (sandgen's copy of
/// Linux 6.1's uAPI header), and how many have none: an oracle computed without sandgen.
fn oracle(s: &Sandgen, words: &[&str]) -> (BTreeSet<String>, usize) {
    let listing = s
        .container
        .exec_ok(&["systemd-analyze", "syscall-filter", "--no-pager"]);
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in listing.lines() {
        if line.starts_with('@') {
            current = Some(line.trim().to_owned());
        } else if line.starts_with('#') || line.trim().is_empty() {
            if line.starts_with('#') {
                current = None;
            }
        } else if let Some(g) = &current {
            let m = line.trim();
            if !m.starts_with('#') {
                groups.entry(g.clone()).or_default().push(m.to_owned());
            }
        }
    }
    let header = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/data/syscall-numbers/x86_64.h"),
    )
    .expect("x86_64.h");
    let numbered: BTreeSet<String> = header
        .lines()
        .filter_map(|l| l.strip_prefix("#define __NR_"))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let mut out = BTreeSet::new();
    let mut pending: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    let mut seen = BTreeSet::new();
    while let Some(w) = pending.pop() {
        if !seen.insert(w.clone()) {
            continue;
        }
        match groups.get(&w) {
            Some(members) => pending.extend(members.iter().cloned()),
            None if !w.starts_with('@') => {
                out.insert(w);
            }
            None => panic!("unknown group {w}"),
        }
    }
    // uretprobe, a Debian backport in 252's @default, is a name that systemd rejects
    // ("Failed to parse system call"): it is in no filter, and not counted.
    if s.container.systemd == 252 {
        out.remove("uretprobe");
    }
    let all = out.len();
    out.retain(|n| numbered.contains(n));
    let skipped = all - out.len();
    (out, skipped)
}

/// `(status, evidence)` must be `status` and an evidence that starts with `prefix`; on
/// systemd 252 (the container lane, the host's kernel) it must be exactly `prefix`. A newer
/// systemd on another kernel may let calls through that sandgen's Linux 6.1 tables cannot
/// name, which verify appends as a note.
fn assert_evidence(got: &(String, String), status: &str, prefix: &str, systemd: u32) {
    assert_eq!(got.0, status, "{}", got.1);
    if systemd == 252 {
        assert_eq!(got.1, prefix);
    } else {
        assert!(
            got.1.starts_with(prefix),
            "{}\nshould start with\n{prefix}",
            got.1
        );
    }
}

#[test]
fn heat_passes_with_the_exact_count_and_a_drop_in_adding_ptrace_fails() {
    let s = Sandgen::new();
    let unit = unit_name("heat", "service");
    let _cleanup = s.start(&unit, &demo("heat"));
    s.wait_for_exec(&unit);
    let json = verify(&s, &unit, &[], 0);
    assert_running_untraced(json["main_pid"].as_u64().expect("main_pid"));
    let (want, skipped) = oracle(
        &s,
        &[
            "@basic-io",
            "@default",
            "@signal",
            "access",
            "fstat",
            "lstat",
            "newfstatat",
            "openat",
            "stat",
            "statx",
        ],
    );
    let got = statuses(&json);
    let systemd = s.container.systemd;
    // The count of skipped names holds on 252 only: a newer systemd also drops the names its
    // libseccomp cannot resolve (sandgen's measured list), which this oracle cannot know.
    let exact = format!(
        "the kernel allows exactly the {} system calls the policy allows on x86-64 (systemd adds none)",
        want.len()
    );
    let with_skipped =
        format!("{exact}; {skipped} names of the policy have no number on x86-64 and are skipped");
    assert_evidence(
        &got["seccomp.allow"],
        "pass",
        if systemd == 252 {
            &with_skipped
        } else {
            &exact
        },
        systemd,
    );
    if systemd == 252 {
        assert_eq!(
            (want.len(), skipped),
            (75, 25),
            "systemd 252's groups on Linux 6.1's x86_64 numbers"
        );
    }
    assert_evidence(
        &got["seccomp.architectures"],
        "pass",
        "no system call runs through x86 (kill thread)",
        systemd,
    );

    // Someone adds ptrace in a drop-in: the process restarted with it allows ptrace.
    let _drop_in = DropIn::restart_with(&s, &unit, "[Service]\nSystemCallFilter=ptrace\n");
    let json = verify(&s, &unit, &[], 1);
    assert_running_untraced(json["main_pid"].as_u64().expect("main_pid"));
    let extra = "on x86-64, the kernel allows 1 system call the policy does not: ptrace";
    let with_skipped =
        format!("{extra}; {skipped} names of the policy have no number on x86-64 and are skipped");
    assert_evidence(
        &statuses(&json)["seccomp.allow"],
        "fail",
        if systemd == 252 { &with_skipped } else { extra },
        systemd,
    );
    // --no-ptrace: today's check, which cannot see it.
    let json = verify(&s, &unit, &["--no-ptrace"], 0);
    let evidence = &statuses(&json)["seccomp.allow"].1;
    assert!(
        evidence.starts_with("seccomp filter mode, ")
            && evidence.ends_with(
                " filters (what the filters allow cannot be read from outside the process)"
            ),
        "{evidence}"
    );
}

#[test]
fn a_deny_list_passes_and_a_drop_in_allowing_ptrace_fails() {
    let s = Sandgen::new();
    let unit = unit_name("deny", "service");
    let _cleanup = s.start(
        &unit,
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[seccomp]\ndeny = [\"@mount\", \"ptrace\"]\nerror_number = \"EACCES\"\n",
    );
    s.wait_for_exec(&unit);
    let json = verify(&s, &unit, &[], 0);
    assert_running_untraced(json["main_pid"].as_u64().expect("main_pid"));
    let (denied, skipped) = oracle(&s, &["@mount", "ptrace"]);
    let (status, evidence) = &statuses(&json)["seccomp.deny"];
    assert_eq!(status, "pass", "{evidence}");
    assert!(
        evidence.starts_with(&format!(
            "the kernel refuses exactly the {} system calls the policy denies on x86-64 and allows the other ",
            denied.len()
        )),
        "{evidence}"
    );
    assert_eq!(
        statuses(&json)["seccomp.error_number"],
        (
            "pass".to_owned(),
            "on x86-64, the calls SystemCallFilter= refuses fail with errno 13 (EACCES)".to_owned()
        )
    );
    // A later line without ~ takes ptrace off the deny-list.
    let _drop_in = DropIn::restart_with(&s, &unit, "[Service]\nSystemCallFilter=ptrace\n");
    let json = verify(&s, &unit, &[], 1);
    assert_eq!(
        statuses(&json)["seccomp.deny"],
        (
            "fail".to_owned(),
            format!(
                "on x86-64, the kernel allows 1 system call the policy does not: ptrace; {skipped} name{} of the policy ha{} no number on x86-64 and {} skipped",
                if skipped == 1 { "" } else { "s" },
                if skipped == 1 { "s" } else { "ve" },
                if skipped == 1 { "is" } else { "are" },
            )
        )
    );
}

#[test]
fn inspect_seccomp_lists_what_the_filters_allow_per_architecture() {
    let s = Sandgen::new();
    let unit = unit_name("heat", "service");
    let _cleanup = s.start(&unit, &demo("heat"));
    s.wait_for_exec(&unit);
    let text = s.ok(&["inspect", &unit, "--seccomp"]);
    assert!(
        text.contains(" filters, ") && text.contains("read with PTRACE_SECCOMP_GET_FILTER"),
        "{text}"
    );
    if s.container.systemd == 252 {
        // The 75 calls verify counts (heat_passes_with_the_exact_count...), in 5 filters.
        assert!(
            text.contains("\n  5 filters, ")
                && text.contains("  x86-64 (default: kill process):\n    allowed (75, * only with some arguments):\n"),
            "{text}"
        );
        assert!(
            text.contains("  x86 (default: kill thread):\n    allowed: none\n"),
            "{text}"
        );
    }
    // ptrace is not among the native ABI's allowed calls (the lines under "allowed (N...):",
    // indented by six; systemd 257 also lists the calls it kills, under their own heading).
    let allowed: Vec<&str> = text
        .split_once("allowed (")
        .map(|(_, rest)| {
            rest.lines()
                .skip(1)
                .take_while(|l| l.starts_with("      "))
                .flat_map(str::split_whitespace)
                .collect()
        })
        .unwrap_or_default();
    assert!(allowed.contains(&"read"), "{text}");
    assert!(!allowed.contains(&"ptrace"), "{text}");
    let json = s.json(&["inspect", &unit, "--seccomp", "--json"]);
    let native = &json["seccomp_filters"]["arches"][0];
    assert_eq!(native["arch"], "x86-64");
    if s.container.systemd == 252 {
        assert_eq!(native["default"]["action"], "kill_process");
    } else {
        assert_ne!(native["default"]["action"], "allow", "{native}");
    }
    assert_eq!(native["calls"]["read"]["action"], "allow");
    assert_eq!(native["calls"]["ptrace"]["action"], "kill_process");
    assert_running_untraced(json["main_pid"].as_u64().expect("main_pid"));
    // --no-ptrace: only the mode.
    let text = s.ok(&["inspect", &unit, "--seccomp", "--no-ptrace"]);
    assert!(!text.contains("PTRACE_SECCOMP_GET_FILTER"), "{text}");
}

#[test]
fn a_traced_process_is_refused_and_a_killed_sandgen_leaves_it_running() {
    let s = Sandgen::new();
    let unit = unit_name("heat", "service");
    let _cleanup = s.start(&unit, &demo("heat"));
    s.wait_for_exec(&unit);
    let pid = verify(&s, &unit, &[], 0)["main_pid"]
        .as_u64()
        .expect("main_pid");

    // sandgen killed while it holds the process stopped: the kernel detaches it.
    let mut held = s
        .command(&["verify", &unit])
        .env("SANDGEN_TEST_HOLD_TRACEE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sandgen");
    let mut line = String::new();
    BufReader::new(held.stderr.take().expect("stderr"))
        .read_line(&mut line)
        .expect("read stderr");
    assert_eq!(
        line,
        format!("sandgen: holding process {pid} stopped (SANDGEN_TEST_HOLD_TRACEE is set)\n")
    );
    let (state, tracer) = trace_state(pid);
    assert_eq!(tracer, held.id(), "sandgen traces it");
    assert!(state.starts_with('t'), "stopped for tracing: {state}");
    held.kill().expect("kill sandgen");
    held.wait().expect("reap sandgen");
    wait_for("the process to run untraced", WAIT, || {
        let (state, tracer) = trace_state(pid);
        (tracer == 0 && !state.starts_with('t')).then_some(())
    });
    assert_running_untraced(pid);

    // Already traced (strace): refused, said so, and the tracer is left alone.
    let mut strace = std::process::Command::new("strace")
        .args(["-qq", "-e", "trace=none", "-p", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("strace");
    wait_for("strace to attach", WAIT, || {
        (trace_state(pid).1 == strace.id()).then_some(())
    });
    let json = verify(&s, &unit, &[], 0);
    assert_eq!(
        statuses(&json)["seccomp.allow"],
        (
            "not_checkable".to_owned(),
            format!(
                "seccomp filter mode, but the filters could not be read: process {pid} is already traced by process {} (a debugger or strace?): its seccomp filters cannot be read while it is; run again when it is not, or give --no-ptrace",
                strace.id()
            )
        )
    );
    assert_eq!(trace_state(pid).1, strace.id(), "strace still traces it");
    strace.kill().expect("kill strace");
    strace.wait().expect("reap strace");
    wait_for("strace to let go", WAIT, || {
        (trace_state(pid).1 == 0).then_some(())
    });
    assert_running_untraced(pid);
}

#[test]
fn restrict_address_families_unix_is_exact_and_a_drop_in_adding_inet_is_caught() {
    let s = Sandgen::new();
    let unit = unit_name("families", "service");
    let _cleanup = s.start(
        &unit,
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[network]\nrestrict_address_families = [\"AF_UNIX\"]\n",
    );
    s.wait_for_exec(&unit);
    let text = s.ok(&["inspect", &unit, "--seccomp"]);
    assert!(text.contains("\n    address families: AF_UNIX\n"), "{text}");
    let json = verify(&s, &unit, &[], 0);
    assert_eq!(
        statuses(&json)["network.restrict_address_families"],
        (
            "pass".to_owned(),
            "socket(2) accepts exactly the address families the policy allows: AF_UNIX".to_owned()
        )
    );
    let _drop_in = DropIn::restart_with(&s, &unit, "[Service]\nRestrictAddressFamilies=AF_INET\n");
    let json = verify(&s, &unit, &[], 1);
    assert_running_untraced(json["main_pid"].as_u64().expect("main_pid"));
    assert_eq!(
        statuses(&json)["network.restrict_address_families"],
        (
            "fail".to_owned(),
            "socket(2) accepts 1 address family the policy does not allow: AF_INET".to_owned()
        )
    );
}

#[test]
fn restrict_namespaces_is_exact_and_a_drop_in_allowing_net_is_caught() {
    let s = Sandgen::new();
    let unit = unit_name("namespaces", "service");
    let _cleanup = s.start(
        &unit,
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[namespaces]\nrestrict_namespaces = true\n",
    );
    s.wait_for_exec(&unit);
    let text = s.ok(&["inspect", &unit, "--seccomp"]);
    assert!(text.contains("\n    namespaces: none\n"), "{text}");
    let json = verify(&s, &unit, &[], 0);
    assert_eq!(
        statuses(&json)["namespaces.restrict_namespaces"],
        (
            "pass".to_owned(),
            "unshare(2) refuses every namespace type".to_owned()
        )
    );
    let _drop_in = DropIn::restart_with(&s, &unit, "[Service]\nRestrictNamespaces=net\n");
    let json = verify(&s, &unit, &[], 1);
    assert_eq!(
        statuses(&json)["namespaces.restrict_namespaces"],
        (
            "fail".to_owned(),
            "unshare(2) accepts 1 namespace type the policy does not allow: net".to_owned()
        )
    );
}

/// `MemoryDenyWriteExecute=` where systemd enforces it with prctl(PR_SET_MDWE): not
/// checkable from outside, and saying why.
fn assert_mdwe_not_checkable(got: &(String, String)) {
    assert_eq!(got.0, "not_checkable", "{}", got.1);
    assert!(
        got.1
            .contains("enforces MemoryDenyWriteExecute= with prctl(PR_SET_MDWE)"),
        "{}",
        got.1
    );
}

#[test]
fn argument_filters_pass_and_a_drop_in_turning_them_off_fails_each() {
    let s = Sandgen::new();
    let unit = unit_name("arguments", "service");
    let _cleanup = s.start(
        &unit,
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[seccomp]\nlock_personality = true\n\
         memory_deny_write_execute = true\nrestrict_realtime = true\nrestrict_suid_sgid = true\n",
    );
    s.wait_for_exec(&unit);
    let json = verify(&s, &unit, &[], 0);
    let got = statuses(&json);
    let expect = [
        (
            "seccomp.lock_personality",
            "personality(PER_LINUX32) (errno 1 (EPERM))",
        ),
        (
            "seccomp.memory_deny_write_execute",
            "mmap(PROT_WRITE|PROT_EXEC) (errno 1 (EPERM)), mprotect(PROT_EXEC) (errno 1 (EPERM))",
        ),
        (
            "seccomp.restrict_realtime",
            "sched_setscheduler(SCHED_FIFO) (errno 1 (EPERM))",
        ),
        (
            "seccomp.restrict_suid_sgid",
            "chmod(S_ISUID) (errno 1 (EPERM)), fchmodat(S_ISGID) (errno 1 (EPERM))",
        ),
    ];
    // systemd 254 and later on Linux 6.3 and later (the guest lane) enforce
    // MemoryDenyWriteExecute= with prctl(PR_SET_MDWE), which no filter shows.
    let mdwe_by_prctl = s.container.systemd >= 254;
    for (key, refused) in expect {
        if mdwe_by_prctl && key == "seccomp.memory_deny_write_execute" {
            assert_mdwe_not_checkable(&got[key]);
            continue;
        }
        assert_eq!(
            got[key],
            (
                "pass".to_owned(),
                format!("on x86-64, the kernel refuses {refused}")
            ),
            "{key}"
        );
    }
    // Turned off, with another filter (SystemCallArchitectures=) so that the process is
    // still in filter mode and the calls themselves must be evaluated.
    let _drop_in = DropIn::restart_with(
        &s,
        &unit,
        "[Service]\nLockPersonality=no\nMemoryDenyWriteExecute=no\nRestrictRealtime=no\nRestrictSUIDSGID=no\nSystemCallArchitectures=native\n",
    );
    let json = verify(&s, &unit, &[], 1);
    let got = statuses(&json);
    let expect = [
        ("seccomp.lock_personality", "personality(PER_LINUX32)"),
        (
            "seccomp.memory_deny_write_execute",
            "mmap(PROT_WRITE|PROT_EXEC) and mprotect(PROT_EXEC)",
        ),
        (
            "seccomp.restrict_realtime",
            "sched_setscheduler(SCHED_FIFO)",
        ),
        (
            "seccomp.restrict_suid_sgid",
            "chmod(S_ISUID) and fchmodat(S_ISGID)",
        ),
    ];
    for (key, runs) in expect {
        if mdwe_by_prctl && key == "seccomp.memory_deny_write_execute" {
            assert_mdwe_not_checkable(&got[key]);
            continue;
        }
        assert_eq!(
            got[key],
            (
                "fail".to_owned(),
                format!("on x86-64, the kernel lets {runs} run")
            ),
            "{key}"
        );
    }
}

#[test]
fn calls_other_directives_deny_are_not_missing_from_an_allow_list() {
    let s = Sandgen::new();
    let unit = unit_name("others", "service");
    let _cleanup = s.start(
        &unit,
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[seccomp]\nallow = [\"@system-service\"]\n\
         [filesystem]\nprivate_devices = true\nprotect_kernel_modules = true\nprotect_kernel_logs = true\n\
         protect_clock = true\n[namespaces]\nrestrict_namespaces = true\nprotect_hostname = true\n",
    );
    s.wait_for_exec(&unit);
    let json = verify(&s, &unit, &[], 0);
    let (status, evidence) = &statuses(&json)["seccomp.allow"];
    assert_eq!(status, "pass", "{evidence}");
    // clone3 and setns are in @system-service, and refused by RestrictNamespaces=yes
    // (without the table of such directives they would be "missing").
    assert!(
        evidence.starts_with("the kernel allows exactly the ")
            && evidence.contains(" system calls the policy allows on x86-64 ")
            && evidence.contains("; RestrictNamespaces= denies clone3 setns"),
        "{evidence}"
    );
}
