/* runtime.h — find the CPython runtime in a core: where _PyRuntime is and
 * which Python it is.
 *
 * Strategies, in order (each tried only when the one before found nothing):
 *   1. the _PyRuntime symbol in a binary the core names (.dynsym, .symtab);
 *   2. 3.13+: the "xdebugpy" cookie of _Py_DebugOffsets, which begins
 *      _PyRuntime, found in the core's memory — no binary needed.
 * The version, in order: Py_Version (3.11+, read from the binary's .rodata);
 * the sys.version text start-up leaves in a static buffer (found by its
 * .symtab name, so unstripped builds only); the major.minor in the name of
 * the binary that defines _PyRuntime.
 */
#ifndef PYCORE_RUNTIME_H
#define PYCORE_RUNTIME_H

#include "image.h"

#include <stdbool.h>
#include <stdint.h>

struct pc_runtime {
	uint64_t addr;               /* &_PyRuntime in the process */
	uint32_t hexversion;         /* PY_VERSION_HEX (micro 0 when !exact) */
	bool version_exact;          /* from Py_Version or the version text */
	const struct pc_module *binary;   /* defines _PyRuntime */
};

/* Returns 0, or -1: PC_EFORMAT "not a Python process" when no binary
 * defines _PyRuntime, naming any Python binary that could not be found
 * (and the build-id it must have). */
int runtime_find(struct pc_image *img, struct pc_runtime *rt);

/* When a Python binary (named like python3.X or libpython3.X) the core maps
 * was not found: -1 with PC_EFORMAT naming it and its build-id; else 0. */
int runtime_missing_binary(const struct pc_image *img);

/* PY_VERSION_HEX of a sys.version text ("3.8.18 (default, …)" → 0x030812f0,
 * "3.13.0rc1" → 0x030d00c1); 0 when it is not a Python 3 version. */
uint32_t runtime_version_from_text(const char *text);

#endif
