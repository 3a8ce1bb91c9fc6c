/* corewriter.c — the ELF core's layout and its forward writer. */
#include "corewriter.h"

#include "../common/error.h"
#include "prefetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096u
#define BATCH (512u << 10)       /* memory read per system call, per ring slot */
#define PAGE_ALIGN(x) (((x) + PAGE - 1) & ~(uint64_t)(PAGE - 1))

static uint32_t segment_flags(const struct pc_mapping *m)
{
	return (m->readable ? PF_R : 0) | (m->writable ? PF_W : 0) |
	       (m->executable ? PF_X : 0);
}

int coreplan_init(struct pc_coreplan *plan, const struct pc_maplist *maps,
		  const uint64_t *dump_len, const struct pc_notes *notes)
{
	uint64_t off;

	memset(plan, 0, sizeof *plan);
	plan->maps = maps;
	plan->dump_len = dump_len;
	plan->notes = notes;
	plan->nphdrs = maps->n + 1;
	plan->phdrs = calloc(plan->nphdrs, sizeof *plan->phdrs);
	if (!plan->phdrs)
		return pc_fail(PC_EINTERNAL, ENOMEM, "planning the core");
	plan->headers_size = sizeof(Elf64_Ehdr) + plan->nphdrs * sizeof(Elf64_Phdr);
	if (plan->nphdrs >= PN_XNUM)    /* real count goes in section header 0 */
		plan->headers_size += sizeof(Elf64_Shdr);

	plan->phdrs[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = plan->headers_size,
				       .p_filesz = notes->len, .p_align = 4 };
	off = plan->data_offset = PAGE_ALIGN(plan->headers_size + notes->len);
	for (size_t i = 0; i < maps->n; i++) {
		const struct pc_mapping *m = &maps->v[i];
		plan->phdrs[i + 1] = (Elf64_Phdr){
			.p_type = PT_LOAD, .p_flags = segment_flags(m),
			.p_offset = off, .p_vaddr = m->start,
			.p_filesz = dump_len[i], .p_memsz = m->end - m->start,
			.p_align = PAGE,
		};
		off += dump_len[i];
		plan->dump_bytes += dump_len[i];
	}
	plan->total_size = off;
	return 0;
}

void coreplan_free(struct pc_coreplan *plan)
{
	free(plan->phdrs);
	plan->phdrs = NULL;
}

static int write_headers(const struct pc_coreplan *plan, struct pc_sink *sink)
{
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE },
		.e_type = ET_CORE, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = plan->nphdrs >= PN_XNUM ? PN_XNUM : (Elf64_Half)plan->nphdrs,
		.e_shentsize = sizeof(Elf64_Shdr),
	};
	Elf64_Shdr sh0 = { .sh_info = (Elf64_Word)plan->nphdrs };
	bool xnum = plan->nphdrs >= PN_XNUM;

	if (xnum) {
		eh.e_shoff = sizeof eh + plan->nphdrs * sizeof(Elf64_Phdr);
		eh.e_shnum = 1;
	}
	if (sink_write(sink, &eh, sizeof eh) < 0 ||
	    sink_write(sink, plan->phdrs, plan->nphdrs * sizeof(Elf64_Phdr)) < 0 ||
	    (xnum && sink_write(sink, &sh0, sizeof sh0) < 0) ||
	    sink_write(sink, plan->notes->data, plan->notes->len) < 0)
		return -1;
	return sink_hole(sink, plan->data_offset - plan->headers_size - plan->notes->len);
}

/* Emit a batch: runs of non-zero pages as data, zero pages as holes. */
static int emit_pages(struct pc_sink *sink, const struct pc_batch *b)
{
	size_t npages = (b->len + PAGE - 1) / PAGE;

	for (size_t first = 0; first < npages;) {
		bool zero = b->zero_page[first];
		size_t last = first + 1, at = first * PAGE, end;

		while (last < npages && b->zero_page[last] == zero)
			last++;
		end = last * PAGE < b->len ? last * PAGE : b->len;
		if ((zero ? sink_hole(sink, end - at) : sink_write(sink, b->data + at, end - at)) < 0)
			return -1;
		first = last;
	}
	return 0;
}

static void note_unreadable(struct pc_write_ctl *ctl, const struct pc_mapping *m,
			    size_t map_index, size_t bad, size_t *last_bad_map)
{
	/* vsyscall is execute-only on current kernels: unreadable by design. */
	if (!bad || (m->path && strcmp(m->path, "[vsyscall]") == 0))
		return;
	ctl->unreadable += bad;
	ctl->unreadable_maps += map_index != *last_bad_map;
	*last_bad_map = map_index;
}

int write_ctl_check(const struct pc_write_ctl *ctl)
{
	if (*ctl->interrupted)
		return pc_fail(PC_EINTR, 0, "interrupted by signal %d", *ctl->interrupted);
	if (ctl->limit_hit && *ctl->limit_hit)
		return pc_fail(PC_ELIMIT, 0, "the snapshot's copy-on-write memory passed "
			       "--max-cow-mb: capture abandoned");
	return 0;
}

/* A sink with its own buffers (LZ4) gets memory read straight into them;
 * zeros cost nothing there, so pages are not sorted into data and holes. */
static int write_direct(const struct pc_coreplan *plan, struct pc_sink *sink,
			struct pc_memreader *mem, struct pc_write_ctl *ctl)
{
	size_t last_bad_map = SIZE_MAX;
	uint64_t done = 0;

	for (size_t i = 0; i < plan->maps->n; i++) {
		const struct pc_mapping *m = &plan->maps->v[i];
		for (uint64_t at = 0; at < plan->dump_len[i];) {
			size_t room, bad;
			uint8_t *dst = sink->reserve(sink, &room);

			if (!dst || write_ctl_check(ctl) < 0)
				return -1;
			if (room > plan->dump_len[i] - at)
				room = (size_t)(plan->dump_len[i] - at);
			if ((mapping_is_anon_private(m)
				     ? memreader_read_anon(mem, m->start + at, dst, room, &bad, NULL)
				     : memreader_read(mem, m->start + at, dst, room, &bad)) < 0 ||
			    sink->commit(sink, room) < 0)
				return -1;
			note_unreadable(ctl, m, i, bad, &last_bad_map);
			at += room;
			done += room;
			if (ctl->progress)
				ctl->progress(ctl->progress_arg, done, plan->dump_bytes);
		}
	}
	return 0;
}

/* A plain file: a reader thread fills batches while this one writes them,
 * zero pages as holes. */
static int write_buffered(const struct pc_coreplan *plan, struct pc_sink *sink,
			  struct pc_memreader *mem, struct pc_write_ctl *ctl)
{
	struct pc_prefetch *reader = prefetch_start(plan->maps, plan->dump_len, mem, BATCH);
	size_t last_bad_map = SIZE_MAX;
	struct pc_batch b;
	uint64_t done = 0;
	int rc;

	if (!reader)
		return -1;
	while ((rc = prefetch_next(reader, &b)) > 0) {
		if (write_ctl_check(ctl) < 0 || emit_pages(sink, &b) < 0) {
			rc = -1;
			break;
		}
		note_unreadable(ctl, &plan->maps->v[b.map_index], b.map_index, b.unreadable,
				&last_bad_map);
		prefetch_release(reader);
		done += b.len;
		if (ctl->progress)
			ctl->progress(ctl->progress_arg, done, plan->dump_bytes);
	}
	prefetch_stop(reader);
	return rc < 0 ? -1 : 0;
}

int core_write(const struct pc_coreplan *plan, struct pc_sink *sink,
	       struct pc_memreader *mem, struct pc_write_ctl *ctl)
{
	if (write_headers(plan, sink) < 0)
		return -1;
	return sink->reserve ? write_direct(plan, sink, mem, ctl)
			     : write_buffered(plan, sink, mem, ctl);
}
