/* report.h — what pycore-report found in a core, ready to render.
 *
 * The analysis (analyze/) fills it once; renderers only read it, so the
 * text table and the JSON document always say the same thing.
 */
#ifndef PYCORE_REPORT_H
#define PYCORE_REPORT_H

#include "../analyze/census.h"
#include "../analyze/dupes.h"
#include "../analyze/leaks.h"
#include "../analyze/pystack.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct report {
	const char *core_path;
	char version[32];            /* "3.11.7" */
	const char *executable;      /* as the process saw it */
	const char *library;         /* libpython, or NULL for a static build */
	const char *layout_source;   /* "dwarf", "builtin", … */
	pid_t pid;
	pid_t outer_pid;             /* a container's process: its pid outside, else 0 */
	size_t nthreads_core;        /* threads in the core (LWPs) */
	struct census census;
	struct pc_thread_stack *threads;   /* Python thread states */
	size_t nthreads;
	const char *filter;          /* pycore-capture --filter rules ("python"), or NULL */
	uint64_t filter_kernel_bytes;  /* memory the kernel's rules would have dumped */
	uint64_t filter_core_bytes;    /* memory the core holds */
	char warning[512];           /* what could not be read, or "" */

	bool leaks_done;             /* the graph was analysed (not --no-leaks) */
	struct leak_report leaks;
	struct dupe_report dupes;    /* with the graph: duplicate and largest strings */
	struct report_why {
		bool asked;
		uint64_t addr;
		bool is_object;          /* the address is an object's */
		char *path;              /* NULL: not reachable from a root */
		struct why_step { uint64_t addr; const char *type; char via[160]; } *steps;
		size_t nsteps;
	} why;
	FILE *meliae;                /* --format meliae: written while the graph exists */
	bool redact;
};

/* The graph analyses (report/leakhunt.c): unreachable objects, retainers,
 * suspects and, when asked, why one object is alive.  index: every object
 * of the census, finished. */
int report_leaks(struct pc_py *py, struct report *r, struct objindex *index,
		 const struct leak_options *opt, bool redact);
void report_free(struct report *r);

struct pc_graph;
/* The objects and their references in Meliae's format, one per line. */
int render_meliae(FILE *out, struct pc_py *py, struct pc_types *types, const struct pc_graph *g,
		  bool redact);

struct render_options {
	size_t limit;                /* rows per table in text; JSON is complete */
};

int render_text(FILE *out, const struct report *r, const struct render_options *opt);

/* A JSON string literal of s ("null" for NULL), for every JSON writer. */
void json_put_str(FILE *out, const char *s);
int render_json(FILE *out, const struct report *r);
/* One self-contained page: the JSON document and what draws it (render_html.c). */
int render_html(FILE *out, const struct report *r);

#endif
