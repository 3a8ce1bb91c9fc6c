/* runtime.c — _PyRuntime and the Python version. */
#include "runtime.h"

#include "../common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "…/libpython3.12.so.1.0" or "…/python3.8" → 0x030C0000 / 0x03080000. */
static uint32_t version_from_name(const char *path)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *p = strstr(base, "python3.");
	char *end;
	unsigned long minor;

	if (!p)
		return 0;
	minor = strtoul(p + 8, &end, 10);
	if (end == p + 8 || minor > 99)
		return 0;
	return 0x03000000u | (uint32_t)minor << 16;
}

/* "3.8.18 (default, …)" → 0x030812f0; "3.13.0rc1 …" → 0x030d00c1. */
uint32_t runtime_version_from_text(const char *text)
{
	unsigned major, minor, micro, serial = 0;
	char level[3] = "";
	int n = 0;
	uint32_t code = 0xf;

	if (sscanf(text, "%u.%u.%u%n", &major, &minor, &micro, &n) != 3 || major != 3 ||
	    minor > 99 || micro > 99)
		return 0;
	if (sscanf(text + n, "%2[abrc]%u", level, &serial) == 2)
		code = strcmp(level, "a") == 0 ? 0xa : strcmp(level, "b") == 0 ? 0xb : 0xc;
	else
		serial = 0;
	return major << 24 | minor << 16 | micro << 8 | code << 4 | (serial & 0xf);
}

/* The sys.version text Py_GetVersion() formats at start-up into a static
 * buffer (writable, so in the core): named "version.0" up to 3.11 and
 * "version" after, and only in .symtab (so not in stripped builds). */
static uint32_t version_from_buffer(struct pc_image *img)
{
	static const char *const names[] = { "version.0", "version" };
	char text[32];
	uint64_t at;

	for (size_t i = 0; i < 2; i++)
		if (image_symbol(img, names[i], &at) == 0 &&
		    image_read(img, at, text, sizeof text - 1) == 0) {
			text[sizeof text - 1] = '\0';
			return runtime_version_from_text(text);
		}
	pc_clear_error();
	return 0;
}

static const struct pc_module *module_at(const struct pc_image *img, uint64_t addr)
{
	const struct pc_module *best = NULL;
	/* The module with the highest load address at or below addr. */
	for (size_t i = 0; i < img->mods.n; i++) {
		const struct pc_module *m = &img->mods.v[i];
		if (m->start <= addr && (!best || m->start > best->start))
			best = m;
	}
	return best;
}

/* No binary defines _PyRuntime: say which Python binary is missing, if any. */
static int no_runtime_error(const struct pc_image *img)
{
	char hex[2 * BUILD_ID_MAX + 1];

	for (size_t i = 0; i < img->mods.n; i++) {
		const struct pc_module *m = &img->mods.v[i];
		if (!m->found && version_from_name(m->path))
			return pc_fail(PC_EFORMAT, 0, "%s (build-id %s) is needed and was not found: "
				       "give --sysroot, --lib-search-path or --exe", m->path,
				       m->build_id_len ? build_id_hex(m->build_id, m->build_id_len, hex)
						       : "unknown");
	}
	return pc_fail(PC_EFORMAT, 0, "no Python runtime in this core (_PyRuntime not found): "
		       "not a Python 3 process?");
}

int runtime_find(struct pc_image *img, struct pc_runtime *rt)
{
	uint64_t at;
	uint32_t v;

	memset(rt, 0, sizeof *rt);
	if (image_symbol(img, "_PyRuntime", &rt->addr) < 0)
		return no_runtime_error(img);
	rt->binary = module_at(img, rt->addr);
	if (image_symbol(img, "Py_Version", &at) == 0 && image_read(img, at, &v, 4) == 0 &&
	    v >> 24 == 3) {
		rt->hexversion = v;
		rt->version_exact = true;
	} else if ((v = version_from_buffer(img)) != 0) {
		rt->hexversion = v;
		rt->version_exact = true;
	} else {
		pc_clear_error();
		rt->hexversion = rt->binary ? version_from_name(rt->binary->path) : 0;
	}
	if (!rt->hexversion)
		return pc_fail(PC_EFORMAT, 0, "found _PyRuntime but not the Python version");
	return 0;
}
