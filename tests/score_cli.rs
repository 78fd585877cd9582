//! `sandgen score`: the exposure figure of `systemd-analyze security --offline=true` for a
//! policy's rendered unit or an installed unit, and the difference between two. Rating needs
//! systemd-analyze (systemd 252); the installed-unit case needs the test container
//! (`scripts/test.sh`). These tests fail, never skip, without them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use support::{describe, unit_name, Container};

const SANDGEN: &str = env!("CARGO_BIN_EXE_sandgen");
const BARE: &str = "[service]\nexec = [\"/bin/dd\", \"if=/dev/zero\", \"of=/dev/null\"]\n";

fn heat() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("policies/heat.toml")
        .display()
        .to_string()
}

fn sandgen(args: &[&str]) -> Output {
    Command::new(SANDGEN)
        .args(args)
        .output()
        .expect("sandgen runs")
}

fn ok(args: &[&str]) -> String {
    let out = sandgen(args);
    assert!(
        out.status.success(),
        "sandgen {args:?} failed: {}",
        describe(&out)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json(args: &[&str]) -> Value {
    let stdout = ok(args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {stdout}"))
}

fn bare_policy(dir: &tempfile::TempDir) -> String {
    let path = dir.path().join("bare.toml");
    std::fs::write(&path, BARE).expect("write bare.toml");
    path.display().to_string()
}

#[test]
fn a_policy_is_scored_with_its_largest_contributors() {
    let text = ok(&["score", &heat()]);
    let first = text.lines().next().expect("a first line");
    assert!(
        first.starts_with("heat.service: exposure ")
            && first.ends_with(" (0 = locked down, 10 = no sandbox)"),
        "{text}"
    );
    let filter = text.lines().nth(1).expect("a second line");
    assert!(
        filter.starts_with("system call filter: allows ")
            && filter.contains(" system calls that systemd "),
        "{text}"
    );
    assert_eq!(text.lines().nth(2), Some("largest contributors:"), "{text}");
    assert_eq!(
        text.lines().count(),
        13,
        "the figure, the filter's width and the top 10: {text}"
    );
    let top3 = ok(&["score", "--top", "3", &heat()]);
    assert_eq!(top3.lines().count(), 6, "{top3}");

    let score = json(&["score", "--json", &heat()]);
    assert_eq!(score["unit"], "heat.service");
    let exposure = score["exposure"].as_f64().expect("a figure");
    assert!((0.0..=10.0).contains(&exposure), "{exposure}");
    assert!(
        first.contains(&format!("exposure {exposure:.1} ")),
        "text and JSON agree: {first} / {exposure}"
    );
    assert!(
        score["items"].as_array().is_some_and(|i| i.len() > 50),
        "every rated setting is listed"
    );
    // The filter's width, which the exposure figure does not weigh: heat allows a small
    // part of the calls; a policy without a filter allows them all.
    let (allowed, known) = (
        score["filter"]["allowed"].as_u64().expect("allowed"),
        score["filter"]["known"].as_u64().expect("known"),
    );
    assert!(allowed > 40 && allowed * 3 < known, "{}", score["filter"]);
    assert!(
        filter.starts_with(&format!(
            "system call filter: allows {allowed} of {known} system calls"
        )),
        "{filter}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let bare = json(&["score", "--json", &bare_policy(&dir)]);
    assert_eq!(
        bare["filter"]["allowed"], bare["filter"]["known"],
        "{}",
        bare["filter"]
    );
}

#[test]
fn the_hardened_example_scores_lower_than_a_bare_policy_and_the_diff_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bare = bare_policy(&dir);
    let compared = json(&["score", "--json", &bare, &heat()]);
    let before = compared["before"]["exposure"].as_f64().expect("before");
    let after = compared["after"]["exposure"].as_f64().expect("after");
    assert!(after < before, "heat {after} is not below bare {before}");
    assert_eq!(compared["diff"]["before"].as_f64(), Some(before));
    assert_eq!(compared["diff"]["after"].as_f64(), Some(after));
    assert!(compared["diff"]["delta"].as_f64().is_some_and(|d| d < 0.0));
    let changed: Vec<&str> = compared["diff"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["json_field"].as_str())
        .collect();
    for field in [
        "PrivateTmp",
        "PrivateDevices",
        "NoNewPrivileges",
        "SystemCallFilter_mount",
    ] {
        assert!(changed.contains(&field), "{field} not in {changed:?}");
    }

    let text = ok(&["score", &bare, &heat()]);
    let mut lines = text.lines();
    let width = |s: &Value| {
        format!(
            "allows {} of {} system calls",
            s["filter"]["allowed"], s["filter"]["known"]
        )
    };
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "before: bare.service {before:.1}, {}",
                width(&compared["before"])
            )
            .as_str()
        )
    );
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "after:  heat.service {after:.1}, {}",
                width(&compared["after"])
            )
            .as_str()
        )
    );
    let delta = format!("{:+.1}", after - before);
    assert_eq!(
        lines.next(),
        Some(format!("exposure {before:.1} -> {after:.1} ({delta})").as_str()),
        "{text}"
    );
    assert!(text.contains("PrivateTmp="), "{text}");
}

#[test]
fn mistakes_are_reported() {
    let out = sandgen(&["score", "no-such-policy.toml"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: cannot read policy no-such-policy.toml"),
        "{stderr}"
    );
    let out = sandgen(&["score"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = sandgen(&["score", "a.toml", "b.toml", "c.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[service]\nexec = [\"/bin/true\"]\nmemory_max = \"1G\"\n",
    )
    .expect("write");
    let out = sandgen(&["score", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: unknown key `memory_max` in [service]"),
        "{stderr}"
    );
}

#[test]
fn an_installed_unit_scores_as_its_policy_does() {
    let container = Container::from_env();
    let root = format!("/proc/{}/root", container.init_pid);
    let unit = unit_name("score", "service");
    let stem = unit.trim_end_matches(".service");
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = dir.path().join(format!("{stem}.toml"));
    std::fs::copy(heat(), &policy).expect("copy heat");
    let text = ok(&["render", policy.to_str().expect("utf-8")]);
    let _guard = container.install_unit(&unit, &text);

    let run = |args: &[&str]| {
        let out = Command::new(SANDGEN)
            .args(args)
            .env("SANDGEN_BUS", &container.bus)
            .env("SANDGEN_ROOT", &root)
            .output()
            .expect("sandgen runs");
        assert!(out.status.success(), "{args:?}: {}", describe(&out));
        serde_json::from_slice::<Value>(&out.stdout).expect("json")
    };
    let installed = run(&["score", "--json", stem]);
    let from_policy = run(&["score", "--json", policy.to_str().expect("utf-8")]);
    assert_eq!(installed["unit"], unit.as_str());
    assert_eq!(installed["exposure"], from_policy["exposure"]);

    // Before/after between an installed unit and a policy works too.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let compared = run(&["score", "--json", &bare_policy(&dir2), stem]);
    assert!(compared["diff"]["delta"].as_f64().is_some_and(|d| d < 0.0));

    let out = Command::new(SANDGEN)
        .args(["score", "sandgen-no-such-unit"])
        .env("SANDGEN_BUS", &container.bus)
        .env("SANDGEN_ROOT", &root)
        .output()
        .expect("sandgen runs");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: sandgen-no-such-unit.service: no such unit (sandgen install POLICY installs one)\n"
    );
}
