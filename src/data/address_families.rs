//! Socket address families: the names systemd's `RestrictAddressFamilies=` takes
//! (systemd.exec(5), "Sandboxing"). With it, systemd installs a seccomp filter on socket(2)'s
//! first argument, the address family (`AF_INET`, `AF_PACKET`, ...); `none` (deny all) and the
//! `~` deny-list prefix are syntax of the directive, not family names, and are not in this table.
//!
//! systemd 252 builds its list with `src/basic/generate-af-list.sh`: every
//! `#define AF_x PF_x` (or `AF_x AF_y`) that `<sys/socket.h>` yields, minus `AF_UNSPEC` and
//! `AF_MAX`. So the list holds every family the C library knows **including the aliases**
//! `AF_LOCAL`/`AF_FILE` (both = `AF_UNIX`) and `AF_ROUTE` (= `AF_NETLINK`); all three pass
//! `systemd-analyze verify` on systemd 252, while `AF_UNSPEC` and `AF_MAX` are rejected with
//! "Failed to parse address family". The table is in kernel number order (1 `AF_UNIX` ..
//! 45 `AF_MCTP`), an alias right after the name it aliases.
//!
//! Source: `/usr/include/x86_64-linux-gnu/bits/socket.h` from Debian 12 glibc 2.36 (`PF_MAX` 46),
//! cross-checked against the `AF_*` strings in systemd 252's `libsystemd-shared-252.so`.
//! Regenerate with
//! `gcc -E -dM -include sys/socket.h - </dev/null | grep -Ev 'AF_UNSPEC|AF_MAX' | grep '^#define AF_'`.
//!
//! systemd matches these names case-insensitively (`af_inet` is accepted); [`is_known`] does
//! too, and [`canonical`] gives the spelling to render or suggest.

/// Every address-family name systemd 252 accepts in `RestrictAddressFamilies=`, in kernel
/// number order, aliases after the name they alias.
pub const ADDRESS_FAMILIES: &[&str] = &[
    "AF_UNIX",  // 1
    "AF_LOCAL", // 1, alias
    "AF_FILE",  // 1, alias
    "AF_INET",  // 2
    "AF_AX25",  // 3
    "AF_IPX",   // 4
    "AF_APPLETALK",
    "AF_NETROM",
    "AF_BRIDGE",
    "AF_ATMPVC",
    "AF_X25",
    "AF_INET6", // 10
    "AF_ROSE",
    "AF_DECnet", // mixed case, as the kernel spells it
    "AF_NETBEUI",
    "AF_SECURITY",
    "AF_KEY",
    "AF_NETLINK", // 16
    "AF_ROUTE",   // 16, alias
    "AF_PACKET",  // 17
    "AF_ASH",
    "AF_ECONET",
    "AF_ATMSVC",
    "AF_RDS", // 21
    "AF_SNA",
    "AF_IRDA",
    "AF_PPPOX",
    "AF_WANPIPE",
    "AF_LLC",
    "AF_IB",
    "AF_MPLS",
    "AF_CAN",
    "AF_TIPC", // 30
    "AF_BLUETOOTH",
    "AF_IUCV",
    "AF_RXRPC",
    "AF_ISDN",
    "AF_PHONET",
    "AF_IEEE802154",
    "AF_CAIF",
    "AF_ALG",
    "AF_NFC",
    "AF_VSOCK", // 40
    "AF_KCM",
    "AF_QIPCRTR",
    "AF_SMC",
    "AF_XDP",
    "AF_MCTP", // 45
];

/// The aliases in [`ADDRESS_FAMILIES`]: other names of the family listed before them.
const ALIASES: &[&str] = &["AF_LOCAL", "AF_FILE", "AF_ROUTE"];

/// The kernel's number of each family (1 `AF_UNIX` .. 45 `AF_MCTP`), without the aliases:
/// the first argument of socket(2).
pub fn numbered() -> impl Iterator<Item = (u32, &'static str)> {
    ADDRESS_FAMILIES
        .iter()
        .filter(|n| !ALIASES.contains(n))
        .zip(1..)
        .map(|(n, i)| (i, *n))
}

/// The kernel's number of family `name` (an alias gives the number of what it aliases).
pub fn number(name: &str) -> Option<u32> {
    let name = match canonical(name)? {
        "AF_LOCAL" | "AF_FILE" => "AF_UNIX",
        "AF_ROUTE" => "AF_NETLINK",
        n => n,
    };
    numbered().find(|(_, n)| *n == name).map(|(i, _)| i)
}

/// Whether systemd 252 accepts `name` as an address family, ignoring ASCII case as systemd does.
pub fn is_known(name: &str) -> bool {
    canonical(name).is_some()
}

/// The table's spelling of `name`, matched case-insensitively: `af_inet` gives `AF_INET`,
/// `af_decnet` gives `AF_DECnet`. Aliases stay aliases (`af_local` gives `AF_LOCAL`).
pub fn canonical(name: &str) -> Option<&'static str> {
    ADDRESS_FAMILIES
        .iter()
        .copied()
        .find(|af| af.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_families_are_known() {
        for af in [
            "AF_UNIX",
            "AF_INET",
            "AF_INET6",
            "AF_NETLINK",
            "AF_PACKET",
            "AF_VSOCK",
        ] {
            assert!(is_known(af), "{af}");
        }
    }

    #[test]
    fn glibc_aliases_are_accepted_like_systemd_252_does() {
        assert!(is_known("AF_LOCAL"));
        assert!(is_known("AF_FILE"));
        assert!(is_known("AF_ROUTE"));
    }

    #[test]
    fn unspec_max_and_non_families_are_rejected() {
        // Both are rejected by `systemd-analyze verify` on systemd 252.
        assert!(!is_known("AF_UNSPEC"));
        assert!(!is_known("AF_MAX"));
        // Directive syntax and bare family names are not family names.
        assert!(!is_known("none"));
        assert!(!is_known("~AF_INET"));
        assert!(!is_known("inet"));
        assert!(!is_known("PF_INET"));
        assert!(!is_known(""));
    }

    #[test]
    fn case_is_ignored_but_canonical_restores_it() {
        assert!(is_known("af_inet"));
        assert_eq!(canonical("af_inet6"), Some("AF_INET6"));
        assert_eq!(canonical("AF_DECNET"), Some("AF_DECnet"));
        assert_eq!(canonical("AF_BOGUS"), None);
    }

    #[test]
    fn covers_kernel_families_1_to_45_plus_three_aliases() {
        // PF_MAX is 46 in glibc 2.36: 45 families, plus AF_LOCAL, AF_FILE and AF_ROUTE.
        assert_eq!(ADDRESS_FAMILIES.len(), 48);
        assert_eq!(ADDRESS_FAMILIES.last(), Some(&"AF_MCTP"));
        let mut sorted = ADDRESS_FAMILIES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ADDRESS_FAMILIES.len());
    }

    #[test]
    fn families_have_the_kernels_numbers() {
        assert_eq!(number("AF_UNIX"), Some(1));
        assert_eq!(number("af_local"), Some(1));
        assert_eq!(number("AF_INET6"), Some(10));
        assert_eq!(number("AF_ROUTE"), Some(16));
        assert_eq!(number("AF_PACKET"), Some(17));
        assert_eq!(number("AF_RDS"), Some(21));
        assert_eq!(number("AF_TIPC"), Some(30));
        assert_eq!(number("AF_VSOCK"), Some(40));
        assert_eq!(number("AF_MCTP"), Some(45));
        assert_eq!(numbered().count(), 45);
    }
}
