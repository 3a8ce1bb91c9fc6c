/* cowwatch.c — poll a snapshot's Private_Dirty on a thread. */
#include "cowwatch.h"

#include "../common/error.h"
#include "procfs.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_INTERVAL_MS 100
#define NAP_MS 10                /* how soon a stop request is seen */

struct pc_cowwatch {
	pid_t child;
	uint64_t limit, baseline, worst;
	volatile int *exceeded;
	pthread_t thread;
	pthread_mutex_t mu;
	bool stop;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Private_Dirty of the child, in bytes; false when it cannot be read. */
static bool private_dirty(pid_t child, uint64_t *bytes)
{
	char *text = procfs_slurp(child, "smaps_rollup", NULL);
	const char *at = text ? strstr(text, "\nPrivate_Dirty:") : NULL;
	bool ok = at != NULL;

	if (ok)
		*bytes = strtoull(at + 15, NULL, 10) * 1024;
	if (!text)
		pc_clear_error();      /* unreadable is an answer here, not an error */
	free(text);
	return ok;
}

static bool stopping(struct pc_cowwatch *w)
{
	bool stop;
	pthread_mutex_lock(&w->mu);
	stop = w->stop;
	pthread_mutex_unlock(&w->mu);
	return stop;
}

static void nap_until(struct pc_cowwatch *w, double when)
{
	struct timespec nap = { 0, NAP_MS * 1000000L };
	while (!stopping(w) && now_ms() < when)
		nanosleep(&nap, NULL);
}

/* One reading of the snapshot's growth since the fork. */
static void measure(struct pc_cowwatch *w)
{
	uint64_t now;

	if (private_dirty(w->child, &now) && now > w->baseline) {
		if (now - w->baseline > w->worst)
			w->worst = now - w->baseline;
		if (w->worst > w->limit)
			*w->exceeded = 1;
	}
}

static void *watch_main(void *arg)
{
	struct pc_cowwatch *w = arg;

	while (!stopping(w)) {
		double t0 = now_ms(), took;
		measure(w);
		took = now_ms() - t0;
		nap_until(w, t0 + (took * 5 > MIN_INTERVAL_MS ? took * 5 : MIN_INTERVAL_MS));
	}
	return NULL;
}

struct pc_cowwatch *cowwatch_start(pid_t child, uint64_t limit, volatile int *exceeded)
{
	struct pc_cowwatch *w = calloc(1, sizeof *w);

	if (!w) {
		pc_fail(PC_EINTERNAL, ENOMEM, "watching the snapshot's memory");
		return NULL;
	}
	w->child = child;
	w->limit = limit;
	w->exceeded = exceeded;
	if (!private_dirty(child, &w->baseline))
		w->baseline = 0;
	pthread_mutex_init(&w->mu, NULL);
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		pc_fail(PC_EINTERNAL, errno, "watching the snapshot's memory");
		pthread_mutex_destroy(&w->mu);
		free(w);
		return NULL;
	}
	return w;
}

uint64_t cowwatch_stop(struct pc_cowwatch *w)
{
	uint64_t worst;

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	/* A dump shorter than the interval was seen once, at its start: the
	 * copies made since are still there, so one last look counts them
	 * (only while nothing failed: a failed reading clears the error). */
	if (pc_errcode() == PC_OK)
		measure(w);
	worst = w->worst;
	pthread_mutex_destroy(&w->mu);
	free(w);
	return worst;
}
