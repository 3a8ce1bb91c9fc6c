/* seccomp.h — would a thread's seccomp filters let an injected system call
 * through?
 *
 * Every container runtime runs its processes under a seccomp filter, and a
 * filter may answer a system call it does not expect by killing the
 * process (SECCOMP_RET_KILL_*), with a SIGSYS, or with an error.  So before
 * a snapshot injects anything, it reads the thread's classic BPF filters
 * (PTRACE_SECCOMP_GET_FILTER: Linux 4.4, CAP_SYS_ADMIN, a kernel built
 * with CONFIG_CHECKPOINT_RESTORE) and runs each one here, as the kernel
 * would, on the exact call to be injected.  Only a call that every filter
 * allows (SECCOMP_RET_ALLOW, or RET_LOG: allowed and logged) is made.
 * Whatever cannot be decided counts as a refusal: filters that cannot be
 * read, an instruction seccomp would not have loaded, a jump out of the
 * program, or a filter that looks at an argument not known yet.
 */
#ifndef PYCORE_SECCOMP_H
#define PYCORE_SECCOMP_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A system call as an injection would make it.  Bit i of unknown says
 * that args[i] is not known yet (the id of a process not yet created):
 * a filter whose answer depends on it is not trusted. */
struct seccomp_call {
	const char *name;       /* for messages: "clone" */
	long nr;                /* x86-64 system call number */
	uint64_t args[6];
	unsigned unknown;
};

enum seccomp_run {
	SECCOMP_RUN_DONE,       /* *action is the filter's answer */
	SECCOMP_RUN_UNKNOWN,    /* it loaded an argument flagged unknown */
	SECCOMP_RUN_INVALID,    /* not a program seccomp runs, or not to its end */
};

/* Run one classic BPF filter on call, made from ip (the address after the
 * syscall instruction, where the kernel says a call comes from).  Pure. */
enum seccomp_run seccomp_filter_run(const struct sock_filter *prog, size_t len,
				    const struct seccomp_call *call, uint64_t ip,
				    uint32_t *action);

/* True when the stopped thread tid may make each of the n calls from ip:
 * it is not under seccomp, or every filter it has allows every call.
 * Else false, with the reason, a phrase, in why. */
bool seccomp_permits(pid_t tid, const struct seccomp_call *calls, size_t n, uint64_t ip,
		     char *why, size_t whylen);

#endif
