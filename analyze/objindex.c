/* objindex.c — objects by address: natural merge sort, page directory. */
#include "objindex.h"

#include "../common/error.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_SHIFT   12
#define PAGE_MASK    ((1u << PAGE_SHIFT) - 1)
#define EMPTY_PAGE   UINT64_MAX

int objindex_add(struct objindex *x, uint64_t addr, uint32_t type, uint64_t size)
{
	if (addr & 7)          /* not an object CPython could have made */
		return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 1u << 16;
		struct objrec *v = realloc(x->v, cap * sizeof *v);
		if (!v)
			return pc_fail(PC_EINTERNAL, 0, "out of memory indexing objects");
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = (struct objrec){ addr, size, type, 0 };
	return 0;
}

/* Merge the adjacent sorted runs v[a, b) and v[b, c) in place, with the
 * shorter of the two copied out to tmp (room for it): the longer run moves
 * at most once and no array as large as the index is allocated. */
static void merge(struct objrec *v, struct objrec *tmp, size_t a, size_t b, size_t c)
{
	if (b - a <= c - b) {           /* forward, the left run in tmp */
		size_t i = 0, n = b - a, j = b, k = a;
		memcpy(tmp, v + a, n * sizeof *v);
		while (i < n && j < c)
			v[k++] = v[j].addr < tmp[i].addr ? v[j++] : tmp[i++];
		memcpy(v + k, tmp + i, (n - i) * sizeof *v);
	} else {                        /* backward, the right run in tmp */
		size_t n = c - b, i = b, j = n, k = c;
		memcpy(tmp, v + b, n * sizeof *v);
		while (i > a && j > 0)
			v[--k] = tmp[j - 1].addr < v[i - 1].addr ? v[--i] : tmp[--j];
		memcpy(v + a, tmp, j * sizeof *v);
	}
}

/* The walk yields a few long ascending runs (arenas, heaps): merge
 * neighbouring runs until one is left — O(n log runs) time, and extra
 * memory for the shorter run of each merge only. */
static int sort_by_address(struct objindex *x)
{
	struct objrec *v = x->v, *tmp = NULL;
	size_t *runs, nruns = 0, tmp_cap = 0;

	if (x->n < 2)
		return 0;
	if (!(runs = malloc((x->n + 1) * sizeof *runs)))
		return pc_fail(PC_EINTERNAL, 0, "out of memory sorting objects");
	runs[nruns++] = 0;
	for (size_t i = 1; i < x->n; i++)
		if (v[i].addr < v[i - 1].addr)
			runs[nruns++] = i;
	runs[nruns] = x->n;
	while (nruns > 1) {
		size_t out = 0;
		for (size_t r = 0; r < nruns; r += 2) {
			if (r + 1 < nruns) {
				size_t a = runs[r], b = runs[r + 1];
				size_t c = r + 2 <= nruns ? runs[r + 2] : x->n;
				size_t need = b - a < c - b ? b - a : c - b;
				if (need > tmp_cap) {
					free(tmp);
					if (!(tmp = malloc((tmp_cap = need) * sizeof *tmp))) {
						free(runs);
						return pc_fail(PC_EINTERNAL, 0, "out of memory sorting objects");
					}
				}
				merge(v, tmp, a, b, c);
			}
			runs[out++] = runs[r];
		}
		runs[out] = x->n;
		nruns = out;
	}
	free(tmp);
	free(runs);
	return 0;
}

static size_t dir_slot(const struct objindex *x, uint64_t page)
{
	size_t i = (size_t)(page * 0x9E3779B97F4A7C15ull >> 17) & (x->ndir - 1);

	while (x->dir[i].page != EMPTY_PAGE && x->dir[i].page != page)
		i = (i + 1) & (x->ndir - 1);
	return i;
}

static unsigned popcount64(uint64_t v)
{
	v -= (v >> 1) & 0x5555555555555555ull;
	v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
	v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (unsigned)((v * 0x0101010101010101ull) >> 56);
}

static void count_before(struct objindex_page *p)
{
	unsigned sum = 0;

	for (unsigned w = 0; w < 8; w++) {
		p->before[w] = (uint16_t)sum;
		sum += popcount64(p->starts[w]);
	}
}

/* Slots for every page that holds objects, and the page's start bitmap. */
static int build_directory(struct objindex *x, size_t pages)
{
	uint32_t map = 0;

	for (x->ndir = 16; x->ndir < 2 * pages; x->ndir *= 2)
		;
	x->dir = malloc(x->ndir * sizeof *x->dir);
	x->pages = calloc(pages ? pages : 1, sizeof *x->pages);
	if (!x->dir || !x->pages)
		return pc_fail(PC_EINTERNAL, 0, "out of memory indexing objects");
	for (size_t i = 0; i < x->ndir; i++)
		x->dir[i].page = EMPTY_PAGE;
	for (size_t i = 0; i < x->n; i++) {
		uint64_t addr = x->v[i].addr, page = addr >> PAGE_SHIFT;
		size_t s = dir_slot(x, page);
		unsigned word = (unsigned)(addr & PAGE_MASK) >> 3;

		if (x->dir[s].page == EMPTY_PAGE) {
			x->dir[s].page = page;
			x->dir[s].first = (uint32_t)i;
			x->dir[s].map = map++;
		}
		x->pages[x->dir[s].map].starts[word / 64] |= 1ull << (word % 64);
	}
	for (size_t i = 0; i < pages; i++)
		count_before(&x->pages[i]);
	return 0;
}

int objindex_finish(struct objindex *x)
{
	size_t pages = 0, kept = 0;

	if (sort_by_address(x) < 0)
		return -1;
	for (size_t i = 0; i < x->n; i++)     /* one object per address */
		if (!kept || x->v[i].addr != x->v[kept - 1].addr)
			x->v[kept++] = x->v[i];
	x->n = kept;
	for (size_t i = 0; i < x->n; i++)
		pages += !i || x->v[i].addr >> PAGE_SHIFT != x->v[i - 1].addr >> PAGE_SHIFT;
	return build_directory(x, pages);
}

int64_t objindex_find(const struct objindex *x, uint64_t addr)
{
	const struct objindex_page *p;
	unsigned word, w, bit;
	size_t s;

	if (!x->ndir || (addr & 7))
		return -1;
	s = dir_slot(x, addr >> PAGE_SHIFT);
	if (x->dir[s].page == EMPTY_PAGE)
		return -1;
	p = &x->pages[x->dir[s].map];
	word = (unsigned)(addr & PAGE_MASK) >> 3;
	w = word / 64;
	bit = word % 64;
	if (!(p->starts[w] >> bit & 1))
		return -1;
	return (int64_t)x->dir[s].first + p->before[w] +
	       popcount64(p->starts[w] & ((1ull << bit) - 1));
}

void objindex_free(struct objindex *x)
{
	free(x->v);
	free(x->dir);
	free(x->pages);
	memset(x, 0, sizeof *x);
}
