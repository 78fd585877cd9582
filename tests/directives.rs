//! The directives and modes systemd added after 252, against the real systemd of the lane
//! the tests run in: the nspawn container runs systemd 252, the qemu guest systemd 257.
//! Each test takes the lane's version ([`support::Container::systemd`], which the smoke test
//! checks against `systemctl --version`) and asserts what that version must show:
//!
//! - before a mode's version, sandgen refuses it naming the version that would take it
//!   (`ProtectControlGroups=strict`, `PrivatePIDs=`), or writes the closest older form that
//!   is as strict and says so in a warning (`PrivateUsers=identity` -> `yes`,
//!   `PrivateTmp=disconnected` -> `yes`, `ProtectHostname=private` -> `yes`), and `verify`
//!   passes the form it wrote;
//! - from it on, the unit runs with the mode and `verify` passes it from the kernel's side
//!   (a PID namespace where the service is PID 1, a cgroup namespace with a read-only
//!   /sys/fs/cgroup, the uid_map `0 0 65536`, a tmpfs of its own on /tmp, memory.zswap.max).
//!
//! The same policies go through `sandgen run` (transient unit properties over D-Bus) and
//! `sandgen start` (a unit file), which must agree. These tests panic, never skip, without
//! a lane.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;
use support::sandgen::{statuses, Cleanup, Sandgen, SANDGEN};
use support::{describe, unit_name};

/// The major version of the systemd `systemctl --version` reports on its first line
/// (`systemd 257 (257.13-1~deb13u1)`).
fn major(version_output: &[u8]) -> u32 {
    let text = String::from_utf8_lossy(version_output);
    text.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("`systemctl --version` printed {text:?}"))
}

/// `sandgen verify UNIT [--policy FILE] --json`, which must exit 0 (every check passes or
/// cannot be checked): the checks by policy key, as (status, evidence).
fn verified(s: &Sandgen, unit: &str, policy: Option<&str>) -> BTreeMap<String, (String, String)> {
    let mut args = vec!["verify", unit];
    if let Some(p) = policy {
        args.extend(["--policy", p]);
    }
    args.push("--json");
    let out = s.run(&args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", describe(&out));
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", describe(&out)));
    statuses(&json)
}

/// The check of `key`, which must have passed; its evidence.
fn passed<'a>(checks: &'a BTreeMap<String, (String, String)>, key: &str) -> &'a str {
    let (status, evidence) = checks
        .get(key)
        .unwrap_or_else(|| panic!("no check of {key}: {checks:#?}"));
    assert_eq!(status, "pass", "{key}: {evidence}");
    evidence
}

/// The value of `directive` in a unit file's text.
fn unit_value(text: &str, directive: &str) -> Option<String> {
    let prefix = format!("{directive}=");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(str::to_owned)
}

/// Modes that have no older form as strict: refused before 257.
const REFUSED_BEFORE_257: &str = r#"[service]
exec = ["/bin/sleep", "infinity"]
[filesystem]
protect_control_groups = "strict"
[namespaces]
private_pids = true
"#;

#[test]
fn private_pids_and_strict_cgroups_are_refused_before_257_and_enforced_from_it() {
    let s = Sandgen::new();
    let version = s.container.systemd;
    let unit = unit_name("ns-strict", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let file = s.policy(&unit, REFUSED_BEFORE_257);
    if version < 257 {
        // systemd 252: neither can be expressed; nothing is installed.
        let err = s.fails_silently(&["start", &file]);
        let caret = format!("{}^^^^^^^^", " ".repeat(25));
        assert_eq!(
            err,
            format!(
                "error: `filesystem.protect_control_groups` = \"strict\" needs systemd 257 \
                 (ProtectControlGroups=strict was added in version 257); the target systemd is \
                 {version}\n --> {file}:4:26\n  |\n4 | protect_control_groups = \"strict\"\n  \
                 | {caret}\n  = help: true is the closest older form, but without a cgroup \
                 namespace the service sees the host's whole cgroup tree: write true if that is \
                 acceptable, or target systemd 257 or later with --systemd-version\n\n\
                 error: `namespaces.private_pids` needs systemd 257 (PrivatePIDs= was added in \
                 version 257); the target systemd is {version}\n --> {file}:6:1\n  |\n6 | \
                 private_pids = true\n  | ^^^^^^^^^^^^\n  = help: remove it, or target a newer \
                 systemd with --systemd-version\n"
            )
        );
        assert!(!s.unit_file(&unit).exists());
        return;
    }
    // systemd 257 and later: the kernel shows both.
    s.ok(&["start", &file]);
    s.wait_for_comm(&unit, "sleep");
    let text = std::fs::read_to_string(s.unit_file(&unit)).expect("the unit file");
    assert_eq!(unit_value(&text, "PrivatePIDs").as_deref(), Some("yes"));
    assert_eq!(
        unit_value(&text, "ProtectControlGroups").as_deref(),
        Some("strict")
    );
    let checks = verified(&s, &unit, None);
    let pids = passed(&checks, "namespaces.private_pids");
    assert!(
        pids.starts_with("its own pid namespace ")
            && pids.ends_with(", where the main process is PID 1"),
        "{pids}"
    );
    let cgroups = passed(&checks, "filesystem.protect_control_groups");
    assert!(
        cgroups.starts_with("its own cgroup namespace ") && cgroups.contains("read-only"),
        "{cgroups}"
    );
    // The same sandbox as a transient unit: PrivatePIDs travels as a string property,
    // ProtectControlGroups=strict as ProtectControlGroupsEx.
    let transient = unit_name("ns-strict-run", "service");
    let _cleanup_run = Cleanup(&s, transient.clone());
    s.ok(&["run", &file, "--unit", &transient]);
    s.wait_for_comm(&transient, "sleep");
    let checks = verified(&s, &transient, Some(&file));
    passed(&checks, "namespaces.private_pids");
    passed(&checks, "filesystem.protect_control_groups");
}

/// Modes with an older form that is as strict: written as it, with a warning, before
/// their version.
const MAPPED_BEFORE_THEIR_VERSION: &str = r#"[service]
exec = ["/bin/sleep", "infinity"]
[filesystem]
private_tmp = "disconnected"
[namespaces]
private_users = "identity"
protect_hostname = "private"
"#;

/// The modes of [`MAPPED_BEFORE_THEIR_VERSION`]: policy key, directive, mode, its
/// version, and what an older systemd gets.
const MAPPED: &[(&str, &str, &str, u32, &str)] = &[
    (
        "filesystem.private_tmp",
        "PrivateTmp",
        "disconnected",
        257,
        "yes",
    ),
    (
        "namespaces.private_users",
        "PrivateUsers",
        "identity",
        257,
        "yes",
    ),
    (
        "namespaces.protect_hostname",
        "ProtectHostname",
        "private",
        258,
        "yes",
    ),
];

#[test]
fn modes_with_an_as_strict_older_form_are_written_as_it_with_a_warning_and_pass_verify() {
    let s = Sandgen::new();
    let version = s.container.systemd;
    let unit = unit_name("modes", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let file = s.policy(&unit, MAPPED_BEFORE_THEIR_VERSION);
    let out = s.run(&["start", &file]);
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    s.wait_for_comm(&unit, "sleep");
    let text = std::fs::read_to_string(s.unit_file(&unit)).expect("the unit file");
    for (key, directive, mode, since, older) in MAPPED {
        let warning = format!(
            "warning: `{key}` = \"{mode}\" needs systemd {since}; for systemd {version} it is \
             written as {directive}={older}, "
        );
        if version < *since {
            // systemd 252 has none of them; 257 all but ProtectHostname=private (258).
            assert!(stderr.contains(&warning), "no {warning:?} in:\n{stderr}");
            assert_eq!(unit_value(&text, directive).as_deref(), Some(*older));
        } else {
            assert!(!stderr.contains(&format!("`{key}`")), "{stderr}");
            assert_eq!(unit_value(&text, directive).as_deref(), Some(*mode));
        }
    }
    // verify checks what was written, from the kernel's side.
    let checks = verified(&s, &unit, None);
    let users = passed(&checks, "namespaces.private_users");
    let tmp = passed(&checks, "filesystem.private_tmp");
    let uts = passed(&checks, "namespaces.protect_hostname");
    assert!(uts.starts_with("its own uts namespace "), "{uts}");
    if version < 257 {
        assert!(
            users
                .ends_with("uid_map 0 0 1: root and the service's own user, each mapped to itself"),
            "{users}"
        );
        assert!(
            tmp.contains("(bind mounts of systemd-private-* directories)"),
            "{tmp}"
        );
    } else {
        assert!(
            users.ends_with("uid_map 0 0 65536: the ids 0-65535, each mapped to itself"),
            "{users}"
        );
        assert_eq!(tmp, "/tmp and /var/tmp private (a tmpfs of their own)");
    }
    // The transient unit gets the same properties: booleans for 252, the Ex properties
    // from 257.
    let transient = unit_name("modes-run", "service");
    let _cleanup_run = Cleanup(&s, transient.clone());
    s.ok(&["run", &file, "--unit", &transient]);
    s.wait_for_comm(&transient, "sleep");
    let run_checks = verified(&s, &transient, Some(&file));
    assert_eq!(
        passed(&run_checks, "namespaces.private_users")
            .rsplit(':')
            .next(),
        users.rsplit(':').next()
    );
    assert_eq!(passed(&run_checks, "filesystem.private_tmp"), tmp);
    passed(&run_checks, "namespaces.protect_hostname");
}

#[test]
fn zswap_limits_are_refused_before_their_version_and_in_the_unit_cgroup_after() {
    let s = Sandgen::new();
    let version = s.container.systemd;
    let unit = unit_name("zswap", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let mut policy =
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[resources]\nmemory_zswap_max = \"16M\"\n"
            .to_owned();
    if version >= 256 {
        policy.push_str("memory_zswap_writeback = false\n");
    }
    let file = s.policy(&unit, &policy);
    if version < 253 {
        let err = s.fails_silently(&["start", &file]);
        assert!(
            err.starts_with(&format!(
                "error: `resources.memory_zswap_max` needs systemd 253 (MemoryZSwapMax= was \
                 added in version 253); the target systemd is {version}\n"
            )),
            "{err}"
        );
        return;
    }
    s.ok(&["start", &file]);
    s.wait_for_comm(&unit, "sleep");
    let checks = verified(&s, &unit, None);
    let (status, evidence) = &checks["resources.memory_zswap_max"];
    if s.container.cgroup_v2() {
        // The qemu guest: systemd 257 on pure cgroup v2, Linux 6.12.
        assert_eq!(
            (status.as_str(), evidence.as_str()),
            ("pass", "cgroup memory.zswap.max 16777216 (16M)")
        );
        if version >= 256 {
            assert_eq!(
                passed(&checks, "resources.memory_zswap_writeback"),
                "cgroup memory.zswap.writeback 0"
            );
        }
    } else {
        assert_eq!(status, "not_checkable", "{evidence}");
    }
}

/// A policy with every new directive and mode systemd `version` can express (for 252 the
/// mapped modes only).
fn new_modes_for(version: u32) -> String {
    let mut resources = String::from("memory_swap_max = \"0\"\n");
    let mut filesystem = String::from("private_tmp = \"disconnected\"\n");
    let mut namespaces = String::from(
        "private_users = \"identity\"\nprotect_hostname = \"private\"\nprivate_ipc = true\n",
    );
    if version >= 253 {
        resources.push_str("memory_zswap_max = \"16M\"\n");
    }
    if version >= 256 {
        resources.push_str("memory_zswap_writeback = false\n");
    }
    if version >= 257 {
        filesystem.push_str("protect_control_groups = \"strict\"\n");
        namespaces.push_str("private_pids = true\n");
    }
    format!(
        "[service]\nexec = [\"/bin/true\"]\n[resources]\n{resources}[filesystem]\n{filesystem}[namespaces]\n{namespaces}"
    )
}

/// `systemd-analyze verify` on this machine's systemd (the test's, not the lane's): the
/// unit files sandgen renders for 252, and for this systemd, with every new directive and
/// mode that version can express, load without a word.
#[test]
fn renders_with_the_new_modes_load_without_a_warning() {
    let out = Command::new("systemctl")
        .arg("--version")
        .output()
        .expect("systemctl (Debian package systemd): scripts/test.sh installs it");
    let local = major(&out.stdout);
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join("new-modes.toml");
    let unit = dir.path().join("new-modes.service");
    let mut versions = vec![252, local];
    versions.dedup();
    for version in versions {
        std::fs::write(&policy, new_modes_for(version)).expect("write policy");
        let out = Command::new(SANDGEN)
            .args([
                "-q",
                "render",
                "--systemd-version",
                &version.to_string(),
                "-o",
            ])
            .arg(&unit)
            .arg(&policy)
            .output()
            .expect("sandgen runs");
        assert!(out.status.success(), "{version}: {}", describe(&out));
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no", "--generators=no"])
            .arg(&unit)
            .output()
            .expect("systemd-analyze (Debian package systemd)");
        let unit_text = std::fs::read_to_string(&unit).expect("the unit");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "systemd {local}'s verify complained about the render for {version}:\n{}\n{unit_text}",
            String::from_utf8_lossy(&out.stderr)
        );
        if version == 252 {
            for line in ["PrivateTmp=yes", "PrivateUsers=yes", "ProtectHostname=yes"] {
                assert!(unit_text.lines().any(|l| l == line), "{line}:\n{unit_text}");
            }
        }
    }
}

/// The busybox demo (policies/busybox-container.toml) with `private_pids = true`: the
/// private PID namespace the talk describes. From systemd 257 on, the demo's `ps` sees only
/// the service's own processes, its shell as PID 1 and `ps` itself; before 257 sandgen
/// refuses the key, naming the version.
#[test]
fn busybox_with_private_pids_sees_only_its_own_processes() {
    let s = Sandgen::new();
    let tree = format!("/srv/sandgen-test-{}-pidns", std::process::id());
    struct Remove<'a>(&'a support::Container, String);
    impl Drop for Remove<'_> {
        fn drop(&mut self) {
            let _ = self.0.exec(&["rm", "-rf", &self.1]);
        }
    }
    let _remove = Remove(&s.container, tree.clone());
    s.container.exec_ok(&[
        "sh",
        "-c",
        &format!(
            "mkdir -p {tree}/bin && cp /bin/busybox {tree}/bin/ && \
             chroot {tree} /bin/busybox --install -s /bin"
        ),
    ]);
    let demo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/busybox-container.toml"
    ))
    .expect("the busybox demo");
    let root = "root_directory = \"/srv/sandgen/busybox\"\n";
    assert!(
        demo.contains(root) && demo.contains("\n[namespaces]\n"),
        "{demo}"
    );
    let text = demo
        .replace(root, &format!("root_directory = \"{tree}\"\n"))
        .replace("\n[namespaces]\n", "\n[namespaces]\nprivate_pids = true\n");
    let unit = unit_name("busybox-pidns", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let file = s.policy(&unit, &text);
    if s.container.systemd < 257 {
        let err = s.fails(&["start", &file]);
        assert!(
            err.contains("error: `namespaces.private_pids` needs systemd 257"),
            "{err}"
        );
        assert!(!s.unit_file(&unit).exists());
        return;
    }
    s.ok(&["start", &file]);
    // busybox ps prints `PID USER COMMAND`, then a row a process, the last one itself
    // (`{ps}`: a forked applet); journald may still be reading the stream, so wait for it.
    let rows = support::wait_for("the demo's ps in its journal", support::WAIT, || {
        let out = s
            .container
            .exec(&["journalctl", "-u", &unit, "-o", "cat", "--no-pager"]);
        let log = String::from_utf8_lossy(&out.stdout).into_owned();
        let rows: Vec<String> = log
            .lines()
            .skip_while(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                !(words.first() == Some(&"PID") && words.last() == Some(&"COMMAND"))
            })
            .skip(1)
            .map(str::to_owned)
            .collect();
        rows.iter()
            .any(|r| r.contains(" {ps}") || r.ends_with(" ps"))
            .then_some(rows)
    });
    let pids: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.split_whitespace().next())
        .collect();
    assert_eq!(pids.len(), 2, "only the shell and ps: {rows:#?}");
    assert_eq!(pids[0], "1", "the shell is PID 1: {rows:#?}");
    assert!(rows[0].contains("sh -c"), "{rows:#?}");
    let checks = verified(&s, &unit, None);
    passed(&checks, "namespaces.private_pids");
}
