//! Typed directive values: each kind of value parsed once, by the grammar systemd reads it
//! with, into a type that says what it is. Later stages (unit text, D-Bus properties,
//! verify) format and compare these; none parses the text again. Where the unit file writes
//! a value as the policy spelled it (`64M`, `90s`, `0-1`), the type keeps that text too, so
//! rendering does not change it.
//!
//! The grammars are ports of systemd's own parsers (`parse_size()`, `parse_sec()`,
//! `parse_cpu_set()`, `parse_permyriad()`), cited where they are; they return the reason a
//! text is refused, in words for a diagnostic.

use std::collections::BTreeSet;

use crate::diagnostic::shown;

/// A size or a task count (`MemoryMax=`, `TasksMax=`): its text and what it stands for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Size {
    /// As the policy wrote it (`64M`, `10%`, `infinity`, `1024`).
    pub text: String,
    /// What it stands for.
    #[serde(skip)]
    pub amount: Amount,
}

impl Size {
    /// A size in systemd's syntax; `None` when it is not one (validation says why).
    pub fn parse(text: &str) -> Option<Size> {
        amount(text).map(|amount| Size {
            text: text.to_owned(),
            amount,
        })
    }

    /// A plain number (`TasksMax = 512`, `MemoryMax = 1048576`).
    pub fn number(n: u64) -> Size {
        Size {
            text: n.to_string(),
            amount: Amount::Value(n),
        }
    }
}

/// A time span (`TimeoutStartSec=`): its text and its length.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimeSpan {
    /// As the policy wrote it (`90s`, `5min`, `infinity`).
    pub text: String,
    /// Microseconds; `u64::MAX` for `infinity`.
    pub usec: u64,
}

impl TimeSpan {
    /// Parse a time span as systemd's `parse_sec()` does; the error says why not.
    pub fn parse(text: &str) -> Result<TimeSpan, String> {
        duration_usec(text).map(|usec| TimeSpan {
            text: text.to_owned(),
            usec,
        })
    }

    /// Whole seconds (`TimeoutStartSec = 30`).
    pub fn seconds(n: u64) -> TimeSpan {
        TimeSpan {
            text: n.to_string(),
            usec: n.saturating_mul(1_000_000),
        }
    }
}

/// A set of CPUs (`AllowedCPUs=`, `CPUAffinity=`): its text and its members.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CpuSet {
    /// As written (`0-1,3`).
    pub text: String,
    /// The CPU indexes.
    pub cpus: BTreeSet<u32>,
}

impl CpuSet {
    /// Parse a CPU list; the error says why not.
    pub fn parse(text: &str) -> Result<CpuSet, String> {
        cpu_set(text).map(|cpus| CpuSet {
            text: text.to_owned(),
            cpus,
        })
    }

    /// The CPUs as systemd's D-Bus byte mask: bit N of byte N/8 is CPU N.
    pub fn mask(&self) -> Vec<u8> {
        let mut mask = Vec::new();
        for &cpu in &self.cpus {
            let (byte, bit) = ((cpu / 8) as usize, cpu % 8);
            if mask.len() <= byte {
                mask.resize(byte + 1, 0);
            }
            mask[byte] |= 1 << bit;
        }
        mask
    }
}

/// An errno (`SystemCallErrorNumber=`): as written, and its number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Errno {
    /// As the policy wrote it (`EPERM`, `1`).
    pub text: String,
    /// The number.
    pub number: i32,
}

/// An I/O limit of one device (`IOReadBandwidthMax=`, `IOReadIOPSMax=`): as written, and
/// the bytes or operations per second systemd reads it as.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceRate {
    /// As the policy wrote it (`10M`, `500`).
    pub text: String,
    /// Bytes (or operations) per second.
    pub per_second: u64,
}

impl DeviceRate {
    /// A bandwidth as systemd's `config_parse_io_limit()` reads it: `parse_size(text, 1000)`,
    /// bytes with an optional K, M, G, T, P or E suffix to the base of 1000
    /// (systemd.resource-control(5): "parsed as Kilobytes, Megabytes, Gigabytes, or
    /// Terabytes, respectively, to the base of 1000"); systemd refuses 0. Measured on 252:
    /// `IOReadBandwidthMax=/run 2K` shows as 2000. The error says why not.
    pub fn bandwidth(text: &str) -> Result<DeviceRate, String> {
        let (number, factor) = match text.char_indices().last() {
            Some((i, c)) if "KMGTPE".contains(c) => {
                let power = "KMGTPE".find(c).unwrap_or(0) as u32 + 1;
                (&text[..i], 1000u64.pow(power))
            }
            _ => (text, 1),
        };
        if !decimal(number) {
            return Err(
                "write bytes per second with an optional K, M, G or T suffix (base 1000), e.g. \"10M\""
                    .to_owned(),
            );
        }
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        if factor == 1 && !frac.is_empty() {
            return Err(
                "a fraction of a byte: write a whole number of bytes, or a suffix".to_owned(),
            );
        }
        let whole: u64 = whole
            .parse()
            .map_err(|_| "the number is too large".to_owned())?;
        let mut fraction = 0u64;
        let mut scale = factor;
        for d in frac.bytes() {
            scale /= 10;
            fraction += u64::from(d - b'0') * scale;
        }
        let per_second = whole
            .checked_mul(factor)
            .and_then(|n| n.checked_add(fraction))
            .ok_or_else(|| "the number is too large".to_owned())?;
        check_limit(per_second)?;
        Ok(DeviceRate {
            text: text.to_owned(),
            per_second,
        })
    }

    /// A count of I/O operations per second, a plain number (systemd also takes the suffixes
    /// of a bandwidth, which sandgen does not: "1K" operations reads as a size).
    pub fn count(n: u64) -> Result<DeviceRate, String> {
        check_limit(n)?;
        Ok(DeviceRate {
            text: n.to_string(),
            per_second: n,
        })
    }
}

/// systemd refuses an I/O limit of 0 and reads 2^64-1 as "no limit" (`CGROUP_LIMIT_MAX`).
fn check_limit(n: u64) -> Result<(), String> {
    match n {
        0 => Err("systemd refuses a limit of 0; remove the entry for no limit".to_owned()),
        u64::MAX => {
            Err("systemd reads 18446744073709551615 as no limit; remove the entry".to_owned())
        }
        _ => Ok(()),
    }
}

/// IP address prefixes as `IPAddressAllow=` takes them: each entry as written and the
/// prefixes it stands for (a symbolic name stands for an IPv4 and an IPv6 prefix).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct IpPrefixes(pub Vec<IpPrefix>);

/// One entry of [`IpPrefixes`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IpPrefix {
    /// As written (`localhost`, `10.0.0.0/8`, `::1`).
    pub text: String,
    /// The prefixes it stands for: address and prefix length.
    #[serde(skip)]
    pub prefixes: Vec<(std::net::IpAddr, u8)>,
}

/// The symbolic names of `IPAddressAllow=` and what they stand for
/// (systemd.resource-control(5), `in_addr_prefixes_from_string()` of systemd's
/// in-addr-prefix-util.c).
pub const IP_SYMBOLS: &[(&str, &[(&str, u8)])] = &[
    ("any", &[("0.0.0.0", 0), ("::", 0)]),
    ("localhost", &[("127.0.0.0", 8), ("::1", 128)]),
    ("link-local", &[("169.254.0.0", 16), ("fe80::", 64)]),
    ("multicast", &[("224.0.0.0", 4), ("ff00::", 8)]),
];

impl IpPrefix {
    /// An address, `ADDRESS/LENGTH`, or a symbolic name; the error says why not. A bare
    /// address is a prefix of full length (/32, /128), as systemd reads it.
    pub fn parse(text: &str) -> Result<IpPrefix, String> {
        if let Some((_, prefixes)) = IP_SYMBOLS.iter().find(|(name, _)| *name == text) {
            let prefixes = prefixes
                .iter()
                .filter_map(|(a, len)| a.parse().ok().map(|a| (a, *len)))
                .collect();
            return Ok(IpPrefix {
                text: text.to_owned(),
                prefixes,
            });
        }
        let (address, length) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let address: std::net::IpAddr = address.parse().map_err(|_| {
            format!(
                "\"{}\" is not an IP address (write an IPv4 or IPv6 address, ADDRESS/LENGTH, or one of any, localhost, link-local, multicast)",
                shown(address)
            )
        })?;
        let max = if address.is_ipv4() { 32 } else { 128 };
        let length = match length {
            None => max,
            Some(l) => {
                if l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!("\"{}\" is not a prefix length", shown(l)));
                }
                // systemd reads the length with safe_atou8(), which takes a leading zero
                // as octal.
                if l.len() > 1 && l.starts_with('0') {
                    return Err(format!(
                        "the prefix length \"{l}\" has a leading zero, which systemd reads as octal; write \"{}\"",
                        l.trim_start_matches('0')
                    ));
                }
                match l.parse::<u8>() {
                    Ok(n) if n <= max => n,
                    _ => return Err(format!("the prefix length {l} is longer than {max}")),
                }
            }
        };
        Ok(IpPrefix {
            text: text.to_owned(),
            prefixes: vec![(address, length)],
        })
    }
}

/// A decimal number with an optional fraction: `12` or `1.5`.
pub fn decimal(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// The largest CPU quota systemd 252 takes: `parse_permyriad_unbounded()` keeps the quota
/// in an `int` of hundredths of a percent.
pub const CPU_QUOTA_MAX: u64 = i32::MAX as u64 / 100;

/// `N%`, a whole percentage from 1 to `max`. systemd reads the number with `safe_atoi()`,
/// which takes a leading zero as octal ("050%" is 40%, "08%" is an error), so sandgen
/// refuses leading zeros. The error says why.
pub fn percentage(s: &str, max: Option<u64>) -> Result<u64, String> {
    let n = s
        .strip_suffix('%')
        .ok_or_else(|| "it does not end in \"%\"".to_owned())?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err("write a whole number before \"%\"".to_owned());
    }
    if n.len() > 1 && n.starts_with('0') {
        return Err(format!(
            "systemd reads a number with a leading zero as octal; write \"{}%\"",
            n.trim_start_matches('0')
        ));
    }
    let value: u64 = n
        .parse()
        .map_err(|_| "the number is too large".to_owned())?;
    if value == 0 {
        return Err("it must be at least 1%".to_owned());
    }
    if let Some(m) = max.filter(|m| value > *m) {
        return Err(format!("it can be at most {m}%"));
    }
    Ok(value)
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

/// The amount a validated size or task limit stands for. Sizes are computed the way
/// systemd's `parse_size()` (base 1024) computes them, within the syntax sandgen accepts:
/// a decimal number with an optional fraction and an optional K, M, G, T, P or E suffix.
/// Like systemd, it refuses a number whose whole part plus one (when there is a fraction)
/// times the suffix overflows 64 bits, and a fraction too long for 64 bits.
pub fn amount(s: &str) -> Option<Amount> {
    if s == "infinity" {
        return Some(Amount::Infinity);
    }
    if s.ends_with('%') {
        return percentage(s, Some(100))
            .ok()
            .and_then(|p| u32::try_from(p).ok())
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
    let frac_digits: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    if whole.checked_add(u64::from(frac_digits > 0))? > u64::MAX / factor {
        return None;
    }
    // The fraction as systemd computes it, in a double: digits / 10 per digit.
    let mut fraction = frac_digits as f64;
    for _ in 0..frac.len() {
        fraction /= 10.0;
    }
    let bytes = whole
        .checked_mul(factor)?
        .checked_add((fraction * factor as f64) as u64)?;
    Some(Amount::Value(bytes))
}

/// A CPU list as AllowedCPUs= reads it: indexes and ranges separated by commas. systemd
/// reads each index with `safe_atou()`, which takes a leading zero as octal, so sandgen
/// refuses leading zeros.
fn cpu_set(s: &str) -> Result<BTreeSet<u32>, String> {
    if s.is_empty() {
        return Err("it is empty".to_owned());
    }
    let mut cpus = BTreeSet::new();
    for part in s.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let parse = |x: &str| -> Result<u32, String> {
            if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("\"{}\" is not a CPU index", shown(part)));
            }
            if x.len() > 1 && x.starts_with('0') {
                return Err(format!(
                    "\"{x}\" has a leading zero, which systemd reads as octal; write \"{}\"",
                    x.trim_start_matches('0')
                ));
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
        cpus.extend(a..=b);
    }
    Ok(cpus)
}

/// Time span units of systemd.time(7) and their length in microseconds, in the order of
/// `extract_multiplier()` in systemd's time-util.c: systemd takes the first unit the text
/// starts with, so "5ms" is milliseconds and "5m" minutes.
const TIME_UNITS: &[(&str, u64)] = &[
    ("seconds", 1_000_000),
    ("second", 1_000_000),
    ("sec", 1_000_000),
    ("s", 1_000_000),
    ("minutes", 60_000_000),
    ("minute", 60_000_000),
    ("min", 60_000_000),
    ("months", 2_629_800_000_000),
    ("month", 2_629_800_000_000),
    ("M", 2_629_800_000_000),
    ("msec", 1_000),
    ("ms", 1_000),
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
    ("years", 31_557_600_000_000),
    ("year", 31_557_600_000_000),
    ("y", 31_557_600_000_000),
    ("usec", 1),
    ("us", 1),
    ("\u{3bc}s", 1),
    ("\u{b5}s", 1),
];

/// systemd's WHITESPACE (" \t\n\r"); the only white space it skips in a time span.
fn is_systemd_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

const TOO_LONG: &str = "it does not fit systemd's 64-bit count of microseconds (at most about 584542 years); write \"infinity\" for no limit";

/// A time span as systemd's `parse_sec()` reads it (systemd.time(7): numbers with units,
/// a bare number is seconds, parts may follow each other with or without spaces), in
/// microseconds; `infinity` is `u64::MAX`. A port of `parse_time()` in systemd's
/// time-util.c, so that it refuses exactly what systemd would ignore with "Failed to parse":
/// non-ASCII white space, negative numbers, a `.` without digits, unknown units, and any
/// span that reaches 2^64-1 microseconds.
pub fn duration_usec(s: &str) -> Result<u64, String> {
    if let Some(c) = s
        .chars()
        .find(|c| c.is_whitespace() && !is_systemd_space(*c))
    {
        return Err(format!(
            "it contains U+{:04X}, white space that systemd does not skip (only ASCII spaces separate the parts of a time span)",
            u32::from(c)
        ));
    }
    let mut p = s.trim_start_matches(is_systemd_space);
    if let Some(rest) = p.strip_prefix("infinity") {
        return if rest.chars().all(is_systemd_space) {
            Ok(u64::MAX)
        } else {
            Err(format!(
                "unexpected \"{}\" after \"infinity\"",
                shown(rest.trim_start_matches(is_systemd_space))
            ))
        };
    }
    let mut usec: u64 = 0;
    let mut something = false;
    loop {
        p = p.trim_start_matches(is_systemd_space);
        if p.is_empty() {
            if !something {
                return Err("it is empty".to_owned());
            }
            return Ok(usec);
        }
        if p.starts_with('-') {
            return Err("a time span cannot be negative".to_owned());
        }
        // strtoll(): an optional `+`, then decimal digits; nothing is read without a digit.
        let sign = usize::from(p.starts_with('+'));
        let digits = p[sign..].bytes().take_while(u8::is_ascii_digit).count();
        let (whole, e) = if digits == 0 {
            (0, p)
        } else {
            let whole: i64 = p[sign..sign + digits]
                .parse()
                .map_err(|_| TOO_LONG.to_owned())?;
            (whole as u64, &p[sign + digits..])
        };
        let fraction = if let Some(after_dot) = e.strip_prefix('.') {
            let n = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            p = &after_dot[n..];
            Some(&after_dot[..n])
        } else if digits == 0 {
            return Err(format!("expected a number at \"{}\"", shown(p)));
        } else {
            p = e;
            None
        };
        let at_unit = p.trim_start_matches(is_systemd_space);
        let (multiplier, after_unit) = match TIME_UNITS
            .iter()
            .find(|(name, _)| at_unit.starts_with(name))
        {
            Some((name, usec)) => (*usec, &at_unit[name.len()..]),
            None => (1_000_000, at_unit),
        };
        if after_unit.len() == p.len() && !p.is_empty() {
            let unit: String = p
                .chars()
                .take_while(|c| !c.is_ascii_digit() && !is_systemd_space(*c))
                .collect();
            return Err(format!("unknown unit \"{}\"", shown(&unit)));
        }
        p = after_unit;
        if whole >= u64::MAX / multiplier {
            return Err(TOO_LONG.to_owned());
        }
        let k = whole * multiplier;
        if k >= u64::MAX - usec {
            return Err(TOO_LONG.to_owned());
        }
        usec += k;
        something = true;
        if let Some(fraction) = fraction {
            if fraction.is_empty() {
                return Err("a digit must follow the decimal point".to_owned());
            }
            let mut m = multiplier / 10;
            for d in fraction.bytes() {
                let k = u64::from(d - b'0') * m;
                if k >= u64::MAX - usec {
                    return Err(TOO_LONG.to_owned());
                }
                usec += k;
                m /= 10;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert!(duration_usec(ok).is_ok(), "{ok}");
        }
        for bad in ["", "5 parsecs", "s5", "1..5s"] {
            assert!(duration_usec(bad).is_err(), "{bad}");
        }
    }

    /// What systemd 252's `systemd-analyze verify` said of `TimeoutStartSec=` with each
    /// value (measured): accepted, or "Failed to parse TimeoutStartSec= parameter, ignoring".
    #[test]
    fn durations_are_refused_exactly_where_systemd_252_ignores_them() {
        for ok in [
            " 5s",
            "5 s",
            "5s ",
            "1.5s",
            ".5s",
            "+5s",
            "5s5min",
            "5 s 6min",
            "5min30",
            "1.123456789s",
            "1.12345678901234567890s",
            " infinity",
            "5\u{b5}s",
            "5\u{3bc}s",
            "5sec",
            "5 seconds",
            "5M",
            "5m",
            "2w",
            "00005s",
            "0",
            "18446744073708",
            "9223372036854775807us",
            "584541y",
            "584541y 1y",
            "584541y 4w",
        ] {
            assert!(duration_usec(ok).is_ok(), "{ok:?}: {:?}", duration_usec(ok));
        }
        for bad in [
            "\u{a0}5s",
            "99999999999999999999999s",
            "5.",
            "5.s",
            "1e3s",
            "-5s",
            "0x10",
            "1..5s",
            "5ss",
            "1.5.5s",
            "1_000s",
            "18446744073709551615us",
            "18446744073709551614us",
            "18446744073709551616us",
            "584542y",
            "585000y",
            "18446744073709",
            "9223372036854775808us",
            "infinity s",
            "5\u{2003}s",
        ] {
            assert!(
                duration_usec(bad).is_err(),
                "{bad:?}: {:?}",
                duration_usec(bad)
            );
        }
        assert_eq!(duration_usec("5s5min"), Ok(305_000_000));
        assert_eq!(duration_usec("1.5ms"), Ok(1_500));
        assert_eq!(duration_usec("5m"), Ok(300_000_000));
        assert_eq!(duration_usec("5ms"), Ok(5_000));
        assert!(duration_usec("\u{a0}5s").unwrap_err().contains("U+00A0"));
    }

    #[test]
    fn percentages_have_no_leading_zero_and_fit_systemd() {
        assert_eq!(percentage("20%", None), Ok(20));
        assert!(percentage("08%", None).unwrap_err().contains("octal"));
        assert!(percentage("050%", None).is_err());
        assert_eq!(percentage("21474836%", Some(CPU_QUOTA_MAX)), Ok(21_474_836));
        assert!(percentage("21474837%", Some(CPU_QUOTA_MAX)).is_err());
        assert!(percentage("0%", None).is_err());
    }

    /// systemd 252 (measured with `systemctl show`): `2K` is 2000 bytes, `1M` 1000000.
    #[test]
    fn io_bandwidths_are_to_the_base_of_1000() {
        let bw = |t: &str| DeviceRate::bandwidth(t).map(|r| r.per_second);
        assert_eq!(bw("2K"), Ok(2000));
        assert_eq!(bw("10M"), Ok(10_000_000));
        assert_eq!(bw("1.5K"), Ok(1500));
        assert_eq!(bw("4096"), Ok(4096));
        assert_eq!(bw("1G"), Ok(1_000_000_000));
        for bad in [
            "0",
            "1.5",
            "10MB",
            "",
            "-1",
            "infinity",
            "18446744073709551615",
            "99999E",
        ] {
            assert!(bw(bad).is_err(), "{bad}");
        }
        assert_eq!(DeviceRate::count(500).map(|r| r.text), Ok("500".to_owned()));
        assert!(DeviceRate::count(0).is_err());
    }

    #[test]
    fn ip_prefixes_and_symbols_expand_like_systemd() {
        let p = |t: &str| IpPrefix::parse(t).map(|p| p.prefixes);
        let ip = |a: &str| a.parse::<std::net::IpAddr>().unwrap();
        assert_eq!(p("127.0.0.1"), Ok(vec![(ip("127.0.0.1"), 32)]));
        assert_eq!(p("::1"), Ok(vec![(ip("::1"), 128)]));
        assert_eq!(p("10.0.0.0/8"), Ok(vec![(ip("10.0.0.0"), 8)]));
        assert_eq!(
            p("localhost"),
            Ok(vec![(ip("127.0.0.0"), 8), (ip("::1"), 128)])
        );
        assert_eq!(p("any"), Ok(vec![(ip("0.0.0.0"), 0), (ip("::"), 0)]));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "1.2.3",
            "10.0.0.0/",
            "/8",
            "localhots",
            "1.2.3.4/+8",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_set("0-1,3"), Ok(BTreeSet::from([0, 1, 3])));
        assert!(cpu_set("1-0").is_err());
        assert!(cpu_set("0,,1").is_err());
        assert!(cpu_set("a").is_err());
        // systemd 252: "Failed to parse CPU affinity '08'"; "010" would be CPU 8.
        assert!(cpu_set("08").unwrap_err().contains("octal"));
        assert!(cpu_set("0-010").is_err());
        assert_eq!(cpu_set("0,10"), Ok(BTreeSet::from([0, 10])));
        assert_eq!(CpuSet::parse("0-1,9").map(|c| c.mask()), Ok(vec![3, 2]));
        assert_eq!(CpuSet::parse("0").map(|c| c.mask()), Ok(vec![1]));
    }
}
