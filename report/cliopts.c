/* cliopts.c — options shared by pycore-report and pycore-diff. */
#include "cliopts.h"

#include "../common/error.h"

#include <stdlib.h>

int cli_shared_option(int c, const char *arg, size_t *limit, struct pc_search *search)
{
	char *end;

	switch (c) {
	case 'n':
		*limit = strtoul(arg, &end, 10);
		if (*end || !*arg)
			return pc_fail(PC_EUSAGE, 0, "--limit takes a number, not '%s'", arg);
		return 1;
	case OPT_EXE: search->exe = arg; return 1;
	case OPT_LIBPATH: search->lib_path = arg; return 1;
	case OPT_SYSROOT: search->sysroot = arg; return 1;
	}
	return 0;
}
