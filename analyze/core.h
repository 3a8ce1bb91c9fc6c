/* core.h — an ELF core file as a memory image.
 *
 * core_open() reads the program headers and notes of a core written by
 * pycore-capture (plain, or the seekable LZ4 container read in place), by
 * gdb's gcore or by the kernel; core_read() then answers "what was at this
 * address" from the PT_LOAD segments, the way a debugger does.  Nothing
 * here knows about Python.
 */
#ifndef PYCORE_CORE_H
#define PYCORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

struct pc_core;
struct pc_core_segment;

struct pc_core_thread {
	pid_t tid;
	struct user_regs_struct regs;
};

struct pc_core_file {            /* an NT_FILE entry */
	uint64_t start, end, offset; /* offset in bytes */
	const char *path;
};

/* Open a core.  NULL with the error recorded: PC_EFORMAT for what is not a
 * core (or is damaged beyond use), PC_EINTERNAL/errno for I/O. */
struct pc_core *core_open(const char *path);
void core_close(struct pc_core *c);

/* A running process seen as a core, so the same analysis can run before a
 * capture (pycore-capture records the runtime's facts in its note that
 * way).  read returns the bytes copied, short or -1 on failure. */
struct pc_core_source {
	ssize_t (*read)(void *arg, uint64_t addr, void *buf, size_t len);
	void *arg;
};

/* Segments are the readable mappings (offset and filesz are ignored),
 * files the file-backed ones with their paths; both are copied, paths are
 * borrowed.  The source must outlive the core.  NULL on ENOMEM. */
struct pc_core *core_open_live(const struct pc_core_source *src,
			       const struct pc_core_segment *segs, size_t nsegs,
			       const struct pc_core_file *files, size_t nfiles);

/* Copy up to len bytes of the process's memory at addr.  Returns how many
 * consecutive bytes the core holds from addr on (0 when addr is not in a
 * dumped segment, or the segment lies past the end of a truncated core),
 * or -1 on an I/O or format error. */
ssize_t core_read(struct pc_core *c, uint64_t addr, void *buf, size_t len);

/* A pointer to len bytes of the process's memory at addr, valid until
 * core_close(), when the core holds them all in one segment; else NULL
 * (an LZ4 block that fails to decompress records the error).  The fast
 * path of the heap walk: no copy, no system call once mapped. */
const void *core_ptr(struct pc_core *c, uint64_t addr, size_t len);

/* All of [addr, addr+len) or nothing: 0, or -1 (PC_EFORMAT naming addr). */
int core_read_all(struct pc_core *c, uint64_t addr, void *buf, size_t len);

struct pc_core_segment {         /* a PT_LOAD */
	uint64_t vaddr, memsz, filesz, offset;
	uint32_t flags;              /* PF_R | PF_W | PF_X */
};
size_t core_segment_count(const struct pc_core *c);
const struct pc_core_segment *core_segment(const struct pc_core *c, size_t i);

/* Does a file mapping (NT_FILE) overlap the segment?  Anonymous memory
 * (heaps, arenas, stacks) is the segments where it does not. */
bool core_segment_file_backed(const struct pc_core *c, const struct pc_core_segment *s);

size_t core_thread_count(const struct pc_core *c);
const struct pc_core_thread *core_thread(const struct pc_core *c, size_t i);
size_t core_file_count(const struct pc_core *c);
const struct pc_core_file *core_file(const struct pc_core *c, size_t i);

/* The first note with this owner and type; NULL when absent. */
const void *core_note(const struct pc_core *c, const char *owner, uint32_t type,
		      size_t *len);

/* The process id of the core: NT_PRPSINFO's pr_pid, else the first
 * thread's id, else 0. */
pid_t core_process_id(const struct pc_core *c);

/* A pycore-capture core of a process in a container (another pid, mount
 * namespace or root than the capture's: its PYCORE namespaces note):
 * PYCORE_NS_* flags, with the pid the capture knew the process by in
 * *outer_pid.  0 for any other core. */
unsigned core_namespaces(const struct pc_core *c, pid_t *outer_pid);

/* A pycore-capture --filter core (its PYCORE filter note): the rules it
 * was written under (PYCORE_RULES_*; an unknown code is passed on), with
 * the bytes of memory the kernel's rules would have dumped in
 * *kernel_bytes.  0 for any other core. */
uint32_t core_filter(const struct pc_core *c, uint64_t *kernel_bytes);

/* Was it an LZ4 stream without pycore's index (as the lz4 tool writes),
 * decompressed into a temporary file to be read? */
bool core_was_decompressed(const struct pc_core *c);

/* Bytes the program headers promise but the file lacks (a truncated core),
 * 0 for a whole one. */
uint64_t core_missing_bytes(const struct pc_core *c);

#endif
