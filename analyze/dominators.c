/* dominators.c — immediate dominators (Lengauer–Tarjan) and retained sizes
 * of a graph in CSR form, without recursion, in 24 bytes per node plus 4
 * per back edge (see dominators.h).
 *
 * Leaves (no out-edges) take no part until the end (see find_leaves()).
 * Everything after the search works on DFS preorder numbers ("numbers") of
 * the other nodes: number 0 is the root, and a node's tree parent, semidominator and
 * dominator all have smaller numbers than the node.
 *
 * Memory is three arrays: pre (node -> number, 4 bytes), vert (number ->
 * node, 4 bytes) and nd (16 bytes a number: the four fields that EVAL and
 * the main pass touch together, so that one cache miss fetches them all),
 * plus radj, the back edges.  The fields and what each holds when:
 *
 *   anc    the tree parent; in the main pass also the forest ancestor
 *          (LINK(parent(w), w) sets ancestor(w) = parent(w), so the parent
 *          is simply kept until path compression replaces it).
 *   label  the back-edge count during the search; in the main pass the
 *          EVAL label for linked nodes, the bucket head for the others.
 *   lsemi  the end of the node's edges in adj during the search; then
 *          the smallest tree or forward predecessor; in the main pass the
 *          semidominator of label (what EVAL compares, without a second
 *          random access).
 *   dom    the search's next-edge position on the DFS path; then the end
 *          of the node's back-edge range; then, once the node is
 *          processed, the bucket's next link and finally the dominator.
 *
 * pre is dead after the back edges are filled in; the main pass keeps
 * each node's semidominator there (semi), which step 4 needs.
 *
 * The main pass processes numbers w = N-1 .. 1.  At step w the nodes > w
 * are linked into the forest and those <= w are not, so "x is linked" is
 * just x > w and needs no storage.  Fields of nodes at or below w are free
 * for other uses: label of s <= w is the head of bucket s (the nodes whose
 * semidominator is s), dom of x <= w the end of x's back-edge range (whose
 * start is the end of x+1's: the ranges run from the last number down, so
 * the main pass reads radj front to back and can prefetch the nodes it is
 * about to evaluate).  Bucket s is emptied at step s, when the forest
 * holds exactly the nodes > s, which gives EVAL the path from s (exclusive)
 * down to the bucketed node as Lengauer and Tarjan's step 3 wants it.
 *
 * Predecessors stored: only the back edges v -> w with v > w (cross and back
 * edges in DFS terms).  For a predecessor v < w EVAL(v) is v itself and its
 * semidominator candidate is v, so those edges (tree, forward) just lower
 * lsemi of w while the list is built.  Edges into the root and self-loops
 * are dropped: they cannot change a semidominator.
 *
 * All three passes are bound by memory latency on graphs without
 * locality, hence the prefetches.
 */
#include "dominators.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct node {
	uint32_t anc, label, lsemi, dom;
};

/* Prefetch distances: nodes ahead in a pass, edges of a node first seen. */
enum { AHEAD = 16, PREFETCH_EDGES = 16 };

/* Leaves — nodes without out-edges, most of a Python heap's objects (ints,
 * floats, strs, bytes: 60% of the nodes and 65% of the edges of the bench
 * heap) — lie on no path to another node, so they change no other node's
 * dominators: Lengauer–Tarjan runs on the rest.  A leaf's immediate
 * dominator is then the nearest common dominator of its predecessors
 * (the dominators of a node are the intersection of its predecessors'
 * dominators, plus itself), found in one more pass over the edges into
 * leaves.  A bitmap, small enough to stay in cache, tells leaves apart. */
static inline bool is_leaf(const uint64_t *leaf, uint32_t v)
{
	return leaf[v / 64] >> (v % 64) & 1;
}

static uint64_t *find_leaves(const struct dom_graph *g)
{
	uint64_t *leaf = calloc((size_t)g->n / 64 + 1, sizeof *leaf);

	if (!leaf)
		return NULL;
	for (uint32_t v = 0; v < g->n; v++)
		if (g->start[v] == g->start[v + 1] && v != g->root)
			leaf[v / 64] |= 1ull << (v % 64);
	return leaf;
}

/* The nearest common dominator of numbers a and b.  A dominator has a
 * smaller number than what it dominates, so the larger of the two cannot
 * be the answer and steps up. */
static inline uint32_t meet(const struct node *nd, uint32_t a, uint32_t b)
{
	while (a != b) {
		if (a > b)
			a = nd[a].dom;
		else
			b = nd[b].dom;
	}
	return a;
}

/* EVAL(v) of the simple Lengauer–Tarjan, v linked (v > cur): the node of
 * smallest semidominator on the forest path from v up to, not including,
 * its tree's root, through *best, and its semidominator as the value.
 * COMPRESS without recursion: the walk up reverses the ancestor links, the
 * walk down propagates labels and points every node at the root. */
static inline uint32_t eval(struct node *nd, uint32_t v, uint32_t cur, uint32_t *best)
{
	uint32_t a = nd[v].anc;

	if (a <= cur) {
		*best = nd[v].label;
		return nd[v].lsemi;
	}
	uint32_t prev = DOM_NONE, x = v;
	do {
		nd[x].anc = prev;
		prev = x;
		x = a;
		a = nd[x].anc;
	} while (a > cur);
	/* x is the topmost linked node, a its tree's root. */
	uint32_t b = nd[x].label, bsemi = nd[x].lsemi;
	for (uint32_t y = prev; y != DOM_NONE;) {
		struct node *ny = &nd[y];
		uint32_t next = ny->anc;

		if (bsemi < ny->lsemi) {
			ny->label = b;
			ny->lsemi = bsemi;
		} else {
			b = ny->label;
			bsemi = ny->lsemi;
		}
		ny->anc = a;
		y = next;
	}
	*best = b;
	return bsemi;
}

int dominators_ordered(const struct dom_graph *g, uint32_t *idom, uint32_t *order, uint32_t *up,
		       uint32_t *nreached)
{
	const uint32_t n = g->n, root = g->root;
	const uint32_t *start = g->start, *adj = g->adj;

	if (root >= n) {
		errno = EINVAL;
		return -1;
	}
	uint32_t *pre = malloc((size_t)n * sizeof *pre), *vert = malloc((size_t)n * sizeof *vert);
	struct node *nd = malloc((size_t)n * sizeof *nd);
	uint32_t *radj = NULL;
	uint64_t *leaf = find_leaves(g);

	if (!pre || !vert || !nd || !leaf)
		goto nomem;

	/* Iterative DFS.  The path from the root is the chain of tree parents;
	 * x's edge scan resumes at nd[x].dom and ends at nd[x].lsemi. */
	memset(pre, 0xff, (size_t)n * sizeof *pre);
	uint32_t N = 0, cur = DOM_NONE;
	size_t nback = 0;

	for (uint32_t w = root; w != DOM_NONE;) {
		/* Visit w, and start fetching what the scan of its edges and
		 * the descent into a child will need. */
		uint32_t first = start[w], last = start[w + 1];

		pre[w] = N;
		vert[N] = w;
		nd[N] = (struct node){ .anc = cur, .label = 0, .lsemi = last, .dom = first };
		cur = N++;
		for (uint32_t f = first; f < last && f - first < PREFETCH_EDGES; f++) {
			if (is_leaf(leaf, adj[f]))
				continue;
			__builtin_prefetch(&pre[adj[f]]);
			__builtin_prefetch(&start[adj[f]]);
		}
		/* Scan on from cur, back up the path when it is done. */
		for (w = DOM_NONE; cur != DOM_NONE; cur = nd[cur].anc) {
			uint32_t e = nd[cur].dom, end = nd[cur].lsemi;

			for (; e < end; e++) {
				if (is_leaf(leaf, adj[e]))
					continue;
				uint32_t j = pre[adj[e]];

				if (j == DOM_NONE)
					break;
				if (j != 0 && j < cur) {
					/* a back edge, counted per target */
					nd[j].label++;
					nback++;
				}
			}
			if (e < end) {
				nd[cur].dom = e + 1;
				w = adj[e];
				break;
			}
		}
	}

	radj = malloc((nback ? nback : 1) * sizeof *radj);
	if (!radj)
		goto nomem;

	/* Back-edge ranges, laid out from the last number down so that the
	 * main pass reads radj front to back: dom = the start of the node's
	 * range, then, once filled, its end.  lsemi starts as the tree parent
	 * and takes the smallest forward predecessor; label becomes an empty
	 * bucket. */
	{
		uint32_t sum = 0;

		for (uint32_t j = N; j-- > 0;) {
			uint32_t c = nd[j].label;

			nd[j].dom = sum;
			nd[j].label = DOM_NONE;
			nd[j].lsemi = j ? nd[j].anc : 0;
			sum += c;
		}
	}
	for (uint32_t i = 0; i < N; i++) {
		uint32_t v = vert[i];

		if ((size_t)i + 2 * AHEAD < N)
			__builtin_prefetch(&start[vert[i + 2 * AHEAD]]);
		if ((size_t)i + AHEAD < N)
			__builtin_prefetch(&adj[start[vert[i + AHEAD]]]);
		for (uint32_t e = start[v], end = start[v + 1]; e < end; e++) {
			if (is_leaf(leaf, adj[e]))
				continue;
			uint32_t j = pre[adj[e]];

			if (j < i) {
				if (j != 0)
					radj[nd[j].dom++] = i;
			} else if (i < nd[j].lsemi)
				nd[j].lsemi = i;  /* forward edge (j == i: no effect) */
		}
	}

	/* The main pass.  pre becomes semi; k runs through radj. */
	uint32_t *semi = pre, k = 0;

	for (uint32_t w = N - 1; w > 0; w--) {
		if (w > AHEAD) {
			uint32_t h = nd[w - AHEAD].label;

			if (h != DOM_NONE)
				__builtin_prefetch(&nd[h]);
		}

		/* Step 3 for bucket w: the forest holds exactly the nodes > w. */
		for (uint32_t v = nd[w].label; v != DOM_NONE;) {
			uint32_t next = nd[v].dom, u, su = eval(nd, v, w, &u);

			nd[v].dom = su < w ? u : w;
			v = next;
		}

		/* Step 2: the semidominator from the back edges. */
		uint32_t s = nd[w].lsemi;

		for (uint32_t end = nd[w].dom; k < end; k++) {
			if ((size_t)k + AHEAD < nback)
				__builtin_prefetch(&nd[radj[k + AHEAD]]);
			uint32_t u, su = eval(nd, radj[k], w, &u);

			if (su < s)
				s = su;
		}
		semi[w] = s;

		/* LINK(parent(w), w): anc is the parent already; w becomes its
		 * own label.  Then into bucket s: dom of w, the end of w's range,
		 * is no longer needed. */
		nd[w].label = w;
		nd[w].lsemi = s;
		nd[w].dom = nd[s].label;
		nd[s].label = w;
	}
	for (uint32_t v = nd[0].label; v != DOM_NONE;) {
		uint32_t next = nd[v].dom;

		nd[v].dom = 0;
		v = next;
	}
	nd[0].dom = 0;

	/* Step 4, in preorder: a node whose relative dominator is not its
	 * semidominator shares its dominator's (already final) dominator. */
	for (uint32_t i = 1; i < N; i++)
		if (nd[i].dom != semi[i])
			nd[i].dom = nd[nd[i].dom].dom;

	/* The leaves: idom holds, by node, the meet so far of the numbers of
	 * a leaf's predecessors; then the reached leaves follow the others
	 * (after their dominators, as the order promises). */
	for (uint32_t v = 0; v < n; v++)
		idom[v] = DOM_NONE;
	for (uint32_t i = 0; i < N; i++) {
		uint32_t v = vert[i];

		for (uint32_t e = start[v], end = start[v + 1]; e < end; e++) {
			uint32_t t = adj[e];

			if (is_leaf(leaf, t))
				idom[t] = idom[t] == DOM_NONE ? i : meet(nd, idom[t], i);
		}
	}
	uint32_t reached = N;

	for (uint32_t v = 0; v < n; v++)
		if (is_leaf(leaf, v) && idom[v] != DOM_NONE) {
			if (up)
				up[reached] = idom[v];
			idom[v] = vert[idom[v]];
			if (order)
				order[reached] = v;
			reached++;
		}
	for (uint32_t i = 0; i < N; i++)
		idom[vert[i]] = vert[nd[i].dom];
	if (order)
		memcpy(order, vert, (size_t)N * sizeof *order);
	for (uint32_t i = 0; up && i < N; i++)
		up[i] = nd[i].dom;
	if (nreached)
		*nreached = reached;

	free(leaf);
	free(radj);
	free(nd);
	free(vert);
	free(pre);
	return 0;

nomem:
	free(leaf);
	free(radj);
	free(nd);
	free(vert);
	free(pre);
	errno = ENOMEM;
	return -1;
}

int dominators(const struct dom_graph *g, uint32_t *idom, uint32_t *order, uint32_t *nreached)
{
	return dominators_ordered(g, idom, order, NULL, nreached);
}

void dominators_retained(uint32_t n, const uint32_t *idom, const uint32_t *order, uint32_t nreached,
			 const uint64_t *size, uint64_t *retained)
{
	memset(retained, 0, (size_t)n * sizeof(uint64_t));
	for (uint32_t i = 0; i < nreached; i++)
		retained[order[i]] = size[order[i]];
	/* Reverse preorder: every node is complete before its dominator. */
	for (uint32_t i = nreached; i-- > 1;) {
		uint32_t v = order[i];

		retained[idom[v]] += retained[v];
	}
}
