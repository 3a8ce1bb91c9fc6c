/* diff_main.c — pycore-diff: what changed between cores of a Python process.
 *
 * First each core is read and counted as pycore-report counts it (types
 * and kinds by sys.getsizeof); then each consecutive pair is compared, row
 * by row.  Whether two cores come from one process (pid and start time in
 * the PYCORE capture note) decides what a comparison can claim: between
 * different processes only the type-level deltas mean anything, and the
 * output says so.  (Grown containers and their paths: issue #5, later.)
 */
#include "../analyze/census.h"
#include "../analyze/growth.h"
#include "../analyze/leaks.h"
#include "../analyze/image.h"
#include "../common/error.h"
#include "../common/pycore_note.h"
#include "cliopts.h"
#include "report.h"

#include <elf.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>

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

struct delta {
	const char *name;
	uint64_t count[2], bytes[2];
};

struct options {
	bool json;
	size_t limit;
	struct pc_search search;
	const char *cores[MAX_CORES];
	size_t ncores;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pycore-diff [--format text|json] [--limit N] [--exe PATH]\n"
		"                   [--lib-search-path DIR[:DIR]] [--sysroot DIR] CORE-A CORE-B [CORE...]\n"
		"What grew between cores of a Python process: objects by type and by kind.\n"
		"\n"
		"  -f, --format FMT          text (default) or json (pycore-diff/1)\n"
		"  -n, --limit N             rows per table in text (default %d)\n"
		"      --exe, --lib-search-path, --sysroot   as for pycore-report\n"
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
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return pc_fail(PC_EUSAGE, 0, "--format is text or json, not '%s'", optarg);
			o->json = strcmp(optarg, "json") == 0;
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
	const struct elf_prpsinfo *ps = core_note(core, "CORE", NT_PRPSINFO, &len);
	const uint8_t *cap;

	if (ps && len >= sizeof *ps)
		s->pid = ps->pr_pid;
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
	const struct delta *a = x, *b = y;
	int64_t da = (int64_t)(a->bytes[1] - a->bytes[0]), db = (int64_t)(b->bytes[1] - b->bytes[0]);
	uint64_t ua = da < 0 ? (uint64_t)-da : (uint64_t)da, ub = db < 0 ? (uint64_t)-db : (uint64_t)db;

	if (ua != ub)
		return ua < ub ? 1 : -1;
	return strcmp(a->name, b->name);
}

/* Rows of a and b matched by name, sorted by the size of the change. */
static struct delta *compare(const struct census_row *a, size_t na, const struct census_row *b,
			     size_t nb, size_t *n)
{
	struct delta *d = calloc(na + nb + 1, sizeof *d);

	*n = 0;
	if (!d)
		return NULL;
	for (size_t i = 0; i < na; i++)
		d[(*n)++] = (struct delta){ a[i].name, { a[i].count, 0 }, { a[i].bytes, 0 } };
	for (size_t j = 0; j < nb; j++) {
		size_t k = 0;
		while (k < *n && strcmp(d[k].name, b[j].name) != 0)
			k++;
		if (k == *n)
			d[(*n)++] = (struct delta){ b[j].name, { 0, 0 }, { 0, 0 } };
		d[k].count[1] = b[j].count;
		d[k].bytes[1] = b[j].bytes;
	}
	qsort(d, *n, sizeof *d, by_delta);
	return d;
}

static void json_rows(FILE *out, const char *key, const struct delta *d, size_t n)
{
	fprintf(out, ",\n  \"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
		json_put_str(out, d[i].name);
		fprintf(out, ", \"count_before\": %llu, \"count_after\": %llu, \"count_delta\": %lld, "
			"\"bytes_before\": %llu, \"bytes_after\": %llu, \"bytes_delta\": %lld}",
			(unsigned long long)d[i].count[0], (unsigned long long)d[i].count[1],
			(long long)(d[i].count[1] - d[i].count[0]), (unsigned long long)d[i].bytes[0],
			(unsigned long long)d[i].bytes[1], (long long)(d[i].bytes[1] - d[i].bytes[0]));
	}
	fputs(n ? "\n  ]" : "]", out);
}

static void json_side(FILE *out, const char *key, const struct snapshot *s)
{
	fprintf(out, "  \"%s\": {\"core\": ", key);
	json_put_str(out, s->path);
	fprintf(out, ", \"pid\": %d, \"python\": \"%s\", \"time\": %.3f, \"objects\": %llu, "
		"\"bytes\": %llu}", (int)s->pid, s->version, s->time,
		(unsigned long long)s->census.objects, (unsigned long long)s->census.bytes);
}

static bool changed(const struct delta *d)
{
	return d->count[0] != d->count[1] || d->bytes[0] != d->bytes[1];
}

/* The rows that changed (the JSON has every row). */
static void json_growth(FILE *out, const struct growth_row *g, size_t n)
{
	fputs(",\n  \"growth\": [", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n    {\"address\": \"%#llx\", \"type\": ", i ? "," : "",
			(unsigned long long)g[i].addr);
		json_put_str(out, g[i].type);
		fprintf(out, ", \"len_before\": %llu, \"len_after\": %llu, \"bytes_before\": %llu, "
			"\"bytes_after\": %llu, \"retained_before\": null, \"retained_after\": null, "
			"\"path\": ", (unsigned long long)g[i].len[0], (unsigned long long)g[i].len[1],
			(unsigned long long)g[i].bytes[0], (unsigned long long)g[i].bytes[1]);
		json_put_str(out, g[i].path);
		fputs("}", out);
	}
	fputs(n ? "\n  ]" : "]", out);
}

static void json_holders(FILE *out, const struct growth *gr)
{
	fprintf(out, ",\n  \"new_objects\": {\"count\": %llu, \"bytes\": %llu},\n  \"new_retainers\": [",
		(unsigned long long)gr->new_objects, (unsigned long long)gr->new_bytes);
	for (size_t i = 0; i < gr->nholders; i++) {
		const struct retainer *h = &gr->holders[i];
		fprintf(out, "%s\n    {\"address\": \"%#llx\", \"type\": ", i ? "," : "",
			(unsigned long long)h->addr);
		json_put_str(out, h->type);
		fprintf(out, ", \"new_bytes\": %llu, \"new_objects\": %llu, \"path\": ",
			(unsigned long long)h->retained_bytes, (unsigned long long)h->retained_objects);
		json_put_str(out, h->path);
		fputs("}", out);
	}
	fputs(gr->nholders ? "\n  ]" : "]", out);
}

static void text_holders(FILE *out, const struct growth *gr, size_t limit)
{
	fprintf(out, "New objects: %llu, %llu bytes; held mostly by:\n",
		(unsigned long long)gr->new_objects, (unsigned long long)gr->new_bytes);
	if (!gr->nholders)
		fputs("  none over 10% of them\n", out);
	for (size_t i = 0; i < gr->nholders && i < limit; i++)
		fprintf(out, "  %12llu bytes in %8llu new objects: %s %s\n",
			(unsigned long long)gr->holders[i].retained_bytes,
			(unsigned long long)gr->holders[i].retained_objects, gr->holders[i].type,
			gr->holders[i].path ? gr->holders[i].path : "(no path from a root)");
	fputc('\n', out);
}

static void text_growth(FILE *out, const struct growth_row *g, size_t n, size_t limit)
{
	if (!n) {
		fputs("Containers that grew: none\n\n", out);
		return;
	}
	fputs("Containers that grew (largest growth in length first):\n", out);
	fprintf(out, "  %10s %10s %12s  %s\n", "len before", "len after", "bytes after", "container");
	for (size_t i = 0; i < n && i < limit; i++)
		fprintf(out, "  %10llu %10llu %12llu  %s %s\n", (unsigned long long)g[i].len[0],
			(unsigned long long)g[i].len[1], (unsigned long long)g[i].bytes[1], g[i].type,
			g[i].path ? g[i].path : "(no path from a root)");
	fputc('\n', out);
}

static void text_rows(FILE *out, const char *title, const struct delta *d, size_t n, size_t limit)
{
	size_t shown = 0, more = 0;

	for (size_t i = 0; i < n; i++)
		more += changed(&d[i]);
	if (!more) {
		fprintf(out, "%s: no change\n\n", title);
		return;
	}
	fprintf(out, "%s that changed (largest change first):\n", title);
	fprintf(out, "  %10s %10s %12s %12s  %s\n", "count", "delta", "bytes", "delta", "name");
	for (size_t i = 0; i < n && shown < limit; i++) {
		if (!changed(&d[i]))
			continue;
		fprintf(out, "  %10llu %+10lld %12llu %+12lld  %s\n", (unsigned long long)d[i].count[1],
			(long long)(d[i].count[1] - d[i].count[0]), (unsigned long long)d[i].bytes[1],
			(long long)(d[i].bytes[1] - d[i].bytes[0]), d[i].name);
		shown++;
	}
	if (more > shown)
		fprintf(out, "  <%zu more rows: --limit N, or --format json for all>\n", more - shown);
	fputc('\n', out);
}

/* One comparison, a -> b. */
static int render_pair(FILE *out, const struct options *o, const struct snapshot *a,
		       const struct snapshot *b)
{
	size_t nt, nk;
	struct delta *types = compare(a->census.types, a->census.ntypes, b->census.types,
				      b->census.ntypes, &nt);
	struct delta *kinds = compare(a->census.kinds, a->census.nkinds, b->census.kinds,
				      b->census.nkinds, &nk);
	bool same = same_process(a, b);
	struct growth gr = { 0 };
	const char *identity = same ? "same process"
				    : "different processes (or not known to be one): type-level deltas only";

	if (!types || !kinds) {
		free(types);
		free(kinds);
		return pc_fail(PC_EINTERNAL, 0, "out of memory comparing");
	}
	/* Object by object only within one process: addresses mean nothing
	 * across processes. */
	if (same && growth_compare((struct pc_py *)&a->py, a->census.type_table, &a->index,
				   (struct pc_py *)&b->py, b->census.type_table,
				   (struct objindex *)&b->index, TOP_GROWTH, TOP_HOLDERS, &gr) < 0) {
		free(types);
		free(kinds);
		return -1;
	}
	if (o->json) {
		fputs("{\n  \"schema\": \"pycore-diff/1\",\n", out);
		json_side(out, "before", a);
		fputs(",\n", out);
		json_side(out, "after", b);
		fprintf(out, ",\n  \"same_process\": %s, \"identity\": \"%s\"", same ? "true" : "false",
			identity);
		json_rows(out, "types", types, nt);
		json_rows(out, "kinds", kinds, nk);
		json_growth(out, gr.rows, gr.nrows);
		json_holders(out, &gr);
		fputs("\n}\n", out);
	} else {
		fprintf(out, "Before: %s (pid %d, Python %s): %llu objects, %llu bytes\n", a->path,
			(int)a->pid, a->version, (unsigned long long)a->census.objects,
			(unsigned long long)a->census.bytes);
		fprintf(out, "After:  %s (pid %d, Python %s): %llu objects, %llu bytes\n", b->path,
			(int)b->pid, b->version, (unsigned long long)b->census.objects,
			(unsigned long long)b->census.bytes);
		fprintf(out, "Delta:  %+lld objects, %+lld bytes; %s\n\n",
			(long long)(b->census.objects - a->census.objects),
			(long long)(b->census.bytes - a->census.bytes), identity);
		text_rows(out, "Types", types, nt, o->limit);
		text_rows(out, "Kinds", kinds, nk, o->limit);
		if (same) {
			text_growth(out, gr.rows, gr.nrows, o->limit);
			text_holders(out, &gr, o->limit);
		}
	}
	growth_free(&gr);
	free(types);
	free(kinds);
	return ferror(out) ? pc_fail(PC_EOUTPUT, 0, "writing the diff failed") : 0;
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

static bool grew_every_time(struct snapshot *snaps, size_t n, const struct growth_row *g)
{
	uint64_t prev = g->len[0], len;

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

static int render_series(FILE *out, const struct options *o, struct snapshot *snaps, size_t n)
{
	struct snapshot *first = &snaps[0], *last = &snaps[n - 1];
	const struct census *c = &last->census;
	struct growth gr = { 0 };
	size_t shown = 0;
	bool same = true;

	for (size_t k = 0; k + 1 < n; k++)
		same &= same_process(&snaps[k], &snaps[k + 1]);
	if (same && growth_compare(&first->py, first->census.type_table, &first->index, &last->py,
				   c->type_table, &last->index, TOP_GROWTH * 5, 0, &gr) < 0)
		return -1;
	struct growth_row *growth = gr.rows;
	size_t ng = gr.nrows;
	fputs(o->json ? ",\n  \"grew_every_interval\": {\"types\": [" : "Grew in every interval:\n  types:", out);
	for (size_t i = 0; i < c->ntypes; i++) {
		uint64_t prev = count_in(&snaps[0].census, c->types[i].name);
		bool grew = true;
		for (size_t k = 1; k < n && grew; k++) {
			uint64_t now = count_in(&snaps[k].census, c->types[i].name);
			grew = now > prev;
			prev = now;
		}
		if (!grew)
			continue;
		if (o->json) {
			fputs(shown++ ? ", " : "", out);
			json_put_str(out, c->types[i].name);
		} else {
			fprintf(out, " %s", c->types[i].name);
			shown++;
		}
	}
	if (!o->json && !shown)
		fputs(" none", out);
	fputs(o->json ? "], \"containers\": [" : "\n  containers:\n", out);
	shown = 0;
	for (size_t i = 0; i < ng; i++) {
		if (!grew_every_time(snaps, n, &growth[i]))
			continue;
		if (o->json) {
			fprintf(out, "%s{\"address\": \"%#llx\", \"type\": ", shown++ ? ", " : "",
				(unsigned long long)growth[i].addr);
			json_put_str(out, growth[i].type);
			fprintf(out, ", \"len_first\": %llu, \"len_last\": %llu, \"path\": ",
				(unsigned long long)growth[i].len[0], (unsigned long long)growth[i].len[1]);
			json_put_str(out, growth[i].path);
			fputs("}", out);
		} else {
			fprintf(out, "    %llu -> %llu  %s %s\n", (unsigned long long)growth[i].len[0],
				(unsigned long long)growth[i].len[1], growth[i].type,
				growth[i].path ? growth[i].path : "(no path from a root)");
			shown++;
		}
	}
	if (!o->json && !shown)
		fputs("    none\n", out);
	fputs(o->json ? "]}\n}\n" : "\n", out);
	growth_free(&gr);
	return 0;
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
	if (taken < o.ncores) {
		fprintf(stderr, "pycore-diff: %s\n", pc_errmsg());
		rc = pc_errcode() ? (int)pc_errcode() : 1;
	}
	/* Two cores: one pycore-diff/1 document.  More: the intervals, each
	 * such a document, then what grew in every one of them. */
	if (rc == 0 && o.ncores > 2 && o.json)
		fputs("{\n  \"schema\": \"pycore-diff/1\",\n  \"intervals\": [\n", stdout);
	for (size_t i = 0; rc == 0 && i + 1 < o.ncores; i++) {
		if (o.ncores > 2 && o.json && i)
			fputs(",\n", stdout);
		if (render_pair(stdout, &o, &snaps[i], &snaps[i + 1]) < 0)
			rc = -1;
	}
	if (rc == 0 && o.ncores > 2) {
		if (o.json)
			fputs("  ]", stdout);
		if (render_series(stdout, &o, snaps, o.ncores) < 0)
			rc = -1;
	}
	if (rc < 0) {
		fprintf(stderr, "pycore-diff: %s\n", pc_errmsg());
		rc = pc_errcode() ? (int)pc_errcode() : 1;
	}
	for (size_t i = 0; i <= taken && i < o.ncores; i++)
		release(&snaps[i]);
	if (rc == 0 && fflush(stdout) != 0)
		rc = PC_EOUTPUT;
	return rc;
}
