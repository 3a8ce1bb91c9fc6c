/* fuzz_pyfacts.c — the PYCORE "python" note (docs/pycore-note.md) on
 * arbitrary bytes: parsing, symbol and string lookups, and the layout it
 * describes for every supported version.
 */
#include "fuzz_common.h"

#include "../../analyze/layout.h"
#include "../../analyze/pyfacts.h"
#include "../../common/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_pyfacts f;
	struct pc_layout layout;
	uint64_t addr;
	char buf[64];

	if (pyfacts_parse(data, size, &f) == 0) {
		(void)pyfacts_symbol(&f, "_PyRuntime", &addr);
		for (size_t i = 0; i < f.nstrings && i < 16; i++)
			(void)pyfacts_read(&f, f.strings[i].addr, buf, sizeof buf);
		(void)pyfacts_layout(&f, f.hexversion, &layout);
		pyfacts_free(&f);
	}
	pc_clear_error();
	return 0;
}
