/* probe.c — compiled by scripts/gen-layouts against the installed headers
 * of one CPython build, so that its DWARF describes that CPython's types;
 * build/tools/layoutdump then reads it with layout_from_dwarf(), the same
 * code that reads a libpython's DWARF, and writes layout_3_X.c.
 *
 * Nothing here is executed.  -fno-eliminate-unused-debug-types keeps every
 * type the headers declare in the DWARF, so no variables are needed (and a
 * variable of a type one version lacks would not compile).  Macros leave
 * no DWARF, so probe_consts.h (written by layoutdump from layout.h) turns
 * each LC_* macro that is defined into an enumerator named
 * LAYOUT_PROBE_PREFIX + macro.
 *
 * Build flags: -DPy_BUILD_CORE -DPy_BUILD_CORE_BUILTIN, with include/python3.X
 * and include/python3.X/internal on the include path.
 */
#include <Python.h>

/* Public headers Python.h does not include in every version. */
#if __has_include(<frameobject.h>)
#include <frameobject.h>
#endif
#if __has_include(<code.h>)
#include <code.h>
#endif
#if __has_include(<longintrepr.h>)
#include <longintrepr.h>
#endif

/* Internal headers: the runtime, interpreter and frame structures, and
 * the object internals (dict keys, pymalloc) that moved out of .c files. */
#if __has_include(<pycore_runtime.h>)
#include <pycore_runtime.h>
#endif
#if __has_include(<pycore_pystate.h>)
#include <pycore_pystate.h>
#endif
#if __has_include(<pycore_interp.h>)
#include <pycore_interp.h>
#endif
#if __has_include(<pycore_tstate.h>)
#include <pycore_tstate.h>
#endif
#if __has_include(<pycore_gc.h>)
#include <pycore_gc.h>
#endif
#if __has_include(<pycore_pymem.h>)
#include <pycore_pymem.h>
#endif
#if __has_include(<pycore_obmalloc.h>)
#include <pycore_obmalloc.h>
#endif
#if __has_include(<pycore_frame.h>)
#include <pycore_frame.h>
#endif
#if __has_include(<pycore_code.h>)
#include <pycore_code.h>
#endif
#if __has_include(<pycore_dict.h>)
#include <pycore_dict.h>
#endif
#if __has_include(<pycore_typeobject.h>)
#include <pycore_typeobject.h>
#endif
#if __has_include(<pycore_moduleobject.h>)
#include <pycore_moduleobject.h>
#endif
#if __has_include(<pycore_genobject.h>)
#include <pycore_genobject.h>
#endif
#if __has_include(<pycore_long.h>)
#include <pycore_long.h>
#endif
#if __has_include(<pycore_object.h>)
#include <pycore_object.h>
#endif

#include "probe_consts.h"

/* Which headers these were. */
enum pycore_probe_version { pycore_const_PY_VERSION_HEX = PY_VERSION_HEX };
