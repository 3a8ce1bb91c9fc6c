/* test_dominators.c — dominators() and dominators_retained() on hand-made
 * graphs with known dominator trees (among them the example of Lengauer and
 * Tarjan's 1979 paper), on thousands of small random and heap-shaped (many
 * shared leaves) graphs against a naive iterative data-flow computation of
 * dominator sets, on a 2-million-node chain (no recursion) and, timed but
 * not judged, on a random graph of a million nodes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../analyze/dominators.h"

/* A graph under construction: an edge list, turned into CSR by csr(). */
struct edges {
	uint32_t n;
	size_t count, cap;
	uint32_t (*e)[2];
};

static void add_edge(struct edges *l, uint32_t from, uint32_t to)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->e = realloc(l->e, l->cap * sizeof *l->e);
		assert_non_null(l->e);
	}
	l->e[l->count][0] = from;
	l->e[l->count][1] = to;
	l->count++;
}

/* The CSR of l, keeping each node's edges in the order they were added. */
static struct dom_graph csr(const struct edges *l, uint32_t root)
{
	uint32_t *start = calloc((size_t)l->n + 1, sizeof *start);
	uint32_t *adj = malloc((l->count ? l->count : 1) * sizeof *adj);
	uint32_t *fill = malloc(((size_t)l->n + 1) * sizeof *fill);

	assert_true(start && adj && fill);
	for (size_t i = 0; i < l->count; i++) {
		assert_true(l->e[i][0] < l->n && l->e[i][1] < l->n);
		start[l->e[i][0] + 1]++;
	}
	for (uint32_t v = 0; v < l->n; v++)
		start[v + 1] += start[v];
	memcpy(fill, start, ((size_t)l->n + 1) * sizeof *fill);
	for (size_t i = 0; i < l->count; i++)
		adj[fill[l->e[i][0]]++] = l->e[i][1];
	free(fill);
	return (struct dom_graph){ .n = l->n, .root = root, .start = start, .adj = adj };
}

static void free_graph(struct dom_graph *g)
{
	free((void *)g->start);
	free((void *)g->adj);
}

/* Builds the graph from pairs {from, to, from, to, ...}. */
static struct dom_graph graph_of(uint32_t n, uint32_t root, const uint32_t *pairs, size_t npairs)
{
	struct edges l = { .n = n };

	for (size_t i = 0; i < npairs; i++)
		add_edge(&l, pairs[2 * i], pairs[2 * i + 1]);
	struct dom_graph g = csr(&l, root);
	free(l.e);
	return g;
}

/* Runs dominators() and checks the invariants every result must meet:
 * order is a permutation of the reached nodes starting at the root, every
 * reached node's dominator is reached and comes earlier in the order. */
static uint32_t run(const struct dom_graph *g, uint32_t *idom, uint32_t *order)
{
	uint32_t nreached = 12345, nreached2 = 54321;
	uint32_t *idom2 = malloc((size_t)g->n * sizeof *idom2), *order2 = malloc((size_t)g->n * sizeof *order2);
	uint32_t *up = malloc((size_t)g->n * sizeof *up);

	assert_true(idom2 && order2 && up);
	assert_int_equal(dominators(g, idom, order, &nreached), 0);
	/* dominators_ordered: the same answer, and up[] its positions. */
	assert_int_equal(dominators_ordered(g, idom2, order2, up, &nreached2), 0);
	assert_int_equal(nreached2, nreached);
	assert_memory_equal(idom2, idom, (size_t)g->n * sizeof *idom);
	assert_memory_equal(order2, order, (size_t)nreached * sizeof *order);
	assert_int_equal(up[0], 0);
	for (uint32_t k = 1; k < nreached; k++) {
		assert_true(up[k] < k);
		assert_int_equal(order[up[k]], idom[order[k]]);
	}
	free(idom2);
	free(order2);
	free(up);
	assert_true(nreached >= 1 && nreached <= g->n);
	assert_int_equal(order[0], g->root);
	assert_int_equal(idom[g->root], g->root);

	uint32_t *pos = malloc((size_t)g->n * sizeof *pos);
	assert_non_null(pos);
	for (uint32_t v = 0; v < g->n; v++)
		pos[v] = DOM_NONE;
	for (uint32_t i = 0; i < nreached; i++) {
		assert_true(order[i] < g->n);
		assert_int_equal(pos[order[i]], DOM_NONE);
		pos[order[i]] = i;
	}
	for (uint32_t v = 0; v < g->n; v++) {
		if (pos[v] == DOM_NONE) {
			assert_int_equal(idom[v], DOM_NONE);
			continue;
		}
		assert_true(idom[v] < g->n);
		assert_true(pos[idom[v]] != DOM_NONE);
		if (v != g->root)
			assert_true(pos[idom[v]] < pos[v]);
	}
	free(pos);
	return nreached;
}

/* The dominators of g must be want[0..n-1] (DOM_NONE: unreachable). */
static void expect_idoms(const struct dom_graph *g, const uint32_t *want)
{
	uint32_t *idom = malloc((size_t)g->n * sizeof *idom), *order = malloc((size_t)g->n * sizeof *order);

	assert_true(idom && order);
	uint32_t nreached = run(g, idom, order);
	uint32_t reachable = 0;

	for (uint32_t v = 0; v < g->n; v++) {
		if (idom[v] != want[v])
			fail_msg("idom[%u] = %d, want %d", v, (int)idom[v], (int)want[v]);
		reachable += want[v] != DOM_NONE;
	}
	assert_int_equal(nreached, reachable);
	free(idom);
	free(order);
}

/* Retained sizes the slow way: each reached node's size is added to itself
 * and to every node on its dominator chain. */
static void expect_retained(const struct dom_graph *g, const uint64_t *size)
{
	uint32_t n = g->n;
	uint32_t *idom = malloc(n * sizeof *idom), *order = malloc(n * sizeof *order);
	uint64_t *got = malloc(n * sizeof *got), *want = calloc(n, sizeof *want);

	assert_true(idom && order && got && want);
	uint32_t nreached = run(g, idom, order);
	for (uint32_t u = 0; u < n; u++) {
		if (idom[u] == DOM_NONE)
			continue;
		for (uint32_t x = u;; x = idom[x]) {
			want[x] += size[u];
			if (x == g->root)
				break;
		}
	}
	for (uint32_t v = 0; v < n; v++)
		got[v] = 0xdeadbeef;
	dominators_retained(n, idom, order, nreached, size, got);
	for (uint32_t v = 0; v < n; v++)
		if (got[v] != want[v])
			fail_msg("retained[%u] = %llu, want %llu", v, (unsigned long long)got[v],
				 (unsigned long long)want[v]);
	free(idom);
	free(order);
	free(got);
	free(want);
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define X DOM_NONE

/* The hand-made graphs. */
static const uint32_t chain_pairs[] = { 0, 1, 1, 2, 2, 3, 3, 4 };
static const uint32_t chain_idom[] = { 0, 0, 1, 2, 3 };

static const uint32_t diamond_pairs[] = { 0, 1, 0, 2, 1, 3, 2, 3, 3, 4, 4, 1 };
static const uint32_t diamond_idom[] = { 0, 0, 0, 0, 3 };

/* Lengauer & Tarjan, "A fast algorithm for finding dominators in a
 * flowgraph", TOPLAS 1979, figure 1: R=0 A B C D E F G H I J K L=12. */
enum { R, A, B, C, D, E, F, G, H, I, J, K, L };
static const uint32_t paper_pairs[] = {
	R, A, R, B, R, C, A, D, B, A, B, D, B, E, C, F, C, G, D, L, E, H, F, I, G, I,
	G, J, H, E, H, K, I, K, J, I, K, I, K, R, L, H,
};
static const uint32_t paper_idom[] = {
	[R] = R, [A] = R, [B] = R, [C] = R, [D] = R, [E] = R, [F] = C,
	[G] = C, [H] = R, [I] = R, [J] = G, [K] = R, [L] = D,
};

/* Nodes 5..7 unreachable from 0, though they have edges into the reachable
 * part (which must not change its dominators) and among themselves. */
static const uint32_t unreach_pairs[] = {
	0, 1, 1, 2, 0, 3, 3, 2, 2, 4, 5, 4, 6, 5, 5, 6, 7, 1, 7, 7, 6, 2,
};
static const uint32_t unreach_idom[] = { 0, 0, 0, 0, 2, X, X, X };

/* The diamond again, with self-loops everywhere, every edge twice or three
 * times, and edges into the root. */
static const uint32_t loops_pairs[] = {
	0, 0, 0, 1, 0, 1, 0, 2, 1, 1, 1, 3, 1, 3, 1, 3, 2, 3, 2, 2, 3, 4, 3, 3,
	4, 4, 4, 1, 4, 1, 4, 0, 3, 0, 0, 2,
};

/* Node 3 is the root; node 0 is reached only through 2. */
static const uint32_t rooted_pairs[] = { 3, 1, 1, 2, 2, 0, 3, 2, 0, 4, 4, 0 };
static const uint32_t rooted_idom[] = { 2, 3, 3, 3, 0 };

static void test_a_chain_is_dominated_link_by_link(void **state)
{
	(void)state;
	struct dom_graph g = graph_of(5, 0, chain_pairs, N_OF(chain_pairs) / 2);
	expect_idoms(&g, chain_idom);
	free_graph(&g);
}

static void test_a_diamond_is_dominated_by_its_top_and_the_join_by_the_top(void **state)
{
	(void)state;
	struct dom_graph g = graph_of(5, 0, diamond_pairs, N_OF(diamond_pairs) / 2);
	expect_idoms(&g, diamond_idom);
	free_graph(&g);
}

static void test_the_lengauer_tarjan_paper_example_has_the_published_dominators(void **state)
{
	(void)state;
	struct dom_graph g = graph_of(13, R, paper_pairs, N_OF(paper_pairs) / 2);
	expect_idoms(&g, paper_idom);
	free_graph(&g);
}

static void test_unreachable_nodes_get_no_dominator_and_change_nothing(void **state)
{
	(void)state;
	struct dom_graph g = graph_of(8, 0, unreach_pairs, N_OF(unreach_pairs) / 2);
	expect_idoms(&g, unreach_idom);
	free_graph(&g);
}

static void test_self_loops_duplicate_edges_and_edges_into_the_root_change_nothing(void **state)
{
	(void)state;
	struct dom_graph g = graph_of(5, 0, loops_pairs, N_OF(loops_pairs) / 2);
	expect_idoms(&g, diamond_idom);
	free_graph(&g);
}

static void test_a_one_node_graph_is_its_own_dominator_with_or_without_a_self_loop(void **state)
{
	(void)state;
	static const uint32_t loop[] = { 0, 0 }, want[] = { 0 };

	struct dom_graph g = graph_of(1, 0, NULL, 0);
	expect_idoms(&g, want);
	free_graph(&g);
	g = graph_of(1, 0, loop, 1);
	expect_idoms(&g, want);
	free_graph(&g);
}

static void test_a_root_other_than_node_zero_works(void **state)
{
	(void)state;
	struct dom_graph g = graph_of(5, 3, rooted_pairs, N_OF(rooted_pairs) / 2);
	expect_idoms(&g, rooted_idom);
	free_graph(&g);
}

static void test_order_and_count_are_optional(void **state)
{
	(void)state;
	struct dom_graph g = graph_of(13, R, paper_pairs, N_OF(paper_pairs) / 2);
	uint32_t idom[13];

	assert_int_equal(dominators(&g, idom, NULL, NULL), 0);
	assert_memory_equal(idom, paper_idom, sizeof idom);
	free_graph(&g);
}

static void test_a_root_outside_the_graph_is_einval_and_writes_nothing(void **state)
{
	(void)state;
	struct dom_graph g = graph_of(5, 0, chain_pairs, N_OF(chain_pairs) / 2);
	uint32_t idom[5] = { 7, 7, 7, 7, 7 }, order[5] = { 7, 7, 7, 7, 7 }, nreached = 7;

	g.root = 5;
	errno = 0;
	assert_int_equal(dominators(&g, idom, order, &nreached), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(nreached, 7);
	for (int i = 0; i < 5; i++)
		assert_true(idom[i] == 7 && order[i] == 7);
	free_graph(&g);
}

/* Caps the address space at what the process maps now plus headroom;
 * false (and nothing changed) when the limit cannot be set.  (Under
 * AddressSanitizer run with ASAN_OPTIONS=allocator_may_return_null=1.) */
static bool cap_address_space(size_t headroom, struct rlimit *old)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || getrlimit(RLIMIT_AS, old) != 0) {
		if (f)
			fclose(f);
		return false;
	}
	bool ok = fscanf(f, "%lu", &pages) == 1;
	fclose(f);
	struct rlimit r = { .rlim_cur = pages * (size_t)sysconf(_SC_PAGESIZE) + headroom, .rlim_max = old->rlim_max };
	return ok && r.rlim_cur < old->rlim_cur && setrlimit(RLIMIT_AS, &r) == 0;
}

static void test_out_of_memory_is_enomem_and_writes_nothing(void **state)
{
	(void)state;
	struct rlimit old;
	uint32_t idom[3] = { 7, 7, 7 }, order[3] = { 7, 7, 7 }, nreached = 7;

	/* The per-node arrays do not fit: 50 million nodes, no edges (start is
	 * all zeros and never touched: the failure comes first). */
	uint32_t n = 50000000;
	uint32_t *start = calloc((size_t)n + 1, sizeof *start), adj0 = 0;
	uint32_t *big_idom = malloc((size_t)n * sizeof *big_idom);
	assert_true(start && big_idom);
	big_idom[0] = big_idom[n - 1] = 7;
	struct dom_graph g = { .n = n, .root = 0, .start = start, .adj = &adj0 };
	if (!cap_address_space(64 << 20, &old)) {
		free(start);
		free(big_idom);
		skip();
	}
	errno = 0;
	int rc = dominators(&g, big_idom, NULL, &nreached);
	int err = errno;
	setrlimit(RLIMIT_AS, &old);
	assert_int_equal(rc, -1);
	assert_int_equal(err, ENOMEM);
	assert_true(big_idom[0] == 7 && big_idom[n - 1] == 7 && nreached == 7);
	free(start);
	free(big_idom);

	/* The nodes fit but the back edges do not: 0 -> 1 -> 2 and 20
	 * million copies of 2 -> 1 (80 MB of them). */
	uint32_t m = 20000000;
	uint32_t *adj = malloc(((size_t)m + 2) * sizeof *adj);
	assert_non_null(adj);
	adj[0] = 1;
	adj[1] = 2;
	for (uint32_t i = 0; i < m; i++)
		adj[2 + i] = 1;
	uint32_t small_start[4] = { 0, 1, 2, m + 2 };
	g = (struct dom_graph){ .n = 3, .root = 0, .start = small_start, .adj = adj };
	assert_true(cap_address_space(16 << 20, &old));
	errno = 0;
	rc = dominators(&g, idom, order, &nreached);
	err = errno;
	setrlimit(RLIMIT_AS, &old);
	assert_int_equal(rc, -1);
	assert_int_equal(err, ENOMEM);
	for (int i = 0; i < 3; i++)
		assert_true(idom[i] == 7 && order[i] == 7);
	assert_int_equal(nreached, 7);

	/* And without the cap it works. */
	static const uint32_t want[3] = { 0, 0, 1 };
	assert_int_equal(dominators(&g, idom, order, &nreached), 0);
	assert_memory_equal(idom, want, sizeof want);
	assert_int_equal(nreached, 3);
	free(adj);
}

static void test_retained_sizes_equal_the_sizes_of_the_dominator_subtrees(void **state)
{
	(void)state;
	static const uint64_t size[13] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 3, 30, 300, 3000, 30000, 300000 };
	struct {
		uint32_t n, root;
		const uint32_t *pairs;
		size_t npairs;
	} graphs[] = {
		{ 5, 0, chain_pairs, N_OF(chain_pairs) / 2 },
		{ 5, 0, diamond_pairs, N_OF(diamond_pairs) / 2 },
		{ 13, R, paper_pairs, N_OF(paper_pairs) / 2 },
		{ 8, 0, unreach_pairs, N_OF(unreach_pairs) / 2 },
		{ 5, 0, loops_pairs, N_OF(loops_pairs) / 2 },
		{ 5, 3, rooted_pairs, N_OF(rooted_pairs) / 2 },
		{ 1, 0, NULL, 0 },
	};

	for (size_t i = 0; i < N_OF(graphs); i++) {
		struct dom_graph g = graph_of(graphs[i].n, graphs[i].root, graphs[i].pairs, graphs[i].npairs);
		expect_retained(&g, size);
		free_graph(&g);
	}

	/* The paper's graph by hand: R retains everything, C retains C F G J,
	 * D retains D L, G retains G J. */
	struct dom_graph g = graph_of(13, R, paper_pairs, N_OF(paper_pairs) / 2);
	uint32_t idom[13], order[13], nreached;
	uint64_t ret[13], all = 0;

	assert_int_equal(dominators(&g, idom, order, &nreached), 0);
	dominators_retained(13, idom, order, nreached, size, ret);
	for (int v = 0; v < 13; v++)
		all += size[v];
	assert_int_equal(ret[R], all);
	assert_int_equal(ret[C], size[C] + size[F] + size[G] + size[J]);
	assert_int_equal(ret[D], size[D] + size[L]);
	assert_int_equal(ret[G], size[G] + size[J]);
	assert_int_equal(ret[I], size[I]);
	free_graph(&g);
}

/* xorshift64*, a seed per graph. */
static uint64_t rng_state;

static uint32_t rnd(uint32_t bound)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)(((rng_state * 0x2545F4914F6CDD1Dull) >> 32) % bound);
}

#define MAXN 200
#define WORDS ((MAXN + 63) / 64)

/* Dominators the slow way: Dom(root) = {root}, Dom(v) = {v} + the
 * intersection of Dom(p) over v's reachable predecessors p, iterated to the
 * fixed point; idom(v) is the strict dominator with the largest set. */
static void naive_idoms(const struct edges *l, uint32_t root, uint32_t *idom)
{
	uint32_t n = l->n;
	static uint64_t dom[MAXN][WORDS];
	bool reach[MAXN] = { false };
	uint32_t queue[MAXN], qh = 0, qt = 0;

	reach[root] = true;
	queue[qt++] = root;
	while (qh < qt) {
		uint32_t v = queue[qh++];
		for (size_t i = 0; i < l->count; i++)
			if (l->e[i][0] == v && !reach[l->e[i][1]]) {
				reach[l->e[i][1]] = true;
				queue[qt++] = l->e[i][1];
			}
	}
	for (uint32_t v = 0; v < n; v++)
		for (int w = 0; w < WORDS; w++)
			dom[v][w] = v == root ? 0 : ~0ull;
	dom[root][root / 64] |= 1ull << (root % 64);
	for (bool changed = true; changed;) {
		changed = false;
		for (uint32_t v = 0; v < n; v++) {
			if (!reach[v] || v == root)
				continue;
			uint64_t set[WORDS];
			for (int w = 0; w < WORDS; w++)
				set[w] = ~0ull;
			for (size_t i = 0; i < l->count; i++)
				if (l->e[i][1] == v && reach[l->e[i][0]])
					for (int w = 0; w < WORDS; w++)
						set[w] &= dom[l->e[i][0]][w];
			set[v / 64] |= 1ull << (v % 64);
			if (memcmp(set, dom[v], sizeof set)) {
				memcpy(dom[v], set, sizeof set);
				changed = true;
			}
		}
	}
	for (uint32_t v = 0; v < n; v++) {
		idom[v] = DOM_NONE;
		if (!reach[v])
			continue;
		if (v == root) {
			idom[v] = root;
			continue;
		}
		int best = -1;
		for (uint32_t d = 0; d < n; d++) {
			if (d == v || !(dom[v][d / 64] >> (d % 64) & 1))
				continue;
			int c = 0;
			for (int w = 0; w < WORDS; w++)
				c += __builtin_popcountll(dom[d][w]);
			if (c > best) {
				best = c;
				idom[v] = d;
			}
		}
	}
}

/* Random graphs of four shapes: uniform, mostly-forward with a few back
 * edges (deep trees, long compressions), a random tree plus extra edges,
 * and sparse graphs with many unreachable nodes. */
static void random_graph(struct edges *l, uint64_t seed)
{
	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
	uint32_t n = 1 + rnd(MAXN), shape = rnd(4), m;

	l->n = n;
	l->count = 0;
	switch (shape) {
	case 0:
		m = rnd(4 * n + 1);
		for (uint32_t i = 0; i < m; i++)
			add_edge(l, rnd(n), rnd(n));
		break;
	case 1:
		for (uint32_t v = 0; v + 1 < n; v++) {
			add_edge(l, v, v + 1);
			if (rnd(3) == 0)
				add_edge(l, v, v + 1 + rnd(n - v - 1));
		}
		m = rnd(n / 4 + 2);
		for (uint32_t i = 0; i < m; i++) {
			uint32_t a = rnd(n), b = rnd(n);
			add_edge(l, a > b ? a : b, a > b ? b : a);
		}
		break;
	case 2:
		for (uint32_t v = 1; v < n; v++)
			add_edge(l, rnd(v), v);
		m = rnd(n + 1);
		for (uint32_t i = 0; i < m; i++)
			add_edge(l, rnd(n), rnd(n));
		break;
	default:
		m = rnd(n + 1);
		for (uint32_t i = 0; i < m; i++)
			add_edge(l, rnd(n), rnd(n));
		break;
	}
	/* Shuffle so that each node's edge order is random too. */
	for (size_t i = l->count; i > 1; i--) {
		size_t j = rnd((uint32_t)i);
		uint32_t t0 = l->e[i - 1][0], t1 = l->e[i - 1][1];
		l->e[i - 1][0] = l->e[j][0];
		l->e[i - 1][1] = l->e[j][1];
		l->e[j][0] = t0;
		l->e[j][1] = t1;
	}
}

/* dominators() on l from root must agree with the dominator sets; the
 * graph is returned for more checks (free it with free_graph). */
static struct dom_graph expect_naive_idoms(const struct edges *l, uint32_t root, uint64_t seed)
{
	uint32_t want[MAXN], idom[MAXN], order[MAXN];
	struct dom_graph g = csr(l, root);

	naive_idoms(l, root, want);
	run(&g, idom, order);
	for (uint32_t v = 0; v < l->n; v++)
		if (idom[v] != want[v])
			fail_msg("seed %llu, n %u, root %u: idom[%u] = %d, want %d",
				 (unsigned long long)seed, l->n, root, v, (int)idom[v], (int)want[v]);
	return g;
}

static void test_random_graphs_agree_with_iterative_dominator_sets(void **state)
{
	(void)state;
	struct edges l = { 0 };
	uint64_t size[MAXN];

	for (uint64_t seed = 1; seed <= 3000; seed++) {
		random_graph(&l, seed);
		uint32_t root = rnd(l.n);
		struct dom_graph g = expect_naive_idoms(&l, root, seed);
		if (seed % 10 == 0) {
			for (uint32_t v = 0; v < l.n; v++)
				size[v] = 1 + rnd(1000);
			expect_retained(&g, size);
		}
		free_graph(&g);
	}
	free(l.e);
}

/* Graphs shaped like a Python heap: 40% containers (a random tree plus a
 * few extra references among them) and 60% leaves (ints, strs) that
 * containers point at, each leaf either fresh or shared by several
 * containers — the leaves are what dominators() sets aside and settles by
 * meeting their predecessors' dominators.  Node numbers are shuffled. */
static void heap_like_graph(struct edges *l, uint64_t seed)
{
	rng_state = seed * 0xD1B54A32D192ED03ull + 7;
	uint32_t n = 2 + rnd(MAXN - 1), c = 1 + n * 2 / 5, next_leaf = c, perm[MAXN];

	l->n = n;
	l->count = 0;
	for (uint32_t v = 0; v < n; v++)
		perm[v] = v;
	for (uint32_t v = n; v > 1; v--) {
		uint32_t j = rnd(v), t = perm[v - 1];
		perm[v - 1] = perm[j];
		perm[j] = t;
	}
	for (uint32_t v = 1; v < c; v++)
		add_edge(l, perm[rnd(v)], perm[v]);
	for (uint32_t i = rnd(c / 4 + 1); i > 0; i--)
		add_edge(l, perm[rnd(c)], perm[rnd(c)]);
	for (uint32_t v = 0; v < c && c < n; v++)
		for (uint32_t k = rnd(5); k > 0; k--) {
			uint32_t leaf = rnd(2) && next_leaf < n ? next_leaf++ : c + rnd(n - c);
			add_edge(l, perm[v], perm[leaf]);
		}
}

static void test_heap_like_graphs_with_shared_leaves_agree_with_iterative_dominator_sets(void **state)
{
	(void)state;
	struct edges l = { 0 };

	for (uint64_t seed = 1; seed <= 2000; seed++) {
		heap_like_graph(&l, seed);
		uint32_t root = l.e && l.count && rnd(4) ? l.e[0][0] : rnd(l.n);
		struct dom_graph g = expect_naive_idoms(&l, root, seed);
		free_graph(&g);
	}
	free(l.e);
}

/* Cooper, Harvey and Kennedy's iteration ("A simple, fast dominance
 * algorithm", 2001), an independent check for graphs too large for the
 * dominator sets: reverse postorder by an iterative DFS of its own, then
 * idom(b) = the intersection of b's processed predecessors' dominator
 * chains, repeated until nothing changes. */
static void chk_idoms(const struct dom_graph *g, uint32_t *idom)
{
	uint32_t n = g->n;
	uint32_t *po = malloc(n * sizeof *po), *rpo = malloc(n * sizeof *rpo);
	uint32_t *stk = malloc(n * sizeof *stk), *pos = malloc(n * sizeof *pos);
	uint32_t *pstart = calloc((size_t)n + 1, sizeof *pstart), *fill = malloc(((size_t)n + 1) * sizeof *fill);
	uint32_t *padj = malloc((g->start[n] ? g->start[n] : 1) * sizeof *padj);

	assert_true(po && rpo && stk && pos && pstart && fill && padj);
	for (uint32_t v = 0; v < n; v++)
		for (uint32_t e = g->start[v]; e < g->start[v + 1]; e++)
			pstart[g->adj[e] + 1]++;
	for (uint32_t v = 0; v < n; v++)
		pstart[v + 1] += pstart[v];
	memcpy(fill, pstart, ((size_t)n + 1) * sizeof *fill);
	for (uint32_t v = 0; v < n; v++)
		for (uint32_t e = g->start[v]; e < g->start[v + 1]; e++)
			padj[fill[g->adj[e]]++] = v;

	uint32_t sp = 0, npo = 0;
	for (uint32_t v = 0; v < n; v++)
		po[v] = DOM_NONE, idom[v] = DOM_NONE;
	po[g->root] = DOM_NONE - 1;  /* on the stack */
	stk[sp] = g->root;
	pos[sp++] = g->start[g->root];
	while (sp) {
		uint32_t v = stk[sp - 1];
		if (pos[sp - 1] < g->start[v + 1]) {
			uint32_t w = g->adj[pos[sp - 1]++];
			if (po[w] == DOM_NONE) {
				po[w] = DOM_NONE - 1;
				stk[sp] = w;
				pos[sp++] = g->start[w];
			}
		} else {
			po[v] = npo;
			rpo[npo++] = v;
			sp--;
		}
	}
	idom[g->root] = g->root;
	for (bool changed = true; changed;) {
		changed = false;
		for (uint32_t i = npo - 1; i-- > 0;) {
			uint32_t b = rpo[i], new = DOM_NONE;
			for (uint32_t e = pstart[b]; e < pstart[b + 1]; e++) {
				uint32_t p = padj[e];
				if (po[p] == DOM_NONE || idom[p] == DOM_NONE)
					continue;
				if (new == DOM_NONE) {
					new = p;
					continue;
				}
				uint32_t f1 = p, f2 = new;
				while (f1 != f2) {
					while (po[f1] < po[f2])
						f1 = idom[f1];
					while (po[f2] < po[f1])
						f2 = idom[f2];
				}
				new = f1;
			}
			if (idom[b] != new) {
				idom[b] = new;
				changed = true;
			}
		}
	}
	free(po);
	free(rpo);
	free(stk);
	free(pos);
	free(pstart);
	free(fill);
	free(padj);
}

/* Larger graphs with deep DFS trees and long compressions: a few hundred
 * of 1000 to 30000 nodes, uniform or mostly forward with back edges. */
static void test_larger_random_graphs_agree_with_the_cooper_harvey_kennedy_iteration(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		rng_state = seed * 0xD1B54A32D192ED03ull + 7;
		struct edges l = { .n = 1000 + rnd(29000) };
		uint32_t n = l.n, shape = rnd(3), m = n * (1 + rnd(4));

		for (uint32_t i = 0; i < m; i++) {
			uint32_t a = rnd(n), b = rnd(n);
			if (shape == 1 && rnd(8)) {
				uint32_t c = a + 1 + rnd(4);
				b = c < n ? c : rnd(n);
			}
			else if (shape == 2 && rnd(2))
				b = a ? a - 1 - rnd(a < 50 ? a : 50) : 0;
			add_edge(&l, a, b);
		}
		for (uint32_t v = 0; v + 1 < n; v += 1 + rnd(3))
			add_edge(&l, v, v + 1);
		uint32_t root = rnd(n);
		struct dom_graph g = csr(&l, root);
		free(l.e);

		uint32_t *idom = malloc(n * sizeof *idom), *order = malloc(n * sizeof *order);
		uint32_t *want = malloc(n * sizeof *want);
		assert_true(idom && order && want);
		run(&g, idom, order);
		chk_idoms(&g, want);
		for (uint32_t v = 0; v < n; v++)
			if (idom[v] != want[v])
				fail_msg("seed %llu, n %u, root %u: idom[%u] = %d, want %d",
					 (unsigned long long)seed, n, root, v, (int)idom[v], (int)want[v]);
		free(idom);
		free(order);
		free(want);
		free_graph(&g);
	}
}

/* 0 -> 1 -> ... -> n-1, plus n-1 -> 1 (so computing 1's semidominator
 * compresses a path of n-2 nodes) and 0 -> n/2. */
static void test_a_two_million_node_chain_needs_no_recursion(void **state)
{
	(void)state;
	const uint32_t n = 2000000;
	struct edges l = { .n = n };

	for (uint32_t v = 0; v + 1 < n; v++)
		add_edge(&l, v, v + 1);
	add_edge(&l, n - 1, 1);
	add_edge(&l, 0, n / 2);
	struct dom_graph g = csr(&l, 0);
	free(l.e);

	uint32_t *idom = malloc(n * sizeof *idom), *order = malloc(n * sizeof *order), nreached;
	uint64_t *size = malloc(n * sizeof *size), *ret = malloc(n * sizeof *ret);
	assert_true(idom && order && size && ret);
	assert_int_equal(dominators(&g, idom, order, &nreached), 0);
	assert_int_equal(nreached, n);
	assert_int_equal(idom[0], 0);
	assert_int_equal(idom[1], 0);
	assert_int_equal(idom[n / 2], 0);
	for (uint32_t v = 2; v < n; v++)
		if (v != n / 2 && idom[v] != v - 1)
			fail_msg("idom[%u] = %u, want %u", v, idom[v], v - 1);

	for (uint32_t v = 0; v < n; v++)
		size[v] = 1;
	dominators_retained(n, idom, order, nreached, size, ret);
	assert_int_equal(ret[0], n);
	assert_int_equal(ret[1], n / 2 - 1);
	assert_int_equal(ret[n / 2], n - n / 2);
	assert_int_equal(ret[n - 1], 1);
	free(idom);
	free(order);
	free(size);
	free(ret);
	free_graph(&g);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A virtual root 0 with edges to 1000 random nodes, every other node with
 * three random out-edges.  Prints the time; asserts only the invariants. */
static void test_a_random_million_node_graph_is_timed(void **state)
{
	(void)state;
	const uint32_t n = 1000001, per = 3, nroots = 1000;
	uint32_t *start = malloc(((size_t)n + 1) * sizeof *start);
	uint32_t *adj = malloc(((size_t)(n - 1) * per + nroots) * sizeof *adj);
	assert_true(start && adj);

	rng_state = 42;
	uint32_t k = 0;
	start[0] = 0;
	for (uint32_t i = 0; i < nroots; i++)
		adj[k++] = 1 + rnd(n - 1);
	for (uint32_t v = 1; v < n; v++) {
		start[v] = k;
		for (uint32_t i = 0; i < per; i++)
			adj[k++] = 1 + rnd(n - 1);
	}
	start[n] = k;
	struct dom_graph g = { .n = n, .root = 0, .start = start, .adj = adj };

	uint32_t *idom = malloc(n * sizeof *idom), *order = malloc(n * sizeof *order);
	uint64_t *size = malloc(n * sizeof *size), *ret = malloc(n * sizeof *ret);
	assert_true(idom && order && size && ret);
	for (uint32_t v = 0; v < n; v++)
		size[v] = 16 + v % 100;

	double t0 = now();
	uint32_t nreached;
	assert_int_equal(dominators(&g, idom, order, &nreached), 0);
	double t1 = now();
	dominators_retained(n, idom, order, nreached, size, ret);
	double t2 = now();
	print_message("dominators: %u nodes, %u edges, %u reached: %.3f s; retained sizes %.3f s\n", n, k,
		      nreached, t1 - t0, t2 - t1);

	run(&g, idom, order);
	uint64_t all = 0;
	for (uint32_t i = 0; i < nreached; i++)
		all += size[order[i]];
	assert_int_equal(ret[0], all);
	free(idom);
	free(order);
	free(size);
	free(ret);
	free(start);
	free(adj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_chain_is_dominated_link_by_link),
		cmocka_unit_test(test_a_diamond_is_dominated_by_its_top_and_the_join_by_the_top),
		cmocka_unit_test(test_the_lengauer_tarjan_paper_example_has_the_published_dominators),
		cmocka_unit_test(test_unreachable_nodes_get_no_dominator_and_change_nothing),
		cmocka_unit_test(test_self_loops_duplicate_edges_and_edges_into_the_root_change_nothing),
		cmocka_unit_test(test_a_one_node_graph_is_its_own_dominator_with_or_without_a_self_loop),
		cmocka_unit_test(test_a_root_other_than_node_zero_works),
		cmocka_unit_test(test_order_and_count_are_optional),
		cmocka_unit_test(test_a_root_outside_the_graph_is_einval_and_writes_nothing),
		cmocka_unit_test(test_out_of_memory_is_enomem_and_writes_nothing),
		cmocka_unit_test(test_retained_sizes_equal_the_sizes_of_the_dominator_subtrees),
		cmocka_unit_test(test_random_graphs_agree_with_iterative_dominator_sets),
		cmocka_unit_test(test_heap_like_graphs_with_shared_leaves_agree_with_iterative_dominator_sets),
		cmocka_unit_test(test_larger_random_graphs_agree_with_the_cooper_harvey_kennedy_iteration),
		cmocka_unit_test(test_a_two_million_node_chain_needs_no_recursion),
		cmocka_unit_test(test_a_random_million_node_graph_is_timed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
