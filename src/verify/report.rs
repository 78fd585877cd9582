//! `sandgen verify`'s report: the findings in a table for a terminal, or as one JSON object,
//! with their tally and, when any failed, the verdict in one sentence.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Finding, Status};
use crate::paint::{Paint, Tone};

/// What `sandgen verify` reports about one unit; `--json` serialises it as it is.
#[derive(Debug, Serialize)]
pub(crate) struct Report<'a> {
    /// The unit.
    pub unit: &'a str,
    /// Its main process.
    pub main_pid: u32,
    /// The policy file, or the unit file that records the policy.
    pub policy: &'a str,
    /// Whether the policy is the one recorded in the unit file.
    pub policy_recorded: bool,
    /// One finding a directive.
    pub checks: &'a [Finding],
    /// What the kernel shows that no directive asked for ([`super::notes`]).
    pub notes: Vec<String>,
    /// How many passed.
    pub pass: usize,
    /// How many failed.
    pub fail: usize,
    /// How many cannot be checked from outside the process.
    pub not_checkable: usize,
}

impl<'a> Report<'a> {
    /// The report of `checks` on `unit`, whose main process is `main_pid`, against `policy`
    /// (a policy file, or with `policy_recorded` the unit file that records it).
    pub(crate) fn new(
        unit: &'a str,
        main_pid: u32,
        policy: &'a str,
        policy_recorded: bool,
        checks: &'a [Finding],
    ) -> Self {
        let count = |s: Status| checks.iter().filter(|f| f.status == s).count();
        Report {
            unit,
            main_pid,
            policy,
            policy_recorded,
            checks,
            notes: Vec::new(),
            pass: count(Status::Pass),
            fail: count(Status::Fail),
            not_checkable: count(Status::NotCheckable),
        }
    }

    /// Where the policy came from, in words.
    pub(crate) fn policy_source(&self) -> String {
        if self.policy_recorded {
            format!("the policy recorded in {}", self.policy)
        } else {
            self.policy.to_owned()
        }
    }

    /// A table for a terminal: one row a finding, then the tally; with `paint`, each
    /// verdict in colour: PASS green, FAIL red, NOT CHECKABLE yellow.
    pub(crate) fn to_text_in(&self, paint: Paint) -> String {
        let unit = self.unit;
        let mut out = format!(
            "{unit} (main PID {}) against {}:\n",
            self.main_pid,
            self.policy_source()
        );
        let width = self.checks.iter().map(|f| f.key.len()).max().unwrap_or(0);
        for f in self.checks {
            let label = f.status.label();
            let tone = match f.status {
                Status::Pass => Tone::Good,
                Status::Fail => Tone::Bad,
                Status::NotCheckable => Tone::Notice,
            };
            // Padded outside the colour, so that the escapes do not count as width.
            let _ = writeln!(
                out,
                "  {}{:pad$}  {:<width$}  {}={}: {}",
                paint.tone(label, Some(tone)),
                "",
                f.key,
                f.directive,
                clip(&f.policy, 40),
                f.evidence,
                pad = 13usize.saturating_sub(label.len())
            );
        }
        for note in &self.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        let _ = writeln!(
            out,
            "{unit}: {} pass, {} fail, {} not checkable",
            self.pass, self.fail, self.not_checkable
        );
        out
    }

    /// The verdict when a check failed: which keys.
    pub(crate) fn failure(&self) -> Option<String> {
        if self.fail == 0 {
            return None;
        }
        let keys: Vec<&str> = self
            .checks
            .iter()
            .filter(|f| f.status == Status::Fail)
            .map(|f| f.key.as_str())
            .collect();
        Some(format!(
            "{} does not run as {} asks: {} failed",
            self.unit,
            self.policy_source(),
            keys.join(", ")
        ))
    }
}

/// At most `max` characters of `text`, with `…` for the rest.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directive::Name;

    fn finding(key: &str, directive: Name, policy: &str, status: Status) -> Finding {
        Finding {
            key: key.to_owned(),
            directive,
            policy: policy.to_owned(),
            status,
            evidence: "evidence".to_owned(),
            file: None,
        }
    }

    #[test]
    fn the_table_aligns_keys_and_clips_long_values() {
        let long = "x".repeat(50);
        let checks = [
            finding("resources.memory_max", Name::MemoryMax, "64M", Status::Pass),
            finding("service.exec", Name::ExecStart, &long, Status::NotCheckable),
        ];
        let report = Report::new("heat.service", 812, "heat.toml", false, &checks);
        assert_eq!(
            report.to_text_in(Paint::PLAIN),
            format!(
                "heat.service (main PID 812) against heat.toml:\n  \
                 PASS           resources.memory_max  MemoryMax=64M: evidence\n  \
                 NOT CHECKABLE  service.exec          ExecStart={}…: evidence\n\
                 heat.service: 1 pass, 0 fail, 1 not checkable\n",
                "x".repeat(39)
            )
        );
        assert_eq!(report.failure(), None);
        // In colour the verdicts are wrapped, and the columns stay where they were.
        let fail = [finding(
            "resources.memory_max",
            Name::MemoryMax,
            "64M",
            Status::Fail,
        )];
        let coloured = Report::new("heat.service", 812, "heat.toml", false, &fail);
        assert_eq!(
            coloured.to_text_in(Paint::COLOUR).lines().nth(1),
            Some(
                "  \x1b[0;1;31mFAIL\x1b[0m           resources.memory_max  MemoryMax=64M: evidence"
            )
        );
    }

    #[test]
    fn failures_are_named_with_the_policy_they_break() {
        let checks = [
            finding("resources.memory_max", Name::MemoryMax, "64M", Status::Fail),
            finding(
                "filesystem.private_tmp",
                Name::PrivateTmp,
                "yes",
                Status::Pass,
            ),
            finding("resources.tasks_max", Name::TasksMax, "16", Status::Fail),
        ];
        let report = Report::new("heat.service", 812, "/etc/x/heat.service", true, &checks);
        assert_eq!((report.pass, report.fail, report.not_checkable), (1, 2, 0));
        assert_eq!(
            report.failure().as_deref(),
            Some(
                "heat.service does not run as the policy recorded in /etc/x/heat.service asks: \
                 resources.memory_max, resources.tasks_max failed"
            )
        );
    }
}
