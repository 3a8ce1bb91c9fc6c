/* test_layout.c — analyze/layout.c without a core: capabilities derived
 * from hand-made layouts, the built-in tables, and the refusal of
 * versions pycore does not read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../analyze/image.h"
#include "../../analyze/layout.h"
#include "../../analyze/layouts/layouts.h"
#include "../../analyze/runtime.h"
#include "../../common/error.h"

#include <string.h>

static void blank(struct pc_layout *l)
{
	memset(l, 0, sizeof *l);
	for (int i = 0; i < LS_COUNT; i++)
		l->size[i] = LAYOUT_ABSENT;
	for (int i = 0; i < LF_COUNT; i++) {
		l->off[i] = l->fsize[i] = LAYOUT_ABSENT;
		l->alt[i] = -1;
	}
	for (int i = 0; i < LC_COUNT; i++)
		l->konst[i] = LAYOUT_ABSENT;
}

static void field(struct pc_layout *l, enum layout_field_id id, int64_t off, int alt)
{
	l->off[id] = off;
	l->fsize[id] = 8;
	l->alt[id] = (int8_t)alt;
}

/* The capabilities that are true, as one string, to compare at once. */
static const char *caps(const struct pc_layout *l)
{
	static char buf[512];
	buf[0] = '\0';
#define CAP(name) if (l->name) strcat(buf, #name " ")
	CAP(frames_are_objects); CAP(frames_in_cframe); CAP(frames_lasti_in_units);
	CAP(code_has_qualname); CAP(line_table_locations); CAP(instr_is_previous);
	CAP(has_preheader); CAP(managed_dict_tagged); CAP(inline_values);
	CAP(immortal_refcounts); CAP(long_tagged); CAP(str_has_wstr); CAP(dict_keys_log2);
	CAP(static_types_per_interp); CAP(obmalloc_in_interp); CAP(obmalloc_is_pointer);
	CAP(gc_in_runtime);
#undef CAP
	return buf;
}

static void test_nothing_known_means_no_capability(void **state)
{
	struct pc_layout l;
	(void)state;
	blank(&l);
	layout_finish(&l);
	assert_string_equal(caps(&l), "");
}

/* 3.8: frame objects, gc in the runtime, wstr, lnotab. */
static void test_frame_objects_and_runtime_gc(void **state)
{
	struct pc_layout l;
	(void)state;
	blank(&l);
	field(&l, LF_TSTATE_FRAME, 24, 0);
	field(&l, LF_FRAME_LASTI, 104, 0);
	field(&l, LF_CODE_LNOTAB, 120, 0);
	field(&l, LF_RUNTIME_GC, 344, 0);
	field(&l, LF_ASCII_WSTR, 40, 0);
	layout_finish(&l);
	assert_string_equal(caps(&l), "frames_are_objects str_has_wstr gc_in_runtime ");
}

/* 3.10: a CFrame without current_frame, and a linetable with f_lasti. */
static void test_linetable_with_frame_objects_counts_units(void **state)
{
	struct pc_layout l;
	(void)state;
	blank(&l);
	field(&l, LF_TSTATE_FRAME, 24, 0);
	field(&l, LF_TSTATE_CFRAME, 48, 0);
	field(&l, LF_FRAME_LASTI, 96, 0);
	field(&l, LF_CODE_LINETABLE, 120, 0);
	layout_finish(&l);
	assert_string_equal(caps(&l), "frames_are_objects frames_lasti_in_units ");
}

/* 3.11: interpreter frames under cframe, prev_instr, managed dict only. */
static void test_cframe_and_previous_instruction(void **state)
{
	struct pc_layout l;
	(void)state;
	blank(&l);
	field(&l, LF_TSTATE_CFRAME, 56, 0);
	field(&l, LF_CFRAME_CURRENT_FRAME, 8, 0);
	field(&l, LF_IFRAME_CODE, 32, 0);
	field(&l, LF_IFRAME_INSTR, 56, 0);        /* "prev_instr" */
	field(&l, LF_CODE_LINETABLE, 136, 0);
	field(&l, LF_CODE_ADAPTIVE, 184, 0);
	field(&l, LF_CODE_QUALNAME, 128, 0);
	field(&l, LF_DICTKEYS_LOG2_SIZE, 8, 0);
	l.konst[LC_TPFLAGS_MANAGED_DICT] = 1 << 4;
	layout_finish(&l);
	assert_string_equal(caps(&l), "frames_in_cframe code_has_qualname line_table_locations "
			    "instr_is_previous has_preheader dict_keys_log2 ");
}

/* 3.12: the managed-dict word is tagged; obmalloc embedded. */
static void test_embedded_obmalloc_and_tagged_dict(void **state)
{
	struct pc_layout l;
	(void)state;
	blank(&l);
	l.konst[LC_TPFLAGS_MANAGED_DICT] = 1 << 4;
	l.konst[LC_TPFLAGS_MANAGED_WEAKREF] = 1 << 3;
	l.konst[LC_IMMORTAL_REFCNT] = 0xffffffff;
	field(&l, LF_LONG_TAG, 16, 0);
	field(&l, LF_INTERP_STATIC_TYPES, 373704, 1);
	field(&l, LF_INTERP_OBMALLOC, 3960, 0);
	l.fsize[LF_INTERP_OBMALLOC] = 263248;
	l.size[LS_OBMALLOC_STATE] = 263248;
	layout_finish(&l);
	assert_string_equal(caps(&l), "has_preheader managed_dict_tagged immortal_refcounts "
			    "long_tagged static_types_per_interp obmalloc_in_interp ");
}

/* 3.13: inline values, obmalloc behind a pointer, instr_ptr is current. */
static void test_pointer_obmalloc_inline_values_current_instruction(void **state)
{
	struct pc_layout l;
	(void)state;
	blank(&l);
	l.konst[LC_TPFLAGS_MANAGED_DICT] = 1 << 4;
	l.konst[LC_TPFLAGS_MANAGED_WEAKREF] = 1 << 3;
	l.konst[LC_TPFLAGS_INLINE_VALUES] = 1 << 2;
	field(&l, LF_TSTATE_CURRENT_FRAME, 72, 0);
	field(&l, LF_IFRAME_CODE, 0, 1);
	field(&l, LF_IFRAME_INSTR, 56, 1);        /* "instr_ptr" */
	field(&l, LF_INTERP_OBMALLOC, 10800, 0);
	l.fsize[LF_INTERP_OBMALLOC] = 8;
	l.size[LS_OBMALLOC_STATE] = 263248;
	layout_finish(&l);
	assert_string_equal(caps(&l), "has_preheader inline_values obmalloc_in_interp "
			    "obmalloc_is_pointer ");
}

static void expect_refused(uint32_t hexversion, bool exact, const char *msg)
{
	struct pc_image img = { 0 };
	struct pc_runtime rt = { .addr = 0x1000, .hexversion = hexversion, .version_exact = exact };
	struct pc_layout l;

	pc_clear_error();
	assert_int_equal(layout_resolve(&img, &rt, &l), -1);
	assert_int_equal(pc_errcode(), PC_EFORMAT);
	assert_string_equal(pc_errmsg(), msg);
}

static void test_unsupported_versions_are_refused_by_name(void **state)
{
	(void)state;
	expect_refused(0x030710f0, true, "Python 3.7.16 is not supported (pycore reads 3.8 to 3.13)");
	expect_refused(0x03060ff0, true, "Python 3.6.15 is not supported (pycore reads 3.8 to 3.13)");
	expect_refused(0x030e00a1, true, "Python 3.14.0a1 is not supported (pycore reads 3.8 to 3.13)");
	expect_refused(0x030e00c2, true, "Python 3.14.0rc2 is not supported (pycore reads 3.8 to 3.13)");
	expect_refused(0x020712f0, true, "Python 2.7.18 is not supported (pycore reads 3.8 to 3.13)");
	expect_refused(0x03070000, false, "Python 3.7 is not supported (pycore reads 3.8 to 3.13)");
}

/* Every supported series has a table, made from the current layout.h,
 * from a build of that series; others have none. */
static void test_builtin_tables_cover_3_8_to_3_13(void **state)
{
	struct pc_layout l;
	(void)state;
	for (uint32_t minor = 8; minor <= 13; minor++) {
		uint32_t v = 0x03000000 | minor << 16 | 0x01f0;
		assert_true(layout_supported(v));
		assert_int_equal(layout_from_builtin(v, &l), 0);
		assert_int_equal(l.source, LAYOUT_FROM_BUILTIN);
		assert_int_equal(l.hexversion, v);
		assert_int_equal(l.generated_from >> 16, v >> 16);
		assert_int_equal(l.size[LS_OBJECT], 16);
		assert_int_equal(l.off[LF_OBJECT_TYPE], 8);
	}
	for (const struct layout_table *const *t = layout_tables; *t; t++) {
		if ((*t)->ls_count != LS_COUNT || (*t)->lf_count != LF_COUNT || (*t)->lc_count != LC_COUNT)
			fail_msg("the table for %#x predates layout.h: run `make layouts`", (*t)->hexversion);
	}
	assert_false(layout_supported(0x030710f0));
	assert_false(layout_supported(0x030e0000));
	assert_int_equal(layout_from_builtin(0x030e00f0, &l), -1);
	assert_int_equal(layout_from_builtin(0x020712f0, &l), -1);
}

/* What each series' table makes of itself (doc §2–§5). */
static void test_builtin_capabilities_per_series(void **state)
{
	static const char *const want[] = {
		/* 3.8 */ "frames_are_objects str_has_wstr gc_in_runtime ",
		/* 3.9 */ "frames_are_objects str_has_wstr ",
		/* 3.10 */ "frames_are_objects frames_lasti_in_units str_has_wstr ",
		/* 3.11 */ "frames_in_cframe code_has_qualname line_table_locations instr_is_previous "
			   "has_preheader str_has_wstr dict_keys_log2 ",
		/* 3.12 */ "frames_in_cframe code_has_qualname line_table_locations instr_is_previous "
			   "has_preheader managed_dict_tagged immortal_refcounts long_tagged "
			   "dict_keys_log2 static_types_per_interp obmalloc_in_interp ",
		/* 3.13 */ "code_has_qualname line_table_locations has_preheader inline_values "
			   "immortal_refcounts long_tagged dict_keys_log2 static_types_per_interp "
			   "obmalloc_in_interp obmalloc_is_pointer ",
	};
	struct pc_layout l;
	(void)state;
	for (uint32_t minor = 8; minor <= 13; minor++) {
		assert_int_equal(layout_from_builtin(0x030000f0 | minor << 16, &l), 0);
		if (strcmp(caps(&l), want[minor - 8]) != 0)
			fail_msg("3.%u: got \"%s\", want \"%s\"", minor, caps(&l), want[minor - 8]);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(layout_size_name(LS_TYPE), "LS_TYPE");
	assert_string_equal(layout_field_name(LF_TYPE_NAME), "LF_TYPE_NAME");
	assert_string_equal(layout_const_name(LC_TPFLAGS_HEAPTYPE), "LC_TPFLAGS_HEAPTYPE");
	assert_string_equal(layout_field_name(LF_COUNT), "LF_?");
	assert_string_equal(layout_source_name(LAYOUT_FROM_DWARF), "dwarf");
	assert_string_equal(layout_source_name(LAYOUT_FROM_BUILTIN), "builtin");
	assert_string_equal(layout_source_name(LAYOUT_FROM_DEBUG_OFFSETS), "debug-offsets");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_known_means_no_capability),
		cmocka_unit_test(test_frame_objects_and_runtime_gc),
		cmocka_unit_test(test_linetable_with_frame_objects_counts_units),
		cmocka_unit_test(test_cframe_and_previous_instruction),
		cmocka_unit_test(test_embedded_obmalloc_and_tagged_dict),
		cmocka_unit_test(test_pointer_obmalloc_inline_values_current_instruction),
		cmocka_unit_test(test_unsupported_versions_are_refused_by_name),
		cmocka_unit_test(test_builtin_tables_cover_3_8_to_3_13),
		cmocka_unit_test(test_builtin_capabilities_per_series),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
