/* render_diff.c — pycore-diff's output: text for people, the pycore-diff/1
 * JSON document for scripts, and the HTML page (that document drawn by
 * html_diff.h with the helpers pycore-report's page uses). */
#include "diff.h"
#include "html_diff.h"
#include "html_page.h"
#include "report.h"

#include "../common/error.h"

#include <stdlib.h>
#include <string.h>

#define NO_PATH "(no path from a root)"

static int64_t signed_change(uint64_t before, uint64_t after)
{
	return (int64_t)(after - before);
}

static bool changed(const struct diff_delta *d)
{
	return d->count[0] != d->count[1] || d->bytes[0] != d->bytes[1];
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_side(FILE *out, const char *key, const struct diff_side *s)
{
	fprintf(out, "  \"%s\": {\"core\": ", key);
	json_put_str(out, s->path);
	fprintf(out, ", \"pid\": %d, \"python\": \"%s\", \"time\": %.3f, \"objects\": %llu, "
		"\"bytes\": %llu}", (int)s->pid, s->version, s->time,
		(unsigned long long)s->objects, (unsigned long long)s->bytes);
}

static void json_rows(FILE *out, const char *key, const struct diff_delta *d, size_t n)
{
	fprintf(out, ",\n  \"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
		json_put_str(out, d[i].name);
		fprintf(out, ", \"count_before\": %llu, \"count_after\": %llu, \"count_delta\": %lld, "
			"\"bytes_before\": %llu, \"bytes_after\": %llu, \"bytes_delta\": %lld}",
			(unsigned long long)d[i].count[0], (unsigned long long)d[i].count[1],
			(long long)signed_change(d[i].count[0], d[i].count[1]),
			(unsigned long long)d[i].bytes[0], (unsigned long long)d[i].bytes[1],
			(long long)signed_change(d[i].bytes[0], d[i].bytes[1]));
	}
	fputs(n ? "\n  ]" : "]", out);
}

/* A number, or null when not known. */
static void json_maybe(FILE *out, const char *key, bool known, uint64_t v)
{
	if (known)
		fprintf(out, ", \"%s\": %llu", key, (unsigned long long)v);
	else
		fprintf(out, ", \"%s\": null", key);
}

static void json_growth(FILE *out, const struct growth_row *g, size_t n)
{
	fputs(",\n  \"growth\": [", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n    {\"address\": \"%#llx\", \"type\": ", i ? "," : "",
			(unsigned long long)g[i].addr);
		json_put_str(out, g[i].type);
		json_maybe(out, "len_before", g[i].has_len, g[i].len[0]);
		json_maybe(out, "len_after", g[i].has_len, g[i].len[1]);
		fprintf(out, ", \"bytes_before\": %llu, \"bytes_after\": %llu",
			(unsigned long long)g[i].bytes[0], (unsigned long long)g[i].bytes[1]);
		json_maybe(out, "retained_before", g[i].reached[0], g[i].retained[0]);
		json_maybe(out, "retained_after", g[i].reached[1], g[i].retained[1]);
		fputs(", \"path\": ", out);
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

static void json_freed(FILE *out, const struct growth *gr)
{
	fprintf(out, ",\n  \"freed_objects\": {\"count\": %llu, \"bytes\": %llu},\n  \"freed\": [",
		(unsigned long long)gr->freed_objects, (unsigned long long)gr->freed_bytes);
	for (size_t i = 0; i < gr->nfreed; i++) {
		fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
		json_put_str(out, gr->freed[i].name);
		fprintf(out, ", \"count\": %llu, \"bytes\": %llu}",
			(unsigned long long)gr->freed[i].count, (unsigned long long)gr->freed[i].bytes);
	}
	fputs(gr->nfreed ? "\n  ]" : "]", out);
}

static void json_pair(FILE *out, const struct diff_pair *p)
{
	fputs("{\n  \"schema\": \"pycore-diff/1\",\n", out);
	json_side(out, "before", &p->before);
	fputs(",\n", out);
	json_side(out, "after", &p->after);
	fprintf(out, ",\n  \"same_process\": %s, \"identity\": \"%s\"",
		p->same_process ? "true" : "false", p->identity);
	json_rows(out, "types", p->types, p->ntypes);
	json_rows(out, "kinds", p->kinds, p->nkinds);
	json_growth(out, p->growth.rows, p->growth.nrows);
	json_holders(out, &p->growth);
	json_freed(out, &p->growth);
	fputs("\n}", out);
}

static void json_series(FILE *out, const struct diff_series *s)
{
	fputs(",\n  \"grew_every_interval\": {\"types\": [", out);
	for (size_t i = 0; i < s->ntypes; i++) {
		fputs(i ? ", " : "", out);
		json_put_str(out, s->types[i]);
	}
	fputs("], \"containers\": [", out);
	for (size_t i = 0; i < s->ncontainers; i++) {
		const struct growth_row *g = s->containers[i];
		fprintf(out, "%s{\"address\": \"%#llx\", \"type\": ", i ? ", " : "",
			(unsigned long long)g->addr);
		json_put_str(out, g->type);
		fprintf(out, ", \"len_first\": %llu, \"len_last\": %llu, \"path\": ",
			(unsigned long long)g->len[0], (unsigned long long)g->len[1]);
		json_put_str(out, g->path);
		fputs("}", out);
	}
	fputs("]}", out);
}

/* One pair's document; for a series one document holding each pair's. */
static void render_json_doc(FILE *out, const struct diff_pair *pairs, size_t npairs,
			    const struct diff_series *series)
{
	if (!series) {
		json_pair(out, &pairs[0]);
		fputc('\n', out);
		return;
	}
	fputs("{\n  \"schema\": \"pycore-diff/1\",\n  \"intervals\": [\n", out);
	for (size_t i = 0; i < npairs; i++) {
		fputs(i ? ",\n" : "", out);
		json_pair(out, &pairs[i]);
	}
	fputs("\n  ]", out);
	json_series(out, series);
	fputs("\n}\n", out);
}

/* ---- text ---------------------------------------------------------------- */

static void text_rows(FILE *out, const char *title, const struct diff_delta *d, size_t n,
		      size_t limit)
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
			(long long)signed_change(d[i].count[0], d[i].count[1]),
			(unsigned long long)d[i].bytes[1],
			(long long)signed_change(d[i].bytes[0], d[i].bytes[1]), d[i].name);
		shown++;
	}
	if (more > shown)
		fprintf(out, "  <%zu more rows: --limit N, or --format json for all>\n", more - shown);
	fputc('\n', out);
}

/* A column that may not be known: "-" then. */
static void text_maybe(FILE *out, int width, bool known, uint64_t v)
{
	if (known)
		fprintf(out, " %*llu", width, (unsigned long long)v);
	else
		fprintf(out, " %*s", width, "-");
}

static void text_growth(FILE *out, const struct growth_row *g, size_t n, size_t limit)
{
	if (!n) {
		fputs("Objects that grew: none\n\n", out);
		return;
	}
	fputs("Objects that grew (largest growth in retained bytes first; len: containers only):\n", out);
	fprintf(out, " %10s %10s %15s %15s  %s\n", "len before", "len after", "retained before",
		"retained after", "object");
	for (size_t i = 0; i < n && i < limit; i++) {
		text_maybe(out, 10, g[i].has_len, g[i].len[0]);
		text_maybe(out, 10, g[i].has_len, g[i].len[1]);
		text_maybe(out, 15, g[i].reached[0], g[i].retained[0]);
		text_maybe(out, 15, g[i].reached[1], g[i].retained[1]);
		fprintf(out, "  %s %s\n", g[i].type, g[i].path ? g[i].path : NO_PATH);
	}
	fputc('\n', out);
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
			gr->holders[i].path ? gr->holders[i].path : NO_PATH);
	fputc('\n', out);
}

static void text_freed(FILE *out, const struct growth *gr, size_t limit)
{
	fprintf(out, "Freed objects: %llu, %llu bytes", (unsigned long long)gr->freed_objects,
		(unsigned long long)gr->freed_bytes);
	if (!gr->nfreed) {
		fputs("\n\n", out);
		return;
	}
	fprintf(out, "; by type:\n  %10s %12s  %s\n", "count", "bytes", "type");
	for (size_t i = 0; i < gr->nfreed && i < limit; i++)
		fprintf(out, "  %10llu %12llu  %s\n", (unsigned long long)gr->freed[i].count,
			(unsigned long long)gr->freed[i].bytes, gr->freed[i].name);
	if (gr->nfreed > limit)
		fprintf(out, "  <%zu more rows: --limit N, or --format json for all>\n",
			gr->nfreed - limit);
	fputc('\n', out);
}

static void text_side(FILE *out, const char *label, const struct diff_side *s)
{
	fprintf(out, "%s %s (pid %d, Python %s): %llu objects, %llu bytes\n", label, s->path,
		(int)s->pid, s->version, (unsigned long long)s->objects, (unsigned long long)s->bytes);
}

static void text_pair(FILE *out, const struct diff_pair *p, size_t limit)
{
	text_side(out, "Before:", &p->before);
	text_side(out, "After: ", &p->after);
	fprintf(out, "Delta:  %+lld objects, %+lld bytes; %s\n\n",
		(long long)signed_change(p->before.objects, p->after.objects),
		(long long)signed_change(p->before.bytes, p->after.bytes), p->identity);
	text_rows(out, "Types", p->types, p->ntypes, limit);
	text_rows(out, "Kinds", p->kinds, p->nkinds, limit);
	if (p->same_process) {
		text_growth(out, p->growth.rows, p->growth.nrows, limit);
		text_holders(out, &p->growth, limit);
		text_freed(out, &p->growth, limit);
	}
}

static void text_series(FILE *out, const struct diff_series *s)
{
	fputs("Grew in every interval:\n  types:", out);
	for (size_t i = 0; i < s->ntypes; i++)
		fprintf(out, " %s", s->types[i]);
	fputs(s->ntypes ? "\n  containers:\n" : " none\n  containers:\n", out);
	for (size_t i = 0; i < s->ncontainers; i++) {
		const struct growth_row *g = s->containers[i];
		fprintf(out, "    %llu -> %llu  %s %s\n", (unsigned long long)g->len[0],
			(unsigned long long)g->len[1], g->type, g->path ? g->path : NO_PATH);
	}
	if (!s->ncontainers)
		fputs("    none\n", out);
	fputc('\n', out);
}

/* ---- HTML ---------------------------------------------------------------- */

static int render_html_page(FILE *out, const struct diff_pair *pairs, size_t npairs,
			    const struct diff_series *series)
{
	char *json = NULL, *cores = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&json, &len);
	int rc;

	if (!mem)
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	render_json_doc(mem, pairs, npairs, series);
	if (fclose(mem) != 0 ||
	    asprintf(&cores, "%s -> %s", pairs[0].before.path, pairs[npairs - 1].after.path) < 0) {
		free(json);
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	}
	rc = html_write_page(out, &(struct html_page){ "pycore-diff", cores, html_diff_script,
						       json, len });
	free(json);
	free(cores);
	return rc;
}

int render_diff(FILE *out, enum diff_format format, const struct diff_pair *pairs, size_t npairs,
		const struct diff_series *series, size_t limit)
{
	switch (format) {
	case DIFF_JSON:
		render_json_doc(out, pairs, npairs, series);
		break;
	case DIFF_HTML:
		if (render_html_page(out, pairs, npairs, series) < 0 && !ferror(out))
			return -1;
		break;
	case DIFF_TEXT:
		for (size_t i = 0; i < npairs; i++)
			text_pair(out, &pairs[i], limit);
		if (series)
			text_series(out, series);
		break;
	}
	return ferror(out) ? pc_fail(PC_EOUTPUT, 0, "writing the diff failed") : 0;
}
