/* image.c — core memory first, binaries second. */
#include "image.h"

#include "../common/error.h"

#include <string.h>

int image_open(struct pc_image *img, const char *core_path, const struct pc_search *search)
{
	memset(img, 0, sizeof *img);
	img->core = core_open(core_path);
	if (!img->core)
		return -1;
	if (modules_find(img->core, search, &img->mods) < 0) {
		core_close(img->core);
		img->core = NULL;
		return -1;
	}
	return 0;
}

void image_close(struct pc_image *img)
{
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
	return -1;
}
