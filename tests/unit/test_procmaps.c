/* test_procmaps.c — procmaps_parse() on fixed smaps/maps text, the
 * /proc/PID/stat and status parsers, and mapping_is_file(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../common/error.h"
#include "../../gcore/procfs.h"
#include "../../gcore/procmaps.h"

/* The per-mapping lines of a real smaps entry (kernel 6.x), with the three
 * fields we keep as printf arguments: Rss, Anonymous, Swap (kB). */
#define SMAPS_FIELDS(rss, anon, swap)                         \
	"Size:                  8 kB\n"                       \
	"KernelPageSize:        4 kB\n"                       \
	"MMUPageSize:           4 kB\n"                       \
	"Rss:                   " #rss " kB\n"                \
	"Pss:                   4 kB\n"                       \
	"Pss_Dirty:             0 kB\n"                       \
	"Shared_Clean:          0 kB\n"                       \
	"Shared_Dirty:          0 kB\n"                       \
	"Private_Clean:         8 kB\n"                       \
	"Private_Dirty:         0 kB\n"                       \
	"Referenced:            8 kB\n"                       \
	"Anonymous:             " #anon " kB\n"               \
	"KSM:                   0 kB\n"                       \
	"LazyFree:              0 kB\n"                       \
	"AnonHugePages:      2048 kB\n"                       \
	"ShmemPmdMapped:        0 kB\n"                       \
	"FilePmdMapped:         0 kB\n"                       \
	"Shared_Hugetlb:        0 kB\n"                       \
	"Private_Hugetlb:       0 kB\n"                       \
	"Swap:                  " #swap " kB\n"               \
	"SwapPss:             999 kB\n"                       \
	"Locked:                0 kB\n"                       \
	"THPeligible:           0\n"

static void parse_ok(const char *text, struct pc_maplist *l)
{
	pc_clear_error();
	assert_int_equal(procmaps_parse(text, l), 0);
}

/* ------------------------------------------------------------------ */
/* procmaps_parse: headers                                             */

static void test_smaps_anonymous_mapping_has_null_path(void **state)
{
	(void)state;
	struct pc_maplist l;
	parse_ok("7f3a1c000000-7f3a1c021000 rw-p 00000000 00:00 0 \n"
		 SMAPS_FIELDS(132, 132, 0)
		 "VmFlags: rd wr mr mw me nr sd \n", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].start, 0x7f3a1c000000ull);
	assert_int_equal(l.v[0].end, 0x7f3a1c021000ull);
	assert_null(l.v[0].path);
	assert_int_equal(l.v[0].offset, 0);
	assert_int_equal(l.v[0].dev_major, 0);
	assert_int_equal(l.v[0].dev_minor, 0);
	assert_int_equal(l.v[0].inode, 0);
	assert_true(l.v[0].readable);
	assert_true(l.v[0].writable);
	assert_false(l.v[0].executable);
	assert_false(l.v[0].shared);
	assert_false(mapping_is_file(&l.v[0]));
	procmaps_free(&l);
}

static void test_smaps_file_mapping_keeps_offset_dev_and_inode(void **state)
{
	(void)state;
	struct pc_maplist l;
	parse_ok("55dca4cc6000-55dca4ccb000 r-xp 0002a000 fe:1c 247134"
		 "                     /usr/bin/python3.11\n"
		 SMAPS_FIELDS(20, 0, 0)
		 "VmFlags: rd ex mr mw me \n", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].start, 0x55dca4cc6000ull);
	assert_int_equal(l.v[0].end, 0x55dca4ccb000ull);
	assert_int_equal(l.v[0].offset, 0x2a000);
	assert_int_equal(l.v[0].dev_major, 0xfe);
	assert_int_equal(l.v[0].dev_minor, 0x1c);
	assert_int_equal(l.v[0].inode, 247134);
	assert_string_equal(l.v[0].path, "/usr/bin/python3.11");
	assert_true(l.v[0].readable);
	assert_false(l.v[0].writable);
	assert_true(l.v[0].executable);
	assert_false(l.v[0].shared);
	assert_int_equal(l.v[0].vmflags, 0);
	procmaps_free(&l);
}

static void test_maps_shared_mapping_sets_shared_and_no_other_permission(void **state)
{
	(void)state;
	struct pc_maplist l;
	parse_ok("7f0000000000-7f0000100000 ---s 00000000 00:01 1055"
		 "                       /dev/zero (deleted)\n", &l);
	assert_int_equal(l.n, 1);
	assert_false(l.v[0].readable);
	assert_false(l.v[0].writable);
	assert_false(l.v[0].executable);
	assert_true(l.v[0].shared);
	assert_string_equal(l.v[0].path, "/dev/zero (deleted)");
	procmaps_free(&l);
}

struct special_case {
	const char *line;
	uint64_t start, end;
	const char *path;
	bool r, w, x;
};

static void test_maps_special_names_are_kept_as_paths(void **state)
{
	(void)state;
	static const struct special_case cases[] = {
		{ "5581e3f0a000-5581e3f2b000 rw-p 00000000 00:00 0"
		  "                          [heap]",
		  0x5581e3f0a000ull, 0x5581e3f2b000ull, "[heap]", 1, 1, 0 },
		{ "7ffd5e4b5000-7ffd5e4d6000 rw-p 00000000 00:00 0"
		  "                          [stack]",
		  0x7ffd5e4b5000ull, 0x7ffd5e4d6000ull, "[stack]", 1, 1, 0 },
		{ "7ffd5e5e9000-7ffd5e5eb000 r-xp 00000000 00:00 0"
		  "                          [vdso]",
		  0x7ffd5e5e9000ull, 0x7ffd5e5eb000ull, "[vdso]", 1, 0, 1 },
		{ "7ffd5e5e5000-7ffd5e5e9000 r--p 00000000 00:00 0"
		  "                          [vvar]",
		  0x7ffd5e5e5000ull, 0x7ffd5e5e9000ull, "[vvar]", 1, 0, 0 },
		{ "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
		  "                  [vsyscall]",
		  0xffffffffff600000ull, 0xffffffffff601000ull, "[vsyscall]", 0, 0, 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[256];
		struct pc_maplist l;
		snprintf(text, sizeof text, "%s\n", cases[i].line);
		parse_ok(text, &l);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.v[0].start, cases[i].start);
		assert_int_equal(l.v[0].end, cases[i].end);
		assert_non_null(l.v[0].path);
		assert_string_equal(l.v[0].path, cases[i].path);
		assert_int_equal(l.v[0].readable, cases[i].r);
		assert_int_equal(l.v[0].writable, cases[i].w);
		assert_int_equal(l.v[0].executable, cases[i].x);
		assert_false(mapping_is_file(&l.v[0]));
		procmaps_free(&l);
	}
}

static void test_maps_line_with_spaces_in_path_keeps_the_whole_path(void **state)
{
	(void)state;
	struct pc_maplist l;
	parse_ok("7f1200000000-7f1200001000 r--p 00003000 08:02 42"
		 "                         /tmp/my dir/lib  two.so (deleted)\n"
		 "7f1200001000-7f1200002000 r--p 00000000 08:02 43"
		 "                         /opt/x y/trailing \n", &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].path, "/tmp/my dir/lib  two.so (deleted)");
	assert_int_equal(l.v[0].offset, 0x3000);
	assert_int_equal(l.v[0].inode, 42);
	/* A file name may itself end in a space: only the newline ends it. */
	assert_string_equal(l.v[1].path, "/opt/x y/trailing ");
	procmaps_free(&l);
}

/* ------------------------------------------------------------------ */
/* procmaps_parse: per-mapping fields                                  */

static void test_smaps_rss_anonymous_and_swap_are_converted_from_kb_to_bytes(void **state)
{
	(void)state;
	struct pc_maplist l;
	parse_ok("7f3a1c000000-7f3a1c400000 rw-p 00000000 00:00 0 \n"
		 SMAPS_FIELDS(1500, 1200, 37)
		 "VmFlags: rd wr mr mw me ac sd \n", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].rss_bytes, 1500ull * 1024);
	assert_int_equal(l.v[0].anon_bytes, 1200ull * 1024);
	/* SwapPss (999 kB) and AnonHugePages must not be taken for Swap or
	 * Anonymous. */
	assert_int_equal(l.v[0].swap_bytes, 37ull * 1024);
	procmaps_free(&l);
}

static void test_smaps_fields_belong_to_the_mapping_above_them(void **state)
{
	(void)state;
	struct pc_maplist l;
	parse_ok("00400000-00401000 r--p 00000000 fe:00 11 /usr/bin/a\n"
		 SMAPS_FIELDS(4, 0, 0)
		 "VmFlags: rd mr mw me dw \n"
		 "00600000-00700000 rw-p 00000000 00:00 0 \n"
		 SMAPS_FIELDS(64, 60, 8)
		 "VmFlags: rd wr mr mw me dd ac \n"
		 "00800000-00801000 rw-s 00000000 00:05 77 /dev/shm/seg\n"
		 SMAPS_FIELDS(0, 0, 0)
		 "VmFlags: rd wr sh mr mw me ms io pf \n", &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[0].rss_bytes, 4096);
	assert_int_equal(l.v[0].anon_bytes, 0);
	assert_int_equal(l.v[0].vmflags, 0);
	assert_int_equal(l.v[1].rss_bytes, 64 * 1024);
	assert_int_equal(l.v[1].anon_bytes, 60 * 1024);
	assert_int_equal(l.v[1].swap_bytes, 8 * 1024);
	assert_int_equal(l.v[1].vmflags, VMF_DONTDUMP);
	assert_int_equal(l.v[2].rss_bytes, 0);
	assert_int_equal(l.v[2].vmflags, VMF_IO | VMF_PFNMAP);
	assert_true(l.v[2].shared);
	assert_string_equal(l.v[2].path, "/dev/shm/seg");
	procmaps_free(&l);
}

struct vmflags_case {
	const char *line;    /* the whole VmFlags line, without newline */
	unsigned want;
};

static void test_smaps_vmflags_are_mapped_to_vmf_bits(void **state)
{
	(void)state;
	static const struct vmflags_case cases[] = {
		{ "VmFlags: rd wr mr mw me ac sd ", 0 },
		{ "VmFlags: rd wr mr mw me dd sd ", VMF_DONTDUMP },
		{ "VmFlags: dd", VMF_DONTDUMP },                  /* first and last */
		{ "VmFlags: rd wr mr mw me dd", VMF_DONTDUMP },   /* last, no space */
		{ "VmFlags: rd wr sh mr mw me ms io", VMF_IO },
		{ "VmFlags: rd wr sh mr mw me ms ht sd ", VMF_HUGETLB },
		{ "VmFlags: rd pf io de dd ", VMF_PFNMAP | VMF_IO | VMF_DONTDUMP },
		{ "VmFlags: io ht pf dd", VMF_IO | VMF_HUGETLB | VMF_PFNMAP | VMF_DONTDUMP },
		{ "VmFlags: rd wr mr mw me ac wf ", VMF_WIPEONFORK },   /* MADV_WIPEONFORK */
		{ "VmFlags: rd wr mr mw me dc ", 0 },                   /* MADV_DONTFORK: no bit */
		/* Longer or shorter words that merely contain a flag. */
		{ "VmFlags: rd ddx mdd d ", 0 },
		{ "VmFlags: iox pfx htt xht ", 0 },
		{ "VmFlags: ", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[512];
		struct pc_maplist l;
		snprintf(text, sizeof text,
			 "7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n"
			 "Rss:                   4 kB\n%s\n", cases[i].line);
		parse_ok(text, &l);
		assert_int_equal(l.n, 1);
		if (l.v[0].vmflags != cases[i].want)
			fail_msg("\"%s\": got vmflags %#x, want %#x", cases[i].line,
				 l.v[0].vmflags, cases[i].want);
		assert_int_equal(l.v[0].rss_bytes, 4096);
		procmaps_free(&l);
	}
}

/* ------------------------------------------------------------------ */
/* procmaps_parse: plain maps, edge cases, errors                      */

static void test_plain_maps_text_without_fields_gives_every_mapping(void **state)
{
	(void)state;
	struct pc_maplist l;
	parse_ok("55dca4cc4000-55dca4cc6000 r--p 00000000 fe:00 247134                     /usr/bin/cat\n"
		 "55dca4cc6000-55dca4ccb000 r-xp 00002000 fe:00 247134                     /usr/bin/cat\n"
		 "55dca5f36000-55dca5f57000 rw-p 00000000 00:00 0                          [heap]\n"
		 "7f5d8c400000-7f5d8c6e9000 r--p 00000000 fe:00 263543                     /usr/lib/locale/locale-archive\n"
		 "7f5d8c7e7000-7f5d8c7ea000 rw-p 00000000 00:00 0 \n"
		 "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n",
		 &l);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.v[0].path, "/usr/bin/cat");
	assert_int_equal(l.v[0].offset, 0);
	assert_int_equal(l.v[1].offset, 0x2000);
	assert_true(l.v[1].executable);
	assert_string_equal(l.v[2].path, "[heap]");
	assert_string_equal(l.v[3].path, "/usr/lib/locale/locale-archive");
	assert_int_equal(l.v[3].inode, 263543);
	assert_null(l.v[4].path);
	assert_int_equal(l.v[4].start, 0x7f5d8c7e7000ull);
	assert_string_equal(l.v[5].path, "[vsyscall]");
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.v[i].rss_bytes, 0);
		assert_int_equal(l.v[i].anon_bytes, 0);
		assert_int_equal(l.v[i].swap_bytes, 0);
		assert_int_equal(l.v[i].vmflags, 0);
	}
	procmaps_free(&l);
}

static void test_maps_last_line_without_newline_or_trailing_space_is_parsed(void **state)
{
	(void)state;
	struct pc_maplist l;
	parse_ok("00400000-00401000 r--p 00000000 fe:00 11 /usr/bin/a\n"
		 "7f0000000000-7f0000002000 rw-p 00000000 00:00 0", &l);
	assert_int_equal(l.n, 2);
	assert_null(l.v[1].path);
	assert_int_equal(l.v[1].end, 0x7f0000002000ull);
	procmaps_free(&l);

	parse_ok("00400000-00401000 r--p 00000000 fe:00 11 /usr/bin/a", &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].path, "/usr/bin/a");
	procmaps_free(&l);
}

static void test_maps_anonymous_line_does_not_take_the_next_line_as_its_path(void **state)
{
	(void)state;
	struct pc_maplist l;
	/* No trailing space after the inode: the path must not be found on the
	 * following line. */
	parse_ok("7f0000000000-7f0000002000 rw-p 00000000 00:00 0\n"
		 "7f0000002000-7f0000003000 r--p 00000000 fe:00 9 /lib/b.so\n", &l);
	assert_int_equal(l.n, 2);
	assert_null(l.v[0].path);
	assert_string_equal(l.v[1].path, "/lib/b.so");
	procmaps_free(&l);
}

static void test_empty_text_gives_no_mappings(void **state)
{
	(void)state;
	struct pc_maplist l = { (struct pc_mapping *)&l, 99 };
	parse_ok("", &l);
	assert_int_equal(l.n, 0);
	procmaps_free(&l);
}

static void test_many_mappings_keep_their_order(void **state)
{
	(void)state;
	/* More than the parser's first allocation (64), so the array grows. */
	enum { N = 300 };
	char *text = malloc(N * 160), *p = text;
	struct pc_maplist l;

	for (int i = 0; i < N; i++)
		p += sprintf(p, "%llx-%llx rw-p %08x 00:00 %d /f%d\nRss: %d kB\n",
			     0x10000000ull + i * 0x1000ull, 0x10001000ull + i * 0x1000ull,
			     i * 0x1000, i + 1, i, i);
	parse_ok(text, &l);
	free(text);
	assert_int_equal(l.n, N);
	for (int i = 0; i < N; i++) {
		char want[16];
		snprintf(want, sizeof want, "/f%d", i);
		assert_int_equal(l.v[i].start, 0x10000000ull + i * 0x1000ull);
		assert_int_equal(l.v[i].offset, (uint64_t)i * 0x1000);
		assert_int_equal(l.v[i].inode, (uint64_t)i + 1);
		assert_int_equal(l.v[i].rss_bytes, (uint64_t)i * 1024);
		assert_string_equal(l.v[i].path, want);
	}
	procmaps_free(&l);
}

/* Found while writing these tests: parse_header() runs sscanf() on the
 * rest of the whole text for every line, and glibc's sscanf() first takes
 * strlen() of its input, so parsing is quadratic in the size of smaps:
 * 8000 mappings took 6 s of CPU here, with the target stopped all along.
 * Linear parsing of 5000 takes about 15 ms; allow half a second of CPU
 * (process CPU time, so that a loaded machine does not make it fail). */
static void test_smaps_of_thousands_of_mappings_parses_in_linear_time(void **state)
{
	(void)state;
	enum { N = 5000 };
	static const char entry[] = SMAPS_FIELDS(8, 4, 0) "VmFlags: rd mr mw me \n";
	char *text = malloc(N * (sizeof entry + 128)), *p = text;
	struct timespec a, b;
	struct pc_maplist l;
	double secs;

	assert_non_null(text);
	for (int i = 0; i < N; i++)
		p += sprintf(p, "%llx-%llx r--p 00000000 fe:00 %d /usr/lib/python3/lib%d.so\n%s",
			     0x7f0000000000ull + i * 0x2000ull, 0x7f0000001000ull + i * 0x2000ull,
			     1000 + i, i, entry);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	parse_ok(text, &l);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	free(text);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_int_equal(l.n, N);
	assert_int_equal(l.v[N - 1].anon_bytes, 4096);
	assert_string_equal(l.v[N - 1].path, "/usr/lib/python3/lib4999.so");
	procmaps_free(&l);
	if (secs > 0.5)
		fail_msg("%d mappings took %.2f s of CPU to parse", N, secs);
}

static void test_malformed_first_line_is_a_format_error(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"Rss:                   4 kB\n",
		"hello world\n00400000-00401000 r--p 00000000 fe:00 11 /usr/bin/a\n",
		"00400000 r--p 00000000 fe:00 11 /usr/bin/a\n",          /* no end */
		"00401000-00400000 r--p 00000000 fe:00 11 /usr/bin/a\n", /* end < start */
		"00400000-00400000 r--p 00000000 fe:00 11 /usr/bin/a\n", /* empty */
		"00400000-00401000 r--p 00000000 fe:00\n",               /* no inode */
		"00400000-00401000 rp 00000000 fe:00 11 /usr/bin/a\n",   /* perms */
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct pc_maplist l;
		pc_clear_error();
		if (procmaps_parse(texts[i], &l) != -1)
			fail_msg("accepted: %s", texts[i]);
		assert_int_equal(pc_errcode(), PC_EFORMAT);
		assert_null(l.v);
		assert_int_equal(l.n, 0);
	}
}

/* ------------------------------------------------------------------ */
/* mapping_is_file                                                     */

struct isfile_case {
	const char *path;
	uint64_t inode;
	bool want;
};

static void test_mapping_is_file_only_for_named_files_with_an_inode(void **state)
{
	(void)state;
	static const struct isfile_case cases[] = {
		{ NULL, 0, false },
		{ NULL, 1234, false },
		{ "[heap]", 0, false },
		{ "[stack]", 0, false },
		{ "[vdso]", 0, false },
		{ "[anon:python]", 0, false },
		{ "anon_inode:[perf_event]", 7, false },
		{ "/usr/lib/x86_64-linux-gnu/libc.so.6", 263543, true },
		{ "/tmp/a b (deleted)", 42, true },
		{ "/memfd:arena (deleted)", 1029, true },
		{ "/usr/bin/python3", 0, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pc_mapping m;
		memset(&m, 0, sizeof m);
		m.start = 0x1000;
		m.end = 0x2000;
		m.path = (char *)cases[i].path;
		m.inode = cases[i].inode;
		if (mapping_is_file(&m) != cases[i].want)
			fail_msg("path %s inode %llu: want %d", cases[i].path ? cases[i].path : "NULL",
				 (unsigned long long)cases[i].inode, cases[i].want);
	}
}

struct anon_case {
	const char *path;
	uint64_t inode;
	bool shared, want;
};

/* Only private memory of no file may be skipped where it was never
 * populated: a file's or a shared object's pages can hold data that this
 * process's page tables never saw. */
static void test_anon_private_is_private_memory_of_no_file(void **state)
{
	(void)state;
	static const struct anon_case cases[] = {
		{ NULL, 0, false, true },
		{ "[heap]", 0, false, true },
		{ "[stack]", 0, false, true },
		{ "[anon:python]", 0, false, true },
		{ NULL, 0, true, false },              /* shared anonymous: shmem */
		{ "[vdso]", 0, false, false },
		{ "[vvar]", 0, false, false },
		{ "/usr/lib/x86_64-linux-gnu/libc.so.6", 263543, false, false },
		{ "/memfd:arena (deleted)", 1029, false, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pc_mapping m;
		memset(&m, 0, sizeof m);
		m.start = 0x1000;
		m.end = 0x2000;
		m.path = (char *)cases[i].path;
		m.inode = cases[i].inode;
		m.shared = cases[i].shared;
		if (mapping_is_anon_private(&m) != cases[i].want)
			fail_msg("path %s shared %d: want %d", cases[i].path ? cases[i].path : "NULL",
				 cases[i].shared, cases[i].want);
	}
}

/* ------------------------------------------------------------------ */
/* procfs_parse_stat                                                   */

/* A 52-field stat line; every field before starttime has a distinct value
 * so that reading the wrong column shows. */
#define STAT_TAIL                                                        \
	" S 4567 890 891 34816 892 4194560 1111 2222 33 44 555 66 77 88 15" \
	" -5 3 0 98765432 3133440 390 18446744073709551615 94488469311488"  \
	" 94488469331369 140721012149152 0 0 0 0 0 0 0 0 0 17 2 0 0 0 0 0"  \
	" 94488469347376 94488469348992 94489001480192 140721012157065"     \
	" 140721012157085 140721012157085 140721012158443 0\n"

static void check_stat_numbers(const struct pc_procstat *st)
{
	assert_int_equal(st->state, 'S');
	assert_int_equal(st->ppid, 4567);
	assert_int_equal(st->pgrp, 890);
	assert_int_equal(st->session, 891);
	assert_int_equal(st->flags, 4194560);
	assert_int_equal(st->utime, 555);
	assert_int_equal(st->stime, 66);
	assert_int_equal(st->cutime, 77);
	assert_int_equal(st->cstime, 88);
	assert_int_equal(st->nice, -5);
	assert_int_equal(st->starttime, 98765432);
}

static void test_stat_comm_with_spaces_and_parentheses_ends_at_the_last_paren(void **state)
{
	(void)state;
	struct pc_procstat st;
	memset(&st, 0x55, sizeof st);
	assert_int_equal(procfs_parse_stat("123 (a) b (c))" STAT_TAIL, &st), 0);
	assert_string_equal(st.comm, "a) b (c)");
	check_stat_numbers(&st);
}

static void test_stat_comm_that_looks_like_fields_is_not_split(void **state)
{
	(void)state;
	struct pc_procstat st;
	assert_int_equal(procfs_parse_stat("42 (x) R 9 9 9)" STAT_TAIL, &st), 0);
	assert_string_equal(st.comm, "x) R 9 9 9");
	check_stat_numbers(&st);
}

static void test_stat_plain_comm_and_empty_comm(void **state)
{
	(void)state;
	struct pc_procstat st;
	assert_int_equal(procfs_parse_stat("13732 (python3.11)" STAT_TAIL, &st), 0);
	assert_string_equal(st.comm, "python3.11");
	check_stat_numbers(&st);
	assert_int_equal(procfs_parse_stat("7 ()" STAT_TAIL, &st), 0);
	assert_string_equal(st.comm, "");
	check_stat_numbers(&st);
}

static void test_stat_long_comm_is_truncated_to_fifteen_bytes(void **state)
{
	(void)state;
	struct pc_procstat st;
	assert_int_equal(procfs_parse_stat("5 (0123456789abcdefXYZ)" STAT_TAIL, &st), 0);
	assert_string_equal(st.comm, "0123456789abcde");
	check_stat_numbers(&st);
}

static void test_stat_malformed_lines_are_format_errors(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"",
		"123 python S 1 2 3\n",                 /* no parentheses */
		"123 (python S 1 2 3\n",                /* no closing one */
		"123 )python( S 1 2 3\n",               /* reversed */
		"123 (python) S 1 2 3 4 5 6 7 8 9\n",   /* too few fields */
		"123 (python) S x 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct pc_procstat st;
		pc_clear_error();
		if (procfs_parse_stat(texts[i], &st) != -1)
			fail_msg("accepted: %s", texts[i]);
		assert_int_equal(pc_errcode(), PC_EFORMAT);
	}
}

/* ------------------------------------------------------------------ */
/* procfs_status_hex / procfs_status_dec                               */

static const char status_text[] =
	"Name:\tpython3\n"
	"Umask:\t0022\n"
	"State:\tS (sleeping)\n"
	"Tgid:\t4242\n"
	"Ngid:\t0\n"
	"Pid:\t4242\n"
	"PPid:\t17\n"
	"TracerPid:\t31337\n"
	"Uid:\t1000\t1001\t1002\t1003\n"
	"Gid:\t100\t100\t100\t100\n"
	"FDSize:\t64\n"
	"VmPeak:\t  123456 kB\n"
	"Threads:\t3\n"
	"SigQ:\t0/63414\n"
	"SigPnd:\t0000000000000100\n"
	"ShdPnd:\t0000000000004000\n"
	"SigBlk:\tfffffffe7ffbfeff\n"
	"SigIgn:\t0000000001001000\n"
	"SigCgt:\t00000001800004ec\n"
	"NoNewPrivs:\t-1";

struct hex_case {
	const char *key;
	int rc;
	uint64_t want;
};

static void test_status_hex_reads_the_named_key(void **state)
{
	(void)state;
	static const struct hex_case cases[] = {
		{ "SigPnd", 0, 0x100 },
		{ "ShdPnd", 0, 0x4000 },
		{ "SigBlk", 0, 0xfffffffe7ffbfeffull },
		{ "SigCgt", 0, 0x1800004ecull },
		{ "Umask", 0, 0x22 },
		{ "Sig", -1, 0 },          /* a prefix of several keys */
		{ "Pnd", -1, 0 },          /* a suffix */
		{ "sigpnd", -1, 0 },       /* case matters */
		{ "CapEff", -1, 0 },       /* absent */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t v = 0xdeadbeef;
		int rc = procfs_status_hex(status_text, cases[i].key, &v);
		if (rc != cases[i].rc)
			fail_msg("key %s: rc %d, want %d", cases[i].key, rc, cases[i].rc);
		if (rc == 0 && v != cases[i].want)
			fail_msg("key %s: %#llx, want %#llx", cases[i].key,
				 (unsigned long long)v, (unsigned long long)cases[i].want);
		if (rc != 0)
			assert_int_equal(v, 0xdeadbeef);    /* left alone */
	}
}

struct dec_case {
	const char *key;
	int rc;
	long want;
};

static void test_status_dec_reads_the_named_key_not_one_ending_like_it(void **state)
{
	(void)state;
	static const struct dec_case cases[] = {
		{ "Pid", 0, 4242 },        /* not PPid, not TracerPid */
		{ "PPid", 0, 17 },
		{ "TracerPid", 0, 31337 },
		{ "Uid", 0, 1000 },        /* the real uid: the first column */
		{ "Gid", 0, 100 },
		{ "Threads", 0, 3 },
		{ "Name", 0, 0 },          /* not a number */
		{ "NoNewPrivs", 0, -1 },   /* last line, no newline */
		{ "id", -1, 0 },
		{ "Tracer", -1, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long v = 777;
		int rc = procfs_status_dec(status_text, cases[i].key, &v);
		if (rc != cases[i].rc)
			fail_msg("key %s: rc %d, want %d", cases[i].key, rc, cases[i].rc);
		if (rc == 0 && v != cases[i].want)
			fail_msg("key %s: %ld, want %ld", cases[i].key, v, cases[i].want);
		if (rc != 0)
			assert_int_equal(v, 777);
	}
}

static void test_status_key_inside_a_value_is_not_matched(void **state)
{
	(void)state;
	long v = 0;
	assert_int_equal(procfs_status_dec("Name:\tPid: 5\nPid:\t7\n", "Pid", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(procfs_status_dec("Name:\tPid: 5\n", "Pid", &v), -1);
	assert_int_equal(procfs_status_dec("", "Pid", &v), -1);
}

/* NSpid and its kind list one id per pid namespace, the process's own last. */
static void test_status_last_takes_the_id_in_the_innermost_namespace(void **state)
{
	(void)state;
	const char *status = "Pid:\t4242\nNSpid:\t4242\t17\t1\nNSpgid:\t4240\t0\n"
			     "NSsid:\t9\n";
	long v = 0;
	int depth = 0;

	assert_int_equal(procfs_status_last(status, "NSpid", &v, &depth), 0);
	assert_int_equal(v, 1);
	assert_int_equal(depth, 3);
	assert_int_equal(procfs_status_last(status, "NSpgid", &v, &depth), 0);
	assert_int_equal(v, 0);
	assert_int_equal(depth, 2);
	assert_int_equal(procfs_status_last(status, "NSsid", &v, NULL), 0);
	assert_int_equal(v, 9);
	assert_int_equal(procfs_status_last(status, "NStgid", &v, NULL), -1);
	assert_int_equal(procfs_status_last("NSpid:\t\nPid:\t5\n", "NSpid", &v, NULL), -1);
}

/* Paths seen from outside a chroot become the process's own; paths that
 * are not under its root, and the root "/", change nothing. */
static void test_unroot_cuts_the_process_root_off_file_paths_only(void **state)
{
	(void)state;
	struct pc_maplist l;

	parse_ok("1000-2000 r--p 00000000 fe:01 11 /srv/r/opt/py/bin/python3.13\n"
		 "2000-3000 r--p 00000000 fe:01 12 /srv/rx/lib/libc.so.6\n"
		 "3000-4000 r--p 00000000 fe:01 13 /srv/r\n"
		 "4000-5000 rw-p 00000000 00:00 0 [heap]\n"
		 "5000-6000 r--p 00000000 fe:01 14 /usr/lib/libm.so.6\n", &l);
	procmaps_unroot(&l, "/srv/r");
	assert_string_equal(l.v[0].path, "/opt/py/bin/python3.13");
	assert_string_equal(l.v[1].path, "/srv/rx/lib/libc.so.6");
	assert_string_equal(l.v[2].path, "/srv/r");
	assert_string_equal(l.v[3].path, "[heap]");
	assert_string_equal(l.v[4].path, "/usr/lib/libm.so.6");
	procmaps_unroot(&l, "/");
	assert_string_equal(l.v[0].path, "/opt/py/bin/python3.13");
	procmaps_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smaps_anonymous_mapping_has_null_path),
		cmocka_unit_test(test_smaps_file_mapping_keeps_offset_dev_and_inode),
		cmocka_unit_test(test_maps_shared_mapping_sets_shared_and_no_other_permission),
		cmocka_unit_test(test_maps_special_names_are_kept_as_paths),
		cmocka_unit_test(test_maps_line_with_spaces_in_path_keeps_the_whole_path),
		cmocka_unit_test(test_smaps_rss_anonymous_and_swap_are_converted_from_kb_to_bytes),
		cmocka_unit_test(test_smaps_fields_belong_to_the_mapping_above_them),
		cmocka_unit_test(test_smaps_vmflags_are_mapped_to_vmf_bits),
		cmocka_unit_test(test_plain_maps_text_without_fields_gives_every_mapping),
		cmocka_unit_test(test_maps_last_line_without_newline_or_trailing_space_is_parsed),
		cmocka_unit_test(test_maps_anonymous_line_does_not_take_the_next_line_as_its_path),
		cmocka_unit_test(test_empty_text_gives_no_mappings),
		cmocka_unit_test(test_many_mappings_keep_their_order),
		cmocka_unit_test(test_smaps_of_thousands_of_mappings_parses_in_linear_time),
		cmocka_unit_test(test_malformed_first_line_is_a_format_error),
		cmocka_unit_test(test_mapping_is_file_only_for_named_files_with_an_inode),
		cmocka_unit_test(test_anon_private_is_private_memory_of_no_file),
		cmocka_unit_test(test_stat_comm_with_spaces_and_parentheses_ends_at_the_last_paren),
		cmocka_unit_test(test_stat_comm_that_looks_like_fields_is_not_split),
		cmocka_unit_test(test_stat_plain_comm_and_empty_comm),
		cmocka_unit_test(test_stat_long_comm_is_truncated_to_fifteen_bytes),
		cmocka_unit_test(test_stat_malformed_lines_are_format_errors),
		cmocka_unit_test(test_status_hex_reads_the_named_key),
		cmocka_unit_test(test_status_dec_reads_the_named_key_not_one_ending_like_it),
		cmocka_unit_test(test_status_key_inside_a_value_is_not_matched),
		cmocka_unit_test(test_status_last_takes_the_id_in_the_innermost_namespace),
		cmocka_unit_test(test_unroot_cuts_the_process_root_off_file_paths_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
