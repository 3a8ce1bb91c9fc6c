/* dumppolicy.h — which mappings a core holds, by the kernel's own rules.
 *
 * The kernel decides per VMA in vma_dump_size() (fs/coredump.c) from the
 * process's coredump_filter bits and the VMA's flags.  We see the same facts
 * through smaps: "written to" (the VMA has an anon_vma) shows as Anonymous or
 * Swap pages, VM_DONTDUMP as "dd", VM_IO as "io", hugetlb as "ht".
 *
 * pycore-capture --filter python follows other rules, dump_policy_python()
 * below; dump_decide() is the one place a capture asks.
 *
 * One deliberate difference: the kernel "dumps" every named special mapping
 * ([vvar], [vvar_vclock]) whole, and since their pages cannot be read the
 * result is a run of holes.  We give them p_filesz 0, which readers treat
 * the same, instead of reserving file space for nothing.
 */
#ifndef PYCORE_DUMPPOLICY_H
#define PYCORE_DUMPPOLICY_H

#include "procmaps.h"

/* coredump_filter bits (see core(5)). */
enum {
	CDF_ANON_PRIVATE    = 1u << 0,
	CDF_ANON_SHARED     = 1u << 1,
	CDF_MAPPED_PRIVATE  = 1u << 2,
	CDF_MAPPED_SHARED   = 1u << 3,
	CDF_ELF_HEADERS     = 1u << 4,
	CDF_HUGETLB_PRIVATE = 1u << 5,
	CDF_HUGETLB_SHARED  = 1u << 6,
	CDF_DEFAULT         = 0x33,
};

enum dump_decision {
	DUMP_NONE,          /* PT_LOAD with p_filesz 0                          */
	DUMP_WHOLE,         /* every page of the mapping                        */
	DUMP_HEADER_IF_ELF, /* first page, if the mapping starts with ELF magic */
};

/* The kernel's rules under the coredump_filter bits filter. */
enum dump_decision dump_policy(const struct pc_mapping *m, unsigned filter);

/* Which rules a capture follows (pycore-capture --filter NAME). */
enum dump_rules {
	DUMP_RULES_KERNEL = 0,  /* "kernel": the process's coredump_filter, as the kernel */
	DUMP_RULES_PYTHON = 1,  /* "python": what pycore-report and a backtrace need */
};

/* The python rules, the same for every process (its coredump_filter is
 * not consulted): the memory that can hold Python objects or that the
 * report and a debugger's backtrace read, and nothing that a file on disk
 * or another process holds.
 *
 *   kept    private memory of no file that was written (anonymous
 *           mappings, [heap], thread stacks: pymalloc's arenas, glibc's
 *           heaps and mmapped chunks, mimalloc's segments), private
 *           hugetlb memory (malloc's glibc.malloc.hugetlb), the written
 *           pages of ELF files (.data, .bss, GOT, relro: static type
 *           objects, the runtime, the interpreter states), the first page
 *           of every ELF file (build-id, load bias), [vdso] and
 *           [vsyscall] (unwinding through signal frames);
 *   dropped every shared mapping (anonymous shared memory, memfd, SysV
 *           and POSIX shm, multiprocessing's arenas, shared files: other
 *           processes' data, which CPython's allocators never place
 *           objects in; a custom PyMem allocator that does needs the
 *           kernel rules), and every private mapping of a file that is
 *           not ELF, written or not (mmap'd data files, locale archives,
 *           fonts, caches: their contents are the file's or raw copies
 *           of it, never objects).
 *
 * Read-only file pages are not needed in the core under either rules:
 * pycore-report reads .text and .rodata (tp_name strings, code) from the
 * binaries on disk, as it does for kernel cores.  MADV_DONTDUMP, VM_IO
 * and PFN mappings stay out, as the kernel keeps them out.
 *
 * of_elf: the mapping is of a file whose first page is an ELF header. */
enum dump_decision dump_policy_python(const struct pc_mapping *m, bool of_elf);

/* The decision under rules (filter: the process's coredump_filter, used
 * by the kernel rules only). */
enum dump_decision dump_decide(enum dump_rules rules, const struct pc_mapping *m,
			       unsigned filter, bool of_elf);

/* "kernel", "python"; and back: 0, or -1 for an unknown name. */
const char *dump_rules_name(enum dump_rules rules);
int dump_rules_parse(const char *name, enum dump_rules *rules);

#endif
