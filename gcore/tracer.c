/* tracer.c — seize, stop, read and release every thread of a process. */
#include "tracer.h"

#include "../common/error.h"
#include "procfs.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
#define XSTATE_MAX (64 * 1024)

static struct pc_thread *find_thread(struct pc_tracer *t, pid_t tid)
{
	for (size_t i = 0; i < t->nthreads; i++)
		if (t->threads[i].tid == tid)
			return &t->threads[i];
	return NULL;
}

static struct pc_thread *add_thread(struct pc_tracer *t, pid_t tid)
{
	if (t->nthreads == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct pc_thread *nv = realloc(t->threads, ncap * sizeof *nv);
		if (!nv) {
			pc_fail(PC_EINTERNAL, ENOMEM, "tracking threads");
			return NULL;
		}
		t->threads = nv;
		t->cap = ncap;
	}
	memset(&t->threads[t->nthreads], 0, sizeof t->threads[0]);
	t->threads[t->nthreads].tid = tid;
	return &t->threads[t->nthreads++];
}

static void forget_thread(struct pc_tracer *t, struct pc_thread *th)
{
	free(th->xstate);
	*th = t->threads[--t->nthreads];
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static long task_tracer_pid(pid_t pid, pid_t tid)
{
	char name[64];
	long tracer = 0;
	char *status;

	snprintf(name, sizeof name, "task/%d/status", (int)tid);
	status = procfs_slurp(pid, name, NULL);
	if (status) {
		procfs_status_dec(status, "TracerPid", &tracer);
		free(status);
	}
	return tracer;
}

static int permission_error(pid_t pid)
{
	char buf[16] = "";
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	if (f) {
		if (!fgets(buf, sizeof buf, f))
			buf[0] = '\0';
		fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
	}
	return pc_fail(PC_EPERM, 0,
		       "not allowed to trace pid %d: run as root, or give "
		       "pycore-capture CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep), "
		       "or set kernel.yama.ptrace_scope to 0%s%s%s", (int)pid,
		       buf[0] ? " (now " : "", buf, buf[0] ? ")" : "");
}

/* PTRACE_SEIZE also fails with EPERM on a thread that is exiting.  The
 * kernel's check for opening /proc/PID/mem is the one for ptrace: if it
 * passes (or the process is gone), the thread was only on its way out. */
static bool may_trace(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd >= 0 || (errno != EACCES && errno != EPERM);
}

/* Seize one thread and ask it to stop.  A thread that vanished is fine. */
static int seize_thread(struct pc_tracer *t, pid_t tid)
{
	if (find_thread(t, tid))
		return 0;
	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC) < 0) {
		long tracer;
		if (errno == ESRCH)
			return 0;
		if (errno != EPERM)
			return pc_fail(PC_EINTERNAL, errno, "PTRACE_SEIZE %d", (int)tid);
		tracer = task_tracer_pid(t->pid, tid);
		if (tracer == getpid())    /* auto-attached by TRACECLONE */
			return add_thread(t, tid) ? 0 : -1;
		if (tracer > 0)
			return pc_fail(PC_EBUSY, 0,
				       "pid %d is already traced by pid %ld "
				       "(a debugger?): detach it first",
				       (int)t->pid, tracer);
		return may_trace(t->pid) ? 0 : permission_error(t->pid);
	}
	t->attached = true;
	if (!add_thread(t, tid))
		return -1;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 && errno != ESRCH)
		return pc_fail(PC_EINTERNAL, errno, "PTRACE_INTERRUPT %d", (int)tid);
	return 0;
}

/* Seize every thread listed in /proc/PID/task that we do not hold yet.
 * Returns how many were seized, or -1. */
static int seize_listed_threads(struct pc_tracer *t)
{
	char path[64];
	struct dirent *de;
	int fresh = 0;
	DIR *dir;

	snprintf(path, sizeof path, "/proc/%d/task", (int)t->pid);
	dir = opendir(path);
	if (!dir) {
		if (errno == ENOENT)
			return pc_fail(t->attached ? PC_EGONE : PC_ENOPROC, 0,
				       t->attached ? "pid %d exited during capture"
						   : "no process with pid %d",
				       (int)t->pid);
		return pc_fail(PC_EINTERNAL, errno, "reading %s", path);
	}
	while ((de = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(de->d_name);
		size_t had = t->nthreads;

		if (tid <= 0 || find_thread(t, tid))
			continue;
		if (seize_thread(t, tid) < 0) {
			closedir(dir);
			return -1;
		}
		fresh += t->nthreads > had;   /* not a thread on its way out */
	}
	closedir(dir);
	return fresh;
}

static int count_running(const struct pc_tracer *t)
{
	int n = 0;
	for (size_t i = 0; i < t->nthreads; i++)
		n += !t->threads[i].stopped;
	return n;
}

/* Account for one wait status.  Returns 0 or -1 (the process is gone). */
static int note_wait_status(struct pc_tracer *t, pid_t tid, int status)
{
	struct pc_thread *th = find_thread(t, tid);

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (th)
			forget_thread(t, th);
		if (tid == t->pid) {
			if (WIFSIGNALED(status))
				return pc_fail(PC_EGONE, 0, "pid %d was killed by signal %d during capture",
					       (int)t->pid, WTERMSIG(status));
			return pc_fail(PC_EGONE, 0, "pid %d exited with status %d during capture",
				       (int)t->pid, WEXITSTATUS(status));
		}
		return 0;
	}
	if (!WIFSTOPPED(status))
		return 0;
	if (!th && !(th = add_thread(t, tid)))   /* auto-attached child */
		return -1;
	th->stopped = true;
	th->injectable = (status >> 16) == 0 || (status >> 16) == PTRACE_EVENT_STOP;
	switch (status >> 16) {
	case PTRACE_EVENT_CLONE: {
		unsigned long child = 0;
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) == 0 &&
		    !find_thread(t, (pid_t)child) && !add_thread(t, (pid_t)child))
			return -1;
		break;
	}
	case 0:
		/* A signal-delivery-stop: the kernel has dequeued this signal.
		 * Give it back on detach or it would be lost. */
		th->resend_signal = WSTOPSIG(status);
		break;
	case PTRACE_EVENT_EXEC:
		/* A thread was inside execve when it was seized: the memory and
		 * the threads we hold are no longer the program's. */
		return pc_fail(PC_EEXEC, 0, "pid %d executed a new program during capture",
			       (int)t->pid);
	default:  /* PTRACE_EVENT_STOP: our interrupt, a group-stop, a new thread */
		break;
	}
	return 0;
}

/* Take the pending status of each thread not yet stopped, by its own id:
 * a wait for one id costs the kernel a lookup, where waitpid(-1) scans
 * every tracee (quadratic over a stop of thousands of threads).  A
 * thread whose id vanished without an exit status changed it in an
 * execve (the exec stop then comes under the process id).  Returns how
 * many statuses were taken, or -1. */
static int take_stops(struct pc_tracer *t)
{
	size_t i = 0;
	int taken = 0;

	while (i < t->nthreads) {
		struct pc_thread *th = &t->threads[i];
		pid_t tid = th->tid, w;
		int status;

		if (th->stopped) {
			i++;
			continue;
		}
		w = waitpid(tid, &status, __WALL | WNOHANG);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != ECHILD)
			return pc_fail(PC_EINTERNAL, errno, "waitpid %d", (int)tid);
		if (w < 0)
			forget_thread(t, th);
		else if (w > 0 && note_wait_status(t, w, status) < 0)
			return -1;
		taken += w != 0;
		/* The array may have changed: slot i now holds another thread. */
		if (w == 0 || (i < t->nthreads && t->threads[i].tid == tid))
			i++;
	}
	return taken;
}

/* Once every thread is stopped: any other status pending (an exec stop
 * under the process id, the deaths of a process killed meanwhile).  One
 * scan of the tracees.  Returns how many were taken, or -1. */
static int take_stragglers(struct pc_tracer *t)
{
	int status, taken = 0;
	pid_t w;

	while ((w = waitpid(-1, &status, __WALL | WNOHANG)) != 0) {
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == ECHILD ? taken : pc_fail(PC_EINTERNAL, errno, "waitpid");
		if (note_wait_status(t, w, status) < 0)
			return -1;
		taken++;
	}
	return taken;
}

static int past_deadline(const struct pc_tracer *t, uint64_t deadline)
{
	/* Stops normally arrive within microseconds; a thread in
	 * uninterruptible sleep (D state) may take long. */
	if (now_ms() <= deadline)
		return 0;
	for (size_t i = 0; i < t->nthreads; i++)
		if (!t->threads[i].stopped)
			return pc_fail(PC_EINTERNAL, 0, "thread %d of pid %d did not stop in time "
				       "(uninterruptible sleep?)", (int)t->threads[i].tid, (int)t->pid);
	return 0;
}

static int wait_until_stopped(struct pc_tracer *t, uint64_t deadline,
			      volatile const int *interrupted)
{
	for (;;) {
		struct timespec nap = { 0, 20 * 1000 };
		int taken;

		if (*interrupted)
			return pc_fail(PC_EINTR, 0, "interrupted by signal %d", *interrupted);
		taken = count_running(t) > 0 ? take_stops(t) : take_stragglers(t);
		if (taken < 0)
			return -1;
		if (count_running(t) == 0 && taken == 0)
			return 0;
		if (taken == 0) {
			if (past_deadline(t, deadline) < 0)
				return -1;
			nanosleep(&nap, NULL);
		}
	}
}

static int by_tid_main_first(const void *a, const void *b, void *pidp)
{
	pid_t pid = *(pid_t *)pidp;
	pid_t x = ((const struct pc_thread *)a)->tid, y = ((const struct pc_thread *)b)->tid;
	if (x == pid || y == pid)
		return (y == pid) - (x == pid);
	return (x > y) - (x < y);
}

int tracer_stop_all(struct pc_tracer *t, pid_t pid, int timeout_ms,
		    volatile const int *interrupted)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int fresh;

	memset(t, 0, sizeof *t);
	t->pid = pid;
	do {
		fresh = seize_listed_threads(t);
		if (fresh < 0 || wait_until_stopped(t, deadline, interrupted) < 0)
			goto fail;
	} while (fresh > 0);
	if (!find_thread(t, pid)) {
		pc_fail(PC_EGONE, 0, "pid %d exited during capture", (int)pid);
		goto fail;
	}
	qsort_r(t->threads, t->nthreads, sizeof t->threads[0], by_tid_main_first, &pid);
	return 0;
fail:
	tracer_release(t);
	return -1;
}

int tracer_read_registers(struct pc_tracer *t)
{
	uint8_t *xbuf = malloc(XSTATE_MAX);

	if (!xbuf)
		return pc_fail(PC_EINTERNAL, ENOMEM, "reading registers");
	for (size_t i = 0; i < t->nthreads; i++) {
		struct pc_thread *th = &t->threads[i];
		struct iovec iov = { &th->regs, sizeof th->regs };

		if (ptrace(PTRACE_GETREGSET, th->tid, NT_PRSTATUS, &iov) < 0) {
			free(xbuf);
			if (errno == ESRCH)   /* a held thread dies only with its process */
				return pc_fail(PC_EGONE, 0, "pid %d was killed during capture",
					       (int)t->pid);
			return pc_fail(PC_EINTERNAL, errno, "reading registers of thread %d",
				       (int)th->tid);
		}
		iov = (struct iovec){ &th->fpregs, sizeof th->fpregs };
		th->have_fpregs = ptrace(PTRACE_GETREGSET, th->tid, NT_PRFPREG, &iov) == 0;
		if (!th->have_fpregs)
			memset(&th->fpregs, 0, sizeof th->fpregs);
		iov = (struct iovec){ xbuf, XSTATE_MAX };
		if (ptrace(PTRACE_GETREGSET, th->tid, NT_X86_XSTATE, &iov) == 0 &&
		    iov.iov_len > 0) {
			th->xstate = malloc(iov.iov_len);
			if (th->xstate) {
				memcpy(th->xstate, xbuf, iov.iov_len);
				th->xstate_len = iov.iov_len;
			}
		}
		th->have_siginfo =
			ptrace(PTRACE_GETSIGINFO, th->tid, 0, &th->siginfo) == 0;
	}
	free(xbuf);
	return 0;
}

/* Wait (without blocking) for each thread still running, by its own id:
 * waitpid(-1) here could take the status of another tracee of ours, such
 * as a snapshot child (snapshot.h), which must stay held.  Returns 0, or
 * -1 when waiting fails. */
static int collect_pending_stops(struct pc_tracer *t)
{
	for (size_t i = 0; i < t->nthreads; i++) {
		struct pc_thread *th = &t->threads[i];
		int status;
		pid_t w;

		if (th->stopped)
			continue;
		w = waitpid(th->tid, &status, __WALL | WNOHANG);
		if (w < 0 && errno == ECHILD) {   /* gone: nothing to detach */
			forget_thread(t, th);
			return 0;
		}
		if (w > 0) {
			note_wait_status(t, w, status);
			return 0;   /* the array may have changed */
		}
		if (w < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

void tracer_release(struct pc_tracer *t)
{
	uint64_t grace = now_ms() + 200;

	if (!t->attached)
		return;
	/* A thread seized but not yet stopped cannot be detached; give its
	 * pending stop a moment to arrive.  If it never does, the kernel
	 * detaches it when we exit. */
	while (count_running(t) > 0 && now_ms() < grace) {
		struct timespec nap = { 0, 100 * 1000 };
		if (collect_pending_stops(t) < 0)
			break;
		nanosleep(&nap, NULL);
	}
	for (size_t i = 0; i < t->nthreads; i++) {
		struct pc_thread *th = &t->threads[i];
		if (th->stopped)
			ptrace(PTRACE_DETACH, th->tid, 0, th->resend_signal);
		th->stopped = false;
	}
	t->attached = false;
}

void tracer_free(struct pc_tracer *t)
{
	for (size_t i = 0; i < t->nthreads; i++)
		free(t->threads[i].xstate);
	free(t->threads);
	memset(t, 0, sizeof *t);
}
