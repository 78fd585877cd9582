//! The checks against hand-made facts: every directive sandgen can emit has a rule, every
//! check fails against a process without a sandbox, and the checks pass on a real unit's
//! mount table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::facts::{
    Accounts, Attached, FileId, FirewallFacts, IoFacts, ManagerFacts, PathFacts, ProcessFacts,
    SystemFacts, UnitIoLimits,
};
use super::*;
use crate::data::syscalls::SyscallTable;
use crate::diagnostic::Source;
use crate::directive::table::SPECS;
use crate::directive::Spec;
use crate::inspect::cgroup::{AttachedProgram, CgroupState};
use crate::inspect::mounts::{compare, parse_mountinfo, Mount};
use crate::inspect::process::{CapabilityMasks, Seccomp};
use crate::inspect::Inspection;

/// A policy with every key of the directive table except the three that exclude a key
/// below (cpu_shares, memory_limit, bounding_drop: see [`LEGACY`]), each asking for a
/// restriction.
const EVERY_KEY: &str = r#"
[service]
description = "every key"
type = "simple"
exec = ["/bin/sleep", "infinity"]
user = "daemon"
group = "nogroup"
dynamic_user = true
working_directory = "/tmp"
environment = { GREETING = "hello" }
umask = "0077"
restart = "always"
timeout_start_sec = "90s"
keyring_mode = "private"
[resources]
memory_max = "64M"
memory_high = "48M"
memory_low = "16M"
memory_swap_max = "0"
memory_zswap_max = "16M"
memory_zswap_writeback = false
oom_policy = "continue"
cpu_weight = 50
cpu_quota = "20%"
allowed_cpus = "0"
cpu_affinity = "0"
io_weight = 200
io_read_bandwidth_max = { "/dev/vda" = "10M" }
io_write_bandwidth_max = { "/dev/vda" = "5M" }
io_read_iops_max = { "/dev/vda" = 500 }
io_write_iops_max = { "/dev/vda" = 100 }
tasks_max = 8
[capabilities]
bounding = ["CAP_CHOWN"]
ambient = ["CAP_CHOWN"]
no_new_privileges = true
secure_bits = ["keep-caps"]
[seccomp]
allow = ["@system-service"]
deny = ["@mount"]
error_number = "EPERM"
architectures = ["native"]
log = ["uname"]
lock_personality = true
memory_deny_write_execute = true
restrict_realtime = true
restrict_suid_sgid = true
[filesystem]
root_directory = "/srv/root"
mount_api_vfs = true
private_tmp = true
private_devices = true
private_mounts = true
protect_home = true
protect_system = "strict"
read_write_paths = ["/var/lib/x"]
read_only_paths = ["/etc"]
inaccessible_paths = ["/opt"]
bind_paths = ["/srv/data:/data"]
bind_read_only_paths = ["/usr/share:/mnt"]
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
ip_address_allow = ["localhost"]
ip_address_deny = ["any"]
[namespaces]
restrict_namespaces = true
private_ipc = true
private_users = true
private_pids = true
protect_hostname = true
remove_ipc = true
[security]
selinux_context = "system_u:system_r:demo_t:s0"
apparmor_profile = "sandgen-demo"
[install]
after = ["network.target"]
before = ["shutdown.target"]
requires = ["dbus.service"]
wants = ["network-online.target"]
wanted_by = ["multi-user.target"]
"#;

/// The keys [`EVERY_KEY`] cannot combine with its own, lowered for systemd 220, where they
/// stay `CPUShares=` and `MemoryLimit=`.
const LEGACY: &str = r#"
[service]
exec = ["/bin/sleep", "infinity"]
[resources]
cpu_shares = 512
memory_limit = "64M"
[capabilities]
bounding_drop = ["CAP_NET_ADMIN"]
"#;

fn directives(text: &str, version: u32) -> Vec<Directive> {
    let table = SyscallTable::built_in();
    let syscalls = || &table;
    let cx = crate::policy::Context {
        syscalls: &syscalls,
        find_program: &|_| None,
    };
    let policy = crate::policy::parse(Source::new("every.toml", text), &cx)
        .unwrap_or_else(|e| panic!("{e}"));
    crate::policy::lower(&policy, version)
        .unwrap_or_else(|e| panic!("{e}"))
        .directives
}

fn every_directive() -> Vec<Directive> {
    let mut all = directives(EVERY_KEY, 257);
    all.extend(directives(LEGACY, 220));
    all
}

/// The mount table of a process with no sandbox at all: no /sys, nothing read-only.
const BARE_MOUNTINFO: &str = "\
1 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw
2 1 0:5 / /dev rw,nosuid - devtmpfs udev rw,mode=755
3 1 0:6 / /proc rw,nosuid,nodev,noexec - proc proc rw
4 1 0:7 / /run rw,nosuid,nodev - tmpfs tmpfs rw,mode=755
";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
                      daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
                      nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const GROUP: &str = "root:x:0:\nnogroup:x:65534:\n";

fn mounts(text: &str) -> Vec<Mount> {
    parse_mountinfo(text, Path::new("fixture")).unwrap()
}

fn fixture(name: &str) -> Vec<Mount> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inspect/mountinfo")
        .join(name);
    mounts(&std::fs::read_to_string(path).unwrap())
}

fn namespaces(id: u32) -> BTreeMap<String, String> {
    facts::NAMESPACES
        .iter()
        .map(|k| ((*k).to_owned(), format!("{k}:[{id}]")))
        .collect()
}

/// Distinct file identities, one per path.
fn ids<'a>(
    paths: impl IntoIterator<Item = &'a str>,
    first: u64,
) -> BTreeMap<String, Option<FileId>> {
    paths
        .into_iter()
        .zip(first..)
        .map(|(p, ino)| (p.to_owned(), Some(FileId { dev: 1, ino })))
        .collect()
}

const UNIT_PATHS: &[&str] = &[
    "/",
    "/usr",
    "/boot",
    "/etc",
    "/var",
    "/home",
    "/root",
    "/run/user",
    "/tmp",
    "/var/tmp",
    "/usr/lib/modules",
    "/opt",
    "/var/lib/x",
    "/mnt",
    "/proc/sys",
    "/sys",
];

/// The facts of a root process without any sandbox, on cgroup v2.
fn bare() -> Facts {
    let table = mounts(BARE_MOUNTINFO);
    let all = crate::data::capabilities::all_up_to(40);
    Facts {
        inspection: Inspection {
            unit: "x.service".into(),
            main_pid: 42,
            mounts: compare(&table, &table),
            capabilities: CapabilityMasks {
                effective: all,
                permitted: all,
                inheritable: 0,
                bounding: all,
                ambient: 0,
            }
            .names(),
            no_new_privs: false,
            seccomp: Seccomp {
                mode: SeccompMode::Disabled,
                filters: Some(0),
            },
            cgroup: CgroupState {
                path: "/system.slice/x.service".into(),
                version: CgroupVersion::V2,
                memory_max: None,
                memory_current: Some(1 << 20),
                memory_limit_hits: Some(0),
                oom_kills: Some(0),
                cpu_weight: Some(100),
                cpu_shares: None,
                cpu_quota: None,
                cpuset: Some("0-1".into()),
                tasks_max: Some(4915),
                tasks_current: Some(1),
                memory_high: None,
                memory_low: Some(0),
                memory_swap_max: None,
                memory_zswap_max: None,
                memory_zswap_writeback: Some(true),
                io_weight: Some(100),
                blkio_weight: None,
                frozen: Some(false),
                files: BTreeMap::from([
                    (
                        "memory_zswap_max",
                        PathBuf::from("/sys/fs/cgroup/system.slice/x.service/memory.zswap.max"),
                    ),
                    (
                        "memory_zswap_writeback",
                        PathBuf::from(
                            "/sys/fs/cgroup/system.slice/x.service/memory.zswap.writeback",
                        ),
                    ),
                ]),
            },
            pids: vec![],
            lsm: crate::inspect::lsm::LsmState {
                active: Some(vec!["capability".into(), "apparmor".into()]),
                apparmor_enabled: Some(true),
                apparmor_label: Some("unconfined".into()),
                current: Some("unconfined".into()),
                current_error: None,
            },
        },
        process: ProcessFacts {
            uid: Some(0),
            gid: Some(0),
            umask: Some(0o022),
            cpus_allowed: Some("0-1".into()),
            cmdline: vec!["/bin/bash".into()],
            environ: vec!["PATH=/usr/bin".into()],
            cwd: Some("/".into()),
            namespaces: namespaces(1),
            net_devices: Some(vec!["lo".into(), "eth0".into()]),
            uid_map: facts::IdMap::parse("0 0 4294967295"),
            ns_pid: Some(vec![4242]),
        },
        manager: ManagerFacts {
            pid: 1,
            namespaces: namespaces(1),
            bounding: Some(all),
        },
        system: SystemFacts {
            memory_total: Some(8 << 30),
            tasks_limit: Some(32768),
            cap_last_cap: 40,
            page_size: 4096,
        },
        accounts: Accounts::parse(PASSWD, GROUP),
        paths: PathFacts {
            unit: ids(UNIT_PATHS.iter().copied(), 100),
            manager: ids(["/srv/root", "/srv/data", "/usr/share"], 200),
            cwd: Some(FileId { dev: 1, ino: 999 }),
            root: Some(FileId { dev: 1, ino: 998 }),
        },
        filters: super::facts::FilterFacts::NotRead,
        syscall_groups: None,
        learned: None,
        mdwe_by_prctl: false,
        // The disk resolves, and the cgroup limits nothing; no BPF program is attached.
        io: IoFacts {
            devices: BTreeMap::from([("/dev/vda".to_owned(), Ok((254, 0)))]),
            limits: Some(Ok(UnitIoLimits {
                devices: BTreeMap::new(),
                file: PathBuf::from("/sys/fs/cgroup/system.slice/x.service/io.max"),
            })),
        },
        firewall: FirewallFacts {
            dir: Some(PathBuf::from("/sys/fs/cgroup/system.slice/x.service")),
            attached: Some(Ok(Attached::default())),
        },
    }
}

fn finding<'a>(findings: &'a [Finding], key: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.key == key)
        .unwrap_or_else(|| panic!("no finding for {key} in {findings:#?}"))
}

fn check(policy: &str, facts: &Facts, key: &str) -> Finding {
    let ds = directives(policy, 252);
    finding(&verify(&ds, facts), key).clone()
}

#[test]
fn every_key_is_tested_and_every_reason_says_why() {
    // That every directive has a rule is the compiler's job (`rule` matches on `Name`).
    // The test policies below name every key of the table, so the next test covers them all.
    let named: BTreeSet<String> = every_directive().iter().map(|d| d.origin.clone()).collect();
    let table: BTreeSet<String> = SPECS.iter().map(Spec::path).collect();
    let untested: Vec<&String> = table.difference(&named).collect();
    assert!(
        untested.is_empty(),
        "keys missing from EVERY_KEY/LEGACY: {untested:?}"
    );
    for reason in Name::ALL.iter().filter_map(|n| match rule(*n) {
        Rule::NotCheckable(reason) => Some(reason),
        Rule::Check(_) => None,
    }) {
        assert!(reason.len() > 30, "a reason should say why: {reason:?}");
    }
}

/// Checks that cannot fail against [`bare`], and why (each has its own test below).
const CANNOT_FAIL_HERE: &[(Name, &str)] = &[
    (Name::ExecStart, "never fails: a program may exec another"),
    (Name::ReadWritePaths, "the bare process's / is writable"),
    (
        Name::SELinuxContext,
        "the bare kernel runs AppArmor, not SELinux: not checkable (its own test below)",
    ),
];

#[test]
fn every_check_fails_against_a_process_without_a_sandbox() {
    let ds = every_directive();
    let findings = verify(&ds, &bare());
    assert_eq!(findings.len(), ds.len());
    let mut wrong = Vec::new();
    for f in &findings {
        let expected = match rule(f.directive) {
            Rule::NotCheckable(_) => Status::NotCheckable,
            _ if CANNOT_FAIL_HERE.iter().any(|(k, _)| *k == f.directive) => continue,
            _ => Status::Fail,
        };
        if f.status != expected {
            wrong.push(format!(
                "{} ({}=): {:?}: {}",
                f.key, f.directive, f.status, f.evidence
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "these did not fail:\n{}",
        wrong.join("\n")
    );
    // The evidence names what the kernel shows.
    assert_eq!(
        finding(&findings, "filesystem.private_tmp").evidence,
        "/tmp is the host's (/ ext4 rw,relatime); /var/tmp is the host's (/ ext4 rw,relatime)"
    );
    assert_eq!(
        finding(&findings, "resources.memory_max").evidence,
        "cgroup (no file) max (no limit)"
    );
    assert_eq!(
        finding(&findings, "capabilities.no_new_privileges").evidence,
        "NoNewPrivs 0: execve() of a setuid program or one with file capabilities gains privileges"
    );
    assert!(finding(&findings, "network.private_network")
        .evidence
        .starts_with("shares the service manager's net namespace net:[1]"));
}

#[test]
fn read_write_paths_fails_on_a_read_only_mount() {
    let mut facts = bare();
    let table = mounts("1 0 8:1 / / ro,relatime - ext4 /dev/sda1 rw\n");
    facts.inspection.mounts = compare(&table, &table);
    let policy = "[service]\nexec = [\"/bin/true\"]\n[filesystem]\nread_write_paths = [\"/var/lib/x\", \"-/absent\"]\n";
    let f = check(policy, &facts, "filesystem.read_write_paths");
    assert_eq!(f.status, Status::Fail, "{f:?}");
    assert_eq!(
        f.evidence,
        "/var/lib/x is not writable (mount / ext4 ro,relatime)"
    );
    assert_eq!(
        check(policy, &bare(), "filesystem.read_write_paths").status,
        Status::Pass
    );
}

#[test]
fn exec_start_passes_on_the_same_command_line_and_is_not_checkable_otherwise() {
    let mut facts = bare();
    let policy = "[service]\nexec = [\"/bin/sleep\", \"infinity\"]\n";
    let f = check(policy, &facts, "service.exec");
    assert_eq!(f.status, Status::NotCheckable);
    assert!(
        f.evidence
            .starts_with("the main process now runs `/bin/bash`"),
        "{f:?}"
    );
    facts.process.cmdline = vec!["/bin/sleep".into(), "infinity".into()];
    assert_eq!(check(policy, &facts, "service.exec").status, Status::Pass);
}

#[test]
fn passes_on_the_mount_table_of_a_real_sandboxed_unit() {
    // heat.service under systemd 252 with PrivateTmp=, ProtectHome=, PrivateDevices=,
    // ProtectSystem=strict (tests/fixtures/inspect/README.md).
    let mut facts = bare();
    facts.inspection.mounts = compare(
        &fixture("nspawn-heat-service.txt"),
        &fixture("nspawn-systemd.txt"),
    );
    let policy = "[service]\nexec = [\"/bin/true\"]\n[filesystem]\nprivate_tmp = true\n\
                  protect_home = true\nprivate_devices = true\nprotect_system = \"strict\"\n\
                  read_only_paths = [\"/etc\"]\n";
    let findings = verify(&directives(policy, 252), &facts);
    for key in [
        "filesystem.private_tmp",
        "filesystem.protect_home",
        "filesystem.private_devices",
        "filesystem.protect_system",
        "filesystem.read_only_paths",
    ] {
        let f = finding(&findings, key);
        assert_eq!(f.status, Status::Pass, "{f:?}");
    }
    assert_eq!(
        finding(&findings, "filesystem.protect_home").evidence,
        "made inaccessible: /home /root /run/user"
    );
    assert_eq!(
        finding(&findings, "filesystem.protect_system").evidence,
        "read-only: / /usr /boot /etc /var"
    );
    // The same policy against the container's own table (no sandbox) fails every key.
    let own = fixture("nspawn-systemd.txt");
    facts.inspection.mounts = compare(&own, &own);
    let findings = verify(&directives(policy, 252), &facts);
    assert!(
        findings.iter().skip(1).all(|f| f.status == Status::Fail),
        "{findings:#?}"
    );
    assert_eq!(
        finding(&findings, "filesystem.private_tmp").evidence,
        "/tmp is the host's (/tmp tmpfs rw,nosuid,nodev); /var/tmp is the host's (/ overlay rw,relatime)"
    );
}

#[test]
fn the_bounding_set_allows_for_the_manager_and_implied_drops() {
    let mut facts = bare();
    let all = crate::data::capabilities::all_up_to(40);
    let cap = |n: &str| 1u64 << capabilities::by_name(n).unwrap();
    // The service manager itself lacks CAP_SYS_RESOURCE (as on this project's CI hosts).
    facts.manager.bounding = Some(all & !cap("CAP_SYS_RESOURCE"));
    let have = all
        & !(cap("CAP_NET_ADMIN")
            | cap("CAP_SYS_TIME")
            | cap("CAP_WAKE_ALARM")
            | cap("CAP_SYS_RESOURCE"));
    facts.inspection.capabilities.bounding = capabilities::names_in_mask(have);
    let policy =
        "[service]\nexec = [\"/bin/true\"]\n[capabilities]\nbounding_drop = [\"CAP_NET_ADMIN\"]\n\
                  [filesystem]\nprotect_clock = true\n";
    let f = check(policy, &facts, "capabilities.bounding_drop");
    assert_eq!(f.status, Status::Pass, "{f:?}");
    assert_eq!(
        f.evidence,
        "CapBnd all but CAP_NET_ADMIN CAP_SYS_RESOURCE CAP_SYS_TIME CAP_WAKE_ALARM \
         (CAP_SYS_RESOURCE not in the service manager's own bounding set; CAP_SYS_TIME \
         CAP_WAKE_ALARM dropped by ProtectClock=)"
    );
    facts.inspection.capabilities.bounding =
        capabilities::names_in_mask(have | cap("CAP_NET_ADMIN"));
    let f = check(policy, &facts, "capabilities.bounding_drop");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.evidence
            .contains("has CAP_NET_ADMIN, which the policy does not keep"),
        "{f:?}"
    );
    let none = "[service]\nexec = [\"/bin/true\"]\n[capabilities]\nbounding = []\n";
    facts.inspection.capabilities.bounding = vec![];
    let f = check(none, &facts, "capabilities.bounding");
    assert_eq!(
        (f.status, f.evidence.as_str()),
        (Status::Pass, "CapBnd none")
    );
}

#[test]
fn cgroup_limits_compare_like_the_kernel_stores_them() {
    let mut facts = bare();
    let cg = &mut facts.inspection.cgroup;
    // v1: systemd writes CPUWeight=25 as cpu.shares 256; no memory.high on v1.
    cg.version = CgroupVersion::V1;
    cg.cpu_shares = Some(256);
    cg.cpu_weight = None;
    // The kernel rounds a limit down to whole pages.
    cg.memory_max = Some(98_304);
    cg.files.insert(
        "memory_max",
        PathBuf::from("/sys/fs/cgroup/memory/x.service/memory.limit_in_bytes"),
    );
    let policy = "[service]\nexec = [\"/bin/true\"]\n[resources]\ncpu_shares = 256\n\
                  memory_max = \"100000\"\nmemory_swap_max = \"0\"\n";
    let findings = verify(&directives(policy, 252), &facts);
    let weight = finding(&findings, "resources.cpu_shares");
    assert_eq!(weight.directive, Name::CPUWeight);
    assert_eq!(weight.policy, "25");
    assert_eq!(
        (weight.status, weight.evidence.as_str()),
        (Status::Pass, "cgroup cpu.shares 256 (= 25 * 1024 / 100)")
    );
    let max = finding(&findings, "resources.memory_max");
    assert_eq!(
        (max.status, max.evidence.as_str()),
        (Status::Pass, "cgroup memory.limit_in_bytes 98304 (96K)")
    );
    assert_eq!(
        max.file.as_deref(),
        Some(Path::new(
            "/sys/fs/cgroup/memory/x.service/memory.limit_in_bytes"
        ))
    );
    let swap = finding(&findings, "resources.memory_swap_max");
    assert_eq!(swap.status, Status::NotCheckable);
    assert!(
        swap.evidence.starts_with("cgroup v1 memory controller"),
        "{swap:?}"
    );

    // IOWeight=200 on v1 with BFQ: blkio weight 1000, which systemd 252 writes on BFQ's
    // scale (measured on this project's hybrid hosts: 181; the default 500 reads 136).
    facts.inspection.cgroup.blkio_weight = Some(181);
    facts.inspection.cgroup.files.insert(
        "blkio_weight",
        PathBuf::from("/sys/fs/cgroup/blkio/x.service/blkio.bfq.weight"),
    );
    let io = "[service]\nexec = [\"/bin/true\"]\n[resources]\nio_weight = 200\n";
    let f = check(io, &facts, "resources.io_weight");
    assert_eq!(
        (f.status, f.evidence.as_str()),
        (
            Status::Pass,
            "cgroup blkio.bfq.weight 181 (blkio weight 1000 = 200 * 500 / 100, on BFQ's scale)"
        )
    );
    assert_eq!(bfq_weight(500), 136);

    // A v1 controller not enabled for the unit: its processes sit in the slice's cgroup,
    // whose value is not the unit's.
    facts.inspection.cgroup.files.insert(
        "cpu_shares",
        PathBuf::from("/sys/fs/cgroup/cpu/system.slice/cpu.shares"),
    );
    let f = check(policy, &facts, "resources.cpu_shares");
    assert_eq!(
        (f.status, f.evidence.as_str()),
        (
            Status::Fail,
            "the unit has no cpu cgroup of its own: its processes are in /sys/fs/cgroup/cpu/system.slice"
        )
    );

    // A percentage of RAM: 10% of 8G.
    facts.inspection.cgroup.memory_max = Some((8u64 << 30) / 10 / 4096 * 4096);
    let percent = "[service]\nexec = [\"/bin/true\"]\n[resources]\nmemory_max = \"10%\"\ntasks_max = \"10%\"\n";
    facts.inspection.cgroup.tasks_max = Some(3276);
    let findings = verify(&directives(percent, 252), &facts);
    assert!(
        findings.iter().skip(1).all(|f| f.status == Status::Pass),
        "{findings:#?}"
    );
}

#[test]
fn namespaces_users_and_proc_options() {
    let mut facts = bare();
    facts
        .process
        .namespaces
        .insert("net".into(), "net:[7]".into());
    facts.process.net_devices = Some(vec!["lo".into()]);
    facts.process.uid = Some(61_200);
    let table = mounts("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:9 / /proc rw - proc proc rw,hidepid=invisible,subset=pid\n");
    facts.inspection.mounts = compare(&table, &table);
    let policy = "[service]\nexec = [\"/bin/true\"]\nuser = \"app\"\ndynamic_user = true\n\
                  [network]\nprivate_network = true\n[namespaces]\nprotect_hostname = false\n\
                  [filesystem]\nprotect_proc = \"invisible\"\nproc_subset = \"pid\"\n";
    let findings = verify(&directives(policy, 252), &facts);
    for f in &findings[1..] {
        assert_eq!(f.status, Status::Pass, "{f:?}");
    }
    assert_eq!(
        finding(&findings, "network.private_network").evidence,
        "its own net namespace net:[7] (the service manager's is net:[1]), devices: lo"
    );
    assert_eq!(
        finding(&findings, "namespaces.protect_hostname").evidence,
        "not requested; the service manager's uts namespace"
    );
    assert_eq!(
        finding(&findings, "service.user").evidence,
        "app is a dynamic user; the main process runs as uid 61200, in systemd's dynamic range 61184-65519"
    );
}

/// `policy` (after an `exec`) lowered for `target` and verified against `facts`: the
/// finding for `key`.
fn check_for(target: u32, policy: &str, facts: &Facts, key: &str) -> Finding {
    let text = format!("[service]\nexec = [\"/bin/true\"]\n{policy}");
    finding(&verify(&directives(&text, target), facts), key).clone()
}

fn verdict(f: &Finding) -> (Status, &str) {
    (f.status, f.evidence.as_str())
}

#[test]
fn private_pids_is_a_pid_namespace_of_its_own_where_the_service_is_pid_1() {
    let policy = "[namespaces]\nprivate_pids = true\n";
    let mut facts = bare();
    let f = check_for(257, policy, &facts, "namespaces.private_pids");
    assert_eq!(
        verdict(&f),
        (
            Status::Fail,
            "shares the service manager's pid namespace pid:[1]"
        )
    );
    // What the kernel shows for a PrivatePIDs=yes unit in a container: its PID on the
    // host, in the container, and 1 in its own namespace.
    facts
        .process
        .namespaces
        .insert("pid".into(), "pid:[9]".into());
    facts.process.ns_pid = Some(vec![4242, 17, 1]);
    let f = check_for(257, policy, &facts, "namespaces.private_pids");
    assert_eq!(
        verdict(&f),
        (
            Status::Pass,
            "its own pid namespace pid:[9] (the service manager's is pid:[1]), where the main process is PID 1"
        )
    );
    facts.process.ns_pid = Some(vec![4242, 17, 5]);
    let f = check_for(257, policy, &facts, "namespaces.private_pids");
    assert!(
        f.evidence
            .ends_with(", where the main process is PID 5 (NSpid 4242 17 5)"),
        "{f:?}"
    );
}

/// A unit's mount table with /sys/fs/cgroup as a cgroup2 mount, `options` its per-mount
/// options.
fn with_cgroupfs(options: &str) -> Facts {
    let mut facts = bare();
    let table = mounts(&format!(
        "{BARE_MOUNTINFO}5 1 0:8 / /sys rw,nosuid - sysfs sysfs rw\n\
         6 5 0:9 / /sys/fs/cgroup {options},nosuid,nodev,noexec - cgroup2 cgroup2 rw\n"
    ));
    facts.inspection.mounts = compare(&table, &table);
    facts
}

#[test]
fn protect_control_groups_modes_are_a_cgroup_namespace_and_a_read_only_mount() {
    let strict = "[filesystem]\nprotect_control_groups = \"strict\"\n";
    let private = "[filesystem]\nprotect_control_groups = \"private\"\n";
    let key = "filesystem.protect_control_groups";
    let mut facts = with_cgroupfs("ro");
    // Read-only, but the host's cgroup namespace: what `yes` gives, not `strict`.
    assert_eq!(
        verdict(&check_for(257, strict, &facts, key)),
        (
            Status::Fail,
            "shares the service manager's cgroup namespace cgroup:[1]"
        )
    );
    assert_eq!(
        verdict(&check_for(
            252,
            "[filesystem]\nprotect_control_groups = true\n",
            &facts,
            key
        )),
        (
            Status::Pass,
            "every mount under /sys/fs/cgroup is read-only (1)"
        )
    );
    facts
        .process
        .namespaces
        .insert("cgroup".into(), "cgroup:[5]".into());
    assert_eq!(
        verdict(&check_for(257, strict, &facts, key)),
        (
            Status::Pass,
            "its own cgroup namespace cgroup:[5] (the service manager's is cgroup:[1]); every mount under /sys/fs/cgroup is read-only (1)"
        )
    );
    assert_eq!(check_for(257, private, &facts, key).status, Status::Pass);
    // private leaves /sys/fs/cgroup writable; strict does not.
    let mut facts = with_cgroupfs("rw");
    facts
        .process
        .namespaces
        .insert("cgroup".into(), "cgroup:[5]".into());
    assert_eq!(
        verdict(&check_for(257, private, &facts, key)),
        (
            Status::Pass,
            "its own cgroup namespace cgroup:[5] (the service manager's is cgroup:[1])"
        )
    );
    assert_eq!(
        verdict(&check_for(257, strict, &facts, key)),
        (Status::Fail, "writable: /sys/fs/cgroup")
    );
}

/// systemd 254+ binds the unit's own memory.pressure writable into a read-only
/// /sys/fs/cgroup (MemoryPressureWatch=): that one file is not a hole, any other is.
#[test]
fn the_memory_pressure_watch_is_not_a_writable_cgroupfs() {
    let key = "filesystem.protect_control_groups";
    let strict = "[filesystem]\nprotect_control_groups = \"strict\"\n";
    let mut facts = bare();
    let table = mounts(&format!(
        "{BARE_MOUNTINFO}5 1 0:8 / /sys rw,nosuid - sysfs sysfs rw\n\
         6 5 0:9 / /sys/fs/cgroup ro,nosuid,nodev,noexec - cgroup2 cgroup2 rw\n\
         7 6 0:9 /memory.pressure /sys/fs/cgroup/memory.pressure rw,nosuid,nodev,noexec - cgroup2 cgroup2 rw\n"
    ));
    facts.inspection.mounts = compare(&table, &table);
    facts
        .process
        .namespaces
        .insert("cgroup".into(), "cgroup:[5]".into());
    assert_eq!(check_for(257, strict, &facts, key).status, Status::Pass);
    // Without a cgroup namespace it sits under the unit's own cgroup.
    let path = facts.inspection.cgroup.path.clone();
    let table = mounts(&format!(
        "{BARE_MOUNTINFO}5 1 0:8 / /sys rw,nosuid - sysfs sysfs rw\n\
         6 5 0:9 / /sys/fs/cgroup ro,nosuid,nodev,noexec - cgroup2 cgroup2 rw\n\
         7 6 0:9 {path}/memory.pressure /sys/fs/cgroup{path}/memory.pressure rw - cgroup2 cgroup2 rw\n\
         8 6 0:9 /other /sys/fs/cgroup/other.slice/memory.pressure rw - cgroup2 cgroup2 rw\n"
    ));
    facts.inspection.mounts = compare(&table, &table);
    assert_eq!(
        verdict(&check_for(
            252,
            "[filesystem]\nprotect_control_groups = true\n",
            &facts,
            key
        )),
        (
            Status::Fail,
            "writable: /sys/fs/cgroup/other.slice/memory.pressure"
        )
    );
}

#[test]
fn private_users_modes_are_told_apart_by_the_uid_map() {
    let mut facts = bare();
    facts
        .process
        .namespaces
        .insert("user".into(), "user:[3]".into());
    let key = "namespaces.private_users";
    let with_map = |facts: &mut Facts, map: &str| {
        facts.process.uid_map = facts::IdMap::parse(map);
    };
    let policy = |mode: &str| format!("[namespaces]\nprivate_users = {mode}\n");
    with_map(&mut facts, "0 0 1\n1 1 1\n");
    assert_eq!(
        verdict(&check_for(252, &policy("true"), &facts, key)),
        (
            Status::Pass,
            "its own user namespace user:[3] (the service manager's is user:[1]), uid_map 0 0 1, 1 1 1: root and the service's own user, each mapped to itself"
        )
    );
    assert_eq!(
        check_for(257, &policy("\"self\""), &facts, key).status,
        Status::Pass
    );
    assert_eq!(
        verdict(&check_for(257, &policy("\"identity\""), &facts, key)),
        (
            Status::Fail,
            "its own user namespace user:[3] (the service manager's is user:[1]), uid_map 0 0 1, 1 1 1: not the identity mapping (the ids 0-65535, each mapped to itself)"
        )
    );
    with_map(&mut facts, "0 0 65536\n");
    assert_eq!(
        check_for(257, &policy("\"identity\""), &facts, key).status,
        Status::Pass
    );
    assert_eq!(
        check_for(257, &policy("true"), &facts, key).status,
        Status::Fail
    );
    assert_eq!(
        check_for(258, &policy("\"full\""), &facts, key).status,
        Status::Fail
    );
    with_map(&mut facts, "0 0 1\n1 1 4294967294\n");
    assert_eq!(
        check_for(258, &policy("\"full\""), &facts, key).status,
        Status::Pass
    );
    // The initial user namespace maps everything too, but it is the manager's.
    let mut facts = bare();
    with_map(&mut facts, "0 0 4294967295\n");
    assert_eq!(
        verdict(&check_for(258, &policy("\"full\""), &facts, key)),
        (
            Status::Fail,
            "shares the service manager's user namespace user:[1], uid_map 0 0 4294967295"
        )
    );
}

#[test]
fn protect_hostname_private_is_a_uts_namespace_of_its_own() {
    let mut facts = bare();
    let key = "namespaces.protect_hostname";
    let policy = "[namespaces]\nprotect_hostname = \"private\"\n";
    assert_eq!(check_for(258, policy, &facts, key).status, Status::Fail);
    facts
        .process
        .namespaces
        .insert("uts".into(), "uts:[4]".into());
    assert_eq!(
        verdict(&check_for(258, policy, &facts, key)),
        (
            Status::Pass,
            "its own uts namespace uts:[4] (the service manager's is uts:[1])"
        )
    );
}

#[test]
fn zswap_limits_are_read_from_cgroup_v2_only() {
    let mut facts = bare();
    let policy = "[resources]\nmemory_zswap_max = \"16M\"\nmemory_zswap_writeback = false\n";
    let findings = verify(
        &directives(&format!("[service]\nexec = [\"/bin/true\"]\n{policy}"), 257),
        &facts,
    );
    assert_eq!(
        verdict(finding(&findings, "resources.memory_zswap_max")),
        (Status::Fail, "cgroup memory.zswap.max max (no limit)")
    );
    assert_eq!(
        verdict(finding(&findings, "resources.memory_zswap_writeback")),
        (Status::Fail, "cgroup memory.zswap.writeback 1")
    );
    facts.inspection.cgroup.memory_zswap_max = Some(16 << 20);
    facts.inspection.cgroup.memory_zswap_writeback = Some(false);
    let findings = verify(
        &directives(&format!("[service]\nexec = [\"/bin/true\"]\n{policy}"), 257),
        &facts,
    );
    let max = finding(&findings, "resources.memory_zswap_max");
    assert_eq!(
        verdict(max),
        (Status::Pass, "cgroup memory.zswap.max 16777216 (16M)")
    );
    assert_eq!(
        max.file.as_deref(),
        Some(Path::new(
            "/sys/fs/cgroup/system.slice/x.service/memory.zswap.max"
        ))
    );
    assert_eq!(
        finding(&findings, "resources.memory_zswap_writeback").status,
        Status::Pass
    );
    // A kernel without per-cgroup zswap files, and cgroup v1.
    facts.inspection.cgroup.files.clear();
    facts.inspection.cgroup.memory_zswap_writeback = None;
    let findings = verify(
        &directives(&format!("[service]\nexec = [\"/bin/true\"]\n{policy}"), 257),
        &facts,
    );
    for key in [
        "resources.memory_zswap_max",
        "resources.memory_zswap_writeback",
    ] {
        assert_eq!(
            finding(&findings, key).status,
            Status::NotCheckable,
            "{key}"
        );
    }
    facts.inspection.cgroup.version = CgroupVersion::V1;
    let f = check_for(257, policy, &facts, "resources.memory_zswap_max");
    assert_eq!(
        verdict(&f),
        (
            Status::NotCheckable,
            "cgroup v1 memory controller: systemd applies MemoryZSwapMax= only on cgroup v2, so it is not in force on this host"
        )
    );
}

#[test]
fn private_tmp_disconnected_is_a_tmpfs_of_its_own() {
    // PrivateTmp=disconnected on systemd 257: /tmp and /var/tmp are directories of one
    // private tmpfs; the host's /tmp is on its root file system.
    let host = mounts(BARE_MOUNTINFO);
    let unit = mounts(&format!(
        "{BARE_MOUNTINFO}7 1 0:60 /tmp /tmp rw,nosuid,nodev - tmpfs tmpfs rw,mode=700\n\
         8 1 0:60 /var-tmp /var/tmp rw,nosuid,nodev - tmpfs tmpfs rw,mode=700\n"
    ));
    let mut facts = bare();
    facts.inspection.mounts = compare(&unit, &host);
    let key = "filesystem.private_tmp";
    let disconnected = "[filesystem]\nprivate_tmp = \"disconnected\"\n";
    assert_eq!(
        verdict(&check_for(257, disconnected, &facts, key)),
        (
            Status::Pass,
            "/tmp and /var/tmp private (a tmpfs of their own)"
        )
    );
    // yes is satisfied by it too (DynamicUser= implies disconnected on 257).
    assert_eq!(
        check_for(257, "[filesystem]\nprivate_tmp = true\n", &facts, key).status,
        Status::Pass
    );
    // PrivateTmp=yes's bind mounts of the host's systemd-private-* directories are not.
    let unit = mounts(&format!(
        "{BARE_MOUNTINFO}7 1 8:1 /tmp/systemd-private-abc-x.service-d/tmp /tmp rw - ext4 /dev/sda1 rw\n\
         8 1 8:1 /var/tmp/systemd-private-abc-x.service-e/tmp /var/tmp rw - ext4 /dev/sda1 rw\n"
    ));
    facts.inspection.mounts = compare(&unit, &host);
    assert_eq!(
        verdict(&check_for(257, disconnected, &facts, key)),
        (
            Status::Fail,
            "/tmp and /var/tmp: directories under the host's /tmp, not a tmpfs of their own"
        )
    );
    assert_eq!(
        verdict(&check_for(
            257,
            "[filesystem]\nprivate_tmp = true\n",
            &facts,
            key
        )),
        (
            Status::Pass,
            "/tmp and /var/tmp private (bind mounts of systemd-private-* directories)"
        )
    );
}

#[test]
fn seccomp_directives_say_when_the_filters_could_not_be_read() {
    let mut facts = bare();
    facts.inspection.seccomp = Seccomp {
        mode: SeccompMode::Filter,
        filters: Some(3),
    };
    facts.filters = super::facts::FilterFacts::Unreadable {
        error: "process 42 is already traced by process 7".into(),
    };
    let policy = "[service]\nexec = [\"/bin/true\"]\n[namespaces]\nrestrict_namespaces = true\n";
    let f = check(policy, &facts, "namespaces.restrict_namespaces");
    assert_eq!(f.status, Status::NotCheckable);
    assert_eq!(
        f.evidence,
        "seccomp filter mode, but the filters could not be read: process 42 is already traced by process 7"
    );
    // --no-ptrace: the filter mode is all that was looked at, and the evidence says so.
    facts.filters = super::facts::FilterFacts::NotRead;
    let f = check(policy, &facts, "namespaces.restrict_namespaces");
    assert_eq!(f.status, Status::Pass);
    assert_eq!(
        f.evidence,
        "seccomp filter mode, 3 filters (what the filters allow cannot be read from outside the process)"
    );
}

#[test]
fn io_limits_are_read_for_the_device_systemd_resolves() {
    use crate::inspect::cgroup::DeviceLimits;
    let policy = "[service]\nexec = [\"/bin/true\"]\n[resources]\n\
                  io_write_bandwidth_max = { \"/var/tmp\" = \"4M\" }\n\
                  io_read_bandwidth_max = { \"/srv\" = \"4M\" }\n\
                  io_write_iops_max = { \"/var/tmp\" = 1000 }\n";
    let mut facts = bare();
    facts.io.devices = BTreeMap::from([
        ("/var/tmp".to_owned(), Ok((254, 0))),
        ("/srv".to_owned(), Ok((254, 0))),
    ]);
    let limits = DeviceLimits {
        wbps: Some(4_000_000),
        ..DeviceLimits::default()
    };
    facts.io.limits = Some(Ok(UnitIoLimits {
        devices: BTreeMap::from([((254, 0), limits)]),
        file: PathBuf::from("/sys/fs/cgroup/x.service/io.max"),
    }));
    let f = check(policy, &facts, "resources.io_write_bandwidth_max");
    assert_eq!(
        verdict(&f),
        (
            Status::Pass,
            "cgroup io.max: 254:0 (the block device of /var/tmp) wbps=4000000"
        )
    );
    // Another path on the same device: its limits overwrote this one's.
    let f = check(policy, &facts, "resources.io_read_bandwidth_max");
    assert_eq!(
        verdict(&f),
        (
            Status::Fail,
            "cgroup io.max: 254:0 (the block device of /srv) rbps=no limit, not 4000000 \
             (/var/tmp is on the same device: systemd writes the limits of each path for the \
             whole device in turn, so one path's overwrite the other's; name the device by one \
             path in every I/O limit)"
        )
    );
    // cgroup v1: systemd 252 writes no IOPS limit to blkio.
    facts.inspection.cgroup.version = CgroupVersion::V1;
    let f = check(policy, &facts, "resources.io_write_iops_max");
    assert_eq!(
        verdict(&f),
        (
            Status::Fail,
            "blkio.throttle.write_iops_device has no line for 254:0: systemd writes only the \
             bandwidth limits to the cgroup v1 blkio controller, so the kernel does not limit \
             this unit's I/O operations"
        )
    );
    let f = check(policy, &facts, "resources.io_write_bandwidth_max");
    assert_eq!(
        verdict(&f),
        (
            Status::Pass,
            "blkio.throttle: 254:0 (the block device of /var/tmp) wbps 4000000"
        )
    );
    // A path on a file system without a block device: no limit is in force.
    let none = "/var/tmp is on a file system without a block device";
    facts
        .io
        .devices
        .insert("/var/tmp".to_owned(), Err(NoDisk::None(none.to_owned())));
    let f = check(policy, &facts, "resources.io_write_bandwidth_max");
    assert_eq!(verdict(&f), (Status::Fail, none));
    // On btrfs sandgen cannot tell which disk systemd limits.
    let btrfs = "/var/tmp is on btrfs";
    facts.io.devices.insert(
        "/var/tmp".to_owned(),
        Err(NoDisk::Unknown(btrfs.to_owned())),
    );
    let f = check(policy, &facts, "resources.io_write_bandwidth_max");
    assert_eq!(verdict(&f), (Status::NotCheckable, btrfs));
}

#[test]
fn the_ip_firewall_is_the_bpf_programs_on_the_unit_cgroup() {
    let policy =
        "[service]\nexec = [\"/bin/true\"]\n[network]\nip_address_allow = [\"localhost\"]\n";
    let mut facts = bare();
    let program = |id, name: Option<&str>| AttachedProgram {
        id,
        name: name.map(str::to_owned),
    };
    facts.firewall.attached = Some(Ok(Attached {
        ingress: vec![program(12, Some("sd_fw_ingress"))],
        egress: vec![program(13, Some("sd_fw_egress"))],
    }));
    let f = check(policy, &facts, "network.ip_address_allow");
    assert_eq!(
        verdict(&f),
        (
            Status::Pass,
            "BPF programs on cgroup /sys/fs/cgroup/system.slice/x.service: sd_fw_ingress (id 12) \
             at inet ingress, sd_fw_egress (id 13) at inet egress (BPF_PROG_QUERY); the addresses \
             they let through are compiled into them and not read back"
        )
    );
    // Someone else's program at egress is not systemd's firewall.
    facts.firewall.attached = Some(Ok(Attached {
        ingress: vec![program(12, Some("sd_fw_ingress"))],
        egress: vec![program(14, Some("other"))],
    }));
    let f = check(policy, &facts, "network.ip_address_allow");
    assert_eq!(
        verdict(&f),
        (
            Status::Fail,
            "BPF programs on cgroup /sys/fs/cgroup/system.slice/x.service: sd_fw_ingress (id 12) \
             at inet ingress, other (id 14) at inet egress (BPF_PROG_QUERY): systemd's IP \
             firewall (sd_fw_ingress, sd_fw_egress) is not in place"
        )
    );
    facts.firewall.attached = Some(Err(
        "BPF_PROG_QUERY on /x: Operation not permitted (os error 1)".to_owned(),
    ));
    let f = check(policy, &facts, "network.ip_address_allow");
    assert_eq!(f.status, Status::NotCheckable);
}

#[test]
fn lsm_labels_pass_when_confined_and_are_not_checkable_without_the_module() {
    let policy = "[service]\nexec = [\"/bin/true\"]\n[security]\napparmor_profile = \"-sandgen-demo\"\nselinux_context = \"system_u:system_r:demo_t:s0\"\n";
    let mut facts = bare();
    let f = check(policy, &facts, "security.apparmor_profile");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.evidence,
        "AppArmor label unconfined, not sandgen-demo (the \"-\" prefix let systemd start the service without it)"
    );
    facts.inspection.lsm.apparmor_label = Some("sandgen-demo (enforce)".into());
    let f = check(policy, &facts, "security.apparmor_profile");
    assert_eq!(f.status, Status::Pass);
    assert_eq!(
        f.evidence,
        "confined by AppArmor profile sandgen-demo (enforce)"
    );
    facts.inspection.lsm.apparmor_label = Some("sandgen-demo (complain)".into());
    let f = check(policy, &facts, "security.apparmor_profile");
    assert_eq!(f.status, Status::Fail);
    assert_eq!(
        f.evidence,
        "profile sandgen-demo is attached in complain mode, not enforce: what it forbids is logged, not refused"
    );
    let f = check(policy, &facts, "security.selinux_context");
    assert_eq!(f.status, Status::NotCheckable);
    assert!(
        f.evidence
            .starts_with("SELinux is not active in this kernel"),
        "{f:?}"
    );
    // This host: no securityfs, no AppArmor, attr/current refused.
    facts.inspection.lsm = crate::inspect::lsm::LsmState {
        current_error: Some("Invalid argument (os error 22)".into()),
        ..Default::default()
    };
    let f = check(policy, &facts, "security.apparmor_profile");
    assert_eq!(f.status, Status::NotCheckable);
    assert_eq!(
        f.evidence,
        "AppArmor is not active in this kernel, so systemd ignores AppArmorProfile= and no process has an AppArmor label \
         (/sys/kernel/security/lsm cannot be read (securityfs is not mounted); \
         no /sys/module/apparmor: AppArmor is not built into this kernel; \
         /proc/PID/attr/current: Invalid argument (os error 22))"
    );
    facts.inspection.lsm = crate::inspect::lsm::LsmState {
        active: Some(vec!["selinux".into()]),
        current: Some("system_u:system_r:demo_t:s0".into()),
        ..Default::default()
    };
    assert_eq!(
        check(policy, &facts, "security.selinux_context").status,
        Status::Pass
    );
}

#[test]
fn strict_mode_is_named_and_the_filter_directives_are_not_checkable_against_it() {
    let mut facts = bare();
    assert!(super::notes(&facts).is_empty());
    facts.inspection.seccomp = Seccomp {
        mode: SeccompMode::Strict,
        filters: Some(0),
    };
    let policy = "[service]\nexec = [\"/bin/true\"]\n[seccomp]\nallow = [\"@system-service\"]\n";
    let f = check(policy, &facts, "seccomp.allow");
    assert_eq!(f.status, Status::NotCheckable, "{f:?}");
    assert!(
        f.evidence.starts_with(
            "seccomp strict mode (Seccomp: 1), not systemd's filters: only read(2), write(2), \
             _exit(2) and sigreturn(2) are allowed"
        ),
        "{f:?}"
    );
    assert!(
        f.evidence.ends_with("SystemCallFilter= cannot be checked against it (strict mode is stricter than any filter, but it is not the one asked)"),
        "{f:?}"
    );
    let notes = super::notes(&facts);
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0].starts_with("the main process is in seccomp strict mode (Seccomp: 1 in /proc/PID/status): only read(2)"),
        "{notes:?}"
    );
}
