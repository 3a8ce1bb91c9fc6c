/* image.h — the target's address space as a reader sees it: what the core
 * holds, and, where the core holds nothing (read-only data such as
 * .rodata, which no core writer dumps), what the binaries map there.
 */
#ifndef PYCORE_IMAGE_H
#define PYCORE_IMAGE_H

#include "core.h"
#include "modules.h"
#include "pyfacts.h"

struct pc_image {
	struct pc_core *core;
	struct pc_modules mods;
	struct pc_pyfacts facts;     /* the capture's note; .present false without one */
};

/* Open a core and find its binaries (and read a pycore core's python
 * note, which stands in for missing binaries' symbols and strings).  Returns 0, or -1 with the error. */
int image_open(struct pc_image *img, const char *core_path, const struct pc_search *search);

/* The same over an open core (a live process, core_open_live); the image
 * owns it from then on, also on failure. */
int image_open_core(struct pc_image *img, struct pc_core *core, const struct pc_search *search);
void image_close(struct pc_image *img);

/* All of [addr, addr+len) from the core or, where it was not dumped, from
 * the binaries or the strings the capture recorded.  Returns 0, or -1 (PC_EFORMAT naming the address). */
int image_read(struct pc_image *img, uint64_t addr, void *buf, size_t len);

/* A symbol's run-time address, from whichever binary defines it, else
 * from the capture's note.
 * Returns 0, or -1 when no found binary does (not recorded as an error). */
int image_symbol(struct pc_image *img, const char *name, uint64_t *addr);

#endif
