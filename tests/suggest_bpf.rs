//! `sandgen suggest --tracer bpf` against the real systemd of the test lane: the in-kernel
//! recorder sees the same system calls as strace for the workloads `suggest_cli` profiles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::sandgen::Sandgen;

fn syscalls(report: &Value) -> BTreeSet<String> {
    report["syscalls"]
        .as_array()
        .expect("syscalls")
        .iter()
        .map(|v| v.as_str().expect("a name").to_owned())
        .collect()
}

/// The workloads of `suggest_cli`'s `ordinary_workloads_...` test.
fn workloads(out: &str) -> Vec<(&'static str, Vec<String>)> {
    let v = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    vec![
        (
            "pipeline",
            v(&[
                "/bin/sh",
                "-c",
                "ls -l /usr/bin | sort -k5 -n | tail -3 | wc -l",
            ]),
        ),
        (
            "python",
            v(&[
                "python3",
                "-c",
                "import json, sqlite3, hashlib; db = sqlite3.connect(':memory:'); \
                 db.execute('create table t(x)'); \
                 db.executemany('insert into t values (?)', [(i,) for i in range(100)]); \
                 n = db.execute('select sum(x) from t').fetchone()[0]; \
                 print(json.dumps({'sum': n, 'md5': hashlib.md5(b'x').hexdigest()}))",
            ]),
        ),
        (
            "tar",
            v(&[
                "tar",
                "-C",
                "/",
                "-czf",
                &format!("{out}-etc.tgz"),
                "etc/os-release",
                "etc/hostname",
            ]),
        ),
        (
            "gzip",
            v(&[
                "/bin/sh",
                "-c",
                "seq 1 20000 | gzip -9 | gzip -d | sha256sum",
            ]),
        ),
        (
            "find",
            v(&[
                "find",
                "/usr/share/doc",
                "-maxdepth",
                "2",
                "-name",
                "copyright",
                "-newer",
                "/etc/hostname",
            ]),
        ),
        ("du", v(&["du", "-s", "/usr/share/man", "/usr/include"])),
    ]
}

fn suggest(s: &Sandgen, tracer: &str, direct: bool, argv: &[String]) -> (Value, String) {
    let mut args = vec!["suggest", "--json", "--tracer", tracer];
    if direct {
        args.push("--direct");
    }
    args.push("--");
    args.extend(argv.iter().map(String::as_str));
    let out = s.run(&args);
    assert!(out.status.success(), "{}", support::describe(&out));
    (
        serde_json::from_slice(&out.stdout).expect("a JSON report"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_bpf_recorder_sees_what_strace_sees_in_a_unit() {
    let s = Sandgen::new();
    let out = format!("/run/sandgen-bpf-test-{}", std::process::id());
    let mut differences = Vec::new();
    for (stem, argv) in workloads(&out) {
        let (bpf, stderr) = suggest(&s, "bpf", false, &argv);
        assert!(
            stderr.contains("with the BPF recorder, by its cgroup v2 id"),
            "{stem}: {stderr}"
        );
        assert_eq!(bpf["exit_status"], serde_json::json!({"code": 0}), "{stem}");
        let (strace, _) = suggest(&s, "strace", false, &argv);
        let (b, t) = (syscalls(&bpf), syscalls(&strace));
        let only_bpf: Vec<_> = b.difference(&t).cloned().collect();
        let only_strace: Vec<_> = t.difference(&b).cloned().collect();
        if !only_bpf.is_empty() || !only_strace.is_empty() {
            differences.push(format!(
                "{stem}: only BPF {only_bpf:?}, only strace {only_strace:?}"
            ));
        }
    }
    let _ = std::fs::remove_file(
        s.root()
            .join(format!("{out}-etc.tgz").trim_start_matches('/')),
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn the_bpf_recorder_follows_a_direct_child_s_pids() {
    let s = Sandgen::new();
    let argv: Vec<String> = ["/bin/sh", "-c", "ls / | wc -l"]
        .map(str::to_owned)
        .to_vec();
    let (bpf, stderr) = suggest(&s, "bpf", true, &argv);
    assert!(
        stderr.contains("with the BPF recorder, following its PIDs"),
        "{stderr}"
    );
    let (strace, _) = suggest(&s, "strace", true, &argv);
    assert_eq!(syscalls(&bpf), syscalls(&strace));
}

#[test]
fn without_root_auto_falls_back_to_strace_and_says_why() {
    use std::os::unix::process::CommandExt as _;
    let s = Sandgen::new();
    let as_nobody = |tracer: &str| {
        s.command(&[
            "suggest", "--json", "--direct", "--tracer", tracer, "--", "/bin/ls", "/",
        ])
        // A plain user's run: none of the harness's root-only places.
        .current_dir("/")
        .env_remove("SANDGEN_ROOT")
        .env_remove("SANDGEN_BUS")
        .uid(65534)
        .gid(65534)
        .output()
        .expect("sandgen runs")
    };

    let out = as_nobody("auto");
    assert!(out.status.success(), "{}", support::describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "tracer: strace, because the BPF recorder needs root (CAP_BPF and CAP_PERFMON, or \
             CAP_SYS_ADMIN)"
        ),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert!(syscalls(&report).contains("getdents64"), "{report}");

    // Asked for by name, the recorder is not silently replaced.
    let out = as_nobody("bpf");
    assert_eq!(out.status.code(), Some(1), "{}", support::describe(&out));
    assert!(out.stdout.is_empty(), "{}", support::describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: the BPF recorder needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)\n"
    );
}

/// The child of [`a_32_bit_call_is_recorded_as_the_i386_call_it_is`]: with the variable set,
/// it makes i386 system call 199 (`getuid32`) through `int 0x80`, the 32-bit entry; 199 is
/// `fremovexattr` in the native table.
#[test]
fn compat_child() {
    if std::env::var_os("SANDGEN_TEST_COMPAT_CHILD").is_none() {
        return;
    }
    let ret: u32;
    // SAFETY: getuid32 takes no argument, reads nothing and writes only eax.
    unsafe {
        std::arch::asm!("int 0x80", inlateout("eax") 199u32 => ret);
    }
    assert_eq!(ret, 0, "getuid32 as root");
}

#[test]
fn a_32_bit_call_is_recorded_as_the_i386_call_it_is() {
    let s = Sandgen::new();
    let me = std::env::current_exe().expect("the test binary");
    let out = s
        .command(&[
            "suggest",
            "--json",
            "--direct",
            "--tracer",
            "bpf",
            "--",
            me.to_str().expect("utf-8"),
            "--exact",
            "compat_child",
            "--test-threads",
            "1",
        ])
        .env("SANDGEN_TEST_COMPAT_CHILD", "1")
        .output()
        .expect("sandgen runs");
    assert!(out.status.success(), "{}", support::describe(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let calls = syscalls(&report);
    assert!(calls.contains("getuid32"), "{calls:?}");
    assert!(!calls.contains("fremovexattr"), "{calls:?}");
    assert_eq!(report["non_native_abi"], true, "{report}");
}
