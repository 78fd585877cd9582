//! The closed loop of `sandgen suggest --verify`, as pure decisions: given how a run under
//! the suggested filter ended and what the kernel logged, did the list pass, which calls does
//! it lack, or can nothing tell?
//!
//! The command runs again with the suggested `SystemCallFilter=`; a call the list lacks then
//! kills it (SIGSYS) and the kernel writes a seccomp audit record naming the call. The calls
//! the records name that the list does not allow are added ([`super::widen`]) and the run
//! repeated, at most [`WIDEN_LIMIT`] times. When the kernel log cannot say (unreadable), or
//! names nothing while the run ended differently from the trace, a second trace of the
//! command supplies the calls the first one missed.
//!
//! [`ClosedLoop::judge`] decides one round; the caller runs the commands, reads the log and,
//! when the judge asks for it, takes the second trace.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{shell_words, widen, Suggestion, WIDEN_LIMIT};
use crate::data::syscalls::SyscallTable;
use crate::trace::audit::{SeccompAction, SeccompRecord, BARRIER_PREFIX};
use crate::trace::{ExitStatusInfo, TraceResult};

/// The closed loop's result.
#[derive(Debug, Serialize)]
pub struct Verification {
    /// The command ended as it did when traced, and the kernel logged no refused call.
    pub passed: bool,
    /// What happened, in one sentence.
    pub message: String,
    /// Each run under a filter.
    pub rounds: Vec<Round>,
}

impl Verification {
    /// The verdict and one line a run, as TOML comments.
    pub fn to_text(&self) -> String {
        let word = if self.passed {
            "Verified"
        } else {
            "NOT verified"
        };
        let mut out = format!("# {word}: {}\n", self.message);
        for (i, r) in self.rounds.iter().enumerate() {
            out.push_str(&format!("#   run {}: {}\n", i + 1, r.summary()));
        }
        out
    }
}

/// One run under a suggested filter.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    /// The transient unit.
    pub unit: String,
    /// The list it ran with.
    pub allow: Vec<String>,
    /// How the command ended (`None`: it never ran).
    pub exit_status: Option<ExitStatusInfo>,
    /// Calls found refused, which the next round allows.
    pub refused: Vec<String>,
    /// Where `refused` came from: `"kernel log"` or `"second trace"`.
    pub evidence: Option<&'static str>,
    /// The seccomp records the kernel wrote during the run.
    pub records: Vec<SeccompRecord>,
}

impl Round {
    /// How the run ended and what it was refused, in words.
    pub fn summary(&self) -> String {
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

/// What one run under the filter showed.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// The transient unit it ran as.
    pub unit: String,
    /// How the command ended (`None`: it never ran).
    pub exit: Option<ExitStatusInfo>,
    /// The seccomp records the kernel wrote during the run; `None` when the kernel log
    /// cannot say.
    pub records: Option<Vec<SeccompRecord>>,
}

/// What the loop asks for next.
#[derive(Debug)]
pub enum Step {
    /// Run `run` was refused these calls; the list now allows them: run again.
    Widened {
        /// The number of the run, from 1.
        run: usize,
        /// The calls added.
        refused: Vec<String>,
    },
    /// The loop is over.
    Done {
        /// The verdict and every round.
        verification: Verification,
        /// The last run ended differently and nothing names a call it was refused: its
        /// unit's journal may say why.
        unexplained: bool,
    },
}

/// How a unit's command ends when `--stop-after` stops it (systemd's default `KillSignal=`).
pub fn stopped_by_sandgen() -> ExitStatusInfo {
    ExitStatusInfo::killed_by(nix::sys::signal::Signal::SIGTERM as i32, false)
}

/// Whether two runs ended the same way (a signal's core dump aside).
pub fn same_end(a: &ExitStatusInfo, b: &ExitStatusInfo) -> bool {
    match (a, b) {
        (ExitStatusInfo::Exited { code: x }, ExitStatusInfo::Exited { code: y }) => x == y,
        (ExitStatusInfo::Killed { signal: s, .. }, ExitStatusInfo::Killed { signal: t, .. }) => {
            s == t
        }
        _ => false,
    }
}

/// The records that name a process of this command, when some do; else all of them.
///
/// The kernel log is shared by every process on the machine (and its containers), so a
/// record written during the run may be another unit's. The kernel sets `comm` to the base
/// name of the path given to execve(2), at most 15 bytes; the trace saw those paths. A run
/// that executes something the trace never saw has no matching record: then every record of
/// the run is taken, and one that is not ours at worst widens the list by a call.
pub fn ours<'r>(
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

/// The closed loop over one traced command: the list so far and the rounds run under it.
pub struct ClosedLoop<'a> {
    command: String,
    trace: &'a TraceResult,
    table: &'a SyscallTable,
    suggestion: Suggestion,
    rounds: Vec<Round>,
}

impl<'a> ClosedLoop<'a> {
    /// The loop for `argv`, traced as `trace`, starting from `suggestion`.
    pub fn new(
        argv: &[String],
        trace: &'a TraceResult,
        suggestion: Suggestion,
        table: &'a SyscallTable,
    ) -> Self {
        ClosedLoop {
            command: shell_words(argv),
            trace,
            table,
            suggestion,
            rounds: Vec::new(),
        }
    }

    /// The list to run under next.
    pub fn allow(&self) -> &[String] {
        &self.suggestion.allow
    }

    /// The list as it stands (widened by every round so far).
    pub fn into_suggestion(self) -> Suggestion {
        self.suggestion
    }

    /// Judge one run under [`ClosedLoop::allow`]. `name_of` names the call of a seccomp
    /// record (from the kernel headers of its architecture). `second_trace` traces the
    /// command again and returns the calls it made; it is called only when nothing in the
    /// kernel log names a refused call while the run ended differently from the trace, or
    /// the log cannot say.
    ///
    /// # Errors
    ///
    /// Those of `second_trace`.
    pub fn judge<E>(
        &mut self,
        run: &RunFacts,
        name_of: &dyn Fn(&SeccompRecord) -> Option<String>,
        second_trace: impl FnOnce() -> Result<BTreeSet<String>, E>,
    ) -> Result<Step, E> {
        let same = run
            .exit
            .as_ref()
            .is_some_and(|e| same_end(e, &self.trace.exit_status));
        let log_says = run.records.is_some();
        let records = run.records.as_deref().unwrap_or_default();
        let mut refused = BTreeSet::new();
        let mut unnamed = Vec::new();
        let mut already = Vec::new();
        for r in ours(records, &self.trace.executables) {
            if !matches!(
                r.action,
                SeccompAction::KillProcess | SeccompAction::KillThread | SeccompAction::Trap
            ) {
                continue;
            }
            match name_of(r) {
                Some(name) if self.suggestion.entry_allowing(&name, self.table).is_none() => {
                    refused.insert(name);
                }
                // Allowed by the list: another unit's record, or the deny list or
                // SystemCallArchitectures= refused it.
                Some(name) => already.push(name),
                None => unnamed.push(format!("syscall {} of arch {:#x}", r.syscall, r.arch)),
            }
        }
        let mut evidence = None;
        // A kill the log records but nothing can name is a refusal all the same: the run
        // may end as traced (a child killed, its parent going on), and only a trace tells.
        if refused.is_empty() && (!same || !log_says || !unnamed.is_empty()) {
            // The kernel named nothing the list refuses, or cannot say: look with a trace.
            let again = second_trace()?;
            let allowed = self.suggestion.allowed_syscalls(self.table);
            refused = again
                .iter()
                .filter(|n| !allowed.contains(*n) && self.table.is_syscall(n))
                .cloned()
                .collect();
            if !refused.is_empty() {
                evidence = Some("second trace");
            }
        } else if !refused.is_empty() {
            evidence = Some("kernel log");
        }
        let mut round = Round {
            unit: run.unit.clone(),
            allow: self.suggestion.allow.clone(),
            exit_status: run.exit.clone(),
            refused: Vec::new(),
            evidence,
            records: records.to_vec(),
        };
        let command = &self.command;
        if same && refused.is_empty() {
            let widened = &self.suggestion.widened;
            let how = if widened.is_empty() {
                "as suggested".to_owned()
            } else {
                format!("after widening by {}", widened.join(", "))
            };
            let mut message = format!(
                "`{command}` {} under the suggested filter {how} ({} run{})",
                self.trace.exit_status,
                self.rounds.len() + 1,
                if self.rounds.is_empty() { "" } else { "s" }
            );
            if !log_says {
                message.push_str(
                    "; the kernel log could not say whether a call was refused, a second \
                     trace found no call the list lacks",
                );
            } else if !unnamed.is_empty() {
                message.push_str(&format!(
                    "; the kernel logged {} refused (no table names it), a second trace found \
                     no call the list lacks",
                    unnamed.join(", ")
                ));
            }
            self.rounds.push(round);
            return Ok(self.done(true, message, false));
        }
        if refused.is_empty() {
            let ended = run
                .exit
                .as_ref()
                .map_or_else(|| "did not run".to_owned(), ToString::to_string);
            let mut why = format!(
                "`{command}` {ended} under the suggested filter, not {} as when traced, and \
                 neither the kernel log nor a second trace names a call the list refuses",
                self.trace.exit_status
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
            self.rounds.push(round);
            return Ok(self.done(false, why, true));
        }
        round.refused = refused.iter().cloned().collect();
        self.rounds.push(round);
        for name in &refused {
            if self.suggestion.widened.len() >= WIDEN_LIMIT {
                let why = format!(
                    "`{command}` was still refused calls after {WIDEN_LIMIT} widenings; \
                     it does not converge on a list (last refused: {})",
                    refused.iter().cloned().collect::<Vec<_>>().join(", ")
                );
                return Ok(self.done(false, why, false));
            }
            match widen(&self.suggestion, name, self.table) {
                Ok(wider) => self.suggestion = wider,
                Err(e) => return Ok(self.done(false, e.to_string(), false)),
            }
        }
        Ok(Step::Widened {
            run: self.rounds.len(),
            refused: refused.into_iter().collect(),
        })
    }

    fn done(&mut self, passed: bool, message: String, unexplained: bool) -> Step {
        Step::Done {
            verification: Verification {
                passed,
                message,
                rounds: std::mem::take(&mut self.rounds),
            },
            unexplained,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suggest::suggest;
    use crate::trace::audit::AUDIT_ARCH_X86_64;

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

    fn record(comm: &str, syscall: u32) -> SeccompRecord {
        SeccompRecord {
            pid: 1,
            comm: Some(comm.to_owned()),
            exe: None,
            arch: AUDIT_ARCH_X86_64,
            syscall,
            action: SeccompAction::KillProcess,
        }
    }

    #[test]
    fn records_of_the_traced_programs_are_preferred() {
        let exes: BTreeSet<String> = ["/usr/bin/sh", "/usr/lib/x/a-very-long-program-name"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let records = [
            record("uname", 63),
            record("sh", 41),
            record("a-very-long-pro", 42),
            record(&format!("{BARRIER_PREFIX}00001-1"), 1),
        ];
        let picked: Vec<u32> = ours(&records, &exes).iter().map(|r| r.syscall).collect();
        assert_eq!(picked, [41, 42]);
        // None of ours: all of them (a program the trace did not see), barriers aside.
        let picked: Vec<u32> = ours(&[records[0].clone(), records[3].clone()], &exes)
            .iter()
            .map(|r| r.syscall)
            .collect();
        assert_eq!(picked, [63]);
    }

    /// `sh` traced making `read`, `write` and `exit_group` and exiting with status 0, and
    /// the built-in system call table.
    fn fixture() -> (TraceResult, SyscallTable) {
        let trace = TraceResult {
            syscalls: ["read", "write", "exit_group"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
            exit_status: ExitStatusInfo::exited(0),
            executables: ["/bin/sh".to_owned()].into_iter().collect(),
            processes: 1,
            non_native_abi: false,
            trace_file: None,
            facts: Default::default(),
        };
        (trace, SyscallTable::built_in())
    }

    /// The loop of `argv` from the suggestion for its trace.
    fn start<'a>(argv: &[&str], trace: &'a TraceResult, table: &'a SyscallTable) -> ClosedLoop<'a> {
        let argv: Vec<String> = argv.iter().map(|a| (*a).to_owned()).collect();
        ClosedLoop::new(&argv, trace, suggest(&trace.syscalls, table), table)
    }

    /// A second trace that must not be needed.
    fn no_trace() -> Result<BTreeSet<String>, String> {
        Err("no second trace expected".to_owned())
    }

    /// x86_64 numbers of the calls these tests name.
    fn name_of(r: &SeccompRecord) -> Option<String> {
        match r.syscall {
            165 => Some("mount".to_owned()),
            0 => Some("read".to_owned()),
            _ => None,
        }
    }

    fn run(n: usize, exit: ExitStatusInfo, records: Option<Vec<SeccompRecord>>) -> RunFacts {
        RunFacts {
            unit: format!("sandgen-verify-1-{n}.service"),
            exit: Some(exit),
            records,
        }
    }

    /// The verification and whether it is unexplained, when the loop is over.
    fn done(step: Result<Step, String>) -> (Verification, bool) {
        match step {
            Ok(Step::Done {
                verification,
                unexplained,
            }) => (verification, unexplained),
            other => panic!("not done: {other:?}"),
        }
    }

    #[test]
    fn a_run_that_ends_as_traced_with_nothing_refused_passes() {
        let (trace, table) = fixture();
        let mut closed = start(&["/bin/sh", "-c", "true"], &trace, &table);
        let facts = run(0, ExitStatusInfo::exited(0), Some(vec![]));
        let (verification, unexplained) = done(closed.judge(&facts, &name_of, no_trace));
        assert!(verification.passed && !unexplained);
        assert_eq!(
            verification.to_text(),
            "# Verified: `/bin/sh -c true` exited with status 0 under the suggested filter as \
             suggested (1 run)\n#   run 1: exited with status 0, no call refused\n"
        );
    }

    #[test]
    fn a_call_the_kernel_log_names_widens_the_list_until_the_run_passes() {
        let (trace, table) = fixture();
        let mut closed = start(&["/bin/sh"], &trace, &table);
        let killed = ExitStatusInfo::killed_by(31, true);
        let facts = run(0, killed, Some(vec![record("sh", 165)]));
        let step = closed.judge(&facts, &name_of, no_trace);
        let Ok(Step::Widened { run: 1, refused }) = step else {
            panic!("{step:?}")
        };
        assert_eq!(refused, ["mount"]);
        assert!(closed.allow().contains(&"mount".to_owned()));
        let facts = run(1, ExitStatusInfo::exited(0), Some(vec![]));
        let (verification, _) = done(closed.judge(&facts, &name_of, no_trace));
        assert!(verification.passed);
        assert_eq!(
            verification.message,
            "`/bin/sh` exited with status 0 under the suggested filter after widening by mount \
             (2 runs)"
        );
        assert_eq!(
            verification.rounds[0].summary(),
            "killed by SIGSYS (core dumped); refused mount (kernel log)"
        );
        assert_eq!(closed.into_suggestion().widened, ["mount"]);
    }

    #[test]
    fn without_the_kernel_log_a_second_trace_decides() {
        let (trace, table) = fixture();
        let mut closed = start(&["/bin/sh"], &trace, &table);
        // The run ends differently, the log cannot say: the second trace names `mount`.
        let facts = run(0, ExitStatusInfo::exited(1), None);
        let step = closed.judge(&facts, &name_of, || {
            Ok::<_, String>(["read", "mount"].into_iter().map(str::to_owned).collect())
        });
        let Ok(Step::Widened { run: 1, refused }) = step else {
            panic!("{step:?}")
        };
        assert_eq!(refused, ["mount"]);
        // Then it ends as traced, the log still cannot say, and a second trace finds nothing.
        let facts = run(1, ExitStatusInfo::exited(0), None);
        let second = || Ok::<_, String>(trace.syscalls.clone());
        let (verification, _) = done(closed.judge(&facts, &name_of, second));
        assert!(verification.passed);
        assert_eq!(
            verification.rounds[0].summary(),
            "exited with status 1; refused mount (second trace)"
        );
        assert!(
            verification.message.ends_with(
                "; the kernel log could not say whether a call was refused, a second trace \
                 found no call the list lacks"
            ),
            "{}",
            verification.message
        );
    }

    #[test]
    fn a_refusal_nothing_names_is_looked_for_with_a_second_trace() {
        let (trace, table) = fixture();
        let mut closed = start(&["/bin/sh"], &trace, &table);
        // A child is killed at a call no table names (999), and the shell goes on to end
        // as traced: not a pass, a second trace must look (here it finds `mount`).
        let facts = run(0, ExitStatusInfo::exited(0), Some(vec![record("sh", 999)]));
        let step = closed.judge(&facts, &name_of, || {
            Ok::<_, String>(["read", "mount"].into_iter().map(str::to_owned).collect())
        });
        let Ok(Step::Widened { run: 1, refused }) = step else {
            panic!("{step:?}")
        };
        assert_eq!(refused, ["mount"]);
        let facts = run(1, ExitStatusInfo::exited(0), Some(vec![record("sh", 999)]));
        let second = || Ok::<_, String>(trace.syscalls.clone());
        let (verification, _) = done(closed.judge(&facts, &name_of, second));
        assert!(verification.passed);
        assert!(
            verification.message.ends_with(
                "; the kernel logged syscall 999 of arch 0xc000003e refused (no table names \
                 it), a second trace found no call the list lacks"
            ),
            "{}",
            verification.message
        );
    }

    #[test]
    fn a_different_end_that_nothing_explains_fails_and_asks_for_the_journal() {
        let (trace, table) = fixture();
        let mut closed = start(&["/bin/sh"], &trace, &table);
        // The kernel logs `read` refused, which the list allows: the deny list did it.
        let facts = run(0, ExitStatusInfo::exited(1), Some(vec![record("sh", 0)]));
        let second = || Ok::<_, String>(trace.syscalls.clone());
        let (verification, unexplained) = done(closed.judge(&facts, &name_of, second));
        assert!(!verification.passed && unexplained);
        assert_eq!(
            verification.message,
            "`/bin/sh` exited with status 1 under the suggested filter, not exited with status 0 \
             as when traced, and neither the kernel log nor a second trace names a call the list \
             refuses; the kernel log shows read refused, which the list allows (`[seccomp] deny` \
             or `architectures`?)"
        );
    }

    #[test]
    fn the_loop_gives_up_after_the_widening_limit() {
        let (trace, table) = fixture();
        let mut closed = start(&["/bin/sh"], &trace, &table);
        closed.suggestion.widened = vec!["x".to_owned(); WIDEN_LIMIT];
        let facts = run(
            0,
            ExitStatusInfo::killed_by(31, false),
            Some(vec![record("sh", 165)]),
        );
        let (verification, unexplained) = done(closed.judge(&facts, &name_of, no_trace));
        assert!(!verification.passed && !unexplained);
        assert_eq!(
            verification.message,
            format!(
                "`/bin/sh` was still refused calls after {WIDEN_LIMIT} widenings; it does not \
                 converge on a list (last refused: mount)"
            )
        );
    }
}
