// SPDX-License-Identifier: MIT OR GPL-2.0
//
// sandgen's in-kernel system call recorder (issue 11). Loaded by src/trace/bpf.rs (aya);
// compiled by scripts/build-bpf.sh into bpf/recorder.bpf.o, which is checked in so that
// `cargo build` needs no clang (CI rebuilds it and fails if it differs).
//
// What it does: for the target tasks only, count each system call by (ABI, number) in a
// per-CPU array; every other task returns after one comparison (or one hash look-up). Nothing
// per event goes to user space: sandgen reads the array once, at the end.
//
// Targets, chosen by the loader through the read-only globals below:
// - cgroup mode (`target_cgroup` != 0): tasks whose cgroup v2 id is the unit's. A task of the
//   unit is armed when it execs (sched_process_exec), so the set-up calls systemd makes in the
//   forked child before it execs the workload (mount, unshare, capset, seccomp, prctl) are not
//   counted; children of armed tasks are armed at fork.
// - whole-cgroup mode (`target_cgroup` != 0 and `whole_cgroup` != 0, for `sandgen learn` on a
//   running unit): every task in the cgroup counts from the moment the program is attached.
//   Its tasks exec'd long ago, so there is no exec to arm them at, and systemd's set-up calls
//   are long over: the unit is armed as a whole. The hot path is then one comparison for
//   every task on the machine and no hash look-up at all.
// - PID mode (`launcher_tgid` != 0, for `--direct`): children that the launcher (sandgen)
//   forks are watched, and armed when they exec; their children are armed at fork.
// Tasks leave the set at exit, so a recycled PID is never counted.
//
// Kernel requirements (the loader says which is missing and falls back to strace):
// - raw tracepoints (BPF_PROG_TYPE_RAW_TRACEPOINT): Linux 4.17. Chosen over classic
//   tracepoints because they attach without tracefs (not mounted on many hosts, nor here)
//   and get the raw arguments without the perf ring's formatting.
// - read-only global data (.rodata as a frozen array map): Linux 5.2. The verifier sees the
//   mode as constants and prunes the other mode's code.
// - bpf_probe_read_kernel: Linux 5.5. With CO-RE relocations (clang's
//   preserve_access_index, applied by aya from /sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF),
//   it reads task_struct fields at the offsets of the running kernel, not of a header.
// - bpf_get_current_cgroup_id: Linux 4.18 (cgroup v2 id; the inode number of the cgroup's
//   directory in the cgroup2 file system since 5.5, which is how the loader learns it).
// - BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY: Linux 4.6.

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

// Syscall numbers at or above this are counted in OUT_OF_RANGE (x32 calls have bit 30 set).
#define MAX_NR 1024
#define NATIVE 0
#define COMPAT MAX_NR
#define OUT_OF_RANGE (2 * MAX_NR)
// How many tasks were armed at exec, and at fork: the trace's process count. An exec that
// arms a task is itself a call of the workload's (made before the task was armed).
#define ARMED_AT_EXEC (2 * MAX_NR + 1)
#define ARMED_AT_FORK (2 * MAX_NR + 2)
#define SLOTS (2 * MAX_NR + 3)

#define WATCHED 1
#define ARMED 2

// The two fields read, with their names only: CO-RE relocates them to the running kernel's
// layout (libbpf's convention; no vmlinux.h is needed for two fields).
struct thread_info {
	__u32 status;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	int pid;
} __attribute__((preserve_access_index));

// The exec'd file's identity, for `skip_exec_*` below: linux_binprm.file (the file being
// exec'd, Linux 2.6+), file.f_inode (3.9+), inode.i_ino and i_sb->s_dev (the kernel's dev_t,
// MKDEV(major, minor) = major << 20 | minor).
struct super_block {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct linux_binprm {
	struct file *file;
} __attribute__((preserve_access_index));

// x86: arch/x86/include/asm/thread_info.h, "32bit syscall active": the call came through
// the i386 entry (int 0x80, sysenter, a 32-bit process's syscall), numbered as i386's.
#define TS_COMPAT 0x0002

// Set by the loader before load (aya EbpfLoader::set_global); see the modes above.
volatile const __u64 target_cgroup = 0;
volatile const __u32 launcher_tgid = 0;
volatile const __u8 whole_cgroup = 0;
// systemd 255 and later fork, exec `systemd-executor` in the unit's cgroup, which sets the
// sandbox up (mount, unshare, pivot_root, seccomp) and only then execs the command: an exec
// of this file (inode number and device, 0 for none) does not arm a task in cgroup mode.
volatile const __u64 skip_exec_ino = 0;
volatile const __u32 skip_exec_dev = 0;

// Task id (thread id, the kernel's pid) -> WATCHED or ARMED. A hash map: any PID may come,
// and look-up by key is what the hot path needs. 65536 tasks at once is more than a unit
// under trace runs; a full map only means later tasks go unrecorded.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} tasks SEC(".maps");

// (ABI, number) -> how many calls. Per-CPU: a plain increment, no atomic instruction and no
// cache line bouncing between CPUs; user space sums the CPUs' values.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&seen, &slot);
	if (n)
		*n += 1;
}

static __always_inline void arm(__u32 tid, __u32 how)
{
	__u8 armed = ARMED;
	bpf_map_update_elem(&tasks, &tid, &armed, BPF_ANY);
	count(how);
}

static __always_inline int in_target_cgroup(void)
{
	return target_cgroup != 0 && bpf_get_current_cgroup_id() == target_cgroup;
}

static __always_inline int is_compat(void)
{
#if defined(__TARGET_ARCH_x86)
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 status = BPF_CORE_READ(task, thread_info.status);
	return (status & TS_COMPAT) != 0;
#else
	// arm64 compat tasks would need TIF_32BIT from thread_info.flags: not recorded apart yet.
	return 0;
#endif
}

// raw_syscalls:sys_enter, args: (struct pt_regs *regs, long id).
SEC("raw_tracepoint/sys_enter")
int sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	// The hot path for every other task on the machine: one comparison in cgroup mode.
	if (target_cgroup != 0 && bpf_get_current_cgroup_id() != target_cgroup)
		return 0;
	if (!(whole_cgroup && target_cgroup != 0)) {
		__u32 tid = (__u32)bpf_get_current_pid_tgid();
		__u8 *state = bpf_map_lookup_elem(&tasks, &tid);
		if (!state || *state != ARMED)
			return 0;
	}
	long nr = (long)ctx->args[1];
	if (nr < 0 || nr >= MAX_NR) {
		count(OUT_OF_RANGE);
		return 0;
	}
	count((__u32)nr + (is_compat() ? COMPAT : NATIVE));
	return 0;
}

static __always_inline int is_skipped_exec(struct linux_binprm *bprm)
{
	if (skip_exec_ino == 0)
		return 0;
	struct inode *inode = BPF_CORE_READ(bprm, file, f_inode);
	return BPF_CORE_READ(inode, i_ino) == skip_exec_ino &&
	       BPF_CORE_READ(inode, i_sb, s_dev) == skip_exec_dev;
}

// sched:sched_process_exec, args: (struct task_struct *p, pid_t old_pid, struct linux_binprm *).
// Runs in the task that exec'd, after the new program replaced the old one.
SEC("raw_tracepoint/sched_process_exec")
int process_exec(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	if (target_cgroup != 0) {
		if (in_target_cgroup() && !is_skipped_exec((struct linux_binprm *)ctx->args[2]))
			arm(tid, ARMED_AT_EXEC);
		return 0;
	}
	__u8 *state = bpf_map_lookup_elem(&tasks, &tid);
	if (state && *state == WATCHED)
		arm(tid, ARMED_AT_EXEC);
	return 0;
}

// sched:sched_process_fork, args: (struct task_struct *parent, struct task_struct *child).
// Also fires for new threads (clone with CLONE_THREAD): each thread is a task of its own.
SEC("raw_tracepoint/sched_process_fork")
int process_fork(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 child_tid = (__u32)BPF_CORE_READ(child, pid);
	__u8 *state = bpf_map_lookup_elem(&tasks, &tid);
	if (state && *state == ARMED) {
		arm(child_tid, ARMED_AT_FORK);
		return 0;
	}
	if (launcher_tgid != 0 && (__u32)(pid_tgid >> 32) == launcher_tgid) {
		__u8 watched = WATCHED;
		bpf_map_update_elem(&tasks, &child_tid, &watched, BPF_ANY);
	}
	return 0;
}

// sched:sched_process_exit, args: (struct task_struct *p). Runs in the exiting task.
SEC("raw_tracepoint/sched_process_exit")
int process_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&tasks, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
