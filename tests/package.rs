//! The Debian package, installed as a user installs it: `dpkg -i` inside the systemd 252
//! test container, then the installed `sandgen` starts an example policy from
//! /usr/share/doc/sandgen/examples/, and `man` finds the pages.
//!
//! `scripts/test.sh` builds the package once (`scripts/build-deb.sh`, the release build)
//! before the container lane and exports its path as `SANDGEN_TEST_DEB`. It leaves this
//! binary out of the guest lane: the guest's image drops /usr/share/man and
//! /usr/share/doc at install (dpkg path-exclude) and has no man-db, so what is tested here
//! could not be there.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::path::Path;

use support::{describe, wait_for, Container, WAIT};

const PACKAGE: &str = "sandgen";

/// The package built for this run. Fails, never skips, when there is none.
fn built_deb() -> String {
    let deb = std::env::var("SANDGEN_TEST_DEB").unwrap_or_else(|_| {
        panic!(
            "SANDGEN_TEST_DEB is not set: scripts/test.sh builds the package with \
             scripts/build-deb.sh before the container lane and exports its path; run \
             `sudo scripts/test.sh --test package`"
        )
    });
    assert!(
        Path::new(&deb).is_file(),
        "SANDGEN_TEST_DEB={deb} is not a file: build it with scripts/build-deb.sh"
    );
    deb
}

/// Purges the package from the container when the test ends, passed or not, so that later
/// test binaries find the container as it was.
struct Installed<'a>(&'a Container);

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        let out = self.0.exec(&["dpkg", "--purge", PACKAGE]);
        if !out.status.success() && !std::thread::panicking() {
            panic!("dpkg --purge {PACKAGE} failed: {}", describe(&out));
        }
    }
}

/// Stops heat.service and removes its unit file if the test did not get to uninstall it.
struct Heat<'a>(&'a Container);

impl Drop for Heat<'_> {
    fn drop(&mut self) {
        let _ = self.0.systemctl(&["stop", "heat.service"]);
        let _ = self
            .0
            .exec(&["rm", "-f", "/etc/systemd/system/heat.service"]);
        let _ = self.0.systemctl(&["daemon-reload"]);
    }
}

#[test]
fn the_package_installs_its_files_and_starts_an_example_policy() {
    let deb = built_deb();
    // The dependency list is what the binary runs: systemd (and libc), the system bus and
    // strace recommended, ssh suggested for --host.
    let fields = std::process::Command::new("dpkg-deb")
        .args(["-f", &deb, "Depends", "Recommends", "Suggests"])
        .output()
        .expect("dpkg-deb runs");
    let fields = String::from_utf8_lossy(&fields.stdout);
    let field = |name: &str| -> String {
        fields
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in the package:\n{fields}"))
            .to_owned()
    };
    let depends = field("Depends");
    assert!(
        depends.contains("libc6 (>=") && depends.ends_with(", systemd"),
        "{depends}"
    );
    assert_eq!(
        field("Recommends"),
        "default-dbus-system-bus | dbus-system-bus, strace"
    );
    assert_eq!(field("Suggests"), "openssh-client");
    let c = Container::from_env();
    // A sandgen the host installed shows in the container's overlay too: dpkg -i replaces
    // it there, and only there.
    c.exec_ok(&["dpkg", "-i", &deb]);
    let installed = Installed(&c);

    // The binary on PATH is the package's, and it is this version.
    assert_eq!(
        c.exec_ok(&["sh", "-c", "command -v sandgen"]),
        "/usr/bin/sandgen\n"
    );
    assert_eq!(
        c.exec_ok(&["sandgen", "--version"]),
        format!("sandgen {}\n", env!("CARGO_PKG_VERSION"))
    );

    // Every file where Debian looks for it: man pages gzipped, completions in the shells'
    // vendor directories, the examples and the README as documentation.
    let files = c.exec_ok(&["dpkg", "-L", PACKAGE]);
    for path in [
        "/usr/bin/sandgen",
        "/usr/share/man/man1/sandgen.1.gz",
        "/usr/share/man/man1/sandgen-start.1.gz",
        "/usr/share/man/man1/sandgen-profile-show.1.gz",
        "/usr/share/man/man5/sandgen.toml.5.gz",
        "/usr/share/bash-completion/completions/sandgen",
        "/usr/share/zsh/vendor-completions/_sandgen",
        "/usr/share/fish/vendor_completions.d/sandgen.fish",
        "/usr/share/doc/sandgen/examples/heat.toml",
        "/usr/share/doc/sandgen/README.md",
        "/usr/share/doc/sandgen/copyright",
    ] {
        assert!(
            files.lines().any(|l| l == path),
            "{path} is not in the package:\n{files}"
        );
    }
    assert!(
        !files
            .lines()
            .any(|l| l.starts_with("/usr/share/man/") && l.ends_with(".1")),
        "a man page is not gzipped:\n{files}"
    );

    // man finds the pages by name.
    assert_eq!(
        c.exec_ok(&["man", "-w", "sandgen"]),
        "/usr/share/man/man1/sandgen.1.gz\n"
    );
    assert_eq!(
        c.exec_ok(&["man", "-w", "sandgen-start"]),
        "/usr/share/man/man1/sandgen-start.1.gz\n"
    );
    assert_eq!(
        c.exec_ok(&["man", "-w", "5", "sandgen.toml"]),
        "/usr/share/man/man5/sandgen.toml.5.gz\n"
    );
    let policy_page = c.exec_ok(&["man", "-P", "cat", "5", "sandgen.toml"]);
    assert!(policy_page.contains("memory_max"), "{policy_page}");

    // The example as a user would start it: from the documentation directory.
    let _heat = Heat(&c);
    let example = "/usr/share/doc/sandgen/examples/heat.toml";
    let started = c.exec(&["sandgen", "start", example]);
    assert!(started.status.success(), "{}", describe(&started));
    let report = String::from_utf8_lossy(&started.stdout);
    assert!(
        report.starts_with("heat.service: active (running), main PID "),
        "{}",
        describe(&started)
    );
    assert_eq!(c.property("heat.service", "ActiveState"), "active");
    assert_eq!(
        c.property("heat.service", "FragmentPath"),
        "/etc/systemd/system/heat.service"
    );
    // The sandbox is complete once dd runs (systemd's start job ends at its fork).
    wait_for("heat's main process to exec dd", WAIT, || {
        let pid = c.property("heat.service", "MainPID");
        let comm = c.exec(&["cat", &format!("/proc/{pid}/comm")]);
        (String::from_utf8_lossy(&comm.stdout).trim() == "dd").then_some(())
    });

    // Every directive of the example holds, from the kernel's view.
    let verified = c.exec(&["sandgen", "verify", "heat"]);
    let text = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{}", describe(&verified));
    let last = text.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("heat.service: ") && last.contains(" pass, 0 fail, "),
        "{text}"
    );

    c.exec_ok(&["sandgen", "uninstall", "heat"]);
    assert!(
        !c.exec(&["test", "-e", "/etc/systemd/system/heat.service"])
            .status
            .success(),
        "sandgen uninstall left /etc/systemd/system/heat.service"
    );

    // Removing the package removes the binary.
    drop(installed);
    assert!(
        !c.exec(&["test", "-e", "/usr/bin/sandgen"]).status.success(),
        "dpkg --purge left /usr/bin/sandgen"
    );
}
