/* procfs.c — read and parse /proc/PID files. */
#include "procfs.h"

#include "../common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *procfs_slurp(pid_t pid, const char *name, size_t *len)
{
	char path[128];
	size_t cap = 8192, n = 0;
	char *buf = NULL;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ESRCH)
			pc_fail(PC_ENOPROC, 0, "no process with pid %d", (int)pid);
		else if (errno == EACCES || errno == EPERM)
			pc_fail(PC_EPERM, errno, "cannot read %s", path);
		else
			pc_fail(PC_EINTERNAL, errno, "cannot open %s", path);
		return NULL;
	}
	for (;;) {
		ssize_t r;
		if (!buf || n + 1 >= cap) {
			char *nb = realloc(buf, buf ? cap *= 2 : cap);
			if (!nb) {
				pc_fail(PC_EINTERNAL, ENOMEM, "reading %s", path);
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			pc_fail(errno == ESRCH ? PC_EGONE : PC_EINTERNAL, errno,
				"reading %s", path);
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

int procfs_parse_stat(const char *text, struct pc_procstat *st)
{
	/* comm may hold spaces and parentheses: it ends at the last ')'. */
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	unsigned long long utime, stime;
	long long cutime, cstime, nice, starttime, priority, nthreads, itreal;
	int ppid, pgrp, session, tty, tpgid;
	unsigned long flags, minflt, cminflt, majflt, cmajflt;
	size_t clen;

	if (!open || !close || close < open)
		return pc_fail(PC_EFORMAT, 0, "malformed stat line");
	memset(st, 0, sizeof *st);
	clen = (size_t)(close - open - 1);
	if (clen >= sizeof st->comm)
		clen = sizeof st->comm - 1;
	memcpy(st->comm, open + 1, clen);
	if (sscanf(close + 1,
		   " %c %d %d %d %d %d %lu %lu %lu %lu %lu %llu %llu %lld %lld"
		   " %lld %lld %lld %lld %lld",
		   &st->state, &ppid, &pgrp, &session, &tty, &tpgid, &flags,
		   &minflt, &cminflt, &majflt, &cmajflt, &utime, &stime, &cutime,
		   &cstime, &priority, &nice, &nthreads, &itreal, &starttime) != 20)
		return pc_fail(PC_EFORMAT, 0, "malformed stat line");
	st->ppid = ppid;
	st->pgrp = pgrp;
	st->session = session;
	st->flags = flags;
	st->utime = utime;
	st->stime = stime;
	st->cutime = (uint64_t)cutime;
	st->cstime = (uint64_t)cstime;
	st->nice = (long)nice;
	st->starttime = (uint64_t)starttime;
	return 0;
}

int procfs_read_stat(pid_t pid, const char *name, struct pc_procstat *st)
{
	char *text = procfs_slurp(pid, name, NULL);
	int rc;

	if (!text)
		return -1;
	rc = procfs_parse_stat(text, st);
	free(text);
	return rc;
}

static const char *find_key(const char *text, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return p + klen + 1;
	return NULL;
}

bool procfs_is_dead(pid_t id)
{
	struct pc_procstat st;

	if (procfs_read_stat(id, "stat", &st) < 0) {
		pc_clear_error();
		return true;
	}
	return st.state == 'Z' || st.state == 'X';
}

long procfs_status_value(pid_t pid, const char *key, long fallback)
{
	char *status = procfs_slurp(pid, "status", NULL);
	long v = fallback;

	if (status)
		procfs_status_dec(status, key, &v);
	free(status);
	pc_clear_error();
	return v;
}

int procfs_ns_pid(pid_t pid, long *id, int *depth)
{
	char *status = procfs_slurp(pid, "status", NULL);
	int rc = status ? procfs_status_last(status, "NSpid", id, depth) : -1;

	free(status);
	pc_clear_error();
	return rc;
}

int procfs_status_hex(const char *text, const char *key, uint64_t *out)
{
	const char *v = find_key(text, key);
	if (!v)
		return -1;
	*out = strtoull(v, NULL, 16);
	return 0;
}

int procfs_status_dec(const char *text, const char *key, long *out)
{
	const char *v = find_key(text, key);
	if (!v)
		return -1;
	*out = strtol(v, NULL, 10);
	return 0;
}

int procfs_status_last(const char *text, const char *key, long *out, int *depth)
{
	const char *v = find_key(text, key);
	int n = 0;

	if (!v)
		return -1;
	for (;;) {
		char *end;
		long x = strtol(v, &end, 10);
		if (end == v)
			break;
		*out = x;
		n++;
		v = end;
		if (*v == '\n')
			break;
	}
	if (depth)
		*depth = n;
	return n ? 0 : -1;
}

char *procfs_root(pid_t pid)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/%d/root", (int)pid);
	n = readlink(link, buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

bool procfs_unroot(char *path, const char *root)
{
	size_t n;

	if (!path || !root || root[0] != '/' || strcmp(root, "/") == 0)
		return false;
	n = strlen(root);
	if (strncmp(path, root, n) != 0 || path[n] != '/')
		return false;
	memmove(path, path + n, strlen(path + n) + 1);
	return true;
}
