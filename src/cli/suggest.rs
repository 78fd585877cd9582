//! `sandgen suggest`: trace a command and suggest a `[seccomp]` allow-list for it.
//!
//! It gathers facts, hands them to the core and applies the result:
//! 1. **What runs, and in which sandbox**: the command after `--`, or the `exec` of
//!    `--policy FILE` or of the policy an installed unit records (`sandgen suggest NAME`);
//!    the sandbox is that policy's directives.
//! 2. **The trace**, taken where the command will run: by default `strace -f` is the
//!    `ExecStart=` of a transient oneshot unit with the policy's other settings
//!    ([`crate::trace::unit`]; a service has no `HOME`, writes to the journal, may run as
//!    another user, and so makes other calls than the same command in a shell). `--direct`
//!    traces a plain child of sandgen.
//! 3. **The suggestion** ([`crate::suggest::suggest`]) and, with `--verify`, the closed loop
//!    ([`crate::suggest::closed_loop`]): the command runs again as a transient unit with the
//!    suggested `SystemCallFilter=` (and the policy's other settings, its deny list included,
//!    without `SystemCallErrorNumber=`, so a refused call kills and is logged); the kernel's
//!    seccomp audit records of each run (type 1326; read from the audit multicast group, else
//!    `/dev/kmsg`, [`crate::trace::audit::KernelLog`]) or a second trace name the calls the
//!    list lacks, and the list is widened until the command ends as it did when traced.
//! 4. **The result**: a report on stdout (TOML, or `--json`); with `--write`, the policy file
//!    with only `[seccomp] allow` replaced, validated before and after, written atomically.
//!
//! A command that fails is reported and sandgen exits 1 without writing or verifying:
//! a list traced from a failed run covers only what happened before the failure. A service
//! that never exits is traced for `--stop-after SECS` from its exec; the SIGTERM of that stop then counts as
//! its normal end, in the trace and in every verification run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use serde::Serialize;

use super::output::write_atomically;
use super::service::{installed_unit_file, unit_name};
use super::{note, TargetArgs};
use crate::directive::{Directive, DirectiveValue, Name};
use crate::host::Host;
use crate::suggest::closed_loop::stopped_by_sandgen;
use crate::suggest::closed_loop::Verification;
use crate::suggest::whole::{
    self, Relaxed, WholeFacts, WholeOptions, WholeRound, WholeVerification,
};
use crate::suggest::{self as core, shell_words, SuggestReport};
use crate::systemd::bus::Systemd;
use crate::systemd::Manager;
use crate::trace::bpf::{self as bpf_trace, Backend, BpfError, DirectBpfTracer, TracerChoice};
use crate::trace::files::FileFacts;
use crate::trace::unit::{catch_interrupts, UnitTracer};
use crate::trace::{ChildOutput, ExitStatusInfo, StraceTracer, SyscallTracer, TraceCommand};
use crate::trace::{TraceFacts, TraceResult};
use crate::unit;

const SUGGEST_EXAMPLES: &str = "\
Examples:
  sandgen suggest -- /bin/sh -c 'ls / | wc -l'     trace in a transient unit, print [seccomp]
  sandgen suggest --verify -- du -s /usr/share     and check the list in a second run
  sandgen suggest --policy heat.toml --stop-after 2 --verify --write
                                                   trace heat's dd in its sandbox for 2 s,
                                                   check the list, write it into heat.toml
  sandgen suggest heat                             profile the installed heat.service
  sandgen suggest --whole -- dd if=/dev/zero of=/dev/null count=100
                                                   the whole sandbox policy, every setting
                                                   justified by the trace
  sandgen suggest --direct --json -- python3 -c 'print(1)'   trace a child of sandgen";

/// Arguments of `sandgen suggest`.
#[derive(Debug, clap::Args)]
#[command(after_help = SUGGEST_EXAMPLES)]
pub(crate) struct SuggestArgs {
    /// An installed unit to profile: the command of the policy it was rendered from, traced
    /// in a transient unit with the rest of its sandbox.
    #[arg(value_name = "NAME", conflicts_with_all = ["policy", "direct"])]
    name: Option<String>,
    /// Trace under this policy's settings (and its `exec`, when no command is given).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Replace `[seccomp] allow` in the --policy file with the suggestion, keeping the rest
    /// (with --whole: every setting the trace decided).
    #[arg(long, requires = "policy")]
    write: bool,
    /// Suggest the whole sandbox policy, not only `[seccomp]`: each setting decided from what
    /// the trace showed (files written, sockets, memory mappings, namespaces, capabilities)
    /// and justified in a comment; a complete policy for `sandgen run` or `start`.
    #[arg(long)]
    whole: bool,
    /// With --whole: a refused system call fails with this errno (e.g. EPERM) instead of
    /// killing the process.
    #[arg(long, value_name = "ERRNO", requires = "whole")]
    error_number: Option<String>,
    /// The tightest list: only the calls the trace saw, without the variants other libc
    /// versions use for the same operations (a list that may die at the next libc upgrade).
    #[arg(long)]
    exact: bool,
    /// Print one JSON object instead of TOML.
    #[arg(long)]
    json: bool,
    /// Trace the command as a child of sandgen instead of a transient systemd unit.
    #[arg(long)]
    direct: bool,
    /// Run the command again under the suggested filter; widen the list until it passes.
    #[arg(long)]
    verify: bool,
    /// Profile a command that fails (exits non-zero or is killed) instead of refusing.
    #[arg(long)]
    allow_failure: bool,
    /// Stop the command SECS seconds after it starts (a service that does not exit on its
    /// own; counted from its exec, not from the start job); being stopped (SIGTERM) then
    /// counts as ending well, in the trace and in --verify.
    #[arg(long, value_name = "SECS", conflicts_with = "direct", value_parser = super::seconds)]
    stop_after: Option<Duration>,
    /// Keep strace's output file and print where it is.
    #[arg(long)]
    keep_trace: bool,
    /// The tracer: `bpf`, the in-kernel recorder (near-native speed; root and a kernel with
    /// BTF), `strace` (ptrace: slow, but sees every argument), or `auto` (BPF where it can,
    /// else strace, saying why).
    #[arg(long, value_enum, value_name = "TRACER", default_value = "auto")]
    tracer: TracerChoice,
    /// The strace program: a name (looked up where the command runs) or an absolute path.
    #[arg(long, value_name = "PROGRAM", default_value = "strace")]
    strace: String,
    #[command(flatten)]
    target: TargetArgs,
    /// The command to trace, after `--`.
    #[arg(last = true, value_name = "CMD")]
    command: Vec<String>,
}

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
pub(crate) fn suggest(conn: &Manager, args: SuggestArgs) -> Result<()> {
    let needs_systemd = !args.direct || args.verify;
    // The target is the systemd the command runs under when a unit is involved: its version
    // decides the directives and the syscall groups.
    let host = if needs_systemd {
        // Fail early when systemd cannot be reached.
        let client = conn.connect()?;
        client.version()?;
        Host::for_bus(args.target.systemd_version, &client)
    } else {
        Host::new(args.target.systemd_version)
    };
    let subject = subject(conn, &host, &args)?;
    let table = host.syscalls();
    if let Some(reason) = table.source().built_in_reason() {
        note(&format!(
            "syscall groups from {}: {reason}",
            table.source().describe()
        ));
    }

    let tell = |message: &str| note(message);
    let mut unit_side: Option<UnitTracer<'_>> = None;
    if needs_systemd {
        if has_root_directory(&subject.directives) && !args.direct {
            bail!(
                "cannot trace a policy with `[filesystem] root_directory` in a unit: strace, its \
                 libraries and the trace file would have to be inside that root; trace with \
                 --direct (outside the sandbox) and check the list with --verify"
            );
        }
        catch_interrupts();
        unit_side = Some(
            UnitTracer::new(conn, &subject.directives, args.stop_after, &tell)
                .with_fd_paths(args.whole),
        );
    }

    // The tracer.
    let needs_strace = if args.whole {
        Some("--whole reads the calls' arguments, which only strace records")
    } else if args.keep_trace {
        Some("--keep-trace keeps strace's output")
    } else {
        None
    };
    let prerequisites = bpf_trace::check_prerequisites(
        nix::unistd::geteuid().as_raw(),
        Path::new(bpf_trace::KERNEL_BTF),
    )
    .map_err(|e| e.to_string());
    let (mut backend, line) = bpf_trace::choose_backend(args.tracer, needs_strace, prerequisites)
        .map_err(anyhow::Error::msg)?;
    if let Some(line) = line {
        note(&line);
    }

    // The trace.
    let bpf_trace = if backend == Backend::Bpf {
        let traced = if args.direct {
            let command = TraceCommand::new(subject.argv.clone())?;
            note(&format!(
                "recording `{}` as a child of sandgen (--direct) with the BPF recorder, \
                 following its PIDs",
                shell_words(command.argv())
            ));
            DirectBpfTracer {
                stdout: ChildOutput::Stderr,
            }
            .trace(&command)
            .map(|trace| (command, trace))
            .map_err(anyhow::Error::from)
        } else {
            let side = unit_side
                .as_ref()
                .context("no connection to systemd for the trace")?;
            let command = TraceCommand::new(side.resolve_argv(&subject.argv)?)?;
            match side.trace_bpf(&command) {
                Ok((trace, target)) => {
                    note(&format!(
                        "recorded `{}` in a transient unit with the BPF recorder, by its {}",
                        shell_words(command.argv()),
                        target.describe()
                    ));
                    Ok((command, trace))
                }
                Err(e) => Err(anyhow::Error::from(e)),
            }
        };
        match traced {
            Ok(t) => Some(t),
            // Only the recorder's own failures fall back; a command that cannot run fails.
            Err(e) if args.tracer == TracerChoice::Auto && is_recorder_failure(&e) => {
                note(&format!("tracer: strace, because {e:#}"));
                backend = Backend::Strace;
                None
            }
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    debug_assert!(bpf_trace.is_some() == (backend == Backend::Bpf));
    let (command, trace) = if let Some(t) = bpf_trace {
        t
    } else if args.direct {
        let command = TraceCommand::new(subject.argv.clone())?;
        let tracer = StraceTracer::direct(ChildOutput::Stderr)
            .fd_paths(args.whole)
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

    let mut suggestion = if args.exact {
        core::suggest_exact(&trace.syscalls, table)
    } else {
        core::suggest(&trace.syscalls, table)
    };
    let stopped = args.stop_after.is_some() && trace.exit_status == stopped_by_sandgen();
    if stopped {
        note("the command was stopped by --stop-after, as asked");
    }
    let failed = !trace.exit_status.success() && !stopped;
    let mut verification = None;
    if args.verify && !args.whole && (!failed || args.allow_failure) {
        let side = unit_side
            .as_ref()
            .context("no connection to systemd for --verify")?;
        let argv = side.resolve_argv(command.argv())?;
        let (v, widened) = side.verify(&argv, &trace, suggestion, table, &args.strace)?;
        suggestion = widened;
        verification = Some(v);
    }

    if args.whole {
        let root = if args.direct {
            PathBuf::from("/")
        } else {
            conn.host_path(Path::new("/"))
        };
        let whole = Whole {
            conn,
            host: &host,
            root: &root,
            command: &command,
            trace: &trace,
            suggestion: &suggestion,
            stopped,
            direct: args.direct,
        };
        let verification = whole.report(&args, &subject, &tell)?;
        if failed && !args.allow_failure {
            bail!(
                "`{}` {}: a policy traced from a failed run covers only what it did before it \
                 failed, so nothing was verified or written; fix the command, or profile the \
                 failure on purpose with --allow-failure",
                shell_words(command.argv()),
                trace.exit_status
            );
        }
        if let Some(v) = &verification {
            if !v.passed {
                bail!("verification failed: {}", v.message);
            }
        }
        return Ok(());
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

/// Whether `error` is the BPF recorder's (it cannot load, or cannot identify the unit), which
/// `--tracer auto` answers with strace.
fn is_recorder_failure(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<BpfError>().is_some()
            || matches!(
                e.downcast_ref::<crate::trace::unit::UnitError>(),
                Some(
                    crate::trace::unit::UnitError::BpfSawNothing { .. }
                        | crate::trace::unit::UnitError::Bpf(_)
                        | crate::trace::unit::UnitError::Trace(crate::trace::TraceError::Bpf(_))
                )
            )
            || matches!(
                e.downcast_ref::<crate::trace::TraceError>(),
                Some(crate::trace::TraceError::Bpf(_))
            )
    })
}

/// Resolve what to profile from the arguments: the command, and the policy whose sandbox
/// it runs in.
fn subject(conn: &Manager, host: &Host, args: &SuggestArgs) -> Result<Subject> {
    let (loaded, policy_file) = if let Some(name) = &args.name {
        let unit = unit_name(name)?;
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
        DirectiveValue::Command(argv) if d.name == Name::ExecStart => Some(argv.clone()),
        _ => None,
    })
}

fn has_root_directory(directives: &[Directive]) -> bool {
    directives.iter().any(|d| d.name == Name::RootDirectory)
}

/// Rewrite `[seccomp] allow` of the policy at `path` (whose text was `original` when it was
/// validated), validate the result, write it atomically.
pub(crate) fn write_policy(
    host: &Host,
    path: &Path,
    original: &str,
    allow: &[String],
) -> Result<PathBuf> {
    rewrite_policy(
        host,
        path,
        original,
        |text| core::write_allow(text, allow),
        ("this list", "[seccomp] allow"),
    )
}

/// Rewrite the policy at `path` with `rewrite`, keeping everything else: refused when the
/// file changed since it was read as `original` (while the command was traced), validated
/// before it is written atomically. `said`: what was written, for the notes (`"this list"`
/// it already has, `"[seccomp] allow"` was written).
fn rewrite_policy<E: std::error::Error + Send + Sync + 'static>(
    host: &Host,
    path: &Path,
    original: &str,
    rewrite: impl FnOnce(&str) -> std::result::Result<String, E>,
    said: (&str, &str),
) -> Result<PathBuf> {
    let now = super::output::read_policy(path)?;
    if now != original {
        bail!(
            "{} changed while sandgen traced its command; it was not rewritten (run again)",
            path.display()
        );
    }
    let text = rewrite(original).with_context(|| format!("cannot rewrite {}", path.display()))?;
    host.load(&path.display().to_string(), text.clone())
        .with_context(|| {
            format!(
                "the rewritten {} would not be a valid policy; it was not written",
                path.display()
            )
        })?;
    if text == original {
        note(&format!("{} already has {}", path.display(), said.0));
    } else {
        write_atomically(path, text.as_bytes())?;
        note(&format!("wrote {} to {}", said.1, path.display()));
    }
    Ok(path.to_owned())
}

/// `sandgen suggest --whole`: the facts gathered, the proposal made from them, checked by
/// running the command under it (`--verify`), printed.
struct Whole<'a> {
    conn: &'a Manager,
    host: &'a Host,
    /// The root of the system the command ran on, as seen from here.
    root: &'a Path,
    command: &'a TraceCommand,
    trace: &'a TraceResult,
    suggestion: &'a core::Suggestion,
    stopped: bool,
    direct: bool,
}

impl Whole<'_> {
    /// Propose, verify with `--verify`, print; the verification, if any.
    fn report(
        &self,
        args: &SuggestArgs,
        subject: &Subject,
        tell: &dyn Fn(&str),
    ) -> Result<Option<WholeVerification>> {
        let files = FileFacts::gather(self.root, &self.trace.facts);
        // `exec` needs an absolute program: a unit's trace resolved it already, a child of
        // sandgen found it in PATH.
        let mut argv = self.command.argv().to_vec();
        if !argv[0].starts_with('/') {
            let path_var = std::env::var_os("PATH").unwrap_or_default();
            if let Ok(found) = crate::trace::find_program(&argv[0], &path_var) {
                argv[0] = std::fs::canonicalize(&found)
                    .unwrap_or(found)
                    .display()
                    .to_string();
            }
        }
        if let Some(arg) = argv.iter().find(|a| a.chars().any(char::is_control)) {
            bail!(
                "the argument {arg:?} has a control character, which a unit file cannot hold: \
                 no policy can run this command as it is (put the script in a file, or join \
                 its lines with `;`)"
            );
        }
        let propose = |seccomp: &core::Suggestion, relaxed: &[Relaxed]| {
            let facts = WholeFacts {
                command: &argv,
                exit: &self.trace.exit_status,
                stopped: self.stopped,
                trace: &self.trace.facts,
                files: &files,
                non_native_abi: self.trace.non_native_abi,
                seccomp,
                processes: self.trace.processes,
            };
            let proposal = whole::propose(
                &facts,
                &WholeOptions {
                    target: self.host.version(),
                    error_number: args.error_number.clone(),
                    relaxed: relaxed.to_vec(),
                },
            );
            let text = proposal.to_toml();
            // What sandgen proposes, sandgen must accept: a failure here is sandgen's bug.
            let loaded = self.host.load("whole.toml", text.clone()).context(
                "sandgen's whole suggestion is not a valid policy (a bug: please report it)",
            )?;
            Ok::<_, anyhow::Error>((proposal, text, loaded.directives))
        };
        let failed = !self.trace.exit_status.success() && !self.stopped;
        let (mut proposal, mut text, _) = propose(self.suggestion, &[])?;
        let mut verification = None;
        if args.verify && !failed {
            let (v, p, t) = self.verify(args, &argv, tell, &propose)?;
            verification = Some(v);
            proposal = p;
            text = t;
        }
        let verified_ok = verification.as_ref().is_none_or(|v| v.passed);
        let mut written = None;
        if args.write && verified_ok && (!failed || args.allow_failure) {
            if let Some((path, original)) = &subject.policy_file {
                written = Some(write_whole(self.host, path, original, &proposal)?);
            }
        }
        if args.json {
            let out = WholeOutput {
                command: self.command.argv(),
                mode: if self.direct { "direct" } else { "unit" },
                exit_status: &self.trace.exit_status,
                facts: &self.trace.facts,
                proposal: &proposal,
                policy_toml: &text,
                verify: verification.as_ref(),
                written: written.map(|p| p.display().to_string()),
            };
            outln!("{}", serde_json::to_string_pretty(&out)?)?;
        } else {
            let verified = verification
                .as_ref()
                .map(WholeVerification::to_text)
                .unwrap_or_default();
            super::output::stdout_fmt(format_args!("{verified}{text}"))?;
        }
        Ok(verification)
    }

    /// The closed loop: run the command under the whole proposal in a transient unit; when
    /// it does not end as traced, trace it under the proposal (without the filter) and
    /// relax the setting its failed calls point at ([`whole::blame`]), or allow the calls
    /// the filter killed it for; at most [`core::WIDEN_LIMIT`] rounds.
    fn verify(
        &self,
        args: &SuggestArgs,
        argv: &[String],
        tell: &dyn Fn(&str),
        propose: &Proposer<'_>,
    ) -> Result<(WholeVerification, whole::Proposal, String)> {
        let table = self.host.syscalls();
        let mut seccomp = self.suggestion.clone();
        let mut relaxed: Vec<Relaxed> = Vec::new();
        let mut v = WholeVerification::default();
        let expected = |exit: &ExitStatusInfo| {
            exit.success() || (self.stopped && *exit == stopped_by_sandgen())
        };
        loop {
            let (proposal, text, directives) = propose(&seccomp, &relaxed)?;
            let tracer =
                UnitTracer::new(self.conn, &directives, args.stop_after, tell).with_fd_paths(true);
            let run = tracer.runner("verify", |_| true).run_unit(argv, None)?;
            let exit = run.exit.clone();
            let mut round = WholeRound {
                unit: run.unit,
                exit_status: exit.clone(),
                relaxed: None,
                widened: Vec::new(),
            };
            if exit.as_ref().is_some_and(expected) {
                v.rounds.push(round);
                v.passed = true;
                let after = match v.rounds.len() - 1 {
                    0 => String::new(),
                    1 => ", after one change".to_owned(),
                    n => format!(", after {n} changes"),
                };
                v.message = format!(
                    "the command ends as traced ({}) under the whole policy{after}",
                    self.trace.exit_status
                );
                return Ok((v, proposal, text));
            }
            let exit_text = exit
                .as_ref()
                .map_or("did not run".to_owned(), ToString::to_string);
            if v.rounds.len() >= core::WIDEN_LIMIT {
                v.rounds.push(round);
                v.message = format!(
                    "it still {exit_text} after {} runs; giving up",
                    core::WIDEN_LIMIT
                );
                return Ok((v, proposal, text));
            }
            // Why: a trace under the same sandbox, without the filter.
            let command = TraceCommand::new(argv.to_vec())?;
            let confined = tracer.trace(&command, &args.strace, false)?;
            // Calls it makes under the sandbox that the list lacks are refused whichever
            // process makes them (a child killed by SIGSYS can end the command with a mere
            // status): allow those first.
            let missing: BTreeSet<String> = confined
                .syscalls
                .iter()
                .chain(&self.trace.syscalls)
                .filter(|c| table.is_syscall(c) && seccomp.entry_allowing(c, table).is_none())
                .cloned()
                .collect();
            for call in &missing {
                seccomp = core::widen(&seccomp, call, table)?;
            }
            if !missing.is_empty() {
                let missing: Vec<String> = missing.into_iter().collect();
                tell(&format!(
                    "verify run {}: {exit_text} under the whole policy; allowing {}",
                    v.rounds.len() + 1,
                    missing.join(", ")
                ));
                round.widened = missing;
                v.rounds.push(round);
                continue;
            }
            let next = whole::blame(&self.trace.facts, &confined.facts)
                .into_iter()
                .find(|c| !relaxed.iter().any(|r| r.relaxation == c.relaxation));
            let Some(next) = next else {
                let journal = self.conn.journal_lines(&round.unit);
                v.rounds.push(round);
                v.message = format!(
                    "it {exit_text} under the whole policy, not {} as when traced, and no call \
                     that failed under it points at a setting{journal}",
                    self.trace.exit_status
                );
                return Ok((v, proposal, text));
            };
            tell(&format!(
                "verify run {}: {exit_text} under the whole policy; {}, for {}",
                v.rounds.len() + 1,
                next.setting(),
                next.evidence
            ));
            round.relaxed = Some(next.clone());
            relaxed.push(next);
            v.rounds.push(round);
        }
    }
}

/// Makes the whole proposal for an allow-list and the relaxations so far: the proposal,
/// its TOML, and the directives it loads as.
type Proposer<'a> =
    dyn Fn(&core::Suggestion, &[Relaxed]) -> Result<(whole::Proposal, String, Vec<Directive>)> + 'a;

/// Write the settings of `proposal` the trace decided into the policy at `path`, keeping
/// everything else, validated before it is written.
fn write_whole(
    host: &Host,
    path: &Path,
    original: &str,
    proposal: &whole::Proposal,
) -> Result<PathBuf> {
    rewrite_policy(
        host,
        path,
        original,
        |text| core::write::write_settings(text, &proposal.decided()),
        ("these settings", "the settings the trace decided"),
    )
}

/// What `sandgen suggest --whole --json` prints.
#[derive(Debug, Serialize)]
struct WholeOutput<'a> {
    /// The traced command.
    command: &'a [String],
    /// `"unit"` or `"direct"`.
    mode: &'static str,
    /// How it ended.
    exit_status: &'a ExitStatusInfo,
    /// What the trace showed.
    facts: &'a TraceFacts,
    /// Every setting, with its reason and verdict.
    proposal: &'a whole::Proposal,
    /// The policy as TOML, as the text output prints it.
    policy_toml: &'a str,
    /// The closed loop, with --verify.
    verify: Option<&'a WholeVerification>,
    /// The policy file rewritten, with --write.
    written: Option<String>,
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
        let verified = self.verify.map(Verification::to_text).unwrap_or_default();
        verified + &self.report.to_text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directive::{Kind, UnitSection};

    #[test]
    fn policy_exec_is_found() {
        let d = Directive {
            section: UnitSection::Service,
            name: Name::ExecStart,
            value: DirectiveValue::Command(vec!["/bin/true".into()]),
            kind: Kind::Command,
            origin: "service.exec".into(),
        };
        assert_eq!(exec_of(&[d]), Some(vec!["/bin/true".to_owned()]));
        assert_eq!(exec_of(&[]), None);
    }
}
