//! Static reference tables that policies are validated against: the names the kernel and
//! systemd accept in the sandboxing directives of systemd.exec(5).
//!
//! - [`capabilities`]: `CAP_*` names and bit numbers (`CapabilityBoundingSet=`,
//!   `AmbientCapabilities=`, and the `Cap*` masks in `/proc/PID/status`).
//! - [`errno`]: errno names and numbers (`SystemCallErrorNumber=`, `SystemCallFilter=name:ERRNO`).
//! - [`address_families`]: `AF_*` names (`RestrictAddressFamilies=`).
//! - [`architectures`]: syscall ABI names (`SystemCallArchitectures=`).
//! - [`signals`]: signal names (`SIGSYS`), as systemd and the kernel report a killed process.
//! - [`syscalls`]: syscall names and `@group`s (`SystemCallFilter=`), parsed from
//!   `systemd-analyze syscall-filter` output, with systemd 252's listing built in.
//!
//! Everything here is pure data and pure functions, no I/O. Each module's header says which
//! header file or systemd version its data came from and how to regenerate it. The tables match
//! Debian 12 (kernel 6.1 uAPI headers, glibc 2.36, systemd 252) on x86_64.

pub mod address_families;
pub mod architectures;
pub mod capabilities;
pub mod errno;
pub mod signals;
pub mod syscalls;
