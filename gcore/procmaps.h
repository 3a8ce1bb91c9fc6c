/* procmaps.h — the target's memory mappings, as /proc/PID/smaps describes them.
 *
 * Parsing is pure (text in, array out) so it is unit-tested on fixed text;
 * procmaps_read() is the thin part that reads the file.
 */
#ifndef PYCORE_PROCMAPS_H
#define PYCORE_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Kernel VM flags we care about, from smaps' "VmFlags:" line. */
enum {
	VMF_DONTDUMP = 1u << 0, /* "dd": MADV_DONTDUMP                 */
	VMF_IO       = 1u << 1, /* "io": device memory, never dumped   */
	VMF_HUGETLB  = 1u << 2, /* "ht": hugetlbfs                     */
	VMF_PFNMAP   = 1u << 3, /* "pf": raw PFN mapping (e.g. [vvar]) */
	VMF_WIPEONFORK = 1u << 4, /* "wf": MADV_WIPEONFORK, zeros in a fork */
};

struct pc_mapping {
	uint64_t start, end;    /* [start, end), page aligned */
	uint64_t offset;        /* file offset in bytes */
	bool readable, writable, executable, shared;
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	char *path;             /* NULL when anonymous; "[heap]", "/usr/lib/..." */
	uint64_t rss_bytes, anon_bytes, swap_bytes;
	unsigned vmflags;       /* VMF_* */
};

struct pc_maplist {
	struct pc_mapping *v;
	size_t n;
};

/* Parse the text of /proc/PID/smaps (or of /proc/PID/maps, which lacks the
 * per-mapping fields).  Returns 0, or -1 with the error recorded. */
int procmaps_parse(const char *text, struct pc_maplist *out);

/* Read and parse /proc/PID/smaps.  Returns 0, or -1 with the error recorded. */
int procmaps_read(pid_t pid, struct pc_maplist *out);

/* Only the layout, from /proc/PID/maps: no VM flags, no page counts.  smaps
 * walks every page table to count pages (~25 ms per GB of resident memory);
 * maps does not, so callers that need where things are, not how they may
 * be dumped, read this.  Returns 0, or -1 with the error recorded. */
int procmaps_read_layout(pid_t pid, struct pc_maplist *out);

void procmaps_free(struct pc_maplist *list);

/* The file paths of list made relative to the process's root directory
 * root (procfs_unroot()); procmaps_read() and procmaps_read_layout() do
 * this with the root of /proc/PID/root. */
void procmaps_unroot(struct pc_maplist *list, const char *root);

/* True for mappings of a real file, not "[heap]", "[stack]" or anonymous. */
bool mapping_is_file(const struct pc_mapping *m);

/* True for private memory of no file: anonymous, [heap], [stack],
 * [anon:NAME].  Its pages that were never populated are zeros (no page
 * cache or shared object could hold other contents). */
bool mapping_is_anon_private(const struct pc_mapping *m);

#endif
