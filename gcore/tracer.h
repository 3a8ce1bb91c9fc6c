/* tracer.h — stop every thread of a live process with ptrace, take its
 * registers, and always let it go again.
 *
 * Threads are seized (PTRACE_SEIZE) and interrupted (PTRACE_INTERRUPT): no
 * SIGSTOP is sent, so job control and the target's own signals are left
 * alone.  A signal that the kernel dequeued for a thread while we held it
 * (a signal-delivery-stop) is handed back on detach, so none is lost.
 */
#ifndef PYCORE_TRACER_H
#define PYCORE_TRACER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct pc_thread {
	pid_t tid;
	bool stopped;            /* in a ptrace-stop we may read and detach */
	int resend_signal;       /* signal-delivery-stop: re-inject on detach */
	/* Stopped where resuming returns straight to user mode (an interrupt,
	 * group or signal-delivery stop), not inside a system call (a clone
	 * event stop): only such a thread can run an injected system call. */
	bool injectable;

	/* Register sets, as PTRACE_GETREGSET returns them (kernel sizes). */
	struct user_regs_struct regs;
	struct user_fpregs_struct fpregs;
	bool have_fpregs;
	uint8_t *xstate;
	size_t xstate_len;
	siginfo_t siginfo;
	bool have_siginfo;

	/* /proc/PID/task/TID facts for NT_PRSTATUS, read while stopped. */
	uint64_t utime, stime;   /* clock ticks */
	uint64_t sigpend, sighold;
	pid_t ns_tid;            /* its id in its own pid namespace (NSpid), 0: unknown */
};

struct pc_tracer {
	pid_t pid;
	struct pc_thread *threads;  /* threads[0] is the main thread once stopped */
	size_t nthreads, cap;
	bool attached;
};

/* Seize and stop every thread of pid, rescanning /proc/PID/task until no new
 * thread appears; threads created meanwhile are caught by PTRACE_O_TRACECLONE.
 * Gives up after timeout_ms.  *interrupted is polled: when it becomes
 * non-zero the stop is abandoned (PC_EINTR).  On failure the threads already
 * held are released.  Returns 0 or -1 with the error recorded. */
int tracer_stop_all(struct pc_tracer *t, pid_t pid, int timeout_ms,
		    volatile const int *interrupted);

/* Fill regs, fpregs, xstate and siginfo of every stopped thread.
 * Returns 0 or -1. */
int tracer_read_registers(struct pc_tracer *t);

/* Let every held thread go, handing back any signal we intercepted.
 * Safe to call more than once; never fails (there is nothing left to do). */
void tracer_release(struct pc_tracer *t);

void tracer_free(struct pc_tracer *t);

#endif
