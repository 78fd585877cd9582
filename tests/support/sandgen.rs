//! The sandgen binary pointed at the test container's systemd, in a scratch directory, and
//! [`Cleanup`], the guard that stops and forgets a unit when a test ends.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

use super::{describe, Container};

/// The sandgen binary under test.
pub const SANDGEN: &str = env!("CARGO_BIN_EXE_sandgen");

/// sandgen pointed at the container's systemd, in a scratch directory.
pub struct Sandgen {
    pub container: Container,
    pub dir: tempfile::TempDir,
}

impl Sandgen {
    pub fn new() -> Self {
        Sandgen {
            container: Container::from_env(),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The container's root as sandgen sees it (its /run too, for the journal).
    pub fn root(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.container.init_pid))
    }

    /// `sandgen ARGS` in the scratch directory, against the container, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(SANDGEN);
        cmd.current_dir(self.dir.path())
            .args(args)
            .env("SANDGEN_BUS", &self.container.bus)
            .env("SANDGEN_ROOT", self.root());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("sandgen runs")
    }

    /// `sandgen ARGS`, which must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "sandgen {args:?} failed: {}",
            describe(&out)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// `sandgen ARGS`, which must succeed and print JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}):\n{out}"))
    }

    /// `sandgen ARGS`, which must exit with 1; its whole output.
    pub fn fails_output(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "sandgen {args:?} should fail: {}",
            describe(&out)
        );
        out
    }

    /// `sandgen ARGS`, which must exit with 1; its stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.fails_output(args);
        String::from_utf8(out.stderr).expect("utf-8")
    }

    /// `sandgen ARGS`, which must exit with 1 and print nothing on stdout; its stderr.
    pub fn fails_silently(&self, args: &[&str]) -> String {
        let out = self.fails_output(args);
        assert!(out.stdout.is_empty(), "{}", describe(&out));
        String::from_utf8(out.stderr).expect("utf-8")
    }

    /// Write a policy named after `unit` (a stem, or a unit name whose `.service` is
    /// dropped) into the scratch directory and return its file name.
    pub fn policy(&self, unit: &str, body: &str) -> String {
        let stem = unit.trim_end_matches(".service");
        let file = format!("{stem}.toml");
        std::fs::write(self.dir.path().join(&file), body).expect("write policy");
        file
    }

    /// Write `body` as the policy of `unit`, start it, and stop and remove it when the
    /// returned guard drops.
    pub fn start(&self, unit: &str, body: &str) -> Cleanup<'_> {
        let file = self.policy(unit, body);
        let guard = Cleanup(self, unit.to_owned());
        self.ok(&["start", &file]);
        guard
    }

    /// Where `unit`'s file is installed in the container, seen from the host.
    pub fn unit_file(&self, unit: &str) -> PathBuf {
        self.root().join("etc/systemd/system").join(unit)
    }

    /// The container PID systemd reports as `unit`'s main process, once it runs `comm`
    /// ([`Container::wait_for_comm`]).
    pub fn wait_for_comm(&self, unit: &str, comm: &str) -> u32 {
        self.container.wait_for_comm(unit, comm)
    }

    /// The container PID of `unit`'s main process once it runs the unit's command
    /// ([`Container::wait_for_exec`]).
    pub fn wait_for_exec(&self, unit: &str) -> u32 {
        self.container.wait_for_exec(unit)
    }
}

/// Stops and forgets a unit when the test ends, passed or not.
pub struct Cleanup<'a>(pub &'a Sandgen, pub String);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let c = &self.0.container;
        let _ = c.systemctl(&["stop", &self.1]);
        let _ = c.systemctl(&["reset-failed", &self.1]);
        let _ = std::fs::remove_file(self.0.unit_file(&self.1));
        let _ = c.systemctl(&["daemon-reload"]);
    }
}

/// The checks of a `verify --json` answer, by policy key (the last one of a repeated key).
pub fn statuses(json: &Value) -> std::collections::BTreeMap<String, (String, String)> {
    json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["key"].as_str().expect("key").to_owned(),
                (
                    c["status"].as_str().expect("status").to_owned(),
                    c["evidence"].as_str().expect("evidence").to_owned(),
                ),
            )
        })
        .collect()
}
