/* memread.c — process_vm_readv with a /proc/PID/mem fallback. */
#include "memread.h"

#include "../common/error.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096u

void memreader_init(struct pc_memreader *r, pid_t pid)
{
	r->pid = pid;
	r->memfd = -2;   /* not opened yet */
	r->use_vm_readv = 1;
	r->bad_bytes = 0;
}

static int memfd(struct pc_memreader *r)
{
	if (r->memfd == -2) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/mem", (int)r->pid);
		r->memfd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return r->memfd;
}

/* Read as much of the range as one call gives.  Returns bytes read, 0 when
 * the first page fails, -1 when the process is gone. */
static ssize_t read_batch(struct pc_memreader *r, uint64_t addr, void *buf, size_t len)
{
	if (r->use_vm_readv) {
		struct iovec local = { buf, len };
		struct iovec remote = { (void *)(uintptr_t)addr, len };
		ssize_t n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
		if (n > 0)
			return n;
		if (n < 0 && errno == ESRCH)
			return -1;
		if (n < 0 && (errno == ENOSYS || errno == EPERM))
			r->use_vm_readv = 0;
		else
			return 0;
	}
	if (memfd(r) >= 0) {
		ssize_t n = pread(r->memfd, buf, len, (off_t)addr);
		if (n > 0)
			return n;
		if (n < 0 && errno == ESRCH)
			return -1;
	}
	return 0;
}

/* A process killed while we hold it becomes a zombie we have not reaped:
 * it still answers kill(pid, 0), but its memory is gone. */
static int process_gone(pid_t pid)
{
	struct pc_procstat st;
	if (procfs_read_stat(pid, "stat", &st) < 0) {
		pc_clear_error();
		return 1;
	}
	return st.state == 'Z' || st.state == 'X';
}

/* One page through /proc/PID/mem: it reaches a few areas (the gate page,
 * pages of another's mapping) that process_vm_readv refuses. */
static int read_page_slow(struct pc_memreader *r, uint64_t addr, void *buf, size_t len)
{
	return memfd(r) >= 0 && pread(r->memfd, buf, len, (off_t)addr) == (ssize_t)len;
}

int memreader_read(struct pc_memreader *r, uint64_t addr, void *buf,
		   size_t len, size_t *unreadable)
{
	size_t done = 0;

	*unreadable = 0;
	while (done < len) {
		ssize_t n = read_batch(r, addr + done, (char *)buf + done, len - done);
		if (n < 0)
			return pc_fail(PC_EGONE, 0, "pid %d exited during capture", (int)r->pid);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		/* The first page of what is left failed: try it alone, else zero it. */
		size_t page = PAGE - ((addr + done) & (PAGE - 1));
		if (page > len - done)
			page = len - done;
		if (!read_page_slow(r, addr + done, (char *)buf + done, page)) {
			if (process_gone(r->pid))
				return pc_fail(PC_EGONE, 0, "pid %d exited during capture",
					       (int)r->pid);
			memset((char *)buf + done, 0, page);
			*unreadable += page;
		}
		done += page;
	}
	r->bad_bytes += *unreadable;
	return 0;
}

void memreader_close(struct pc_memreader *r)
{
	if (r->memfd >= 0)
		close(r->memfd);
	r->memfd = -2;
}
