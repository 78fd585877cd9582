//! `sandgen inspect` against a real systemd 252 (the container `scripts/test.sh` boots), read
//! from the host as a user would: the demo policies' sandboxes seen from the kernel's side,
//! a unit that restarts under it, and the errors. These tests panic, never skip, without
//! the container.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::sandgen::{Sandgen, SANDGEN};
use support::{describe, unit_name, wait_for, WAIT};

fn demo(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("policies/{name}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// no-net-admin as a service that stays up: its command fails by design (exit 2) and the
/// oneshot is gone before anyone can look at it, so this variant runs the same command and
/// then sleeps.
fn no_net_admin_that_sleeps() -> String {
    let policy = demo("no-net-admin")
        .replace("type = \"oneshot\"", "type = \"exec\"")
        .replace(
            "exec = [\"/usr/sbin/ip\", \"link\", \"set\", \"lo\", \"down\"]",
            "exec = [\"/bin/sh\", \"-c\", \"/usr/sbin/ip link set lo down; exec sleep infinity\"]",
        );
    assert!(
        policy.contains("exec sleep infinity"),
        "no-net-admin.toml changed:\n{policy}"
    );
    policy
}

#[test]
fn ls_shows_a_file_the_service_wrote_into_its_private_tmp_that_the_host_lacks() {
    let s = Sandgen::new();
    let unit = unit_name("privtmp", "service");
    let marker = format!("written-by-{unit}");
    let policy = format!(
        "[service]\nexec = [\"/bin/sh\", \"-c\", \"echo hi > /tmp/{marker}; exec sleep infinity\"]\n\
         [filesystem]\nprivate_tmp = true\n"
    );
    let _cleanup = s.start(&unit, &policy);
    s.wait_for_comm(&unit, "sleep");

    let out = s.ok(&["inspect", &unit, "--ls", "/tmp"]);
    let line = out
        .lines()
        .find(|l| l.ends_with(&format!(" {marker}")))
        .unwrap_or_else(|| panic!("{marker} not listed:\n{out}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        fields,
        ["-rw-r--r--", "0", "0", "3", marker.as_str()],
        "{line}"
    );
    assert!(
        out.contains(&format!("\n/tmp as {unit} sees it:\n")),
        "{out}"
    );
    // The container's own /tmp (the service manager's view) does not have it.
    assert!(!s.container.exists(&format!("/tmp/{marker}")));

    let json = s.json(&["inspect", &unit, "--ls", "/tmp", "--json"]);
    let names: Vec<&str> = json["ls"][0]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(names.contains(&marker.as_str()), "{names:?}");
    assert_eq!(json["ls"][0]["path"], "/tmp");
    assert_eq!(json["ls"][0]["entry"]["kind"], "directory");
}

#[test]
fn caps_of_no_net_admin_lack_cap_net_admin() {
    let s = Sandgen::new();
    let unit = unit_name("no-net-admin", "service");
    let _cleanup = s.start(&unit, &no_net_admin_that_sleeps());
    s.wait_for_comm(&unit, "sleep");

    let json = s.json(&["inspect", &unit, "--json"]);
    let bounding: Vec<&str> = json["capabilities"]["bounding"]
        .as_array()
        .expect("bounding")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!bounding.contains(&"CAP_NET_ADMIN"), "{bounding:?}");
    assert!(bounding.contains(&"CAP_NET_RAW"), "{bounding:?}");
    for set in ["effective", "permitted"] {
        let names = json["capabilities"][set].to_string();
        assert!(!names.contains("CAP_NET_ADMIN"), "{set}: {names}");
    }
    assert_eq!(json["no_new_privs"], false);

    let out = s.ok(&["inspect", &unit, "--caps"]);
    let bounding = out
        .lines()
        .find(|l| l.trim_start().starts_with("bounding "))
        .unwrap_or_else(|| panic!("no bounding line:\n{out}"));
    assert!(bounding.contains("all but CAP_NET_ADMIN"), "{bounding}");
    assert!(out.contains("securebits    not shown:"), "{out}");
}

#[test]
fn the_seccomp_mode_of_heat_is_filter() {
    let s = Sandgen::new();
    let unit = unit_name("heat", "service");
    let _cleanup = s.start(&unit, &demo("heat"));
    s.wait_for_comm(&unit, "dd");

    let json = s.json(&["inspect", &unit, "--json"]);
    assert_eq!(json["seccomp"]["mode"], "filter", "{}", json["seccomp"]);
    assert!(
        json["seccomp"]["filters"].as_u64().is_some_and(|n| n > 0),
        "{}",
        json["seccomp"]
    );
    let out = s.ok(&["inspect", &unit, "--seccomp"]);
    assert!(out.contains("\nseccomp: filter, "), "{out}");
}

#[test]
fn memhogs_oom_kill_is_counted() {
    let s = Sandgen::new();
    let unit = unit_name("memhog", "service");
    // systemd 252 on v1 controllers hears nothing of the kill and the unit stays up; on
    // cgroup v2 systemd would stop it (OOMPolicy=stop), so it is told to continue: in both
    // lanes the cgroup of a running unit counts the kill.
    let policy = demo("memhog").replace(
        "memory_swap_max = \"0\"\n",
        "memory_swap_max = \"0\"\noom_policy = \"continue\"\n",
    );
    assert!(policy.contains("oom_policy"), "{policy}");
    let _cleanup = s.start(&unit, &policy);
    let json = wait_for("the OOM kill to be counted", WAIT, || {
        let json = s.json(&["inspect", &unit, "--json"]);
        (json["cgroup"]["oom_kills"].as_u64() >= Some(1)).then_some(json)
    });
    let cgroup = &json["cgroup"];
    assert_eq!(cgroup["memory_max"], 32u64 << 20, "{cgroup}");
    assert!(
        cgroup["path"]
            .as_str()
            .is_some_and(|p| p.ends_with(&format!("/system.slice/{unit}"))),
        "{cgroup}"
    );
    let version = cgroup["version"].as_u64().expect("version");
    let oom_file = if version == 1 {
        "memory.oom_control"
    } else {
        "memory.events"
    };
    assert!(
        cgroup["files"]["oom_kills"]
            .as_str()
            .is_some_and(|f| f.ends_with(oom_file)),
        "{cgroup}"
    );

    let out = s.ok(&["inspect", &unit, "--cgroup"]);
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("OOM kills"))
        .unwrap_or_else(|| panic!("no OOM line:\n{out}"));
    assert!(!line.contains(" 0 "), "{line}");
    assert!(line.ends_with(oom_file), "{line}");
    let summary = s.ok(&["inspect", &unit]);
    assert!(summary.contains(" OOM kills; "), "{summary}");
}

#[test]
fn the_summary_and_json_name_every_section() {
    let s = Sandgen::new();
    let unit = unit_name("heat-summary", "service");
    let _cleanup = s.start(&unit, &demo("heat"));
    let inner = s.wait_for_comm(&unit, "dd");

    let out = s.ok(&["inspect", &unit]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!("{unit}: active (running), main PID ")),
        "{out}"
    );
    // From the host, the container lane's unit is in another PID namespace (the
    // container's): its PID there is named too. In the guest lane sandgen and the unit
    // share one, and one PID says it all.
    let host_pid = s.container.init_pid != 1;
    let tail = if host_pid {
        format!(" (dd), PID {inner} in its PID namespace")
    } else {
        " (dd)".to_owned()
    };
    assert!(lines[0].ends_with(&tail), "{out}");
    for (i, section) in ["mounts", "caps", "seccomp", "cgroup", "pids"]
        .iter()
        .enumerate()
    {
        assert!(lines[i + 1].starts_with(&format!("  {section} ")), "{out}");
    }
    assert!(lines[1].contains("private /tmp"), "{out}");
    assert!(lines[1].contains("made inaccessible: /home /root"), "{out}");
    assert!(
        lines[2].starts_with(
            "  caps     bounding none; effective none; ambient none; no_new_privs yes"
        ),
        "{out}"
    );

    let tree = s.ok(&["inspect", &unit, "--mounts"]);
    assert!(
        tree.lines()
            .any(|l| l.starts_with('!') && l.ends_with("private /tmp")),
        "{tree}"
    );
    assert!(
        tree.lines()
            .any(|l| l.starts_with('+') && l.contains("/home") && l.ends_with("made inaccessible")),
        "{tree}"
    );

    let json = s.json(&["inspect", &unit, "--json"]);
    assert_eq!(json["unit"], unit.as_str());
    let main_pid = json["main_pid"].as_u64().expect("main_pid");
    for key in [
        "mounts",
        "capabilities",
        "no_new_privs",
        "seccomp",
        "cgroup",
        "pids",
    ] {
        assert!(json.get(key).is_some(), "no {key}");
    }
    let tmp = json["mounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .rev()
        .find(|m| m["mount_point"] == "/tmp")
        .expect("a /tmp mount");
    for key in ["mount_point", "fs_type", "source", "options"] {
        assert!(tmp[key].is_string(), "{key} in {tmp}");
    }
    assert_eq!(tmp["differs"], true);
    for key in [
        "effective",
        "permitted",
        "inheritable",
        "bounding",
        "ambient",
    ] {
        assert!(json["capabilities"][key].is_array(), "{key}");
    }
    for key in [
        "path",
        "version",
        "memory_max",
        "memory_current",
        "cpu_weight",
        "cpu_shares",
        "tasks_max",
        "oom_kills",
    ] {
        assert!(json["cgroup"].get(key).is_some(), "cgroup.{key}");
    }
    assert_eq!(json["cgroup"]["memory_max"], 64u64 << 20);
    assert_eq!(json["cgroup"]["tasks_max"], 4);
    let main = json["pids"]
        .as_array()
        .expect("pids")
        .iter()
        .find(|p| p["pid"].as_u64() == Some(main_pid))
        .expect("the main process among the pids");
    assert_eq!(main["comm"], "dd");
    // Its PID in each PID namespace, outermost first: the container lane's unit has its
    // container PID too; the guest lane's only the one it shares with sandgen.
    if host_pid {
        assert_eq!(main["nspid"], serde_json::json!([main_pid, inner]));
    } else {
        assert_eq!(main["nspid"], serde_json::json!([main_pid]));
        assert_eq!(main_pid, u64::from(inner));
    }
}

#[test]
fn inspect_of_a_unit_that_restarts_under_it_never_reports_a_foreign_process() {
    let s = Sandgen::new();
    let unit = unit_name("flapping", "service");
    // A main process that lives 0.15 s, restarted at once, forever.
    let _guard = s.container.install_unit(
        &unit,
        "[Unit]\nStartLimitIntervalSec=0\n[Service]\nExecStart=/bin/sleep 0.15\n\
         Restart=always\nRestartSec=0\n",
    );
    s.container.exec_ok(&["systemctl", "start", &unit]);
    let (mut reported, mut refused) = (0, 0);
    for round in 0..300 {
        let out = s.run(&["inspect", &unit, "--json"]);
        if out.status.success() {
            let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
            let pid = json["main_pid"].as_u64().expect("main_pid");
            // What is reported is the unit's: its cgroup, and the main process among the
            // processes of that cgroup, running the unit's command.
            assert!(
                json["cgroup"]["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with(&format!("/system.slice/{unit}"))),
                "round {round}: {}",
                json["cgroup"]
            );
            let main = json["pids"]
                .as_array()
                .expect("pids")
                .iter()
                .find(|p| p["pid"].as_u64() == Some(pid))
                .unwrap_or_else(|| panic!("round {round}: main PID {pid} not in {}", json["pids"]));
            assert_eq!(main["comm"], "sleep", "round {round}");
            reported += 1;
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "round {round}: {}",
                describe(&out)
            );
            assert!(
                err.starts_with(&format!("error: {unit} restarted while sandgen read it ("))
                    && err.ends_with(
                        "): nothing is reported, since it could be another process's state; \
                         run the command again\n"
                    )
                    || err.starts_with(&format!("error: {unit} is not running ("))
                    || err.starts_with(&format!("error: {unit} has no main process right now (")),
                "round {round}: an unexpected error: {err}"
            );
            refused += 1;
        }
        if round >= 30 && reported > 0 && refused > 0 {
            break;
        }
    }
    assert!(
        reported > 0,
        "inspect never got through ({refused} refusals)"
    );
    assert!(
        refused > 0,
        "the unit never restarted during an inspect ({reported} reports)"
    );
}

#[test]
fn errors_say_what_is_wrong_and_exit_1() {
    let s = Sandgen::new();
    let missing = unit_name("no-such-unit", "service");
    let err = s.fails_silently(&["inspect", &missing]);
    assert_eq!(
        err,
        format!("error: {missing}: no such unit (sandgen start POLICY installs and starts one)\n")
    );
    let err = s.fails_silently(&["verify", &missing]);
    assert_eq!(
        err,
        format!("error: {missing}: no such unit (sandgen start POLICY installs and starts one)\n")
    );

    let done = unit_name("done", "service");
    let guard = s
        .container
        .install_unit(&done, "[Service]\nType=oneshot\nExecStart=/bin/true\n");
    s.container.exec_ok(&["systemctl", "start", guard.name()]);
    let err = s.fails_silently(&["inspect", &done]);
    assert_eq!(
        err,
        format!(
            "error: {done} is not running (inactive (dead)): there is no process to look at \
             (sandgen start {} starts it)\n",
            done.trim_end_matches(".service")
        )
    );

    // Not root: refused before anything else is tried.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", SANDGEN])
        .args(["inspect", "heat"])
        .output()
        .expect("setpriv runs");
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: sandgen inspect needs root: it reads the /proc files of the unit's processes \
         and enters their mount namespace (run it with sudo)\n"
    );

    // --ls of a path that is not there names it.
    let unit = unit_name("ls-missing", "service");
    let _cleanup = s.start(
        &unit,
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[filesystem]\nprivate_tmp = true\n",
    );
    s.wait_for_comm(&unit, "sleep");
    let err = s.fails_silently(&["inspect", &unit, "--ls", "/tmp/none"]);
    assert!(
        err.starts_with("error: cannot list /tmp/none inside the mount namespace of process ")
            && err.ends_with("/usr/bin/find: '/tmp/none': No such file or directory\n"),
        "{err}"
    );
}
