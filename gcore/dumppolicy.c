/* dumppolicy.c — the kernel's vma_dump_size() rules over smaps facts, and
 * pycore's python rules (dumppolicy.h). */
#include "dumppolicy.h"

#include <string.h>

static bool is_always_dumped(const struct pc_mapping *m)
{
	/* The kernel always dumps the vDSO and the gate (vsyscall) area so that
	 * a debugger can unwind through signal trampolines. */
	return m->path && (strcmp(m->path, "[vdso]") == 0 ||
			   strcmp(m->path, "[vsyscall]") == 0);
}

/* A shared mapping whose file has no name left (i_nlink == 0): anonymous
 * shared memory, memfd, SysV shm, or a deleted file. */
static bool is_anon_shared(const struct pc_mapping *m)
{
	size_t n;
	if (!m->path || m->path[0] == '[')
		return true;
	n = strlen(m->path);
	return n >= 9 && strcmp(m->path + n - 9, "(deleted)") == 0;
}

enum dump_decision dump_policy(const struct pc_mapping *m, unsigned filter)
{
	if (is_always_dumped(m))
		return DUMP_WHOLE;
	if (m->vmflags & VMF_DONTDUMP)
		return DUMP_NONE;
	if (m->vmflags & VMF_HUGETLB) {
		unsigned bit = m->shared ? CDF_HUGETLB_SHARED : CDF_HUGETLB_PRIVATE;
		return (filter & bit) ? DUMP_WHOLE : DUMP_NONE;
	}
	if (m->vmflags & (VMF_IO | VMF_PFNMAP))
		return DUMP_NONE;
	if (m->shared) {
		unsigned bit = is_anon_shared(m) ? CDF_ANON_SHARED : CDF_MAPPED_SHARED;
		return (filter & bit) ? DUMP_WHOLE : DUMP_NONE;
	}
	/* Private and written to: the VMA has anonymous (COW) pages. */
	if ((m->anon_bytes || m->swap_bytes) && (filter & CDF_ANON_PRIVATE))
		return DUMP_WHOLE;
	if (!mapping_is_file(m))
		return DUMP_NONE;
	if (filter & CDF_MAPPED_PRIVATE)
		return DUMP_WHOLE;
	if ((filter & CDF_ELF_HEADERS) && m->offset == 0 && m->readable)
		return DUMP_HEADER_IF_ELF;
	return DUMP_NONE;
}

/* Private memory that was written: it has anonymous (COW) pages. */
static bool is_written(const struct pc_mapping *m)
{
	return m->anon_bytes || m->swap_bytes;
}

enum dump_decision dump_policy_python(const struct pc_mapping *m, bool of_elf)
{
	if (is_always_dumped(m))
		return DUMP_WHOLE;
	if (m->vmflags & (VMF_DONTDUMP | VMF_IO | VMF_PFNMAP))
		return DUMP_NONE;
	if (m->shared)
		return DUMP_NONE;
	if (m->vmflags & VMF_HUGETLB)
		return DUMP_WHOLE;
	if (!mapping_is_file(m))
		return is_written(m) ? DUMP_WHOLE : DUMP_NONE;
	if (!of_elf)
		return DUMP_NONE;
	if (is_written(m))
		return DUMP_WHOLE;
	return m->offset == 0 && m->readable ? DUMP_HEADER_IF_ELF : DUMP_NONE;
}

enum dump_decision dump_decide(enum dump_rules rules, const struct pc_mapping *m,
			       unsigned filter, bool of_elf)
{
	return rules == DUMP_RULES_PYTHON ? dump_policy_python(m, of_elf)
					  : dump_policy(m, filter);
}

static const char *const rule_names[] = {
	[DUMP_RULES_KERNEL] = "kernel",
	[DUMP_RULES_PYTHON] = "python",
};

const char *dump_rules_name(enum dump_rules rules)
{
	return (unsigned)rules < sizeof rule_names / sizeof rule_names[0] ? rule_names[rules] : "?";
}

int dump_rules_parse(const char *name, enum dump_rules *rules)
{
	for (unsigned i = 0; i < sizeof rule_names / sizeof rule_names[0]; i++)
		if (strcmp(name, rule_names[i]) == 0) {
			*rules = (enum dump_rules)i;
			return 0;
		}
	return -1;
}
