//! Helpers for integration tests that run against a real systemd.
//!
//! `scripts/test.sh` boots systemd as PID 1 of a throwaway systemd-nspawn container
//! (`tests/harness/systemd-container.sh`) and exports `SANDGEN_TEST_*`; tests reach it
//! with [`Container::from_env`]. The container's root is an overlay of the host's `/`,
//! so it has the same binaries; the checkout (and `target/`) is bind-mounted live.
//!
//! Inside the container (`exec`, `systemctl`) it is a normal machine with systemd as
//! PID 1, and PIDs systemd reports are valid there. From the host, the system bus is
//! [`Container::bus`]; PIDs it reports are container PIDs.
//!
//! Two lanes run the same test binaries. The container lane is the above: systemd 252 on
//! the host's hybrid cgroups. The guest lane (`tests/harness/v2vm.sh`) runs them inside a
//! qemu guest whose PID 1 is systemd 257 on pure cgroup v2, with the checkout shared at the
//! same path: there the "container" is the machine the test runs on (`init_pid` 1, `root`
//! `/`, the local system bus). [`Container::systemd`] says which systemd answers; write a
//! test once and let it expect what that systemd and the cgroup layout should do.
//!
//! Tests share the one container and run in parallel: give every unit a unique name
//! ([`unit_name`]) and install it with [`Container::install_unit`], whose guard removes
//! it again even when the test panics. Never skip when the container is missing: fail.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub mod sandgen;
pub mod stdout;
pub mod toml_text;

const HOW_TO_RUN: &str = "these tests need the systemd container that `scripts/test.sh` \
     boots: run the tests with `sudo scripts/test.sh [cargo test args]`, not plain `cargo test`";

/// PATH for commands run inside the container (systemd's default for services).
const CONTAINER_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The running test container, as described by the `SANDGEN_TEST_*` variables.
#[derive(Debug, Clone)]
pub struct Container {
    /// Machine name (`SANDGEN_TEST_CONTAINER`).
    pub name: String,
    /// Host PID of the container's systemd (`SANDGEN_TEST_INIT_PID`).
    pub init_pid: u32,
    /// D-Bus address of the container's system bus, usable from the host
    /// (`SANDGEN_TEST_BUS`).
    pub bus: String,
    /// The container's root file system as seen from the host (`SANDGEN_TEST_ROOT`).
    /// Bind mounts inside the container (the checkout) are not visible under it.
    pub root: PathBuf,
    /// The major version of the systemd the harness booted (`SANDGEN_TEST_SYSTEMD`): 252
    /// in the container lane, 257 in the guest lane (`tests/harness/v2vm.sh`).
    pub systemd: u32,
}

impl Container {
    /// The container `scripts/test.sh` started. Panics, never skips, when there is none.
    pub fn from_env() -> Container {
        let var = |key: &str| {
            std::env::var(key)
                .unwrap_or_else(|_| panic!("environment variable {key} is not set: {HOW_TO_RUN}"))
        };
        let name = var("SANDGEN_TEST_CONTAINER");
        let pid = var("SANDGEN_TEST_INIT_PID");
        let init_pid: u32 = pid.parse().unwrap_or_else(|e| {
            panic!("SANDGEN_TEST_INIT_PID={pid:?} is not a PID ({e}): {HOW_TO_RUN}")
        });
        let comm = std::fs::read_to_string(format!("/proc/{init_pid}/comm")).unwrap_or_default();
        assert!(
            comm.trim_end() == "systemd",
            "container {name}: host PID {init_pid} is not systemd (comm {comm:?}), the container \
             is gone: {HOW_TO_RUN}"
        );
        let version = var("SANDGEN_TEST_SYSTEMD");
        let systemd: u32 = version.parse().unwrap_or_else(|e| {
            panic!("SANDGEN_TEST_SYSTEMD={version:?} is not a version ({e}): {HOW_TO_RUN}")
        });
        let container = Container {
            name,
            init_pid,
            bus: var("SANDGEN_TEST_BUS"),
            root: PathBuf::from(var("SANDGEN_TEST_ROOT")),
            systemd,
        };
        assert!(
            container.root.join("etc/systemd/system").is_dir(),
            "container {}: SANDGEN_TEST_ROOT={} has no etc/systemd/system: {HOW_TO_RUN}",
            container.name,
            container.root.display()
        );
        container
    }

    /// A command that runs `args` inside the container: all its namespaces, a clean
    /// environment, cwd `/`. Add stdin or env before running it. (The process stays in
    /// the test's cgroups, outside the container's: start a unit to get a cgroup.)
    pub fn command(&self, args: &[&str]) -> Command {
        assert!(!args.is_empty(), "Container::command needs a program");
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.init_pid.to_string(), "-a", "--"])
            .args([
                "env",
                "-i",
                &format!("PATH={CONTAINER_PATH}"),
                "HOME=/root",
                "LANG=C.UTF-8",
            ])
            .args(args);
        cmd
    }

    /// Runs `args` inside the container and returns what it did, success or not.
    pub fn exec(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap_or_else(|e| {
            panic!(
                "cannot run nsenter for {args:?} in container {}: {e}",
                self.name
            )
        })
    }

    /// Runs `args` inside the container; panics with its output unless it succeeds.
    /// Returns its stdout.
    pub fn exec_ok(&self, args: &[&str]) -> String {
        let out = self.exec(args);
        assert!(
            out.status.success(),
            "in container {}: {args:?} failed: {}",
            self.name,
            describe(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `systemctl ARGS` inside the container (no pager, no "ask password").
    pub fn systemctl(&self, args: &[&str]) -> Output {
        let mut full = vec!["systemctl", "--no-pager", "--no-ask-password"];
        full.extend_from_slice(args);
        self.exec(&full)
    }

    /// The given properties of `unit` (`systemctl show -p ...`), by name.
    pub fn show(&self, unit: &str, properties: &[&str]) -> BTreeMap<String, String> {
        let mut args = vec!["systemctl", "show", unit];
        for p in properties {
            args.extend(["-p", p]);
        }
        self.exec_ok(&args)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// One property of `unit`.
    pub fn property(&self, unit: &str, property: &str) -> String {
        self.show(unit, &[property])
            .remove(property)
            .unwrap_or_default()
    }

    /// Writes `text` to /etc/systemd/system/`name` in the container and reloads systemd.
    /// The returned guard stops and removes the unit when dropped.
    ///
    /// A unit started again and again within seconds hits systemd's start rate limit
    /// (`Result=start-limit-hit`): put `StartLimitIntervalSec=0` in its `[Unit]`.
    #[must_use = "the unit is removed when the guard is dropped"]
    pub fn install_unit(&self, name: &str, text: &str) -> UnitGuard<'_> {
        assert!(
            !name.contains('/'),
            "unit name {name:?} must be a file name"
        );
        let path = self.root.join("etc/systemd/system").join(name);
        std::fs::write(&path, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        let guard = UnitGuard {
            container: self,
            name: name.to_owned(),
            path,
        };
        self.exec_ok(&["systemctl", "daemon-reload"]);
        guard
    }

    /// The contents of `path` as read inside the container (symlinks resolve there).
    pub fn read_file(&self, path: &str) -> Vec<u8> {
        let out = self.exec(&["cat", "--", path]);
        assert!(
            out.status.success(),
            "in container {}: cannot read {path}: {}",
            self.name,
            describe(&out)
        );
        out.stdout
    }

    /// Whether the machine's cgroups are pure v2 (`/sys/fs/cgroup` is cgroup2fs), as in the
    /// guest lane; the container lane has the host's hybrid layout (v1 controllers).
    pub fn cgroup_v2(&self) -> bool {
        self.exec_ok(&["stat", "-f", "-c", "%T", "/sys/fs/cgroup"])
            .trim()
            == "cgroup2fs"
    }

    /// Whether `path` exists inside the container.
    pub fn exists(&self, path: &str) -> bool {
        self.exec(&["test", "-e", path]).status.success()
    }

    /// The container PID systemd reports as `unit`'s main process, once it runs `comm`.
    ///
    /// A start job of a `Type=simple` unit ends at systemd's fork, before the command runs:
    /// the forked process first carries systemd's own name, then `(COMMAND)` while systemd
    /// sets up the sandbox, and only after the exec the command's name. Whatever is read of
    /// the process before that is systemd's state, not the sandbox's.
    pub fn wait_for_comm(&self, unit: &str, comm: &str) -> u32 {
        self.wait_for_main_process(unit, &format!("run {comm}"), |now, _| now == comm)
    }

    /// The container PID of `unit`'s main process once it has exec'd the unit's command,
    /// whatever that is named: its name is neither systemd's (forked, not renamed yet) nor
    /// systemd's `(COMMAND)` (the sandbox being set up). See [`Container::wait_for_comm`].
    ///
    /// systemd 255 and later run `systemd-executor` between the fork and the exec (exec'd
    /// from a file descriptor, so its name is a number such as `9`): a process whose
    /// executable is systemd's or its executor's has not exec'd the command yet.
    pub fn wait_for_exec(&self, unit: &str) -> u32 {
        self.wait_for_main_process(unit, "exec its command", |comm, exe| {
            let systemds = ["/systemd", "/systemd-executor"];
            let parenthesised = comm.starts_with('(') && comm.ends_with(')');
            let systemds_own = systemds.iter().any(|s| exe.ends_with(s));
            !(comm.is_empty() || parenthesised || systemds_own)
        })
    }

    /// Waits until `unit`'s main process passes `ran(comm, exe)`, and returns its PID.
    fn wait_for_main_process(
        &self,
        unit: &str,
        what: &str,
        ran: impl Fn(&str, &str) -> bool,
    ) -> u32 {
        wait_for(&format!("{unit} to {what}"), WAIT, || {
            let pid: u32 = self.property(unit, "MainPID").parse().ok()?;
            if pid == 0 {
                return None;
            }
            let proc = format!("/proc/{pid}");
            let out = self.exec(&[
                "sh",
                "-c",
                "cat \"$1/comm\"; readlink \"$1/exe\"",
                "sh",
                &proc,
            ]);
            let out = String::from_utf8_lossy(&out.stdout);
            let mut lines = out.lines();
            let (comm, exe) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
            ran(comm, exe).then_some(pid)
        })
    }

    /// Waits until `unit` is no longer running or starting, and returns its
    /// `properties` (plus ActiveState) as they are then.
    pub fn wait_until_stopped(
        &self,
        unit: &str,
        timeout: Duration,
        properties: &[&str],
    ) -> BTreeMap<String, String> {
        let mut wanted = vec!["ActiveState"];
        wanted.extend_from_slice(properties);
        wait_for(&format!("{unit} to stop"), timeout, || {
            let props = self.show(unit, &wanted);
            matches!(
                props.get("ActiveState").map(String::as_str),
                Some("inactive" | "failed")
            )
            .then_some(props)
        })
    }
}

/// Stops, resets and removes a unit installed by [`Container::install_unit`] when
/// dropped, also while a failed test unwinds.
pub struct UnitGuard<'a> {
    container: &'a Container,
    name: String,
    path: PathBuf,
}

impl UnitGuard<'_> {
    /// The unit's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for UnitGuard<'_> {
    fn drop(&mut self) {
        // Best effort, and no panics here: a second panic during unwinding aborts.
        let c = self.container;
        let _ = c.systemctl(&["stop", &self.name]);
        let _ = c.systemctl(&["reset-failed", &self.name]);
        let _ = std::fs::remove_file(&self.path);
        let _ = c.systemctl(&["daemon-reload"]);
    }
}

/// A unit name no other test (or earlier run in the same container) uses:
/// `sandgen-test-STEM-PID-N.SUFFIX`, e.g. `unit_name("privatetmp", "service")`.
pub fn unit_name(stem: &str, suffix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("sandgen-test-{stem}-{}-{n}.{suffix}", std::process::id())
}

/// How long a test waits for a state it can observe (a process's name, a unit's state, a
/// journal line) before it fails. Generous on purpose: on a saturated 2-core machine a fork,
/// an exec or a journal write can take seconds, and a passing test never waits this long.
pub const WAIT: Duration = Duration::from_secs(60);

/// Calls `probe` every 50 ms until it returns `Some`, and returns that; panics naming
/// `what` after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until host process `pid` runs `comm` (`/proc/PID/comm`): it exec'd its final
/// program, after whatever setup came first.
///
/// Needed right after `Command::spawn()`: the kernel releases a vfork parent in exec_mmap,
/// before it sets the new name, so a child can still carry the spawning thread's name (and
/// a wrapper such as unshare or setpriv has not run its program yet).
pub fn wait_for_comm(pid: u32, comm: &str) {
    wait_for(&format!("process {pid} to become {comm}"), WAIT, || {
        let now = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        (now.trim_end() == comm).then_some(())
    });
}

/// Exit status, stdout and stderr of a finished command, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
