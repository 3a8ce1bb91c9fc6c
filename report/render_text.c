/* render_text.c — the report for people: a header, heapy's partition
 * table by kind, the top types, and every thread's Python stack, in 80
 * columns. */
#include "report.h"

#include "../common/bytesize.h"

#include <stdio.h>
#include <string.h>

#define NAME_COLUMNS 30              /* what is left of 80 after the numbers */

static unsigned pct(uint64_t part, uint64_t whole)
{
	return whole ? (unsigned)(part * 100 / whole) : 0;
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
	char h[32], k[32];

	fprintf(out, "Python %s, layout from %s\n", r->version, r->layout_source);
	fprintf(out, "  executable %s\n", r->executable ? r->executable : "?");
	if (r->library)
		fprintf(out, "  library    %s\n", r->library);
	fprintf(out, "Process %d", (int)r->pid);
	if (r->outer_pid)
		fprintf(out, " (%d outside its pid namespace)", (int)r->outer_pid);
	fprintf(out, ": %zu threads, %zu Python thread states\n", r->nthreads_core, r->nthreads);
	fprintf(out, "Heap: %llu objects, %llu bytes (%s) by sys.getsizeof\n",
		(unsigned long long)c->objects, (unsigned long long)c->bytes,
		bytesize_format(c->bytes, BYTESIZE_BINARY, h, sizeof h));
	if (r->filter)
		fprintf(out, "Filtered: captured with --filter %s, %s of memory in the core (%s "
			"under the kernel's rules): shared memory and mapped data files left out\n",
			r->filter, bytesize_format(r->filter_core_bytes, BYTESIZE_DECIMAL, h, sizeof h),
			bytesize_format(r->filter_kernel_bytes, BYTESIZE_DECIMAL, k, sizeof k));
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

static void group_table(FILE *out, const char *title, const struct leak_group *g, size_t limit)
{
	char h[32];

	fprintf(out, "  %s: %llu objects, %s\n", title, (unsigned long long)g->count,
		bytesize_format(g->bytes, BYTESIZE_BINARY, h, sizeof h));
	for (size_t i = 0; i < g->ntypes && i < limit; i++)
		fprintf(out, "    %8llu %10llu  %s\n", (unsigned long long)g->types[i].count,
			(unsigned long long)g->types[i].bytes, g->types[i].name);
	if (g->ntypes > limit)
		fprintf(out, "    <%zu more types>\n", g->ntypes - limit);
	if (g->nexamples) {
		fputs("    e.g.", out);
		for (size_t i = 0; i < g->nexamples; i++)
			fprintf(out, " %#llx", (unsigned long long)g->examples[i]);
		fputc('\n', out);
	}
}

/* Added with issue #4: what is alive but unreachable, who retains most. */
static void leak_sections(FILE *out, const struct report *r, size_t limit)
{
	const struct leak_report *l = &r->leaks;
	char h[32];

	if (!r->leaks_done)
		return;
	fprintf(out, "Unreachable but alive: %llu objects, %s\n", (unsigned long long)l->unreachable.count,
		bytesize_format(l->unreachable.bytes, BYTESIZE_BINARY, h, sizeof h));
	group_table(out, "cyclic garbage (gc.collect() would free it)", &l->garbage, limit);
	group_table(out, "leaked references (refcount above the references found)", &l->leaked, limit);
	fputc('\n', out);
	fprintf(out, "Suspects (retaining over the threshold of the heap's %s):\n",
		bytesize_format(l->heap_bytes, BYTESIZE_BINARY, h, sizeof h));
	if (!l->nsuspects)
		fputs("  none\n", out);
	for (size_t i = 0; i < l->nsuspects; i++)
		fprintf(out, "  %zu. %s\n     at %#llx\n", i + 1, l->suspects[i].description,
			(unsigned long long)l->suspects[i].addr);
	fputc('\n', out);
	fprintf(out, "Duplicate strings (%s would be saved; count, wasted bytes, value):\n",
		bytesize_format(r->dupes.wasted, BYTESIZE_BINARY, h, sizeof h));
	for (size_t i = 0; i < r->dupes.nduplicates && i < limit; i++)
		fprintf(out, "  %8llu %10llu  %s\n", (unsigned long long)r->dupes.duplicates[i].count,
			(unsigned long long)r->dupes.duplicates[i].wasted, r->dupes.duplicates[i].value);
	fputc('\n', out);
	fprintf(out, "Largest strings (bytes, value):\n");
	for (size_t i = 0; i < r->dupes.nlargest && i < limit; i++)
		fprintf(out, "  %10llu  %s\n", (unsigned long long)r->dupes.largest[i].bytes,
			r->dupes.largest[i].value);
	fputc('\n', out);
	fprintf(out, "Largest retainers (retained bytes, objects, path):\n");
	for (size_t i = 0; i < l->nretainers && i < limit; i++)
		fprintf(out, "  %12llu %9llu  %s %s\n", (unsigned long long)l->retainers[i].retained_bytes,
			(unsigned long long)l->retainers[i].retained_objects, l->retainers[i].type,
			l->retainers[i].path ? l->retainers[i].path : "?");
	fputc('\n', out);
}

static void why_section(FILE *out, const struct report_why *w)
{
	if (!w->asked)
		return;
	if (!w->is_object)
		fprintf(out, "Why alive: no object starts at %#llx\n\n", (unsigned long long)w->addr);
	else if (!w->path)
		fprintf(out, "Why alive: %#llx is not reachable from any root (see Unreachable)\n\n",
			(unsigned long long)w->addr);
	else
		fprintf(out, "Why alive: %#llx is %s\n\n", (unsigned long long)w->addr, w->path);
}

int render_text(FILE *out, const struct report *r, const struct render_options *opt)
{
	header(out, r);
	partition(out, "Kinds", r->census.kinds, r->census.nkinds, &r->census, opt->limit);
	partition(out, "Types", r->census.types, r->census.ntypes, &r->census, opt->limit);
	why_section(out, &r->why);
	leak_sections(out, r, opt->limit);
	stacks(out, r);
	return ferror(out) ? -1 : 0;
}
