//! What a trace showed, beyond the names of the calls: the facts a whole sandbox is built
//! from.
//!
//! strace prints every argument of every call, decoded: the path and flags of an `openat`,
//! the family of a `socket`, the protection bits of an `mmap`, the namespace flags of an
//! `unshare`. [`FactsCollector`] reads complete calls ([`Call`], put together from strace's
//! `<unfinished ...>` and `<... resumed>` halves by the parser) and keeps what decides a
//! sandbox setting in a [`TraceFacts`]:
//!
//! - the files: which paths were opened, and how (read, write, directory), which were
//!   changed (created, removed, renamed, chmod'ed), and which attempts to change one failed;
//! - the network: the socket families opened, ports below 1024 bound, raw sockets;
//! - memory mapped writable and executable (what `MemoryDenyWriteExecute=` refuses);
//! - namespaces created or joined, personality changes, realtime scheduling, set-user-ID
//!   modes, SysV IPC objects of others, host name, clock, kernel modules and log;
//! - calls that need a capability, each with the call that showed it.
//!
//! Paths are absolute where the trace allows it. With strace's `-y` (`--decode-fds=path`)
//! every file descriptor argument carries its path (`3</etc/passwd>`, `AT_FDCWD</srv>`) and
//! so does the descriptor an `openat` returns, already resolved through symbolic links: a
//! relative path is joined to its directory descriptor's path, and an opened file is known
//! by the path the kernel resolved. Without `-y`, relative paths cannot be placed and are
//! only counted ([`TraceFacts::unresolved_paths`]).
//!
//! Everything here is pure: a line of text in, a fact out. What the facts mean for a policy
//! is decided in [`crate::suggest::whole`].

use std::collections::{BTreeMap, BTreeSet};

/// How long an evidence string may be: the call, abbreviated.
const EVIDENCE_LEN: usize = 96;
/// How many distinct failed calls [`TraceFacts::failed`] keeps.
const MAX_FAILED: usize = 2000;

/// How a path was opened (what any successful `open`/`openat`/`creat` of it asked for).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OpenMode {
    /// Opened for reading (`O_RDONLY` or `O_RDWR`).
    pub read: bool,
    /// Opened for writing, creating or truncating.
    pub write: bool,
    /// Opened as a directory (`O_DIRECTORY`), to list it.
    pub directory: bool,
}

/// What a trace showed. Every path is absolute and normalised (no `.`, `..` or `//`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TraceFacts {
    /// Every process and thread id in the trace.
    pub pids: BTreeSet<u32>,
    /// Paths opened successfully, by the path the kernel resolved (with `-y`).
    pub opened: BTreeMap<String, OpenMode>,
    /// Paths changed successfully: created, written, truncated, removed, renamed (both
    /// names), linked, or had their mode, owner, times or attributes changed.
    pub changed: BTreeSet<String>,
    /// Attempts to create or change a path that failed, with the errno name.
    pub failed_changes: BTreeMap<String, String>,
    /// Paths looked up successfully without being opened (`stat`, `access`, `readlink`,
    /// `execve`, `chdir`, an `AF_UNIX` address connected to).
    pub looked_up: BTreeSet<String>,
    /// Programs executed successfully.
    pub executed: BTreeSet<String>,
    /// Relative paths that could not be placed (a trace without `-y`).
    pub unresolved_paths: usize,
    /// Address families of the sockets opened successfully (`AF_UNIX`, `AF_INET`, ...).
    pub socket_families: BTreeSet<String>,
    /// Filesystem paths of `AF_UNIX` sockets connected to or bound.
    pub unix_socket_paths: BTreeSet<String>,
    /// Memory mapped (or made) writable and executable, or executable after the fact: the
    /// first call that did it.
    pub write_execute_memory: Option<String>,
    /// Namespace types created or joined (`user`, `net`, `mnt`, `pid`, `uts`, `ipc`,
    /// `cgroup`), each with the first call that did it.
    pub namespaces: BTreeMap<String, String>,
    /// A `personality()` call that changed the execution domain.
    pub personality: Option<String>,
    /// A request for realtime scheduling (`SCHED_FIFO`, `SCHED_RR`, `SCHED_DEADLINE`).
    pub realtime: Option<String>,
    /// A file or directory given a set-user-ID or set-group-ID mode.
    pub suid_sgid: Option<String>,
    /// A SysV IPC object or POSIX message queue it used without creating it.
    pub shared_ipc: Option<String>,
    /// A host or domain name change.
    pub hostname: Option<String>,
    /// A clock change or adjustment (`@clock` calls).
    pub clock: Option<String>,
    /// A kernel module loaded or removed.
    pub kernel_modules: Option<String>,
    /// The kernel log read with syslog(2).
    pub kernel_log: Option<String>,
    /// A mount-table change (`mount`, `umount2`, `pivot_root`, the new mount API).
    pub mounts: Option<String>,
    /// Capabilities its calls needed (`CAP_NET_BIND_SERVICE`, ...), each with the first
    /// call that showed it. Not the capabilities that only file permissions reveal: see
    /// [`crate::suggest::whole`].
    pub capabilities: BTreeMap<String, String>,
    /// Calls that failed, each distinct call, subject and errno once (at most a few
    /// thousand), in the order seen: what a run in a sandbox is compared on.
    pub failed: Vec<FailedCall>,
}

/// A call that failed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct FailedCall {
    /// The call's name.
    pub call: String,
    /// What it was about: the path (absolute, when it could be placed), or for `socket` the
    /// address family; `None` for other calls.
    pub subject: Option<String>,
    /// The errno name.
    pub errno: String,
    /// The call, abbreviated.
    pub evidence: String,
}

/// A call's outcome as strace wrote it after ` = `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It returned this value (a number as written: `3`, `0x7f..`), and for a file
    /// descriptor its path when strace decoded it (`-y`).
    Returned {
        /// The value as written.
        value: String,
        /// The returned descriptor's path (`3</etc/passwd>` -> `/etc/passwd`).
        path: Option<String>,
    },
    /// It failed with this errno name.
    Failed(String),
    /// strace did not see it return (`= ?`: `exit_group`, a killed process).
    Unknown,
}

impl Outcome {
    fn ok(&self) -> bool {
        matches!(self, Outcome::Returned { .. })
    }
}

/// One complete call: name, top-level arguments as written, outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call<'a> {
    /// The process or thread that made it.
    pub pid: Option<u32>,
    /// The call's name.
    pub name: &'a str,
    /// The arguments, split at top-level commas, trimmed.
    pub args: Vec<&'a str>,
    /// How it ended.
    pub outcome: Outcome,
}

impl<'a> Call<'a> {
    /// Parse `(ARGS) = RET` (the text after a call's name). `None` when the parentheses do
    /// not close.
    pub fn parse(pid: Option<u32>, name: &'a str, after_name: &'a str) -> Option<Self> {
        let inner = after_name.strip_prefix('(')?;
        let close = closing_paren(inner)?;
        let args = split_args(&inner[..close]);
        let outcome = parse_outcome(&inner[close + 1..]);
        Some(Call {
            pid,
            name,
            args,
            outcome,
        })
    }

    fn arg(&self, n: usize) -> &'a str {
        self.args.get(n).copied().unwrap_or("")
    }

    fn evidence(&self) -> String {
        let mut text = format!("{}({})", self.name, self.args.join(", "));
        if text.len() > EVIDENCE_LEN {
            let mut cut = EVIDENCE_LEN - 4;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str("...)");
        }
        text
    }
}

/// Collects [`TraceFacts`] from complete calls.
#[derive(Debug, Default)]
pub struct FactsCollector {
    facts: TraceFacts,
    /// SysV IPC ids and message queues the traced processes created.
    created_ipc: BTreeSet<String>,
    /// Each process's working directory, as its last `AT_FDCWD</path>` or `chdir` said.
    cwd: BTreeMap<u32, String>,
    /// The process of the call being read.
    current: Option<u32>,
    /// The (call, subject, errno) of [`TraceFacts::failed`].
    seen_failures: BTreeSet<(String, Option<String>, String)>,
}

impl FactsCollector {
    /// A collector that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Note a process id that appeared in the trace.
    pub fn pid(&mut self, pid: u32) {
        self.facts.pids.insert(pid);
    }

    /// Read one complete call.
    pub fn call(&mut self, call: &Call<'_>) {
        self.current = call.pid;
        if let Some(pid) = call.pid {
            self.facts.pids.insert(pid);
            if let Some(cwd) = call.args.iter().find_map(|a| {
                a.strip_prefix("AT_FDCWD")
                    .filter(|p| p.starts_with('<'))
                    .and_then(fd_path)
            }) {
                self.cwd.insert(pid, cwd);
            }
        }
        let ok = call.outcome.ok();
        if let Outcome::Failed(errno) = &call.outcome {
            self.failed(call, errno);
        }
        match call.name {
            "open" => self.open(call, None, call.arg(0), call.arg(1), call.arg(2)),
            "openat" => self.open(
                call,
                Some(call.arg(0)),
                call.arg(1),
                call.arg(2),
                call.arg(3),
            ),
            "openat2" => {
                let how = call.arg(2);
                let flags = field(how, "flags").unwrap_or("");
                let mode = field(how, "mode").unwrap_or("");
                self.open(call, Some(call.arg(0)), call.arg(1), flags, mode);
            }
            "creat" => self.open(
                call,
                None,
                call.arg(0),
                "O_CREAT|O_WRONLY|O_TRUNC",
                call.arg(1),
            ),
            "mkdir" | "rmdir" | "unlink" | "truncate" | "utime" | "utimes" | "setxattr"
            | "lsetxattr" | "removexattr" | "lremovexattr" => {
                self.change(call, None, call.arg(0));
                if call.name == "mkdir" {
                    self.check_mode(call, call.arg(1));
                }
            }
            "mkdirat" | "unlinkat" | "futimesat" => {
                self.change(call, Some(call.arg(0)), call.arg(1));
                if call.name == "mkdirat" {
                    self.check_mode(call, call.arg(2));
                }
            }
            "utimensat" => {
                if call.arg(1) == "NULL" {
                    self.change_fd(call, call.arg(0));
                } else {
                    self.change(call, Some(call.arg(0)), call.arg(1));
                }
            }
            "mknod" | "mknodat" => {
                let (dir, path, mode) = if call.name == "mknod" {
                    (None, call.arg(0), call.arg(1))
                } else {
                    (Some(call.arg(0)), call.arg(1), call.arg(2))
                };
                self.change(call, dir, path);
                self.check_mode(call, mode);
                if ok && (mode.contains("S_IFCHR") || mode.contains("S_IFBLK")) {
                    self.capability("CAP_MKNOD", call);
                }
            }
            "rename" | "link" => {
                self.change(call, None, call.arg(0));
                self.change(call, None, call.arg(1));
            }
            "renameat" | "renameat2" | "linkat" => {
                if call.name != "linkat" {
                    self.change(call, Some(call.arg(0)), call.arg(1));
                }
                self.change(call, Some(call.arg(2)), call.arg(3));
            }
            "symlink" => self.change(call, None, call.arg(1)),
            "symlinkat" => self.change(call, Some(call.arg(1)), call.arg(2)),
            "chmod" => {
                self.change(call, None, call.arg(0));
                self.check_mode(call, call.arg(1));
            }
            "fchmodat" | "fchmodat2" => {
                self.change(call, Some(call.arg(0)), call.arg(1));
                self.check_mode(call, call.arg(2));
            }
            "fchmod" => {
                self.change_fd(call, call.arg(0));
                self.check_mode(call, call.arg(1));
            }
            "chown" | "lchown" => {
                self.change(call, None, call.arg(0));
                self.chown(call, call.arg(1), call.arg(2));
            }
            "fchownat" => {
                if call.arg(1) == "\"\"" {
                    self.change_fd(call, call.arg(0));
                } else {
                    self.change(call, Some(call.arg(0)), call.arg(1));
                }
                self.chown(call, call.arg(2), call.arg(3));
            }
            "fchown" => {
                self.change_fd(call, call.arg(0));
                self.chown(call, call.arg(1), call.arg(2));
            }
            "ftruncate" | "fsetxattr" | "fremovexattr" => self.change_fd(call, call.arg(0)),
            "chdir" => {
                self.look_up(call, None, call.arg(0));
                if let (true, Some(pid)) = (ok, call.pid) {
                    if let Some(dir) = self.resolve(None, call.arg(0)) {
                        self.cwd.insert(pid, dir);
                    }
                }
            }
            "fchdir" => {
                if let (true, Some(pid), Some(dir)) = (ok, call.pid, fd_path(call.arg(0))) {
                    self.cwd.insert(pid, dir);
                }
            }
            "stat" | "lstat" | "access" | "readlink" | "statfs" | "getxattr" | "lgetxattr"
            | "listxattr" | "llistxattr" => self.look_up(call, None, call.arg(0)),
            "newfstatat" | "fstatat64" | "statx" | "faccessat" | "faccessat2" | "readlinkat"
            | "name_to_handle_at"
                if !call.arg(1).is_empty() && call.arg(1) != "\"\"" =>
            {
                self.look_up(call, Some(call.arg(0)), call.arg(1));
            }
            "execve" => {
                if let Some(path) = self.resolve(None, call.arg(0)) {
                    if ok || call.outcome == Outcome::Unknown {
                        self.facts.executed.insert(path.clone());
                        self.facts.looked_up.insert(path);
                    }
                }
            }
            "execveat" => {
                if let Some(path) = self.resolve(Some(call.arg(0)), call.arg(1)) {
                    if ok || call.outcome == Outcome::Unknown {
                        self.facts.executed.insert(path.clone());
                        self.facts.looked_up.insert(path);
                    }
                }
            }
            "socket" if ok => {
                let family = call.arg(0);
                self.facts.socket_families.insert(family.to_owned());
                if call.arg(1).starts_with("SOCK_RAW") || family == "AF_PACKET" {
                    self.capability("CAP_NET_RAW", call);
                }
            }
            "socketpair" if ok => {
                self.facts.socket_families.insert(call.arg(0).to_owned());
            }
            "bind" => self.bind(call),
            "connect" => {
                if let Some(path) = unix_address(call.arg(1)) {
                    if let Some(path) = self.place(None, &path) {
                        self.facts.unix_socket_paths.insert(path.clone());
                        if ok {
                            self.facts.looked_up.insert(path);
                        }
                    }
                }
            }
            "mmap" | "mmap2" => {
                let prot = call.arg(2);
                if has_flag(prot, "PROT_WRITE") && has_flag(prot, "PROT_EXEC") {
                    self.first(|f| &mut f.write_execute_memory, call);
                }
            }
            "mprotect" | "pkey_mprotect" if has_flag(call.arg(2), "PROT_EXEC") => {
                self.first(|f| &mut f.write_execute_memory, call);
            }
            "shmat" if has_flag(call.arg(2), "SHM_EXEC") => {
                self.first(|f| &mut f.write_execute_memory, call);
            }
            "unshare" => self.namespaces(call, call.arg(0)),
            "setns" => self.namespaces(call, call.arg(1)),
            "clone" => {
                let flags = call
                    .args
                    .iter()
                    .find_map(|a| a.strip_prefix("flags="))
                    .unwrap_or("");
                self.namespaces(call, flags);
            }
            "clone3" => {
                let flags = field(call.arg(0), "flags").unwrap_or("");
                self.namespaces(call, flags);
            }
            "personality" => {
                let persona = call.arg(0);
                if !matches!(persona, "0xffffffff" | "PER_LINUX" | "0") {
                    self.first(|f| &mut f.personality, call);
                }
            }
            "sched_setscheduler" | "sched_setattr" => {
                let text = call.args.join(",");
                if ["SCHED_FIFO", "SCHED_RR", "SCHED_DEADLINE"]
                    .iter()
                    .any(|p| text.contains(p))
                {
                    self.first(|f| &mut f.realtime, call);
                }
            }
            "sethostname" | "setdomainname" => {
                self.first(|f| &mut f.hostname, call);
                if ok {
                    self.capability("CAP_SYS_ADMIN", call);
                }
            }
            "settimeofday" | "clock_settime" | "clock_settime64" | "adjtimex" | "clock_adjtime"
            | "clock_adjtime64" => {
                self.first(|f| &mut f.clock, call);
                let sets = match call.name {
                    "adjtimex" => !call.arg(0).contains("modes=0,"),
                    "clock_adjtime" | "clock_adjtime64" => !call.arg(1).contains("modes=0,"),
                    _ => true,
                };
                if ok && sets {
                    self.capability("CAP_SYS_TIME", call);
                }
            }
            "init_module" | "finit_module" | "delete_module" => {
                self.first(|f| &mut f.kernel_modules, call);
                if ok {
                    self.capability("CAP_SYS_MODULE", call);
                }
            }
            "syslog" => {
                self.first(|f| &mut f.kernel_log, call);
                if ok {
                    self.capability("CAP_SYSLOG", call);
                }
            }
            "mount" | "umount" | "umount2" | "pivot_root" | "fsopen" | "fsmount" | "move_mount"
            | "open_tree" | "mount_setattr" => {
                self.first(|f| &mut f.mounts, call);
                if ok {
                    self.capability("CAP_SYS_ADMIN", call);
                }
            }
            "chroot" if ok => self.capability("CAP_SYS_CHROOT", call),
            "setuid" | "setreuid" | "setresuid" | "setfsuid" if ok && other_ids(call) => {
                self.capability("CAP_SETUID", call);
            }
            "setgid" | "setregid" | "setresgid" | "setfsgid" if ok && other_ids(call) => {
                self.capability("CAP_SETGID", call);
            }
            "setgroups" if ok => self.capability("CAP_SETGID", call),
            "iopl" | "ioperm" if ok => self.capability("CAP_SYS_RAWIO", call),
            "reboot" if ok => self.capability("CAP_SYS_BOOT", call),
            "shmget" | "semget" | "msgget" => {
                let key = call.arg(0);
                let flags = call.args.last().copied().unwrap_or("");
                if ok {
                    if let Outcome::Returned { value, .. } = &call.outcome {
                        if key == "IPC_PRIVATE" || has_flag(flags, "IPC_CREAT") {
                            self.created_ipc.insert(format!("{}:{value}", call.name));
                        } else if !self.created_ipc.contains(&format!("{}:{value}", call.name)) {
                            self.first(|f| &mut f.shared_ipc, call);
                        }
                    }
                }
            }
            "mq_open" if ok => {
                if !has_flag(call.arg(1), "O_CREAT") && !self.created_ipc.contains(call.arg(0)) {
                    self.first(|f| &mut f.shared_ipc, call);
                } else {
                    self.created_ipc.insert(call.arg(0).to_owned());
                }
            }
            _ => {}
        }
    }

    fn failed(&mut self, call: &Call, errno: &str) {
        if self.facts.failed.len() >= MAX_FAILED {
            return;
        }
        let subject = if call.name == "socket" {
            Some(call.arg(0).to_owned())
        } else if call.arg(0).starts_with('"') {
            self.resolve(None, call.arg(0))
        } else if call.arg(1).starts_with('"') && !matches!(call.name, "write" | "read") {
            self.resolve(Some(call.arg(0)), call.arg(1))
        } else {
            None
        };
        let failed = FailedCall {
            call: call.name.to_owned(),
            subject,
            errno: errno.to_owned(),
            evidence: call.evidence(),
        };
        if !self.seen_failures.contains(&(
            failed.call.clone(),
            failed.subject.clone(),
            failed.errno.clone(),
        )) {
            self.seen_failures.insert((
                failed.call.clone(),
                failed.subject.clone(),
                failed.errno.clone(),
            ));
            self.facts.failed.push(failed);
        }
    }

    /// What the calls showed.
    pub fn finish(self) -> TraceFacts {
        self.facts
    }

    fn first(&mut self, slot: impl FnOnce(&mut TraceFacts) -> &mut Option<String>, call: &Call) {
        let slot = slot(&mut self.facts);
        if slot.is_none() {
            *slot = Some(call.evidence());
        }
    }

    fn capability(&mut self, cap: &str, call: &Call) {
        self.facts
            .capabilities
            .entry(cap.to_owned())
            .or_insert_with(|| call.evidence());
    }

    /// The absolute, normalised form of a path argument (`"..."`) relative to the directory
    /// argument `dir` (`AT_FDCWD</srv>`, `3</srv>`; `None` for the calls without one, which
    /// are relative to the working directory: the process's last `AT_FDCWD</path>`, which
    /// a trace without `-y` lacks).
    fn resolve(&mut self, dir: Option<&str>, path_arg: &str) -> Option<String> {
        let path = unquote(path_arg)?;
        self.place(dir, &path)
    }

    /// [`FactsCollector::resolve`] of a path already unquoted.
    fn place(&mut self, dir: Option<&str>, path: &str) -> Option<String> {
        if path.starts_with('/') {
            return Some(normalise(path));
        }
        let base = match dir {
            Some(dir) => fd_path(dir),
            None => self.current.and_then(|pid| self.cwd.get(&pid).cloned()),
        };
        match base {
            Some(base) => Some(normalise(&format!("{base}/{path}"))),
            None => {
                self.facts.unresolved_paths += 1;
                None
            }
        }
    }

    fn open(&mut self, call: &Call, dir: Option<&str>, path: &str, flags: &str, mode: &str) {
        let writes = [
            "O_WRONLY",
            "O_RDWR",
            "O_CREAT",
            "O_TRUNC",
            "O_APPEND",
            "O_TMPFILE",
        ]
        .iter()
        .any(|f| has_flag(flags, f));
        let reads = !has_flag(flags, "O_WRONLY") && !has_flag(flags, "O_PATH");
        if has_flag(flags, "O_CREAT") || has_flag(flags, "O_TMPFILE") {
            self.check_mode(call, mode);
        }
        let resolved = self.resolve(dir, path);
        match &call.outcome {
            Outcome::Returned { path: returned, .. } => {
                // The kernel's path of the opened file; a file made with O_TMPFILE, or
                // removed since, is `/dir/#123 (deleted)`: its directory is what matters.
                let opened = returned
                    .as_deref()
                    .map(|p| p.strip_suffix(" (deleted)").unwrap_or(p))
                    .filter(|p| p.starts_with('/'))
                    .map(normalise)
                    .or(resolved);
                let Some(opened) = opened else { return };
                if has_flag(flags, "O_PATH") {
                    self.facts.looked_up.insert(opened);
                    return;
                }
                let mode = self.facts.opened.entry(opened.clone()).or_default();
                mode.read |= reads;
                mode.write |= writes;
                mode.directory |= has_flag(flags, "O_DIRECTORY");
                if writes {
                    self.facts.changed.insert(opened);
                }
            }
            Outcome::Failed(errno) if writes => {
                if let Some(path) = resolved {
                    self.facts
                        .failed_changes
                        .entry(path)
                        .or_insert_with(|| errno.clone());
                }
            }
            _ => {}
        }
    }

    fn change(&mut self, call: &Call, dir: Option<&str>, path: &str) {
        let Some(path) = self.resolve(dir, path) else {
            return;
        };
        match &call.outcome {
            Outcome::Returned { .. } => {
                self.facts.changed.insert(path);
            }
            Outcome::Failed(errno) => {
                self.facts
                    .failed_changes
                    .entry(path)
                    .or_insert_with(|| errno.clone());
            }
            Outcome::Unknown => {}
        }
    }

    fn change_fd(&mut self, call: &Call, fd: &str) {
        if let (Some(path), true) = (fd_path(fd), call.outcome.ok()) {
            if path.starts_with('/') {
                let path = path.strip_suffix(" (deleted)").unwrap_or(&path);
                self.facts.changed.insert(normalise(path));
            }
        }
    }

    fn look_up(&mut self, call: &Call, dir: Option<&str>, path: &str) {
        let Some(path) = self.resolve(dir, path) else {
            return;
        };
        if call.outcome.ok() {
            self.facts.looked_up.insert(path);
        }
    }

    fn check_mode(&mut self, call: &Call, mode: &str) {
        if mode_has_suid_sgid(mode) {
            self.first(|f| &mut f.suid_sgid, call);
        }
    }

    fn chown(&mut self, call: &Call, uid: &str, gid: &str) {
        if call.outcome.ok() && (uid != "-1" || gid != "-1") {
            self.capability("CAP_CHOWN", call);
        }
    }

    fn bind(&mut self, call: &Call) {
        let address = call.arg(1);
        if let Some(path) = unix_address(address) {
            if let Some(path) = self.place(None, &path) {
                self.facts.unix_socket_paths.insert(path.clone());
                match &call.outcome {
                    Outcome::Returned { .. } => {
                        self.facts.changed.insert(path);
                    }
                    Outcome::Failed(errno) => {
                        self.facts.failed_changes.insert(path, errno.clone());
                    }
                    Outcome::Unknown => {}
                }
            }
            return;
        }
        let port = field(address, "sin_port").or_else(|| field(address, "sin6_port"));
        let port = port
            .and_then(|p| p.strip_prefix("htons(")?.strip_suffix(')'))
            .and_then(|p| p.parse::<u16>().ok());
        if let (Some(port), true) = (port, call.outcome.ok()) {
            if (1..1024).contains(&port) {
                self.capability("CAP_NET_BIND_SERVICE", call);
            }
        }
    }

    fn namespaces(&mut self, call: &Call, flags: &str) {
        for (flag, ns) in NAMESPACE_FLAGS {
            if has_flag(flags, flag) {
                self.facts
                    .namespaces
                    .entry((*ns).to_owned())
                    .or_insert_with(|| call.evidence());
            }
        }
    }
}

/// The `CLONE_NEW*` flags and the names `RestrictNamespaces=` gives their types.
pub const NAMESPACE_FLAGS: &[(&str, &str)] = &[
    ("CLONE_NEWCGROUP", "cgroup"),
    ("CLONE_NEWIPC", "ipc"),
    ("CLONE_NEWNET", "net"),
    ("CLONE_NEWNS", "mnt"),
    ("CLONE_NEWPID", "pid"),
    ("CLONE_NEWUSER", "user"),
    ("CLONE_NEWUTS", "uts"),
];

/// Whether a set*id call switches to an id other than root's (0) or "unchanged" (-1):
/// root needs no capability to stay root.
fn other_ids(call: &Call) -> bool {
    call.args.iter().any(|a| !matches!(*a, "0" | "-1"))
}

/// Whether a `|`-separated flag list (`O_WRONLY|O_CREAT|O_CLOEXEC`) has `flag`.
fn has_flag(flags: &str, flag: &str) -> bool {
    flags.split('|').any(|f| f.trim() == flag)
}

/// A mode as strace writes it (`04755`, `S_IFREG|06755`, `0644`): whether it has the
/// set-user-ID or set-group-ID bit.
fn mode_has_suid_sgid(mode: &str) -> bool {
    mode.split('|').any(|part| {
        let part = part.trim();
        if part == "S_ISUID" || part == "S_ISGID" {
            return true;
        }
        part.starts_with('0') && u32::from_str_radix(part, 8).is_ok_and(|bits| bits & 0o6000 != 0)
    })
}

/// The value of `name=` in a decoded structure (`{flags=O_RDONLY, mode=0}`, `{sa_family=...,
/// sin_port=htons(80), ...}`).
fn field<'a>(structure: &'a str, name: &str) -> Option<&'a str> {
    let inner = structure.trim().strip_prefix('{')?.strip_suffix('}')?;
    split_args(inner)
        .into_iter()
        .find_map(|part| part.strip_prefix(name)?.strip_prefix('='))
}

/// The path of an `AF_UNIX` address (`{sa_family=AF_UNIX, sun_path="/run/x"}`); `None` for
/// other families and abstract addresses (`sun_path=@"..."`).
fn unix_address(address: &str) -> Option<String> {
    if field(address, "sa_family")? != "AF_UNIX" {
        return None;
    }
    let path = field(address, "sun_path")?;
    unquote(path).filter(|p| !p.is_empty())
}

/// The path strace decoded for a descriptor argument: `3</etc/passwd>` or
/// `AT_FDCWD</srv>` -> the path; `None` without one (no `-y`).
fn fd_path(arg: &str) -> Option<String> {
    let open = arg.find('<')?;
    let inner = arg[open + 1..].strip_suffix('>')?;
    Some(unescape(inner))
}

/// A quoted string argument without its quotes, strace's escapes undone; `None` when the
/// argument is not a string (`NULL`, an address).
fn unquote(arg: &str) -> Option<String> {
    let inner = arg.strip_prefix('"')?;
    let inner = inner
        .strip_suffix("\"...")
        .or_else(|| inner.strip_suffix('"'))?;
    Some(unescape(inner))
}

/// strace's C-style escapes (`\"`, `\\`, `\n`, `\t`, `\xHH`, octal) undone; bytes that are
/// not UTF-8 become U+FFFD.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'\\' || i + 1 >= bytes.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let e = bytes[i + 1];
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0b),
            b'f' => out.push(0x0c),
            b'x' => {
                let hex: String = text[i..].chars().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(v) if hex.len() == 2 => {
                        out.push(v);
                        i += 2;
                    }
                    _ => out.extend_from_slice(b"\\x"),
                }
            }
            b'0'..=b'7' => {
                let mut value = u32::from(e - b'0');
                let mut n = 1;
                while n < 3 && i < bytes.len() && (b'0'..=b'7').contains(&bytes[i]) {
                    value = value * 8 + u32::from(bytes[i] - b'0');
                    i += 1;
                    n += 1;
                }
                out.push(u8::try_from(value).unwrap_or(u8::MAX));
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An absolute path with `.`, `..` and repeated slashes resolved lexically (`/a/./b/../c` ->
/// `/a/c`; `..` at the root stays at the root).
pub fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Where the argument list that starts right after `(` ends: the `)` at depth 0, outside
/// strings and descriptor paths.
fn closing_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut scan = Scanner::default();
    for (i, c) in text.char_indices() {
        if scan.inside(c) {
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Top-level, comma-separated arguments, trimmed.
fn split_args(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut scan = Scanner::default();
    for (i, c) in text.char_indices() {
        if scan.inside(c) {
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() || !out.is_empty() {
        out.push(last);
    }
    out
}

/// Tracks whether a character stream is inside a string (`"..."`, with `\` escapes), a
/// comment (`/* 35 vars */`) or a decoded descriptor path (`3</a,b>`), where brackets and
/// commas do not count.
#[derive(Default)]
struct Scanner {
    state: ScanState,
    prev: char,
}

#[derive(Default, PartialEq)]
enum ScanState {
    #[default]
    Code,
    String,
    StringEscape,
    FdPath,
    Comment,
}

impl Scanner {
    /// Feed `c`; whether it is inside a string, comment or descriptor path (the delimiters
    /// included).
    fn inside(&mut self, c: char) -> bool {
        let prev = std::mem::replace(&mut self.prev, c);
        match self.state {
            ScanState::Code => match c {
                '"' => self.state = ScanState::String,
                '<' if prev.is_ascii_alphanumeric() => self.state = ScanState::FdPath,
                '*' if prev == '/' => self.state = ScanState::Comment,
                _ => return false,
            },
            ScanState::String => match c {
                '\\' => self.state = ScanState::StringEscape,
                '"' => self.state = ScanState::Code,
                _ => {}
            },
            ScanState::StringEscape => self.state = ScanState::String,
            ScanState::FdPath => {
                if c == '>' {
                    self.state = ScanState::Code;
                }
            }
            ScanState::Comment => {
                if c == '/' && prev == '*' {
                    self.state = ScanState::Code;
                }
            }
        }
        true
    }
}

/// What follows the closing parenthesis: ` = 3</etc/passwd>`, ` = -1 ENOENT (No such file
/// or directory)`, ` = 0x7f12 `, ` = ?`.
fn parse_outcome(text: &str) -> Outcome {
    let Some(rest) = text.trim_start().strip_prefix('=') else {
        return Outcome::Unknown;
    };
    let rest = rest.trim();
    if rest.starts_with('?') || rest.is_empty() {
        return Outcome::Unknown;
    }
    if let Some(errno) = rest.strip_prefix("-1 ") {
        let name = errno.split_whitespace().next().unwrap_or("");
        if name.starts_with('E') {
            return Outcome::Failed(name.to_owned());
        }
    }
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '<')
        .unwrap_or(rest.len());
    let value = rest[..end].to_owned();
    let path = rest[end..]
        .strip_prefix('<')
        .and_then(|p| p.rfind('>').map(|close| unescape(&p[..close])));
    Outcome::Returned { value, path }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Facts from strace lines `PID NAME(ARGS) = RET` (complete calls only).
    fn facts(lines: &str) -> TraceFacts {
        let mut c = FactsCollector::new();
        for line in lines.lines() {
            let (pid, rest) = line.trim().split_once(' ').expect("pid");
            let rest = rest.trim_start();
            let open = rest.find('(').expect("a call");
            let call = Call::parse(pid.parse().ok(), &rest[..open], &rest[open..])
                .unwrap_or_else(|| panic!("not a call: {line}"));
            c.call(&call);
        }
        c.finish()
    }

    #[test]
    fn calls_split_into_arguments_and_outcomes() {
        let line = "(AT_FDCWD</tmp/a,b>, \"x, (y)\", O_RDONLY|O_CLOEXEC) = 3</tmp/a,b/x, (y)>";
        let call = Call::parse(Some(7), "openat", line).unwrap();
        assert_eq!(
            call.args,
            ["AT_FDCWD</tmp/a,b>", "\"x, (y)\"", "O_RDONLY|O_CLOEXEC"]
        );
        assert_eq!(
            call.outcome,
            Outcome::Returned {
                value: "3".into(),
                path: Some("/tmp/a,b/x, (y)".into())
            }
        );
        let failed = Call::parse(
            None,
            "openat",
            "(AT_FDCWD, \"/nope\", O_RDONLY) = -1 ENOENT (No such file or directory)",
        )
        .unwrap();
        assert_eq!(failed.outcome, Outcome::Failed("ENOENT".into()));
        let exit = Call::parse(None, "exit_group", "(0)                     = ?").unwrap();
        assert_eq!(exit.outcome, Outcome::Unknown);
        let execve = Call::parse(
            None,
            "execve",
            "(\"/bin/sh\", [\"sh\", \"-c\"], 0x7ffe /* 35 vars */) = 0",
        )
        .unwrap();
        assert_eq!(execve.args.len(), 3);
        assert_eq!(Call::parse(None, "read", "(3, \"unterminated"), None);
    }

    #[test]
    fn opened_files_are_known_by_the_resolved_path_and_how() {
        let f = facts(
            "\
26078 openat(AT_FDCWD</tmp/wc>, \"/lib/x86_64-linux-gnu/libc.so.6\", O_RDONLY|O_CLOEXEC) = 3</usr/lib/x86_64-linux-gnu/libc.so.6>
26078 openat(AT_FDCWD</tmp/wc/d>, \"f\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</tmp/wc/d/f>
26078 openat(AT_FDCWD</tmp/wc/d>, \"/dev/null\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</dev/null>
26080 openat(AT_FDCWD</etc>, \"polkit-1/rules.d\", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3</etc/polkit-1/rules.d>
26080 openat(AT_FDCWD</>, \"/usr/lib/locale/locale-archive\", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)
26080 openat(AT_FDCWD</>, \"/var/lib/x/../y/db\", O_RDWR|O_CREAT, 0644) = -1 EROFS (Read-only file system)
26081 openat(AT_FDCWD</var/tmp>, \".\", O_RDWR|O_TMPFILE, 0600) = 4</var/tmp/#2883 (deleted)>
",
        );
        assert_eq!(
            f.opened.keys().collect::<Vec<_>>(),
            [
                "/dev/null",
                "/etc/polkit-1/rules.d",
                "/tmp/wc/d/f",
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "/var/tmp/#2883"
            ]
        );
        assert_eq!(
            f.opened["/etc/polkit-1/rules.d"],
            OpenMode {
                read: true,
                write: false,
                directory: true
            }
        );
        assert!(f.opened["/tmp/wc/d/f"].write && !f.opened["/tmp/wc/d/f"].read);
        assert_eq!(
            f.changed.iter().collect::<Vec<_>>(),
            ["/dev/null", "/tmp/wc/d/f", "/var/tmp/#2883"]
        );
        assert_eq!(
            f.failed_changes.iter().collect::<Vec<_>>(),
            [(&"/var/lib/y/db".to_owned(), &"EROFS".to_owned())]
        );
        assert_eq!(f.pids.iter().collect::<Vec<_>>(), [&26078, &26080, &26081]);
        assert_eq!(f.unresolved_paths, 0);
        assert_eq!(
            f.failed
                .iter()
                .map(|c| (c.call.as_str(), c.subject.as_deref(), c.errno.as_str()))
                .collect::<Vec<_>>(),
            [
                ("openat", Some("/usr/lib/locale/locale-archive"), "ENOENT"),
                ("openat", Some("/var/lib/y/db"), "EROFS")
            ]
        );
    }

    #[test]
    fn changes_to_paths_are_placed_in_their_directory() {
        let f = facts(
            "\
1 mkdir(\"e\", 0777) = 0
2 newfstatat(AT_FDCWD</var/lib>, \"x\", {st_mode=S_IFDIR|0755, ...}, 0) = 0
2 rmdir(\"y\") = -1 ENOENT (No such file or directory)
1 mkdirat(AT_FDCWD</srv>, \"e\", 0777) = 0
1 renameat2(AT_FDCWD</tmp/wc/d>, \"f\", AT_FDCWD</tmp/wc/d>, \"g\", RENAME_NOREPLACE) = 0
1 unlinkat(AT_FDCWD</tmp/wc/d>, \"g\", 0) = 0
1 symlinkat(\"/x\", AT_FDCWD</tmp/wc/d>, \"h\") = 0
1 mkdir(\"/var/lib/x\", 0755) = -1 EEXIST (File exists)
1 utimensat(3</var/log/app.log>, NULL, NULL, 0) = 0
1 newfstatat(AT_FDCWD</tmp/wc/d>, \"/usr/bin/mkdir\", {st_mode=S_IFREG|0755, st_size=97552, ...}, 0) = 0
1 newfstatat(3</etc>, \"\", {st_mode=S_IFDIR|0755, ...}, AT_EMPTY_PATH) = 0
1 execve(\"/usr/bin/chmod\", [\"chmod\", \"4755\", \"f\"], 0x563a65c54d68 /* 3 vars */) = 0
1 execve(\"/usr/local/bin/chmod\", [\"chmod\"], 0x5 /* 3 vars */) = -1 ENOENT (No such file or directory)
",
        );
        assert_eq!(
            f.changed.iter().collect::<Vec<_>>(),
            [
                "/srv/e",
                "/tmp/wc/d/f",
                "/tmp/wc/d/g",
                "/tmp/wc/d/h",
                "/var/log/app.log"
            ]
        );
        assert_eq!(f.failed_changes["/var/lib/x"], "EEXIST");
        assert_eq!(
            f.failed_changes["/var/lib/y"], "ENOENT",
            "relative to the working directory an earlier call showed"
        );
        assert_eq!(
            f.unresolved_paths, 1,
            "mkdir(\"e\") before any cwd was seen"
        );
        assert_eq!(
            f.looked_up.iter().collect::<Vec<_>>(),
            ["/usr/bin/chmod", "/usr/bin/mkdir", "/var/lib/x"]
        );
        assert_eq!(f.executed.iter().collect::<Vec<_>>(), ["/usr/bin/chmod"]);
    }

    #[test]
    fn sockets_ports_and_raw_sockets() {
        let f = facts(
            "\
26080 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 3<socket:[771410]>
26080 connect(3<socket:[771410]>, {sa_family=AF_UNIX, sun_path=\"/var/run/nscd/socket\"}, 110) = -1 ENOENT (No such file or directory)
26188 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<socket:[772279]>
26188 bind(3<socket:[772279]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0
26188 bind(4<socket:[772280]>, {sa_family=AF_INET6, sin6_port=htons(8080), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28) = 0
26188 socket(AF_INET6, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = -1 EAFNOSUPPORT (Address family not supported by protocol)
26189 socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) = 5<socket:[1]>
26190 bind(6<socket:[2]>, {sa_family=AF_UNIX, sun_path=\"/run/app/ctl\"}, 110) = 0
",
        );
        assert_eq!(
            f.socket_families.iter().collect::<Vec<_>>(),
            ["AF_INET", "AF_UNIX"]
        );
        assert_eq!(
            f.capabilities.keys().collect::<Vec<_>>(),
            ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]
        );
        assert!(f.capabilities["CAP_NET_BIND_SERVICE"].contains("htons(80)"));
        assert_eq!(
            f.unix_socket_paths.iter().collect::<Vec<_>>(),
            ["/run/app/ctl", "/var/run/nscd/socket"]
        );
        assert!(f.changed.contains("/run/app/ctl"));
    }

    #[test]
    fn memory_namespaces_and_privileged_calls() {
        let f = facts(
            "\
9 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f00
9 mmap(0x7fd9e34a6000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0x26000) = 0x7fd9e34a6000
9 mprotect(0x7f00, 4096, PROT_READ) = 0
9 personality(0xffffffff) = 0 (PER_LINUX)
9 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 10
9 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7fff00, tls=0x7f} => {parent_tid=[11]}, 88) = 11
",
        );
        assert_eq!(
            f,
            TraceFacts {
                pids: [9].into(),
                ..TraceFacts::default()
            },
            "nothing but ordinary mappings and forks"
        );

        let f = facts(
            "\
26188 mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, MAP_SHARED|MAP_ANONYMOUS, -1, 0) = 0x7ff449899000
26224 unshare(CLONE_NEWUTS|CLONE_NEWNET) = 0
26225 clone(child_stack=NULL, flags=CLONE_NEWUSER|CLONE_NEWNS|SIGCHLD) = 30
26225 setgroups(0, []) = 0
26225 setgid(1) = 0
26225 setuid(0) = 0
26225 sched_setscheduler(0, SCHED_FIFO, [1]) = -1 EPERM (Operation not permitted)
26225 fchmodat(AT_FDCWD</tmp/wc/d>, \"f\", 04755) = 0
26225 fchownat(AT_FDCWD</tmp/wc/d>, \"f\", 1, 1, 0) = 0
26225 fchown(3</srv/x>, -1, -1) = 0
26225 personality(PER_LINUX32) = 0
26225 sethostname(\"box\", 3) = 0
26225 adjtimex({modes=0, offset=0, freq=0, ...}) = 0 (TIME_OK)
26225 syslog(10 /* SYSLOG_ACTION_SIZE_BUFFER */) = 16384
26225 shmget(0x1234, 4096, 0600) = 5
26225 shmget(IPC_PRIVATE, 4096, IPC_CREAT|0600) = 6
",
        );
        assert!(f
            .write_execute_memory
            .as_deref()
            .unwrap()
            .contains("PROT_WRITE|PROT_EXEC"));
        assert_eq!(
            f.namespaces.keys().collect::<Vec<_>>(),
            ["mnt", "net", "user", "uts"]
        );
        assert_eq!(
            f.capabilities.keys().collect::<Vec<_>>(),
            ["CAP_CHOWN", "CAP_SETGID", "CAP_SYSLOG", "CAP_SYS_ADMIN"]
        );
        assert_eq!(
            f.capabilities["CAP_CHOWN"],
            "fchownat(AT_FDCWD</tmp/wc/d>, \"f\", 1, 1, 0)"
        );
        assert!(f.realtime.is_some(), "asked for, even though refused");
        assert_eq!(
            f.suid_sgid.as_deref(),
            Some("fchmodat(AT_FDCWD</tmp/wc/d>, \"f\", 04755)")
        );
        assert_eq!(f.personality.as_deref(), Some("personality(PER_LINUX32)"));
        assert!(f.hostname.is_some() && f.clock.is_some() && f.kernel_log.is_some());
        assert_eq!(f.shared_ipc.as_deref(), Some("shmget(0x1234, 4096, 0600)"));
        assert!(f.changed.contains("/srv/x") && f.changed.contains("/tmp/wc/d/f"));
    }

    #[test]
    fn modes_paths_and_escapes() {
        assert!(mode_has_suid_sgid("04755"));
        assert!(mode_has_suid_sgid("S_IFREG|02755"));
        assert!(mode_has_suid_sgid("S_ISUID|0755"));
        assert!(!mode_has_suid_sgid("0755"));
        assert!(!mode_has_suid_sgid("0666"));
        assert_eq!(normalise("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(normalise("/../x"), "/x");
        assert_eq!(unescape("a\\\"b\\\\c\\x41\\n\\101"), "a\"b\\cA\nA");
        assert_eq!(unquote("\"/x\"..."), Some("/x".to_owned()));
        assert_eq!(unquote("NULL"), None);
        assert_eq!(fd_path("AT_FDCWD</srv/a b>"), Some("/srv/a b".to_owned()));
        assert_eq!(fd_path("AT_FDCWD"), None);
        assert_eq!(
            field("{flags=O_RDONLY|O_CLOEXEC, mode=0, resolve=0}", "flags"),
            Some("O_RDONLY|O_CLOEXEC")
        );
    }
}
