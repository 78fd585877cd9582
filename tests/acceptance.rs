//! What sandgen accepts, on generated policies with adversarial and hostile strings in every
//! key of the directive table (`sandgen::directive::table::SPECS`, so a new key is covered
//! as soon as it exists, and a new kind of value does not compile here until it has a
//! generator):
//!
//! * `check` accepts exactly what `render` writes: a policy that validates always renders,
//!   and a refused policy is refused by both with the same diagnostics, so no value reaches
//!   the escaper that it cannot write.
//! * Every rendered unit loads in systemd without a word: `systemd-analyze verify` (the
//!   host's systemd 252) prints nothing on stderr for any of them. This is the README's
//!   promise; `systemd-analyze verify` exits 0 on warnings, so any stderr output fails.
//!
//! The generators mix three sorts of value per key: valid ones chosen to be awkward (quotes,
//! `%`, `$`, backslashes and non-ASCII inside paths and arguments, numbers at the edge of
//! their range), values systemd refuses or ignores (measured with `systemd-analyze verify`,
//! see tests/cli.rs), and arbitrary strings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)] // a failed assumption in a test is a failed test

#[path = "support/toml_text.rs"]
mod toml_text;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sandgen::data::{address_families, architectures, capabilities, errno, syscalls};
use sandgen::directive::table::{SPECS, TABLES};
use sandgen::directive::{DirectiveValue, Kind, Mode, Older, Spec};
use sandgen::policy::Value;
use toml_text::toml_string;

/// The systemd the units are rendered for and verified with: the host's (Debian 12).
const TARGET: u32 = 252;

// ---------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------

/// Fragments that break line-based, quoted, specifier- and variable-expanding formats, and
/// characters systemd refuses.
#[rustfmt::skip]
const FRAGMENTS: &[&str] = &[
    " ", "  ", "\t", "\"", "'", "\\", "\\\\", ";", "$", "$$", "${X}", "$HOME", "%", "%h",
    "%%", "%n", "#", "=", "[Service]", "\n", "\r", "\0", "\x1b", "\u{85}", "\u{a0}",
    "\u{2028}", "\u{feff}", "\u{3000}", "é", "日本", "😀", ":", "-", "@", "+", "!", "~", "/",
    ".", "..", "\\n", "\\x41", "`", "*", "&", "|", "\u{fffe}", "\u{ffff}", "\u{fdd0}",
    "\u{1fffe}", "\u{10ffff}", "\u{fffd}", "0", "08", "1", "a", "b c", "ExecStartPre=/bin/sh",
];

/// Whether a unit file can hold `c` at all.
fn writable(c: char) -> bool {
    let n = u32::from(c);
    !(c.is_control() || (0xFDD0..=0xFDEF).contains(&n) || n & 0xFFFE == 0xFFFE)
}

fn piece() -> BoxedStrategy<String> {
    prop_oneof![
        30 => prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
        15 => "[a-z]{1,6}",
        5 => any::<char>().prop_map(String::from),
        1 => prop::sample::select(&[100usize, 255, 256, 1000][..]).prop_map(|n| "x".repeat(n)),
    ]
    .boxed()
}

/// Anything.
fn hostile() -> BoxedStrategy<String> {
    prop::collection::vec(piece(), 0..6)
        .prop_map(|v| v.concat())
        .boxed()
}

/// Anything a unit file can hold: odd, but mostly valid as free text.
fn awkward() -> BoxedStrategy<String> {
    hostile()
        .prop_map(|s| s.chars().filter(|c| writable(*c)).collect())
        .boxed()
}

/// A path component: awkward text without `/`, never empty, `.` or `..`; rarely too long.
fn component() -> BoxedStrategy<String> {
    prop_oneof![
        20 => awkward().prop_map(|s| {
            let s: String = s.chars().filter(|c| *c != '/' && *c != ':').collect();
            if s.is_empty() || s == "." || s == ".." { "c".to_owned() } else { s }
        }),
        1 => Just("n".repeat(255)),
        1 => Just("n".repeat(256)),
    ]
    .boxed()
}

/// A normalised absolute path of exactly `n` bytes.
fn long_path(n: usize) -> String {
    let mut p: String = "/p".repeat(n / 2 + 1).chars().take(n).collect();
    if p.ends_with('/') {
        p.pop();
        p.push('q');
    }
    p
}

/// An absolute, normalised path of awkward components; rarely 4095 or 4096 bytes long.
fn path() -> BoxedStrategy<String> {
    prop_oneof![
        30 => prop::collection::vec(component(), 1..4).prop_map(|v| format!("/{}", v.join("/"))),
        1 => Just(long_path(4095)),
        1 => Just(long_path(4096)),
        1 => Just("/".to_owned()),
    ]
    .boxed()
}

/// `-` before a path sometimes ("ignore if missing").
fn maybe_dash(p: BoxedStrategy<String>) -> BoxedStrategy<String> {
    (prop::bool::weighted(0.3), p)
        .prop_map(|(dash, p)| if dash { format!("-{p}") } else { p })
        .boxed()
}

/// Awkward text, or anything `hostility` times in 20.
fn text(hostility: u32) -> BoxedStrategy<String> {
    prop_oneof![20 => awkward(), hostility => hostile()].boxed()
}

/// A valid choice from `valid` (as TOML text), or a hostile one, or a hostile string.
fn pick(valid: Vec<String>, refused: Vec<String>, hostility: u32) -> BoxedStrategy<String> {
    let valid = prop::sample::select(valid);
    let refused = prop::sample::select(refused);
    prop_oneof![
        20 => valid,
        hostility => refused,
        hostility => hostile().prop_map(|s| toml_string(&s)),
    ]
    .boxed()
}

fn quoted(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| toml_string(s)).collect()
}

fn raw(items: &[&str]) -> Vec<String> {
    items.iter().map(std::string::ToString::to_string).collect()
}

fn array(items: Vec<String>) -> String {
    format!("[{}]", items.join(", "))
}

/// A TOML array of distinct items, each valid from `good` or, `hostility` in 20, from `bad`.
fn list(
    good: BoxedStrategy<String>,
    bad: BoxedStrategy<String>,
    sizes: std::ops::Range<usize>,
    hostility: u32,
) -> BoxedStrategy<String> {
    let item = prop_oneof![20 => good, hostility => bad];
    prop::collection::vec(item, sizes)
        .prop_map(|items| {
            let mut seen = BTreeSet::new();
            let items: Vec<String> = items
                .into_iter()
                .filter(|i| seen.insert(i.clone()))
                .collect();
            array(items.iter().map(|i| toml_string(i)).collect())
        })
        .boxed()
}

fn names(items: &[&str]) -> BoxedStrategy<String> {
    prop::sample::select(raw(items)).boxed()
}

// ---------------------------------------------------------------------------------------
// A value for every kind of key
// ---------------------------------------------------------------------------------------

/// Where generated programs live: `exec[0]` is sometimes a file there with an awkward name,
/// created before systemd-analyze runs.
struct Programs(String);

/// Unit names; `suffixes` are the unit types to use.
fn unit_names(suffixes: &'static [&'static str], hostility: u32) -> BoxedStrategy<String> {
    let stem = prop::collection::vec(
        prop::sample::select(&["a", "Z", "0", ":", "-", "_", ".", "\\x2d", "\\x20", "foo"][..]),
        0..4,
    )
    .prop_map(|v| v.concat());
    let instance = prop::option::of("[a-z0-9]{1,3}");
    let good = (stem, instance, prop::sample::select(suffixes))
        .prop_map(|(p, i, s)| match i {
            Some(i) => format!("u{p}@{i}.{s}"),
            None => format!("u{p}.{s}"),
        })
        .boxed();
    let bad = prop_oneof![
        names(&[
            "a b.service",
            "a",
            "x.socket\"",
            "@a.service",
            "a@b@c.service",
            "ü.service"
        ]),
        Just(format!("{}.service", "a".repeat(250))),
        hostile(),
    ]
    .boxed();
    list(good, bad, 0..3, hostility)
}

/// The TOML value of one key: valid and awkward mostly, refused `hostility` times in 20.
fn value_for(spec: &'static Spec, programs: &Programs, hostility: u32) -> BoxedStrategy<String> {
    let h = hostility;
    match spec.kind {
        Kind::Bool => pick(raw(&["true", "false"]), quoted(&["yes", "true"]), h),
        Kind::BoolOrWord(modes) => {
            // A mode newer than the target is written as an older form where one is as
            // strict (valid), and refused otherwise.
            let (known, newer): (Vec<&Mode>, Vec<&Mode>) = modes
                .modes
                .iter()
                .partition(|m| m.since <= TARGET || !matches!(m.older, Older::Refuse(_)));
            let mut valid = raw(&["true", "false"]);
            valid.extend(quoted(&known.iter().map(|m| m.word).collect::<Vec<_>>()));
            let mut refused = quoted(&["yes", "Read-Only", " tmpfs"]);
            refused.extend(quoted(&newer.iter().map(|m| m.word).collect::<Vec<_>>()));
            pick(valid, refused, h)
        }
        Kind::Word(words) => pick(
            quoted(words),
            quoted(&["dbus", "Simple", " always", "on-failure "]),
            h,
        ),
        Kind::Text => prop_oneof![
            20 => awkward().prop_map(|s| {
                let s = s.trim_matches(' ').trim_end_matches('\\').trim_end_matches(' ');
                toml_string(if s.is_empty() { "d" } else { s })
            }),
            1 => Just(toml_string(&"d".repeat(65_000))),
            h => hostile().prop_map(|s| toml_string(&s)),
            1 => Just(toml_string(&"d".repeat(70_000))),
        ]
        .boxed(),
        Kind::SecurityLabel => pick(
            quoted(&[
                "sandgen-demo",
                "-sandgen-demo",
                "system_u:system_r:httpd_t:s0",
                "/usr/bin/man",
                "a%b",
            ]),
            quoted(&["", "-", "a b", "--x", " lead", "trail "]),
            h,
        ),
        Kind::UserName => pick(
            quoted(&[
                "root",
                "nobody",
                "www-data",
                "_apt",
                "a-b_c",
                "0",
                "65534",
                "4294967294",
                "abcdefghijabcdefghijabcdefghij1",
            ]),
            quoted(&[
                "65535",
                "007",
                "4294967295",
                "-rf",
                "a b",
                "",
                "abcdefghijabcdefghijabcdefghij12",
                "ünï",
            ]),
            h,
        ),
        Kind::Size { .. } => pick(
            [
                quoted(&[
                    "64M",
                    "1.5G",
                    "1",
                    "100%",
                    "1%",
                    "15E",
                    "infinity",
                    "18446744073709551614",
                    "0.5K",
                    "1.9999999999999999999K",
                ]),
                raw(&["1", "4096", "9223372036854775807"]),
            ]
            .concat(),
            [
                quoted(&[
                    "0",
                    "0.1",
                    "0%",
                    "101%",
                    "15.9E",
                    "16E",
                    "08%",
                    "050%",
                    "18446744073709551615",
                    "1.99999999999999999999K",
                    "100MB",
                    "1 G",
                    "-1",
                    "lots",
                    " 1M",
                ]),
                raw(&["0", "-1"]),
            ]
            .concat(),
            h,
        ),
        Kind::Integer { min, max } => pick(
            vec![
                min.to_string(),
                max.to_string(),
                ((min + max) / 2).to_string(),
            ],
            vec![
                min.saturating_sub(1).to_string(),
                (max + 1).to_string(),
                toml_string(&min.to_string()),
                "-1".into(),
            ],
            h,
        ),
        Kind::TasksMax => pick(
            [
                raw(&["1", "4096", "9223372036854775807"]),
                quoted(&["infinity", "50%", "100%", "1%"]),
            ]
            .concat(),
            [
                raw(&["0", "-1"]),
                quoted(&["0%", "101%", "050%", "08%", "lots", "18446744073709551615"]),
            ]
            .concat(),
            h,
        ),
        Kind::Percent => pick(
            quoted(&["20%", "200%", "1%", "21474836%"]),
            [
                quoted(&[
                    "0%",
                    "21474837%",
                    "08%",
                    "050%",
                    "20",
                    "20 %",
                    " 20%",
                    "99999999999999999999%",
                ]),
                raw(&["20"]),
            ]
            .concat(),
            h,
        ),
        Kind::CpuSet => pick(
            quoted(&["0", "0-1", "0,1", "0-1,3", "8191", "0-8191", "10"]),
            quoted(&[
                "08", "010", "8192", "1-0", "0,,1", "", " 0", "0 ", "a", "0x1", "0-",
            ]),
            h,
        ),
        Kind::Duration => pick(
            [
                quoted(&[
                    "90s",
                    "5min",
                    "1h 30min",
                    " 5s",
                    "5 s",
                    ".5s",
                    "+5s",
                    "5s5min",
                    "infinity",
                    "0",
                    "18446744073708",
                    "584541y 4w",
                    "1.12345678901234567890s",
                    "5\u{b5}s",
                    "5\u{3bc}s",
                    "100ms",
                ]),
                raw(&["0", "18446744073708"]),
            ]
            .concat(),
            [
                quoted(&[
                    "\u{a0}5s",
                    "99999999999999999999999s",
                    "5.",
                    "1e3s",
                    "-5s",
                    "5ss",
                    "584542y",
                    "18446744073709",
                    "infinity s",
                    "5 parsecs",
                    "",
                    "5\u{2003}s",
                ]),
                raw(&["18446744073709", "9223372036854775807"]),
            ]
            .concat(),
            h,
        ),
        Kind::Path => prop_oneof![
            20 => path().prop_map(|p| toml_string(&p)),
            h => prop_oneof![
                path().prop_map(|p| toml_string(&format!("{p} "))),
                path().prop_map(|p| toml_string(&format!("{p}\\"))),
                path().prop_map(|p| toml_string(&format!("{p}/"))),
                awkward().prop_map(|s| toml_string(&s)),
                hostile().prop_map(|s| toml_string(&format!("/{s}"))),
            ],
        ]
        .boxed(),
        Kind::WorkingDirectory => prop_oneof![
            20 => maybe_dash(path()).prop_map(|p| toml_string(&p)),
            2 => Just(toml_string("~")),
            h => prop_oneof![
                path().prop_map(|p| toml_string(&format!("{p} "))),
                path().prop_map(|p| toml_string(&format!("-{p}\\"))),
                Just(toml_string("-~")),
                hostile().prop_map(|s| toml_string(&format!("/{s}"))),
            ],
        ]
        .boxed(),
        Kind::Paths => list(
            maybe_dash(path()),
            prop_oneof![
                hostile(),
                hostile().prop_map(|s| format!("/{s}")),
                path().prop_map(|p| format!("{p}/."))
            ]
            .boxed(),
            0..4,
            h,
        ),
        Kind::BindPaths => {
            let field = || path().prop_map(|p| p.replace(':', "_"));
            let good = (
                maybe_dash(field().boxed()),
                prop::option::of(field()),
                prop::option::of(prop::sample::select(&["rbind", "norbind"][..])),
            )
                .prop_map(|(s, d, o)| match (d, o) {
                    (Some(d), Some(o)) => format!("{s}:{d}:{o}"),
                    (Some(d), None) => format!("{s}:{d}"),
                    (None, _) => s,
                })
                .boxed();
            let bad = prop_oneof![
                (field(), field()).prop_map(|(s, d)| format!("{s}:{d}:bogus")),
                (field(), awkward()).prop_map(|(s, d)| format!("{s}:{d}")),
                hostile(),
            ]
            .boxed();
            list(good, bad, 0..4, h)
        }
        Kind::Units => match spec.key {
            // systemd-analyze verify needs a required unit to exist: stubs are written for
            // services and targets; devices and slices need none.
            "requires" => unit_names(&["service", "target", "device", "slice"], h),
            "wanted_by" => unit_names(&["target"], h),
            _ => unit_names(
                &[
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
                ],
                h,
            ),
        },
        Kind::Command => {
            let dir = programs.0.clone();
            let program = prop_oneof![
                4 => names(&["/bin/true", "/usr/bin/env", "/bin/sh"]),
                // systemd takes no quote, backslash or `$` in a program path; `.` and `..`
                // would name a directory.
                4 => component().prop_map(move |c| {
                    let c: String = c.chars().filter(|c| !"\"'\\$".contains(*c)).collect();
                    let c = if c.is_empty() || c == "." || c == ".." { "p" } else { &c };
                    format!("{dir}/{c}")
                }),
                h => prop_oneof![
                    names(&["true", "/bin/", "/opt/a$b/run", "/opt/it's", "/opt/a\\b", "", "-/bin/true"]),
                    hostile(),
                ],
            ];
            (program, prop::collection::vec(text(h), 0..5))
                .prop_map(|(p, args)| {
                    array(
                        std::iter::once(p)
                            .chain(args)
                            .map(|a| toml_string(&a))
                            .collect(),
                    )
                })
                .boxed()
        }
        Kind::Environment => {
            let name = prop_oneof![
                20 => "[A-Z_][A-Z0-9_]{0,6}",
                h => prop_oneof![names(&["1A", "A-B", "A B", "", "É"]), hostile()],
            ];
            prop::collection::vec((name, text(h)), 0..4)
                .prop_map(|vars| {
                    let mut seen = BTreeSet::new();
                    let vars: Vec<String> = vars
                        .into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .map(|(k, v)| format!("{} = {}", toml_string(&k), toml_string(&v)))
                        .collect();
                    format!("{{ {} }}", vars.join(", "))
                })
                .boxed()
        }
        Kind::DeviceLimits { bandwidth } => {
            let rate = if bandwidth {
                pick(
                    [
                        quoted(&["10M", "1.5K", "1", "2G", "4T", "0.5M"]),
                        raw(&["1", "4096"]),
                    ]
                    .concat(),
                    [
                        quoted(&["0", "1.5", "10Q", "-1", "10 M", "infinity"]),
                        raw(&["0"]),
                    ]
                    .concat(),
                    h,
                )
            } else {
                pick(
                    raw(&["1", "500", "18446744073709551614"]),
                    [
                        quoted(&["500", "1K"]),
                        raw(&["0", "-1", "1.5", "18446744073709551615"]),
                    ]
                    .concat(),
                    h,
                )
            };
            let device = prop_oneof![
                20 => prop_oneof![names(&["/dev/vda", "/dev/sda1", "/var/tmp", "/"]), path()],
                h => prop_oneof![names(&["dev/vda", "/dev/../vda", ""]), hostile()],
            ];
            prop::collection::vec((device, rate), 0..3)
                .prop_map(|limits| {
                    let mut seen = BTreeSet::new();
                    let limits: Vec<String> = limits
                        .into_iter()
                        .filter(|(k, _)| seen.insert(k.clone()))
                        .map(|(k, v)| format!("{} = {v}", toml_string(&k)))
                        .collect();
                    format!("{{ {} }}", limits.join(", "))
                })
                .boxed()
        }
        Kind::IpAddresses => list(
            names(&[
                "any",
                "localhost",
                "link-local",
                "multicast",
                "127.0.0.1",
                "10.0.0.0/8",
                "::1",
                "fe80::/64",
                "192.168.1.7/24",
                "::/0",
            ]),
            prop_oneof![
                names(&[
                    "localhots",
                    "10.0.0.0/33",
                    "::1/129",
                    "1.2.3",
                    "10.0.0.0/",
                    "/8"
                ]),
                hostile()
            ]
            .boxed(),
            0..4,
            h,
        ),
        Kind::Capabilities => list(
            names(capabilities::CAPABILITIES),
            prop_oneof![names(&["cap_chown", "NET_ADMIN", "CAP_FOO", ""]), hostile()].boxed(),
            0..4,
            h,
        ),
        Kind::Syscalls => {
            let table = syscalls::SyscallTable::built_in();
            let mut known: Vec<String> = table.groups().map(|g| g.name.clone()).collect();
            known.extend(table.expand("@system-service").into_iter().take(40));
            known.extend(raw(&["read", "write", "openat", "execve", "set_tls"]));
            list(
                prop::sample::select(known).boxed(),
                prop_oneof![
                    names(&["~read", "opn", "@sytem-service", "READ", ""]),
                    hostile()
                ]
                .boxed(),
                1..4,
                h,
            )
        }
        Kind::Errno => {
            let mut valid: Vec<String> = errno::ERRNO.iter().map(|(n, _)| toml_string(n)).collect();
            valid.extend(raw(&["1", "4095"]));
            pick(
                valid,
                [quoted(&["eperm", "EPREM", "", "1"]), raw(&["0", "4096"])].concat(),
                h,
            )
        }
        Kind::Architectures => list(
            names(architectures::ARCHITECTURES),
            prop_oneof![names(&["amd64", "", "Native"]), hostile()].boxed(),
            1..3,
            h,
        ),
        Kind::AddressFamilies => list(
            names(address_families::ADDRESS_FAMILIES),
            prop_oneof![names(&["inet", "AF_FOO", ""]), hostile()].boxed(),
            0..4,
            h,
        ),
        Kind::Namespaces => prop_oneof![
            2 => any::<bool>().prop_map(|b| b.to_string()),
            3 => list(
                names(&["cgroup", "ipc", "net", "mnt", "pid", "user", "uts"]),
                prop_oneof![names(&["network", "CGROUP"]), hostile()].boxed(),
                0..4,
                h,
            ),
        ]
        .boxed(),
        Kind::SecureBits => list(
            names(&[
                "keep-caps",
                "keep-caps-locked",
                "no-setuid-fixup",
                "no-setuid-fixup-locked",
                "noroot",
                "noroot-locked",
            ]),
            prop_oneof![names(&["keep_caps", "noroot-lock"]), hostile()].boxed(),
            0..3,
            h,
        ),
        Kind::UMask => pick(
            [
                quoted(&["0077", "0022", "777", "0000"]),
                raw(&["0o077", "0o777"]),
            ]
            .concat(),
            [
                quoted(&["8", "0o77", "07777", "77777", ""]),
                raw(&["77", "0o1000"]),
            ]
            .concat(),
            h,
        ),
    }
}

/// How often a policy sets each key but `exec`: about eight keys a policy.
const KEY_CHANCE: f64 = 0.12;

/// A whole policy: `exec` always, every other key of the table sometimes, and sometimes a
/// `service.name`; as TOML text.
fn policy(programs: &Programs, hostility: u32) -> BoxedStrategy<String> {
    let values: Vec<BoxedStrategy<Option<String>>> = SPECS
        .iter()
        .map(|spec| {
            let value = value_for(spec, programs, hostility);
            if spec.table == "service" && spec.key == "exec" {
                value.prop_map(Some).boxed()
            } else if spec.since > TARGET {
                // Refused for the target: as rare as the other refusals.
                prop::option::weighted(KEY_CHANCE * f64::from(hostility) / 20.0, value).boxed()
            } else {
                prop::option::weighted(KEY_CHANCE, value).boxed()
            }
        })
        .collect();
    let name = prop::option::weighted(
        0.15,
        prop_oneof![
            3 => names(&["my-svc", "a\\x2db", "x:y.z", "_u"]),
            1 => names(&["a b", "x.service", "@", "a@b"]),
            1 => hostile(),
        ],
    );
    (values, name)
        .prop_map(|(values, name)| {
            let mut text = String::new();
            for table in TABLES {
                let mut lines: Vec<String> = Vec::new();
                if *table == "service" {
                    if let Some(n) = &name {
                        lines.push(format!("name = {}", toml_string(n)));
                    }
                }
                for (spec, value) in SPECS.iter().zip(&values) {
                    if spec.table == *table {
                        if let Some(v) = value {
                            lines.push(format!("{} = {v}", spec.key));
                        }
                    }
                }
                if !lines.is_empty() {
                    text += &format!("[{table}]\n{}\n\n", lines.join("\n"));
                }
            }
            text
        })
        .boxed()
}

fn config(cases: u32) -> Config {
    Config {
        failure_persistence: None,
        ..Config::with_cases(cases)
    }
}

// ---------------------------------------------------------------------------------------
// check == render
// ---------------------------------------------------------------------------------------

/// Every diagnostic as `file:line:col: message`.
fn located(e: &sandgen::Error) -> Vec<String> {
    match e {
        sandgen::Error::Policy(d) => {
            d.0.iter()
                .map(|d| format!("{}:{}:{}: {}", d.file, d.line, d.col, d.message))
                .collect()
        }
        other => vec![format!("(not located) {other}")],
    }
}

/// How many generated policies `check` accepts exactly when `render` does: a few thousand,
/// about a second per thousand in a debug build.
const CORPUS_CASES: u32 = 3000;

#[test]
fn check_accepts_exactly_what_render_writes() {
    let programs = Programs("/opt/prog dir".to_owned());
    let mut runner = TestRunner::new(config(CORPUS_CASES));
    let accepted = std::cell::Cell::new(0u32);
    let result = runner.run(&policy(&programs, 2), |text| {
        let name = "corpus.toml";
        let checked = sandgen::check_policy_text(name, &text, TARGET);
        let rendered = sandgen::render_policy_text(name, &text, TARGET);
        match (checked, rendered) {
            (Ok(_), Ok(_)) => accepted.set(accepted.get() + 1),
            (Err(c), Err(r)) => {
                let (c, r) = (located(&c), located(&r));
                prop_assert!(
                    !c.iter().any(|m| m.contains("invalid TOML")),
                    "the generator wrote invalid TOML: {c:?}\n{text}"
                );
                prop_assert_eq!(c, r, "check and render refuse differently:\n{}", text);
            }
            (Ok(_), Err(r)) => {
                return Err(TestCaseError::fail(format!(
                    "check accepted, render refused: {:?}\n{text}",
                    located(&r)
                )))
            }
            (Err(c), Ok(_)) => {
                return Err(TestCaseError::fail(format!(
                    "check refused, render wrote a unit: {:?}\n{text}",
                    located(&c)
                )))
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Both outcomes must be common, or the property says little.
    let accepted = accepted.get();
    eprintln!("check == render: {accepted} of {CORPUS_CASES} generated policies accepted");
    assert!(
        (CORPUS_CASES / 20..CORPUS_CASES * 19 / 20).contains(&accepted),
        "{accepted} of {CORPUS_CASES} accepted: the generator is too tame or too wild"
    );
}

// ---------------------------------------------------------------------------------------
// systemd loads every render without a word
// ---------------------------------------------------------------------------------------

/// Policies generated for systemd-analyze, and how many go to one `systemd-analyze verify`
/// (about a third render; verify takes about 0.4 s per hundred units).
const SYSTEMD_CASES: usize = 600;
const BATCH: usize = 150;

/// `systemd-analyze verify` on `args` (unit files, or `FILE:NAME` aliases): its stderr,
/// empty when systemd had nothing to say.
fn verify(args: &[String]) -> String {
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--generators=no"])
        .args(args)
        .output()
        .expect("systemd-analyze must be installed (Debian package systemd): scripts/test.sh installs it");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A unit systemd-analyze can load as a dependency named `name`.
fn stub(name: &str) -> &'static str {
    if name.ends_with(".service") {
        "[Service]\nExecStart=/bin/true\n"
    } else {
        "[Unit]\n"
    }
}

/// A rendered unit in a batch directory.
struct Written {
    /// The policy it was rendered from.
    policy: String,
    /// The unit file.
    file: PathBuf,
    /// How to name it to systemd-analyze verify.
    arg: String,
}

/// Render `policy` and write its unit into `dir` with the program it runs (a link to
/// /bin/true when it is in `programs`). `None` when sandgen refuses it, its unit name is
/// taken, or its program is elsewhere and missing.
///
/// systemd-analyze verify reads `FILE:NAME` as "FILE, loaded as NAME" (`process_aliases()`),
/// so a unit whose name has a `:` (valid, systemd.unit(5)) is written under another file
/// name and named with that syntax.
fn write_unit(dir: &Path, programs: &Path, index: usize, text: &str) -> Option<Written> {
    let source = format!("case{index:04}.toml");
    let unit = sandgen::render_policy_text(&source, text, TARGET).ok()?;
    let (policy, _) = sandgen::check_policy_text(&source, text, TARGET).ok()?;
    let name = policy.unit_name();
    let file = if name.contains(':') {
        dir.join(format!("case{index:04}.unit"))
    } else {
        dir.join(&name)
    };
    if dir.join(&name).exists() || file.exists() {
        return None;
    }
    if let Some(Value::One(DirectiveValue::Command(argv))) =
        policy.get("service", "exec").map(|s| &s.value)
    {
        let program = Path::new(&argv[0]);
        if !program.exists() {
            if program.parent() != Some(programs) {
                return None;
            }
            std::os::unix::fs::symlink("/bin/true", program).expect("create the program");
        }
    }
    std::fs::write(&file, unit).expect("write unit");
    let arg = if name.contains(':') {
        format!("{}:{name}", file.display())
    } else {
        file.display().to_string()
    };
    Some(Written {
        policy: text.to_owned(),
        file,
        arg,
    })
}

/// Write stubs for the required services and targets no file in `dir` provides, and a
/// plain unit (returned) that keeps `dir` on verify's unit search path whatever else is
/// verified with it.
fn write_stubs(dir: &Path, units: &[Written]) -> String {
    for unit in units {
        let text = std::fs::read_to_string(&unit.file).expect("read unit");
        for line in text.lines().filter_map(|l| l.strip_prefix("Requires=")) {
            for name in line
                .split(' ')
                .filter(|n| n.ends_with(".service") || n.ends_with(".target"))
            {
                let path = dir.join(name);
                if !path.exists() {
                    std::fs::write(&path, stub(name)).expect("write stub");
                }
            }
        }
    }
    let anchor = dir.join("verify-anchor.service");
    std::fs::write(&anchor, stub("verify-anchor.service")).expect("write anchor");
    anchor.display().to_string()
}

/// Render each policy that sandgen accepts into `dir`, verify them all with one
/// `systemd-analyze verify` call and, if it said anything, each on its own: how many
/// rendered, and one report per unit systemd said something about.
fn verify_batch(
    dir: &Path,
    programs: &Path,
    first: usize,
    policies: &[String],
) -> (usize, Vec<String>) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let units: Vec<Written> = policies
        .iter()
        .enumerate()
        .filter_map(|(i, text)| write_unit(dir, programs, first + i, text))
        .collect();
    let anchor = write_stubs(dir, &units);
    let args: Vec<String> = units.iter().map(|u| u.arg.clone()).collect();
    let mut complaints = Vec::new();
    if !verify(&[args, vec![anchor.clone()]].concat()).is_empty() {
        for unit in &units {
            let said = verify(&[unit.arg.clone(), anchor.clone()]);
            if !said.is_empty() {
                let text = std::fs::read_to_string(&unit.file).unwrap_or_default();
                complaints.push(format!(
                    "--- policy:\n{}--- unit:\n{text}--- systemd-analyze verify:\n{said}",
                    unit.policy
                ));
            }
        }
    }
    (units.len(), complaints)
}

fn assert_no_complaints(complaints: &[String]) {
    assert!(
        complaints.is_empty(),
        "systemd complained about {} rendered units:\n{}",
        complaints.len(),
        complaints
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn systemd_loads_every_rendered_unit_without_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let programs_dir = dir.path().join("programs");
    std::fs::create_dir(&programs_dir).expect("mkdir");
    let strategy = policy(&Programs(programs_dir.display().to_string()), 1);
    let mut runner = TestRunner::new(config(SYSTEMD_CASES as u32));
    let mut rendered = 0;
    let mut complaints = Vec::new();
    for batch in 0..SYSTEMD_CASES.div_ceil(BATCH) {
        let policies: Vec<String> = (0..BATCH)
            .map(|_| {
                strategy
                    .new_tree(&mut runner)
                    .expect("generate a policy")
                    .current()
            })
            .collect();
        let units_dir = dir.path().join(format!("batch{batch}"));
        let (n, mut said) = verify_batch(&units_dir, &programs_dir, batch * BATCH, &policies);
        rendered += n;
        complaints.append(&mut said);
    }
    eprintln!("systemd-analyze verify: {rendered} of {SYSTEMD_CASES} generated policies rendered and verified");
    assert_no_complaints(&complaints);
    assert!(
        rendered >= SYSTEMD_CASES / 8,
        "only {rendered} of {SYSTEMD_CASES} policies rendered: the generator is too wild"
    );
}

/// Every name sandgen's tables accept (capabilities, address families, architectures,
/// errno names, system call groups and names) and values at the edge of every range load
/// in systemd 252 without a word; each policy must render.
#[test]
fn systemd_loads_every_known_name_and_every_boundary_value() {
    let list =
        |items: &mut dyn Iterator<Item = String>| array(items.map(|i| toml_string(&i)).collect());
    let table = syscalls::SyscallTable::built_in();
    let exec = "[service]\nexec = [\"/bin/true\"]\n";
    let mut policies = vec![
        format!(
            "{exec}[capabilities]\nbounding = {}\nambient = {}\n",
            list(
                &mut capabilities::CAPABILITIES
                    .iter()
                    .map(std::string::ToString::to_string)
            ),
            list(
                &mut capabilities::CAPABILITIES
                    .iter()
                    .map(std::string::ToString::to_string)
            )
        ),
        format!(
            "{exec}[network]\nrestrict_address_families = {}\n",
            list(
                &mut address_families::ADDRESS_FAMILIES
                    .iter()
                    .map(std::string::ToString::to_string)
            )
        ),
        format!(
            "{exec}[seccomp]\narchitectures = {}\n",
            list(
                &mut architectures::ARCHITECTURES
                    .iter()
                    .map(std::string::ToString::to_string)
            )
        ),
        format!(
            "{exec}[seccomp]\nallow = {}\n",
            list(&mut table.groups().map(|g| g.name.clone()))
        ),
        format!(
            "{exec}[seccomp]\ndeny = {}\n",
            list(
                &mut table
                    .expand("@known")
                    .into_iter()
                    .filter(|n| table.is_syscall(n))
            )
        ),
        format!(
            "{exec}[seccomp]\nlog = {}\n",
            list(&mut table.groups().map(|g| g.name.clone()))
        ),
    ];
    policies.extend(errno::ERRNO.iter().map(|(name, _)| {
        format!("{exec}[seccomp]\nallow = [\"@default\"]\nerror_number = \"{name}\"\n")
    }));
    let longest = long_path(4095);
    let widest = format!("/{}/b", "n".repeat(255));
    #[rustfmt::skip]
    policies.extend([
        format!("[service]\ndescription = \"{}\"\nexec = [\"/bin/true\"]\n", "d".repeat(65_000)),
        format!("[service]\nexec = [\"/bin/echo\", {}]\n", (0..30).map(|_| toml_string(&"a%$\\\" ".repeat(200))).collect::<Vec<_>>().join(", ")),
        format!("[service]\nexec = [\"/bin/true\"]\nenvironment = {{ {} }}\n", (0..3).map(|i| format!("V{i} = {}", toml_string(&"x".repeat(32_000)))).collect::<Vec<_>>().join(", ")),
        format!("{exec}working_directory = \"{longest}\"\n[filesystem]\nroot_directory = \"{longest}\"\nread_only_paths = [\"{longest}\", \"-{widest}\"]\nbind_paths = [\"{widest}:{longest}:norbind\"]\ninaccessible_paths = [\"{widest}\"]\n"),
        format!("{exec}timeout_start_sec = \"584541y 4w\"\n"),
        format!("{exec}timeout_start_sec = 18446744073708\n"),
        format!("{exec}timeout_start_sec = \" +5s .5s 1.12345678901234567890s 5\u{b5}s\"\n"),
        format!("{exec}user = \"4294967294\"\ngroup = \"abcdefghijabcdefghijabcdefghij1\"\n"),
        format!("{exec}[resources]\nmemory_max = \"15E\"\nmemory_high = \"18446744073709551614\"\nmemory_low = 0\nmemory_swap_max = \"0.1\"\ntasks_max = 9223372036854775807\n"),
        format!("{exec}[resources]\nmemory_max = \"1.9999999999999999999K\"\nmemory_high = \"100%\"\nmemory_low = \"1%\"\ntasks_max = \"100%\"\n"),
        format!("{exec}[resources]\ncpu_quota = \"21474836%\"\nallowed_cpus = \"0-8191\"\ncpu_affinity = \"8191,0,10\"\ncpu_weight = 10000\nio_weight = 1\n"),
        format!("{exec}[resources]\ncpu_shares = 262144\n"),
        format!("{exec}[resources]\ncpu_shares = 2\nmemory_limit = \"1\"\n"),
        format!("{exec}[install]\nafter = [\"-.slice\", \"a-b-c.slice\", \"u@x.socket\", \"dev-disk-by\\\\x2dlabel-d.device\", \"x.scope\", \"y.swap\", \"z.automount\"]\nbefore = [\"a.timer\", \"u@x.path\"]\nwants = [\"{}.service\"]\n", "w".repeat(247)),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let programs_dir = dir.path().join("programs");
    let (rendered, complaints) =
        verify_batch(&dir.path().join("units"), &programs_dir, 0, &policies);
    assert_no_complaints(&complaints);
    let refused: Vec<String> = policies
        .iter()
        .filter_map(|p| {
            sandgen::render_policy_text("t.toml", p, TARGET)
                .err()
                .map(|e| format!("{e}\n{}", p.chars().take(300).collect::<String>()))
        })
        .collect();
    assert!(refused.is_empty(), "refused:\n{}", refused.join("\n"));
    assert_eq!(rendered, policies.len());
}

/// The verifier catches what this test is about, several units at once: a noncharacter,
/// an overlong path, an instance of a mount unit.
#[test]
fn the_verifier_reports_each_unit_of_a_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let units: Vec<String> = [
        "[Unit]\nDescription=a\u{fffe}b\n[Service]\nExecStart=/bin/true\n".to_owned(),
        format!(
            "[Service]\nExecStart=/bin/true\nInaccessiblePaths=/x/{}\n",
            "a".repeat(256)
        ),
        "[Unit]\nAfter=a@b.mount\n[Service]\nExecStart=/bin/true\n".to_owned(),
        "[Service]\nExecStart=/bin/true\n".to_owned(),
    ]
    .iter()
    .enumerate()
    .map(|(i, text)| {
        let unit = dir.path().join(format!("bad{i}.service"));
        std::fs::write(&unit, text).expect("write");
        unit.display().to_string()
    })
    .collect();
    let said = verify(&units);
    assert!(
        said.contains("bad0.service:2: String is not UTF-8 clean"),
        "{said}"
    );
    assert!(
        said.contains("bad1.service:3: InaccessiblePaths= path has invalid length"),
        "{said}"
    );
    assert!(
        said.contains("bad2.service:2: Failed to add dependency on a@b.mount"),
        "{said}"
    );
    assert!(!said.contains("bad3"), "{said}");
}

/// The system calls sandgen refuses as unresolvable are exactly those in `@known` that
/// systemd 252 ignores in SystemCallFilter=: each is reported, and (above) every other name
/// of `@known` loads without a word.
#[test]
fn the_unresolved_system_calls_are_those_systemd_ignores() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = dir.path().join("unresolved.service");
    std::fs::write(
        &unit,
        format!(
            "[Service]\nExecStart=/bin/true\nSystemCallFilter=~{}\n",
            syscalls::UNRESOLVED_252.join(" ")
        ),
    )
    .expect("write");
    let said = verify(&[unit.display().to_string()]);
    let ignored: BTreeSet<&str> = said
        .lines()
        .filter_map(|l| l.split("Failed to parse system call, ignoring: ").nth(1))
        .collect();
    let listed: BTreeSet<&str> = syscalls::UNRESOLVED_252.iter().copied().collect();
    assert_eq!(ignored, listed, "{said}");
    let table = syscalls::SyscallTable::built_in();
    for name in syscalls::UNRESOLVED_252 {
        assert!(
            table.expand("@known").contains(*name),
            "{name} is not in @known"
        );
        assert!(!table.is_syscall(name), "{name}");
    }
}
