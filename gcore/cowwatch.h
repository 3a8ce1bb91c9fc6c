/* cowwatch.h — how much memory a snapshot costs while it is dumped.
 *
 * Every page the target writes after the fork is copied once (copy on
 * write): the target gets the copy, the snapshot keeps the old page, which
 * is then mapped by the snapshot alone.  So the growth of the snapshot's
 * Private_Dirty (/proc/CHILD/smaps_rollup) since the fork is the memory
 * the snapshot costs.  Reading smaps_rollup walks every page table of the
 * snapshot (about 25 ms per GB), so the watcher waits four times as long
 * as its last reading took, and at least 100 ms: it never takes more than
 * a fifth of a CPU.
 */
#ifndef PYCORE_COWWATCH_H
#define PYCORE_COWWATCH_H

#include <stdint.h>
#include <sys/types.h>

struct pc_cowwatch;

/* Watch child on a thread of its own; when its growth passes limit bytes,
 * set *exceeded to 1.  NULL with the error recorded. */
struct pc_cowwatch *cowwatch_start(pid_t child, uint64_t limit, volatile int *exceeded);

/* Stop watching, after a last reading (which may set *exceeded too).
 * Returns the largest growth seen, in bytes. */
uint64_t cowwatch_stop(struct pc_cowwatch *w);

#endif
