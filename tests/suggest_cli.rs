//! `sandgen suggest` end to end, against the real systemd 252 of the test container
//! (`scripts/test.sh` boots it; these tests panic, never skip, without it): commands traced
//! as transient units, the suggested lists checked by running the workloads under them as
//! oneshot units, the closed loop (`--verify`), `--direct`, failures and `--write`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

use sandgen::data::syscalls::SyscallTable;
use serde_json::Value;
use support::sandgen::{Sandgen, SANDGEN};
use support::toml_text::toml_string as toml_str;
use support::{describe, unit_name, wait_for, WAIT};

/// Tests that start units run one at a time: the closed loop reads the refused call from
/// the kernel log, which every filtered run writes to, and each test checks at its end that
/// no transient unit of sandgen's was left behind.
static KERNEL_LOG: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    KERNEL_LOG
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What only these tests ask of sandgen.
trait SuggestCli {
    fn file(&self, name: &str, text: &str) -> PathBuf;
    fn assert_no_units_left(&self);
}

impl SuggestCli for Sandgen {
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// No transient unit of sandgen's is left behind, running or failed.
    fn assert_no_units_left(&self) {
        let out = self.container.systemctl(&[
            "list-units",
            "--all",
            "--plain",
            "--no-legend",
            "sandgen-suggest-*",
            "sandgen-verify-*",
        ]);
        let listed = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(listed.trim().is_empty(), "units left behind:\n{listed}");
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

/// The system call groups of the container's systemd, as sandgen picks them for it: the
/// host's systemd-analyze when it is the same version, else sandgen's built-in table.
fn target_syscalls() -> &'static SyscallTable {
    static TABLE: OnceLock<SyscallTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let said = support::Container::from_env().exec_ok(&["systemctl", "--version"]);
        let version = sandgen::systemd::parse_version(&said)
            .unwrap_or_else(|| panic!("not `systemctl --version`: {said}"));
        sandgen::systemd::syscalls_for(version)
    })
}

/// Every call `allow` lets through on the target's table (plus @default, which systemd adds).
fn allowed(allow: &[String]) -> BTreeSet<String> {
    let table = target_syscalls();
    let mut out = table.expand("@default");
    for entry in allow {
        if entry.starts_with('@') {
            out.extend(table.expand(entry));
        } else {
            out.insert(entry.clone());
        }
    }
    out
}

/// The list allows nothing outside @system-service and less than it.
fn assert_tighter_than_system_service(what: &str, allow: &[String]) {
    let service = target_syscalls().expand("@system-service");
    let allowed = allowed(allow);
    let beyond: Vec<&String> = allowed.difference(&service).collect();
    assert!(
        beyond.is_empty(),
        "{what}: allows {beyond:?} outside @system-service"
    );
    assert!(
        allowed.len() < service.len(),
        "{what}: {} calls allowed, @system-service has {}",
        allowed.len(),
        service.len()
    );
    assert!(
        !allow
            .iter()
            .any(|a| a == "@system-service" || a == "@known"),
        "{what}: {allow:?}"
    );
}

/// Run `argv` as an installed oneshot unit whose policy has `[seccomp] allow = allow`,
/// rendered by sandgen. `Ok(())` when it exited with status 0 (for `Type=oneshot`, the start
/// job succeeds only then), else the unit's Result and exit as systemd reports them (a failed
/// unit stays loaded; a successful one is unloaded once inactive).
fn run_as_oneshot(s: &Sandgen, stem: &str, argv: &[&str], allow: &[String]) -> Result<(), String> {
    let unit = unit_name(stem, "service");
    let exec: Vec<String> = argv.iter().map(|a| toml_str(a)).collect();
    let allow: Vec<String> = allow.iter().map(|a| toml_str(a)).collect();
    let policy = s.file(
        &format!("{stem}.toml"),
        &format!(
            "[service]\ntype = \"oneshot\"\nexec = [{}]\n\n[seccomp]\nallow = [{}]\n",
            exec.join(", "),
            allow.join(", ")
        ),
    );
    let text = s.ok(&["render", policy.to_str().expect("utf-8")]);
    let _guard = s.container.install_unit(&unit, &text);
    let start = s.container.systemctl(&["start", &unit]);
    if start.status.success() {
        return Ok(());
    }
    let props = s
        .container
        .show(&unit, &["Result", "ExecMainCode", "ExecMainStatus"]);
    Err(format!("{props:?}: {}", describe(&start)))
}

#[test]
fn ordinary_workloads_finish_under_their_suggested_list_as_oneshot_units() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    let out = format!("/run/sandgen-test-{}", std::process::id());
    let tgz = format!("{out}-etc.tgz");
    let workloads: Vec<(&str, Vec<&str>)> = vec![
        (
            "pipeline",
            vec![
                "/bin/sh",
                "-c",
                "ls -l /usr/bin | sort -k5 -n | tail -3 | wc -l",
            ],
        ),
        (
            "python",
            vec![
                "python3",
                "-c",
                "import json, sqlite3, hashlib; db = sqlite3.connect(':memory:'); \
                 db.execute('create table t(x)'); \
                 db.executemany('insert into t values (?)', [(i,) for i in range(100)]); \
                 n = db.execute('select sum(x) from t').fetchone()[0]; \
                 print(json.dumps({'sum': n, 'md5': hashlib.md5(b'x').hexdigest()}))",
            ],
        ),
        (
            "tar",
            vec![
                "tar",
                "-C",
                "/",
                "-czf",
                &tgz,
                "etc/os-release",
                "etc/hostname",
            ],
        ),
        (
            "gzip",
            vec![
                "/bin/sh",
                "-c",
                "seq 1 20000 | gzip -9 | gzip -d | sha256sum",
            ],
        ),
        (
            "find",
            vec![
                "find",
                "/usr/share/doc",
                "-maxdepth",
                "2",
                "-name",
                "copyright",
                "-newer",
                "/etc/hostname",
            ],
        ),
        ("du", vec!["du", "-s", "/usr/share/man", "/usr/include"]),
    ];
    for (stem, argv) in &workloads {
        let mut args = vec!["suggest", "--json", "--"];
        args.extend(argv.iter().copied());
        let report = s.json(&args);
        assert_eq!(report["mode"], "unit", "{stem}");
        assert_eq!(
            report["exit_status"],
            serde_json::json!({"code": 0}),
            "{stem}: {report}"
        );
        assert_eq!(
            report["groups_source"],
            sandgen::suggest::groups_source_name(target_syscalls().source()),
            "{stem}"
        );
        let allow = strings(&report["allow"]);
        let observed: BTreeSet<String> = strings(&report["syscalls"]).into_iter().collect();
        let missing: Vec<&String> = observed
            .iter()
            .filter(|c| !allowed(&allow).contains(*c))
            .collect();
        assert!(
            missing.is_empty(),
            "{stem}: observed but not allowed: {missing:?}"
        );
        assert_tighter_than_system_service(stem, &allow);
        assert!(
            report["system_call_filter"]
                .as_str()
                .is_some_and(|l| l == format!("SystemCallFilter={}", allow.join(" "))),
            "{stem}: {}",
            report["system_call_filter"]
        );

        // The list, independently of sandgen's own check: the rendered unit finishes.
        let mut resolved = argv.clone();
        let python = "/usr/bin/python3";
        let tar = "/usr/bin/tar";
        let find = "/usr/bin/find";
        let du = "/usr/bin/du";
        resolved[0] = match argv[0] {
            "python3" => python,
            "tar" => tar,
            "find" => find,
            "du" => du,
            other => other,
        };
        if let Err(e) = run_as_oneshot(&s, stem, &resolved, &allow) {
            panic!("{stem} under {allow:?} did not finish with status 0: {e}");
        }
    }
    let _ = std::fs::remove_file(s.root().join(tgz.trim_start_matches('/')));
    s.assert_no_units_left();
}

#[test]
fn direct_mode_traces_a_child_of_sandgen_and_keeps_stdout_for_the_report() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    let out = s.run(&[
        "suggest",
        "--direct",
        "--json",
        "--",
        "/bin/sh",
        "-c",
        "echo from-the-command; ls / >/dev/null",
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let report: Value =
        serde_json::from_slice(&out.stdout).expect("stdout is only the JSON report");
    assert_eq!(report["mode"], "direct");
    assert_eq!(report["exit_status"], serde_json::json!({"code": 0}));
    assert_eq!(
        report["command"],
        serde_json::json!(["/bin/sh", "-c", "echo from-the-command; ls / >/dev/null"])
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("from-the-command"),
        "the command's output goes to stderr: {stderr}"
    );
    assert!(strings(&report["syscalls"]).contains(&"getdents64".to_owned()));
    assert_tighter_than_system_service("direct", &strings(&report["allow"]));

    // The text form is the [seccomp] snippet, valid TOML, with the directive as a comment.
    let text = s.ok(&["suggest", "--direct", "--", "/bin/true"]);
    let parsed: toml::Table = toml::from_str(&text).expect("the text report is TOML");
    assert!(parsed["seccomp"]["allow"].is_array(), "{text}");
    assert!(text.contains("\n# SystemCallFilter=@"), "{text}");
}

/// A PATH with systemctl and systemd-analyze but no strace.
fn path_without_strace(dir: &Path) -> String {
    for program in ["systemctl", "systemd-analyze"] {
        let target = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(program))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("{program} is installed"));
        std::os::unix::fs::symlink(target, dir.join(program)).expect("symlink");
    }
    dir.display().to_string()
}

#[test]
fn a_missing_strace_is_named_with_how_to_install_it() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    let bin = tempfile::tempdir().expect("tempdir");
    let out = s
        .command(&[
            "suggest",
            "--direct",
            "--tracer",
            "strace",
            "--",
            "/bin/true",
        ])
        .env("PATH", path_without_strace(bin.path()))
        .output()
        .expect("sandgen runs");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(out.stdout.is_empty(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.ends_with(
            "error: strace is not installed (`strace` is not in PATH): sandgen records the system \
             calls of a command with it; install it with `apt-get install strace` (or your \
             distribution's strace package)\n"
        ),
        "{stderr}"
    );

    // In a unit: strace is looked for on the system systemd runs it on.
    let out = s.fails_output(&[
        "suggest",
        "--tracer",
        "strace",
        "--strace",
        "strace-not-installed",
        "--",
        "/bin/true",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: strace is not installed (`strace-not-installed` is not in PATH)")
            && stderr.contains("apt-get install strace"),
        "{stderr}"
    );

    // The default tracer, as root on a kernel with BTF, is the BPF recorder: no strace needed.
    let report = s.json(&[
        "suggest",
        "--json",
        "--strace",
        "strace-not-installed",
        "--",
        "/bin/true",
    ]);
    assert!(
        strings(&report["syscalls"]).contains(&"execve".to_owned()),
        "{report}"
    );
    s.assert_no_units_left();
}

#[test]
fn a_failing_workload_is_reported_with_its_status_not_profiled() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    let policy_text = "# keep me\n[service]\nexec = [\"/bin/sh\", \"-c\", \"exit 3\"]\n\n[seccomp]\nallow = [\"@system-service\"]\n";
    let policy = s.file("fails.toml", policy_text);
    let policy = policy.to_str().expect("utf-8");
    for args in [
        &["suggest", "--json", "--", "/bin/sh", "-c", "exit 3"][..],
        &[
            "suggest", "--json", "--policy", policy, "--write", "--verify",
        ],
        &[
            "suggest", "--json", "--direct", "--", "/bin/sh", "-c", "exit 3",
        ],
    ] {
        let out = s.fails_output(args);
        let report: Value = serde_json::from_slice(&out.stdout).expect("the report is printed");
        assert_eq!(
            report["exit_status"],
            serde_json::json!({"code": 3}),
            "{args:?}"
        );
        assert!(report["verify"].is_null(), "{args:?}: nothing verified");
        assert!(report["written"].is_null(), "{args:?}: nothing written");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "error: `/bin/sh -c 'exit 3'` exited with status 3: a list traced from a failed \
                 run covers only what it did before it failed, so nothing was verified or \
                 written; fix the command, or profile the failure on purpose with \
                 --allow-failure\n"
            ),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(policy).expect("policy"),
        policy_text
    );

    // A signal is reported as such.
    let out = s.fails_output(&["suggest", "--", "/bin/sh", "-c", "kill -SEGV $$"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("# `/bin/sh -c 'kill -SEGV $$'` killed by SIGSEGV"),
        "{text}"
    );
    assert!(
        text.contains("# WARNING: the command killed by SIGSEGV"),
        "{text}"
    );

    // On purpose: profiled, and the status still passes through.
    let report = s.json(&[
        "suggest",
        "--json",
        "--allow-failure",
        "--",
        "/bin/sh",
        "-c",
        "exit 3",
    ]);
    assert_eq!(report["exit_status"], serde_json::json!({"code": 3}));
    s.assert_no_units_left();
}

const TIGHT_POLICY: &str = r#"# A shell pipeline in a tight sandbox.
[service]
description = "pipeline"   # shown by systemctl status
exec = ["/bin/sh", "-c", "ls / | wc -l; id -un"]
user = "daemon"

[filesystem]
# Read-only everything, a private /tmp: the trace file must still be writable.
protect_system = "strict"
private_tmp = true
protect_home = true

[seccomp]
# Replaced by `sandgen suggest --write`; this comment stays.
allow = [
    "@system-service", # far too wide
]
architectures = ["native"]  # and this one
"#;

#[test]
fn write_replaces_only_the_list_keeping_comments_and_the_sandbox_applies() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    let policy = s.file("tight.toml", TIGHT_POLICY);
    let p = policy.to_str().expect("utf-8");
    let report = s.json(&["suggest", "--json", "--policy", p, "--verify", "--write"]);
    assert_eq!(report["verify"]["passed"], true, "{report}");
    assert_eq!(report["written"], p);
    let allow = strings(&report["allow"]);
    assert_tighter_than_system_service("tight", &allow);

    let written = std::fs::read_to_string(&policy).expect("policy");
    let expected_list: String = allow
        .iter()
        .map(|a| format!("\n    {},", toml_str(a)))
        .collect();
    let expected =
        TIGHT_POLICY.replace("\n    \"@system-service\", # far too wide", &expected_list);
    assert_eq!(
        written, expected,
        "only the list changed, in the same layout"
    );
    let out = Command::new(SANDGEN)
        .args(["check", p])
        .output()
        .expect("sandgen check");
    assert!(out.status.success(), "{}", describe(&out));

    // The trace ran as the policy's user: `id -un` printed daemon to the unit's journal.
    // journald reads the unit's stdout stream on its own time: wait for the line.
    wait_for("`daemon` in the journal of the traced unit", WAIT, || {
        let journal = s.container.exec_ok(&[
            "journalctl",
            "--no-pager",
            "-o",
            "cat",
            "-u",
            "sandgen-suggest-*",
            "--since",
            "-5min",
        ]);
        journal.lines().any(|l| l == "daemon").then_some(())
    });

    // A policy that does not validate is refused before anything runs.
    let bad_text = TIGHT_POLICY.replace("user = \"daemon\"", "usr = \"daemon\"");
    let bad = s.file("bad.toml", &bad_text);
    let out = s.fails_output(&[
        "suggest",
        "--policy",
        bad.to_str().expect("utf-8"),
        "--write",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown key `usr`"), "{stderr}");
    assert!(!stderr.contains("tracing"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&bad).expect("bad"), bad_text);

    // --write needs --policy.
    let out = s.run(&["suggest", "--write", "--", "/bin/true"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    s.assert_no_units_left();
}

#[test]
fn verify_widens_a_list_that_a_second_run_outgrows() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    // Traced, the marker does not exist yet; in the verification run it does, and the
    // command makes calls the trace never saw (mkdir's).
    let tag = unit_name("marker", "d");
    let marker = format!("/run/{tag}-m");
    let dir = format!("/run/{tag}");
    let script = format!("test -e {marker} && mkdir -p {dir}; touch {marker}");
    // --exact: the widening is what this test is about; libc variants could already allow
    // the calls the trace missed.
    let report = s.json(&[
        "suggest", "--json", "--exact", "--verify", "--", "/bin/sh", "-c", &script,
    ]);
    let v = &report["verify"];
    assert_eq!(v["passed"], true, "{report}");
    let widened = strings(&report["widened"]);
    assert!(
        widened.iter().any(|c| c == "mkdir" || c == "mkdirat"),
        "widened by {widened:?}"
    );
    let rounds = v["rounds"].as_array().expect("rounds");
    assert!(rounds.len() >= 2, "{v}");
    assert_eq!(rounds[0]["evidence"], "kernel log", "{v}");
    assert!(
        rounds[0]["records"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{v}"
    );
    let last = rounds.last().expect("a last round");
    assert_eq!(last["refused"], serde_json::json!([]));
    assert_eq!(last["exit_status"], serde_json::json!({"code": 0}));
    assert!(s.container.exists(&dir), "the last run got as far as mkdir");
    for w in &widened {
        assert!(
            strings(&report["allow"]).contains(w),
            "{w} is in the final list"
        );
    }

    // The text form says what happened.
    let _ = s.container.exec(&["rm", "-rf", &marker, &dir]);
    let text = s.ok(&["suggest", "--verify", "--", "/bin/sh", "-c", &script]);
    assert!(text.starts_with("# Verified: `/bin/sh -c "), "{text}");
    assert!(
        text.contains("#   run 1: exited with status 0; refused "),
        "{text}"
    );
    assert!(text.contains("(kernel log)"), "{text}");
    assert!(
        text.contains("# Added after the trace, refused in a verification run: "),
        "{text}"
    );
    let _ = s.container.exec(&["rm", "-rf", &marker, &dir]);
    s.assert_no_units_left();
}

#[test]
fn verify_catches_what_a_direct_trace_misses_in_a_service() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    // From a shell, HOME is set; as a service it is not, and Python looks the user up
    // through NSS, which connects to a socket (FACTS: measured with sqlite scripts).
    let script = "import os, sqlite3\nsqlite3.connect(':memory:').execute('select 1')\nprint(os.path.expanduser('~'))";
    let report = s.json(&[
        "suggest",
        "--direct",
        "--verify",
        "--json",
        "--",
        "/usr/bin/python3",
        "-c",
        script,
    ]);
    assert_eq!(report["mode"], "direct");
    assert!(
        !strings(&report["syscalls"]).contains(&"socket".to_owned()),
        "{report}"
    );
    assert_eq!(report["verify"]["passed"], true, "{report}");
    assert_eq!(strings(&report["widened"]), ["socket", "connect"]);
    let first = &report["verify"]["rounds"][0];
    assert_eq!(first["exit_status"]["signal"], "SIGSYS", "{first}");
    s.assert_no_units_left();
}

#[test]
fn verify_that_cannot_pass_says_why() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    // Succeeds once, then fails for a reason that is not the filter.
    let marker = format!("/run/{}", unit_name("once", "m"));
    let script = format!("test ! -e {marker} && touch {marker}");
    let out = s.fails_output(&[
        "suggest", "--verify", "--json", "--", "/bin/sh", "-c", &script,
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["verify"]["passed"], false);
    let message = report["verify"]["message"].as_str().expect("message");
    assert!(
        message.contains("exited with status 1 under the suggested filter, not exited with status 0 as when traced, and neither the kernel log nor a second trace names a call the list refuses"),
        "{message}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: verification failed: "), "{stderr}");
    let _ = s.container.exec(&["rm", "-f", &marker]);
    s.assert_no_units_left();
}

#[test]
fn an_installed_unit_is_profiled_in_its_own_sandbox() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    let unit = unit_name("installed", "service");
    let stem = unit.trim_end_matches(".service");
    let policy = s.file(
        &format!("{stem}.toml"),
        "[service]\ntype = \"oneshot\"\nexec = [\"/bin/sh\", \"-c\", \"tr a-z A-Z < /etc/os-release | wc -l\"]\n\
         [filesystem]\nprivate_tmp = true\nprotect_system = \"strict\"\n",
    );
    let unit_file = s.root().join("etc/systemd/system").join(&unit);
    s.ok(&["install", policy.to_str().expect("utf-8")]);
    struct Remove<'a>(&'a Sandgen, PathBuf);
    impl Drop for Remove<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.1);
            let _ = self.0.container.systemctl(&["daemon-reload"]);
        }
    }
    let _remove = Remove(&s, unit_file);
    let report = s.json(&["suggest", "--json", "--verify", stem]);
    assert_eq!(
        report["command"],
        serde_json::json!(["/bin/sh", "-c", "tr a-z A-Z < /etc/os-release | wc -l"])
    );
    assert_eq!(report["verify"]["passed"], true, "{report}");
    assert_tighter_than_system_service("installed", &strings(&report["allow"]));

    // A unit sandgen did not write has no policy to profile.
    let foreign = unit_name("foreign", "service");
    let _guard = s
        .container
        .install_unit(&foreign, "[Service]\nType=oneshot\nExecStart=/bin/true\n");
    let out = s.fails_output(&["suggest", foreign.trim_end_matches(".service")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "error: {foreign} (/etc/systemd/system/{foreign}) was not rendered by sandgen"
        )),
        "{stderr}"
    );
    s.assert_no_units_left();
}

#[test]
fn a_service_that_never_exits_is_profiled_for_a_while() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    let heat = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/heat.toml");
    // --stop-after counts from dd's exec, not from the start job: strace alone can take more
    // than 2 s to start dd in an emulated guest on a saturated machine, and the trace must
    // still hold dd's reads and writes. heat.toml's comment profiles heat with 2 s, as here.
    let report = s.json(&[
        "suggest",
        "--json",
        "--policy",
        heat.to_str().expect("utf-8"),
        "--stop-after",
        "2",
        "--verify",
    ]);
    assert_eq!(
        report["command"],
        serde_json::json!(["/bin/dd", "if=/dev/zero", "of=/dev/null"])
    );
    assert_eq!(
        report["exit_status"],
        serde_json::json!({"signal": "SIGTERM", "core_dumped": false})
    );
    assert_eq!(report["verify"]["passed"], true, "{report}");
    let allow = strings(&report["allow"]);
    assert_tighter_than_system_service("heat", &allow);
    for call in ["read", "write"] {
        assert!(allowed(&allow).contains(call), "{call} in {allow:?}");
    }
    s.assert_no_units_left();
}

#[test]
fn verify_without_the_kernel_s_records_falls_back_to_a_second_trace() {
    let s = Sandgen::new();
    let _serial = one_at_a_time();
    // Without CAP_AUDIT_READ (the audit multicast group) and CAP_SYSLOG (/dev/kmsg, with
    // kernel.dmesg_restrict=1 as here), sandgen cannot read which call was refused.
    let restricted =
        std::fs::read_to_string("/proc/sys/kernel/dmesg_restrict").is_ok_and(|v| v.trim() == "1");
    assert!(
        restricted,
        "this test needs kernel.dmesg_restrict=1 (Debian's default)"
    );
    let tag = unit_name("fallback", "d");
    let marker = format!("/run/{tag}-m");
    let script = format!("test -e {marker} && mkdir -p /run/{tag}; touch {marker}");
    let out = Command::new("setpriv")
        .args([
            "--bounding-set=-audit_read,-syslog",
            "--inh-caps=-audit_read,-syslog",
            "--",
            SANDGEN,
            "suggest",
            "--verify",
            "--json",
            "--",
            "/bin/sh",
            "-c",
            &script,
        ])
        .current_dir(s.dir.path())
        .env("SANDGEN_BUS", &s.container.bus)
        .env("SANDGEN_ROOT", s.root())
        .output()
        .expect("setpriv runs sandgen");
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "sandgen: cannot read the kernel's audit records (from its audit multicast group \
             or /dev/kmsg: Operation not permitted (os error 1)); refused calls are looked for \
             with a second trace\n"
        ),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let v = &report["verify"];
    assert_eq!(v["passed"], true, "{report}");
    assert_eq!(v["rounds"][0]["evidence"], "second trace", "{v}");
    assert!(
        strings(&report["widened"])
            .iter()
            .any(|c| c == "mkdir" || c == "mkdirat"),
        "{report}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("; the kernel log could not say whether a call was refused, a second trace found no call the list lacks")),
        "{v}"
    );
    let _ = s
        .container
        .exec(&["rm", "-rf", &marker, &format!("/run/{tag}")]);
    s.assert_no_units_left();
}
