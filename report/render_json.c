/* render_json.c — the report as a "pycore-report/1" JSON document
 * (docs/report-schema.md).  Tables are complete here; --limit is for
 * people. */
#include "report.h"

#include <stdint.h>
#include <stdio.h>

#define put_str json_put_str

/* How many bytes the UTF-8 sequence at p takes, or 0 when it is not one
 * (a stray byte, overlong, a surrogate, past U+10FFFF, cut short). */
static size_t utf8_sequence(const unsigned char *p)
{
	uint32_t cp;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)      /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string: quotes, backslashes and control characters escaped.
 * Names and values come from the core — a type's tp_name is whatever
 * bytes its memory holds — so what is not UTF-8 becomes U+FFFD: the
 * document stays valid JSON whatever the core. */
void json_put_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	putc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_sequence(p);
		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fwrite(p, 1, n, out);
		p += n;
	}
	putc('"', out);
}

static void put_rows(FILE *out, const char *key, const struct census_row *rows, size_t n)
{
	fprintf(out, "  \"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
		put_str(out, rows[i].name);
		fprintf(out, ", \"count\": %llu, \"bytes\": %llu}", (unsigned long long)rows[i].count,
			(unsigned long long)rows[i].bytes);
	}
	fputs(n ? "\n  ]" : "]", out);
}

static void put_frames(FILE *out, const struct pc_thread_stack *t)
{
	fputs("\"frames\": [", out);
	for (size_t k = 0; k < t->nframes; k++) {
		fputs(k ? ",\n        {\"function\": " : "\n        {\"function\": ", out);
		put_str(out, t->frames[k].function);
		fputs(", \"file\": ", out);
		put_str(out, t->frames[k].file);
		if (t->frames[k].line < 0)
			fputs(", \"line\": null}", out);
		else
			fprintf(out, ", \"line\": %d}", t->frames[k].line);
	}
	fputs(t->nframes ? "\n      ]" : "]", out);
}

static void put_threads(FILE *out, const struct report *r)
{
	fputs("  \"threads\": [", out);
	for (size_t i = 0; i < r->nthreads; i++) {
		const struct pc_thread_stack *t = &r->threads[i];
		fprintf(out, "%s\n    {\"native_id\": ", i ? "," : "");
		if (t->native_id)
			fprintf(out, "%d", t->native_id);
		else
			fputs("null", out);
		fputs(", \"name\": ", out);
		put_str(out, t->name);
		fprintf(out, ", \"interpreter\": %lld, \"truncated\": %s,\n      ",
			(long long)t->interp_id, t->truncated ? "true" : "false");
		put_frames(out, t);
		fputs("}", out);
	}
	fputs(r->nthreads ? "\n  ]" : "]", out);
}

static void put_group(FILE *out, const char *key, const struct leak_group *g, const char *indent)
{
	fprintf(out, "\"%s\": {\"count\": %llu, \"bytes\": %llu, \"examples\": [", key,
		(unsigned long long)g->count, (unsigned long long)g->bytes);
	for (size_t i = 0; i < g->nexamples; i++)
		fprintf(out, "%s\"%#llx\"", i ? ", " : "", (unsigned long long)g->examples[i]);
	fprintf(out, "],\n%s\"types\": [", indent);
	for (size_t i = 0; i < g->ntypes; i++) {
		fputs(i ? ", {\"name\": " : "{\"name\": ", out);
		put_str(out, g->types[i].name);
		fprintf(out, ", \"count\": %llu, \"bytes\": %llu}", (unsigned long long)g->types[i].count,
			(unsigned long long)g->types[i].bytes);
	}
	fputs("]}", out);
}

static void put_retainers(FILE *out, const char *key, const struct retainer *v, size_t n)
{
	fprintf(out, ",\n  \"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n    {\"address\": \"%#llx\", \"type\": ", i ? "," : "",
			(unsigned long long)v[i].addr);
		put_str(out, v[i].type);
		fprintf(out, ", \"retained_bytes\": %llu, \"retained_objects\": %llu, \"path\": ",
			(unsigned long long)v[i].retained_bytes, (unsigned long long)v[i].retained_objects);
		put_str(out, v[i].path);
		if (v[i].description) {
			fputs(",\n     \"description\": ", out);
			put_str(out, v[i].description);
		}
		fputs("}", out);
	}
	fputs(n ? "\n  ]" : "]", out);
}

static void put_strings(FILE *out, const char *key, const struct dupe *v, size_t n, bool dupes)
{
	fprintf(out, ",\n  \"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n    {\"type\": \"%s\", \"address\": \"%#llx\", \"length\": %llu, ",
			i ? "," : "", v[i].type, (unsigned long long)v[i].addr, (unsigned long long)v[i].length);
		if (dupes)
			fprintf(out, "\"count\": %llu, \"bytes\": %llu, \"wasted_bytes\": %llu, ",
				(unsigned long long)v[i].count, (unsigned long long)v[i].bytes,
				(unsigned long long)v[i].wasted);
		else
			fprintf(out, "\"bytes\": %llu, ", (unsigned long long)v[i].bytes);
		fputs("\"value\": ", out);
		put_str(out, v[i].value);
		fputs("}", out);
	}
	fputs(n ? "\n  ]" : "]", out);
}

/* Added with issue #4: the graph's findings (absent with --no-leaks). */
static void put_leaks(FILE *out, const struct report *r)
{
	const struct leak_report *l = &r->leaks;

	if (!r->leaks_done)
		return;
	fputs(",\n  \"unreachable\": {\"count\": ", out);
	fprintf(out, "%llu, \"bytes\": %llu,\n    \"types\": [", (unsigned long long)l->unreachable.count,
		(unsigned long long)l->unreachable.bytes);
	for (size_t i = 0; i < l->unreachable.ntypes; i++) {
		fputs(i ? ", {\"name\": " : "{\"name\": ", out);
		put_str(out, l->unreachable.types[i].name);
		fprintf(out, ", \"count\": %llu, \"bytes\": %llu}",
			(unsigned long long)l->unreachable.types[i].count,
			(unsigned long long)l->unreachable.types[i].bytes);
	}
	fputs("],\n    ", out);
	put_group(out, "cyclic_garbage", &l->garbage, "      ");
	fputs(",\n    ", out);
	put_group(out, "leaked_references", &l->leaked, "      ");
	fprintf(out, "},\n  \"graph\": {\"conservative_objects\": %llu}", (unsigned long long)l->conservative);
	put_retainers(out, "retainers", l->retainers, l->nretainers);
	put_retainers(out, "suspects", l->suspects, l->nsuspects);
	fputs(",\n  \"dominator_tree\": [", out);
	for (size_t i = 0; i < l->ntree; i++) {
		const struct dom_summary *d = &l->tree[i];
		fprintf(out, "%s\n    {\"id\": %zu, \"parent\": %d, \"address\": \"%#llx\", \"type\": ",
			i ? "," : "", i, d->parent, (unsigned long long)d->addr);
		put_str(out, d->type);
		fputs(", \"label\": ", out);
		put_str(out, d->label);
		fprintf(out, ", \"retained_bytes\": %llu, \"retained_objects\": %llu}",
			(unsigned long long)d->retained_bytes, (unsigned long long)d->retained_objects);
	}
	fputs(l->ntree ? "\n  ]" : "]", out);
	put_strings(out, "duplicate_strings", r->dupes.duplicates, r->dupes.nduplicates, true);
	put_strings(out, "largest_strings", r->dupes.largest, r->dupes.nlargest, false);
}

static void put_why(FILE *out, const struct report_why *w)
{
	if (!w->asked)
		return;
	fprintf(out, ",\n  \"why\": {\"address\": \"%#llx\", \"object\": %s, \"path\": ",
		(unsigned long long)w->addr, w->is_object ? "true" : "false");
	put_str(out, w->path);
	fputs(", \"chain\": [", out);
	for (size_t i = 0; i < w->nsteps; i++) {
		fprintf(out, "%s\n    {\"address\": \"%#llx\", \"type\": ", i ? "," : "",
			(unsigned long long)w->steps[i].addr);
		put_str(out, w->steps[i].type);
		fputs(", \"via\": ", out);
		put_str(out, w->steps[i].via);
		fputs("}", out);
	}
	fputs(w->nsteps ? "\n  ]}" : "]}", out);
}

int render_json(FILE *out, const struct report *r)
{
	const struct census *c = &r->census;

	fputs("{\n  \"schema\": \"pycore-report/1\",\n  \"python\": {\"version\": ", out);
	put_str(out, r->version);
	fputs(", \"executable\": ", out);
	put_str(out, r->executable);
	fputs(", \"library\": ", out);
	put_str(out, r->library);
	fputs(", \"layout_source\": ", out);
	put_str(out, r->layout_source);
	fprintf(out, "},\n  \"process\": {\"pid\": %d, \"threads\": %zu, \"filter\": ", (int)r->pid,
		r->nthreads_core);
	put_str(out, r->filter);
	fputs("},\n", out);
	fprintf(out, "  \"totals\": {\"objects\": %llu, \"bytes\": %llu},\n",
		(unsigned long long)c->objects, (unsigned long long)c->bytes);
	put_rows(out, "types", c->types, c->ntypes);
	fputs(",\n", out);
	put_rows(out, "kinds", c->kinds, c->nkinds);
	fputs(",\n", out);
	put_threads(out, r);
	put_leaks(out, r);
	put_why(out, &r->why);
	fputs(",\n  \"warnings\": [", out);
	if (r->warning[0])
		put_str(out, r->warning);
	fputs("]\n}\n", out);
	return ferror(out) ? -1 : 0;
}
