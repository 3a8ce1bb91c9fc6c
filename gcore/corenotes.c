/* corenotes.c — NT_PRSTATUS, NT_PRPSINFO, NT_FILE, PYCORE, ... */
#include "corenotes.h"

#include "../common/error.h"
#include "../common/pycore_note.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif
#ifndef NT_SIGINFO
#define NT_SIGINFO 0x53494749
#endif
#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif
#ifndef NT_X86_XSAVE_LAYOUT
#define NT_X86_XSAVE_LAYOUT 0x205
#endif

static struct timeval ticks_to_timeval(uint64_t ticks, long hz)
{
	struct timeval tv = { (time_t)(ticks / (uint64_t)hz),
			      (suseconds_t)((ticks % (uint64_t)hz) * 1000000 / (uint64_t)hz) };
	return tv;
}

static void fill_prstatus(struct elf_prstatus *pr, const struct pc_target *t,
			  const struct pc_thread *th)
{
	long hz = sysconf(_SC_CLK_TCK);

	/* The ids the process knows itself by, as the kernel writes them (it
	 * dumps from inside the process): in a container, its own pid
	 * namespace's.  They are what the threads' pthread structs and
	 * Python's thread states hold, and what gdb matches them with; the
	 * PYCORE namespaces note keeps ours. */
	memset(pr, 0, sizeof *pr);
	pr->pr_pid = th->ns_tid ? th->ns_tid : th->tid;
	pr->pr_ppid = t->ns_ppid;
	pr->pr_pgrp = t->ns_pgrp;
	pr->pr_sid = t->ns_sid;
	if (th->resend_signal) {
		pr->pr_cursig = (short)th->resend_signal;
		pr->pr_info.si_signo = th->resend_signal;
		if (th->have_siginfo) {
			pr->pr_info.si_code = th->siginfo.si_code;
			pr->pr_info.si_errno = th->siginfo.si_errno;
		}
	}
	pr->pr_utime = ticks_to_timeval(th->utime, hz);
	pr->pr_stime = ticks_to_timeval(th->stime, hz);
	pr->pr_sigpend = th->sigpend;
	pr->pr_sighold = th->sighold;
	pr->pr_cutime = ticks_to_timeval(t->stat.cutime, hz);
	pr->pr_cstime = ticks_to_timeval(t->stat.cstime, hz);
	memcpy(&pr->pr_reg, &th->regs, sizeof pr->pr_reg);
	pr->pr_fpvalid = th->have_fpregs;
}

static void fill_prpsinfo(struct elf_prpsinfo *ps, const struct pc_target *t)
{
	static const char states[] = "RSDTZW";
	/* The state the process was in, not the tracing stop we put it in. */
	char state = t->state_before ? t->state_before : t->stat.state;
	const char *s = strchr(states, state);
	size_t n = t->cmdline_len < sizeof ps->pr_psargs - 1 ? t->cmdline_len
							     : sizeof ps->pr_psargs - 1;

	memset(ps, 0, sizeof *ps);
	ps->pr_state = s ? (char)(s - states) : 0;
	ps->pr_sname = state;
	ps->pr_zomb = state == 'Z';
	ps->pr_nice = (char)t->stat.nice;
	ps->pr_flag = t->stat.flags;
	ps->pr_uid = t->uid;
	ps->pr_gid = t->gid;
	ps->pr_pid = t->ns_pid;
	ps->pr_ppid = t->ns_ppid;
	ps->pr_pgrp = t->ns_pgrp;
	ps->pr_sid = t->ns_sid;
	memcpy(ps->pr_fname, t->stat.comm, sizeof ps->pr_fname - 1);
	/* psargs is the command line with its NULs turned into spaces. */
	memcpy(ps->pr_psargs, t->cmdline, n);
	for (size_t i = 0; i < n; i++)
		if (ps->pr_psargs[i] == '\0')
			ps->pr_psargs[i] = ' ';
	while (n > 0 && ps->pr_psargs[n - 1] == ' ')
		ps->pr_psargs[--n] = '\0';
}

/* NT_FILE: count, page size, count × {start, end, file page}, names.
 * (The kernel's fill_files_note() documents the same layout.) */
int build_nt_file(struct pc_bytes *b, const struct pc_maplist *maps)
{
	uint64_t count = 0;

	for (size_t i = 0; i < maps->n; i++)
		count += mapping_is_file(&maps->v[i]);
	bytes_u64(b, count);
	bytes_u64(b, 4096);
	for (size_t i = 0; i < maps->n; i++) {
		const struct pc_mapping *m = &maps->v[i];
		if (!mapping_is_file(m))
			continue;
		bytes_u64(b, m->start);
		bytes_u64(b, m->end);
		bytes_u64(b, m->offset / 4096);
	}
	for (size_t i = 0; i < maps->n; i++)
		if (mapping_is_file(&maps->v[i]))
			bytes_put(b, maps->v[i].path, strlen(maps->v[i].path) + 1);
	return b->failed ? pc_fail(PC_EINTERNAL, ENOMEM, "building NT_FILE") : 0;
}

int build_pycore_modules(struct pc_bytes *b, const struct pc_module *mods, size_t n)
{
	bytes_u32(b, (uint32_t)n);
	bytes_u32(b, 0);
	for (size_t i = 0; i < n; i++) {
		size_t plen = strlen(mods[i].path) + 1;
		bytes_u64(b, mods[i].base);
		bytes_u32(b, (uint32_t)mods[i].build_id_len);
		bytes_u32(b, (uint32_t)plen);
		bytes_put(b, mods[i].build_id, mods[i].build_id_len);
		bytes_put(b, mods[i].path, plen);
		bytes_pad(b, 8);
	}
	return b->failed ? pc_fail(PC_EINTERNAL, ENOMEM, "building the PYCORE note") : 0;
}

static int build_pycore_capture(struct pc_bytes *b, const struct pc_target *t,
				const struct timespec *at, int mode)
{
	size_t exe_len = strlen(t->exe) + 1;

	bytes_u32(b, PYCORE_CAPTURE_VERSION);
	bytes_u32(b, (uint32_t)mode);
	bytes_u64(b, (uint64_t)at->tv_sec);
	bytes_u32(b, (uint32_t)at->tv_nsec);
	bytes_u32(b, (uint32_t)t->pid);
	bytes_u64(b, t->stat.starttime);
	bytes_u64(b, (uint64_t)sysconf(_SC_CLK_TCK));
	bytes_u32(b, 4096);
	bytes_u32(b, (uint32_t)t->tracer.nthreads);
	bytes_u32(b, (uint32_t)t->cmdline_len);
	bytes_u32(b, (uint32_t)exe_len);
	bytes_put(b, t->cmdline, t->cmdline_len);
	bytes_put(b, t->exe, exe_len);
	bytes_pad(b, 8);
	return b->failed ? pc_fail(PC_EINTERNAL, ENOMEM, "building the PYCORE note") : 0;
}

static int add_namespaces_note(struct pc_notes *out, const struct pc_target *t)
{
	const char *root = t->root ? t->root : "";
	size_t rlen = strlen(root) + 1;
	struct pc_bytes b = { 0 };
	int rc;

	bytes_u32(&b, t->ns_flags);
	bytes_u32(&b, (uint32_t)t->pid);
	bytes_u32(&b, (uint32_t)t->ns_pid);
	bytes_u32(&b, (uint32_t)t->tracer.nthreads);
	bytes_u64(&b, t->mnt_ns);
	bytes_u64(&b, t->pid_ns);
	bytes_u32(&b, (uint32_t)rlen);
	bytes_u32(&b, 0);
	for (size_t i = 0; i < t->tracer.nthreads; i++) {
		const struct pc_thread *th = &t->tracer.threads[i];
		bytes_u32(&b, (uint32_t)th->tid);
		bytes_u32(&b, (uint32_t)(th->ns_tid ? th->ns_tid : th->tid));
	}
	bytes_put(&b, root, rlen);
	bytes_pad(&b, 8);
	rc = b.failed ? pc_fail(PC_EINTERNAL, ENOMEM, "building the PYCORE note")
		      : notes_add(out, PYCORE_NOTE_NAME, PYCORE_NT_NAMESPACES, b.data, b.len);
	bytes_free(&b);
	return rc;
}

static int add_thread_regsets(struct pc_notes *out, const struct pc_thread *th)
{
	if (notes_add(out, "CORE", NT_PRFPREG, &th->fpregs, sizeof th->fpregs) < 0)
		return -1;
	if (th->xstate_len &&
	    notes_add(out, "LINUX", NT_X86_XSTATE, th->xstate, th->xstate_len) < 0)
		return -1;
	return 0;
}

static int add_siginfo(struct pc_notes *out, const struct pc_thread *th)
{
	siginfo_t si;
	/* Only a signal we intercepted is a real one; an interrupt stop's
	 * SIGTRAP is our doing and would mislead a reader. */
	if (th->resend_signal && th->have_siginfo)
		si = th->siginfo;
	else
		memset(&si, 0, sizeof si);
	return notes_add(out, "CORE", NT_SIGINFO, &si, sizeof si);
}

static int add_process_notes(struct pc_notes *out, const struct pc_target *t)
{
	struct elf_prpsinfo ps;
	struct pc_bytes files = { 0 };
	int rc;

	fill_prpsinfo(&ps, t);
	if (notes_add(out, "CORE", NT_PRPSINFO, &ps, sizeof ps) < 0 ||
	    add_siginfo(out, &t->tracer.threads[0]) < 0 ||
	    notes_add(out, "CORE", NT_AUXV, t->auxv, t->auxv_len) < 0)
		return -1;
	rc = build_nt_file(&files, &t->maps);
	if (rc == 0 && files.len <= NT_FILE_MAX)
		rc = notes_add(out, "CORE", NT_FILE, files.data, files.len);
	bytes_free(&files);
	return rc;
}

/* The mappings a snapshot could not hold (docs/pycore-note.md): their
 * PT_LOADs have p_filesz 0, and this says why, so a reader never takes
 * them for memory that was not worth dumping. */
static int add_absent_note(struct pc_notes *out, const struct pc_target *t)
{
	struct pc_bytes b = { 0 };
	int rc;

	bytes_u32(&b, (uint32_t)t->nabsent);
	bytes_u32(&b, 0);
	for (size_t i = 0; i < t->maps.n; i++) {
		if (!t->absent[i])
			continue;
		bytes_u64(&b, t->maps.v[i].start);
		bytes_u64(&b, t->maps.v[i].end);
		bytes_u32(&b, t->absent[i]);
		bytes_u32(&b, 0);
	}
	rc = b.failed ? pc_fail(PC_EINTERNAL, ENOMEM, "building the PYCORE note")
		      : notes_add(out, PYCORE_NOTE_NAME, PYCORE_NT_ABSENT, b.data, b.len);
	bytes_free(&b);
	return rc;
}

/* Which rules left mappings out, when not the kernel's
 * (docs/pycore-note.md): a reader must not take them for damage. */
static int add_filter_note(struct pc_notes *out, const struct pc_target *t)
{
	struct pc_bytes b = { 0 };
	int rc;

	_Static_assert(DUMP_RULES_PYTHON == PYCORE_RULES_PYTHON, "one numbering of the rules");
	bytes_u32(&b, (uint32_t)t->rules);
	bytes_u32(&b, t->coredump_filter);
	bytes_u64(&b, t->kernel_bytes);
	rc = b.failed ? pc_fail(PC_EINTERNAL, ENOMEM, "building the PYCORE note")
		      : notes_add(out, PYCORE_NOTE_NAME, PYCORE_NT_FILTER, b.data, b.len);
	bytes_free(&b);
	return rc;
}

static int add_pycore_notes(struct pc_notes *out, const struct pc_target *t,
			    const struct timespec *at, int mode)
{
	struct pc_bytes cap = { 0 }, mods = { 0 };
	int rc = build_pycore_capture(&cap, t, at, mode);

	if (rc == 0)
		rc = notes_add(out, PYCORE_NOTE_NAME, PYCORE_NT_CAPTURE, cap.data, cap.len);
	if (rc == 0)
		rc = build_pycore_modules(&mods, t->modules, t->nmodules);
	if (rc == 0)
		rc = notes_add(out, PYCORE_NOTE_NAME, PYCORE_NT_MODULES, mods.data, mods.len);
	if (rc == 0 && t->python_facts)
		rc = notes_add(out, PYCORE_NOTE_NAME, PYCORE_NT_PYTHON, t->python_facts,
			       t->python_facts_len);
	if (rc == 0 && t->nabsent)
		rc = add_absent_note(out, t);
	if (rc == 0 && t->rules != DUMP_RULES_KERNEL)
		rc = add_filter_note(out, t);
	if (rc == 0)
		rc = add_namespaces_note(out, t);
	bytes_free(&cap);
	bytes_free(&mods);
	return rc;
}

/* Where NT_X86_XSTATE keeps the mask of the state components the kernel
 * enabled (XCR0): the first 8 of the software-reserved bytes 464..511. */
#define XSTATE_XCR0_OFFSET 464
#define XFEATURE_FIRST_EXTENDED 2   /* x87 and SSE have fixed places */

/* NT_X86_XSAVE_LAYOUT, as the kernel writes it after the threads' notes
 * since Linux 6.9: for every extended component enabled in XCR0, its
 * number and its size, offset and flags in the (standard format) XSAVE
 * area, from CPUID leaf 0xD.  The layout differs between CPU vendors (AMD
 * has no MPX, so AVX-512's components sit lower than on Intel), and a
 * reader that assumes Intel's misreads NT_X86_XSTATE without it.  The
 * target runs on this machine's CPUs, so our CPUID is its CPUID.
 * Nothing is written when the threads have no XSAVE state. */
static int add_xsave_layout_note(struct pc_notes *out, const struct pc_thread *th)
{
	struct { uint32_t type, size, offset, flags; } comp[64];
	size_t n = 0;
	uint64_t xcr0;

	if (th->xstate_len < XSTATE_XCR0_OFFSET + sizeof xcr0)
		return 0;
	memcpy(&xcr0, th->xstate + XSTATE_XCR0_OFFSET, sizeof xcr0);
	for (unsigned i = XFEATURE_FIRST_EXTENDED; i < 64; i++) {
		unsigned eax, ebx, ecx, edx;

		if (!(xcr0 >> i & 1) || !__get_cpuid_count(0xD, i, &eax, &ebx, &ecx, &edx))
			continue;
		comp[n++] = (typeof(comp[0])){ i, eax, ebx, ecx };
	}
	return n ? notes_add(out, "LINUX", NT_X86_XSAVE_LAYOUT, comp, n * sizeof comp[0]) : 0;
}

int build_core_notes(struct pc_notes *out, const struct pc_target *t,
		     const struct timespec *captured_at, int mode)
{
	for (size_t i = 0; i < t->tracer.nthreads; i++) {
		const struct pc_thread *th = &t->tracer.threads[i];
		struct elf_prstatus pr;

		fill_prstatus(&pr, t, th);
		if (notes_add(out, "CORE", NT_PRSTATUS, &pr, sizeof pr) < 0)
			return -1;
		if (i == 0) {
			if (add_process_notes(out, t) < 0 || add_thread_regsets(out, th) < 0)
				return -1;
		} else if (add_thread_regsets(out, th) < 0 || add_siginfo(out, th) < 0) {
			return -1;
		}
	}
	if (add_xsave_layout_note(out, &t->tracer.threads[0]) < 0)
		return -1;
	return add_pycore_notes(out, t, captured_at, mode);
}
