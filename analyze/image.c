/* image.c — core memory first, binaries second. */
#include "image.h"

#include "../common/error.h"
#include "../common/pycore_note.h"

#include <string.h>

int image_open_core(struct pc_image *img, struct pc_core *core, const struct pc_search *search)
{
	const void *note;
	size_t len;

	memset(img, 0, sizeof *img);
	img->core = core;
	if (!core)
		return -1;
	note = core_note(core, PYCORE_NOTE_NAME, PYCORE_NT_PYTHON, &len);
	if ((note && pyfacts_parse(note, len, &img->facts) < 0) ||
	    modules_find(img->core, search, &img->mods) < 0) {
		image_close(img);
		return -1;
	}
	return 0;
}

int image_open(struct pc_image *img, const char *core_path, const struct pc_search *search)
{
	return image_open_core(img, core_open(core_path), search);
}

void image_close(struct pc_image *img)
{
	pyfacts_free(&img->facts);
	modules_free(&img->mods);
	core_close(img->core);
	img->core = NULL;
}

/* Bytes at addr from the first found binary that maps it. */
static ssize_t read_binaries(struct pc_image *img, uint64_t addr, void *buf, size_t len)
{
	for (size_t i = 0; i < img->mods.n; i++) {
		ssize_t n = module_read(&img->mods.v[i], addr, buf, len);
		if (n != 0)
			return n;
	}
	return 0;
}

int image_read(struct pc_image *img, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = core_read(img->core, addr + done, (char *)buf + done, len - done);
		if (n == 0)
			n = read_binaries(img, addr + done, (char *)buf + done, len - done);
		if (n == 0)
			n = (ssize_t)pyfacts_read(&img->facts, addr + done, (char *)buf + done, len - done);
		if (n < 0)
			return -1;
		if (n == 0)   /* neither has it: let the core say why */
			return core_read_all(img->core, addr + done, (char *)buf + done, 1);
		done += (size_t)n;
	}
	return 0;
}

int image_symbol(struct pc_image *img, const char *name, uint64_t *addr)
{
	for (size_t i = 0; i < img->mods.n; i++)
		if (module_symbol(&img->mods.v[i], name, addr) == 0)
			return 0;
	return pyfacts_symbol(&img->facts, name, addr);
}
