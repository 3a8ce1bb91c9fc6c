/* inject.c — one system call run by a stopped thread, through ptrace. */
#include "inject.h"

#include "procfs.h"
#include "../common/error.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCAN_MAX (2u << 20)      /* bytes of libc text searched at most */

#ifndef TRAP_BRKPT
#define TRAP_BRKPT 1
#endif
#ifndef TRAP_TRACE
#define TRAP_TRACE 2
#endif

static bool find_in(struct pc_memreader *mem, const struct pc_mapping *m, uint64_t *insn)
{
	size_t len = m->end - m->start < SCAN_MAX ? m->end - m->start : SCAN_MAX, bad;
	uint8_t *buf = malloc(len);
	bool found = false;

	if (!buf)
		return false;
	if (memreader_read(mem, m->start, buf, len, &bad) == 0 && bad == 0) {
		for (size_t i = 0; i + 1 < len && !found; i++)
			if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
				*insn = m->start + i;
				found = true;
			}
	}
	free(buf);
	pc_clear_error();
	return found;
}

static bool is_libc(const struct pc_mapping *m)
{
	const char *base = m->path ? strrchr(m->path, '/') : NULL;
	return base && m->executable && strncmp(base + 1, "libc.so", 7) == 0;
}

int inject_find_syscall(struct pc_memreader *mem, const struct pc_maplist *maps,
			uint64_t *insn)
{
	for (size_t i = 0; i < maps->n; i++)
		if (maps->v[i].path && strcmp(maps->v[i].path, "[vdso]") == 0 &&
		    find_in(mem, &maps->v[i], insn))
			return 0;
	for (size_t i = 0; i < maps->n; i++)
		if (is_libc(&maps->v[i]) && find_in(mem, &maps->v[i], insn))
			return 0;
	return pc_fail(PC_EINTERNAL, 0, "no syscall instruction found in [vdso] or libc");
}

static int ptrace_failed(const char *what, pid_t tid)
{
	return pc_fail(errno == ESRCH ? PC_EGONE : PC_EINTERNAL, errno, "%s of thread %d",
		       what, (int)tid);
}

/* The registers for the call: the thread's own segment registers and
 * flags, every general register zero but the call's number and arguments
 * (x86-64: rax; rdi, rsi, rdx, r10, r8, r9).  orig_rax -1 tells the kernel
 * that the thread does not come from a system call, so it does not restart
 * the one the thread was interrupted in on its way to our instruction. */
static struct user_regs_struct call_registers(const struct user_regs_struct *saved,
					      uint64_t insn, long nr, const uint64_t a[6])
{
	struct user_regs_struct r = *saved;

	r.r15 = r.r14 = r.r13 = r.r12 = r.rbp = r.rbx = r.r11 = r.rcx = r.rsp = 0;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)-1;
	r.rip = insn;
	r.rdi = a[0];
	r.rsi = a[1];
	r.rdx = a[2];
	r.r10 = a[3];
	r.r8 = a[4];
	r.r9 = a[5];
	return r;
}

/* Wait for the thread's next stop.  Polling, because the main thread of a
 * process killed meanwhile reports its death only once the other threads,
 * which are ours to reap, are gone, so a blocking wait would never return.
 * But not sleeping through the stop: the target is paused until we see it
 * (an injected clone takes ~20 ms per GB), so each poll waits for the
 * SIGCHLD that every stop sends its tracer, 1 ms at most. */
static int wait_stop(pid_t tid, int *status)
{
	const struct timespec tick = { 0, 1000 * 1000 };
	sigset_t chld, old;
	int rc = 0;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &old);   /* queued from here on */
	for (;;) {
		pid_t w = waitpid(tid, status, __WALL | WNOHANG);
		if (w == tid)
			break;
		if (w < 0 && errno != EINTR) {
			rc = pc_fail(errno == ECHILD ? PC_EGONE : PC_EINTERNAL, errno,
				     "waiting for thread %d", (int)tid);
			break;
		}
		if (w == 0 && procfs_is_dead(tid)) {
			rc = pc_fail(PC_EGONE, 0, "thread %d died during an injected system call",
				     (int)tid);
			break;
		}
		if (w == 0)
			sigtimedwait(&chld, NULL, &tick);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc == 0 && !WIFSTOPPED(*status))
		rc = pc_fail(PC_EGONE, 0, "thread %d died during an injected system call", (int)tid);
	return rc;
}

/* A signal that came for the thread during the call (only SIGTRAP can:
 * the others are blocked).  Keep it for the detach if the thread holds
 * none; else send it again, which is what a second standard signal of
 * the same kind would have become anyway: one pending instance. */
static void keep_foreign_signal(struct pc_thread *th, int sig, const siginfo_t *si)
{
	if (!th->resend_signal) {
		th->resend_signal = sig;
		th->siginfo = *si;
		th->have_siginfo = true;
	} else {
		syscall(SYS_tkill, th->tid, sig);
	}
}

/* The instruction itself faulted (it is not where it was looked for):
 * stepping again would only fault again. */
static bool is_fault(int sig, const siginfo_t *si)
{
	return (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) &&
	       si->si_code > 0;
}

/* Single-step the thread over the syscall instruction: resume, and take
 * every stop until the step's own SIGTRAP.  Returns 0 or -1. */
static int step_over_call(struct pc_thread *th, struct inject_result *res)
{
	for (;;) {
		siginfo_t si;
		int status, event;

		if (ptrace(PTRACE_SINGLESTEP, th->tid, 0, 0) < 0)
			return ptrace_failed("PTRACE_SINGLESTEP", th->tid);
		if (wait_stop(th->tid, &status) < 0) {
			th->stopped = false;
			return -1;
		}
		event = status >> 16;
		if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK ||
		    event == PTRACE_EVENT_VFORK) {
			unsigned long child = 0;
			if (ptrace(PTRACE_GETEVENTMSG, th->tid, 0, &child) == 0)
				res->new_child = (pid_t)child;
			continue;
		}
		if (event != 0)    /* a group stop or a stray interrupt: go on */
			continue;
		memset(&si, 0, sizeof si);
		if (ptrace(PTRACE_GETSIGINFO, th->tid, 0, &si) < 0)
			return ptrace_failed("PTRACE_GETSIGINFO", th->tid);
		if (WSTOPSIG(status) == SIGTRAP &&
		    (si.si_code == TRAP_BRKPT || si.si_code == TRAP_TRACE))
			return 0;
		if (is_fault(WSTOPSIG(status), &si))   /* ours: not handed to the thread */
			return pc_fail(PC_EINTERNAL, 0, "the system call injected into thread %d "
				       "faulted (signal %d)", (int)th->tid, WSTOPSIG(status));
		keep_foreign_signal(th, WSTOPSIG(status), &si);
	}
}

static int restore(struct pc_thread *th, const struct user_regs_struct *regs, uint64_t mask)
{
	if (ptrace(PTRACE_SETREGS, th->tid, 0, regs) < 0)
		return ptrace_failed("restoring the registers", th->tid);
	if (ptrace(PTRACE_SETSIGMASK, th->tid, sizeof mask, &mask) < 0)
		return ptrace_failed("restoring the signal mask", th->tid);
	/* The detach hands back the signal the thread was stopped for; the
	 * trap stop it is in now would otherwise give it a siginfo of ours. */
	if (th->resend_signal && th->have_siginfo &&
	    ptrace(PTRACE_SETSIGINFO, th->tid, 0, &th->siginfo) < 0)
		return ptrace_failed("restoring the siginfo", th->tid);
	return 0;
}

int inject_syscall(struct pc_thread *th, uint64_t insn, long nr, const uint64_t args[6],
		   struct inject_result *res)
{
	struct user_regs_struct saved, regs;
	uint64_t mask, block_all_but_trap = ~(1ull << (SIGTRAP - 1));
	int rc;

	memset(res, 0, sizeof *res);
	if (!th->stopped || !th->injectable)
		return pc_fail(PC_EINTERNAL, 0, "thread %d is not stopped where it can make a "
			       "system call", (int)th->tid);
	if (ptrace(PTRACE_GETREGS, th->tid, 0, &saved) < 0)
		return ptrace_failed("reading the registers", th->tid);
	if (ptrace(PTRACE_GETSIGMASK, th->tid, sizeof mask, &mask) < 0)
		return ptrace_failed("reading the signal mask", th->tid);
	if (ptrace(PTRACE_SETSIGMASK, th->tid, sizeof block_all_but_trap, &block_all_but_trap) < 0)
		return ptrace_failed("blocking signals", th->tid);
	regs = call_registers(&saved, insn, nr, args);
	if (ptrace(PTRACE_SETREGS, th->tid, 0, &regs) < 0)
		rc = ptrace_failed("setting the registers", th->tid);
	else
		rc = step_over_call(th, res);
	if (rc == 0 && ptrace(PTRACE_GETREGS, th->tid, 0, &regs) < 0)
		rc = ptrace_failed("reading the result", th->tid);
	if (rc == 0)
		res->ret = (long)regs.rax;
	if (th->stopped && restore(th, &saved, mask) < 0)
		rc = -1;
	/* Now in the trap's signal-delivery-stop: from there too the thread
	 * returns straight to user mode. */
	th->injectable = rc == 0 && th->stopped;
	return rc;
}
