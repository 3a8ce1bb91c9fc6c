/* coreread — expose analyze/core.c to the integration tests.
 *
 *   coreread CORE threads          thread ids, one per line, in note order
 *   coreread CORE files            NT_FILE entries: start end offset path
 *   coreread CORE read ADDR LEN    LEN bytes of memory at ADDR, to stdout
 *   coreread CORE segments         PT_LOADs: vaddr memsz filesz offset (hex)
 *   coreread CORE missing          bytes the core's headers promise but lacks
 *   coreread CORE modules [SYSROOT [LIBPATH]]   path build-id bias found-file
 *   coreread CORE symbol NAME [SYSROOT [LIBPATH]]   run-time address of NAME
 *   coreread CORE runtime [SYSROOT]   _PyRuntime's address, the hex version, and
 *                                  "exact" or "minor" (how it was found)
 *   coreread CORE sizeof TYPE      sizeof(TYPE) from the runtime binary's DWARF
 *   coreread CORE offsetof TYPE MEMBER   likewise offsetof (MEMBER may be a.b)
 *                                  (both print "no-dwarf" and exit 1 without it)
 *   coreread CORE layout [--builtin]   the resolved layout: "source S", the
 *                                  version, then every LS_/LF_/LC_ value as
 *                                  "NAME VALUE" (-1: absent) and the
 *                                  capabilities; --builtin ignores the
 *                                  binary's DWARF and the capture's python
 *                                  note, as for a stripped build without one
 *   coreread CORE stacks [SYSROOT]   every thread's Python stack: per thread
 *                                  "thread NATIVE_ID [NAME]", then innermost
 *                                  first "  FUNCTION FILE LINE" (-1: no line),
 *                                  and "  [truncated: WHY]" when cut short
 */
#include "../../analyze/core.h"
#include "../../analyze/dwarfinfo.h"
#include "../../analyze/layout.h"
#include "../../analyze/modules.h"
#include "../../analyze/pystack.h"
#include "../../analyze/runtime.h"
#include "../../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_memory(struct pc_core *c, const char *addr_s, const char *len_s)
{
	uint64_t addr = strtoull(addr_s, NULL, 0);
	size_t len = strtoull(len_s, NULL, 0);
	char *buf = malloc(len ? len : 1);
	int rc = 1;

	if (buf && core_read_all(c, addr, buf, len) == 0 && fwrite(buf, 1, len, stdout) == len) {
		rc = 0;
	} else if (buf) {
		fprintf(stderr, "coreread: %s\n", pc_errmsg());
		rc = pc_errcode() ? (int)pc_errcode() : 1;
	}
	free(buf);
	return rc;
}

static int list_modules(struct pc_core *c, const struct pc_search *s)
{
	struct pc_modules mods;
	char hex[2 * BUILD_ID_MAX + 1];

	if (modules_find(c, s, &mods) < 0) {
		fprintf(stderr, "coreread: %s\n", pc_errmsg());
		return 1;
	}
	for (size_t i = 0; i < mods.n; i++)
		printf("%s %s %llx %s\n", mods.v[i].path,
		       build_id_hex(mods.v[i].build_id, mods.v[i].build_id_len, hex),
		       (unsigned long long)mods.v[i].bias,
		       mods.v[i].found ? mods.v[i].found : "MISSING");
	modules_free(&mods);
	return 0;
}

static int find_symbol(struct pc_core *c, const struct pc_search *s, const char *name)
{
	struct pc_modules mods;
	uint64_t addr;
	int rc = 1;

	if (modules_find(c, s, &mods) < 0) {
		fprintf(stderr, "coreread: %s\n", pc_errmsg());
		return 1;
	}
	for (size_t i = 0; i < mods.n && rc; i++)
		if (module_symbol(&mods.v[i], name, &addr) == 0) {
			printf("%#llx\n", (unsigned long long)addr);
			rc = 0;
		}
	if (rc)
		fprintf(stderr, "coreread: no symbol %s\n", name);
	modules_free(&mods);
	return rc;
}

static int show_runtime(const char *path, const char *sysroot)
{
	struct pc_search search = { .sysroot = sysroot };
	struct pc_image img;
	struct pc_runtime rt;
	int rc = 0;

	if (image_open(&img, path, &search) < 0 || runtime_find(&img, &rt) < 0) {
		fprintf(stderr, "coreread: %s\n", pc_errmsg());
		rc = pc_errcode() ? (int)pc_errcode() : 1;
	} else {
		printf("%#llx %#x %s\n", (unsigned long long)rt.addr, rt.hexversion,
		       rt.version_exact ? "exact" : "minor");
	}
	if (img.core)
		image_close(&img);
	return rc;
}

static int dwarf_query(const char *path, const char *type, const char *member)
{
	struct pc_image img;
	struct pc_runtime rt;
	struct pc_dwarf *d = NULL;
	int rc = 1;

	if (image_open(&img, path, NULL) < 0 || runtime_find(&img, &rt) < 0) {
		fprintf(stderr, "coreread: %s\n", pc_errmsg());
	} else if (!rt.binary || !rt.binary->found || !(d = dwarfinfo_open(rt.binary->found))) {
		printf("no-dwarf\n");
	} else {
		int64_t v = member ? dwarfinfo_offsetof(d, type, member) : dwarfinfo_sizeof(d, type);
		printf("%lld\n", (long long)v);
		rc = v < 0;
	}
	dwarfinfo_close(d);
	if (img.core)
		image_close(&img);
	return rc;
}

static void print_layout(const struct pc_layout *l)
{
	printf("source %s\n", layout_source_name(l->source));
	printf("hexversion %#x\n", l->hexversion);
	printf("generated_from %#x\n", l->generated_from);
	printf("debug_offsets_read %d\n", l->debug_offsets_read);
	printf("debug_offsets_changed %d\n", l->debug_offsets_changed);
	for (int i = 0; i < LS_COUNT; i++)
		printf("%s %lld\n", layout_size_name(i), (long long)l->size[i]);
	for (int i = 0; i < LF_COUNT; i++)
		printf("%s %lld\n", layout_field_name(i), (long long)l->off[i]);
	for (int i = 0; i < LC_COUNT; i++)
		printf("%s %lld\n", layout_const_name(i), (long long)l->konst[i]);
#define CAP(name) printf(#name " %d\n", l->name)
	CAP(frames_are_objects); CAP(frames_in_cframe); CAP(frames_lasti_in_units);
	CAP(code_has_qualname); CAP(line_table_locations); CAP(instr_is_previous);
	CAP(has_preheader); CAP(managed_dict_tagged); CAP(inline_values);
	CAP(immortal_refcounts); CAP(long_tagged); CAP(str_has_wstr); CAP(dict_keys_log2);
	CAP(static_types_per_interp); CAP(obmalloc_in_interp); CAP(obmalloc_is_pointer);
	CAP(gc_in_runtime);
#undef CAP
}

/* The layout for the core; builtin_only drops the runtime binary, so the
 * resolver sees what a stripped build gives it. */
static int show_layout(const char *path, bool builtin_only)
{
	struct pc_image img;
	struct pc_runtime rt;
	struct pc_layout l;
	int rc = 0;

	if (image_open(&img, path, NULL) < 0 || runtime_find(&img, &rt) < 0) {
		rc = -1;
	} else {
		if (builtin_only) {
			rt.binary = NULL;
			pyfacts_free(&img.facts);   /* nor the capture's note */
		}
		rc = layout_resolve(&img, &rt, &l);
	}
	if (rc < 0) {
		fprintf(stderr, "coreread: %s\n", pc_errmsg());
		rc = pc_errcode() ? (int)pc_errcode() : 1;
	} else {
		print_layout(&l);
	}
	if (img.core)
		image_close(&img);
	return rc;
}

static int show_stacks(const char *path, const char *sysroot)
{
	struct pc_search search = { .sysroot = sysroot };
	struct pc_image img;
	struct pc_py py;
	struct pc_thread_stack *t = NULL;
	size_t n = 0;
	int rc = 0;

	if (image_open(&img, path, &search) < 0 || py_open(&py, &img) < 0 ||
	    pystack_threads(&py, &t, &n) < 0) {
		fprintf(stderr, "coreread: %s\n", pc_errmsg());
		rc = pc_errcode() ? (int)pc_errcode() : 1;
	}
	for (size_t i = 0; i < n; i++) {
		printf("thread %d%s%s\n", t[i].native_id, t[i].name ? " " : "",
		       t[i].name ? t[i].name : "");
		for (size_t k = 0; k < t[i].nframes; k++)
			printf("  %s %s %d\n", t[i].frames[k].function, t[i].frames[k].file,
			       t[i].frames[k].line);
		if (t[i].truncated)
			printf("  [truncated: %s]\n", t[i].warning);
	}
	pystack_free(t, n);
	if (img.core)
		image_close(&img);
	return rc;
}

int main(int argc, char **argv)
{
	struct pc_core *c;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: coreread CORE threads|files|missing|read ADDR LEN\n");
		return 2;
	}
	if (strcmp(argv[2], "runtime") == 0)
		return show_runtime(argv[1], argc > 3 ? argv[3] : NULL);
	if (strcmp(argv[2], "layout") == 0 && (argc == 3 || (argc == 4 && strcmp(argv[3], "--builtin") == 0)))
		return show_layout(argv[1], argc == 4);
	if (strcmp(argv[2], "stacks") == 0 && argc <= 4)
		return show_stacks(argv[1], argc > 3 ? argv[3] : NULL);
	if (strcmp(argv[2], "sizeof") == 0 && argc == 4)
		return dwarf_query(argv[1], argv[3], NULL);
	if (strcmp(argv[2], "offsetof") == 0 && argc == 5)
		return dwarf_query(argv[1], argv[3], argv[4]);
	c = core_open(argv[1]);
	if (!c) {
		fprintf(stderr, "coreread: %s\n", pc_errmsg());
		return pc_errcode();
	}
	if (strcmp(argv[2], "threads") == 0) {
		for (size_t i = 0; i < core_thread_count(c); i++)
			printf("%d\n", (int)core_thread(c, i)->tid);
	} else if (strcmp(argv[2], "files") == 0) {
		for (size_t i = 0; i < core_file_count(c); i++) {
			const struct pc_core_file *f = core_file(c, i);
			printf("%llx %llx %llx %s\n", (unsigned long long)f->start,
			       (unsigned long long)f->end, (unsigned long long)f->offset, f->path);
		}
	} else if (strcmp(argv[2], "segments") == 0) {
		for (size_t i = 0; i < core_segment_count(c); i++) {
			const struct pc_core_segment *g = core_segment(c, i);
			printf("%llx %llx %llx %llx\n", (unsigned long long)g->vaddr,
			       (unsigned long long)g->memsz, (unsigned long long)g->filesz,
			       (unsigned long long)g->offset);
		}
	} else if (strcmp(argv[2], "missing") == 0) {
		printf("%llu\n", (unsigned long long)core_missing_bytes(c));
	} else if (strcmp(argv[2], "modules") == 0) {
		struct pc_search s = { .sysroot = argc > 3 && *argv[3] ? argv[3] : NULL,
				       .lib_path = argc > 4 ? argv[4] : NULL };
		rc = list_modules(c, &s);
	} else if (strcmp(argv[2], "symbol") == 0 && argc >= 4) {
		struct pc_search s = { .sysroot = argc > 4 && *argv[4] ? argv[4] : NULL,
				       .lib_path = argc > 5 ? argv[5] : NULL };
		rc = find_symbol(c, &s, argv[3]);
	} else if (strcmp(argv[2], "read") == 0 && argc == 5) {
		rc = read_memory(c, argv[3], argv[4]);
	} else {
		fprintf(stderr, "coreread: unknown command\n");
		rc = 2;
	}
	core_close(c);
	return rc;
}
