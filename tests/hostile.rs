//! sandgen used as a careless or hostile user would, without systemd: stdout closed or full,
//! durations out of range, device nodes and FIFOs where files are expected, policies that
//! collide, roots that do not exist. Never a panic, never a clobbered file, always a clear
//! error and the documented exit code (0 ok, 1 failure, 2 usage).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

use std::os::unix::fs::FileTypeExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "support/stdout.rs"]
mod stdout;
use stdout::{assert_no_panic, SIGPIPE};

const SANDGEN: &str = env!("CARGO_BIN_EXE_sandgen");
const HEAT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/heat.toml");

fn sandgen(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(SANDGEN);
    cmd.current_dir(dir)
        .args(args)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env_remove("SANDGEN_BUS")
        .env_remove("SANDGEN_ROOT");
    cmd
}

fn output(dir: &Path, args: &[&str]) -> Output {
    sandgen(dir, args).output().expect("sandgen runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn with_closed_stdout(dir: &Path, args: &[&str]) -> Output {
    stdout::closed(sandgen(dir, args))
}

fn with_full_stdout(dir: &Path, args: &[&str]) -> Output {
    stdout::full(sandgen(dir, args))
}

/// Every command that prints without systemd, with stdout closed and full: a closed pipe
/// ends the command as it ends `cat` (SIGPIPE), a full device is an error that says so.
#[test]
fn closed_or_full_stdout_never_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(HEAT, dir.path().join("heat.toml")).expect("copy heat");
    let commands: &[&[&str]] = &[
        &["render", "--systemd-version", "252", "heat.toml"],
        &["check", "--systemd-version", "252", "heat.toml"],
        &["reference"],
        &["completions", "bash"],
        &["completions", "zsh"],
        &["score", "heat.toml"],
        &["suggest", "--direct", "--", "/bin/true"],
        &["--help"],
        &["--version"],
    ];
    for args in commands {
        let normal = output(dir.path(), args);
        assert!(
            normal.status.success(),
            "sandgen {args:?}: {}",
            stderr(&normal)
        );
        assert!(
            !normal.stdout.is_empty(),
            "sandgen {args:?} prints something"
        );

        let closed = with_closed_stdout(dir.path(), args);
        assert_no_panic(args, &closed);
        assert!(
            closed.status.success() || closed.status.signal() == Some(SIGPIPE),
            "sandgen {args:?} with stdout closed: {:?} {}",
            closed.status,
            stderr(&closed)
        );

        let full = with_full_stdout(dir.path(), args);
        assert_no_panic(args, &full);
        if args[0].starts_with("--") {
            // clap prints help and version itself, and ignores write errors as it exits.
            continue;
        }
        assert_eq!(full.status.code(), Some(1), "sandgen {args:?} on /dev/full");
        // The last line: notes about what sandgen did may come before it.
        assert!(
            stderr(&full).ends_with(
                "\nerror: cannot write to stdout: No space left on device (os error 28)\n"
            ) || stderr(&full)
                == "error: cannot write to stdout: No space left on device (os error 28)\n",
            "sandgen {args:?} on /dev/full: {}",
            stderr(&full)
        );
    }
}

/// Durations out of range are usage errors (exit 2) before anything is done: no unit file
/// is written, nothing is started.
#[test]
fn out_of_range_durations_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(HEAT, dir.path().join("heat.toml")).expect("copy heat");
    let units = dir.path().join("units");
    std::fs::create_dir(&units).expect("mkdir");
    let unit_dir = units.to_str().expect("utf-8 path");
    for (option, value) in [
        ("--settle", "inf"),
        ("--settle", "1e300"),
        ("--settle", "nan"),
        ("--settle", "-1"),
        ("--timeout", "inf"),
        ("--timeout", "0"),
        ("--timeout", "nan"),
        ("--timeout", "1e300"),
    ] {
        let setting = format!("{option}={value}");
        let args = ["start", &setting, "--unit-dir", unit_dir, "heat.toml"];
        let out = output(dir.path(), &args);
        assert_no_panic(&args, &out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("invalid value '{value}' for '{option} <SECS>'")),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(
            std::fs::read_dir(&units).expect("list").count(),
            0,
            "{args:?} wrote a unit file"
        );
    }
    for value in ["inf", "1e300", "nan"] {
        let args = ["suggest", "--stop-after", value, "--", "/bin/true"];
        let out = output(dir.path(), &args);
        assert_no_panic(&args, &out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

/// `-o` and `--out-dir` replace regular files only: never a device node or a FIFO (as root,
/// `-o /dev/null` used to turn /dev/null into a regular file).
#[test]
fn output_never_replaces_device_nodes_or_fifos() {
    let dir = tempfile::tempdir().expect("tempdir");
    let null = dir.path().join("null");
    nix::sys::stat::mknod(
        &null,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    )
    .expect("mknod a /dev/null twin (needs root)");
    let fifo = dir.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    for (target, kind) in [(&null, "a character device"), (&fifo, "a FIFO")] {
        let t = target.to_str().expect("utf-8 path");
        let out = output(
            dir.path(),
            &["render", "--systemd-version", "252", HEAT, "-o", t],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!("error: refusing to replace {t}: it is {kind}, and sandgen only replaces regular files\n")
        );
    }
    assert!(std::fs::symlink_metadata(&null)
        .expect("stat")
        .file_type()
        .is_char_device());
    assert!(std::fs::symlink_metadata(&fifo)
        .expect("stat")
        .file_type()
        .is_fifo());

    // A symbolic link to a device node is refused too.
    let link = dir.path().join("link.service");
    std::os::unix::fs::symlink(&null, &link).expect("symlink");
    let out = output(
        dir.path(),
        &[
            "render",
            "--systemd-version",
            "252",
            HEAT,
            "-o",
            "link.service",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link)
        .expect("stat")
        .file_type()
        .is_symlink());

    // A missing directory is named as such, not as a temporary file.
    let out = output(
        dir.path(),
        &[
            "render",
            "--systemd-version",
            "252",
            HEAT,
            "-o",
            "nodir/x.service",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: cannot write nodir/x.service: directory nodir does not exist\n"
    );
}

/// A policy is read only when it is a regular file of sane size: /dev/zero was read without
/// bound, a FIFO blocked forever.
#[test]
fn policies_that_are_not_small_regular_files_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "#".repeat(2 << 20)).expect("write");
    for (path, why) in [
        (
            "/dev/zero",
            "it is a character device, not a regular file".to_owned(),
        ),
        ("fifo.toml", "it is a FIFO, not a regular file".to_owned()),
        (
            "big.toml",
            "it has 2097152 bytes, more than a policy may have (1048576)".to_owned(),
        ),
    ] {
        for command in ["check", "render"] {
            let mut child = sandgen(dir.path(), &[command, "--systemd-version", "252", path])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("sandgen runs");
            // Bounded: a sandgen that blocks on the FIFO is killed and the test fails.
            let deadline = Instant::now() + Duration::from_secs(60);
            while child.try_wait().expect("wait").is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("sandgen {command} {path} still runs after 60 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let out = child.wait_with_output().expect("output");
            assert_eq!(out.status.code(), Some(1), "{command} {path}");
            assert!(out.stdout.is_empty());
            assert_eq!(
                stderr(&out),
                format!(
                    "error: cannot read policy {path}: {why}\nerror: 1 policy is invalid{}\n",
                    if command == "render" {
                        "; nothing was written"
                    } else {
                        ""
                    }
                )
            );
        }
    }
}

fn policy(dir: &Path, rel: &str, name: Option<&str>) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let name = name
        .map(|n| format!("name = \"{n}\"\n"))
        .unwrap_or_default();
    std::fs::write(&path, format!("[service]\n{name}exec = [\"/bin/true\"]\n")).expect("write");
}

/// `sandgen render --out-dir DIR POLICIES...` in `d`, which must fail (exit 1, nothing on
/// stdout); its stderr.
fn render_into(d: &Path, dir: &str, policies: &[&str]) -> String {
    let mut args = vec!["render", "--systemd-version", "252", "--out-dir", dir];
    args.extend_from_slice(policies);
    let out = output(d, &args);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    assert!(out.stdout.is_empty(), "{args:?}");
    stderr(&out)
}

/// `--out-dir` is all or nothing: two policies with the same unit name are an error, and
/// when one unit cannot be written, none is.
#[test]
fn out_dir_writes_all_units_or_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    policy(d, "a/same.toml", None);
    policy(d, "b/same.toml", None);
    std::fs::create_dir(d.join("od")).expect("mkdir");
    assert_eq!(
        render_into(d, "od", &["a/same.toml", "b/same.toml"]),
        "error: a/same.toml and b/same.toml both render same.service; nothing was written \
         (give one of them another [service] name)\n"
    );
    assert_eq!(std::fs::read_dir(d.join("od")).expect("list").count(), 0);

    policy(d, "a.toml", None);
    policy(d, "b.toml", None);
    std::fs::create_dir(d.join("od/b.service")).expect("mkdir");
    assert_eq!(
        render_into(d, "od", &["a.toml", "b.toml"]),
        "error: refusing to replace od/b.service: it is a directory, and sandgen only replaces \
         regular files; nothing was written\n"
    );
    let left: Vec<_> = std::fs::read_dir(d.join("od"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("b.service")]);

    assert_eq!(
        render_into(d, "missing", &["a.toml", "b.toml"]),
        "error: --out-dir missing: no such directory; nothing was written\n"
    );
}

/// A `--root` that does not exist is an error, and nothing is created under it.
#[test]
fn a_missing_root_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "a.toml", None);
    let root = dir.path().join("nonexistent");
    let r = root.to_str().expect("utf-8 path");
    let out = output(
        dir.path(),
        &["--root", r, "install", "--no-reload", "a.toml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("error: --root {r}: no such directory (it is the root of the system whose systemd sandgen talks to)\n")
    );
    assert!(!root.exists(), "install created {r}");

    // A root without a systemd unit directory.
    std::fs::create_dir(&root).expect("mkdir");
    let out = output(
        dir.path(),
        &["--root", r, "install", "--no-reload", "a.toml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("it has no systemd unit directory"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&root).expect("list").count(), 0);
}

/// Names that are neither a policy nor a unit are refused with a message that says so, and
/// never echo a file that is not a policy.
#[test]
fn start_and_install_refuse_what_is_not_a_policy_or_unit_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (arg, message) in [
        (
            ".",
            "error: . is a directory, not a policy file (POLICY.toml) or a unit name\n",
        ),
        (
            "/etc/passwd",
            "error: /etc/passwd is neither a policy file (their names end in .toml) nor a unit \
             name (NAME or NAME.service)\n",
        ),
        (
            "web@1",
            "error: \"web@1\" is not a unit name: sandgen does not make template units \
             (NAME@INSTANCE): give each instance a policy of its own, with its own name\n",
        ),
        (
            "a b",
            "error: \"a b\" is not a unit name: the character \" \" is not allowed (only \
             letters, digits, \":\", \"_\", \".\", \"-\" and \"\\\")\n",
        ),
    ] {
        for command in ["start", "install"] {
            let out = output(dir.path(), &[command, "--", arg]);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{command} {arg}: {}",
                stderr(&out)
            );
            assert_eq!(stderr(&out), message, "{command} {arg}");
        }
    }
}

/// A policy cannot name a template instance: said plainly, at the name.
#[test]
fn a_policy_cannot_be_a_template_instance() {
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "p.toml", Some("web@1"));
    let out = output(dir.path(), &["check", "--systemd-version", "252", "p.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "error: `service.name`: \"web@1\" is not a valid unit name: sandgen does not make \
             template units (NAME@INSTANCE): give each instance a policy of its own, with its \
             own name\n --> p.toml:2:8\n"
        ),
        "{err}"
    );
}
