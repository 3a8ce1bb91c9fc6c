/* pyfacts_live.c — a running process as a core, for pyfacts_build(). */
#include "pyfacts_live.h"

#include "../analyze/image.h"
#include "../common/error.h"
#include "memread.h"
#include "procmaps.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ssize_t read_live(void *arg, uint64_t addr, void *buf, size_t len)
{
	size_t unreadable = 0;

	if (memreader_read(arg, addr, buf, len, &unreadable) < 0 || unreadable)
		return -1;
	return (ssize_t)len;
}

/* The readable mappings as segments, the file-backed ones as NT_FILE
 * entries would list them. */
static int describe(const struct pc_maplist *maps, struct pc_core_segment **segs, size_t *nsegs,
		    struct pc_core_file **files, size_t *nfiles)
{
	*segs = calloc(maps->n + 1, sizeof **segs);
	*files = calloc(maps->n + 1, sizeof **files);
	*nsegs = *nfiles = 0;
	if (!*segs || !*files)
		return pc_fail(PC_EINTERNAL, 0, "out of memory");
	for (size_t i = 0; i < maps->n; i++) {
		const struct pc_mapping *m = &maps->v[i];
		/* The layout from maps has no VM flags: [vvar] (a PFN map that
		 * reads fail on) is known by name. */
		if (!m->readable || (m->vmflags & (VMF_IO | VMF_PFNMAP)) ||
		    (m->path && strncmp(m->path, "[vvar", 5) == 0))
			continue;
		(*segs)[(*nsegs)++] = (struct pc_core_segment){
			.vaddr = m->start, .memsz = m->end - m->start,
			.flags = PF_R | (m->writable ? PF_W : 0) | (m->executable ? PF_X : 0),
		};
		if (mapping_is_file(m))
			(*files)[(*nfiles)++] = (struct pc_core_file){ m->start, m->end, m->offset, m->path };
	}
	return 0;
}

int pyfacts_live(pid_t pid, char **text, size_t *len)
{
	struct pc_maplist maps = { 0 };
	struct pc_memreader mem;
	struct pc_core_source src = { read_live, &mem };
	struct pc_core_segment *segs = NULL;
	struct pc_core_file *files = NULL;
	size_t nsegs, nfiles;
	char root[64];
	/* The binaries as the process sees them, through its root: in a
	 * container, where its paths lead (the same path on our side may
	 * hold another file, or none); then the mapped file itself. */
	struct pc_search search = { .sysroot = root, .map_files = pid };
	struct pc_image img;
	int rc = -1;

	snprintf(root, sizeof root, "/proc/%d/root", (int)pid);
	memreader_init(&mem, pid, MEMREAD_VM_READV);
	if (procmaps_read_layout(pid, &maps) < 0 || describe(&maps, &segs, &nsegs, &files, &nfiles) < 0)
		goto out;
	if (image_open_core(&img, core_open_live(&src, segs, nsegs, files, nfiles), &search) < 0)
		goto out;
	rc = pyfacts_build(&img, text, len);
	image_close(&img);
out:
	free(segs);
	free(files);
	procmaps_free(&maps);
	memreader_close(&mem);
	return rc;
}
