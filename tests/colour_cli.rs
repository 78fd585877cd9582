//! Colour like systemctl's: on a terminal (a pseudo-terminal from util-linux's `script`)
//! the exposure level of `sandgen score` is coloured; with `NO_COLOR`, `SYSTEMD_COLORS=0`,
//! through a pipe, or as JSON it is not; `SYSTEMD_COLORS=1` colours a pipe too. Pure: no
//! systemd needed (the verify and status colours are tested against systemd in
//! tests/library.rs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

use std::process::{Command, Output};

const SANDGEN: &str = env!("CARGO_BIN_EXE_sandgen");
const GREEN_OK: &str = "\x1b[0;1;32mOK\x1b[0m";

fn heat() -> String {
    format!("{}/policies/heat.toml", env!("CARGO_MANIFEST_DIR"))
}

/// `sandgen ARGS` with `env` set, stdout a pipe or (`tty`) a pseudo-terminal.
fn sandgen(args: &[&str], env: &[(&str, &str)], tty: bool) -> Output {
    let mut cmd = if tty {
        // Paths and arguments here have no characters the shell would treat specially.
        let line = std::iter::once(SANDGEN)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        let mut c = Command::new("script");
        c.args(["-qec", &line, "/dev/null"]);
        c
    } else {
        let mut c = Command::new(SANDGEN);
        c.args(args);
        c
    };
    cmd.env_remove("NO_COLOR")
        .env_remove("SYSTEMD_COLORS")
        .env("TERM", "xterm");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {args:?} (the pseudo-terminal needs `script`, util-linux): {e}")
    });
    assert!(
        out.status.success(),
        "{args:?} {env:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

#[test]
fn a_terminal_gets_the_level_in_colour() {
    let out = stdout(&sandgen(&["score", &heat()], &[], true));
    assert!(
        out.contains(&format!(
            "heat.service: exposure 4.4 {GREEN_OK} (0 = locked down"
        )),
        "{out:?}"
    );
}

#[test]
fn no_color_system_colors_0_a_pipe_and_json_stay_plain() {
    for (env, tty) in [
        (&[("NO_COLOR", "1")][..], true),
        (&[("SYSTEMD_COLORS", "0")][..], true),
        (&[][..], false),
    ] {
        let out = stdout(&sandgen(&["score", &heat()], env, tty));
        assert!(
            out.contains("exposure 4.4 OK (0 = locked down"),
            "{env:?}: {out:?}"
        );
        assert!(!out.contains('\x1b'), "{env:?} tty {tty}: {out:?}");
    }
    let json = stdout(&sandgen(&["score", "--json", &heat()], &[], true));
    assert!(json.contains("\"level\": \"OK\""), "{json:?}");
    assert!(!json.contains('\x1b'), "{json:?}");
}

#[test]
fn systemd_colors_1_colours_a_pipe() {
    let out = stdout(&sandgen(
        &["score", &heat()],
        &[("SYSTEMD_COLORS", "1")],
        false,
    ));
    assert!(out.contains(GREEN_OK), "{out:?}");
}
