/* snapshot.h — a copy-on-write snapshot of a held process: make it fork a
 * copy of itself that never runs, dump the copy while the process runs on,
 * then kill the copy and have the process reap it.
 *
 * The fork is a raw clone system call injected through ptrace (inject.h):
 * no atfork handler runs, nothing is written into the target.  Its flags
 * are 0: no CLONE_VM, and exit signal 0, so the target gets no SIGCHLD
 * when the copy dies and its own waitpid(-1) never sees the copy (only a
 * __WALL or __WCLONE wait does).
 *
 * The copy starts traced and stopped before its first instruction: the
 * injecting thread was seized with PTRACE_O_TRACECLONE, so the kernel
 * attaches the child to us with a pending stop.  PTRACE_O_EXITKILL is then
 * set on the child, so it is killed if the tracer dies.  It is not set on
 * the target's thread to be inherited by the child: the target would then
 * be killed if the tracer died during the fork.  Between the fork and the
 * option (microseconds), a tracer that died would leave the child to run:
 * it would return from the clone with every register zero but its segment
 * registers (inject.h), fault at its first memory access and die by
 * SIGSEGV (all its signals but SIGTRAP are blocked, so the kernel
 * resets SIGSEGV to the default action; it may leave a kernel core file
 * where the target's RLIMIT_CORE allows one).
 *
 * Reaping: the copy's parent is the target, and a child with exit signal
 * 0 stays a zombie until its parent waits for it with __WALL.  So at the
 * end the copy is killed and its death collected by us as its tracer; then
 * one thread of the target is stopped for a moment and runs an injected
 * wait4(child, NULL, __WALL | WNOHANG) that frees it, at a syscall
 * instruction looked up again (the target may have executed another
 * program since the fork: the copy is still its child, and the old
 * address would fault).  A target that died meanwhile left the copy to
 * init, which reaps it.
 */
#ifndef PYCORE_SNAPSHOT_H
#define PYCORE_SNAPSHOT_H

#include "memread.h"
#include "procmaps.h"
#include "tracer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pc_snapshot {
	pid_t target;
	pid_t child;        /* the stopped copy, 0 when none exists */
	pid_t ns_child;     /* its id in the target's pid namespace (which
			     * differs in a container): what the target's
			     * clone returned and its wait4 takes */
	uint64_t insn;      /* the syscall instruction used for injections */
	pid_t zombie;       /* out of snapshot_end: the copy, if it may be left
			     * a zombie under the target; else 0 */
};

/* With every thread of the target held (tr) and its mappings' layout
 * known (read through mem): fork the stopped copy.
 * Returns 1 with s->child set; 0 when the fork is impossible or refused
 * (why says why in a few words; the target is intact and still held, to be
 * captured stop-the-world); -1 on failure, with the error recorded. */
int snapshot_fork(struct pc_snapshot *s, struct pc_tracer *tr, struct pc_memreader *mem,
		  const struct pc_maplist *layout, char *why, size_t whylen);

/* Kill the copy and have the target reap it.  Does nothing without a copy.
 * Never fails: when the target cannot be stopped to reap (another tracer
 * holds it for more than 2 s), the copy is still killed, and s->zombie
 * names the zombie that may remain under the target. */
void snapshot_end(struct pc_snapshot *s);

#endif
