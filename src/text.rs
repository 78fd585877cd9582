//! Numbers and instants in words for people, shared by the reports: sizes in bytes
//! (base 1024, as systemd.resource-control(5) writes them) and UTC times.

/// How [`bytes`] writes a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteStyle {
    /// A measurement: one decimal in the largest unit reached, `1.3M`, `300.0K`, `512B`.
    Measured,
    /// As a policy writes a size: a whole number of the largest unit reached where it
    /// divides (`64M`), else one decimal (`1.5G`); plain bytes below 1K (`1000`).
    Policy,
}

/// `n` bytes in the largest base-1024 unit (`K`, `M`, `G`) it reaches, written in `style`.
pub(crate) fn bytes(n: u64, style: ByteStyle) -> String {
    for (unit, size) in [("G", 1u64 << 30), ("M", 1 << 20), ("K", 1 << 10)] {
        if n >= size {
            return if style == ByteStyle::Policy && n.is_multiple_of(size) {
                format!("{}{unit}", n / size)
            } else {
                format!("{:.1}{unit}", n as f64 / size as f64)
            };
        }
    }
    match style {
        ByteStyle::Measured => format!("{n}B"),
        ByteStyle::Policy => n.to_string(),
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` for µs since the epoch.
pub(crate) fn utc(usec: u64) -> String {
    let (year, month, day, h, m, s) = civil(usec / 1_000_000);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02} UTC")
}

/// RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`) for ms since the epoch, as JSON documents carry it.
pub(crate) fn rfc3339_utc(unix_ms: u64) -> String {
    let (year, month, day, h, m, s) = civil(unix_ms / 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

/// Year, month, day, hour, minute, second of `secs` since the epoch (Howard Hinnant's
/// civil-from-days, proleptic Gregorian).
fn civil(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_in_base_1024_units() {
        use ByteStyle::{Measured, Policy};
        assert_eq!(bytes(512, Measured), "512B");
        assert_eq!(bytes(300 << 10, Measured), "300.0K");
        assert_eq!(bytes(1_363_148, Measured), "1.3M");
        assert_eq!(bytes(2 << 30, Measured), "2.0G");
        assert_eq!(bytes(1000, Policy), "1000");
        assert_eq!(bytes(64 << 20, Policy), "64M");
        assert_eq!(bytes(3 << 29, Policy), "1.5G");
        assert_eq!(bytes(1 << 10, Policy), "1K");
    }

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_796_000_000_000_000), "2026-11-30 00:53:20 UTC");
        assert_eq!(utc(951_782_400_000_000), "2000-02-29 00:00:00 UTC");
    }
}
