//! System call architectures: the values systemd's `SystemCallArchitectures=` takes
//! (systemd.exec(5), "System Call Filtering"). A process on x86-64 can also enter the kernel
//! through the x86 (int 0x80) and x32 ABIs, each with its own syscall numbers, and a seccomp
//! filter written for one ABI does not cover another; `SystemCallArchitectures=native` makes
//! systemd kill calls made through any ABI not listed, closing that bypass.
//!
//! Source: `seccomp_arch_from_string()` in systemd 252's `src/shared/seccomp-util.c`, in its
//! order. `parisc`, `parisc64` and `riscv64` are compiled in only when the libseccomp systemd was
//! built against knows them; Debian 12's systemd 252.38 accepts all three. Every value here, and
//! the rejection of `loongarch64` (added in a later systemd), `x86_64`, `aarch64` and `NATIVE`, was
//! checked with `systemd-analyze verify` on that build. Matching is exact and case-sensitive,
//! as systemd's `streq()` is.

/// Every value systemd 252 accepts in `SystemCallArchitectures=`, `native` first.
pub const ARCHITECTURES: &[&str] = &[
    "native",
    "x86",
    "x86-64",
    "x32",
    "arm",
    "arm64",
    "mips",
    "mips64",
    "mips64-n32",
    "mips-le",
    "mips64-le",
    "mips64-le-n32",
    "parisc",
    "parisc64",
    "ppc",
    "ppc64",
    "ppc64-le",
    "riscv64",
    "s390",
    "s390x",
];

/// Whether systemd 252 accepts `name` in `SystemCallArchitectures=` (exact, case-sensitive).
pub fn is_known(name: &str) -> bool {
    ARCHITECTURES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_spellings_are_accepted() {
        for arch in [
            "native", "x86-64", "x86", "x32", "arm64", "ppc64-le", "s390x", "riscv64",
        ] {
            assert!(is_known(arch), "{arch}");
        }
    }

    #[test]
    fn kernel_and_compiler_spellings_are_not_systemds() {
        // systemd uses its own names: uname/rustc spellings fail `systemd-analyze verify`.
        for arch in [
            "x86_64",
            "aarch64",
            "amd64",
            "i386",
            "powerpc64le",
            "ppc-le",
        ] {
            assert!(!is_known(arch), "{arch}");
        }
    }

    #[test]
    fn matching_is_case_sensitive_and_version_accurate() {
        assert!(!is_known("NATIVE"));
        assert!(!is_known("X86-64"));
        assert!(!is_known("loongarch64"), "added after systemd 252");
        assert!(!is_known(""));
    }
}
