/* capture_main.c — pycore-capture: a gdb-compatible core of a live process.
 *
 * First the cheap checks that must not touch the target (pid, output file);
 * then stop every thread, read registers and /proc facts, plan the core and
 * write it while the threads are held; release the threads as soon as the
 * last byte of memory is read, finish the file, and name it.
 */
#include "../common/error.h"
#include "../common/progress.h"
#include "../common/pycore_note.h"
#include "corenotes.h"
#include "corewriter.h"
#include "outfile.h"
#include "pyfacts_live.h"
#include "sink.h"
#include "target.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef PYCORE_VERSION
#define PYCORE_VERSION "0.1.0"
#endif
#define STOP_TIMEOUT_MS 10000

struct options {
	pid_t pid;
	const char *output;
	bool lz4, quiet, force;
	int workers;
};

static volatile int interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* No SA_RESTART: a blocking call returns EINTR and the loops notice. */
static void catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pycore-capture [-o FILE] [--lz4] [--force] [--quiet] PID\n"
		"Write a core file of the live process PID, like gdb's gcore.\n"
		"\n"
		"  -o, --output FILE   write FILE (default: core.PID, or core.PID.lz4)\n"
		"      --lz4           compress into a seekable LZ4 container\n"
		"  -f, --force         replace FILE if it exists\n"
		"  -j, --threads N     compression threads for --lz4 (default: CPUs)\n"
		"  -q, --quiet         no progress and no summary\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n"
		"\n"
		"Exit status: 0 done, 2 usage, 3 no such process, 4 zombie, 5 permission,\n"
		"6 target exited, 7 output error, 8 output exists, 9 interrupted,\n"
		"10 already traced, 1 other errors.  See pycore-capture(1).\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, 0, 'o' }, { "lz4", no_argument, 0, 'z' },
		{ "force", no_argument, 0, 'f' },        { "quiet", no_argument, 0, 'q' },
		{ "threads", required_argument, 0, 'j' },{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },      { 0, 0, 0, 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof *o);
	o->workers = (int)sysconf(_SC_NPROCESSORS_ONLN);
	opterr = 0;   /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, "o:fqj:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'z': o->lz4 = true; break;
		case 'f': o->force = true; break;
		case 'q': o->quiet = true; break;
		case 'j':
			o->workers = (int)strtol(optarg, &end, 10);
			if (*end || o->workers < 1 || o->workers > 64)
				return pc_fail(PC_EUSAGE, 0, "--threads takes 1 to 64");
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("pycore-capture %s\n", PYCORE_VERSION); exit(0);
		default:
			return pc_fail(PC_EUSAGE, 0, "unknown option or missing argument: '%s' "
				       "(try 'pycore-capture --help')", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pc_fail(PC_EUSAGE, 0, "expected one PID (try 'pycore-capture --help')");
	o->pid = (pid_t)strtol(argv[optind], &end, 10);
	if (*end || o->pid <= 0)
		return pc_fail(PC_EUSAGE, 0, "'%s' is not a process id", argv[optind]);
	return 0;
}

static void show_progress(void *arg, uint64_t done, uint64_t total)
{
	progress_update(arg, done, total);
}

struct outcome {
	double pause_s, total_s;
	uint64_t core_size, stored;
	struct pc_write_ctl ctl;
};

/* Held threads → file.  The target is released before this returns, on
 * success and on failure alike. */
static int capture(const struct options *o, struct pc_target *t,
		   struct pc_outfile *out, struct outcome *res)
{
	struct pc_notes notes = { 0 };
	struct pc_coreplan plan = { 0 };
	struct pc_sink *sink = NULL;
	struct pc_progress prog;
	struct timespec captured_at;
	double t0 = pc_now();
	int rc = -1;

	if (tracer_stop_all(&t->tracer, t->pid, STOP_TIMEOUT_MS, &interrupted) < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &captured_at);
	memreader_init(&t->mem, t->pid);
	if (tracer_read_registers(&t->tracer) < 0 || target_inspect(t) < 0 ||
	    build_core_notes(&notes, t, &captured_at, PYCORE_MODE_STOPPED) < 0 ||
	    coreplan_init(&plan, &t->maps, t->dump_len, &notes) < 0) {
		/* Once attached, a /proc file that vanished means the process died. */
		if (pc_errcode() == PC_ENOPROC)
			pc_fail(PC_EGONE, 0, "pid %d exited during capture", (int)t->pid);
		goto out;
	}
	sink = o->lz4 ? sink_lz4_new(out->fd, plan.total_size, o->workers)
		      : sink_raw_new(out->fd);
	if (!sink)
		goto out;
	progress_init(&prog, "pycore-capture", !o->quiet);
	res->ctl = (struct pc_write_ctl){ .interrupted = &interrupted,
					  .progress = show_progress, .progress_arg = &prog };
	rc = core_write(&plan, sink, &t->mem, &res->ctl);
	progress_clear(&prog);
	/* Every byte of memory is read: let the target go before the tail of
	 * the compression and the file system work. */
	tracer_release(&t->tracer);
	res->pause_s = pc_now() - t0;
	if (rc == 0)
		rc = sink_finish(sink);
	if (rc == 0 && interrupted)
		rc = pc_fail(PC_EINTR, 0, "interrupted by signal %d", interrupted);
	res->core_size = plan.total_size;
	res->stored = sink->stored;
	res->total_s = pc_now() - t0;
out:
	tracer_release(&t->tracer);
	sink_destroy(sink);
	coreplan_free(&plan);
	notes_free(&notes);
	return rc;
}

static void default_output(const struct options *o, char *buf, size_t len)
{
	snprintf(buf, len, "core.%d%s", (int)o->pid, o->lz4 ? ".lz4" : "");
}

static void print_summary(const struct options *o, const struct pc_target *t,
			  const char *path, const struct outcome *r)
{
	if (r->ctl.unreadable)
		fprintf(stderr, "pycore-capture: note: %.1f MB in %zu mappings could not be "
			"read and are zeros in the core\n",
			(double)r->ctl.unreadable / 1e6, r->ctl.unreadable_maps);
	if (o->quiet)
		return;
	fprintf(stderr, "pycore-capture: wrote %s: pid %d, %zu threads, %zu mappings, "
		"%.1f MB core, %.1f MB written, %.2f s, target paused %.3f s (stop-the-world)\n",
		path, (int)t->pid, t->tracer.nthreads, t->maps.n, (double)r->core_size / 1e6,
		(double)r->stored / 1e6, r->total_s, r->pause_s);
}

/* What the report needs to read the core without the binaries, resolved
 * while the target still runs.  Not Python, or not a Python pycore knows:
 * the core is written all the same, without the note. */
static int note_python_facts(struct pc_target *t)
{
	if (pyfacts_live(t->pid, &t->python_facts, &t->python_facts_len) < 0) {
		t->python_facts = NULL;
		pc_clear_error();
	}
	return interrupted ? pc_fail(PC_EINTR, 0, "interrupted by signal %d", interrupted) : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct pc_target t = { 0 };
	struct pc_outfile out = { .fd = -1 };
	struct outcome res = { 0 };
	char path[4096];
	int status;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "pycore-capture: %s\n", pc_errmsg());
		return PC_EUSAGE;
	}
	if (o.output)
		snprintf(path, sizeof path, "%s", o.output);
	else
		default_output(&o, path, sizeof path);
	catch_signals();
	if (target_check(&t, o.pid) < 0 || outfile_open(&out, path, o.force) < 0 ||
	    note_python_facts(&t) < 0 || capture(&o, &t, &out, &res) < 0 ||
	    outfile_commit(&out) < 0) {
		fprintf(stderr, "pycore-capture: %s\n", pc_errmsg());
		outfile_discard(&out);
		target_free(&t);
		status = pc_errcode() == PC_OK ? PC_EINTERNAL : (int)pc_errcode();
		return status;
	}
	print_summary(&o, &t, path, &res);
	outfile_discard(&out);
	target_free(&t);
	return 0;
}
