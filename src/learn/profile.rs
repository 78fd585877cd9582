//! A unit's system call profile: what `sandgen learn` saw it do, accumulated over recordings
//! (and machines), kept as one JSON file per unit under `/var/lib/sandgen/profiles/NAME.json`.
//!
//! # The format (`"format": "sandgen-profile/1"`)
//!
//! ```json
//! {
//!   "format": "sandgen-profile/1",
//!   "unit": "web.service",
//!   "syscalls": [
//!     { "name": "accept4", "abi": "native", "first_seen_unix_ms": 1764491112000,
//!       "last_seen_unix_ms": 1764494712000, "recordings": 3, "count": 5120 }
//!   ],
//!   "recordings": [
//!     { "started_unix_ms": 1764491112000, "duration_ms": 3600000, "ended": "time-up",
//!       "armed": "running", "host": "web1", "syscalls": 87, "count": 1882113 }
//!   ]
//! }
//! ```
//!
//! - `syscalls`: every system call any recording saw, sorted by name then ABI, once per
//!   `(name, abi)`. `abi` is `"native"` or `"compat"` (a 32-bit call: i386 numbering on
//!   x86_64, named after i386's table). A number the table lacks is named as strace names it,
//!   `syscall_0x1c3`. `first_seen_unix_ms` is the start of the earliest recording that saw
//!   it, `last_seen_unix_ms` the end of the latest one (the recorder counts in the kernel and
//!   is read at the end, so a recording is the finest time it knows). `recordings`: how many
//!   recordings saw it; `count`: how many calls they counted, all together.
//! - `recordings`: every recording, sorted by start. `duration_ms` is how long it recorded;
//!   `ended` how it stopped: `"time-up"` (`--for` elapsed), `"interrupted"` (Ctrl-C,
//!   SIGTERM, SIGHUP) or `"unit-stopped"` (the unit stopped or exited). `armed`: `"running"`
//!   (attached to a running unit, every task counted from then on) or `"start"` (armed
//!   before `--start`, each task from its exec on). `host`: the machine's host name.
//!   `syscalls` and `count`: the distinct calls and all calls that recording saw.
//!
//! Times are Unix time in milliseconds (UTC); sandgen ignores fields it does not know, so a
//! later version can add some.
//!
//! # Merging
//!
//! [`Profile::merge`] is the union of two profiles of the same unit: the calls of both, with
//! `recordings` and `count` added, `first_seen` the earlier and `last_seen` the later; the
//! recordings of both, sorted by start. A fleet merges its machines' profiles centrally this
//! way, and `sandgen learn` merges each recording into the unit's profile the same way.
//!
//! # Convergence
//!
//! A call is new in the recording that first saw it: the one whose start is its
//! `first_seen_unix_ms`. [`Profile::convergence`] counts the latest recordings in a row that
//! brought nothing new, and how long they recorded; a profile with at least N of them has
//! converged ("0 new system calls in the last 3 recordings / last 2 h").

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// The value of `format` this version writes and reads.
pub const FORMAT: &str = "sandgen-profile/1";

/// Which system call table a call's number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Abi {
    /// The machine's own (x86_64 on x86_64).
    Native,
    /// 32-bit compat calls (i386 on x86_64).
    Compat,
}

/// One system call of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyscallEntry {
    /// Its name (`syscall_0x1c3` for a number the table lacks).
    pub name: String,
    /// Its ABI.
    pub abi: Abi,
    /// The start of the earliest recording that saw it.
    pub first_seen_unix_ms: u64,
    /// The end of the latest recording that saw it.
    pub last_seen_unix_ms: u64,
    /// How many recordings saw it.
    pub recordings: u64,
    /// How many calls they counted.
    pub count: u64,
}

/// How a recording stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ending {
    /// `--for` elapsed.
    TimeUp,
    /// Ctrl-C (SIGINT), SIGTERM or SIGHUP.
    Interrupted,
    /// The unit stopped or its command exited.
    UnitStopped,
}

impl Ending {
    /// In words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::TimeUp => "its time was up",
            Self::Interrupted => "it was interrupted",
            Self::UnitStopped => "the unit stopped",
        }
    }
}

/// When the recorder started counting a unit's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Armed {
    /// Attached to the running unit: every task counted from then on.
    Running,
    /// Armed before the unit was started (`--start`): each task from its exec on.
    Start,
}

/// One recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    /// When it started.
    pub started_unix_ms: u64,
    /// How long it recorded.
    pub duration_ms: u64,
    /// How it stopped.
    pub ended: Ending,
    /// When its counting started.
    pub armed: Armed,
    /// The machine's host name.
    pub host: String,
    /// How many distinct calls it saw.
    pub syscalls: u64,
    /// How many calls it counted.
    pub count: u64,
}

impl Recording {
    /// When it ended.
    pub fn ended_unix_ms(&self) -> u64 {
        self.started_unix_ms.saturating_add(self.duration_ms)
    }
}

/// A unit's profile (the module documentation describes its JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// [`FORMAT`].
    pub format: String,
    /// The unit, `NAME.service`.
    pub unit: String,
    /// The calls, sorted by name and ABI.
    pub syscalls: Vec<SyscallEntry>,
    /// The recordings, sorted by start.
    pub recordings: Vec<Recording>,
}

/// Why a profile cannot be read or merged.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Not JSON, or not a profile's.
    #[error("not a sandgen profile: {0}")]
    Json(#[from] serde_json::Error),
    /// A format this version does not read.
    #[error("profile format `{found}` is not `{FORMAT}`, the one this sandgen reads")]
    Format {
        /// What the file says.
        found: String,
    },
    /// Two profiles of different units.
    #[error("cannot merge a profile of {a} with one of {b}: a profile is one unit's")]
    Units {
        /// The first profile's unit.
        a: String,
        /// The second's.
        b: String,
    },
}

/// What one recording observed: `(name, abi) -> calls`.
pub type Observed = BTreeMap<(String, Abi), u64>;

impl Profile {
    /// A profile with no recording.
    pub fn empty(unit: &str) -> Self {
        Self {
            format: FORMAT.to_owned(),
            unit: unit.to_owned(),
            syscalls: Vec::new(),
            recordings: Vec::new(),
        }
    }

    /// The profile of one recording that observed `observed`. The recording's `syscalls`
    /// and `count` are set from `observed`.
    pub fn of_recording(unit: &str, mut recording: Recording, observed: &Observed) -> Self {
        recording.syscalls = observed.len() as u64;
        recording.count = observed.values().sum();
        let syscalls = observed
            .iter()
            .map(|((name, abi), &count)| SyscallEntry {
                name: name.clone(),
                abi: *abi,
                first_seen_unix_ms: recording.started_unix_ms,
                last_seen_unix_ms: recording.ended_unix_ms(),
                recordings: 1,
                count,
            })
            .collect();
        Self {
            format: FORMAT.to_owned(),
            unit: unit.to_owned(),
            syscalls,
            recordings: vec![recording],
        }
    }

    /// Read a profile from its JSON.
    ///
    /// # Errors
    ///
    /// [`ProfileError::Json`], [`ProfileError::Format`].
    pub fn from_json(text: &str) -> Result<Self, ProfileError> {
        #[derive(Deserialize)]
        struct Head {
            format: String,
        }
        let head: Head = serde_json::from_str(text)?;
        if head.format != FORMAT {
            return Err(ProfileError::Format { found: head.format });
        }
        let mut profile: Self = serde_json::from_str(text)?;
        profile.normalise();
        Ok(profile)
    }

    /// The profile as pretty-printed JSON, ending with a newline.
    pub fn to_json(&self) -> String {
        // Strings, numbers and vectors of them always serialise.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Sort the calls and recordings, and fold calls listed twice into one.
    fn normalise(&mut self) {
        let mut calls: BTreeMap<(String, Abi), SyscallEntry> = BTreeMap::new();
        for entry in std::mem::take(&mut self.syscalls) {
            let key = (entry.name.clone(), entry.abi);
            match calls.get_mut(&key) {
                Some(known) => add_entry(known, &entry),
                None => {
                    calls.insert(key, entry);
                }
            }
        }
        self.syscalls = calls.into_values().collect();
        self.recordings.sort_by_key(|r| r.started_unix_ms);
    }

    /// The union of `self` and `other`, two profiles of one unit (see the module
    /// documentation).
    ///
    /// # Errors
    ///
    /// [`ProfileError::Units`] when they are profiles of different units.
    pub fn merge(mut self, other: &Profile) -> Result<Profile, ProfileError> {
        if self.unit != other.unit {
            return Err(ProfileError::Units {
                a: self.unit,
                b: other.unit.clone(),
            });
        }
        self.syscalls.extend(other.syscalls.iter().cloned());
        self.recordings.extend(other.recordings.iter().cloned());
        self.normalise();
        Ok(self)
    }

    /// The calls of `abi`, by name.
    pub fn names(&self, abi: Abi) -> std::collections::BTreeSet<String> {
        self.syscalls
            .iter()
            .filter(|s| s.abi == abi)
            .map(|s| s.name.clone())
            .collect()
    }

    /// The calls `observed` has that this profile has not.
    pub fn new_in(&self, observed: &Observed) -> Vec<(String, Abi)> {
        observed
            .keys()
            .filter(|(name, abi)| {
                !self
                    .syscalls
                    .iter()
                    .any(|s| &s.name == name && s.abi == *abi)
            })
            .cloned()
            .collect()
    }

    /// How many calls each recording brought first, in the order of the recordings.
    pub fn new_per_recording(&self) -> Vec<usize> {
        self.recordings
            .iter()
            .map(|r| {
                self.syscalls
                    .iter()
                    .filter(|s| s.first_seen_unix_ms == r.started_unix_ms)
                    .count()
            })
            .collect()
    }

    /// How far the profile has converged (see the module documentation).
    pub fn convergence(&self) -> Convergence {
        let new = self.new_per_recording();
        let quiet: Vec<&Recording> = self
            .recordings
            .iter()
            .zip(&new)
            .rev()
            .take_while(|(_, &n)| n == 0)
            .map(|(r, _)| r)
            .collect();
        Convergence {
            recordings: self.recordings.len(),
            quiet_recordings: quiet.len(),
            quiet_ms: quiet.iter().map(|r| r.duration_ms).sum(),
            last_new: new.iter().rev().find(|&&n| n > 0).copied().unwrap_or(0),
        }
    }
}

/// Add `other`'s observations of one call to `known`'s.
fn add_entry(known: &mut SyscallEntry, other: &SyscallEntry) {
    known.first_seen_unix_ms = known.first_seen_unix_ms.min(other.first_seen_unix_ms);
    known.last_seen_unix_ms = known.last_seen_unix_ms.max(other.last_seen_unix_ms);
    known.recordings = known.recordings.saturating_add(other.recordings);
    known.count = known.count.saturating_add(other.count);
}

/// How far a profile has converged: [`Profile::convergence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Convergence {
    /// All recordings.
    pub recordings: usize,
    /// The latest recordings in a row that brought no new call.
    pub quiet_recordings: usize,
    /// How long those recorded, together.
    pub quiet_ms: u64,
    /// How many new calls the latest recording that brought any brought.
    pub last_new: usize,
}

impl Convergence {
    /// Whether `after` recordings in a row brought nothing new (and there was one at least).
    pub fn converged(&self, after: usize) -> bool {
        self.recordings > 0 && self.quiet_recordings >= after.max(1)
    }

    /// The line that says it, `after` recordings without a new call being convergence:
    /// "converged: 0 new system calls in the last 3 recordings / last 2 h 5 min".
    pub fn line(&self, after: usize) -> String {
        let quiet = format!(
            "0 new system calls in the last {} / last {}",
            plural(self.quiet_recordings, "recording"),
            human_ms(self.quiet_ms)
        );
        if self.recordings == 0 {
            "not converged: no recording yet".to_owned()
        } else if self.converged(after) {
            format!("converged: {quiet}")
        } else if self.quiet_recordings > 0 {
            format!(
                "not converged yet: {quiet} ({} in a row without a new one are wanted)",
                after.max(1)
            )
        } else {
            format!(
                "not converged: the last recording found {} ({} in a row without a new one are \
                 wanted)",
                plural(self.last_new, "new system call"),
                after.max(1)
            )
        }
    }
}

/// `n thing` or `n things`.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// A span for people: `850 ms`, `12.5 s`, `4 min 10 s`, `2 h 5 min`, `3 d 4 h`.
pub fn human_ms(ms: u64) -> String {
    let s = ms / 1000;
    let mut out = String::new();
    match s {
        0 => {
            let _ = write!(out, "{ms} ms");
        }
        1..=59 => {
            let tenths = (ms % 1000) / 100;
            if tenths == 0 {
                let _ = write!(out, "{s} s");
            } else {
                let _ = write!(out, "{s}.{tenths} s");
            }
        }
        60..=3599 => {
            let _ = write!(out, "{} min", s / 60);
            if !s.is_multiple_of(60) {
                let _ = write!(out, " {} s", s % 60);
            }
        }
        3600..=86_399 => {
            let _ = write!(out, "{} h", s / 3600);
            if (s % 3600) / 60 != 0 {
                let _ = write!(out, " {} min", (s % 3600) / 60);
            }
        }
        _ => {
            let _ = write!(out, "{} d", s / 86_400);
            if (s % 86_400) / 3600 != 0 {
                let _ = write!(out, " {} h", (s % 86_400) / 3600);
            }
        }
    }
    out
}

/// `2026-11-30T08:25:12Z` for ms since the epoch.
pub fn utc(unix_ms: u64) -> String {
    crate::text::rfc3339_utc(unix_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording(started: u64, duration: u64) -> Recording {
        Recording {
            started_unix_ms: started,
            duration_ms: duration,
            ended: Ending::TimeUp,
            armed: Armed::Running,
            host: "h".to_owned(),
            syscalls: 0,
            count: 0,
        }
    }

    fn observed(calls: &[(&str, Abi, u64)]) -> Observed {
        calls
            .iter()
            .map(|(n, a, c)| (((*n).to_owned(), *a), *c))
            .collect()
    }

    fn one(started: u64, calls: &[(&str, Abi, u64)]) -> Profile {
        Profile::of_recording("w.service", recording(started, 1000), &observed(calls))
    }

    #[test]
    fn merge_is_the_union_with_counts_added_and_times_widened() {
        let a = one(1000, &[("read", Abi::Native, 5), ("open", Abi::Compat, 1)]);
        let b = one(
            5000,
            &[("read", Abi::Native, 7), ("accept4", Abi::Native, 2)],
        );
        let merged = b.clone().merge(&a).expect("one unit");
        let row = |name: &str, abi| {
            merged
                .syscalls
                .iter()
                .find(|s| s.name == name && s.abi == abi)
                .cloned()
                .expect(name)
        };
        assert_eq!(
            merged
                .syscalls
                .iter()
                .map(|s| (s.name.as_str(), s.abi))
                .collect::<Vec<_>>(),
            [
                ("accept4", Abi::Native),
                ("open", Abi::Compat),
                ("read", Abi::Native)
            ]
        );
        let read = row("read", Abi::Native);
        assert_eq!(
            (
                read.first_seen_unix_ms,
                read.last_seen_unix_ms,
                read.recordings,
                read.count
            ),
            (1000, 6000, 2, 12)
        );
        let accept = row("accept4", Abi::Native);
        assert_eq!((accept.first_seen_unix_ms, accept.recordings), (5000, 1));
        // The recordings of both, sorted by start, whichever was merged into which.
        assert_eq!(
            merged
                .recordings
                .iter()
                .map(|r| (r.started_unix_ms, r.syscalls, r.count))
                .collect::<Vec<_>>(),
            [(1000, 2, 6), (5000, 2, 9)]
        );
        assert_eq!(merged, a.merge(&b).expect("one unit"));
    }

    #[test]
    fn merge_refuses_another_unit_s_profile() {
        let a = one(1000, &[]);
        let mut b = one(2000, &[]);
        b.unit = "x.service".to_owned();
        assert_eq!(
            a.merge(&b).expect_err("two units").to_string(),
            "cannot merge a profile of w.service with one of x.service: a profile is one unit's"
        );
    }

    #[test]
    fn the_json_round_trips_and_names_its_format() {
        let p = one(1_764_491_112_000, &[("read", Abi::Native, 5)]);
        let text = p.to_json();
        assert!(text.contains("\"format\": \"sandgen-profile/1\""), "{text}");
        assert!(text.contains("\"abi\": \"native\""), "{text}");
        assert!(text.contains("\"ended\": \"time-up\""), "{text}");
        assert_eq!(Profile::from_json(&text).expect("reads"), p);
        let other = text.replace("sandgen-profile/1", "sandgen-profile/9");
        assert_eq!(
            Profile::from_json(&other).expect_err("format").to_string(),
            "profile format `sandgen-profile/9` is not `sandgen-profile/1`, the one this \
             sandgen reads"
        );
        assert!(Profile::from_json("[]")
            .expect_err("not a profile")
            .to_string()
            .starts_with("not a sandgen profile: "));
    }

    #[test]
    fn convergence_counts_the_latest_recordings_without_a_new_call() {
        let calls = [("read", Abi::Native, 1)];
        let mut p = Profile::empty("w.service");
        assert_eq!(
            p.convergence().line(3),
            "not converged: no recording yet".to_owned()
        );
        p = p.merge(&one(1000, &calls)).expect("merge");
        assert_eq!(
            p.convergence().line(3),
            "not converged: the last recording found 1 new system call (3 in a row without a \
             new one are wanted)"
        );
        p = p.merge(&one(2000, &calls)).expect("merge");
        p = p.merge(&one(3000, &calls)).expect("merge");
        assert!(!p.convergence().converged(3));
        assert_eq!(
            p.convergence().line(3),
            "not converged yet: 0 new system calls in the last 2 recordings / last 2 s (3 in a \
             row without a new one are wanted)"
        );
        p = p.merge(&one(4000, &calls)).expect("merge");
        let c = p.convergence();
        assert_eq!(
            (c.recordings, c.quiet_recordings, c.quiet_ms, c.last_new),
            (4, 3, 3000, 1)
        );
        assert!(c.converged(3));
        assert_eq!(
            c.line(3),
            "converged: 0 new system calls in the last 3 recordings / last 3 s"
        );
        // A new call, even a compat one, starts the count again.
        p = p
            .merge(&one(
                5000,
                &[("read", Abi::Compat, 1), ("read", Abi::Native, 1)],
            ))
            .expect("merge");
        assert_eq!(p.convergence().quiet_recordings, 0);
        assert_eq!(p.new_per_recording(), [1, 0, 0, 0, 1]);
    }

    #[test]
    fn convergence_holds_across_merged_machines() {
        // Two machines' profiles, merged: what the second machine saw first is new there,
        // in time order, whichever file came first.
        let a =
            one(1000, &[("read", Abi::Native, 1)]).merge(&one(3000, &[("read", Abi::Native, 1)]));
        let b = one(2000, &[("write", Abi::Native, 1)]);
        let merged = b.merge(&a.expect("merge")).expect("merge");
        assert_eq!(merged.new_per_recording(), [1, 1, 0]);
        assert_eq!(merged.convergence().quiet_recordings, 1);
    }

    #[test]
    fn new_calls_are_those_the_profile_lacks() {
        let p = one(1000, &[("read", Abi::Native, 1)]);
        assert_eq!(
            p.new_in(&observed(&[
                ("read", Abi::Native, 3),
                ("read", Abi::Compat, 1)
            ])),
            [("read".to_owned(), Abi::Compat)]
        );
    }

    #[test]
    fn times_read_as_people_write_them() {
        assert_eq!(human_ms(850), "850 ms");
        assert_eq!(human_ms(12_500), "12.5 s");
        assert_eq!(human_ms(30_000), "30 s");
        assert_eq!(human_ms(250_000), "4 min 10 s");
        assert_eq!(human_ms(7_500_000), "2 h 5 min");
        assert_eq!(human_ms(7_200_000), "2 h");
        assert_eq!(human_ms(273_600_000), "3 d 4 h");
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_764_491_112_000), "2025-11-30T08:25:12Z");
        assert_eq!(utc(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
