/* memread.h — read a stopped process's memory in large batches.
 *
 * process_vm_readv moves a whole batch per system call; pages it cannot
 * read (guard pages, [vvar], I/O memory) are retried one by one through
 * /proc/PID/mem and, failing that, returned as zeros and counted, so one bad
 * page never costs the rest of a mapping.
 */
#ifndef PYCORE_MEMREAD_H
#define PYCORE_MEMREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct pc_memreader {
	pid_t pid;
	int memfd;            /* /proc/PID/mem, opened lazily; -1 if unusable */
	int use_vm_readv;     /* 0 once process_vm_readv proved unavailable */
	uint64_t bad_bytes;   /* total bytes that could not be read */
};

void memreader_init(struct pc_memreader *r, pid_t pid);

/* Fill buf with [addr, addr+len).  Unreadable pages read as zeros; their
 * byte count is returned in *unreadable.  Returns 0, or -1 only when the
 * process is gone (PC_EGONE). */
int memreader_read(struct pc_memreader *r, uint64_t addr, void *buf,
		   size_t len, size_t *unreadable);

void memreader_close(struct pc_memreader *r);

#endif
