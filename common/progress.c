/* progress.c — the stderr progress meter. */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double pc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct pc_progress *p, const char *label, bool want)
{
	p->label = label;
	p->delay = 0;
	p->enabled = want && isatty(STDERR_FILENO);
	p->drawn = false;
	p->started = pc_now();
	p->last_draw = 0;
}

void progress_update(struct pc_progress *p, uint64_t done, uint64_t total)
{
	double now, secs;

	if (!p->enabled)
		return;
	now = pc_now();
	if ((now - p->last_draw < 0.2 && done < total) || now - p->started < p->delay)
		return;
	p->last_draw = now;
	secs = now - p->started;
	fprintf(stderr, "\r%s: %.1f / %.1f MB (%3.0f%%) %.0f MB/s  ", p->label,
		(double)done / 1e6, (double)total / 1e6,
		total ? 100.0 * (double)done / (double)total : 100.0,
		secs > 0 ? (double)done / 1e6 / secs : 0.0);
	p->drawn = true;
}

void progress_clear(struct pc_progress *p)
{
	if (p->drawn)
		fprintf(stderr, "\r\033[K");
	p->drawn = false;
}
