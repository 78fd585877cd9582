//! Validation of one policy value against the [`Kind`] its key takes.
//!
//! Each parser accepts exactly what the systemd directive accepts (or a documented subset),
//! in the syntax its man page gives, and returns a [`Value`] that needs no further checks.
//! Errors carry the span of the offending element and, where sandgen can tell, a fix.

use std::ops::Range;

use toml::de::DeValue;
use toml::Spanned;

use crate::data::{address_families, architectures, capabilities, errno, syscalls::SyscallTable};
use crate::diagnostic::{closest, shown};
use crate::directive::value::{amount, decimal, percentage, CPU_QUOTA_MAX, IP_SYMBOLS};
use crate::directive::{
    Amount, CpuSet, DeviceRate, DirectiveValue, Errno, IpPrefix, IpPrefixes, Kind, Size, Spec,
    TimeSpan,
};
use crate::unit::escape;

/// A validated policy value: the typed value of its directive, or (for `environment`) a
/// table of variables, each of which becomes one `Environment=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// One directive value.
    One(DirectiveValue),
    /// Environment variables, in file order.
    Env(Vec<(String, String)>),
    /// Several lines of the same directive, in file order (one a device of
    /// `IOReadBandwidthMax=`).
    Many(Vec<DirectiveValue>),
}

impl Value {
    fn bool(b: bool) -> Value {
        Value::One(DirectiveValue::Bool(b))
    }

    fn word(w: &str) -> Value {
        Value::One(DirectiveValue::Word(w.to_owned()))
    }

    fn text(t: &str) -> Value {
        Value::One(DirectiveValue::Text(t.to_owned()))
    }
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
fn expectation(kind: Kind) -> std::borrow::Cow<'static, str> {
    if let Kind::BoolOrWord(modes) = kind {
        let words: Vec<String> = modes.words().iter().map(|w| format!("\"{w}\"")).collect();
        return match words.len() {
            0 => "true or false".into(),
            _ => format!("true, false, {}", words.join(", ")).into(),
        };
    }
    let text = match kind {
        Kind::Bool => "true or false",
        Kind::BoolOrWord(_) => "true, false or a word",
        Kind::Word(_)
        | Kind::Text
        | Kind::UserName
        | Kind::CpuSet
        | Kind::Errno
        | Kind::SecurityLabel => "a string",
        Kind::Size { .. } => "a size string such as \"512M\" or a number of bytes",
        Kind::Integer { .. } => "an integer",
        Kind::TasksMax => "an integer, a percentage or \"infinity\"",
        Kind::Percent => "a percentage string such as \"20%\"",
        Kind::Duration => "a number of seconds or a time span string such as \"90s\"",
        Kind::Path | Kind::WorkingDirectory => "an absolute path string",
        Kind::Command => "an array of strings (argv)",
        Kind::Environment => "a table of strings",
        Kind::DeviceLimits { bandwidth: true } => {
            "a table of device paths and rates such as { \"/dev/vda\" = \"10M\" }"
        }
        Kind::DeviceLimits { bandwidth: false } => {
            "a table of device paths and operation counts such as { \"/dev/vda\" = 500 }"
        }
        Kind::Namespaces => "true, false or an array of namespace types",
        Kind::UMask => "an octal string such as \"0077\"",
        Kind::Paths
        | Kind::BindPaths
        | Kind::Units
        | Kind::Capabilities
        | Kind::Syscalls
        | Kind::Architectures
        | Kind::AddressFamilies
        | Kind::IpAddresses
        | Kind::SecureBits => "an array of strings",
    };
    text.into()
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

/// Why a character cannot be written into a unit file at all (a message about "a value")
/// and what to do, if it cannot.
fn unwritable_character(c: char) -> Option<(String, &'static str)> {
    if c.is_control() {
        Some((
            format!(
                "control character `{}` in a value: unit files are line based, so it cannot be written",
                c.escape_debug()
            ),
            "remove it; sandgen refuses newlines, NUL and other control characters in every value",
        ))
    } else if escape::is_noncharacter(c) {
        Some((
            format!(
                "the Unicode noncharacter U+{:04X} in a value: systemd ignores a unit file line that holds one (\"String is not UTF-8 clean\")",
                u32::from(c)
            ),
            "remove it; sandgen refuses the noncharacters U+FDD0..U+FDEF and U+FFFE, U+FFFF, U+1FFFE ... U+10FFFF in every value",
        ))
    } else {
        None
    }
}

/// Every string inside `node`, with its span: checked for characters no unit file can hold
/// (control characters, noncharacters) first.
fn unwritable_characters(node: &Node<'_>, out: &mut Vec<Problem>) {
    match node.get_ref() {
        DeValue::String(s) => {
            if let Some((message, help)) = s.chars().find_map(unwritable_character) {
                out.push(Problem::new(node.span(), message).help(help));
            }
        }
        DeValue::Array(items) => items.iter().for_each(|i| unwritable_characters(i, out)),
        DeValue::Table(t) => t.iter().for_each(|(k, v)| {
            if let Some((message, help)) = k.get_ref().chars().find_map(unwritable_character) {
                out.push(
                    Problem::new(k.span(), message.replacen("in a value", "in a key", 1))
                        .help(help),
                );
            }
            unwritable_characters(v, out);
        }),
        _ => {}
    }
}

/// Validate `node` as a value of `spec`.
pub fn parse(spec: &Spec, node: &Node<'_>, cx: &Context<'_>) -> Result<Value, Vec<Problem>> {
    let mut problems = Vec::new();
    unwritable_characters(node, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    parse_kind(spec, node, cx).map_err(|p| vec![p])
}

/// A SELinux context or AppArmor profile name as systemd takes it (systemd.exec(5)
/// `SELinuxContext=`, `AppArmorProfile=`): one word, optionally after a `-` that tells
/// systemd to start the service anyway when the label cannot be applied. systemd writes the
/// name to the kernel as is (`/proc/self/attr/exec`), so white space, control characters and
/// a backslash (a line continuation in a unit file) have no place in it. The error is the
/// help for the user.
fn security_label(s: &str) -> Result<(), String> {
    let name = s.strip_prefix('-').unwrap_or(s);
    if name.is_empty() {
        return Err("write the profile or context name (after an optional \"-\")".to_owned());
    }
    if let Some(c) = name.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "a label is one word: {} is not allowed in it",
            match c {
                ' ' => "a space".to_owned(),
                c => format!("{c:?}"),
            }
        ));
    }
    if name.contains('\\') {
        return Err("a backslash is not allowed in a label".to_owned());
    }
    if name.starts_with('-') {
        return Err("only one \"-\" prefix is allowed".to_owned());
    }
    Ok(())
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
            .map(Value::bool)
            .ok_or_else(|| bool_hint(spec, node)),
        Kind::BoolOrWord(modes) => match node.get_ref() {
            DeValue::Boolean(b) => Ok(Value::bool(*b)),
            DeValue::String(s) => match s.as_ref() {
                "true" | "yes" | "false" | "no" => Err(bool_hint(spec, node)),
                _ if modes.modes.is_empty() => Err(bool_hint(spec, node)),
                w => one_of(spec, w, span, &modes.words()).map(|()| Value::word(w)),
            },
            _ => Err(wrong_type(spec, node)),
        },
        Kind::Word(words) => {
            let s = string(spec, node)?;
            one_of(spec, s, span, words).map_err(|p| match (spec.directive, s) {
                (crate::directive::Name::Type, "dbus") => p.help("Type=dbus needs BusName=, which sandgen does not write, and systemd refuses to load the unit without it; use \"notify\" or \"simple\""),
                _ => p,
            })?;
            Ok(Value::word(s))
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
            Ok(Value::text(s))
        }
        Kind::UserName => {
            let s = string(spec, node)?;
            user_name(s).map_err(|m| Problem::new(span.clone(), format!("`{}`: {m}", spec.path())))?;
            if spec.directive == crate::directive::Name::User && s == "nobody" {
                // systemd 252 (load_user in execute.c): "Special user nobody configured, this
                // is not safe!"
                return Err(Problem::new(span, format!("`{}` = \"nobody\": systemd warns that running as the special user nobody is not safe", spec.path()))
                    .help("nobody owns files systemd cannot map and other services may run as it too; use dynamic_user = true for a throwaway user"));
            }
            Ok(Value::word(s))
        }
        Kind::Size { allows_zero } => {
            let text = match node.get_ref() {
                DeValue::Integer(i) => integer(spec, node, i)?.to_string(),
                DeValue::String(s) => {
                    size(s).map_err(|help| {
                        Problem::new(span.clone(), format!("invalid size \"{}\" for `{}`", shown(s), spec.path()))
                            .help(help)
                    })?;
                    s.to_string()
                }
                _ => return Err(wrong_type(spec, node)),
            };
            size_in_range(spec, &text, allows_zero).map_err(|(m, help)| Problem::new(span.clone(), m).help(help))?;
            // Validated above: it is a size.
            let size = Size::parse(&text)
                .ok_or_else(|| Problem::new(span, format!("invalid size \"{}\" for `{}`", shown(&text), spec.path())))?;
            Ok(Value::One(DirectiveValue::Size(size)))
        }
        Kind::Integer { min, max } => match node.get_ref() {
            DeValue::Integer(i) => {
                let n = integer(spec, node, i)?;
                if n < min || n > max {
                    return Err(Problem::new(span, format!("`{}` must be between {min} and {max}, found {n}", spec.path())));
                }
                Ok(Value::One(DirectiveValue::Integer(n)))
            }
            DeValue::String(s) if s.parse::<u64>().is_ok() => Err(wrong_type(spec, node)
                .help(format!("write it without quotes: {} = {s}", spec.key))),
            _ => Err(wrong_type(spec, node)),
        },
        Kind::TasksMax => match node.get_ref() {
            DeValue::Integer(i) => {
                let n = integer(spec, node, i)?;
                if n == 0 || n == u64::MAX {
                    return Err(Problem::new(span, format!("`{}` must be between 1 and {}, found {n}", spec.path(), u64::MAX - 1))
                        .help("systemd refuses 0 and 2^64-1 (\"out of range\"); write \"infinity\" for no limit"));
                }
                Ok(Value::One(DirectiveValue::Size(Size::number(n))))
            }
            DeValue::String(s) if s == "infinity" => Ok(Value::One(DirectiveValue::Size(Size { text: s.to_string(), amount: Amount::Infinity }))),
            DeValue::String(s) if s.ends_with('%') => match percentage(s, Some(100)) {
                // At most 100: it fits.
                Ok(p) => Ok(Value::One(DirectiveValue::Size(Size { text: s.to_string(), amount: Amount::Percent(u32::try_from(p).unwrap_or(100)) }))),
                Err(m) => Err(Problem::new(span, format!("invalid task limit \"{}\" for `{}`: {m}", shown(s), spec.path()))
                    .help("write a percentage of the system's task limit from \"1%\" to \"100%\"")),
            },
            DeValue::String(s) => Err(Problem::new(span, format!("invalid task limit \"{}\" for `{}`", shown(s), spec.path()))
                .help("write a number, a percentage such as \"10%\", or \"infinity\"")),
            _ => Err(wrong_type(spec, node)),
        },
        Kind::Percent => match node.get_ref() {
            DeValue::String(s) => percentage(s, Some(CPU_QUOTA_MAX)).map(|p| Value::One(DirectiveValue::Percent(p))).map_err(|m| {
                // Say why only for what looks like a percentage; "twenty" needs no reason.
                let looks_like = s.strip_suffix('%').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                let why = if looks_like { format!(": {m}") } else { String::new() };
                Problem::new(span, format!("invalid CPU quota \"{}\" for `{}`{why}", shown(s), spec.path()))
                    .help("write a whole percentage of one CPU such as \"20%\" (\"200%\" is two CPUs)")
            }),
            DeValue::Integer(i) => Err(wrong_type(spec, node).help(format!("write it as a percentage string: {} = \"{}%\"", spec.key, i.as_str()))),
            _ => Err(wrong_type(spec, node)),
        },
        Kind::CpuSet => {
            let s = string(spec, node)?;
            CpuSet::parse(s).map(|c| Value::One(DirectiveValue::CpuSet(c))).map_err(|m| {
                Problem::new(span, format!("invalid CPU list \"{}\" for `{}`: {m}", shown(s), spec.path()))
                    .help("write CPU indexes and ranges separated by commas, such as \"0-1,3\"")
            })
        }
        Kind::Duration => {
            let text = match node.get_ref() {
                DeValue::Integer(i) => integer(spec, node, i)?.to_string(),
                DeValue::String(s) => s.to_string(),
                _ => return Err(wrong_type(spec, node)),
            };
            TimeSpan::parse(&text).map(|t| Value::One(DirectiveValue::TimeSpan(t))).map_err(|m| {
                let shown_text = match node.get_ref() {
                    DeValue::Integer(_) => text.clone(),
                    _ => format!("\"{}\"", shown(&text)),
                };
                Problem::new(span, format!("invalid time span {shown_text} for `{}`: {m}", spec.path()))
                    .help("write seconds, a span such as \"90s\", \"5min\" or \"1h 30min\", or \"infinity\"")
            })
        }
        Kind::Path => {
            let s = string(spec, node)?;
            absolute_path(spec, s, span.clone())?;
            unquoted_path(spec, s, span)?;
            Ok(Value::text(s))
        }
        Kind::WorkingDirectory => {
            let s = string(spec, node)?;
            if s != "~" {
                absolute_path(spec, s.strip_prefix('-').unwrap_or(s), span.clone())?;
                unquoted_path(spec, s, span)?;
            }
            Ok(Value::text(s))
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
                if spec.directive == crate::directive::Name::Before && s.ends_with(".device") {
                    // systemd's unit_add_dependency(): "Dependency Before=X ignored (.device
                    // units cannot be delayed)".
                    return Err(Problem::new(span.clone(), format!("`{}`: \"{}\" is a device unit, which systemd cannot delay: it ignores Before= on it with a warning", spec.path(), shown(s)))
                        .help("remove it; to start after the device appears, list it in `install.after` instead"));
                }
            }
            no_duplicates(spec, &items)?;
            Ok(words(items))
        }
        Kind::Command => command(spec, node, cx),
        Kind::Environment => environment(spec, node),
        Kind::DeviceLimits { bandwidth } => device_limits(spec, node, bandwidth),
        Kind::IpAddresses => {
            let items = strings(spec, node)?;
            if items.is_empty() {
                return Err(Problem::new(span, format!("`{}` cannot be empty", spec.path()))
                    .help("an empty list resets the setting; list addresses, or remove the key"));
            }
            no_duplicates(spec, &items)?;
            let prefixes = items
                .iter()
                .map(|(s, span)| {
                    IpPrefix::parse(s).map_err(|m| {
                        let symbols = IP_SYMBOLS.iter().map(|(name, _)| *name);
                        Problem::new(span.clone(), format!("`{}`: {m}", spec.path()))
                            .maybe_help(closest(s, symbols).map(|c| format!("did you mean \"{c}\"?")))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::One(DirectiveValue::IpAddresses(IpPrefixes(prefixes))))
        }
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
                if let Some(number) = errno::by_name(s) {
                    Ok(Value::One(DirectiveValue::Errno(Errno { text: s.to_string(), number })))
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
                // 1..=4095: it fits.
                Ok(Value::One(DirectiveValue::Errno(Errno { text: n.to_string(), number: i32::try_from(n).unwrap_or(4095) })))
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
            DeValue::Boolean(b) => Ok(Value::bool(*b)),
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
        Kind::SecurityLabel => {
            let s = string(spec, node)?;
            security_label(s).map_err(|help| {
                Problem::new(span, format!("invalid label \"{}\" for `{}`", shown(s), spec.path())).help(help)
            })?;
            Ok(Value::text(s))
        }
        Kind::UMask => match node.get_ref() {
            DeValue::String(s) if (3..=4).contains(&s.len()) && s.bytes().all(|b| (b'0'..=b'7').contains(&b)) => {
                // Octal digits only, at most four: it parses and fits.
                Ok(Value::One(DirectiveValue::UMask(u32::from_str_radix(s, 8).unwrap_or(0o777))))
            }
            DeValue::Integer(i) if i.radix() == 8 => {
                let n = integer(spec, node, i)?;
                if n > 0o777 {
                    return Err(Problem::new(span, format!("`{}` must be at most 0o777", spec.path())));
                }
                // At most 0o777: it fits.
                Ok(Value::One(DirectiveValue::UMask(u32::try_from(n).unwrap_or(0o777))))
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
    Value::One(DirectiveValue::Words {
        words: items.into_iter().map(|(s, _)| s.to_owned()).collect(),
        negated: false,
    })
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

/// A size as systemd.resource-control(5) reads it: bytes with an optional base-1024 suffix
/// K, M, G, T, P or E, a percentage of physical memory, or `infinity`. The error is the help.
fn size(s: &str) -> Result<(), String> {
    if amount(s).is_some() {
        return Ok(());
    }
    if let Some(n) = s.strip_suffix('%') {
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            if let Err(why) = percentage(s, Some(100)) {
                return Err(format!("{why} (a percentage of RAM, from 1% to 100%)"));
            }
        }
    }
    if decimal(s.strip_suffix(['K', 'M', 'G', 'T', 'P', 'E']).unwrap_or(s)) {
        return Err("it does not fit in 64 bits, which systemd refuses as out of range (sizes stay below 16E); write \"infinity\" for no limit".to_owned());
    }
    let squeezed: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let guess = squeezed
        .strip_suffix(['B', 'b'])
        .map_or(squeezed.as_str(), |t| t.strip_suffix('i').unwrap_or(t))
        .to_ascii_uppercase();
    if guess != s && amount(&guess).is_some() {
        return Err(format!("did you mean \"{guess}\"? Sizes are bytes with an optional K, M, G, T suffix (base 1024)"));
    }
    Err("write bytes with an optional K, M, G, T suffix (base 1024) such as \"512M\", a percentage of RAM such as \"10%\", or \"infinity\"".to_owned())
}

/// A memory size within the range systemd takes for its directive: below 2^64-1 (systemd's
/// "infinity", which must be written as such), and at least 1 byte for the limits
/// (MemoryMax=, MemoryHigh=), which systemd refuses as "out of range" at 0.
fn size_in_range(spec: &Spec, text: &str, allows_zero: bool) -> Result<(), (String, String)> {
    match amount(text) {
        Some(Amount::Value(0)) if !allows_zero => Err((
            format!(
                "`{}` cannot be 0 bytes (\"{}\"): systemd refuses a limit of 0 as out of range",
                spec.path(),
                shown(text)
            ),
            "write at least 1 byte, such as \"1M\", or \"infinity\" for no limit".to_owned(),
        )),
        Some(Amount::Value(u64::MAX)) => Err((
            format!(
                "`{}` cannot be {} bytes: systemd refuses it as out of range",
                spec.path(),
                u64::MAX
            ),
            "write \"infinity\" for no limit".to_owned(),
        )),
        _ => Ok(()),
    }
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

/// The longest path component systemd accepts, in bytes (NAME_MAX).
const NAME_MAX: usize = 255;
/// The longest path systemd accepts, in bytes: `path_is_valid()` counts PATH_MAX (4096)
/// with the terminating NUL.
const PATH_LEN_MAX: usize = 4095;

/// `s` quoted for a message: whole when short, its start and length otherwise.
fn shown_short(s: &str) -> String {
    const KEEP: usize = 48;
    match s.char_indices().nth(KEEP) {
        Some((at, _)) => format!("\"{}…\" ({} bytes)", shown(&s[..at]), s.len()),
        None => format!("\"{}\"", shown(s)),
    }
}

/// What systemd does with a path it cannot take, for messages: list entries are dropped
/// with a warning, a single path makes the unit fail.
fn path_consequence(spec: &Spec) -> &'static str {
    match spec.kind {
        Kind::Paths | Kind::BindPaths => {
            "systemd would drop the entry with only a warning, leaving the sandbox weaker than the policy"
        }
        _ => "systemd would refuse to start the unit (bad-setting)",
    }
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
    path_length(spec, s, span)
}

/// systemd's `path_is_valid()`: no component over NAME_MAX bytes, the whole under PATH_MAX.
fn path_length(spec: &Spec, s: &str, span: Range<usize>) -> Result<(), Problem> {
    if let Some(long) = s.split('/').find(|c| c.len() > NAME_MAX) {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: the path {} has a component of {} bytes; systemd allows at most {NAME_MAX} (NAME_MAX)",
                spec.path(),
                shown_short(s),
                long.len()
            ),
        )
        .help(format!("{}; shorten the name", path_consequence(spec))));
    }
    if s.len() > PATH_LEN_MAX {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: the path is {} bytes long; systemd allows at most {PATH_LEN_MAX} (PATH_MAX)",
                spec.path(),
                s.len()
            ),
        )
        .help(format!("{}; shorten it", path_consequence(spec))));
    }
    Ok(())
}

/// A path written unquoted to the end of its line (WorkingDirectory=, RootDirectory=):
/// systemd strips a trailing space and reads a trailing backslash as a line continuation.
fn unquoted_path(spec: &Spec, s: &str, span: Range<usize>) -> Result<(), Problem> {
    if s.ends_with(' ') {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: \"{}\" ends with a space, which systemd strips from {}= (the value cannot be quoted)",
                spec.path(),
                shown(s),
                spec.directive
            ),
        )
        .help("remove the trailing space, or rename the directory"));
    }
    if s.ends_with('\\') {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: \"{}\" ends with a backslash, which systemd reads as a line continuation in {}= (the value cannot be quoted)",
                spec.path(),
                shown(s),
                spec.directive
            ),
        )
        .help("remove the trailing backslash, or rename the directory"));
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
/// systemd's `valid_user_group_name`), or a numeric id as `parse_uid()` reads it: decimal
/// without a leading zero, not 65535 nor 4294967295 (the 16- and 32-bit "invalid" ids).
fn user_name(s: &str) -> Result<(), String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        if s.len() > 1 && s.starts_with('0') {
            let trimmed = s.trim_start_matches('0');
            let fixed = if trimmed.is_empty() { "0" } else { trimmed };
            return Err(format!(
                "\"{s}\" is not a valid numeric id: systemd refuses a leading zero (write \"{fixed}\")"
            ));
        }
        return match s.parse::<u32>() {
            Ok(n) if n != 65535 && n != u32::MAX => Ok(()),
            Ok(_) => Err(format!("\"{s}\" is not a valid numeric id: systemd reserves 65535 and 4294967295 as \"no id\"")),
            Err(_) => Err(format!("\"{s}\" is not a valid numeric id: ids are below 4294967295")),
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
    unit_stem(stem, true).map_err(|m| (m, None))?;
    let kind = s.rsplit('.').next().unwrap_or_default();
    if kind == "slice" {
        slice_stem(stem).map_err(|m| (m, None))?;
    }
    if stem.contains('@') && !TEMPLATE_SUFFIXES.contains(&kind) {
        return Err((
            format!("a {kind} unit cannot be a template instance (\"@\"): systemd ignores the dependency (\"Invalid argument\")"),
            Some("only service, socket, target, timer and path units have instances".to_owned()),
        ));
    }
    Ok(())
}

/// A slice name is its place in the tree, dash-separated (`a-b.slice` is `b` in `a.slice`):
/// systemd's `slice_name_is_valid()` refuses a leading or trailing dash, two dashes in a
/// row and instances; `-.slice` is the root slice. A dependency on such a name fails to
/// load ("Invalid argument").
fn slice_stem(stem: &str) -> Result<(), String> {
    if stem == "-" {
        return Ok(());
    }
    if stem.starts_with('-') || stem.ends_with('-') || stem.contains("--") {
        return Err("a slice name cannot start or end with \"-\" or have two in a row: dashes separate its parent slices".to_owned());
    }
    if stem.contains('@') {
        return Err("a slice cannot be a template instance (\"@\")".to_owned());
    }
    Ok(())
}

/// Unit types that can be templates and instances (`unit_type_may_template()` in systemd's
/// unit-file.c); a dependency on `x@y.mount` fails with "Invalid argument".
const TEMPLATE_SUFFIXES: &[&str] = &["service", "socket", "target", "timer", "path"];

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
    Ok(Value::One(DirectiveValue::Command(
        items.into_iter().map(|(s, _)| s.to_owned()).collect(),
    )))
}

/// The program of a command line, as systemd's `config_parse_exec` accepts it: an absolute
/// path to a file, without quotes or backslashes, no component longer than NAME_MAX nor the
/// whole longer than PATH_MAX; and
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
    path_length(spec, program, span)
        .map_err(|p| p.help("systemd would refuse to load ExecStart= (\"Neither a valid executable name nor an absolute path\"); shorten the path or link the program from a shorter one"))
}

fn environment(spec: &Spec, node: &Node<'_>) -> Result<Value, Problem> {
    let DeValue::Table(table) = node.get_ref() else {
        return Err(wrong_type(spec, node).help(format!(
            "write [{}.{}] with one NAME = \"value\" per line, or {} = {{ NAME = \"value\" }}",
            spec.table, spec.key, spec.key
        )));
    };
    let mut vars: Vec<(String, String, usize)> = Vec::new();
    for (k, v) in table {
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

/// `IOReadBandwidthMax=` and kin: a table of paths and limits, one directive line each.
/// systemd takes the path of a block device node or of any file, and limits the block
/// device the file system of the file is on (systemd.resource-control(5)).
fn device_limits(spec: &Spec, node: &Node<'_>, bandwidth: bool) -> Result<Value, Problem> {
    let DeValue::Table(table) = node.get_ref() else {
        let example = if bandwidth { "\"10M\"" } else { "500" };
        return Err(wrong_type(spec, node).help(format!(
            "write {} = {{ \"/dev/vda\" = {example} }}: a device node, or a file on the device",
            spec.key
        )));
    };
    let mut limits: Vec<(usize, DirectiveValue)> = Vec::new();
    for (k, v) in table {
        let path = k.get_ref();
        absolute_path(spec, path, k.span())?;
        let rate = match (v.get_ref(), bandwidth) {
            (DeValue::String(s), true) => DeviceRate::bandwidth(s).map_err(|help| {
                Problem::new(
                    v.span(),
                    format!(
                        "invalid bandwidth \"{}\" for `{}.\"{}\"`",
                        shown(s),
                        spec.path(),
                        shown(path)
                    ),
                )
                .help(help)
            })?,
            (DeValue::Integer(i), _) => {
                let n = integer(spec, v, i)?;
                DeviceRate::count(n).map_err(|help| {
                    Problem::new(
                        v.span(),
                        format!(
                            "invalid limit {n} for `{}.\"{}\"`",
                            spec.path(),
                            shown(path)
                        ),
                    )
                    .help(help)
                })?
            }
            (other, _) => {
                let want = if bandwidth {
                    "a string such as \"10M\" or a number of bytes"
                } else {
                    "a number of operations per second"
                };
                return Err(Problem::new(
                    v.span(),
                    format!(
                        "`{}.\"{}\"` expects {want}, found {}",
                        spec.path(),
                        shown(path),
                        type_name(other)
                    ),
                ));
            }
        };
        limits.push((
            k.span().start,
            DirectiveValue::DeviceLimit {
                path: path.to_string(),
                limit: rate,
            },
        ));
    }
    if limits.is_empty() {
        return Err(
            Problem::new(node.span(), format!("`{}` cannot be empty", spec.path()))
                .help("name a device and its limit, or remove the key"),
        );
    }
    limits.sort_by_key(|(at, _)| *at);
    Ok(Value::Many(limits.into_iter().map(|(_, d)| d).collect()))
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
    if table.is_unresolved(s) {
        return Err(Problem::new(
            span,
            format!(
                "`{}`: systemd {} cannot resolve the system call \"{}\" (another architecture's, or newer than its libseccomp) and ignores it with a warning",
                spec.path(),
                table.source().version(),
                shown(s)
            ),
        )
        .help("remove it: it does not exist on this architecture"));
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
pub fn checked_against(table: &SyscallTable) -> String {
    table.source().checked_against()
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

    /// Measured with systemd 252: MemoryMax= refuses 0 ("out of range"), 2^64-1, and a
    /// whole part plus a fraction that overflows 64 bits; MemoryLow= takes 0.
    #[test]
    fn sizes_are_refused_where_systemd_252_refuses_them() {
        assert_eq!(amount("15E"), Some(Amount::Value(15 << 60)));
        assert_eq!(amount("15.9E"), None);
        assert_eq!(amount("16E"), None);
        assert_eq!(amount("1.99999999999999999999K"), None);
        assert!(amount("1.9999999999999999999K").is_some());
        assert_eq!(amount("08%"), None);
        assert_eq!(amount("050%"), None);
        let max = crate::directive::table::find("resources", "memory_max").unwrap();
        let low = crate::directive::table::find("resources", "memory_low").unwrap();
        for zero in ["0", "0.1"] {
            assert!(size_in_range(max, zero, false).is_err(), "{zero}");
            assert!(size_in_range(low, zero, true).is_ok(), "{zero}");
        }
        assert!(size_in_range(low, "18446744073709551615", true).is_err());
        assert!(size_in_range(max, "18446744073709551614", false).is_ok());
    }

    #[test]
    fn noncharacters_are_unwritable_and_other_characters_are_not() {
        assert!(unwritable_character('\u{fffe}')
            .unwrap()
            .0
            .contains("U+FFFE"));
        assert!(unwritable_character('\u{10ffff}').is_some());
        assert!(unwritable_character('\u{fdd0}').is_some());
        assert!(unwritable_character('\n')
            .unwrap()
            .0
            .contains("control character"));
        assert_eq!(unwritable_character('\u{fffd}'), None);
        assert_eq!(unwritable_character('\u{a0}'), None);
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
        // systemd 252: "Failed to add dependency on a@b.mount, ignoring: Invalid argument".
        for bad in ["a@b.mount", "a@b.slice", "a@b.device"] {
            assert!(unit_name(bad).is_err(), "{bad}");
        }
        for ok in ["a@b.socket", "a@b.timer", "a@b.path", "a@b.target"] {
            assert!(unit_name(ok).is_ok(), "{ok}");
        }
        // systemd 252: "Unit u-.slice failed to load properly ... Invalid argument".
        for bad in ["u-.slice", "-u.slice", "a--b.slice", "u\\x20-.slice"] {
            assert!(unit_name(bad).is_err(), "{bad}");
        }
        for ok in ["-.slice", "system-getty.slice", "a-b-c.slice"] {
            assert!(unit_name(ok).is_ok(), "{ok}");
        }
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
        // Measured with systemd 252: "Invalid user/group name or numeric ID".
        for bad in ["65535", "007", "4294967295", "4294967296"] {
            assert!(user_name(bad).is_err(), "{bad}");
        }
        for ok in [
            "0",
            "65534",
            "4294967294",
            "abcdefghijabcdefghijabcdefghij1",
        ] {
            assert!(user_name(ok).is_ok(), "{ok}");
        }
        assert!(user_name("abcdefghijabcdefghijabcdefghij12").is_err());
        assert!(user_name("-rf").is_err());
        assert!(user_name("a b").is_err());
    }
}

#[cfg(test)]
mod io_ip_tests {
    /// The error of a policy with `body` after a minimal [service], as `sandgen check` prints it.
    fn error(body: &str) -> String {
        let text = format!("[service]\nexec = [\"/bin/true\"]\n{body}");
        match crate::load_policy_text("p.toml", &text, 252) {
            Ok(_) => panic!("accepted: {body}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn device_limits_are_located_and_say_what_to_write() {
        let e = error("[resources]\nio_read_bandwidth_max = { \"/dev/vda\" = \"10MB\" }\n");
        assert!(
            e.contains(
                "invalid bandwidth \"10MB\" for `resources.io_read_bandwidth_max.\"/dev/vda\"`"
            ) && e.contains("p.toml:4:40")
                && e.contains("with an optional K, M, G or T suffix (base 1000)"),
            "{e}"
        );
        let e = error("[resources]\nio_write_iops_max = { \"vda\" = 5 }\n");
        assert!(
            e.contains("\"vda\" is not an absolute path") && e.contains("p.toml:4:23"),
            "{e}"
        );
        let e = error("[resources]\nio_write_iops_max = [\"/dev/vda 5\"]\n");
        assert!(
            e.contains("expects a table of device paths and operation counts such as { \"/dev/vda\" = 500 }, found an array"),
            "{e}"
        );
        let e = error("[resources]\nio_write_iops_max = { \"/dev/vda\" = 0 }\n");
        assert!(e.contains("systemd refuses a limit of 0"), "{e}");
    }

    #[test]
    fn ip_addresses_are_checked_with_std_net_and_symbols_suggested() {
        let e = error("[network]\nip_address_allow = [\"localhots\"]\n");
        assert!(
            e.contains("\"localhots\" is not an IP address")
                && e.contains("did you mean \"localhost\"?"),
            "{e}"
        );
        let e = error("[network]\nip_address_deny = [\"::1/129\"]\n");
        assert!(
            e.contains("the prefix length 129 is longer than 128"),
            "{e}"
        );
        let e = error("[network]\nip_address_deny = [\"10.0.0.0/8\", \"10.0.0.0/8\"]\n");
        assert!(e.contains("is listed twice"), "{e}");
    }
}
