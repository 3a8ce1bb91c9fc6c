/* corewriter.h — lay out an ELF core, then write it forward through a sink.
 *
 * Like the kernel's elf_core_dump(), in two passes: first the plan (header,
 * one PT_NOTE then one PT_LOAD per mapping, page-aligned data offsets), then
 * the bytes in file order.  For a plain file, memory is read a few batches
 * ahead on a thread and pages that read as zeros become holes; a sink with
 * buffers of its own (LZ4) gets memory read straight into them.
 */
#ifndef PYCORE_COREWRITER_H
#define PYCORE_COREWRITER_H

#include "elfnote.h"
#include "memread.h"
#include "procmaps.h"
#include "sink.h"

#include <elf.h>
#include <stdbool.h>
#include <stdint.h>

struct pc_coreplan {
	const struct pc_maplist *maps;
	const uint64_t *dump_len;      /* per mapping, bytes from its start */
	const struct pc_notes *notes;
	Elf64_Phdr *phdrs;             /* PT_NOTE, then one PT_LOAD per mapping */
	size_t nphdrs;
	uint64_t headers_size;         /* ehdr + phdrs (+ extended-count shdr) */
	uint64_t data_offset;          /* page-aligned start of the memory */
	uint64_t total_size;           /* the whole file */
	uint64_t dump_bytes;           /* memory bytes to read */
};

/* Progress and cancellation, polled once per batch. */
struct pc_write_ctl {
	volatile const int *interrupted;
	volatile const int *limit_hit;   /* optional: --max-cow-mb passed */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	uint64_t unreadable;           /* out: bytes written as zeros */
	size_t unreadable_maps;        /* out: mappings with such bytes */
};

/* 0, or -1 with the error recorded when a signal came (PC_EINTR) or the
 * copy-on-write limit was passed (PC_ELIMIT): the writer asks between
 * batches, the caller once more when the last batch is written. */
int write_ctl_check(const struct pc_write_ctl *ctl);

int coreplan_init(struct pc_coreplan *plan, const struct pc_maplist *maps,
		  const uint64_t *dump_len, const struct pc_notes *notes);
void coreplan_free(struct pc_coreplan *plan);

/* Write the whole core.  Returns 0 or -1. */
int core_write(const struct pc_coreplan *plan, struct pc_sink *sink,
	       struct pc_memreader *mem, struct pc_write_ctl *ctl);

#endif
