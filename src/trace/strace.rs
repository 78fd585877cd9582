//! strace's command line and output, as pure functions.
//!
//! sandgen runs `strace -f -q -o FILE -- CMD`:
//! - `-f` follows every `fork`/`vfork`/`clone`, so the set covers the whole process tree;
//! - `-q` drops "Process N attached" notices, but keeps the `+++ exited with N +++` lines the
//!   exit status is read from (`-qq` would drop those);
//! - `-o FILE` keeps the trace apart from the command's own stderr. With `-f` and `-o`, every
//!   line starts with the PID.
//!
//! Not `-c` (the summary table): it counts a call when it returns, so `exit_group`, `execve`
//! calls that replace the process, and the call a seccomp filter kills never appear in it;
//! and it is only about 20% faster on a syscall-heavy loop (measured here: 14.5 s against
//! 17.4 s for `dd bs=1 count=200000`). The full trace is read line by line, never held in
//! memory. The lines that matter, strace 6.1 on x86_64:
//!
//! ```text
//! 9286  execve("/usr/bin/sh", ["sh", "-c", "ls / | wc -l"], 0x7ffe /* 35 vars */) = 0
//! 9290  close(3 <unfinished ...>
//! 9286  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD <unfinished ...>
//! 9290  <... close resumed>)              = 0
//! 9286  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=9290, ...} ---
//! 9286  exit_group(0)                     = ?
//! 9286  +++ exited with 0 +++
//! 9272  +++ killed by SIGSEGV (core dumped) +++
//! [ Process PID=9300 runs in 32 bit mode. ]
//! ```
//!
//! A syscall strace has no name for is written `syscall_0x1c3(...)` and kept under that name:
//! systemd does not know it either, and the suggestion reports it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead};

use super::facts::{Call, FactsCollector, TraceFacts};
use super::ExitStatusInfo;

/// How many unrecognised lines [`StraceOutput`] keeps, for diagnostics.
const KEPT_UNPARSED: usize = 5;

/// The argv that traces `command` into `trace_file`: `STRACE -f -q -o FILE -- CMD...`.
///
/// Run it as a child (`--direct`) or as the `ExecStart=` of a transient unit; strace then
/// runs the command as its own child, and exits with the command's status (or kills itself
/// with the signal that killed the command). A `trace_file` that is not absolute gets a `./`
/// prefix: strace would read a leading `|` or `!` as "pipe the trace into this command".
pub fn strace_argv(
    strace: &str,
    trace_file: &str,
    command: &[String],
    fd_paths: bool,
) -> Vec<String> {
    let file = if trace_file.starts_with('/') || trace_file.starts_with("./") {
        trace_file.to_owned()
    } else {
        format!("./{trace_file}")
    };
    let mut argv: Vec<String> = [strace, "-f", "-q"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    if fd_paths {
        argv.push("-y".to_owned());
    }
    argv.extend(["-o", &file, "--"].into_iter().map(str::to_owned));
    argv.extend(command.iter().cloned());
    argv
}

/// What a strace output file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StraceOutput {
    /// Every syscall name entered by any traced process.
    pub syscalls: BTreeSet<String>,
    /// The PID of the first line: the command strace started (`None` when the lines carry no
    /// PID, i.e. strace ran without `-f`).
    pub main_pid: Option<u32>,
    /// How the command (the first process) ended, if the trace says.
    pub main_exit: Option<ExitStatusInfo>,
    /// The paths given to `execve` (as written in the call; failed attempts of a `PATH`
    /// search included). Their base names are what the kernel puts in `comm`.
    pub executables: BTreeSet<String>,
    /// How many distinct processes and threads appear.
    pub processes: usize,
    /// A process switched to a 32-bit or x32 ABI.
    pub non_native_abi: bool,
    /// How many non-empty lines were not understood.
    pub unparsed: usize,
    /// The first few of them.
    pub unparsed_examples: Vec<String>,
    /// What the calls' arguments showed.
    pub facts: TraceFacts,
}

/// Reads strace output one line at a time; [`StraceParser::finish`] gives the result.
#[derive(Debug, Default)]
pub struct StraceParser {
    out: StraceOutput,
    seen_first: bool,
    pids: BTreeSet<Option<u32>>,
    facts: FactsCollector,
    /// Per process, the call it began that strace left `<unfinished ...>`: its name and
    /// the text after the name so far.
    pending: BTreeMap<Option<u32>, (String, String)>,
}

impl StraceParser {
    /// A parser that has read nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read one line (with or without its newline).
    pub fn line(&mut self, line: &str) {
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            return;
        }
        if let Some(rest) = line.trim_start().strip_prefix("[ Process PID=") {
            // `[ Process PID=N runs in 32 bit mode. ]`, `... x32 mode`, `... 64 bit mode`.
            if rest.contains("32 bit mode") || rest.contains("x32 mode") {
                self.out.non_native_abi = true;
            }
            return;
        }
        let (pid, rest) = split_pid(line);
        if !self.seen_first {
            self.seen_first = true;
            self.out.main_pid = pid;
        }
        self.pids.insert(pid);

        if let Some(exit) = rest.strip_prefix("+++ ") {
            if let Some(status) = parse_exit(exit) {
                if pid == self.out.main_pid {
                    self.out.main_exit = Some(status);
                }
            } else if !exit.starts_with("superseded by execve") {
                self.unparsed(line);
            }
            return;
        }
        if rest.starts_with("--- ") {
            // A signal delivery or stop: not a syscall.
            return;
        }
        if let Some(resumed) = rest.strip_prefix("<... ") {
            match resumed.split_once(" resumed>") {
                Some((name, tail)) if is_name(name) => {
                    self.out.syscalls.insert(name.to_owned());
                    match self.pending.remove(&pid) {
                        Some((began, head)) if began == name => {
                            self.complete(pid, name, &format!("{head}{tail}"));
                        }
                        _ => {}
                    }
                }
                _ => self.unparsed(line),
            }
            return;
        }
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_len);
        if after.starts_with('(') && is_name(name) {
            if name == "execve" {
                if let Some(path) = first_string_argument(after) {
                    self.out.executables.insert(path);
                }
            }
            self.out.syscalls.insert(name.to_owned());
            match after.trim_end().strip_suffix("<unfinished ...>") {
                Some(head) => {
                    self.pending.insert(pid, (name.to_owned(), head.to_owned()));
                }
                None => self.complete(pid, name, after),
            }
        } else {
            self.unparsed(line);
        }
    }

    /// A whole call, `(ARGS) = RET` after its name, for the facts.
    fn complete(&mut self, pid: Option<u32>, name: &str, after: &str) {
        if let Some(call) = Call::parse(pid, name, after) {
            self.facts.call(&call);
        }
    }

    fn unparsed(&mut self, line: &str) {
        self.out.unparsed += 1;
        if self.out.unparsed_examples.len() < KEPT_UNPARSED {
            self.out.unparsed_examples.push(line.to_owned());
        }
    }

    /// The result of every line read.
    pub fn finish(mut self) -> StraceOutput {
        self.out.processes = self.pids.len();
        for pid in self.pids.iter().flatten() {
            self.facts.pid(*pid);
        }
        self.out.facts = self.facts.finish();
        self.out
    }
}

/// Parse a whole strace output held in memory.
pub fn parse_strace_output(text: &str) -> StraceOutput {
    let mut parser = StraceParser::new();
    for line in text.lines() {
        parser.line(line);
    }
    parser.finish()
}

/// Parse strace output from a reader, line by line. Bytes that are not UTF-8 (strace escapes
/// them, but a command's argv could still carry some) are replaced, not fatal.
///
/// # Errors
///
/// The reader's I/O errors.
pub fn read_strace_output(mut reader: impl BufRead) -> io::Result<StraceOutput> {
    let mut parser = StraceParser::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(parser.finish());
        }
        parser.line(&String::from_utf8_lossy(&buf));
    }
}

/// `1234  rest` (strace -f -o FILE) or `[pid  1234] rest` (strace -f to stderr) or `rest`.
fn split_pid(line: &str) -> (Option<u32>, &str) {
    if let Some(bracketed) = line.strip_prefix("[pid") {
        if let Some((pid, rest)) = bracketed.split_once(']') {
            if let Ok(pid) = pid.trim().parse() {
                return (Some(pid), rest.trim_start());
            }
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with([' ', '\t']) {
        if let Ok(pid) = line[..digits].parse() {
            return (Some(pid), line[digits..].trim_start());
        }
    }
    (None, line.trim_start())
}

/// The first argument of a call when it is a string: `("/bin/sh", [...` -> `/bin/sh`, with
/// strace's `\"` and `\\` escapes undone (others are kept as written).
fn first_string_argument(after_name: &str) -> Option<String> {
    let rest = after_name.strip_prefix("(\"")?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                e @ ('"' | '\\') => out.push(e),
                e => {
                    out.push('\\');
                    out.push(e);
                }
            },
            c => out.push(c),
        }
    }
    None
}

/// `exited with 3 +++` or `killed by SIGSEGV (core dumped) +++` (after the leading `+++ `).
fn parse_exit(text: &str) -> Option<ExitStatusInfo> {
    let text = text.trim_end().strip_suffix("+++")?.trim_end();
    if let Some(code) = text.strip_prefix("exited with ") {
        return code.trim().parse().ok().map(ExitStatusInfo::exited);
    }
    let killed = text.strip_prefix("killed by ")?;
    let (signal, core_dumped) = match killed.strip_suffix("(core dumped)") {
        Some(signal) => (signal.trim_end(), true),
        None => (killed, false),
    };
    let signal = signal.trim();
    if signal.is_empty() || signal.contains(' ') {
        return None;
    }
    Some(ExitStatusInfo::Killed {
        signal: signal.to_owned(),
        core_dumped,
    })
}

/// A syscall name as strace writes it: starts with a letter or `_`, then letters, digits, `_`.
fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(out: &StraceOutput) -> Vec<&str> {
        out.syscalls.iter().map(String::as_str).collect()
    }

    #[test]
    fn argv_puts_the_command_after_double_dash() {
        let cmd = vec!["sh".to_owned(), "-c".to_owned(), "exit 3".to_owned()];
        assert_eq!(
            strace_argv("/usr/bin/strace", "/tmp/t.strace", &cmd, false),
            [
                "/usr/bin/strace",
                "-f",
                "-q",
                "-o",
                "/tmp/t.strace",
                "--",
                "sh",
                "-c",
                "exit 3"
            ]
        );
        // A relative name that strace would read as a pipe is made a path.
        assert_eq!(strace_argv("strace", "|cat", &cmd, false)[4], "./|cat");
        assert_eq!(
            strace_argv("strace", "/t", &cmd, true)[..6],
            ["strace", "-f", "-q", "-y", "-o", "/t"]
        );
    }

    #[test]
    fn unfinished_and_resumed_calls_count_once() {
        let out = parse_strace_output(
            "\
9286  execve(\"/usr/bin/sh\", [\"sh\"], 0x7ffe /* 35 vars */) = 0
9290  close(3 <unfinished ...>
9286  clone(child_stack=NULL, flags=SIGCHLD <unfinished ...>
9290  <... close resumed>)              = 0
9286  <... clone resumed>, child_tidptr=0x7f5f) = 9290
9290  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 9291
9290  exit_group(0)                     = ?
9290  +++ exited with 0 +++
9286  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=9290} ---
9286  exit_group(1)                     = ?
9286  +++ exited with 1 +++
",
        );
        assert_eq!(
            names(&out),
            ["clone", "close", "execve", "exit_group", "wait4"]
        );
        assert_eq!(out.main_pid, Some(9286));
        assert_eq!(out.main_exit, Some(ExitStatusInfo::exited(1)));
        assert_eq!(out.processes, 2);
        assert_eq!(out.unparsed, 0);
        assert_eq!(out.executables.iter().collect::<Vec<_>>(), ["/usr/bin/sh"]);
    }

    #[test]
    fn calls_left_unfinished_give_facts_once_resumed() {
        let out = parse_strace_output(
            "\
9286  openat(AT_FDCWD</srv>, \"x\", O_WRONLY|O_CREAT, 0644 <unfinished ...>
9290  close(3</srv/y> <unfinished ...>
9286  <... openat resumed>)              = 3</srv/x>
9290  <... close resumed>)               = 0
9291  <... unlink resumed>)              = 0
",
        );
        assert_eq!(out.facts.changed.iter().collect::<Vec<_>>(), ["/srv/x"]);
        assert!(out.facts.opened["/srv/x"].write);
        assert_eq!(
            out.facts.pids.iter().collect::<Vec<_>>(),
            [&9286, &9290, &9291]
        );
        assert_eq!(out.unparsed, 0);
    }

    #[test]
    fn executed_paths_are_collected_with_escapes_undone() {
        let out = parse_strace_output(
            "\
7  execve(\"/usr/local/bin/tar\", [\"tar\"], 0x1 /* 3 vars */) = -1 ENOENT (No such file or directory)
7  execve(\"/usr/bin/tar\", [\"tar\"], 0x1 /* 3 vars */) = 0
8  execve(\"/opt/a \\\"b\\\"\", [\"x\"], 0x1 /* 3 vars */ <unfinished ...>
",
        );
        assert_eq!(
            out.executables.iter().collect::<Vec<_>>(),
            ["/opt/a \"b\"", "/usr/bin/tar", "/usr/local/bin/tar"]
        );
        assert_eq!(first_string_argument("(3, \"x\")"), None);
        assert_eq!(first_string_argument("(\"unterminated"), None);
    }

    #[test]
    fn exit_by_signal_is_the_first_process_s() {
        let out = parse_strace_output(
            "\
100  execve(\"/bin/sh\", [\"sh\"], 0x1 /* 1 var */) = 0
101  +++ killed by SIGKILL +++
100  kill(100, SIGSEGV)               = 0
100  --- SIGSEGV {si_signo=SIGSEGV, si_code=SI_USER, si_pid=100, si_uid=0} ---
100  +++ killed by SIGSEGV (core dumped) +++
",
        );
        assert_eq!(
            out.main_exit,
            Some(ExitStatusInfo::Killed {
                signal: "SIGSEGV".into(),
                core_dumped: true
            })
        );
    }

    #[test]
    fn lines_without_pid_and_bracketed_pids() {
        let out = parse_strace_output(
            "execve(\"/bin/true\", [\"true\"], 0x1 /* 1 var */) = 0\n\
             [pid  7] read(0, \"\", 1) = 0\n\
             exit_group(0) = ?\n\
             +++ exited with 0 +++\n",
        );
        assert_eq!(out.main_pid, None);
        assert_eq!(out.main_exit, Some(ExitStatusInfo::exited(0)));
        assert_eq!(names(&out), ["execve", "exit_group", "read"]);
        assert_eq!(out.processes, 2);
    }

    #[test]
    fn unknown_numbers_odd_lines_and_abi_switches() {
        let out = parse_strace_output(
            "\
5  syscall_0x1c3(0x1, 0x2) = -1 ENOSYS (Function not implemented)
5  ????( <unfinished ...>
[ Process PID=5 runs in 32 bit mode. ]
5  restart_syscall(<... resuming interrupted read ...>) = 0
5  +++ superseded by execve in pid 6 +++
5  write(1, \"a(b\\n\", 4) = 4
",
        );
        assert_eq!(names(&out), ["restart_syscall", "syscall_0x1c3", "write"]);
        assert!(out.non_native_abi);
        assert_eq!(out.unparsed, 1);
        assert_eq!(out.unparsed_examples, ["5  ????( <unfinished ...>"]);
        assert_eq!(out.main_exit, None);
    }

    #[test]
    fn reader_tolerates_invalid_utf8_and_crlf() {
        let bytes: &[u8] =
            b"1  openat(AT_FDCWD, \"\xff\", O_RDONLY) = 3\r\n1  +++ exited with 0 +++\n";
        let out = read_strace_output(bytes).unwrap();
        assert_eq!(names(&out), ["openat"]);
        assert_eq!(out.main_exit, Some(ExitStatusInfo::exited(0)));
    }
}
