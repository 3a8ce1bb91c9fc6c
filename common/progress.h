/* progress.h — a one-line progress meter on stderr, only when it is a
 * terminal, redrawn at most five times a second. */
#ifndef PYCORE_PROGRESS_H
#define PYCORE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct pc_progress {
	const char *label;
	double delay;                /* seconds of silence before the first draw */
	bool enabled;
	bool drawn;
	double started, last_draw;
};

void progress_init(struct pc_progress *p, const char *label, bool want);
void progress_update(struct pc_progress *p, uint64_t done, uint64_t total);
void progress_clear(struct pc_progress *p);

/* Seconds on the monotonic clock. */
double pc_now(void);

#endif
