/* leaks.h — who keeps the heap alive: reachability from the roots, what is
 * alive but unreachable, retained sizes from the dominator tree, leak
 * suspects.
 *
 * Unreachable objects are split as a collector would see them: those some
 * unreachable object holds more references to than the graph shows (its
 * refcount exceeds the references found: a reference leaked by C code,
 * invisible to every in-process tool), together with everything only they
 * keep alive, are *leaked references*; the rest is *cyclic garbage*, which
 * gc.collect() would free.  Immortal objects are never leaks.
 */
#ifndef PYCORE_LEAKS_H
#define PYCORE_LEAKS_H

#include "census.h"
#include "graph.h"
#include "paths.h"

#include <stddef.h>
#include <stdint.h>

#define LEAK_EXAMPLES 4

struct leak_group {
	uint64_t count, bytes;
	struct census_row *types;    /* by bytes, descending */
	size_t ntypes;
	uint64_t examples[LEAK_EXAMPLES];   /* addresses */
	size_t nexamples;
};

struct retainer {
	uint32_t node;
	uint64_t addr;
	const char *type;            /* owned by the type table */
	uint64_t retained_bytes, retained_objects;
	char *path;                  /* NULL when unnamed */
	char *description;           /* suspects only */
};

/* One node of the summary of the dominator tree (for a treemap): the
 * largest subtrees, a few levels deep. */
struct dom_summary {
	int32_t parent;              /* index in the summary; -1: the heap itself */
	uint64_t addr;               /* 0 for the heap itself */
	const char *type;
	char *label;                 /* a path for the top levels, else NULL */
	uint64_t retained_bytes, retained_objects;
};

struct leak_report {
	struct leak_group unreachable, garbage, leaked;
	struct retainer *retainers;  /* the largest retained sizes */
	size_t nretainers;
	struct retainer *suspects;   /* accumulation points over the threshold */
	size_t nsuspects;
	struct dom_summary *tree;    /* [0] is the heap (the virtual root) */
	size_t ntree;
	uint64_t heap_bytes;         /* what percentages are of */
	uint64_t conservative;       /* objects whose references were scanned */
};

struct leak_options {
	double suspect_fraction;     /* of the heap's bytes: 0.10 */
	size_t top_retainers;
};

/* The dominator tree of a graph, computed once for the questions below:
 * the report's analysis, and pycore-diff's two. */
struct leak_tree;

/* NULL with the error recorded.  g must outlive the tree. */
struct leak_tree *leaks_tree(const struct pc_graph *g);
void leaks_tree_free(struct leak_tree *t);

/* The whole analysis over the tree's graph.  The report's types come from
 * types; paths names the retainers and suspects (the tree does not need
 * them: they can be searched while it is computed).  Returns 0 or -1. */
int leaks_analyse(struct leak_tree *t, struct pc_py *py, struct pc_types *types,
		  struct pc_paths *paths, const struct leak_options *opt, struct leak_report *out);
void leaks_free(struct leak_report *r);

/* Each node's immediate dominator (DOM_NONE when unreached; the virtual
 * root g->n for the roots); g->n + 1 entries, owned by the tree. */
const uint32_t *leaks_tree_idom(const struct leak_tree *t);

/* What each node of the graph retains (itself and what it dominates, in
 * bytes; g->n + 1 entries, the last the virtual root; 0 for a node no
 * root reaches).  pycore-diff compares the same object's retained size in
 * two cores.  Returns 0 (free *retained with free()), or -1. */
int leaks_retained_sizes(struct leak_tree *t, uint64_t **retained);

/* Who holds the marked objects (marked[v] != 0; pycore-diff marks those a
 * later core has and an earlier lacks): the deepest objects whose
 * dominator subtree holds at least `fraction` of the marked bytes, at most
 * top, largest first, with paths; their retained_bytes/objects count the
 * marked objects only.  *marked_bytes: all of them that are reachable.
 * Returns 0 (free *out with free() and its paths), or -1. */
int leaks_marked_retainers(struct leak_tree *t, struct pc_py *py, struct pc_types *types,
			   struct pc_paths *paths, const uint8_t *marked, double fraction,
			   size_t top, struct retainer **out, size_t *nout, uint64_t *marked_bytes);

#endif
