/* graph.h — the heap as a graph: objects, their references, the roots.
 *
 * Nodes are the objects of an objindex (0..n-1) plus a virtual root n,
 * whose edges lead to the root objects.  Edges are strong references only
 * (a weak reference's referent is not an edge), in CSR form with 32-bit
 * node numbers: out-edges of v are adj[start[v] .. start[v+1]).
 *
 * Roots, in the order a path from them is preferred when naming:
 *   sys.modules, the sys and builtins dicts, every thread state (and from
 *   3.11 its frames' data stack), every interpreter state, and any object
 *   an address in the writable data of a mapped ELF file points at (C
 *   statics: static types' dicts, interned strings, module globals of C).
 */
#ifndef PYCORE_GRAPH_H
#define PYCORE_GRAPH_H

#include "objindex.h"
#include "pytypes.h"

enum root_kind {
	ROOT_SYS_MODULES, ROOT_SYS_DICT, ROOT_BUILTINS, ROOT_THREAD, ROOT_INTERPRETER,
	ROOT_C_STATIC,
};

struct graph_root {
	uint32_t node;
	enum root_kind kind;
	uint64_t source;             /* where the pointer to it was found */
	uint64_t owner;              /* the thread state / interpreter / 0 */
};

struct pc_graph {
	struct objindex *index;      /* borrowed */
	uint32_t n;                  /* objects; the virtual root is node n */
	uint32_t *start;             /* n + 2 entries */
	uint32_t *adj;
	uint64_t nedges;
	struct graph_root *roots;    /* the virtual root's edges, in order */
	size_t nroots;
	uint64_t conservative;       /* objects whose references were scanned */
};

/* Build the graph of the objects in index (finished).  Returns 0 or -1. */
int graph_build(struct pc_py *py, struct pc_types *types, struct objindex *index,
		struct pc_graph *g);
void graph_free(struct pc_graph *g);

#endif
