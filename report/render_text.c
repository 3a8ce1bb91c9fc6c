/* render_text.c — the report for people: a header, heapy's partition
 * table by kind, the top types, and every thread's Python stack, in 80
 * columns. */
#include "report.h"

#include <stdio.h>
#include <string.h>

#define NAME_COLUMNS 30              /* what is left of 80 after the numbers */

static unsigned pct(uint64_t part, uint64_t whole)
{
	return whole ? (unsigned)(part * 100 / whole) : 0;
}

/* "12.3 MiB" */
static const char *human(uint64_t bytes, char *buf, size_t cap)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

/* A name cut to the column, marked with "..." when cut. */
static const char *fit(const char *name, char *buf, size_t width)
{
	if (strlen(name) <= width)
		return name;
	snprintf(buf, width + 1, "%.*s...", (int)width - 3, name);
	return buf;
}

static void header(FILE *out, const struct report *r)
{
	const struct census *c = &r->census;
	char h[32];

	fprintf(out, "Python %s, layout from %s\n", r->version, r->layout_source);
	fprintf(out, "  executable %s\n", r->executable ? r->executable : "?");
	if (r->library)
		fprintf(out, "  library    %s\n", r->library);
	fprintf(out, "Process %d: %zu threads, %zu Python thread states\n", (int)r->pid,
		r->nthreads_core, r->nthreads);
	fprintf(out, "Heap: %llu objects, %llu bytes (%s) by sys.getsizeof\n",
		(unsigned long long)c->objects, (unsigned long long)c->bytes,
		human(c->bytes, h, sizeof h));
	if (r->warning[0])
		fprintf(out, "Warning: %s\n", r->warning);
	fputc('\n', out);
}

/* heapy's partition: Index Count % Size % Cumulative % Kind. */
static void partition(FILE *out, const char *title, const struct census_row *rows, size_t n,
		      const struct census *c, size_t limit)
{
	uint64_t cumulative = 0;
	char cut[NAME_COLUMNS + 1];

	fprintf(out, "%s: %zu rows\n", title, n);
	fprintf(out, " Index    Count   %%       Size   %% Cumulative   %% %s\n",
		strcmp(title, "Kinds") == 0 ? "Kind (class / dict of class)" : "Type");
	for (size_t i = 0; i < n && i < limit; i++) {
		cumulative += rows[i].bytes;
		fprintf(out, "%6zu %8llu %3u %10llu %3u %10llu %3u %s\n", i,
			(unsigned long long)rows[i].count, pct(rows[i].count, c->objects),
			(unsigned long long)rows[i].bytes, pct(rows[i].bytes, c->bytes),
			(unsigned long long)cumulative, pct(cumulative, c->bytes),
			fit(rows[i].name, cut, NAME_COLUMNS));
	}
	if (n > limit)
		fprintf(out, "<%zu more rows: --limit N, or --format json for all>\n", n - limit);
	fputc('\n', out);
}

/* Like traceback: outermost call first, as a Python user reads stacks. */
static void stacks(FILE *out, const struct report *r)
{
	for (size_t i = 0; i < r->nthreads; i++) {
		const struct pc_thread_stack *t = &r->threads[i];
		fprintf(out, "Thread %d", t->native_id);
		if (t->name)
			fprintf(out, " \"%s\"", t->name);
		if (t->interp_id)
			fprintf(out, " (interpreter %lld)", (long long)t->interp_id);
		fprintf(out, "%s\n", t->nframes ? " (most recent call last):" : ": no Python frames");
		for (size_t k = t->nframes; k-- > 0;) {
			const struct pc_frame *f = &t->frames[k];
			if (f->line >= 0)
				fprintf(out, "  File \"%s\", line %d, in %s\n", f->file, f->line, f->function);
			else
				fprintf(out, "  File \"%s\", in %s\n", f->file, f->function);
		}
		if (t->truncated)
			fprintf(out, "  (stack cut short: %s)\n", t->warning);
		fputc('\n', out);
	}
}

int render_text(FILE *out, const struct report *r, const struct render_options *opt)
{
	header(out, r);
	partition(out, "Kinds", r->census.kinds, r->census.nkinds, &r->census, opt->limit);
	partition(out, "Types", r->census.types, r->census.ntypes, &r->census, opt->limit);
	stacks(out, r);
	return ferror(out) ? -1 : 0;
}
