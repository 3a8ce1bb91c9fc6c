/* test_elfnote.c — ELF note encoding (elfnote.c), the NT_FILE and PYCORE
 * modules payloads (corenotes.c) and the pc_bytes buffer, byte by byte. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/error.h"
#include "../../common/pycore_note.h"
#include "../../gcore/corenotes.h"
#include "../../gcore/elfnote.h"

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* note_size / notes_add                                               */

struct size_case {
	const char *name;
	size_t desclen, want;
};

static void test_note_size_pads_name_and_desc_to_four(void **state)
{
	(void)state;
	static const struct size_case cases[] = {
		{ "", 0, 12 + 4 },
		{ "ABC", 0, 12 + 4 },           /* "ABC\0" fits exactly */
		{ "GNU", 16, 12 + 4 + 16 },
		{ "GNU", 20, 12 + 4 + 20 },
		{ "CORE", 0, 12 + 8 },          /* "CORE\0" needs 5 → 8 */
		{ "CORE", 1, 12 + 8 + 4 },
		{ "CORE", 3, 12 + 8 + 4 },
		{ "CORE", 4, 12 + 8 + 4 },
		{ "CORE", 5, 12 + 8 + 8 },
		{ "LINUX", 5, 12 + 8 + 8 },
		{ "PYCORE", 8, 12 + 8 + 8 },
		{ "ABCDEFG", 0, 12 + 8 },       /* 8 with the NUL */
		{ "ABCDEFGH", 0, 12 + 12 },     /* 9 → 12 */
		{ "CORE", 336, 12 + 8 + 336 },  /* NT_PRSTATUS */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (note_size(cases[i].name, cases[i].desclen) != cases[i].want)
			fail_msg("note_size(\"%s\", %zu) = %zu, want %zu", cases[i].name,
				 cases[i].desclen, note_size(cases[i].name, cases[i].desclen),
				 cases[i].want);
}

static void check_nhdr(const uint8_t *p, uint32_t namesz, uint32_t descsz, uint32_t type)
{
	Elf64_Nhdr h;
	memcpy(&h, p, sizeof h);
	assert_int_equal(sizeof h, 12);
	assert_int_equal(h.n_namesz, namesz);
	assert_int_equal(h.n_descsz, descsz);
	assert_int_equal(h.n_type, type);
	assert_int_equal(get32(p), namesz);
	assert_int_equal(get32(p + 4), descsz);
	assert_int_equal(get32(p + 8), type);
}

static void test_notes_add_lays_notes_out_back_to_back_byte_by_byte(void **state)
{
	(void)state;
	struct pc_notes n = { 0 };
	static const uint8_t want[] = {
		/* "CORE", type 1, desc "hello" */
		5, 0, 0, 0,  5, 0, 0, 0,  1, 0, 0, 0,
		'C', 'O', 'R', 'E', 0, 0, 0, 0,
		'h', 'e', 'l', 'l', 'o', 0, 0, 0,
		/* "GNU", type 3, 4-byte desc: no padding anywhere */
		4, 0, 0, 0,  4, 0, 0, 0,  3, 0, 0, 0,
		'G', 'N', 'U', 0,
		0xde, 0xad, 0xbe, 0xef,
		/* "LINUX", type 0x202, no desc */
		6, 0, 0, 0,  0, 0, 0, 0,  0x02, 0x02, 0, 0,
		'L', 'I', 'N', 'U', 'X', 0, 0, 0,
		/* "PYCORE", type 0x50590002, 2-byte desc */
		7, 0, 0, 0,  2, 0, 0, 0,  0x02, 0x00, 0x59, 0x50,
		'P', 'Y', 'C', 'O', 'R', 'E', 0, 0,
		0xff, 0xfe, 0, 0,
	};

	assert_int_equal(notes_add(&n, "CORE", 1, "hello", 5), 0);
	assert_int_equal(n.len, 28);
	assert_int_equal(notes_add(&n, "GNU", 3, "\xde\xad\xbe\xef", 4), 0);
	assert_int_equal(n.len, 28 + 20);
	assert_int_equal(notes_add(&n, "LINUX", 0x202, NULL, 0), 0);
	assert_int_equal(n.len, 28 + 20 + 20);
	assert_int_equal(notes_add(&n, PYCORE_NOTE_NAME, PYCORE_NT_MODULES, "\xff\xfe", 2), 0);
	assert_int_equal(n.len, sizeof want);
	assert_memory_equal(n.data, want, sizeof want);
	check_nhdr(n.data, 5, 5, 1);
	check_nhdr(n.data + 28, 4, 4, 3);
	check_nhdr(n.data + 48, 6, 0, 0x202);
	check_nhdr(n.data + 68, 7, 2, PYCORE_NT_MODULES);
	assert_true(n.cap >= n.len);
	notes_free(&n);
	assert_null(n.data);
	assert_int_equal(n.len, 0);
	assert_int_equal(n.cap, 0);
}

static void test_notes_add_grows_and_keeps_earlier_notes_intact(void **state)
{
	(void)state;
	struct pc_notes n = { 0 };
	uint8_t desc[1001];
	size_t off = 0;

	/* 100 notes of odd sizes: far more than the first allocation. */
	for (int i = 0; i < 100; i++) {
		memset(desc, 0x40 + i % 50, sizeof desc);
		assert_int_equal(notes_add(&n, "CORE", (uint32_t)i, desc, (size_t)(901 + i)), 0);
	}
	for (int i = 0; i < 100; i++) {
		size_t dl = (size_t)(901 + i), padded = (dl + 3) & ~(size_t)3;
		const uint8_t *p = n.data + off;
		check_nhdr(p, 5, (uint32_t)dl, (uint32_t)i);
		assert_memory_equal(p + 12, "CORE\0\0\0\0", 8);
		memset(desc, 0x40 + i % 50, sizeof desc);
		assert_memory_equal(p + 20, desc, dl);
		assert_true(all_zero(p + 20 + dl, padded - dl));
		assert_int_equal(note_size("CORE", dl), 20 + padded);
		off += 20 + padded;
	}
	assert_int_equal(n.len, off);
	notes_free(&n);
}

/* ------------------------------------------------------------------ */
/* pc_bytes                                                            */

static void test_bytes_helpers_write_little_endian_and_pad_with_zeros(void **state)
{
	(void)state;
	struct pc_bytes b = { 0 };
	static const uint8_t want[] = {
		0x78, 0x56, 0x34, 0x12,                          /* u32 */
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,  /* u64 */
		'x', 'y', 'z',                                   /* put */
		0,                                               /* pad: 15 → 16 */
	};
	bytes_u32(&b, 0x12345678u);
	bytes_u64(&b, 0x0123456789abcdefull);
	assert_int_equal(b.len, 12);
	bytes_put(&b, "xyz", 3);
	assert_int_equal(b.len, 15);
	bytes_pad(&b, 8);
	assert_int_equal(b.len, 16);
	bytes_pad(&b, 8);                 /* already aligned: nothing */
	assert_int_equal(b.len, 16);
	bytes_pad(&b, 4);
	assert_int_equal(b.len, 16);
	bytes_put(&b, "", 0);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.data, want, sizeof want);
	bytes_u32(&b, 1);                 /* 20 */
	bytes_pad(&b, 16);                /* → 32 */
	assert_int_equal(b.len, 32);
	assert_int_equal(get32(b.data + 16), 1);
	assert_true(all_zero(b.data + 20, 12));
	assert_int_equal(b.failed, 0);
	bytes_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void test_bytes_put_grows_past_many_reallocations(void **state)
{
	(void)state;
	struct pc_bytes b = { 0 };
	for (uint32_t i = 0; i < 50000; i++)
		bytes_u32(&b, i * 2654435761u);
	assert_int_equal(b.len, 200000);
	assert_true(b.cap >= b.len);
	for (uint32_t i = 0; i < 50000; i++)
		if (get32(b.data + 4 * i) != i * 2654435761u)
			fail_msg("word %u lost", i);
	bytes_free(&b);
}

static void test_bytes_after_a_failure_appends_nothing(void **state)
{
	(void)state;
	struct pc_bytes b = { 0 };
	bytes_u32(&b, 7);
	b.failed = 1;                     /* as if an append ran out of memory */
	bytes_u64(&b, 8);
	bytes_put(&b, "abc", 3);
	bytes_pad(&b, 8);
	assert_int_equal(b.len, 4);
	assert_int_equal(get32(b.data), 7);
	bytes_free(&b);
	assert_int_equal(b.failed, 0);
}

/* ------------------------------------------------------------------ */
/* NT_FILE                                                             */

static struct pc_mapping map(uint64_t start, uint64_t end, uint64_t offset,
			     uint64_t inode, const char *path)
{
	struct pc_mapping m;
	memset(&m, 0, sizeof m);
	m.start = start;
	m.end = end;
	m.offset = offset;
	m.inode = inode;
	m.path = (char *)path;
	m.readable = true;
	return m;
}

static void test_nt_file_lists_only_file_mappings_in_order(void **state)
{
	(void)state;
	struct pc_mapping v[] = {
		map(0x555555554000ull, 0x555555556000ull, 0, 101, "/usr/bin/python3.11"),
		map(0x555555556000ull, 0x55555575a000ull, 0x2000, 101, "/usr/bin/python3.11"),
		map(0x55555575a000ull, 0x55555577b000ull, 0, 0, "[heap]"),
		map(0x7ffff7c00000ull, 0x7ffff7c28000ull, 0, 0, NULL),
		map(0x7ffff7d28000ull, 0x7ffff7d2d000ull, 0x1d6000, 202,
		    "/usr/lib/x86_64-linux-gnu/libc.so.6"),
		map(0x7ffff7e00000ull, 0x7ffff7e01000ull, 0, 0, "/not/a/file"),
		map(0x7ffff7f00000ull, 0x7ffff7f03000ull, 0x3000, 303, "/tmp/a b (deleted)"),
		map(0x7ffffffde000ull, 0x7ffffffff000ull, 0, 0, "[stack]"),
		map(0x7ffff7fc1000ull, 0x7ffff7fc3000ull, 0, 0, "[vdso]"),
	};
	struct pc_maplist l = { v, sizeof v / sizeof v[0] };
	struct pc_bytes b = { 0 };
	static const char names[] = "/usr/bin/python3.11\0/usr/bin/python3.11\0"
				    "/usr/lib/x86_64-linux-gnu/libc.so.6\0/tmp/a b (deleted)";
	static const uint64_t triples[4][3] = {
		{ 0x555555554000ull, 0x555555556000ull, 0 },
		{ 0x555555556000ull, 0x55555575a000ull, 2 },
		{ 0x7ffff7d28000ull, 0x7ffff7d2d000ull, 0x1d6 },
		{ 0x7ffff7f00000ull, 0x7ffff7f03000ull, 3 },
	};

	assert_int_equal(build_nt_file(&b, &l), 0);
	assert_int_equal(b.len, 16 + 4 * 24 + sizeof names);
	assert_int_equal(get64(b.data), 4);
	assert_int_equal(get64(b.data + 8), 4096);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 3; j++)
			assert_int_equal(get64(b.data + 16 + 24 * i + 8 * j), triples[i][j]);
	assert_memory_equal(b.data + 16 + 4 * 24, names, sizeof names);
	bytes_free(&b);
}

static void test_nt_file_without_file_mappings_is_count_and_page_size(void **state)
{
	(void)state;
	struct pc_mapping v[] = {
		map(0x1000, 0x2000, 0, 0, NULL),
		map(0x2000, 0x3000, 0, 0, "[heap]"),
	};
	struct pc_maplist l = { v, 2 }, empty = { NULL, 0 };
	struct pc_bytes b = { 0 };
	static const uint8_t want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0 };

	assert_int_equal(build_nt_file(&b, &l), 0);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.data, want, 16);
	bytes_free(&b);
	assert_int_equal(build_nt_file(&b, &empty), 0);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.data, want, 16);
	bytes_free(&b);
}

static void test_nt_file_reports_a_failed_buffer(void **state)
{
	(void)state;
	struct pc_mapping v[] = { map(0x1000, 0x2000, 0, 5, "/a") };
	struct pc_maplist l = { v, 1 };
	struct pc_bytes b = { 0 };

	b.failed = 1;
	pc_clear_error();
	assert_int_equal(build_nt_file(&b, &l), -1);
	assert_int_equal(pc_errcode(), PC_EINTERNAL);
	assert_int_equal(pc_errno(), ENOMEM);
	bytes_free(&b);
}

/* ------------------------------------------------------------------ */
/* PYCORE modules                                                      */

static void test_pycore_modules_records_are_padded_to_eight(void **state)
{
	(void)state;
	struct pc_module mods[3];
	struct pc_bytes b = { 0 };
	const uint8_t *p;

	memset(mods, 0, sizeof mods);
	mods[0].base = 0x555555554000ull;
	mods[0].path = "/usr/bin/python3.11";            /* 20 bytes with NUL */
	for (int i = 0; i < 20; i++)
		mods[0].build_id[i] = (uint8_t)(0xa0 + i);
	mods[0].build_id_len = 20;
	mods[1].base = 0x7ffff7c00000ull;
	mods[1].path = "/lib/x.so";                      /* 10 bytes, no id */
	mods[1].build_id_len = 0;
	mods[2].base = 0x7ffff7e00000ull;
	mods[2].path = "/a";                             /* 3 bytes */
	memcpy(mods[2].build_id, "\x01\x02\x03", 3);
	mods[2].build_id_len = 3;

	assert_int_equal(build_pycore_modules(&b, mods, 3), 0);
	/* header 8; records 16+20+20=56, 16+0+10=26→32, 16+3+3=22→24 */
	assert_int_equal(b.len, 8 + 56 + 32 + 24);
	assert_int_equal(b.len % 8, 0);
	assert_int_equal(get32(b.data), 3);
	assert_int_equal(get32(b.data + 4), 0);

	p = b.data + 8;
	assert_int_equal(get64(p), 0x555555554000ull);
	assert_int_equal(get32(p + 8), 20);
	assert_int_equal(get32(p + 12), 20);
	assert_memory_equal(p + 16, mods[0].build_id, 20);
	assert_memory_equal(p + 36, "/usr/bin/python3.11", 20);

	p += 56;
	assert_int_equal(get64(p), 0x7ffff7c00000ull);
	assert_int_equal(get32(p + 8), 0);
	assert_int_equal(get32(p + 12), 10);
	assert_memory_equal(p + 16, "/lib/x.so", 10);
	assert_true(all_zero(p + 26, 6));

	p += 32;
	assert_int_equal(get64(p), 0x7ffff7e00000ull);
	assert_int_equal(get32(p + 8), 3);
	assert_int_equal(get32(p + 12), 3);
	assert_memory_equal(p + 16, "\x01\x02\x03", 3);
	assert_memory_equal(p + 19, "/a", 3);
	assert_true(all_zero(p + 22, 2));
	bytes_free(&b);
}

static void test_pycore_modules_with_none_is_an_eight_byte_header(void **state)
{
	(void)state;
	struct pc_bytes b = { 0 };
	static const uint8_t want[8] = { 0 };
	assert_int_equal(build_pycore_modules(&b, NULL, 0), 0);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, want, 8);
	bytes_free(&b);
}

static void test_pycore_modules_payload_fits_in_a_note(void **state)
{
	(void)state;
	struct pc_module mod;
	struct pc_bytes b = { 0 };
	struct pc_notes n = { 0 };

	memset(&mod, 0, sizeof mod);
	mod.base = 0x400000;
	mod.path = "/usr/bin/python3";
	memset(mod.build_id, 0x11, 20);
	mod.build_id_len = 20;
	assert_int_equal(build_pycore_modules(&b, &mod, 1), 0);
	assert_int_equal(notes_add(&n, PYCORE_NOTE_NAME, PYCORE_NT_MODULES, b.data, b.len), 0);
	assert_int_equal(n.len, 12 + 8 + b.len);
	check_nhdr(n.data, 7, (uint32_t)b.len, PYCORE_NT_MODULES);
	assert_memory_equal(n.data + 12, "PYCORE\0\0", 8);
	assert_memory_equal(n.data + 20, b.data, b.len);
	notes_free(&n);
	bytes_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_note_size_pads_name_and_desc_to_four),
		cmocka_unit_test(test_notes_add_lays_notes_out_back_to_back_byte_by_byte),
		cmocka_unit_test(test_notes_add_grows_and_keeps_earlier_notes_intact),
		cmocka_unit_test(test_bytes_helpers_write_little_endian_and_pad_with_zeros),
		cmocka_unit_test(test_bytes_put_grows_past_many_reallocations),
		cmocka_unit_test(test_bytes_after_a_failure_appends_nothing),
		cmocka_unit_test(test_nt_file_lists_only_file_mappings_in_order),
		cmocka_unit_test(test_nt_file_without_file_mappings_is_count_and_page_size),
		cmocka_unit_test(test_nt_file_reports_a_failed_buffer),
		cmocka_unit_test(test_pycore_modules_records_are_padded_to_eight),
		cmocka_unit_test(test_pycore_modules_with_none_is_an_eight_byte_header),
		cmocka_unit_test(test_pycore_modules_payload_fits_in_a_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
