/* inject.h — make a stopped thread run one system call, and put it back
 * exactly as it was.
 *
 * Nothing is written into the target's memory: the thread's instruction
 * pointer is aimed at a `syscall` instruction (the bytes 0f 05) that is
 * already mapped there, in the [vdso] or in libc's text, and the thread is
 * single-stepped over it.  Every other general register is zeroed for the
 * call, so that a forked child that ever ran past it would fault on its
 * first memory access instead of running the application (snapshot.h).
 *
 * While the call runs, every signal the thread could take is blocked
 * (PTRACE_SETSIGMASK), so none is dequeued, and none makes a fork fail and
 * restart; SIGTRAP stays open because the kernel forces the single-step
 * trap through, and would reset the target's SIGTRAP handler to the
 * default if it were blocked.  Afterwards the registers (orig_rax
 * included, so an interrupted system call restarts as it would have) and
 * the signal mask are restored.  The thread is then left in the
 * single-step trap's signal-delivery-stop: detaching it with 0 discards
 * that trap, detaching it with the thread's resend_signal delivers the
 * signal it had been stopped for, with its own siginfo restored.
 */
#ifndef PYCORE_INJECT_H
#define PYCORE_INJECT_H

#include "memread.h"
#include "procmaps.h"
#include "tracer.h"

#include <stdint.h>

struct inject_result {
	long ret;          /* the call's return value: -errno on failure */
	pid_t new_child;   /* a fork/clone's child (PTRACE_EVENT_CLONE), else 0 */
};

/* The address of a syscall instruction in [vdso], else in an executable
 * mapping of libc, read through mem.  Returns 0 with the address, or -1
 * with the error recorded. */
int inject_find_syscall(struct pc_memreader *mem, const struct pc_maplist *maps,
			uint64_t *insn);

/* Run system call nr with args in th (stopped, th->injectable).  Returns 0
 * with *res filled (the call itself may have failed: see res->ret), or -1
 * when ptrace failed or the process died (PC_EGONE); on -1 the thread's
 * registers and mask have been restored whenever that was still possible. */
int inject_syscall(struct pc_thread *th, uint64_t insn, long nr, const uint64_t args[6],
		   struct inject_result *res);

#endif
