//! What a process's stacked seccomp filters do with each system call, per ABI.
//!
//! Every filter runs on every call and the most restrictive answer wins ([`combine`]). A
//! filter that looks at an argument (systemd's `RestrictAddressFamilies=` on socket(2)'s
//! family, `RestrictNamespaces=` on unshare(2)'s flags, ...) can answer differently for
//! other arguments: such a call is *conditional* when the filters that ignore the arguments
//! let it run (arguments can only make the answer stricter). Calls are evaluated with all
//! arguments zero; the arguments that matter to systemd's directives are probed one by one
//! (address families, namespace types).

use std::collections::BTreeMap;

use serde::Serialize;

use super::action::{combine, Action};
use super::bpf::{Program, SeccompData};
use crate::trace::audit::{SyscallNumbers, AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64};

/// The filters of one process, oldest first (the order `PTRACE_SECCOMP_GET_FILTER`
/// numbers them; the kernel runs them newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters(pub Vec<Program>);

/// The combined answer of the filters to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// What happens with the arguments evaluated.
    #[serde(flatten)]
    pub action: Action,
    /// Whether other arguments can get a stricter answer (a filter read an argument and the
    /// filters that did not let the call run).
    pub conditional: bool,
}

impl Filters {
    /// The answer to the call `data` describes.
    pub fn verdict(&self, data: &SeccompData) -> Verdict {
        let runs: Vec<_> = self.0.iter().rev().map(|p| p.run(data)).collect();
        let ret = combine(runs.iter().map(|r| r.ret));
        let fixed = combine(runs.iter().filter(|r| !r.read_arguments).map(|r| r.ret));
        Verdict {
            action: Action::from_ret(ret),
            conditional: runs.iter().any(|r| r.read_arguments) && Action::from_ret(fixed).runs(),
        }
    }
}

/// A number no ABI sandgen knows has a call for: its answer is the filters' default.
const UNASSIGNED: u32 = 1000;
/// Unnamed numbers below this are evaluated too: a kernel newer than sandgen's tables has
/// calls sandgen cannot name, and a filter that lets one run must say so.
const NUMBERS: u32 = 600;

/// The namespace types of unshare(2)/clone(2) flags (`CLONE_NEW*`, linux/sched.h), in
/// systemd's order (`namespace_info[]`, systemd.exec(5) RestrictNamespaces=).
pub const NAMESPACE_FLAGS: &[(&str, u64)] = &[
    ("cgroup", 0x0200_0000),
    ("ipc", 0x0800_0000),
    ("net", 0x4000_0000),
    ("mnt", 0x0002_0000),
    ("pid", 0x2000_0000),
    ("user", 0x1000_0000),
    ("uts", 0x0400_0000),
];

/// One call with arguments that matter to a directive systemd implements with an argument
/// filter (systemd 252's `seccomp_lock_personality()`, `seccomp_memory_deny_write_execute()`,
/// `seccomp_restrict_suid_sgid()`, `seccomp_restrict_realtime()`): each is refused when the
/// directive is in force, and the same call with zero arguments is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// How a report names it: `personality(PER_LINUX32)`.
    pub name: &'static str,
    /// The call.
    pub call: &'static str,
    /// Its arguments.
    pub args: [u64; 6],
}

/// The argument probes, evaluated on every ABI that has the call.
pub const PROBES: &[Probe] = &[
    // LockPersonality=: any persona but the current one (PER_LINUX) and the query.
    Probe {
        name: "personality(PER_LINUX32)",
        call: "personality",
        args: [0x0008, 0, 0, 0, 0, 0],
    },
    // MemoryDenyWriteExecute=: writable and executable mappings, executable protections.
    Probe {
        name: "mmap(PROT_WRITE|PROT_EXEC)",
        call: "mmap",
        args: [0, 4096, 0x2 | 0x4, 0x22, 0, 0],
    },
    Probe {
        name: "mprotect(PROT_EXEC)",
        call: "mprotect",
        args: [0, 4096, 0x4, 0, 0, 0],
    },
    // RestrictSUIDSGID=: setting the set-user-ID or set-group-ID bit.
    Probe {
        name: "chmod(S_ISUID)",
        call: "chmod",
        args: [0, 0o4000, 0, 0, 0, 0],
    },
    Probe {
        name: "fchmodat(S_ISGID)",
        call: "fchmodat",
        args: [0, 0, 0o2000, 0, 0, 0],
    },
    // RestrictRealtime=: a real-time scheduling policy.
    Probe {
        name: "sched_setscheduler(SCHED_FIFO)",
        call: "sched_setscheduler",
        args: [0, 1, 0, 0, 0, 0],
    },
];

/// What the filters do on one ABI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchFilter {
    /// systemd's name of the ABI (`x86-64`, `x86`, `arm64`).
    pub arch: &'static str,
    /// Its `AUDIT_ARCH_*` value.
    pub audit_arch: u32,
    /// The answer to a number no call has.
    pub default: Action,
    /// Every call sandgen can name, by name.
    pub calls: BTreeMap<String, Verdict>,
    /// Numbers sandgen cannot name whose answer is not the default.
    pub unnamed: BTreeMap<u32, Verdict>,
    /// The address families socket(2) accepts (its first argument), when the ABI has a
    /// socket(2) call.
    pub families: Option<Vec<&'static str>>,
    /// The namespace types unshare(2) accepts, one flag at a time.
    pub namespaces: Option<Vec<&'static str>>,
    /// The answers to the [`PROBES`] of the calls this ABI has, by probe name.
    pub probes: BTreeMap<&'static str, Verdict>,
}

impl ArchFilter {
    /// The calls that run (allowed or logged), conditional ones included.
    pub fn runnable(&self) -> impl Iterator<Item = &str> {
        self.calls
            .iter()
            .filter(|(_, v)| v.action.runs())
            .map(|(n, _)| n.as_str())
    }
}

/// The ABIs a process of this machine can call the kernel through, with their numbers, as
/// found under `root` ([`SyscallNumbers::for_audit_arch`]).
pub fn abis(root: &std::path::Path) -> Vec<(&'static str, u32, SyscallNumbers)> {
    let wanted: &[(&str, u32)] = if cfg!(target_arch = "x86_64") {
        &[("x86-64", AUDIT_ARCH_X86_64), ("x86", AUDIT_ARCH_I386)]
    } else if cfg!(target_arch = "aarch64") {
        &[("arm64", AUDIT_ARCH_AARCH64)]
    } else {
        &[]
    };
    wanted
        .iter()
        .filter_map(|(name, arch)| {
            SyscallNumbers::for_audit_arch(*arch, root).map(|t| (*name, *arch, t))
        })
        .collect()
}

/// Evaluate `filters` for every call of one ABI.
pub fn evaluate(
    filters: &Filters,
    arch: &'static str,
    audit_arch: u32,
    numbers: &SyscallNumbers,
) -> ArchFilter {
    let call = |nr: u32, args: [u64; 6]| {
        filters.verdict(&SeccompData {
            nr,
            arch: audit_arch,
            instruction_pointer: 0,
            args,
        })
    };
    let default = call(UNASSIGNED, [0; 6]);
    let calls = numbers
        .entries()
        .map(|(nr, name)| (name.to_owned(), call(nr, [0; 6])))
        .collect();
    let unnamed = (0..NUMBERS)
        .filter(|nr| numbers.name(*nr).is_none())
        .map(|nr| (nr, call(nr, [0; 6])))
        .filter(|(_, v)| *v != default)
        .collect();
    let families = numbers.number("socket").map(|nr| {
        crate::data::address_families::numbered()
            .filter(|(family, _)| call(nr, [u64::from(*family), 0, 0, 0, 0, 0]).action.runs())
            .map(|(_, name)| name)
            .collect()
    });
    let namespaces = numbers.number("unshare").map(|nr| {
        NAMESPACE_FLAGS
            .iter()
            .filter(|(_, flag)| call(nr, [*flag, 0, 0, 0, 0, 0]).action.runs())
            .map(|(name, _)| *name)
            .collect()
    });
    let probes = PROBES
        .iter()
        .filter_map(|p| Some((p.name, call(numbers.number(p.call)?, p.args))))
        .collect();
    ArchFilter {
        arch,
        audit_arch,
        default: default.action,
        calls,
        unnamed,
        families,
        namespaces,
        probes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::action::{RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS};
    use crate::seccomp::bpf::{Insn, ABS, JEQ, JGT, JMP, K, LD, RET, W};

    fn numbers() -> SyscallNumbers {
        SyscallNumbers::parse_unistd_header(
            "#define __NR_read 0\n#define __NR_write 1\n#define __NR_socket 41\n#define __NR_unshare 272\n",
        )
    }

    fn program(insns: Vec<Insn>) -> Program {
        Program::new(insns).expect("valid")
    }

    /// Allow read, write, socket and unshare; kill everything else, and every other ABI.
    fn allow_list() -> Program {
        program(vec![
            Insn::stmt(LD | W | ABS, 4),
            Insn::jump(JMP | JEQ | K, AUDIT_ARCH_X86_64, 1, 0),
            Insn::stmt(RET | K, RET_KILL_PROCESS),
            Insn::stmt(LD | W | ABS, 0),
            Insn::jump(JMP | JEQ | K, 0, 4, 0),
            Insn::jump(JMP | JEQ | K, 1, 3, 0),
            Insn::jump(JMP | JEQ | K, 41, 2, 0),
            Insn::jump(JMP | JEQ | K, 272, 1, 0),
            Insn::stmt(RET | K, RET_KILL_PROCESS),
            Insn::stmt(RET | K, RET_ALLOW),
        ])
    }

    /// socket(): EAFNOSUPPORT unless the family (low word of arg0) is AF_UNIX (1);
    /// unshare(): EPERM when any flag above CLONE_NEWNS's... is set: allow only 0 and mnt.
    fn arguments() -> Program {
        let low = if cfg!(target_endian = "little") {
            16
        } else {
            20
        };
        program(vec![
            Insn::stmt(LD | W | ABS, 0),
            Insn::jump(JMP | JEQ | K, 41, 0, 3),
            Insn::stmt(LD | W | ABS, low),
            Insn::jump(JMP | JEQ | K, 1, 5, 0),
            Insn::stmt(RET | K, RET_ERRNO | 97),
            Insn::jump(JMP | JEQ | K, 272, 0, 3),
            Insn::stmt(LD | W | ABS, low),
            Insn::jump(JMP | JGT | K, 0x0002_0000, 0, 1),
            Insn::stmt(RET | K, RET_ERRNO | 1),
            Insn::stmt(RET | K, RET_ALLOW),
        ])
    }

    #[test]
    fn stacked_filters_answer_per_call_and_probe_arguments() {
        let filters = Filters(vec![allow_list(), arguments()]);
        let x86 = evaluate(&filters, "x86-64", AUDIT_ARCH_X86_64, &numbers());
        assert_eq!(x86.default, Action::KillProcess);
        assert_eq!(
            x86.runnable().collect::<Vec<_>>(),
            ["read", "unshare", "write"]
        );
        // socket(0) fails with EAFNOSUPPORT, and other families may do otherwise.
        assert_eq!(
            x86.calls["socket"],
            Verdict {
                action: Action::Errno(97),
                conditional: true
            }
        );
        assert_eq!(
            x86.calls["read"],
            Verdict {
                action: Action::Allow,
                conditional: false
            }
        );
        assert!(x86.calls["unshare"].conditional);
        assert_eq!(x86.families, Some(vec!["AF_UNIX"]));
        assert_eq!(x86.namespaces, Some(vec!["mnt"]));
        // Numbers without a name: all killed, as the default.
        assert!(x86.unnamed.is_empty());
        // The other ABI is killed whatever the second filter says.
        let i386 = evaluate(&filters, "x86", AUDIT_ARCH_I386, &numbers());
        assert_eq!(i386.runnable().count(), 0);
        assert!(!i386.calls["socket"].conditional);
        assert_eq!(i386.families, Some(vec![]));
    }

    #[test]
    fn no_filter_allows_everything_and_unnamed_numbers_are_reported() {
        let none = evaluate(&Filters::default(), "x86-64", AUDIT_ARCH_X86_64, &numbers());
        assert_eq!(none.default, Action::Allow);
        assert_eq!(none.runnable().count(), 4);
        assert_eq!(
            none.namespaces.as_ref().map(Vec::len),
            Some(NAMESPACE_FLAGS.len())
        );
        // A filter that allows only number 500, which the table does not name.
        let only = Filters(vec![program(vec![
            Insn::stmt(LD | W | ABS, 0),
            Insn::jump(JMP | JEQ | K, 500, 0, 1),
            Insn::stmt(RET | K, RET_ALLOW),
            Insn::stmt(RET | K, RET_ERRNO | 38),
        ])]);
        let e = evaluate(&only, "x86-64", AUDIT_ARCH_X86_64, &numbers());
        assert_eq!(e.default, Action::Errno(38));
        assert_eq!(e.unnamed.keys().copied().collect::<Vec<_>>(), [500]);
        assert_eq!(e.families, Some(vec![]));
    }

    #[test]
    fn argument_probes_see_what_a_personality_lock_refuses() {
        // personality(): allow only PER_LINUX (0) and the query 0xffffffff.
        let low = if cfg!(target_endian = "little") {
            16
        } else {
            20
        };
        let lock = Filters(vec![program(vec![
            Insn::stmt(LD | W | ABS, 0),
            Insn::jump(JMP | JEQ | K, 135, 0, 4),
            Insn::stmt(LD | W | ABS, low),
            Insn::jump(JMP | JEQ | K, 0, 2, 0),
            Insn::jump(JMP | JEQ | K, 0xffff_ffff, 1, 0),
            Insn::stmt(RET | K, RET_ERRNO | 1),
            Insn::stmt(RET | K, RET_ALLOW),
        ])]);
        let numbers = SyscallNumbers::parse_unistd_header("#define __NR_personality 135\n");
        let e = evaluate(&lock, "x86-64", AUDIT_ARCH_X86_64, &numbers);
        assert_eq!(
            e.probes["personality(PER_LINUX32)"].action,
            Action::Errno(1)
        );
        assert_eq!(e.calls["personality"].action, Action::Allow);
        assert!(e.calls["personality"].conditional);
        // A call the ABI does not have is not probed.
        assert!(!e.probes.contains_key("chmod(S_ISUID)"));
        let open = evaluate(&Filters::default(), "x86-64", AUDIT_ARCH_X86_64, &numbers);
        assert_eq!(
            open.probes["personality(PER_LINUX32)"].action,
            Action::Allow
        );
    }
}
