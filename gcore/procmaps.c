/* procmaps.c — parse /proc/PID/smaps into struct pc_mapping records. */
#include "procmaps.h"

#include "../common/error.h"
#include "procfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "55d0c8a00000-55d0c8a21000 r--p 00000000 fe:01 1234   /usr/bin/python3.11"
 * Returns 0 on success, -1 if the line is not a mapping header. */
static int parse_header(const char *text, size_t len, struct pc_mapping *m)
{
	char perms[5];
	int path_at = -1, n;
	unsigned long long start, end, off, ino;
	unsigned maj, min;
	/* sscanf measures its whole input first: give it this line alone, or
	 * parsing smaps turns quadratic in the number of mappings. */
	char *line = strndup(text, len);

	if (!line)
		return pc_fail(PC_EINTERNAL, ENOMEM, "parsing maps");
	n = sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms,
		   &off, &maj, &min, &ino, &path_at);
	free(line);
	if (n < 7 || path_at < 0)
		return -1;
	if (strlen(perms) != 4 || end <= start)
		return -1;
	memset(m, 0, sizeof *m);
	m->start = start;
	m->end = end;
	m->offset = off;
	m->readable = perms[0] == 'r';
	m->writable = perms[1] == 'w';
	m->executable = perms[2] == 'x';
	m->shared = perms[3] == 's';
	m->dev_major = maj;
	m->dev_minor = min;
	m->inode = ino;
	if ((size_t)path_at < len) {
		m->path = strndup(text + path_at, len - path_at);
		if (!m->path)
			return pc_fail(PC_EINTERNAL, ENOMEM, "parsing maps");
	}
	return 0;
}

/* "Anonymous:        1234 kB" → bytes, for the fields we keep. */
static void parse_field(const char *line, struct pc_mapping *m)
{
	static const struct { const char *name; size_t off; } fields[] = {
		{ "Rss:", offsetof(struct pc_mapping, rss_bytes) },
		{ "Anonymous:", offsetof(struct pc_mapping, anon_bytes) },
		{ "Swap:", offsetof(struct pc_mapping, swap_bytes) },
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		size_t n = strlen(fields[i].name);
		if (strncmp(line, fields[i].name, n) == 0) {
			uint64_t kb = strtoull(line + n, NULL, 10);
			*(uint64_t *)((char *)m + fields[i].off) = kb * 1024;
			return;
		}
	}
}

static unsigned parse_vmflags(const char *s)
{
	static const struct { char name[3]; unsigned flag; } known[] = {
		{ "dd", VMF_DONTDUMP }, { "io", VMF_IO },
		{ "ht", VMF_HUGETLB },  { "pf", VMF_PFNMAP },
		{ "wf", VMF_WIPEONFORK },
	};
	unsigned flags = 0;

	while (*s) {
		while (*s == ' ')
			s++;
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			if (strncmp(s, known[i].name, 2) == 0 &&
			    (s[2] == ' ' || s[2] == '\n' || s[2] == '\0'))
				flags |= known[i].flag;
		while (*s && *s != ' ')
			s++;
	}
	return flags;
}

static int push(struct pc_maplist *list, size_t *cap, const struct pc_mapping *m)
{
	if (list->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct pc_mapping *nv = realloc(list->v, ncap * sizeof *nv);
		if (!nv)
			return pc_fail(PC_EINTERNAL, ENOMEM, "parsing maps");
		list->v = nv;
		*cap = ncap;
	}
	list->v[list->n++] = *m;
	return 0;
}

int procmaps_parse(const char *text, struct pc_maplist *out)
{
	size_t cap = 0;
	struct pc_mapping cur;
	bool have = false;

	out->v = NULL;
	out->n = 0;
	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		struct pc_mapping next;

		if (len > 0 && parse_header(line, len, &next) == 0) {
			if (have && push(out, &cap, &cur) < 0)
				goto fail;
			cur = next;
			have = true;
		} else if (have && strncmp(line, "VmFlags:", 8) == 0) {
			char buf[512];
			snprintf(buf, sizeof buf, "%.*s", (int)(len - 8), line + 8);
			cur.vmflags = parse_vmflags(buf);
		} else if (have) {
			parse_field(line, &cur);
		} else if (len > 0) {
			pc_fail(PC_EFORMAT, 0, "unexpected line in maps: %.40s", line);
			goto fail;
		}
		line = eol ? eol + 1 : line + len;
	}
	if (have && push(out, &cap, &cur) < 0)
		goto fail;
	return 0;
fail:
	if (have && (out->n == 0 || out->v[out->n - 1].path != cur.path))
		free(cur.path);
	procmaps_free(out);
	return -1;
}

static int read_and_parse(pid_t pid, const char *file, struct pc_maplist *out)
{
	char *text = procfs_slurp(pid, file, NULL), *root;
	int rc;

	if (!text)
		return -1;
	rc = procmaps_parse(text, out);
	free(text);
	/* Paths as the process sees them (and the kernel would write them in
	 * its core), not as our root shows them: a chroot's prefix goes. */
	if (rc == 0 && (root = procfs_root(pid)) != NULL) {
		procmaps_unroot(out, root);
		free(root);
	}
	return rc;
}

void procmaps_unroot(struct pc_maplist *list, const char *root)
{
	for (size_t i = 0; i < list->n; i++)
		if (mapping_is_file(&list->v[i]))
			procfs_unroot(list->v[i].path, root);
}

int procmaps_read(pid_t pid, struct pc_maplist *out)
{
	return read_and_parse(pid, "smaps", out);
}

int procmaps_read_layout(pid_t pid, struct pc_maplist *out)
{
	return read_and_parse(pid, "maps", out);
}

void procmaps_free(struct pc_maplist *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->v[i].path);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

bool mapping_is_file(const struct pc_mapping *m)
{
	return m->path && m->path[0] == '/' && m->inode != 0;
}

bool mapping_is_anon_private(const struct pc_mapping *m)
{
	if (m->shared || m->inode != 0)
		return false;
	return !m->path || strcmp(m->path, "[heap]") == 0 ||
	       strncmp(m->path, "[stack", 6) == 0 || strncmp(m->path, "[anon:", 6) == 0;
}
