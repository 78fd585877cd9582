//! Real strace runs in `--direct` mode: ordinary commands traced as children of the test,
//! their syscall sets mapped onto the host's groups. Needs strace (FACTS: 6.1 is installed);
//! without it these tests fail with the install hint, they do not skip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

use std::collections::BTreeSet;
use std::path::PathBuf;

use sandgen::data::syscalls::SyscallTable;
use sandgen::suggest::{self, SuggestReport};
use sandgen::trace::{
    ChildOutput, CommandRunner, ExitStatusInfo, LocalRunner, StraceTracer, SyscallTracer,
    TraceCommand, TraceError, TraceResult,
};

fn cmd(argv: &[&str]) -> TraceCommand {
    TraceCommand::new(argv.iter().map(|s| (*s).to_owned()).collect()).expect("non-empty argv")
}

fn trace(argv: &[&str]) -> TraceResult {
    StraceTracer::direct(ChildOutput::Null)
        .trace(&cmd(argv))
        .unwrap_or_else(|e| panic!("tracing {argv:?}: {e}"))
}

/// The suggestion for `trace` allows every call it made that systemd knows, nothing outside
/// @system-service that it did not make, and less than @system-service.
fn assert_covers_and_is_tighter(argv: &[&str], trace: &TraceResult, table: &SyscallTable) {
    let s = suggest::suggest(&trace.syscalls, table);
    let allowed = s.allowed_syscalls(table);
    let service = table.expand("@system-service");
    let listable: BTreeSet<String> = trace
        .syscalls
        .iter()
        .filter(|n| table.is_syscall(n))
        .cloned()
        .collect();
    let missing: Vec<&String> = listable.difference(&allowed).collect();
    assert!(missing.is_empty(), "{argv:?}: not allowed: {missing:?}");
    let beyond: Vec<&String> = allowed
        .iter()
        .filter(|n| !service.contains(*n) && !trace.syscalls.contains(*n))
        .collect();
    assert!(beyond.is_empty(), "{argv:?}: allows {beyond:?} unasked");
    assert!(
        allowed.is_subset(&service) && allowed.len() < service.len(),
        "{argv:?}: {} allowed, not a proper subset of @system-service ({})",
        allowed.len(),
        service.len()
    );
    assert!(s.unlisted.is_empty(), "{argv:?}: unlisted {:?}", s.unlisted);
}

#[test]
fn ordinary_commands_are_traced_and_covered() {
    let table =
        sandgen::systemd::host_syscalls().expect("the host's systemd-analyze syscall-filter");
    for argv in [
        &["/bin/true"][..],
        &["sh", "-c", "ls / | wc -l"],
        &["tar", "-C", "/", "-cf", "-", "etc/hostname"],
        &["sh", "-c", "sleep 0.01 & wait; echo done"],
    ] {
        let t = trace(argv);
        for call in ["execve", "exit_group"] {
            assert!(
                t.syscalls.contains(call),
                "{argv:?}: no {call} in {:?}",
                t.syscalls
            );
        }
        assert_eq!(t.exit_status, ExitStatusInfo::exited(0), "{argv:?}");
        assert!(!t.non_native_abi);
        assert_covers_and_is_tighter(argv, &t, &table);
    }
}

#[test]
fn followed_children_show_up() {
    let t = trace(&["sh", "-c", "ls / | wc -l"]);
    // sh forks ls and wc, connected by a pipe.
    assert!(t.processes >= 3, "{} processes", t.processes);
    for call in ["pipe2", "wait4", "getdents64"] {
        assert!(t.syscalls.contains(call), "no {call} in {:?}", t.syscalls);
    }
    assert!(
        t.syscalls.contains("clone")
            || t.syscalls.contains("clone3")
            || t.syscalls.contains("vfork")
    );
}

#[test]
fn the_command_s_own_status_passes_through() {
    let t = trace(&["sh", "-c", "exit 3"]);
    assert_eq!(t.exit_status, ExitStatusInfo::exited(3));
    assert!(t.syscalls.contains("exit_group"));

    let t = trace(&["sh", "-c", "kill -TERM $$"]);
    assert_eq!(
        t.exit_status,
        ExitStatusInfo::Killed {
            signal: "SIGTERM".into(),
            core_dumped: false
        }
    );
    assert!(t.syscalls.contains("kill"));
    assert_eq!(t.exit_status.to_string(), "killed by SIGTERM");
}

#[test]
fn a_missing_strace_names_the_package() {
    let err = StraceTracer::direct(ChildOutput::Null)
        .strace_program("strace-not-installed-here")
        .trace(&cmd(&["/bin/true"]))
        .unwrap_err();
    assert!(matches!(err, TraceError::StraceMissing { .. }));
    assert_eq!(
        err.to_string(),
        "strace is not installed (`strace-not-installed-here` is not in PATH): sandgen records \
         the system calls of a command with it; install it with `apt-get install strace` (or \
         your distribution's strace package)"
    );
}

#[test]
fn a_missing_program_is_reported_before_strace_runs() {
    let err = StraceTracer::direct(ChildOutput::Null)
        .trace(&cmd(&["no-such-program-for-sandgen"]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot trace `no-such-program-for-sandgen`: no program `no-such-program-for-sandgen` in PATH"
    );
}

/// A runner standing in for the transient unit: it runs the argv it is given (strace's) in a
/// service-like environment (`env -i`), and records it.
struct ServiceLikeRunner {
    argv: std::cell::RefCell<Vec<String>>,
}

impl CommandRunner for ServiceLikeRunner {
    fn run(
        &self,
        argv: &[String],
    ) -> Result<ExitStatusInfo, Box<dyn std::error::Error + Send + Sync>> {
        *self.argv.borrow_mut() = argv.to_vec();
        let mut wrapped = vec![
            "/usr/bin/env".to_owned(),
            "-i".to_owned(),
            "PATH=/usr/bin:/bin".to_owned(),
        ];
        wrapped.extend(argv.iter().cloned());
        LocalRunner {
            stdout: ChildOutput::Null,
        }
        .run(&wrapped)
    }
}

#[test]
fn a_runner_gets_the_strace_argv_and_the_trace_file_can_be_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tracer = StraceTracer::new(ServiceLikeRunner {
        argv: Default::default(),
    })
    .trace_dir(dir.path(), None)
    .keep_trace_file(true);
    let t = tracer
        .trace(&cmd(&["sh", "-c", "echo $HOME"]))
        .expect("trace");
    let argv = tracer.runner().argv.borrow().clone();
    assert!(argv[0].ends_with("/strace"), "{argv:?}");
    assert_eq!(argv[1..4], ["-f", "-q", "-o"]);
    assert_eq!(argv[5..], ["--", "sh", "-c", "echo $HOME"]);
    let kept: PathBuf = t.trace_file.clone().expect("kept");
    assert_eq!(PathBuf::from(&argv[4]), kept);
    assert!(kept.starts_with(dir.path()));
    let text = std::fs::read_to_string(&kept).expect("trace file");
    assert!(text.contains("execve(\"/usr/bin/sh\""), "{text}");

    // Not kept: the file is gone afterwards.
    let tracer = StraceTracer::direct(ChildOutput::Null).trace_dir(dir.path(), None);
    let t = tracer.trace(&cmd(&["/bin/true"])).expect("trace");
    assert_eq!(t.trace_file, None);
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(left.len(), 1, "only the kept file remains");
}

#[test]
fn the_report_has_the_json_fields_the_cli_promises() {
    let table =
        sandgen::systemd::host_syscalls().expect("the host's systemd-analyze syscall-filter");
    let command = cmd(&["sh", "-c", "ls / | wc -l"]);
    let t = StraceTracer::direct(ChildOutput::Null)
        .trace(&command)
        .expect("trace");
    let s = suggest::suggest(&t.syscalls, &table);
    let report = SuggestReport::new(&command, &t, &s, table.source()).expect("report");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("json");
    let observed: Vec<String> = t.syscalls.iter().cloned().collect();
    assert_eq!(json["syscalls"], serde_json::json!(observed));
    assert_eq!(json["allow"], serde_json::json!(s.allow));
    assert_eq!(json["exit_status"], serde_json::json!({"code": 0}));
    assert!(["systemd-analyze", "built-in"].contains(&json["groups_source"].as_str().unwrap_or("")));
    assert!(json["system_call_filter"]
        .as_str()
        .is_some_and(|l| l.starts_with("SystemCallFilter=@basic-io @default ")));

    // The text form is TOML whose [seccomp] allow is the list.
    let text = report.to_text();
    let parsed: toml::Table = toml::from_str(&text).expect("text report is TOML");
    let allow: Vec<String> = parsed["seccomp"]["allow"]
        .as_array()
        .expect("allow array")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(allow, s.allow);
    assert!(
        text.contains("# SystemCallFilter=@basic-io @default "),
        "{text}"
    );
}
