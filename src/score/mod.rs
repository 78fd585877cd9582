//! Exposure scores: how much of a service's attack surface its sandbox leaves open, as
//! `systemd-analyze security` rates it (systemd-analyze(1), "security").
//!
//! systemd checks about 80 settings (`PrivateNetwork=`, `ProtectSystem=`, each capability in
//! the bounding set, each group missing from the syscall filter, ...) and gives each unset one
//! a weighted exposure; the overall figure runs from 0.0 (everything locked down) to 10.0
//! (nothing is). `--offline=true` rates a unit file without a running systemd; the file name
//! must end in `.service`. (Unlike `verify`, systemd 252 rates a unit whose `ExecStart=`
//! binary does not exist, so an installed unit can be scored on another machine.)
//!
//! The JSON output (`--json=short`, systemd 252) lists the settings only:
//!
//! ```text
//! [{"set":false,"name":"PrivateNetwork=","json_field":"PrivateNetwork",
//!   "description":"Service has access to the host's network","exposure":"0.5"}, ...]
//! ```
//!
//! `exposure` is a string (`"0.5"`), or `null` for a setting that is set or does not apply.
//! The overall figure is in
//! the text output only, as its last line, so sandgen runs both:
//!
//! ```text
//! → Overall exposure level for heat.service: 4.4 OK 🙂
//! ```
//!
//! Parsing and comparing are pure; [`score_unit_file`] runs systemd-analyze.

use crate::paint::{Paint, Tone};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::data::syscalls::SyscallTable;

/// One setting systemd-analyze rated.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SecurityItem {
    /// A stable identifier (`PrivateNetwork`, `SystemCallFilter_mount`).
    pub json_field: String,
    /// The setting as shown (`PrivateNetwork=`, `SystemCallFilter=~@mount`).
    pub name: String,
    /// What the current value means ("Service has access to the host's network").
    pub description: String,
    /// Whether the unit sets it; `None` when it does not apply.
    pub set: Option<bool>,
    /// How much it adds to the exposure; `None` when nothing.
    #[serde(deserialize_with = "exposure_number")]
    pub exposure: Option<f64>,
}

/// systemd 252 writes the exposure as a string (`"0.1"`); a number or `null` is read too.
fn exposure_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    use serde::de::Error as _;
    match <Option<serde_json::Value> as serde::Deserialize>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => Ok(n.as_f64()),
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("exposure {s:?} is not a number"))),
        Some(other) => Err(D::Error::custom(format!(
            "exposure {other} is not a number"
        ))),
    }
}

/// The rating of one unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SecurityScore {
    /// The unit name (`heat.service`).
    pub unit: String,
    /// The overall exposure, 0.0 (best) to 10.0 (worst).
    pub exposure: f64,
    /// systemd's word for it (`OK`, `MEDIUM`, `EXPOSED`, `UNSAFE`, ...).
    pub level: String,
    /// Every setting rated, in systemd's order.
    pub items: Vec<SecurityItem>,
    /// What systemd-analyze printed on stderr (warnings about the unit), one per line.
    pub warnings: Vec<String>,
    /// How many system calls its filter lets through ([`filter_width`]), when the caller
    /// had the target's table to count them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterWidth>,
}

/// How many system calls of one ABI a unit's `SystemCallFilter=` lets through, of all of
/// that ABI's its systemd knows (`@known`, which lists every architecture's names, cut down
/// to the native ABI's when its numbers are known). systemd-analyze's figure rates which dangerous groups a filter leaves
/// out, not its width: an allow-list of 40 calls and one of 250 can score the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FilterWidth {
    /// The calls it allows.
    pub allowed: usize,
    /// The calls the table knows (of the native ABI, when counted for one).
    pub known: usize,
    /// The systemd version whose table counted them.
    pub systemd: u32,
}

impl fmt::Display for FilterWidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "allows {} of {} system calls", self.allowed, self.known)
    }
}

/// The width of the `SystemCallFilter=` lines of `unit_text` (its `[Service]` section) on
/// `table`, counting only the names in `abi` (the native ABI's syscalls) when given.
///
/// systemd.exec(5), "SystemCallFilter=": the first assignment decides the kind: a list
/// starting with `~` is a deny-list, anything else an allow-list to which systemd adds
/// `@default`; later assignments add to (or, with `~`, take from) it; an empty assignment
/// resets. Entries may carry `:ERRNO`, which does not change what passes.
pub fn filter_width(
    unit_text: &str,
    table: &SyscallTable,
    abi: Option<&BTreeSet<String>>,
) -> FilterWidth {
    let mut known = table.expand("@known");
    if let Some(abi) = abi {
        known.retain(|name| abi.contains(name));
    }
    let mut kind: Option<bool> = None; // Some(true): allow-list
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let mut section = "";
    for line in unit_text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line;
            continue;
        }
        let Some(value) = line.strip_prefix("SystemCallFilter=") else {
            continue;
        };
        if section != "[Service]" {
            continue;
        }
        let value = value.trim();
        if value.is_empty() {
            kind = None;
            listed.clear();
            continue;
        }
        let (deny, words) = match value.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, value),
        };
        let names: BTreeSet<String> = words
            .split_whitespace()
            .map(|w| w.trim_matches('"'))
            .map(|w| w.split(':').next().unwrap_or(w))
            .flat_map(|w| {
                if w.starts_with('@') {
                    table.expand(w)
                } else {
                    BTreeSet::from([w.to_owned()])
                }
            })
            .collect();
        let allow_list = *kind.get_or_insert_with(|| {
            if !deny {
                listed.extend(table.expand("@default"));
            }
            !deny
        });
        if allow_list != deny {
            listed.extend(names);
        } else {
            listed.retain(|n| !names.contains(n));
        }
    }
    let allowed = match kind {
        None => known.len(),
        Some(true) => listed.intersection(&known).count(),
        Some(false) => known.difference(&listed).count(),
    };
    FilterWidth {
        allowed,
        known: known.len(),
        systemd: table.source().version(),
    }
}

impl SecurityScore {
    /// The settings that add to the exposure, largest first (ties in name order), at most `n`.
    pub fn top_contributors(&self, n: usize) -> Vec<&SecurityItem> {
        let mut items: Vec<&SecurityItem> = self
            .items
            .iter()
            .filter(|i| i.exposure.is_some_and(|e| e > 0.0))
            .collect();
        items.sort_by(|a, b| {
            let (ea, eb) = (a.exposure.unwrap_or(0.0), b.exposure.unwrap_or(0.0));
            eb.total_cmp(&ea).then_with(|| a.name.cmp(&b.name))
        });
        items.truncate(n);
        items
    }

    /// A report for a terminal: the figure, then the `top` largest contributors.
    pub fn to_text(&self, top: usize) -> String {
        self.to_text_in(top, Paint::PLAIN)
    }

    /// [`Self::to_text`] with the level in the colour `systemd-analyze security` gives it
    /// (its `badness_table`): PERFECT, SAFE and OK green, MEDIUM yellow, EXPOSED, UNSAFE
    /// and DANGEROUS red.
    pub fn to_text_in(&self, top: usize, paint: Paint) -> String {
        let tone = match self.level.as_str() {
            "PERFECT" | "SAFE" | "OK" => Some(Tone::Good),
            "MEDIUM" => Some(Tone::Notice),
            "EXPOSED" | "UNSAFE" | "DANGEROUS" => Some(Tone::Bad),
            _ => None,
        };
        let mut out = format!(
            "{}: exposure {:.1} {} (0 = locked down, 10 = no sandbox)\n",
            self.unit,
            self.exposure,
            paint.tone(&self.level, tone)
        );
        if let Some(width) = &self.filter {
            out.push_str(&format!(
                "system call filter: {width} that systemd {} knows on this architecture; the \
                 exposure does not weigh that\n",
                width.systemd
            ));
        }
        let contributors = self.top_contributors(top);
        if !contributors.is_empty() {
            out.push_str("largest contributors:\n");
        }
        for item in contributors {
            out.push_str(&format!(
                "  {:>4.1}  {:<40} {}\n",
                item.exposure.unwrap_or(0.0),
                item.name,
                item.description
            ));
        }
        out
    }
}

/// Why a unit could not be scored. The underlying errors are part of the messages, not also
/// their `source()`: the CLI prints an error's chain of sources, which would repeat them.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// systemd-analyze is not installed.
    #[error(
        "cannot run `systemd-analyze` ({error}): `sandgen score` uses `systemd-analyze security \
         --offline=true`, which comes with systemd (package systemd)"
    )]
    AnalyzeMissing {
        /// The spawn error.
        error: io::Error,
    },
    /// systemd-analyze failed.
    #[error("`systemd-analyze security` could not rate {}: {message}", .unit_file.display())]
    AnalyzeFailed {
        /// The unit file.
        unit_file: PathBuf,
        /// Its stderr (or exit status).
        message: String,
    },
    /// The JSON was not what systemd 252 prints.
    #[error("unexpected `systemd-analyze security --json=short` output: {0}")]
    Json(serde_json::Error),
    /// No "Overall exposure level" line.
    #[error(
        "`systemd-analyze security` printed no \"Overall exposure level for UNIT: N LEVEL\" line \
         (last line: {last_line:?})"
    )]
    NoOverall {
        /// The text's last non-empty line.
        last_line: String,
    },
    /// The unit file could not be written.
    #[error("cannot write the unit file {} to score: {error}", .path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        error: io::Error,
    },
    /// The name is not a service unit name.
    #[error("cannot score `{0}`: the unit name must end in `.service` and contain no `/`")]
    BadUnitName(String),
    /// The policy did not render.
    #[error(transparent)]
    Policy(#[from] crate::Error),
}

/// The settings in `systemd-analyze security --json=short` output.
///
/// # Errors
///
/// [`ScoreError::Json`] when it is not a JSON array of settings.
pub fn parse_items(json: &str) -> Result<Vec<SecurityItem>, ScoreError> {
    serde_json::from_str(json).map_err(ScoreError::Json)
}

/// The unit, figure and level of the `→ Overall exposure level for UNIT: N LEVEL` line of
/// the text output.
///
/// # Errors
///
/// [`ScoreError::NoOverall`] when there is no such line.
pub fn parse_overall(text: &str) -> Result<(String, f64, String), ScoreError> {
    const MARK: &str = "Overall exposure level for ";
    let parsed = text.lines().find_map(|line| {
        let rest = &line[line.find(MARK)? + MARK.len()..];
        let (unit, figures) = rest.split_once(": ")?;
        let mut words = figures.split_whitespace();
        let exposure: f64 = words.next()?.parse().ok()?;
        let level = words.next().unwrap_or("").to_owned();
        Some((unit.to_owned(), exposure, level))
    });
    parsed.ok_or_else(|| ScoreError::NoOverall {
        last_line: text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .to_owned(),
    })
}

/// The arguments of `systemd-analyze` to rate `unit_file` offline, as JSON or as text.
pub fn security_args(unit_file: &Path, json: bool) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["security", "--offline=true", "--no-pager"]
        .into_iter()
        .map(OsString::from)
        .collect();
    if json {
        args.push("--json=short".into());
    }
    args.push(unit_file.as_os_str().to_owned());
    args
}

/// Rate a unit file with `systemd-analyze security --offline=true` (run twice: JSON for the
/// settings, text for the overall figure).
///
/// # Errors
///
/// A [`ScoreError`] when systemd-analyze is missing, fails, or prints something unexpected.
pub fn score_unit_file(unit_file: &Path) -> Result<SecurityScore, ScoreError> {
    let run = |json: bool| -> Result<(String, String), ScoreError> {
        let out = Command::new("systemd-analyze")
            .args(security_args(unit_file, json))
            .env("SYSTEMD_COLORS", "0")
            .output()
            .map_err(|error| ScoreError::AnalyzeMissing { error })?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // A non-zero status with output on stdout only means "above --threshold" (default
        // 100, so it does not happen); no stdout means systemd-analyze gave up.
        if stdout.trim().is_empty() {
            let message = if stderr.trim().is_empty() {
                format!("it printed nothing and {}", out.status)
            } else {
                stderr.trim().to_owned()
            };
            return Err(ScoreError::AnalyzeFailed {
                unit_file: unit_file.to_owned(),
                message,
            });
        }
        Ok((stdout, stderr))
    };
    let (json, stderr) = run(true)?;
    let items = parse_items(&json)?;
    let (text, _) = run(false)?;
    let (unit, exposure, level) = parse_overall(&text)?;
    Ok(SecurityScore {
        unit,
        exposure,
        level,
        items,
        warnings: stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        filter: None,
    })
}

/// Rate unit file text: written as `unit_name` (`heat.service`) into a fresh private
/// directory under the temporary directory, rated, removed.
///
/// # Errors
///
/// See [`score_unit_file`]; also a bad unit name or a failed write.
pub fn score_unit_text(unit_name: &str, unit_text: &str) -> Result<SecurityScore, ScoreError> {
    if !unit_name.ends_with(".service") || unit_name.contains('/') || unit_name == ".service" {
        return Err(ScoreError::BadUnitName(unit_name.to_owned()));
    }
    let dir = ScratchDir::create()?;
    let path = dir.0.join(unit_name);
    std::fs::write(&path, unit_text).map_err(|error| ScoreError::Write {
        path: path.clone(),
        error,
    })?;
    score_unit_file(&path)
}

/// Render policy text for systemd `target` ([`crate::load_policy_text`]) and rate it. The
/// unit is named after the policy (`[service] name`, else the file stem of `name`).
///
/// # Errors
///
/// [`ScoreError::Policy`] when the policy is invalid, else as [`score_unit_text`].
pub fn score_policy_text(name: &str, text: &str, target: u32) -> Result<SecurityScore, ScoreError> {
    let loaded = crate::load_policy_text(name, text, target).map_err(crate::Error::from)?;
    let templates = crate::render::Templates::built_in().map_err(crate::Error::from)?;
    let unit_text = loaded.render(&templates).map_err(crate::Error::from)?;
    score_unit_text(&loaded.policy.unit_name(), &unit_text)
}

/// Two scores and their difference: what `sandgen score BEFORE AFTER` reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison<'a> {
    /// The first score.
    pub before: &'a SecurityScore,
    /// The second score.
    pub after: &'a SecurityScore,
    /// From the first to the second ([`diff`]).
    pub diff: ScoreDiff,
}

impl<'a> Comparison<'a> {
    /// Compare `before` with `after`.
    pub fn new(before: &'a SecurityScore, after: &'a SecurityScore) -> Self {
        Comparison {
            before,
            after,
            diff: diff(before, after),
        }
    }

    /// A report for a terminal: both units' exposure, then [`ScoreDiff::to_text`].
    pub fn to_text(&self) -> String {
        let width = |s: &SecurityScore| s.filter.map(|w| format!(", {w}")).unwrap_or_default();
        format!(
            "before: {} {:.1}{}\nafter:  {} {:.1}{}\n{}",
            self.before.unit,
            self.before.exposure,
            width(self.before),
            self.after.unit,
            self.after.exposure,
            width(self.after),
            self.diff.to_text()
        )
    }
}

/// A setting whose rating differs between two scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ItemChange {
    /// The setting's identifier.
    pub json_field: String,
    /// The setting as shown.
    pub name: String,
    /// Its exposure before (`None`: nothing, or not rated).
    pub before: Option<f64>,
    /// Its exposure after.
    pub after: Option<f64>,
    /// What its value means after (before, if it is only rated before).
    pub description: String,
}

/// The difference between two scores.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScoreDiff {
    /// The overall exposure before.
    pub before: f64,
    /// The overall exposure after.
    pub after: f64,
    /// `after - before`, to one decimal (negative is better).
    pub delta: f64,
    /// The settings whose exposure changed, largest improvement first.
    pub changes: Vec<ItemChange>,
}

/// Compare two scores (pure): the overall change and each setting whose exposure changed.
pub fn diff(before: &SecurityScore, after: &SecurityScore) -> ScoreDiff {
    let tenths = |x: Option<f64>| (x.unwrap_or(0.0) * 10.0).round() as i64;
    let mut changes = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for item in after.items.iter().chain(&before.items) {
        if !seen.insert(item.json_field.as_str()) {
            continue;
        }
        let find = |s: &SecurityScore| {
            s.items
                .iter()
                .find(|i| i.json_field == item.json_field)
                .cloned()
        };
        let (b, a) = (find(before), find(after));
        let (eb, ea) = (
            b.as_ref().and_then(|i| i.exposure),
            a.as_ref().and_then(|i| i.exposure),
        );
        if tenths(eb) != tenths(ea) {
            changes.push(ItemChange {
                json_field: item.json_field.clone(),
                name: item.name.clone(),
                before: eb,
                after: ea,
                description: item.description.clone(),
            });
        }
    }
    changes.sort_by(|x, y| {
        let gain = |c: &ItemChange| tenths(c.after) - tenths(c.before);
        gain(x).cmp(&gain(y)).then_with(|| x.name.cmp(&y.name))
    });
    ScoreDiff {
        before: before.exposure,
        after: after.exposure,
        delta: (tenths(Some(after.exposure)) - tenths(Some(before.exposure))) as f64 / 10.0,
        changes,
    }
}

impl ScoreDiff {
    /// A report for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "exposure {:.1} -> {:.1} ({:+.1})\n",
            self.before, self.after, self.delta
        );
        for c in &self.changes {
            out.push_str(&format!(
                "  {:>4.1} -> {:>4.1}  {:<40} {}\n",
                c.before.unwrap_or(0.0),
                c.after.unwrap_or(0.0),
                c.name,
                c.description
            ));
        }
        out
    }
}

/// A private directory (mode 0700) removed with its contents on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create() -> Result<Self, ScoreError> {
        use std::os::unix::fs::DirBuilderExt;
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut attempt = 0;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let path = std::env::temp_dir().join(format!(
                "sandgen-score-{}-{nanos:09}-{n}",
                std::process::id()
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return Ok(Self(path)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => {
                    attempt += 1;
                }
                Err(error) => return Err(ScoreError::Write { path, error }),
            }
        }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            log::warn!("cannot remove {}: {e}", self.0.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(field: &str, exposure: Option<f64>) -> SecurityItem {
        SecurityItem {
            json_field: field.into(),
            name: format!("{field}="),
            description: format!("about {field}"),
            set: Some(exposure.is_none()),
            exposure,
        }
    }

    fn score(exposure: f64, items: Vec<SecurityItem>) -> SecurityScore {
        SecurityScore {
            unit: "x.service".into(),
            exposure,
            level: "OK".into(),
            items,
            warnings: vec![],
            filter: None,
        }
    }

    #[test]
    fn the_filter_width_counts_what_passes() {
        let table = SyscallTable::built_in();
        let known = table.expand("@known").len();
        let all = table.expand("@known");
        let default = table.expand("@default").intersection(&all).count();
        let width = |text: &str| filter_width(text, &table, None).allowed;
        assert_eq!(width("[Service]\nExecStart=/bin/true\n"), known);
        assert_eq!(width("[Service]\nSystemCallFilter=read\n"), default + 1);
        assert_eq!(
            width("[Service]\nSystemCallFilter=read write\nSystemCallFilter=~write\n"),
            default + 1
        );
        let mount = table.expand("@mount").len();
        assert_eq!(
            width("[Service]\nSystemCallFilter=~@mount:EPERM\n"),
            known - mount
        );
        assert_eq!(
            width("[Service]\nSystemCallFilter=read\nSystemCallFilter=\n"),
            known,
            "an empty assignment resets"
        );
        assert_eq!(width("[Unit]\nSystemCallFilter=read\n"), known);
        let w = filter_width("[Service]\nSystemCallFilter=@default read\n", &table, None);
        assert_eq!(
            w.to_string(),
            format!("allows {} of {known} system calls", default + 1)
        );
        // Of one ABI: names of other architectures are not counted.
        let abi: BTreeSet<String> = ["read", "write", "openat"].map(str::to_owned).into();
        let w = filter_width(
            "[Service]\nSystemCallFilter=read arm_fadvise64_64\n",
            &table,
            Some(&abi),
        );
        assert_eq!((w.allowed, w.known), (1, 3));
    }

    #[test]
    fn parses_systemd_252_json() {
        let items = parse_items(
            r#"[{"set":true,"name":"SystemCallFilter=~@swap","json_field":"SystemCallFilter_swap","description":"System call allow list defined for service, and @swap is not included","exposure":null},
                {"set":null,"name":"SupplementaryGroups=","json_field":"SupplementaryGroups","description":"Service runs as root, option does not matter","exposure":null},
                {"set":false,"name":"PrivateNetwork=","json_field":"PrivateNetwork","description":"Service has access to the host's network","exposure":"0.5"},
                {"set":false,"name":"UMask=","json_field":"UMask","description":"Files created by service are world-readable by default","exposure":0.1}]"#,
        )
        .unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].set, Some(true));
        assert_eq!(items[1].set, None);
        assert_eq!(items[2].exposure, Some(0.5));
        assert_eq!(items[3].exposure, Some(0.1));
        assert!(parse_items("{}").is_err());
        assert!(parse_items(
            r#"[{"set":false,"name":"a","json_field":"a","description":"","exposure":"x"}]"#
        )
        .is_err());
    }

    #[test]
    fn parses_the_overall_line() {
        let text = "  NAME  DESCRIPTION  EXPOSURE\n✗ UMask=  Files ...  0.1\n\n→ Overall exposure level for heat.service: 4.4 OK 🙂\n";
        assert_eq!(
            parse_overall(text).unwrap(),
            ("heat.service".to_owned(), 4.4, "OK".to_owned())
        );
        let err = parse_overall("nothing\nhere\n\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`systemd-analyze security` printed no \"Overall exposure level for UNIT: N LEVEL\" \
             line (last line: \"here\")"
        );
    }

    #[test]
    fn a_comparison_names_both_units_then_the_changes() {
        let before = score(9.6, vec![item("PrivateNetwork", Some(0.5))]);
        let after = SecurityScore {
            unit: "y.service".into(),
            ..score(9.1, vec![item("PrivateNetwork", None)])
        };
        let compared = Comparison::new(&before, &after);
        assert_eq!(
            compared.to_text(),
            format!(
                "before: x.service 9.6\nafter:  y.service 9.1\n{}",
                diff(&before, &after).to_text()
            )
        );
        let json = serde_json::to_value(&compared).expect("json");
        assert_eq!(json["diff"]["delta"], -0.5);
        assert_eq!(json["after"]["unit"], "y.service");
    }

    #[test]
    fn top_contributors_are_the_largest() {
        let s = score(
            5.0,
            vec![
                item("A", Some(0.1)),
                item("B", Some(0.5)),
                item("C", None),
                item("D", Some(0.2)),
            ],
        );
        let top: Vec<&str> = s
            .top_contributors(2)
            .iter()
            .map(|i| i.json_field.as_str())
            .collect();
        assert_eq!(top, ["B", "D"]);
    }

    #[test]
    fn diff_lists_what_changed_best_first() {
        let before = score(
            9.6,
            vec![
                item("A", Some(0.5)),
                item("B", Some(0.2)),
                item("C", Some(0.1)),
            ],
        );
        let after = score(
            4.4,
            vec![item("A", None), item("B", Some(0.2)), item("C", Some(0.3))],
        );
        let d = diff(&before, &after);
        assert_eq!(d.delta, -5.2);
        let fields: Vec<&str> = d.changes.iter().map(|c| c.json_field.as_str()).collect();
        assert_eq!(fields, ["A", "C"]);
        assert_eq!(d.changes[0].before, Some(0.5));
        assert_eq!(d.changes[0].after, None);
        assert!(d.to_text().starts_with("exposure 9.6 -> 4.4 (-5.2)\n"));
    }

    #[test]
    fn args_rate_offline() {
        let args = security_args(Path::new("/tmp/x.service"), true);
        assert_eq!(
            args,
            [
                "security",
                "--offline=true",
                "--no-pager",
                "--json=short",
                "/tmp/x.service"
            ]
            .map(OsString::from)
        );
    }

    #[test]
    fn unit_names_must_be_services() {
        assert!(matches!(
            score_unit_text("x", ""),
            Err(ScoreError::BadUnitName(_))
        ));
        assert!(matches!(
            score_unit_text("../x.service", ""),
            Err(ScoreError::BadUnitName(_))
        ));
    }
}
