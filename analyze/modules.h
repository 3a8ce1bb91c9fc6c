/* modules.h — the ELF files a core's process had mapped, found on disk and
 * checked against the build-ids the core records, and their symbols.
 *
 * A module is every file NT_FILE maps at file offset 0 that is an ELF
 * image.  Its build-id and load bias come from its first page in the core
 * (kept by every core writer that follows the kernel's ELF-headers rule),
 * else from the PYCORE note; the file is then looked for at --exe, under
 * --sysroot, in --lib-search-path, by build-id (.build-id/xx/yyyy links),
 * and where the process saw it, and used only when its build-id matches.
 */
#ifndef PYCORE_MODULES_H
#define PYCORE_MODULES_H

#include "../common/buildid.h"
#include "core.h"

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

struct pc_module {
	const char *path;            /* as the process saw it (borrowed from the core) */
	uint64_t start, end;         /* its offset-0 mapping */
	uint64_t bias;               /* run-time address = st_value + bias */
	int have_bias;
	uint8_t build_id[BUILD_ID_MAX];
	size_t build_id_len;         /* 0: the core does not say */
	char *found;                 /* the matching file on disk, or NULL */
	char *rejected;              /* the first file tried whose build-id differed */
	struct pc_elf *elf;          /* open when found */
};

struct pc_modules {
	struct pc_module *v;
	size_t n;
};

struct pc_search {
	const char *sysroot;         /* prefix for every path, e.g. a container's root */
	const char *lib_path;        /* DIR[:DIR...] searched by file name */
	const char *exe;             /* the executable, wherever it is now */
	pid_t map_files;             /* a live process: its /proc/PID/map_files
				      * links (the very files mapped, even deleted
				      * or replaced; root only), tried last */
};

/* List the modules and look for their files.  A missing file is not an
 * error here (found stays NULL); only I/O and memory errors are.
 * Returns 0 or -1. */
int modules_find(struct pc_core *core, const struct pc_search *search,
		 struct pc_modules *out);
void modules_free(struct pc_modules *mods);

/* Look a symbol up in a found module: .dynsym first, then .symtab.
 * Returns 0 with its run-time address, -1 when absent (not an error). */
int module_symbol(const struct pc_module *m, const char *name, uint64_t *addr);

/* Copy up to len bytes at run-time address addr from the module's file, as
 * its PT_LOAD segments map them (read-only data a core does not hold, such
 * as .rodata).  Returns the bytes read (0 when the file does not map addr),
 * or -1 on an I/O error. */
ssize_t module_read(const struct pc_module *m, uint64_t addr, void *buf, size_t len);

/* The run-time [start, end) of the module's writable PT_LOADs: its .data
 * and .bss, whose end no file mapping shows (.bss is anonymous memory
 * after the file's pages).  How many (at most max); 0 when the file was
 * not found. */
size_t module_writable(const struct pc_module *m, uint64_t (*ranges)[2], size_t max);

/* Every data object of .symtab with one of these names (local statics of
 * the same name in several files included): its run-time [start, end).
 * How many (at most max); 0 without the file or its .symtab. */
size_t module_data_symbols(const struct pc_module *m, const char *const *names, size_t nnames,
			   uint64_t (*ranges)[2], size_t max);

/* "ab12…" for printing; buf holds at least 2 * BUILD_ID_MAX + 1. */
const char *build_id_hex(const uint8_t *id, size_t len, char *buf);

#endif
