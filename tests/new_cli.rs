//! `sandgen new NAME --from EXAMPLE|PATH`: the copy checks and renders as NAME, keeps the
//! example's comments, never overwrites, and an unknown example is a usage error with a
//! suggestion. Pure: no systemd needed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

use std::path::Path;
use std::process::{Command, Output};

const SANDGEN: &str = env!("CARGO_BIN_EXE_sandgen");

fn sandgen(dir: &Path, args: &[&str]) -> Output {
    Command::new(SANDGEN)
        .current_dir(dir)
        .args(args)
        .output()
        .expect("sandgen runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("policies/{name}.toml")),
    )
    .expect("example")
}

#[test]
fn every_example_copies_to_a_policy_that_checks_and_renders_under_the_new_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("units");
    std::fs::create_dir(&out_dir).expect("mkdir");
    let list = sandgen(dir.path(), &["new", "--list"]);
    assert!(list.status.success());
    let names: Vec<String> = text(&list.stdout)
        .lines()
        .map(|l| l.split_whitespace().next().expect("a name").to_owned())
        .collect();
    assert!(names.contains(&"static-web".to_owned()), "{names:?}");
    for name in &names {
        let new = format!("my-{name}");
        let out = sandgen(dir.path(), &["new", &new, "--from", name]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            format!(
                "{new}.toml: policy for {new}.service from example {name}; edit it, then `sandgen check {new}.toml`\n"
            )
        );
        let written =
            std::fs::read_to_string(dir.path().join(format!("{new}.toml"))).expect("written");
        // The example, comments and all, with only the name added.
        let without_name: String = written
            .lines()
            .filter(|l| *l != format!("name = \"{new}\""))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(without_name, example(name), "{new}.toml");
        // Debian 12's systemd (252), but for the two-container demos, whose PrivatePIDs=
        // needs 257: for 252 their copies are refused, naming the version.
        let target = match name.as_str() {
            "busybox-container-1" | "busybox-container-2" => {
                let old = sandgen(
                    dir.path(),
                    &["check", "--systemd-version", "252", &format!("{new}.toml")],
                );
                assert_eq!(old.status.code(), Some(1), "{}", text(&old.stderr));
                assert!(
                    text(&old.stderr).contains("needs systemd 257"),
                    "{}",
                    text(&old.stderr)
                );
                "257"
            }
            _ => "252",
        };
        let check = sandgen(
            dir.path(),
            &["check", "--systemd-version", target, &format!("{new}.toml")],
        );
        assert!(check.status.success(), "{}", text(&check.stderr));
        assert!(
            text(&check.stdout).starts_with(&format!("{new}.toml: ok ({new}.service, ")),
            "{}",
            text(&check.stdout)
        );
    }
    // Renamed, not just copied: the unit's file name is the new name.
    let render = sandgen(
        dir.path(),
        &[
            "render",
            "--systemd-version",
            "252",
            "--out-dir",
            "units",
            "my-heat.toml",
        ],
    );
    assert!(render.status.success(), "{}", text(&render.stderr));
    assert!(out_dir.join("my-heat.service").is_file());
}

#[test]
fn list_gives_each_example_with_its_header_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sandgen(dir.path(), &["new", "--list"]);
    assert!(out.status.success());
    let list = text(&out.stdout);
    assert!(
        list.lines().any(|l| l.starts_with("heat ")
            && l.ends_with("  a CPU heater run as a tightly sandboxed service.")),
        "{list}"
    );
    assert!(
        list.lines().any(|l| l.starts_with("offline-worker ")
            && l.ends_with("  a worker that must never reach the network.")),
        "{list}"
    );
}

#[test]
fn a_policy_file_is_a_source_too_and_its_name_is_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("base.toml"),
        "# my base\n[service]\nname = \"base\" # the unit\nexec = [\"/bin/true\"]\n",
    )
    .expect("write");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    let out = sandgen(
        dir.path(),
        &["new", "copy", "--from", "base.toml", "-o", "sub/copy.toml"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sub/copy.toml")).expect("written"),
        "# my base\n[service]\nname = \"copy\" # the unit\nexec = [\"/bin/true\"]\n"
    );
    assert!(!dir.path().join("copy.toml").exists());
}

#[test]
fn an_existing_file_is_never_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("web.toml"), "mine\n").expect("write");
    let out = sandgen(dir.path(), &["new", "web", "--from", "static-web"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "error: web.toml already exists; sandgen new never overwrites a policy (remove it, or write elsewhere with -o PATH)\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("web.toml")).expect("read"),
        "mine\n"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
    assert_eq!(left.len(), 1, "no temporary file left behind");
}

#[test]
fn an_unknown_example_is_a_usage_error_with_a_suggestion() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sandgen(dir.path(), &["new", "web", "--from", "statc-web"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: unknown example `statc-web` for --from; did you mean `static-web`? the examples are: apparmor-confined, busybox-container, "),
        "{err}"
    );
    assert!(err.contains("`sandgen new --list`"), "{err}");
    assert!(err.contains("\nUsage: sandgen new "), "{err}");
    assert!(!dir.path().join("web.toml").exists());
}

#[test]
fn the_name_is_validated_like_a_unit_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sandgen(dir.path(), &["new", "a b", "--from", "heat"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: NAME: \"a b\" is not a valid unit name: "),
        "{}",
        text(&out.stderr)
    );
    let out = sandgen(dir.path(), &["new", "web.service", "--from", "heat"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error: NAME is the service's name without \".service\": give `web`\n"
    );
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
}
