/* pytypes.c — recognising, describing and naming type objects. */
#include "pytypes.h"

#include "pysize_ext.h"
#include "../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN   256
#define BASE_CHAIN_MAX 64         /* deeper than any real class hierarchy */
#define META_DEPTH_MAX 4          /* type(type(type(x))) ... */
#define BASICSIZE_MAX  (1 << 24)
#define ITEMSIZE_MAX   (1 << 16)

struct slot {
	uint64_t addr;               /* 0: empty */
	int32_t index;               /* into v */
};

#define MISS_SLOTS (1u << 16)      /* direct-mapped: bounded, however much garbage */

struct pc_types {
	struct pc_py *py;
	uint64_t *misses;            /* recent addresses that are not types */
	struct slot *slots;
	size_t nslots, used;         /* nslots is a power of two */
	struct py_type **v;
	size_t n, cap;
};

struct pc_types *types_new(struct pc_py *py)
{
	struct pc_types *t = calloc(1, sizeof *t);

	if (!t || !(t->slots = calloc(t->nslots = 1024, sizeof *t->slots)) ||
	    !(t->misses = calloc(MISS_SLOTS, sizeof *t->misses))) {
		if (t)
			free(t->slots);
		free(t);
		pc_fail(PC_EINTERNAL, 0, "out of memory for the type table");
		return NULL;
	}
	t->py = py;
	return t;
}

void types_free(struct pc_types *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i]->name);
		free(t->v[i]);
	}
	free(t->v);
	free(t->slots);
	free(t->misses);
	free(t);
}

static size_t hash_addr(uint64_t addr)
{
	return (size_t)((addr >> 3) * 0x9E3779B97F4A7C15ull >> 20);
}

static struct slot *find_slot(struct slot *slots, size_t nslots, uint64_t addr)
{
	size_t i = hash_addr(addr) & (nslots - 1);

	while (slots[i].addr && slots[i].addr != addr)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

static int grow_slots(struct pc_types *t)
{
	size_t n = t->nslots * 2;
	struct slot *s = calloc(n, sizeof *s);

	if (!s)
		return -1;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i].addr)
			*find_slot(s, n, t->slots[i].addr) = t->slots[i];
	free(t->slots);
	t->slots = s;
	t->nslots = n;
	return 0;
}

static int remember(struct pc_types *t, uint64_t addr, int32_t index)
{
	struct slot *s;

	if ((t->used + 1) * 2 > t->nslots && grow_slots(t) < 0)
		return -1;
	s = find_slot(t->slots, t->nslots, addr);
	if (!s->addr)
		t->used++;
	s->addr = addr;
	s->index = index;
	return 0;
}

/* Which built-in __sizeof__ applies: the nearest known type on the
 * tp_base chain. */
static enum size_rule size_rule_of(struct pc_types *t, const struct py_type *type)
{
	static const struct { enum py_known_type known; enum size_rule rule; } rules[] = {
		{ PT_STR, SIZE_STR }, { PT_INT, SIZE_INT }, { PT_LIST, SIZE_LIST },
		{ PT_DICT, SIZE_DICT }, { PT_SET, SIZE_SET }, { PT_FROZENSET, SIZE_SET },
		{ PT_BYTEARRAY, SIZE_BYTEARRAY }, { PT_TYPE, SIZE_TYPE }, { PT_CODE, SIZE_CODE },
		{ PT_FRAME, SIZE_FRAME }, { PT_GEN, SIZE_GEN }, { PT_CORO, SIZE_GEN },
		{ PT_ASYNC_GEN, SIZE_GEN },
	};
	uint64_t b = type->addr;
	enum size_rule ext;

	for (int depth = 0; b && depth < BASE_CHAIN_MAX; depth++) {
		for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
			if (t->py->known[rules[i].known] == b)
				return rules[i].rule;
		if ((ext = pysize_ext_rule(t->py, b)) != SIZE_DEFAULT)
			return ext;
		if (py_u64(t->py, b + (uint64_t)t->py->L.off[LF_TYPE_BASE], &b) < 0) {
			pc_clear_error();
			break;
		}
	}
	return SIZE_DEFAULT;
}

/* Bytes CPython allocates in front of an instance: the GC header, and the
 * 3.11+ pre-header (managed dict, 3.12+ managed weakref list). */
static uint32_t prefix_of(const struct pc_py *py, const struct py_type *type)
{
	uint64_t managed = layout_flag(&py->L, LC_TPFLAGS_MANAGED_DICT) |
			   layout_flag(&py->L, LC_TPFLAGS_MANAGED_WEAKREF);
	uint32_t prefix = type->is_gc ? py->gc_head : 0;

	if (py->L.has_preheader && (type->flags & managed))
		prefix += 16;
	return prefix;
}

static int64_t field_at(const uint8_t *p, const struct pc_py *py, enum layout_field_id id)
{
	int64_t v;
	memcpy(&v, p + py->L.off[id], 8);
	return v;
}

static const struct py_type *classify(struct pc_types *t, uint64_t addr, int depth);

/* Is meta (the type of a would-be type) a metatype? */
static bool is_metatype(struct pc_types *t, uint64_t meta, int depth)
{
	const struct py_type *m;

	if (meta == t->py->known[PT_TYPE])
		return true;
	if (depth >= META_DEPTH_MAX || !(m = classify(t, meta, depth + 1)))
		return false;
	return (m->flags & layout_flag(&t->py->L, LC_TPFLAGS_TYPE_SUBCLASS)) != 0;
}

/* Read and check the type object at addr; NULL when it is not one. */
static struct py_type *read_type(struct pc_types *t, uint64_t addr, int depth)
{
	struct pc_py *py = t->py;
	const uint8_t *p = py_ptr(py, addr, (size_t)py->L.size[LS_TYPE]);
	struct py_type *type;

	if (!p)
		return NULL;
	type = calloc(1, sizeof *type);
	if (!type)
		return NULL;
	type->addr = addr;
	type->meta = (uint64_t)field_at(p, py, LF_OBJECT_TYPE);
	type->flags = (uint64_t)field_at(p, py, LF_TYPE_FLAGS);
	type->basicsize = field_at(p, py, LF_TYPE_BASICSIZE);
	type->itemsize = field_at(p, py, LF_TYPE_ITEMSIZE);
	type->dictoffset = field_at(p, py, LF_TYPE_DICTOFFSET);
	type->base = (uint64_t)field_at(p, py, LF_TYPE_BASE);
	if (!py_refcnt_plausible((uint64_t)field_at(p, py, LF_OBJECT_REFCNT)) ||
	    type->basicsize < py->L.size[LS_OBJECT] || type->basicsize > BASICSIZE_MAX ||
	    type->itemsize < 0 || type->itemsize > ITEMSIZE_MAX || !field_at(p, py, LF_TYPE_NAME) ||
	    (type->meta & 7) || !is_metatype(t, type->meta, depth)) {
		free(type);
		return NULL;
	}
	type->is_gc = (type->flags & layout_flag(&py->L, LC_TPFLAGS_HAVE_GC)) != 0;
	type->is_heap = (type->flags & layout_flag(&py->L, LC_TPFLAGS_HEAPTYPE)) != 0;
	type->prefix = prefix_of(py, type);
	return type;
}

static const struct py_type *classify(struct pc_types *t, uint64_t addr, int depth)
{
	struct slot *s;
	struct py_type *type, **grown;

	uint64_t *miss = &t->misses[hash_addr(addr) & (MISS_SLOTS - 1)];

	if (!addr || (addr & 7) || *miss == addr)
		return NULL;
	s = find_slot(t->slots, t->nslots, addr);
	if (s->addr)
		return t->v[s->index];
	type = read_type(t, addr, depth);
	if (!type) {
		/* Most candidates are not objects at all: remember few of the
		 * values that were not types, or the table would grow with
		 * every hash and pointer in the heap. */
		*miss = addr;
		return NULL;
	}
	if (t->n == t->cap) {
		grown = realloc(t->v, (t->cap = t->cap ? 2 * t->cap : 256) * sizeof *grown);
		if (!grown) {
			free(type);
			return NULL;
		}
		t->v = grown;
	}
	type->index = (uint32_t)t->n;
	t->v[t->n++] = type;
	type->rule = size_rule_of(t, type);
	type->is_str = type->rule == SIZE_STR;
	remember(t, addr, (int32_t)type->index);
	return type;
}

const struct py_type *types_lookup(struct pc_types *t, uint64_t addr)
{
	return classify(t, addr, 0);
}

/* A static type's tp_name ("collections.deque", "dict"), from the binary. */
static int static_type_name(struct pc_py *py, const struct py_type *type, char *buf, size_t cap)
{
	uint64_t name;

	if (py_field(py, type->addr, LF_TYPE_NAME, &name) < 0)
		return -1;
	for (size_t i = 0; i + 1 < cap; i++) {
		if (py_read(py, name + i, buf + i, 1) < 0)
			return -1;
		if (buf[i] == '\0')
			return 0;
	}
	buf[cap - 1] = '\0';
	return 0;
}

/* A class's "module.qualname": __qualname__ from the heap type, __module__
 * from its dict. */
static int heap_type_name(struct pc_py *py, const struct py_type *type, char *buf, size_t cap)
{
	char qualname[NAME_MAX_LEN], module[NAME_MAX_LEN] = "";
	uint64_t qual, dict, mod = 0;

	if (py_u64(py, type->addr + (uint64_t)py->L.off[LF_HEAPTYPE_QUALNAME], &qual) < 0 ||
	    py_str(py, qual, qualname, sizeof qualname) < 0)
		return -1;
	if (py_field(py, type->addr, LF_TYPE_DICT, &dict) == 0 && dict &&
	    py_dict_get_str(py, dict, "__module__", &mod) == 0 && mod &&
	    py_str(py, mod, module, sizeof module) < 0)
		module[0] = '\0';
	pc_clear_error();
	if (!module[0] || strcmp(module, "builtins") == 0)
		snprintf(buf, cap, "%s", qualname);
	else
		snprintf(buf, cap, "%s.%s", module, qualname);
	return 0;
}

const char *types_name(struct pc_types *t, const struct py_type *type)
{
	struct py_type *mut = t->v[type->index];
	char buf[2 * NAME_MAX_LEN + 2];
	int rc;

	if (mut->name)
		return mut->name;
	rc = type->is_heap ? heap_type_name(t->py, type, buf, sizeof buf)
			   : static_type_name(t->py, type, buf, sizeof buf);
	if (rc < 0) {
		pc_clear_error();
		snprintf(buf, sizeof buf, "<type at %#llx>", (unsigned long long)type->addr);
	}
	if (!type->is_heap && strncmp(buf, "builtins.", 9) == 0)
		memmove(buf, buf + 9, strlen(buf + 9) + 1);
	mut->name = strdup(buf);
	return mut->name ? mut->name : "<out of memory>";
}

size_t types_count(const struct pc_types *t)
{
	return t->n;
}

const struct py_type *types_at(const struct pc_types *t, size_t index)
{
	return index < t->n ? t->v[index] : NULL;
}
