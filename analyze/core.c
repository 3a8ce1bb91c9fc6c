/* core.c — program headers, notes and memory of an ELF core file. */
#include "core.h"

#include "../common/error.h"
#include "../common/lz4pack.h"
#include "../common/pycore_note.h"
#include "../common/sort.h"
#include "lz4pack.h"
#include "lz4stream.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif
#define NOTES_MAX (256u << 20)   /* more notes than this is not a real core */

#define segment pc_core_segment    /* the public record, by a short name */

struct note_ref {
	const char *owner;           /* into notes */
	uint32_t type;
	const uint8_t *desc;
	size_t len;
};

struct pc_core {
	uint64_t serial;             /* unique per opened core (find_segment's cache) */
	int fd;
	const struct pc_core_source *live;   /* a running process, or NULL: a file */
	struct lz4pack *pack;        /* the LZ4 container, or NULL: a plain file */
	uint64_t size;               /* bytes of core (decompressed) */
	struct segment *segs;        /* PT_LOADs, by address */
	size_t nsegs;
	uint8_t *notes;              /* every PT_NOTE, back to back */
	size_t notes_len;
	size_t *note_ends;           /* where each PT_NOTE's bytes end in notes */
	size_t nnote_segs;
	struct note_ref *refs;
	size_t nrefs;
	struct pc_core_thread *threads;
	size_t nthreads;
	struct pc_core_file *files;
	size_t nfiles;
	uint64_t missing;
	/* The whole core in memory, for core_ptr(): the file itself mapped,
	 * or for an LZ4 core an unnamed temporary file its blocks are
	 * decompressed into when first touched (page cache, not the heap). */
	uint8_t *view;
	int view_fd;
	uint8_t *view_filled;        /* LZ4: one flag per container block */
	pthread_mutex_t fill_lock;   /* LZ4: blocks are filled by one thread at a time */
	bool view_failed;            /* no memory or no temporary file: use reads */
	bool decompressed;           /* an LZ4 stream without index, now a temporary file */
};

/* Read exactly len bytes of the core file (decompressed) at off. */
static int store_read(struct pc_core *c, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (off > c->size || len > c->size - off)
		return pc_fail(PC_EFORMAT, 0, "core is truncated: %zu bytes at offset %llu "
			       "are past its end", len, (unsigned long long)off);
	if (c->live) {                /* offsets are addresses */
		ssize_t n = c->live->read(c->live->arg, off, buf, len);
		if (n < 0 || (size_t)n != len)
			return pc_fail(PC_EFORMAT, 0, "cannot read %zu bytes at %#llx of the process",
				       len, (unsigned long long)off);
		return 0;
	}
	while (done < len) {
		ssize_t n = c->pack ? lz4pack_pread(c->pack, (char *)buf + done, len - done, off + done)
				    : pread(c->fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (n < 0 && !c->pack && errno == EINTR)
			continue;
		if (n < 0)
			return c->pack ? -1 : pc_fail(PC_EINTERNAL, errno, "reading the core");
		if (n == 0)
			return pc_fail(PC_EFORMAT, 0, "core is truncated");
		done += (size_t)n;
	}
	return 0;
}

static int open_store(struct pc_core *c, const char *path)
{
	struct stat st;

	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0)
		return pc_fail(errno == ENOENT ? PC_EUSAGE : PC_EINTERNAL, errno, "%s", path);
	if (fstat(c->fd, &st) < 0)
		return pc_fail(PC_EINTERNAL, errno, "%s", path);
	if (!S_ISREG(st.st_mode))
		return pc_fail(PC_EFORMAT, 0, "%s is not a regular file", path);
	c->size = (uint64_t)st.st_size;
	if (lz4pack_is_lz4(c->fd) && !lz4stream_has_index(c->fd)) {
		int plain = lz4stream_to_temp(c->fd);
		if (plain < 0)
			return pc_wrap("%s", path);
		close(c->fd);
		c->fd = plain;
		c->decompressed = true;
		if (fstat(c->fd, &st) < 0)
			return pc_fail(PC_EINTERNAL, errno, "%s", path);
		c->size = (uint64_t)st.st_size;
	} else if (lz4pack_is_lz4(c->fd)) {
		c->pack = lz4pack_open(c->fd);
		if (!c->pack)
			return pc_wrap("%s", path);
		c->size = lz4pack_size(c->pack);
	}
	return 0;
}

static int by_vaddr(const void *a, const void *b)
{
	uint64_t x = ((const struct segment *)a)->vaddr, y = ((const struct segment *)b)->vaddr;
	return (x > y) - (x < y);
}

/* Walk one note segment's bytes, recording each note. */
static int index_notes(struct pc_core *c, size_t from, size_t to)
{
	size_t off = from;

	while (off + sizeof(Elf64_Nhdr) <= to) {
		Elf64_Nhdr nh;
		size_t name_at, desc_at, next;
		struct note_ref *r;

		memcpy(&nh, c->notes + off, sizeof nh);
		name_at = off + sizeof nh;
		desc_at = name_at + (((size_t)nh.n_namesz + 3) & ~(size_t)3);
		next = desc_at + (((size_t)nh.n_descsz + 3) & ~(size_t)3);
		if (nh.n_namesz > to || nh.n_descsz > to || desc_at > to || next > to + 3 ||
		    desc_at + nh.n_descsz > to)
			return pc_fail(PC_EFORMAT, 0, "damaged note at note offset %zu", off);
		if (nh.n_namesz == 0 || c->notes[name_at + nh.n_namesz - 1] != '\0')
			return pc_fail(PC_EFORMAT, 0, "note without a proper owner name");
		r = realloc(c->refs, (c->nrefs + 1) * sizeof *r);
		if (!r)
			return pc_fail(PC_EINTERNAL, ENOMEM, "indexing notes");
		c->refs = r;
		c->refs[c->nrefs++] = (struct note_ref){ (const char *)c->notes + name_at, nh.n_type,
							 c->notes + desc_at, nh.n_descsz };
		off = next;
	}
	return 0;
}

static int read_headers(struct pc_core *c)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	uint64_t phnum;
	int rc = -1;

	if (store_read(c, &eh, sizeof eh, 0) < 0)
		return pc_fail(PC_EFORMAT, 0, "not an ELF core (too short)");
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return pc_fail(PC_EFORMAT, 0, "not an ELF file");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_type != ET_CORE)
		return pc_fail(PC_EFORMAT, 0, "not a 64-bit little-endian core file (ELF type %u)",
			       eh.e_type);
	if (eh.e_machine != EM_X86_64)
		return pc_fail(PC_EFORMAT, 0, "core of machine %u: only x86-64 is supported",
			       eh.e_machine);
	phnum = eh.e_phnum;
	if (phnum == PN_XNUM) {          /* the real count is in section header 0 */
		Elf64_Shdr sh0;
		if (store_read(c, &sh0, sizeof sh0, eh.e_shoff) < 0)
			return pc_wrap("reading the extended program header count");
		phnum = sh0.sh_info;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || phnum == 0 ||
	    phnum > c->size / sizeof(Elf64_Phdr))
		return pc_fail(PC_EFORMAT, 0, "damaged program header table");
	ph = malloc(phnum * sizeof *ph);
	c->segs = calloc(phnum, sizeof *c->segs);
	c->note_ends = calloc(phnum, sizeof *c->note_ends);
	if (!ph || !c->segs || !c->note_ends) {
		pc_fail(PC_EINTERNAL, ENOMEM, "reading program headers");
		goto out;
	}
	if (store_read(c, ph, phnum * sizeof *ph, eh.e_phoff) < 0) {
		pc_wrap("reading program headers");
		goto out;
	}
	for (uint64_t i = 0; i < phnum; i++) {
		if (ph[i].p_type == PT_LOAD) {
			/* Sums of these must not wrap: every later check adds them. */
			if (ph[i].p_filesz > ph[i].p_memsz || ph[i].p_vaddr + ph[i].p_memsz < ph[i].p_vaddr ||
			    ph[i].p_offset + ph[i].p_filesz < ph[i].p_offset) {
				pc_fail(PC_EFORMAT, 0, "damaged PT_LOAD at %#llx",
					(unsigned long long)ph[i].p_vaddr);
				goto out;
			}
			c->segs[c->nsegs++] = (struct segment){ ph[i].p_vaddr, ph[i].p_memsz,
								ph[i].p_filesz, ph[i].p_offset,
								ph[i].p_flags };
			if (ph[i].p_offset > c->size)
				c->missing += ph[i].p_filesz;
			else if (ph[i].p_filesz > c->size - ph[i].p_offset)
				c->missing += ph[i].p_filesz - (c->size - ph[i].p_offset);
		} else if (ph[i].p_type == PT_NOTE && ph[i].p_filesz > 0) {
			size_t at = c->notes_len;
			uint8_t *grown;
			if (ph[i].p_filesz > NOTES_MAX - c->notes_len) {
				pc_fail(PC_EFORMAT, 0, "notes larger than any real core's");
				goto out;
			}
			grown = realloc(c->notes, at + ph[i].p_filesz);
			if (!grown) {
				pc_fail(PC_EINTERNAL, ENOMEM, "reading notes");
				goto out;
			}
			c->notes = grown;
			c->notes_len += ph[i].p_filesz;
			if (store_read(c, c->notes + at, ph[i].p_filesz, ph[i].p_offset) < 0) {
				pc_wrap("reading notes");
				goto out;
			}
			c->note_ends[c->nnote_segs++] = c->notes_len;
		}
	}
	sort_array(c->segs, c->nsegs, sizeof *c->segs, by_vaddr);
	/* Each PT_NOTE is a list of its own: index them one by one, now that
	 * the buffer holding them all has stopped moving. */
	rc = 0;
	for (size_t k = 0, from = 0; k < c->nnote_segs && rc == 0; from = c->note_ends[k++])
		rc = index_notes(c, from, c->note_ends[k]);
out:
	free(ph);
	return rc;
}

static int collect_threads(struct pc_core *c)
{
	for (size_t i = 0; i < c->nrefs; i++) {
		const struct note_ref *r = &c->refs[i];
		struct elf_prstatus pr;
		struct pc_core_thread *t;

		if (r->type != NT_PRSTATUS || strcmp(r->owner, "CORE") != 0)
			continue;
		if (r->len < sizeof pr)
			return pc_fail(PC_EFORMAT, 0, "NT_PRSTATUS note too small");
		memcpy(&pr, r->desc, sizeof pr);
		t = realloc(c->threads, (c->nthreads + 1) * sizeof *t);
		if (!t)
			return pc_fail(PC_EINTERNAL, ENOMEM, "reading threads");
		c->threads = t;
		c->threads[c->nthreads].tid = pr.pr_pid;
		memcpy(&c->threads[c->nthreads].regs, &pr.pr_reg, sizeof pr.pr_reg);
		c->nthreads++;
	}
	return 0;
}

/* NT_FILE: count, page size, count × {start, end, page offset}, names. */
static int collect_files(struct pc_core *c)
{
	size_t len;
	const uint8_t *d = core_note(c, "CORE", NT_FILE, &len);
	uint64_t count, page;
	const char *name, *end;

	if (!d)
		return 0;
	if (len < 16)
		return pc_fail(PC_EFORMAT, 0, "NT_FILE note too small");
	memcpy(&count, d, 8);
	memcpy(&page, d + 8, 8);
	if (count > (len - 16) / 24)
		return pc_fail(PC_EFORMAT, 0, "NT_FILE note lists more files than it holds");
	c->files = calloc(count ? count : 1, sizeof *c->files);
	if (!c->files)
		return pc_fail(PC_EINTERNAL, ENOMEM, "reading NT_FILE");
	name = (const char *)d + 16 + count * 24;
	end = (const char *)d + len;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *e = d + 16 + i * 24;
		size_t n = strnlen(name, (size_t)(end - name));
		if (name + n >= end)
			return pc_fail(PC_EFORMAT, 0, "NT_FILE names run past the note");
		memcpy(&c->files[i].start, e, 8);
		memcpy(&c->files[i].end, e + 8, 8);
		memcpy(&c->files[i].offset, e + 16, 8);
		c->files[i].offset *= page;
		c->files[i].path = name;
		name += n + 1;
	}
	c->nfiles = count;
	return 0;
}

/* A core's serial: never 0 (the cache's "none"), never reused. */
static uint64_t next_serial(void)
{
	static uint64_t counter;
	return __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
}

struct pc_core *core_open(const char *path)
{
	struct pc_core *c = calloc(1, sizeof *c);

	if (!c) {
		pc_fail(PC_EINTERNAL, ENOMEM, "opening %s", path);
		return NULL;
	}
	c->serial = next_serial();
	c->fd = -1;
	c->view_fd = -1;
	pthread_mutex_init(&c->fill_lock, NULL);
	if (open_store(c, path) < 0)
		goto fail;
	if (read_headers(c) < 0 || collect_threads(c) < 0 || collect_files(c) < 0) {
		pc_wrap("%s", path);
		goto fail;
	}
	return c;
fail:
	core_close(c);
	return NULL;
}

struct pc_core *core_open_live(const struct pc_core_source *src,
			       const struct pc_core_segment *segs, size_t nsegs,
			       const struct pc_core_file *files, size_t nfiles)
{
	struct pc_core *c = calloc(1, sizeof *c);

	if (!c) {
		pc_fail(PC_EINTERNAL, ENOMEM, "describing the process");
		return NULL;
	}
	c->serial = next_serial();
	c->fd = c->view_fd = -1;
	if (!(c->segs = calloc(nsegs ? nsegs : 1, sizeof *c->segs)) ||
	    !(c->files = calloc(nfiles ? nfiles : 1, sizeof *c->files))) {
		pc_fail(PC_EINTERNAL, ENOMEM, "describing the process");
		core_close(c);
		return NULL;
	}
	c->live = src;
	c->size = UINT64_MAX;
	c->view_failed = true;
	for (size_t i = 0; i < nsegs; i++) {
		c->segs[i] = segs[i];
		c->segs[i].offset = segs[i].vaddr;   /* the store is the address space */
		c->segs[i].filesz = segs[i].memsz;
	}
	c->nsegs = nsegs;
	sort_array(c->segs, c->nsegs, sizeof *c->segs, by_vaddr);
	memcpy(c->files, files, nfiles * sizeof *files);
	c->nfiles = nfiles;
	return c;
}

void core_close(struct pc_core *c)
{
	if (!c)
		return;
	lz4pack_close(c->pack);
	if (c->view)
		munmap(c->view, (size_t)c->size);
	if (c->view_fd >= 0)
		close(c->view_fd);
	free(c->view_filled);
	if (c->fd >= 0)
		close(c->fd);
	free(c->segs);
	free(c->notes);
	free(c->note_ends);
	free(c->refs);
	free(c->threads);
	free(c->files);
	free(c);
}

static const struct segment *find_segment(const struct pc_core *c, uint64_t addr)
{
	/* Heap walks read near where they read last (per thread: the graph
	 * is built by several).  The cache names the core by serial, not by
	 * address: a core opened where a closed one was must not find the
	 * closed one's segments. */
	static __thread uint64_t last_serial;
	static __thread size_t last;
	size_t lo = 0, hi = c->nsegs;

	if (last_serial == c->serial && last < c->nsegs &&
	    addr - c->segs[last].vaddr < c->segs[last].memsz)
		return &c->segs[last];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct segment *s = &c->segs[mid];
		if (addr < s->vaddr)
			hi = mid;
		else if (addr - s->vaddr >= s->memsz)
			lo = mid + 1;
		else
		{
			last_serial = c->serial;
			last = mid;
			return s;
		}
	}
	return NULL;
}

/* Map the core for core_ptr(); NULL (no error) when it cannot be. */
static uint8_t *map_view(struct pc_core *c)
{
	const char *dir = getenv("TMPDIR");
	void *m;

	if (c->size == 0 || c->size > SIZE_MAX)
		return NULL;
	if (!c->pack) {
		m = mmap(NULL, (size_t)c->size, PROT_READ, MAP_PRIVATE | MAP_NORESERVE, c->fd, 0);
		return m == MAP_FAILED ? NULL : m;
	}
	c->view_filled = calloc(c->size / LZ4PACK_BLOCK_SIZE + 1, 1);
	if (!c->view_filled)
		return NULL;
	c->view_fd = open(dir && *dir ? dir : "/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (c->view_fd < 0 || ftruncate(c->view_fd, (off_t)c->size) < 0)
		return NULL;
	m = mmap(NULL, (size_t)c->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		 c->view_fd, 0);
	return m == MAP_FAILED ? NULL : m;
}

/* LZ4: decompress the blocks covering [off, off+len) into the view. */
static int fill_view(struct pc_core *c, uint64_t off, uint64_t len)
{
	for (uint64_t b = off / LZ4PACK_BLOCK_SIZE; b <= (off + len - 1) / LZ4PACK_BLOCK_SIZE; b++) {
		uint64_t at = b * LZ4PACK_BLOCK_SIZE;
		size_t n = c->size - at < LZ4PACK_BLOCK_SIZE ? (size_t)(c->size - at)
							     : LZ4PACK_BLOCK_SIZE;
		if (c->view_filled[b])
			continue;
		if (store_read(c, c->view + at, n, at) < 0)
			return -1;
		c->view_filled[b] = 1;
	}
	return 0;
}

const void *core_ptr(struct pc_core *c, uint64_t addr, size_t len)
{
	const struct segment *s = find_segment(c, addr);
	uint64_t in;

	if (!s || len == 0 || (in = addr - s->vaddr) > s->filesz || len > s->filesz - in ||
	    s->offset + in > c->size || len > c->size - (s->offset + in))
		return NULL;
	if (!c->view && !c->view_failed && !c->live) {
		c->view = map_view(c);
		c->view_failed = !c->view;
	}
	if (!c->view)
		return NULL;
	if (c->pack) {
		int rc;
		pthread_mutex_lock(&c->fill_lock);
		rc = fill_view(c, s->offset + in, len);
		pthread_mutex_unlock(&c->fill_lock);
		if (rc < 0)
			return NULL;
	}
	return c->view + s->offset + in;
}

ssize_t core_read(struct pc_core *c, uint64_t addr, void *buf, size_t len)
{
	const struct segment *s = find_segment(c, addr);
	const void *view;
	uint64_t in, avail;

	if (!s || (in = addr - s->vaddr) >= s->filesz || s->offset + in >= c->size)
		return 0;
	avail = s->filesz - in;
	if (avail > c->size - (s->offset + in))
		avail = c->size - (s->offset + in);       /* a truncated core */
	if (len > avail)
		len = (size_t)avail;
	if (len >= 8 && (view = core_ptr(c, addr, len))) {
		memcpy(buf, view, len);
		return (ssize_t)len;
	}
	return store_read(c, buf, len, s->offset + in) < 0 ? -1 : (ssize_t)len;
}

/* Why core_read() found nothing at addr, as an error. */
static int no_memory_error(const struct pc_core *c, uint64_t addr)
{
	const struct segment *s = find_segment(c, addr);

	if (!s)
		return pc_fail(PC_EFORMAT, 0, "address %#llx is not in any mapping of the core",
			       (unsigned long long)addr);
	if (addr - s->vaddr < s->filesz)
		return pc_fail(PC_EFORMAT, 0, "address %#llx is in the part of the core that is "
			       "missing: the file is truncated", (unsigned long long)addr);
	return pc_fail(PC_EFORMAT, 0, "address %#llx was not dumped into the core",
		       (unsigned long long)addr);
}

int core_read_all(struct pc_core *c, uint64_t addr, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = core_read(c, addr + done, (char *)buf + done, len - done);
		if (n < 0)
			return -1;
		if (n == 0)
			return no_memory_error(c, addr + done);
		done += (size_t)n;
	}
	return 0;
}

size_t core_segment_count(const struct pc_core *c)
{
	return c->nsegs;
}

const struct pc_core_segment *core_segment(const struct pc_core *c, size_t i)
{
	return i < c->nsegs ? &c->segs[i] : NULL;
}

size_t core_thread_count(const struct pc_core *c)
{
	return c->nthreads;
}

const struct pc_core_thread *core_thread(const struct pc_core *c, size_t i)
{
	return i < c->nthreads ? &c->threads[i] : NULL;
}

size_t core_file_count(const struct pc_core *c)
{
	return c->nfiles;
}

const struct pc_core_file *core_file(const struct pc_core *c, size_t i)
{
	return i < c->nfiles ? &c->files[i] : NULL;
}

const void *core_note(const struct pc_core *c, const char *owner, uint32_t type, size_t *len)
{
	for (size_t i = 0; i < c->nrefs; i++)
		if (c->refs[i].type == type && strcmp(c->refs[i].owner, owner) == 0) {
			if (len)
				*len = c->refs[i].len;
			return c->refs[i].desc;
		}
	return NULL;
}

pid_t core_process_id(const struct pc_core *c)
{
	size_t len;
	const void *note = core_note(c, "CORE", NT_PRPSINFO, &len);
	struct elf_prpsinfo ps;

	/* Notes are 4-byte aligned in the file; the struct wants 8: copy. */
	if (note && len >= sizeof ps) {
		memcpy(&ps, note, sizeof ps);
		return ps.pr_pid;
	}
	return c->nthreads ? c->threads[0].tid : 0;
}

unsigned core_namespaces(const struct pc_core *c, pid_t *outer_pid)
{
	size_t len;
	const uint8_t *d = core_note(c, PYCORE_NOTE_NAME, PYCORE_NT_NAMESPACES, &len);
	uint32_t flags;
	int32_t pid;

	if (!d || len < 40)
		return 0;
	memcpy(&flags, d, 4);
	memcpy(&pid, d + 4, 4);
	*outer_pid = pid;
	return flags & (PYCORE_NS_MNT | PYCORE_NS_PID | PYCORE_NS_ROOT);
}

uint32_t core_filter(const struct pc_core *c, uint64_t *kernel_bytes)
{
	size_t len;
	const uint8_t *d = core_note(c, PYCORE_NOTE_NAME, PYCORE_NT_FILTER, &len);
	uint32_t rules;

	if (!d || len < 16)
		return 0;
	memcpy(&rules, d, 4);
	memcpy(kernel_bytes, d + 8, 8);
	return rules;
}

bool core_segment_file_backed(const struct pc_core *c, const struct pc_core_segment *s)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (s->vaddr < c->files[i].end && c->files[i].start < s->vaddr + s->memsz)
			return true;
	return false;
}

bool core_was_decompressed(const struct pc_core *c)
{
	return c->decompressed;
}

uint64_t core_missing_bytes(const struct pc_core *c)
{
	return c->missing;
}
