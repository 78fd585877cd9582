//! The last journal lines of a unit, for failure reports.
//!
//! The journal has no D-Bus API; sandgen asks `journalctl`, pointed with `--root` at the
//! file system of the systemd instance it talks to (for a container, `/proc/PID/root`), or
//! on the other machine over SSH (`--host`).

use std::path::Path;
use std::process::Command;

/// The arguments of `journalctl` for the last `lines` lines of `unit`.
fn args(unit: &str, lines: usize) -> Vec<String> {
    [
        "--no-pager",
        "--quiet",
        "-o",
        "short-precise",
        "-n",
        &lines.to_string(),
        "-u",
        unit,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// [`tail`] of the journal of the machine `ssh` reaches.
pub fn tail_remote(ssh: &super::ssh::Ssh, unit: &str, lines: usize) -> Vec<String> {
    let mut argv = vec!["journalctl".to_owned()];
    argv.extend(args(unit, lines));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    match ssh.run(&argv) {
        Ok(out) => out.lines().map(str::to_owned).collect(),
        Err(e) => {
            log::debug!("cannot read the journal: {e}");
            Vec::new()
        }
    }
}

/// The last `lines` journal lines of `unit`, or nothing when the journal cannot be read.
pub fn tail(root: Option<&Path>, unit: &str, lines: usize) -> Vec<String> {
    let mut cmd = Command::new("journalctl");
    cmd.args(args(unit, lines));
    if let Some(root) = root {
        cmd.arg("--root").arg(root);
    }
    match cmd.output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
        Ok(out) => {
            log::debug!(
                "journalctl failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            Vec::new()
        }
        Err(e) => {
            log::debug!("cannot run journalctl: {e}");
            Vec::new()
        }
    }
}
