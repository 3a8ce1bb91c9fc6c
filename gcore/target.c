/* target.c — gather the facts of a stopped process for its core. */
#include "target.h"

#include "../common/error.h"
#include "dumppolicy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u

int target_check(struct pc_target *t, pid_t pid)
{
	pid_t tgid;

	if (pid <= 0)
		return pc_fail(PC_EUSAGE, 0, "invalid pid %d", (int)pid);
	if (pid == getpid())
		return pc_fail(PC_EUSAGE, 0, "refusing to capture myself");
	if (procfs_read_stat(pid, "stat", &t->stat) < 0)
		return -1;
	if (t->stat.state == 'Z' || t->stat.state == 'X')
		return pc_fail(PC_EZOMBIE, 0,
			       "pid %d is a zombie: it has exited and has no memory left to capture",
			       (int)pid);
	tgid = (pid_t)procfs_status_value(pid, "Tgid", pid);
	if (tgid != pid)
		return pc_fail(PC_EUSAGE, 0, "%d is a thread of process %d: capture %d",
			       (int)pid, (int)tgid, (int)tgid);
	t->pid = pid;
	t->state_before = t->stat.state;
	return 0;
}

/* The inode of /proc/PID/ns/NAME, or 0. */
static uint64_t ns_inode(const char *pid, const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, name);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* The parent's pid in the process's own pid namespace: the last of the
 * parent's NSpid when the parent is as deep (then in the same namespace,
 * as a child's namespace is its parent's or one below), else 0, as the
 * kernel writes it for a namespace's first process. */
static pid_t ns_parent(const struct pc_target *t, int depth)
{
	long id = 0;
	int pdepth = 0;

	if (t->stat.ppid <= 0 || procfs_ns_pid(t->stat.ppid, &id, &pdepth) < 0 || pdepth != depth)
		return 0;
	return (pid_t)id;
}

/* Which namespaces of the process are not ours, the ids it knows itself
 * by, and its root directory.  A kernel without NSpid (before 4.1) gives
 * the ids we see. */
static void read_namespaces(struct pc_target *t, const char *status)
{
	char pid[16];
	long v;
	int depth = 1;

	snprintf(pid, sizeof pid, "%d", (int)t->pid);
	t->ns_flags = 0;
	t->ns_pid = t->pid;
	t->ns_ppid = t->stat.ppid;
	t->ns_pgrp = t->stat.pgrp;
	t->ns_sid = t->stat.session;
	if (procfs_status_last(status, "NSpid", &v, &depth) == 0) {
		t->ns_pid = (pid_t)v;
		t->ns_ppid = depth > 1 ? ns_parent(t, depth) : t->stat.ppid;
	}
	if (procfs_status_last(status, "NSpgid", &v, NULL) == 0)
		t->ns_pgrp = (pid_t)v;
	if (procfs_status_last(status, "NSsid", &v, NULL) == 0)
		t->ns_sid = (pid_t)v;
	t->mnt_ns = ns_inode(pid, "mnt");
	t->pid_ns = ns_inode(pid, "pid");
	if (t->mnt_ns && ns_inode("self", "mnt") != t->mnt_ns)
		t->ns_flags |= PYCORE_NS_MNT;
	if (t->pid_ns && ns_inode("self", "pid") != t->pid_ns)
		t->ns_flags |= PYCORE_NS_PID;
	free(t->root);
	t->root = procfs_root(t->pid);
	if (t->root && strcmp(t->root, "/") != 0)
		t->ns_flags |= PYCORE_NS_ROOT;
}

void target_note_program(struct pc_target *t)
{
	t->auxv_early = (uint8_t *)procfs_slurp(t->pid, "auxv", &t->auxv_early_len);
	pc_clear_error();
}

static bool early_auxv_is(const struct pc_target *t, const uint8_t *auxv, size_t len)
{
	return !t->auxv_early ||
	       (t->auxv_early_len == len && memcmp(t->auxv_early, auxv, len) == 0);
}

int target_same_program(const struct pc_target *t)
{
	if (early_auxv_is(t, t->auxv, t->auxv_len))
		return 0;
	return pc_fail(PC_EEXEC, 0, "pid %d executed a new program as the capture began",
		       (int)t->pid);
}

bool target_execd(const struct pc_target *t)
{
	size_t len;
	uint8_t *now = (uint8_t *)procfs_slurp(t->pid, "auxv", &len);
	bool execd = now && !early_auxv_is(t, now, len);

	free(now);
	pc_clear_error();
	return execd;
}

static int read_ids(struct pc_target *t)
{
	char *status = procfs_slurp(t->pid, "status", NULL);
	long uid = 0, gid = 0;

	if (!status)
		return -1;
	procfs_status_dec(status, "Uid", &uid);
	procfs_status_dec(status, "Gid", &gid);
	read_namespaces(t, status);
	free(status);
	t->uid = (uid_t)uid;
	t->gid = (gid_t)gid;
	return 0;
}

static int read_filter(struct pc_target *t)
{
	char *text = procfs_slurp(t->pid, "coredump_filter", NULL);
	if (!text) {
		t->coredump_filter = CDF_DEFAULT;  /* kernels without the file */
		pc_clear_error();
		return 0;
	}
	t->coredump_filter = (unsigned)strtoul(text, NULL, 16);
	free(text);
	return 0;
}

static int read_exe(struct pc_target *t)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/%d/exe", (int)t->pid);
	n = readlink(link, buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = '\0';
	procfs_unroot(buf, t->root);
	t->exe = strdup(buf);
	return t->exe ? 0 : pc_fail(PC_EINTERNAL, ENOMEM, "reading %s", link);
}

/* The reader callback for buildid.c. */
static int read_target(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct pc_target *t = ctx;
	size_t bad;
	return memreader_read(&t->mem, addr, buf, len, &bad) == 0 && bad == 0 ? 0 : -1;
}

static int add_module(struct pc_target *t, const struct pc_mapping *m,
		      const uint8_t *page)
{
	struct pc_module *mod;

	for (size_t i = 0; i < t->nmodules; i++)
		if (strcmp(t->modules[i].path, m->path) == 0)
			return 0;
	mod = realloc(t->modules, (t->nmodules + 1) * sizeof *mod);
	if (!mod)
		return pc_fail(PC_EINTERNAL, ENOMEM, "listing modules");
	t->modules = mod;
	mod = &t->modules[t->nmodules++];
	memset(mod, 0, sizeof *mod);
	mod->base = m->start;
	mod->path = m->path;
	mod->build_id_len = elf_image_build_id(page, PAGE, m->start, read_target, t,
					       mod->build_id);
	return 0;
}

/* A mapping of a file found to be ELF (by its offset-0 mapping, which
 * comes first in address order). */
static bool of_module(const struct pc_target *t, const struct pc_mapping *m)
{
	for (size_t i = 0; m->path && i < t->nmodules; i++)
		if (strcmp(t->modules[i].path, m->path) == 0)
			return true;
	return false;
}

/* Bytes a decision takes from m (elf: its first page is an ELF header). */
static uint64_t decided_len(enum dump_decision d, const struct pc_mapping *m, bool elf)
{
	if (d == DUMP_WHOLE)
		return m->end - m->start;
	return d == DUMP_HEADER_IF_ELF && elf ? PAGE : 0;
}

/* Decide each mapping's dump length under t->rules, and find the ELF
 * files: the first page of every offset-0 file mapping tells whether it
 * is one.  A mapping absent from a snapshot has nothing to read.  Under
 * other rules than the kernel's, t->kernel_bytes is what the kernel's
 * would have dumped. */
static int plan_mappings(struct pc_target *t)
{
	uint8_t page[PAGE];

	t->dump_len = calloc(t->maps.n ? t->maps.n : 1, sizeof *t->dump_len);
	if (!t->dump_len)
		return pc_fail(PC_EINTERNAL, ENOMEM, "planning the core");
	t->kernel_bytes = 0;
	for (size_t i = 0; i < t->maps.n; i++) {
		const struct pc_mapping *m = &t->maps.v[i];
		enum dump_decision d;
		bool elf = false;

		if (t->absent && t->absent[i])
			continue;

		if (mapping_is_file(m) && m->offset == 0 && m->readable) {
			size_t bad;
			if (memreader_read(&t->mem, m->start, page, PAGE, &bad) < 0)
				return -1;
			elf = bad == 0 && is_elf_image(page, PAGE);
			if (elf && add_module(t, m, page) < 0)
				return -1;
		}
		d = dump_decide(t->rules, m, t->coredump_filter, mapping_is_file(m) && of_module(t, m));
		t->dump_len[i] = decided_len(d, m, elf);
		if (t->rules != DUMP_RULES_KERNEL)
			t->kernel_bytes += decided_len(dump_policy(m, t->coredump_filter), m, elf);
	}
	return 0;
}

/* One thread's times and signal sets, for its NT_PRSTATUS: read now, while
 * it is stopped, not when the notes are written. */
static void read_thread_facts(pid_t pid, struct pc_thread *th)
{
	struct pc_procstat st;
	char name[64];
	char *status;
	long id;

	snprintf(name, sizeof name, "task/%d/stat", (int)th->tid);
	if (procfs_read_stat(pid, name, &st) == 0) {
		th->utime = st.utime;
		th->stime = st.stime;
	}
	snprintf(name, sizeof name, "task/%d/status", (int)th->tid);
	status = procfs_slurp(pid, name, NULL);
	if (status) {
		procfs_status_hex(status, "SigPnd", &th->sigpend);
		procfs_status_hex(status, "SigBlk", &th->sighold);
		if (procfs_status_last(status, "NSpid", &id, NULL) == 0)
			th->ns_tid = (pid_t)id;
		free(status);
	}
	pc_clear_error();   /* a thread's /proc files are optional facts */
}

int target_read_facts(struct pc_target *t)
{
	if (procfs_read_stat(t->pid, "stat", &t->stat) < 0 || read_ids(t) < 0 ||
	    read_filter(t) < 0 || read_exe(t) < 0)
		return -1;
	t->cmdline = procfs_slurp(t->pid, "cmdline", &t->cmdline_len);
	if (!t->cmdline)
		return -1;
	t->auxv = (uint8_t *)procfs_slurp(t->pid, "auxv", &t->auxv_len);
	if (!t->auxv)
		return -1;
	for (size_t i = 0; i < t->tracer.nthreads; i++)
		read_thread_facts(t->pid, &t->tracer.threads[i]);
	return 0;
}

int target_read_mappings(struct pc_target *t)
{
	if (procmaps_read(t->pid, &t->maps) < 0)
		return -1;
	return plan_mappings(t);
}

int target_read_layout(struct pc_target *t)
{
	return procmaps_read_layout(t->pid, &t->maps);
}

/* Give layout mapping *m the copy's facts for the same range, or mark it
 * absent.  *c walks the copy's list alongside (both are in address order). */
static void adopt_mapping(struct pc_target *t, size_t i, struct pc_maplist *copy, size_t *c)
{
	struct pc_mapping *m = &t->maps.v[i];

	while (*c < copy->n && copy->v[*c].end <= m->start)
		(*c)++;
	if (*c < copy->n && copy->v[*c].start == m->start && copy->v[*c].end == m->end) {
		free(m->path);
		*m = copy->v[*c];
		copy->v[(*c)++].path = NULL;   /* moved */
		if (m->vmflags & VMF_WIPEONFORK)
			t->absent[i] = ABSENT_WIPEONFORK;
	} else {
		t->absent[i] = ABSENT_DONTFORK;
	}
	t->nabsent += t->absent[i] != 0;
}

int target_adopt_snapshot(struct pc_target *t, pid_t child)
{
	struct pc_maplist copy;
	size_t c = 0;

	if (procmaps_read(child, &copy) < 0)
		return pc_wrap("reading the snapshot's mappings");
	t->absent = calloc(t->maps.n ? t->maps.n : 1, 1);
	if (!t->absent) {
		procmaps_free(&copy);
		return pc_fail(PC_EINTERNAL, ENOMEM, "planning the core");
	}
	for (size_t i = 0; i < t->maps.n; i++)
		adopt_mapping(t, i, &copy, &c);
	procmaps_free(&copy);
	return plan_mappings(t);
}

void target_free(struct pc_target *t)
{
	tracer_free(&t->tracer);
	procmaps_free(&t->maps);
	memreader_close(&t->mem);
	free(t->dump_len);
	free(t->absent);
	free(t->modules);
	free(t->cmdline);
	free(t->exe);
	free(t->root);
	free(t->auxv);
	free(t->auxv_early);
	free(t->python_facts);
}
