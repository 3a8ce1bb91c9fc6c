/* paths.c — shortest paths from the roots, and their Python names. */
#include "paths.h"

#include "../common/error.h"
#include "../common/le.h"
#include "dupes.h"
#include "pyattr.h"
#include "pystack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNSEEN    UINT32_MAX
#define PATH_MAX_STEPS 4096
#define KEY_TEXT  96

struct pc_paths {
	struct pc_py *py;
	struct pc_types *types;
	const struct pc_graph *g;
	uint32_t *parent;            /* UNSEEN, or the node it was reached from (n: a root) */
	bool redact;
	uint64_t modules_dict;       /* sys.modules: its keys (module names) are never redacted */
};

static const enum root_kind root_order[] = {
	ROOT_SYS_MODULES, ROOT_SYS_DICT, ROOT_BUILTINS, ROOT_THREAD, ROOT_INTERPRETER, ROOT_C_STATIC,
};

/* Breadth-first from the roots of one kind, over what is not seen yet. */
static void search_from(struct pc_paths *p, enum root_kind kind, uint32_t *queue)
{
	const struct pc_graph *g = p->g;
	size_t head = 0, tail = 0;

	for (size_t k = 0; k < g->nroots; k++)
		if (g->roots[k].kind == kind && p->parent[g->roots[k].node] == UNSEEN) {
			p->parent[g->roots[k].node] = g->n;
			queue[tail++] = g->roots[k].node;
		}
	while (head < tail) {
		uint32_t v = queue[head++];
		for (uint32_t e = g->start[v]; e < g->start[v + 1]; e++) {
			uint32_t w = g->adj[e];
			if (p->parent[w] == UNSEEN) {
				p->parent[w] = v;
				queue[tail++] = w;
			}
		}
	}
}

struct pc_paths *paths_new(struct pc_py *py, struct pc_types *types, const struct pc_graph *g)
{
	struct pc_paths *p = calloc(1, sizeof *p);
	uint32_t *queue = malloc(((size_t)g->n + 1) * sizeof *queue);

	if (!p || !queue || !(p->parent = malloc(((size_t)g->n + 1) * sizeof *p->parent))) {
		free(queue);
		if (p)
			free(p->parent);
		free(p);
		pc_fail(PC_EINTERNAL, 0, "out of memory for paths");
		return NULL;
	}
	p->py = py;
	p->types = types;
	p->g = g;
	for (size_t i = 0; i <= g->n; i++)
		p->parent[i] = UNSEEN;
	for (size_t k = 0; k < sizeof root_order / sizeof root_order[0]; k++)
		search_from(p, root_order[k], queue);
	for (size_t k = 0; k < g->nroots && !p->modules_dict; k++)
		if (g->roots[k].kind == ROOT_SYS_MODULES)
			p->modules_dict = g->index->v[g->roots[k].node].addr;
	free(queue);
	return p;
}

void paths_redact(struct pc_paths *p, bool on)
{
	p->redact = on;
}

void paths_free(struct pc_paths *p)
{
	if (p)
		free(p->parent);
	free(p);
}

/* ---- naming one step ---------------------------------------------------- */

static const struct py_type *type_of(struct pc_paths *p, uint32_t node)
{
	return types_at(p->types, p->g->index->v[node].type);
}

static uint64_t addr_of(struct pc_paths *p, uint32_t node)
{
	return p->g->index->v[node].addr;
}

static bool is_known(struct pc_paths *p, uint32_t node, enum py_known_type k)
{
	const struct py_type *t = type_of(p, node);
	return t && t->addr == p->py->known[k];
}

static bool has_flag(struct pc_paths *p, uint32_t node, enum layout_const_id flag)
{
	const struct py_type *t = type_of(p, node);
	return t && (t->flags & layout_flag(&p->py->L, flag));
}

/* A key as Python would print it: 'text', 42, or <type>. */
static void key_repr(struct pc_paths *p, uint64_t key, bool redactable, char *buf, size_t cap)
{
	char text[KEY_TEXT];
	int64_t v;

	if (py_str(p->py, key, text, sizeof text) == 0) {
		if (p->redact && redactable)
			dupes_redacted(text, strlen(text), "chars", buf, cap);
		else
			snprintf(buf, cap, "'%s'", text);
	} else if (py_int(p->py, key, &v) == 0) {
		snprintf(buf, cap, "%lld", (long long)v);
	} else {
		uint64_t t = 0;
		const struct py_type *ty;
		py_type_of(p->py, key, &t);
		ty = types_lookup(p->types, t);
		snprintf(buf, cap, "<%s>", ty ? types_name(p->types, ty) : "?");
	}
	pc_clear_error();
}

#define FRAMES_MAX 1024

/* "worker" (3.11+: "Server.worker"): the function a code object runs. */
static void code_function(struct pc_paths *p, uint64_t code, char *buf, size_t cap)
{
	uint64_t name;

	if (py_field(p->py, code, p->py->L.code_has_qualname ? LF_CODE_QUALNAME : LF_CODE_NAME, &name) < 0 ||
	    py_str(p->py, name, buf, cap) < 0)
		snprintf(buf, cap, "?");
	pc_clear_error();
}

static int32_t code_int32(struct pc_py *py, uint64_t code, enum layout_field_id id)
{
	int32_t v = 0;
	if (py_read(py, code + (uint64_t)py->L.off[id], &v, 4) < 0)
		pc_clear_error();
	return v;
}

static bool is_identifier(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || (unsigned char)*s >= 0x80))
			return false;
	return true;
}

struct key_search {
	uint64_t child;
	uint64_t key;
	bool is_key;
};

static int match_value(struct pc_py *py, uint64_t key, uint64_t value, void *arg)
{
	struct key_search *s = arg;

	(void)py;
	if (value == s->child || key == s->child) {
		s->key = key;
		s->is_key = key == s->child;
		return 1;
	}
	return 0;
}

/* key as an attribute name (".name") when it is a str identifier and the
 * mapping holds attributes, else as a subscript ("[key]"). */
static void name_key(struct pc_paths *p, uint64_t key, bool attributes, bool redactable, char *via,
		     size_t cap)
{
	char text[KEY_TEXT], repr[KEY_TEXT + 8];

	if (attributes && py_str(p->py, key, text, sizeof text) == 0 && is_identifier(text)) {
		snprintf(via, cap, ".%s", text);
		return;
	}
	pc_clear_error();
	key_repr(p, key, redactable, repr, sizeof repr);
	snprintf(via, cap, "[%s]", repr);
}

/* dict -> child: by the key that holds it. */
static void name_dict_step(struct pc_paths *p, uint64_t dict, uint64_t child, bool attributes,
			   char *via, size_t cap)
{
	struct key_search s = { child, 0, false };
	char key[KEY_TEXT + 8];

	if (py_dict_foreach(p->py, dict, match_value, &s) <= 0) {
		pc_clear_error();
		snprintf(via, cap, "[?]");
		return;
	}
	if (s.is_key) {
		key_repr(p, s.key, true, key, sizeof key);
		snprintf(via, cap, ".keys() %s", key);
		return;
	}
	name_key(p, s.key, attributes, dict != p->modules_dict, via, cap);
}

/* list or tuple -> child: "[i]". */
static bool name_item_step(struct pc_paths *p, uint32_t parent, uint64_t child, char *via, size_t cap)
{
	struct pc_py *py = p->py;
	uint64_t obj = addr_of(p, parent), n = 0, items = obj + (uint64_t)py->L.off[LF_TUPLE_ITEMS];
	const uint8_t *v;
	bool is_list = has_flag(p, parent, LC_TPFLAGS_LIST_SUBCLASS);

	if (py_field(py, obj, LF_VAROBJECT_SIZE, &n) < 0 ||
	    (is_list && py_u64(py, obj + (uint64_t)py->L.off[LF_LIST_ITEMS], &items) < 0) ||
	    n > (1ull << 32) || !(v = py_ptr(py, items, (size_t)n * 8))) {
		pc_clear_error();
		return false;
	}
	for (uint64_t i = 0; i < n; i++)
		if (le_get64(v + 8 * i) == child) {
			snprintf(via, cap, "[%llu]", (unsigned long long)i);
			return true;
		}
	return false;
}

/* An object holding the dict it exposes as attributes (a module's md_dict,
 * a class's tp_dict, an instance's __dict__)? */
static bool holds_as_dict(struct pc_paths *p, uint32_t parent, uint64_t child)
{
	struct pc_py *py = p->py;
	uint64_t obj = addr_of(p, parent), d = 0;
	const struct py_type *t = type_of(p, parent);

	if (is_known(p, parent, PT_MODULE))
		return py_field(py, obj, LF_MODULE_DICT, &d) == 0 && d == child;
	if (t && t->rule == SIZE_TYPE)
		return py_field(py, obj, LF_TYPE_DICT, &d) == 0 && d == child;
	if (!t || !t->is_heap)
		return false;
	/* An instance: its managed dict, or the one at tp_dictoffset. */
	if (py->L.has_preheader && py_u64(py, obj - py->gc_head - 8, &d) == 0 && d == child)
		return true;
	if (t->dictoffset > 0 && py_u64(py, obj + (uint64_t)t->dictoffset, &d) == 0 && d == child)
		return true;
	pc_clear_error();
	return false;
}

/* An attribute an instance holds in its values array (3.11+): ".name". */
static bool name_value_step(struct pc_paths *p, uint32_t parent, uint64_t child, char *via,
			    size_t cap)
{
	const struct py_type *t = type_of(p, parent);
	uint64_t slots, count, keys, key;
	const uint8_t *v;

	if (!t || !t->is_heap ||
	    py_managed_values(p->py, addr_of(p, parent), t->addr, t->flags, &slots, &count, &keys) < 0 ||
	    !slots || count > 4096 || !(v = py_ptr(p->py, slots, (size_t)count * 8))) {
		pc_clear_error();
		return false;
	}
	for (uint64_t i = 0; i < count; i++)
		if (le_get64(v + 8 * i) == child) {
			if (py_dict_keys_key_at(p->py, keys, i, &key) < 0 || !key)
				break;
			name_key(p, key, true, true, via, cap);
			return true;
		}
	pc_clear_error();
	return false;
}

/* Everything else: what the parent holds, by type. */
static void name_other_step(struct pc_paths *p, uint32_t child, char *via, size_t cap)
{
	const struct py_type *ct = type_of(p, child);
	snprintf(via, cap, "-><%s>", ct ? types_name(p->types, ct) : "?");
}

/* <= 3.10: a frame object holds its locals, its globals, the frame below. */
static bool name_frame_step(struct pc_paths *p, uint32_t parent, uint64_t child, char *via,
			    size_t cap, bool *attributes)
{
	struct pc_py *py = p->py;
	uint64_t f = addr_of(p, parent), code, v, names, name;
	int32_t nlocals;
	char func[KEY_TEXT], local[KEY_TEXT];

	if (!py->L.frames_are_objects || !is_known(p, parent, PT_FRAME) ||
	    py_field(py, f, LF_FRAME_CODE, &code) < 0) {
		pc_clear_error();
		return false;
	}
	if (py_field(py, f, LF_FRAME_BACK, &v) == 0 && v == child) {
		if (py_field(py, child, LF_FRAME_CODE, &code) == 0)
			code_function(p, code, func, sizeof func);
		snprintf(via, cap, "-><frame %s()>", func);
		return true;
	}
	if (py_field(py, f, LF_FRAME_GLOBALS, &v) == 0 && v == child) {
		snprintf(via, cap, ".f_globals");
		*attributes = true;
		return true;
	}
	nlocals = code_int32(py, code, LF_CODE_NLOCALS);
	for (int32_t i = 0; i < nlocals && i < 4096; i++) {
		if (py_u64(py, f + (uint64_t)py->L.off[LF_FRAME_LOCALSPLUS] + 8 * (uint64_t)i, &v) < 0)
			break;
		if (v != child)
			continue;
		if (py_field(py, code, LF_CODE_VARNAMES, &names) < 0 ||
		    py_u64(py, names + (uint64_t)py->L.off[LF_TUPLE_ITEMS] + 8 * (uint64_t)i, &name) < 0 ||
		    py_str(py, name, local, sizeof local) < 0)
			snprintf(local, sizeof local, "%d", i);
		pc_clear_error();
		snprintf(via, cap, " local '%s'", local);
		return true;
	}
	pc_clear_error();
	return false;
}

/* How parent holds child; *attributes tells whether child is a dict whose
 * keys are attribute names (entered through its owner). */
static void name_step(struct pc_paths *p, uint32_t parent, uint32_t child, bool parent_attributes,
		      char *via, size_t cap, bool *attributes)
{
	uint64_t c = addr_of(p, child);

	*attributes = false;
	if (has_flag(p, parent, LC_TPFLAGS_DICT_SUBCLASS)) {
		name_dict_step(p, addr_of(p, parent), c, parent_attributes, via, cap);
	} else if ((has_flag(p, parent, LC_TPFLAGS_LIST_SUBCLASS) ||
		    has_flag(p, parent, LC_TPFLAGS_TUPLE_SUBCLASS)) &&
		   name_item_step(p, parent, c, via, cap)) {
		/* named */
	} else if (name_frame_step(p, parent, c, via, cap, attributes)) {
		/* named */
	} else if (holds_as_dict(p, parent, c)) {
		via[0] = '\0';
		*attributes = true;
	} else if (!name_value_step(p, parent, c, via, cap)) {
		name_other_step(p, child, via, cap);
	}
}

/* ---- the root ----------------------------------------------------------- */

static const struct graph_root *root_record(struct pc_paths *p, uint32_t node)
{
	for (size_t k = 0; k < p->g->nroots; k++)
		if (p->g->roots[k].node == node)
			return &p->g->roots[k];
	return NULL;
}

static const char *base_name(const char *path)
{
	return strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
}

/* The ELF file whose data (or .bss, which no file mapping shows) holds addr. */
static const char *file_at(struct pc_paths *p, uint64_t addr)
{
	struct pc_core *core = p->py->img->core;
	uint64_t ranges[8][2];

	for (size_t i = 0; i < core_file_count(core); i++) {
		const struct pc_core_file *f = core_file(core, i);
		if (addr >= f->start && addr < f->end)
			return base_name(f->path);
	}
	for (size_t m = 0; m < p->py->img->mods.n; m++) {
		size_t n = module_writable(&p->py->img->mods.v[m], ranges, 8);
		for (size_t k = 0; k < n; k++)
			if (addr >= ranges[k][0] && addr < ranges[k][1])
				return base_name(p->py->img->mods.v[m].path);
	}
	return "?";
}

/* 3.11+: the root was found in a frame of the thread's data stack: which
 * frame, which local.  "<thread 4242 frame worker() local 'buf'>". */
static bool name_frame_slot(struct pc_paths *p, const struct graph_root *r, uint32_t tid,
			    char *via, size_t cap)
{
	struct pc_py *py = p->py;
	uint64_t frames[FRAMES_MAX], code, names, name;
	char func[KEY_TEXT] = "?", local[KEY_TEXT];
	size_t n;

	if (pystack_iframes(py, r->owner, frames, FRAMES_MAX, &n) < 0) {
		pc_clear_error();
		return false;
	}
	for (size_t k = 0; k < n; k++) {
		uint64_t f = frames[k], slots = f + (uint64_t)py->L.off[LF_IFRAME_LOCALSPLUS];
		int32_t nlocals, stack;
		if (r->source < f || py_field(py, f, LF_IFRAME_CODE, &code) < 0) {
			pc_clear_error();
			continue;
		}
		nlocals = code_int32(py, code, LF_CODE_NLOCALSPLUS);
		stack = code_int32(py, code, LF_CODE_STACKSIZE);
		if (nlocals < 0 || stack < 0 ||
		    r->source >= slots + 8 * ((uint64_t)nlocals + (uint64_t)stack))
			continue;
		code_function(p, code, func, sizeof func);
		if (r->source < slots) {
			snprintf(via, cap, "<thread %u frame %s()>", tid, func);
		} else if ((r->source - slots) / 8 < (uint64_t)nlocals &&
			   py_field(py, code, LF_CODE_LOCALSPLUSNAMES, &names) == 0 &&
			   py_u64(py, names + (uint64_t)py->L.off[LF_TUPLE_ITEMS] + (r->source - slots), &name) == 0 &&
			   py_str(py, name, local, sizeof local) == 0) {
			snprintf(via, cap, "<thread %u frame %s() local '%s'>", tid, func, local);
		} else {
			snprintf(via, cap, "<thread %u frame %s() value stack>", tid, func);
		}
		pc_clear_error();
		return true;
	}
	return false;
}

static void name_root(struct pc_paths *p, uint32_t node, char *via, size_t cap, bool *attributes)
{
	const struct graph_root *r = root_record(p, node);
	uint64_t tid = 0, code;
	char func[KEY_TEXT];

	*attributes = false;
	switch (r ? r->kind : ROOT_C_STATIC) {
	case ROOT_SYS_MODULES:
		snprintf(via, cap, "sys.modules");
		return;
	case ROOT_SYS_DICT:
		snprintf(via, cap, "sys");
		*attributes = true;
		return;
	case ROOT_BUILTINS:
		snprintf(via, cap, "builtins");
		*attributes = true;
		return;
	case ROOT_THREAD:
		tid = (uint64_t)pystack_native_id(p->py, r->owner);
		if (is_known(p, node, PT_FRAME) && py_field(p->py, addr_of(p, node), LF_FRAME_CODE, &code) == 0) {
			code_function(p, code, func, sizeof func);
			snprintf(via, cap, "<thread %u frame %s()>", (uint32_t)tid, func);
			return;
		}
		pc_clear_error();
		if (!name_frame_slot(p, r, (uint32_t)tid, via, cap))
			snprintf(via, cap, "<thread %llu>-><%s>", (unsigned long long)(uint32_t)tid,
				 types_name(p->types, type_of(p, node)));
		return;
	case ROOT_INTERPRETER:
		snprintf(via, cap, "<interpreter state>-><%s>", types_name(p->types, type_of(p, node)));
		return;
	case ROOT_C_STATIC:
		snprintf(via, cap, "<C static in %s>-><%s>", r ? file_at(p, r->source) : "?",
			 types_name(p->types, type_of(p, node)));
		return;
	}
}

char *paths_name(struct pc_paths *p, uint32_t node, struct path_step **steps, size_t *nsteps)
{
	uint32_t chain[PATH_MAX_STEPS];
	size_t n = 0, len = 0, cap = 256;
	struct path_step *st = NULL;
	char *text = NULL;
	bool attributes;

	if (node >= p->g->n || p->parent[node] == UNSEEN)
		return NULL;
	for (uint32_t v = node; v != p->g->n && n < PATH_MAX_STEPS; v = p->parent[v])
		chain[n++] = v;
	if (!(text = malloc(cap)) || !(st = calloc(n, sizeof *st))) {
		free(text);
		pc_fail(PC_EINTERNAL, 0, "out of memory naming a path");
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t v = chain[n - 1 - k];
		st[k].node = v;
		if (k == 0)
			name_root(p, v, st[k].via, sizeof st[k].via, &attributes);
		else
			name_step(p, chain[n - k], v, attributes, st[k].via, sizeof st[k].via, &attributes);
		size_t add = strlen(st[k].via);
		if (len + add + 1 > cap) {
			char *grown = realloc(text, cap = 2 * (len + add + 1));
			if (!grown) {
				free(text);
				free(st);
				pc_fail(PC_EINTERNAL, 0, "out of memory naming a path");
				return NULL;
			}
			text = grown;
		}
		memcpy(text + len, st[k].via, add + 1);
		len += add;
	}
	if (steps) {
		*steps = st;
		*nsteps = n;
	} else {
		free(st);
	}
	return text;
}
