/* outfile.c — create-unnamed, link-when-done output files. */
#include "outfile.h"

#include "../common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int output_error(const char *path, int err)
{
	return pc_fail(err == EEXIST ? PC_EEXISTS : PC_EOUTPUT, err,
		       "cannot write %s", path);
}

/* Open an unnamed file in dir, or a hidden named one where the file system
 * has no O_TMPFILE. */
static int create_temporary(struct pc_outfile *o, const char *dir)
{
	const char *base = strrchr(o->path, '/');
	size_t n;

	o->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (o->fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return o->fd;
	n = strlen(dir) + strlen(o->path) + 16;
	o->tmp_path = malloc(n);
	if (!o->tmp_path) {
		errno = ENOMEM;
		return -1;
	}
	snprintf(o->tmp_path, n, "%s/.%s.XXXXXX", dir, base ? base + 1 : o->path);
	o->fd = mkostemp(o->tmp_path, O_CLOEXEC);
	if (o->fd < 0) {
		free(o->tmp_path);
		o->tmp_path = NULL;
	}
	return o->fd;
}

int outfile_open(struct pc_outfile *o, const char *path, bool force)
{
	char *copy;
	int rc, err;

	memset(o, 0, sizeof *o);
	o->fd = -1;
	o->force = force;
	if (!force && access(path, F_OK) == 0)
		return pc_fail(PC_EEXISTS, 0, "%s already exists (use --force to replace it)", path);
	o->path = strdup(path);
	copy = strdup(path);
	if (!o->path || !copy) {
		free(copy);
		outfile_discard(o);
		return pc_fail(PC_EINTERNAL, ENOMEM, "opening output");
	}
	rc = create_temporary(o, dirname(copy));
	err = errno;
	free(copy);
	if (rc < 0 || fchmod(o->fd, 0600) < 0) {
		if (rc >= 0)
			err = errno;
		output_error(path, err);
		outfile_discard(o);
		return -1;
	}
	return 0;
}

static int link_unnamed(struct pc_outfile *o, const char *name)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
	return linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
}

/* With O_TMPFILE the name is given while the descriptor is still open;
 * --force replaces an existing file atomically through a temporary name. */
static int name_unnamed(struct pc_outfile *o)
{
	size_t n = strlen(o->path) + 32;
	char *tmp;
	int rc;

	if (link_unnamed(o, o->path) == 0)
		return 0;
	if (errno != EEXIST || !o->force)
		return -1;
	tmp = malloc(n);
	if (!tmp)
		return -1;
	snprintf(tmp, n, "%s.%d.tmp", o->path, (int)getpid());
	unlink(tmp);
	rc = link_unnamed(o, tmp);
	if (rc == 0 && (rc = rename(tmp, o->path)) < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int name_temporary(struct pc_outfile *o)
{
	if (o->force)
		return rename(o->tmp_path, o->path);
	if (link(o->tmp_path, o->path) < 0)
		return -1;
	unlink(o->tmp_path);
	return 0;
}

static void drop_temporary(struct pc_outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp_path) {
		unlink(o->tmp_path);
		free(o->tmp_path);
	}
	o->tmp_path = NULL;
}

int outfile_commit(struct pc_outfile *o)
{
	int rc = o->tmp_path ? name_temporary(o) : name_unnamed(o);
	int err = errno;

	if (rc < 0) {
		drop_temporary(o);
		return output_error(o->path, err);
	}
	free(o->tmp_path);
	o->tmp_path = NULL;
	rc = close(o->fd);
	err = errno;
	o->fd = -1;
	if (rc < 0 && err != EINTR) {
		unlink(o->path);
		return output_error(o->path, err);
	}
	return 0;
}

void outfile_discard(struct pc_outfile *o)
{
	drop_temporary(o);
	free(o->path);
	o->path = NULL;
}
