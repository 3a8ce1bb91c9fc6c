/* cliopts.h — the options pycore-report and pycore-diff share: --limit,
 * and where the binaries are (--exe, --lib-search-path, --sysroot). */
#ifndef PYCORE_CLIOPTS_H
#define PYCORE_CLIOPTS_H

#include "../analyze/modules.h"

#include <stddef.h>

/* getopt_long values of the shared long options; a program's own start at
 * OPT_FIRST_OWN. */
enum { OPT_EXE = 256, OPT_LIBPATH, OPT_SYSROOT, OPT_FIRST_OWN };

#define CLI_SHARED_LONGOPTS \
	{ "limit", required_argument, 0, 'n' }, { "exe", required_argument, 0, OPT_EXE }, \
	{ "lib-search-path", required_argument, 0, OPT_LIBPATH }, \
	{ "sysroot", required_argument, 0, OPT_SYSROOT }

/* Handle option c if it is a shared one: 1 when it was, 0 when it is not
 * one of them, -1 with PC_EUSAGE for a bad value. */
int cli_shared_option(int c, const char *arg, size_t *limit, struct pc_search *search);

#endif
