//! Seccomp filters as the kernel enforces them: read from a running process
//! ([`read`], `ptrace(PTRACE_SECCOMP_GET_FILTER)`), checked and run by a classic BPF
//! interpreter ([`bpf`]), stacked the kernel's way ([`action`]), and evaluated for every
//! system call number of each ABI ([`table`]).

pub mod action;
pub mod bpf;
pub mod read;
pub mod report;
pub mod table;
