/* dominators.h — the dominator tree of a large object graph, and retained
 * sizes.
 *
 * dominators() is Lengauer–Tarjan (simple version: path compression, no
 * balanced linking; O(e log n)), entirely iterative: the depth-first search
 * keeps its stack in the tree's parent links and path compression reverses
 * pointers instead of recursing, so a 10-million-long linked list costs no
 * stack at all.  It runs on the nodes that have out-edges only: a leaf
 * (no out-edges: most ints, floats, strs of a Python heap) is on no path
 * to another node, and its dominator is the nearest common dominator of
 * its predecessors, found afterwards in one pass.
 *
 * Memory: 24 bytes per node (three arrays of n entries: 4 + 4 + 16 bytes;
 * memset touches all of the first, the rest only the reached non-leaves'
 * parts), one bit per node (which are leaves), plus 4 bytes per "back"
 * edge: an edge v -> w to a non-leaf w earlier in DFS preorder than v
 * (cross and back edges; not into the root, not a self-loop).  Tree and
 * forward edges need no predecessor list: their contribution is folded in
 * while the list is built.  Peak, at most
 *     24.125 * n + 4 * (edges out of reached nodes) bytes
 * (in uniformly random graphs about half the edges are "back").  Nothing
 * else is allocated, and nothing is written to the caller's arrays until
 * every allocation has succeeded.
 *
 * Time: three passes over the reached nodes' edges (the search, which also
 * counts the back edges; the predecessor fill; the leaves' meets), then one
 * Lengauer–Tarjan pass over the back edges.  Edges into leaves cost a look
 * at the leaf bitmap (in cache) in the first two.  On large graphs without
 * locality the passes are bound by memory latency, not by instructions.
 */
#ifndef PYCORE_DOMINATORS_H
#define PYCORE_DOMINATORS_H

#include <stddef.h>
#include <stdint.h>

#define DOM_NONE UINT32_MAX

/* The graph: nodes 0..n-1; node `root` is the start (the caller adds a
 * virtual root whose edges go to the real roots).  Out-edges of v are
 * adj[start[v] .. start[v+1]); start has n+1 entries.  Every adj entry
 * reachable from root must be < n.  Self-loops and duplicate edges are
 * fine. */
struct dom_graph {
	uint32_t n;
	uint32_t root;
	const uint32_t *start;
	const uint32_t *adj;
};

/* idom[v] = the immediate dominator of v; idom[root] = root; DOM_NONE for
 * nodes not reachable from root.  idom must have room for n entries.  Also
 * fills, when order is not NULL, the reachable nodes in an order where a
 * node's dominator always comes before it: the DFS preorder of the nodes
 * with out-edges (order[0] = root), then the reachable leaves by node
 * number (room for n entries), and returns their count through *nreached
 * (when not NULL).
 * Returns 0, or -1 on ENOMEM (errno set; idom, order and *nreached are not
 * written), or -1 with errno EINVAL when root >= n. */
int dominators(const struct dom_graph *g, uint32_t *idom, uint32_t *order, uint32_t *nreached);

/* The same, and also the tree by positions in that order: up[k] = the
 * position of order[k]'s immediate dominator (up[0] = 0; room for n
 * entries; ignored when NULL).  A caller that walks the tree in that order
 * reads up[] front to back instead of jumping between nodes. */
int dominators_ordered(const struct dom_graph *g, uint32_t *idom, uint32_t *order, uint32_t *up,
		       uint32_t *nreached);

/* Retained size: retained[v] = size[v] + sum of retained of the nodes v
 * immediately dominates; for unreachable nodes, 0.  Needs idom and the
 * order from dominators() (nreached nodes of it).  retained has room for
 * n entries.  Cannot fail; O(n). */
void dominators_retained(uint32_t n, const uint32_t *idom, const uint32_t *order, uint32_t nreached,
			 const uint64_t *size, uint64_t *retained);

#endif
