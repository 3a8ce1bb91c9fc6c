/* fuzz_layout.c — CPython layouts resolved from DWARF (analyze/dwarfinfo.c,
 * analyze/layout.c) on arbitrary bytes: the input is taken as the ELF
 * file of the binary that defines _PyRuntime, as layout_resolve() would
 * open it.  Damaged debug info (typedef and member loops, absurd sizes
 * and offsets, names that are not strings) must give an absent field or
 * no layout, never a crash or a hang.
 *
 * Seeds (make-seeds): analyze/layouts/probe.c compiled with -g against
 * each pyenv build's headers, as scripts/gen-layouts does: a small shared
 * object whose DWARF describes every structure the resolver asks about.
 */
#include "fuzz_common.h"

#include "../../analyze/dwarfinfo.h"
#include "../../analyze/layout.h"
#include "../../common/error.h"

/* The version a probe records about its headers (probe.c), else 3.12. */
static uint32_t probe_version(struct pc_dwarf *d)
{
	int64_t v;

	if (dwarfinfo_enumerator(d, "pycore_const_PY_VERSION_HEX", &v) == 0)
		return (uint32_t)v;
	return 0x030c00f0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfile(data, size);
	char path[64];
	struct pc_dwarf *d;
	struct pc_layout layout;

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	d = dwarfinfo_open(path);
	if (d) {
		(void)layout_from_dwarf(d, probe_version(d), &layout);
		(void)dwarfinfo_type_file(d, "PyObject");
		(void)dwarfinfo_membersize(d, "PyTypeObject", "tp_name");
		dwarfinfo_close(d);
	}
	pc_clear_error();
	close(fd);
	return 0;
}
