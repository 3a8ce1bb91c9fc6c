/* corenotes.h — the PT_NOTE segment of a core, in the kernel's order:
 * the first thread's NT_PRSTATUS, then NT_PRPSINFO, its NT_SIGINFO, NT_AUXV,
 * NT_FILE, its NT_PRFPREG and NT_X86_XSTATE; then for every other thread
 * NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE, NT_SIGINFO; last our PYCORE notes.
 * Readers tie NT_SIGINFO and the register notes to the NT_PRSTATUS before
 * them, so each thread's notes stay together.
 */
#ifndef PYCORE_CORENOTES_H
#define PYCORE_CORENOTES_H

#include "elfnote.h"
#include "target.h"

#include <time.h>

/* NT_FILE larger than this is left out, as the kernel does. */
#define NT_FILE_MAX (4u << 20)

int build_core_notes(struct pc_notes *out, const struct pc_target *t,
		     const struct timespec *captured_at, int mode);

/* The NT_FILE payload for the file-backed mappings of maps.  Returns 0 or -1. */
int build_nt_file(struct pc_bytes *b, const struct pc_maplist *maps);

/* The PYCORE modules payload.  Returns 0 or -1. */
int build_pycore_modules(struct pc_bytes *b, const struct pc_module *mods, size_t n);

#endif
