/* snapshot.c — fork a held process into a stopped copy, and reap the copy. */
#include "snapshot.h"

#include "../common/error.h"
#include "inject.h"
#include "procfs.h"
#include "seccomp.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif

/* flags 0: exit signal 0 (no SIGCHLD for the target), no CLONE_VM */
static const uint64_t clone_args[6] = { 0 };
#define REAP_OPTIONS (__WALL | WNOHANG)

/* Would the target's seccomp filters let through what a snapshot injects:
 * the clone, then wait4 to free the copy's zombie, and kill should the
 * copy escape us?  The copy's id, their first argument, does not exist
 * yet.  The kernel shows a filter the address after the syscall
 * instruction (2 bytes) as where a call comes from. */
static bool injections_permitted(const struct pc_thread *th, uint64_t insn, char *why,
				 size_t whylen)
{
	struct seccomp_call calls[] = {
		{ "clone", SYS_clone, { 0 }, 0 },
		{ "wait4", SYS_wait4, { 0, 0, REAP_OPTIONS }, 1u << 0 },
		{ "kill", SYS_kill, { 0, SIGKILL }, 1u << 0 },
	};

	memcpy(calls[0].args, clone_args, sizeof clone_args);
	return seccomp_permits(th->tid, calls, sizeof calls / sizeof calls[0], insn + 2, why,
			       whylen);
}

/* One more injection, with every argument known: the thread that makes it
 * may not be the one whose filters were asked before the fork. */
static bool injection_permitted(const struct pc_thread *th, uint64_t insn, const char *name,
				long nr, const uint64_t args[6])
{
	struct seccomp_call call = { name, nr, { 0 }, 0 };
	char why[256];

	memcpy(call.args, args, sizeof call.args);
	return seccomp_permits(th->tid, &call, 1, insn + 2, why, sizeof why);
}

/* The main thread if it can run a system call, else another that can. */
static struct pc_thread *injecting_thread(struct pc_tracer *tr)
{
	for (size_t i = 0; i < tr->nthreads; i++)
		if (tr->threads[i].stopped && tr->threads[i].injectable)
			return &tr->threads[i];
	return NULL;
}

/* Wait for the new child's first stop, before its first instruction. */
static int child_stopped(pid_t child)
{
	int status;

	for (;;) {
		pid_t w = waitpid(child, &status, __WALL);
		if (w == child)
			break;
		if (w < 0 && errno != EINTR)
			return pc_fail(PC_EINTERNAL, errno, "waiting for the snapshot process %d",
				       (int)child);
	}
	if (!WIFSTOPPED(status))
		return pc_fail(PC_EINTERNAL, 0, "the snapshot process %d died at birth", (int)child);
	return 0;
}

/* Collect the death of the killed child as its tracer. */
static void collect_child(pid_t child)
{
	int status;

	for (;;) {
		pid_t w = waitpid(child, &status, __WALL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || WIFEXITED(status) || WIFSIGNALED(status))
			return;
	}
}

/* Free the dead child's zombie from inside the target, trying up to
 * tries times (a child killed a moment ago may not be a zombie yet).
 * Returns true when the target's wait4 returned the child. */
static bool reap_in_target(struct pc_thread *th, uint64_t insn, pid_t child, int tries)
{
	const uint64_t args[6] = { (uint64_t)child, 0, REAP_OPTIONS, 0, 0, 0 };
	struct inject_result res;

	if (!injection_permitted(th, insn, "wait4", SYS_wait4, args))
		return false;
	for (int i = 0; i < tries; i++) {
		if (inject_syscall(th, insn, SYS_wait4, args, &res) < 0)
			pc_clear_error();
		else if (res.ret == child)
			return true;
	}
	return false;
}

/* Kill the child from inside the target, where its id is the clone's
 * return value: we may not know it by any id of ours. */
static void kill_in_target(struct pc_thread *th, uint64_t insn, pid_t child)
{
	const uint64_t args[6] = { (uint64_t)child, SIGKILL, 0, 0, 0, 0 };
	struct inject_result res;

	if (injection_permitted(th, insn, "kill", SYS_kill, args) &&
	    inject_syscall(th, insn, SYS_kill, args, &res) < 0)
		pc_clear_error();
}

/* The id process pid (ours) has in its own pid namespace. */
static pid_t id_inside(pid_t pid)
{
	long id = pid;

	procfs_ns_pid(pid, &id, NULL);
	return (pid_t)id;
}

static void kill_child(struct pc_snapshot *s)
{
	kill(s->child, SIGKILL);
	collect_child(s->child);
}

int snapshot_fork(struct pc_snapshot *s, struct pc_tracer *tr, struct pc_memreader *mem,
		  const struct pc_maplist *layout, char *why, size_t whylen)
{
	struct pc_thread *th = injecting_thread(tr);
	struct inject_result res;

	memset(s, 0, sizeof *s);
	s->target = tr->pid;
	if (!th) {
		snprintf(why, whylen, "no thread is stopped where it can make a system call");
		return 0;
	}
	if (inject_find_syscall(mem, layout, &s->insn) < 0) {
		snprintf(why, whylen, "%s", pc_errmsg());
		pc_clear_error();
		return 0;
	}
	if (!injections_permitted(th, s->insn, why, whylen))
		return 0;
	if (inject_syscall(th, s->insn, SYS_clone, clone_args, &res) < 0) {
		if (res.new_child > 0) {   /* attached to us, never to run */
			kill(res.new_child, SIGKILL);
			collect_child(res.new_child);
		}
		if (pc_errcode() == PC_EGONE)   /* a held thread dies only with its process */
			pc_fail(PC_EGONE, 0, "pid %d was killed during capture", (int)tr->pid);
		return -1;
	}
	if (res.ret < 0) {
		snprintf(why, whylen, "its clone failed: %s", strerror((int)-res.ret));
		return 0;
	}
	/* In a container the clone returns the id the target knows its child
	 * by; the ptrace event gives ours. */
	s->ns_child = (pid_t)res.ret;
	s->child = res.new_child;
	if (!s->child || id_inside(s->child) != s->ns_child) {
		/* Not attached to us: it must not live a moment longer. */
		if (s->child)
			kill_child(s);
		kill_in_target(th, s->insn, s->ns_child);
		reap_in_target(th, s->insn, s->ns_child, 1000);
		s->child = 0;
		return pc_fail(PC_EINTERNAL, 0, "the forked copy was not attached to the tracer");
	}
	if (child_stopped(s->child) < 0 ||
	    ptrace(PTRACE_SETOPTIONS, s->child, 0, PTRACE_O_EXITKILL) < 0) {
		int err = errno;
		kill_child(s);
		reap_in_target(th, s->insn, s->ns_child, 1);
		s->child = 0;
		return pc_fail(PC_EINTERNAL, err, "holding the snapshot process");
	}
	return 1;
}

/* Seize tid and wait for it to stop.  A signal it was about to take is
 * kept for the detach.  Returns 0, or -1 when it cannot be held. */
static int hold_thread(pid_t tid, struct pc_thread *th)
{
	int status;

	memset(th, 0, sizeof *th);
	th->tid = tid;
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
		return -1;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return -1;
	for (;;) {
		pid_t w = waitpid(tid, &status, __WALL);
		if (w == tid)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
	}
	if (!WIFSTOPPED(status))
		return -1;
	th->stopped = true;
	th->injectable = (status >> 16) == 0 || (status >> 16) == PTRACE_EVENT_STOP;
	if ((status >> 16) == 0) {
		th->resend_signal = WSTOPSIG(status);
		th->have_siginfo = ptrace(PTRACE_GETSIGINFO, tid, 0, &th->siginfo) == 0;
	}
	return 0;
}

static void release_thread(struct pc_thread *th)
{
	if (th->stopped)
		ptrace(PTRACE_DETACH, th->tid, 0, th->resend_signal);
	th->stopped = false;
}

/* Hold one thread of the target that can run a system call: the main
 * thread first, else any other.  Returns 0 or -1. */
static int hold_any_thread(pid_t pid, struct pc_thread *th)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int rc = -1;

	if (hold_thread(pid, th) == 0 && th->injectable)
		return 0;
	release_thread(th);
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if (!(dir = opendir(path)))
		return -1;
	while (rc < 0 && (de = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid <= 0 || tid == pid)
			continue;
		if (hold_thread(tid, th) == 0 && th->injectable)
			rc = 0;
		else
			release_thread(th);
	}
	closedir(dir);
	return rc;
}

/* A syscall instruction of the program the target runs now: it may have
 * executed another since the fork, where the old address would fault. */
static bool current_syscall(pid_t pid, uint64_t *insn)
{
	struct pc_maplist maps;
	struct pc_memreader mem;
	bool found;

	if (procmaps_read_layout(pid, &maps) < 0) {
		pc_clear_error();
		return false;
	}
	memreader_init(&mem, pid, MEMREAD_VM_READV);
	found = inject_find_syscall(&mem, &maps, insn) == 0;
	memreader_close(&mem);
	procmaps_free(&maps);
	pc_clear_error();
	return found;
}

/* Hold a thread of the target, waiting up to 2 s for another tracer (a
 * second capture started meanwhile holds it for milliseconds) to leave. */
static bool hold_target(pid_t pid, struct pc_thread *th)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 200; i++) {
		if (hold_any_thread(pid, th) == 0)
			return true;
		if (procfs_is_dead(pid))
			return false;
		nanosleep(&nap, NULL);
	}
	return false;
}

void snapshot_end(struct pc_snapshot *s)
{
	struct pc_error_box pending = { 0 };
	bool failing = pc_errcode() != PC_OK;
	struct pc_thread th;
	bool held, reaped;
	uint64_t insn;

	if (!s->child)
		return;
	/* The cleanup clears errors of its own (a failed step here is the
	 * zombie warning); the caller's pending one must survive it. */
	if (failing)
		pc_error_capture(&pending);
	/* The copy's death takes as long as the kernel needs to tear down its
	 * page tables (tens of ms per GB), so it is collected before a thread
	 * of the target is stopped: a thread stopped meanwhile might hold the
	 * interpreter's lock and stall every other thread.  The price is a
	 * zombie under the target if we died between the two steps. */
	kill_child(s);
	held = hold_target(s->target, &th);
	reaped = held && current_syscall(s->target, &insn) &&
		 reap_in_target(&th, insn, s->ns_child, 1);
	if (!reaped && !procfs_is_dead(s->target))   /* a dead target's zombies go to init */
		s->zombie = s->child;
	if (held)
		release_thread(&th);
	s->child = 0;
	if (failing)
		pc_error_raise(&pending);
}
