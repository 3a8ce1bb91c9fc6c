/* paths.h — why an object is alive: the shortest path to it from a root,
 * named as a Python user would write it.
 *
 * A breadth-first search from the roots, one kind of root after another
 * (sys.modules first, then sys, builtins, threads, interpreters, C
 * statics), so that an object reachable from a module global is named
 * from there — sys.modules['__main__'].SESSIONS[100] — even when a frame
 * reaches it in fewer steps.  Each step is named from the object it
 * leaves: a dict key, a list index, an attribute of a module, class or
 * instance.
 */
#ifndef PYCORE_PATHS_H
#define PYCORE_PATHS_H

#include "graph.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pc_paths;

struct path_step {
	uint32_t node;
	char via[160];               /* how the previous object holds it */
};

/* The search.  NULL with the error recorded. */
struct pc_paths *paths_new(struct pc_py *py, struct pc_types *types, const struct pc_graph *g);
void paths_free(struct pc_paths *p);

/* --redact: dict keys in paths shown as their length and a hash (names
 * of attributes stay: they are code, not data). */
void paths_redact(struct pc_paths *p, bool on);

/* The path to node as text (malloc'ed), and the steps when steps is not
 * NULL (malloc'ed, *nsteps of them, the root object first).  NULL when the
 * node is not reachable. */
char *paths_name(struct pc_paths *p, uint32_t node, struct path_step **steps, size_t *nsteps);

#endif
