//! What systemd says about a unit, and how sandgen puts it into words.
//!
//! Plain data gathered over D-Bus ([`UnitStatus`]) and pure functions over it: whether a
//! start succeeded, and why not, in the words of systemd.service(5) ("exited with status
//! 2", "killed by signal SIGSYS").

use crate::paint::{Paint, Tone};
use serde::Serialize;

use crate::data::signals::signal_name;

/// `CLD_EXITED`, `CLD_KILLED`, `CLD_DUMPED`: how the main process ended (waitid(2)).
const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;
const CLD_DUMPED: i32 = 3;

/// A unit's state as systemd reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitStatus {
    /// The unit name.
    pub unit: String,
    /// `loaded`, `not-found`, `bad-setting`, `masked`, ...
    pub load_state: String,
    /// `active`, `inactive`, `failed`, `activating`, ...
    pub active_state: String,
    /// The type-specific state (`running`, `exited`, `dead`, ...).
    pub sub_state: String,
    /// The service's result (`success`, `exit-code`, `signal`, `oom-kill`, ...).
    pub result: String,
    /// The main process, in the PID namespace of the systemd instance; 0 when none.
    pub main_pid: u32,
    /// How the last main process ended (`CLD_*`), 0 if it has not.
    pub exec_main_code: i32,
    /// Its exit status or signal number.
    pub exec_main_status: i32,
    /// When the unit last entered the active state, in µs since the epoch (0: never).
    pub active_enter_timestamp: u64,
    /// Memory in use by the cgroup in bytes, when accounted.
    pub memory_current: Option<u64>,
    /// Tasks in the cgroup, when accounted.
    pub tasks_current: Option<u64>,
    /// The unit's cgroup path.
    pub control_group: String,
    /// The unit file systemd loaded, if any.
    pub fragment_path: String,
    /// Whether the unit file changed on disk since systemd loaded it.
    pub need_daemon_reload: bool,
    /// `running`, `frozen`, `freezing`, `thawing`.
    pub freezer_state: String,
    /// The securebits systemd sets for the service (its `SecureBits` property, the
    /// `SecureBits=` of the unit); `None` when not read. The process's own securebits are
    /// not visible from outside it (`inspect --caps` says so): this is what was asked.
    #[serde(skip)]
    pub secure_bits: Option<i32>,
}

/// systemd reports "not available" counters as `UINT64_MAX`.
pub fn counter(value: u64) -> Option<u64> {
    (value != u64::MAX).then_some(value)
}

impl UnitStatus {
    /// How the main process ended, in words, if it has.
    pub fn main_exit(&self) -> Option<String> {
        match self.exec_main_code {
            CLD_EXITED => Some(format!("exited with status {}", self.exec_main_status)),
            CLD_KILLED => Some(format!(
                "killed by signal {}",
                signal_name(self.exec_main_status)
            )),
            CLD_DUMPED => Some(format!(
                "dumped core on signal {}",
                signal_name(self.exec_main_status)
            )),
            _ => None,
        }
    }

    /// Whether the service is (or ended) fine: running, starting, or finished successfully.
    pub fn is_ok(&self) -> bool {
        match self.active_state.as_str() {
            "active" | "activating" | "reloading" => true,
            "inactive" => self.result == "success",
            _ => false,
        }
    }

    /// `active (running)`, in systemctl's colour for the state: `active` (and `reloading`)
    /// green, `failed` red.
    pub fn state_in(&self, paint: Paint) -> String {
        let tone = match self.active_state.as_str() {
            "active" | "reloading" => Some(Tone::Good),
            "failed" => Some(Tone::Bad),
            _ => None,
        };
        paint.tone(&format!("{} ({})", self.active_state, self.sub_state), tone)
    }

    /// One line: `active (running), main PID 42`.
    pub fn summary(&self) -> String {
        self.summary_in(Paint::PLAIN)
    }

    /// [`Self::summary`] with the state in colour, as systemctl shows it: `active` (and
    /// `reloading`) green, `failed` red.
    pub fn summary_in(&self, paint: Paint) -> String {
        let mut s = self.state_in(paint);
        if self.main_pid != 0 {
            s.push_str(&format!(", main PID {}", self.main_pid));
        }
        if !self.result.is_empty() && self.result != "success" {
            s.push_str(&format!(", result {}", self.result));
        }
        if let Some(exit) = self.main_exit().filter(|_| self.main_pid == 0) {
            s.push_str(&format!(", main process {exit}"));
        }
        s
    }

    /// How a start went once the unit settled, its job having ended with `job_result`: the
    /// line to report (`active (running), main PID 42`), or why it failed ([`Self::failure`]).
    ///
    /// # Errors
    ///
    /// Why the start failed, in words.
    pub fn start_outcome(&self, job_result: &str) -> Result<String, String> {
        if job_result == "done" && self.is_ok() {
            return Ok(self.summary());
        }
        if job_result == "done" && self.load_state == "not-found" {
            // A transient unit that finished successfully is unloaded at once
            // (CollectMode=inactive): a failed one stays loaded in the failed state.
            return Ok("ran to completion".to_owned());
        }
        Err(self.failure(job_result))
    }

    /// Why a start failed, in words: state, result and how the main process ended.
    pub fn failure(&self, job_result: &str) -> String {
        let mut why = Vec::new();
        if job_result != "done" {
            why.push(format!("the start job ended with result \"{job_result}\""));
        }
        why.push(format!(
            "the unit is {} ({}), result \"{}\"",
            self.active_state, self.sub_state, self.result
        ));
        if let Some(exit) = self.main_exit() {
            let hint = if self.exec_main_code == CLD_KILLED && self.exec_main_status == 31 {
                " (a system call outside its SystemCallFilter=; `sandgen suggest` traces the ones it needs)"
            } else if self.result == "oom-kill" {
                " (its memory limit was reached)"
            } else {
                ""
            };
            why.push(format!("the main process {exit}{hint}"));
        }
        why.join("; ")
    }
}

/// What `sandgen status` reports: what systemd says about a unit, and what sandgen adds;
/// `--json` serialises it as it is.
#[derive(Debug, Serialize)]
pub struct StatusReport {
    /// systemd's view.
    #[serde(flatten)]
    pub status: UnitStatus,
    /// When the unit last became active, in UTC.
    pub since: Option<String>,
    /// Whether its unit file was generated by sandgen.
    pub generated_by_sandgen: bool,
}

impl StatusReport {
    /// The report of `status`, whose unit file sandgen generated or not.
    pub fn new(status: UnitStatus, generated_by_sandgen: bool) -> Self {
        let since = (status.active_enter_timestamp != 0)
            .then(|| crate::text::utc(status.active_enter_timestamp));
        StatusReport {
            status,
            since,
            generated_by_sandgen,
        }
    }

    /// A summary line and one row a fact, for a terminal (no final newline).
    pub fn to_text(&self) -> String {
        self.to_text_in(Paint::PLAIN)
    }

    /// [`Self::to_text`] with the state in colour ([`UnitStatus::summary_in`]).
    pub fn to_text_in(&self, paint: Paint) -> String {
        let status = &self.status;
        let mut text = format!("{}: {}\n", status.unit, status.summary_in(paint));
        let mut row = |k: &str, v: String| text.push_str(&format!("  {k:<10} {v}\n"));
        row(
            "loaded",
            format!(
                "{} ({})",
                status.load_state,
                if status.fragment_path.is_empty() {
                    "transient or generated"
                } else {
                    &status.fragment_path
                }
            ),
        );
        row(
            "sandgen",
            if self.generated_by_sandgen {
                "generated by sandgen".into()
            } else {
                "not generated by sandgen".into()
            },
        );
        if let Some(since) = &self.since {
            row("since", since.clone());
        }
        if let Some(m) = status.memory_current {
            row("memory", format!("{:.1}M", m as f64 / 1048576.0));
        }
        if let Some(t) = status.tasks_current {
            row("tasks", t.to_string());
        }
        if !status.control_group.is_empty() {
            row("cgroup", status.control_group.clone());
        }
        if let Some(exit) = status.main_exit().filter(|_| status.main_pid == 0) {
            row(
                "last run",
                format!("main process {exit}, result {}", status.result),
            );
        }
        if status.freezer_state == "frozen" {
            row("freezer", "frozen".into());
        }
        text.trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(active: &str, result: &str, code: i32, st: i32) -> UnitStatus {
        UnitStatus {
            unit: "x.service".into(),
            active_state: active.into(),
            sub_state: "failed".into(),
            result: result.into(),
            exec_main_code: code,
            exec_main_status: st,
            ..Default::default()
        }
    }

    #[test]
    fn names_the_signal_a_seccomp_filter_sends() {
        let s = status("failed", "signal", CLD_KILLED, 31);
        assert!(!s.is_ok());
        assert_eq!(
            s.failure("done"),
            "the unit is failed (failed), result \"signal\"; the main process killed by signal SIGSYS (a system call outside its SystemCallFilter=; `sandgen suggest` traces the ones it needs)"
        );
    }

    #[test]
    fn a_clean_exit_is_a_success() {
        assert!(status("inactive", "success", CLD_EXITED, 0).is_ok());
        assert!(!status("inactive", "exit-code", CLD_EXITED, 2).is_ok());
        assert_eq!(
            status("failed", "exit-code", CLD_EXITED, 2)
                .main_exit()
                .as_deref(),
            Some("exited with status 2")
        );
    }

    #[test]
    fn a_start_succeeds_while_the_unit_runs_or_after_it_ran_to_completion() {
        let running = UnitStatus {
            active_state: "active".into(),
            sub_state: "running".into(),
            main_pid: 42,
            ..status("active", "success", 0, 0)
        };
        assert_eq!(
            running.start_outcome("done").as_deref(),
            Ok("active (running), main PID 42")
        );
        let gone = UnitStatus {
            load_state: "not-found".into(),
            ..status("inactive", "", 0, 0)
        };
        assert_eq!(
            gone.start_outcome("done").as_deref(),
            Ok("ran to completion")
        );
        assert_eq!(
            status("failed", "exit-code", CLD_EXITED, 2).start_outcome("failed"),
            Err("the start job ended with result \"failed\"; the unit is failed (failed), result \"exit-code\"; the main process exited with status 2".to_owned())
        );
    }

    #[test]
    fn the_status_report_has_a_row_a_fact() {
        let s = UnitStatus {
            load_state: "loaded".into(),
            fragment_path: "/etc/systemd/system/x.service".into(),
            main_pid: 42,
            sub_state: "running".into(),
            active_enter_timestamp: 1_796_000_000_000_000,
            memory_current: Some(3 << 19),
            tasks_current: Some(2),
            control_group: "/system.slice/x.service".into(),
            freezer_state: "frozen".into(),
            ..status("active", "success", 0, 0)
        };
        let report = StatusReport::new(s, true);
        assert_eq!(
            report.to_text(),
            "x.service: active (running), main PID 42\n  \
             loaded     loaded (/etc/systemd/system/x.service)\n  \
             sandgen    generated by sandgen\n  \
             since      2026-11-30 00:53:20 UTC\n  \
             memory     1.5M\n  \
             tasks      2\n  \
             cgroup     /system.slice/x.service\n  \
             freezer    frozen"
        );
        let json = serde_json::to_value(&report).expect("json");
        assert_eq!(json["since"], "2026-11-30 00:53:20 UTC");
        assert_eq!(json["generated_by_sandgen"], true);
        assert_eq!(json["unit"], "x.service");
    }

    #[test]
    fn unavailable_counters() {
        assert_eq!(counter(u64::MAX), None);
        assert_eq!(counter(5), Some(5));
    }
}
