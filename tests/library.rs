//! The policy library (`policies/`: static-web, tmp-clean, etc-backup, low-port-httpd,
//! offline-worker) against a real systemd: each starts, does its job (observed from
//! outside: an HTTP answer, a deleted file, an archive, a failed connection), and passes
//! `sandgen verify` without a FAIL. These tests panic, never skip, without the container.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::path::Path;

use serde_json::Value;
use support::sandgen::{Cleanup, Sandgen};
use support::{describe, unit_name, wait_for, WAIT};

/// The library's policies; every other policy in `policies/` is a seed demo, started by
/// tests/verify_cli.rs.
const LIBRARY: [&str; 5] = [
    "etc-backup",
    "low-port-httpd",
    "offline-worker",
    "static-web",
    "tmp-clean",
];

fn library(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("policies/{name}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `text` with `from` replaced, which must be there.
fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in:\n{text}");
    text.replace(from, to)
}

/// `sandgen verify UNIT --json` must report no FAIL (exit 0) and some PASS.
fn verify_passes(s: &Sandgen, unit: &str) -> Value {
    let out = s.run(&["verify", unit, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "verify {unit}: {}",
        describe(&out)
    );
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("verify {unit}: not JSON ({e}): {}", describe(&out)));
    assert_eq!(json["fail"], 0, "{unit}: {json:#}");
    assert!(json["pass"].as_u64() > Some(10), "{unit}: {json:#}");
    json
}

/// A oneshot job's sandbox, checked on a process that stays: the same policy with its
/// command replaced by a sleep (a finished job has no process left to look at).
fn verify_oneshot_sandbox(s: &Sandgen, name: &str, exec: &str) {
    let policy = replaced(
        &replaced(&library(name), "type = \"oneshot\"", "type = \"exec\""),
        exec,
        "exec = [\"/bin/sleep\", \"infinity\"]",
    );
    let unit = unit_name(&format!("{name}-sandbox"), "service");
    let _cleanup = s.start(&unit, &policy);
    s.wait_for_exec(&unit);
    verify_passes(s, &unit);
}

/// Whether anything answers `url` inside the container now (before a server starts, its
/// port must be free, or the answer would not be the server's).
fn answers(s: &Sandgen, url: &str) -> bool {
    s.container
        .exec(&["busybox", "wget", "-q", "-O", "/dev/null", url])
        .status
        .success()
}

/// The body `busybox wget` fetches from `url` inside the container, once it answers.
fn http_get(s: &Sandgen, url: &str) -> String {
    wait_for(&format!("{url} to answer"), WAIT, || {
        let out = s.container.exec(&["busybox", "wget", "-q", "-O", "-", url]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    })
}

#[test]
fn the_library_is_every_policy_that_is_not_a_demo() {
    // The seed demos, and the demos of the talk's other parts, which tests/talk.rs and
    // tests/io_ip.rs start (and tests/verify_cli.rs verifies with the seeds).
    let demos = [
        "apparmor-confined",
        "busybox-container",
        "busybox-container-1",
        "busybox-container-2",
        "cpuset-heat-a",
        "cpuset-heat-b",
        "heat",
        "io-limited",
        "localhost-only",
        "memhog",
        "net-admin-ambient",
        "no-net-admin",
        "seccomp-strict",
    ];
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"))
            .expect("policies/")
            .filter_map(|e| {
                let name = e.ok()?.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".toml").map(str::to_owned)
            })
            .filter(|n| !demos.contains(&n.as_str()))
            .collect();
    names.sort();
    assert_eq!(names, LIBRARY, "a new policy needs a test here");
}

#[test]
fn static_web_answers_on_loopback_and_passes_verify() {
    let s = Sandgen::new();
    let url = "http://127.0.0.1:8000/";
    assert!(!answers(&s, url), "something already answers on {url}");
    let unit = unit_name("static-web", "service");
    let _cleanup = s.start(&unit, &library("static-web"));
    let body = http_get(&s, url);
    assert!(body.contains("Directory listing for /"), "{body}");
    let json = verify_passes(&s, &unit);
    assert_eq!(json["unit"], unit.as_str());
}

#[test]
fn low_port_httpd_binds_port_80_unprivileged_and_passes_verify() {
    let s = Sandgen::new();
    // busybox httpd lists no directories: a file every Debian keeps.
    let url = "http://127.0.0.1:80/busybox-static/copyright";
    assert!(!answers(&s, url), "something already answers on {url}");
    let unit = unit_name("low-port-httpd", "service");
    let _cleanup = s.start(&unit, &library("low-port-httpd"));
    let body = http_get(&s, url);
    assert!(body.contains("Copyright"), "{body}");
    // It bound the privileged port as a dynamic user, not as root.
    let pid = s.wait_for_exec(&unit);
    let status =
        String::from_utf8(s.container.read_file(&format!("/proc/{pid}/status"))).expect("utf-8");
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .expect("an effective uid");
    assert_ne!(uid, "0", "{status}");
    verify_passes(&s, &unit);
}

#[test]
fn offline_worker_cannot_connect_and_passes_verify() {
    let s = Sandgen::new();
    let unit = unit_name("offline-worker", "service");
    let _cleanup = s.start(&unit, &library("offline-worker"));
    // Its command exits 1 if the request gets through, and execs sleep after it failed.
    s.wait_for_comm(&unit, "sleep");
    let journal = wait_for("the worker's journal lines", WAIT, || {
        let text = s
            .container
            .exec_ok(&["journalctl", "-q", "-o", "cat", "-u", &unit]);
        text.contains("offline-worker: no network").then_some(text)
    });
    assert!(
        journal.contains("Address family not supported by protocol"),
        "wget failed, but not at socket(): {journal}"
    );
    verify_passes(&s, &unit);
}

#[test]
fn tmp_clean_deletes_only_old_files_exits_0_and_its_sandbox_passes_verify() {
    let s = Sandgen::new();
    let old = format!("/var/tmp/sandgen-test-old-{}", std::process::id());
    let new = format!("/var/tmp/sandgen-test-new-{}", std::process::id());
    s.container.exec_ok(&["touch", "-d", "40 days ago", &old]);
    s.container.exec_ok(&["touch", &new]);
    let unit = unit_name("tmp-clean", "service");
    let cleanup = s.start(&unit, &library("tmp-clean"));
    // `start` of a oneshot returns once it has run.
    let props = s
        .container
        .show(&unit, &["Result", "ExecMainStatus", "ActiveState"]);
    assert_eq!(props["Result"], "success", "{props:?}");
    assert_eq!(props["ExecMainStatus"], "0", "{props:?}");
    assert!(!s.container.exists(&old), "{old} is still there");
    assert!(s.container.exists(&new), "{new} was deleted");
    s.container.exec_ok(&["rm", "-f", &new]);
    drop(cleanup);
    verify_oneshot_sandbox(
        &s,
        "tmp-clean",
        "exec = [\"/usr/bin/find\", \"/var/tmp\", \"-xdev\", \"-mindepth\", \"1\", \"-type\", \"f\", \"-mtime\", \"+30\", \"-delete\"]",
    );
}

#[test]
fn etc_backup_writes_its_archive_only_in_var_backups_and_its_sandbox_passes_verify() {
    let s = Sandgen::new();
    let archive = "/var/backups/etc.tar.gz";
    s.container.exec_ok(&["rm", "-f", archive]);
    let unit = unit_name("etc-backup", "service");
    let cleanup: Cleanup<'_> = s.start(&unit, &library("etc-backup"));
    let props = s.container.show(&unit, &["Result", "ExecMainStatus"]);
    assert_eq!(props["Result"], "success", "{props:?}");
    assert_eq!(props["ExecMainStatus"], "0", "{props:?}");
    let listing = s.container.exec_ok(&["tar", "-tzf", archive]);
    assert!(listing.lines().any(|l| l == "etc/passwd"), "{listing}");
    let mode = s.container.exec_ok(&["stat", "-c", "%a", archive]);
    assert_eq!(mode.trim(), "600", "umask 0077");
    s.container.exec_ok(&["rm", "-f", archive]);
    drop(cleanup);
    // Anywhere but /var/backups, the same sandbox cannot write.
    let policy = replaced(
        &library("etc-backup"),
        "\"--file\", \"/var/backups/etc.tar.gz\"",
        "\"--file\", \"/var/lib/etc.tar.gz\"",
    );
    let unit = unit_name("etc-backup-elsewhere", "service");
    let _cleanup = Cleanup(&s, unit.clone());
    let file = s.policy(&unit, &policy);
    let out = s.run(&["start", &file]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(!s.container.exists("/var/lib/etc.tar.gz"));
    verify_oneshot_sandbox(
        &s,
        "etc-backup",
        "exec = [\"/usr/bin/tar\", \"--create\", \"--gzip\", \"--file\", \"/var/backups/etc.tar.gz\", \"--directory\", \"/\", \"etc\"]",
    );
}

/// `sandgen ARGS` against the container with stdout a pseudo-terminal (util-linux's
/// `script`), or a pipe; `env` added. Its stdout and exit code.
fn on_terminal(s: &Sandgen, args: &[&str], env: &[(&str, &str)], tty: bool) -> (String, i32) {
    let mut cmd = if tty {
        // The arguments here are unit and file names without shell metacharacters.
        let line = std::iter::once(support::sandgen::SANDGEN)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        let mut c = std::process::Command::new("script");
        c.args(["-qec", &line, "/dev/null"])
            .current_dir(s.dir.path())
            .env("SANDGEN_BUS", &s.container.bus)
            .env("SANDGEN_ROOT", s.root());
        c
    } else {
        s.command(args)
    };
    cmd.env_remove("NO_COLOR")
        .env_remove("SYSTEMD_COLORS")
        .env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("script (util-linux) runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn status_inspect_and_verify_are_coloured_like_systemctl_on_a_terminal_only() {
    let s = Sandgen::new();
    let unit = unit_name("colour", "service");
    let body = "[service]\ndescription = \"colour\"\nexec = [\"/bin/sleep\", \"infinity\"]\n\
                [resources]\nmemory_max = \"64M\"\n[capabilities]\nbounding = []\n";
    let _cleanup = s.start(&unit, body);
    s.wait_for_comm(&unit, "sleep");
    let green = |t: &str| format!("\x1b[0;1;32m{t}\x1b[0m");
    let (status, code) = on_terminal(&s, &["status", &unit], &[], true);
    assert_eq!(code, 0, "{status}");
    assert!(
        status.starts_with(&format!("{unit}: {}, main PID ", green("active (running)"))),
        "{status:?}"
    );
    let (inspect, code) = on_terminal(&s, &["inspect", &unit], &[], true);
    assert_eq!(code, 0, "{inspect}");
    assert!(
        inspect.starts_with(&format!("{unit}: {}, main PID ", green("active (running)"))),
        "{inspect:?}"
    );
    let (verify, code) = on_terminal(&s, &["verify", &unit], &[], true);
    assert_eq!(code, 0, "{verify}");
    assert!(
        verify.contains(&format!(
            "  {}           capabilities.bounding",
            green("PASS")
        )),
        "{verify:?}"
    );
    assert!(
        verify.contains("  \x1b[0;1;33mNOT CHECKABLE\x1b[0m  service.description"),
        "{verify:?}"
    );
    // Against another policy: its memory limit fails, in red.
    let other = s.policy("colour-other", &body.replace("64M", "32M"));
    let (verify, code) = on_terminal(&s, &["verify", &unit, "--policy", &other], &[], true);
    assert_eq!(code, 1, "{verify}");
    assert!(
        verify.contains("  \x1b[0;1;31mFAIL\x1b[0m           resources.memory_max"),
        "{verify:?}"
    );
    // Plain with NO_COLOR, SYSTEMD_COLORS=0, through a pipe, and as JSON.
    for (env, tty) in [
        (&[("NO_COLOR", "1")][..], true),
        (&[("SYSTEMD_COLORS", "0")][..], true),
        (&[][..], false),
    ] {
        for args in [
            &["status", &unit][..],
            &["inspect", &unit],
            &["verify", &unit],
            &["verify", &unit, "--json"],
        ] {
            let (out, code) = on_terminal(&s, args, env, tty);
            assert_eq!(code, 0, "{args:?} {env:?}: {out}");
            assert!(out.contains(unit.as_str()), "{out}");
            assert!(!out.contains('\x1b'), "{args:?} {env:?} tty {tty}: {out:?}");
        }
    }
    let (json, _) = on_terminal(&s, &["verify", &unit, "--json"], &[], true);
    assert!(json.contains("\"status\": \"pass\""), "{json:?}");
    assert!(!json.contains('\x1b'), "{json:?}");
}
