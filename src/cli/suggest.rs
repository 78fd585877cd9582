//! `sandgen suggest`: the edges around the pure core of [`crate::suggest`] and
//! [`crate::trace`].
//!
//! `suggest` gathers facts, hands them to the core and applies the result:
//! 1. **What runs, and in which sandbox**: the command after `--`, or the `exec` of
//!    `--policy FILE` or of the policy an installed unit records (`sandgen suggest NAME`);
//!    the sandbox is that policy's directives.
//! 2. **The trace**, taken where the command will run: by default `strace -f` is the
//!    `ExecStart=` of a transient oneshot unit with the policy's other settings (a service has
//!    no `HOME`, writes to the journal, may run as another user, and so makes other calls than
//!    the same command in a shell). The policy's `SystemCallFilter=` is left out of that unit:
//!    it would apply to strace too. The trace file lives in `/run/sandgen/` (a unit's `/tmp`
//!    may be private), made writable with `ReadWritePaths=` or, for a unit running as another
//!    user, owned by it through `RuntimeDirectory=`. `--direct` traces a plain child of sandgen.
//! 3. **The suggestion** ([`crate::suggest::suggest`]) and, with `--verify`, the closed loop:
//!    the command runs again as a transient unit with the suggested `SystemCallFilter=` (and
//!    the policy's other settings, its deny list included, without `SystemCallErrorNumber=`,
//!    so a refused call kills and is logged). The kernel writes a seccomp audit record for
//!    every call a filter kills for (type 1326; read from the audit multicast group, else
//!    `/dev/kmsg`, [`crate::trace::audit::KernelLog`]); the
//!    calls it names that the list does not allow are added ([`crate::suggest::widen`]) and
//!    the run repeated, at most [`WIDEN_LIMIT`] times. The kernel prints those records a
//!    little after the kill: a barrier record queued after the run
//!    ([`crate::trace::audit::queue_barrier_record`]) says when all of the run's are in the
//!    log. When the log is unreadable, or names nothing while the run ended differently, a
//!    second trace (in a unit) supplies the calls the first one missed.
//! 4. **The result**: a report on stdout (TOML, or `--json`); with `--write`, the policy file
//!    with only `[seccomp] allow` replaced, validated before and after, written atomically.
//!
//! A command that fails is reported and sandgen exits 1 without writing or verifying:
//! a list traced from a failed run covers only what happened before the failure. A service
//! that never exits is traced for `--stop-after SECS`; the SIGTERM of that stop then counts as
//! its normal end, in the trace and in every verification run.
//!
//! Transient units are `Type=oneshot` (the start job lasts until the command exits) with
//! `RemainAfterExit=yes` (a unit that succeeded stays loaded, so its `ExecMainStatus=` can be
//! read); sandgen stops and resets them when done, also on errors and on SIGINT/SIGTERM.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use serde::Serialize;

use super::output::write_atomically;
use super::service::{installed_unit_file, journal_lines, unit_name, Connection};
use super::{note, TargetArgs};
use crate::data::syscalls::SyscallTable;
use crate::directive::{Directive, DirectiveValue, Kind, UnitSection};
use crate::host::{find_program_in, is_executable, Host};
use crate::suggest::{self as core, shell_words, SuggestReport, Suggestion, WIDEN_LIMIT};
use crate::systemd::bus::{BusError, JobOutcome, JobVerb, Systemd};
use crate::systemd::properties::{transient_properties, Property};
use crate::systemd::status::UnitStatus;
use crate::trace::audit::{
    queue_barrier_record, KernelLog, SeccompAction, SeccompRecord, SyscallNumbers,
};
use crate::trace::{
    ChildOutput, CommandRunner, ExitStatusInfo, StraceTracer, SyscallTracer, TraceCommand,
    TraceError, TraceResult,
};
use crate::unit;

const SUGGEST_EXAMPLES: &str = "\
Examples:
  sandgen suggest -- /bin/sh -c 'ls / | wc -l'     trace in a transient unit, print [seccomp]
  sandgen suggest --verify -- du -s /usr/share     and check the list in a second run
  sandgen suggest --policy heat.toml --stop-after 2 --verify --write
                                                   trace heat's dd in its sandbox for 2 s,
                                                   check the list, write it into heat.toml
  sandgen suggest heat                             profile the installed heat.service
  sandgen suggest --direct --json -- python3 -c 'print(1)'   trace a child of sandgen";

/// Arguments of `sandgen suggest`.
#[derive(Debug, clap::Args)]
#[command(after_help = SUGGEST_EXAMPLES)]
pub struct SuggestArgs {
    /// An installed unit to profile: the command of the policy it was rendered from, traced
    /// in a transient unit with the rest of its sandbox.
    #[arg(value_name = "NAME", conflicts_with_all = ["policy", "direct"])]
    pub name: Option<String>,
    /// Trace under this policy's settings (and its `exec`, when no command is given).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Replace `[seccomp] allow` in the --policy file with the suggestion, keeping the rest.
    #[arg(long, requires = "policy")]
    pub write: bool,
    /// Print one JSON object instead of TOML.
    #[arg(long)]
    pub json: bool,
    /// Trace the command as a child of sandgen instead of a transient systemd unit.
    #[arg(long)]
    pub direct: bool,
    /// Run the command again under the suggested filter; widen the list until it passes.
    #[arg(long)]
    pub verify: bool,
    /// Profile a command that fails (exits non-zero or is killed) instead of refusing.
    #[arg(long)]
    pub allow_failure: bool,
    /// Stop the command after SECS seconds (a service that does not exit on its own); being
    /// stopped (SIGTERM) then counts as ending well, in the trace and in --verify.
    #[arg(long, value_name = "SECS", conflicts_with = "direct", value_parser = super::seconds)]
    pub stop_after: Option<Duration>,
    /// Keep strace's output file and print where it is.
    #[arg(long)]
    pub keep_trace: bool,
    /// The strace program: a name (looked up where the command runs) or an absolute path.
    #[arg(long, value_name = "PROGRAM", default_value = "strace")]
    pub strace: String,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The command to trace, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// The directories systemd searches for a service's programs (its built-in `PATH`).
const SERVICE_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// The start of the `comm` of [`queue_barrier_record`]'s processes.
const BARRIER_PREFIX: &str = "sgsync";

/// How long the kernel may take to print a seccomp record.
const BARRIER_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a transient unit may stay queued before sandgen gives up on it.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What is profiled: a command and the sandbox it runs in.
struct Subject {
    /// The command as given (or the policy's `exec`).
    argv: Vec<String>,
    /// The policy's directives; empty without a policy.
    directives: Vec<Directive>,
    /// `--policy FILE` and its text as validated, for `--write`.
    policy_file: Option<(PathBuf, String)>,
}

/// `sandgen suggest`.
pub fn suggest(conn: &Connection, args: SuggestArgs) -> Result<()> {
    let host = Host::new(args.target.systemd_version);
    let subject = subject(conn, &host, &args)?;
    let table = host.syscalls();
    if table.source() == crate::data::syscalls::GroupsSource::BuiltIn {
        note("systemd-analyze is not available: syscall groups come from sandgen's built-in table (systemd 252)");
    }

    let mut unit_side: Option<UnitSide<'_>> = None;
    let needs_systemd = !args.direct || args.verify;
    if needs_systemd {
        if has_root_directory(&subject.directives) && !args.direct {
            bail!(
                "cannot trace a policy with `[filesystem] root_directory` in a unit: strace, its \
                 libraries and the trace file would have to be inside that root; trace with \
                 --direct (outside the sandbox) and check the list with --verify"
            );
        }
        // Fail early when systemd cannot be reached.
        conn.connect()?.version()?;
        catch_interrupts();
        unit_side = Some(UnitSide {
            conn,
            directives: &subject.directives,
            stop_after: args.stop_after,
        });
    }

    // The trace.
    let (command, trace) = if args.direct {
        let command = TraceCommand::new(subject.argv.clone())?;
        let tracer = StraceTracer::direct(ChildOutput::Stderr)
            .strace_program(args.strace.clone())
            .keep_trace_file(args.keep_trace);
        note(&format!(
            "tracing `{}` as a child of sandgen (--direct)",
            shell_words(command.argv())
        ));
        let trace = tracer.trace(&command)?;
        (command, trace)
    } else {
        let side = unit_side
            .as_ref()
            .context("no connection to systemd for the trace")?;
        let command = TraceCommand::new(side.resolve_argv(&subject.argv)?)?;
        note(&format!(
            "tracing `{}` in a transient unit",
            shell_words(command.argv())
        ));
        let trace = side.trace(&command, &args.strace, args.keep_trace)?;
        (command, trace)
    };
    if let Some(file) = &trace.trace_file {
        note(&format!("strace output kept in {}", file.display()));
    }

    let mut suggestion = core::suggest(&trace.syscalls, table);
    let stopped = args.stop_after.is_some() && trace.exit_status == stopped_by_sandgen();
    if stopped {
        note("the command was stopped by --stop-after, as asked");
    }
    let failed = !trace.exit_status.success() && !stopped;
    let mut verification = None;
    if args.verify && (!failed || args.allow_failure) {
        let side = unit_side
            .as_ref()
            .context("no connection to systemd for --verify")?;
        let argv = side.resolve_argv(command.argv())?;
        let (v, widened) = side.verify(&argv, &trace, suggestion, table, &args.strace)?;
        suggestion = widened;
        verification = Some(v);
    }

    let report = SuggestReport::new(&command, &trace, &suggestion, table.source())?;
    let mut written = None;
    let verified_ok = verification.as_ref().is_none_or(|v| v.passed);
    if args.write && verified_ok && (!failed || args.allow_failure) {
        if let Some((path, text)) = &subject.policy_file {
            written = Some(write_policy(&host, path, text, &report.allow)?);
        }
    }

    let out = SuggestOutput {
        report: &report,
        mode: if args.direct { "direct" } else { "unit" },
        verify: verification.as_ref(),
        written: written.as_ref().map(|p| p.display().to_string()),
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&out)?)?;
    } else {
        super::output::stdout_fmt(format_args!("{}", out.to_text()))?;
    }

    if failed && !args.allow_failure {
        bail!(
            "`{}` {}: a list traced from a failed run covers only what it did before it failed, \
             so nothing was verified or written; fix the command, or profile the failure on \
             purpose with --allow-failure",
            shell_words(command.argv()),
            trace.exit_status
        );
    }
    if let Some(v) = &verification {
        if !v.passed {
            bail!("verification failed: {}", v.message);
        }
    }
    Ok(())
}

/// Resolve what to profile from the arguments: the command, and the policy whose sandbox
/// it runs in.
fn subject(conn: &Connection, host: &Host, args: &SuggestArgs) -> Result<Subject> {
    let (loaded, policy_file) = if let Some(name) = &args.name {
        let unit = unit_name(name, None)?;
        let (path, text) = installed_unit_file(conn, &unit)?;
        let Some(policy_text) = unit::recorded_policy(&text) else {
            bail!(
                "{unit} ({path}) was not rendered by sandgen, or by a version that did not \
                 record its policy: trace its command with `sandgen suggest -- CMD`"
            );
        };
        (Some(host.load(&path, policy_text)?), None)
    } else if let Some(path) = &args.policy {
        let text = super::output::read_policy(path)?;
        let loaded = host.load(&path.display().to_string(), text.clone())?;
        (Some(loaded), Some((path.clone(), text)))
    } else {
        (None, None)
    };
    if args.direct && loaded.is_some() {
        note("--direct: the policy's sandbox is not applied to the trace (it is to --verify)");
    }
    let directives = loaded.map(|l| l.directives).unwrap_or_default();
    let argv = if !args.command.is_empty() {
        args.command.clone()
    } else if let Some(exec) = exec_of(&directives) {
        exec
    } else {
        bail!(
            "nothing to trace: give the command after `--` (e.g. `sandgen suggest -- /bin/true`), \
             a --policy FILE or an installed unit NAME"
        );
    };
    Ok(Subject {
        argv,
        directives,
        policy_file,
    })
}

/// The argv of the policy's `ExecStart=`.
fn exec_of(directives: &[Directive]) -> Option<Vec<String>> {
    directives.iter().find_map(|d| match &d.value {
        DirectiveValue::Command(argv) if d.key == "ExecStart" => Some(argv.clone()),
        _ => None,
    })
}

fn has_root_directory(directives: &[Directive]) -> bool {
    directives.iter().any(|d| d.key == "RootDirectory")
}

/// Rewrite `[seccomp] allow` of the policy at `path` (whose text was `original` when it was
/// validated), validate the result, write it atomically.
fn write_policy(host: &Host, path: &Path, original: &str, allow: &[String]) -> Result<PathBuf> {
    let now = super::output::read_policy(path)?;
    if now != original {
        bail!(
            "{} changed while sandgen traced its command; it was not rewritten (run again)",
            path.display()
        );
    }
    let text = core::write_allow(original, allow)
        .with_context(|| format!("cannot rewrite {}", path.display()))?;
    host.load(&path.display().to_string(), text.clone())
        .with_context(|| {
            format!(
                "the rewritten {} would not be a valid policy; it was not written",
                path.display()
            )
        })?;
    if text == original {
        note(&format!("{} already has this list", path.display()));
    } else {
        write_atomically(path, text.as_bytes())?;
        note(&format!("wrote [seccomp] allow to {}", path.display()));
    }
    Ok(path.to_owned())
}

/// What `sandgen suggest` prints: the core's report and what the command layer did.
#[derive(Debug, Serialize)]
struct SuggestOutput<'a> {
    #[serde(flatten)]
    report: &'a SuggestReport,
    /// `"unit"` or `"direct"`: where the trace was taken.
    mode: &'static str,
    /// The closed loop, with --verify.
    verify: Option<&'a Verification>,
    /// The policy file rewritten, with --write.
    written: Option<String>,
}

impl SuggestOutput<'_> {
    fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(v) = self.verify {
            let word = if v.passed { "Verified" } else { "NOT verified" };
            out.push_str(&format!("# {word}: {}\n", v.message));
            for (i, r) in v.rounds.iter().enumerate() {
                out.push_str(&format!("#   run {}: {}\n", i + 1, r.summary()));
            }
        }
        out.push_str(&self.report.to_text());
        out
    }
}

/// The closed loop's result.
#[derive(Debug, Serialize)]
struct Verification {
    /// The command ended as it did when traced, and the kernel logged no refused call.
    passed: bool,
    /// What happened, in one sentence.
    message: String,
    /// Each run under a filter.
    rounds: Vec<Round>,
}

/// One run under a suggested filter.
#[derive(Debug, Serialize)]
struct Round {
    /// The transient unit.
    unit: String,
    /// The list it ran with.
    allow: Vec<String>,
    /// How the command ended (`None`: it never ran).
    exit_status: Option<ExitStatusInfo>,
    /// Calls found refused, which the next round allows.
    refused: Vec<String>,
    /// Where `refused` came from: `"kernel log"` or `"second trace"`.
    evidence: Option<&'static str>,
    /// The seccomp records the kernel wrote during the run.
    records: Vec<SeccompRecord>,
}

impl Round {
    fn summary(&self) -> String {
        let ended = self
            .exit_status
            .as_ref()
            .map_or_else(|| "did not run".to_owned(), ToString::to_string);
        match (self.refused.is_empty(), self.evidence) {
            (true, _) => format!("{ended}, no call refused"),
            (false, evidence) => format!(
                "{ended}; refused {} ({})",
                self.refused.join(", "),
                evidence.unwrap_or("?")
            ),
        }
    }
}

/// How a unit's command ends when `--stop-after` stops it (systemd's default KillSignal=).
fn stopped_by_sandgen() -> ExitStatusInfo {
    ExitStatusInfo::killed_by(nix::sys::signal::Signal::SIGTERM as i32, false)
}

/// Whether two runs ended the same way (a signal's core dump aside).
fn same_end(a: &ExitStatusInfo, b: &ExitStatusInfo) -> bool {
    match (a, b) {
        (ExitStatusInfo::Exited { code: x }, ExitStatusInfo::Exited { code: y }) => x == y,
        (ExitStatusInfo::Killed { signal: s, .. }, ExitStatusInfo::Killed { signal: t, .. }) => {
            s == t
        }
        _ => false,
    }
}

/// Everything that runs commands as transient units of one systemd.
struct UnitSide<'a> {
    conn: &'a Connection,
    /// The policy's directives.
    directives: &'a [Directive],
    /// `--stop-after`.
    stop_after: Option<Duration>,
}

impl UnitSide<'_> {
    /// `argv` with its program resolved as systemd resolves `ExecStart=`: a name is looked
    /// up in systemd's service `PATH`, on the managed system's file system.
    fn resolve_argv(&self, argv: &[String]) -> Result<Vec<String>> {
        let Some((program, rest)) = argv.split_first() else {
            return Err(TraceError::EmptyCommand.into());
        };
        let resolved = if program.starts_with('/') {
            program.clone()
        } else if program.contains('/') {
            bail!(
                "cannot run `{program}` in a unit: give an absolute path, or a name systemd \
                 finds in {}",
                SERVICE_PATH.join(":")
            );
        } else {
            self.find_in_service_path(program)
                .ok_or_else(|| TraceError::ProgramNotFound {
                    program: program.clone(),
                    reason: format!(
                        "no program `{program}` in systemd's service PATH ({}){}",
                        SERVICE_PATH.join(":"),
                        self.where_()
                    ),
                })?
        };
        let mut out = vec![resolved];
        out.extend(rest.iter().cloned());
        Ok(out)
    }

    fn where_(&self) -> String {
        match self.conn.root() {
            Some(root) => format!(" under {}", root.display()),
            None => String::new(),
        }
    }

    fn find_in_service_path(&self, program: &str) -> Option<String> {
        find_program_in(program, SERVICE_PATH, self.conn.root()).map(|p| p.display().to_string())
    }

    /// strace as the managed system sees it.
    fn strace(&self, program: &str) -> Result<String, TraceError> {
        let found = if program.starts_with('/') {
            is_executable(&self.conn.host_path(Path::new(program))).then(|| program.to_owned())
        } else {
            self.find_in_service_path(program)
        };
        found.ok_or_else(|| TraceError::StraceMissing {
            program: program.to_owned(),
        })
    }

    /// A runner with the policy's settings, minus those `drop` rejects.
    fn runner(&self, purpose: &'static str, keep: impl Fn(&Directive) -> bool) -> UnitRunner<'_> {
        let sandbox: Vec<Directive> = self
            .directives
            .iter()
            .filter(|d| {
                !matches!(
                    d.key,
                    "ExecStart"
                        | "Type"
                        | "Restart"
                        | "SystemCallErrorNumber"
                        | "TimeoutStartSec"
                        | "Description"
                )
            })
            .filter(|d| keep(d))
            .cloned()
            .collect();
        let (_, skipped) = transient_properties(&sandbox);
        for s in &skipped {
            note(&format!("not applied to the {purpose} unit: {s}"));
        }
        UnitRunner {
            conn: self.conn,
            sandbox,
            purpose,
            preserve_runtime_directory: false,
            stop_after: self.stop_after,
            last: RefCell::new(None),
        }
    }

    /// Trace `command` (its program resolved) in a transient unit.
    fn trace(&self, command: &TraceCommand, strace: &str, keep: bool) -> Result<TraceResult> {
        let strace = self.strace(strace)?;
        let dir = TraceDir::create(self.conn, keep)?;
        let runs_as_other_user = self.directives.iter().any(|d| {
            d.key == "User" || (d.key == "DynamicUser" && d.value == DirectiveValue::Bool(true))
        });
        let confined_fs = self
            .directives
            .iter()
            .any(|d| d.origin.starts_with("filesystem."));
        let mut runner = self.runner("suggest", |d| d.key != "SystemCallFilter");
        if runs_as_other_user {
            // systemd creates (here: takes over) the runtime directory for the unit's user,
            // trace file included, and keeps it writable under ProtectSystem=strict.
            runner.sandbox.push(list_directive(
                "RuntimeDirectory",
                Kind::Paths,
                vec![dir.runtime_directory_name()],
            ));
            runner.preserve_runtime_directory = true;
        } else if confined_fs {
            runner.sandbox.push(list_directive(
                "ReadWritePaths",
                Kind::Paths,
                vec![dir.inside.display().to_string()],
            ));
        }
        let tracer = StraceTracer::new(&runner)
            .trace_dir(&dir.here, Some(dir.inside.clone()))
            .keep_trace_file(keep)
            .strace_resolved_by_caller(strace);
        match tracer.trace(command) {
            Ok(t) => Ok(t),
            Err(e @ TraceError::EmptyTrace { .. }) => {
                let mut message = e.to_string();
                if let Some(last) = runner.last.borrow().as_ref() {
                    message.push_str(&journal_lines(self.conn, &last.unit));
                }
                Err(anyhow!(message))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The closed loop: run `argv` under `suggestion`, widen by what the kernel says was
    /// refused, until it ends as the trace did. Returns the result and the final list.
    fn verify(
        &self,
        argv: &[String],
        trace: &TraceResult,
        mut suggestion: Suggestion,
        table: &SyscallTable,
        strace: &str,
    ) -> Result<(Verification, Suggestion)> {
        // The policy's allow-list is replaced by the suggestion; its deny list stays.
        let runner = self.runner("verify", |d| {
            !(d.key == "SystemCallFilter"
                && matches!(d.value, DirectiveValue::Words { negated: false, .. }))
        });
        let mut numbers: BTreeMap<u32, Option<SyscallNumbers>> = BTreeMap::new();
        let mut rounds: Vec<Round> = Vec::new();
        let command = shell_words(argv);
        let mut log_trouble = false;
        loop {
            let mut log = match KernelLog::open() {
                Ok(log) => Some(log),
                Err(e) => {
                    if !log_trouble {
                        note(&format!(
                            "cannot read the kernel's audit records (from its audit multicast \
                             group or /dev/kmsg: {e}); refused calls are looked for with a \
                             second trace"
                        ));
                        log_trouble = true;
                    }
                    None
                }
            };
            let run = runner.run_unit(argv, Some(&suggestion.allow))?;
            let same = run
                .exit
                .as_ref()
                .is_some_and(|e| same_end(e, &trace.exit_status));
            let logged = collect_records(log.as_mut(), &mut log_trouble);
            let log_says = logged.is_some();
            let records = logged.unwrap_or_default();
            let mut refused = BTreeSet::new();
            let mut unnamed = Vec::new();
            let mut already = Vec::new();
            for r in ours(&records, &trace.executables) {
                if !matches!(
                    r.action,
                    SeccompAction::KillProcess | SeccompAction::KillThread | SeccompAction::Trap
                ) {
                    continue;
                }
                let table_for = numbers
                    .entry(r.arch)
                    .or_insert_with(|| SyscallNumbers::for_audit_arch(r.arch, Path::new("/")));
                match table_for.as_ref().and_then(|t| t.name(r.syscall)) {
                    Some(name) if suggestion.entry_allowing(name, table).is_none() => {
                        refused.insert(name.to_owned());
                    }
                    // Allowed by the list: another unit's record, or the deny list or
                    // SystemCallArchitectures= refused it.
                    Some(name) => already.push(name.to_owned()),
                    None => unnamed.push(format!("syscall {} of arch {:#x}", r.syscall, r.arch)),
                }
            }
            let mut round = Round {
                unit: run.unit.clone(),
                allow: suggestion.allow.clone(),
                exit_status: run.exit.clone(),
                refused: Vec::new(),
                evidence: None,
                records,
            };
            if refused.is_empty() && (!same || !log_says) {
                // The kernel named nothing the list refuses, or cannot say: look with a trace.
                let again = self.trace(&TraceCommand::new(argv.to_vec())?, strace, false)?;
                let allowed = suggestion.allowed_syscalls(table);
                refused = again
                    .syscalls
                    .iter()
                    .filter(|n| !allowed.contains(*n) && table.is_syscall(n))
                    .cloned()
                    .collect();
                if !refused.is_empty() {
                    round.evidence = Some("second trace");
                }
            } else if !refused.is_empty() {
                round.evidence = Some("kernel log");
            }
            if same && refused.is_empty() {
                let widened = &suggestion.widened;
                let how = if widened.is_empty() {
                    "as suggested".to_owned()
                } else {
                    format!("after widening by {}", widened.join(", "))
                };
                let mut message = format!(
                    "`{command}` {} under the suggested filter {how} ({} run{})",
                    trace.exit_status,
                    rounds.len() + 1,
                    if rounds.is_empty() { "" } else { "s" }
                );
                if !log_says {
                    message.push_str(
                        "; the kernel log could not say whether a call was refused, a second \
                         trace found no call the list lacks",
                    );
                }
                rounds.push(round);
                let v = Verification {
                    passed: true,
                    message,
                    rounds,
                };
                return Ok((v, suggestion));
            }
            let ended = run
                .exit
                .as_ref()
                .map_or_else(|| "did not run".to_owned(), ToString::to_string);
            if refused.is_empty() {
                let mut why = format!(
                    "`{command}` {ended} under the suggested filter, not {} as when traced, and \
                     neither the kernel log nor a second trace names a call the list refuses",
                    trace.exit_status
                );
                if !already.is_empty() {
                    why.push_str(&format!(
                        "; the kernel log shows {} refused, which the list allows (`[seccomp] \
                         deny` or `architectures`?)",
                        already.join(", ")
                    ));
                }
                if !unnamed.is_empty() {
                    why.push_str(&format!(
                        "; it logged {} (no kernel header names it)",
                        unnamed.join(", ")
                    ));
                }
                why.push_str(&journal_lines(self.conn, &run.unit));
                rounds.push(round);
                return Ok((failed(why, rounds), suggestion));
            }
            round.refused = refused.iter().cloned().collect();
            rounds.push(round);
            for name in &refused {
                if suggestion.widened.len() >= WIDEN_LIMIT {
                    let why = format!(
                        "`{command}` was still refused calls after {WIDEN_LIMIT} widenings; \
                         it does not converge on a list (last refused: {})",
                        refused.iter().cloned().collect::<Vec<_>>().join(", ")
                    );
                    return Ok((failed(why, rounds), suggestion));
                }
                match core::widen(&suggestion, name, table) {
                    Ok(wider) => suggestion = wider,
                    Err(e) => return Ok((failed(e.to_string(), rounds), suggestion)),
                }
            }
            note(&format!(
                "verify run {} refused {}; widening the list",
                rounds.len(),
                refused.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
    }
}

fn failed(message: String, rounds: Vec<Round>) -> Verification {
    Verification {
        passed: false,
        message,
        rounds,
    }
}

/// The records that name a process of this command, when some do; else all of them.
///
/// The kernel log is shared by every process on the machine (and its containers), so a
/// record written during the run may be another unit's. The kernel sets `comm` to the base
/// name of the path given to execve(2), at most 15 bytes; the trace saw those paths. A run
/// that executes something the trace never saw has no matching record: then every record of
/// the run is taken, and one that is not ours at worst widens the list by a call.
fn ours<'r>(
    records: &'r [SeccompRecord],
    executables: &BTreeSet<String>,
) -> Vec<&'r SeccompRecord> {
    let comms: BTreeSet<String> = executables
        .iter()
        .map(|path| {
            let base = path.rsplit('/').next().unwrap_or(path).as_bytes();
            String::from_utf8_lossy(&base[..base.len().min(15)]).into_owned()
        })
        .collect();
    // Barrier records of other sandgen processes are nobody's refused call.
    let records: Vec<&SeccompRecord> = records
        .iter()
        .filter(|r| {
            !r.comm
                .as_ref()
                .is_some_and(|c| c.starts_with(BARRIER_PREFIX))
        })
        .collect();
    let matching: Vec<&SeccompRecord> = records
        .iter()
        .copied()
        .filter(|r| r.comm.as_ref().is_some_and(|c| comms.contains(c)))
        .collect();
    if matching.is_empty() {
        records
    } else {
        matching
    }
}

/// The seccomp records the kernel wrote since `log` was opened, up to a barrier record
/// queued now ([`queue_barrier_record`]): the kernel prints audit records a little after it
/// queues them, so without the barrier a record of the run could still be missing. `None`
/// when the kernel log cannot say (unreadable, or audit records do not reach it); the first
/// such trouble is reported, once.
fn collect_records(log: Option<&mut KernelLog>, trouble: &mut bool) -> Option<Vec<SeccompRecord>> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let log = log?;
    // At most 15 bytes, the length of a comm.
    let barrier = format!(
        "{BARRIER_PREFIX}{:05}-{}",
        std::process::id() % 100_000,
        NEXT.fetch_add(1, Ordering::Relaxed) % 1000
    );
    let result = queue_barrier_record(&barrier)
        .and_then(|()| log.seccomp_records_until(&barrier, BARRIER_TIMEOUT));
    let problem = match result {
        Ok(Some(records)) => return Some(records),
        Ok(None) => format!(
            "no seccomp record came from {} within {} s (auditing off, or an audit daemon \
             receiving them?)",
            log.source_name(),
            BARRIER_TIMEOUT.as_secs()
        ),
        Err(e) => format!(
            "cannot read seccomp records from {}: {e}",
            log.source_name()
        ),
    };
    if !*trouble {
        note(&format!(
            "{problem}; refused calls are looked for with a second trace"
        ));
        *trouble = true;
    }
    None
}

fn list_directive(key: &'static str, kind: Kind, words: Vec<String>) -> Directive {
    Directive {
        section: UnitSection::Service,
        key,
        value: DirectiveValue::Words {
            words,
            negated: false,
        },
        kind,
        origin: "sandgen suggest".to_owned(),
    }
}

/// A transient unit sandgen starts, and how it ended.
struct UnitRun {
    unit: String,
    exit: Option<ExitStatusInfo>,
}

/// Runs argvs as transient oneshot units with a sandbox.
struct UnitRunner<'a> {
    conn: &'a Connection,
    /// Stop the unit after this long.
    stop_after: Option<Duration>,
    sandbox: Vec<Directive>,
    purpose: &'static str,
    preserve_runtime_directory: bool,
    last: RefCell<Option<UnitRun>>,
}

impl UnitRunner<'_> {
    /// Run `argv` as `Type=oneshot` (so the start job lasts until it exits) with
    /// `RemainAfterExit=yes` (so the unit, and its ExecMainStatus, stays loaded after a
    /// success), wait for it, stop it.
    fn run_unit(&self, argv: &[String], allow: Option<&[String]>) -> Result<UnitRun> {
        let unit = next_unit_name(self.purpose);
        let mut directives = Vec::new();
        if let Some(allow) = allow {
            // First: systemd reads the first SystemCallFilter= as allow- or deny-list.
            directives.push(list_directive(
                "SystemCallFilter",
                Kind::Syscalls,
                allow.to_vec(),
            ));
        }
        directives.extend(self.sandbox.iter().cloned());
        directives.push(Directive {
            section: UnitSection::Service,
            key: "Type",
            value: DirectiveValue::Token("oneshot".to_owned()),
            kind: Kind::Word(&[]),
            origin: "sandgen suggest".to_owned(),
        });
        directives.push(Directive {
            section: UnitSection::Service,
            key: "ExecStart",
            value: DirectiveValue::Command(argv.to_vec()),
            kind: Kind::Command,
            origin: "sandgen suggest".to_owned(),
        });
        let (mut properties, _) = transient_properties(&directives);
        properties.push(Property {
            name: "RemainAfterExit".to_owned(),
            value: zbus::OwnedVariant::from(true),
        });
        properties.push(Property {
            name: "Description".to_owned(),
            value: zbus::OwnedVariant::from(zbus::Str::from(format!(
                "sandgen {}: {}",
                self.purpose,
                shell_words(argv)
            ))),
        });
        if self.preserve_runtime_directory {
            properties.push(Property {
                name: "RuntimeDirectoryPreserve".to_owned(),
                value: zbus::OwnedVariant::from(zbus::Str::from("yes")),
            });
        }
        log::info!("starting {unit}: {}", shell_words(argv));
        // A connection per job: the client subscribes to job signals for each job, and
        // systemd refuses a second subscription on one connection.
        let client = self.conn.connect()?;
        client
            .start_transient(&unit, &properties, false)
            .map_err(|e| match e {
                BusError::Call { action, message }
                    if message.contains("nknown") || message.contains("Cannot set property") =>
                {
                    anyhow!(
                        "{action}: {message}\nthis systemd has no transient property for one of \
                         the policy's directives"
                    )
                }
                other => other.into(),
            })
            .map(|outcome: JobOutcome| log::debug!("{unit}: {outcome:?}"))?;
        let guard = StopOnDrop {
            conn: self.conn,
            unit: &unit,
        };
        let status = wait_for_end(&client, &unit, self.stop_after.map(|d| (d, self.conn)))?;
        drop(guard);
        let exit = exit_of(&status);
        if exit.is_none() {
            bail!(
                "{unit} ended without running its command: {}{}",
                status.failure("done"),
                journal_lines(self.conn, &unit)
            );
        }
        Ok(UnitRun { unit, exit })
    }
}

impl CommandRunner for &UnitRunner<'_> {
    fn run(
        &self,
        argv: &[String],
    ) -> Result<ExitStatusInfo, Box<dyn std::error::Error + Send + Sync>> {
        let run = self.run_unit(argv, None)?;
        let exit = run.exit.clone().ok_or("the unit did not run its command")?;
        *self.last.borrow_mut() = Some(run);
        Ok(exit)
    }
}

/// How a unit's main process ended (`ExecMainCode=`, waitid(2)'s `CLD_*`).
fn exit_of(status: &UnitStatus) -> Option<ExitStatusInfo> {
    match status.exec_main_code {
        1 => Some(ExitStatusInfo::exited(status.exec_main_status)),
        2 => Some(ExitStatusInfo::killed_by(status.exec_main_status, false)),
        3 => Some(ExitStatusInfo::killed_by(status.exec_main_status, true)),
        _ => None,
    }
}

/// Poll a started oneshot unit until its command has ended: `active` (RemainAfterExit),
/// `failed`, or back to `inactive` after it ran.
///
/// With `stop_after`, a unit still running after that long is stopped (SIGTERM).
fn wait_for_end(
    client: &dyn Systemd,
    unit: &str,
    stop_after: Option<(Duration, &Connection)>,
) -> Result<UnitStatus> {
    let queued = Instant::now();
    let mut started = false;
    let mut stop_sent = false;
    let mut pause = Duration::from_millis(5);
    loop {
        if INTERRUPTED.load(Ordering::SeqCst) {
            bail!("interrupted; {unit} is being stopped");
        }
        if let Some((after, conn)) = stop_after {
            if started && !stop_sent && queued.elapsed() >= after {
                log::info!(
                    "stopping {unit} after {} s (--stop-after)",
                    after.as_secs_f64()
                );
                // Not waited for: a stop job ends when the unit is down, which the loop sees.
                conn.connect()?.job(JobVerb::Stop, unit, false)?;
                stop_sent = true;
            }
        }
        let status = client.status(unit)?;
        match status.active_state.as_str() {
            "active" | "failed" => return Ok(status),
            "inactive" if started || status.exec_main_code != 0 => return Ok(status),
            "inactive" if queued.elapsed() > START_TIMEOUT => bail!(
                "{unit} did not start within {} s: {}",
                START_TIMEOUT.as_secs(),
                status.summary()
            ),
            "inactive" => {}
            _ => started = true,
        }
        if status.load_state == "not-found" && started {
            return Ok(status);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Stops and forgets a transient unit when dropped (also on errors and interrupts).
struct StopOnDrop<'a> {
    conn: &'a Connection,
    unit: &'a str,
}

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let client = match self.conn.connect() {
            Ok(c) => c,
            Err(e) => {
                log::warn!("cannot stop {}: {e:#}", self.unit);
                return;
            }
        };
        if let Err(e) = client.job(JobVerb::Stop, self.unit, true) {
            log::warn!("cannot stop {}: {e}", self.unit);
        }
        if let Err(e) = client.reset_failed(self.unit) {
            log::debug!("cannot reset {}: {e}", self.unit);
        }
    }
}

fn next_unit_name(purpose: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "sandgen-{purpose}-{}-{}.service",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A private directory for trace files under `/run/sandgen` of the managed system, removed
/// on drop unless kept.
struct TraceDir {
    /// The path units see.
    inside: PathBuf,
    /// The same directory seen from here (under `--root`).
    here: PathBuf,
    keep: bool,
}

impl TraceDir {
    fn create(conn: &Connection, keep: bool) -> Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let base = Path::new("/run/sandgen");
        let base_here = conn.host_path(base);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(&base_here)
            .with_context(|| format!("cannot create {}", base_here.display()))?;
        let name = format!(
            "suggest-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let here = base_here.join(&name);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&here)
            .with_context(|| format!("cannot create {}", here.display()))?;
        Ok(Self {
            inside: base.join(name),
            here,
            keep,
        })
    }

    /// The directory as a `RuntimeDirectory=` (relative to `/run`).
    fn runtime_directory_name(&self) -> String {
        let inside = self.inside.display().to_string();
        inside.strip_prefix("/run/").unwrap_or(&inside).to_owned()
    }
}

impl Drop for TraceDir {
    fn drop(&mut self) {
        if !self.keep {
            if let Err(e) = std::fs::remove_dir_all(&self.here) {
                log::warn!("cannot remove {}: {e}", self.here.display());
            }
        }
    }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: nix::libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Turn SIGINT, SIGTERM and SIGHUP into a flag that the wait for a unit checks, so that an
/// interrupted sandgen stops the transient unit it started instead of leaving it running.
fn catch_interrupts() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        if let Err(e) = unsafe { sigaction(signal, &action) } {
            log::debug!("cannot catch {signal}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_end_the_same_way_regardless_of_core_dumps() {
        let sys = |core| ExitStatusInfo::killed_by(31, core);
        assert!(same_end(&sys(true), &sys(false)));
        assert!(same_end(
            &ExitStatusInfo::exited(3),
            &ExitStatusInfo::exited(3)
        ));
        assert!(!same_end(
            &ExitStatusInfo::exited(0),
            &ExitStatusInfo::exited(1)
        ));
        assert!(!same_end(&ExitStatusInfo::exited(0), &sys(false)));
    }

    #[test]
    fn unit_exit_codes_become_exit_statuses() {
        let status = |code, st| UnitStatus {
            exec_main_code: code,
            exec_main_status: st,
            ..UnitStatus::default()
        };
        assert_eq!(exit_of(&status(0, 0)), None);
        assert_eq!(exit_of(&status(1, 3)), Some(ExitStatusInfo::exited(3)));
        assert_eq!(
            exit_of(&status(3, 31)),
            Some(ExitStatusInfo::killed_by(31, true))
        );
        assert_eq!(
            exit_of(&status(2, 9)).map(|e| e.to_string()).as_deref(),
            Some("killed by SIGKILL")
        );
    }

    #[test]
    fn records_of_the_traced_programs_are_preferred() {
        let record = |comm: &str, syscall| SeccompRecord {
            pid: 1,
            comm: Some(comm.to_owned()),
            exe: None,
            arch: crate::trace::audit::AUDIT_ARCH_X86_64,
            syscall,
            action: SeccompAction::KillProcess,
        };
        let exes: BTreeSet<String> = ["/usr/bin/sh", "/usr/lib/x/a-very-long-program-name"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let records = [
            record("uname", 63),
            record("sh", 41),
            record("a-very-long-pro", 42),
        ];
        let picked: Vec<u32> = ours(&records, &exes).iter().map(|r| r.syscall).collect();
        assert_eq!(picked, [41, 42]);
        // None of ours: all of them (a program the trace did not see).
        let picked: Vec<u32> = ours(&records[..1], &exes)
            .iter()
            .map(|r| r.syscall)
            .collect();
        assert_eq!(picked, [63]);
    }

    #[test]
    fn policy_exec_is_found() {
        let d = Directive {
            section: UnitSection::Service,
            key: "ExecStart",
            value: DirectiveValue::Command(vec!["/bin/true".into()]),
            kind: Kind::Command,
            origin: "service.exec".into(),
        };
        assert_eq!(exec_of(&[d]), Some(vec!["/bin/true".to_owned()]));
        assert_eq!(exec_of(&[]), None);
    }
}
