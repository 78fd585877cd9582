//! `sandgen inspect`'s report in words: one line a part of the sandbox (mounts,
//! capabilities, seccomp, cgroup, processes) by default, or the sections asked for, each
//! naming the kernel file its values come from.

use crate::paint::Paint;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::cgroup::CgroupVersion;
use super::namespace::Listing;
use super::{
    CgroupState, Inspection, SeccompMode, SECCOMP_STRICT_MEANING, SECUREBITS_NOT_READABLE,
};
use crate::data::capabilities;
use crate::systemd::status::UnitStatus;
use crate::text::{self, ByteStyle};
use crate::verify;

/// The sections of the report asked for; none: a summary of each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sections {
    /// The mount table as a tree.
    pub mounts: bool,
    /// Capability sets, NoNewPrivs, securebits.
    pub caps: bool,
    /// Seccomp mode and filters.
    pub seccomp: bool,
    /// The cgroup's limits and usage.
    pub cgroup: bool,
    /// The cgroup's processes.
    pub pids: bool,
}

/// The human report of `got`, whose unit systemd reports in `status`: a summary, or the
/// sections asked for and the `listings` of `--ls`. `own_pid_namespace` is sandgen's PID
/// namespace (the link `/proc/self/ns/pid`), which the process table compares with theirs.
/// `filters`: what the seccomp filters do, in words ([`crate::seccomp::report::render`]),
/// shown under the seccomp section when it is asked for. `paint`: the state in colour.
pub fn report(
    got: &Inspection,
    status: &UnitStatus,
    sections: &Sections,
    listings: &[(PathBuf, Listing)],
    own_pid_namespace: &str,
    filters: Option<&str>,
    paint: Paint,
) -> String {
    let mut out = String::new();
    let main = got.pids.iter().find(|p| p.pid == got.main_pid);
    let comm = main.map(|p| format!(" ({})", p.comm)).unwrap_or_default();
    let inner = main
        .and_then(|p| p.nspid.last())
        .filter(|inner| **inner != got.main_pid)
        .map(|inner| format!(", PID {inner} in its PID namespace"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{}: {}, main PID {}{comm}{inner}",
        got.unit,
        status.state_in(paint),
        got.main_pid
    );
    let any = sections.mounts
        || !listings.is_empty()
        || sections.caps
        || sections.seccomp
        || sections.cgroup
        || sections.pids;
    if !any {
        let row = |out: &mut String, k: &str, v: String| {
            let _ = writeln!(out, "  {k:<8} {v}");
        };
        row(&mut out, "mounts", mounts_summary(got));
        row(&mut out, "caps", caps_summary(got));
        if let Some(label) = lsm_label(got) {
            row(&mut out, "lsm", label);
        }
        row(&mut out, "seccomp", seccomp_text(got));
        row(&mut out, "cgroup", cgroup_summary(&got.cgroup));
        row(&mut out, "pids", pids_summary(got));
        out.push_str("  details: --mounts --ls PATH --caps --seccomp --cgroup --pids, or --json\n");
        return out;
    }
    if sections.mounts {
        out.push_str("\nmounts (+ only in the unit, ! replaces the manager's mount, ~ other options, - only in the manager's namespace):\n");
        out.push_str(&got.mounts.render_tree());
    }
    for (path, listing) in listings {
        let _ = writeln!(out, "\n{} as {} sees it:", path.display(), got.unit);
        out.push_str(&listing.render());
    }
    if sections.caps {
        out.push_str("\ncapabilities:\n");
        out.push_str(&caps_text(got, status.secure_bits));
    }
    if sections.seccomp {
        let _ = writeln!(out, "\nseccomp: {}", seccomp_text(got));
        out.push_str(filters.unwrap_or_default());
    }
    if sections.cgroup {
        out.push('\n');
        out.push_str(&cgroup_text(&got.cgroup));
    }
    if sections.pids {
        out.push('\n');
        out.push_str(&pids_text(got, own_pid_namespace));
    }
    out
}

/// What differs in the unit's mount namespace, grouped by what it most likely is.
fn mounts_summary(got: &Inspection) -> String {
    let m = &got.mounts;
    let visible: Vec<_> = m
        .mounts
        .iter()
        .filter(|r| r.differs && m.top_at(&r.mount_point).is_some_and(|t| t.id == r.id))
        .collect();
    if visible.is_empty() && m.host_only.is_empty() {
        return format!(
            "the service manager's mount table ({} mounts), unchanged",
            m.mounts.len()
        );
    }
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for r in &visible {
        let note = r.note.clone().unwrap_or_else(|| "differs".to_owned());
        match groups.iter_mut().find(|(n, _)| *n == note) {
            Some((_, paths)) => paths.push(&r.mount_point),
            None => groups.push((note, vec![&r.mount_point])),
        }
    }
    let mut parts: Vec<String> = groups
        .into_iter()
        .map(|(note, paths)| {
            if paths.len() == 1 && note.contains(paths[0]) {
                note
            } else if paths.len() > 4 {
                format!("{note}: {} (+{})", paths[..4].join(" "), paths.len() - 4)
            } else if paths.len() == 1 && paths[0] == "/" {
                format!("/ {note}")
            } else {
                format!("{note}: {}", paths.join(" "))
            }
        })
        .collect();
    if !m.host_only.is_empty() {
        parts.push(format!(
            "{} of the manager's mounts absent",
            m.host_only.len()
        ));
    }
    parts.join("; ")
}

fn caps_summary(got: &Inspection) -> String {
    let c = &got.capabilities;
    let set = |names: &[String]| {
        verify::describe_caps(
            capabilities::mask_of(names),
            capabilities::all_up_to(capabilities::LAST_CAP),
        )
    };
    format!(
        "bounding {}; effective {}; ambient {}; no_new_privs {}",
        set(&c.bounding),
        set(&c.effective),
        set(&c.ambient),
        if got.no_new_privs { "yes" } else { "no" }
    )
}

/// The capability sets as `capsh --print` shows them, NoNewPrivs, and of the securebits
/// what can be known: what the unit asks systemd for (`asked`, its SecureBits property).
fn caps_text(got: &Inspection, asked: Option<i32>) -> String {
    let c = &got.capabilities;
    let mut out = String::new();
    for (name, set) in [
        ("effective", &c.effective),
        ("permitted", &c.permitted),
        ("inheritable", &c.inheritable),
        ("bounding", &c.bounding),
        ("ambient", &c.ambient),
    ] {
        let described = verify::describe_caps(
            capabilities::mask_of(set),
            capabilities::all_up_to(capabilities::LAST_CAP),
        );
        let _ = writeln!(out, "  {name:<13} {described}");
    }
    let _ = writeln!(
        out,
        "  {:<13} {}",
        "no_new_privs",
        if got.no_new_privs { "yes" } else { "no" }
    );
    let asked = asked.map(|bits| {
        let names = crate::systemd::properties::secure_bits_names(bits);
        if names.is_empty() {
            "; the unit asks systemd for none (SecureBits=)".to_owned()
        } else {
            format!(
                "; the unit asks systemd for {} (SecureBits=)",
                names.join(" ")
            )
        }
    });
    let _ = writeln!(
        out,
        "  {:<13} not shown: {SECUREBITS_NOT_READABLE}{}",
        "securebits",
        asked.unwrap_or_default()
    );
    if let Some(label) = lsm_label(got) {
        let _ = writeln!(out, "  {:<13} {label}", "lsm label");
    }
    out
}

/// The main process's security module label in words, when it confines it: AppArmor's
/// (`/proc/PID/attr/apparmor/current`) unless it is `unconfined` or a profile in
/// `unconfined` mode (which only names the program), else the first major module's
/// (`/proc/PID/attr/current`).
fn lsm_label(got: &Inspection) -> Option<String> {
    let lsm = &got.lsm;
    let confining = |l: &&String| *l != "unconfined" && !l.ends_with(" (unconfined)");
    if let Some(label) = lsm.apparmor_label.as_ref().filter(confining) {
        return Some(format!("AppArmor {label}"));
    }
    lsm.current
        .as_ref()
        .filter(|l| lsm.apparmor_label.as_ref() != Some(l) && !l.is_empty())
        .map(|l| format!("{l} (/proc/PID/attr/current)"))
}

fn seccomp_text(got: &Inspection) -> String {
    let s = &got.seccomp;
    let filters = match s.filters {
        Some(1) => ", 1 filter".to_owned(),
        Some(n) => format!(", {n} filters"),
        None => String::new(),
    };
    match s.mode {
        SeccompMode::Disabled => "disabled: no system call filter".to_owned(),
        SeccompMode::Strict => format!("strict (Seccomp: 1): {SECCOMP_STRICT_MEANING}"),
        SeccompMode::Filter => format!("filter{filters}"),
    }
}

fn bytes(n: u64) -> String {
    text::bytes(n, ByteStyle::Measured)
}

fn opt<T: ToString>(v: Option<T>, none: &str) -> String {
    v.map_or_else(|| none.to_owned(), |v| v.to_string())
}

fn cgroup_summary(c: &CgroupState) -> String {
    let cpu = match (c.cpu_weight, c.cpu_shares) {
        (Some(w), _) => format!("cpu.weight {w}"),
        (None, Some(s)) => format!("cpu.shares {s}"),
        (None, None) => "no CPU weight".to_owned(),
    };
    format!(
        "{} (v{}): memory {} {}, {} OOM kills; {cpu}{}; tasks {} {}",
        c.path,
        version(c),
        opt(c.memory_current.map(bytes), "?"),
        c.memory_max
            .map_or_else(|| "(no limit)".to_owned(), |m| format!("of {}", bytes(m))),
        opt(c.oom_kills, "?"),
        c.cpu_quota
            .map(|q| format!(", quota {q:.0}%"))
            .unwrap_or_default(),
        opt(c.tasks_current, "?"),
        c.tasks_max
            .map_or_else(|| "(no limit)".to_owned(), |m| format!("of {m}")),
    )
}

fn version(c: &CgroupState) -> u8 {
    match c.version {
        CgroupVersion::V1 => 1,
        CgroupVersion::V2 => 2,
    }
}

fn cgroup_text(c: &CgroupState) -> String {
    // On cgroup v1 a controller not enabled for the unit leaves its processes in a parent's
    // cgroup of that hierarchy: say so, since that value is not the unit's.
    let unit = Path::new(&c.path).file_name();
    let file = |keys: &[&str]| -> String {
        let names: Vec<String> = keys
            .iter()
            .filter_map(|k| c.files.get(k))
            .filter_map(|p| {
                let name = p.file_name()?.to_string_lossy().into_owned();
                let dir = p.parent()?;
                Some(if dir.file_name() == unit {
                    name
                } else {
                    format!("{name} of {}", dir.display())
                })
            })
            .collect();
        names.join(", ")
    };
    let mut rows: Vec<(&str, String, String)> = vec![
        (
            "memory",
            format!(
                "{} used, limit {}",
                opt(c.memory_current.map(bytes), "?"),
                opt(c.memory_max.map(bytes), "none")
            ),
            file(&["memory_current", "memory_max"]),
        ),
        (
            "limit hits",
            opt(c.memory_limit_hits, "?"),
            file(&["memory_limit_hits"]),
        ),
        ("OOM kills", opt(c.oom_kills, "?"), file(&["oom_kills"])),
    ];
    if c.version == CgroupVersion::V2 {
        rows.push((
            "memory.high",
            opt(c.memory_high.map(bytes), "none"),
            file(&["memory_high"]),
        ));
        rows.push((
            "swap limit",
            opt(c.memory_swap_max.map(bytes), "none"),
            file(&["memory_swap_max"]),
        ));
        // Only where the kernel accounts zswap per cgroup (Linux 5.19+).
        if c.files.contains_key("memory_zswap_max") {
            rows.push((
                "zswap limit",
                opt(c.memory_zswap_max.map(bytes), "none"),
                file(&["memory_zswap_max"]),
            ));
        }
    }
    rows.push(match (c.cpu_weight, c.cpu_shares) {
        (_, Some(s)) => ("CPU shares", s.to_string(), file(&["cpu_shares"])),
        (w, None) => ("CPU weight", opt(w, "?"), file(&["cpu_weight"])),
    });
    rows.push((
        "CPU quota",
        c.cpu_quota
            .map_or_else(|| "none".to_owned(), |q| format!("{q:.0}% of one CPU")),
        file(&["cpu_quota"]),
    ));
    rows.push(("cpuset", opt(c.cpuset.clone(), "?"), file(&["cpuset"])));
    rows.push((
        "tasks",
        format!(
            "{} of {}",
            opt(c.tasks_current, "?"),
            opt(c.tasks_max, "no limit")
        ),
        file(&["tasks_current", "tasks_max"]),
    ));
    rows.push((
        "frozen",
        c.frozen.map_or_else(
            || "?".to_owned(),
            |f| if f { "yes" } else { "no" }.to_owned(),
        ),
        file(&["frozen"]),
    ));
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let mut out = format!("cgroup {} (cgroup v{}):\n", c.path, version(c));
    for (name, value, files) in rows {
        let row = format!("  {name:<11} {value:<width$}  {files}");
        let _ = writeln!(out, "{}", row.trim_end());
    }
    out
}

fn pids_summary(got: &Inspection) -> String {
    let list: Vec<String> = got
        .pids
        .iter()
        .take(5)
        .map(|p| format!("{} {}", p.pid, p.comm))
        .collect();
    let more = got.pids.len().saturating_sub(5);
    format!(
        "{} process{}: {}{}",
        got.pids.len(),
        if got.pids.len() == 1 { "" } else { "es" },
        list.join(", "),
        if more > 0 {
            format!(" (+{more})")
        } else {
            String::new()
        }
    )
}

fn pids_text(got: &Inspection, mine: &str) -> String {
    let mut namespaces: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &got.pids {
        *namespaces
            .entry(p.pid_namespace.as_deref().unwrap_or("?"))
            .or_default() += 1;
    }
    let mut out = format!("processes of {}:\n", got.unit);
    let w = got
        .pids
        .iter()
        .map(|p| p.pid.to_string().len())
        .max()
        .unwrap_or(3)
        .max(3);
    let _ = writeln!(out, "  {:>w$} {:>6}  {:<15} CGROUP", "PID", "NSPID", "COMM");
    for p in &got.pids {
        let inner = p.nspid.last().copied().unwrap_or(p.pid);
        let cgroup = if p.cgroup.is_empty() { "." } else { &p.cgroup };
        let _ = writeln!(out, "  {:>w$} {:>6}  {:<15} {cgroup}", p.pid, inner, p.comm);
    }
    for (ns, count) in namespaces {
        let whose = if ns == mine {
            "sandgen's own: PIDs are the same inside"
        } else {
            "not sandgen's: NSPID is the PID they see"
        };
        let _ = writeln!(out, "  PID namespace {ns} ({count}): {whose}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::cgroup::read_cgroup;
    use crate::inspect::{fixture, read_all, Roots};

    #[test]
    fn the_summary_of_a_fixture_unit_reads_at_a_glance() {
        let roots = Roots {
            proc: fixture("cgroup-v2/proc"),
            cgroup: fixture("cgroup-v2/sys/fs/cgroup"),
            sys: fixture("cgroup-v2/sys"),
            host_pid: None,
        };
        let got = read_all("heat.service", 812, &roots).expect("fixture");
        let status = UnitStatus {
            unit: "heat.service".into(),
            load_state: "loaded".into(),
            active_state: "active".into(),
            sub_state: "running".into(),
            main_pid: 812,
            control_group: "/system.slice/heat.service".into(),
            ..UnitStatus::default()
        };
        let text = report(
            &got,
            &status,
            &Sections::default(),
            &[],
            "pid:[1]",
            None,
            Paint::PLAIN,
        );
        assert_eq!(
            text,
            "\
heat.service: active (running), main PID 812 (heat)
  mounts   new tmpfs: /tmp; private /dev; bind mount, read-only: /work; new tmpfs, read-only: /home
  caps     bounding all but CAP_NET_ADMIN CAP_SYS_RAWIO CAP_SYS_RESOURCE CAP_MKNOD; effective all but CAP_NET_ADMIN CAP_SYS_RAWIO CAP_SYS_RESOURCE CAP_MKNOD; ambient none; no_new_privs yes
  seccomp  filter, 6 filters
  cgroup   /system.slice/heat.service (v2): memory 1.3M of 100.0M, 3 OOM kills; cpu.weight 50, quota 50%; tasks 2 of 16
  pids     3 processes: 812 heat, 815 heat-worker, 820 sleep
  details: --mounts --ls PATH --caps --seccomp --cgroup --pids, or --json
"
        );
    }

    #[test]
    fn prints_cgroup_and_caps_sections() {
        let v1 = read_cgroup(
            &fixture("cgroup-v1/proc"),
            &fixture("cgroup-v1/sys/fs/cgroup"),
            9540,
        )
        .expect("fixture");
        // systemd 252 does not manage cpuset on v1: the unit sits in the root cpuset.
        assert_eq!(
            cgroup_text(&v1),
            format!(
                "\
cgroup /system.slice/heat.service (cgroup v1):
  memory      300.0K used, limit 100.0M  memory.usage_in_bytes, memory.limit_in_bytes
  limit hits  5                          memory.failcnt
  OOM kills   1                          memory.oom_control
  CPU shares  512                        cpu.shares
  CPU quota   50% of one CPU             cpu.cfs_quota_us
  cpuset      0-1                        cpuset.cpus of {}
  tasks       2 of 16                    pids.current, pids.max
  frozen      ?
",
                fixture("cgroup-v1/sys/fs/cgroup/cpuset").display()
            )
        );
        let roots = Roots {
            proc: fixture("cgroup-v2/proc"),
            cgroup: fixture("cgroup-v2/sys/fs/cgroup"),
            sys: fixture("cgroup-v2/sys"),
            host_pid: None,
        };
        let got = read_all("heat.service", 812, &roots).expect("fixture");
        assert_eq!(
            cgroup_text(&got.cgroup),
            "\
cgroup /system.slice/heat.service (cgroup v2):
  memory      1.3M used, limit 100.0M  memory.current, memory.max
  limit hits  41                       memory.events
  OOM kills   3                        memory.events
  memory.high none
  swap limit  none
  CPU weight  50                       cpu.weight
  CPU quota   50% of one CPU           cpu.max
  cpuset      1                        cpuset.cpus.effective
  tasks       2 of 16                  pids.current, pids.max
  frozen      yes                      cgroup.events
"
        );
        let caps = caps_text(&got, None);
        assert!(
            caps.starts_with(
                "  effective     all but CAP_NET_ADMIN CAP_SYS_RAWIO CAP_SYS_RESOURCE CAP_MKNOD\n"
            ),
            "{caps}"
        );
        assert!(caps.contains("\n  inheritable   none\n"), "{caps}");
        assert!(caps.contains("\n  no_new_privs  yes\n"), "{caps}");
        assert!(
            caps.ends_with(&format!(
                "  securebits    not shown: {SECUREBITS_NOT_READABLE}\n"
            )),
            "{caps}"
        );
        let mut confined = got.clone();
        confined.lsm.apparmor_label = Some("sandgen-demo (enforce)".into());
        let caps = caps_text(&confined, Some(0b11));
        assert!(
            caps.ends_with(&format!(
                "  securebits    not shown: {SECUREBITS_NOT_READABLE}; the unit asks systemd \
                 for noroot noroot-locked (SecureBits=)\n  lsm label     AppArmor sandgen-demo (enforce)\n"
            )),
            "{caps}"
        );
    }
}
