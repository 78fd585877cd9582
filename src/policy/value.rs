//! Validation of one policy value against the [`Kind`] its key takes.
//!
//! Each parser accepts exactly what the systemd directive accepts (or a documented subset),
//! in the syntax its man page gives, and returns a [`Value`] that needs no further checks.
//! Errors carry the span of the offending element and, where sandgen can tell, a fix.

use std::ops::Range;

use toml::de::DeValue;
use toml::Spanned;

use crate::data::{
    address_families, architectures, capabilities, errno,
    syscalls::{GroupsSource, SyscallTable},
};
use crate::diagnostic::closest;
use crate::directive::{Kind, Spec};

/// A validated policy value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A boolean.
    Bool(bool),
    /// A token that needs no escaping: a size, a percentage, a word from a fixed set.
    Token(String),
    /// Free text.
    Text(String),
    /// A list of validated words (paths, names). May be empty where that means "none".
    Words(Vec<String>),
    /// A command line.
    Command(Vec<String>),
    /// Environment variables, in file order.
    Env(Vec<(String, String)>),
    /// A non-negative integer.
    Integer(u64),
}

/// What is wrong with a value, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte span in the policy file.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// A suggestion.
    pub help: Option<String>,
}

impl Problem {
    fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Problem {
            span,
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    fn maybe_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}

/// Facts from the host that validation needs, gathered by the caller.
pub struct Context<'a> {
    /// The syscall groups of the target systemd, loaded on first use (only policies with a
    /// `[seccomp]` list need them).
    pub syscalls: &'a dyn Fn() -> &'a SyscallTable,
    /// Finds a program on `PATH`, for the suggestion when `exec[0]` is not absolute.
    pub find_program: &'a dyn Fn(&str) -> Option<String>,
}

type Node<'i> = Spanned<DeValue<'i>>;

/// Display a user string inside an error message: control characters escaped.
pub fn shown(s: &str) -> String {
    s.escape_debug().to_string()
}

/// The TOML type name of a value, as TOML's own spec calls it.
fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// What a kind expects, for type errors.
fn expectation(kind: Kind) -> &'static str {
    match kind {
        Kind::Bool => "true or false",
        Kind::BoolOrWord(_) => "true, false or a string",
        Kind::Word(_) | Kind::Text | Kind::UserName | Kind::CpuSet | Kind::Errno => "a string",
        Kind::Size => "a size string such as \"512M\" or a number of bytes",
        Kind::Integer { .. } => "an integer",
        Kind::TasksMax => "an integer, a percentage or \"infinity\"",
        Kind::Percent => "a percentage string such as \"20%\"",
        Kind::Duration => "a number of seconds or a time span string such as \"90s\"",
        Kind::Path | Kind::WorkingDirectory => "an absolute path string",
        Kind::Command => "an array of strings (argv)",
        Kind::Environment => "a table of strings",
        Kind::Namespaces => "true, false or an array of namespace types",
        Kind::UMask => "an octal string such as \"0077\"",
        Kind::Paths
        | Kind::BindPaths
        | Kind::Units
        | Kind::Capabilities
        | Kind::Syscalls
        | Kind::Architectures
        | Kind::AddressFamilies
        | Kind::SecureBits => "an array of strings",
    }
}

fn wrong_type(spec: &Spec, node: &Node<'_>) -> Problem {
    Problem::new(
        node.span(),
        format!(
            "`{}` expects {}, found {}",
            spec.path(),
            expectation(spec.kind),
            type_name(node.get_ref())
        ),
    )
}

/// Every string inside `node`, with its span: checked for control characters first.
fn control_characters(node: &Node<'_>, out: &mut Vec<Problem>) {
    match node.get_ref() {
        DeValue::String(s) => {
            if let Some(c) = s.chars().find(|c| c.is_control()) {
                out.push(
                    Problem::new(
                        node.span(),
                        format!(
                            "control character `{}` in a value: unit files are line based, so it cannot be written",
                            c.escape_debug()
                        ),
                    )
                    .help("remove it; sandgen refuses newlines, NUL and other control characters in every value"),
                );
            }
        }
        DeValue::Array(items) => items.iter().for_each(|i| control_characters(i, out)),
        DeValue::Table(t) => t.iter().for_each(|(k, v)| {
            if k.get_ref().chars().any(|c| c.is_control()) {
                out.push(Problem::new(k.span(), "control character in a key"));
            }
            control_characters(v, out)
        }),
        _ => {}
    }
}

/// Validate `node` as a value of `spec`.
pub fn parse(spec: &Spec, node: &Node<'_>, cx: &Context<'_>) -> Result<Value, Vec<Problem>> {
    let mut problems = Vec::new();
    control_characters(node, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    parse_kind(spec, node, cx).map_err(|p| vec![p])
}

fn string<'a>(spec: &Spec, node: &'a Node<'_>) -> Result<&'a str, Problem> {
    node.get_ref()
        .as_str()
        .ok_or_else(|| wrong_type(spec, node))
}

fn strings<'a, 'i>(
    spec: &Spec,
    node: &'a Node<'i>,
) -> Result<Vec<(&'a str, Range<usize>)>, Problem> {
    let DeValue::Array(items) = node.get_ref() else {
        return Err(wrong_type(spec, node));
    };
    items
        .iter()
        .map(|i| match i.get_ref().as_str() {
            Some(s) => Ok((s, i.span())),
            None => Err(Problem::new(
                i.span(),
                format!(
                    "`{}` expects an array of strings, found {} in it",
                    spec.path(),
                    type_name(i.get_ref())
                ),
            )),
        })
        .collect()
}

fn one_of(spec: &Spec, s: &str, span: Range<usize>, words: &[&str]) -> Result<(), Problem> {
    if words.contains(&s) {
        return Ok(());
    }
    let list = words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Err(Problem::new(
        span,
        format!("`{}` cannot be \"{}\"", spec.path(), shown(s)),
    )
    .help(match closest(s, words.iter().copied()) {
        Some(c) => format!("did you mean \"{c}\"? (one of {list})"),
        None => format!("use one of {list}"),
    }))
}

fn no_duplicates(spec: &Spec, items: &[(&str, Range<usize>)]) -> Result<(), Problem> {
    for (i, (s, span)) in items.iter().enumerate() {
        if items[..i].iter().any(|(t, _)| t == s) {
            return Err(Problem::new(
                span.clone(),
                format!("\"{}\" is listed twice in `{}`", shown(s), spec.path()),
            )
            .help("remove the duplicate"));
        }
    }
    Ok(())
}

fn parse_kind(spec: &Spec, node: &Node<'_>, cx: &Context<'_>) -> Result<Value, Problem> {
    let span = node.span();
    match spec.kind {
        Kind::Bool => node
            .get_ref()
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| bool_hint(spec, node)),
        Kind::BoolOrWord(words) => match node.get_ref() {
            DeValue::Boolean(b) => Ok(Value::Bool(*b)),
            DeValue::String(s) => {
                let mut all = vec!["true", "false"];
                all.extend_from_slice(words);
                match s.as_ref() {
                    "true" | "yes" => Err(bool_hint(spec, node)),
                    "false" | "no" => Err(bool_hint(spec, node)),
                    w => one_of(spec, w, span, words).map(|()| Value::Token(w.to_owned())),
                }
            }
            _ => Err(wrong_type(spec, node)),
        },
        Kind::Word(words) => {
            let s = string(spec, node)?;
            one_of(spec, s, span, words)?;
            Ok(Value::Token(s.to_owned()))
        }
        Kind::Text => {
            let s = string(spec, node)?;
            // systemd strips only ASCII white space (its WHITESPACE); control characters,
            // tabs among them, are refused already.
            if s.trim_matches(' ') != s || s.is_empty() {
                return Err(Problem::new(span, format!("`{}` cannot be empty or start or end with a space", spec.path()))
                    .help("systemd strips it; remove it"));
            }
            if s.ends_with('\\') {
                return Err(Problem::new(span, format!("`{}` cannot end with a backslash", spec.path()))
                    .help("systemd would read it as a line continuation; remove it"));
            }
            Ok(Value::Text(s.to_owned()))
        }
        Kind::UserName => {
            let s = string(spec, node)?;
            user_name(s).map_err(|m| Problem::new(span, format!("`{}`: {m}", spec.path())))?;
            Ok(Value::Token(s.to_owned()))
        }
        Kind::Size => match node.get_ref() {
            DeValue::Integer(i) => integer(spec, node, i).map(|n| Value::Token(n.to_string())),
            DeValue::String(s) => size(s)
                .map(|()| Value::Token(s.to_string()))
                .map_err(|help| {
                    Problem::new(span, format!("invalid size \"{}\" for `{}`", shown(s), spec.path()))
                        .help(help)
                }),
            _ => Err(wrong_type(spec, node)),
        },
        Kind::Integer { min, max } => match node.get_ref() {
            DeValue::Integer(i) => {
                let n = integer(spec, node, i)?;
                if n < min || n > max {
                    return Err(Problem::new(span, format!("`{}` must be between {min} and {max}, found {n}", spec.path())));
                }
                Ok(Value::Integer(n))
            }
            DeValue::String(s) if s.parse::<u64>().is_ok() => Err(wrong_type(spec, node)
                .help(format!("write it without quotes: {} = {s}", spec.key))),
            _ => Err(wrong_type(spec, node)),
        },
        Kind::TasksMax => match node.get_ref() {
            DeValue::Integer(i) => {
                let n = integer(spec, node, i)?;
                if n == 0 {
                    return Err(Problem::new(span, format!("`{}` must be at least 1", spec.path())));
                }
                Ok(Value::Integer(n))
            }
            DeValue::String(s) if s == "infinity" || percentage(s, Some(100)).is_ok() => Ok(Value::Token(s.to_string())),
            DeValue::String(s) => Err(Problem::new(span, format!("invalid task limit \"{}\" for `{}`", shown(s), spec.path()))
                .help("write a number, a percentage such as \"10%\", or \"infinity\"")),
            _ => Err(wrong_type(spec, node)),
        },
        Kind::Percent => match node.get_ref() {
            DeValue::String(s) => percentage(s, None).map(|()| Value::Token(s.to_string())).map_err(|()| {
                Problem::new(span, format!("invalid CPU quota \"{}\" for `{}`", shown(s), spec.path()))
                    .help("write a whole percentage of one CPU such as \"20%\" (\"200%\" is two CPUs)")
            }),
            DeValue::Integer(i) => Err(wrong_type(spec, node).help(format!("write it as a percentage string: {} = \"{}%\"", spec.key, i.as_str()))),
            _ => Err(wrong_type(spec, node)),
        },
        Kind::CpuSet => {
            let s = string(spec, node)?;
            cpu_set(s).map(|()| Value::Token(s.to_owned())).map_err(|m| {
                Problem::new(span, format!("invalid CPU list \"{}\" for `{}`: {m}", shown(s), spec.path()))
                    .help("write CPU indexes and ranges separated by commas, such as \"0-1,3\"")
            })
        }
        Kind::Duration => match node.get_ref() {
            DeValue::Integer(i) => integer(spec, node, i).map(|n| Value::Token(n.to_string())),
            DeValue::String(s) => duration(s).map(|()| Value::Token(s.to_string())).map_err(|m| {
                Problem::new(span, format!("invalid time span \"{}\" for `{}`: {m}", shown(s), spec.path()))
                    .help("write seconds, a span such as \"90s\", \"5min\" or \"1h 30min\", or \"infinity\"")
            }),
            _ => Err(wrong_type(spec, node)),
        },
        Kind::Path => {
            let s = string(spec, node)?;
            absolute_path(spec, s, span)?;
            Ok(Value::Text(s.to_owned()))
        }
        Kind::WorkingDirectory => {
            let s = string(spec, node)?;
            if s != "~" {
                absolute_path(spec, s.strip_prefix('-').unwrap_or(s), span)?;
            }
            Ok(Value::Text(s.to_owned()))
        }
        Kind::Paths => {
            let items = strings(spec, node)?;
            for (s, span) in &items {
                absolute_path(spec, s.strip_prefix('-').unwrap_or(s), span.clone())?;
            }
            no_duplicates(spec, &items)?;
            Ok(words(items))
        }
        Kind::BindPaths => {
            let items = strings(spec, node)?;
            for (s, span) in &items {
                bind_path(spec, s, span.clone())?;
            }
            no_duplicates(spec, &items)?;
            Ok(words(items))
        }
        Kind::Units => {
            let items = strings(spec, node)?;
            for (s, span) in &items {
                unit_name(s).map_err(|(m, help)| {
                    Problem::new(span.clone(), format!("`{}`: \"{}\" is not a valid unit name: {m}", spec.path(), shown(s))).maybe_help(help)
                })?;
            }
            no_duplicates(spec, &items)?;
            Ok(words(items))
        }
        Kind::Command => command(spec, node, cx),
        Kind::Environment => environment(spec, node),
        Kind::Capabilities => {
            let items = strings(spec, node)?;
            for (s, span) in &items {
                if capabilities::by_name(s).is_none() {
                    let help = match capabilities::canonical(s) {
                        Some(c) => format!("did you mean \"{c}\"?"),
                        None => match closest(s, capabilities::CAPABILITIES.iter().copied()) {
                            Some(c) => format!("did you mean \"{c}\"?"),
                            None => "see capabilities(7) for the list of names".to_owned(),
                        },
                    };
                    return Err(Problem::new(span.clone(), format!("unknown capability \"{}\" in `{}`", shown(s), spec.path())).help(help));
                }
            }
            no_duplicates(spec, &items)?;
            Ok(words(items))
        }
        Kind::Syscalls => {
            let items = strings(spec, node)?;
            if items.is_empty() {
                return Err(Problem::new(span, format!("`{}` cannot be empty", spec.path()))
                    .help("an empty SystemCallFilter= removes the filter altogether; list the system calls, or remove the key"));
            }
            for (s, span) in &items {
                syscall(spec, s, span.clone(), (cx.syscalls)())?;
            }
            no_duplicates(spec, &items)?;
            Ok(words(items))
        }
        Kind::Errno => match node.get_ref() {
            DeValue::String(s) => {
                if errno::by_name(s).is_some() {
                    Ok(Value::Token(s.to_string()))
                } else {
                    let upper = s.to_ascii_uppercase();
                    let help = if errno::by_name(&upper).is_some() {
                        Some(format!("did you mean \"{upper}\"?"))
                    } else {
                        closest(s, errno::ERRNO.iter().map(|(n, _)| *n)).map(|c| format!("did you mean \"{c}\"?"))
                    };
                    Err(Problem::new(span, format!("unknown errno name \"{}\" for `{}`", shown(s), spec.path()))
                        .help(help.unwrap_or_else(|| "use a name from errno(3) such as \"EPERM\"".to_owned())))
                }
            }
            DeValue::Integer(i) => {
                let n = integer(spec, node, i)?;
                if !(1..=4095).contains(&n) {
                    return Err(Problem::new(span, format!("errno number for `{}` must be between 1 and 4095, found {n}", spec.path())));
                }
                Ok(Value::Token(n.to_string()))
            }
            _ => Err(wrong_type(spec, node)),
        },
        Kind::Architectures => {
            let items = strings(spec, node)?;
            if items.is_empty() {
                return Err(Problem::new(span, format!("`{}` cannot be empty", spec.path()))
                    .help("write [\"native\"] to allow only the host's own system call ABI, or remove the key"));
            }
            for (s, span) in &items {
                if !architectures::ARCHITECTURES.contains(s) {
                    return Err(Problem::new(span.clone(), format!("unknown architecture \"{}\" in `{}`", shown(s), spec.path()))
                        .help(match closest(s, architectures::ARCHITECTURES.iter().copied()) {
                            Some(c) => format!("did you mean \"{c}\"?"),
                            None => "use \"native\", or a name from systemd.exec(5) such as \"x86-64\"".to_owned(),
                        }));
                }
            }
            no_duplicates(spec, &items)?;
            Ok(words(items))
        }
        Kind::AddressFamilies => {
            let items = strings(spec, node)?;
            for (s, span) in &items {
                if !address_families::is_known(s) {
                    let upper = s.to_ascii_uppercase();
                    let guess = if address_families::is_known(&upper) {
                        Some(upper)
                    } else if address_families::is_known(&format!("AF_{upper}")) {
                        Some(format!("AF_{upper}"))
                    } else {
                        closest(s, address_families::ADDRESS_FAMILIES.iter().copied()).map(str::to_owned)
                    };
                    return Err(Problem::new(span.clone(), format!("unknown address family \"{}\" in `{}`", shown(s), spec.path()))
                        .help(match guess {
                            Some(c) => format!("did you mean \"{c}\"?"),
                            None => "use AF_* names such as \"AF_UNIX\", \"AF_INET\", \"AF_INET6\"".to_owned(),
                        }));
                }
            }
            no_duplicates(spec, &items)?;
            Ok(words(items))
        }
        Kind::Namespaces => match node.get_ref() {
            DeValue::Boolean(b) => Ok(Value::Bool(*b)),
            DeValue::Array(_) => {
                let items = strings(spec, node)?;
                for (s, span) in &items {
                    one_of(spec, s, span.clone(), NAMESPACE_TYPES)?;
                }
                no_duplicates(spec, &items)?;
                Ok(words(items))
            }
            _ => Err(wrong_type(spec, node)),
        },
        Kind::SecureBits => {
            let items = strings(spec, node)?;
            for (s, span) in &items {
                one_of(spec, s, span.clone(), SECURE_BITS)?;
            }
            no_duplicates(spec, &items)?;
            Ok(words(items))
        }
        Kind::UMask => match node.get_ref() {
            DeValue::String(s) if (3..=4).contains(&s.len()) && s.bytes().all(|b| (b'0'..=b'7').contains(&b)) => {
                Ok(Value::Token(format!("{:0>4}", s)))
            }
            DeValue::Integer(i) if i.radix() == 8 => {
                let n = integer(spec, node, i)?;
                if n > 0o777 {
                    return Err(Problem::new(span, format!("`{}` must be at most 0o777", spec.path())));
                }
                Ok(Value::Token(format!("{n:04o}")))
            }
            _ => Err(wrong_type(spec, node).help(format!("write it as an octal string: {} = \"0077\"", spec.key))),
        },
    }
}

/// Namespace types of RestrictNamespaces= (systemd.exec(5)).
const NAMESPACE_TYPES: &[&str] = &["cgroup", "ipc", "net", "mnt", "pid", "user", "uts"];
/// Flags of SecureBits= (systemd.exec(5), capabilities(7)).
const SECURE_BITS: &[&str] = &[
    "keep-caps",
    "keep-caps-locked",
    "no-setuid-fixup",
    "no-setuid-fixup-locked",
    "noroot",
    "noroot-locked",
];

fn words(items: Vec<(&str, Range<usize>)>) -> Value {
    Value::Words(items.into_iter().map(|(s, _)| s.to_owned()).collect())
}

fn bool_hint(spec: &Spec, node: &Node<'_>) -> Problem {
    let p = wrong_type(spec, node);
    match node.get_ref().as_str() {
        Some("yes" | "true" | "on" | "1") => p.help(format!(
            "write {} = true (a TOML boolean, without quotes)",
            spec.key
        )),
        Some("no" | "false" | "off" | "0") => p.help(format!(
            "write {} = false (a TOML boolean, without quotes)",
            spec.key
        )),
        _ => p,
    }
}

fn integer(spec: &Spec, node: &Node<'_>, i: &toml::de::DeInteger<'_>) -> Result<u64, Problem> {
    u64::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
        Problem::new(
            node.span(),
            format!(
                "`{}` must be a non-negative integer, found {}",
                spec.path(),
                i.as_str()
            ),
        )
    })
}

/// A decimal number with an optional fraction: `12` or `1.5`.
fn decimal(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// `N%` (with an optional upper bound).
fn percentage(s: &str, max: Option<u64>) -> Result<(), ()> {
    let n = s.strip_suffix('%').ok_or(())?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let n: u64 = n.parse().map_err(|_| ())?;
    if n == 0 || max.is_some_and(|m| n > m) {
        return Err(());
    }
    Ok(())
}

/// A resource amount: an absolute number, a percentage, or no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// An absolute value (bytes, tasks).
    Value(u64),
    /// A percentage (of physical memory, of the system's task limit).
    Percent(u32),
    /// `infinity`.
    Infinity,
}

/// The amount a validated size or task limit stands for.
pub fn amount(s: &str) -> Option<Amount> {
    if s == "infinity" {
        return Some(Amount::Infinity);
    }
    if let Some(p) = s.strip_suffix('%') {
        return percentage(s, Some(100))
            .ok()
            .and_then(|()| p.parse().ok())
            .map(Amount::Percent);
    }
    let (number, factor) = match s.char_indices().last() {
        Some((i, c)) if "KMGTPE".contains(c) => {
            let power = "KMGTPE".find(c).unwrap_or(0) as u32 + 1;
            (&s[..i], 1024u64.checked_pow(power)?)
        }
        _ => (s, 1),
    };
    if !decimal(number) {
        return None;
    }
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let whole: u64 = whole.parse().ok()?;
    let mut bytes = whole.checked_mul(factor)?;
    if !frac.is_empty() {
        let digits = frac.len().min(9) as u32;
        let frac: u64 = frac[..digits as usize].parse().ok()?;
        bytes = bytes.checked_add(frac.checked_mul(factor)? / 10u64.pow(digits))?;
    }
    Some(Amount::Value(bytes))
}

/// A size as systemd.resource-control(5) reads it: bytes with an optional base-1024 suffix
/// K, M, G, T, P or E, a percentage of physical memory, or `infinity`. The error is the help.
fn size(s: &str) -> Result<(), String> {
    if amount(s).is_some() {
        return Ok(());
    }
    let squeezed: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let guess = squeezed
        .strip_suffix(['B', 'b'])
        .map(|t| t.strip_suffix('i').unwrap_or(t))
        .unwrap_or(&squeezed)
        .to_ascii_uppercase();
    if guess != s && amount(&guess).is_some() {
        return Err(format!("did you mean \"{guess}\"? Sizes are bytes with an optional K, M, G, T suffix (base 1024)"));
    }
    Err("write bytes with an optional K, M, G, T suffix (base 1024) such as \"512M\", a percentage of RAM such as \"10%\", or \"infinity\"".to_owned())
}

/// A CPU list as AllowedCPUs= reads it: indexes and ranges separated by commas.
fn cpu_set(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".to_owned());
    }
    for part in s.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let parse = |x: &str| -> Result<u32, String> {
            if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("\"{}\" is not a CPU index", shown(part)));
            }
            x.parse::<u32>()
                .map_err(|_| format!("\"{}\" is too large", shown(x)))
        };
        let (a, b) = (parse(a)?, parse(b)?);
        if a > b {
            return Err(format!("the range \"{part}\" is reversed"));
        }
        if b >= 8192 {
            return Err(format!("CPU {b} is beyond the 8192 systemd supports"));
        }
    }
    Ok(())
}

/// Time span units of systemd.time(7) and their length in microseconds.
const TIME_UNITS: &[(&str, u64)] = &[
    ("usec", 1),
    ("us", 1),
    ("µs", 1),
    ("msec", 1_000),
    ("ms", 1_000),
    ("seconds", 1_000_000),
    ("second", 1_000_000),
    ("sec", 1_000_000),
    ("s", 1_000_000),
    ("", 1_000_000),
    ("minutes", 60_000_000),
    ("minute", 60_000_000),
    ("min", 60_000_000),
    ("m", 60_000_000),
    ("hours", 3_600_000_000),
    ("hour", 3_600_000_000),
    ("hr", 3_600_000_000),
    ("h", 3_600_000_000),
    ("days", 86_400_000_000),
    ("day", 86_400_000_000),
    ("d", 86_400_000_000),
    ("weeks", 604_800_000_000),
    ("week", 604_800_000_000),
    ("w", 604_800_000_000),
    ("months", 2_629_800_000_000),
    ("month", 2_629_800_000_000),
    ("M", 2_629_800_000_000),
    ("years", 31_557_600_000_000),
    ("year", 31_557_600_000_000),
    ("y", 31_557_600_000_000),
];

/// A time span as systemd.time(7) reads it (numbers with units; a bare number is seconds),
/// in microseconds; `infinity` is `u64::MAX`.
pub fn duration_usec(s: &str) -> Result<u64, String> {
    if s == "infinity" {
        return Ok(u64::MAX);
    }
    let mut rest = s.trim_start();
    if rest.is_empty() {
        return Err("it is empty".to_owned());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let number = &rest[..digits];
        if !decimal(number) {
            return Err(format!("expected a number at \"{}\"", shown(rest)));
        }
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let Some((_, usec)) = TIME_UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!("unknown unit \"{}\"", shown(unit)));
        };
        let value: f64 = number
            .parse()
            .map_err(|_| format!("\"{number}\" is not a number"))?;
        total = total.saturating_add((value * *usec as f64) as u64);
        rest = rest[unit_len..].trim_start();
    }
    Ok(total)
}

fn duration(s: &str) -> Result<(), String> {
    duration_usec(s).map(|_| ())
}

/// The lexically normalised form of an absolute path: no `.`, `..`, empty components or
/// trailing slash.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

fn absolute_path(spec: &Spec, s: &str, span: Range<usize>) -> Result<(), Problem> {
    if !s.starts_with('/') {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: \"{}\" is not an absolute path",
                spec.path(),
                shown(s)
            ),
        )
        .help(format!(
            "systemd needs absolute paths: did you mean \"{}\"?",
            normalise(&format!("/{s}"))
        )));
    }
    let normal = normalise(s);
    if normal != s {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: \"{}\" is not a normalised path",
                spec.path(),
                shown(s)
            ),
        )
        .help(format!("write \"{normal}\"")));
    }
    Ok(())
}

fn bind_path(spec: &Spec, s: &str, span: Range<usize>) -> Result<(), Problem> {
    let mut parts = s.splitn(3, ':');
    let source = parts.next().unwrap_or("");
    absolute_path(
        spec,
        source.strip_prefix('-').unwrap_or(source),
        span.clone(),
    )?;
    if let Some(dest) = parts.next() {
        absolute_path(spec, dest, span.clone())?;
    }
    if let Some(option) = parts.next() {
        if option != "rbind" && option != "norbind" {
            return Err(Problem::new(span, format!("`{}`: unknown bind option \"{}\"", spec.path(), shown(option)))
                .help("the third field is \"rbind\" or \"norbind\"; paths containing \":\" are not supported"));
        }
    }
    Ok(())
}

/// User and group names as systemd accepts them without warning (the "strict" rules of
/// systemd's `valid_user_group_name`), or a numeric id.
fn user_name(s: &str) -> Result<(), String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<u32>() {
            Ok(n) if n < u32::MAX - 1 => Ok(()),
            _ => Err(format!("\"{s}\" is not a valid numeric id")),
        };
    }
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok
        || s.len() > 31
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "\"{}\" is not a valid user or group name (a letter or _, then letters, digits, _ or -, at most 31)",
            shown(s)
        ));
    }
    Ok(())
}

/// Unit types whose names can appear in dependencies (systemd.unit(5)).
const UNIT_SUFFIXES: &[&str] = &[
    "service",
    "socket",
    "device",
    "mount",
    "automount",
    "swap",
    "target",
    "path",
    "timer",
    "slice",
    "scope",
];

/// Validate a unit name by systemd.unit(5): `prefix[@instance].type`, characters
/// `[A-Za-z0-9:_.\-]` (and `@` once), at most 255 characters.
pub fn unit_name(s: &str) -> Result<(), (String, Option<String>)> {
    if s.len() > 255 {
        return Err(("longer than 255 characters".to_owned(), None));
    }
    let Some((stem, _)) = s
        .rsplit_once('.')
        .filter(|(_, t)| UNIT_SUFFIXES.contains(t))
    else {
        let guess = if s.ends_with("-online")
            || s.ends_with("-pre")
            || s.contains("target")
            || s == "multi-user"
        {
            format!("{s}.target")
        } else {
            format!("{s}.service")
        };
        return Err((
            "it has no unit type suffix".to_owned(),
            Some(format!("did you mean \"{guess}\"?")),
        ));
    };
    unit_stem(stem, true).map_err(|m| (m, None))
}

/// Validate the part of a unit name before `.type`.
pub fn unit_stem(stem: &str, allow_instance: bool) -> Result<(), String> {
    if stem.is_empty() {
        return Err("the name before the type suffix is empty".to_owned());
    }
    if let Some(c) = stem
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '.' | '-' | '@' | '\\')))
    {
        return Err(format!("the character \"{}\" is not allowed (only letters, digits, \":\", \"_\", \".\", \"-\" and \"\\\")", shown(&c.to_string())));
    }
    match stem.matches('@').count() {
        0 => Ok(()),
        1 if allow_instance && !stem.starts_with('@') => Ok(()),
        1 if !allow_instance => Err(
            "sandgen does not make template units (NAME@INSTANCE): give each instance a policy \
             of its own, with its own name"
                .to_owned(),
        ),
        _ => Err("\"@\" is only allowed once, between a template name and its instance".to_owned()),
    }
}

fn command(spec: &Spec, node: &Node<'_>, cx: &Context<'_>) -> Result<Value, Problem> {
    if let Some(s) = node.get_ref().as_str() {
        let mut split: Vec<String> = s.split_whitespace().map(|w| format!("{w:?}")).collect();
        if let Some(found) = s
            .split_whitespace()
            .next()
            .filter(|p| !p.starts_with('/'))
            .and_then(cx.find_program)
        {
            split[0] = format!("{found:?}");
        }
        return Err(Problem::new(
            node.span(),
            format!(
                "`{}` must be an argv array, not a shell string",
                spec.path()
            ),
        )
        .help(format!(
            "write {} = [{}]; to run a shell, make it explicit: [\"/bin/sh\", \"-c\", \"...\"]",
            spec.key,
            split.join(", ")
        )));
    }
    let items = strings(spec, node)?;
    let Some((program, span)) = items.first() else {
        return Err(
            Problem::new(node.span(), format!("`{}` is empty", spec.path()))
                .help("give at least the program to run"),
        );
    };
    if !program.starts_with('/') {
        let help = match (cx.find_program)(program) {
            Some(found) => format!("did you mean \"{found}\"? (found on PATH)"),
            None => "give the absolute path of the program".to_owned(),
        };
        return Err(Problem::new(
            span.clone(),
            format!(
                "`{}`: the program \"{}\" is not an absolute path",
                spec.path(),
                shown(program)
            ),
        )
        .help(help));
    }
    program_path(spec, program, span.clone())?;
    Ok(Value::Command(
        items.into_iter().map(|(s, _)| s.to_owned()).collect(),
    ))
}

/// The program of a command line, as systemd's `config_parse_exec` accepts it: an absolute
/// path to a file, without quotes or backslashes, no component longer than NAME_MAX; and
/// without `$`, which sandgen cannot write (systemd substitutes variables in argv[0] but
/// not in the program path, so no escaping is right for both).
fn program_path(spec: &Spec, program: &str, span: Range<usize>) -> Result<(), Problem> {
    if program.contains('$') {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: the program path \"{}\" contains `$`, which sandgen cannot write: systemd substitutes variables in argv[0] but not in the program path",
                spec.path(),
                shown(program)
            ),
        )
        .help("rename or link the program to a path without `$`"));
    }
    if let Some(c) = program.chars().find(|c| matches!(c, '"' | '\'' | '\\')) {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: the program path \"{}\" contains `{c}`, which systemd does not allow in an executable path",
                spec.path(),
                shown(program)
            ),
        )
        .help("rename or link the program to a plain path"));
    }
    if program.ends_with('/') {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: the program path \"{}\" names a directory",
                spec.path(),
                shown(program)
            ),
        )
        .help("give the path of the program file"));
    }
    if program.split('/').any(|c| c.len() > 255) {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: a component of the program path is longer than 255 bytes",
                spec.path()
            ),
        ));
    }
    Ok(())
}

fn environment(spec: &Spec, node: &Node<'_>) -> Result<Value, Problem> {
    let DeValue::Table(table) = node.get_ref() else {
        return Err(wrong_type(spec, node).help(format!(
            "write [{}.{}] with one NAME = \"value\" per line, or {} = {{ NAME = \"value\" }}",
            spec.table, spec.key, spec.key
        )));
    };
    let mut vars: Vec<(String, String, usize)> = Vec::new();
    for (k, v) in table.iter() {
        let name = k.get_ref();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Problem::new(
                k.span(),
                format!(
                    "`{}`: \"{}\" is not a valid environment variable name",
                    spec.path(),
                    shown(name)
                ),
            )
            .help("names are letters, digits and _, not starting with a digit"));
        }
        let Some(value) = v.get_ref().as_str() else {
            return Err(Problem::new(
                v.span(),
                format!(
                    "`{}.{}` expects a string, found {}",
                    spec.path(),
                    name,
                    type_name(v.get_ref())
                ),
            ));
        };
        vars.push((name.to_string(), value.to_owned(), k.span().start));
    }
    vars.sort_by_key(|(_, _, at)| *at);
    Ok(Value::Env(
        vars.into_iter().map(|(k, v, _)| (k, v)).collect(),
    ))
}

fn syscall(spec: &Spec, s: &str, span: Range<usize>, table: &SyscallTable) -> Result<(), Problem> {
    if let Some(rest) = s.strip_prefix('~') {
        return Err(Problem::new(
            span,
            format!("`{}`: \"{}\" has a \"~\" prefix", spec.path(), shown(s)),
        )
        .help(format!("list \"{rest}\" under `seccomp.deny` instead")));
    }
    let known = if s.starts_with('@') {
        table.group(s).is_some()
    } else {
        table.is_syscall(s)
    };
    if known {
        return Ok(());
    }
    let what = if s.starts_with('@') {
        "system call group"
    } else {
        "system call"
    };
    Err(Problem::new(
        span,
        format!(
            "unknown {what} \"{}\" in `{}` ({})",
            shown(s),
            spec.path(),
            checked_against(table)
        ),
    )
    .help(match table.closest(s) {
        Some(c) => format!("did you mean \"{c}\"?"),
        None => "`systemd-analyze syscall-filter` lists the groups and system calls".to_owned(),
    }))
}

/// Which list of system calls a name was checked against, for messages.
pub fn checked_against(table: &SyscallTable) -> &'static str {
    match table.source() {
        GroupsSource::SystemdAnalyze => "checked with `systemd-analyze syscall-filter`",
        GroupsSource::BuiltIn => {
            "checked against sandgen's built-in table of systemd 252; systemd-analyze was not available"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_systemd_resource_control() {
        for ok in ["100M", "1.5G", "4096", "infinity", "50%", "2T"] {
            assert_eq!(size(ok), Ok(()), "{ok}");
        }
        assert!(size("100MB")
            .unwrap_err()
            .starts_with("did you mean \"100M\"?"));
        assert!(size("1 GiB")
            .unwrap_err()
            .starts_with("did you mean \"1G\"?"));
        assert!(size("lots").is_err());
        assert!(size("150%").is_err());
    }

    #[test]
    fn amounts_are_computed_like_systemd() {
        assert_eq!(amount("64M"), Some(Amount::Value(64 << 20)));
        assert_eq!(amount("1.5G"), Some(Amount::Value(3 << 29)));
        assert_eq!(amount("4096"), Some(Amount::Value(4096)));
        assert_eq!(amount("20%"), Some(Amount::Percent(20)));
        assert_eq!(amount("infinity"), Some(Amount::Infinity));
        assert_eq!(amount("20E"), None);
        assert_eq!(duration_usec("1h 30min"), Ok(5_400_000_000));
        assert_eq!(duration_usec("90"), Ok(90_000_000));
        assert_eq!(duration_usec("100ms"), Ok(100_000));
    }

    #[test]
    fn durations_follow_systemd_time_7() {
        for ok in ["90s", "5min", "1h 30min", "2.5s", "infinity", "100ms", "10"] {
            assert_eq!(duration(ok), Ok(()), "{ok}");
        }
        for bad in ["", "5 parsecs", "s5", "1..5s"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_set("0-1,3"), Ok(()));
        assert!(cpu_set("1-0").is_err());
        assert!(cpu_set("0,,1").is_err());
        assert!(cpu_set("a").is_err());
    }

    #[test]
    fn unit_names_follow_systemd_unit_5() {
        assert!(unit_name("network-online.target").is_ok());
        assert!(unit_name("getty@tty1.service").is_ok());
        assert_eq!(
            unit_name("network-online").unwrap_err().1.as_deref(),
            Some("did you mean \"network-online.target\"?")
        );
        assert!(unit_name("a/b.service").is_err());
        assert!(unit_name(&format!("{}.service", "a".repeat(250))).is_err());
        assert!(unit_name("a@b@c.service").is_err());
    }

    #[test]
    fn paths_are_normalised_lexically() {
        assert_eq!(normalise("/a//b/./c/../d/"), "/a/b/d");
        assert_eq!(normalise("/"), "/");
    }

    #[test]
    fn user_names() {
        assert!(user_name("www-data").is_ok());
        assert!(user_name("1000").is_ok());
        assert!(user_name("-rf").is_err());
        assert!(user_name("a b").is_err());
    }
}
