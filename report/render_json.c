/* render_json.c — the report as a "pycore-report/1" JSON document
 * (docs/report-schema.md).  Tables are complete here; --limit is for
 * people. */
#include "report.h"

#include <stdio.h>

/* A JSON string: quotes, backslashes and control characters escaped; the
 * text is UTF-8 already (str objects are decoded that way). */
static void put_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	putc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			putc(*p, out);
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
	fprintf(out, "},\n  \"process\": {\"pid\": %d, \"threads\": %zu},\n", (int)r->pid,
		r->nthreads_core);
	fprintf(out, "  \"totals\": {\"objects\": %llu, \"bytes\": %llu},\n",
		(unsigned long long)c->objects, (unsigned long long)c->bytes);
	put_rows(out, "types", c->types, c->ntypes);
	fputs(",\n", out);
	put_rows(out, "kinds", c->kinds, c->nkinds);
	fputs(",\n", out);
	put_threads(out, r);
	fputs(",\n  \"warnings\": [", out);
	if (r->warning[0])
		put_str(out, r->warning);
	fputs("]\n}\n", out);
	return ferror(out) ? -1 : 0;
}
