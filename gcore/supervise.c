/* supervise.c — a waiting parent and a worker that survives it. */
#include "supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t worker;
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void forward(int sig)
{
	if (worker > 0)
		kill(worker, sig);
}

void supervise_signals(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaddset(set, forwarded[i]);
}

/* Signals that would end us are passed on, so the worker ends cleanly and
 * we report its status. */
static void forward_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int wait_worker(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int supervise(void)
{
	pid_t parent = getpid(), pid;
	sigset_t set;

	/* Held back until each process has its handlers: a signal that came
	 * in between would end the parent without a word, or the worker
	 * before it could let the target go. */
	supervise_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)   /* died before the line above */
			raise(SIGTERM);
		return 0;
	}
	worker = pid;
	forward_signals();
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	exit(wait_worker(pid));
}
