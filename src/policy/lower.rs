//! Lowering: a validated policy becomes the directives one target systemd understands.
//!
//! This is where systemd versions matter. A key whose directive is newer than the target
//! is refused with the version that introduced it; legacy keys are written as their modern
//! replacement when the target has it (systemd.resource-control(5) "Deprecated options":
//! `CPUShares=` becomes `CPUWeight=`, `MemoryLimit=` becomes `MemoryMax=`).
//!
//! A mode can be newer than its directive (`ProtectControlGroups=strict` is from 257, the
//! directive from 232): the table says, per [`Mode`], which version knows it and what an
//! older target gets instead ([`Older`]): a refusal naming the version, or the closest older
//! form that is as strict, which is written with a warning saying so.
//!
//! Lowering also writes each directive's line once ([`crate::unit::line`]) and refuses,
//! located at the value, any the unit file cannot carry. Validation refuses every such
//! value first with a precise message; this makes `sandgen check` (which stops here) agree
//! with `sandgen render` by construction, should the two ever drift.

use std::ops::Range;

use super::{Policy, Setting, Value};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::directive::{
    cpu_shares_to_weight, Directive, DirectiveValue, Emit, Kind, Mode, Modes, Name, Older, Spec,
};
use crate::inspect::cgroup::CgroupLayout;

/// The systemd version that introduced `CPUWeight=`.
const CPU_WEIGHT_SINCE: u32 = 232;
/// The systemd version that introduced `MemoryMax=`.
const MEMORY_MAX_SINCE: u32 = 231;
/// The systemd version that accepts `RestrictAddressFamilies=none`.
pub const ADDRESS_FAMILIES_NONE_SINCE: u32 = 249;

/// A policy that the target systemd cannot express.
pub type LowerError = Diagnostics;

/// A policy's directives for one systemd version.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The directives, in table order.
    pub directives: Vec<Directive>,
    /// Where they say something other than the policy: a mode the target lacks, written as
    /// an older form that is as strict. Shown to the user; never an error.
    pub warnings: Vec<Diagnostic>,
}

/// Where a diagnostic about one setting points.
#[derive(Debug, Clone, Copy)]
enum At {
    /// The key: the directive itself is the problem.
    Key,
    /// The value: the directive is fine, this value of it is not.
    Value,
}

/// A message about one setting, and what to do about it.
#[derive(Debug, Clone)]
struct Note {
    at: At,
    message: String,
    help: String,
}

impl Note {
    fn key(message: String, help: String) -> Self {
        Note {
            at: At::Key,
            message,
            help,
        }
    }

    fn diagnostic(self, policy: &Policy, setting: &Setting) -> Diagnostic {
        let span: Range<usize> = match self.at {
            At::Key => setting.key_span.clone(),
            At::Value => setting.value_span.clone(),
        };
        Diagnostic::new(&policy.source, span, self.message).with_help(self.help)
    }
}

/// Warnings for the settings of `policy` that the cgroup layout of the machine the unit runs
/// on leaves without effect (measured on systemd 252 with the hybrid layout; see the rows of
/// the directive table):
/// - with v1 controllers systemd writes no IOPS limit to blkio (only the bandwidth limits);
/// - without any cgroup v2 tree it attaches no IP firewall: the programs need one.
pub fn layout_warnings(policy: &Policy, layout: CgroupLayout) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for setting in &policy.settings {
        let spec = setting.spec;
        let note = match (spec.kind, layout) {
            (Kind::DeviceLimits { bandwidth: false }, CgroupLayout::Hybrid | CgroupLayout::Legacy) => Note::key(
                format!(
                    "`{}` has no effect on this machine: its cgroups have v1 controllers, and systemd writes no IOPS limit to the v1 blkio controller (only the bandwidth limits), so `sandgen verify` will fail it",
                    spec.path()
                ),
                "limit the bandwidth instead (io_read_bandwidth_max, io_write_bandwidth_max), or boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1)".to_owned(),
            ),
            (Kind::IpAddresses, CgroupLayout::Legacy) => Note::key(
                format!(
                    "`{}` has no effect on this machine: it has no cgroup v2 tree, to which systemd attaches the BPF programs of its IP firewall",
                    spec.path()
                ),
                "boot with a cgroup v2 tree (systemd.unified_cgroup_hierarchy=1), or cut the service off with network.private_network = true".to_owned(),
            ),
            _ => continue,
        };
        out.push(note.diagnostic(policy, setting).as_warning());
    }
    out
}

/// The directives of `policy` for a systemd of version `target`.
pub fn lower(policy: &Policy, target: u32) -> Result<Lowered, LowerError> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for setting in &policy.settings {
        match lower_one(setting, target) {
            Ok((ds, warning)) => {
                warnings.extend(warning.map(|w| w.diagnostic(policy, setting).as_warning()));
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
            Err(note) => errors.push(note.diagnostic(policy, setting)),
        }
    }
    if errors.is_empty() {
        Ok(Lowered {
            directives: out,
            warnings,
        })
    } else {
        Err(Diagnostics(errors))
    }
}

fn too_new(spec: &Spec, directive: Name, since: u32, target: u32) -> Note {
    Note::key(
        format!(
            "`{}` needs systemd {since} ({directive}= was added in version {since}); the target systemd is {target}",
            spec.path()
        ),
        "remove it, or target a newer systemd with --systemd-version".to_owned(),
    )
}

/// The value a mode of `spec` has for `target`: the word itself where the target knows it;
/// else its closest older form ([`Older`], following a chain such as
/// `PrivateUsers=full` -> `identity` -> `yes`) and a warning; else a refusal naming the
/// version that knows it.
fn lower_mode(
    spec: &Spec,
    modes: Modes,
    word: &str,
    target: u32,
) -> Result<(DirectiveValue, Option<Note>), Note> {
    let Some(asked) = modes.find(word) else {
        // Validation only lets the table's words through.
        return Ok((DirectiveValue::Word(word.to_owned()), None));
    };
    let mut mode: &Mode = asked;
    let mut why = None;
    let written = loop {
        if target >= mode.since {
            break DirectiveValue::Word(mode.word.to_owned());
        }
        match mode.older {
            Older::Refuse(closest) => {
                return Err(Note {
                    at: At::Value,
                    message: format!(
                        "`{}` = \"{word}\" needs systemd {since} ({}={word} was added in version {since}); the target systemd is {target}",
                        spec.path(),
                        spec.directive,
                        since = asked.since,
                    ),
                    help: format!(
                        "{closest}, or target systemd {} or later with --systemd-version",
                        asked.since
                    ),
                })
            }
            Older::Yes(because) => {
                why = Some(because);
                break DirectiveValue::Bool(true);
            }
            Older::Mode(older, because) => {
                why = Some(because);
                match modes.find(older) {
                    Some(m) => mode = m,
                    // Ruled out by the table's test `older_modes_are_older_modes_of_the_row`;
                    // were it not, systemd's own refusal of the word would show.
                    None => break DirectiveValue::Word(word.to_owned()),
                }
            }
        }
    };
    let warning = why.map(|because| {
        let shown = crate::unit::value_text(&Directive {
            section: spec.section,
            name: spec.directive,
            value: written.clone(),
            kind: spec.kind,
            origin: spec.path(),
        })
        .unwrap_or_default();
        Note {
            at: At::Value,
            message: format!(
                "`{}` = \"{word}\" needs systemd {}; for systemd {target} it is written as {}={shown}, {because}",
                spec.path(),
                asked.since,
                spec.directive,
            ),
            help: format!(
                "target systemd {} or later with --systemd-version to write {}={word}",
                asked.since, spec.directive
            ),
        }
    });
    Ok((written, warning))
}

type LoweredSetting = (Vec<Directive>, Option<Note>);

fn lower_one(setting: &Setting, target: u32) -> Result<LoweredSetting, Note> {
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
            let ds = vars
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
                .collect();
            return Ok((ds, None));
        }
        (Value::Many(values), _) => {
            let ds = values
                .iter()
                .map(|v| make(spec.directive, v.clone()))
                .collect();
            return Ok((ds, None));
        }
        (Value::One(value), _) => value,
    };
    let mut warning = None;
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
                return Err(Note::key(
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
            return Ok((Vec::new(), None));
        }
        (DirectiveValue::Word(word), _) => match spec.kind {
            Kind::BoolOrWord(modes) => {
                let (value, note) = lower_mode(spec, modes, word, target)?;
                warning = note;
                value
            }
            _ => DirectiveValue::Word(word.clone()),
        },
        (value, _) => value.clone(),
    };
    Ok((vec![make(name, value)], warning))
}

#[cfg(test)]
mod tests {
    use crate::directive::{DirectiveValue, Name};

    const EXEC: &str = "[service]\nexec = [\"/bin/true\"]\n";

    /// `policy` (after an `exec`) lowered for `target`: the unit file value of `name`, and
    /// the warnings as printed.
    fn lowered(policy: &str, target: u32, name: Name) -> (Option<DirectiveValue>, String) {
        let loaded = crate::load_policy_text("p.toml", &format!("{EXEC}{policy}"), target)
            .unwrap_or_else(|e| panic!("{e}"));
        let value = loaded
            .directives
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.clone());
        let warnings = loaded.warnings.iter().map(|w| format!("{w}\n")).collect();
        (value, warnings)
    }

    fn refused(policy: &str, target: u32) -> String {
        match crate::load_policy_text("p.toml", &format!("{EXEC}{policy}"), target) {
            Ok(_) => panic!("{policy} was accepted for {target}"),
            Err(e) => e.to_string(),
        }
    }

    fn word(w: &str) -> Option<DirectiveValue> {
        Some(DirectiveValue::Word(w.to_owned()))
    }

    #[test]
    fn a_mode_newer_than_the_target_is_refused_at_its_value_with_the_version() {
        assert_eq!(
            refused("[filesystem]\nprotect_control_groups = \"strict\"\n", 256),
            "error: `filesystem.protect_control_groups` = \"strict\" needs systemd 257 \
             (ProtectControlGroups=strict was added in version 257); the target systemd is 256\n \
             --> p.toml:4:26\n  |\n4 | protect_control_groups = \"strict\"\n  |                          \
             ^^^^^^^^\n  = help: true is the closest older form, but without a cgroup namespace \
             the service sees the host's whole cgroup tree: write true if that is acceptable, or \
             target systemd 257 or later with --systemd-version\n"
        );
        assert!(refused("[filesystem]\nprotect_control_groups = \"private\"\n", 252)
            .starts_with("error: `filesystem.protect_control_groups` = \"private\" needs systemd 257 (ProtectControlGroups=private was added in version 257); the target systemd is 252\n"));
        // The directive itself is older: true is written for every target that has it.
        assert_eq!(
            lowered(
                "[filesystem]\nprotect_control_groups = true\n",
                252,
                Name::ProtectControlGroups
            ),
            (Some(DirectiveValue::Bool(true)), String::new())
        );
        assert_eq!(
            lowered(
                "[filesystem]\nprotect_control_groups = \"strict\"\n",
                257,
                Name::ProtectControlGroups
            ),
            (word("strict"), String::new())
        );
    }

    #[test]
    fn a_mode_with_an_as_strict_older_form_is_written_as_it_with_a_warning() {
        let (value, warnings) = lowered(
            "[namespaces]\nprivate_users = \"identity\"\n",
            252,
            Name::PrivateUsers,
        );
        assert_eq!(value, Some(DirectiveValue::Bool(true)));
        assert_eq!(
            warnings,
            "warning: `namespaces.private_users` = \"identity\" needs systemd 257; for systemd 252 \
             it is written as PrivateUsers=yes, which is stricter: only root and the service's own \
             user are mapped, so other users' files appear owned by nobody\n --> p.toml:4:17\n  |\n\
             4 | private_users = \"identity\"\n  |                 ^^^^^^^^^^\n  = help: target \
             systemd 257 or later with --systemd-version to write PrivateUsers=identity\n"
        );
        // full (258) falls back to identity on 257, and on to yes before.
        let (value, warnings) = lowered(
            "[namespaces]\nprivate_users = \"full\"\n",
            257,
            Name::PrivateUsers,
        );
        assert_eq!(value, word("identity"));
        assert!(warnings.starts_with("warning: `namespaces.private_users` = \"full\" needs systemd 258; for systemd 257 it is written as PrivateUsers=identity, which is stricter: only the first 65536 user and group ids are mapped"), "{warnings}");
        let (value, warnings) = lowered(
            "[namespaces]\nprivate_users = \"full\"\n",
            252,
            Name::PrivateUsers,
        );
        assert_eq!(value, Some(DirectiveValue::Bool(true)));
        assert!(warnings.starts_with("warning: `namespaces.private_users` = \"full\" needs systemd 258; for systemd 252 it is written as PrivateUsers=yes, which is stricter: only root"), "{warnings}");
        let (value, warnings) = lowered(
            "[namespaces]\nprivate_users = \"self\"\n",
            256,
            Name::PrivateUsers,
        );
        assert_eq!(value, Some(DirectiveValue::Bool(true)));
        assert!(
            warnings
                .contains("written as PrivateUsers=yes, which systemd reads as the same mapping\n"),
            "{warnings}"
        );
        let (value, warnings) = lowered(
            "[namespaces]\nprotect_hostname = \"private\"\n",
            257,
            Name::ProtectHostname,
        );
        assert_eq!(value, Some(DirectiveValue::Bool(true)));
        assert!(warnings.contains("for systemd 257 it is written as ProtectHostname=yes, which is stricter: the same private UTS namespace, but the service cannot change its host name (sethostname() fails)\n"), "{warnings}");
        let (value, warnings) = lowered(
            "[filesystem]\nprivate_tmp = \"disconnected\"\n",
            252,
            Name::PrivateTmp,
        );
        assert_eq!(value, Some(DirectiveValue::Bool(true)));
        assert!(
            warnings.contains("written as PrivateTmp=yes, which is just as strict: "),
            "{warnings}"
        );
        // Where the target knows the mode, it is written as it is, without a word.
        for (policy, name, mode) in [
            (
                "[namespaces]\nprivate_users = \"identity\"\n",
                Name::PrivateUsers,
                "identity",
            ),
            (
                "[filesystem]\nprivate_tmp = \"disconnected\"\n",
                Name::PrivateTmp,
                "disconnected",
            ),
        ] {
            assert_eq!(lowered(policy, 257, name), (word(mode), String::new()));
        }
        assert_eq!(
            lowered(
                "[namespaces]\nprivate_users = \"full\"\nprotect_hostname = \"private\"\n",
                258,
                Name::PrivateUsers
            ),
            (word("full"), String::new())
        );
    }

    #[test]
    fn new_directives_are_refused_before_their_version() {
        assert_eq!(
            refused("[resources]\nmemory_zswap_max = \"16M\"\n", 252).lines().next(),
            Some("error: `resources.memory_zswap_max` needs systemd 253 (MemoryZSwapMax= was added in version 253); the target systemd is 252")
        );
        assert_eq!(
            refused("[resources]\nmemory_zswap_writeback = false\n", 255).lines().next(),
            Some("error: `resources.memory_zswap_writeback` needs systemd 256 (MemoryZSwapWriteback= was added in version 256); the target systemd is 255")
        );
        assert_eq!(
            lowered(
                "[resources]\nmemory_zswap_max = \"16M\"\n",
                253,
                Name::MemoryZSwapMax
            )
            .1,
            ""
        );
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    fn warnings(body: &str, layout: CgroupLayout) -> Vec<String> {
        let text = format!("[service]\nexec = [\"/bin/true\"]\n{body}");
        let loaded = crate::load_policy_text("p.toml", &text, 252).expect("a valid policy");
        layout_warnings(&loaded.policy, layout)
            .iter()
            .map(std::string::ToString::to_string)
            .collect()
    }

    #[test]
    fn iops_limits_warn_with_v1_controllers_and_ip_filters_without_cgroup_v2() {
        let iops = "[resources]\nio_read_iops_max = { \"/dev/vda\" = 5 }\n\
                    io_read_bandwidth_max = { \"/dev/vda\" = \"1M\" }\n";
        assert!(warnings(iops, CgroupLayout::Unified).is_empty());
        for layout in [CgroupLayout::Hybrid, CgroupLayout::Legacy] {
            let w = warnings(iops, layout);
            assert_eq!(w.len(), 1, "{w:?}");
            assert!(
                w[0].starts_with("warning: `resources.io_read_iops_max` has no effect on this machine: its cgroups have v1 controllers")
                    && w[0].contains("p.toml:4:1"),
                "{}",
                w[0]
            );
        }
        let ip = "[network]\nip_address_allow = [\"localhost\"]\nip_address_deny = [\"any\"]\n";
        assert!(warnings(ip, CgroupLayout::Unified).is_empty());
        assert!(warnings(ip, CgroupLayout::Hybrid).is_empty());
        let w = warnings(ip, CgroupLayout::Legacy);
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("it has no cgroup v2 tree"), "{}", w[0]);
    }
}
