//! A classic BPF interpreter for seccomp filters (Documentation/networking/filter.rst,
//! seccomp(2)).
//!
//! A seccomp filter is a classic BPF program run on `struct seccomp_data`: the syscall
//! number (offset 0), the `AUDIT_ARCH_*` of the calling ABI (4), the instruction pointer
//! (8, 64 bits) and six 64-bit arguments (16 + 8 * i), in the machine's byte order. The
//! kernel accepts a subset of classic BPF for it (`seccomp_check_filter()` and
//! `bpf_check_classic()` in the kernel): 32-bit absolute loads inside `seccomp_data`,
//! aligned; no packet (`IND`, `MSH`, byte or half-word) loads; jumps only forward and inside
//! the program; scratch memory `M[0..16]`; the last instruction a `RET`. [`Program::new`]
//! refuses what the kernel would refuse, so [`Program::run`] cannot go out of bounds.

use std::fmt;

/// One instruction, as `struct sock_filter` lays it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Class, size, mode or operation, source.
    pub code: u16,
    /// Jump offset when the condition holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// The constant.
    pub k: u32,
}

impl Insn {
    /// `BPF_STMT(code, k)`.
    pub const fn stmt(code: u16, k: u32) -> Self {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// `BPF_JUMP(code, k, jt, jf)`.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Self {
        Insn { code, jt, jf, k }
    }

    /// Decode one 8-byte `struct sock_filter` in the machine's byte order.
    pub fn from_bytes(b: [u8; 8]) -> Self {
        Insn {
            code: u16::from_ne_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

// Opcodes (linux/bpf_common.h, linux/filter.h).
/// `BPF_LD`.
pub const LD: u16 = 0x00;
/// `BPF_LDX`.
pub const LDX: u16 = 0x01;
/// `BPF_ST`.
pub const ST: u16 = 0x02;
/// `BPF_STX`.
pub const STX: u16 = 0x03;
/// `BPF_ALU`.
pub const ALU: u16 = 0x04;
/// `BPF_JMP`.
pub const JMP: u16 = 0x05;
/// `BPF_RET`.
pub const RET: u16 = 0x06;
/// `BPF_MISC`.
pub const MISC: u16 = 0x07;
/// `BPF_W`.
pub const W: u16 = 0x00;
/// `BPF_H`.
pub const H: u16 = 0x08;
/// `BPF_B`.
pub const B: u16 = 0x10;
/// `BPF_IMM`.
pub const IMM: u16 = 0x00;
/// `BPF_ABS`.
pub const ABS: u16 = 0x20;
/// `BPF_IND`.
pub const IND: u16 = 0x40;
/// `BPF_MEM`.
pub const MEM: u16 = 0x60;
/// `BPF_LEN`.
pub const LEN: u16 = 0x80;
/// `BPF_MSH`.
pub const MSH: u16 = 0xa0;
/// `BPF_ADD`.
pub const ADD: u16 = 0x00;
/// `BPF_SUB`.
pub const SUB: u16 = 0x10;
/// `BPF_MUL`.
pub const MUL: u16 = 0x20;
/// `BPF_DIV`.
pub const DIV: u16 = 0x30;
/// `BPF_OR`.
pub const OR: u16 = 0x40;
/// `BPF_AND`.
pub const AND: u16 = 0x50;
/// `BPF_LSH`.
pub const LSH: u16 = 0x60;
/// `BPF_RSH`.
pub const RSH: u16 = 0x70;
/// `BPF_NEG`.
pub const NEG: u16 = 0x80;
/// `BPF_MOD`.
pub const MOD: u16 = 0x90;
/// `BPF_XOR`.
pub const XOR: u16 = 0xa0;
/// `BPF_JA`.
pub const JA: u16 = 0x00;
/// `BPF_JEQ`.
pub const JEQ: u16 = 0x10;
/// `BPF_JGT`.
pub const JGT: u16 = 0x20;
/// `BPF_JGE`.
pub const JGE: u16 = 0x30;
/// `BPF_JSET`.
pub const JSET: u16 = 0x40;
/// `BPF_K`.
pub const K: u16 = 0x00;
/// `BPF_X`.
pub const X: u16 = 0x08;
/// `BPF_A` (a `RET` of the accumulator).
pub const A: u16 = 0x10;
/// `BPF_TAX`.
pub const TAX: u16 = 0x00;
/// `BPF_TXA`.
pub const TXA: u16 = 0x80;

/// `sizeof(struct seccomp_data)`.
pub const DATA_LEN: u32 = 64;
/// `BPF_MAXINSNS`.
pub const MAX_INSNS: usize = 4096;
/// `BPF_MEMWORDS`.
const MEM_WORDS: u32 = 16;

/// `struct seccomp_data`: what a filter sees of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeccompData {
    /// The syscall number, of the ABI `arch` names.
    pub nr: u32,
    /// `AUDIT_ARCH_*` of the calling ABI.
    pub arch: u32,
    /// The instruction pointer.
    pub instruction_pointer: u64,
    /// The arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    /// The 32-bit word at byte `offset` (aligned, below [`DATA_LEN`]), as the kernel loads it
    /// (`populate_seccomp_data()` + `seccomp_check_filter()`): 64-bit fields are two words in
    /// the machine's byte order.
    fn word(&self, offset: u32) -> u32 {
        let half = |v: u64, high: bool| {
            let (lo, hi) = (v as u32, (v >> 32) as u32);
            let first_is_low = cfg!(target_endian = "little");
            if high == first_is_low {
                hi
            } else {
                lo
            }
        };
        match offset {
            0 => self.nr,
            4 => self.arch,
            8 | 12 => half(self.instruction_pointer, offset == 12),
            _ => {
                let i = ((offset - 16) / 8) as usize;
                half(self.args[i.min(5)], offset % 8 == 4)
            }
        }
    }
}

/// Why a program is not one the kernel would attach. `at` is the instruction's index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    /// Empty, or longer than `BPF_MAXINSNS`.
    #[error("a filter has {0} instructions; the kernel takes 1 to 4096")]
    Length(usize),
    /// An opcode seccomp does not allow.
    #[error("instruction {at}: opcode {code:#06x} is not allowed in a seccomp filter")]
    Opcode {
        /// Where.
        at: usize,
        /// The opcode.
        code: u16,
    },
    /// A load outside `struct seccomp_data`, or not 4-byte aligned.
    #[error("instruction {at}: load at offset {offset} is outside struct seccomp_data (64 bytes, 4-byte aligned)")]
    Load {
        /// Where.
        at: usize,
        /// The offset.
        offset: u32,
    },
    /// Scratch memory index out of `M[0..16]`.
    #[error("instruction {at}: scratch memory M[{index}] does not exist (16 words)")]
    Memory {
        /// Where.
        at: usize,
        /// The index.
        index: u32,
    },
    /// A jump past the end of the program.
    #[error("instruction {at}: jumps past the end of the program")]
    Jump {
        /// Where.
        at: usize,
    },
    /// Division or modulo by a constant zero, or a shift by 32 or more.
    #[error("instruction {at}: divides by zero or shifts by {k} bits")]
    Constant {
        /// Where.
        at: usize,
        /// The constant.
        k: u32,
    },
    /// The last instruction does not return.
    #[error("the last instruction is not a return")]
    NoReturn,
}

/// A checked seccomp filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    insns: Vec<Insn>,
}

/// One run's result: the return value, and whether the program looked at anything but the
/// syscall number and architecture (an argument or the instruction pointer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// The filter's return value.
    pub ret: u32,
    /// Whether it loaded an argument or the instruction pointer.
    pub read_arguments: bool,
}

impl Program {
    /// Check `insns` as the kernel does before it attaches a filter.
    ///
    /// # Errors
    ///
    /// A [`ProgramError`] for the first instruction the kernel would refuse.
    pub fn new(insns: Vec<Insn>) -> Result<Self, ProgramError> {
        if insns.is_empty() || insns.len() > MAX_INSNS {
            return Err(ProgramError::Length(insns.len()));
        }
        let n = insns.len();
        for (at, i) in insns.iter().enumerate() {
            let opcode = || ProgramError::Opcode { at, code: i.code };
            let class = i.code & 0x07;
            match class {
                LD | LDX => {
                    let size = i.code & 0x18;
                    let mode = i.code & 0xe0;
                    if size != W {
                        return Err(opcode());
                    }
                    match mode {
                        ABS if class == LD => {
                            if i.k >= DATA_LEN || !i.k.is_multiple_of(4) {
                                return Err(ProgramError::Load { at, offset: i.k });
                            }
                        }
                        MEM if i.k >= MEM_WORDS => {
                            return Err(ProgramError::Memory { at, index: i.k })
                        }
                        IMM | LEN | MEM => {}
                        _ => return Err(opcode()),
                    }
                }
                ST | STX => {
                    if i.code != class {
                        return Err(opcode());
                    }
                    if i.k >= MEM_WORDS {
                        return Err(ProgramError::Memory { at, index: i.k });
                    }
                }
                ALU => {
                    let op = i.code & 0xf0;
                    let src = i.code & 0x08;
                    if i.code & !0xf8 != ALU || op > XOR {
                        return Err(opcode());
                    }
                    if src == K
                        && ((matches!(op, DIV | MOD) && i.k == 0)
                            || (matches!(op, LSH | RSH) && i.k >= 32))
                    {
                        return Err(ProgramError::Constant { at, k: i.k });
                    }
                    if op == NEG && src == X {
                        return Err(opcode());
                    }
                }
                JMP => {
                    let op = i.code & 0xf0;
                    if i.code & !0xf8 != JMP || op > JSET {
                        return Err(opcode());
                    }
                    let next = at + 1;
                    let fits = |off: usize| next + off < n;
                    let ok = if op == JA {
                        i.code == JMP | JA && fits(i.k as usize)
                    } else {
                        fits(usize::from(i.jt)) && fits(usize::from(i.jf))
                    };
                    if !ok {
                        return Err(ProgramError::Jump { at });
                    }
                }
                RET => {
                    if !matches!(i.code & !0x07, K | A) {
                        return Err(opcode());
                    }
                }
                _ => {
                    if !(i.code == MISC | TAX || i.code == MISC | TXA) {
                        return Err(opcode());
                    }
                }
            }
        }
        if insns[n - 1].code & 0x07 != RET {
            return Err(ProgramError::NoReturn);
        }
        Ok(Program { insns })
    }

    /// Decode and check the bytes `PTRACE_SECCOMP_GET_FILTER` returns.
    ///
    /// # Errors
    ///
    /// As [`Program::new`]; a length that is not a multiple of 8 is a [`ProgramError::Length`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ProgramError> {
        if !bytes.len().is_multiple_of(8) {
            return Err(ProgramError::Length(bytes.len() / 8));
        }
        let insns = bytes
            .chunks_exact(8)
            .map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                Insn::from_bytes(b)
            })
            .collect();
        Self::new(insns)
    }

    /// How many instructions it has.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Never: a program has at least one instruction.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Run the program on `data`. Checked programs only jump forward and inside the program,
    /// so this ends after at most `len()` instructions.
    pub fn run(&self, data: &SeccompData) -> Run {
        let (mut a, mut x) = (0u32, 0u32);
        let mut mem = [0u32; MEM_WORDS as usize];
        let mut pc = 0;
        let mut read_arguments = false;
        // `Program::new` proved every index below in range; `get` keeps it so without a panic.
        while let Some(i) = self.insns.get(pc) {
            pc += 1;
            let src = if i.code & 0x08 == X { x } else { i.k };
            match i.code & 0x07 {
                LD => {
                    a = match i.code & 0xe0 {
                        ABS => {
                            read_arguments |= i.k >= 8;
                            data.word(i.k)
                        }
                        LEN => DATA_LEN,
                        MEM => mem[(i.k % MEM_WORDS) as usize],
                        _ => i.k,
                    }
                }
                LDX => {
                    x = match i.code & 0xe0 {
                        LEN => DATA_LEN,
                        MEM => mem[(i.k % MEM_WORDS) as usize],
                        _ => i.k,
                    }
                }
                ST => mem[(i.k % MEM_WORDS) as usize] = a,
                STX => mem[(i.k % MEM_WORDS) as usize] = x,
                ALU => {
                    a = match i.code & 0xf0 {
                        ADD => a.wrapping_add(src),
                        SUB => a.wrapping_sub(src),
                        MUL => a.wrapping_mul(src),
                        // A division by a zero X ends the program with 0 (the kernel's
                        // conversion of classic BPF does so): KILL_THREAD.
                        DIV | MOD if src == 0 => {
                            return Run {
                                ret: 0,
                                read_arguments,
                            }
                        }
                        DIV => a / src,
                        MOD => a % src,
                        OR => a | src,
                        AND => a & src,
                        LSH => a.checked_shl(src).unwrap_or(0),
                        RSH => a.checked_shr(src).unwrap_or(0),
                        NEG => a.wrapping_neg(),
                        _ => a ^ src,
                    }
                }
                JMP => {
                    let op = i.code & 0xf0;
                    if op == JA {
                        pc += i.k as usize;
                        continue;
                    }
                    let taken = match op {
                        JEQ => a == src,
                        JGT => a > src,
                        JGE => a >= src,
                        _ => a & src != 0,
                    };
                    pc += usize::from(if taken { i.jt } else { i.jf });
                }
                RET => {
                    let ret = if i.code & 0x18 == A { a } else { i.k };
                    return Run {
                        ret,
                        read_arguments,
                    };
                }
                _ => {
                    if i.code == MISC | TAX {
                        x = a;
                    } else {
                        a = x;
                    }
                }
            }
        }
        // Unreachable for a checked program (its last instruction returns); the kernel's
        // answer to a program that runs off its end would be 0.
        Run {
            ret: 0,
            read_arguments,
        }
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, i) in self.insns.iter().enumerate() {
            writeln!(
                f,
                "{n:4}: {:#06x} {:3} {:3} {:#010x}",
                i.code, i.jt, i.jf, i.k
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::action::{RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS};

    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;

    fn run(insns: Vec<Insn>, data: &SeccompData) -> Run {
        Program::new(insns).expect("a valid program").run(data)
    }

    fn call(nr: u32, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr,
            arch: AUDIT_ARCH_X86_64,
            instruction_pointer: 0x7fff_1234_5678,
            args,
        }
    }

    /// What systemd installs, in miniature: kill other ABIs, allow read (0) and write (1),
    /// EPERM for everything else.
    fn allow_list() -> Vec<Insn> {
        vec![
            Insn::stmt(LD | W | ABS, 4),
            Insn::jump(JMP | JEQ | K, AUDIT_ARCH_X86_64, 1, 0),
            Insn::stmt(RET | K, RET_KILL_PROCESS),
            Insn::stmt(LD | W | ABS, 0),
            Insn::jump(JMP | JEQ | K, 0, 2, 0),
            Insn::jump(JMP | JEQ | K, 1, 1, 0),
            Insn::stmt(RET | K, RET_ERRNO | 1),
            Insn::stmt(RET | K, RET_ALLOW),
        ]
    }

    #[test]
    fn an_allow_list_filter_gives_the_known_answers() {
        let p = Program::new(allow_list()).expect("valid");
        assert_eq!(p.run(&call(0, [0; 6])).ret, RET_ALLOW);
        assert_eq!(p.run(&call(1, [0; 6])).ret, RET_ALLOW);
        assert_eq!(p.run(&call(2, [0; 6])).ret, RET_ERRNO | 1);
        let i386 = SeccompData {
            arch: 0x4000_0003,
            ..call(0, [0; 6])
        };
        assert_eq!(p.run(&i386).ret, RET_KILL_PROCESS);
        assert!(!p.run(&call(0, [0; 6])).read_arguments);
    }

    #[test]
    fn argument_loads_read_the_low_and_high_words() {
        // socket(AF_INET6 = 10): allow only when the low word of arg0 is 10 and the high 0.
        let (low, high) = if cfg!(target_endian = "little") {
            (16, 20)
        } else {
            (20, 16)
        };
        let p = vec![
            Insn::stmt(LD | W | ABS, high),
            Insn::jump(JMP | JEQ | K, 0, 0, 2),
            Insn::stmt(LD | W | ABS, low),
            Insn::jump(JMP | JEQ | K, 10, 1, 0),
            Insn::stmt(RET | K, RET_ERRNO | 97),
            Insn::stmt(RET | K, RET_ALLOW),
        ];
        let r = run(p.clone(), &call(41, [10, 0, 0, 0, 0, 0]));
        assert_eq!(r.ret, RET_ALLOW);
        assert!(r.read_arguments);
        assert_eq!(
            run(p.clone(), &call(41, [2, 0, 0, 0, 0, 0])).ret,
            RET_ERRNO | 97
        );
        assert_eq!(
            run(p, &call(41, [10 | 1 << 32, 0, 0, 0, 0, 0])).ret,
            RET_ERRNO | 97
        );
        // The last argument, and the instruction pointer.
        let last = if cfg!(target_endian = "little") {
            56
        } else {
            60
        };
        let p = vec![Insn::stmt(LD | W | ABS, last), Insn::stmt(RET | A, 0)];
        assert_eq!(run(p, &call(0, [0, 0, 0, 0, 0, 77])).ret, 77);
        let ip = if cfg!(target_endian = "little") {
            12
        } else {
            8
        };
        let p = vec![Insn::stmt(LD | W | ABS, ip), Insn::stmt(RET | A, 0)];
        assert_eq!(run(p, &call(0, [0; 6])).ret, 0x7fff);
    }

    #[test]
    fn every_alu_operation_with_k_and_x() {
        let d = call(0, [0; 6]);
        // A = 12 OP k, returned.
        let with_k = |op: u16, k: u32| {
            run(
                vec![
                    Insn::stmt(LD | IMM, 12),
                    Insn::stmt(ALU | op | K, k),
                    Insn::stmt(RET | A, 0),
                ],
                &d,
            )
            .ret
        };
        assert_eq!(with_k(ADD, 5), 17);
        assert_eq!(with_k(SUB, 13), u32::MAX);
        assert_eq!(with_k(MUL, 3), 36);
        assert_eq!(with_k(DIV, 5), 2);
        assert_eq!(with_k(MOD, 5), 2);
        assert_eq!(with_k(OR, 3), 15);
        assert_eq!(with_k(AND, 6), 4);
        assert_eq!(with_k(LSH, 2), 48);
        assert_eq!(with_k(RSH, 2), 3);
        assert_eq!(with_k(XOR, 5), 9);
        assert_eq!(with_k(NEG, 0), 12u32.wrapping_neg());
        // The same through X, loaded by LDX IMM, and TXA/TAX and the scratch memory.
        let with_x = |op: u16, x: u32| {
            run(
                vec![
                    Insn::stmt(LDX | W | IMM, x),
                    Insn::stmt(STX, 3),
                    Insn::stmt(LD | IMM, 12),
                    Insn::stmt(ST, 4),
                    Insn::stmt(LDX | W | MEM, 3),
                    Insn::stmt(LD | W | MEM, 4),
                    Insn::stmt(ALU | op | X, 0),
                    Insn::stmt(RET | A, 0),
                ],
                &d,
            )
            .ret
        };
        assert_eq!(with_x(ADD, 5), 17);
        assert_eq!(with_x(SUB, 2), 10);
        assert_eq!(with_x(MUL, 2), 24);
        assert_eq!(with_x(DIV, 4), 3);
        assert_eq!(with_x(MOD, 7), 5);
        assert_eq!(with_x(OR, 1), 13);
        assert_eq!(with_x(AND, 4), 4);
        assert_eq!(with_x(LSH, 1), 24);
        assert_eq!(with_x(RSH, 40), 0, "a shift by X >= 32 gives 0");
        assert_eq!(with_x(XOR, 12), 0);
        // Division by a zero X ends the program with 0, KILL_THREAD.
        assert_eq!(with_x(DIV, 0), 0);
        assert_eq!(with_x(MOD, 0), 0);
        let misc = run(
            vec![
                Insn::stmt(LD | IMM, 9),
                Insn::stmt(MISC | TAX, 0),
                Insn::stmt(LD | IMM, 1),
                Insn::stmt(MISC | TXA, 0),
                Insn::stmt(RET | A, 0),
            ],
            &d,
        );
        assert_eq!(misc.ret, 9);
        let len = run(
            vec![
                Insn::stmt(LDX | W | LEN, 0),
                Insn::stmt(MISC | TXA, 0),
                Insn::stmt(RET | A, 0),
            ],
            &d,
        );
        assert_eq!(len.ret, 64);
        let len = run(
            vec![Insn::stmt(LD | W | LEN, 0), Insn::stmt(RET | A, 0)],
            &d,
        );
        assert_eq!(len.ret, 64);
    }

    #[test]
    fn every_jump_with_k_and_x() {
        let d = call(6, [0; 6]);
        // if (nr OP k) return 1 else return 2
        let cond = |code: u16, k: u32| {
            run(
                vec![
                    Insn::stmt(LDX | W | IMM, k),
                    Insn::stmt(LD | W | ABS, 0),
                    Insn::jump(JMP | code, k, 0, 1),
                    Insn::stmt(RET | K, 1),
                    Insn::stmt(RET | K, 2),
                ],
                &d,
            )
            .ret
        };
        for src in [K, X] {
            assert_eq!(cond(JEQ | src, 6), 1);
            assert_eq!(cond(JEQ | src, 7), 2);
            assert_eq!(cond(JGT | src, 5), 1);
            assert_eq!(cond(JGT | src, 6), 2);
            assert_eq!(cond(JGE | src, 6), 1);
            assert_eq!(cond(JGE | src, 7), 2);
            assert_eq!(cond(JSET | src, 2), 1);
            assert_eq!(cond(JSET | src, 1), 2);
        }
        let ja = run(
            vec![
                Insn::stmt(JMP | JA, 1),
                Insn::stmt(RET | K, 1),
                Insn::stmt(RET | K, 2),
            ],
            &d,
        );
        assert_eq!(ja.ret, 2);
    }

    #[test]
    fn programs_the_kernel_refuses_are_refused() {
        let ret = Insn::stmt(RET | K, RET_ALLOW);
        assert_eq!(Program::new(vec![]), Err(ProgramError::Length(0)));
        assert_eq!(
            Program::new(vec![ret; MAX_INSNS + 1]),
            Err(ProgramError::Length(4097))
        );
        // Jumps past the end, conditional and unconditional.
        assert_eq!(
            Program::new(vec![Insn::jump(JMP | JEQ | K, 0, 1, 0), ret]),
            Err(ProgramError::Jump { at: 0 })
        );
        assert_eq!(
            Program::new(vec![Insn::jump(JMP | JEQ | K, 0, 0, 2), ret, ret]),
            Err(ProgramError::Jump { at: 0 })
        );
        assert_eq!(
            Program::new(vec![Insn::stmt(JMP | JA, 1), ret]),
            Err(ProgramError::Jump { at: 0 })
        );
        // Loads outside seccomp_data, unaligned, and packet loads.
        assert_eq!(
            Program::new(vec![Insn::stmt(LD | W | ABS, 64), ret]),
            Err(ProgramError::Load { at: 0, offset: 64 })
        );
        assert_eq!(
            Program::new(vec![Insn::stmt(LD | W | ABS, 2), ret]),
            Err(ProgramError::Load { at: 0, offset: 2 })
        );
        for code in [
            LD | H | ABS,
            LD | B | ABS,
            LD | W | IND,
            LDX | B | MSH,
            LDX | W | ABS,
        ] {
            assert_eq!(
                Program::new(vec![Insn::stmt(code, 0), ret]),
                Err(ProgramError::Opcode { at: 0, code }),
                "{code:#x}"
            );
        }
        // Scratch memory out of range.
        assert_eq!(
            Program::new(vec![Insn::stmt(ST, 16), ret]),
            Err(ProgramError::Memory { at: 0, index: 16 })
        );
        assert_eq!(
            Program::new(vec![Insn::stmt(LD | W | MEM, 16), ret]),
            Err(ProgramError::Memory { at: 0, index: 16 })
        );
        // Constant division by zero and over-wide shifts.
        assert_eq!(
            Program::new(vec![Insn::stmt(ALU | DIV | K, 0), ret]),
            Err(ProgramError::Constant { at: 0, k: 0 })
        );
        assert_eq!(
            Program::new(vec![Insn::stmt(ALU | LSH | K, 32), ret]),
            Err(ProgramError::Constant { at: 0, k: 32 })
        );
        // An unknown class-7 opcode, and a program that does not end in a return.
        assert_eq!(
            Program::new(vec![Insn::stmt(MISC | 0x40, 0), ret]),
            Err(ProgramError::Opcode { at: 0, code: 0x47 })
        );
        assert_eq!(
            Program::new(vec![Insn::stmt(LD | IMM, 0)]),
            Err(ProgramError::NoReturn)
        );
        assert_eq!(Program::from_bytes(&[0; 7]), Err(ProgramError::Length(0)));
    }

    #[test]
    fn bytes_decode_in_the_machines_order() {
        let mut bytes = Vec::new();
        for i in allow_list() {
            bytes.extend_from_slice(&i.code.to_ne_bytes());
            bytes.extend_from_slice(&[i.jt, i.jf]);
            bytes.extend_from_slice(&i.k.to_ne_bytes());
        }
        let p = Program::from_bytes(&bytes).expect("valid");
        assert_eq!(p, Program::new(allow_list()).expect("valid"));
        assert_eq!(p.len(), 8);
    }
}
