/* capture_main.c — pycore-capture: a gdb-compatible core of a live process.
 *
 * First the cheap checks that must not touch the target (pid, output file);
 * then stop every thread and read registers and /proc facts.  By default
 * the held target is made to fork a copy of itself (snapshot.h) and let go
 * at once; the copy's memory is dumped while the target runs on.  When the
 * fork is impossible or refused, or with --no-fork, the core is written
 * while the threads are held (stop-the-world), and they are released as
 * soon as the last byte of memory is read.  Last the file is named.
 */
#include "../common/error.h"
#include "../common/progress.h"
#include "../common/pycore_note.h"
#include "corenotes.h"
#include "corewriter.h"
#include "cowwatch.h"
#include "outfile.h"
#include "pyfacts_live.h"
#include "sink.h"
#include "snapshot.h"
#include "supervise.h"
#include "target.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef PYCORE_VERSION
#define PYCORE_VERSION "0.1.0"
#endif
#define STOP_TIMEOUT_MS 10000

struct options {
	pid_t pid;
	const char *output;
	bool lz4, quiet, force, no_fork;
	enum dump_rules rules;   /* --filter */
	int workers;
	uint64_t max_cow;        /* bytes; 0: no limit */
};

static volatile int interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* No SA_RESTART: a blocking call returns EINTR and the loops notice.
 * supervise() left them blocked; one that came meanwhile is taken now.
 * SIGPIPE too (the reader of our stderr gone): it ends the capture as
 * cleanly as the others, not by death midway. */
static void catch_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	supervise_signals(&set);
	sigaddset(&set, SIGPIPE);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&set, sig) == 1)
			sigaction(sig, &sa, NULL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pycore-capture [-o FILE] [--lz4] [--no-fork] [--filter RULES]\n"
		"                      [--max-cow-mb N] [--force] [--quiet] PID\n"
		"Write a core file of the live process PID, like gdb's gcore.\n"
		"\n"
		"  -o, --output FILE   write FILE (default: core.PID, or core.PID.lz4)\n"
		"      --lz4           compress into a seekable LZ4 container\n"
		"      --no-fork       hold the process for the whole dump (stop-the-world)\n"
		"                      instead of dumping a copy-on-write snapshot of it\n"
		"      --max-cow-mb N  abandon a snapshot whose copy-on-write memory passes N MB\n"
		"      --filter RULES  which memory goes in: 'kernel' (default) the kernel's rules\n"
		"                      and the process's coredump_filter; 'python' only what\n"
		"                      pycore-report and a backtrace need: no shared memory,\n"
		"                      no mapped data files\n"
		"  -f, --force         replace FILE if it exists\n"
		"  -j, --threads N     compression threads for --lz4 (default: CPUs)\n"
		"  -q, --quiet         no progress and no summary\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n"
		"\n"
		"Exit status: 0 done, 2 usage, 3 no such process, 4 zombie, 5 permission,\n"
		"6 target exited, 7 output error, 8 output exists, 9 interrupted,\n"
		"10 already traced, 12 --max-cow-mb passed, 13 target executed a new program,\n"
		"1 other errors.\n"
		"See pycore-capture(1).\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, 0, 'o' }, { "lz4", no_argument, 0, 'z' },
		{ "force", no_argument, 0, 'f' },        { "quiet", no_argument, 0, 'q' },
		{ "threads", required_argument, 0, 'j' },{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },      { "no-fork", no_argument, 0, 'F' },
		{ "max-cow-mb", required_argument, 0, 'M' }, { "filter", required_argument, 0, 'R' },
		{ 0, 0, 0, 0 },
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
		case 'F': o->no_fork = true; break;
		case 'R':
			if (dump_rules_parse(optarg, &o->rules) < 0)
				return pc_fail(PC_EUSAGE, 0, "--filter takes 'kernel' or 'python'");
			break;
		case 'M': {
			long long mb = strtoll(optarg, &end, 10);
			if (*end || end == optarg || mb < 1 || mb > (1ll << 40))
				return pc_fail(PC_EUSAGE, 0, "--max-cow-mb takes a positive number of MB");
			o->max_cow = (uint64_t)mb * 1000000;
			break;
		}
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
	int mode;                /* PYCORE_MODE_* */
	int niceness;            /* before the dump of a snapshot */
	double pause_s, total_s;
	uint64_t core_size, stored, cow_bytes;
	uint64_t dump_bytes;     /* memory in the core, holes included */
	struct pc_write_ctl ctl;
};

static volatile int cow_exceeded;

/* A snapshot is dumped while the target runs, on the same CPUs: the dump
 * (and every thread it starts afterwards, which inherit the value) yields
 * to the target, whose latency is the point of taking a snapshot.  The
 * old value is restored, where permitted, before the target is stopped
 * again to reap the copy, so that it is not held by a deprioritized
 * tracer. */
#define DUMP_NICENESS 10

static int lower_priority(void)
{
	int old;

	errno = 0;
	old = getpriority(PRIO_PROCESS, 0);
	if (errno == 0)
		setpriority(PRIO_PROCESS, 0, old + DUMP_NICENESS);
	return errno == 0 ? old : 0;
}

static void restore_priority(int old)
{
	setpriority(PRIO_PROCESS, 0, old);   /* needs CAP_SYS_NICE or RLIMIT_NICE */
}

/* Once attached, a /proc file that vanished means the process died, and
 * a process that seems to have died may have left the threads we held
 * for a new program (an execve by a thread not yet seized). */
static int gone_if_vanished(const struct pc_target *t)
{
	struct pc_error_box gone = { 0 };

	if (pc_errcode() == PC_ENOPROC)
		pc_fail(PC_EGONE, 0, "pid %d exited during capture", (int)t->pid);
	if (pc_errcode() != PC_EGONE)
		return -1;
	pc_error_capture(&gone);   /* target_execd() clears it */
	if (target_execd(t))
		return pc_fail(PC_EEXEC, 0, "pid %d executed a new program during capture",
			       (int)t->pid);
	return pc_error_raise(&gone);
}

/* Held threads → a snapshot, or the reason there is none.  Returns 1 with
 * snap->child set, 0 to go on stop-the-world (t->maps emptied), -1. */
static int take_snapshot(struct pc_target *t, struct pc_snapshot *snap)
{
	char why[256];
	int rc;

	if (target_read_layout(t) < 0)
		return gone_if_vanished(t);
	rc = snapshot_fork(snap, &t->tracer, &t->mem, &t->maps, why, sizeof why);
	if (rc == 0) {
		fprintf(stderr, "pycore-capture: no snapshot of pid %d (%s): "
			"capturing it stop-the-world\n", (int)t->pid, why);
		procmaps_free(&t->maps);
	}
	return rc;
}

/* The target's threads are held: fork it if we may, and let it go as soon
 * as the copy exists.  Then read the mappings (of the copy, or of the held
 * target).  Returns 0 or -1. */
static int hold_or_fork(const struct options *o, struct pc_target *t,
			struct pc_snapshot *snap, struct outcome *res, double t0)
{
	int rc = o->no_fork ? 0 : take_snapshot(t, snap);

	if (rc < 0)
		return -1;
	res->mode = rc == 1 ? PYCORE_MODE_SNAPSHOT : PYCORE_MODE_STOPPED;
	if (res->mode == PYCORE_MODE_STOPPED)
		return target_read_mappings(t) < 0 ? gone_if_vanished(t) : 0;
	tracer_release(&t->tracer);
	res->pause_s = pc_now() - t0;
	res->niceness = lower_priority();
	memreader_close(&t->mem);
	memreader_init(&t->mem, snap->child, MEMREAD_PROC_MEM);
	return target_adopt_snapshot(t, snap->child);
}

/* The memory, from the held target or from the snapshot (watched for its
 * copy-on-write cost when --max-cow-mb is given). */
static int dump_memory(const struct options *o, struct pc_target *t,
		       const struct pc_snapshot *snap, const struct pc_coreplan *plan,
		       struct pc_sink *sink, struct outcome *res)
{
	struct pc_cowwatch *watch = NULL;
	struct pc_progress prog;
	int rc;

	if (snap->child && o->max_cow &&
	    !(watch = cowwatch_start(snap->child, o->max_cow, &cow_exceeded)))
		return -1;
	progress_init(&prog, "pycore-capture", !o->quiet);
	res->ctl = (struct pc_write_ctl){ .interrupted = &interrupted, .limit_hit = &cow_exceeded,
					  .progress = show_progress, .progress_arg = &prog };
	rc = core_write(plan, sink, &t->mem, &res->ctl);
	progress_clear(&prog);
	res->cow_bytes = cowwatch_stop(watch);
	if (rc == 0 && cow_exceeded)    /* seen by the last reading, after the dump */
		rc = write_ctl_check(&res->ctl);
	if (rc < 0 && snap->child && pc_errcode() == PC_EGONE)
		pc_fail(PC_EINTERNAL, 0, "the snapshot process %d was killed during the dump "
			"(out of memory?)", (int)snap->child);
	return rc;
}

/* Held threads → file.  The target is released, and its snapshot killed
 * and reaped, before this returns, on success and on failure alike. */
static int capture(const struct options *o, struct pc_target *t,
		   struct pc_outfile *out, struct outcome *res)
{
	struct pc_notes notes = { 0 };
	struct pc_coreplan plan = { 0 };
	struct pc_snapshot snap = { 0 };
	struct pc_sink *sink = NULL;
	struct timespec captured_at;
	double t0 = pc_now();
	int rc = -1;

	if (tracer_stop_all(&t->tracer, t->pid, STOP_TIMEOUT_MS, &interrupted) < 0)
		return gone_if_vanished(t);
	clock_gettime(CLOCK_REALTIME, &captured_at);
	memreader_init(&t->mem, t->pid, MEMREAD_VM_READV);
	if (tracer_read_registers(&t->tracer) < 0 || target_read_facts(t) < 0) {
		gone_if_vanished(t);
		goto out;
	}
	if (target_same_program(t) < 0)
		goto out;
	if (hold_or_fork(o, t, &snap, res, t0) < 0 ||
	    build_core_notes(&notes, t, &captured_at, res->mode) < 0 ||
	    coreplan_init(&plan, &t->maps, t->dump_len, &notes) < 0)
		goto out;
	sink = o->lz4 ? sink_lz4_new(out->fd, plan.total_size, o->workers)
		      : sink_raw_new(out->fd);
	if (!sink)
		goto out;
	rc = dump_memory(o, t, &snap, &plan, sink, res);
	if (res->mode == PYCORE_MODE_STOPPED) {
		/* Every byte of memory is read: let the target go before the
		 * tail of the compression and the file system work. */
		tracer_release(&t->tracer);
		res->pause_s = pc_now() - t0;
	} else {
		restore_priority(res->niceness);
	}
	snapshot_end(&snap);
	if (rc == 0)
		rc = sink_finish(sink);
	if (rc == 0 && interrupted)
		rc = pc_fail(PC_EINTR, 0, "interrupted by signal %d", interrupted);
	res->core_size = plan.total_size;
	res->dump_bytes = plan.dump_bytes;
	res->stored = sink->stored;
	res->total_s = pc_now() - t0;
out:
	tracer_release(&t->tracer);
	if (snap.child)
		restore_priority(res->niceness);
	snapshot_end(&snap);
	if (snap.zombie)
		fprintf(stderr, "pycore-capture: warning: the snapshot process %d could not be "
			"reaped: a zombie may remain under pid %d\n", (int)snap.zombie, (int)t->pid);
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
		"%.1f MB core, %.1f MB written, %.2f s, target paused %.3f s (%s)\n",
		path, (int)t->pid, t->tracer.nthreads, t->maps.n, (double)r->core_size / 1e6,
		(double)r->stored / 1e6, r->total_s, r->pause_s,
		r->mode == PYCORE_MODE_SNAPSHOT ? "snapshot" : "stop-the-world");
	if (t->rules != DUMP_RULES_KERNEL)
		fprintf(stderr, "pycore-capture: --filter %s: %.1f MB of memory in the core, "
			"%.1f MB under the kernel's rules\n", dump_rules_name(t->rules),
			(double)r->dump_bytes / 1e6, (double)t->kernel_bytes / 1e6);
	/* What --max-cow-mb watched, so its limit can be chosen from a run. */
	if (o->max_cow && r->mode == PYCORE_MODE_SNAPSHOT)
		fprintf(stderr, "pycore-capture: the snapshot cost at most %.1f MB of "
			"copy-on-write memory (limit %.0f MB)\n",
			(double)r->cow_bytes / 1e6, (double)o->max_cow / 1e6);
}

/* What the report needs to read the core without the binaries, resolved
 * while the target still runs.  Not Python, or not a Python pycore knows:
 * the core is written all the same, without the note. */
static int note_python_facts(struct pc_target *t)
{
	target_note_program(t);
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
	/* The tracer is a worker process that outlives us (supervise.h). */
	supervise();
	catch_signals();
	t.rules = o.rules;
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
