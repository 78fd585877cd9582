//! Running sandgen with a stdout that fails: closed (the reader is gone) or full
//! (`/dev/full`), and the check that it never panicked.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output, Stdio};

/// SIGPIPE, the signal a closed pipe ends a well-behaved command with.
pub const SIGPIPE: i32 = 13;

/// Run `cmd` with stdout a pipe whose reader is already gone.
pub fn closed(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sandgen runs");
    drop(child.stdout.take());
    child.wait_with_output().expect("sandgen ends")
}

/// Run `cmd` with stdout on /dev/full.
pub fn full(mut cmd: Command) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    cmd.stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("sandgen runs")
}

/// No panic: neither the unwinding exit status (101) nor an abort (SIGABRT), and no panic
/// message.
pub fn assert_no_panic(args: &[&str], out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked"),
        "sandgen {args:?} panicked: {err}"
    );
    assert_ne!(out.status.code(), Some(101), "sandgen {args:?}: {err}");
    assert_ne!(
        out.status.signal(),
        Some(6),
        "sandgen {args:?} aborted: {err}"
    );
}
