/* report_main.c — pycore-report: what a Python process held, from its core.
 *
 * First open the core and find its binaries; then the Python runtime and
 * its layout; then count the heap and read every thread's stack; last,
 * render.  No code runs anywhere: everything comes from the core's bytes
 * and the binaries' read-only data.
 */
#include "../analyze/census.h"
#include "../analyze/image.h"
#include "../analyze/pystack.h"
#include "../common/bytesize.h"
#include "../common/error.h"
#include "../common/progress.h"
#include "../common/pycore_note.h"
#include "cliopts.h"
#include "report.h"

#include <elf.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PYCORE_VERSION
#define PYCORE_VERSION "0.1.0"
#endif
#define DEFAULT_LIMIT 20
#define DEFAULT_SUSPECT_PCT 10.0
#define TOP_RETAINERS 20
#define PROGRESS_DELAY 1.0           /* seconds: quick reports stay quiet */

struct options {
	const char *core;
	bool json, meliae, html;
	size_t limit;
	struct pc_search search;
	bool no_leaks;               /* the census and the stacks only */
	struct leak_options leak;
	bool why;
	uint64_t why_addr;
	bool redact;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pycore-report [--format text|json|html] [--limit N] [--exe PATH]\n"
		"                     [--lib-search-path DIR[:DIR]] [--sysroot DIR] CORE\n"
		"Every live Python object in a core, by kind and type, and every thread's stack.\n"
		"\n"
		"  -f, --format FMT          text (default), json (pycore-report/1), html (one\n"
		"                            self-contained page: tables, treemap), or meliae\n"
		"                            (one object per line, as Meliae's dumps)\n"
		"  -n, --limit N             rows per table in text (default %d)\n"
		"      --why ADDRESS         why the object at ADDRESS (id() in hex or decimal)\n"
		"                            is alive: its path from a root\n"
		"      --suspect-threshold PCT  a leak suspect retains this much of the heap (10)\n"
		"      --no-leaks            only the census and the stacks: no reference graph\n"
		"      --redact              show values (strings, dict keys) as length and hash\n"
		"      --exe PATH            the executable, if it moved\n"
		"      --lib-search-path D   directories to find moved libraries in\n"
		"      --sysroot DIR         the root the process saw (a container's: its image,\n"
		"                            or /proc/PID/root while it runs)\n"
		"  -h, --help                show this help\n"
		"  -V, --version             show the version\n"
		"\n"
		"Exit status: 0 done, 2 usage, 11 not a usable core (not a core, not Python,\n"
		"truncated, unsupported version, binaries missing), 1 other errors.\n",
		DEFAULT_LIMIT);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_WHY = OPT_FIRST_OWN, OPT_THRESHOLD, OPT_NO_LEAKS, OPT_REDACT };
	static const struct option longopts[] = {
		{ "format", required_argument, 0, 'f' },  CLI_SHARED_LONGOPTS,
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },       { "why", required_argument, 0, OPT_WHY },
		{ "suspect-threshold", required_argument, 0, OPT_THRESHOLD },
		{ "no-leaks", no_argument, 0, OPT_NO_LEAKS }, { "redact", no_argument, 0, OPT_REDACT },
		{ 0, 0, 0, 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof *o);
	o->limit = DEFAULT_LIMIT;
	o->leak.suspect_fraction = DEFAULT_SUSPECT_PCT / 100;
	o->leak.top_retainers = TOP_RETAINERS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:n:hV", longopts, NULL)) != -1) {
		int shared = cli_shared_option(c, optarg, &o->limit, &o->search);
		if (shared < 0)
			return -1;
		if (shared)
			continue;
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "meliae") != 0 && strcmp(optarg, "html") != 0)
				return pc_fail(PC_EUSAGE, 0, "--format is text, json, html or meliae, not '%s'",
					       optarg);
			o->json = strcmp(optarg, "json") == 0;
			o->meliae = strcmp(optarg, "meliae") == 0;
			o->html = strcmp(optarg, "html") == 0;
			break;
		case OPT_NO_LEAKS: o->no_leaks = true; break;
		case OPT_REDACT: o->redact = true; break;
		case OPT_WHY:
			o->why = true;
			o->why_addr = strtoull(optarg, &end, 0);
			if (*end || !*optarg)
				return pc_fail(PC_EUSAGE, 0, "--why takes an address (0x7f… or decimal), "
					       "not '%s'", optarg);
			break;
		case OPT_THRESHOLD:
			o->leak.suspect_fraction = strtod(optarg, &end) / 100;
			if (*end || !*optarg || o->leak.suspect_fraction <= 0 || o->leak.suspect_fraction > 1)
				return pc_fail(PC_EUSAGE, 0, "--suspect-threshold takes a percentage "
					       "(0 to 100], not '%s'", optarg);
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("pycore-report %s\n", PYCORE_VERSION); exit(0);
		default:
			return pc_fail(PC_EUSAGE, 0, "unknown option or missing argument: '%s' "
				       "(try 'pycore-report --help')", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(PC_EUSAGE, 0, "expected one core file (try 'pycore-report --help')");
	o->core = argv[optind];
	return 0;
}

/* The bytes of memory the core's segments describe (their file parts). */
static uint64_t described_bytes(const struct pc_core *core)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < core_segment_count(core); i++)
		sum += core_segment(core, i)->filesz;
	return sum;
}

/* A core written under pycore-capture --filter: memory left out on
 * purpose, which is neither damage nor truncation. */
static void describe_filter(struct report *r, const struct pc_core *core)
{
	uint32_t rules = core_filter(core, &r->filter_kernel_bytes);

	if (!rules)
		return;
	r->filter = rules == PYCORE_RULES_PYTHON ? "python" : "unknown";
	r->filter_core_bytes = described_bytes(core);
}

/* What the report could not see, most important first: a truncated file
 * (a kernel core cut by ulimit -c, a half-finished copy: the report covers
 * what is there), heap regions that could not be read, a collection in
 * progress. */
static void describe_damage(struct report *r, const struct pc_core *core)
{
	uint64_t missing = core_missing_bytes(core);
	size_t at = 0;
	char a[32], b[32];

	if (missing)
		at = (size_t)snprintf(r->warning, sizeof r->warning, "the core file is truncated: "
				      "%s of the %s of memory it describes are missing, and the report "
				      "covers the rest%s",
				      bytesize_format(missing, BYTESIZE_DECIMAL, a, sizeof a),
				      bytesize_format(described_bytes(core), BYTESIZE_DECIMAL, b, sizeof b),
				      r->census.heap.unreadable ? "; " : "");
	if (at >= sizeof r->warning)
		return;
	if (r->census.heap.unreadable)
		snprintf(r->warning + at, sizeof r->warning - at, "%llu regions of the heap could not "
			 "be read, so the counts are a lower bound; the first: %s%s",
			 (unsigned long long)r->census.heap.unreadable, r->census.heap.damage,
			 r->filter ? " (the core was captured with --filter, which leaves out shared "
				     "memory and mapped data files: a custom allocator's objects there "
				     "need the kernel's rules)" : "");
	else if (!missing && r->census.heap.gc_collecting)
		snprintf(r->warning, sizeof r->warning, "the core was taken during a garbage "
			 "collection: objects it was examining may be missing");
}

static void describe_python(struct report *r, const struct pc_py *py)
{
	uint32_t v = py->rt.hexversion;
	const struct pc_modules *mods = &py->img->mods;

	if (py->rt.version_exact)
		snprintf(r->version, sizeof r->version, "%u.%u.%u", v >> 24, v >> 16 & 0xff, v >> 8 & 0xff);
	else
		snprintf(r->version, sizeof r->version, "%u.%u", v >> 24, v >> 16 & 0xff);
	r->executable = mods->n ? mods->v[0].path : NULL;
	r->library = py->rt.binary && py->rt.binary != &mods->v[0] ? py->rt.binary->path : NULL;
	r->layout_source = layout_source_name(py->L.source);
	r->pid = core_process_id(py->img->core);
	if (!(core_namespaces(py->img->core, &r->outer_pid) & PYCORE_NS_PID) ||
	    r->outer_pid == r->pid)
		r->outer_pid = 0;
	r->nthreads_core = core_thread_count(py->img->core);
}

static void show_progress(void *arg, uint64_t done, uint64_t total)
{
	progress_update(arg, done, total);
}

static int analyse(const struct options *o, struct pc_image *img, struct pc_py *py,
		   struct report *r)
{
	struct pc_progress prog;
	struct objindex index = { 0 };
	int rc;

	memset(r, 0, sizeof *r);
	r->core_path = o->core;
	if (image_open(img, o->core, &o->search) < 0)
		return -1;
	if (core_was_decompressed(img->core))
		fprintf(stderr, "pycore-report: note: %s is an LZ4 stream without pycore's "
			"index: it was decompressed into a temporary file first\n", o->core);
	if (py_open(py, img) < 0) {
		if (core_missing_bytes(img->core))
			return pc_wrap("%s is truncated, and the part left lacks the Python "
				       "runtime's state", o->core);
		return pc_wrap("%s", o->core);
	}
	describe_python(r, py);
	progress_init(&prog, "pycore-report: walking the heap", true);
	prog.delay = PROGRESS_DELAY;
	rc = census_take(py, &r->census, o->no_leaks ? NULL : &index, show_progress, &prog);
	progress_clear(&prog);
	if (rc < 0) {
		objindex_free(&index);
		return pc_wrap("%s: walking the heap", o->core);
	}
	if (getenv("PYCORE_TIMING"))
		fprintf(stderr, "pycore-report: census   %.3f s\n", pc_now() - prog.started);
	if (o->meliae)
		r->meliae = stdout;
	if (!o->no_leaks) {
		r->why.asked = o->why;
		r->why.addr = o->why_addr;
		rc = objindex_finish(&index);
		if (rc == 0)
			rc = report_leaks(py, r, &index, &o->leak, o->redact);
		objindex_free(&index);
		if (rc < 0)
			return pc_wrap("%s: analysing references", o->core);
	}
	if (pystack_threads(py, &r->threads, &r->nthreads) < 0)
		return pc_wrap("%s: reading thread stacks", o->core);
	describe_filter(r, img->core);
	describe_damage(r, img->core);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct pc_image img = { 0 };
	struct pc_py py;
	struct report r = { 0 };
	struct render_options ropt;
	int rc = 0;

	if (parse_args(argc, argv, &o) < 0 ||
	    (o.why && o.no_leaks && pc_fail(PC_EUSAGE, 0, "--why needs the reference graph: "
					     "drop --no-leaks") < 0) ||
	    (o.meliae && o.no_leaks && pc_fail(PC_EUSAGE, 0, "--format meliae needs the reference "
					       "graph: drop --no-leaks") < 0) ||
	    analyse(&o, &img, &py, &r) < 0) {
		fprintf(stderr, "pycore-report: %s\n", pc_errmsg());
		rc = pc_errcode() ? (int)pc_errcode() : 1;
		goto out;
	}
	if (r.warning[0])
		fprintf(stderr, "pycore-report: warning: %s\n", r.warning);
	ropt.limit = o.limit;
	if (o.meliae) {
		if (fflush(stdout) != 0)
			rc = PC_EOUTPUT;       /* the dump was written during the analysis */
	} else if ((o.json ? render_json(stdout, &r) : o.html ? render_html(stdout, &r)
		    : render_text(stdout, &r, &ropt)) < 0 ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "pycore-report: writing the report failed\n");
		rc = PC_EOUTPUT;
	}
out:
	report_free(&r);
	if (img.core)
		image_close(&img);
	return rc;
}
