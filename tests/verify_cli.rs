//! `sandgen verify` against a real systemd 252 (the container `scripts/test.sh` boots): every
//! demo policy starts and passes, and a unit started with other settings than the policy
//! fails on exactly the keys that differ. These tests panic, never skip, without the
//! container.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use support::sandgen::{statuses, Cleanup, Sandgen};
use support::{describe, unit_name};

/// What only these tests ask of sandgen.
trait VerifyCli {
    fn verify(&self, args: &[&str], code: i32) -> (Value, Output);
}

impl VerifyCli for Sandgen {
    /// `sandgen verify ARGS --json`, which must exit with `code`.
    fn verify(&self, args: &[&str], code: i32) -> (Value, Output) {
        let mut all = vec!["verify"];
        all.extend_from_slice(args);
        all.push("--json");
        let out = self.run(&all);
        assert_eq!(out.status.code(), Some(code), "{all:?}: {}", describe(&out));
        let json = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{all:?}: not JSON ({e}): {}", describe(&out)));
        (json, out)
    }
}

/// A directory in the container's root, removed when dropped.
struct Dir {
    host: PathBuf,
    inside: String,
}

impl Dir {
    fn new(s: &Sandgen, what: &str) -> Dir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let inside = format!("/srv/sandgen-test-{}-{n}-{what}", std::process::id());
        let host = s.root().join(inside.trim_start_matches('/'));
        std::fs::create_dir_all(&host).expect("mkdir in the container");
        Dir { host, inside }
    }

    /// A busybox tree as policies/busybox-container.toml describes it.
    fn busybox(s: &Sandgen) -> Dir {
        let dir = Dir::new(s, "busybox");
        let d = &dir.inside;
        s.container.exec_ok(&[
            "sh",
            "-c",
            &format!(
                "mkdir -p {d}/bin && cp /bin/busybox {d}/bin/ && chroot {d} /bin/busybox --install -s /bin"
            ),
        ]);
        dir
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.host);
    }
}

fn demo(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("policies/{name}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `text` with `from` replaced, which must be there.
fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in:\n{text}");
    text.replace(from, to)
}

#[test]
fn every_demo_policy_starts_and_passes_verify() {
    let s = Sandgen::new();
    let busybox = Dir::busybox(&s);
    let mut names: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"))
            .expect("policies/")
            .filter_map(|e| {
                let name = e.ok()?.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".toml").map(str::to_owned)
            })
            // The policy library has a test each in tests/library.rs, which also checks that
            // this list is the whole library.
            .filter(|n| {
                ![
                    "etc-backup",
                    "low-port-httpd",
                    "offline-worker",
                    "static-web",
                    "tmp-clean",
                ]
                .contains(&n.as_str())
            })
            .collect();
    names.sort();
    assert!(names.len() >= 6, "{names:?}");
    for name in &names {
        let policy = match name.as_str() {
            "busybox-container" => replaced(
                &demo(name),
                "root_directory = \"/srv/sandgen/busybox\"",
                &format!("root_directory = \"{}\"", busybox.inside),
            ),
            // A oneshot that fails by design (exit 2) is gone before anyone can verify it:
            // the same command, then a sleep.
            "no-net-admin" => replaced(
                &replaced(&demo(name), "type = \"oneshot\"", "type = \"exec\""),
                "exec = [\"/usr/sbin/ip\", \"link\", \"set\", \"lo\", \"down\"]",
                "exec = [\"/bin/sh\", \"-c\", \"/usr/sbin/ip link set lo down; exec sleep infinity\"]",
            ),
            // The profile is loaded by the AppArmor demo's own test (tests/talk.rs); here,
            // where none may be loaded, the rest of the policy.
            "apparmor-confined" => replaced(
                &demo(name),
                "apparmor_profile = \"sandgen-demo\"",
                "",
            ),
            // PrivatePIDs= needs systemd 257: sandgen refuses the demo for an older one.
            "busybox-container-1" | "busybox-container-2" if s.container.systemd < 257 => {
                let file = s.policy(&unit_name(name, "service"), &demo(name));
                let err = s.fails(&["start", &file]);
                assert!(
                    err.contains("error: `namespaces.private_pids` needs systemd 257"),
                    "{name}: {err}"
                );
                continue;
            }
            "busybox-container-1" | "busybox-container-2" => replaced(
                &demo(name),
                &format!("root_directory = \"/srv/sandgen/{}\"", name.replace("-container", "")),
                &format!("root_directory = \"{}\"", busybox.inside),
            ),
            // On cgroup v2 systemd stops the hog's unit at its OOM kill (Result=oom-kill,
            // tested in tests/service.rs), so there would be nothing left to verify: the
            // same limits on a process that stays.
            "memhog" => replaced(
                &demo(name),
                "exec = [\"/bin/sh\", \"-c\", \"free -m; /usr/bin/tail /dev/zero; echo \\\"child exited with status $?\\\"; exec sleep infinity\"]",
                "exec = [\"/bin/sleep\", \"infinity\"]",
            ),
            // The container's /var/tmp is on its overlay root, where systemd finds no disk
            // to limit (tests/io_ip.rs): the same limits on a directory on the host's disk.
            "io-limited" if !on_a_disk(&s, "/var/tmp") => {
                replaced(&demo(name), "/var/tmp", env!("CARGO_TARGET_TMPDIR"))
            }
            _ => demo(name),
        };
        let unit = unit_name(name, "service");
        let _cleanup = s.start(&unit, &policy);
        // The start job ends at systemd's fork; the sandbox is complete at the exec.
        s.wait_for_exec(&unit);
        let (json, _) = s.verify(&[&unit], 0);
        assert_eq!(json["fail"], 0, "{name}: {json:#}");
        assert!(json["pass"].as_u64() > Some(2), "{name}: {json:#}");
        assert_eq!(json["unit"], unit.as_str());
        assert_eq!(json["policy"], format!("/etc/systemd/system/{unit}"));
        assert_eq!(json["policy_recorded"], true);
        for check in json["checks"].as_array().expect("checks") {
            for key in ["key", "directive", "policy", "status", "evidence"] {
                assert!(check[key].is_string(), "{name}: {key} in {check}");
            }
        }
        let human = s.ok(&["verify", &unit]);
        let last = human.lines().last().expect("a summary line");
        assert!(
            last.starts_with(&format!("{unit}: ")) && last.contains(" pass, 0 fail, "),
            "{name}:\n{human}"
        );
    }
    // What io-limited wrote if it was stopped before it removed it.
    for dir in ["/var/tmp", env!("CARGO_TARGET_TMPDIR")] {
        let _ = s
            .container
            .exec(&["rm", "-f", &format!("{dir}/io-limited.dat")]);
    }
}

/// Whether `dir` of the lane is on a file system with a disk (device major not 0).
fn on_a_disk(s: &Sandgen, dir: &str) -> bool {
    s.container.exec_ok(&["stat", "-c", "%Hd", dir]).trim() != "0"
}

/// Asks for every restriction sandgen can check, on a root service whose unit asks for
/// none: everything that can fail must fail. ROOT is replaced by an existing directory.
const RESTRICTIVE: &str = r#"
[service]
exec = ["/bin/sleep", "infinity"]
user = "daemon"
group = "nogroup"
dynamic_user = true
working_directory = "/tmp"
environment = { SANDGEN_VERIFY = "expected" }
umask = "0077"
restart = "always"
[resources]
memory_max = "64M"
memory_high = "48M"
memory_low = "16M"
memory_swap_max = "0"
cpu_weight = 50
cpu_quota = "20%"
allowed_cpus = "0"
cpu_affinity = "0"
io_weight = 200
tasks_max = 8
[capabilities]
bounding = ["CAP_CHOWN"]
ambient = ["CAP_CHOWN"]
no_new_privileges = true
secure_bits = ["keep-caps"]
[seccomp]
allow = ["@system-service"]
error_number = "EPERM"
architectures = ["native"]
log = ["uname"]
lock_personality = true
memory_deny_write_execute = true
restrict_realtime = true
restrict_suid_sgid = true
[filesystem]
root_directory = "ROOT"
mount_api_vfs = true
private_tmp = true
private_devices = true
private_mounts = true
protect_home = true
protect_system = "strict"
read_only_paths = ["/etc"]
inaccessible_paths = ["/opt"]
bind_paths = ["/usr/share:/mnt"]
bind_read_only_paths = ["/usr/share/doc:/media"]
protect_kernel_tunables = true
protect_kernel_modules = true
protect_kernel_logs = true
protect_control_groups = true
protect_clock = true
protect_proc = "invisible"
proc_subset = "pid"
[network]
private_network = true
restrict_address_families = ["AF_UNIX"]
[namespaces]
restrict_namespaces = true
private_ipc = true
private_users = true
protect_hostname = true
remove_ipc = true
[install]
after = ["network.target"]
wanted_by = ["multi-user.target"]
"#;

#[test]
fn verify_names_every_key_a_unit_without_a_sandbox_does_not_have() {
    let s = Sandgen::new();
    let root = Dir::new(&s, "root");
    let unit = unit_name("plain", "service");
    let _cleanup = s.start(&unit, "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n");
    s.wait_for_comm(&unit, "sleep");
    let policy = s.policy("restrictive", &RESTRICTIVE.replace("ROOT", &root.inside));
    let (json, out) = s.verify(&[&unit, "--policy", &policy], 1);
    let got = statuses(&json);
    let v1 = s
        .ok(&["inspect", &unit, "--json"])
        .contains("\"version\": 1");

    // Not checkable from outside, whatever runs.
    let mut expected: BTreeMap<&str, &str> = [
        "service.restart",
        "capabilities.secure_bits",
        "namespaces.remove_ipc",
        "install.after",
        "install.wanted_by",
    ]
    .into_iter()
    .map(|k| (k, "not_checkable"))
    .collect();
    // The unit runs exactly this command.
    expected.insert("service.exec", "pass");
    // The unit sees the service manager's /proc/sys and /sys: nspawn (the container lane)
    // mounts them read-only for every process in it, so the check passes there anyway; a
    // machine of its own (the guest lane) has them read-write, so it fails.
    let managers_proc_sys_ro = managers_mount(&s, "/proc/sys")
        .is_some_and(|(_, options)| options.split(',').any(|o| o == "ro"));
    expected.insert(
        "filesystem.protect_kernel_tunables",
        if managers_proc_sys_ro { "pass" } else { "fail" },
    );
    expected.insert("filesystem.mount_api_vfs", "pass");
    // systemd 252 applies these only on cgroup v2.
    for key in [
        "resources.memory_high",
        "resources.memory_low",
        "resources.memory_swap_max",
        "resources.allowed_cpus",
    ] {
        expected.insert(key, if v1 { "not_checkable" } else { "fail" });
    }
    let mut wrong = Vec::new();
    for (key, (status, evidence)) in &got {
        let want = expected.get(key.as_str()).copied().unwrap_or("fail");
        // Without BFQ (or CFQ) the disks have no weights to check.
        let no_weights = key == "resources.io_weight"
            && status == "not_checkable"
            && evidence.contains("no I/O weight file");
        if status != want && !no_weights {
            wrong.push(format!("{key}: {status}, not {want}: {evidence}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(got.len() >= 50, "{got:#?}");

    // The human report names each failing key on a FAIL line, and the error lists them.
    let human = s.run(&["verify", &unit, "--policy", &policy]);
    assert_eq!(human.status.code(), Some(1));
    let text = String::from_utf8_lossy(&human.stdout);
    let failed: Vec<&String> = got
        .iter()
        .filter(|(_, (st, _))| st == "fail")
        .map(|(k, _)| k)
        .collect();
    for key in &failed {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("  FAIL           {key} "))),
            "{key} has no FAIL line:\n{text}"
        );
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("error: {unit} does not run as {policy} asks: ")),
        "{err}"
    );
    assert!(err.contains("filesystem.private_tmp"), "{err}");
    // The service manager's own mounts, as the evidence names them: the container lane's
    // / is an overlay, the guest's an ext4.
    let managers = |point: &str| {
        let (fs_type, options) = managers_mount(&s, point)
            .unwrap_or_else(|| panic!("the service manager has no mount on {point}"));
        format!("{point} {fs_type} {options}")
    };
    assert_eq!(
        got["filesystem.private_tmp"].1,
        format!(
            "/tmp is the host's ({}); /var/tmp is the host's ({})",
            managers("/tmp"),
            managers("/")
        )
    );
}

#[test]
fn verify_fails_a_sandboxed_unit_on_the_values_that_differ() {
    let s = Sandgen::new();
    let busybox = Dir::busybox(&s);
    // A unit with settings of its own, and a policy that differs in every key but two.
    let unit = unit_name("differs", "service");
    let _cleanup = s.start(
        &unit,
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[resources]\nmemory_max = \"64M\"\n\
         cpu_weight = 50\ntasks_max = 8\n[capabilities]\nbounding = [\"CAP_CHOWN\"]\n\
         [filesystem]\nprivate_tmp = true\nprotect_system = \"strict\"\n",
    );
    s.wait_for_comm(&unit, "sleep");
    let policy = s.policy(
        "other",
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[resources]\nmemory_max = \"32M\"\n\
         cpu_weight = 100\ntasks_max = 16\n[capabilities]\nbounding = [\"CAP_CHOWN\", \"CAP_KILL\"]\n\
         [filesystem]\nprivate_tmp = false\nread_write_paths = [\"/var/lib\"]\n",
    );
    let (json, _) = s.verify(&[&unit, "--policy", &policy], 1);
    let got = statuses(&json);
    let status = |k: &str| got[k].0.as_str();
    for key in [
        "resources.memory_max",
        "resources.cpu_weight",
        "resources.tasks_max",
        "capabilities.bounding",
        "filesystem.read_write_paths",
    ] {
        assert_eq!(status(key), "fail", "{key}: {:?}", got[key]);
    }
    assert_eq!(status("service.exec"), "pass");
    assert_eq!(
        got["filesystem.private_tmp"],
        (
            "pass".to_owned(),
            "not requested; /tmp and /var/tmp private anyway (implied by another setting)"
                .to_owned()
        )
    );
    assert_eq!(
        got["capabilities.bounding"].1,
        "CapBnd CAP_CHOWN: lacks CAP_KILL"
    );
    assert!(
        got["filesystem.read_write_paths"]
            .1
            .starts_with("/var/lib is not writable (mount / "),
        "{:?}",
        got["filesystem.read_write_paths"]
    );

    // A chroot without the API file systems, against a policy that wants them.
    let chroot = unit_name("no-api-vfs", "service");
    let _cleanup2 = s.start(
        &chroot,
        &format!(
            "[service]\nexec = [\"/bin/busybox\", \"sleep\", \"3600\"]\n[filesystem]\n\
             root_directory = \"{}\"\nmount_api_vfs = false\n",
            busybox.inside
        ),
    );
    s.wait_for_comm(&chroot, "busybox");
    let wants = s.policy(
        "wants-api-vfs",
        &format!(
            "[service]\nexec = [\"/bin/busybox\", \"sleep\", \"3600\"]\n[filesystem]\n\
             root_directory = \"{}\"\nmount_api_vfs = true\n",
            busybox.inside
        ),
    );
    let (json, _) = s.verify(&[&chroot, "--policy", &wants], 1);
    let got = statuses(&json);
    assert_eq!(status_of(&got, "filesystem.root_directory"), "pass");
    assert_eq!(
        got["filesystem.mount_api_vfs"],
        (
            "fail".to_owned(),
            "nothing of its kind is mounted on /proc /sys /dev".to_owned()
        )
    );
}

/// Every resource directive on a live unit, read back from its cgroup. On cgroup v2 (the
/// guest lane) each one is applied and must PASS, with the kernel's own value in `inspect`;
/// on the container lane's v1 controllers systemd 252 applies only some, and the others must
/// say NOT CHECKABLE, never PASS.
#[test]
fn resource_limits_pass_where_the_kernel_applies_them() {
    let s = Sandgen::new();
    let unit = unit_name("limits", "service");
    let _cleanup = s.start(
        &unit,
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n[resources]\nmemory_max = \"64M\"\n\
         memory_high = \"48M\"\nmemory_low = \"16M\"\nmemory_swap_max = \"0\"\ncpu_weight = 50\n\
         cpu_quota = \"20%\"\nallowed_cpus = \"1\"\ntasks_max = 8\nio_weight = 200\n",
    );
    s.wait_for_comm(&unit, "sleep");
    let (json, _) = s.verify(&[&unit], 0);
    let got = statuses(&json);
    let v2 = s.container.cgroup_v2();
    let applied_on_v1 = [
        "resources.memory_max",
        "resources.cpu_weight",
        "resources.cpu_quota",
        "resources.tasks_max",
    ];
    let v2_only = [
        "resources.memory_high",
        "resources.memory_low",
        "resources.memory_swap_max",
        "resources.allowed_cpus",
    ];
    for key in applied_on_v1 {
        assert_eq!(status_of(&got, key), "pass", "{key}: {:?}", got[key]);
    }
    for key in v2_only {
        let want = if v2 { "pass" } else { "not_checkable" };
        assert_eq!(status_of(&got, key), want, "{key}: {:?}", got[key]);
    }
    // I/O weights need a disk scheduler that has them (BFQ on v1, the io controller on v2).
    let io = &got["resources.io_weight"];
    assert!(
        io.0 == "pass" || (io.0 == "not_checkable" && io.1.contains("no I/O weight file")),
        "{io:?}"
    );

    let inspect = s.json(&["inspect", &unit, "--json"]);
    let cgroup = &inspect["cgroup"];
    assert_eq!(cgroup["version"], if v2 { 2 } else { 1 }, "{cgroup:#}");
    assert_eq!(cgroup["memory_max"], 64u64 << 20, "{cgroup:#}");
    assert_eq!(cgroup["tasks_max"], 8, "{cgroup:#}");
    if v2 {
        assert_eq!(cgroup["frozen"], false, "{cgroup:#}");
        assert_eq!(cgroup["memory_high"], 48u64 << 20, "{cgroup:#}");
        assert_eq!(cgroup["memory_low"], 16u64 << 20, "{cgroup:#}");
        assert_eq!(cgroup["memory_swap_max"], 0, "{cgroup:#}");
        assert_eq!(cgroup["cpu_weight"], 50, "{cgroup:#}");
        assert_eq!(cgroup["cpu_quota"], 20.0, "{cgroup:#}");
        assert_eq!(cgroup["cpuset"], "1", "{cgroup:#}");
    } else {
        // systemd writes CPUWeight= as cpu.shares = weight * 1024 / 100 on v1.
        assert_eq!(cgroup["cpu_shares"], 512, "{cgroup:#}");
        assert_eq!(cgroup["memory_high"], Value::Null, "{cgroup:#}");
    }
}

/// The file system type and per-mount options of the service manager's (PID 1's) top mount
/// on `point`, as its /proc/1/mountinfo says; `None` when nothing is mounted there.
fn managers_mount(s: &Sandgen, point: &str) -> Option<(String, String)> {
    let mountinfo =
        String::from_utf8_lossy(&s.container.read_file("/proc/1/mountinfo")).into_owned();
    mountinfo.lines().rev().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        let f: Vec<&str> = left.split_whitespace().collect();
        let fs_type = right.split_whitespace().next()?;
        let options = f.get(5)?;
        (f.get(4) == Some(&point)).then(|| (fs_type.to_owned(), (*options).to_owned()))
    })
}

fn status_of<'a>(got: &'a BTreeMap<String, (String, String)>, key: &str) -> &'a str {
    &got[key].0
}

#[test]
fn without_a_recorded_policy_verify_asks_for_one() {
    let s = Sandgen::new();
    let hand = unit_name("by-hand", "service");
    let guard = s
        .container
        .install_unit(&hand, "[Service]\nExecStart=/bin/sleep infinity\n");
    s.container.exec_ok(&["systemctl", "start", guard.name()]);
    s.wait_for_comm(&hand, "sleep");
    let out = s.run(&["verify", &hand]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: /etc/systemd/system/{hand} was not generated by sandgen, so it records no \
             policy: give one with --policy FILE\n"
        )
    );

    let transient = unit_name("transient", "service");
    let _cleanup = Cleanup(&s, transient.clone());
    let policy = s.policy(
        "sleeper",
        "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n",
    );
    s.ok(&["run", &policy, "--unit", &transient]);
    s.wait_for_comm(&transient, "sleep");
    let out = s.run(&["verify", &transient]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: {transient} has no unit file (a transient unit from `sandgen run`?): give \
             its policy with --policy FILE\n"
        )
    );
    // With the policy given, it verifies.
    let (json, _) = s.verify(&[&transient, "--policy", &policy], 0);
    assert_eq!(json["checks"][0]["status"], "pass");
}
