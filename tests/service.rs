//! install / start / stop / restart / status / uninstall / run against a real systemd 252
//! (the container `scripts/test.sh` boots). These tests panic, never skip, without it.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use support::{describe, unit_name, Container};

const SANDGEN: &str = env!("CARGO_BIN_EXE_sandgen");

/// sandgen pointed at the container's systemd, in a scratch directory.
struct Sandgen {
    container: Container,
    dir: tempfile::TempDir,
}

impl Sandgen {
    fn new() -> Self {
        Sandgen {
            container: Container::from_env(),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The container's root as sandgen sees it (its /run too, for the journal).
    fn root(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.container.init_pid))
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(SANDGEN)
            .current_dir(self.dir.path())
            .args(args)
            .env("SANDGEN_BUS", &self.container.bus)
            .env("SANDGEN_ROOT", self.root())
            .output()
            .expect("sandgen runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "sandgen {args:?} failed: {}",
            describe(&out)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "sandgen {args:?} should fail: {}",
            describe(&out)
        );
        String::from_utf8(out.stderr).expect("utf-8")
    }

    /// Write a policy named after `unit` (without .service) and return its file name.
    fn policy(&self, unit: &str, body: &str) -> String {
        let stem = unit.trim_end_matches(".service");
        let file = format!("{stem}.toml");
        std::fs::write(self.dir.path().join(&file), body).expect("write policy");
        file
    }

    fn unit_file(&self, unit: &str) -> PathBuf {
        self.root().join("etc/systemd/system").join(unit)
    }
}

/// Stops and forgets a unit when the test ends, passed or not.
struct Cleanup<'a>(&'a Sandgen, String);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let c = &self.0.container;
        let _ = c.systemctl(&["stop", &self.1]);
        let _ = c.systemctl(&["reset-failed", &self.1]);
        let _ = std::fs::remove_file(self.0.unit_file(&self.1));
        let _ = c.systemctl(&["daemon-reload"]);
    }
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const TRICKY: &[&str] = &[
    "two words",
    "double \" quote",
    "single ' quote",
    "back\\slash",
    "trailing backslash\\",
    ";",
    "$HOME",
    "${HOME}",
    "%h",
    "%%",
    "100%",
    "non-ASCII: é 日本 🦀",
    "",
    "-leading-dash",
    "# not a comment",
    "[Service]",
    "ExecStartPre=/bin/false",
];

/// A oneshot that writes its argv, NUL-separated, to `out`. The shell script itself has
/// `%s` and `$@`, which must survive escaping too.
fn argv_policy(out: &str) -> String {
    let mut argv = vec![
        "/bin/sh".to_owned(),
        "-c".to_owned(),
        format!("printf '%s\\0' \"$@\" > {out}"),
        "sh".to_owned(),
    ];
    argv.extend(TRICKY.iter().map(|s| s.to_string()));
    let list: Vec<String> = argv.iter().map(|a| toml_str(a)).collect();
    format!(
        "[service]\ntype = \"oneshot\"\nexec = [{}]\n",
        list.join(", ")
    )
}

fn expected_argv() -> Vec<u8> {
    TRICKY.iter().flat_map(|s| s.bytes().chain([0])).collect()
}

#[test]
fn tricky_argv_reaches_the_process_byte_for_byte_through_an_installed_unit() {
    let s = Sandgen::new();
    let unit = unit_name("argv", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let out = format!("/run/{unit}.argv");
    let policy = s.policy(&unit, &argv_policy(&out));
    s.ok(&["start", &policy]);
    assert_eq!(s.container.read_file(&out), expected_argv());
}

#[test]
fn tricky_argv_reaches_the_process_byte_for_byte_through_run() {
    let s = Sandgen::new();
    let unit = unit_name("argv-run", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let out = format!("/run/{unit}.argv");
    let policy = s.policy(&unit, &argv_policy(&out));
    let stdout = s.ok(&["run", &policy]);
    assert!(stdout.contains("ran to completion"), "{stdout}");
    assert!(
        !s.unit_file(&unit).exists(),
        "run must not write a unit file"
    );
    assert_eq!(s.container.read_file(&out), expected_argv());
}

#[test]
fn heat_starts_runs_restarts_reports_and_stops() {
    let s = Sandgen::new();
    let unit = unit_name("heat", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let heat =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/heat.toml"))
            .expect("heat");
    let policy = s.policy(&unit, &heat);

    let out = s.ok(&["start", &policy]);
    assert!(
        out.starts_with(&format!("{unit}: active (running), main PID ")),
        "{out}"
    );
    assert_eq!(s.container.property(&unit, "ActiveState"), "active");
    let pid1 = s.container.property(&unit, "MainPID");

    let status = s.ok(&["status", &unit, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&status).expect("status --json is JSON");
    assert_eq!(json["active_state"], "active");
    assert_eq!(json["sub_state"], "running");
    assert_eq!(json["main_pid"].to_string(), pid1);
    assert_eq!(json["generated_by_sandgen"], true);
    assert_eq!(json["fragment_path"], format!("/etc/systemd/system/{unit}"));
    assert!(json["control_group"]
        .as_str()
        .expect("cgroup")
        .ends_with(&unit));
    assert!(
        json["tasks_current"].as_u64().is_some_and(|n| n >= 1),
        "{status}"
    );
    let human = s.ok(&["status", &unit]);
    assert!(human.contains("generated by sandgen"), "{human}");

    // A second start with the same policy is a no-op for the unit file: no reload needed.
    let again = s.run(&["start", &policy, "-v"]);
    assert!(again.status.success(), "{}", describe(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("no reload needed"),
        "{}",
        describe(&again)
    );

    let out = s.ok(&["restart", &unit]);
    assert!(out.contains("active (running)"), "{out}");
    let pid2 = s.container.property(&unit, "MainPID");
    assert_ne!(pid1, pid2, "restart must start a new main process");

    assert_eq!(s.ok(&["stop", &unit]), format!("{unit}: stopped\n"));
    assert_eq!(s.container.property(&unit, "ActiveState"), "inactive");
}

#[test]
fn a_changed_policy_takes_effect_on_the_next_start_without_a_needless_reload() {
    let s = Sandgen::new();
    let unit = unit_name("changed", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let body = |mem: &str| {
        format!("[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[resources]\nmemory_max = \"{mem}\"\n")
    };
    let policy = s.policy(&unit, &body("64M"));
    s.ok(&["start", &policy]);
    assert_eq!(
        s.container.property(&unit, "MemoryMax"),
        (64u64 << 20).to_string()
    );

    // Running: the new file is loaded (reload), and sandgen says the process still has the old settings.
    s.policy(&unit, &body("48M"));
    let out = s.run(&["start", &policy]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("is already running with its previous settings"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        s.container.property(&unit, "MemoryMax"),
        (48u64 << 20).to_string()
    );

    // Stopped: whether or not systemd still holds the unit, the next start runs the new file.
    s.ok(&["stop", &unit]);
    s.policy(&unit, &body("32M"));
    s.ok(&["start", &policy]);
    assert_eq!(
        s.container.property(&unit, "MemoryMax"),
        (32u64 << 20).to_string()
    );
    assert_eq!(s.container.property(&unit, "NeedDaemonReload"), "no");
}

#[test]
fn a_service_killed_by_its_syscall_filter_fails_start_and_names_sigsys() {
    let s = Sandgen::new();
    let unit = unit_name("sigsys", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let policy = s.policy(
        &unit,
        "[service]\nexec = [\"/bin/uname\", \"-a\"]\n[seccomp]\ndeny = [\"uname\"]\n",
    );
    let err = s.fails(&["start", &policy]);
    assert!(
        err.contains(&format!("error: {unit} failed to start:")),
        "{err}"
    );
    assert!(
        err.contains("the main process killed by signal SIGSYS"),
        "{err}"
    );
    assert!(
        err.contains("status=31/SYS"),
        "the journal lines are missing: {err}"
    );
    // The same through a transient unit.
    let run_unit = unit_name("sigsys-run", "service");
    let _cleanup2 = Cleanup(&s, run_unit.clone());
    let err = s.fails(&["run", &policy, "--unit", &run_unit]);
    assert!(err.contains("killed by signal SIGSYS"), "{err}");
}

#[test]
fn memhog_child_is_killed_by_the_memory_limit_and_status_shows_the_unit_alive() {
    let s = Sandgen::new();
    let unit = unit_name("memhog", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let memhog =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/memhog.toml"))
            .expect("memhog");
    let policy = s.policy(&unit, &memhog);
    s.ok(&["start", &policy]);
    assert_eq!(
        s.container.property(&unit, "MemoryMax"),
        (32u64 << 20).to_string()
    );
    let log = support::wait_for("the hog to be killed", Duration::from_secs(20), || {
        let out = s
            .container
            .exec(&["journalctl", "-u", &unit, "-o", "cat", "--no-pager"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.contains("child exited with status").then_some(text)
    });
    assert!(
        log.contains("child exited with status 137"),
        "the child was not SIGKILLed:\n{log}"
    );
    let status = s.ok(&["status", &unit, "--json"]);
    let json: serde_json::Value = serde_json::from_str(&status).expect("JSON");
    assert_eq!(json["active_state"], "active");
    assert!(
        json["memory_current"]
            .as_u64()
            .is_some_and(|m| m <= 32 << 20),
        "{status}"
    );
}

#[test]
fn foreign_unit_files_are_never_clobbered_or_removed() {
    let s = Sandgen::new();
    let unit = unit_name("foreign", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let file = s.unit_file(&unit);
    let foreign = "[Service]\nExecStart=/bin/sleep infinity\n";
    std::fs::write(&file, foreign).expect("write foreign unit");
    let policy = s.policy(
        &unit,
        "[service]\nexec = [\"/bin/true\"]\ntype = \"oneshot\"\n",
    );

    let err = s.fails(&["install", &policy]);
    assert!(
        err.contains(&format!("refusing to overwrite {}", file.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("read"), foreign);
    let err = s.fails(&["uninstall", &unit]);
    assert!(err.contains("refusing to remove"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), foreign);

    s.ok(&["install", &policy, "--force"]);
    let now = std::fs::read_to_string(&file).expect("read");
    assert!(now.starts_with("# Generated by sandgen"), "{now}");
    assert_eq!(s.container.property(&unit, "ExecMainStatus"), "0");
    let out = s.ok(&["uninstall", &unit]);
    assert!(out.contains("stopped and removed"), "{out}");
    assert!(!file.exists());
}

#[test]
fn kill_9_during_install_never_leaves_a_truncated_unit_file() {
    let s = Sandgen::new();
    let units = s.dir.path().join("units");
    std::fs::create_dir(&units).expect("mkdir");
    // A large unit, so that a write takes long enough to be interrupted.
    let mut body = String::from("[service]\nexec = [\"/bin/true\"]\n[service.environment]\n");
    for i in 0..4000 {
        body.push_str(&format!("VAR_{i} = \"{}\"\n", "x".repeat(40)));
    }
    let policy = s.policy("big", &body);
    let complete = |text: &str| {
        text.starts_with("# Generated by sandgen") && text.ends_with("ExecStart=\"/bin/true\"\n")
            || text.contains("VAR_3999=")
    };
    let mut interrupted = 0;
    for round in 0..60u64 {
        let mut child = Command::new(SANDGEN)
            .current_dir(s.dir.path())
            .args([
                "install",
                &policy,
                "--no-reload",
                "--force",
                "--unit-dir",
                "units",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_micros(500 + round * 300));
        let _ = child.kill();
        let status = child.wait().expect("wait");
        if !status.success() {
            interrupted += 1;
        }
        if let Ok(text) = std::fs::read_to_string(units.join("big.service")) {
            assert!(
                complete(&text),
                "round {round}: a truncated unit file ({} bytes)",
                text.len()
            );
        }
        // Remove it again half of the time, so both creation and replacement are hit.
        if round % 2 == 0 {
            let _ = std::fs::remove_file(units.join("big.service"));
        }
    }
    assert!(
        interrupted > 0,
        "no install was interrupted: the test proved nothing"
    );
}

/// systemd's view of the sandbox: the properties both units must share.
const SANDBOX_PROPERTIES: &[&str] = &[
    "MemoryMax",
    "MemoryHigh",
    "CPUWeight",
    "CPUQuotaPerSecUSec",
    "TasksMax",
    "IOWeight",
    "CPUAffinity",
    "CapabilityBoundingSet",
    "NoNewPrivileges",
    "SecureBits",
    "SystemCallFilter",
    "SystemCallErrorNumber",
    "SystemCallArchitectures",
    "LockPersonality",
    "MemoryDenyWriteExecute",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "PrivateTmp",
    "PrivateDevices",
    "ProtectHome",
    "ProtectSystem",
    "ReadWritePaths",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "BindReadOnlyPaths",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectControlGroups",
    "ProtectClock",
    "ProtectKernelLogs",
    "PrivateNetwork",
    "RestrictAddressFamilies",
    "RestrictNamespaces",
    "PrivateIPC",
    "ProtectHostname",
    "Environment",
    "UMask",
    "WorkingDirectory",
    "TimeoutStartUSec",
    "Type",
];

const FULL_POLICY: &str = r#"
[service]
exec = ["/bin/sleep", "infinity"]
working_directory = "/tmp"
umask = "0077"
timeout_start_sec = "90s"
environment = { GREETING = "hello world", PCT = "100% $HOME" }
[resources]
memory_max = "64M"
memory_high = "48M"
cpu_weight = 50
cpu_quota = "20%"
tasks_max = 8
io_weight = 200
cpu_affinity = "0"
[capabilities]
bounding = ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"]
no_new_privileges = true
secure_bits = ["keep-caps"]
[seccomp]
allow = ["@system-service"]
deny = ["@mount"]
error_number = "EPERM"
architectures = ["native"]
lock_personality = true
memory_deny_write_execute = true
restrict_realtime = true
restrict_suid_sgid = true
[filesystem]
private_tmp = true
private_devices = true
protect_home = "read-only"
protect_system = "strict"
read_write_paths = ["/var/tmp"]
read_only_paths = ["/etc"]
inaccessible_paths = ["-/nonexistent"]
bind_read_only_paths = ["/usr/share:/mnt"]
protect_kernel_tunables = true
protect_kernel_modules = true
protect_control_groups = true
protect_clock = true
protect_kernel_logs = true
[network]
private_network = true
restrict_address_families = ["AF_UNIX", "AF_INET"]
[namespaces]
restrict_namespaces = ["net"]
private_ipc = true
protect_hostname = true
"#;

/// What the kernel says about a unit's main process.
fn kernel_view(c: &Container, unit: &str) -> Vec<String> {
    let pid = c.property(unit, "MainPID");
    let status = String::from_utf8(c.read_file(&format!("/proc/{pid}/status"))).expect("utf-8");
    let mut view: Vec<String> = status
        .lines()
        .filter(|l| {
            [
                "CapInh",
                "CapPrm",
                "CapEff",
                "CapBnd",
                "CapAmb",
                "NoNewPrivs",
                "Seccomp:",
                "Seccomp_filters",
                "Cpus_allowed_list",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .map(str::to_owned)
        .collect();
    // Mount points and options of its mount namespace, without IDs (they differ per namespace).
    let mountinfo =
        String::from_utf8(c.read_file(&format!("/proc/{pid}/mountinfo"))).expect("utf-8");
    for line in mountinfo.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 5 && !f[4].starts_with("/tmp/") {
            view.push(format!("mount {} {}", f[4], f[5]));
        }
    }
    view
}

#[test]
fn run_and_an_installed_unit_give_the_process_the_same_sandbox() {
    let s = Sandgen::new();
    let installed = unit_name("same-file", "service");
    let transient = unit_name("same-run", "service");
    let _c1 = Cleanup(&s, installed.clone());
    let _c2 = Cleanup(&s, transient.clone());
    let policy = s.policy(&installed, FULL_POLICY);
    s.ok(&["start", &policy]);
    s.ok(&["run", &policy, "--unit", &transient]);

    let a = s.container.show(&installed, SANDBOX_PROPERTIES);
    let b = s.container.show(&transient, SANDBOX_PROPERTIES);
    let differ: Vec<String> = SANDBOX_PROPERTIES
        .iter()
        .filter(|p| a.get(**p) != b.get(**p))
        .map(|p| format!("{p}: file {:?} vs run {:?}", a.get(*p), b.get(*p)))
        .collect();
    assert!(
        differ.is_empty(),
        "systemd sees different sandboxes:\n{}",
        differ.join("\n")
    );
    // The settings did arrive (a mapping that sent nothing would also compare equal).
    assert_eq!(a["MemoryMax"], (64u64 << 20).to_string());
    assert_eq!(a["CPUQuotaPerSecUSec"], "200ms");
    assert_eq!(a["ProtectSystem"], "strict");
    assert_eq!(a["RestrictNamespaces"], "net");
    // systemctl show escapes `$` as `\$`.
    assert_eq!(
        a["Environment"],
        "\"GREETING=hello world\" \"PCT=100% \\$HOME\""
    );

    let (ka, kb) = (
        kernel_view(&s.container, &installed),
        kernel_view(&s.container, &transient),
    );
    assert_eq!(ka, kb, "the kernel sees different sandboxes");
    assert!(ka.iter().any(|l| l == "NoNewPrivs:\t1"), "{ka:?}");
    assert!(ka.iter().any(|l| l == "Seccomp:\t2"), "{ka:?}");
    assert!(
        ka.iter().any(|l| l == "CapBnd:\t0000000000000401"),
        "{ka:?}"
    );
}

#[test]
fn freeze_and_thaw_go_through_systemd_or_say_why_not() {
    let s = Sandgen::new();
    let unit = unit_name("freeze", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let policy = s.policy(&unit, "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n");
    s.ok(&["start", &policy]);
    let out = s.run(&["freeze", &unit]);
    // systemd freezes with the cgroup v2 freezer (cgroup.freeze); with v1 controllers
    // (this host) it refuses, and sandgen must say so plainly.
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    if v2 {
        assert!(out.status.success(), "{}", describe(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{unit}: frozen\n")
        );
        assert_eq!(s.container.property(&unit, "FreezerState"), "frozen");
        s.ok(&["thaw", &unit]);
        assert_eq!(s.container.property(&unit, "FreezerState"), "running");
    } else {
        assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!(
                "error: freezing {unit}: Unit '{unit}' does not support freezing."
            )),
            "{err}"
        );
        assert!(
            err.contains("hosts whose controllers are on cgroup v1 cannot"),
            "{err}"
        );
        assert_eq!(s.container.property(&unit, "ActiveState"), "active");
    }
}

#[test]
fn one_client_runs_several_jobs() {
    use sandgen::systemd::bus::{Bus, Client, JobOutcome, JobVerb, Systemd};
    let s = Sandgen::new();
    let unit = unit_name("jobs", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let policy = s.policy(&unit, "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n");
    s.ok(&["install", &policy]);
    let client = Client::connect(
        &Bus::Address(s.container.bus.clone()),
        Duration::from_secs(30),
    )
    .expect("connect");
    for verb in [
        JobVerb::Start,
        JobVerb::Stop,
        JobVerb::Start,
        JobVerb::Restart,
        JobVerb::Stop,
    ] {
        assert_eq!(
            client.job(verb, &unit, true).expect("job"),
            JobOutcome::Finished("done".into()),
            "{verb:?}"
        );
    }
    assert_eq!(
        client.status(&unit).expect("status").active_state,
        "inactive"
    );
}

#[test]
fn an_unprivileged_user_is_told_that_access_was_denied() {
    let c = Container::from_env();
    // Inside the container, as nobody, on its own system bus: systemd asks polkit, which
    // is not there to say yes.
    let out = c.exec(&[
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        SANDGEN,
        "stop",
        "dbus",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: stopping dbus.service: access denied (Interactive authentication required.); run as root, or allow it with polkit\n"
    );
    assert_eq!(c.property("dbus.service", "ActiveState"), "active");
}

#[test]
fn errors_name_the_unit_and_what_to_do() {
    let s = Sandgen::new();
    let err = s.fails(&["status", "sandgen-test-no-such-unit"]);
    assert_eq!(err, "error: sandgen-test-no-such-unit.service: no such unit (sandgen start POLICY installs and starts one)\n");
    let out = Command::new(SANDGEN)
        .args(["status", "heat", "--bus", "unix:path=/nonexistent/bus"])
        .output()
        .expect("sandgen runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: cannot connect to the bus at unix:path=/nonexistent/bus:"),
        "{err}"
    );
    assert!(err.contains("is systemd running?"), "{err}");
}
