/* test_dumppolicy.c — dump_policy(): the kernel's vma_dump_size() rules
 * (fs/coredump.c) over the facts smaps gives, one table row per case; and
 * dump_policy_python(), pycore-capture --filter python. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../gcore/dumppolicy.h"

enum { PRIV = 0, SHARED = 1 };
enum { NOREAD = 0, READ = 1 };

struct row {
	const char *what;
	const char *path;        /* NULL: anonymous */
	uint64_t inode;
	int shared, readable;
	uint64_t offset;
	uint64_t anon_kb, swap_kb;
	unsigned vmflags;
	unsigned filter;
	enum dump_decision want;
};

static const char *decision_name(enum dump_decision d)
{
	switch (d) {
	case DUMP_NONE: return "none";
	case DUMP_WHOLE: return "whole";
	case DUMP_HEADER_IF_ELF: return "header-if-elf";
	}
	return "?";
}

/* rules: DUMP_RULES_PYTHON reads a row's filter as of_elf (0 or 1). */
static void run_rows_under(enum dump_rules rules, const struct row *rows, size_t n)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		struct pc_mapping m;
		enum dump_decision got;

		memset(&m, 0, sizeof m);
		m.start = 0x7f0000000000ull;
		m.end = 0x7f0000010000ull;
		m.path = (char *)r->path;
		m.inode = r->inode;
		m.dev_major = r->inode ? 0xfe : 0;
		m.shared = r->shared;
		m.readable = r->readable;
		m.writable = r->readable;
		m.offset = r->offset;
		m.anon_bytes = r->anon_kb * 1024;
		m.rss_bytes = m.anon_bytes;
		m.swap_bytes = r->swap_kb * 1024;
		m.vmflags = r->vmflags;
		got = rules == DUMP_RULES_PYTHON ? dump_decide(rules, &m, 0x7f, r->filter != 0)
						 : dump_policy(&m, r->filter);
		if (got != r->want) {
			print_error("row %zu (%s, filter %#x): got %s, want %s\n", i, r->what,
				    r->filter, decision_name(got), decision_name(r->want));
			bad++;
		}
	}
	if (bad)
		fail_msg("%d of %zu rows wrong", bad, n);
}

#define ROWS(t) run_rows_under(DUMP_RULES_KERNEL, t, sizeof t / sizeof t[0])
/* Rows of the python rules: the filter column is of_elf. */
#define PYROWS(t) run_rows_under(DUMP_RULES_PYTHON, t, sizeof t / sizeof t[0])
enum { DATA = 0, ELF = 1 };

#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"

static void test_default_filter_is_0x33(void **state)
{
	(void)state;
	assert_int_equal(CDF_DEFAULT, 0x33);
	assert_int_equal(CDF_DEFAULT, CDF_ANON_PRIVATE | CDF_ANON_SHARED | CDF_ELF_HEADERS |
				      CDF_HUGETLB_PRIVATE);
}

static void test_vdso_and_vsyscall_are_always_dumped_whole(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ "vdso, filter 0", "[vdso]", 0, PRIV, READ, 0, 0, 0, 0, 0, DUMP_WHOLE },
		{ "vdso, default", "[vdso]", 0, PRIV, READ, 0, 0, 0, 0, 0x33, DUMP_WHOLE },
		{ "vdso marked dd", "[vdso]", 0, PRIV, READ, 0, 0, 0, VMF_DONTDUMP, 0x33, DUMP_WHOLE },
		{ "vsyscall, filter 0", "[vsyscall]", 0, PRIV, NOREAD, 0, 0, 0, 0, 0, DUMP_WHOLE },
		{ "vsyscall, all bits", "[vsyscall]", 0, PRIV, NOREAD, 0, 0, 0, 0, 0x7f, DUMP_WHOLE },
		/* Only the exact names. */
		{ "file named like vdso", "/tmp/[vdso]", 9, PRIV, READ, 0, 0, 0, 0, 0, DUMP_NONE },
		{ "[vdso] prefix", "[vdso]x", 0, PRIV, READ, 0, 0, 0, 0, 0, DUMP_NONE },
	};
	ROWS(rows);
}

static void test_dontdump_mappings_are_never_dumped(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ "dd written anon", NULL, 0, PRIV, READ, 0, 64, 0, VMF_DONTDUMP, 0x33, DUMP_NONE },
		{ "dd written anon, all bits", NULL, 0, PRIV, READ, 0, 64, 8, VMF_DONTDUMP, 0x7f, DUMP_NONE },
		{ "dd shared file", "/dev/shm/x", 5, SHARED, READ, 0, 0, 0, VMF_DONTDUMP, 0x7f, DUMP_NONE },
		{ "dd shared anon", NULL, 0, SHARED, READ, 0, 0, 0, VMF_DONTDUMP, 0x7f, DUMP_NONE },
		{ "dd private file", LIBC, 77, PRIV, READ, 0, 0, 0, VMF_DONTDUMP, 0x7f, DUMP_NONE },
		{ "dd hugetlb", NULL, 0, PRIV, READ, 0, 0, 0, VMF_DONTDUMP | VMF_HUGETLB, 0x7f, DUMP_NONE },
		{ "dd [vvar]", "[vvar]", 0, PRIV, READ, 0, 0, 0,
		  VMF_DONTDUMP | VMF_IO | VMF_PFNMAP, 0x7f, DUMP_NONE },
	};
	ROWS(rows);
}

static void test_hugetlb_follows_bits_5_and_6(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ "private, bit 5", NULL, 0, PRIV, READ, 0, 2048, 0, VMF_HUGETLB, 0x20, DUMP_WHOLE },
		{ "private, default", NULL, 0, PRIV, READ, 0, 2048, 0, VMF_HUGETLB, 0x33, DUMP_WHOLE },
		{ "private, bit 6 only", NULL, 0, PRIV, READ, 0, 2048, 0, VMF_HUGETLB, 0x40, DUMP_NONE },
		/* Bit 0 does not cover hugetlb pages, even written ones. */
		{ "private, anon bits only", NULL, 0, PRIV, READ, 0, 2048, 0, VMF_HUGETLB, 0x1f, DUMP_NONE },
		{ "shared, bit 6", "/dev/hugepages/x", 3, SHARED, READ, 0, 0, 0, VMF_HUGETLB, 0x40, DUMP_WHOLE },
		{ "shared, default", "/dev/hugepages/x", 3, SHARED, READ, 0, 0, 0, VMF_HUGETLB, 0x33, DUMP_NONE },
		{ "shared, bit 5 only", "/dev/hugepages/x", 3, SHARED, READ, 0, 0, 0, VMF_HUGETLB, 0x20, DUMP_NONE },
		{ "shared, mapped-shared bit", "/dev/hugepages/x", 3, SHARED, READ, 0, 0, 0, VMF_HUGETLB, 0x0a, DUMP_NONE },
		{ "shared anon, both", NULL, 0, SHARED, READ, 0, 0, 0, VMF_HUGETLB, 0x60, DUMP_WHOLE },
		{ "untouched private, bit 5", NULL, 0, PRIV, READ, 0, 0, 0, VMF_HUGETLB, 0x20, DUMP_WHOLE },
	};
	ROWS(rows);
}

static void test_io_and_pfnmap_mappings_are_not_dumped(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ "io shared device", "/dev/mem", 9, SHARED, READ, 0, 0, 0, VMF_IO, 0x7f, DUMP_NONE },
		{ "io private", NULL, 0, PRIV, READ, 0, 64, 0, VMF_IO, 0x7f, DUMP_NONE },
		{ "pfnmap private", "/dev/dri/card0", 12, PRIV, READ, 0, 4, 0, VMF_PFNMAP, 0x7f, DUMP_NONE },
		{ "[vvar] io pf", "[vvar]", 0, PRIV, READ, 0, 0, 0, VMF_IO | VMF_PFNMAP, 0x33, DUMP_NONE },
		/* hugetlb is decided before io */
		{ "io hugetlb", NULL, 0, PRIV, READ, 0, 0, 0, VMF_IO | VMF_HUGETLB, 0x20, DUMP_WHOLE },
	};
	ROWS(rows);
}

static void test_shared_mappings_follow_bits_1_and_3(void **state)
{
	(void)state;
	static const struct row rows[] = {
		/* Anonymous shared memory: bit 1. */
		{ "anon, default", NULL, 0, SHARED, READ, 0, 0, 0, 0, 0x33, DUMP_WHOLE },
		{ "anon, bit 1", NULL, 0, SHARED, READ, 0, 0, 0, 0, 0x02, DUMP_WHOLE },
		{ "anon, no bit 1", NULL, 0, SHARED, READ, 0, 0, 0, 0, 0x3d, DUMP_NONE },
		{ "anon, filter 0", NULL, 0, SHARED, READ, 0, 0, 0, 0, 0, DUMP_NONE },
		{ "/dev/zero (deleted)", "/dev/zero (deleted)", 1055, SHARED, READ, 0, 0, 0, 0, 0x02, DUMP_WHOLE },
		{ "memfd", "/memfd:arena (deleted)", 1029, SHARED, READ, 0, 0, 0, 0, 0x33, DUMP_WHOLE },
		{ "memfd, bit 3 only", "/memfd:arena (deleted)", 1029, SHARED, READ, 0, 0, 0, 0, 0x08, DUMP_NONE },
		{ "SysV shm", "/SYSV0000162e (deleted)", 32769, SHARED, READ, 0, 0, 0, 0, 0x02, DUMP_WHOLE },
		{ "named shared anon", "[anon_shmem:arena]", 2048, SHARED, READ, 0, 0, 0, 0, 0x02, DUMP_WHOLE },
		{ "named shared anon, bit 3", "[anon_shmem:arena]", 2048, SHARED, READ, 0, 0, 0, 0, 0x08, DUMP_NONE },
		{ "deleted file", "/tmp/a b (deleted)", 42, SHARED, READ, 0x2000, 0, 0, 0, 0x02, DUMP_WHOLE },
		/* A shared file with a name: bit 3. */
		{ "file, default", "/dev/shm/seg", 77, SHARED, READ, 0, 0, 0, 0, 0x33, DUMP_NONE },
		{ "file, bit 3", "/dev/shm/seg", 77, SHARED, READ, 0, 0, 0, 0, 0x08, DUMP_WHOLE },
		{ "file, bit 1 only", "/dev/shm/seg", 77, SHARED, READ, 0, 0, 0, 0, 0x02, DUMP_NONE },
		{ "file named deleted", "/tmp/deleted", 78, SHARED, READ, 0, 0, 0, 0, 0x02, DUMP_NONE },
		/* Written shared pages show as Rss, never as Anonymous: the
		 * private-anon rule must not apply. */
		{ "file with anon, bit 0", "/dev/shm/seg", 77, SHARED, READ, 0, 64, 0, 0, 0x01, DUMP_NONE },
		{ "file unreadable, bit 3", "/dev/shm/seg", 77, SHARED, NOREAD, 0x1000, 0, 0, 0, 0x08, DUMP_WHOLE },
	};
	ROWS(rows);
}

static void test_written_private_mappings_follow_bit_0(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ "anon written", NULL, 0, PRIV, READ, 0, 132, 0, 0, 0x33, DUMP_WHOLE },
		{ "anon written, bit 0", NULL, 0, PRIV, READ, 0, 132, 0, 0, 0x01, DUMP_WHOLE },
		{ "anon written, no bit 0", NULL, 0, PRIV, READ, 0, 132, 0, 0, 0x32, DUMP_NONE },
		{ "anon swapped out", NULL, 0, PRIV, READ, 0, 0, 16, 0, 0x01, DUMP_WHOLE },
		{ "heap written", "[heap]", 0, PRIV, READ, 0, 4, 0, 0, 0x33, DUMP_WHOLE },
		{ "stack swapped", "[stack]", 0, PRIV, READ, 0, 0, 4, 0, 0x33, DUMP_WHOLE },
		{ "stack written, filter 0", "[stack]", 0, PRIV, READ, 0, 4, 0, 0, 0, DUMP_NONE },
		/* .data/.bss of a library: written file mapping. */
		{ "file .data written", LIBC, 77, PRIV, READ, 0x1d6000, 8, 0, 0, 0x33, DUMP_WHOLE },
		{ "file .data swapped", LIBC, 77, PRIV, READ, 0x1d6000, 0, 8, 0, 0x01, DUMP_WHOLE },
		/* Without bit 0 a written file mapping falls to the file rules. */
		{ "file .data, bit 2", LIBC, 77, PRIV, READ, 0x1d6000, 8, 0, 0, 0x04, DUMP_WHOLE },
		{ "file .data, bit 4, offset != 0", LIBC, 77, PRIV, READ, 0x1d6000, 8, 0, 0, 0x32, DUMP_NONE },
		{ "file offset 0 written, bit 4", LIBC, 77, PRIV, READ, 0, 8, 0, 0, 0x32, DUMP_HEADER_IF_ELF },
		{ "unreadable written anon", NULL, 0, PRIV, NOREAD, 0, 4, 0, 0, 0x01, DUMP_WHOLE },
	};
	ROWS(rows);
}

static void test_untouched_private_file_mappings_follow_bits_2_and_4(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ "text at 0, default", LIBC, 77, PRIV, READ, 0, 0, 0, 0, 0x33, DUMP_HEADER_IF_ELF },
		{ "text at 0, bit 4", LIBC, 77, PRIV, READ, 0, 0, 0, 0, 0x10, DUMP_HEADER_IF_ELF },
		{ "text at 0, bit 2", LIBC, 77, PRIV, READ, 0, 0, 0, 0, 0x04, DUMP_WHOLE },
		{ "text at 0, bits 2+4", LIBC, 77, PRIV, READ, 0, 0, 0, 0, 0x37, DUMP_WHOLE },
		{ "text at 0, no bit 2/4", LIBC, 77, PRIV, READ, 0, 0, 0, 0, 0x23, DUMP_NONE },
		{ "text at 0, filter 0", LIBC, 77, PRIV, READ, 0, 0, 0, 0, 0, DUMP_NONE },
		{ "text at 0x28000, default", LIBC, 77, PRIV, READ, 0x28000, 0, 0, 0, 0x33, DUMP_NONE },
		{ "text at 0x28000, bit 2", LIBC, 77, PRIV, READ, 0x28000, 0, 0, 0, 0x04, DUMP_WHOLE },
		{ "unreadable at 0, default", LIBC, 77, PRIV, NOREAD, 0, 0, 0, 0, 0x33, DUMP_NONE },
		{ "unreadable at 0, bit 2", LIBC, 77, PRIV, NOREAD, 0, 0, 0, 0, 0x04, DUMP_WHOLE },
		{ "deleted file at 0", "/tmp/x (deleted)", 9, PRIV, READ, 0, 0, 0, 0, 0x33, DUMP_HEADER_IF_ELF },
		/* Without an inode it is not a file. */
		{ "no inode at 0", "/usr/bin/x", 0, PRIV, READ, 0, 0, 0, 0, 0x37, DUMP_NONE },
	};
	ROWS(rows);
}

static void test_untouched_private_anonymous_mappings_are_not_dumped(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ "anon, default", NULL, 0, PRIV, READ, 0, 0, 0, 0, 0x33, DUMP_NONE },
		{ "anon, all bits", NULL, 0, PRIV, READ, 0, 0, 0, 0, 0x7f, DUMP_NONE },
		{ "heap, all bits", "[heap]", 0, PRIV, READ, 0, 0, 0, 0, 0x7f, DUMP_NONE },
		{ "stack guard", "[stack]", 0, PRIV, NOREAD, 0, 0, 0, 0, 0x7f, DUMP_NONE },
		{ "named anon", "[anon:cpython]", 0, PRIV, READ, 0, 0, 0, 0, 0x7f, DUMP_NONE },
		{ "vvar untouched", "[vvar]", 0, PRIV, READ, 0, 0, 0, 0, 0x7f, DUMP_NONE },
	};
	ROWS(rows);
}

static void test_python_rules_keep_private_written_memory(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ "anon written", NULL, 0, PRIV, READ, 0, 132, 0, 0, DATA, DUMP_WHOLE },
		{ "anon swapped out", NULL, 0, PRIV, READ, 0, 0, 16, 0, DATA, DUMP_WHOLE },
		{ "heap", "[heap]", 0, PRIV, READ, 0, 4, 0, 0, DATA, DUMP_WHOLE },
		{ "stack", "[stack]", 0, PRIV, READ, 0, 4, 0, 0, DATA, DUMP_WHOLE },
		{ "named anon", "[anon:cpython]", 0, PRIV, READ, 0, 4, 0, 0, DATA, DUMP_WHOLE },
		{ "anon untouched", NULL, 0, PRIV, READ, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "stack guard", "[stack]", 0, PRIV, NOREAD, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "hugetlb private", NULL, 0, PRIV, READ, 0, 0, 0, VMF_HUGETLB, DATA, DUMP_WHOLE },
		{ "vdso", "[vdso]", 0, PRIV, READ, 0, 0, 0, 0, DATA, DUMP_WHOLE },
		{ "vsyscall", "[vsyscall]", 0, PRIV, NOREAD, 0, 0, 0, 0, DATA, DUMP_WHOLE },
		{ "dd anon", NULL, 0, PRIV, READ, 0, 64, 0, VMF_DONTDUMP, DATA, DUMP_NONE },
		{ "io", NULL, 0, PRIV, READ, 0, 64, 0, VMF_IO, DATA, DUMP_NONE },
		{ "[vvar]", "[vvar]", 0, PRIV, READ, 0, 0, 0, VMF_IO | VMF_PFNMAP, DATA, DUMP_NONE },
	};
	PYROWS(rows);
}

static void test_python_rules_keep_elf_data_and_headers(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ ".data written", LIBC, 77, PRIV, READ, 0x1d6000, 8, 0, 0, ELF, DUMP_WHOLE },
		{ "relro written", LIBC, 77, PRIV, READ, 0x1d2000, 16, 0, 0, ELF, DUMP_WHOLE },
		{ "header page", LIBC, 77, PRIV, READ, 0, 0, 0, 0, ELF, DUMP_HEADER_IF_ELF },
		{ "text untouched", LIBC, 77, PRIV, READ, 0x28000, 0, 0, 0, ELF, DUMP_NONE },
		{ ".data untouched", LIBC, 77, PRIV, READ, 0x1d6000, 0, 0, 0, ELF, DUMP_NONE },
		{ "deleted library .data", "/tmp/x.so (deleted)", 9, PRIV, READ, 0x2000, 4, 0, 0, ELF, DUMP_WHOLE },
		{ "dd .data", LIBC, 77, PRIV, READ, 0x1d6000, 8, 0, VMF_DONTDUMP, ELF, DUMP_NONE },
	};
	PYROWS(rows);
}

static void test_python_rules_drop_shared_and_data_files(void **state)
{
	(void)state;
	static const struct row rows[] = {
		{ "anon shared", NULL, 0, SHARED, READ, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "/dev/zero (deleted)", "/dev/zero (deleted)", 1055, SHARED, READ, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "memfd", "/memfd:arena (deleted)", 1029, SHARED, READ, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "SysV shm", "/SYSV0000162e (deleted)", 32769, SHARED, READ, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "multiprocessing arena", "/dev/shm/pym-1-x (deleted)", 40, SHARED, READ, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "POSIX shm", "/dev/shm/psm_1", 41, SHARED, READ, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "shared file", "/srv/data.bin", 42, SHARED, READ, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "shared hugetlb", "/dev/hugepages/x", 3, SHARED, READ, 0, 0, 0, VMF_HUGETLB, DATA, DUMP_NONE },
		{ "shared ELF", LIBC, 77, SHARED, READ, 0, 0, 0, 0, ELF, DUMP_NONE },
		{ "locale archive", "/usr/lib/locale/locale-archive", 43, PRIV, READ, 0, 0, 0, 0, DATA, DUMP_NONE },
		{ "data file copy, written", "/srv/data.bin", 42, PRIV, READ, 0, 64, 0, 0, DATA, DUMP_NONE },
		{ "data file at 0x1000, written", "/srv/data.bin", 42, PRIV, READ, 0x1000, 4, 0, 0, DATA, DUMP_NONE },
		{ "private memfd, written", "/memfd:x (deleted)", 44, PRIV, READ, 0, 8, 0, 0, DATA, DUMP_NONE },
	};
	PYROWS(rows);
}

static void test_rule_names(void **state)
{
	enum dump_rules r = DUMP_RULES_PYTHON;

	(void)state;
	assert_string_equal(dump_rules_name(DUMP_RULES_KERNEL), "kernel");
	assert_string_equal(dump_rules_name(DUMP_RULES_PYTHON), "python");
	assert_int_equal(dump_rules_parse("kernel", &r), 0);
	assert_int_equal(r, DUMP_RULES_KERNEL);
	assert_int_equal(dump_rules_parse("python", &r), 0);
	assert_int_equal(r, DUMP_RULES_PYTHON);
	assert_int_equal(dump_rules_parse("all", &r), -1);
	assert_int_equal(dump_rules_parse("", &r), -1);
	assert_int_equal(dump_rules_parse("Python", &r), -1);
	/* The kernel rules through dump_decide are dump_policy's. */
	{
		struct pc_mapping m = { .start = 0x1000, .end = 0x2000, .readable = true,
					.shared = true };
		assert_int_equal(dump_decide(DUMP_RULES_KERNEL, &m, 0x33, false), DUMP_WHOLE);
		assert_int_equal(dump_decide(DUMP_RULES_KERNEL, &m, 0x31, false), DUMP_NONE);
		assert_int_equal(dump_decide(DUMP_RULES_PYTHON, &m, 0x33, false), DUMP_NONE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_filter_is_0x33),
		cmocka_unit_test(test_vdso_and_vsyscall_are_always_dumped_whole),
		cmocka_unit_test(test_dontdump_mappings_are_never_dumped),
		cmocka_unit_test(test_hugetlb_follows_bits_5_and_6),
		cmocka_unit_test(test_io_and_pfnmap_mappings_are_not_dumped),
		cmocka_unit_test(test_shared_mappings_follow_bits_1_and_3),
		cmocka_unit_test(test_written_private_mappings_follow_bit_0),
		cmocka_unit_test(test_untouched_private_file_mappings_follow_bits_2_and_4),
		cmocka_unit_test(test_untouched_private_anonymous_mappings_are_not_dumped),
		cmocka_unit_test(test_python_rules_keep_private_written_memory),
		cmocka_unit_test(test_python_rules_keep_elf_data_and_headers),
		cmocka_unit_test(test_python_rules_drop_shared_and_data_files),
		cmocka_unit_test(test_rule_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
