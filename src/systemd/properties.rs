//! Directives as D-Bus properties, for transient units (`StartTransientUnit`).
//!
//! The same typed [`Directive`]s that become unit file lines become properties here, so a
//! policy run with `sandgen run` gets the sandbox its rendered unit would. Property names
//! and types are those of the `org.freedesktop.systemd1.Service` interface (see
//! org.freedesktop.systemd1(5) and `busctl introspect`); a few directives have a property
//! of another name (`CPUQuota=` is `CPUQuotaPerSecUSec`, a percentage limit is
//! `MemoryMaxScale`), and `[Install]` directives have none.

use std::collections::BTreeMap;

use zbus::{OwnedVariant as OwnedValue, Variant as Value};

use crate::data::{capabilities, errno};
use crate::directive::{Directive, DirectiveValue, Kind, UnitSection};
use crate::policy::value::{amount, duration_usec, Amount};

/// A directive that cannot be sent as a transient unit property.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}= (from `{origin}`) {reason}")]
pub struct Unsupported {
    /// The directive.
    pub key: String,
    /// The policy key.
    pub origin: String,
    /// Why.
    pub reason: String,
}

/// One property of a transient unit.
#[derive(Debug, PartialEq)]
pub struct Property {
    /// The property name (`MemoryMax`).
    pub name: String,
    /// Its value, typed as systemd expects.
    pub value: OwnedValue,
}

/// `MS_REC`, the mount flag of a recursive bind mount (BindPaths= default).
const MS_REC: u64 = 16384;

/// The namespace flags of RestrictNamespaces= (the `CLONE_NEW*` bits).
const NAMESPACE_FLAGS: &[(&str, u64)] = &[
    ("cgroup", 0x0200_0000),
    ("ipc", 0x0800_0000),
    ("net", 0x4000_0000),
    ("mnt", 0x0002_0000),
    ("pid", 0x2000_0000),
    ("user", 0x1000_0000),
    ("uts", 0x0400_0000),
];

/// Securebits flags (capabilities(7), `linux/securebits.h`).
const SECURE_BITS: &[(&str, i32)] = &[
    ("noroot", 1 << 0),
    ("noroot-locked", 1 << 1),
    ("no-setuid-fixup", 1 << 2),
    ("no-setuid-fixup-locked", 1 << 3),
    ("keep-caps", 1 << 4),
    ("keep-caps-locked", 1 << 5),
];

fn owned(v: Value<'_>) -> OwnedValue {
    // Only fails for values holding file descriptors, which no property here does.
    OwnedValue::try_from(v).unwrap_or_else(|_| OwnedValue::from(0u8))
}

fn unsupported(d: &Directive, reason: &str) -> Unsupported {
    Unsupported {
        key: d.name.as_str().to_owned(),
        origin: d.origin.clone(),
        reason: reason.to_owned(),
    }
}

/// A CPU list (`0-1,3`) as systemd's D-Bus byte mask: bit N of byte N/8 is CPU N.
pub fn cpu_mask(list: &str) -> Option<Vec<u8>> {
    let mut mask = Vec::new();
    for part in list.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
        for cpu in a..=b {
            if mask.len() <= cpu / 8 {
                mask.resize(cpu / 8 + 1, 0);
            }
            mask[cpu / 8] |= 1 << (cpu % 8);
        }
    }
    Some(mask)
}

/// The capability mask of a list; negated lists keep every other capability.
pub fn capability_mask(words: &[String], negated: bool) -> u64 {
    let listed = words
        .iter()
        .filter_map(|w| capabilities::by_name(w))
        .fold(0u64, |m, n| m | (1u64 << n));
    if negated {
        let all = (1u64 << (capabilities::LAST_CAP + 1)) - 1;
        all & !listed
    } else {
        listed
    }
}

fn words(d: &Directive) -> Option<(&Vec<String>, bool)> {
    match &d.value {
        DirectiveValue::Words { words, negated } => Some((words, *negated)),
        _ => None,
    }
}

fn string(d: &Directive) -> Option<String> {
    match &d.value {
        DirectiveValue::Token(t) | DirectiveValue::Text(t) => Some(t.clone()),
        DirectiveValue::Bool(b) => Some(if *b { "yes" } else { "no" }.to_owned()),
        _ => None,
    }
}

/// The properties of a transient unit carrying `directives`, and the directives that have
/// no transient property (reported to the user, never silently dropped).
pub fn transient_properties(directives: &[Directive]) -> (Vec<Property>, Vec<Unsupported>) {
    let mut props: Vec<Property> = Vec::new();
    let mut skipped = Vec::new();
    // Environment= lines are one `as` property.
    let mut env: Vec<String> = Vec::new();
    let mut lists: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for d in directives {
        if d.section == UnitSection::Install {
            skipped.push(unsupported(
                d,
                "has no meaning for a transient unit, which cannot be enabled",
            ));
            continue;
        }
        match property(d) {
            Ok(Some(p)) => props.push(p),
            Ok(None) => match &d.value {
                DirectiveValue::Environment { name, value } => env.push(format!("{name}={value}")),
                DirectiveValue::Words { words, .. } => lists
                    .entry(d.name.as_str())
                    .or_default()
                    .extend(words.iter().cloned()),
                _ => skipped.push(unsupported(d, "has no transient property")),
            },
            Err(e) => skipped.push(e),
        }
    }
    if !env.is_empty() {
        props.push(Property {
            name: "Environment".into(),
            value: owned(Value::from(env)),
        });
    }
    for (name, list) in lists {
        props.push(Property {
            name: name.into(),
            value: owned(Value::from(list)),
        });
    }
    (props, skipped)
}

/// One directive's property; `Ok(None)` for values collected into a list property.
fn property(d: &Directive) -> Result<Option<Property>, Unsupported> {
    let bad = |why: &str| unsupported(d, why);
    let prop = |name: &str, value: Value<'_>| {
        Ok(Some(Property {
            name: name.to_owned(),
            value: owned(value),
        }))
    };
    match d.kind {
        Kind::Bool => match d.value {
            DirectiveValue::Bool(b) => prop(d.name.as_str(), Value::from(b)),
            _ => Err(bad("is not a boolean")),
        },
        Kind::BoolOrWord(_)
        | Kind::Word(_)
        | Kind::Text
        | Kind::UserName
        | Kind::Path
        | Kind::WorkingDirectory => {
            let s = string(d).ok_or_else(|| bad("is not a string"))?;
            prop(d.name.as_str(), Value::from(s))
        }
        Kind::Size { .. } | Kind::TasksMax => {
            let s = string(d).ok_or_else(|| bad("is not a size"))?;
            match amount(&s).ok_or_else(|| bad("is not a valid amount"))? {
                Amount::Value(n) => prop(d.name.as_str(), Value::from(n)),
                Amount::Infinity => prop(d.name.as_str(), Value::from(u64::MAX)),
                Amount::Percent(p) => {
                    // UINT32_SCALE_FROM_PERCENT in systemd's percent-util.h.
                    let scaled = (u64::from(p) * u64::from(u32::MAX) / 100) as u32;
                    prop(&format!("{}Scale", d.name.as_str()), Value::from(scaled))
                }
            }
        }
        Kind::Integer { .. } => {
            let n: u64 = string(d)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("is not an integer"))?;
            prop(d.name.as_str(), Value::from(n))
        }
        Kind::Percent => {
            let p: u64 = string(d)
                .and_then(|s| s.strip_suffix('%').and_then(|n| n.parse().ok()))
                .ok_or_else(|| bad("is not a percentage"))?;
            prop("CPUQuotaPerSecUSec", Value::from(p * 10_000))
        }
        Kind::CpuSet => {
            let mask = string(d)
                .and_then(|s| cpu_mask(&s))
                .ok_or_else(|| bad("is not a CPU list"))?;
            prop(d.name.as_str(), Value::from(mask))
        }
        Kind::Duration => {
            let usec = string(d)
                .and_then(|s| duration_usec(&s).ok())
                .ok_or_else(|| bad("is not a time span"))?;
            let name = d
                .name
                .as_str()
                .strip_suffix("Sec")
                .map(|k| format!("{k}USec"))
                .unwrap_or_else(|| d.name.as_str().to_owned());
            prop(&name, Value::from(usec))
        }
        Kind::Paths | Kind::Units | Kind::Architectures => Ok(None),
        Kind::Environment => Ok(None),
        Kind::BindPaths => {
            let (list, _) = words(d).ok_or_else(|| bad("is not a list"))?;
            let binds: Vec<(String, String, bool, u64)> = list
                .iter()
                .map(|w| {
                    let (missing_ok, rest) = match w.strip_prefix('-') {
                        Some(r) => (true, r),
                        None => (false, w.as_str()),
                    };
                    let mut parts = rest.splitn(3, ':');
                    let source = parts.next().unwrap_or_default().to_owned();
                    let dest = parts.next().map_or_else(|| source.clone(), str::to_owned);
                    let flags = if parts.next() == Some("norbind") {
                        0
                    } else {
                        MS_REC
                    };
                    (source, dest, missing_ok, flags)
                })
                .collect();
            prop(d.name.as_str(), Value::from(binds))
        }
        Kind::Command => match &d.value {
            DirectiveValue::Command(argv) => {
                // systemd substitutes $VAR in every command's argv when it runs it, whether
                // the command came from a unit file or over the bus; `$$` is a literal `$`
                // (what systemd-run --expand-environment=no sends). Specifiers are not
                // expanded in properties, so `%` stays as it is.
                let argv: Vec<String> = argv.iter().map(|a| a.replace('$', "$$")).collect();
                let program = argv.first().cloned().unwrap_or_default();
                prop(d.name.as_str(), Value::from(vec![(program, argv, false)]))
            }
            _ => Err(bad("is not a command")),
        },
        Kind::Capabilities => {
            let (list, negated) = words(d).ok_or_else(|| bad("is not a list"))?;
            prop(d.name.as_str(), Value::from(capability_mask(list, negated)))
        }
        Kind::Syscalls => {
            let (list, negated) = words(d).ok_or_else(|| bad("is not a list"))?;
            prop(d.name.as_str(), Value::from((!negated, list.clone())))
        }
        Kind::Errno => {
            let s = string(d).ok_or_else(|| bad("is not an errno"))?;
            let n = errno::by_name(&s)
                .or_else(|| s.parse().ok())
                .ok_or_else(|| bad("is not an errno"))?;
            prop(d.name.as_str(), Value::from(n))
        }
        Kind::AddressFamilies => match &d.value {
            DirectiveValue::Token(t) if t == "none" => {
                prop(d.name.as_str(), Value::from((true, Vec::<String>::new())))
            }
            DirectiveValue::Words { words, .. } => {
                prop(d.name.as_str(), Value::from((true, words.clone())))
            }
            _ => Err(bad("is not a list of address families")),
        },
        Kind::Namespaces => {
            // The property holds the namespace types that stay ALLOWED.
            let all = NAMESPACE_FLAGS.iter().fold(0, |m, (_, f)| m | f);
            let allowed = match &d.value {
                DirectiveValue::Bool(true) => 0,
                DirectiveValue::Bool(false) => all,
                DirectiveValue::Words { words, .. } => words
                    .iter()
                    .filter_map(|w| {
                        NAMESPACE_FLAGS
                            .iter()
                            .find(|(n, _)| n == w)
                            .map(|(_, f)| *f)
                    })
                    .fold(0, |m, f| m | f),
                _ => return Err(bad("is not a namespace list")),
            };
            prop(d.name.as_str(), Value::from(allowed))
        }
        Kind::SecureBits => {
            let (list, _) = words(d).ok_or_else(|| bad("is not a list"))?;
            let bits = list
                .iter()
                .filter_map(|w| SECURE_BITS.iter().find(|(n, _)| n == w).map(|(_, b)| *b))
                .fold(0, |m, b| m | b);
            prop(d.name.as_str(), Value::from(bits))
        }
        Kind::UMask => {
            let mask = string(d)
                .and_then(|s| u32::from_str_radix(&s, 8).ok())
                .ok_or_else(|| bad("is not an octal mask"))?;
            prop(d.name.as_str(), Value::from(mask))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_masks_are_little_endian_bitmaps() {
        assert_eq!(cpu_mask("0"), Some(vec![1]));
        assert_eq!(cpu_mask("0-1,9"), Some(vec![3, 2]));
    }

    #[test]
    fn capability_masks() {
        assert_eq!(capability_mask(&[], false), 0);
        assert_eq!(capability_mask(&["CAP_NET_ADMIN".into()], false), 1 << 12);
        let all_but = capability_mask(&["CAP_NET_ADMIN".into()], true);
        assert_eq!(all_but & (1 << 12), 0);
        assert_eq!(all_but.count_ones(), capabilities::LAST_CAP);
    }
}
