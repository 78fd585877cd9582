//! Sandbox policies: TOML files that name the directives a service should run under.
//!
//! Loading is pure: it takes the file's text (and facts about the host in a
//! [`Context`]) and returns either a validated [`Policy`] or every problem found, each
//! located by file, line and column. The tables and keys a policy may use are those of
//! [`crate::directive::table`].

pub mod examples;
mod lower;
pub mod value;

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::diagnostic::{closest, shown, Diagnostic, Diagnostics, Source};
use crate::directive::table::{self, SERVICE_NAME_KEY, TABLES};
use crate::directive::{DirectiveValue, Spec};
pub use lower::{layout_warnings, lower, LowerError, Lowered, ADDRESS_FAMILIES_NONE_SINCE};
pub use value::{Context, Value};

/// One validated `key = value` of a policy.
#[derive(Debug, Clone)]
pub struct Setting {
    /// The directive the key stands for.
    pub spec: &'static Spec,
    /// The validated value.
    pub value: Value,
    /// Where the key is written, for diagnostics about it.
    pub key_span: Range<usize>,
    /// Where the value is written, for diagnostics about what it says.
    pub value_span: Range<usize>,
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The file it came from.
    pub source: Source,
    /// The unit name without `.service`.
    pub name: String,
    /// The settings, in directive table order.
    pub settings: Vec<Setting>,
}

impl Policy {
    /// The setting for `table.key`, if the policy has it.
    pub fn get(&self, table: &str, key: &str) -> Option<&Setting> {
        self.settings
            .iter()
            .find(|s| s.spec.table == table && s.spec.key == key)
    }

    /// The unit file name, `NAME.service`.
    pub fn unit_name(&self) -> String {
        format!("{}.service", self.name)
    }
}

/// Keys that say the same thing and so cannot be combined.
const EXCLUSIVE: &[(&str, &str, &str)] = &[
    ("resources", "cpu_weight", "cpu_shares"),
    ("resources", "memory_max", "memory_limit"),
    ("capabilities", "bounding", "bounding_drop"),
];

/// Load and validate policy text. `source.name` is the path shown in diagnostics; the
/// unit name defaults to the file stem of `source.name`.
pub fn parse(source: Source, cx: &Context<'_>) -> Result<Policy, Diagnostics> {
    let mut errors = Vec::new();
    let document = match DeTable::parse(&source.text) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().trim_end_matches('.').to_owned();
            return Err(Diagnostics(vec![Diagnostic::new(
                &source,
                span,
                format!("invalid TOML: {message}"),
            )]));
        }
    };

    let mut settings = Vec::new();
    let mut name = None;
    let mut service_span = None;
    let mut exec_written = false;
    for (table_key, table_node) in document.get_ref() {
        let table_name = table_key.get_ref().as_ref();
        if !TABLES.contains(&table_name) {
            errors.push(unknown_table(&source, table_name, table_key.span()));
            continue;
        }
        if table_name == "service" {
            service_span = Some(table_key.span());
        }
        let DeValue::Table(entries) = table_node.get_ref() else {
            errors.push(
                Diagnostic::new(
                    &source,
                    table_key.span(),
                    format!("`{table_name}` must be a table"),
                )
                .with_help(format!(
                    "write [{table_name}] on a line of its own, then its keys"
                )),
            );
            continue;
        };
        for (key, node) in entries {
            let key_name = key.get_ref().as_ref();
            if table_name == "service" && key_name == SERVICE_NAME_KEY {
                match service_name(node) {
                    Ok(n) => name = Some(n),
                    Err(e) => errors
                        .push(Diagnostic::new(&source, node.span(), e.0).with_optional_help(e.1)),
                }
                continue;
            }
            exec_written |= table_name == "service" && key_name == "exec";
            let Some(spec) = table::find(table_name, key_name) else {
                errors.push(unknown_key(&source, table_name, key_name, key.span()));
                continue;
            };
            match value::parse(spec, node, cx) {
                Ok(value) => settings.push(Setting {
                    spec,
                    value,
                    key_span: key.span(),
                    value_span: node.span(),
                }),
                Err(problems) => errors.extend(problems.into_iter().map(|p| {
                    Diagnostic::new(&source, p.span, p.message).with_optional_help(p.help)
                })),
            }
        }
    }

    if !exec_written {
        errors.push(
            Diagnostic::new(
                &source,
                service_span.unwrap_or(0..0),
                "the policy has no `service.exec`: nothing to run",
            )
            .with_help("add exec = [\"/path/to/program\", \"arg\", ...] under [service]"),
        );
    }

    for (t, a, b) in EXCLUSIVE {
        let find = |k: &str| {
            settings
                .iter()
                .find(|s: &&Setting| s.spec.table == *t && s.spec.key == k)
        };
        if let (Some(_), Some(second)) = (find(a), find(b)) {
            errors.push(
                Diagnostic::new(
                    &source,
                    second.key_span.clone(),
                    format!("`{t}.{b}` cannot be combined with `{t}.{a}`"),
                )
                .with_help(format!("they set the same thing; keep only `{t}.{a}`")),
            );
        }
    }

    errors.extend(
        combinations(&settings)
            .into_iter()
            .map(|(span, message, help)| Diagnostic::new(&source, span, message).with_help(help)),
    );

    let name = match name {
        Some(n) => n,
        None => match default_name(&source.name) {
            Ok(n) => n,
            Err(message) => {
                errors.push(
                    Diagnostic::new(&source, 0..0, message)
                        .with_help("set a valid unit name with [service] name = \"...\""),
                );
                String::new()
            }
        },
    };

    // A dependency on the unit itself: systemd drops it, with a warning for After= and
    // Before= ("Dependency After=x.service dropped").
    let own = format!("{name}.service");
    for s in settings
        .iter()
        .filter(|s| s.spec.kind == crate::directive::Kind::Units)
    {
        if s.spec.section == crate::directive::UnitSection::Unit
            && matches!(&s.value, Value::One(DirectiveValue::Words { words, .. }) if words.contains(&own))
        {
            errors.push(
                Diagnostic::new(
                    &source,
                    s.value_span.clone(),
                    format!(
                        "`{}` names the unit itself ({own}): systemd drops such a dependency",
                        s.spec.path()
                    ),
                )
                .with_help(format!("remove \"{own}\"")),
            );
        }
    }

    if !errors.is_empty() {
        errors.sort_by_key(|d| (d.line, d.col));
        return Err(Diagnostics(errors));
    }
    settings.sort_by_key(|s| table::position(s.spec));
    Ok(Policy {
        source,
        name,
        settings,
    })
}

/// The most bytes of argv and environment a policy may give its command, counted as
/// execve() counts them (each string and its NUL; a variable as `NAME=value`). Linux always
/// accepts 128 KiB of them (ARG_MAX, whatever the stack limit); sandgen leaves a quarter of
/// that for the variables systemd adds itself (PATH, INVOCATION_ID, HOME, ...), so that the
/// command never fails with E2BIG ("Argument list too long").
pub const EXEC_BYTES_MAX: usize = 96 * 1024;

/// Settings that are valid one by one but that systemd refuses together, or that cannot
/// run: each with the span to point at, the message and a help.
fn combinations(settings: &[Setting]) -> Vec<(Range<usize>, String, String)> {
    let find = |table: &str, key: &str| {
        settings
            .iter()
            .find(|s| s.spec.table == table && s.spec.key == key)
    };
    let mut out = Vec::new();
    // systemd.service(5): "Restart= ... always and on-success are not allowed for
    // Type=oneshot"; systemd refuses to load such a unit ("bad-setting").
    if let (Some(t), Some(r)) = (find("service", "type"), find("service", "restart")) {
        if let (Value::One(DirectiveValue::Word(t)), Value::One(DirectiveValue::Word(restart))) =
            (&t.value, &r.value)
        {
            if t == "oneshot" && (restart == "always" || restart == "on-success") {
                out.push((
                    r.value_span.clone(),
                    format!("`service.restart` = \"{restart}\" cannot be combined with `service.type` = \"oneshot\": systemd refuses to load such a unit"),
                    "use restart = \"on-failure\", or another type".to_owned(),
                ));
            }
        }
    }
    if let Some(exec) = find("service", "exec") {
        let argv = match &exec.value {
            Value::One(DirectiveValue::Command(argv)) => argv.iter().map(|a| a.len() + 1).sum(),
            _ => 0,
        };
        let env = match find("service", "environment").map(|s| &s.value) {
            Some(Value::Env(vars)) => vars.iter().map(|(k, v)| k.len() + v.len() + 2).sum(),
            _ => 0,
        };
        if argv + env > EXEC_BYTES_MAX {
            out.push((
                exec.value_span.clone(),
                format!(
                    "`service.exec` and `service.environment` together are {} bytes; sandgen allows {EXEC_BYTES_MAX} so that execve() never fails with \"Argument list too long\"",
                    argv + env
                ),
                "pass large data in a file instead, and its path as an argument".to_owned(),
            ));
        }
    }
    out
}

fn unknown_table(source: &Source, name: &str, span: Range<usize>) -> Diagnostic {
    let help = match closest(name, TABLES.iter().copied()) {
        Some(t) => format!("did you mean [{t}]?"),
        None => match TABLES.iter().find(|t| table::find(t, name).is_some()) {
            Some(t) => format!("`{name}` is a key of [{t}]"),
            None => format!(
                "the tables are {}",
                TABLES
                    .iter()
                    .map(|t| format!("[{t}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    };
    Diagnostic::new(source, span, format!("unknown table [{}]", shown(name))).with_help(help)
}

fn unknown_key(source: &Source, table_name: &str, key: &str, span: Range<usize>) -> Diagnostic {
    let elsewhere = TABLES
        .iter()
        .find(|t| **t != table_name && table::find(t, key).is_some());
    let help = if let Some(other) = elsewhere {
        Some(format!("`{key}` belongs in [{other}]"))
    } else {
        let mut keys: Vec<&str> = table::keys_of(table_name).collect();
        if table_name == "service" {
            keys.push(SERVICE_NAME_KEY);
        }
        closest(key, keys.iter().copied())
            .map(|k| format!("did you mean `{k}`?"))
            .or_else(|| {
                // A typo of a key that lives in another table.
                closest(key, table::SPECS.iter().map(|s| s.key))
                    .and_then(|k| table::SPECS.iter().find(|s| s.key == k))
                    .map(|s| format!("did you mean `{}` in [{}]?", s.key, s.table))
            })
    };
    Diagnostic::new(
        source,
        span,
        format!("unknown key `{}` in [{table_name}]", shown(key)),
    )
    .with_optional_help(help)
}

type Message = (String, Option<String>);

fn service_name(node: &toml::Spanned<DeValue<'_>>) -> Result<String, Message> {
    let Some(s) = node.get_ref().as_str() else {
        return Err(("`service.name` expects a string".to_owned(), None));
    };
    check_service_name(s)
}

/// Check a `[service] name` (the unit name without `.service`) by systemd.unit(5): the
/// message and, where there is one, a suggestion.
pub fn check_service_name(s: &str) -> Result<String, (String, Option<String>)> {
    if let Some(stem) = s.strip_suffix(".service") {
        return Err((
            format!(
                "`service.name` is the name without \".service\", found \"{}\"",
                shown(s)
            ),
            Some(format!("write name = \"{stem}\"")),
        ));
    }
    check_unit_stem(s).map(|()| s.to_owned()).map_err(|m| {
        (
            format!(
                "`service.name`: \"{}\" is not a valid unit name: {m}",
                shown(s)
            ),
            None,
        )
    })
}

fn check_unit_stem(s: &str) -> Result<(), String> {
    if s.len() + ".service".len() > 255 {
        return Err("longer than 255 characters with \".service\"".to_owned());
    }
    value::unit_stem(s, false)
}

fn default_name(file: &str) -> Result<String, String> {
    let stem = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    check_unit_stem(&stem).map(|()| stem.clone()).map_err(|m| {
        format!(
            "the file name gives the unit name \"{}\", which is not valid: {m}",
            shown(&stem)
        )
    })
}
