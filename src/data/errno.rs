//! errno values: the names systemd's `SystemCallErrorNumber=` and the `:ERRNO` suffix of
//! `SystemCallFilter=` entries accept (systemd.exec(5), "System Call Filtering"), with the number a
//! filtered system call then returns.
//!
//! systemd 252 builds its name table with `generate-errno-list.sh`: every `#define E...` that
//! `<errno.h>` yields, aliases included. The same list, on Debian 12 x86_64, comes from
//!
//! ```sh
//! printf '#include <errno.h>\n' | gcc -dM -E - | awk '/^#define[ \t]+E[^ _]+[ \t]+/ { print $2, $3 }'
//! ```
//!
//! i.e. `/usr/include/asm-generic/errno-base.h` (1..=34), `/usr/include/asm-generic/errno.h`
//! (35..=133; 41 and 58 are unused) and glibc's `bits/errno.h`, which adds `ENOTSUP` as an alias of
//! `EOPNOTSUPP`. The kernel's own aliases are `EWOULDBLOCK` (= `EAGAIN`) and `EDEADLOCK`
//! (= `EDEADLK`). 134 names in all. Entries are in number order; an alias follows the name it
//! aliases, so the first entry for a number is its canonical name.
//!
//! systemd 252 matches these names case-insensitively (`SystemCallErrorNumber=eperm` passes
//! `systemd-analyze verify`, `EBOGUS` does not); [`by_name`] does the same.

/// Every errno name on Linux/glibc x86_64 with its number; canonical names before their aliases.
pub const ERRNO: &[(&str, i32)] = &[
    ("EPERM", 1),
    ("ENOENT", 2),
    ("ESRCH", 3),
    ("EINTR", 4),
    ("EIO", 5),
    ("ENXIO", 6),
    ("E2BIG", 7),
    ("ENOEXEC", 8),
    ("EBADF", 9),
    ("ECHILD", 10),
    ("EAGAIN", 11),
    ("EWOULDBLOCK", 11), // alias of EAGAIN
    ("ENOMEM", 12),
    ("EACCES", 13),
    ("EFAULT", 14),
    ("ENOTBLK", 15),
    ("EBUSY", 16),
    ("EEXIST", 17),
    ("EXDEV", 18),
    ("ENODEV", 19),
    ("ENOTDIR", 20),
    ("EISDIR", 21),
    ("EINVAL", 22),
    ("ENFILE", 23),
    ("EMFILE", 24),
    ("ENOTTY", 25),
    ("ETXTBSY", 26),
    ("EFBIG", 27),
    ("ENOSPC", 28),
    ("ESPIPE", 29),
    ("EROFS", 30),
    ("EMLINK", 31),
    ("EPIPE", 32),
    ("EDOM", 33),
    ("ERANGE", 34),
    ("EDEADLK", 35),
    ("EDEADLOCK", 35), // alias of EDEADLK
    ("ENAMETOOLONG", 36),
    ("ENOLCK", 37),
    ("ENOSYS", 38),
    ("ENOTEMPTY", 39),
    ("ELOOP", 40),
    ("ENOMSG", 42),
    ("EIDRM", 43),
    ("ECHRNG", 44),
    ("EL2NSYNC", 45),
    ("EL3HLT", 46),
    ("EL3RST", 47),
    ("ELNRNG", 48),
    ("EUNATCH", 49),
    ("ENOCSI", 50),
    ("EL2HLT", 51),
    ("EBADE", 52),
    ("EBADR", 53),
    ("EXFULL", 54),
    ("ENOANO", 55),
    ("EBADRQC", 56),
    ("EBADSLT", 57),
    ("EBFONT", 59),
    ("ENOSTR", 60),
    ("ENODATA", 61),
    ("ETIME", 62),
    ("ENOSR", 63),
    ("ENONET", 64),
    ("ENOPKG", 65),
    ("EREMOTE", 66),
    ("ENOLINK", 67),
    ("EADV", 68),
    ("ESRMNT", 69),
    ("ECOMM", 70),
    ("EPROTO", 71),
    ("EMULTIHOP", 72),
    ("EDOTDOT", 73),
    ("EBADMSG", 74),
    ("EOVERFLOW", 75),
    ("ENOTUNIQ", 76),
    ("EBADFD", 77),
    ("EREMCHG", 78),
    ("ELIBACC", 79),
    ("ELIBBAD", 80),
    ("ELIBSCN", 81),
    ("ELIBMAX", 82),
    ("ELIBEXEC", 83),
    ("EILSEQ", 84),
    ("ERESTART", 85),
    ("ESTRPIPE", 86),
    ("EUSERS", 87),
    ("ENOTSOCK", 88),
    ("EDESTADDRREQ", 89),
    ("EMSGSIZE", 90),
    ("EPROTOTYPE", 91),
    ("ENOPROTOOPT", 92),
    ("EPROTONOSUPPORT", 93),
    ("ESOCKTNOSUPPORT", 94),
    ("EOPNOTSUPP", 95),
    ("ENOTSUP", 95), // alias of EOPNOTSUPP
    ("EPFNOSUPPORT", 96),
    ("EAFNOSUPPORT", 97),
    ("EADDRINUSE", 98),
    ("EADDRNOTAVAIL", 99),
    ("ENETDOWN", 100),
    ("ENETUNREACH", 101),
    ("ENETRESET", 102),
    ("ECONNABORTED", 103),
    ("ECONNRESET", 104),
    ("ENOBUFS", 105),
    ("EISCONN", 106),
    ("ENOTCONN", 107),
    ("ESHUTDOWN", 108),
    ("ETOOMANYREFS", 109),
    ("ETIMEDOUT", 110),
    ("ECONNREFUSED", 111),
    ("EHOSTDOWN", 112),
    ("EHOSTUNREACH", 113),
    ("EALREADY", 114),
    ("EINPROGRESS", 115),
    ("ESTALE", 116),
    ("EUCLEAN", 117),
    ("ENOTNAM", 118),
    ("ENAVAIL", 119),
    ("EISNAM", 120),
    ("EREMOTEIO", 121),
    ("EDQUOT", 122),
    ("ENOMEDIUM", 123),
    ("EMEDIUMTYPE", 124),
    ("ECANCELED", 125),
    ("ENOKEY", 126),
    ("EKEYEXPIRED", 127),
    ("EKEYREVOKED", 128),
    ("EKEYREJECTED", 129),
    ("EOWNERDEAD", 130),
    ("ENOTRECOVERABLE", 131),
    ("ERFKILL", 132),
    ("EHWPOISON", 133),
];

/// The number of the errno named `name`, matched case-insensitively as systemd does
/// (`EPERM`, `eperm` and `Eperm` are all 1). Aliases resolve to their target's number.
pub fn by_name(name: &str) -> Option<i32> {
    ERRNO
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, number)| number)
}

/// The canonical name of errno number `number` (`EAGAIN` for 11, not `EWOULDBLOCK`).
pub fn name(number: i32) -> Option<&'static str> {
    ERRNO
        .iter()
        .find(|&&(_, n)| n == number)
        .map(|&(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_values_match_errno_base_h() {
        assert_eq!(by_name("EPERM"), Some(1));
        assert_eq!(by_name("ENOENT"), Some(2));
        assert_eq!(by_name("EACCES"), Some(13));
        assert_eq!(by_name("EINVAL"), Some(22));
        assert_eq!(by_name("ENOSYS"), Some(38));
        assert_eq!(by_name("EAFNOSUPPORT"), Some(97));
        assert_eq!(by_name("EHWPOISON"), Some(133));
    }

    #[test]
    fn aliases_share_their_targets_number() {
        assert_eq!(by_name("EWOULDBLOCK"), by_name("EAGAIN"));
        assert_eq!(by_name("EWOULDBLOCK"), Some(11));
        assert_eq!(by_name("EDEADLOCK"), Some(35));
        assert_eq!(by_name("ENOTSUP"), Some(95));
        assert_eq!(by_name("EOPNOTSUPP"), Some(95));
    }

    #[test]
    fn name_gives_the_canonical_spelling_not_the_alias() {
        assert_eq!(name(11), Some("EAGAIN"));
        assert_eq!(name(35), Some("EDEADLK"));
        assert_eq!(name(95), Some("EOPNOTSUPP"));
        assert_eq!(name(1), Some("EPERM"));
    }

    #[test]
    fn unused_numbers_and_bogus_names_are_unknown() {
        // 41 and 58 are holes in asm-generic/errno.h; 0 is "success", not an errno.
        assert_eq!(name(41), None);
        assert_eq!(name(58), None);
        assert_eq!(name(0), None);
        assert_eq!(name(134), None);
        assert_eq!(by_name("EBOGUS"), None);
        assert_eq!(by_name("PERM"), None);
        assert_eq!(by_name(""), None);
    }

    #[test]
    fn matching_is_case_insensitive_like_systemd() {
        assert_eq!(by_name("eperm"), Some(1));
        assert_eq!(by_name("Eacces"), Some(13));
    }

    #[test]
    fn table_has_every_x86_64_glibc_name_once() {
        // 133 numbers minus the two holes, plus three aliases.
        assert_eq!(ERRNO.len(), 134);
        let mut names: Vec<&str> = ERRNO.iter().map(|&(n, _)| n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ERRNO.len());
    }
}
