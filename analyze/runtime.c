/* runtime.c — _PyRuntime and the Python version. */
#include "runtime.h"

#include "../common/error.h"

#include <errno.h>
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

int runtime_missing_binary(const struct pc_image *img)
{
	char hex[2 * BUILD_ID_MAX + 1], other[4200] = "", where[256];
	pid_t outer = 0;
	unsigned ns = core_namespaces(img->core, &outer);

	/* A container's binaries are under its root, which the capture saw
	 * as /proc/PID/root while the process lived. */
	if (ns)
		snprintf(where, sizeof where, "the process ran in a container: give --sysroot "
			 "with its root (/proc/%d/root while it runs, or the image's root "
			 "file system), or --lib-search-path or --exe", (int)outer);
	else
		snprintf(where, sizeof where, "give --sysroot, --lib-search-path or --exe");
	for (size_t i = 0; i < img->mods.n; i++) {
		const struct pc_module *m = &img->mods.v[i];
		if (m->found || !version_from_name(m->path))
			continue;
		if (m->rejected)
			snprintf(other, sizeof other, " (%s has another build-id)", m->rejected);
		return pc_fail(PC_EFORMAT, 0, "%s (build-id %s) is needed and was not found%s: %s",
			       m->path, m->build_id_len ? build_id_hex(m->build_id, m->build_id_len, hex)
						: "unknown", other, where);
	}
	return 0;
}

/* No binary defines _PyRuntime: say which Python binary is missing, if any. */
static int no_runtime_error(const struct pc_image *img)
{
	if (runtime_missing_binary(img) < 0)
		return -1;
	return pc_fail(PC_EFORMAT, 0, "no Python runtime in this core (_PyRuntime not found): "
		       "not a Python 3 process?");
}

#define COOKIE "xdebugpy"
#define SCAN_CHUNK (1u << 20)

/* Look for the cookie in one segment's dumped bytes, 8-byte aligned, with a
 * 3.13+ version after it.  Returns 1 when found (*addr, *version set). */
static int scan_segment(struct pc_core *core, const struct pc_core_segment *g,
			uint8_t *buf, uint64_t *addr, uint32_t *version)
{
	for (uint64_t at = 0; at < g->filesz; at += SCAN_CHUNK - 16) {
		ssize_t n = core_read(core, g->vaddr + at, buf, SCAN_CHUNK);
		if (n < 0)
			return -1;
		for (ssize_t i = 0; i + 16 <= n; i += 8) {
			uint64_t v;
			if (memcmp(buf + i, COOKIE, 8) != 0)
				continue;
			memcpy(&v, buf + i + 8, 8);
			if (v >> 24 == 3 && (v >> 16 & 0xff) >= 13 && (v >> 16 & 0xff) < 100) {
				*addr = g->vaddr + at + (uint64_t)i;
				*version = (uint32_t)v;
				return 1;
			}
		}
		if ((uint64_t)n < SCAN_CHUNK)
			break;
	}
	return 0;
}

/* 3.13+: _PyRuntime starts with _Py_DebugOffsets, whose cookie and version
 * find it without any binary.  File-backed segments (where the runtime
 * lives, in libpython's or the executable's data) are scanned first. */
static int runtime_from_debug_offsets(struct pc_image *img, struct pc_runtime *rt)
{
	uint8_t *buf = malloc(SCAN_CHUNK);
	int found = 0;

	if (!buf)
		return pc_fail(PC_EINTERNAL, ENOMEM, "scanning for _Py_DebugOffsets");
	for (int pass = 0; pass < 2 && found == 0; pass++)
		for (size_t i = 0; i < core_segment_count(img->core) && found == 0; i++) {
			const struct pc_core_segment *g = core_segment(img->core, i);
			if (core_segment_file_backed(img->core, g) == (pass == 0))
				found = scan_segment(img->core, g, buf, &rt->addr, &rt->hexversion);
		}
	free(buf);
	if (found > 0)
		rt->version_exact = true;
	return found;
}

int runtime_find(struct pc_image *img, struct pc_runtime *rt)
{
	uint64_t at;
	uint32_t v;
	int rc;

	memset(rt, 0, sizeof *rt);
	if (image_symbol(img, "_PyRuntime", &rt->addr) < 0) {
		rc = runtime_from_debug_offsets(img, rt);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return no_runtime_error(img);
		rt->binary = module_at(img, rt->addr);
		return 0;
	}
	rt->binary = module_at(img, rt->addr);
	if ((!rt->binary || !rt->binary->found) && img->facts.present && img->facts.hexversion) {
		rt->hexversion = img->facts.hexversion;   /* binary gone: the capture knew */
		rt->version_exact = img->facts.version_exact;
		return 0;
	}
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
