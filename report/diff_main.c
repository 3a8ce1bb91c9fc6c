/* diff_main.c — pycore-diff: what changed between cores of a Python process.
 *
 * The command line and the order of work: each core is read and counted as
 * pycore-report counts it (types and kinds by sys.getsizeof); then each
 * consecutive pair is compared, row by row and — within one process —
 * object by object (analyze/growth.c); render_diff.c writes it all.
 * Whether two cores come from one process (pid and start time in the
 * PYCORE capture note) decides what a comparison can claim: between
 * different processes only the type-level deltas mean anything, and the
 * output says so.
 */
#include "../analyze/census.h"
#include "../analyze/growth.h"
#include "../analyze/image.h"
#include "../common/error.h"
#include "../common/pycore_note.h"
#include "../common/sort.h"
#include "cliopts.h"
#include "diff.h"

#include <elf.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PYCORE_VERSION
#define PYCORE_VERSION "0.1.0"
#endif
#define DEFAULT_LIMIT 20
#define MAX_CORES 64
#define TOP_GROWTH 20
#define TOP_HOLDERS 10

struct snapshot {
	const char *path;
	char version[32];
	pid_t pid;
	uint64_t start_ticks;        /* 0: the core does not say (not a pycore core) */
	double time;                 /* capture time, 0 when unknown */
	struct census census;
	/* kept open to compare objects across cores */
	struct pc_image img;
	struct pc_py py;
	struct objindex index;
};

struct options {
	enum diff_format format;
	size_t limit;
	struct pc_search search;
	const char *cores[MAX_CORES];
	size_t ncores;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pycore-diff [--format text|json|html] [--limit N] [--exe PATH]\n"
		"                   [--lib-search-path DIR[:DIR]] [--sysroot DIR] CORE-A CORE-B [CORE...]\n"
		"What grew between cores of a Python process: objects by type and by kind,\n"
		"and within one process object by object: what grew, what is new, what was freed.\n"
		"\n"
		"  -f, --format FMT          text (default), json (pycore-diff/1) or html (one page)\n"
		"  -n, --limit N             rows per table in text (default %d)\n"
		"      --exe, --lib-search-path, --sysroot   as for pycore-report (--sysroot DIR:\n"
		"                   a container's root, e.g. /proc/PID/root while it runs)\n"
		"  -h, --help                show this help\n"
		"  -V, --version             show the version\n"
		"\n"
		"Exit status: 0 done, 2 usage, 11 a core is not usable, 1 other errors.\n",
		DEFAULT_LIMIT);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "format", required_argument, 0, 'f' }, CLI_SHARED_LONGOPTS,
		{ "help", no_argument, 0, 'h' },         { "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	int c, shared;

	memset(o, 0, sizeof *o);
	o->limit = DEFAULT_LIMIT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:n:hV", longopts, NULL)) != -1) {
		if ((shared = cli_shared_option(c, optarg, &o->limit, &o->search)) != 0) {
			if (shared < 0)
				return -1;
			continue;
		}
		switch (c) {
		case 'f':
			if (strcmp(optarg, "text") == 0)
				o->format = DIFF_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = DIFF_JSON;
			else if (strcmp(optarg, "html") == 0)
				o->format = DIFF_HTML;
			else
				return pc_fail(PC_EUSAGE, 0, "--format is text, json or html, not '%s'", optarg);
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("pycore-diff %s\n", PYCORE_VERSION); exit(0);
		default:
			return pc_fail(PC_EUSAGE, 0, "unknown option or missing argument: '%s' "
				       "(try 'pycore-diff --help')", argv[optind - 1]);
		}
	}
	if (argc - optind < 2 || argc - optind > MAX_CORES)
		return pc_fail(PC_EUSAGE, 0, "expected two to %d cores (try 'pycore-diff --help')",
			       MAX_CORES);
	for (int i = optind; i < argc; i++)
		o->cores[o->ncores++] = argv[i];
	return 0;
}

/* pid, start time and capture time: from the PYCORE capture note when the
 * core has one, else the pid of NT_PRPSINFO. */
static void identify(struct snapshot *s, const struct pc_core *core)
{
	size_t len;
	const uint8_t *cap;

	s->pid = core_process_id(core);
	cap = core_note(core, PYCORE_NOTE_NAME, PYCORE_NT_CAPTURE, &len);
	if (cap && len >= 56) {
		int32_t pid;
		uint64_t sec;
		uint32_t ns;
		memcpy(&sec, cap + 8, 8);
		memcpy(&ns, cap + 16, 4);
		memcpy(&pid, cap + 20, 4);
		memcpy(&s->start_ticks, cap + 24, 8);
		s->pid = pid;
		s->time = (double)sec + ns / 1e9;
	}
}

static int take(const char *path, const struct pc_search *search, struct snapshot *s)
{
	memset(s, 0, sizeof *s);
	s->path = path;
	if (image_open(&s->img, path, search) < 0)
		return pc_wrap("%s", path);
	if (core_missing_bytes(s->img.core))
		return pc_fail(PC_EFORMAT, 0, "%s is truncated", path);
	if (py_open(&s->py, &s->img) < 0)
		return pc_wrap("%s", path);
	snprintf(s->version, sizeof s->version, "%u.%u.%u", s->py.rt.hexversion >> 24,
		 s->py.rt.hexversion >> 16 & 0xff, s->py.rt.hexversion >> 8 & 0xff);
	identify(s, s->img.core);
	if (census_take(&s->py, &s->census, &s->index, NULL, NULL) < 0 ||
	    objindex_finish(&s->index) < 0)
		return pc_wrap("%s: walking the heap", path);
	return 0;
}

static void release(struct snapshot *s)
{
	census_free(&s->census);
	objindex_free(&s->index);
	if (s->img.core)
		image_close(&s->img);
}

/* One process, as far as the cores can tell: same pid and start time. */
static bool same_process(const struct snapshot *a, const struct snapshot *b)
{
	return a->pid == b->pid && a->start_ticks && a->start_ticks == b->start_ticks;
}

static int by_delta(const void *x, const void *y)
{
	const struct diff_delta *a = x, *b = y;
	int64_t da = (int64_t)(a->bytes[1] - a->bytes[0]), db = (int64_t)(b->bytes[1] - b->bytes[0]);
	uint64_t ua = da < 0 ? (uint64_t)-da : (uint64_t)da, ub = db < 0 ? (uint64_t)-db : (uint64_t)db;

	if (ua != ub)
		return ua < ub ? 1 : -1;
	return strcmp(a->name, b->name);
}

/* Rows of a and b matched by name, sorted by the size of the change. */
static struct diff_delta *compare(const struct census_row *a, size_t na, const struct census_row *b,
			     size_t nb, size_t *n)
{
	struct diff_delta *d = calloc(na + nb + 1, sizeof *d);

	*n = 0;
	if (!d)
		return NULL;
	for (size_t i = 0; i < na; i++)
		d[(*n)++] = (struct diff_delta){ a[i].name, { a[i].count, 0 }, { a[i].bytes, 0 } };
	for (size_t j = 0; j < nb; j++) {
		size_t k = 0;
		while (k < *n && strcmp(d[k].name, b[j].name) != 0)
			k++;
		if (k == *n)
			d[(*n)++] = (struct diff_delta){ b[j].name, { 0, 0 }, { 0, 0 } };
		d[k].count[1] = b[j].count;
		d[k].bytes[1] = b[j].bytes;
	}
	sort_array(d, *n, sizeof *d, by_delta);
	return d;
}

static void side_of(const struct snapshot *s, struct diff_side *d)
{
	*d = (struct diff_side){ s->path, s->version, s->pid, s->time, s->census.objects,
				 s->census.bytes };
}

/* One comparison, a -> b: the deltas, and object by object only within
 * one process (addresses mean nothing across processes). */
static int compare_pair(struct snapshot *a, struct snapshot *b, struct diff_pair *p)
{
	memset(p, 0, sizeof *p);
	side_of(a, &p->before);
	side_of(b, &p->after);
	p->same_process = same_process(a, b);
	p->identity = p->same_process ? "same process"
			: "different processes (or not known to be one): type-level deltas only";
	p->types = compare(a->census.types, a->census.ntypes, b->census.types, b->census.ntypes,
			   &p->ntypes);
	p->kinds = compare(a->census.kinds, a->census.nkinds, b->census.kinds, b->census.nkinds,
			   &p->nkinds);
	if (!p->types || !p->kinds)
		return pc_fail(PC_EINTERNAL, 0, "out of memory comparing");
	if (p->same_process &&
	    growth_compare(&a->py, a->census.type_table, &a->index, &b->py, b->census.type_table,
			   &b->index, TOP_GROWTH, TOP_HOLDERS, &p->growth) < 0)
		return -1;
	return 0;
}

static void pair_free(struct diff_pair *p)
{
	free(p->types);
	free(p->kinds);
	growth_free(&p->growth);
}

/* Three or more cores: what grew in every interval — the types whose
 * count rose each time, and the containers (same address and type in
 * every core) whose length did. */
static uint64_t count_in(const struct census *c, const char *name)
{
	for (size_t i = 0; i < c->ntypes; i++)
		if (strcmp(c->types[i].name, name) == 0)
			return c->types[i].count;
	return 0;
}

static bool type_grew_every_time(struct snapshot *snaps, size_t n, const char *name)
{
	uint64_t prev = count_in(&snaps[0].census, name), now;

	for (size_t k = 1; k < n; k++, prev = now)
		if ((now = count_in(&snaps[k].census, name)) <= prev)
			return false;
	return true;
}

static bool grew_every_time(struct snapshot *snaps, size_t n, const struct growth_row *g)
{
	uint64_t prev = g->len[0], len;

	if (!g->has_len)
		return false;
	for (size_t k = 1; k + 1 < n; k++) {
		int64_t j = objindex_find(&snaps[k].index, g->addr);
		const struct py_type *t = j >= 0 ? types_at(snaps[k].census.type_table,
							    snaps[k].index.v[j].type) : NULL;
		if (!t || strcmp(types_name(snaps[k].census.type_table, t), g->type) != 0 ||
		    !growth_length(&snaps[k].py, t, g->addr, &len) || len <= prev)
			return false;
		prev = len;
	}
	return g->len[1] > prev;
}

/* Fills s from the first and last cores' comparison (in *whole, freed by
 * the caller); s borrows names and rows from them. */
static int compare_series(struct snapshot *snaps, size_t n, struct growth *whole,
			  struct diff_series *s)
{
	struct snapshot *first = &snaps[0], *last = &snaps[n - 1];
	const struct census *c = &last->census;
	bool same = true;

	memset(s, 0, sizeof *s);
	memset(whole, 0, sizeof *whole);
	for (size_t k = 0; k + 1 < n; k++)
		same &= same_process(&snaps[k], &snaps[k + 1]);
	if (same && growth_compare(&first->py, first->census.type_table, &first->index, &last->py,
				   c->type_table, &last->index, TOP_GROWTH * 5, 0, whole) < 0)
		return -1;
	s->types = calloc(c->ntypes + 1, sizeof *s->types);
	s->containers = calloc(whole->nrows + 1, sizeof *s->containers);
	if (!s->types || !s->containers)
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	for (size_t i = 0; i < c->ntypes; i++)
		if (type_grew_every_time(snaps, n, c->types[i].name))
			s->types[s->ntypes++] = c->types[i].name;
	for (size_t i = 0; i < whole->nrows; i++)
		if (grew_every_time(snaps, n, &whole->rows[i]))
			s->containers[s->ncontainers++] = &whole->rows[i];
	return 0;
}

static int diff_cores(const struct options *o, struct snapshot *snaps)
{
	size_t npairs = o->ncores - 1;
	struct diff_pair *pairs = calloc(npairs, sizeof *pairs);
	struct diff_series series = { 0 };
	struct growth whole = { 0 };
	int rc = -1;

	if (!pairs)
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	for (size_t i = 0; i < npairs; i++)
		if (compare_pair(&snaps[i], &snaps[i + 1], &pairs[i]) < 0)
			goto out;
	if (o->ncores > 2 && compare_series(snaps, o->ncores, &whole, &series) < 0)
		goto out;
	rc = render_diff(stdout, o->format, pairs, npairs, o->ncores > 2 ? &series : NULL,
			 o->limit);
out:
	for (size_t i = 0; i < npairs; i++)
		pair_free(&pairs[i]);
	free(pairs);
	free(series.types);
	free(series.containers);
	growth_free(&whole);
	return rc;
}

int main(int argc, char **argv)
{
	static struct snapshot snaps[MAX_CORES];
	struct options o;
	size_t taken = 0;
	int rc = 0;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "pycore-diff: %s\n", pc_errmsg());
		return PC_EUSAGE;
	}
	for (; taken < o.ncores; taken++)
		if (take(o.cores[taken], &o.search, &snaps[taken]) < 0)
			break;
	if (taken < o.ncores || diff_cores(&o, snaps) < 0) {
		fprintf(stderr, "pycore-diff: %s\n", pc_errmsg());
		rc = pc_errcode() ? (int)pc_errcode() : 1;
	}
	for (size_t i = 0; i <= taken && i < o.ncores; i++)
		release(&snaps[i]);
	if (rc == 0 && fflush(stdout) != 0)
		rc = PC_EOUTPUT;
	return rc;
}
