/* target.h — what the capture learns about a stopped process: its threads
 * and their registers (tracer.h), its mappings and which of them to dump,
 * the ELF files it has mapped, and the /proc facts the core notes record.
 */
#ifndef PYCORE_TARGET_H
#define PYCORE_TARGET_H

#include "../common/buildid.h"
#include "../common/pycore_note.h"
#include "dumppolicy.h"
#include "memread.h"
#include "procfs.h"
#include "procmaps.h"
#include "tracer.h"

#include <stdint.h>
#include <sys/types.h>

struct pc_module {           /* one mapped ELF file */
	uint64_t base;           /* start of its first (offset 0) mapping */
	const char *path;        /* borrowed from the mapping */
	uint8_t build_id[BUILD_ID_MAX];
	size_t build_id_len;
};

struct pc_target {
	pid_t pid;
	struct pc_procstat stat;
	char state_before;       /* R, S, D... before we stopped it ('t' after) */
	uid_t uid;
	gid_t gid;
	char *cmdline;           /* NUL-separated, as /proc/PID/cmdline */
	size_t cmdline_len;
	char *exe;               /* readlink of /proc/PID/exe, or "" */
	uint8_t *auxv;
	size_t auxv_len;
	uint8_t *auxv_early;     /* auxv before the stop (target_note_program) */
	size_t auxv_early_len;
	unsigned coredump_filter;

	/* Namespaces (PYCORE_NT_NAMESPACES): the ids the process knows itself
	 * by, in its own pid namespace (0 when the namespace cannot see
	 * them), and how its namespaces and root differ from ours. */
	pid_t ns_pid, ns_ppid, ns_pgrp, ns_sid;
	unsigned ns_flags;       /* PYCORE_NS_* */
	uint64_t mnt_ns, pid_ns; /* inodes of /proc/PID/ns/mnt and ns/pid, or 0 */
	char *root;              /* /proc/PID/root as we see it, or NULL */

	struct pc_tracer tracer;
	struct pc_maplist maps;
	uint64_t *dump_len;      /* per mapping: bytes to dump from its start */
	enum dump_rules rules;   /* which rules chose dump_len (--filter) */
	uint64_t kernel_bytes;   /* with other rules: what the kernel's would dump */
	uint8_t *absent;         /* per mapping, snapshots only: ABSENT_* or 0 */
	size_t nabsent;          /* mappings with a non-zero absent */
	struct pc_module *modules;
	size_t nmodules;

	struct pc_memreader mem;

	char *python_facts;      /* the PYCORE python note's text, or NULL */
	size_t python_facts_len;
};

/* Check that pid names a live, non-zombie process (not one of its threads,
 * not ourselves) and note its state before we stop it.
 * PC_ENOPROC / PC_EZOMBIE / PC_EUSAGE.  Returns 0 or -1. */
int target_check(struct pc_target *t, pid_t pid);

/* Note which program the process runs, before anything is read from it
 * (its auxv, which an execve replaces), so that target_same_program() can
 * tell an exec before the stop.  Never fails. */
void target_note_program(struct pc_target *t);

/* After target_read_facts(): PC_EEXEC when the process executed another
 * program since target_note_program().  Returns 0 or -1. */
int target_same_program(const struct pc_target *t);

/* Whether the process runs another program now than at
 * target_note_program().  Never fails (false when it cannot tell). */
bool target_execd(const struct pc_target *t);

/* Why a mapping of the target has no contents in a snapshot's core. */
enum {
	ABSENT_DONTFORK = PYCORE_ABSENT_DONTFORK,      /* not in the fork at all */
	ABSENT_WIPEONFORK = PYCORE_ABSENT_WIPEONFORK,  /* zeros in the fork */
};

/* With every thread stopped: stat, ids, coredump filter, executable,
 * command line, auxv, and each thread's times and signal sets.
 * Returns 0 or -1. */
int target_read_facts(struct pc_target *t);

/* With every thread stopped (stop-the-world): read the mappings from
 * smaps, decide what each contributes to the core and find the ELF
 * modules, reading memory through t->mem.  Returns 0 or -1. */
int target_read_mappings(struct pc_target *t);

/* With every thread stopped, before a snapshot: only the layout, from
 * /proc/PID/maps (smaps would walk every page table while the target
 * waits).  Returns 0 or -1. */
int target_read_layout(struct pc_target *t);

/* After the snapshot: the copy's smaps give each mapping of the layout its
 * flags and page counts; a mapping missing from the copy (MADV_DONTFORK)
 * or wiped in it (MADV_WIPEONFORK) is marked absent and dumped as
 * nothing.  Then as target_read_mappings(), memory read through t->mem,
 * which must now read the copy.  Returns 0 or -1. */
int target_adopt_snapshot(struct pc_target *t, pid_t child);

void target_free(struct pc_target *t);

#endif
