//! The rest of the talk's demos (issue 15), each an example policy in `policies/` started
//! under the test lane's systemd: an AppArmor profile, one capability for a normal user,
//! seccomp strict mode, and two containers that cannot see each other.
//!
//! Each test expects what its lane has: AppArmor is active in the guest's Debian kernel
//! and absent from the host kernel the container lane shares; PrivatePIDs= needs systemd
//! 257, the guest's, and sandgen refuses it for the container's 252.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use serde_json::Value;
use support::sandgen::{statuses, Cleanup, Sandgen};
use support::{describe, unit_name, wait_for, Container, WAIT};

/// The text of `policies/NAME.toml`.
fn demo(name: &str) -> String {
    let path = format!("{}/policies/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `text` with `from` replaced, which must be there.
fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in:\n{text}");
    text.replace(from, to)
}

/// The journal of `unit` once it has a line containing `line`.
fn journal_with(c: &Container, unit: &str, line: &str) -> String {
    wait_for(&format!("{line:?} in the journal of {unit}"), WAIT, || {
        let out = c.exec(&["journalctl", "-u", unit, "-o", "cat", "--no-pager"]);
        let log = String::from_utf8_lossy(&out.stdout).into_owned();
        log.contains(line).then_some(log)
    })
}

/// `policy` (the AppArmor demo with `profile` in place of its own) started with `run`, as a
/// transient unit whose properties travel over D-Bus: systemd shows the profile with its
/// "-" prefix as it took it, `(bs)`. Returns the unit, stopped when the guard drops.
fn run_transient<'a>(s: &'a Sandgen, policy: &str, profile: &str) -> (Cleanup<'a>, String) {
    let unit = unit_name("apparmor-run", "service");
    let text = replaced(
        policy,
        "apparmor_profile = \"sandgen-demo\"",
        &format!("apparmor_profile = \"{profile}\""),
    );
    let file = s.policy(&unit, &text);
    let guard = Cleanup(s, unit.clone());
    s.ok(&["run", &file, "--unit", &unit]);
    assert!(!s.unit_file(&unit).exists(), "run writes no unit file");
    assert_eq!(s.container.property(&unit, "AppArmorProfile"), profile);
    (guard, unit)
}

/// Whether AppArmor is active in the machine's kernel (the module's own switch).
fn apparmor_active(c: &Container) -> bool {
    let out = c.exec(&["cat", "/sys/module/apparmor/parameters/enabled"]);
    String::from_utf8_lossy(&out.stdout).trim() == "Y"
}

/// A loaded AppArmor profile, unloaded again when dropped.
struct Profile<'a> {
    container: &'a Container,
    file: String,
}

impl<'a> Profile<'a> {
    /// Loads (or replaces) `text` with apparmor_parser, from a file under /tmp.
    fn load(container: &'a Container, name: &str, text: &str) -> Self {
        let file = format!("/tmp/{name}.apparmor");
        let profile = Profile { container, file };
        let out = container.exec(&[
            "sh",
            "-c",
            "printf '%s' \"$1\" > \"$2\" && apparmor_parser -r \"$2\"",
            "sh",
            text,
            &profile.file,
        ]);
        assert!(
            out.status.success(),
            "apparmor_parser (Debian package apparmor, in the guest image's package list) \
             could not load {name}: {}",
            describe(&out)
        );
        profile
    }
}

impl Drop for Profile<'_> {
    fn drop(&mut self) {
        let _ = self.container.exec(&["apparmor_parser", "-R", &self.file]);
        let _ = self.container.exec(&["rm", "-f", &self.file]);
    }
}

/// policies/apparmor-confined.toml. Where AppArmor is active (the guest: Debian 13's kernel
/// enables it), a profile loaded here confines the unit and verify says PASS with the label
/// the kernel shows; a profile that is not loaded, with the "-" prefix, lets the unit start
/// unconfined, and verify says FAIL. Where it is not (this host's kernel, which the
/// container lane shares), systemd ignores the setting and verify says NOT CHECKABLE and why.
#[test]
fn apparmor_profile_confines_the_unit_where_apparmor_is_active() {
    let s = Sandgen::new();
    let c = &s.container;
    let active = apparmor_active(c);
    if c.systemd >= 257 {
        assert!(
            active,
            "the guest runs Debian's kernel, which enables AppArmor: \
             /sys/module/apparmor/parameters/enabled should be Y"
        );
    }
    let policy = demo("apparmor-confined");
    let asked = "apparmor_profile = \"sandgen-demo\"";
    if !active {
        let unit = unit_name("apparmor", "service");
        let _cleanup = s.start(&unit, &policy);
        s.wait_for_exec(&unit);
        let json = s.json(&["verify", &unit, "--json"]);
        let (status, evidence) = &statuses(&json)["security.apparmor_profile"];
        assert_eq!(status, "not_checkable", "{json:#}");
        assert!(
            evidence.starts_with(
                "AppArmor is not active in this kernel, so systemd ignores AppArmorProfile= \
                 and no process has an AppArmor label ("
            ),
            "{evidence}"
        );
        assert!(evidence.contains("/sys/module/apparmor"), "{evidence}");
        let (_transient, unit) = run_transient(&s, &policy, "-sandgen-demo");
        s.wait_for_exec(&unit);
        return;
    }
    let name = format!("sandgen-test-aa-{}", std::process::id());
    let _profile = Profile::load(
        c,
        &name,
        &format!(
            "profile {name} flags=(attach_disconnected) {{\n  file,\n  deny /etc/** w,\n  signal,\n  unix,\n  network,\n  capability,\n}}\n"
        ),
    );
    let unit = unit_name("apparmor", "service");
    let _cleanup = s.start(
        &unit,
        &replaced(&policy, asked, &format!("apparmor_profile = \"{name}\"")),
    );
    let pid = s.wait_for_exec(&unit);
    let label = c.read_file(&format!("/proc/{pid}/attr/apparmor/current"));
    assert_eq!(
        String::from_utf8_lossy(&label).trim_end_matches(['\n', '\0']),
        format!("{name} (enforce)")
    );
    let json = s.json(&["verify", &unit, "--json"]);
    assert_eq!(
        statuses(&json)["security.apparmor_profile"],
        (
            "pass".to_owned(),
            format!("confined by AppArmor profile {name} (enforce)")
        ),
        "{json:#}"
    );

    let (_transient, transient) = run_transient(&s, &policy, &format!("-{name}"));
    let pid = s.wait_for_exec(&transient);
    let label = c.read_file(&format!("/proc/{pid}/attr/apparmor/current"));
    assert_eq!(
        String::from_utf8_lossy(&label).trim_end_matches(['\n', '\0']),
        format!("{name} (enforce)")
    );

    // Not loaded, but "-": systemd starts the unit without it, and verify says so.
    let absent = format!("{name}-absent");
    let unit = unit_name("apparmor-absent", "service");
    let _cleanup = s.start(
        &unit,
        &replaced(&policy, asked, &format!("apparmor_profile = \"-{absent}\"")),
    );
    s.wait_for_exec(&unit);
    let out = s.fails_output(&["verify", &unit, "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).expect("verify --json");
    let (status, evidence) = &statuses(&json)["security.apparmor_profile"];
    assert_eq!(status, "fail", "{json:#}");
    assert_eq!(
        evidence,
        &format!(
            "AppArmor label unconfined, not {absent} (the \"-\" prefix let systemd start the service without it)"
        )
    );
}

/// policies/net-admin-ambient.toml: a dynamic (unprivileged) user whose only capability,
/// CAP_NET_ADMIN, is ambient, takes its private loopback down and up; `inspect --caps`
/// shows the sets as `capsh --print` does. The same policy without the ambient line fails:
/// `ip` gets "Operation not permitted" and exits 2.
#[test]
fn one_capability_for_a_normal_user() {
    let s = Sandgen::new();
    let c = &s.container;
    let policy = demo("net-admin-ambient");
    let unit = unit_name("net-admin-ambient", "service");
    let _cleanup = s.start(&unit, &policy);
    let pid = s.wait_for_comm(&unit, "sleep");
    journal_with(c, &unit, "lo went down and up");
    let status = String::from_utf8_lossy(&c.read_file(&format!("/proc/{pid}/status"))).into_owned();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse::<u32>().ok())
        .expect("Uid: in /proc/PID/status");
    assert_ne!(uid, 0, "a dynamic user, not root:\n{status}");

    let json = s.json(&["inspect", &unit, "--json"]);
    let caps = &json["capabilities"];
    for set in ["effective", "permitted", "bounding", "ambient"] {
        assert_eq!(
            caps[set],
            serde_json::json!(["CAP_NET_ADMIN"]),
            "{set}: {caps}"
        );
    }
    assert_eq!(
        caps["inheritable"],
        serde_json::json!(["CAP_NET_ADMIN"]),
        "{caps}"
    );
    let text = s.ok(&["inspect", &unit, "--caps"]);
    for set in [
        "effective",
        "permitted",
        "inheritable",
        "bounding",
        "ambient",
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(set) && l.trim_end().ends_with("CAP_NET_ADMIN")),
            "{set}:\n{text}"
        );
    }
    assert!(
        text.contains(
            "securebits    not shown: securebits cannot be read from outside the process: \
             the kernel shows them only to the process itself (prctl(PR_GET_SECUREBITS)), not in \
             /proc; the unit asks systemd for noroot noroot-locked (SecureBits=)\n"
        ),
        "{text}"
    );
    let verified = s.json(&["verify", &unit, "--json"]);
    let checks = statuses(&verified);
    assert_eq!(checks["capabilities.ambient"].0, "pass", "{verified:#}");
    assert_eq!(checks["capabilities.bounding"].0, "pass", "{verified:#}");

    // Without the ambient capability: the same user, the same bounding set, refused.
    let without = replaced(&policy, "ambient = [\"CAP_NET_ADMIN\"]\n", "");
    let unit = unit_name("net-admin-no-ambient", "service");
    let file = s.policy(&unit, &without);
    let _cleanup = Cleanup(&s, unit.clone());
    // Whether start sees the failure within its window depends on the machine's speed:
    // what counts is how the unit ended.
    let _ = s.run(&["start", &file]);
    let ended = c.wait_until_stopped(&unit, WAIT, &["Result", "ExecMainStatus"]);
    assert_eq!(ended["ActiveState"], "failed", "{ended:?}");
    assert_eq!(ended["Result"], "exit-code", "{ended:?}");
    assert_eq!(ended["ExecMainStatus"], "2", "{ended:?}");
    journal_with(c, &unit, "Operation not permitted");
}

/// policies/seccomp-strict.toml: a program that enters seccomp strict mode itself and
/// blocks on read(); inspect and verify say what strict mode means.
#[test]
fn strict_seccomp_is_recognised() {
    let s = Sandgen::new();
    let unit = unit_name("seccomp-strict", "service");
    let _cleanup = s.start(&unit, &demo("seccomp-strict"));
    // The line is written after the prctl: from then on the process is in strict mode.
    journal_with(&s.container, &unit, "in seccomp strict mode");
    let json = s.json(&["inspect", &unit, "--json"]);
    assert_eq!(json["seccomp"]["mode"], "strict", "{json:#}");
    let text = s.ok(&["inspect", &unit, "--seccomp", "--no-ptrace"]);
    assert!(
        text.contains(
            "\nseccomp: strict (Seccomp: 1): only read(2), write(2), _exit(2) and sigreturn(2) \
             are allowed, any other system call kills the process (SIGKILL); the program \
             entered strict mode itself (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)), systemd \
             never does, and a process in strict mode has no filters\n"
        ),
        "{text}"
    );
    let text = s.ok(&["verify", &unit]);
    assert!(
        text.contains(
            "\n  note: the main process is in seccomp strict mode (Seccomp: 1 in /proc/PID/status): only read(2)"
        ),
        "{text}"
    );
    let json = s.json(&["verify", &unit, "--json"]);
    assert_eq!(json["fail"], 0, "{json:#}");
    assert_eq!(json["notes"].as_array().map(Vec::len), Some(1), "{json:#}");
    // Still alive and still blocked: reading the state did not kill it.
    assert_eq!(
        s.container.property(&unit, "ActiveState"),
        "active",
        "{unit}"
    );
}

/// A busybox tree for a container demo, removed when dropped.
struct Tree<'a>(&'a Container, String);

impl<'a> Tree<'a> {
    fn new(c: &'a Container, which: &str) -> Self {
        let path = format!("/srv/sandgen-test-{}-{which}", std::process::id());
        let tree = Tree(c, path.clone());
        c.exec_ok(&[
            "sh",
            "-c",
            &format!(
                "mkdir -p {path}/bin && cp /bin/busybox {path}/bin/ && \
                 chroot {path} /bin/busybox --install -s /bin"
            ),
        ]);
        tree
    }
}

impl Drop for Tree<'_> {
    fn drop(&mut self) {
        let _ = self.0.exec(&["rm", "-rf", &self.1]);
    }
}

/// The rows of busybox `ps` (`PID USER COMMAND`) in `log`, after its header.
fn ps_rows(log: &str) -> Vec<String> {
    log.lines()
        .skip_while(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            !(words.first() == Some(&"PID") && words.last() == Some(&"COMMAND"))
        })
        .skip(1)
        .map(str::to_owned)
        .collect()
}

/// policies/busybox-container-1.toml and -2.toml: two busybox containers, each with its own
/// root and (systemd 257+) its own PID namespace. Each one's `ps` lists only its own three
/// processes, with its shell as PID 1; `inspect --pids` of each lists its processes and
/// their PIDs inside; the service manager sees both. Before 257 sandgen refuses the demo.
#[test]
fn two_containers_cannot_see_each_other() {
    let s = Sandgen::new();
    let c = &s.container;
    let mut started = Vec::new();
    let mut trees = Vec::new();
    for n in ["1", "2"] {
        let name = format!("busybox-container-{n}");
        let tree = Tree::new(c, &format!("busybox-{n}"));
        let policy = replaced(
            &demo(&name),
            &format!("root_directory = \"/srv/sandgen/busybox-{n}\""),
            &format!("root_directory = \"{}\"", tree.1),
        );
        trees.push(tree);
        let unit = unit_name(&format!("container-{n}"), "service");
        if c.systemd < 257 {
            let file = s.policy(&unit, &policy);
            let err = s.fails(&["start", &file]);
            assert!(
                err.contains(
                    "error: `namespaces.private_pids` needs systemd 257 (PrivatePIDs= was added \
                     in version 257); the target systemd is 252"
                ),
                "{err}"
            );
            assert!(!s.unit_file(&unit).exists());
            continue;
        }
        started.push((s.start(&unit, &policy), unit));
    }
    if c.systemd < 257 {
        return;
    }
    let mut namespaces = Vec::new();
    for (_, unit) in &started {
        let log = journal_with(c, unit, "COMMAND");
        let rows = wait_for(&format!("the ps of {unit}"), WAIT, || {
            let log = journal_with(c, unit, "COMMAND");
            let rows = ps_rows(&log);
            rows.iter()
                .any(|r| r.contains(" {ps}") || r.ends_with(" ps"))
                .then_some(rows)
        });
        let pids: Vec<u32> = rows
            .iter()
            .filter_map(|r| r.split_whitespace().next()?.parse().ok())
            .collect();
        assert_eq!(
            pids.len(),
            3,
            "its shell, sleep and ps, nothing else: {rows:#?}\n{log}"
        );
        assert_eq!(pids[0], 1, "the shell is PID 1: {rows:#?}");
        assert!(rows.iter().any(|r| r.contains("sleep")), "{rows:#?}");

        let json = s.json(&["inspect", unit, "--pids", "--json"]);
        let main = json["main_pid"].as_u64().expect("main_pid");
        let procs = json["pids"].as_array().expect("pids");
        assert!(procs.len() >= 2, "the shell and sleep: {json:#}");
        let main_row = procs
            .iter()
            .find(|p| p["pid"].as_u64() == Some(main))
            .unwrap_or_else(|| panic!("main PID {main} in {json:#}"));
        assert_eq!(
            main_row["nspid"].as_array().and_then(|a| a.last()),
            Some(&Value::from(1))
        );
        let ns = main_row["pid_namespace"]
            .as_str()
            .expect("pid_namespace")
            .to_owned();
        for p in procs {
            assert_eq!(p["pid_namespace"].as_str(), Some(ns.as_str()), "{json:#}");
        }
        let text = s.ok(&["inspect", unit, "--pids"]);
        assert!(text.contains(&format!("PID namespace {ns} (")), "{text}");
        // The manager's view: the host PID is there in its /proc.
        assert!(
            c.exists(&format!("/proc/{main}")),
            "the manager sees {main}"
        );
        namespaces.push((ns, main));
    }
    assert_ne!(namespaces[0].0, namespaces[1].0, "two PID namespaces");
    let manager = c.exec_ok(&["readlink", "/proc/1/ns/pid"]).trim().to_owned();
    for (ns, main) in &namespaces {
        assert_ne!(ns, &manager, "{main} is not in the manager's PID namespace");
    }
    drop(started);
}

/// A label is one word: `check` points at the value and says why.
#[test]
fn a_label_with_a_space_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("label.toml");
    std::fs::write(
        &file,
        "[service]\nexec = [\"/bin/true\"]\n[security]\napparmor_profile = \"-sandgen demo\"\n",
    )
    .expect("write policy");
    let out = std::process::Command::new(support::sandgen::SANDGEN)
        .arg("check")
        .arg(&file)
        .output()
        .expect("sandgen runs");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: invalid label \"-sandgen demo\" for `security.apparmor_profile`\n"),
        "{err}"
    );
    assert!(
        err.contains("= help: a label is one word: a space is not allowed in it\n"),
        "{err}"
    );
    assert!(
        err.contains("4 | apparmor_profile = \"-sandgen demo\""),
        "{err}"
    );
}
