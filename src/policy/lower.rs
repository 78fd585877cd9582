//! Lowering: a validated policy becomes the directives one target systemd understands.
//!
//! This is where systemd versions matter. A key whose directive is newer than the target
//! is refused with the version that introduced it; legacy keys are written as their modern
//! replacement when the target has it (systemd.resource-control(5) "Deprecated options":
//! `CPUShares=` becomes `CPUWeight=`, `MemoryLimit=` becomes `MemoryMax=`).
//!
//! Lowering also writes each directive's line once ([`crate::unit::line`]) and refuses,
//! located at the value, any the unit file cannot carry. Validation refuses every such
//! value first with a precise message; this makes `sandgen check` (which stops here) agree
//! with `sandgen render` by construction, should the two ever drift.

use super::{Policy, Setting, Value};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::directive::{cpu_shares_to_weight, Directive, DirectiveValue, Emit, Kind, Name, Spec};

/// The systemd version that introduced `CPUWeight=`.
const CPU_WEIGHT_SINCE: u32 = 232;
/// The systemd version that introduced `MemoryMax=`.
const MEMORY_MAX_SINCE: u32 = 231;
/// The systemd version that accepts `RestrictAddressFamilies=none`.
const ADDRESS_FAMILIES_NONE_SINCE: u32 = 249;

/// A policy that the target systemd cannot express.
pub type LowerError = Diagnostics;

/// The directives of `policy` for a systemd of version `target`.
pub fn lower(policy: &Policy, target: u32) -> Result<Vec<Directive>, LowerError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for setting in &policy.settings {
        match lower_one(setting, target) {
            Ok(ds) => {
                for d in ds {
                    match crate::unit::line(&d) {
                        Ok(_) => out.push(d),
                        Err(e) => errors.push(
                            Diagnostic::new(
                                &policy.source,
                                setting.value_span.clone(),
                                format!("`{}` cannot be written as {}=: {e}", d.origin, d.name),
                            )
                            .with_help(e.help()),
                        ),
                    }
                }
            }
            Err((message, help)) => errors.push(
                Diagnostic::new(&policy.source, setting.key_span.clone(), message).with_help(help),
            ),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(errors))
    }
}

fn too_new(spec: &Spec, directive: Name, since: u32, target: u32) -> (String, String) {
    (
        format!(
            "`{}` needs systemd {since} ({directive}= was added in version {since}); the target systemd is {target}",
            spec.path()
        ),
        "remove it, or target a newer systemd with --systemd-version".to_owned(),
    )
}

fn lower_one(setting: &Setting, target: u32) -> Result<Vec<Directive>, (String, String)> {
    let spec = setting.spec;
    let mut name = spec.directive;
    if target < spec.since {
        return Err(too_new(spec, spec.directive, spec.since, target));
    }
    let make = |name: Name, value: DirectiveValue| Directive {
        section: spec.section,
        name,
        value,
        kind: spec.kind,
        origin: spec.path(),
    };
    let value = match (&setting.value, spec.emit) {
        (Value::Env(vars), _) => {
            return Ok(vars
                .iter()
                .map(|(name, value)| {
                    make(
                        Name::Environment,
                        DirectiveValue::Environment {
                            name: name.clone(),
                            value: value.clone(),
                        },
                    )
                })
                .collect())
        }
        (Value::One(value), _) => value,
    };
    let value = match (value, spec.emit) {
        (DirectiveValue::Integer(shares), Emit::CpuShares) if target >= CPU_WEIGHT_SINCE => {
            name = Name::CPUWeight;
            DirectiveValue::Integer(cpu_shares_to_weight(*shares))
        }
        (_, Emit::MemoryLimit) if target >= MEMORY_MAX_SINCE => {
            name = Name::MemoryMax;
            value.clone()
        }
        (DirectiveValue::Words { words, .. }, Emit::Negated) => DirectiveValue::Words {
            words: words.clone(),
            negated: true,
        },
        (DirectiveValue::Words { words, .. }, _)
            if spec.kind == Kind::AddressFamilies && words.is_empty() =>
        {
            if target < ADDRESS_FAMILIES_NONE_SINCE {
                return Err((
                    format!(
                        "`{}` = [] needs systemd {ADDRESS_FAMILIES_NONE_SINCE} (RestrictAddressFamilies=none); the target systemd is {target}",
                        spec.path()
                    ),
                    "allow one family such as [\"AF_UNIX\"], or target a newer systemd".to_owned(),
                ));
            }
            DirectiveValue::Word("none".to_owned())
        }
        (DirectiveValue::Words { words, .. }, _)
            if words.is_empty() && spec.kind != Kind::Capabilities =>
        {
            // An empty list of paths or units asks for nothing; an empty assignment would
            // instead reset the setting, so write nothing.
            return Ok(Vec::new());
        }
        (value, _) => value.clone(),
    };
    Ok(vec![make(name, value)])
}
