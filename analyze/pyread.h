/* pyread.h — a Python process in a core, read as CPython objects.
 *
 * struct pc_py ties together the memory image, the runtime and its layout,
 * and the addresses of the built-in types pycore recognises objects by.
 * The readers below are what the heap walk and the thread stacks share:
 * typed reads of fields, str and int values, dict iteration.  Each returns
 * 0 or -1 with the error recorded (PC_EFORMAT naming the address when the
 * core does not hold it).
 */
#ifndef PYCORE_PYREAD_H
#define PYCORE_PYREAD_H

#include "image.h"
#include "layout.h"
#include "runtime.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Static type objects pycore needs to know by address. */
#define PY_KNOWN_TYPES(X) \
	X(PT_TYPE,       "PyType_Type") \
	X(PT_OBJECT,     "PyBaseObject_Type") \
	X(PT_STR,        "PyUnicode_Type") \
	X(PT_INT,        "PyLong_Type") \
	X(PT_BOOL,       "PyBool_Type") \
	X(PT_FLOAT,      "PyFloat_Type") \
	X(PT_BYTES,      "PyBytes_Type") \
	X(PT_BYTEARRAY,  "PyByteArray_Type") \
	X(PT_TUPLE,      "PyTuple_Type") \
	X(PT_LIST,       "PyList_Type") \
	X(PT_DICT,       "PyDict_Type") \
	X(PT_SET,        "PySet_Type") \
	X(PT_FROZENSET,  "PyFrozenSet_Type") \
	X(PT_MODULE,     "PyModule_Type") \
	X(PT_FUNCTION,   "PyFunction_Type") \
	X(PT_CODE,       "PyCode_Type") \
	X(PT_FRAME,      "PyFrame_Type") \
	X(PT_GEN,        "PyGen_Type") \
	X(PT_CORO,       "PyCoro_Type") \
	X(PT_ASYNC_GEN,  "PyAsyncGen_Type") \
	X(PT_CELL,       "PyCell_Type") \
	X(PT_METHOD,     "PyMethod_Type") \
	X(PT_WEAKREF,    "_PyWeakref_RefType") \
	X(PT_WEAKPROXY,  "_PyWeakref_ProxyType") \
	X(PT_WEAKCALLABLEPROXY, "_PyWeakref_CallableProxyType")

#define PY_ENUM_ID(id, ...) id,
enum py_known_type { PY_KNOWN_TYPES(PY_ENUM_ID) PT_COUNT };
#undef PY_ENUM_ID

struct pc_py {
	struct pc_image *img;
	struct pc_runtime rt;
	struct pc_layout L;
	uint64_t known[PT_COUNT];    /* 0 when a binary does not say */
	uint64_t main_interp;        /* the main PyInterpreterState */
	uint32_t gc_head;            /* sizeof(PyGC_Head) */
};

/* Find the runtime, its layout, the known types and the main interpreter.
 * Returns 0 or -1 (not a Python process, unsupported version, …). */
int py_open(struct pc_py *py, struct pc_image *img);

/* Raw memory, the core first, then the binaries' read-only data. */
int py_read(struct pc_py *py, uint64_t addr, void *buf, size_t len);

/* A pointer straight into the core (no copy), or NULL when it does not
 * hold [addr, addr+len) — e.g. .rodata, which only the binaries have. */
static inline const void *py_ptr(struct pc_py *py, uint64_t addr, size_t len)
{
	return core_ptr(py->img->core, addr, len);
}

int py_u64(struct pc_py *py, uint64_t addr, uint64_t *out);

/* 1 <= ob_refcnt < 2^32: also true of 3.12+ immortal objects, whose count
 * stays at exactly UINT_MAX (_Py_IMMORTAL_REFCNT). */
static inline bool py_refcnt_plausible(uint64_t refcnt)
{
	return refcnt >= 1 && refcnt < (1ull << 32);
}

/* The 8-byte field id of the object at obj (pointer, Py_ssize_t, …). */
int py_field(struct pc_py *py, uint64_t obj, enum layout_field_id id, uint64_t *out);

/* A str object's text as UTF-8, NUL-terminated, cut at cap-1 bytes (a cut
 * is not an error).  Fails when obj is not a str. */
int py_str(struct pc_py *py, uint64_t obj, char *buf, size_t cap);

/* Where a str's characters are: *len code points of *kind bytes each at
 * *data (no check that obj is a str: the caller knows its type). */
int py_str_raw(struct pc_py *py, uint64_t obj, uint64_t *data, uint64_t *len, unsigned *kind);

/* An int object's value; fails when obj is not an int or does not fit. */
int py_int(struct pc_py *py, uint64_t obj, int64_t *out);

/* Call fn for each live (key, value) of a dict; fn returns non-zero to
 * stop, which py_dict_foreach returns.  -1 on a read error. */
typedef int (*py_dict_fn)(struct pc_py *py, uint64_t key, uint64_t value, void *arg);
int py_dict_foreach(struct pc_py *py, uint64_t dict, py_dict_fn fn, void *arg);

/* The entry index of str key name in a keys table (a class's shared keys:
 * entry i's value is values[i]); 0 with *index -1 when absent. */
int py_dict_keys_find_str(struct pc_py *py, uint64_t keys, const char *name, int64_t *index);

/* The key object of entry index of a keys table; 0 with *key = 0 past the
 * last entry. */
int py_dict_keys_key_at(struct pc_py *py, uint64_t keys, uint64_t index, uint64_t *key);

/* The value of a str key in a dict; 0 and *value = 0 when absent. */
int py_dict_get_str(struct pc_py *py, uint64_t dict, const char *key, uint64_t *value);

/* Every interpreter state, in the runtime's list order (newest first), at
 * most cap of them: 0 with *n set, or -1 when the list cannot be read.  A
 * list that loops or breaks ends where it did; the main interpreter is
 * always included. */
#define PY_INTERPRETERS_MAX 256
int py_interpreters(struct pc_py *py, uint64_t *out, size_t cap, size_t *n);

/* Py_TYPE(obj). */
int py_type_of(struct pc_py *py, uint64_t obj, uint64_t *type);

#endif
