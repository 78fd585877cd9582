//! Linux capabilities: the names systemd's `CapabilityBoundingSet=` and `AmbientCapabilities=`
//! take (systemd.exec(5), "Capabilities"), and the bit numbers the kernel uses for them in
//! `/proc/PID/status` (`CapInh`, `CapPrm`, `CapEff`, `CapBnd`, `CapAmb`; see capabilities(7)).
//!
//! Each capability is one bit of a 64-bit mask; the bit number is the capability's value in
//! `<linux/capability.h>`. The table below is that header's `CAP_*` defines in number order, so a
//! capability's index in [`CAPABILITIES`] is its number.
//!
//! Source: `/usr/include/linux/capability.h` from Debian 12's `linux-libc-dev` (kernel 6.1 uAPI),
//! where `CAP_LAST_CAP` is `CAP_CHECKPOINT_RESTORE` (40). To regenerate, list
//! `grep -E '^#define CAP_[A-Z_]+\s+[0-9]+' /usr/include/linux/capability.h` in number order and
//! update [`LAST_CAP`]. A newer kernel may report bits above `LAST_CAP`; [`names_in_mask`] names
//! those `cap_N` rather than dropping them.

/// Number of the highest capability this table knows (`CAP_LAST_CAP` in `<linux/capability.h>`).
pub const LAST_CAP: u32 = 40;

/// Every capability name, in kernel number order: `CAPABILITIES[n]` is capability number `n`.
pub const CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",              // 0
    "CAP_DAC_OVERRIDE",       // 1
    "CAP_DAC_READ_SEARCH",    // 2
    "CAP_FOWNER",             // 3
    "CAP_FSETID",             // 4
    "CAP_KILL",               // 5
    "CAP_SETGID",             // 6
    "CAP_SETUID",             // 7
    "CAP_SETPCAP",            // 8
    "CAP_LINUX_IMMUTABLE",    // 9
    "CAP_NET_BIND_SERVICE",   // 10
    "CAP_NET_BROADCAST",      // 11
    "CAP_NET_ADMIN",          // 12
    "CAP_NET_RAW",            // 13
    "CAP_IPC_LOCK",           // 14
    "CAP_IPC_OWNER",          // 15
    "CAP_SYS_MODULE",         // 16
    "CAP_SYS_RAWIO",          // 17
    "CAP_SYS_CHROOT",         // 18
    "CAP_SYS_PTRACE",         // 19
    "CAP_SYS_PACCT",          // 20
    "CAP_SYS_ADMIN",          // 21
    "CAP_SYS_BOOT",           // 22
    "CAP_SYS_NICE",           // 23
    "CAP_SYS_RESOURCE",       // 24
    "CAP_SYS_TIME",           // 25
    "CAP_SYS_TTY_CONFIG",     // 26
    "CAP_MKNOD",              // 27
    "CAP_LEASE",              // 28
    "CAP_AUDIT_WRITE",        // 29
    "CAP_AUDIT_CONTROL",      // 30
    "CAP_SETFCAP",            // 31
    "CAP_MAC_OVERRIDE",       // 32
    "CAP_MAC_ADMIN",          // 33
    "CAP_SYSLOG",             // 34
    "CAP_WAKE_ALARM",         // 35
    "CAP_BLOCK_SUSPEND",      // 36
    "CAP_AUDIT_READ",         // 37
    "CAP_PERFMON",            // 38
    "CAP_BPF",                // 39
    "CAP_CHECKPOINT_RESTORE", // 40
];

/// The number of the capability spelled exactly `name` in canonical form (`CAP_NET_ADMIN`).
///
/// Only the canonical upper-case spelling is accepted, so policies stay greppable and rendered
/// units look the same everywhere; use [`canonical`] to turn a near miss into a suggestion.
pub fn by_name(name: &str) -> Option<u32> {
    CAPABILITIES
        .iter()
        .position(|&c| c == name)
        .and_then(|i| u32::try_from(i).ok())
}

/// The canonical name of the capability `name` refers to, forgiving case, a missing `CAP_`
/// prefix and `-` for `_`: `net_admin`, `cap_net_admin`, `NET_ADMIN` and `net-admin` all give
/// `CAP_NET_ADMIN`. Meant for "did you mean `CAP_NET_ADMIN`?" messages.
pub fn canonical(name: &str) -> Option<&'static str> {
    let upper = name.trim().to_ascii_uppercase().replace('-', "_");
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    CAPABILITIES.iter().copied().find(|&c| c == full)
}

/// The canonical name of capability number `n`, or `None` above [`LAST_CAP`].
pub fn name(n: u32) -> Option<&'static str> {
    usize::try_from(n)
        .ok()
        .and_then(|i| CAPABILITIES.get(i))
        .copied()
}

/// The capabilities set in `mask`, lowest bit first, as `/proc/PID/status` encodes them
/// (`CapEff: 000001fffeffffff` is the mask `0x1fffeffffff`).
///
/// Returns owned strings because a running kernel may be newer than this table: a set bit above
/// [`LAST_CAP`] is reported as `cap_N` (lower case, the bit number), so it shows up in a report
/// instead of vanishing, and can never be mistaken for a canonical name.
pub fn names_in_mask(mask: u64) -> Vec<String> {
    (0..u64::BITS)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| match name(bit) {
            Some(known) => known.to_owned(),
            None => format!("cap_{bit}"),
        })
        .collect()
}

/// The mask of the named capabilities (names this table does not know are skipped:
/// validation refuses them in a policy).
pub fn mask_of(names: &[String]) -> u64 {
    names
        .iter()
        .filter_map(|n| by_name(n))
        .fold(0, |m, n| m | 1u64 << n)
}

/// Every capability up to number `last` (the kernel's `cap_last_cap`).
pub fn all_up_to(last: u32) -> u64 {
    if last >= 63 {
        u64::MAX
    } else {
        (1u64 << (last + 1)) - 1
    }
}

/// The mask a capability list of a directive stands for: the named capabilities or, when
/// `negated` (`CapabilityBoundingSet=~...`), every other one this table knows.
pub fn mask(names: &[String], negated: bool) -> u64 {
    let listed = mask_of(names);
    if negated {
        all_up_to(LAST_CAP) & !listed
    } else {
        listed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_of_lists_and_negated_lists() {
        assert_eq!(mask(&[], false), 0);
        assert_eq!(mask(&["CAP_NET_ADMIN".into()], false), 1 << 12);
        let all_but = mask(&["CAP_NET_ADMIN".into()], true);
        assert_eq!(all_but & (1 << 12), 0);
        assert_eq!(all_but.count_ones(), LAST_CAP);
        assert_eq!(all_up_to(40), 0x1ff_ffff_ffff);
        assert_eq!(all_up_to(63), u64::MAX);
    }

    #[test]
    fn numbers_match_linux_capability_h() {
        assert_eq!(by_name("CAP_CHOWN"), Some(0));
        assert_eq!(by_name("CAP_NET_BIND_SERVICE"), Some(10));
        assert_eq!(by_name("CAP_NET_ADMIN"), Some(12));
        assert_eq!(by_name("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(by_name("CAP_SYS_RESOURCE"), Some(24));
        assert_eq!(by_name("CAP_SETFCAP"), Some(31));
        assert_eq!(by_name("CAP_BPF"), Some(39));
        assert_eq!(by_name("CAP_CHECKPOINT_RESTORE"), Some(LAST_CAP));
        assert_eq!(CAPABILITIES.len(), 41, "CAP_LAST_CAP is 40 in kernel 6.1");
    }

    #[test]
    fn by_name_accepts_only_the_canonical_spelling() {
        assert_eq!(by_name("cap_net_admin"), None);
        assert_eq!(by_name("NET_ADMIN"), None);
        assert_eq!(by_name("CAP_NET_ADMIN "), None);
        assert_eq!(by_name("CAP_SYS_WHATEVER"), None);
    }

    #[test]
    fn canonical_forgives_case_prefix_and_dashes() {
        for spelling in [
            "net_admin",
            "cap_net_admin",
            "NET_ADMIN",
            "Cap_Net_Admin",
            "net-admin",
        ] {
            assert_eq!(canonical(spelling), Some("CAP_NET_ADMIN"), "{spelling}");
        }
        assert_eq!(canonical("CAP_SYS_ADMIN"), Some("CAP_SYS_ADMIN"));
        assert_eq!(canonical("net_admins"), None);
        assert_eq!(canonical(""), None);
    }

    #[test]
    fn name_is_the_inverse_of_by_name() {
        assert_eq!(name(12), Some("CAP_NET_ADMIN"));
        assert_eq!(name(21), Some("CAP_SYS_ADMIN"));
        assert_eq!(name(41), None);
        assert_eq!(name(u32::MAX), None);
        for (i, cap) in CAPABILITIES.iter().enumerate() {
            assert_eq!(by_name(cap).and_then(name), Some(*cap), "index {i}");
        }
    }

    #[test]
    fn decodes_a_single_bit() {
        assert_eq!(names_in_mask(0x1000), ["CAP_NET_ADMIN"]);
        assert_eq!(names_in_mask(1 << 21), ["CAP_SYS_ADMIN"]);
        assert!(names_in_mask(0).is_empty());
    }

    #[test]
    fn decodes_this_hosts_capeff() {
        // `CapEff: 000001fffeffffff` of a root shell on the build host, whose bounding set lacks
        // CAP_SYS_RESOURCE (FACTS.md): every known capability except bit 24.
        let names = names_in_mask(0x0000_01ff_feff_ffff);
        assert_eq!(names.len(), 40);
        assert!(!names.iter().any(|n| n == "CAP_SYS_RESOURCE"));
        assert_eq!(names.first().map(String::as_str), Some("CAP_CHOWN"));
        assert_eq!(
            names.last().map(String::as_str),
            Some("CAP_CHECKPOINT_RESTORE")
        );
    }

    #[test]
    fn bits_beyond_the_table_are_reported_not_dropped() {
        assert_eq!(
            names_in_mask((1 << 12) | (1 << 41) | (1 << 63)),
            ["CAP_NET_ADMIN", "cap_41", "cap_63"]
        );
    }
}
