//! No policy string can inject into, or change the meaning of, a rendered unit.
//!
//! Every test renders a policy through `sandgen::render_policy_text` and reads the result
//! back with `support/unitfile.rs`, a reader written from systemd's documentation and
//! parsers (not from sandgen's escaping code). For each value under test either sandgen
//! refuses the policy, for a documented reason, or the unit
//!
//! * has exactly the sections and `Key=` lines of the same policy rendered with harmless
//!   values (nothing added, nothing split, one ExecStart= line holding one command), and
//! * decodes, the way systemd reads each directive, to exactly the strings of the policy:
//!   argv byte for byte and the file actually executed, environment pairs, paths,
//!   description, unit names, with no specifier (`%x`) or `$` substitution left over.
//!
//! The strategies favour what breaks unit files: white space, quotes, backslashes (also
//! trailing), `;`, `$`, `${X}`, `%`, `%h`, `#`, `=`, `[Service]`, newlines, CR, NUL, other
//! control characters, noncharacters, non-ASCII text and empty strings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

#[path = "support/toml_text.rs"]
mod toml_text;
#[path = "support/unitfile.rs"]
mod unitfile;

use toml_text::toml_string;

use std::cell::RefCell;
use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// The systemd version units are rendered for: new enough for every directive used here.
const TARGET: u32 = 255;
/// The policy file name: the unit is `injection.service`.
const POLICY_NAME: &str = "injection.toml";

// ---------------------------------------------------------------------------------------
// Policies and what they mean
// ---------------------------------------------------------------------------------------

/// The parts of a policy these tests vary. Empty lists and `None` are left out.
#[derive(Debug, Clone, Default)]
struct Policy {
    description: Option<String>,
    exec: Vec<String>,
    working_directory: Option<String>,
    environment: Vec<(String, String)>,
    read_only_paths: Vec<String>,
    bind_paths: Vec<String>,
    io_limits: Vec<String>,
    after: Vec<String>,
    wanted_by: Vec<String>,
}

fn toml_array(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", items.join(", "))
}

impl Policy {
    fn with_exec(exec: Vec<String>) -> Policy {
        Policy {
            exec,
            ..Policy::default()
        }
    }

    fn toml(&self) -> String {
        let mut t = String::from("[service]\n");
        if let Some(d) = &self.description {
            t += &format!("description = {}\n", toml_string(d));
        }
        t += &format!("exec = {}\n", toml_array(&self.exec));
        if let Some(w) = &self.working_directory {
            t += &format!("working_directory = {}\n", toml_string(w));
        }
        if !self.environment.is_empty() {
            let vars: Vec<String> = self
                .environment
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_string(k), toml_string(v)))
                .collect();
            t += &format!("environment = {{ {} }}\n", vars.join(", "));
        }
        if !self.io_limits.is_empty() {
            let limits: Vec<String> = self
                .io_limits
                .iter()
                .map(|p| format!("{} = \"1M\"", toml_string(p)))
                .collect();
            t += &format!(
                "\n[resources]\nio_read_bandwidth_max = {{ {} }}\n",
                limits.join(", ")
            );
        }
        if !self.read_only_paths.is_empty() || !self.bind_paths.is_empty() {
            t += "\n[filesystem]\n";
            if !self.read_only_paths.is_empty() {
                t += &format!("read_only_paths = {}\n", toml_array(&self.read_only_paths));
            }
            if !self.bind_paths.is_empty() {
                t += &format!("bind_paths = {}\n", toml_array(&self.bind_paths));
            }
        }
        if !self.after.is_empty() || !self.wanted_by.is_empty() {
            t += "\n[install]\n";
            if !self.after.is_empty() {
                t += &format!("after = {}\n", toml_array(&self.after));
            }
            if !self.wanted_by.is_empty() {
                t += &format!("wanted_by = {}\n", toml_array(&self.wanted_by));
            }
        }
        t
    }

    /// The same policy with inert values in every place: the shape its unit must have.
    fn harmless(&self) -> Policy {
        let numbered = |prefix: &str, n: usize, suffix: &str| -> Vec<String> {
            (0..n).map(|i| format!("{prefix}{i}{suffix}")).collect()
        };
        let mut exec = numbered("arg", self.exec.len(), "");
        if let Some(first) = exec.first_mut() {
            *first = "/bin/true".to_owned();
        }
        Policy {
            description: self.description.as_ref().map(|_| "harmless".to_owned()),
            exec,
            working_directory: self.working_directory.as_ref().map(|_| "/w".to_owned()),
            environment: (0..self.environment.len())
                .map(|i| (format!("V{i}"), "v".to_owned()))
                .collect(),
            read_only_paths: numbered("/p", self.read_only_paths.len(), ""),
            bind_paths: numbered("/b", self.bind_paths.len(), ""),
            io_limits: numbered("/d", self.io_limits.len(), ""),
            after: numbered("a", self.after.len(), ".service"),
            wanted_by: numbered("t", self.wanted_by.len(), ".target"),
        }
    }

    /// What the unit must mean to systemd: the policy's own strings.
    fn meaning(&self) -> Meaning {
        Meaning {
            description: self.description.clone(),
            exec: self.exec.clone(),
            working_directory: self.working_directory.clone(),
            environment: self.environment.clone(),
            read_only_paths: self.read_only_paths.clone(),
            bind_paths: self
                .bind_paths
                .iter()
                .map(|b| BindFields::of_policy(b))
                .collect(),
            io_limits: self
                .io_limits
                .iter()
                .map(|p| (p.clone(), "1M".to_owned()))
                .collect(),
            after: self.after.clone(),
            wanted_by: self.wanted_by.clone(),
        }
    }
}

/// What a unit means to systemd, for the directives these tests write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Meaning {
    description: Option<String>,
    exec: Vec<String>,
    working_directory: Option<String>,
    environment: Vec<(String, String)>,
    read_only_paths: Vec<String>,
    bind_paths: Vec<BindFields>,
    io_limits: Vec<(String, String)>,
    after: Vec<String>,
    wanted_by: Vec<String>,
}

/// One bind mount: `-` given, source, destination if given, option if given.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BindFields(bool, String, Option<String>, Option<String>);

impl BindFields {
    /// The fields of a policy `bind_paths` entry, `[-]SOURCE[:DEST[:OPTION]]`.
    fn of_policy(b: &str) -> BindFields {
        let mut parts = b.splitn(3, ':');
        let source = parts.next().unwrap_or_default();
        let (dash, source) = match source.strip_prefix('-') {
            Some(s) => (true, s),
            None => (false, source),
        };
        BindFields(
            dash,
            source.to_owned(),
            parts.next().map(str::to_owned),
            parts.next().map(str::to_owned),
        )
    }

    /// The fields systemd read.
    fn of_unit(b: &unitfile::BindPath) -> BindFields {
        BindFields(
            b.ignore_enoent,
            b.source.clone(),
            b.destination.clone(),
            b.options.clone(),
        )
    }
}

fn set_once<T>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), String> {
    if slot.is_some() {
        return Err(format!("{key}= is set twice"));
    }
    *slot = Some(value);
    Ok(())
}

/// `r` with the unit file line it is about.
fn located<T>(e: &unitfile::Entry, r: Result<T, String>) -> Result<T, String> {
    r.map_err(|err| format!("line {}: {}=: {err}", e.line, e.key))
}

/// Decode every directive of `unit` with the parser systemd uses for it.
fn meaning(unit: &unitfile::Unit) -> Result<Meaning, String> {
    let mut m = Meaning::default();
    let mut exec = None;
    for e in &unit.entries {
        let v = e.value.as_str();
        match (e.section.as_str(), e.key.as_str()) {
            ("Unit", "Description") => set_once(
                &mut m.description,
                "Description",
                located(e, unitfile::text(v, true))?,
            )?,
            ("Unit", "After") => m.after.extend(located(e, unitfile::unit_deps(v))?),
            ("Install", "WantedBy") => m.wanted_by.extend(located(e, unitfile::install_units(v))?),
            ("Service", "ExecStart") => {
                set_once(&mut exec, "ExecStart", located(e, unitfile::exec_argv(v))?)?;
            }
            ("Service", "WorkingDirectory") => set_once(
                &mut m.working_directory,
                "WorkingDirectory",
                located(e, unitfile::working_directory(v))?,
            )?,
            ("Service", "Environment") => {
                m.environment.extend(located(e, unitfile::environment(v))?);
            }
            ("Service", "ReadOnlyPaths") => m
                .read_only_paths
                .extend(located(e, unitfile::namespace_paths(v))?),
            ("Service", "IOReadBandwidthMax") => {
                m.io_limits.push(located(e, unitfile::io_limit(v))?);
            }
            ("Service", "BindPaths") => m.bind_paths.extend(
                located(e, unitfile::bind_paths(v))?
                    .iter()
                    .map(BindFields::of_unit),
            ),
            _ => {}
        }
    }
    m.exec = exec.unwrap_or_default();
    Ok(m)
}

// ---------------------------------------------------------------------------------------
// Rendering and checking
// ---------------------------------------------------------------------------------------

/// The unit text, or the messages of every refusal.
fn render(policy: &Policy) -> Result<String, Vec<String>> {
    sandgen::render_policy_text(POLICY_NAME, &policy.toml(), TARGET).map_err(|e| match e {
        sandgen::Error::Policy(d) => d.0.into_iter().map(|d| d.message).collect(),
        other => vec![other.to_string()],
    })
}

/// What the documentation says sandgen must do with a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Valid: it must render, and mean what it says.
    Accept,
    /// Invalid: it must be refused.
    Refuse,
    /// sandgen may refuse more than systemd does (documented as such): if it renders, it
    /// must mean what it says.
    Either,
}

impl Expect {
    /// Combine the expectations of independent values of one policy.
    fn and(self, other: Expect) -> Expect {
        match (self, other) {
            (Expect::Refuse, _) | (_, Expect::Refuse) => Expect::Refuse,
            (Expect::Either, _) | (_, Expect::Either) => Expect::Either,
            _ => Expect::Accept,
        }
    }

    fn all(values: impl IntoIterator<Item = Expect>) -> Expect {
        values.into_iter().fold(Expect::Accept, Expect::and)
    }
}

/// A character no unit file can hold: a control character (the line would end or break),
/// or a Unicode noncharacter (U+FDD0..U+FDEF, U+nFFFE/U+nFFFF), which makes systemd ignore
/// the line ("String is not UTF-8 clean", `unichar_is_valid()` in systemd's utf8.c).
fn has_control(s: &str) -> bool {
    s.chars().any(|c| {
        let n = u32::from(c);
        c.is_control() || (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE
    })
}

/// An absolute path with no empty, `.` or `..` component and no trailing slash: what
/// sandgen documents as "absolute, normalised".
fn is_normalised_absolute(p: &str) -> bool {
    p == "/"
        || (p.starts_with('/')
            && p[1..]
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != ".."))
}

/// A value systemd takes unquoted to the end of the line (Description=, WorkingDirectory=)
/// must not end in ASCII blanks (stripped) or a backslash (line continuation). sandgen also
/// refuses other Unicode white space at either end, which systemd would keep.
fn unquoted_text_expectation(s: &str) -> Expect {
    let ascii_blank = |c: char| c == ' ' || c == '\t';
    if s.starts_with(ascii_blank) || s.ends_with(ascii_blank) || s.ends_with('\\') {
        Expect::Refuse
    } else if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        Expect::Either
    } else {
        Expect::Accept
    }
}

fn description_expectation(d: &str) -> Expect {
    if has_control(d) || d.is_empty() {
        Expect::Refuse
    } else {
        unquoted_text_expectation(d)
    }
}

/// systemd refuses to load an ExecStart= whose program path has quotes, backslashes or
/// control characters (`string_is_safe()`), ends in `/`, or has a component longer than
/// NAME_MAX (`config_parse_exec()`), so sandgen must refuse such an `exec[0]`.
fn program_expectation(p: &str) -> Expect {
    let systemd_loads =
        unitfile::string_is_safe(p) && !p.ends_with('/') && p.split('/').all(|c| c.len() <= 255);
    // systemd never substitutes variables in the program path but does in argv[0], so a
    // `$` there cannot be written for both: sandgen refuses it.
    if has_control(p) || !p.starts_with('/') || !systemd_loads || p.contains('$') {
        Expect::Refuse
    } else {
        Expect::Accept
    }
}

fn argument_expectation(a: &str) -> Expect {
    if has_control(a) {
        Expect::Refuse
    } else {
        Expect::Accept
    }
}

fn environment_expectation(name: &str, value: &str) -> Expect {
    if has_control(name) || has_control(value) || !unitfile::env_name_is_valid(name) {
        Expect::Refuse
    } else {
        Expect::Accept
    }
}

/// `read_only_paths` words: an optional `-`, then an absolute normalised path.
fn path_word_expectation(w: &str) -> Expect {
    if !has_control(w) && is_normalised_absolute(w.strip_prefix('-').unwrap_or(w)) {
        Expect::Accept
    } else {
        Expect::Refuse
    }
}

/// An I/O limit's device path: absolute and normalised (no `-` prefix).
fn io_path_expectation(p: &str) -> Expect {
    if !has_control(p) && is_normalised_absolute(p) {
        Expect::Accept
    } else {
        Expect::Refuse
    }
}

/// `bind_paths`: `[-]SOURCE[:DEST[:rbind|norbind]]`, paths absolute and normalised.
fn bind_path_expectation(b: &str) -> Expect {
    let mut parts = b.splitn(3, ':');
    let source = parts.next().unwrap_or("");
    let ok = !has_control(b)
        && is_normalised_absolute(source.strip_prefix('-').unwrap_or(source))
        && parts.next().is_none_or(is_normalised_absolute)
        && parts.next().is_none_or(|o| o == "rbind" || o == "norbind");
    if ok {
        Expect::Accept
    } else {
        Expect::Refuse
    }
}

/// `working_directory`: `~`, or an optional `-` then an absolute normalised path.
fn working_directory_expectation(w: &str) -> Expect {
    let path = w.strip_prefix('-').unwrap_or(w);
    if has_control(w) || !(w == "~" || is_normalised_absolute(path)) {
        Expect::Refuse
    } else {
        unquoted_text_expectation(w)
    }
}

fn unit_name_expectation(n: &str) -> Expect {
    if !has_control(n) && unitfile::unit_name_is_valid(n) {
        Expect::Accept
    } else {
        Expect::Refuse
    }
}

/// Words listed twice are refused; values that appear twice in a list are not what these
/// tests are about, so generated lists are deduplicated.
fn dedup<T: PartialEq + Clone, K: PartialEq>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.iter().any(|o| key(o) == key(&i)) {
            out.push(i);
        }
    }
    out
}

/// Render `policy` and check the outcome against `expect`.
fn check(policy: &Policy, expect: Expect) -> Result<(), TestCaseError> {
    let any_control = policy.description.iter().any(|s| has_control(s))
        || policy.exec.iter().any(|s| has_control(s))
        || policy.working_directory.iter().any(|s| has_control(s))
        || policy
            .environment
            .iter()
            .any(|(k, v)| has_control(k) || has_control(v))
        || policy.read_only_paths.iter().any(|s| has_control(s))
        || policy.bind_paths.iter().any(|s| has_control(s))
        || policy.after.iter().any(|s| has_control(s))
        || policy.wanted_by.iter().any(|s| has_control(s));
    match render(policy) {
        Err(messages) => {
            prop_assert!(
                !messages.iter().any(|m| m.starts_with("invalid TOML")),
                "the test wrote invalid TOML: {messages:?}\n{}",
                policy.toml()
            );
            prop_assert!(
                expect != Expect::Accept,
                "a valid policy was refused: {messages:?}\n{}",
                policy.toml()
            );
            if any_control {
                prop_assert!(
                    messages.iter().any(|m| m.contains("control character") || m.contains("noncharacter")),
                    "a control character or noncharacter was refused for another reason: {messages:?}\n{}",
                    policy.toml()
                );
            }
            Ok(())
        }
        Ok(text) => {
            prop_assert!(
                expect != Expect::Refuse,
                "an invalid policy was rendered:\n{}--- unit:\n{text}",
                policy.toml()
            );
            round_trip(policy, &text)
        }
    }
}

/// The render of `policy.harmless()`, which depends only on the policy's shape (how many
/// arguments, variables, paths...), so it is computed once per shape.
fn harmless_render(policy: &Policy) -> Result<String, Vec<String>> {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Result<String, Vec<String>>>> =
            RefCell::new(HashMap::new());
    }
    let harmless = policy.harmless();
    let key = harmless.toml();
    if let Some(hit) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return hit;
    }
    let rendered = render(&harmless);
    CACHE.with(|c| c.borrow_mut().insert(key, rendered.clone()));
    rendered
}

/// The unit has the shape of the harmless render and means exactly what `policy` says.
fn round_trip(policy: &Policy, text: &str) -> Result<(), TestCaseError> {
    let context = || format!("--- policy:\n{}--- unit:\n{text}", policy.toml());
    let unit = unitfile::parse(text).map_err(|e| {
        TestCaseError::fail(format!("systemd cannot read the unit: {e}\n{}", context()))
    })?;
    let reference_text = harmless_render(policy).map_err(|e| {
        TestCaseError::fail(format!("harmless policy refused: {e:?}\n{}", context()))
    })?;
    let reference = unitfile::parse(&reference_text).map_err(|e| {
        TestCaseError::fail(format!("harmless unit unreadable: {e}\n{reference_text}"))
    })?;
    prop_assert_eq!(
        &unit.sections,
        &reference.sections,
        "sections differ\n{}",
        context()
    );
    prop_assert_eq!(
        unit.keys(),
        reference.keys(),
        "directives differ from the harmless render:\n{}\n{}",
        reference_text,
        context()
    );
    let got = meaning(&unit).map_err(|e| {
        TestCaseError::fail(format!("systemd reads it differently: {e}\n{}", context()))
    })?;
    prop_assert_eq!(
        got,
        policy.meaning(),
        "the unit means something else\n{}",
        context()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// Fragments that break line-based, quoted, specifier- and variable-expanding formats.
#[rustfmt::skip]
const NASTY: &[&str] = &[
    " ", "  ", "\t", "\"", "'", "\\", "\\\\", ";", " ; ", "$", "$$", "${X}", "$HOME",
    "%", "%h", "%%", "%n", "%i", "#", "# ", "=", "[Service]", "[Unit]\n",
    "\n", "\r", "\r\n", "\0", "\x07", "\x1b", "\x7f", "\u{85}",
    "\u{a0}", "\u{2028}", "\u{feff}", "\u{3000}", "é", "日本", "😀", "",
    "\u{fffe}", "\u{fdd0}", "\u{10ffff}", "\u{fffd}",
    ":", "-", "@", "+", "!", "!!", "~", "/", ".", "..",
    "\\n", "\\x41", "\\;", "\\\n", "\"\"", "''", "`", "*", "&", "|", ">",
    "\nExecStartPre=/bin/sh -c id", "ExecStartPre=/bin/sh", "a", "b c",
];

fn piece() -> BoxedStrategy<String> {
    prop_oneof![
        5 => prop::sample::select(NASTY).prop_map(str::to_owned),
        2 => prop::collection::vec(prop::char::range('a', 'z'), 1..5)
            .prop_map(|v| v.into_iter().collect::<String>()),
        1 => any::<char>().prop_map(String::from),
    ]
    .boxed()
}

/// Anything, control characters included.
fn nasty() -> BoxedStrategy<String> {
    prop::collection::vec(piece(), 0..6)
        .prop_map(|v| v.concat())
        .boxed()
}

/// Anything without control characters.
fn printable() -> BoxedStrategy<String> {
    nasty()
        .prop_map(|s| s.chars().filter(|c| !c.is_control()).collect())
        .boxed()
}

/// Mostly printable, sometimes with control characters.
fn value() -> BoxedStrategy<String> {
    prop_oneof![3 => printable(), 1 => nasty()].boxed()
}

/// One path component: anything but `/` (and not empty, `.` or `..`).
fn component(without: &'static [char]) -> BoxedStrategy<String> {
    value()
        .prop_map(move |s| {
            let s: String = s
                .chars()
                .filter(|c| *c != '/' && !without.contains(c))
                .collect();
            if s.is_empty() || s == "." || s == ".." {
                "x".to_owned()
            } else {
                s
            }
        })
        .boxed()
}

/// An absolute normalised path made of arbitrary components.
fn clean_path(without: &'static [char]) -> BoxedStrategy<String> {
    prop::collection::vec(component(without), 1..4)
        .prop_map(|v| format!("/{}", v.join("/")))
        .boxed()
}

fn maybe_dash(path: BoxedStrategy<String>) -> BoxedStrategy<String> {
    (any::<bool>(), path)
        .prop_map(|(dash, p)| if dash { format!("-{p}") } else { p })
        .boxed()
}

/// A read_only_paths word: mostly valid, sometimes not.
fn path_word() -> BoxedStrategy<String> {
    prop_oneof![
        8 => maybe_dash(clean_path(&[])),
        1 => Just("/".to_owned()),
        1 => nasty(),
        1 => value().prop_map(|s| format!("/{s}")),
    ]
    .boxed()
}

/// A bind source alone (`[-]SOURCE`).
fn bind_source() -> BoxedStrategy<String> {
    prop_oneof![
        8 => maybe_dash(clean_path(&[':'])),
        1 => nasty(),
    ]
    .boxed()
}

/// `[-]SOURCE:DEST[:OPTION]`.
fn bind_with_destination() -> BoxedStrategy<String> {
    let option = prop::option::of(prop::sample::select(&["rbind", "norbind", "", "bogus"][..]));
    (maybe_dash(clean_path(&[':'])), clean_path(&[':']), option)
        .prop_map(|(s, d, o)| match o {
            Some(o) => format!("{s}:{d}:{o}"),
            None => format!("{s}:{d}"),
        })
        .boxed()
}

fn working_directory() -> BoxedStrategy<String> {
    prop_oneof![
        6 => maybe_dash(clean_path(&[])),
        1 => Just("~".to_owned()),
        1 => Just("-~".to_owned()),
        1 => (clean_path(&[]), value()).prop_map(|(p, s)| format!("{p}{s}")),
        1 => nasty(),
    ]
    .boxed()
}

/// Valid environment variable names.
fn valid_env_name() -> BoxedStrategy<String> {
    let first = prop::sample::select(&['A', 'Z', 'a', 'z', '_', 'Q'][..]);
    let rest = prop::collection::vec(
        prop::sample::select(&['A', 'b', '0', '9', '_', 'X'][..]),
        0..8,
    );
    (first, rest)
        .prop_map(|(f, r)| std::iter::once(f).chain(r).collect::<String>())
        .boxed()
}

/// Environment variable names: mostly valid, sometimes anything.
fn env_name() -> BoxedStrategy<String> {
    prop_oneof![3 => valid_env_name(), 1 => value()].boxed()
}

/// Unit names as systemd.unit(5) allows them, escapes (`\x2d`) and instances included;
/// sometimes anything.
fn unit_name(suffixes: &'static [&'static str]) -> BoxedStrategy<String> {
    let part = prop::collection::vec(
        prop::sample::select(&["a", "Z", "0", ":", "-", "_", ".", "\\x2d", "\\x20", "foo"][..]),
        0..5,
    )
    .prop_map(|v| v.concat());
    let instance = prop::option::of(
        prop::collection::vec(
            prop::sample::select(&["b", "\\x2f", "1", "-", "\\"][..]),
            1..4,
        )
        .prop_map(|v| v.concat()),
    );
    prop_oneof![
        5 => (part, instance, prop::sample::select(suffixes)).prop_map(|(p, i, s)| match i {
            Some(i) => format!("u{p}@{i}.{s}"),
            None => format!("u{p}.{s}"),
        }),
        1 => value(),
    ]
    .boxed()
}

/// Proptest settings: `cases` cases, no regression files written into the source tree.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

/// A program path systemd accepts, for tests about the other arguments.
const PROGRAM: &str = "/usr/bin/prog";

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(1000))]

    /// Arguments after argv[0] reach the process byte for byte, in one command.
    #[test]
    fn exec_arguments_reach_the_process_unchanged(args in prop::collection::vec(value(), 0..6)) {
        let mut exec = vec![PROGRAM.to_owned()];
        exec.extend(args);
        let expect = Expect::all(exec.iter().map(|a| argument_expectation(a)));
        check(&Policy::with_exec(exec), expect)?;
    }

    /// Description= is read back exactly, on one line, with no specifier left.
    #[test]
    fn description_is_read_back_exactly(d in value()) {
        let policy = Policy {
            description: Some(d.clone()),
            ..Policy::with_exec(vec![PROGRAM.to_owned()])
        };
        check(&policy, description_expectation(&d))?;
    }
}

proptest! {
    #![proptest_config(config(600))]

    /// The program systemd executes is `exec[0]`, and argv[0] is `exec[0]` too; a program
    /// path systemd refuses to load is refused by sandgen.
    #[test]
    fn exec_program_is_the_file_executed(
        tail in value(),
        args in prop::collection::vec(value(), 0..3),
    ) {
        let mut exec = vec![format!("/bin/{tail}")];
        exec.extend(args);
        let expect = program_expectation(&exec[0])
            .and(Expect::all(exec[1..].iter().map(|a| argument_expectation(a))));
        check(&Policy::with_exec(exec), expect)?;
    }

    /// Environment= assignments are read back as the same pairs, in order.
    #[test]
    fn environment_is_read_back_exactly(
        vars in prop::collection::vec((env_name(), value()), 0..5),
    ) {
        let vars = dedup(vars, |(k, _)| k.clone());
        let expect = Expect::all(vars.iter().map(|(k, v)| environment_expectation(k, v)));
        let policy = Policy {
            environment: vars,
            ..Policy::with_exec(vec![PROGRAM.to_owned()])
        };
        check(&policy, expect)?;
    }

    /// ReadOnlyPaths= words are read back as the same paths, `-` prefixes included.
    #[test]
    fn read_only_paths_are_read_back_exactly(
        paths in prop::collection::vec(path_word(), 1..5),
    ) {
        let paths = dedup(paths, String::clone);
        let expect = Expect::all(paths.iter().map(|p| path_word_expectation(p)));
        let policy = Policy {
            read_only_paths: paths,
            ..Policy::with_exec(vec![PROGRAM.to_owned()])
        };
        check(&policy, expect)?;
    }

    /// IOReadBandwidthMax= paths are read back as the same paths, each with its limit.
    #[test]
    fn io_limit_paths_are_read_back_exactly(
        paths in prop::collection::vec(path_word(), 1..4),
    ) {
        let paths = dedup(paths, String::clone);
        let expect = Expect::all(paths.iter().map(|p| io_path_expectation(p)));
        let policy = Policy {
            io_limits: paths,
            ..Policy::with_exec(vec![PROGRAM.to_owned()])
        };
        check(&policy, expect)?;
    }

    /// WorkingDirectory= is read back exactly.
    #[test]
    fn working_directory_is_read_back_exactly(w in working_directory()) {
        let expect = working_directory_expectation(&w);
        let policy = Policy {
            working_directory: Some(w),
            ..Policy::with_exec(vec![PROGRAM.to_owned()])
        };
        check(&policy, expect)?;
    }

    /// BindPaths= sources alone are read back exactly.
    #[test]
    fn bind_path_sources_are_read_back_exactly(
        binds in prop::collection::vec(bind_source(), 1..4),
    ) {
        let binds = dedup(binds, String::clone);
        let expect = Expect::all(binds.iter().map(|b| bind_path_expectation(b)));
        let policy = Policy {
            bind_paths: binds,
            ..Policy::with_exec(vec![PROGRAM.to_owned()])
        };
        check(&policy, expect)?;
    }

    /// BindPaths= `SOURCE:DEST[:OPTION]` keep source, destination and option apart.
    #[test]
    fn bind_path_destinations_are_read_back_exactly(
        binds in prop::collection::vec(bind_with_destination(), 1..4),
    ) {
        let binds = dedup(binds, String::clone);
        let expect = Expect::all(binds.iter().map(|b| bind_path_expectation(b)));
        let policy = Policy {
            bind_paths: binds,
            ..Policy::with_exec(vec![PROGRAM.to_owned()])
        };
        check(&policy, expect)?;
    }
}

proptest! {
    #![proptest_config(config(300))]

    /// After= and WantedBy= name the same units, escapes included.
    #[test]
    fn unit_names_are_read_back_exactly(
        after in prop::collection::vec(unit_name(&["service", "target", "device", "socket"]), 1..4),
        wanted_by in prop::collection::vec(unit_name(&["target"]), 0..3),
    ) {
        let after = dedup(after, String::clone);
        let wanted_by = dedup(wanted_by, String::clone);
        let expect = Expect::all(after.iter().chain(&wanted_by).map(|u| unit_name_expectation(u)));
        let policy = Policy {
            after,
            wanted_by,
            ..Policy::with_exec(vec![PROGRAM.to_owned()])
        };
        check(&policy, expect)?;
    }
}

proptest! {
    #![proptest_config(config(500))]

    /// Everything at once, so that one line cannot spill into the next (a trailing
    /// backslash, an unbalanced quote). The program path, bind destinations and unit names
    /// have their own properties above; here they stay out of the way of the rest.
    #[test]
    fn no_value_spills_into_another_line(
        printable_only in prop::bool::weighted(0.9),
        description in value(),
        args in prop::collection::vec(value(), 0..4),
        wd in prop_oneof![4 => maybe_dash(clean_path(&[])), 1 => working_directory()],
        vars in prop::collection::vec((valid_env_name(), value()), 0..3),
        paths in prop::collection::vec(maybe_dash(clean_path(&[])), 0..3),
        binds in prop::collection::vec(maybe_dash(clean_path(&[':'])), 0..3),
    ) {
        // Mostly valid values (the properties above cover refusals) and mostly without
        // control characters, so that most cases render and are read back.
        let clean = |s: String| -> String {
            if printable_only { s.chars().filter(|c| !c.is_control()).collect() } else { s }
        };
        let (description, wd) = (clean(description), clean(wd));
        let args: Vec<String> = args.into_iter().map(clean).collect();
        let vars = dedup(vars.into_iter().map(|(k, v)| (clean(k), clean(v))).collect(), |(k, _)| k.clone());
        let paths = dedup(paths.into_iter().map(clean).collect(), String::clone);
        let binds = dedup(binds.into_iter().map(clean).collect(), String::clone);
        let mut exec = vec![PROGRAM.to_owned()];
        exec.extend(args);
        let expect = description_expectation(&description)
            .and(Expect::all(exec.iter().map(|a| argument_expectation(a))))
            .and(working_directory_expectation(&wd))
            .and(Expect::all(vars.iter().map(|(k, v)| environment_expectation(k, v))))
            .and(Expect::all(paths.iter().map(|p| path_word_expectation(p))))
            .and(Expect::all(binds.iter().map(|b| bind_path_expectation(b))));
        let policy = Policy {
            description: Some(description),
            exec,
            working_directory: Some(wd),
            environment: vars,
            read_only_paths: paths,
            bind_paths: binds,
            io_limits: Vec::new(),
            after: vec!["network-online.target".to_owned()],
            wanted_by: vec!["multi-user.target".to_owned()],
        };
        check(&policy, expect)?;
    }
}

// ---------------------------------------------------------------------------------------
// What sandgen writes for the classic cases
// ---------------------------------------------------------------------------------------

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(std::string::ToString::to_string).collect()
}

/// The one line of `text` that sets `key`.
fn line<'a>(text: &'a str, key: &str) -> &'a str {
    let prefix = format!("{key}=");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with(&prefix)).collect();
    assert_eq!(lines.len(), 1, "{key}= lines in:\n{text}");
    lines[0]
}

fn rendered(policy: &Policy) -> String {
    render(policy).unwrap_or_else(|e| panic!("refused: {e:?}\n{}", policy.toml()))
}

fn refusal(policy: &Policy) -> Vec<String> {
    match render(policy) {
        Ok(text) => panic!("rendered:\n{text}"),
        Err(messages) => messages,
    }
}

#[test]
fn exec_arguments_are_quoted_with_dollars_and_percents_doubled() {
    let argv = strings(&[
        "/bin/echo",
        "$HOME",
        "${HOME}",
        "%h",
        "50%",
        ";",
        "trailing\\",
        "say \"hi\"",
        "it's",
        "日本 é 😀",
        "",
        "-n",
    ]);
    let text = rendered(&Policy::with_exec(argv.clone()));
    let exec = line(&text, "ExecStart");
    assert_eq!(
        exec,
        r#"ExecStart="/bin/echo" "$$HOME" "$${HOME}" "%%h" "50%%" ";" "trailing\\" "say \"hi\"" "it's" "日本 é 😀" "" "-n""#
    );
    let value = exec.strip_prefix("ExecStart=").unwrap_or_default();
    assert_eq!(unitfile::exec_argv(value), Ok(argv));
}

#[test]
fn description_is_unquoted_with_percents_doubled() {
    let d = "CPU at 50% ; #not a comment [Service] ExecStartPre=/bin/sh \"q\" 'q' $HOME \\ x";
    let policy = Policy {
        description: Some(d.to_owned()),
        ..Policy::with_exec(strings(&[PROGRAM]))
    };
    let text = rendered(&policy);
    assert_eq!(
        line(&text, "Description"),
        r#"Description=CPU at 50%% ; #not a comment [Service] ExecStartPre=/bin/sh "q" 'q' $HOME \ x"#
    );
}

#[test]
fn environment_is_one_quoted_assignment_per_variable() {
    let policy = Policy {
        environment: vec![
            ("GREETING".into(), "hello \"world\" 100% $HOME".into()),
            ("EMPTY".into(), "".into()),
            ("WIN".into(), "C:\\dir\\".into()),
        ],
        ..Policy::with_exec(strings(&[PROGRAM]))
    };
    let text = rendered(&policy);
    let env: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("Environment="))
        .collect();
    assert_eq!(
        env,
        [
            r#"Environment="GREETING=hello \"world\" 100%% $HOME""#,
            r#"Environment="EMPTY=""#,
            r#"Environment="WIN=C:\\dir\\""#,
        ]
    );
}

#[test]
fn paths_are_bare_when_safe_and_quoted_otherwise() {
    let policy = Policy {
        working_directory: Some("/srv/my dir/50%".into()),
        read_only_paths: strings(&["/srv/my dir", "-/var/lib/50%", "/opt/it's", "/a\\b"]),
        ..Policy::with_exec(strings(&[PROGRAM]))
    };
    let text = rendered(&policy);
    assert_eq!(
        line(&text, "WorkingDirectory"),
        "WorkingDirectory=/srv/my dir/50%%"
    );
    assert_eq!(
        line(&text, "ReadOnlyPaths"),
        r#"ReadOnlyPaths="/srv/my dir" -/var/lib/50%% "/opt/it's" "/a\\b""#
    );
}

#[test]
fn a_newline_never_reaches_the_unit() {
    for policy in [
        Policy {
            description: Some("x\nExecStartPre=/bin/sh -c id".into()),
            ..Policy::with_exec(strings(&[PROGRAM]))
        },
        Policy::with_exec(strings(&[PROGRAM, "a\n[Service]\nExecStartPre=/bin/sh"])),
        Policy::with_exec(strings(&[PROGRAM, "a\rb"])),
        Policy::with_exec(strings(&[PROGRAM, "a\0b"])),
        Policy {
            environment: vec![("X".into(), "1\nExecStartPre=/bin/sh".into())],
            ..Policy::with_exec(strings(&[PROGRAM]))
        },
        Policy {
            read_only_paths: strings(&["/a\n/b"]),
            ..Policy::with_exec(strings(&[PROGRAM]))
        },
    ] {
        let messages = refusal(&policy);
        assert!(
            messages.iter().any(|m| m.contains("control character")),
            "{messages:?}"
        );
    }
}

#[test]
fn a_trailing_backslash_in_unquoted_text_is_refused() {
    let policy = Policy {
        description: Some("ends in \\".into()),
        ..Policy::with_exec(strings(&[PROGRAM]))
    };
    assert!(refusal(&policy).iter().any(|m| m.contains("backslash")));
}

// The next tests show, on the smallest input, the cases the properties above found where
// the unit does not mean what the policy says. They state what systemd must read.

/// systemd reads a `:` inside quotes as part of the path (`config_parse_bind_paths()`), so
/// a quoted `SOURCE:DEST` becomes one source path bound onto itself.
#[test]
fn bind_path_with_a_space_keeps_its_destination() {
    let policy = Policy {
        bind_paths: strings(&["/srv/my dir:/data"]),
        ..Policy::with_exec(strings(&[PROGRAM]))
    };
    let text = rendered(&policy);
    let value = line(&text, "BindPaths")
        .strip_prefix("BindPaths=")
        .unwrap_or_default();
    let read: Vec<BindFields> = unitfile::bind_paths(value)
        .unwrap_or_default()
        .iter()
        .map(BindFields::of_unit)
        .collect();
    assert_eq!(
        read,
        [BindFields::of_policy("/srv/my dir:/data")],
        "systemd reads {value:?} as {read:?}"
    );
}

/// systemd executes the program path without environment substitution, but argv[0] with
/// it, so no escaping of `$` in the path is right for both: sandgen refuses it.
#[test]
fn program_path_with_a_dollar_is_refused() {
    let messages = refusal(&Policy::with_exec(strings(&["/opt/a$b/run"])));
    assert_eq!(
        messages,
        ["`service.exec`: the program path \"/opt/a$b/run\" contains `$`, which sandgen cannot write: systemd substitutes variables in argv[0] but not in the program path"]
    );
}

/// systemd refuses to load ExecStart= when the program path has a quote or backslash, ends
/// in `/` or has a component longer than NAME_MAX (`config_parse_exec()`): sandgen must
/// refuse the policy instead of writing a unit that cannot start.
#[test]
fn program_paths_systemd_cannot_load_are_refused() {
    let too_long = format!("/opt/{}", "a".repeat(256));
    let rendered = [
        "/opt/it's/run",
        "/opt/say\"hi\"",
        "/opt/a\\b",
        "/bin/",
        &too_long,
    ]
    .into_iter()
    .filter_map(|program| {
        let exec = render(&Policy::with_exec(strings(&[program]))).ok()?;
        Some(format!("{program:?}: {}", line(&exec, "ExecStart")))
    })
    .collect::<Vec<_>>();
    assert!(rendered.is_empty(), "rendered:\n{}", rendered.join("\n"));
}

/// After= keeps quotes as part of the name (`config_parse_unit_deps()` uses
/// `EXTRACT_RETAIN_ESCAPE` only) and WantedBy= keeps both backslashes of `\\`
/// (`config_parse_strv()`), so a unit name with a `\x2d` escape must be written bare.
#[test]
fn unit_names_with_escapes_keep_their_meaning() {
    let policy = Policy {
        after: strings(&["dev-disk-by\\x2dlabel-data.device"]),
        wanted_by: strings(&["my\\x2dapps.target"]),
        ..Policy::with_exec(strings(&[PROGRAM]))
    };
    let text = rendered(&policy);
    let after = line(&text, "After")
        .strip_prefix("After=")
        .unwrap_or_default();
    let wanted = line(&text, "WantedBy")
        .strip_prefix("WantedBy=")
        .unwrap_or_default();
    assert_eq!(
        unitfile::unit_deps(after),
        Ok(policy.after.clone()),
        "{text}"
    );
    assert_eq!(
        unitfile::install_units(wanted),
        Ok(policy.wanted_by.clone()),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// The reader itself, on systemd's documented examples
// ---------------------------------------------------------------------------------------

#[test]
fn unitfile_reads_the_examples_of_systemd_service_5() {
    // systemd.service(5), "Command lines".
    let two = unitfile::exec_commands(r#"/bin/echo one ; /bin/echo "two two""#).unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[0].argv, ["/bin/echo", "one"]);
    assert_eq!(two[1].argv, ["/bin/echo", "two two"]);
    let escaped = unitfile::exec_commands(r"/bin/echo / >/dev/null & \; ls").unwrap();
    assert_eq!(escaped.len(), 1);
    assert_eq!(
        escaped[0].argv,
        ["/bin/echo", "/", ">/dev/null", "&", ";", "ls"]
    );
    assert_eq!(
        unitfile::environment(r#""ONE=one" 'TWO=two two'"#),
        Ok(vec![
            ("ONE".into(), "one".into()),
            ("TWO".into(), "two two".into())
        ])
    );
    assert!(unitfile::exec_argv("/bin/echo $ONE $TWO ${TWO}").is_err());
    assert_eq!(
        unitfile::exec_argv("/bin/echo $$ONE"),
        Ok(strings(&["/bin/echo", "$ONE"]))
    );
    // Prefixes, and `;` as the whole first word.
    let prefixed = unitfile::exec_commands("-@/bin/sh sh -c true").unwrap();
    assert_eq!(prefixed[0].prefixes, "-@");
    assert_eq!(prefixed[0].path, "/bin/sh");
    assert_eq!(prefixed[0].argv, ["sh", "-c", "true"]);
    assert!(unitfile::exec_argv("-/bin/true").is_err());
    assert_eq!(
        unitfile::exec_commands(r#"";" /bin/true"#).unwrap()[0].argv,
        ["/bin/true"]
    );
    // C escapes in command lines, none in paths.
    assert_eq!(
        unitfile::exec_argv(r#"/bin/printf "a\tb\x41\u00e9\\\"""#),
        Ok(strings(&["/bin/printf", "a\tbAé\\\""]))
    );
    assert_eq!(
        unitfile::namespace_paths(r#""/a\tb" -/c"#),
        Ok(strings(&["/atb", "-/c"]))
    );
    assert!(unitfile::exec_argv(r"/bin/echo \q").is_err());
    assert!(unitfile::exec_argv("/bin/echo %h").is_err());
    assert!(unitfile::exec_argv("/bin/echo \"unbalanced").is_err());
    assert!(unitfile::exec_argv("\"/bin/a'b\"").is_err());
}

#[test]
fn unitfile_reads_lines_like_systemd_syntax_7() {
    let unit = unitfile::parse(
        "# comment\n[Unit]\n  ; also a comment\nDescription = a \\\n# skipped inside a continuation\n  b\t\n\
         X=c \\\\\n[Service]\r\nExecStart=/bin/true\rY=\\",
    )
    .unwrap();
    assert_eq!(unit.sections, ["Unit", "Service"]);
    assert_eq!(
        unit.entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
            .collect::<Vec<_>>(),
        [
            ("Description", "a    b"),
            ("X", "c \\\\"),
            ("ExecStart", "/bin/true"),
            ("Y", "")
        ]
    );
    assert!(unitfile::parse("[Unit]\nno equals sign\n").is_err());
    assert!(unitfile::parse("Key=outside\n").is_err());
    let bind = unitfile::bind_paths(r#"/a:/b "/c d":/e -/f:/g:norbind "/h:/i""#).unwrap();
    assert_eq!(
        bind.iter().map(BindFields::of_unit).collect::<Vec<_>>(),
        ["/a:/b", "/c d:/e", "-/f:/g:norbind"]
            .iter()
            .map(|b| BindFields::of_policy(b))
            .chain([BindFields(false, "/h:/i".into(), None, None)])
            .collect::<Vec<_>>(),
        "a quoted ':' is part of the path"
    );
    assert_eq!(
        unitfile::unit_deps(r#""a.service""#).map_err(|_| ()),
        Err(())
    );
    assert_eq!(
        unitfile::install_units(r#""a\x2db.target""#),
        Ok(strings(&["a\\x2db.target"]))
    );
    assert_eq!(unitfile::working_directory("-~"), Ok("-~".to_owned()));
    assert_eq!(unitfile::text("100%%", true), Ok("100%".to_owned()));
}
