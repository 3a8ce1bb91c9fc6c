/* layout.c — the layout of the CPython in a core: from the runtime
 * binary's DWARF, from the built-in table of its release series, and for
 * 3.13+ corrected by the _Py_DebugOffsets the target keeps about itself.
 *
 * The only code in pycore that knows about Python versions: it turns
 * "which fields and constants exist" into the capabilities of struct
 * pc_layout, and refuses series it has no table for.
 */
#include "layout.h"

#include "dwarfinfo.h"
#include "image.h"
#include "pyfacts.h"
#include "layouts/layouts.h"
#include "runtime.h"
#include "../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_OF(id, ...) #id,
static const char *const size_names[]  = { LAYOUT_SIZES(NAME_OF) };
static const char *const field_names[] = { LAYOUT_FIELDS(NAME_OF) };
static const char *const const_names[] = { LAYOUT_CONSTS(NAME_OF) };
#undef NAME_OF

#define SIZE_TYPE(id, type) type,
#define FIELD_TYPE(id, type, path) type,
#define FIELD_PATH(id, type, path) path,
#define CONST_MACRO(id, macro) macro,
static const char *const size_types[]  = { LAYOUT_SIZES(SIZE_TYPE) };
static const char *const field_types[] = { LAYOUT_FIELDS(FIELD_TYPE) };
static const char *const field_paths[] = { LAYOUT_FIELDS(FIELD_PATH) };
static const char *const const_macros[] = { LAYOUT_CONSTS(CONST_MACRO) };
#undef SIZE_TYPE
#undef FIELD_TYPE
#undef FIELD_PATH
#undef CONST_MACRO

/* The series pycore reads; tables for others may exist (generated for
 * comparison) but are not used. */
#define FIRST_MINOR 8
#define LAST_MINOR 13

const char *layout_size_name(enum layout_size_id id)
{
	return (unsigned)id < LS_COUNT ? size_names[id] : "LS_?";
}

const char *layout_field_name(enum layout_field_id id)
{
	return (unsigned)id < LF_COUNT ? field_names[id] : "LF_?";
}

const char *layout_const_name(enum layout_const_id id)
{
	return (unsigned)id < LC_COUNT ? const_names[id] : "LC_?";
}

const char *layout_source_name(enum layout_source s)
{
	switch (s) {
	case LAYOUT_FROM_BUILTIN: return "builtin";
	case LAYOUT_FROM_DWARF: return "dwarf";
	case LAYOUT_FROM_DEBUG_OFFSETS: return "debug-offsets";
	case LAYOUT_FROM_NOTE: return "note";
	}
	return "?";
}

bool layout_supported(uint32_t hexversion)
{
	unsigned minor = hexversion >> 16 & 0xff;
	return hexversion >> 24 == 3 && minor >= FIRST_MINOR && minor <= LAST_MINOR;
}

/* Nothing known yet. */
static void layout_clear(struct pc_layout *l, uint32_t hexversion, enum layout_source src)
{
	memset(l, 0, sizeof *l);
	l->hexversion = hexversion;
	l->source = src;
	for (int i = 0; i < LS_COUNT; i++)
		l->size[i] = LAYOUT_ABSENT;
	for (int i = 0; i < LF_COUNT; i++) {
		l->off[i] = LAYOUT_ABSENT;
		l->fsize[i] = LAYOUT_ABSENT;
		l->alt[i] = -1;
	}
	for (int i = 0; i < LC_COUNT; i++)
		l->konst[i] = LAYOUT_ABSENT;
}

/* The next '|' alternative of *list into buf; false after the last. */
static bool next_alt(const char **list, char *buf, size_t cap)
{
	const char *p = *list;
	size_t n;

	if (!p)
		return false;
	n = strcspn(p, "|");
	*list = p[n] == '|' ? p + n + 1 : NULL;
	if (n >= cap)
		n = cap - 1;             /* names here are short; never cut in practice */
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

/* ---- DWARF ---- */

static int64_t dwarf_size_of(struct pc_dwarf *d, const char *types)
{
	char type[128];
	int64_t v;

	for (const char *p = types; next_alt(&p, type, sizeof type);)
		if ((v = dwarfinfo_sizeof(d, type)) >= 0)
			return v;
	return LAYOUT_ABSENT;
}

/* The first type alternative the DWARF defines and, in it, the first
 * member path alternative it has. */
static void dwarf_field(struct pc_dwarf *d, struct pc_layout *l, int id)
{
	char type[128], path[128];

	for (const char *t = field_types[id]; next_alt(&t, type, sizeof type);) {
		int alt = 0;
		if (dwarfinfo_sizeof(d, type) < 0)
			continue;
		for (const char *p = field_paths[id]; next_alt(&p, path, sizeof path); alt++) {
			int64_t off = dwarfinfo_offsetof(d, type, path);
			if (off >= 0) {
				l->off[id] = off;
				l->fsize[id] = dwarfinfo_membersize(d, type, path);
				l->alt[id] = (int8_t)alt;
				return;
			}
		}
	}
}

/* A probe's enumerator for the macro, else an enumerator CPython itself
 * names so (FRAME_OWNED_BY_*). */
static int64_t dwarf_const(struct pc_dwarf *d, const char *macro)
{
	char probe[128];
	int64_t v;

	snprintf(probe, sizeof probe, LAYOUT_PROBE_PREFIX "%s", macro);
	if (dwarfinfo_enumerator(d, probe, &v) == 0 || dwarfinfo_enumerator(d, macro, &v) == 0)
		return v;
	return LAYOUT_ABSENT;
}

int layout_from_dwarf(struct pc_dwarf *d, uint32_t hexversion, struct pc_layout *out)
{
	layout_clear(out, hexversion, LAYOUT_FROM_DWARF);
	for (int i = 0; i < LS_COUNT; i++)
		out->size[i] = dwarf_size_of(d, size_types[i]);
	for (int i = 0; i < LF_COUNT; i++)
		dwarf_field(d, out, i);
	for (int i = 0; i < LC_COUNT; i++)
		out->konst[i] = dwarf_const(d, const_macros[i]);
	pc_clear_error();                /* lookups that failed are just absent */
	/* Debug info that does not describe the interpreter's own structures
	 * (another binary's, or a partial one) is no layout. */
	if (out->size[LS_OBJECT] < 0 || out->size[LS_TYPE] < 0 || out->size[LS_THREAD_STATE] < 0 ||
	    out->size[LS_INTERP_STATE] < 0 || out->size[LS_RUNTIME] < 0)
		return -1;
	layout_finish(out);
	return 0;
}

/* ---- built-in tables ---- */

static const struct layout_table *table_for(uint32_t hexversion)
{
	for (const struct layout_table *const *t = layout_tables; *t; t++)
		if ((*t)->hexversion >> 16 == hexversion >> 16)
			return *t;
	return NULL;
}

int layout_from_builtin(uint32_t hexversion, struct pc_layout *out)
{
	const struct layout_table *t = table_for(hexversion);

	layout_clear(out, hexversion, LAYOUT_FROM_BUILTIN);
	if (!t)
		return -1;
	out->generated_from = t->hexversion;
	/* IDs outside the current lists cannot occur (the tables name them
	 * symbolically), but a stale table must not write out of bounds. */
	for (size_t i = 0; i < t->nsizes; i++)
		if (t->sizes[i].id >= 0 && t->sizes[i].id < LS_COUNT)
			out->size[t->sizes[i].id] = t->sizes[i].value;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct layout_field *e = &t->fields[i];
		if (e->id < 0 || e->id >= LF_COUNT)
			continue;
		out->off[e->id] = e->off;
		out->fsize[e->id] = e->size;
		out->alt[e->id] = (int8_t)e->alt;
	}
	for (size_t i = 0; i < t->nconsts; i++)
		if (t->consts[i].id >= 0 && t->consts[i].id < LC_COUNT)
			out->konst[t->consts[i].id] = t->consts[i].value;
	layout_finish(out);
	return 0;
}

/* ---- capabilities ---- */

/* What CPython does that no struct shows: the few per-series facts of
 * sys.getsizeof, in the one place allowed to compare versions. */
static void set_behaviour(struct pc_layout *l)
{
	unsigned minor = l->hexversion >> 16 & 0xff;

	/* _PySys_GetSizeOf: 3.11 and 3.12 add _PyType_PreHeaderSize(type) to
	 * every object; before and after, only when _PyObject_IS_GC(o). */
	l->getsizeof_needs_is_gc = minor <= 10 || minor >= 13;
	/* int___sizeof___impl counts at least one digit from 3.11 (ints of
	 * value 0 own one), and sizes by the type from 3.13. */
	l->int_sizeof_min_one_digit = minor >= 11;
	l->int_sizeof_from_type = minor >= 13;
}

void layout_finish(struct pc_layout *l)
{
	const int64_t *k = l->konst;

	l->frames_are_objects = LAYOUT_HAS(l, LF_TSTATE_FRAME);
	l->frames_in_cframe = LAYOUT_HAS(l, LF_CFRAME_CURRENT_FRAME) && LAYOUT_HAS(l, LF_TSTATE_CFRAME);
	/* 3.10 alone has a co_linetable with frame objects; its f_lasti
	 * counts code units. */
	l->frames_lasti_in_units = LAYOUT_HAS(l, LF_CODE_LINETABLE) && LAYOUT_HAS(l, LF_FRAME_LASTI) &&
				   !LAYOUT_HAS(l, LF_IFRAME_CODE);
	l->code_has_qualname = LAYOUT_HAS(l, LF_CODE_QUALNAME);
	l->line_table_locations = LAYOUT_HAS(l, LF_CODE_ADAPTIVE);
	l->instr_is_previous = LAYOUT_HAS(l, LF_IFRAME_INSTR) && l->alt[LF_IFRAME_INSTR] == 0;
	l->has_preheader = k[LC_TPFLAGS_MANAGED_DICT] != LAYOUT_ABSENT;
	l->managed_dict_tagged = k[LC_TPFLAGS_MANAGED_WEAKREF] != LAYOUT_ABSENT &&
				 k[LC_TPFLAGS_INLINE_VALUES] == LAYOUT_ABSENT;
	l->inline_values = k[LC_TPFLAGS_INLINE_VALUES] != LAYOUT_ABSENT;
	l->immortal_refcounts = k[LC_IMMORTAL_REFCNT] != LAYOUT_ABSENT;
	l->long_tagged = LAYOUT_HAS(l, LF_LONG_TAG);
	l->str_has_wstr = LAYOUT_HAS(l, LF_ASCII_WSTR);
	l->dict_keys_log2 = LAYOUT_HAS(l, LF_DICTKEYS_LOG2_SIZE);
	l->static_types_per_interp = LAYOUT_HAS(l, LF_INTERP_STATIC_TYPES);
	l->obmalloc_in_interp = LAYOUT_HAS(l, LF_INTERP_OBMALLOC);
	/* Embedded (3.12) the member is the whole state; a pointer (3.13)
	 * is smaller than the state it points to. */
	l->obmalloc_is_pointer = l->obmalloc_in_interp && l->fsize[LF_INTERP_OBMALLOC] > 0 &&
		(l->size[LS_OBMALLOC_STATE] > 0 ? l->fsize[LF_INTERP_OBMALLOC] < l->size[LS_OBMALLOC_STATE]
						: l->fsize[LF_INTERP_OBMALLOC] == (int64_t)sizeof(void *));
	l->gc_in_runtime = LAYOUT_HAS(l, LF_RUNTIME_GC);
	set_behaviour(l);
}

/* ---- 3.13+ _Py_DebugOffsets ---- */

/* Which value of ours each debug offset gives: a size (LS_*) or a
 * member offset (LF_*). */
static const struct {
	enum layout_field_id from;
	bool is_size;
	int to;
} debug_map[] = {
	{ LF_DEBUG_RUNTIME_SIZE, true, LS_RUNTIME },
	{ LF_DEBUG_RUNTIME_INTERP_HEAD, false, LF_RUNTIME_INTERP_HEAD },
	{ LF_DEBUG_INTERP_SIZE, true, LS_INTERP_STATE },
	{ LF_DEBUG_INTERP_ID, false, LF_INTERP_ID },
	{ LF_DEBUG_INTERP_NEXT, false, LF_INTERP_NEXT },
	{ LF_DEBUG_INTERP_THREADS_HEAD, false, LF_INTERP_THREADS_HEAD },
	{ LF_DEBUG_INTERP_GC, false, LF_INTERP_GC },
	{ LF_DEBUG_INTERP_MODULES, false, LF_INTERP_MODULES },
	{ LF_DEBUG_INTERP_SYSDICT, false, LF_INTERP_SYSDICT },
	{ LF_DEBUG_INTERP_BUILTINS, false, LF_INTERP_BUILTINS },
	{ LF_DEBUG_TSTATE_SIZE, true, LS_THREAD_STATE },
	{ LF_DEBUG_TSTATE_NEXT, false, LF_TSTATE_NEXT },
	{ LF_DEBUG_TSTATE_INTERP, false, LF_TSTATE_INTERP },
	{ LF_DEBUG_TSTATE_CURRENT_FRAME, false, LF_TSTATE_CURRENT_FRAME },
	{ LF_DEBUG_TSTATE_THREAD_ID, false, LF_TSTATE_THREAD_ID },
	{ LF_DEBUG_TSTATE_NATIVE_THREAD_ID, false, LF_TSTATE_NATIVE_THREAD_ID },
	{ LF_DEBUG_IFRAME_SIZE, true, LS_INTERP_FRAME },
	{ LF_DEBUG_IFRAME_PREVIOUS, false, LF_IFRAME_PREVIOUS },
	{ LF_DEBUG_IFRAME_CODE, false, LF_IFRAME_CODE },
	{ LF_DEBUG_IFRAME_INSTR, false, LF_IFRAME_INSTR },
	{ LF_DEBUG_IFRAME_LOCALSPLUS, false, LF_IFRAME_LOCALSPLUS },
	{ LF_DEBUG_IFRAME_OWNER, false, LF_IFRAME_OWNER },
	{ LF_DEBUG_CODE_SIZE, true, LS_CODE },
	{ LF_DEBUG_CODE_FILENAME, false, LF_CODE_FILENAME },
	{ LF_DEBUG_CODE_NAME, false, LF_CODE_NAME },
	{ LF_DEBUG_CODE_QUALNAME, false, LF_CODE_QUALNAME },
	{ LF_DEBUG_CODE_LINETABLE, false, LF_CODE_LINETABLE },
	{ LF_DEBUG_CODE_FIRSTLINENO, false, LF_CODE_FIRSTLINENO },
	{ LF_DEBUG_CODE_ADAPTIVE, false, LF_CODE_ADAPTIVE },
	{ LF_DEBUG_OBJECT_SIZE, true, LS_OBJECT },
	{ LF_DEBUG_OBJECT_TYPE, false, LF_OBJECT_TYPE },
	{ LF_DEBUG_TYPE_SIZE, true, LS_TYPE },
	{ LF_DEBUG_TYPE_NAME, false, LF_TYPE_NAME },
	{ LF_DEBUG_TYPE_FLAGS, false, LF_TYPE_FLAGS },
	{ LF_DEBUG_TUPLE_SIZE, true, LS_TUPLE },
	{ LF_DEBUG_TUPLE_ITEMS, false, LF_TUPLE_ITEMS },
	{ LF_DEBUG_LIST_SIZE, true, LS_LIST },
	{ LF_DEBUG_LIST_ITEMS, false, LF_LIST_ITEMS },
	{ LF_DEBUG_DICT_SIZE, true, LS_DICT },
	{ LF_DEBUG_DICT_KEYS, false, LF_DICT_KEYS },
	{ LF_DEBUG_DICT_VALUES, false, LF_DICT_VALUES },
	{ LF_DEBUG_FLOAT_SIZE, true, LS_FLOAT },
	{ LF_DEBUG_FLOAT_FVAL, false, LF_FLOAT_FVAL },
	{ LF_DEBUG_LONG_SIZE, true, LS_LONG },
	{ LF_DEBUG_LONG_TAG, false, LF_LONG_TAG },
	{ LF_DEBUG_LONG_DIGITS, false, LF_LONG_DIGITS },
	{ LF_DEBUG_BYTES_SIZE, true, LS_BYTES },
	{ LF_DEBUG_BYTES_SVAL, false, LF_BYTES_SVAL },
	{ LF_DEBUG_UNICODE_SIZE, true, LS_UNICODE },
	{ LF_DEBUG_UNICODE_STATE, false, LF_ASCII_STATE },
	{ LF_DEBUG_UNICODE_LENGTH, false, LF_ASCII_LENGTH },
	{ LF_DEBUG_ASCII_SIZE, true, LS_ASCII },
	{ LF_DEBUG_GC_COLLECTING, false, LF_GC_STATE_COLLECTING },
};

/* No CPython structure comes near this; a larger value means the bytes
 * read are not debug offsets (a damaged core). */
#define DEBUG_VALUE_MAX (1u << 24)

static uint64_t debug_value(const uint8_t *buf, int64_t off)
{
	uint64_t v;
	memcpy(&v, buf + off, sizeof v);
	return v;
}

/* Whether buf holds believable debug offsets for version: the cookie, the
 * same release series, every value we take in range. */
static bool debug_offsets_valid(const struct pc_layout *l, const uint8_t *buf, uint32_t version)
{
	int64_t size = l->size[LS_DEBUG_OFFSETS];

	if (!LAYOUT_HAS(l, LF_DEBUG_COOKIE) || !LAYOUT_HAS(l, LF_DEBUG_VERSION) ||
	    memcmp(buf + l->off[LF_DEBUG_COOKIE], "xdebugpy", 8) != 0 ||
	    debug_value(buf, l->off[LF_DEBUG_VERSION]) >> 16 != version >> 16)
		return false;
	for (size_t i = 0; i < sizeof debug_map / sizeof debug_map[0]; i++) {
		int64_t at = l->off[debug_map[i].from];
		if (at >= 0 && (at + 8 > size || debug_value(buf, at) >= DEBUG_VALUE_MAX))
			return false;
	}
	return true;
}

/* Take every value the debug offsets give over what l has, counting the
 * ones that differ. */
static void debug_offsets_apply(struct pc_layout *l, const uint8_t *buf)
{
	for (size_t i = 0; i < sizeof debug_map / sizeof debug_map[0]; i++) {
		int64_t at = l->off[debug_map[i].from], v, *slot;
		if (at < 0)
			continue;
		v = (int64_t)debug_value(buf, at);
		slot = debug_map[i].is_size ? &l->size[debug_map[i].to] : &l->off[debug_map[i].to];
		if (*slot != v) {
			*slot = v;
			l->debug_offsets_changed++;
		}
	}
	l->debug_offsets_read = true;
	if (l->debug_offsets_changed)
		l->source = LAYOUT_FROM_DEBUG_OFFSETS;
}

/* 3.13+: read _PyRuntime.debug_offsets from the core and let it correct
 * the layout (a table generated from 3.13.0 read against 3.13.5, say).
 * Unreadable or implausible offsets are ignored: the layout stands as it
 * was.  A free-threaded build is refused. */
static int debug_offsets_overlay(struct pc_image *img, const struct pc_runtime *rt,
				 struct pc_layout *l)
{
	int64_t size = l->size[LS_DEBUG_OFFSETS];
	uint8_t *buf;
	int rc = 0;

	if (size <= 0 || !LAYOUT_HAS(l, LF_RUNTIME_DEBUG_OFFSETS))
		return 0;
	if (!(buf = malloc((size_t)size)))
		return pc_fail(PC_EINTERNAL, 0, "reading _Py_DebugOffsets: out of memory");
	if (image_read(img, rt->addr + (uint64_t)l->off[LF_RUNTIME_DEBUG_OFFSETS], buf, (size_t)size) < 0) {
		pc_clear_error();
	} else if (debug_offsets_valid(l, buf, rt->hexversion)) {
		if (LAYOUT_HAS(l, LF_DEBUG_FREE_THREADED) && debug_value(buf, l->off[LF_DEBUG_FREE_THREADED]))
			rc = pc_fail(PC_EFORMAT, 0, "this is a free-threaded Python build: pycore reads "
				     "only the default (GIL) build");
		else
			debug_offsets_apply(l, buf);
	}
	free(buf);
	return rc;
}

/* ---- resolving ---- */

/* "3.7.16", "3.13.0rc1", or "3.7" when only the series is known. */
static void format_version(uint32_t v, bool exact, char *buf, size_t cap)
{
	unsigned level = v >> 4 & 0xf, serial = v & 0xf;
	const char *tag = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : "";

	if (!exact) {
		snprintf(buf, cap, "%u.%u", v >> 24, v >> 16 & 0xff);
		return;
	}
	snprintf(buf, cap, "%u.%u.%u", v >> 24, v >> 16 & 0xff, v >> 8 & 0xff);
	if (*tag)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%s%u", tag, serial);
}

/* The runtime binary's DWARF, when it has usable debug info. */
static int resolve_dwarf(const struct pc_runtime *rt, struct pc_layout *out)
{
	struct pc_dwarf *d;
	int rc;

	if (!rt->binary || !rt->binary->found)
		return -1;
	d = dwarfinfo_open(rt->binary->found);
	if (!d) {
		pc_clear_error();        /* unreadable debug info: use the table */
		return -1;
	}
	rc = layout_from_dwarf(d, rt->hexversion, out);
	dwarfinfo_close(d);
	return rc;
}

/* What the runtime binary's DWARF cannot say comes from the series' table:
 * macros (DWARF has no constants) and the structs of modules built as
 * shared objects of their own (pyenv's array and _struct, which
 * scripts/gen-layouts read from those modules' DWARF). */
static void fill_absent(struct pc_layout *out, const struct pc_layout *table)
{
	for (int i = 0; i < LC_COUNT; i++)
		if (out->konst[i] == LAYOUT_ABSENT)
			out->konst[i] = table->konst[i];
	for (int i = 0; i < LS_COUNT; i++)
		if (out->size[i] == LAYOUT_ABSENT)
			out->size[i] = table->size[i];
	for (int i = 0; i < LF_COUNT; i++)
		if (out->off[i] == LAYOUT_ABSENT && table->off[i] != LAYOUT_ABSENT) {
			out->off[i] = table->off[i];
			out->fsize[i] = table->fsize[i];
			out->alt[i] = table->alt[i];
		}
}

int layout_resolve(struct pc_image *img, const struct pc_runtime *rt, struct pc_layout *out)
{
	struct pc_layout table;
	char version[32];

	format_version(rt->hexversion, rt->version_exact, version, sizeof version);
	if (!layout_supported(rt->hexversion) || layout_from_builtin(rt->hexversion, &table) < 0)
		return pc_fail(PC_EFORMAT, 0, "Python %s is not supported (pycore reads 3.%d to 3.%d)",
			       version, FIRST_MINOR, LAST_MINOR);
	if (resolve_dwarf(rt, out) == 0) {
		fill_absent(out, &table);
	} else if (pyfacts_layout(&img->facts, rt->hexversion, out) < 0) {
		*out = table;            /* no DWARF, no note: the generated table */
	}
	out->hexversion = rt->hexversion;
	if (debug_offsets_overlay(img, rt, out) < 0)
		return -1;
	layout_finish(out);
	return 0;
}
