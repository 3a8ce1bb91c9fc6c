/* dumppolicy.h — which mappings a core holds, by the kernel's own rules.
 *
 * The kernel decides per VMA in vma_dump_size() (fs/coredump.c) from the
 * process's coredump_filter bits and the VMA's flags.  We see the same facts
 * through smaps: "written to" (the VMA has an anon_vma) shows as Anonymous or
 * Swap pages, VM_DONTDUMP as "dd", VM_IO as "io", hugetlb as "ht".
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

enum dump_decision dump_policy(const struct pc_mapping *m, unsigned filter);

#endif
