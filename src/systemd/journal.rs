//! The last journal lines of a unit, for failure reports.
//!
//! The journal has no D-Bus API; sandgen asks `journalctl`, pointed with `--root` at the
//! file system of the systemd instance it talks to (for a container, `/proc/PID/root`).

use std::path::Path;
use std::process::Command;

/// The last `lines` journal lines of `unit`, or nothing when the journal cannot be read.
pub fn tail(root: Option<&Path>, unit: &str, lines: usize) -> Vec<String> {
    let mut cmd = Command::new("journalctl");
    cmd.args(["--no-pager", "--quiet", "-o", "short-precise", "-n"])
        .arg(lines.to_string())
        .arg("-u")
        .arg(unit);
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
