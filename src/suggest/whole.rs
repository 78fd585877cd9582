//! The whole sandbox policy from one trace: every setting decided from what the trace
//! showed, or did not show, and justified in a comment.
//!
//! `sandgen suggest` maps the calls a workload made onto a `SystemCallFilter=` list; the
//! other settings of a sandbox need what those calls did, which the trace carries too
//! ([`TraceFacts`]), plus the owners and modes of the files it touched ([`FileFacts`]).
//! [`propose`] is a pure function of those facts and the target systemd's version; each
//! [`Setting`] it returns is one policy key with its value, the reason, and a [`Verdict`]:
//!
//! - **set** when the trace proves the workload does not need what the setting takes away
//!   (no `socket()` beyond `AF_UNIX`: `private_network = true`);
//! - **suggested** (written as a comment) when the setting is likely right but the trace
//!   cannot prove it (`dynamic_user`, when it wrote files a transient user would own);
//! - **not set** when the trace showed the workload needs what the setting takes away (a
//!   TCP socket: no `private_network`);
//! - **left out** when the target systemd lacks the directive, naming the version that has
//!   it (from the directive table: [`crate::directive::table`] is the one source of each
//!   key's version).
//!
//! What is decided from what (systemd.exec(5) for what each directive takes away):
//!
//! | setting | from |
//! |---|---|
//! | `type` | the command ended by itself (`oneshot`) or was stopped (`exec`) |
//! | `bounding`, `no_new_privileges` | calls that need a capability; file modes that only root's `CAP_DAC_*` could pass; set-id programs executed |
//! | `dynamic_user`, `private_users`, `umask` | no capability; files any user may use; files owned by root; nothing written to keep |
//! | `protect_system = "strict"`, `read_write_paths` | the directories of the paths it created, wrote, removed or renamed, outside its private /tmp and the API file systems |
//! | `private_tmp` | no file in /tmp or /var/tmp used that it did not create |
//! | `protect_home` | nothing under /home, /root, /run/user used (read-only when only read) |
//! | `private_devices`, `protect_clock` | no device node opened beyond the pseudo devices |
//! | `protect_kernel_*`, `protect_control_groups` | no write to /proc/sys, /sys, /sys/fs/cgroup; no module, no kernel log |
//! | `protect_proc`, `proc_subset` | no other process's /proc entry read; nothing in /proc outside the processes' own |
//! | `private_network`, `restrict_address_families` | the families of the sockets it opened |
//! | `restrict_namespaces`, `lock_personality`, `memory_deny_write_execute`, `restrict_realtime`, `restrict_suid_sgid`, `private_ipc`, `protect_hostname` | the flags of `unshare`/`clone`/`setns`, `personality`, `mmap`/`mprotect`, `sched_setscheduler`, `chmod`/`mkdir`/`open` modes, SysV IPC keys, `sethostname` |
//! | `[seccomp] allow` | [`crate::suggest::suggest`], as `sandgen suggest` prints it |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::directive::{table as directives, Kind};
use crate::trace::facts::{FailedCall, TraceFacts, NAMESPACE_FLAGS};
use crate::trace::files::{parent, FileFacts, FileStat};
use crate::trace::ExitStatusInfo;

use super::write::KeyValue;
use super::{shell_words, Suggestion};

/// The systemd version that accepts `RestrictAddressFamilies=none` (an empty list).
const ADDRESS_FAMILIES_NONE_SINCE: u32 = crate::policy::ADDRESS_FAMILIES_NONE_SINCE;
/// The systemd version that introduced `Type=exec`.
const TYPE_EXEC_SINCE: u32 = 240;
/// How wide the comments are.
const COMMENT_WIDTH: usize = 96;

/// The device nodes `PrivateDevices=yes` keeps (systemd.exec(5): "API pseudo devices such
/// as /dev/null, /dev/zero or /dev/random (as well as the pseudo TTY subsystem)"), and the
/// directories of its /dev that are not devices.
const PSEUDO_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/dev/hugepages",
    "/dev/fd",
    "/dev/stdin",
    "/dev/stdout",
    "/dev/stderr",
];

/// What the proposal is made from.
#[derive(Debug, Clone, Copy)]
pub struct WholeFacts<'a> {
    /// The command, its program an absolute path.
    pub command: &'a [String],
    /// How it ended.
    pub exit: &'a ExitStatusInfo,
    /// Whether sandgen stopped it (`--stop-after`) rather than it ending by itself.
    pub stopped: bool,
    /// What the calls showed.
    pub trace: &'a TraceFacts,
    /// Owners and modes of the files it touched.
    pub files: &'a FileFacts,
    /// A process ran a non-native ABI.
    pub non_native_abi: bool,
    /// The allow-list, as `sandgen suggest` makes it.
    pub seccomp: &'a Suggestion,
    /// How many processes and threads ran.
    pub processes: usize,
}

/// What the proposal is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholeOptions {
    /// The target systemd's version.
    pub target: u32,
    /// The errno a refused system call fails with, instead of the process being killed.
    pub error_number: Option<String>,
    /// Settings a run under an earlier proposal showed too tight (`--verify`), applied last.
    pub relaxed: Vec<Relaxed>,
}

/// A setting's value, as TOML.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum SettingValue {
    /// `true`, `false`.
    Bool(bool),
    /// A string.
    Text(String),
    /// An array of strings.
    List(Vec<String>),
}

impl SettingValue {
    fn toml(&self) -> String {
        self.toml_value().to_string().trim().to_owned()
    }

    fn toml_value(&self) -> toml_edit::Value {
        match self {
            SettingValue::Bool(b) => (*b).into(),
            SettingValue::Text(t) => t.as_str().into(),
            SettingValue::List(items) => {
                let mut array: toml_edit::Array = items.iter().map(String::as_str).collect();
                array.fmt();
                toml_edit::Value::Array(array)
            }
        }
    }
}

/// What became of a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// Written: the trace shows the workload does not need what it takes away.
    Set,
    /// Written as a comment: likely right, but the trace cannot prove it.
    Suggested,
    /// Not written: the trace shows the workload needs what it takes away.
    NotSet,
    /// Not written: the target systemd lacks it.
    LeftOut {
        /// The systemd version that has it.
        since: u32,
    },
}

/// One policy key of the proposal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Setting {
    /// The policy table (`filesystem`).
    pub table: &'static str,
    /// The key (`protect_system`).
    pub key: &'static str,
    /// The value proposed (for [`Verdict::NotSet`], none).
    pub value: Option<SettingValue>,
    /// Why: what the trace showed or did not show.
    pub why: String,
    /// What became of it.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The whole proposal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Proposal {
    /// The target systemd's version.
    pub target: u32,
    /// The traced command.
    pub command: Vec<String>,
    /// A line on what was traced.
    pub summary: String,
    /// The settings, in policy order.
    pub settings: Vec<Setting>,
}

/// The tables of a policy, in the order the proposal writes them.
const TABLE_ORDER: &[&str] = &[
    "service",
    "capabilities",
    "seccomp",
    "filesystem",
    "network",
    "namespaces",
];

/// The whole policy for the workload `facts` describe, for systemd `options.target`.
pub fn propose(facts: &WholeFacts<'_>, options: &WholeOptions) -> Proposal {
    let mut p = Proposer {
        target: options.target,
        settings: Vec::new(),
    };
    let t = facts.trace;
    let perms = permissions(t, facts.files);
    let paths = PathUse::new(t);

    // [service]
    p.set(
        "service",
        "exec",
        SettingValue::List(facts.command.to_vec()),
        "the traced command".to_owned(),
    );
    if facts.stopped {
        let word = if options.target >= TYPE_EXEC_SINCE {
            "exec"
        } else {
            "simple"
        };
        p.set(
            "service",
            "type",
            SettingValue::Text(word.to_owned()),
            format!(
                "it ran until sandgen stopped it ({}): a long-running service",
                facts.exit
            ),
        );
    } else {
        p.set(
            "service",
            "type",
            SettingValue::Text("oneshot".to_owned()),
            format!("it ended by itself ({}): a one-shot job", facts.exit),
        );
    }

    let mut caps: BTreeMap<&str, String> = t
        .capabilities
        .iter()
        .map(|(cap, call)| (cap.as_str(), call.clone()))
        .collect();
    for (cap, why) in &perms.root_needs {
        caps.entry(cap).or_insert_with(|| why.clone());
    }
    let writes_to_keep = !paths.read_write.is_empty();
    let user_problem = if !caps.is_empty() {
        Some(format!(
            "it used {}, which a transient user would not have",
            caps.keys().copied().collect::<Vec<_>>().join(", ")
        ))
    } else if let Some(denied) = &perms.other_denied {
        Some(format!("a user other than root could not {denied}"))
    } else if writes_to_keep {
        Some(format!(
            "it wrote to {}, whose new files a transient user would own (and which it may not \
             be allowed to write)",
            paths.read_write.join(", ")
        ))
    } else {
        None
    };
    // The trace ran as root: as another user the workload takes other paths (its own uid
    // is looked up through NSS, which for a transient user asks systemd's userdb), so a
    // transient user is never proven safe, only suggested.
    let why = match &user_problem {
        None => "it needed no capability, wrote nothing outside its own /tmp, and every file \
                 it used is open to any user by its mode bits; not proven, as the trace ran as \
                 root (as another user it looks itself up through NSS, for one): check it with \
                 `sandgen run`"
            .to_owned(),
        Some(why) => format!("not proven safe: {why}"),
    };
    p.suggest("service", "dynamic_user", SettingValue::Bool(true), why);
    if writes_to_keep {
        p.suggest(
            "service",
            "umask",
            SettingValue::Text("0077".to_owned()),
            "new files only for their owner; not set because it wrote files others may need to \
             read"
                .to_owned(),
        );
    } else {
        p.set(
            "service",
            "umask",
            SettingValue::Text("0077".to_owned()),
            "it keeps no file it creates (nothing written outside its own /tmp), so new files \
             can be for their owner only"
                .to_owned(),
        );
    }

    // [capabilities]
    let bounding: Vec<String> = caps.keys().map(|c| (*c).to_owned()).collect();
    let why = if caps.is_empty() {
        "no call that needs a capability (chown to another owner, set*id, a port below 1024, a \
         raw socket, mount, ...), and every file it used is open to root by its mode bits: no \
         capability at all"
            .to_owned()
    } else {
        caps.iter()
            .map(|(cap, call)| format!("{cap}: {call}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    p.set(
        "capabilities",
        "bounding",
        SettingValue::List(bounding),
        why,
    );
    let setid: Vec<&String> = t
        .executed
        .iter()
        .filter(|e| {
            facts
                .files
                .stats
                .get(*e)
                .is_some_and(|s| s.mode & 0o6000 != 0)
        })
        .collect();
    if setid.is_empty() {
        p.set(
            "capabilities",
            "no_new_privileges",
            SettingValue::Bool(true),
            "it executed no set-user-ID or set-group-ID program".to_owned(),
        );
    } else {
        p.not_set(
            "capabilities",
            "no_new_privileges",
            format!(
                "it executed the set-user-ID or set-group-ID program {}",
                join_paths(&setid)
            ),
        );
    }

    // [seccomp]
    let s = facts.seccomp;
    p.set(
        "seccomp",
        "allow",
        SettingValue::List(s.allow.clone()),
        format!(
            "the {} system calls it made, on the target's groups, as `sandgen suggest` maps \
             them{}{}",
            s.observed.len(),
            if s.widened.is_empty() {
                String::new()
            } else {
                format!(
                    ", and {}, for which a run under this policy was killed",
                    s.widened.join(", ")
                )
            },
            if s.unlisted.is_empty() {
                String::new()
            } else {
                format!(" (systemd cannot allow {}: refused)", s.unlisted.join(", "))
            }
        ),
    );
    let refuse_tradeoff = "a call outside the list kills the process with SIGSYS: loud, in the \
                           audit log, and `sandgen suggest --verify` widens the list from it; an \
                           errno (error_number = \"EPERM\", as shh does) keeps it running, but a \
                           program that takes the failure for a missing feature carries on \
                           wrongly and silently";
    match &options.error_number {
        Some(errno) => p.set(
            "seccomp",
            "error_number",
            SettingValue::Text(errno.clone()),
            format!("asked for (--error-number): {refuse_tradeoff}"),
        ),
        None => p.suggest(
            "seccomp",
            "error_number",
            SettingValue::Text("EPERM".to_owned()),
            refuse_tradeoff.to_owned(),
        ),
    }
    if facts.non_native_abi {
        p.not_set(
            "seccomp",
            "architectures",
            "a process ran in 32-bit or x32 mode, which architectures = [\"native\"] kills"
                .to_owned(),
        );
    } else {
        p.set(
            "seccomp",
            "architectures",
            SettingValue::List(vec!["native".to_owned()]),
            "every process ran the native ABI".to_owned(),
        );
    }
    p.flag(
        "seccomp",
        "lock_personality",
        t.personality.as_deref(),
        "no personality() change",
    );
    p.flag(
        "seccomp",
        "memory_deny_write_execute",
        t.write_execute_memory.as_deref(),
        "no memory mapped writable and executable, none made executable later (mmap, mprotect \
         flags)",
    );
    p.flag(
        "seccomp",
        "restrict_realtime",
        t.realtime.as_deref(),
        "no realtime scheduling asked for",
    );
    p.flag(
        "seccomp",
        "restrict_suid_sgid",
        t.suid_sgid.as_deref(),
        "no file or directory given a set-user-ID or set-group-ID mode",
    );

    // [filesystem]
    let outside_tmp = if paths.private_tmp_ok {
        " outside its own /tmp and /var/tmp"
    } else {
        ""
    };
    let why = if paths.read_write.is_empty() {
        format!(
            "it changed nothing{outside_tmp} beyond the API file systems (/dev, /proc, /sys): \
             everything read-only"
        )
    } else {
        format!(
            "everything read-only but the directories it created, wrote, removed or renamed \
             paths in{outside_tmp}: {}",
            paths.read_write.join(", ")
        )
    };
    p.set(
        "filesystem",
        "protect_system",
        SettingValue::Text("strict".to_owned()),
        why,
    );
    if !paths.read_write.is_empty() {
        p.set(
            "filesystem",
            "read_write_paths",
            SettingValue::List(paths.read_write.clone()),
            format!("where it wrote: {}", paths.read_write_evidence.join(", ")),
        );
    }
    if let Some(shared) = &paths.shared_tmp {
        p.not_set(
            "filesystem",
            "private_tmp",
            format!("it used {shared}, which it did not create: a private /tmp would hide it"),
        );
    } else {
        p.set(
            "filesystem",
            "private_tmp",
            SettingValue::Bool(true),
            if paths.used_tmp {
                "it used only files it created in /tmp and /var/tmp".to_owned()
            } else {
                "it used nothing in /tmp or /var/tmp".to_owned()
            },
        );
    }
    match (&paths.home_written, &paths.home_used) {
        (Some(w), _) => p.not_set("filesystem", "protect_home", format!("it wrote {w}")),
        (None, Some(r)) => p.set(
            "filesystem",
            "protect_home",
            SettingValue::Text("read-only".to_owned()),
            format!("it read {r}, but wrote nothing under /home, /root or /run/user"),
        ),
        (None, None) => p.set(
            "filesystem",
            "protect_home",
            SettingValue::Bool(true),
            "it used nothing under /home, /root or /run/user".to_owned(),
        ),
    }
    let device_caps: Vec<&str> = ["CAP_MKNOD", "CAP_SYS_RAWIO"]
        .into_iter()
        .filter(|c| caps.contains_key(c))
        .collect();
    match (&paths.device, device_caps.is_empty()) {
        (Some(dev), _) => p.not_set(
            "filesystem",
            "private_devices",
            format!("it opened the device {dev}"),
        ),
        (None, false) => p.not_set(
            "filesystem",
            "private_devices",
            format!(
                "it needed {}, which private_devices takes away",
                device_caps.join(", ")
            ),
        ),
        (None, true) => p.set(
            "filesystem",
            "private_devices",
            SettingValue::Bool(true),
            "it opened no device beyond the pseudo devices (null, zero, random, tty, ...)"
                .to_owned(),
        ),
    }
    let mounted = t.mounts.as_deref();
    p.flag(
        "filesystem",
        "private_mounts",
        mounted,
        "no mount-table change (mount, umount, pivot_root)",
    );
    p.flag(
        "filesystem",
        "protect_kernel_tunables",
        paths.tunables.as_deref(),
        "nothing written under /proc/sys or /sys, no /proc/kcore or /proc/kallsyms",
    );
    p.flag(
        "filesystem",
        "protect_kernel_modules",
        t.kernel_modules.as_deref().or(paths.modules.as_deref()),
        "no module loaded, nothing read under /usr/lib/modules",
    );
    p.flag(
        "filesystem",
        "protect_kernel_logs",
        t.kernel_log.as_deref().or(paths.kernel_log.as_deref()),
        "no syslog(2), no /dev/kmsg or /proc/kmsg",
    );
    p.flag(
        "filesystem",
        "protect_control_groups",
        paths.cgroups.as_deref(),
        "nothing written under /sys/fs/cgroup",
    );
    match (&t.clock, &paths.device) {
        (Some(call), _) => p.not_set("filesystem", "protect_clock", format!("it called {call}")),
        (None, Some(dev)) => p.not_set(
            "filesystem",
            "protect_clock",
            format!(
                "it opened the device {dev}, and protect_clock closes device access to the \
                 pseudo devices and the clock"
            ),
        ),
        (None, None) => p.set(
            "filesystem",
            "protect_clock",
            SettingValue::Bool(true),
            "no clock set or adjusted (@clock calls)".to_owned(),
        ),
    }
    match &paths.other_process {
        Some(other) => p.not_set(
            "filesystem",
            "protect_proc",
            format!("it read {other}, another process's: it must see other processes"),
        ),
        None => p.set(
            "filesystem",
            "protect_proc",
            SettingValue::Text("invisible".to_owned()),
            "it read no other process's /proc entry".to_owned(),
        ),
    }
    match &paths.proc_outside_pids {
        Some(path) => p.not_set(
            "filesystem",
            "proc_subset",
            format!("it read {path}, which proc_subset = \"pid\" hides"),
        ),
        None => p.set(
            "filesystem",
            "proc_subset",
            SettingValue::Text("pid".to_owned()),
            "it used nothing in /proc beyond its own processes' entries".to_owned(),
        ),
    }

    // [network]
    let families: Vec<String> = t.socket_families.iter().cloned().collect();
    let networked: Vec<&String> = families.iter().filter(|f| *f != "AF_UNIX").collect();
    if networked.is_empty() {
        p.set(
            "network",
            "private_network",
            SettingValue::Bool(true),
            if families.is_empty() {
                "no socket() seen".to_owned()
            } else {
                "no socket beyond AF_UNIX seen".to_owned()
            },
        );
    } else {
        p.not_set(
            "network",
            "private_network",
            format!(
                "it opened {} sockets",
                networked
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if families.is_empty() && options.target < ADDRESS_FAMILIES_NONE_SINCE {
        p.set(
            "network",
            "restrict_address_families",
            SettingValue::List(vec!["AF_UNIX".to_owned()]),
            format!(
                "no socket() seen; an empty list needs systemd {ADDRESS_FAMILIES_NONE_SINCE}, so \
                 the least: AF_UNIX"
            ),
        );
    } else {
        p.set(
            "network",
            "restrict_address_families",
            SettingValue::List(families.clone()),
            if families.is_empty() {
                "no socket() seen: no family at all".to_owned()
            } else {
                format!("exactly the families it opened: {}", families.join(", "))
            },
        );
    }

    // [namespaces]
    if t.namespaces.is_empty() {
        p.set(
            "namespaces",
            "restrict_namespaces",
            SettingValue::Bool(true),
            "it created or joined no namespace (unshare, clone, setns flags)".to_owned(),
        );
    } else {
        p.set(
            "namespaces",
            "restrict_namespaces",
            SettingValue::List(t.namespaces.keys().cloned().collect()),
            format!(
                "only the namespace types it created or joined: {}",
                t.namespaces
                    .iter()
                    .map(|(ns, call)| format!("{ns} ({call})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    p.flag(
        "namespaces",
        "private_ipc",
        t.shared_ipc.as_deref(),
        "no SysV IPC object or message queue of another process used",
    );
    match (caps.is_empty(), &perms.foreign_owner) {
        (true, None) => p.set(
            "namespaces",
            "private_users",
            SettingValue::Bool(true),
            "no capability needed, and every file it used belongs to root: a user namespace \
             that maps only root changes nothing it sees"
                .to_owned(),
        ),
        (false, _) => p.not_set(
            "namespaces",
            "private_users",
            "it needs capabilities, which a user namespace has only inside itself".to_owned(),
        ),
        (true, Some(owner)) => p.suggest(
            "namespaces",
            "private_users",
            SettingValue::Bool(true),
            format!(
                "not proven safe: {owner}, whose owner would appear as nobody (it could still \
                 read it)"
            ),
        ),
    }
    p.flag(
        "namespaces",
        "protect_hostname",
        t.hostname.as_deref(),
        "no host name change",
    );
    p.set(
        "namespaces",
        "remove_ipc",
        SettingValue::Bool(true),
        "IPC objects left behind by its user go when it stops (nothing when it runs as root)"
            .to_owned(),
    );

    for r in &options.relaxed {
        p.relax(r);
    }
    let mut settings = p.settings;
    settings.sort_by_key(|s| TABLE_ORDER.iter().position(|t| *t == s.table));
    Proposal {
        target: options.target,
        command: facts.command.to_vec(),
        summary: format!(
            "it {}; {} system call{} in {} process{}",
            facts.exit,
            facts.seccomp.observed.len(),
            if facts.seccomp.observed.len() == 1 {
                ""
            } else {
                "s"
            },
            facts.processes,
            if facts.processes == 1 { "" } else { "es" }
        ),
        settings,
    }
}

/// Collects settings, leaving out what the target lacks.
struct Proposer {
    target: u32,
    settings: Vec<Setting>,
}

impl Proposer {
    fn push(
        &mut self,
        table: &'static str,
        key: &'static str,
        value: Option<SettingValue>,
        why: String,
        verdict: Verdict,
    ) {
        let since = since(table, key, value.as_ref());
        let verdict = match verdict {
            Verdict::Set | Verdict::Suggested if since > self.target => Verdict::LeftOut { since },
            v => v,
        };
        self.settings.push(Setting {
            table,
            key,
            value,
            why,
            verdict,
        });
    }

    fn set(&mut self, table: &'static str, key: &'static str, value: SettingValue, why: String) {
        self.push(table, key, Some(value), why, Verdict::Set);
    }

    fn suggest(
        &mut self,
        table: &'static str,
        key: &'static str,
        value: SettingValue,
        why: String,
    ) {
        self.push(table, key, Some(value), why, Verdict::Suggested);
    }

    fn not_set(&mut self, table: &'static str, key: &'static str, why: String) {
        self.push(table, key, None, why, Verdict::NotSet);
    }

    fn get_mut(&mut self, table: &str, key: &str) -> Option<&mut Setting> {
        self.settings
            .iter_mut()
            .find(|s| s.table == table && s.key == key)
    }

    /// `table.key` unset, because a run under the proposal failed with `evidence`.
    fn unset(&mut self, table: &'static str, key: &'static str, evidence: &str) {
        let why = format!("a run under the suggested policy failed with {evidence}");
        match self.get_mut(table, key) {
            Some(s) if matches!(s.verdict, Verdict::Set | Verdict::Suggested) => {
                s.verdict = Verdict::NotSet;
                s.value = None;
                s.why = why;
            }
            Some(_) => {}
            None => self.not_set(table, key, why),
        }
    }

    /// Add `item` to the list `table.key` (made when missing), keeping it sorted.
    fn add_to_list(&mut self, table: &'static str, key: &'static str, item: &str, evidence: &str) {
        let note = format!("{item}: a run under the suggested policy failed with {evidence}");
        match self.get_mut(table, key) {
            Some(s) => {
                let mut items = match &s.value {
                    Some(SettingValue::List(items)) => items.clone(),
                    _ => Vec::new(),
                };
                if !items.iter().any(|i| i == item) {
                    items.push(item.to_owned());
                    items.sort();
                }
                s.value = Some(SettingValue::List(items));
                s.why = format!("{}; {note}", s.why);
                if s.verdict == Verdict::NotSet || s.verdict == Verdict::Suggested {
                    s.verdict = Verdict::Set;
                }
            }
            None => self.set(table, key, SettingValue::List(vec![item.to_owned()]), note),
        }
    }

    /// Apply what a run under an earlier proposal showed.
    fn relax(&mut self, r: &Relaxed) {
        let e = r.evidence.as_str();
        match &r.relaxation {
            Relaxation::Writable { dir } => {
                self.add_to_list("filesystem", "read_write_paths", dir, e);
                // A directory kept writable makes the ones inside it redundant.
                if let Some(s) = self.get_mut("filesystem", "read_write_paths") {
                    if let Some(SettingValue::List(items)) = &mut s.value {
                        let all = items.clone();
                        items.retain(|d| !all.iter().any(|o| o != d && under(d, o)));
                    }
                }
            }
            Relaxation::Capability { cap } => {
                self.add_to_list("capabilities", "bounding", cap, e);
                self.unset("namespaces", "private_users", e);
                if cap == "CAP_MKNOD" || cap == "CAP_SYS_RAWIO" {
                    self.unset("filesystem", "private_devices", e);
                }
            }
            Relaxation::Family { family } => {
                self.add_to_list("network", "restrict_address_families", family, e);
                if family != "AF_UNIX" {
                    self.unset("network", "private_network", e);
                }
            }
            Relaxation::Namespace { ns } => {
                if let Some(s) = self.get_mut("namespaces", "restrict_namespaces") {
                    if s.value == Some(SettingValue::Bool(true)) {
                        s.value = Some(SettingValue::List(Vec::new()));
                    }
                }
                self.add_to_list("namespaces", "restrict_namespaces", ns, e);
            }
            Relaxation::Unset { table, key } => {
                self.unset(table, key, e);
                if *key == "private_devices" {
                    self.unset("filesystem", "protect_clock", e);
                }
            }
        }
    }

    /// `key = true` unless `seen` (the call that needs what it takes away).
    fn flag(&mut self, table: &'static str, key: &'static str, seen: Option<&str>, none: &str) {
        match seen {
            Some(call) => self.not_set(table, key, format!("it made {call}")),
            None => self.set(table, key, SettingValue::Bool(true), none.to_owned()),
        }
    }
}

/// The systemd version that takes `table.key = value`: the directive's, or its mode's when
/// the mode is newer (both from the directive table).
fn since(table: &str, key: &str, value: Option<&SettingValue>) -> u32 {
    let Some(spec) = directives::find(table, key) else {
        // Every key the proposal writes is in the table (tested); none means no version limit.
        return 0;
    };
    let mode_since = match (spec.kind, value) {
        (Kind::BoolOrWord(modes), Some(SettingValue::Text(word))) => {
            modes.find(word).map_or(0, |m| m.since)
        }
        _ => 0,
    };
    spec.since.max(mode_since)
}

/// What the file accesses of a trace mean for the file-system settings.
#[derive(Debug, Default)]
struct PathUse {
    /// The directories to keep writable, minimal (none inside another).
    read_write: Vec<String>,
    /// A few of the changed paths that put them there.
    read_write_evidence: Vec<String>,
    /// Something in /tmp or /var/tmp was used.
    used_tmp: bool,
    /// A path in /tmp or /var/tmp used that the workload did not create.
    shared_tmp: Option<String>,
    /// Whether /tmp and /var/tmp can be private.
    private_tmp_ok: bool,
    /// Something under /home, /root, /run/user read or looked up.
    home_used: Option<String>,
    /// Something under /home, /root, /run/user changed.
    home_written: Option<String>,
    /// A device node beyond the pseudo devices.
    device: Option<String>,
    /// A write under /proc/sys or /sys (not cgroups), or a kernel-only /proc file.
    tunables: Option<String>,
    /// Something under /usr/lib/modules.
    modules: Option<String>,
    /// /dev/kmsg or /proc/kmsg.
    kernel_log: Option<String>,
    /// A write under /sys/fs/cgroup.
    cgroups: Option<String>,
    /// Another process's /proc entry (or /proc listed).
    other_process: Option<String>,
    /// Something in /proc outside the processes' own entries.
    proc_outside_pids: Option<String>,
}

impl PathUse {
    fn new(t: &TraceFacts) -> Self {
        let mut u = PathUse::default();
        let written: BTreeSet<&str> = t
            .changed
            .iter()
            .map(String::as_str)
            .chain(
                t.opened
                    .iter()
                    .filter(|(_, m)| m.write)
                    .map(|(p, _)| p.as_str()),
            )
            .collect();
        let used: BTreeSet<&str> = t
            .opened
            .keys()
            .chain(&t.looked_up)
            .chain(&t.unix_socket_paths)
            .map(String::as_str)
            .collect();

        // /tmp and /var/tmp: private unless it used something there it did not create.
        let in_tmp = |p: &str| under(p, "/tmp") || under(p, "/var/tmp");
        let created_there = |p: &str| {
            let mut at = Some(p);
            while let Some(q) = at {
                if q == "/tmp" || q == "/var/tmp" {
                    return false;
                }
                if t.changed.contains(q) {
                    return true;
                }
                at = parent(q);
            }
            false
        };
        for p in used.iter().chain(&written) {
            if in_tmp(p) && *p != "/tmp" && *p != "/var/tmp" {
                u.used_tmp = true;
                if !created_there(p) && u.shared_tmp.is_none() {
                    u.shared_tmp = Some((*p).to_owned());
                }
            }
        }
        u.private_tmp_ok = u.shared_tmp.is_none();

        // Writable directories: the parents of what it changed, outside what stays writable
        // anyway (/dev, /proc, /sys under ProtectSystem=strict; a private /tmp).
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        for p in &written {
            if is_api_fs(p) || (u.private_tmp_ok && in_tmp(p)) {
                continue;
            }
            // A file opened for writing that existed is written in place; its directory is
            // what systemd's ReadWritePaths= is given anyway ("directories, not files").
            let dir = if t.opened.get(*p).is_some_and(|m| m.directory) {
                (*p).to_owned()
            } else {
                parent(p).unwrap_or("/").to_owned()
            };
            if dirs.insert(dir) && u.read_write_evidence.len() < 3 {
                u.read_write_evidence.push((*p).to_owned());
            }
        }
        u.read_write = dirs
            .iter()
            .filter(|d| !dirs.iter().any(|o| o != *d && under(d, o)))
            .cloned()
            .collect();

        let home = |p: &str| under(p, "/home") || under(p, "/root") || under(p, "/run/user");
        u.home_written = written.iter().find(|p| home(p)).map(|p| (*p).to_owned());
        u.home_used = used.iter().find(|p| home(p)).map(|p| (*p).to_owned());

        u.device = t
            .opened
            .keys()
            .find(|p| {
                under(p, "/dev") && *p != "/dev" && !PSEUDO_DEVICES.iter().any(|d| under(p, d))
            })
            .cloned();
        u.kernel_log = used
            .iter()
            .find(|p| **p == "/dev/kmsg" || **p == "/proc/kmsg")
            .map(|p| (*p).to_owned());
        u.modules = used
            .iter()
            .find(|p| under(p, "/usr/lib/modules") || under(p, "/lib/modules"))
            .map(|p| (*p).to_owned());
        u.cgroups = written
            .iter()
            .find(|p| under(p, "/sys/fs/cgroup"))
            .map(|p| (*p).to_owned());
        u.tunables = written
            .iter()
            .find(|p| (under(p, "/proc/sys") || under(p, "/sys")) && !under(p, "/sys/fs/cgroup"))
            .or_else(|| {
                used.iter().find(|p| {
                    matches!(
                        **p,
                        "/proc/kcore" | "/proc/kallsyms" | "/proc/sysrq-trigger"
                    )
                })
            })
            .map(|p| (*p).to_owned());

        // /proc: the processes' own entries are /proc/PID/... of a traced PID.
        let own = |p: &str| {
            let Some(rest) = p.strip_prefix("/proc/") else {
                return false;
            };
            let pid = rest.split('/').next().unwrap_or("");
            matches!(pid, "self" | "thread-self")
                || pid.parse::<u32>().is_ok_and(|n| t.pids.contains(&n))
        };
        for p in &used {
            if !under(p, "/proc") {
                continue;
            }
            let first = p.strip_prefix("/proc/").and_then(|r| r.split('/').next());
            let is_pid = first.is_some_and(|f| f.parse::<u32>().is_ok());
            if *p == "/proc" && t.opened.get(*p).is_some_and(|m| m.directory) {
                u.other_process
                    .get_or_insert_with(|| "the /proc listing".to_owned());
            } else if is_pid && !own(p) {
                u.other_process.get_or_insert_with(|| (*p).to_owned());
            }
            if !own(p) && !is_pid && *p != "/proc" {
                u.proc_outside_pids.get_or_insert_with(|| (*p).to_owned());
            }
        }
        u
    }
}

/// A setting that a run under the proposal showed too tight, and how to loosen it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "relax")]
pub enum Relaxation {
    /// Keep this directory writable (`read_write_paths`).
    Writable {
        /// The directory.
        dir: String,
    },
    /// Keep this capability in the bounding set.
    Capability {
        /// `CAP_...`.
        cap: String,
    },
    /// Allow sockets of this family.
    Family {
        /// `AF_...`.
        family: String,
    },
    /// Allow creating or joining namespaces of this type.
    Namespace {
        /// `net`, `user`, ...
        ns: String,
    },
    /// Leave `table.key` unset.
    Unset {
        /// The policy table.
        table: &'static str,
        /// The key.
        key: &'static str,
    },
}

/// A [`Relaxation`] and the failed call that asked for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Relaxed {
    /// What to loosen.
    #[serde(flatten)]
    pub relaxation: Relaxation,
    /// The call that failed under the proposal and not when traced, with its errno.
    pub evidence: String,
}

impl Relaxed {
    /// `read_write_paths += /var/lib/x`, `private_network unset`.
    pub fn setting(&self) -> String {
        match &self.relaxation {
            Relaxation::Writable { dir } => format!("read_write_paths += {dir}"),
            Relaxation::Capability { cap } => format!("bounding += {cap}"),
            Relaxation::Family { family } => format!("restrict_address_families += {family}"),
            Relaxation::Namespace { ns } => format!("restrict_namespaces allows {ns}"),
            Relaxation::Unset { key, .. } => format!("{key} unset"),
        }
    }
}

/// The closed loop of `suggest --whole --verify`: each run under the whole proposal, and
/// the verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WholeVerification {
    /// The last run ended as the traced one did.
    pub passed: bool,
    /// What happened, in one sentence.
    pub message: String,
    /// Each run.
    pub rounds: Vec<WholeRound>,
}

/// One run under a whole proposal, and what it led to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WholeRound {
    /// The transient unit.
    pub unit: String,
    /// How the command ended (`None`: it never ran).
    pub exit_status: Option<ExitStatusInfo>,
    /// The setting relaxed after it.
    pub relaxed: Option<Relaxed>,
    /// The system calls allowed after it (it was killed by SIGSYS).
    pub widened: Vec<String>,
}

impl WholeVerification {
    /// The verdict and a line a run, as TOML comments.
    pub fn to_text(&self) -> String {
        let word = if self.passed {
            "Verified"
        } else {
            "NOT verified"
        };
        let mut out = String::new();
        comment(&mut out, &format!("{word}: {}", self.message));
        for (i, r) in self.rounds.iter().enumerate() {
            let exit = r
                .exit_status
                .as_ref()
                .map_or("did not run".to_owned(), ToString::to_string);
            let then = match (&r.relaxed, r.widened.is_empty()) {
                (Some(relaxed), _) => {
                    format!("; then {}, for {}", relaxed.setting(), relaxed.evidence)
                }
                (None, false) => format!("; then allowed {}", r.widened.join(", ")),
                (None, true) => String::new(),
            };
            comment(
                &mut out,
                &format!("  run {} ({}): {exit}{then}", i + 1, r.unit),
            );
        }
        out
    }
}

/// Capabilities whose absence makes these calls fail with `EPERM` (capabilities(7)).
const CALL_CAPABILITIES: &[(&[&str], &str)] = &[
    (&["chown", "fchown", "lchown", "fchownat"], "CAP_CHOWN"),
    (
        &["setuid", "setreuid", "setresuid", "setfsuid"],
        "CAP_SETUID",
    ),
    (
        &["setgid", "setregid", "setresgid", "setfsgid", "setgroups"],
        "CAP_SETGID",
    ),
    (&["chroot"], "CAP_SYS_CHROOT"),
    (
        &[
            "mount",
            "umount2",
            "pivot_root",
            "fsopen",
            "move_mount",
            "open_tree",
            "sethostname",
            "setdomainname",
        ],
        "CAP_SYS_ADMIN",
    ),
    (&["mknod", "mknodat"], "CAP_MKNOD"),
    (
        &["init_module", "finit_module", "delete_module"],
        "CAP_SYS_MODULE",
    ),
    (
        &["settimeofday", "clock_settime", "adjtimex", "clock_adjtime"],
        "CAP_SYS_TIME",
    ),
    (&["syslog"], "CAP_SYSLOG"),
    (&["iopl", "ioperm"], "CAP_SYS_RAWIO"),
];

/// Which settings the calls that failed under the proposal (`confined`, a trace of a run
/// under it without its system call filter) and not when traced (`traced`) point at, most
/// telling first: a read-only file system, a refused permission or operation, then a path
/// that is not there. A failure the setting cannot explain points at nothing.
pub fn blame(traced: &TraceFacts, confined: &TraceFacts) -> Vec<Relaxed> {
    let before: BTreeSet<(&str, Option<&str>, &str)> = traced
        .failed
        .iter()
        .map(|f| (f.call.as_str(), f.subject.as_deref(), f.errno.as_str()))
        .collect();
    let mut found: Vec<(u8, Relaxed)> = Vec::new();
    for f in &confined.failed {
        if before.contains(&(f.call.as_str(), f.subject.as_deref(), f.errno.as_str())) {
            continue;
        }
        if let Some((rank, relaxation)) = relaxation_for(f, confined) {
            let relaxed = Relaxed {
                relaxation,
                evidence: format!("{} = {}", f.evidence, f.errno),
            };
            if !found
                .iter()
                .any(|(_, r)| r.relaxation == relaxed.relaxation)
            {
                found.push((rank, relaxed));
            }
        }
    }
    found.sort_by_key(|(rank, _)| *rank);
    found.into_iter().map(|(_, r)| r).collect()
}

/// The setting a failed call points at, and how telling it is (lower is surer).
fn relaxation_for(f: &FailedCall, confined: &TraceFacts) -> Option<(u8, Relaxation)> {
    let unset = |table, key| Relaxation::Unset { table, key };
    let call = f.call.as_str();
    let errno = f.errno.as_str();
    let denied = matches!(errno, "EPERM" | "EACCES");
    match call {
        "socket" if errno == "EAFNOSUPPORT" => {
            return f
                .subject
                .clone()
                .map(|family| (0, Relaxation::Family { family }));
        }
        "socket" if denied && f.evidence.contains("SOCK_RAW") => {
            return Some((
                1,
                Relaxation::Capability {
                    cap: "CAP_NET_RAW".into(),
                },
            ));
        }
        "unshare" | "clone" | "clone3" | "setns" if denied => {
            let ns = NAMESPACE_FLAGS
                .iter()
                .find(|(flag, _)| f.evidence.contains(flag))
                .map(|(_, ns)| (*ns).to_owned())?;
            return Some((1, Relaxation::Namespace { ns }));
        }
        "mmap" | "mmap2" | "mprotect" | "pkey_mprotect" | "shmat" if denied => {
            return Some((1, unset("seccomp", "memory_deny_write_execute")));
        }
        "personality" if denied => return Some((1, unset("seccomp", "lock_personality"))),
        "sched_setscheduler" | "sched_setattr" if denied => {
            return Some((1, unset("seccomp", "restrict_realtime")));
        }
        "sethostname" | "setdomainname" if denied => {
            return Some((1, unset("namespaces", "protect_hostname")));
        }
        "bind" if denied => {
            return Some((
                1,
                Relaxation::Capability {
                    cap: "CAP_NET_BIND_SERVICE".into(),
                },
            ));
        }
        "connect" | "sendto" | "sendmsg" if matches!(errno, "ENETUNREACH" | "EADDRNOTAVAIL") => {
            return Some((1, unset("network", "private_network")));
        }
        "chmod" | "fchmod" | "fchmodat" | "fchmodat2" if denied => {
            let suid = f.evidence.split([',', ' ', ')']).any(mode_is_setid);
            return Some(if suid {
                (1, unset("seccomp", "restrict_suid_sgid"))
            } else {
                (
                    1,
                    Relaxation::Capability {
                        cap: "CAP_FOWNER".into(),
                    },
                )
            });
        }
        _ => {}
    }
    if errno == "EPERM" {
        if let Some((_, cap)) = CALL_CAPABILITIES
            .iter()
            .find(|(calls, _)| calls.contains(&call))
        {
            return Some((
                1,
                Relaxation::Capability {
                    cap: (*cap).to_owned(),
                },
            ));
        }
    }
    let path = f.subject.as_deref().filter(|p| p.starts_with('/'))?;
    let home = under(path, "/home") || under(path, "/root") || under(path, "/run/user");
    let missing = errno == "ENOENT";
    if !(denied || missing || errno == "EROFS") {
        return None;
    }
    let rank = if missing { 3 } else { 0 };
    let pid_entry = path
        .strip_prefix("/proc/")
        .and_then(|r| r.split('/').next())
        .is_some_and(|p| p.parse::<u32>().is_ok());
    let relaxation = if path == "/dev/kmsg" || path == "/proc/kmsg" {
        unset("filesystem", "protect_kernel_logs")
    } else if home {
        unset("filesystem", "protect_home")
    } else if under(path, "/proc") && pid_entry {
        let pid = path
            .trim_start_matches("/proc/")
            .split('/')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| confined.pids.contains(&p)) {
            return None;
        }
        unset("filesystem", "protect_proc")
    } else if under(path, "/proc/sys") && errno == "EROFS" {
        unset("filesystem", "protect_kernel_tunables")
    } else if under(path, "/proc") {
        unset("filesystem", "proc_subset")
    } else if under(path, "/sys/fs/cgroup") {
        unset("filesystem", "protect_control_groups")
    } else if under(path, "/sys") {
        unset("filesystem", "protect_kernel_tunables")
    } else if under(path, "/dev") && !PSEUDO_DEVICES.iter().any(|d| under(path, d)) {
        unset("filesystem", "private_devices")
    } else if under(path, "/usr/lib/modules") || under(path, "/lib/modules") {
        unset("filesystem", "protect_kernel_modules")
    } else if under(path, "/tmp") || under(path, "/var/tmp") {
        if errno == "EROFS" {
            return None;
        }
        unset("filesystem", "private_tmp")
    } else if errno == "EROFS" {
        Relaxation::Writable {
            dir: parent(path).unwrap_or("/").to_owned(),
        }
    } else if denied {
        let writes = ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"]
            .iter()
            .any(|flag| f.evidence.contains(flag))
            || !matches!(
                call,
                "open"
                    | "openat"
                    | "openat2"
                    | "stat"
                    | "lstat"
                    | "newfstatat"
                    | "statx"
                    | "access"
                    | "faccessat"
                    | "faccessat2"
                    | "readlink"
                    | "readlinkat"
                    | "execve"
                    | "execveat"
                    | "chdir"
                    | "getxattr"
                    | "lgetxattr"
            );
        let cap = if writes {
            "CAP_DAC_OVERRIDE"
        } else {
            "CAP_DAC_READ_SEARCH"
        };
        return Some((
            2,
            Relaxation::Capability {
                cap: cap.to_owned(),
            },
        ));
    } else {
        return None;
    };
    Some((rank, relaxation))
}

/// An octal mode word (`04755`) with the set-user-ID or set-group-ID bit.
fn mode_is_setid(word: &str) -> bool {
    let word = word.trim();
    word.starts_with('0')
        && word.len() > 1
        && u32::from_str_radix(word, 8).is_ok_and(|m| m & 0o6000 != 0)
}

/// `path` is `dir` or below it.
fn under(path: &str, dir: &str) -> bool {
    path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The API file systems ProtectSystem=strict leaves writable (and other settings protect).
fn is_api_fs(path: &str) -> bool {
    under(path, "/dev") || under(path, "/proc") || under(path, "/sys")
}

fn join_paths(paths: &[&String]) -> String {
    paths
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the owners and modes of the files a trace used say.
#[derive(Debug, Default, PartialEq, Eq)]
struct Permissions {
    /// `CAP_DAC_READ_SEARCH` / `CAP_DAC_OVERRIDE`, each with the first access root needed it
    /// for (the trace ran as root; its mode bits alone would not have let root in).
    root_needs: BTreeMap<&'static str, String>,
    /// The first access a user other than root (and outside the file's group) could not
    /// have made.
    other_denied: Option<String>,
    /// The first path used that is not owned by root's user and group.
    foreign_owner: Option<String>,
}

const R: u32 = 4;
const W: u32 = 2;
const X: u32 = 1;

/// Which of the accesses of `t` root (uid and gid 0, no capability) and another user could
/// make, by the modes in `files` (systemd.exec(5): an empty `CapabilityBoundingSet=` leaves
/// root without `CAP_DAC_OVERRIDE`, so the owner, group and other bits decide, as for
/// anyone).
fn permissions(t: &TraceFacts, files: &FileFacts) -> Permissions {
    let mut needs: BTreeMap<String, u32> = BTreeMap::new();
    // `bits` on `path`, and a search of every directory above it.
    let mut add = |path: &str, bits: u32| {
        *needs.entry(path.to_owned()).or_default() |= bits;
        let mut at = parent(path);
        while let Some(p) = at {
            *needs.entry(p.to_owned()).or_default() |= X;
            at = parent(p);
        }
    };
    for (p, m) in &t.opened {
        let read = if m.read || m.directory { R } else { 0 };
        let write = if m.write { W } else { 0 };
        add(p, read | write);
    }
    for p in t.looked_up.iter().chain(&t.executed) {
        if let Some(dir) = parent(p) {
            add(dir, X);
        }
    }
    for p in &t.unix_socket_paths {
        // connect(2) to a socket file needs write permission on it.
        if t.looked_up.contains(p) {
            add(p, W);
        }
    }
    for p in &t.changed {
        if let Some(dir) = parent(p) {
            add(dir, W | X);
        }
    }

    let mut out = Permissions::default();
    for (path, bits) in &needs {
        let Some(stat) = files.stats.get(path) else {
            continue;
        };
        if stat.uid != 0 || stat.gid != 0 {
            out.foreign_owner.get_or_insert_with(|| {
                format!("it used {path}, owned by {}:{}", stat.uid, stat.gid)
            });
        }
        // A search of a file that is not a directory is not an access (it was an ancestor
        // only lexically, through a symbolic link).
        let bits = if stat.is_dir() { *bits } else { bits & !X };
        let root_class = if stat.uid == 0 {
            (stat.mode >> 6) & 7
        } else if stat.gid == 0 {
            (stat.mode >> 3) & 7
        } else {
            stat.mode & 7
        };
        let denied = bits & !root_class;
        if denied & (R | X) != 0 {
            out.root_needs
                .entry("CAP_DAC_READ_SEARCH")
                .or_insert_with(|| describe(path, denied & (R | X), stat));
        }
        if denied & W != 0 {
            out.root_needs
                .entry("CAP_DAC_OVERRIDE")
                .or_insert_with(|| describe(path, W, stat));
        }
        let other_denied = bits & !(stat.mode & 7);
        if other_denied != 0 && !is_api_fs(path) {
            out.other_denied
                .get_or_insert_with(|| describe(path, other_denied, stat));
        }
    }
    out
}

/// `read /etc/x (owner 105, group 105, mode 0640)`.
fn describe(path: &str, bits: u32, stat: &FileStat) -> String {
    let verb = if bits & W != 0 {
        "write"
    } else if bits & R != 0 {
        if stat.is_dir() {
            "list"
        } else {
            "read"
        }
    } else {
        "enter"
    };
    format!(
        "{verb} {path} (owner {}, group {}, mode {:04o})",
        stat.uid,
        stat.gid,
        stat.mode & 0o7777
    )
}

impl Proposal {
    /// The settings the trace decided (all that are set but `exec`, the command itself),
    /// for [`super::write::write_settings`].
    pub fn decided(&self) -> Vec<KeyValue> {
        self.settings
            .iter()
            .filter(|s| s.verdict == Verdict::Set && s.key != "exec")
            .filter_map(|s| {
                let value = s.value.as_ref()?.toml_value();
                let mut lines = String::new();
                comment(&mut lines, &s.why);
                Some(KeyValue {
                    table: s.table,
                    key: s.key,
                    value,
                    comment: lines,
                })
            })
            .collect()
    }

    /// The setting of `table.key`, if the proposal has one.
    pub fn get(&self, table: &str, key: &str) -> Option<&Setting> {
        self.settings
            .iter()
            .find(|s| s.table == table && s.key == key)
    }

    /// The policy as TOML: a header, then each table, each setting under a comment saying
    /// why; suggestions, settings not set and settings left out are comments too.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        comment(
            &mut out,
            &format!(
                "The whole sandbox of `{}`, suggested by `sandgen suggest --whole` for systemd \
                 {} from one trace ({}). Each setting says what the trace showed or did not show; a \
                 setting written as a comment is a suggestion the trace cannot prove safe. Run \
                 it with `sandgen run FILE` or `sandgen start FILE`.",
                shell_words(&self.command),
                self.target,
                self.summary
            ),
        );
        for table in TABLE_ORDER {
            let _ = write!(out, "\n[{table}]\n");
            for s in self.settings.iter().filter(|s| s.table == *table) {
                let value = s.value.as_ref().map(SettingValue::toml).unwrap_or_default();
                match s.verdict {
                    Verdict::Set => {
                        comment(&mut out, &s.why);
                        let _ = writeln!(out, "{} = {value}", s.key);
                    }
                    Verdict::Suggested => {
                        comment(&mut out, &s.why);
                        let _ = writeln!(out, "# {} = {value}", s.key);
                    }
                    Verdict::NotSet => {
                        comment(&mut out, &format!("{} not set: {}", s.key, s.why));
                    }
                    Verdict::LeftOut { since } => comment(
                        &mut out,
                        &format!(
                            "{} = {value} left out: it needs systemd {since}, the target is {} ({})",
                            s.key, self.target, s.why
                        ),
                    ),
                }
            }
        }
        out
    }
}

/// `text` as `# ` lines of at most [`COMMENT_WIDTH`] columns (a longer word gets a line of
/// its own).
fn comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > COMMENT_WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::syscalls::SyscallTable;
    use crate::trace::facts::OpenMode;

    fn file(uid: u32, gid: u32, mode: u32) -> FileStat {
        FileStat { uid, gid, mode }
    }

    /// `dd if=/dev/zero of=/dev/null`, as a trace shows it.
    fn dd() -> (TraceFacts, FileFacts) {
        let mut t = TraceFacts::default();
        t.pids.insert(100);
        for (p, read, write) in [
            ("/etc/ld.so.cache", true, false),
            ("/usr/lib/x86_64-linux-gnu/libc.so.6", true, false),
            ("/dev/zero", true, false),
            ("/dev/null", false, true),
            ("/proc/100/status", true, false),
        ] {
            t.opened.insert(
                p.to_owned(),
                OpenMode {
                    read,
                    write,
                    directory: false,
                },
            );
        }
        t.changed.insert("/dev/null".to_owned());
        t.executed.insert("/usr/bin/dd".to_owned());
        let mut f = FileFacts::default();
        for (p, s) in [
            ("/", file(0, 0, 0o40755)),
            ("/etc", file(0, 0, 0o40755)),
            ("/etc/ld.so.cache", file(0, 0, 0o100644)),
            ("/usr", file(0, 0, 0o40755)),
            ("/usr/bin", file(0, 0, 0o40755)),
            ("/usr/bin/dd", file(0, 0, 0o100755)),
            ("/usr/lib", file(0, 0, 0o40755)),
            ("/usr/lib/x86_64-linux-gnu", file(0, 0, 0o40755)),
            ("/usr/lib/x86_64-linux-gnu/libc.so.6", file(0, 0, 0o100755)),
            ("/dev", file(0, 0, 0o40755)),
            ("/dev/zero", file(0, 0, 0o20666)),
            ("/dev/null", file(0, 0, 0o20666)),
        ] {
            f.stats.insert(p.to_owned(), s);
        }
        (t, f)
    }

    fn proposal(t: &TraceFacts, f: &FileFacts, target: u32) -> Proposal {
        relaxed_proposal(t, f, target, Vec::new())
    }

    fn relaxed_proposal(
        t: &TraceFacts,
        f: &FileFacts,
        target: u32,
        relaxed: Vec<Relaxed>,
    ) -> Proposal {
        let table = SyscallTable::built_in();
        let observed = ["read", "write", "openat", "exit_group"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let seccomp = crate::suggest::suggest(&observed, &table);
        let command = ["/usr/bin/dd".to_owned(), "if=/dev/zero".to_owned()];
        let exit = ExitStatusInfo::exited(0);
        propose(
            &WholeFacts {
                command: &command,
                exit: &exit,
                stopped: false,
                trace: t,
                files: f,
                non_native_abi: false,
                seccomp: &seccomp,
                processes: 1,
            },
            &WholeOptions {
                target,
                error_number: None,
                relaxed,
            },
        )
    }

    fn value(p: &Proposal, table: &str, key: &str) -> (Verdict, Option<SettingValue>) {
        let s = p
            .get(table, key)
            .unwrap_or_else(|| panic!("{table}.{key} missing"));
        (s.verdict, s.value.clone())
    }

    fn set(v: SettingValue) -> (Verdict, Option<SettingValue>) {
        (Verdict::Set, Some(v))
    }

    fn list(items: &[&str]) -> SettingValue {
        SettingValue::List(items.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn a_workload_that_needs_nothing_gets_everything_locked() {
        let (t, f) = dd();
        let p = proposal(&t, &f, 252);
        let on = set(SettingValue::Bool(true));
        assert_eq!(
            value(&p, "service", "type"),
            set(SettingValue::Text("oneshot".into()))
        );
        assert_eq!(
            value(&p, "service", "dynamic_user"),
            (Verdict::Suggested, Some(SettingValue::Bool(true))),
            "a trace as root cannot prove it"
        );
        assert_eq!(value(&p, "capabilities", "bounding"), set(list(&[])));
        assert_eq!(
            value(&p, "filesystem", "protect_system"),
            set(SettingValue::Text("strict".into()))
        );
        assert!(p.get("filesystem", "read_write_paths").is_none());
        for (table, key) in [
            ("capabilities", "no_new_privileges"),
            ("seccomp", "lock_personality"),
            ("seccomp", "memory_deny_write_execute"),
            ("seccomp", "restrict_realtime"),
            ("seccomp", "restrict_suid_sgid"),
            ("filesystem", "private_tmp"),
            ("filesystem", "protect_home"),
            ("filesystem", "private_devices"),
            ("filesystem", "protect_kernel_tunables"),
            ("filesystem", "protect_kernel_modules"),
            ("filesystem", "protect_kernel_logs"),
            ("filesystem", "protect_control_groups"),
            ("filesystem", "protect_clock"),
            ("network", "private_network"),
            ("namespaces", "restrict_namespaces"),
            ("namespaces", "private_ipc"),
            ("namespaces", "private_users"),
            ("namespaces", "protect_hostname"),
        ] {
            assert_eq!(value(&p, table, key), on, "{table}.{key}");
        }
        assert_eq!(
            value(&p, "filesystem", "protect_proc"),
            set(SettingValue::Text("invisible".into()))
        );
        assert_eq!(
            value(&p, "filesystem", "proc_subset"),
            set(SettingValue::Text("pid".into()))
        );
        assert_eq!(
            value(&p, "network", "restrict_address_families"),
            set(list(&[]))
        );
        let text = p.to_toml();
        assert!(
            text.contains("# no socket() seen\nprivate_network = true\n"),
            "{text}"
        );
        assert!(text.contains("\n# error_number = \"EPERM\"\n"), "{text}");
    }

    #[test]
    fn the_rendered_policy_loads_for_old_and_new_targets() {
        let (t, f) = dd();
        for target in [230, 245, 252, 257] {
            let text = proposal(&t, &f, target).to_toml();
            let loaded = crate::load_policy_text("whole.toml", &text, target);
            assert!(
                loaded.is_ok(),
                "systemd {target}:\n{text}\n{:?}",
                loaded.err()
            );
            assert!(
                text.lines()
                    .all(|l| l.len() <= COMMENT_WIDTH || !l.starts_with('#')),
                "{text}"
            );
        }
        // systemd 245 lacks ProtectProc= and ProcSubset= (247): said, not written.
        let text = proposal(&t, &f, 245).to_toml();
        assert!(
            text.contains(
                "# protect_proc = \"invisible\" left out: it needs systemd 247, the target is 245"
            ),
            "{text}"
        );
        assert!(!text.contains("\nprotect_proc"), "{text}");
        // and an empty address family list (249): the least it can write is AF_UNIX.
        assert!(
            text.contains("\nrestrict_address_families = [\"AF_UNIX\"]\n"),
            "{text}"
        );
    }

    #[test]
    fn writes_become_writable_directories_and_the_rest_follows() {
        let (mut t, mut f) = dd();
        for p in [
            "/var/lib/app/db",
            "/var/lib/app/db-journal",
            "/var/lib/app/sub/x",
            "/tmp/scratch",
        ] {
            t.changed.insert(p.to_owned());
        }
        t.opened.insert(
            "/var/lib/app/db".to_owned(),
            OpenMode {
                read: true,
                write: true,
                directory: false,
            },
        );
        f.stats.insert("/var".to_owned(), file(0, 0, 0o40755));
        f.stats.insert("/var/lib".to_owned(), file(0, 0, 0o40755));
        f.stats
            .insert("/var/lib/app".to_owned(), file(0, 0, 0o40755));
        let p = proposal(&t, &f, 252);
        assert_eq!(
            value(&p, "filesystem", "read_write_paths"),
            set(list(&["/var/lib/app"]))
        );
        assert_eq!(
            value(&p, "filesystem", "private_tmp"),
            set(SettingValue::Bool(true))
        );
        assert_eq!(
            p.get("service", "dynamic_user").unwrap().verdict,
            Verdict::Suggested
        );
        assert_eq!(
            p.get("service", "umask").unwrap().verdict,
            Verdict::Suggested
        );
        let text = p.to_toml();
        assert!(text.contains("\n# dynamic_user = true\n"), "{text}");
        assert!(
            text.contains("\nread_write_paths = [\"/var/lib/app\"]\n"),
            "{text}"
        );

        // A file in /tmp it did not create: no private /tmp, and /tmp becomes writable.
        t.looked_up.insert("/tmp/.X11-unix/X0".to_owned());
        let p = proposal(&t, &f, 252);
        assert_eq!(
            p.get("filesystem", "private_tmp").unwrap().verdict,
            Verdict::NotSet
        );
        assert_eq!(
            value(&p, "filesystem", "read_write_paths"),
            set(list(&["/tmp", "/var/lib/app"]))
        );
    }

    #[test]
    fn what_the_calls_need_is_left_open() {
        let (mut t, f) = dd();
        t.socket_families
            .extend(["AF_INET".to_owned(), "AF_UNIX".to_owned()]);
        t.capabilities.insert(
            "CAP_NET_BIND_SERVICE".into(),
            "bind(3, {sa_family=AF_INET, sin_port=htons(80)}, 16)".into(),
        );
        t.write_execute_memory =
            Some("mprotect(0x7f, 4096, PROT_READ|PROT_WRITE|PROT_EXEC)".into());
        t.namespaces
            .insert("user".into(), "unshare(CLONE_NEWUSER)".into());
        t.opened.insert("/dev/sda".into(), OpenMode::default());
        t.opened
            .insert("/proc/1/status".into(), OpenMode::default());
        t.opened.insert("/proc/meminfo".into(), OpenMode::default());
        let p = proposal(&t, &f, 252);
        for (table, key) in [
            ("network", "private_network"),
            ("seccomp", "memory_deny_write_execute"),
            ("filesystem", "private_devices"),
            ("filesystem", "protect_clock"),
            ("filesystem", "protect_proc"),
            ("filesystem", "proc_subset"),
            ("namespaces", "private_users"),
        ] {
            assert_eq!(
                p.get(table, key).unwrap().verdict,
                Verdict::NotSet,
                "{table}.{key}"
            );
        }
        assert_eq!(
            value(&p, "network", "restrict_address_families"),
            set(list(&["AF_INET", "AF_UNIX"]))
        );
        assert_eq!(
            value(&p, "capabilities", "bounding"),
            set(list(&["CAP_NET_BIND_SERVICE"]))
        );
        assert_eq!(
            value(&p, "namespaces", "restrict_namespaces"),
            set(list(&["user"]))
        );
        let text = p.to_toml();
        assert!(
            text.contains("# private_network not set: it opened AF_INET sockets\n"),
            "{text}"
        );
        assert!(text.contains("# memory_deny_write_execute not set: it made mprotect(0x7f, 4096,\n# PROT_READ|PROT_WRITE|PROT_EXEC)\n"), "{text}");
        assert!(
            text.contains(
                "# proc_subset not set: it read /proc/meminfo, which proc_subset = \"pid\" hides\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn modes_only_root_s_capabilities_pass_need_them() {
        let (mut t, mut f) = dd();
        t.opened.insert(
            "/etc/polkit-1/rules.d".into(),
            OpenMode {
                read: true,
                write: false,
                directory: true,
            },
        );
        t.looked_up.insert("/etc/polkit-1/rules.d/49.rules".into());
        t.opened.insert(
            "/etc/shadow".into(),
            OpenMode {
                read: true,
                ..OpenMode::default()
            },
        );
        f.stats.insert("/etc/polkit-1".into(), file(0, 0, 0o40755));
        f.stats
            .insert("/etc/polkit-1/rules.d".into(), file(105, 0, 0o40700));
        f.stats.insert("/etc/shadow".into(), file(0, 42, 0o100640));
        let perms = permissions(&t, &f);
        assert_eq!(
            perms.root_needs.into_iter().collect::<Vec<_>>(),
            [(
                "CAP_DAC_READ_SEARCH",
                "list /etc/polkit-1/rules.d (owner 105, group 0, mode 0700)".to_owned()
            )]
        );
        assert_eq!(
            perms.other_denied.as_deref(),
            Some("list /etc/polkit-1/rules.d (owner 105, group 0, mode 0700)")
        );
        assert_eq!(
            perms.foreign_owner.as_deref(),
            Some("it used /etc/polkit-1/rules.d, owned by 105:0")
        );
        let p = proposal(&t, &f, 252);
        assert_eq!(
            value(&p, "capabilities", "bounding"),
            set(list(&["CAP_DAC_READ_SEARCH"]))
        );
        assert_eq!(
            p.get("namespaces", "private_users").unwrap().verdict,
            Verdict::NotSet
        );
        assert_eq!(
            p.get("service", "dynamic_user").unwrap().verdict,
            Verdict::Suggested
        );

        // Writing a directory root does not own, outside its group.
        let (mut t, mut f) = dd();
        t.changed.insert("/srv/other/x".into());
        f.stats.insert("/srv".into(), file(0, 0, 0o40755));
        f.stats
            .insert("/srv/other".into(), file(1000, 1000, 0o40755));
        let perms = permissions(&t, &f);
        assert_eq!(
            perms.root_needs.keys().collect::<Vec<_>>(),
            [&"CAP_DAC_OVERRIDE"]
        );
    }

    #[test]
    fn a_service_stopped_by_sandgen_is_long_running() {
        let (t, f) = dd();
        let table = SyscallTable::built_in();
        let seccomp = crate::suggest::suggest(&BTreeSet::new(), &table);
        let exit = ExitStatusInfo::killed_by(15, false);
        let command = ["/usr/bin/dd".to_owned()];
        let whole = WholeFacts {
            command: &command,
            exit: &exit,
            stopped: true,
            trace: &t,
            files: &f,
            non_native_abi: true,
            seccomp: &seccomp,
            processes: 1,
        };
        let options = WholeOptions {
            target: 252,
            error_number: Some("EPERM".into()),
            relaxed: Vec::new(),
        };
        let p = propose(&whole, &options);
        assert_eq!(
            value(&p, "service", "type"),
            set(SettingValue::Text("exec".into()))
        );
        assert_eq!(
            value(&p, "seccomp", "error_number"),
            set(SettingValue::Text("EPERM".into()))
        );
        assert_eq!(
            p.get("seccomp", "architectures").unwrap().verdict,
            Verdict::NotSet
        );
        let p = propose(
            &whole,
            &WholeOptions {
                target: 239,
                ..options
            },
        );
        assert_eq!(
            value(&p, "service", "type"),
            set(SettingValue::Text("simple".into()))
        );
    }

    fn failed(call: &str, subject: &str, errno: &str) -> FailedCall {
        FailedCall {
            call: call.to_owned(),
            subject: Some(subject.to_owned()),
            errno: errno.to_owned(),
            evidence: format!("{call}(\"{subject}\")"),
        }
    }

    #[test]
    fn failures_under_the_proposal_name_the_setting_to_relax() {
        let traced = TraceFacts {
            failed: vec![failed("openat", "/usr/lib/locale/locale-archive", "ENOENT")],
            ..TraceFacts::default()
        };
        let confined = TraceFacts {
            pids: [7].into(),
            failed: vec![
                failed("openat", "/usr/lib/locale/locale-archive", "ENOENT"),
                failed("openat", "/proc/meminfo", "ENOENT"),
                failed("openat", "/var/lib/app/db", "EROFS"),
                failed("socket", "AF_INET6", "EAFNOSUPPORT"),
                failed("openat", "/proc/7/status", "ENOENT"),
                failed("openat", "/etc/secret", "EACCES"),
                failed("mkdir", "/var/lib/app/sub", "EROFS"),
            ],
            ..TraceFacts::default()
        };
        let blamed = blame(&traced, &confined);
        assert_eq!(
            blamed.iter().map(Relaxed::setting).collect::<Vec<_>>(),
            [
                "read_write_paths += /var/lib/app",
                "restrict_address_families += AF_INET6",
                "bounding += CAP_DAC_READ_SEARCH",
                "proc_subset unset"
            ]
        );
        assert_eq!(blamed[0].evidence, "openat(\"/var/lib/app/db\") = EROFS");

        let (t, f) = dd();
        let p = relaxed_proposal(&t, &f, 252, blamed);
        assert_eq!(
            value(&p, "filesystem", "read_write_paths"),
            set(list(&["/var/lib/app"]))
        );
        assert_eq!(
            value(&p, "capabilities", "bounding"),
            set(list(&["CAP_DAC_READ_SEARCH"]))
        );
        assert_eq!(
            value(&p, "network", "restrict_address_families"),
            set(list(&["AF_INET6"]))
        );
        for (table, key) in [
            ("network", "private_network"),
            ("namespaces", "private_users"),
            ("filesystem", "proc_subset"),
        ] {
            assert_eq!(
                p.get(table, key).unwrap().verdict,
                Verdict::NotSet,
                "{table}.{key}"
            );
        }
        assert_eq!(
            p.get("filesystem", "proc_subset").unwrap().why,
            "a run under the suggested policy failed with openat(\"/proc/meminfo\") = ENOENT"
        );
        let text = p.to_toml();
        assert!(
            crate::load_policy_text("whole.toml", &text, 252).is_ok(),
            "{text}"
        );
    }

    #[test]
    fn calls_refused_by_a_setting_point_at_it() {
        let call = |call: &str, evidence: &str, errno: &str| FailedCall {
            call: call.to_owned(),
            subject: None,
            errno: errno.to_owned(),
            evidence: evidence.to_owned(),
        };
        let confined = TraceFacts {
            failed: vec![
                call("unshare", "unshare(CLONE_NEWUSER)", "EPERM"),
                call(
                    "mprotect",
                    "mprotect(0x7f, 4096, PROT_READ|PROT_EXEC)",
                    "EPERM",
                ),
                call("fchmodat", "fchmodat(AT_FDCWD</x>, \"f\", 04755)", "EPERM"),
                call(
                    "bind",
                    "bind(3, {sa_family=AF_INET, sin_port=htons(80)}, 16)",
                    "EACCES",
                ),
                call("setgroups", "setgroups(0, [])", "EPERM"),
                call("write", "write(1, \"x\", 1)", "EPIPE"),
            ],
            ..TraceFacts::default()
        };
        assert_eq!(
            blame(&TraceFacts::default(), &confined)
                .iter()
                .map(Relaxed::setting)
                .collect::<Vec<_>>(),
            [
                "restrict_namespaces allows user",
                "memory_deny_write_execute unset",
                "restrict_suid_sgid unset",
                "bounding += CAP_NET_BIND_SERVICE",
                "bounding += CAP_SETGID"
            ]
        );
    }

    #[test]
    fn every_key_written_is_in_the_directive_table() {
        let (t, f) = dd();
        for s in proposal(&t, &f, 257).settings {
            assert!(
                directives::find(s.table, s.key).is_some(),
                "{}.{}",
                s.table,
                s.key
            );
        }
    }
}
