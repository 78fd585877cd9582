//! Smoke tests of the test harness against the real systemd it boots: the systemd the
//! harness promised (252 in the container lane, 257 in the guest lane) is PID 1, its bus answers from the host, the checkout is visible live, and the sandbox
//! basics sandgen relies on (PrivateTmp=, MemoryMax=, SystemCallFilter=) are enforced
//! by the kernel, checked the way a user would check them.
//!
//! Run with `sudo scripts/test.sh --test systemd_smoke`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::process::Command;

use support::{describe, unit_name, Container, WAIT};

#[test]
fn pid1_is_the_lanes_systemd_and_its_bus_answers_from_the_host() {
    let c = Container::from_env();

    assert_eq!(
        c.read_file("/proc/1/comm"),
        b"systemd\n",
        "PID 1 inside the container"
    );
    let version = c.exec_ok(&["systemctl", "--version"]);
    assert!(
        version.starts_with(&format!("systemd {} ", c.systemd)),
        "systemctl --version says:\n{version}"
    );
    let state = c.systemctl(&["is-system-running"]);
    assert_eq!(
        String::from_utf8_lossy(&state.stdout).trim(),
        "running",
        "{}",
        describe(&state)
    );

    // The address sandgen's D-Bus client will use, from the host's side.
    let out = Command::new("busctl")
        .args([
            "--address",
            &c.bus,
            "get-property",
            "org.freedesktop.systemd1",
        ])
        .args([
            "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager",
            "Version",
        ])
        .output()
        .expect("run busctl on the host");
    let reply = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && reply.starts_with(&format!("s \"{}", c.systemd)),
        "busctl on {}: {}",
        c.bus,
        describe(&out)
    );
}

#[test]
fn checkout_and_build_output_are_visible_live_inside() {
    let c = Container::from_env();

    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    assert!(
        c.exists(manifest),
        "{manifest} is not visible in the container"
    );

    // A file created on the host after the container booted (like a binary built after
    // `up`): an overlay lower layer can keep a cached "no such file"; the bind mount
    // must not. Look it up first so that a stale negative entry would exist.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("sandgen-smoke-live-{}", std::process::id()));
    let inside = path.to_str().expect("UTF-8 target dir");
    assert!(
        !c.exists(inside),
        "{inside} exists before the test created it"
    );
    std::fs::write(&path, b"built after boot\n").expect("write into CARGO_TARGET_TMPDIR");
    let seen = c.exec(&["cat", inside]);
    std::fs::remove_file(&path).expect("remove test file");
    assert_eq!(
        seen.stdout,
        b"built after boot\n",
        "container does not see {inside}: {}",
        describe(&seen)
    );
}

#[test]
fn private_tmp_hides_the_service_files_from_the_system_tmp() {
    let c = Container::from_env();
    let unit = unit_name("privatetmp", "service");
    let marker = format!("{}.marker", unit.trim_end_matches(".service"));
    let guard = c.install_unit(
        &unit,
        &format!(
            "[Service]\nType=oneshot\nRemainAfterExit=yes\nPrivateTmp=yes\n\
             ExecStart=/bin/sh -c 'echo written-by-service > /tmp/{marker}'\n"
        ),
    );

    let start = c.systemctl(&["start", guard.name()]);
    assert!(start.status.success(), "start {unit}: {}", describe(&start));

    assert!(
        !c.exists(&format!("/tmp/{marker}")),
        "/tmp/{marker} leaked into the system's /tmp"
    );
    // systemd.exec(5), PrivateTmp=: the unit's /tmp is /tmp/systemd-private-*-UNIT-*/tmp
    let private = c.exec(&[
        "sh",
        "-c",
        &format!("cat /tmp/systemd-private-*-{unit}-*/tmp/{marker}"),
    ]);
    assert_eq!(
        private.stdout,
        b"written-by-service\n",
        "the service's private /tmp: {}",
        describe(&private)
    );
}

#[test]
fn memory_max_gets_a_memory_hog_oom_killed() {
    let c = Container::from_env();
    let unit = unit_name("memorymax", "service");
    let guard = c.install_unit(
        &unit,
        "[Service]\nType=exec\nMemoryMax=20M\n\
         ExecStart=/usr/bin/python3 -c 'b = bytearray(100 * 1024 * 1024)'\n",
    );

    let _ = c.systemctl(&["start", guard.name()]);
    let props = c.wait_until_stopped(
        &unit,
        WAIT,
        &["Result", "ExecMainCode", "ExecMainStatus", "MemoryMax"],
    );
    let context = format!(
        "{props:?}\n{}",
        c.exec_ok(&["journalctl", "-u", &unit, "--no-pager"])
    );
    assert_eq!(
        props["MemoryMax"],
        (20 * 1024 * 1024).to_string(),
        "{context}"
    );

    // The kernel's word: the memcg OOM killer fired inside this unit's cgroup.
    wait_for_kernel_log(
        &format!("/system.slice/{unit},task="),
        "a memcg OOM kill in the unit",
    );

    if c.exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") {
        // cgroup v1 memory controller (hybrid hosts, like Debian 12 CI): systemd 252 only
        // learns of OOM kills from cgroup v2 memory.events, so it reports a plain SIGKILL.
        assert_eq!(props["Result"], "signal", "{context}");
        assert_eq!(props["ExecMainStatus"], "9", "SIGKILL expected: {context}");
    } else {
        assert_eq!(props["Result"], "oom-kill", "{context}");
    }
}

#[test]
fn system_call_filter_kills_a_denied_call_with_sigsys() {
    let c = Container::from_env();

    // Control: without the filter, uname runs fine.
    let plain = unit_name("uname-plain", "service");
    let guard = c.install_unit(&plain, "[Service]\nType=exec\nExecStart=/bin/uname\n");
    let _ = c.systemctl(&["start", guard.name()]);
    let props = c.wait_until_stopped(&plain, WAIT, &["Result", "ExecMainStatus"]);
    assert_eq!(
        (props["Result"].as_str(), props["ExecMainStatus"].as_str()),
        ("success", "0"),
        "{props:?}"
    );

    let filtered = unit_name("uname-filtered", "service");
    let guard = c.install_unit(
        &filtered,
        "[Service]\nType=exec\nSystemCallFilter=~uname\nExecStart=/bin/uname\n",
    );
    let _ = c.systemctl(&["start", guard.name()]);
    let props = c.wait_until_stopped(
        &filtered,
        WAIT,
        &["Result", "ExecMainCode", "ExecMainStatus"],
    );
    let context = format!(
        "{props:?}\n{}",
        c.exec_ok(&["journalctl", "-u", &filtered, "--no-pager"])
    );
    // Killed by signal 31 = SIGSYS (seccomp's default action for SystemCallFilter=);
    // "core-dump" instead of "signal" where the core limit allows a dump.
    assert_eq!(props["ExecMainStatus"], "31", "{context}");
    assert!(
        matches!(props["Result"].as_str(), "signal" | "core-dump"),
        "{context}"
    );
}

/// Waits until the host's kernel log has a line containing `needle`.
fn wait_for_kernel_log(needle: &str, what: &str) {
    support::wait_for(what, WAIT, || {
        let out = Command::new("dmesg")
            .output()
            .expect("run dmesg on the host");
        String::from_utf8_lossy(&out.stdout)
            .contains(needle)
            .then_some(())
    });
}
