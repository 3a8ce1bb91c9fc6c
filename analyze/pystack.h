/* pystack.h — every thread's Python stack in a core, as
 * sys._current_frames() and the traceback module would show it: for each
 * thread state of each interpreter, its thread ids, its threading name, and
 * its frames innermost first with function, file and line.
 */
#ifndef PYCORE_PYSTACK_H
#define PYCORE_PYSTACK_H

#include "pyread.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_frame {
	char *function;              /* co_qualname where the code has one, else co_name */
	char *file;                  /* co_filename */
	int line;                    /* -1 where the instruction has no line (None) */
};

struct pc_thread_stack {
	uint64_t interp;             /* its PyInterpreterState */
	int64_t interp_id;           /* 0 for the main interpreter */
	uint64_t tstate;             /* its PyThreadState */
	uint64_t pthread_id;         /* tstate->thread_id: pthread_self(), threading.get_ident() */
	int native_id;               /* the LWP id (threading.get_native_id()); 0 when unknown */
	char *name;                  /* threading.Thread name; NULL when threading has none */
	struct pc_frame *frames;     /* innermost first */
	size_t nframes;
	/* The walk stopped early at a frame it could not read or trust (a
	 * damaged core, a loop in the chain): frames holds those before it. */
	bool truncated;
	char warning[160];           /* why, when truncated */
};

/* All thread states of all interpreters, in list order (the newest thread
 * first, as CPython prepends them).  Damage ends a list, not the report: a
 * frame that cannot be read ends its thread's frames, a thread state or
 * interpreter that cannot be read (or loops, or does not point back at its
 * interpreter) ends its list with an entry holding what was read; each
 * such entry has truncated set and says why.  Only a runtime without a
 * readable interpreter list fails.  Returns 0 with *out (free it with
 * pystack_free) and *n, or -1 with the error recorded. */
int pystack_threads(struct pc_py *py, struct pc_thread_stack **out, size_t *n);

void pystack_free(struct pc_thread_stack *threads, size_t n);

/* A thread state's LWP id (native_thread_id, else the core thread whose
 * fs_base is its pthread_t); 0 when unknown. */
int pystack_native_id(struct pc_py *py, uint64_t tstate);

/* 3.11+: the thread's interpreter frames, innermost first (C-stack entry
 * frames included), at most max.  -1 where frames are objects (<= 3.10)
 * or the chain cannot be read. */
int pystack_iframes(struct pc_py *py, uint64_t tstate, uint64_t *frames, size_t max, size_t *n);

#endif
