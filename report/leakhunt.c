/* leakhunt.c — from the census's objects to the leak analyses: build the
 * reference graph, find paths, analyse, answer --why; keep only what the
 * renderers need, so the graph's memory goes before rendering. */
#include "report.h"

#include "../analyze/graph.h"
#include "../analyze/paths.h"
#include "../common/error.h"
#include "../common/progress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PYCORE_TIMING=1: how long each phase took, on stderr (for the bench). */
static void phase_time(const struct report *r, const char *phase, double *since)
{
	double now = pc_now();

	(void)r;
	if (getenv("PYCORE_TIMING"))
		fprintf(stderr, "pycore-report: %-8s %.3f s\n", phase, now - *since);
	*since = now;
}

static int answer_why(struct pc_types *types, const struct pc_graph *g, struct pc_paths *paths,
		      struct report_why *why)
{
	int64_t node = objindex_find(g->index, why->addr);
	struct path_step *steps = NULL;
	size_t n = 0;

	why->is_object = node >= 0;
	if (node < 0)
		return 0;
	why->path = paths_name(paths, (uint32_t)node, &steps, &n);
	if (!why->path)
		return pc_errcode() ? -1 : 0;  /* unreachable: no path */
	why->steps = calloc(n ? n : 1, sizeof *why->steps);
	if (!why->steps) {
		free(steps);
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	}
	for (size_t k = 0; k < n; k++) {
		const struct objrec *o = &g->index->v[steps[k].node];
		why->steps[k].addr = o->addr;
		why->steps[k].type = types_name(types, types_at(types, o->type));
		memcpy(why->steps[k].via, steps[k].via, sizeof why->steps[k].via);
	}
	why->nsteps = n;
	free(steps);
	return 0;
}

#define TOP_STRINGS 20

struct strings_job {
	struct pc_py *py;
	int64_t str_type, bytes_type;
	const struct objindex *index;
	bool redact;
	struct dupe_report *out;
	int rc;
	struct pc_error_box err;
};

static void *find_strings(void *arg)
{
	struct strings_job *j = arg;

	j->rc = dupes_find(j->py, j->str_type, j->bytes_type, j->index, TOP_STRINGS, j->redact, j->out);
	if (j->rc < 0)
		pc_error_capture(&j->err);
	return NULL;
}

/* The paths from the roots: a breadth-first search of the graph alone. */
struct paths_job {
	struct pc_py *py;
	struct pc_types *types;
	const struct pc_graph *g;
	struct pc_paths *paths;      /* NULL when out of memory */
};

static void *find_paths(void *arg)
{
	struct paths_job *j = arg;

	j->paths = paths_new(j->py, j->types, j->g);
	return NULL;
}

/* A known type's index in the table, looked up before threads share it. */
static int64_t type_index(struct pc_types *types, uint64_t addr)
{
	const struct py_type *t = addr ? types_lookup(types, addr) : NULL;
	return t ? (int64_t)t->index : -1;
}

int report_leaks(struct pc_py *py, struct report *r, struct objindex *index,
		 const struct leak_options *opt, bool redact)
{
	struct pc_types *types = r->census.type_table;
	struct pc_graph g;
	struct pc_paths *paths = NULL;
	int rc = -1;

	double t0 = pc_now();

	if (graph_build(py, types, index, &g) < 0)
		return -1;
	phase_time(r, "graph", &t0);
	/* The paths (a search of the graph) and the strings (the core and the
	 * index) are found on other threads while this one computes the
	 * dominator tree, which needs neither. */
	struct strings_job job = { py, type_index(types, py->known[PT_STR]),
				   type_index(types, py->known[PT_BYTES]), index, redact, &r->dupes, 0, { 0 } };
	struct paths_job pj = { py, types, &g, NULL };
	pthread_t strings_thread, paths_thread;
	bool strings_threaded = pthread_create(&strings_thread, NULL, find_strings, &job) == 0;
	bool paths_threaded = pthread_create(&paths_thread, NULL, find_paths, &pj) == 0;
	struct leak_tree *tree = leaks_tree(&g);

	if (!paths_threaded)
		find_paths(&pj);
	else
		pthread_join(paths_thread, NULL);
	paths = pj.paths;
	if (paths)
		paths_redact(paths, redact);
	rc = tree && paths ? leaks_analyse(tree, py, types, paths, opt, &r->leaks) : -1;
	if (!paths && tree)
		pc_fail(PC_EINTERNAL, 0, "out of memory for paths");
	leaks_tree_free(tree);
	if (strings_threaded)
		pthread_join(strings_thread, NULL);
	else
		find_strings(&job);
	if (rc < 0)
		goto out;
	rc = -1;
	if (job.rc < 0) {
		pc_error_raise(&job.err);
		goto out;
	}
	phase_time(r, "leaks", &t0);
	r->leaks_done = true;
	if (r->why.asked && answer_why(types, &g, paths, &r->why) < 0)
		goto out;
	if (r->meliae && render_meliae(r->meliae, py, types, &g, redact) < 0) {
		pc_fail(PC_EOUTPUT, 0, "writing the Meliae dump failed");
		goto out;
	}
	rc = 0;
out:
	paths_free(paths);
	graph_free(&g);
	return rc;
}

void report_free(struct report *r)
{
	leaks_free(&r->leaks);
	dupes_free(&r->dupes);
	free(r->why.path);
	free(r->why.steps);
	census_free(&r->census);
	pystack_free(r->threads, r->nthreads);
}
