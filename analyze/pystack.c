/* pystack.c — the Python stack of every thread state, walked the way
 * sys._current_frames() and frame.f_back do:
 *
 *   runtime → interpreters (next) → thread states (next) → frames:
 *     frames_are_objects   tstate->frame, f_back; line from f_lasti
 *     otherwise            tstate->cframe->current_frame (frames_in_cframe)
 *                          or tstate->current_frame, then previous; frames
 *                          of the C stack and incomplete frames skipped
 *                          (_PyFrame_IsIncomplete), line from the
 *                          instruction pointer's offset in co_code_adaptive.
 *
 * Every list is bounded and checked for loops; what cannot be read ends
 * that list with a warning rather than failing the whole report.
 */
#include "pystack.h"

#include "linetable.h"
#include "pyattr.h"
#include "../common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OFF(py, id) ((uint64_t)(py)->L.off[id])

#define MAX_INTERPRETERS 4096
#define MAX_THREADS      (1u << 16)
#define MAX_FRAMES       (1u << 20)
#define MAX_LINE_TABLE   (64u << 20)

/* Brent's loop check: remember the node at steps 1, 2, 4, 8, …; seeing a
 * remembered node again means the list runs in a circle. */
struct loop_check {
	uint64_t mark;
	size_t steps, power;
};

static bool loop_seen(struct loop_check *lc, uint64_t node)
{
	if (lc->power && node == lc->mark)
		return true;
	if (++lc->steps >= lc->power) {
		lc->mark = node;
		lc->power = lc->power ? 2 * lc->power : 1;
		lc->steps = 0;
	}
	return false;
}

static int read_i32(struct pc_py *py, uint64_t addr, int32_t *out)
{
	return py_read(py, addr, out, sizeof *out);
}

/* End thread t's walk with a warning; with fmt NULL, the recorded error is
 * the reason (and is cleared: it is reported here, not to the caller). */
__attribute__((format(printf, 2, 3)))
static void stop(struct pc_thread_stack *t, const char *fmt, ...)
{
	va_list ap;

	t->truncated = true;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(t->warning, sizeof t->warning, fmt, ap);
		va_end(ap);
	} else {
		snprintf(t->warning, sizeof t->warning, "%s", pc_errmsg());
	}
	pc_clear_error();
}

/* ---- code objects ---- */

typedef int (*line_fn)(const uint8_t *, size_t, int, int);

struct code_info {
	char function[512];
	char file[4096];
	int32_t firstlineno;
	uint8_t *table;              /* the line table's bytes (malloc'd) */
	size_t len;
};

static bool is_type(struct pc_py *py, uint64_t obj, enum py_known_type known)
{
	uint64_t type;

	/* a binary that does not name the type cannot be checked against */
	return py->known[known] == 0 || (py_type_of(py, obj, &type) == 0 && type == py->known[known]);
}

/* The bytes of a bytes object, copied. */
static int read_bytes(struct pc_py *py, uint64_t obj, uint8_t **out, size_t *len)
{
	uint64_t size;

	*out = NULL;
	*len = 0;
	if (!is_type(py, obj, PT_BYTES))
		return pc_fail(PC_EFORMAT, 0, "line table at %#llx is not bytes",
			       (unsigned long long)obj);
	if (py_field(py, obj, LF_VAROBJECT_SIZE, &size) < 0)
		return -1;
	if (size > MAX_LINE_TABLE)
		return pc_fail(PC_EFORMAT, 0, "damaged line table at %#llx", (unsigned long long)obj);
	*out = malloc(size ? size : 1);
	if (!*out)
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	if (py_read(py, obj + OFF(py, LF_BYTES_SVAL), *out, size) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*len = size;
	return 0;
}

static int read_code(struct pc_py *py, uint64_t code, struct code_info *ci)
{
	uint64_t name, file, table;
	enum layout_field_id name_id = py->L.code_has_qualname ? LF_CODE_QUALNAME : LF_CODE_NAME;
	enum layout_field_id table_id =
		LAYOUT_HAS(&py->L, LF_CODE_LNOTAB) ? LF_CODE_LNOTAB : LF_CODE_LINETABLE;

	ci->table = NULL;
	if (!code || !is_type(py, code, PT_CODE))
		return pc_fail(PC_EFORMAT, 0, "frame code at %#llx is not a code object",
			       (unsigned long long)code);
	if (py_field(py, code, name_id, &name) < 0 || py_str(py, name, ci->function, sizeof ci->function) < 0 ||
	    py_field(py, code, LF_CODE_FILENAME, &file) < 0 || py_str(py, file, ci->file, sizeof ci->file) < 0 ||
	    read_i32(py, code + OFF(py, LF_CODE_FIRSTLINENO), &ci->firstlineno) < 0 ||
	    py_field(py, code, table_id, &table) < 0 || read_bytes(py, table, &ci->table, &ci->len) < 0)
		return -1;
	return 0;
}

/* The line of the instruction at byte offset addr, in the table's format:
 * the 3.11+ location table, else the ≤3.9 lnotab, else 3.10's ranges. */
static int code_line(struct pc_py *py, const struct code_info *ci, int64_t addr)
{
	line_fn fn = py->L.line_table_locations       ? linetable_locations_line
		   : LAYOUT_HAS(&py->L, LF_CODE_LNOTAB) ? linetable_lnotab_line
							: linetable_ranges_line;

	if (addr < -2 || addr > INT32_MAX)
		return -1;
	return fn(ci->table, ci->len, ci->firstlineno, (int)addr);
}

/* ---- frames ---- */

static int add_frame(struct pc_thread_stack *t, const struct code_info *ci, int line)
{
	struct pc_frame *f;

	if ((t->nframes & (t->nframes - 1)) == 0) {   /* full at 0, 1, 2, 4, …: double */
		size_t cap = t->nframes ? 2 * t->nframes : 1;
		void *p = realloc(t->frames, cap * sizeof *t->frames);
		if (!p)
			return pc_fail(PC_EINTERNAL, 0, "out of memory");
		t->frames = p;
	}
	f = &t->frames[t->nframes];
	f->function = strdup(ci->function);
	f->file = strdup(ci->file);
	f->line = line;
	if (!f->function || !f->file) {
		free(f->function);
		free(f->file);
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	}
	t->nframes++;
	return 0;
}

/* Add the frame running code at byte offset addr. */
static int add_code_frame(struct pc_py *py, struct pc_thread_stack *t, uint64_t code, int64_t addr)
{
	struct code_info ci;
	int rc = -1;

	if (read_code(py, code, &ci) == 0)
		rc = add_frame(t, &ci, code_line(py, &ci, addr));
	free(ci.table);
	return rc;
}

/* 3.8-3.10: PyFrameObjects from tstate->frame along f_back. */
static void walk_frame_objects(struct pc_py *py, struct pc_thread_stack *t)
{
	struct loop_check lc = { 0 };
	uint64_t f, code;
	int32_t lasti;

	if (py_field(py, t->tstate, LF_TSTATE_FRAME, &f) < 0)
		return stop(t, NULL);
	while (f) {
		if (loop_seen(&lc, f) || t->nframes >= MAX_FRAMES)
			return stop(t, "frame chain loops or exceeds %u frames", MAX_FRAMES);
		if (!is_type(py, f, PT_FRAME))
			return stop(t, "frame at %#llx is not a frame object", (unsigned long long)f);
		if (py_field(py, f, LF_FRAME_CODE, &code) < 0 ||
		    read_i32(py, f + OFF(py, LF_FRAME_LASTI), &lasti) < 0)
			return stop(t, NULL);
		/* PyFrame_GetLineNumber: f_lasti in bytes, or in code units */
		if (add_code_frame(py, t, code, (int64_t)lasti * (py->L.frames_lasti_in_units ? 2 : 1)) < 0 ||
		    py_field(py, f, LF_FRAME_BACK, &f) < 0)
			return stop(t, NULL);
	}
}

/* The innermost interpreter frame of a thread state (3.11+). */
static int current_iframe(struct pc_py *py, uint64_t tstate, uint64_t *frame)
{
	uint64_t cframe;

	if (!py->L.frames_in_cframe)
		return py_field(py, tstate, LF_TSTATE_CURRENT_FRAME, frame);
	if (py_field(py, tstate, LF_TSTATE_CFRAME, &cframe) < 0)
		return -1;
	*frame = 0;
	return cframe ? py_field(py, cframe, LF_CFRAME_CURRENT_FRAME, frame) : 0;
}

/* One _PyInterpreterFrame (3.11+): added to t, or passed over as Python
 * passes over it.  Returns 0, or -1 with the error recorded when the frame
 * cannot be trusted. */
static int visit_iframe(struct pc_py *py, struct pc_thread_stack *t, uint64_t f)
{
	int64_t cstack = py->L.konst[LC_FRAME_OWNED_BY_CSTACK];
	int64_t generator = py->L.konst[LC_FRAME_OWNED_BY_GENERATOR];
	uint64_t code, instr, units;
	int32_t first_traceable = 0;
	int64_t addr;
	uint8_t owner;

	if (py_read(py, f + OFF(py, LF_IFRAME_OWNER), &owner, 1) < 0)
		return -1;
	/* the entry frame C pushes when it calls into the interpreter (3.12+):
	 * no Python code of its own */
	if (cstack != LAYOUT_ABSENT && owner == cstack)
		return 0;
	if (py_field(py, f, LF_IFRAME_CODE, &code) < 0 || py_field(py, f, LF_IFRAME_INSTR, &instr) < 0)
		return -1;
	if (!code || !is_type(py, code, PT_CODE))
		return pc_fail(PC_EFORMAT, 0, "frame at %#llx runs no code object",
			       (unsigned long long)f);
	if (py_field(py, code, LF_VAROBJECT_SIZE, &units) < 0 ||
	    (LAYOUT_HAS(&py->L, LF_CODE_FIRSTTRACEABLE) &&
	     read_i32(py, code + OFF(py, LF_CODE_FIRSTTRACEABLE), &first_traceable) < 0))
		return -1;
	/* _PyInterpreterFrame_LASTI * sizeof(_Py_CODEUNIT): the pointer's
	 * distance from the first code unit in bytes, prev_instr (one unit
	 * before the start when not yet run) and instr_ptr alike */
	addr = (int64_t)(instr - (code + OFF(py, LF_CODE_ADAPTIVE)));
	if (addr < -2 || addr > (int64_t)(2 * units))
		return pc_fail(PC_EFORMAT, 0, "frame at %#llx points outside its code",
			       (unsigned long long)f);
	/* incomplete: still setting up, before its first traceable
	 * instruction (_PyFrame_IsIncomplete); Python hides it too */
	if (owner != generator && addr < 2 * (int64_t)first_traceable)
		return 0;
	return add_code_frame(py, t, code, addr);
}

/* 3.11+: _PyInterpreterFrames along previous. */
static void walk_interpreter_frames(struct pc_py *py, struct pc_thread_stack *t)
{
	struct loop_check lc = { 0 };
	uint64_t f;

	if (current_iframe(py, t->tstate, &f) < 0)
		return stop(t, NULL);
	while (f) {
		if (loop_seen(&lc, f) || t->nframes >= MAX_FRAMES)
			return stop(t, "frame chain loops or exceeds %u frames", MAX_FRAMES);
		if (visit_iframe(py, t, f) < 0 || py_field(py, f, LF_IFRAME_PREVIOUS, &f) < 0)
			return stop(t, NULL);
	}
}

/* ---- thread names: threading._active, {ident: Thread} ---- */

struct py_thread {
	uint64_t ident, thread;
};

struct thread_names {
	struct py_thread *v;
	size_t n;
};

static int collect_thread(struct pc_py *py, uint64_t key, uint64_t value, void *arg)
{
	struct thread_names *names = arg;
	int64_t ident;
	void *p;

	if (py_int(py, key, &ident) < 0) {
		pc_clear_error();            /* not an int: not a thread id */
		return 0;
	}
	if (names->n >= MAX_THREADS)
		return 1;
	p = realloc(names->v, (names->n + 1) * sizeof *names->v);
	if (!p)
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	names->v = p;
	names->v[names->n++] = (struct py_thread){ (uint64_t)ident, value };
	return 0;
}

/* The Thread objects threading knows in this interpreter; none when it was
 * never imported (not an error: such threads have no name). */
static void thread_names_read(struct pc_py *py, uint64_t interp, struct thread_names *names)
{
	uint64_t modules, threading, dict, active;

	names->v = NULL;
	names->n = 0;
	if (py_field(py, interp, LF_INTERP_MODULES, &modules) < 0 || !modules ||
	    py_dict_get_str(py, modules, "threading", &threading) < 0 || !threading ||
	    py_field(py, threading, LF_MODULE_DICT, &dict) < 0 || !dict ||
	    py_dict_get_str(py, dict, "_active", &active) < 0 || !active ||
	    py_dict_foreach(py, active, collect_thread, names) < 0)
		pc_clear_error();
}

static char *thread_name(struct pc_py *py, const struct thread_names *names, uint64_t ident)
{
	char text[256];
	uint64_t name;

	for (size_t i = 0; i < names->n; i++) {
		if (names->v[i].ident != ident)
			continue;
		if (py_instance_dict_get(py, names->v[i].thread, "_name", &name) == 0 && name &&
		    py_str(py, name, text, sizeof text) == 0)
			return strdup(text);
		pc_clear_error();
		return NULL;
	}
	return NULL;
}

/* ---- threads ---- */

/* The LWP id: tstate->native_thread_id where there is one, else the core
 * thread whose fs_base (its TCB, which is its pthread_t) is thread_id. */
static int native_id(struct pc_py *py, uint64_t tstate, uint64_t pthread_id)
{
	uint64_t tid = 0;

	if (LAYOUT_HAS(&py->L, LF_TSTATE_NATIVE_THREAD_ID) &&
	    py_field(py, tstate, LF_TSTATE_NATIVE_THREAD_ID, &tid) == 0 && tid)
		return (int)tid;
	pc_clear_error();
	for (size_t i = 0; pthread_id && i < core_thread_count(py->img->core); i++) {
		const struct pc_core_thread *ct = core_thread(py->img->core, i);
		if (ct->regs.fs_base == pthread_id)
			return ct->tid;
	}
	return 0;
}

struct walk {
	struct pc_py *py;
	struct pc_thread_stack *v;
	size_t n, cap;
};

static struct pc_thread_stack *add_thread(struct walk *w)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		void *p = realloc(w->v, cap * sizeof *w->v);
		if (!p) {
			pc_fail(PC_EINTERNAL, 0, "out of memory");
			return NULL;
		}
		w->v = p;
		w->cap = cap;
	}
	memset(&w->v[w->n], 0, sizeof w->v[w->n]);
	return &w->v[w->n++];
}

/* One thread state; its next in *next (0 at the end or when unreadable,
 * which the entry then says). */
static int read_thread(struct walk *w, uint64_t interp, int64_t interp_id, uint64_t ts,
		       const struct thread_names *names, uint64_t *next)
{
	struct pc_py *py = w->py;
	struct pc_thread_stack *t = add_thread(w);
	uint64_t owner;

	*next = 0;
	if (!t)
		return -1;
	t->interp = interp;
	t->interp_id = interp_id;
	t->tstate = ts;
	if (py_field(py, ts, LF_TSTATE_NEXT, next) < 0 ||
	    py_field(py, ts, LF_TSTATE_INTERP, &owner) < 0 ||
	    py_field(py, ts, LF_TSTATE_THREAD_ID, &t->pthread_id) < 0) {
		*next = 0;
		stop(t, NULL);
		return 0;
	}
	/* every thread state points back at its interpreter: what does not
	 * is not a thread state of this list (a damaged link) */
	if (owner != interp) {
		*next = 0;
		stop(t, "thread state at %#llx names interpreter %#llx, not %#llx (a damaged list)",
		     (unsigned long long)ts, (unsigned long long)owner, (unsigned long long)interp);
		return 0;
	}
	t->native_id = native_id(py, ts, t->pthread_id);
	t->name = thread_name(py, names, t->pthread_id);
	if (py->L.frames_are_objects)
		walk_frame_objects(py, t);
	else
		walk_interpreter_frames(py, t);
	return 0;
}

static int read_interpreter(struct walk *w, uint64_t interp, uint64_t *next)
{
	struct pc_py *py = w->py;
	struct thread_names names;
	struct loop_check lc = { 0 };
	uint64_t ts, id = 0;
	size_t count = 0;
	int rc = 0;

	*next = 0;
	if (py_field(py, interp, LF_INTERP_NEXT, next) < 0 ||
	    py_field(py, interp, LF_INTERP_THREADS_HEAD, &ts) < 0 ||
	    (LAYOUT_HAS(&py->L, LF_INTERP_ID) && py_field(py, interp, LF_INTERP_ID, &id) < 0)) {
		struct pc_thread_stack *t = add_thread(w);
		if (!t)
			return -1;
		t->interp = interp;
		*next = 0;
		stop(t, NULL);
		return 0;
	}
	thread_names_read(py, interp, &names);
	while (ts && rc == 0) {
		if (loop_seen(&lc, ts) || ++count > MAX_THREADS) {
			stop(&w->v[w->n - 1], "thread list loops or exceeds %u threads", MAX_THREADS);
			break;
		}
		rc = read_thread(w, interp, (int64_t)id, ts, &names, &ts);
	}
	free(names.v);
	return rc;
}

void pystack_free(struct pc_thread_stack *threads, size_t n)
{
	for (size_t i = 0; threads && i < n; i++) {
		for (size_t k = 0; k < threads[i].nframes; k++) {
			free(threads[i].frames[k].function);
			free(threads[i].frames[k].file);
		}
		free(threads[i].frames);
		free(threads[i].name);
	}
	free(threads);
}

int pystack_threads(struct pc_py *py, struct pc_thread_stack **out, size_t *n)
{
	struct walk w = { py, NULL, 0, 0 };
	struct loop_check lc = { 0 };
	uint64_t interp;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (py_field(py, py->rt.addr, LF_RUNTIME_INTERP_HEAD, &interp) < 0)
		return -1;
	if (!interp)
		return pc_fail(PC_EFORMAT, 0, "the Python runtime has no interpreters "
			       "(the process was starting or exiting)");
	while (interp) {
		if (loop_seen(&lc, interp) || ++count > MAX_INTERPRETERS) {
			if (w.n)
				stop(&w.v[w.n - 1], "interpreter list loops or exceeds %u",
				     MAX_INTERPRETERS);
			break;
		}
		if (read_interpreter(&w, interp, &interp) < 0) {
			pystack_free(w.v, w.n);
			return -1;
		}
	}
	*out = w.v;
	*n = w.n;
	return 0;
}

int pystack_iframes(struct pc_py *py, uint64_t tstate, uint64_t *frames, size_t max, size_t *n)
{
	struct loop_check lc = { 0 };
	uint64_t f;

	*n = 0;
	if (LAYOUT_HAS(&py->L, LF_TSTATE_FRAME) || current_iframe(py, tstate, &f) < 0)
		return -1;
	while (f && *n < max && !loop_seen(&lc, f)) {
		frames[(*n)++] = f;
		if (py_field(py, f, LF_IFRAME_PREVIOUS, &f) < 0)
			break;
	}
	pc_clear_error();
	return 0;
}

int pystack_native_id(struct pc_py *py, uint64_t tstate)
{
	uint64_t pthread_id = 0;

	if (py_field(py, tstate, LF_TSTATE_THREAD_ID, &pthread_id) < 0)
		pc_clear_error();
	return native_id(py, tstate, pthread_id);
}
