/* fuzz_heap.c — the heap walk and the analyses after it (census, reference
 * graph, dominator tree, leaks, paths, duplicate strings, thread stacks)
 * over damaged object memory.
 *
 * A real core of a small Python process (make-seeds captures one;
 * PYCORE_FUZZ_HEAP_CORE names it) is opened once, with its binaries and
 * layout, as pycore-report would.  Each input is a list of patches to the
 * process's memory, aimed where damage hurts: an object's header and
 * items (ob_type, ob_size, item pointers, dict keys, the GC links before
 * it), its type object (sizes, flags, tp_base, tp_mro), its pymalloc pool
 * header, the interpreter and runtime states, or any writable memory.
 * Values are raw, or addresses of other objects (bogus but plausible
 * pointers, cycles, type loops), or the old value shifted.  The patches go
 * into the core's bytes in place and are undone after the run, so each
 * run sees the pristine core plus its own patches only.
 *
 * What must hold: every analysis ends with a result or an error, never a
 * crash, a hang or unbounded memory.
 */
#include "fuzz_common.h"

#include "../../analyze/census.h"
#include "../../analyze/dupes.h"
#include "../../analyze/graph.h"
#include "../../analyze/image.h"
#include "../../analyze/leaks.h"
#include "../../analyze/objindex.h"
#include "../../analyze/paths.h"
#include "../../analyze/pystack.h"
#include "../../common/error.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

/* One patch, 16 bytes of input. */
struct patch {
	uint8_t op;                  /* target | value kind << 3 | width << 5 */
	uint8_t unused;
	int16_t off;                 /* from the target (scaled for some targets) */
	uint32_t k;                  /* which object (modulo their count) */
	uint64_t value;
};

enum target {
	T_OBJECT,                    /* object k + off (negative: its GC header) */
	T_POOL,                      /* the 16 KiB-aligned pool holding object k + off */
	T_WRITABLE,                  /* byte (k << 3 | off & 7) of all writable memory */
	T_TYPE,                      /* object k's type object + off */
	T_INTERP,                    /* the main interpreter state + 8 * (u16)off */
	T_RUNTIME,                   /* _PyRuntime + 8 * (u16)off */
	T_TARGETS
};

enum value_kind {
	V_RAW,                       /* value itself */
	V_OBJECT,                    /* object (value mod count) + (int8)(value >> 32) */
	V_ADD,                       /* old value + value */
	V_SELF,                      /* the target's own base + (int16)value: a loop */
};

#define MAX_PATCHES 64
#define POOL_ALIGN  16384u

static struct pc_image img;
static struct pc_py base_py;
static uint8_t *core_bytes;      /* the memory file, writable, shared with the reader */
static uint64_t core_size;
static uint64_t *objects, *object_types;
static size_t nobjects;
static uint64_t writable_total;

/* What a patch overwrote, to undo it. */
static struct { uint64_t at; uint8_t old[8]; unsigned width; } undo[MAX_PATCHES];
static size_t nundo;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_heap: %s: %s\n", what, pc_errcode() ? pc_errmsg() : "failed");
	abort();
}

/* The core copied into a memory file, mapped writable: patches made in
 * the mapping are what the reader's own view and reads see. */
static int load_core(const char *path)
{
	int in = open(path, O_RDONLY), fd;
	struct stat st;
	uint8_t buf[1 << 16];
	ssize_t n;

	if (in < 0 || fstat(in, &st) < 0)
		die(path);
	fd = memfd_create("fuzz-heap-core", 0);
	if (fd < 0 || ftruncate(fd, st.st_size) < 0)
		die("memfd");
	/* Holes stay holes: only data is written. */
	for (off_t at = 0; (n = pread(in, buf, sizeof buf, at)) > 0; at += n)
		for (ssize_t i = 0; i < n; i++)
			if (buf[i]) {
				if (pwrite(fd, buf, (size_t)n, at) != n)
					die("memfd");
				break;
			}
	close(in);
	core_size = (uint64_t)st.st_size;
	core_bytes = mmap(NULL, core_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (core_bytes == MAP_FAILED)
		die("mmap");
	return fd;
}

static int remember_object(void *arg, const struct heap_object *o)
{
	(void)arg;
	if (nobjects % 4096 == 0) {
		objects = realloc(objects, (nobjects + 4096) * sizeof *objects);
		object_types = realloc(object_types, (nobjects + 4096) * sizeof *object_types);
		if (!objects || !object_types)
			die("memory");
	}
	objects[nobjects] = o->addr;
	object_types[nobjects++] = o->type->addr;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("PYCORE_FUZZ_HEAP_CORE");
	struct pc_search search = { 0 };
	struct pc_types *types;
	struct heap_stats stats;
	char proc[64];

	(void)argc;
	(void)argv;
	if (!path) {
		fprintf(stderr, "fuzz_heap: set PYCORE_FUZZ_HEAP_CORE to a core (make-seeds makes one)\n");
		abort();
	}
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", load_core(path));
	if (image_open(&img, proc, &search) < 0 || py_open(&base_py, &img) < 0)
		die(path);
	/* The objects of the undamaged heap: what patches aim at. */
	if (!(types = types_new(&base_py)) ||
	    heap_walk(&base_py, types, remember_object, NULL, &stats, NULL, NULL) < 0 || !nobjects)
		die("walking the undamaged heap");
	types_free(types);
	for (size_t i = 0; i < core_segment_count(img.core); i++)
		if (core_segment(img.core, i)->flags & PF_W)
			writable_total += core_segment(img.core, i)->filesz;
	fprintf(stderr, "fuzz_heap: %s: %zu objects, %llu bytes of writable memory\n", path,
		nobjects, (unsigned long long)writable_total);
	return 0;
}

/* The byte of the core file holding addr..addr+len, or UINT64_MAX. */
static uint64_t file_offset(uint64_t addr, unsigned len)
{
	for (size_t i = 0; i < core_segment_count(img.core); i++) {
		const struct pc_core_segment *s = core_segment(img.core, i);
		if (addr >= s->vaddr && addr - s->vaddr < s->filesz && s->filesz - (addr - s->vaddr) >= len &&
		    s->offset + (addr - s->vaddr) + len <= core_size)
			return s->offset + (addr - s->vaddr);
	}
	return UINT64_MAX;
}

/* The n-th byte of writable memory, counting segment after segment. */
static uint64_t writable_addr(uint64_t n)
{
	for (size_t i = 0; i < core_segment_count(img.core); i++) {
		const struct pc_core_segment *s = core_segment(img.core, i);
		if (!(s->flags & PF_W))
			continue;
		if (n < s->filesz)
			return s->vaddr + n;
		n -= s->filesz;
	}
	return 0;
}

static uint64_t target_base(const struct patch *p, const struct pc_py *py)
{
	uint64_t obj = objects[p->k % nobjects];

	switch (p->op % T_TARGETS) {
	case T_OBJECT:   return obj;
	case T_POOL:     return obj & ~(uint64_t)(POOL_ALIGN - 1);
	case T_WRITABLE: return writable_total ? writable_addr(((uint64_t)p->k << 3) % writable_total) : 0;
	case T_TYPE:     return object_types[p->k % nobjects];
	case T_INTERP:   return py->main_interp;
	default:         return py->rt.addr;
	}
}

static int64_t target_offset(const struct patch *p)
{
	switch (p->op % T_TARGETS) {
	case T_POOL:     return (uint16_t)p->off % POOL_ALIGN;
	case T_WRITABLE: return p->off & 7;
	case T_INTERP:
	case T_RUNTIME:  return 8 * (int64_t)(uint16_t)p->off;
	default:         return p->off;
	}
}

static void apply(const struct patch *p, const struct pc_py *py)
{
	static const unsigned widths[] = { 1, 2, 4, 8 };
	unsigned width = widths[p->op >> 5 & 3];
	uint64_t base = target_base(p, py), at, old = 0, v = p->value;

	if (!base || (at = file_offset(base + (uint64_t)target_offset(p), width)) == UINT64_MAX)
		return;
	memcpy(&old, core_bytes + at, width);
	switch (p->op >> 3 & 3) {
	case V_RAW:    break;
	case V_OBJECT: v = objects[(uint32_t)v % nobjects] + (uint64_t)(int8_t)(v >> 32); break;
	case V_ADD:    v += old; break;
	default:       v = base + (uint64_t)(int16_t)v; break;
	}
	undo[nundo].at = at;
	undo[nundo].width = width;
	memcpy(undo[nundo++].old, core_bytes + at, width);
	memcpy(core_bytes + at, &v, width);   /* little-endian: the low bytes */
}

static void undo_all(void)
{
	while (nundo) {
		nundo--;
		memcpy(core_bytes + undo[nundo].at, undo[nundo].old, undo[nundo].width);
	}
}

static int64_t type_index(struct pc_types *types, uint64_t addr)
{
	const struct py_type *t = addr ? types_lookup(types, addr) : NULL;
	return t ? (int64_t)t->index : -1;
}

/* What pycore-report does after the census (report/leakhunt.c), on one
 * thread: graph, dominator tree, leaks, paths, strings, one --why. */
static void analyse_references(struct pc_py *py, struct census *c, struct objindex *index)
{
	struct pc_types *types = c->type_table;
	struct leak_options opt = { 0.10, 20 };
	struct leak_report leaks = { 0 };
	struct dupe_report dupes = { 0 };
	struct pc_graph g;
	struct leak_tree *tree;
	struct pc_paths *paths;

	if (objindex_finish(index) < 0 || graph_build(py, types, index, &g) < 0)
		return;
	tree = leaks_tree(&g);
	paths = paths_new(py, types, &g);
	if (tree && paths && leaks_analyse(tree, py, types, paths, &opt, &leaks) == 0)
		leaks_free(&leaks);
	if (paths && g.n) {
		struct path_step *steps = NULL;
		size_t n = 0;
		free(paths_name(paths, g.n / 2, &steps, &n));
		free(steps);
	}
	if (dupes_find(py, type_index(types, py->known[PT_STR]), type_index(types, py->known[PT_BYTES]),
		       index, 20, false, &dupes) == 0)
		dupes_free(&dupes);
	leaks_tree_free(tree);
	paths_free(paths);
	graph_free(&g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_py py = base_py;
	struct census census = { 0 };
	struct objindex index = { 0 };
	struct pc_thread_stack *threads;
	size_t nthreads;

	for (size_t i = 0; i + sizeof(struct patch) <= size && i / sizeof(struct patch) < MAX_PATCHES;
	     i += sizeof(struct patch)) {
		struct patch p;
		memcpy(&p, data + i, sizeof p);
		apply(&p, &py);
	}
	/* py_open's one read of memory: the main interpreter, maybe damaged. */
	if (py_field(&py, py.rt.addr, LF_RUNTIME_INTERP_MAIN, &py.main_interp) == 0 && py.main_interp) {
		if (census_take(&py, &census, &index, NULL, NULL) == 0)
			analyse_references(&py, &census, &index);
		objindex_free(&index);
		census_free(&census);
		if (pystack_threads(&py, &threads, &nthreads) == 0)
			pystack_free(threads, nthreads);
	}
	undo_all();
	pc_clear_error();
	return 0;
}
