//! Directives as D-Bus properties, for transient units (`StartTransientUnit`).
//!
//! The same typed [`Directive`]s that become unit file lines become properties here, so a
//! policy run with `sandgen run` gets the sandbox its rendered unit would. Property names
//! and types are those of the `org.freedesktop.systemd1.Service` interface (see
//! org.freedesktop.systemd1(5) and `busctl introspect`); a few directives have a property
//! of another name (`CPUQuota=` is `CPUQuotaPerSecUSec`, a percentage limit is
//! `MemoryMaxScale`), and `[Install]` directives have none.

// The namespace flags of RestrictNamespaces= (the `CLONE_NEW*` bits), one table with the
// seccomp evaluator's.
use crate::seccomp::table::NAMESPACE_FLAGS;
use std::collections::BTreeMap;

use zbus::{OwnedVariant as OwnedValue, Variant as Value};

use crate::data::capabilities;
use crate::directive::{Amount, BoolBus, Directive, DirectiveValue, Kind, UnitSection};

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

/// Address families of `IPAddressAllow=` prefixes on the bus (`socket.h`).
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;

/// `MS_REC`, the mount flag of a recursive bind mount (BindPaths= default).
const MS_REC: u64 = 16384;

/// Securebits flags (capabilities(7), `linux/securebits.h`).
pub(crate) const SECURE_BITS: &[(&str, i32)] = &[
    ("noroot", 1 << 0),
    ("noroot-locked", 1 << 1),
    ("no-setuid-fixup", 1 << 2),
    ("no-setuid-fixup-locked", 1 << 3),
    ("keep-caps", 1 << 4),
    ("keep-caps-locked", 1 << 5),
];

/// The names of the securebits flags set in `bits`, in the order of [`SECURE_BITS`].
pub(crate) fn secure_bits_names(bits: i32) -> Vec<&'static str> {
    SECURE_BITS
        .iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|(n, _)| *n)
        .collect()
}

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

/// The properties of a transient unit carrying `directives`, and the directives that have
/// no transient property (reported to the user, never silently dropped).
pub fn transient_properties(directives: &[Directive]) -> (Vec<Property>, Vec<Unsupported>) {
    let mut props: Vec<Property> = Vec::new();
    let mut skipped = Vec::new();
    // Environment= lines are one `as` property.
    let mut env: Vec<String> = Vec::new();
    let mut lists: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    // IOReadBandwidthMax= and kin: one `a(st)` property a directive, a device a line.
    let mut device_limits: BTreeMap<&'static str, Vec<(String, u64)>> = BTreeMap::new();
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
                DirectiveValue::DeviceLimit { path, limit } => device_limits
                    .entry(d.name.as_str())
                    .or_default()
                    .push((path.clone(), limit.per_second)),
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
    for (name, limits) in device_limits {
        props.push(Property {
            name: name.into(),
            value: owned(Value::from(limits)),
        });
    }
    (props, skipped)
}

/// One directive's property; `Ok(None)` for values collected into a list property.
fn property(d: &Directive) -> Result<Option<Property>, Unsupported> {
    let bad = |why: &str| unsupported(d, why);
    let name = d.name.as_str();
    let prop = |name: &str, value: Value<'_>| {
        Ok(Some(Property {
            name: name.to_owned(),
            value: owned(value),
        }))
    };
    match (&d.value, d.kind) {
        (DirectiveValue::Bool(b), Kind::Namespaces) => {
            // The property holds the namespace types that stay ALLOWED.
            let all = NAMESPACE_FLAGS.iter().fold(0, |m, (_, f)| m | f);
            prop(name, Value::from(if *b { 0 } else { all }))
        }
        // ProtectHome=, ProtectSystem=, PrivatePIDs=: the property is a string ("yes", "no",
        // "strict"). PrivateTmp=, PrivateUsers=, ProtectControlGroups=, ProtectHostname=: a
        // boolean, and the word in the string property <Name>Ex (systemd 257; 258 for
        // ProtectHostnameEx), which older systemd does not have: a boolean goes in the old one.
        (DirectiveValue::Bool(b), Kind::BoolOrWord(modes)) => match modes.bus {
            BoolBus::String => prop(name, Value::from(if *b { "yes" } else { "no" })),
            BoolBus::BoolAndEx => prop(name, Value::from(*b)),
        },
        (DirectiveValue::Word(w), Kind::BoolOrWord(modes)) => match modes.bus {
            BoolBus::String => prop(name, Value::from(w.clone())),
            BoolBus::BoolAndEx => prop(&format!("{name}Ex"), Value::from(w.clone())),
        },
        (DirectiveValue::Bool(b), _) => prop(name, Value::from(*b)),
        (DirectiveValue::Word(w), Kind::AddressFamilies) if w == "none" => {
            prop(name, Value::from((true, Vec::<String>::new())))
        }
        // SELinuxContext=, AppArmorProfile=: `(bs)`, "ignore if it cannot be applied" (the
        // unit file's "-" prefix) and the label (org.freedesktop.systemd1(5)).
        (DirectiveValue::Text(s), Kind::SecurityLabel) => {
            let (ignore, label) = match s.strip_prefix('-') {
                Some(label) => (true, label),
                None => (false, s.as_str()),
            };
            prop(name, Value::from((ignore, label.to_owned())))
        }
        (DirectiveValue::Word(s) | DirectiveValue::Text(s), _) => {
            prop(name, Value::from(s.clone()))
        }
        (DirectiveValue::Integer(n), _) => prop(name, Value::from(*n)),
        (DirectiveValue::Size(size), _) => match size.amount {
            Amount::Value(n) => prop(name, Value::from(n)),
            Amount::Infinity => prop(name, Value::from(u64::MAX)),
            Amount::Percent(p) => {
                // UINT32_SCALE_FROM_PERCENT in systemd's percent-util.h.
                let scaled = (u64::from(p) * u64::from(u32::MAX) / 100) as u32;
                prop(&format!("{name}Scale"), Value::from(scaled))
            }
        },
        (DirectiveValue::Percent(p), _) => prop("CPUQuotaPerSecUSec", Value::from(p * 10_000)),
        (DirectiveValue::CpuSet(set), _) => prop(name, Value::from(set.mask())),
        (DirectiveValue::TimeSpan(span), _) => {
            let property = name
                .strip_suffix("Sec")
                .map_or_else(|| name.to_owned(), |k| format!("{k}USec"));
            prop(&property, Value::from(span.usec))
        }
        (DirectiveValue::UMask(mask), _) => prop(name, Value::from(*mask)),
        (DirectiveValue::Errno(e), _) => prop(name, Value::from(e.number)),
        (DirectiveValue::Command(argv), _) => {
            // systemd substitutes $VAR in every command's argv when it runs it, whether
            // the command came from a unit file or over the bus; `$$` is a literal `$`
            // (what systemd-run --expand-environment=no sends). Specifiers are not
            // expanded in properties, so `%` stays as it is.
            let argv: Vec<String> = argv.iter().map(|a| a.replace('$', "$$")).collect();
            let program = argv.first().cloned().unwrap_or_default();
            prop(name, Value::from(vec![(program, argv, false)]))
        }
        (DirectiveValue::Environment { .. } | DirectiveValue::DeviceLimit { .. }, _) => Ok(None),
        // `a(iayu)`: address family (AF_INET 2, AF_INET6 10), address bytes, prefix length
        // (org.freedesktop.systemd1(5), `bus_cgroup_set_property()`).
        (DirectiveValue::IpAddresses(list), _) => {
            let prefixes: Vec<(i32, Vec<u8>, u32)> = list
                .0
                .iter()
                .flat_map(|p| p.prefixes.iter())
                .map(|(address, length)| match address {
                    std::net::IpAddr::V4(a) => (AF_INET, a.octets().to_vec(), u32::from(*length)),
                    std::net::IpAddr::V6(a) => (AF_INET6, a.octets().to_vec(), u32::from(*length)),
                })
                .collect();
            prop(name, Value::from(prefixes))
        }
        (DirectiveValue::Words { words, negated }, kind) => match kind {
            Kind::Paths | Kind::Units | Kind::Architectures => Ok(None),
            Kind::BindPaths => {
                let binds: Vec<(String, String, bool, u64)> = words
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
                prop(name, Value::from(binds))
            }
            Kind::Capabilities => prop(name, Value::from(capabilities::mask(words, *negated))),
            Kind::Syscalls => prop(name, Value::from((!negated, words.clone()))),
            Kind::AddressFamilies => prop(name, Value::from((true, words.clone()))),
            Kind::Namespaces => prop(name, Value::from(namespace_flags(words))),
            Kind::SecureBits => {
                let bits = words
                    .iter()
                    .filter_map(|w| SECURE_BITS.iter().find(|(n, _)| n == w).map(|(_, b)| *b))
                    .fold(0, |m, b| m | b);
                prop(name, Value::from(bits))
            }
            _ => Err(bad("is a list where systemd takes another kind of value")),
        },
    }
}

/// The `CLONE_NEW*` flags of the namespace types in `allowed`.
fn namespace_flags(allowed: &[String]) -> u64 {
    allowed
        .iter()
        .filter_map(|w| {
            NAMESPACE_FLAGS
                .iter()
                .find(|(n, _)| n == w)
                .map(|(_, f)| *f)
        })
        .fold(0, |m, f| m | f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directive::Name;

    fn directive(name: Name, kind: Kind, value: DirectiveValue) -> Directive {
        Directive {
            section: UnitSection::Service,
            name,
            value,
            kind,
            origin: "test".into(),
        }
    }

    /// The D-Bus signature of the property a directive becomes.
    fn signature(d: &Directive) -> String {
        let (props, skipped) = transient_properties(std::slice::from_ref(d));
        assert!(skipped.is_empty(), "{skipped:?}");
        props[0].value.value_signature().to_string()
    }

    #[test]
    fn properties_have_the_types_systemd_declares() {
        // ProtectHome= and ProtectSystem= are strings on the bus even when the policy says
        // `true` (systemd refuses a boolean: "Unexpected message contents").
        let kind = |key: &str| {
            crate::directive::table::find("filesystem", key)
                .expect(key)
                .kind
        };
        let home = directive(
            Name::ProtectHome,
            kind("protect_home"),
            DirectiveValue::Bool(true),
        );
        assert_eq!(signature(&home), "s");
        let tmp = directive(
            Name::PrivateTmp,
            kind("private_tmp"),
            DirectiveValue::Bool(true),
        );
        assert_eq!(signature(&tmp), "b");
        let cpus = directive(
            Name::AllowedCPUs,
            Kind::CpuSet,
            DirectiveValue::CpuSet(crate::directive::CpuSet::parse("0-1,9").expect("cpus")),
        );
        assert_eq!(signature(&cpus), "ay");
        let caps = directive(
            Name::CapabilityBoundingSet,
            Kind::Capabilities,
            DirectiveValue::Words {
                words: vec![],
                negated: false,
            },
        );
        assert_eq!(signature(&caps), "t");
        let errno = directive(
            Name::SystemCallErrorNumber,
            Kind::Errno,
            DirectiveValue::Errno(crate::directive::Errno {
                text: "EPERM".into(),
                number: 1,
            }),
        );
        assert_eq!(signature(&errno), "i");
        for (label, ignore) in [("-sandgen-demo", true), ("sandgen-demo", false)] {
            let profile = directive(
                Name::AppArmorProfile,
                Kind::SecurityLabel,
                DirectiveValue::Text(label.into()),
            );
            assert_eq!(signature(&profile), "(bs)");
            let got = property(&profile).expect("a property").expect("one");
            assert_eq!(got.name, "AppArmorProfile");
            assert_eq!(
                got.value,
                owned(Value::from((ignore, "sandgen-demo".to_owned())))
            );
        }
    }

    /// The properties of `policy` (a `[namespaces]`/`[filesystem]` snippet) lowered for
    /// systemd `target`, as name and D-Bus text.
    fn lowered(policy: &str, target: u32) -> Vec<(String, String)> {
        let text = format!("[service]\nexec = [\"/bin/true\"]\n{policy}");
        let loaded = crate::load_policy_text("p.toml", &text, target).expect("a valid policy");
        let (props, skipped) = transient_properties(&loaded.directives);
        assert!(skipped.is_empty(), "{skipped:?}");
        props
            .into_iter()
            .filter(|p| p.name != "ExecStart")
            .map(|p| (p.name, format!("{:?}", Value::from(p.value))))
            .collect()
    }

    #[test]
    fn io_limits_and_ip_prefixes_travel_as_arrays() {
        let text = "[service]\nexec = [\"/bin/true\"]\n[resources]\n\
                    io_read_bandwidth_max = { \"/dev/vda\" = \"10M\", \"/dev/vdb\" = \"1K\" }\n\
                    io_write_iops_max = { \"/dev/vda\" = 500 }\n\
                    [network]\nip_address_allow = [\"localhost\", \"10.1.0.0/16\"]\n";
        let loaded = crate::load_policy_text("p.toml", text, 252).expect("a valid policy");
        let (props, skipped) = transient_properties(&loaded.directives);
        assert!(skipped.is_empty(), "{skipped:?}");
        let find = |name: &str| {
            let p = props.iter().find(|p| p.name == name).expect(name);
            (
                p.value.value_signature().to_string(),
                format!("{:?}", Value::from(p.value.try_clone().expect("no fds"))),
            )
        };
        let (sig, read) = find("IOReadBandwidthMax");
        assert_eq!(sig, "a(st)");
        assert!(
            read.contains("\"/dev/vda\"") && read.contains("10000000") && read.contains("1000"),
            "{read}"
        );
        assert_eq!(find("IOWriteIOPSMax").0, "a(st)");
        let (sig, allow) = find("IPAddressAllow");
        assert_eq!(sig, "a(iayu)");
        // localhost is 127.0.0.0/8 and ::1/128; then 10.1.0.0/16.
        for part in [
            "U8(127), U8(0), U8(0), U8(0)",
            "U32(8)",
            "U32(128)",
            "U8(10), U8(1), U8(0), U8(0)",
            "U32(16)",
            "I32(10)",
            "I32(2)",
        ] {
            assert!(allow.contains(part), "{part} in {allow}");
        }
    }

    #[test]
    fn modes_travel_as_systemd_declares_them() {
        // systemd 257 declares PrivatePIDs as "s" (a boolean is refused: "Unexpected
        // message contents"), and the modes of the old booleans in <Name>Ex properties.
        assert_eq!(
            lowered("[namespaces]\nprivate_pids = true\n", 257),
            [("PrivatePIDs".to_owned(), "Str(\"yes\")".to_owned())]
        );
        assert_eq!(
            lowered(
                "[filesystem]\nprotect_control_groups = \"strict\"\nprivate_tmp = \"disconnected\"\n[namespaces]\nprivate_users = \"identity\"\n",
                257
            ),
            [
                ("PrivateTmpEx".to_owned(), "Str(\"disconnected\")".to_owned()),
                ("ProtectControlGroupsEx".to_owned(), "Str(\"strict\")".to_owned()),
                ("PrivateUsersEx".to_owned(), "Str(\"identity\")".to_owned()),
            ]
        );
        // Written as an older form for an older systemd: the property is what the unit
        // file says, the boolean that systemd 252 has.
        assert_eq!(
            lowered(
                "[filesystem]\nprivate_tmp = \"disconnected\"\n[namespaces]\nprivate_users = \"full\"\nprotect_hostname = \"private\"\n",
                252
            ),
            [
                ("PrivateTmp".to_owned(), "Bool(true)".to_owned()),
                ("PrivateUsers".to_owned(), "Bool(true)".to_owned()),
                ("ProtectHostname".to_owned(), "Bool(true)".to_owned()),
            ]
        );
        assert_eq!(
            lowered("[namespaces]\nprivate_users = \"full\"\n", 257),
            [("PrivateUsersEx".to_owned(), "Str(\"identity\")".to_owned())]
        );
        assert_eq!(
            lowered(
                "[resources]\nmemory_zswap_max = \"16M\"\nmemory_zswap_writeback = false\n",
                257
            ),
            [
                ("MemoryZSwapMax".to_owned(), "U64(16777216)".to_owned()),
                ("MemoryZSwapWriteback".to_owned(), "Bool(false)".to_owned()),
            ]
        );
    }
}
