//! `sandgen learn` and `sandgen profile` against the real systemd of the test lane: a running
//! unit is recorded in place (its main PID unchanged), what it does only when poked shows up
//! after the poke, tasks outside it never do, recordings merge and converge, and `--start`
//! records a oneshot's life from its exec.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};
use support::sandgen::{Sandgen, SANDGEN};
use support::{describe, unit_name, wait_for, WAIT};

/// A shell service that tests for `TRIGGER` every 20 ms and, when it appears, runs the
/// `times` builtin (a `times()` call of the main process itself, which exec'd long before
/// any recording) and `sync` (a child's `sync()`), calls it makes at no other time, then
/// removes the trigger and creates `DONE`.
fn poked_server(trigger: &str, done: &str) -> String {
    format!(
        "# a server poked through a file\n\
         [service]\n\
         exec = [\"/bin/sh\", \"-c\", \"while :; do if [ -e \\\"$0\\\" ]; then times >/dev/null; sync; rm -f \
         \\\"$0\\\"; touch \\\"$1\\\"; fi; sleep 0.02; done\", \"{trigger}\", \"{done}\"]\n"
    )
}

/// A shell service that runs the `umask` builtin (the `umask()` call) in a loop and writes
/// its iteration to `MARK`.
fn umask_loop(mark: &str) -> String {
    format!(
        "[service]\n\
         exec = [\"/bin/sh\", \"-c\", \"i=0; while :; do umask >/dev/null; i=$((i+1)); echo \
         $i > \\\"$0.new\\\"; mv \\\"$0.new\\\" \\\"$0\\\"; sleep 0.02; done\", \"{mark}\"]\n"
    )
}

fn profile_dir(s: &Sandgen) -> PathBuf {
    s.dir.path().join("profiles")
}

/// `sandgen learn ARGS` with the scratch profile directory.
fn learn(s: &Sandgen, args: &[&str]) -> std::process::Output {
    let mut full = vec!["learn"];
    full.extend_from_slice(args);
    s.command(&full)
        .env("SANDGEN_PROFILE_DIR", profile_dir(s))
        .output()
        .expect("sandgen runs")
}

fn learn_ok(s: &Sandgen, args: &[&str]) -> String {
    let out = learn(s, args);
    assert!(out.status.success(), "learn {args:?}: {}", describe(&out));
    String::from_utf8(out.stdout).expect("utf-8")
}

fn profile_of(s: &Sandgen, unit: &str) -> Value {
    let stem = unit.trim_end_matches(".service");
    let path = profile_dir(s).join(format!("{stem}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("a JSON profile")
}

fn names(profile: &Value) -> BTreeSet<String> {
    profile["syscalls"]
        .as_array()
        .expect("syscalls")
        .iter()
        .filter(|s| s["abi"] == "native")
        .map(|s| s["name"].as_str().expect("name").to_owned())
        .collect()
}

/// `sandgen learn NAME` (no --for) started in the background, once it says it records.
struct Background {
    child: Child,
}

impl Background {
    fn start(s: &Sandgen, unit: &str) -> Self {
        let mut child = s
            .command(&["learn", unit])
            .env("SANDGEN_PROFILE_DIR", profile_dir(s))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sandgen runs");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = stderr.read_line(&mut line).expect("read stderr");
            assert!(
                n > 0,
                "sandgen learn ended before it recorded: {seen}{}",
                describe(&child.wait_with_output().expect("wait"))
            );
            seen.push_str(&line);
            if line.starts_with(&format!("sandgen: recording {unit} (main PID ")) {
                break;
            }
        }
        Self { child }
    }

    /// Ctrl-C, and its output.
    fn interrupt(self) -> String {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
        let out = self.child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", describe(&out));
        String::from_utf8(out.stdout).expect("utf-8")
    }
}

/// The number a mark file holds, read inside the container (0 before it exists).
fn mark(s: &Sandgen, path: &str) -> u64 {
    let out = s.container.exec(&["cat", path]);
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn learn_records_a_running_unit_in_place_and_sees_what_a_poke_makes_it_do() {
    let s = Sandgen::new();
    let unit = unit_name("learn-poke", "service");
    let trigger = format!("/run/{unit}.trigger");
    let done = format!("/run/{unit}.done");
    let _cleanup = s.start(&unit, &poked_server(&trigger, &done));
    let main_pid = s.wait_for_exec(&unit);
    // The loop runs: it has stat'ed the trigger at least once since... its exec is enough,
    // the recording below lasts over many 20 ms rounds.
    let first = learn_ok(&s, &[&unit, "--for", "1s"]);
    assert!(
        first.starts_with(&format!("{unit}: recorded "))
            && first.contains(&format!(
                "(its time was up), main PID {main_pid} unchanged: "
            )),
        "{first}"
    );
    let before = names(&profile_of(&s, &unit));
    assert!(
        before.contains("newfstatat") || before.contains("stat"),
        "the loop's stat of the trigger: {before:?}"
    );
    for call in ["times", "sync"] {
        assert!(!before.contains(call), "{call} before any poke: {before:?}");
    }

    let running = Background::start(&s, &unit);
    s.container.exec_ok(&["touch", &trigger]);
    wait_for(&format!("{done} to appear"), WAIT, || {
        s.container.exists(&done).then_some(())
    });
    let second = running.interrupt();
    assert!(
        second.starts_with(&format!("{unit}: recorded "))
            && second.contains(&format!(
                "(it was interrupted), main PID {main_pid} unchanged: "
            )),
        "{second}"
    );
    let new_line = second
        .lines()
        .find(|l| l.starts_with("new: "))
        .unwrap_or_else(|| panic!("no new calls: {second}"));
    for call in ["times", "sync"] {
        assert!(
            new_line.split([' ', ',']).any(|w| w == call),
            "{call}: {second}"
        );
    }
    let profile = profile_of(&s, &unit);
    assert!(names(&profile).contains("times"), "{profile}");
    let times = profile["syscalls"]
        .as_array()
        .expect("syscalls")
        .iter()
        .find(|e| e["name"] == "times")
        .expect("times");
    // One poke, seen by one recording.
    assert_eq!(times["recordings"], json!(1), "{times}");
    assert_eq!(
        profile["recordings"].as_array().expect("recordings").len(),
        2
    );
    assert_eq!(profile["recordings"][1]["ended"], "interrupted");
    assert_eq!(profile["recordings"][0]["armed"], "running");
    // Nothing was restarted.
    assert_eq!(s.container.property(&unit, "MainPID"), main_pid.to_string());
    assert_eq!(s.container.property(&unit, "NRestarts"), "0");
}

#[test]
fn tasks_outside_the_unit_never_show_up_in_its_profile() {
    let s = Sandgen::new();
    let target = unit_name("learn-target", "service");
    let other = unit_name("learn-other", "service");
    let trigger = format!("/run/{target}.trigger");
    let done = format!("/run/{target}.done");
    let other_mark = format!("/run/{other}.mark");
    let _t = s.start(&target, &poked_server(&trigger, &done));
    let _o = s.start(&other, &umask_loop(&other_mark));
    s.wait_for_exec(&target);
    s.wait_for_exec(&other);
    // A host process making a call the target never makes.
    let host_mark = s.dir.path().join("host.mark");
    let mut host = Command::new("python3")
        .args([
            "-c",
            &format!(
                "import os, time\ni = 0\nwhile True:\n    os.getsid(0); i += 1\n    \
                 open('{0}.new', 'w').write(str(i)); os.rename('{0}.new', '{0}')\n    \
                 time.sleep(0.02)\n",
                host_mark.display()
            ),
        ])
        .spawn()
        .expect("python3");
    let host_count = |p: &Path| -> u64 {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0)
    };

    let running = Background::start(&s, &target);
    // Both made their calls while the recorder was attached.
    let (o, h) = (mark(&s, &other_mark), host_count(&host_mark));
    wait_for("the other unit and the host process to loop", WAIT, || {
        (mark(&s, &other_mark) > o + 2 && host_count(&host_mark) > h + 2).then_some(())
    });
    // And the target did something too: the recording is not merely empty.
    s.container.exec_ok(&["touch", &trigger]);
    wait_for(&format!("{done} to appear"), WAIT, || {
        s.container.exists(&done).then_some(())
    });
    let out = running.interrupt();
    let _ = host.kill();
    let _ = host.wait();
    let seen = names(&profile_of(&s, &target));
    assert!(
        seen.contains("times"),
        "the target's own call: {seen:?}\n{out}"
    );
    for foreign in ["umask", "getsid"] {
        assert!(
            !seen.contains(foreign),
            "{foreign} is not the target's: {seen:?}"
        );
    }
}

#[test]
fn recordings_with_nothing_new_converge() {
    let s = Sandgen::new();
    let unit = unit_name("learn-converge", "service");
    let trigger = format!("/run/{unit}.never");
    let _cleanup = s.start(&unit, &poked_server(&trigger, "/run/unused"));
    s.wait_for_exec(&unit);
    let first = learn_ok(&s, &[&unit, "--for", "0.5s"]);
    assert!(
        first.contains("\nnot converged: the last recording found "),
        "{first}"
    );
    let mut last = String::new();
    for _ in 0..3 {
        last = learn_ok(&s, &[&unit, "--for", "0.5s"]);
    }
    let line = last.lines().last().expect("a line");
    assert!(
        line.starts_with("converged: 0 new system calls in the last 3 recordings / last "),
        "{last}"
    );
    // `profile show` says the same, with the recordings.
    let stem = unit.trim_end_matches(".service");
    let show = s
        .command(&["profile", "show", stem])
        .env("SANDGEN_PROFILE_DIR", profile_dir(&s))
        .output()
        .expect("runs");
    assert!(show.status.success(), "{}", describe(&show));
    let show = String::from_utf8(show.stdout).expect("utf-8");
    assert!(show.starts_with(&format!("{unit}: ")), "{show}");
    assert!(
        show.contains(
            " from 4 recordings\nconverged: 0 new system calls in the last 3 recordings / last "
        ),
        "{show}"
    );
    assert_eq!(show.matches("  time-up  ").count(), 4, "{show}");
}

#[test]
fn start_records_a_oneshot_from_its_exec() {
    let s = Sandgen::new();
    let unit = unit_name("learn-oneshot", "service");
    let policy = "[service]\n\
                  type = \"oneshot\"\n\
                  exec = [\"/usr/bin/python3\", \"-c\", \"import os; os.getpriority(os.PRIO_PROCESS, 0)\"]\n\
                  [filesystem]\n\
                  private_tmp = true\n";
    let file = s.policy(&unit, policy);
    let _cleanup = support::sandgen::Cleanup(&s, unit.clone());
    s.ok(&["install", &file]);
    let out = learn_ok(&s, &[&unit, "--start"]);
    assert!(
        out.starts_with(&format!("{unit}: recorded ")) && out.contains("(the unit stopped)"),
        "{out}"
    );
    let seen = names(&profile_of(&s, &unit));
    for call in ["execve", "getpriority", "exit_group"] {
        assert!(seen.contains(call), "{call}: {seen:?}");
    }
    // systemd's set-up in the forked child, before the exec, is not the unit's: PrivateTmp=
    // took a mount namespace and mounts.
    for call in ["unshare", "mount"] {
        assert!(!seen.contains(call), "{call}: {seen:?}");
    }
    let profile = profile_of(&s, &unit);
    assert_eq!(profile["recordings"][0]["armed"], "start");
    assert_eq!(profile["recordings"][0]["ended"], "unit-stopped");
}

#[test]
fn suggest_and_write_map_the_profile_like_suggest() {
    let s = Sandgen::new();
    let unit = unit_name("learn-write", "service");
    let trigger = format!("/run/{unit}.trigger");
    let done = format!("/run/{unit}.done");
    let _cleanup = s.start(&unit, &poked_server(&trigger, &done));
    s.wait_for_exec(&unit);
    let policy = s
        .dir
        .path()
        .join(format!("{}.toml", unit.trim_end_matches(".service")));
    let policy_arg = policy.display().to_string();
    let out = learn_ok(
        &s,
        &[&unit, "--for", "1s", "--write", "--policy", &policy_arg],
    );
    assert!(out.contains("\n[seccomp]\nallow = ["), "{out}");
    assert!(out.contains("\n# SystemCallFilter="), "{out}");
    let text = std::fs::read_to_string(&policy).expect("policy");
    assert!(
        text.starts_with("# a server poked through a file\n"),
        "{text}"
    );
    assert!(text.contains("\n[seccomp]\nallow = ["), "{text}");
    // The list is the one suggest makes for the same calls: @default is always in.
    assert!(text.contains("\"@default\""), "{text}");
}

#[test]
fn profile_merge_is_the_union_with_counts_added() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = |start: u64| {
        json!({"started_unix_ms": start, "duration_ms": 1000, "ended": "time-up",
               "armed": "running", "host": "h", "syscalls": 2, "count": 3})
    };
    let entry = |name: &str, first: u64, count: u64| {
        json!({"name": name, "abi": "native", "first_seen_unix_ms": first,
               "last_seen_unix_ms": first + 1000, "recordings": 1, "count": count})
    };
    let a = json!({"format": "sandgen-profile/1", "unit": "w.service",
        "syscalls": [entry("read", 1000, 2), entry("write", 1000, 1)], "recordings": [rec(1000)]});
    let b = json!({"format": "sandgen-profile/1", "unit": "w.service",
        "syscalls": [entry("read", 5000, 5), entry("accept4", 5000, 1)], "recordings": [rec(5000)]});
    let (pa, pb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&pa, a.to_string()).expect("write");
    std::fs::write(&pb, b.to_string()).expect("write");
    let out = Command::new(SANDGEN)
        .args(["profile", "merge"])
        .args([&pa, &pb])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", describe(&out));
    let merged: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows: Vec<(String, u64, u64, u64, u64)> = merged["syscalls"]
        .as_array()
        .expect("syscalls")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().expect("name").to_owned(),
                e["first_seen_unix_ms"].as_u64().expect("first"),
                e["last_seen_unix_ms"].as_u64().expect("last"),
                e["recordings"].as_u64().expect("recordings"),
                e["count"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("accept4".to_owned(), 5000, 6000, 1, 1),
            ("read".to_owned(), 1000, 6000, 2, 7),
            ("write".to_owned(), 1000, 2000, 1, 1),
        ]
    );
    assert_eq!(merged["recordings"], json!([rec(1000), rec(5000)]));

    // -o writes the same, atomically; another unit's profile is refused.
    let po = dir.path().join("out.json");
    let out = Command::new(SANDGEN)
        .args(["profile", "merge", "-o"])
        .args([&po, &pa, &pb])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", describe(&out));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&po).expect("out")).expect("JSON");
    assert_eq!(written, merged);
    let mut c = b.clone();
    c["unit"] = json!("x.service");
    let pc = dir.path().join("c.json");
    std::fs::write(&pc, c.to_string()).expect("write");
    let out = Command::new(SANDGEN)
        .args(["profile", "merge"])
        .args([&pa, &pc])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {} and {}: cannot merge a profile of w.service with one of x.service: a \
             profile is one unit's\n",
            pa.display(),
            pc.display()
        )
    );
}

#[test]
fn learn_says_why_it_cannot_record() {
    let s = Sandgen::new();
    let missing = unit_name("learn-missing", "service");
    let out = learn(&s, &[&missing, "--for", "1s"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {missing}: no such unit (install it with `sandgen install POLICY` first)\n"
        )
    );

    let idle = unit_name("learn-idle", "service");
    let file = s.policy(&idle, "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n");
    let _cleanup = support::sandgen::Cleanup(&s, idle.clone());
    s.ok(&["install", &file]);
    let out = learn(&s, &[&idle, "--for", "1s"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {idle} is not running (inactive (dead)): start it first, or give --start \
             to record it from its start (a oneshot unit)\n"
        )
    );

    // Usage errors exit 2.
    let out = learn(&s, &[&idle, "--for", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = learn(&s, &[&idle, "--tracer", "strace"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));

    // Not root: the recorder cannot load.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", SANDGEN])
        .args(["learn", &idle, "--for", "1s"])
        .output()
        .expect("setpriv runs");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: sandgen learn records with the BPF recorder, and the BPF recorder needs root \
         (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) (learn has no strace fallback: ptrace \
         would slow a service under load by 100x or more)\n"
    );
}

#[test]
fn learn_ends_when_the_unit_stops_and_shows_progress_only_on_a_terminal() {
    let s = Sandgen::new();
    let unit = unit_name("learn-stops", "service");
    let trigger = format!("/run/{unit}.never");
    let _cleanup = s.start(&unit, &poked_server(&trigger, "/run/unused"));
    s.wait_for_exec(&unit);

    // On a terminal (script(1) gives it one): a progress line, rewritten in place.
    let command = format!(
        "{SANDGEN} learn {unit} --for 2.5s --profile-dir {}",
        profile_dir(&s).display()
    );
    let out = s
        .command(&[])
        .get_envs()
        .fold(Command::new("script"), |mut c, (k, v)| {
            if let Some(v) = v {
                c.env(k, v);
            }
            c
        })
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script runs");
    assert!(out.status.success(), "{}", describe(&out));
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(
        tty.contains(&format!("\r\x1b[K{unit}: "))
            && tty.contains(" s recorded, ")
            && tty.contains(" system calls, "),
        "{tty:?}"
    );
    // Not on a pipe.
    let out = learn(&s, &[&unit, "--for", "1.5s"]);
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(" recorded, "), "{stderr}");

    // The unit stops while it is recorded: the recording ends there.
    let mut child = s
        .command(&["learn", &unit])
        .env("SANDGEN_PROFILE_DIR", profile_dir(&s))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sandgen runs");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    while !line.starts_with("sandgen: recording ") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).expect("read") > 0,
            "ended early"
        );
    }
    s.container.exec_ok(&["systemctl", "stop", &unit]);
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!("{unit}: recorded "))
            && stdout.contains(" (the unit stopped), main PID "),
        "{stdout}"
    );
    assert_eq!(
        profile_of(&s, &unit)["recordings"][2]["ended"],
        "unit-stopped"
    );
}

#[test]
fn verify_names_the_allowed_calls_the_profile_never_saw() {
    let s = Sandgen::new();
    let unit = unit_name("learn-verify", "service");
    let mark = format!("/run/{unit}.mark");
    let body = umask_loop(&mark) + "\n[seccomp]\nallow = [\"@system-service\"]\n";
    let _cleanup = s.start(&unit, &body);
    s.wait_for_exec(&unit);
    learn_ok(&s, &[&unit, "--for", "1s"]);
    let learned = names(&profile_of(&s, &unit));
    assert!(learned.contains("umask"), "{learned:?}");

    let out = s
        .command(&["verify", &unit, "--json"])
        .env("SANDGEN_PROFILE_DIR", profile_dir(&s))
        .output()
        .expect("sandgen runs");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(&out)));
    let (status, evidence) = support::sandgen::statuses(&report)
        .remove("seccomp.allow")
        .unwrap_or_else(|| panic!("a seccomp.allow check: {report}"));
    assert_eq!(status, "pass", "{evidence}");
    let (_, unused) = evidence
        .split_once("permissions it could give up: ")
        .unwrap_or_else(|| panic!("the profile's comparison in: {evidence}"));
    let unused: BTreeSet<&str> = unused.split_whitespace().collect();
    assert!(
        evidence.contains("the learned profile (1 recording) never saw"),
        "{evidence}"
    );
    // The loop sends nothing over a socket; it does call umask.
    assert!(unused.contains("sendmsg"), "{unused:?}");
    assert!(!unused.contains("umask"), "{unused:?}");
    for seen in &learned {
        assert!(
            !unused.contains(seen.as_str()),
            "{seen} was seen: {unused:?}"
        );
    }
}
