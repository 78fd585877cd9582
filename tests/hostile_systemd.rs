//! The commands that talk to systemd, used carelessly: stdout closed or full (never a
//! panic, and a closed pipe ends the command as it ends `cat`), and a unit systemd refuses
//! to load (its reason from the journal, not only "Invalid argument"). Against the real
//! systemd of the test container; these tests panic, never skip, without it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use support::sandgen::{Cleanup, Sandgen};
use support::stdout::{self, assert_no_panic, SIGPIPE};
use support::{describe, unit_name};

fn with_closed_stdout(s: &Sandgen, args: &[&str]) -> Output {
    stdout::closed(s.command(args))
}

fn with_full_stdout(s: &Sandgen, args: &[&str]) -> Output {
    stdout::full(s.command(args))
}

/// Run `args` three times: normally, with stdout closed, with stdout on /dev/full. The
/// command must end the same way each time, but for the closed pipe (SIGPIPE allowed where
/// it printed) and the full device (exit 1 saying so where it printed).
fn check_outputs(s: &Sandgen, args: &[&str]) {
    let normal = s.run(args);
    assert_no_panic(args, &normal);
    let printed = !normal.stdout.is_empty();

    let closed = with_closed_stdout(s, args);
    assert_no_panic(args, &closed);
    if normal.status.success() {
        assert!(
            closed.status.success() || closed.status.signal() == Some(SIGPIPE),
            "sandgen {args:?} with stdout closed: {}",
            describe(&closed)
        );
    } else {
        assert_eq!(
            closed.status.code(),
            normal.status.code(),
            "{}",
            describe(&closed)
        );
    }

    let full = with_full_stdout(s, args);
    assert_no_panic(args, &full);
    if printed {
        assert_eq!(
            full.status.code(),
            Some(1),
            "sandgen {args:?}: {}",
            describe(&full)
        );
        let err = String::from_utf8_lossy(&full.stderr);
        assert!(
            err.contains("error: cannot write to stdout: No space left on device (os error 28)"),
            "sandgen {args:?}: {err}"
        );
    } else {
        assert_eq!(
            full.status.code(),
            normal.status.code(),
            "{}",
            describe(&full)
        );
    }
}

#[test]
fn every_systemd_command_survives_a_closed_or_full_stdout() {
    let s = Sandgen::new();
    let unit = unit_name("closed-stdout", "service");
    let stem = unit.trim_end_matches(".service");
    let file = s.policy(
        &unit,
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n\n[filesystem]\nprivate_tmp = true\n",
    );
    let _guard = Cleanup(&s, unit.clone());
    let oneshot = unit_name("closed-stdout-run", "service");
    let run_file = s.policy(
        &oneshot,
        "[service]\nexec = [\"/bin/true\"]\ntype = \"oneshot\"\n",
    );
    let _run_guard = Cleanup(&s, oneshot.clone());

    check_outputs(&s, &["start", &file]);
    s.wait_for_comm(&unit, "sleep");
    for args in [
        &["status", stem][..],
        &["status", "--json", stem],
        &["inspect", stem],
        &["inspect", "--json", stem],
        &["inspect", "--mounts", "--ls", "/tmp", stem],
        &["verify", stem],
        &["verify", "--json", stem],
        &["freeze", stem],
        &["thaw", stem],
        &["restart", stem],
        &["run", &run_file],
        &["score", stem],
        &["stop", stem],
    ] {
        check_outputs(&s, args);
        if args[0] == "restart" {
            s.wait_for_comm(&unit, "sleep");
        }
    }
    // Last, once: uninstall removes the file, so a second run would fail for that reason.
    let closed = with_closed_stdout(&s, &["uninstall", stem]);
    assert_no_panic(&["uninstall"], &closed);
    assert!(
        closed.status.success() || closed.status.signal() == Some(SIGPIPE),
        "{}",
        describe(&closed)
    );
    assert!(
        !s.unit_file(&unit).exists(),
        "uninstall did its work before stdout failed"
    );
}

/// A unit file systemd refuses to load: `start` says why, from systemd's own log, not only
/// the D-Bus error's "Invalid argument".
#[test]
fn start_of_a_unit_systemd_refuses_shows_systemds_reason() {
    let s = Sandgen::new();
    let unit = unit_name("not-utf8-clean", "service");
    let _guard = Cleanup(&s, unit.clone());
    // U+FFFE is a noncharacter: sandgen's validation refuses it in a policy, so the unit is
    // written by hand, as a foreign unit file.
    std::fs::write(
        s.unit_file(&unit),
        "[Unit]\nDescription=bad \u{FFFE} text\n[Service]\nExecStart=/bin/true\n",
    )
    .expect("write the unit file");
    let err = s.fails(&["start", unit.trim_end_matches(".service")]);
    assert!(err.contains(&format!("error: starting {unit}")), "{err}");
    assert!(
        err.contains(&format!("last journal lines of {unit}:")),
        "{err}"
    );
    assert!(err.contains("String is not UTF-8 clean"), "{err}");
}
