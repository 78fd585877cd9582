//! The example policies: each renders identical to its golden unit in `units/`, and
//! systemd's own verifier accepts every render without a single warning.
//!
//! To update the goldens after an intended change: `SANDGEN_BLESS=1 cargo test --test examples`,
//! then review `git diff units/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

const SANDGEN: &str = env!("CARGO_BIN_EXE_sandgen");
/// Goldens are rendered for Debian 12's systemd so that they do not depend on the host.
const TARGET: &str = "252";

/// The systemd a golden is rendered for: [`TARGET`], or a newer one for the demos of a
/// directive Debian 12's systemd lacks (PrivatePIDs=, 257: sandgen refuses it for 252).
fn target(stem: &str) -> &'static str {
    match stem {
        "busybox-container-1" | "busybox-container-2" => "257",
        _ => TARGET,
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn policies() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("policies"))
        .expect("policies/ exists")
        .map(|e| {
            e.expect("readable dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".toml"))
        .map(|n| n.trim_end_matches(".toml").to_owned())
        .collect();
    names.sort();
    names
}

fn render(stem: &str) -> String {
    let out = Command::new(SANDGEN)
        .current_dir(root())
        .args([
            "render",
            "--systemd-version",
            target(stem),
            &format!("policies/{stem}.toml"),
        ])
        .output()
        .expect("sandgen runs");
    assert!(
        out.status.success(),
        "render of {stem} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "render of {stem} printed to stderr");
    String::from_utf8(out.stdout).expect("unit is UTF-8")
}

#[test]
fn every_demo_of_the_seed_has_a_policy() {
    let names = policies();
    for demo in [
        "heat",
        "memhog",
        "cpuset-heat-a",
        "cpuset-heat-b",
        "no-net-admin",
        "busybox-container",
    ] {
        assert!(
            names.iter().any(|n| n == demo),
            "policies/{demo}.toml is missing"
        );
    }
}

#[test]
fn renders_match_their_goldens() {
    let bless = std::env::var_os("SANDGEN_BLESS").is_some();
    let mut drifted = Vec::new();
    for stem in policies() {
        let text = render(&stem);
        let golden = root().join("units").join(format!("{stem}.service"));
        if bless {
            std::fs::write(&golden, &text).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with SANDGEN_BLESS=1 to create it)",
                golden.display()
            )
        });
        if want != text {
            drifted.push(format!(
                "--- {}\n+++ render of policies/{stem}.toml\n{text}",
                golden.display()
            ));
        }
    }
    assert!(
        drifted.is_empty(),
        "renders drifted from units/:\n{}",
        drifted.join("\n")
    );
}

#[test]
fn goldens_have_no_orphans() {
    let names = policies();
    for entry in std::fs::read_dir(root().join("units")).expect("units/ exists") {
        let name = entry
            .expect("dir entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let stem = name.trim_end_matches(".service");
        assert!(
            names.iter().any(|n| n == stem),
            "units/{name} has no policy"
        );
    }
}

fn verify(unit: &Path) -> (bool, String) {
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--generators=no"])
        .arg(unit)
        .output()
        .expect("systemd-analyze must be installed (Debian package systemd): scripts/test.sh installs it");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success() && stderr.trim().is_empty(), stderr)
}

#[test]
fn systemd_analyze_verify_accepts_every_render_without_warnings() {
    let dir = tempfile::tempdir().expect("tempdir");
    for stem in policies() {
        let path = dir.path().join(format!("{stem}.service"));
        std::fs::write(&path, render(&stem)).expect("write unit");
        let (ok, stderr) = verify(&path);
        // The host's systemd-analyze is Debian 12's (252): it does not know PrivatePIDs=
        // (257) of the demos rendered for 257, and says only that.
        let newer = target(&stem) != TARGET;
        let other: Vec<&str> = stderr
            .lines()
            .filter(|l| !(newer && l.contains("Unknown key 'PrivatePIDs' in section [Service]")))
            .collect();
        assert!(
            ok || (newer && other.is_empty()),
            "systemd-analyze verify complained about {stem}:\n{stderr}"
        );
    }
}

#[test]
fn the_verifier_would_catch_a_bad_unit() {
    // The check above is only worth something if verify reports problems on stderr.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.service");
    std::fs::write(&path, "[Service]\nExecStart=/bin/true\nMemoryMax=lots\n").expect("write");
    let (ok, stderr) = verify(&path);
    assert!(!ok, "verify accepted MemoryMax=lots");
    assert!(stderr.contains("memory limit 'lots'"), "{stderr}");
}

#[test]
fn heat_has_the_sandbox_the_demo_promises() {
    let unit = render("heat");
    for line in [
        "CPUWeight=25",
        "MemoryMax=64M",
        "CapabilityBoundingSet=",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "PrivateDevices=yes",
        "ExecStart=\"/bin/dd\" \"if=/dev/zero\" \"of=/dev/null\"",
    ] {
        assert!(
            unit.lines().any(|l| l == line),
            "heat lacks {line}:\n{unit}"
        );
    }
    assert!(
        unit.lines().any(|l| l.starts_with("SystemCallFilter=@")),
        "{unit}"
    );
    assert!(
        unit.starts_with("# Generated by sandgen from policies/heat.toml"),
        "{unit}"
    );
}

#[test]
fn policy_reference_is_generated_from_the_directive_table() {
    let out = Command::new(SANDGEN)
        .arg("reference")
        .output()
        .expect("sandgen runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let path = root().join("docs/policy.md");
    if std::env::var_os("SANDGEN_BLESS").is_some() {
        std::fs::write(&path, &text).expect("write docs/policy.md");
    }
    let want = std::fs::read_to_string(&path).expect("docs/policy.md exists");
    assert_eq!(
        want, text,
        "docs/policy.md is stale: run `sandgen reference > docs/policy.md`"
    );
    for key in [
        "memory_max",
        "bounding_drop",
        "private_tmp",
        "restrict_address_families",
        "wanted_by",
    ] {
        assert!(
            text.contains(&format!("| `{key}` |")),
            "{key} missing from the reference"
        );
    }
}

/// The manual pages `sandgen man` writes, by file name.
fn generated_man_pages() -> std::collections::BTreeMap<String, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(SANDGEN)
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .expect("sandgen runs");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "sandgen man failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    read_dir_texts(dir.path())
}

fn read_dir_texts(dir: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| {
            let path = e.expect("readable dir entry").path();
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, text)
        })
        .collect()
}

const REGENERATE: &str = "run `SANDGEN_BLESS=1 cargo test --test examples generated` \
     (or `sandgen man --out-dir docs/man` and `sandgen completions SHELL`), then review `git diff docs/`";

#[test]
fn man_pages_are_generated_from_the_command_line_and_the_directive_table() {
    let pages = generated_man_pages();
    let dir = root().join("docs/man");
    if std::env::var_os("SANDGEN_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create docs/man");
        for (name, text) in &pages {
            std::fs::write(dir.join(name), text).expect("write a page");
        }
    }
    let want = read_dir_texts(&dir);
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        pages.keys().collect::<Vec<_>>(),
        "docs/man does not hold the pages sandgen has: {REGENERATE}"
    );
    for (name, text) in &pages {
        assert!(
            want[name] == *text,
            "docs/man/{name} is stale: {REGENERATE}"
        );
    }
    // A page per subcommand, sub-subcommands included; none for the hidden `man`.
    for name in [
        "sandgen.1",
        "sandgen-start.1",
        "sandgen-profile-show.1",
        "sandgen.toml.5",
    ] {
        assert!(
            pages.contains_key(name),
            "{name} missing from {:?}",
            pages.keys()
        );
    }
    assert!(!pages.contains_key("sandgen-man.1"));
    // sandgen.toml(5) is the policy reference: every table and key of docs/policy.md.
    let policy = &pages["sandgen.toml.5"];
    for table in ["service", "resources", "seccomp", "install"] {
        assert!(
            policy.contains(&format!(".SH [{table}]\n")),
            "[{table}] missing"
        );
    }
    for key in ["memory_max", "bounding_drop", "private_tmp", "wanted_by"] {
        assert!(
            policy.contains(&format!(".TP\n\\fB{key}\\fR\n")),
            "{key} missing from sandgen.toml.5"
        );
    }
    assert!(policy.contains("\\fBMemoryMax=\\fR in [Service], since systemd 231.\n"));
}

/// Every page formats without a single warning from man and groff (`man --warnings`, which
/// runs groff with -ww).
#[test]
fn man_pages_format_without_warnings() {
    for name in generated_man_pages().keys() {
        let path = root().join("docs/man").join(name);
        let out = Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .output()
            .expect("man runs (man-db: scripts/test.sh installs it)");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "man --warnings -l {}: {stderr}",
            path.display()
        );
        assert!(!out.stdout.is_empty(), "{name} formats to nothing");
    }
}

#[test]
fn shell_completions_are_generated_from_the_command_line() {
    let bless = std::env::var_os("SANDGEN_BLESS").is_some();
    for (shell, file) in [
        ("bash", "sandgen.bash"),
        ("zsh", "_sandgen"),
        ("fish", "sandgen.fish"),
    ] {
        let out = Command::new(SANDGEN)
            .args(["completions", shell])
            .output()
            .expect("sandgen runs");
        assert!(out.status.success(), "sandgen completions {shell} failed");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        let path = root().join("docs/completions").join(file);
        if bless {
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, &text).expect("write completions");
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}: {REGENERATE}", path.display()));
        assert!(
            want == text,
            "docs/completions/{file} is stale: {REGENERATE}"
        );
        assert!(text.contains("verify"), "{shell} completions lack `verify`");
    }
}
