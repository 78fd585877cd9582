//! `sandgen --host`: the lane's systemd reached the way `systemctl -H` reaches a machine,
//! through a real `sshd` running inside it (on a loopback port, with keys made for the test)
//! and `ssh ... systemd-stdio-bridge`. sandgen gets the test's ssh config through
//! `SANDGEN_SSH`, a wrapper that runs `ssh -F CONFIG`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use support::sandgen::{Sandgen, SANDGEN};
use support::{describe, unit_name, wait_for, Container};

/// The tests change what the remote has in /usr/local/bin: one at a time.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An sshd inside the lane's machine, and a client configuration for it on this side.
struct Remote {
    container: Container,
    /// Client side: keys, known_hosts, config, the ssh wrapper.
    client: tempfile::TempDir,
    /// Its directory inside the machine (host keys, authorized_keys).
    inside: String,
    sshd_unit: String,
}

/// A port nothing listens on now (the kernel's pick), on the loopback.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local address").port()
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen runs (openssh-client)");
    assert!(out.status.success(), "{}", describe(&out));
}

impl Remote {
    /// Start sshd in the machine and wait until `ssh box true` gets in.
    fn start(container: &Container) -> Remote {
        let tag = unit_name("sshd", "service")
            .trim_end_matches(".service")
            .to_owned();
        let client = tempfile::tempdir().expect("tempdir");
        let c = client.path();
        keygen(&c.join("host"));
        keygen(&c.join("client"));
        let inside = format!("/etc/{tag}");
        let here = container.root.join(inside.trim_start_matches('/'));
        std::fs::create_dir_all(&here).expect("mkdir in the machine");
        std::fs::copy(c.join("host"), here.join("host")).expect("host key");
        std::fs::copy(c.join("client.pub"), here.join("authorized_keys")).expect("keys");
        let port = free_port();
        let host_pub = std::fs::read_to_string(c.join("host.pub")).expect("host.pub");
        std::fs::write(
            c.join("known_hosts"),
            format!("[127.0.0.1]:{port} {host_pub}"),
        )
        .expect("known_hosts");
        let config = format!(
            "Host box\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {key}\n  \
             IdentitiesOnly yes\n  UserKnownHostsFile {known}\n  StrictHostKeyChecking yes\n\n\
             Host down\n  HostName 127.0.0.1\n  Port {closed}\n  User root\n  IdentityFile {key}\n  \
             IdentitiesOnly yes\n  UserKnownHostsFile {known}\n  StrictHostKeyChecking yes\n",
            key = c.join("client").display(),
            known = c.join("known_hosts").display(),
            closed = free_port(),
        );
        std::fs::write(c.join("config"), config).expect("config");
        let wrapper = c.join("ssh");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/sh\nexec ssh -F {} \"$@\"\n",
                c.join("config").display()
            ),
        )
        .expect("wrapper");
        let out = Command::new("chmod")
            .arg("755")
            .arg(&wrapper)
            .output()
            .expect("chmod");
        assert!(out.status.success());
        let sshd_unit = format!("{tag}.service");
        container.exec_ok(&[
            "systemd-run",
            "--unit",
            &sshd_unit,
            "-p",
            "RuntimeDirectory=sshd",
            "/usr/sbin/sshd",
            "-D",
            "-e",
            "-f",
            "/dev/null",
            "-p",
            &port.to_string(),
            "-o",
            "ListenAddress=127.0.0.1",
            "-o",
            &format!("HostKey={inside}/host"),
            "-o",
            &format!("AuthorizedKeysFile={inside}/authorized_keys"),
            "-o",
            "PermitRootLogin=prohibit-password",
            "-o",
            "StrictModes=no",
            "-o",
            "UsePAM=no",
            "-o",
            "PidFile=none",
        ]);
        let remote = Remote {
            container: container.clone(),
            client,
            inside,
            sshd_unit,
        };
        wait_for("sshd to let the test in", Duration::from_secs(60), || {
            remote.ssh(&["true"]).status.success().then_some(())
        });
        remote
    }

    fn wrapper(&self) -> PathBuf {
        self.client.path().join("ssh")
    }

    /// `ssh box ARGS` with the test's configuration.
    fn ssh(&self, args: &[&str]) -> Output {
        Command::new(self.wrapper())
            .args(["-o", "BatchMode=yes", "box"])
            .args(args)
            .output()
            .expect("ssh runs")
    }

    /// `sandgen ARGS` with the test's ssh, in `dir`, and nothing pointing it at the lane's
    /// bus: every answer comes over SSH.
    fn sandgen(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(SANDGEN)
            .current_dir(dir)
            .args(args)
            .env_remove("SANDGEN_BUS")
            .env_remove("SANDGEN_ROOT")
            .env("SANDGEN_SSH", self.wrapper())
            .output()
            .expect("sandgen runs")
    }

    fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.sandgen(dir, args);
        assert!(out.status.success(), "sandgen {args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        let _ = self.container.systemctl(&["stop", &self.sshd_unit]);
        let _ = self.container.systemctl(&["reset-failed", &self.sshd_unit]);
        let _ = std::fs::remove_dir_all(
            self.container
                .root
                .join(self.inside.trim_start_matches('/')),
        );
    }
}

fn sleeper(unit: &str, seconds: &str) -> String {
    format!(
        "[service]\nname = \"{}\"\nexec = [\"/bin/sleep\", \"{seconds}\"]\n\n[seccomp]\nallow = [\"@system-service\"]\n",
        unit.trim_end_matches(".service")
    )
}

#[test]
fn a_unit_is_installed_started_changed_and_removed_over_ssh() {
    let _serial = one_at_a_time();
    let s = Sandgen::new();
    let remote = Remote::start(&s.container);
    let unit = unit_name("remote", "service");
    let _cleanup = support::sandgen::Cleanup(&s, unit.clone());
    let file = s.policy(&unit, &sleeper(&unit, "600"));
    let dir = s.dir.path();

    let out = remote.sandgen(dir, &["-H", "box", "start", &file]);
    assert!(out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("installed box:/etc/systemd/system/{unit}")),
        "{stderr}"
    );
    assert_eq!(s.container.property(&unit, "ActiveState"), "active");
    let installed = std::fs::read_to_string(s.unit_file(&unit)).expect("the unit file, there");
    assert!(
        installed.starts_with("# Generated by sandgen"),
        "{installed}"
    );
    assert!(
        !Path::new("/etc/systemd/system").join(&unit).exists()
            || s.container.root == Path::new("/"),
        "nothing written on this side"
    );

    let status: Value =
        serde_json::from_str(&remote.ok(dir, &["-H", "box", "status", &unit, "--json"]))
            .expect("JSON");
    assert_eq!(status["active_state"], "active", "{status}");
    assert_eq!(status["generated_by_sandgen"], true, "{status}");

    // A changed policy: the file is replaced there, systemd reloaded, the restart runs it.
    std::fs::write(dir.join(&file), sleeper(&unit, "700")).expect("policy");
    let out = remote.sandgen(dir, &["-H", "box", "install", &file]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("updated box:/etc/systemd/system/{unit}")),
        "{}",
        describe(&out)
    );
    assert_eq!(s.container.property(&unit, "NeedDaemonReload"), "no");
    remote.ok(dir, &["-H", "box", "restart", &unit]);
    assert!(
        s.container.property(&unit, "ExecStart").contains("700"),
        "{}",
        s.container.property(&unit, "ExecStart")
    );

    let out = remote.ok(dir, &["-H", "box", "uninstall", &unit]);
    assert_eq!(
        out,
        format!("{unit}: stopped and removed box:/etc/systemd/system/{unit}\n")
    );
    assert!(!s.unit_file(&unit).exists());
    assert_eq!(s.container.property(&unit, "ActiveState"), "inactive");
}

#[test]
fn run_starts_a_transient_unit_there_and_writes_no_file() {
    let _serial = one_at_a_time();
    let s = Sandgen::new();
    let remote = Remote::start(&s.container);
    let unit = unit_name("remote-run", "service");
    let _cleanup = support::sandgen::Cleanup(&s, unit.clone());
    let file = s.policy(&unit, &sleeper(&unit, "600"));
    let out = remote.ok(s.dir.path(), &["-H", "box", "run", &file]);
    assert!(out.contains("active (running)"), "{out}");
    assert_eq!(s.container.property(&unit, "ActiveState"), "active");
    assert!(
        s.container
            .property(&unit, "FragmentPath")
            .starts_with("/run/systemd/transient/"),
        "a transient unit"
    );
    assert!(!s.unit_file(&unit).exists());
    remote.ok(s.dir.path(), &["-H", "box", "stop", &unit]);
    assert_eq!(s.container.property(&unit, "ActiveState"), "inactive");
}

#[test]
fn policies_are_checked_against_the_groups_of_the_remote_systemd() {
    let _serial = one_at_a_time();
    let s = Sandgen::new();
    let remote = Remote::start(&s.container);
    // The remote's systemd-analyze knows a group this side's does not.
    let fake = s.container.root.join("usr/local/bin/systemd-analyze");
    std::fs::write(
        &fake,
        "#!/bin/sh\nif [ \"$1\" = syscall-filter ]; then /usr/bin/systemd-analyze \"$@\" || exit; \
         printf '\\n@sandgen-remote-only\\n    # a group only that machine has\\n    getpid\\n'; \
         else exec /usr/bin/systemd-analyze \"$@\"; fi\n",
    )
    .expect("write the remote's systemd-analyze");
    struct Remove(PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let _remove = Remove(fake.clone());
    let out = Command::new("chmod")
        .arg("755")
        .arg(&fake)
        .output()
        .expect("chmod");
    assert!(out.status.success());
    let unit = unit_name("remote-groups", "service");
    let file = s.policy(
        &unit,
        "[service]\nexec = [\"/bin/true\"]\n\n[seccomp]\nallow = [\"@sandgen-remote-only\", \"@system-service\"]\n",
    );

    let out = remote.sandgen(s.dir.path(), &["-H", "box", "check", &file]);
    assert!(out.status.success(), "{}", describe(&out));
    // Here (this side's PATH has no /usr/local/bin) the group is unknown.
    let out = Command::new(SANDGEN)
        .current_dir(s.dir.path())
        .args(["check", &file])
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .expect("sandgen runs");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("@sandgen-remote-only"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_fleet_run_reports_every_host_and_fails_when_one_is_down() {
    let _serial = one_at_a_time();
    let s = Sandgen::new();
    let remote = Remote::start(&s.container);
    let out = remote.sandgen(s.dir.path(), &["-H", "box", "-H", "down", "status", "dbus"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"box: ok"), "{stdout}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  dbus.service: active (running)")),
        "{stdout}"
    );
    let down = lines
        .iter()
        .find(|l| l.starts_with("down: FAILED: "))
        .unwrap_or_else(|| panic!("a line for down: {stdout}"));
    assert!(down.contains("cannot reach its systemd over SSH"), "{down}");
    assert_eq!(lines.last(), Some(&"2 hosts: 1 ok, 1 failed"), "{stdout}");

    let out = remote.sandgen(
        s.dir.path(),
        &["-H", "box", "--host", "down", "status", "dbus", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["box"]["exit_status"], 0, "{doc}");
    assert_eq!(doc["box"]["report"]["unit"], "dbus.service", "{doc}");
    assert_eq!(doc["down"]["exit_status"], 1, "{doc}");
    assert!(doc["down"]["report"].is_null(), "{doc}");
}

#[test]
fn inspect_and_verify_run_sandgen_there() {
    let _serial = one_at_a_time();
    let s = Sandgen::new();
    let remote = Remote::start(&s.container);
    let unit = unit_name("remote-verify", "service");
    let _cleanup = s.start(&unit, &sleeper(&unit, "600"));
    s.wait_for_exec(&unit);

    // No sandgen there.
    let out = remote.sandgen(s.dir.path(), &["-H", "box", "inspect", &unit]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: box: sandgen is not installed there (`sandgen` is not in its PATH); it reads \
         that machine's kernel, so it must run there: install its Debian package, or copy the \
         binary to /usr/local/bin\n"
    );

    // With the binary under test there, the report is the one a local run gives there.
    let link = s.container.root.join("usr/local/bin/sandgen");
    std::os::unix::fs::symlink(SANDGEN, &link).expect("symlink sandgen there");
    struct Remove(PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let _remove = Remove(link);
    let there: Value =
        serde_json::from_str(&remote.ok(s.dir.path(), &["-H", "box", "inspect", &unit, "--json"]))
            .expect("JSON");
    let here = s.json(&["inspect", &unit, "--json"]);
    // The same process, seen from inside (its PID there) and from here.
    assert_eq!(there["unit"], here["unit"], "{there}");
    for key in ["capabilities", "no_new_privs", "seccomp"] {
        assert_eq!(there[key], here[key], "{key}: {there}");
    }
    let out = remote.sandgen(s.dir.path(), &["-H", "box", "verify", &unit, "--json"]);
    let local = s.run(&["verify", &unit, "--json"]);
    assert_eq!(out.status.code(), local.status.code(), "{}", describe(&out));
    let there: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let here: Value = serde_json::from_slice(&local.stdout).expect("JSON");
    assert_eq!(
        support::sandgen::statuses(&there),
        support::sandgen::statuses(&here)
    );
}
