//! The command line as a user meets it: exit codes, exact error messages for every class
//! of policy mistake, and the promise that nothing is written when anything is wrong.
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
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .output()
        .expect("sandgen runs")
}

/// Render `text` as `bad.toml` and return stderr, asserting exit 1 and empty stdout.
fn refused(text: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.toml"), text).expect("write policy");
    let out = sandgen(
        dir.path(),
        &["render", "--systemd-version", "252", "bad.toml"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "stdout must stay empty on error");
    String::from_utf8(out.stderr).expect("utf-8")
}

const EXEC: &str = "[service]\nexec = [\"/bin/true\"]\n";

fn with_exec(rest: &str) -> String {
    format!("{EXEC}{rest}")
}

#[test]
fn toml_syntax_error() {
    assert_eq!(
        refused("[service]\nexec = [\"/bin/true\"\n"),
        "error: invalid TOML: unclosed array, expected `]`\n --> bad.toml:2:20\n  |\n2 | exec = [\"/bin/true\"\n  |                    ^\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn unknown_table_suggests_the_nearest() {
    assert_eq!(
        refused(&with_exec("[resource]\nmemory_max = \"1G\"\n")),
        "error: unknown table [resource]\n --> bad.toml:3:2\n  |\n3 | [resource]\n  |  ^^^^^^^^\n  = help: did you mean [resources]?\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn unknown_key_suggests_the_nearest() {
    assert_eq!(
        refused(&with_exec("[resources]\nmemory_maximum = \"1G\"\n")),
        "error: unknown key `memory_maximum` in [resources]\n --> bad.toml:4:1\n  |\n4 | memory_maximum = \"1G\"\n  | ^^^^^^^^^^^^^^\n  = help: did you mean `memory_max`?\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn key_in_the_wrong_table_names_the_right_one() {
    let err = refused(&with_exec("[filesystem]\nmemory_max = \"1G\"\n"));
    assert!(
        err.starts_with("error: unknown key `memory_max` in [filesystem]\n --> bad.toml:4:1\n"),
        "{err}"
    );
    assert!(
        err.contains("  = help: `memory_max` belongs in [resources]\n"),
        "{err}"
    );
}

#[test]
fn wrong_type() {
    assert_eq!(
        refused(&with_exec("[filesystem]\nprivate_tmp = \"yes\"\n")),
        "error: `filesystem.private_tmp` expects true, false, \"disconnected\", found a string\n --> bad.toml:4:15\n  |\n4 | private_tmp = \"yes\"\n  |               ^^^^^\n  = help: write private_tmp = true (a TOML boolean, without quotes)\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn bad_size() {
    assert_eq!(
        refused(&with_exec("[resources]\nmemory_max = \"100MB\"\n")),
        "error: invalid size \"100MB\" for `resources.memory_max`\n --> bad.toml:4:14\n  |\n4 | memory_max = \"100MB\"\n  |              ^^^^^^^\n  = help: did you mean \"100M\"? Sizes are bytes with an optional K, M, G, T suffix (base 1024)\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn bad_cpu_list() {
    assert_eq!(
        refused(&with_exec("[resources]\nallowed_cpus = \"1-0\"\n")),
        "error: invalid CPU list \"1-0\" for `resources.allowed_cpus`: the range \"1-0\" is reversed\n --> bad.toml:4:16\n  |\n4 | allowed_cpus = \"1-0\"\n  |                ^^^^^\n  = help: write CPU indexes and ranges separated by commas, such as \"0-1,3\"\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn bad_quota() {
    assert_eq!(
        refused(&with_exec("[resources]\ncpu_quota = \"twenty\"\n")),
        "error: invalid CPU quota \"twenty\" for `resources.cpu_quota`\n --> bad.toml:4:13\n  |\n4 | cpu_quota = \"twenty\"\n  |             ^^^^^^^^\n  = help: write a whole percentage of one CPU such as \"20%\" (\"200%\" is two CPUs)\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn unnormalised_path() {
    assert_eq!(
        refused(&with_exec("[filesystem]\nread_only_paths = [\"/var/lib/../lib//x/\"]\n")),
        "error: `filesystem.read_only_paths`: \"/var/lib/../lib//x/\" is not a normalised path\n --> bad.toml:4:20\n  |\n4 | read_only_paths = [\"/var/lib/../lib//x/\"]\n  |                    ^^^^^^^^^^^^^^^^^^^^^\n  = help: write \"/var/lib/x\"\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn relative_path() {
    assert_eq!(
        refused(&with_exec("[filesystem]\nroot_directory = \"srv/box\"\n")),
        "error: `filesystem.root_directory`: \"srv/box\" is not an absolute path\n --> bad.toml:4:18\n  |\n4 | root_directory = \"srv/box\"\n  |                  ^^^^^^^^^\n  = help: systemd needs absolute paths: did you mean \"/srv/box\"?\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn bad_unit_name() {
    assert_eq!(
        refused(&with_exec("[install]\nafter = [\"network-online\"]\n")),
        "error: `install.after`: \"network-online\" is not a valid unit name: it has no unit type suffix\n --> bad.toml:4:10\n  |\n4 | after = [\"network-online\"]\n  |          ^^^^^^^^^^^^^^^^\n  = help: did you mean \"network-online.target\"?\nerror: 1 policy is invalid; nothing was written\n"
    );
    let err = refused(&with_exec(
        "[install]\nwants = [\"../etc/passwd.service\"]\n",
    ));
    assert!(err.starts_with("error: `install.wants`: \"../etc/passwd.service\" is not a valid unit name: the character \"/\" is not allowed"), "{err}");
}

#[test]
fn bad_service_name() {
    assert_eq!(
        refused("[service]\nname = \"heat.service\"\nexec = [\"/bin/true\"]\n"),
        "error: `service.name` is the name without \".service\", found \"heat.service\"\n --> bad.toml:2:8\n  |\n2 | name = \"heat.service\"\n  |        ^^^^^^^^^^^^^^\n  = help: write name = \"heat\"\nerror: 1 policy is invalid; nothing was written\n"
    );
    let err = refused(&format!("{EXEC}name = \"a/b\"\n"));
    assert!(err.contains("\"a/b\" is not a valid unit name"), "{err}");
}

#[test]
fn unknown_capability() {
    assert_eq!(
        refused(&with_exec("[capabilities]\nbounding = [\"net_admin\"]\n")),
        "error: unknown capability \"net_admin\" in `capabilities.bounding`\n --> bad.toml:4:13\n  |\n4 | bounding = [\"net_admin\"]\n  |             ^^^^^^^^^^^\n  = help: did you mean \"CAP_NET_ADMIN\"?\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn unknown_syscall_and_group() {
    assert_eq!(
        refused(&with_exec("[seccomp]\nallow = [\"@system-service\", \"opn\"]\n")),
        "error: unknown system call \"opn\" in `seccomp.allow` (checked with `systemd-analyze syscall-filter`)\n --> bad.toml:4:29\n  |\n4 | allow = [\"@system-service\", \"opn\"]\n  |                             ^^^^^\n  = help: did you mean \"open\"?\nerror: 1 policy is invalid; nothing was written\n"
    );
    assert_eq!(
        refused(&with_exec("[seccomp]\ndeny = [\"@sytem-service\"]\n")),
        "error: unknown system call group \"@sytem-service\" in `seccomp.deny` (checked with `systemd-analyze syscall-filter`)\n --> bad.toml:4:9\n  |\n4 | deny = [\"@sytem-service\"]\n  |         ^^^^^^^^^^^^^^^^\n  = help: did you mean \"@system-service\"?\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn empty_allow_list_is_refused_because_it_would_remove_the_filter() {
    let err = refused(&with_exec("[seccomp]\nallow = []\n"));
    assert!(
        err.starts_with("error: `seccomp.allow` cannot be empty\n"),
        "{err}"
    );
    assert!(
        err.contains("= help: an empty SystemCallFilter= removes the filter altogether"),
        "{err}"
    );
}

#[test]
fn unknown_errno() {
    assert_eq!(
        refused(&with_exec("[seccomp]\nerror_number = \"EPREM\"\n")),
        "error: unknown errno name \"EPREM\" for `seccomp.error_number`\n --> bad.toml:4:16\n  |\n4 | error_number = \"EPREM\"\n  |                ^^^^^^^\n  = help: did you mean \"EPERM\"?\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn unknown_address_family() {
    assert_eq!(
        refused(&with_exec("[network]\nrestrict_address_families = [\"inet\"]\n")),
        "error: unknown address family \"inet\" in `network.restrict_address_families`\n --> bad.toml:4:30\n  |\n4 | restrict_address_families = [\"inet\"]\n  |                              ^^^^^^\n  = help: did you mean \"AF_INET\"?\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn control_characters_are_refused_in_every_string() {
    assert_eq!(
        refused("[service]\nexec = [\"/bin/true\", \"a\\nExecStartPre=/bin/evil\"]\n"),
        "error: control character `\\n` in a value: unit files are line based, so it cannot be written\n --> bad.toml:2:22\n  |\n2 | exec = [\"/bin/true\", \"a\\nExecStartPre=/bin/evil\"]\n  |                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^\n  = help: remove it; sandgen refuses newlines, NUL and other control characters in every value\nerror: 1 policy is invalid; nothing was written\n"
    );
    for (table, entry) in [
        ("service", "description = \"x\\u0000y\""),
        ("service", "environment = { A = \"1\\r\\n[Service]\" }"),
        ("filesystem", "read_only_paths = [\"/a\\tb\"]"),
        ("install", "wanted_by = [\"multi-user.target\\n\"]"),
    ] {
        let text = if table == "service" {
            format!("{EXEC}{entry}\n")
        } else {
            format!("{EXEC}[{table}]\n{entry}\n")
        };
        let err = refused(&text);
        assert!(
            err.starts_with("error: control character"),
            "{entry}: {err}"
        );
    }
}

/// `sandgen check` and `sandgen render` refuse `text` with the same diagnostics (render adds
/// "; nothing was written"); render's stderr.
fn refused_by_check_and_render(text: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("bad.toml"), text).expect("write policy");
    let check = sandgen(
        dir.path(),
        &["check", "--systemd-version", "252", "bad.toml"],
    );
    assert_eq!(check.status.code(), Some(1), "check accepted:\n{text}");
    assert!(check.stdout.is_empty(), "check printed ok");
    let render = refused(text);
    assert_eq!(
        String::from_utf8_lossy(&check.stderr).replace(
            "error: 1 policy is invalid\n",
            "error: 1 policy is invalid; nothing was written\n"
        ),
        render,
        "check and render disagree"
    );
    render
}

/// A path systemd reads to the end of the line: before, `check` said ok and `render` failed
/// in the escaper with no location.
#[test]
fn check_refuses_the_unquoted_paths_render_cannot_write() {
    assert_eq!(
        refused_by_check_and_render(&with_exec("working_directory = \"/srv/x \"\n")),
        "error: `service.working_directory`: \"/srv/x \" ends with a space, which systemd strips from WorkingDirectory= (the value cannot be quoted)\n --> bad.toml:3:21\n  |\n3 | working_directory = \"/srv/x \"\n  |                     ^^^^^^^^^\n  = help: remove the trailing space, or rename the directory\nerror: 1 policy is invalid; nothing was written\n"
    );
    assert_eq!(
        refused_by_check_and_render(&with_exec("working_directory = '-/srv/x\\'\n")),
        "error: `service.working_directory`: \"-/srv/x\\\\\" ends with a backslash, which systemd reads as a line continuation in WorkingDirectory= (the value cannot be quoted)\n --> bad.toml:3:21\n  |\n3 | working_directory = '-/srv/x\\'\n  |                     ^^^^^^^^^^\n  = help: remove the trailing backslash, or rename the directory\nerror: 1 policy is invalid; nothing was written\n"
    );
    for root in ["\"/srv/x \"", "'/srv/x\\'"] {
        let err = refused_by_check_and_render(&with_exec(&format!(
            "[filesystem]\nroot_directory = {root}\n"
        )));
        assert!(
            err.starts_with("error: `filesystem.root_directory`: \"/srv/x")
                && err.contains(" --> bad.toml:4:18\n"),
            "{err}"
        );
    }
}

/// systemd 252 ignores a line with a noncharacter ("String is not UTF-8 clean") and fails
/// to load the unit.
#[test]
fn noncharacters_are_refused_in_every_string() {
    assert_eq!(
        refused_by_check_and_render("[service]\ndescription = \"a\\uFFFEb\"\nexec = [\"/bin/true\"]\n"),
        "error: the Unicode noncharacter U+FFFE in a value: systemd ignores a unit file line that holds one (\"String is not UTF-8 clean\")\n --> bad.toml:2:15\n  |\n2 | description = \"a\\uFFFEb\"\n  |               ^^^^^^^^^^\n  = help: remove it; sandgen refuses the noncharacters U+FDD0..U+FDEF and U+FFFE, U+FFFF, U+1FFFE ... U+10FFFF in every value\nerror: 1 policy is invalid; nothing was written\n"
    );
    for (text, code) in [
        (
            "[service]\nexec = [\"/bin/true\", \"\\uFFFF\"]\n".to_owned(),
            "U+FFFF",
        ),
        (with_exec("environment = { A = \"x\\uFDEF\" }\n"), "U+FDEF"),
        (
            with_exec("working_directory = \"/srv/\\U0001FFFE\"\n"),
            "U+1FFFE",
        ),
        (
            with_exec("[filesystem]\ninaccessible_paths = [\"/a\\U0010FFFF\"]\n"),
            "U+10FFFF",
        ),
        (
            with_exec("[filesystem]\nbind_paths = [\"/a:/b\\uFDD0\"]\n"),
            "U+FDD0",
        ),
    ] {
        let err = refused_by_check_and_render(&text);
        assert!(
            err.starts_with(&format!(
                "error: the Unicode noncharacter {code} in a value"
            )),
            "{text}: {err}"
        );
    }
}

/// systemd 252 drops a path with a component over 255 bytes, or of 4096 bytes and more,
/// from InaccessiblePaths= and the like with only a warning (the sandbox runs without it),
/// and fails the unit with bad-setting for WorkingDirectory=.
#[test]
fn paths_systemd_would_drop_are_refused() {
    let component = "a".repeat(256);
    assert_eq!(
        refused_by_check_and_render(&with_exec(&format!("[filesystem]\ninaccessible_paths = [\"/x/{component}\"]\n"))),
        format!(
            "error: `filesystem.inaccessible_paths`: the path \"/x/{}…\" (259 bytes) has a component of 256 bytes; systemd allows at most 255 (NAME_MAX)\n --> bad.toml:4:23\n  |\n4 | inaccessible_paths = [\"/x/{}…\n  |                       {}\n  = help: systemd would drop the entry with only a warning, leaving the sandbox weaker than the policy; shorten the name\nerror: 1 policy is invalid; nothing was written\n",
            "a".repeat(45),
            "a".repeat(114),
            "^".repeat(80)
        )
    );
    let long = format!("/{}", vec!["d".repeat(200); 21].join("/"));
    assert_eq!(long.len(), 4221);
    let err = refused_by_check_and_render(&with_exec(&format!("working_directory = \"{long}\"\n")));
    assert!(
        err.starts_with("error: `service.working_directory`: the path is 4221 bytes long; systemd allows at most 4095 (PATH_MAX)\n --> bad.toml:3:21\n"),
        "{err}"
    );
    assert!(
        err.contains(
            "  = help: systemd would refuse to start the unit (bad-setting); shorten it\n"
        ),
        "{err}"
    );
    let err = refused_by_check_and_render(&with_exec(&format!(
        "[filesystem]\nbind_paths = [\"/a:/b/{component}\"]\n"
    )));
    assert!(err.contains("has a component of 256 bytes"), "{err}");
}

/// systemd refuses a unit file with a line over 1 MiB ("No buffer space available");
/// sandgen writes lines of at most 64 KiB.
#[test]
fn a_line_over_64_kib_is_refused() {
    let err = refused_by_check_and_render(&format!(
        "[service]\ndescription = \"{}\"\nexec = [\"/bin/true\"]\n",
        "a".repeat(70_000)
    ));
    assert_eq!(
        err,
        format!(
            "error: `service.description` cannot be written as Description=: the line would be 70012 bytes long; sandgen writes lines of at most 65536 bytes (systemd refuses a unit file with a line over 1 MiB)\n --> bad.toml:2:15\n  |\n2 | description = \"{}…\n  |               {}\n  = help: shorten the value (a list is written on one line: list fewer entries)\nerror: 1 policy is invalid; nothing was written\n",
            "a".repeat(125),
            "^".repeat(80)
        )
    );
    // Escaping counts: 40000 `%` are written as 80000.
    let err = refused_by_check_and_render(&format!(
        "[service]\nexec = [\"/bin/echo\", \"{}\"]\n",
        "%".repeat(40_000)
    ));
    assert!(
        err.starts_with("error: `service.exec` cannot be written as ExecStart=: the line would be 80024 bytes long"),
        "{err}"
    );
    let vars: Vec<String> = (0..4)
        .map(|i| format!("V{i} = \"{}\"", "x".repeat(30_000)))
        .collect();
    let err = refused_by_check_and_render(&with_exec(&format!(
        "environment = {{ {} }}\n",
        vars.join(", ")
    )));
    assert!(
        err.starts_with("error: `service.exec` and `service.environment` together are 120026 bytes; sandgen allows 98304 so that execve() never fails with \"Argument list too long\"\n --> bad.toml:2:8\n"),
        "{err}"
    );
}

/// systemd 252 ignores these with "Failed to parse TimeoutStartSec= parameter" and uses
/// the default instead.
#[test]
fn time_spans_systemd_ignores_are_refused() {
    assert_eq!(
        refused_by_check_and_render(&with_exec("timeout_start_sec = \"\\u00a05s\"\n")),
        "error: invalid time span \"\\u{a0}5s\" for `service.timeout_start_sec`: it contains U+00A0, white space that systemd does not skip (only ASCII spaces separate the parts of a time span)\n --> bad.toml:3:21\n  |\n3 | timeout_start_sec = \"\\u00a05s\"\n  |                     ^^^^^^^^^^\n  = help: write seconds, a span such as \"90s\", \"5min\" or \"1h 30min\", or \"infinity\"\nerror: 1 policy is invalid; nothing was written\n"
    );
    assert_eq!(
        refused_by_check_and_render(&with_exec("timeout_start_sec = \"99999999999999999999999s\"\n")),
        "error: invalid time span \"99999999999999999999999s\" for `service.timeout_start_sec`: it does not fit systemd's 64-bit count of microseconds (at most about 584542 years); write \"infinity\" for no limit\n --> bad.toml:3:21\n  |\n3 | timeout_start_sec = \"99999999999999999999999s\"\n  |                     ^^^^^^^^^^^^^^^^^^^^^^^^^^\n  = help: write seconds, a span such as \"90s\", \"5min\" or \"1h 30min\", or \"infinity\"\nerror: 1 policy is invalid; nothing was written\n"
    );
    let err = refused_by_check_and_render(&with_exec("timeout_start_sec = 18446744073709\n"));
    assert!(
        err.starts_with("error: invalid time span 18446744073709 for `service.timeout_start_sec`: it does not fit"),
        "{err}"
    );
}

/// Values systemd 252 refuses or ignores (each measured with `systemd-analyze verify`).
#[test]
fn values_systemd_refuses_are_refused() {
    for (entry, message) in [
        ("user = \"65535\"", "error: `service.user`: \"65535\" is not a valid numeric id: systemd reserves 65535 and 4294967295 as \"no id\"\n"),
        ("group = \"007\"", "error: `service.group`: \"007\" is not a valid numeric id: systemd refuses a leading zero (write \"7\")\n"),
        ("type = \"dbus\"", "error: `service.type` cannot be \"dbus\"\n"),
        ("type = \"oneshot\"\nrestart = \"always\"", "error: `service.restart` = \"always\" cannot be combined with `service.type` = \"oneshot\": systemd refuses to load such a unit\n"),
        ("[resources]\nmemory_max = 0", "error: `resources.memory_max` cannot be 0 bytes (\"0\"): systemd refuses a limit of 0 as out of range\n"),
        ("[resources]\nmemory_high = \"15.9E\"", "error: invalid size \"15.9E\" for `resources.memory_high`\n"),
        ("[resources]\nmemory_low = \"18446744073709551615\"", "error: `resources.memory_low` cannot be 18446744073709551615 bytes: systemd refuses it as out of range\n"),
        ("[resources]\nallowed_cpus = \"0,08\"", "error: invalid CPU list \"0,08\" for `resources.allowed_cpus`: \"08\" has a leading zero, which systemd reads as octal; write \"8\"\n"),
        ("[resources]\ncpu_quota = \"21474837%\"", "error: invalid CPU quota \"21474837%\" for `resources.cpu_quota`: it can be at most 21474836%\n"),
        ("[resources]\ntasks_max = \"050%\"", "error: invalid task limit \"050%\" for `resources.tasks_max`: systemd reads a number with a leading zero as octal; write \"50%\"\n"),
    ] {
        let err = refused_by_check_and_render(&with_exec(&format!("{entry}\n")));
        assert!(err.starts_with(message), "{entry}:\n{err}");
    }
    assert!(refused(&with_exec("type = \"dbus\"\n")).contains(
        "  = help: Type=dbus needs BusName=, which sandgen does not write, and systemd refuses to load the unit without it; use \"notify\" or \"simple\"\n"
    ));
}

#[test]
fn directive_newer_than_the_target_names_its_version() {
    assert_eq!(
        refused(&with_exec("[namespaces]\nprivate_pids = true\n")),
        "error: `namespaces.private_pids` needs systemd 257 (PrivatePIDs= was added in version 257); the target systemd is 252\n --> bad.toml:4:1\n  |\n4 | private_pids = true\n  | ^^^^^^^^^^^^\n  = help: remove it, or target a newer systemd with --systemd-version\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn a_mode_newer_than_the_target_is_refused_or_written_as_strict_with_a_warning() {
    assert_eq!(
        refused(&with_exec("[filesystem]\nprotect_control_groups = \"strict\"\n")),
        "error: `filesystem.protect_control_groups` = \"strict\" needs systemd 257 (ProtectControlGroups=strict was added in version 257); the target systemd is 252\n --> bad.toml:4:26\n  |\n4 | protect_control_groups = \"strict\"\n  |                          ^^^^^^^^\n  = help: true is the closest older form, but without a cgroup namespace the service sees the host's whole cgroup tree: write true if that is acceptable, or target systemd 257 or later with --systemd-version\nerror: 1 policy is invalid; nothing was written\n"
    );
    // Written as the older, stricter form: check and render both say so on stderr, and
    // the unit has what the warning names.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("p.toml"),
        with_exec("[namespaces]\nprivate_users = \"identity\"\n"),
    )
    .expect("write policy");
    let warning = "warning: `namespaces.private_users` = \"identity\" needs systemd 257; for systemd 252 it is written as PrivateUsers=yes, which is stricter: only root and the service's own user are mapped, so other users' files appear owned by nobody\n --> p.toml:4:17\n  |\n4 | private_users = \"identity\"\n  |                 ^^^^^^^^^^\n  = help: target systemd 257 or later with --systemd-version to write PrivateUsers=identity\n";
    for command in ["check", "render"] {
        let out = sandgen(dir.path(), &[command, "--systemd-version", "252", "p.toml"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), warning, "{command}");
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        if command == "render" {
            assert!(stdout.contains("\nPrivateUsers=yes\n"), "{stdout}");
        }
    }
    // For a systemd that has the mode: written as it is, without a word; -q silences it.
    let out = sandgen(
        dir.path(),
        &["render", "--systemd-version", "257", "p.toml"],
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\nPrivateUsers=identity\n"));
    let out = sandgen(
        dir.path(),
        &["-q", "check", "--systemd-version", "252", "p.toml"],
    );
    assert!(out.status.success() && out.stderr.is_empty());
}

#[test]
fn exec_must_be_an_argv_array_with_an_absolute_program() {
    assert_eq!(
        refused("[service]\nexec = \"/bin/dd if=/dev/zero of=/dev/null\"\n"),
        "error: `service.exec` must be an argv array, not a shell string\n --> bad.toml:2:8\n  |\n2 | exec = \"/bin/dd if=/dev/zero of=/dev/null\"\n  |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n  = help: write exec = [\"/bin/dd\", \"if=/dev/zero\", \"of=/dev/null\"]; to run a shell, make it explicit: [\"/bin/sh\", \"-c\", \"...\"]\nerror: 1 policy is invalid; nothing was written\n"
    );
    assert_eq!(
        refused("[service]\nexec = [\"true\"]\n"),
        "error: `service.exec`: the program \"true\" is not an absolute path\n --> bad.toml:2:9\n  |\n2 | exec = [\"true\"]\n  |         ^^^^^^\n  = help: did you mean \"/usr/bin/true\"? (found on PATH)\nerror: 1 policy is invalid; nothing was written\n"
    );
    assert_eq!(
        refused("[service]\ndescription = \"nothing\"\n"),
        "error: the policy has no `service.exec`: nothing to run\n --> bad.toml:1:2\n  |\n1 | [service]\n  |  ^^^^^^^\n  = help: add exec = [\"/path/to/program\", \"arg\", ...] under [service]\nerror: 1 policy is invalid; nothing was written\n"
    );
}

#[test]
fn every_error_in_a_file_is_reported_at_once() {
    let err = refused(&with_exec(
        "[resources]\nmemory_max = \"lots\"\ncpu_wieght = 5\n",
    ));
    assert!(err.contains("bad.toml:4:14"), "{err}");
    assert!(err.contains("bad.toml:5:1"), "{err}");
    assert!(err.contains("did you mean `cpu_weight`?"), "{err}");
}

#[test]
fn nothing_is_written_when_a_policy_is_invalid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("good.toml"), EXEC).expect("write");
    std::fs::write(
        d.join("bad.toml"),
        with_exec("[resources]\nmemory_max = \"lots\"\n"),
    )
    .expect("write");

    // -o onto an existing file: unchanged.
    std::fs::write(d.join("existing.service"), "keep me\n").expect("write");
    let out = sandgen(d, &["render", "bad.toml", "-o", "existing.service"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(d.join("existing.service")).expect("read"),
        "keep me\n"
    );

    // -o onto a new file: not created.
    let out = sandgen(d, &["render", "bad.toml", "-o", "new.service"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!d.join("new.service").exists());

    // --out-dir with one good and one bad policy: neither is written.
    std::fs::create_dir(d.join("out")).expect("mkdir");
    let out = sandgen(d, &["render", "--out-dir", "out", "good.toml", "bad.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_dir(d.join("out")).expect("read_dir").count(),
        0
    );
    // No temporary files are left behind either.
    let names: Vec<_> = std::fs::read_dir(d)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn render_writes_files_atomically_and_deterministically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(d.join("a.toml"), EXEC).expect("write");
    std::fs::write(
        d.join("b.toml"),
        "[service]\nname = \"bee\"\nexec = [\"/bin/true\"]\n",
    )
    .expect("write");
    let out = sandgen(d, &["render", "--out-dir", "units", "a.toml", "b.toml"]);
    assert!(!out.status.success(), "a missing --out-dir must fail");
    std::fs::create_dir(d.join("units")).expect("mkdir");
    let out = sandgen(d, &["render", "--out-dir", "units", "a.toml", "b.toml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let a = std::fs::read_to_string(d.join("units/a.service")).expect("a.service");
    assert!(d.join("units/bee.service").exists());
    let stdout = sandgen(d, &["render", "a.toml"]).stdout;
    assert_eq!(
        String::from_utf8(stdout).expect("utf-8"),
        a,
        "stdout and --out-dir differ"
    );
    let out = sandgen(d, &["render", "a.toml", "-o", "units/a.service"]);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(d.join("units/a.service")).expect("read"),
        a
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.toml"), EXEC).expect("write");
    std::fs::write(dir.path().join("b.toml"), EXEC).expect("write");
    for args in [
        vec!["render"],
        vec!["render", "a.toml", "b.toml"],
        vec!["frobnicate"],
        vec!["render", "a.toml", "--systemd-version", "ten"],
    ] {
        let out = sandgen(dir.path(), &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn missing_file_is_a_failure_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sandgen(dir.path(), &["check", "nope.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: cannot read policy nope.toml: No such file or directory"),
        "{err}"
    );
}

#[test]
fn check_reports_what_it_checked() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = sandgen(
        Path::new(root),
        &[
            "check",
            "--systemd-version",
            "252",
            "policies/heat.toml",
            "policies/memhog.toml",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        stdout,
        "policies/heat.toml: ok (heat.service, 12 directives for systemd 252; system calls checked with `systemd-analyze syscall-filter`)\n\
         policies/memhog.toml: ok (memhog.service, 7 directives for systemd 252)\n"
    );
}

/// `seccomp.deny = ["@sandbox"]`: a group systemd 257 added (Landlock and `seccomp`, which
/// 257's `@default`, and so every allow-list, includes); systemd 252 has no such group.
const DENY_SANDBOX: &str =
    "[service]\nexec = [\"/bin/true\"]\n\n[seccomp]\ndeny = [\"@sandbox\"]\n";

/// `check` answers with the target systemd's groups: the host's systemd-analyze (systemd 252
/// on the Debian 12 hosts these tests run on) for 252, sandgen's built-in 257 table for 257.
#[test]
fn check_uses_the_target_systemd_s_syscall_groups() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sandbox.toml"), DENY_SANDBOX).expect("write");
    let check = |version: &str| {
        sandgen(
            dir.path(),
            &["check", "--systemd-version", version, "sandbox.toml"],
        )
    };

    let on_257 = check("257");
    assert_eq!(
        String::from_utf8_lossy(&on_257.stdout),
        "sandbox.toml: ok (sandbox.service, 2 directives for systemd 257; system calls checked \
         against sandgen's built-in table of systemd 257; the host's systemd-analyze is \
         systemd 252, the target 257)\n"
    );
    assert_eq!(on_257.status.code(), Some(0));

    let on_252 = check("252");
    assert_eq!(
        String::from_utf8_lossy(&on_252.stderr),
        "error: unknown system call group \"@sandbox\" in `seccomp.deny` (checked with \
         `systemd-analyze syscall-filter`)\n --> sandbox.toml:5:9\n  |\n5 | deny = \
         [\"@sandbox\"]\n  |         ^^^^^^^^^^\n  = help: `systemd-analyze syscall-filter` \
         lists the groups and system calls\nerror: 1 policy is invalid\n"
    );
    assert_eq!(on_252.status.code(), Some(1));
    assert!(on_252.stdout.is_empty());
}

/// Without systemd-analyze, each target gets sandgen's built-in table of its version, and
/// `check` says so.
#[test]
fn check_without_systemd_analyze_uses_the_built_in_table_of_the_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("sandbox.toml"), DENY_SANDBOX).expect("write");
    let check = |version: &str| {
        Command::new(SANDGEN)
            .current_dir(dir.path())
            .args(["check", "--systemd-version", version, "sandbox.toml"])
            .env("PATH", dir.path().join("no-such-dir"))
            .output()
            .expect("sandgen runs")
    };
    let on_257 = check("257");
    assert_eq!(
        String::from_utf8_lossy(&on_257.stdout),
        "sandbox.toml: ok (sandbox.service, 2 directives for systemd 257; system calls checked \
         against sandgen's built-in table of systemd 257; systemd-analyze was not available)\n"
    );
    let on_252 = check("252");
    assert_eq!(on_252.status.code(), Some(1));
    let said = String::from_utf8_lossy(&on_252.stderr);
    assert!(
        said.starts_with(
            "error: unknown system call group \"@sandbox\" in `seccomp.deny` (checked against \
             sandgen's built-in table of systemd 252; systemd-analyze was not available)\n"
        ),
        "{said}"
    );
    // Between two tables: the newest at or below the target, and said so.
    let on_255 = check("255");
    assert!(
        String::from_utf8_lossy(&on_255.stderr).contains(
            "(checked against sandgen's built-in table of systemd 252, its newest at or below \
             systemd 255; systemd-analyze was not available)"
        ),
        "{}",
        String::from_utf8_lossy(&on_255.stderr)
    );
}

#[test]
fn cpu_shares_and_memory_limit_follow_the_target_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = with_exec("[resources]\ncpu_shares = 512\nmemory_limit = \"1G\"\n");
    std::fs::write(dir.path().join("legacy.toml"), text).expect("write");
    let modern = String::from_utf8(
        sandgen(
            dir.path(),
            &["render", "--systemd-version", "252", "legacy.toml"],
        )
        .stdout,
    )
    .expect("utf-8");
    assert!(
        modern.contains("\nCPUWeight=50\n") && modern.contains("\nMemoryMax=1G\n"),
        "{modern}"
    );
    let old = String::from_utf8(
        sandgen(
            dir.path(),
            &["render", "--systemd-version", "230", "legacy.toml"],
        )
        .stdout,
    )
    .expect("utf-8");
    assert!(
        old.contains("\nCPUShares=512\n") && old.contains("\nMemoryLimit=1G\n"),
        "{old}"
    );
}

#[test]
fn completions_are_generated() {
    let out = sandgen(Path::new("."), &["completions", "bash"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("sandgen"));
}

#[test]
fn custom_templates_lay_out_the_unit_but_cannot_drop_the_marker_or_the_escaping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir(d.join("tpl")).expect("mkdir");
    std::fs::write(
        d.join("tpl/service.hbs"),
        "{{#each sections}}[{{name}}]\n# custom layout\n{{#each lines}}{{this}}\n{{/each}}{{/each}}",
    )
    .expect("write template");
    std::fs::write(
        d.join("a.toml"),
        "[service]\nexec = [\"/bin/echo\", \"<b> & \\\"q\\\"\"]\n",
    )
    .expect("write");
    let out = sandgen(d, &["render", "a.toml", "--templates", "tpl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.starts_with("# Generated by sandgen from a.toml"),
        "{text}"
    );
    assert!(
        text.contains("[Service]\n# custom layout\nExecStart=\"/bin/echo\" \"<b> & \\\"q\\\"\"\n"),
        "{text}"
    );

    std::fs::write(d.join("tpl/service.hbs"), "{{#each sections}}{{/each}").expect("write");
    let out = sandgen(d, &["render", "a.toml", "--templates", "tpl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("error: template tpl/service.hbs is invalid:"));
}
