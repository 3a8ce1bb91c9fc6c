/* fuzz_core.c — the ELF core reader on arbitrary bytes: headers, program
 * headers, notes (NT_PRSTATUS, NT_PRPSINFO, NT_FILE, the PYCORE notes),
 * memory reads across and beyond every segment, and the LZ4 paths when
 * the input starts like an LZ4 frame.  Nothing may crash, hang, leak or
 * read outside what was allocated; errors are return values.
 */
#include "fuzz_common.h"

#include "../../analyze/core.h"
#include "../../analyze/pyfacts.h"
#include "../../common/error.h"
#include "../../common/pycore_note.h"

#include <elf.h>

static void read_around(struct pc_core *c, const struct pc_core_segment *s)
{
	uint8_t buf[256];
	const uint64_t probes[] = { s->vaddr, s->vaddr + s->filesz / 2,
				    s->vaddr + (s->filesz ? s->filesz - 1 : 0), s->vaddr + s->memsz - 8,
				    s->vaddr + s->memsz };

	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		(void)core_read(c, probes[i], buf, sizeof buf);
		(void)core_ptr(c, probes[i], 64);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfile(data, size);
	char path[64];
	struct pc_core *c;

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	c = core_open(path);
	if (c) {
		size_t len;
		const void *note;
		struct pc_pyfacts facts;

		for (size_t i = 0; i < core_segment_count(c) && i < 64; i++)
			read_around(c, core_segment(c, i));
		for (size_t i = 0; i < core_thread_count(c); i++)
			(void)core_thread(c, i)->tid;
		for (size_t i = 0; i < core_file_count(c); i++)
			(void)core_file(c, i)->path;
		(void)core_process_id(c);
		(void)core_missing_bytes(c);
		note = core_note(c, PYCORE_NOTE_NAME, PYCORE_NT_PYTHON, &len);
		if (note && pyfacts_parse(note, len, &facts) == 0)
			pyfacts_free(&facts);
		core_close(c);
	}
	pc_clear_error();
	close(fd);
	return 0;
}
