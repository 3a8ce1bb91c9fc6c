/* memread.c — process_vm_readv or /proc/PID/mem, and /proc/PID/pagemap. */
#include "memread.h"

#include "../common/error.h"
#include "procfs.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096u

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_CHUNK 512      /* pagemap entries read per call */

void memreader_init(struct pc_memreader *r, pid_t pid, enum memread_mode mode)
{
	r->pid = pid;
	r->memfd = -2;   /* not opened yet */
	r->pagemapfd = -2;
	r->use_vm_readv = mode == MEMREAD_VM_READV;
	r->bad_bytes = 0;
	r->skipped_bytes = 0;
}

static int open_proc(pid_t pid, const char *name, int *fd)
{
	if (*fd == -2) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
		*fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return *fd;
}

static int memfd(struct pc_memreader *r)
{
	return open_proc(r->pid, "mem", &r->memfd);
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
			if (procfs_is_dead(r->pid))
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

/* Which of npages pages from addr were ever populated: present in memory
 * or swapped out.  Returns 0, or -1 when the pagemap cannot be read (then
 * the caller reads every page). */
static int populated_pages(struct pc_memreader *r, uint64_t addr, size_t npages,
			   uint8_t *populated)
{
	uint64_t entries[PM_CHUNK];

	if (open_proc(r->pid, "pagemap", &r->pagemapfd) < 0)
		return -1;
	for (size_t done = 0; done < npages;) {
		size_t want = npages - done < PM_CHUNK ? npages - done : PM_CHUNK;
		off_t at = (off_t)((addr / PAGE + done) * sizeof entries[0]);
		ssize_t n = pread(r->pagemapfd, entries, want * sizeof entries[0], at);

		if (n <= 0 || n % sizeof entries[0])
			return -1;
		for (size_t i = 0; i < (size_t)n / sizeof entries[0]; i++)
			populated[done + i] = (entries[i] & (PM_PRESENT | PM_SWAPPED)) != 0;
		done += (size_t)n / sizeof entries[0];
	}
	return 0;
}

int memreader_read_anon(struct pc_memreader *r, uint64_t addr, void *buf,
			size_t len, size_t *unreadable, uint8_t *absent)
{
	size_t npages = (len + PAGE - 1) / PAGE, first, last;
	uint8_t populated[4096];   /* pages of one run of the loop below */
	char *out = buf;

	*unreadable = 0;
	if (absent)
		memset(absent, 0, npages);
	for (size_t base = 0; base < npages; base += sizeof populated) {
		size_t n = npages - base < sizeof populated ? npages - base : sizeof populated;
		size_t end_byte = (base + n) * PAGE < len ? (base + n) * PAGE : len;

		if (populated_pages(r, addr + base * PAGE, n, populated) < 0) {
			size_t bad;
			if (memreader_read(r, addr + base * PAGE, out + base * PAGE,
					   end_byte - base * PAGE, &bad) < 0)
				return -1;
			*unreadable += bad;
			continue;
		}
		for (first = 0; first < n; first = last) {
			bool have = populated[first];
			size_t from = (base + first) * PAGE, to, bad;

			for (last = first + 1; last < n && populated[last] == have; last++)
				;
			to = (base + last) * PAGE < len ? (base + last) * PAGE : len;
			if (!have) {
				memset(out + from, 0, to - from);
				if (absent)
					memset(absent + base + first, 1, last - first);
				r->skipped_bytes += to - from;
			} else if (memreader_read(r, addr + from, out + from, to - from, &bad) < 0) {
				return -1;
			} else {
				*unreadable += bad;
			}
		}
	}
	return 0;
}

void memreader_close(struct pc_memreader *r)
{
	if (r->memfd >= 0)
		close(r->memfd);
	if (r->pagemapfd >= 0)
		close(r->pagemapfd);
	r->memfd = -2;
	r->pagemapfd = -2;
}
