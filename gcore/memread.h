/* memread.h — read another process's memory in large batches.
 *
 * Two ways in, chosen when the reader is made:
 *
 *  - MEMREAD_VM_READV: process_vm_readv, one batch per system call, for a
 *    process held stopped (the fastest way to read it);
 *  - MEMREAD_PROC_MEM: pread on /proc/PID/mem, for a copy-on-write
 *    snapshot child.  process_vm_readv pins the pages it reads, and pinning
 *    a page shared with the parent makes the kernel copy it: reading a
 *    1 GB snapshot that way costs 1 GB of memory.  /proc/PID/mem reads
 *    without pinning and the pages stay shared.
 *
 * Pages that cannot be read (guard pages, [vvar], I/O memory) are retried
 * one by one through /proc/PID/mem and, failing that, returned as zeros and
 * counted, so one bad page never costs the rest of a mapping.
 *
 * memreader_read_anon() also asks /proc/PID/pagemap which pages of an
 * anonymous private range were ever populated, and reads only those: the
 * others are zeros by definition (the kernel's core dump skips them the
 * same way), and reading them would only fault in the zero page.
 */
#ifndef PYCORE_MEMREAD_H
#define PYCORE_MEMREAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum memread_mode { MEMREAD_VM_READV, MEMREAD_PROC_MEM };

struct pc_memreader {
	pid_t pid;
	int memfd;            /* /proc/PID/mem, opened lazily; -1 if unusable */
	int pagemapfd;        /* /proc/PID/pagemap, opened lazily; -1 if unusable */
	int use_vm_readv;     /* 0 in MEMREAD_PROC_MEM mode, or once unavailable */
	uint64_t bad_bytes;   /* total bytes that could not be read */
	uint64_t skipped_bytes;  /* never-populated bytes not read at all */
};

void memreader_init(struct pc_memreader *r, pid_t pid, enum memread_mode mode);

/* Fill buf with [addr, addr+len).  Unreadable pages read as zeros; their
 * byte count is returned in *unreadable.  Returns 0, or -1 only when the
 * process is gone (PC_EGONE). */
int memreader_read(struct pc_memreader *r, uint64_t addr, void *buf,
		   size_t len, size_t *unreadable);

/* The same for a page-aligned range of an anonymous private mapping: pages
 * never populated (neither present nor swapped out) are not read but set to
 * zeros, and flagged in absent[page] (1) when absent is not NULL.  Without
 * a usable pagemap every page is read.  Returns 0 or -1 (PC_EGONE). */
int memreader_read_anon(struct pc_memreader *r, uint64_t addr, void *buf,
			size_t len, size_t *unreadable, uint8_t *absent);

void memreader_close(struct pc_memreader *r);

#endif
