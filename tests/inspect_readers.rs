//! The `sandgen inspect` readers against the real kernel: a private mount namespace made with
//! unshare(1), credentials set with setpriv(1), cgroups made for the test, PID reuse, and a
//! sandboxed unit of the real systemd in the test container.
//!
//! Needs root (mounts, setns, cgroups). The last test needs the container `scripts/test.sh`
//! boots: run everything with `sudo scripts/test.sh --test inspect_readers`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use sandgen::inspect::cgroup::{self, CgroupVersion};
use sandgen::inspect::mounts::Difference;
use sandgen::inspect::namespace::FileKind;
use sandgen::inspect::{
    inspect, pids, process, InspectError, MountNamespace, ProcessHandle, Roots, SeccompMode,
};

/// Kills and reaps the child when dropped, also when a test fails.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(program: &str, args: &[&str]) -> Reaped {
    Reaped(
        Command::new(program)
            .args(args)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}")),
    )
}

/// A process in a private mount namespace whose /tmp is a new tmpfs holding `marker` (with
/// `content`) and an absolute symlink `link` to it; it ends up as `sleep 60`.
fn process_with_private_tmp(marker: &str, content: &str) -> Reaped {
    let script = format!(
        "mount -t tmpfs sandgen-test /tmp && printf %s '{content}' > /tmp/{marker} && \
         ln -s /tmp/{marker} /tmp/link && exec sleep 60"
    );
    let child = spawn(
        "unshare",
        &["-m", "--propagation", "private", "sh", "-c", &script],
    );
    support::wait_for_comm(child.0.id(), "sleep");
    child
}

#[test]
fn ls_inside_a_private_mount_namespace_sees_what_the_host_does_not() {
    let marker = format!("marker-{}", std::process::id());
    let child = process_with_private_tmp(&marker, "inside");
    let handle = ProcessHandle::open(child.0.id()).unwrap();
    let ns = MountNamespace::of(&handle).unwrap();

    let inside = ns.list(Path::new("/tmp")).unwrap();
    let names: Vec<&str> = inside.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["link", marker.as_str()], "sorted by name");
    let link = inside.entries.iter().find(|e| e.name == "link").unwrap();
    assert_eq!(link.kind, FileKind::Symlink);
    assert_eq!(
        link.link_target.as_deref(),
        Some(format!("/tmp/{marker}").as_str())
    );
    assert!(
        !Path::new("/tmp").join(&marker).exists(),
        "the host's /tmp has {marker}"
    );

    // The absolute symlink resolves inside the namespace...
    assert_eq!(
        ns.read_file(Path::new("/tmp/link"), 1024).unwrap(),
        b"inside"
    );
    // ...while from outside, through /proc/PID/root, it resolves on the host and misses.
    let outside = PathBuf::from(format!("/proc/{}/root/tmp/link", child.0.id()));
    assert!(
        std::fs::read(&outside).is_err(),
        "{} resolved",
        outside.display()
    );

    // The namespace stays open while the process lives; once it is gone, a new handle fails.
    let pid = child.0.id();
    drop(child);
    assert!(!handle.still_same().unwrap());
    let err = ProcessHandle::open(pid).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("process {pid} is gone (the unit restarted or stopped?): run inspect again")
    );
}

#[test]
fn inspects_a_sandboxed_process_and_refuses_once_it_is_gone() {
    let script = "mount -t tmpfs sandgen-test /tmp && \
                  exec setpriv --no-new-privs --bounding-set -net_admin sleep 60";
    let child = spawn(
        "unshare",
        &["-m", "--propagation", "private", "sh", "-c", script],
    );
    let pid = child.0.id();
    support::wait_for_comm(pid, "sleep");
    let handle = ProcessHandle::open(pid).unwrap();
    let got = inspect("test.service", &handle, &Roots::system()).unwrap();

    assert_eq!(got.main_pid, pid);
    assert!(got.no_new_privs);
    assert_eq!(got.seccomp.mode, SeccompMode::Disabled);
    assert!(!got
        .capabilities
        .bounding
        .iter()
        .any(|c| c == "CAP_NET_ADMIN"));
    assert!(got.capabilities.bounding.iter().any(|c| c == "CAP_NET_RAW"));
    let tmp = got.mounts.top_at("/tmp").unwrap();
    // A new mount on /tmp: added where this machine's /tmp is a plain directory (the
    // container lane's host), a replacement where it is a mount of its own (Debian 13's
    // tmpfs /tmp, the guest lane).
    let tmp_is_a_mount = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| l.split_whitespace().nth(4) == Some("/tmp"));
    if tmp_is_a_mount {
        assert!(
            matches!(tmp.difference, Difference::Replaced { .. }),
            "{:?}",
            tmp.difference
        );
    } else {
        assert_eq!(tmp.difference, Difference::Added);
    }
    assert_eq!(tmp.source, "sandgen-test");
    assert_eq!(tmp.note.as_deref(), Some("new tmpfs"));
    assert_eq!(
        got.mounts.top_at("/proc").unwrap().difference,
        Difference::Same
    );
    assert!(got.pids.iter().any(|p| p.pid == pid && p.comm == "sleep"));
    let json = serde_json::to_value(&got).unwrap();
    assert_eq!(json["no_new_privs"], true);
    assert_eq!(json["seccomp"]["mode"], "disabled");

    drop(child);
    let err = inspect("test.service", &handle, &Roots::system()).unwrap_err();
    assert!(matches!(err, InspectError::Restarted { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "the main process of test.service (PID {pid}) exited while sandgen read it (the unit \
             restarted?): nothing reported; run inspect again"
        )
    );
}

/// Cgroups made for one test in every hierarchy it needs; removed when dropped (after the
/// processes in them are gone).
struct TestCgroup {
    dirs: Vec<PathBuf>,
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn write(path: &Path, value: &str) {
    std::fs::write(path, value).unwrap_or_else(|e| {
        panic!(
            "cannot write {value:?} to {} (run as root): {e}",
            path.display()
        )
    });
}

#[test]
fn reads_limits_of_a_cgroup_made_for_the_test() {
    let root = Path::new("/sys/fs/cgroup");
    let name = format!("sandgen-inspect-test-{}", std::process::id());
    let mut cg = TestCgroup { dirs: vec![] };
    let child = spawn("sleep", &["60"]);
    // Right after spawn() the child may still carry this thread's name: the process list
    // read below must show `sleep`.
    support::wait_for_comm(child.0.id(), "sleep");
    let pid = child.0.id().to_string();
    let unified = cgroup::is_unified(root);
    if unified {
        // Pure v2: enable the controllers below the root, make the cgroup, set its limits.
        write(
            &root.join("cgroup.subtree_control"),
            "+memory +cpu +pids +cpuset",
        );
        let dir = root.join(&name);
        std::fs::create_dir(&dir).unwrap();
        cg.dirs.push(dir.clone());
        write(&dir.join("memory.max"), "104857600");
        write(&dir.join("cpu.max"), "50000 100000");
        write(&dir.join("cpu.weight"), "50");
        write(&dir.join("pids.max"), "16");
        write(&dir.join("cpuset.cpus"), "0");
        write(&dir.join("cgroup.procs"), &pid);
    } else {
        // v1 or hybrid: one cgroup per hierarchy; `cpu` may be a symlink to `cpu,cpuacct`.
        for controller in ["systemd", "memory", "cpu", "pids", "cpuset"] {
            let dir = root.join(controller).join(&name);
            std::fs::create_dir(&dir)
                .unwrap_or_else(|e| panic!("cannot create {} (run as root): {e}", dir.display()));
            cg.dirs.push(dir.clone());
            match controller {
                "memory" => write(&dir.join("memory.limit_in_bytes"), "104857600"),
                "cpu" => {
                    write(&dir.join("cpu.shares"), "512");
                    write(&dir.join("cpu.cfs_quota_us"), "50000");
                    write(&dir.join("cpu.cfs_period_us"), "100000");
                }
                "pids" => write(&dir.join("pids.max"), "16"),
                "cpuset" => {
                    // A v1 cpuset takes no task before it has CPUs and memory nodes.
                    let mems = std::fs::read_to_string(root.join("cpuset/cpuset.mems")).unwrap();
                    write(&dir.join("cpuset.mems"), mems.trim());
                    write(&dir.join("cpuset.cpus"), "0");
                }
                _ => {}
            }
            write(&dir.join("cgroup.procs"), &pid);
        }
    }

    let state = cgroup::read_cgroup(Path::new("/proc"), root, child.0.id());
    let procs = pids::read_unit_processes(Path::new("/proc"), root, child.0.id());
    drop(child);
    let state = state.unwrap();
    assert_eq!(state.path, format!("/{name}"));
    assert_eq!(state.memory_max, Some(104_857_600));
    assert!(state.memory_current.is_some());
    assert_eq!(state.cpu_quota, Some(50.0));
    assert_eq!(state.cpuset.as_deref(), Some("0"));
    assert_eq!(state.tasks_max, Some(16));
    assert_eq!(state.tasks_current, Some(1));
    assert_eq!(state.oom_kills, Some(0));
    if unified {
        assert_eq!(state.version, CgroupVersion::V2);
        assert_eq!(state.cpu_weight, Some(50));
    } else {
        assert_eq!(state.version, CgroupVersion::V1);
        assert_eq!(state.cpu_shares, Some(512));
        assert_eq!(state.memory_limit_hits, Some(0));
        assert_eq!(
            state.files["memory_max"],
            root.join("memory")
                .join(&name)
                .join("memory.limit_in_bytes")
        );
    }
    let procs = procs.unwrap();
    assert_eq!(procs.len(), 1, "{procs:?}");
    assert_eq!(procs[0].comm, "sleep");
}

#[test]
fn reads_the_cgroup_of_this_test_process() {
    let me = std::process::id();
    let root = Path::new("/sys/fs/cgroup");
    let state = cgroup::read_cgroup(Path::new("/proc"), root, me).unwrap();
    let membership = cgroup::read_proc_cgroup(Path::new("/proc"), me).unwrap();
    let expected_version = if cgroup::is_unified(root) {
        CgroupVersion::V2
    } else {
        CgroupVersion::V1
    };
    assert_eq!(state.version, expected_version);
    let systemd_line = membership
        .iter()
        .find(|m| m.controllers.iter().any(|c| c == "name=systemd") || m.hierarchy == 0)
        .unwrap();
    assert_eq!(state.path, systemd_line.path);
    assert!(
        state.memory_current.is_some_and(|bytes| bytes > 0),
        "{state:?}"
    );
    let procs = pids::read_unit_processes(Path::new("/proc"), root, me).unwrap();
    assert!(procs.iter().any(|p| p.pid == me), "{procs:?}");
    let status = process::read_status(Path::new("/proc"), me).unwrap();
    assert_eq!(status.seccomp.mode, SeccompMode::Disabled);
}

/// A unit of the real systemd, sandboxed the way sandgen's policies sandbox: read from the
/// host, as `sandgen inspect` will.
#[test]
fn inspects_a_sandboxed_unit_of_the_real_systemd() {
    let c = support::Container::from_env();
    let unit = support::unit_name("inspect", "service");
    let _guard = c.install_unit(
        &unit,
        "[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=exec\n\
         ExecStart=/bin/sh -c 'echo hi > /tmp/written-by-unit; exec sleep 300'\n\
         PrivateTmp=yes\nProtectHome=yes\nPrivateDevices=yes\nProtectSystem=strict\n\
         NoNewPrivileges=yes\nSystemCallFilter=@system-service\n\
         CapabilityBoundingSet=~CAP_NET_ADMIN\nMemoryMax=100M\nCPUQuota=50%\nTasksMax=16\n",
    );
    c.exec_ok(&["systemctl", "start", &unit]);
    let inner = c.wait_for_comm(&unit, "sleep");
    let pid = pids::translate_pid(Path::new("/proc"), c.init_pid, inner)
        .unwrap()
        .unwrap_or_else(|| panic!("no host PID for container PID {inner}"));

    let handle = ProcessHandle::open(pid).unwrap();
    let roots = Roots {
        host_pid: Some(c.init_pid),
        ..Roots::system()
    };
    let got = inspect(&unit, &handle, &roots).unwrap();
    assert!(got.no_new_privs);
    assert_eq!(got.seccomp.mode, SeccompMode::Filter);
    assert!(got.seccomp.filters.is_some_and(|n| n > 0));
    assert!(!got
        .capabilities
        .bounding
        .iter()
        .any(|c| c == "CAP_NET_ADMIN"));
    let note = |p: &str| got.mounts.top_at(p).and_then(|m| m.note.clone());
    assert_eq!(note("/tmp").as_deref(), Some("private /tmp"));
    assert_eq!(note("/home").as_deref(), Some("made inaccessible"));
    assert_eq!(note("/dev").as_deref(), Some("private /dev, read-only"));
    assert!(got
        .mounts
        .top_at("/")
        .unwrap()
        .options
        .split(',')
        .any(|o| o == "ro"));
    assert_eq!(got.cgroup.memory_max, Some(100 * 1024 * 1024));
    assert_eq!(got.cgroup.cpu_quota, Some(50.0));
    assert_eq!(got.cgroup.tasks_max, Some(16));
    assert!(
        got.cgroup.path.ends_with(&format!("/system.slice/{unit}")),
        "{}",
        got.cgroup.path
    );
    let main = got.pids.iter().find(|p| p.pid == pid).unwrap();
    // NSpid: from the host the container lane's unit has its container PID too; in the
    // guest lane the test and the unit share one PID namespace.
    if c.init_pid == 1 {
        assert_eq!(main.nspid, [pid]);
    } else {
        assert_eq!(main.nspid, [pid, inner]);
    }

    // What the unit wrote to its private /tmp is there inside, and not in the container's.
    let ns = MountNamespace::of(&handle).unwrap();
    let tmp = ns.list(Path::new("/tmp")).unwrap();
    assert!(
        tmp.entries.iter().any(|e| e.name == "written-by-unit"),
        "{tmp:?}"
    );
    assert!(!c.exists("/tmp/written-by-unit"));
    assert_eq!(
        ns.read_file(Path::new("/tmp/written-by-unit"), 64).unwrap(),
        b"hi\n"
    );
    // /home is an empty directory nobody may enter.
    let home = ns.list(Path::new("/home")).unwrap();
    assert_eq!(home.path.mode, 0);
    assert!(home.entries.is_empty());

    // Restart the unit: the old handle must not report the new process.
    c.exec_ok(&["systemctl", "restart", &unit]);
    assert!(!handle.still_same().unwrap());
    assert!(matches!(
        inspect(&unit, &handle, &roots),
        Err(InspectError::Restarted { .. })
    ));
}
