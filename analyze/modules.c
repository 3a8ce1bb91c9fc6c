/* modules.c — find a core's ELF files on disk and read their symbols. */
#include "modules.h"

#include "../common/error.h"
#include "../common/pycore_note.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAGE 4096u

struct pc_elf {
	int fd;
	Elf *elf;
};

static int read_core(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return core_read_all(ctx, addr, buf, len) == 0 ? 0 : -1;
}

const char *build_id_hex(const uint8_t *id, size_t len, char *buf)
{
	for (size_t i = 0; i < len; i++)
		sprintf(buf + 2 * i, "%02x", id[i]);
	buf[2 * len] = '\0';
	return buf;
}

/* Fill bias and build-id from the PYCORE note's record of this path. */
static void facts_from_note(struct pc_core *core, struct pc_module *m)
{
	size_t len, at = 8;
	const uint8_t *d = core_note(core, PYCORE_NOTE_NAME, PYCORE_NT_MODULES, &len);
	uint32_t count;

	if (!d || len < 8)
		return;
	memcpy(&count, d, 4);
	for (uint32_t i = 0; i < count && at + 16 <= len; i++) {
		uint64_t base;
		uint32_t idlen, plen;
		memcpy(&base, d + at, 8);
		memcpy(&idlen, d + at + 8, 4);
		memcpy(&plen, d + at + 12, 4);
		if (idlen > BUILD_ID_MAX || plen == 0 || plen > len - at - 16 - idlen)
			return;
		if (strncmp((const char *)d + at + 16 + idlen, m->path, plen) == 0) {
			memcpy(m->build_id, d + at + 16, idlen);
			m->build_id_len = idlen;
			return;
		}
		at += (16 + idlen + plen + 7) & ~(size_t)7;
	}
}

/* The build-id of an ELF file on disk, from its PT_NOTE segments. */
static size_t file_build_id(Elf *elf, uint8_t id[BUILD_ID_MAX])
{
	size_t phnum;

	if (elf_getphdrnum(elf, &phnum) < 0)
		return 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		Elf_Data *data;
		GElf_Nhdr nh;
		size_t off = 0, name_at, desc_at;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		data = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		while (data && (off = gelf_getnote(data, off, &nh, &name_at, &desc_at)) > 0)
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp((char *)data->d_buf + name_at, "GNU", 4) == 0 &&
			    nh.n_descsz <= BUILD_ID_MAX) {
				memcpy(id, (char *)data->d_buf + desc_at, nh.n_descsz);
				return nh.n_descsz;
			}
	}
	return 0;
}

/* The load bias from the file's own program headers, when the core has
 * no copy of its first page. */
static int file_bias(Elf *elf, uint64_t start, uint64_t *bias)
{
	size_t phnum;

	if (elf_getphdrnum(elf, &phnum) < 0)
		return -1;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0) {
			*bias = start - (ph.p_vaddr & ~(uint64_t)(PAGE - 1));
			return 0;
		}
	}
	return -1;
}

static void close_elf(struct pc_elf *e)
{
	if (!e)
		return;
	elf_end(e->elf);
	close(e->fd);
	free(e);
}

/* Open candidate and keep it if its build-id is the one expected (or the
 * core does not say which it expects). */
static int try_file(struct pc_module *m, const char *candidate)
{
	struct pc_elf *e = calloc(1, sizeof *e);
	uint8_t id[BUILD_ID_MAX];
	size_t n;

	if (!e)
		return pc_fail(PC_EINTERNAL, ENOMEM, "opening %s", candidate);
	e->fd = open(candidate, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0 || !(e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL)) ||
	    elf_kind(e->elf) != ELF_K_ELF) {
		if (e->fd >= 0)
			close(e->fd);
		elf_end(e->elf);
		free(e);
		return 0;
	}
	n = file_build_id(e->elf, id);
	if (m->build_id_len && (n != m->build_id_len || memcmp(id, m->build_id, n) != 0)) {
		close_elf(e);
		if (!m->rejected && !(m->rejected = strdup(candidate)))
			return pc_fail(PC_EINTERNAL, ENOMEM, "opening %s", candidate);
		return 0;
	}
	m->found = strdup(candidate);
	if (!m->found) {
		close_elf(e);
		return pc_fail(PC_EINTERNAL, ENOMEM, "opening %s", candidate);
	}
	m->elf = e;
	if (!m->have_bias)
		m->have_bias = file_bias(e->elf, m->start, &m->bias) == 0;
	return 1;
}

/* The links distributions keep from a build-id to its binary: Fedora's
 * /usr/lib/.build-id/xx/yyyy (the binary itself; the .debug files beside
 * them hold no code or data and are not used), and the same name under
 * /usr/lib/debug. */
static int search_build_id(struct pc_module *m, const char *root)
{
	static const char *const dirs[] = { "/usr/lib/.build-id", "/usr/lib/debug/.build-id" };
	char hex[2 * BUILD_ID_MAX + 1], buf[4096];
	int rc;

	if (m->build_id_len < 2)
		return 0;
	build_id_hex(m->build_id, m->build_id_len, hex);
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(buf, sizeof buf, "%s%s/%.2s/%s", root, dirs[i], hex, hex + 2);
		if ((rc = try_file(m, buf)) != 0)
			return rc;
	}
	return 0;
}

static int search_file(struct pc_module *m, const struct pc_search *s, int is_exe)
{
	const char *base = strrchr(m->path, '/') ? strrchr(m->path, '/') + 1 : m->path;
	char buf[4096];
	int rc;

	if (is_exe && s->exe && (rc = try_file(m, s->exe)) != 0)
		return rc;
	if (s->sysroot) {
		snprintf(buf, sizeof buf, "%s%s", s->sysroot, m->path);
		if ((rc = try_file(m, buf)) != 0)
			return rc;
	}
	for (const char *dir = s->lib_path; dir && *dir;) {
		size_t n = strcspn(dir, ":");
		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, dir, base);
		if ((rc = try_file(m, buf)) != 0)
			return rc;
		dir += n + (dir[n] == ':');
	}
	if ((rc = search_build_id(m, s->sysroot ? s->sysroot : "")) != 0)
		return rc;
	if (s->map_files && m->end) {
		snprintf(buf, sizeof buf, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
			 (int)s->map_files, m->start, m->end);
		if ((rc = try_file(m, buf)) != 0)
			return rc;
	}
	return s->sysroot ? 0 : try_file(m, m->path);
}

static int add_module(struct pc_core *core, struct pc_modules *out,
		      const struct pc_core_file *f)
{
	uint8_t page[PAGE];
	struct pc_module *m;

	for (size_t i = 0; i < out->n; i++)
		if (strcmp(out->v[i].path, f->path) == 0)
			return 0;
	m = realloc(out->v, (out->n + 1) * sizeof *m);
	if (!m)
		return pc_fail(PC_EINTERNAL, ENOMEM, "listing modules");
	out->v = m;
	m = &out->v[out->n];
	memset(m, 0, sizeof *m);
	m->path = f->path;
	m->start = f->start;
	m->end = f->end;
	if (core_read_all(core, f->start, page, PAGE) == 0) {
		if (!is_elf_image(page, PAGE))
			return 0;                  /* a data file, not a module */
		m->have_bias = elf_image_load_bias(page, PAGE, f->start, &m->bias) == 0;
		m->build_id_len = elf_image_build_id(page, PAGE, f->start, read_core, core,
						     m->build_id);
	}
	pc_clear_error();
	if (!m->build_id_len)
		facts_from_note(core, m);
	out->n++;
	return 0;
}

int modules_find(struct pc_core *core, const struct pc_search *search,
		 struct pc_modules *out)
{
	static const struct pc_search none;
	const char *exe = NULL;

	if (!search)
		search = &none;
	out->v = NULL;
	out->n = 0;
	elf_version(EV_CURRENT);
	for (size_t i = 0; i < core_file_count(core); i++) {
		const struct pc_core_file *f = core_file(core, i);
		if (f->offset == 0 && add_module(core, out, f) < 0)
			goto fail;
	}
	/* The first module is the executable: NT_FILE lists mappings by
	 * address, and the executable (0x400000, or 0x55… when PIE) lies below
	 * the dynamic linker and the libraries (0x7f…). */
	if (out->n)
		exe = out->v[0].path;
	for (size_t i = 0; i < out->n; i++)
		if (search_file(&out->v[i], search, out->v[i].path == exe) < 0)
			goto fail;
	return 0;
fail:
	modules_free(out);
	return -1;
}

void modules_free(struct pc_modules *mods)
{
	for (size_t i = 0; i < mods->n; i++) {
		free(mods->v[i].found);
		free(mods->v[i].rejected);
		close_elf(mods->v[i].elf);
	}
	free(mods->v);
	mods->v = NULL;
	mods->n = 0;
}

static int table_symbol(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, const char *name,
			uint64_t *value)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; data && i < count; i++) {
		GElf_Sym sym;
		const char *s;
		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
			continue;
		s = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (s && strcmp(s, name) == 0) {
			*value = sym.st_value;
			return 0;
		}
	}
	return -1;
}

int module_symbol(const struct pc_module *m, const char *name, uint64_t *addr)
{
	static const Elf64_Word order[] = { SHT_DYNSYM, SHT_SYMTAB };

	if (!m->elf || !m->have_bias)
		return -1;
	for (size_t k = 0; k < 2; k++) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(m->elf->elf, scn)) != NULL) {
			GElf_Shdr sh;
			uint64_t value;
			if (gelf_getshdr(scn, &sh) && sh.sh_type == order[k] &&
			    table_symbol(m->elf->elf, scn, &sh, name, &value) == 0) {
				*addr = value + m->bias;
				return 0;
			}
		}
	}
	return -1;
}

ssize_t module_read(const struct pc_module *m, uint64_t addr, void *buf, size_t len)
{
	size_t phnum;

	if (!m->elf || !m->have_bias || addr < m->bias ||
	    elf_getphdrnum(m->elf->elf, &phnum) < 0)
		return 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		uint64_t rel = addr - m->bias, in, n;
		ssize_t got;

		if (!gelf_getphdr(m->elf->elf, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    rel < ph.p_vaddr || rel - ph.p_vaddr >= ph.p_filesz)
			continue;
		in = rel - ph.p_vaddr;
		n = ph.p_filesz - in < len ? ph.p_filesz - in : len;
		got = pread(m->elf->fd, buf, (size_t)n, (off_t)(ph.p_offset + in));
		if (got < 0)
			return pc_fail(PC_EINTERNAL, errno, "reading %s", m->found);
		return got;
	}
	return 0;
}

size_t module_writable(const struct pc_module *m, uint64_t (*ranges)[2], size_t max)
{
	size_t phnum, n = 0;

	if (!m->elf || !m->have_bias || elf_getphdrnum(m->elf->elf, &phnum) < 0)
		return 0;
	for (size_t i = 0; i < phnum && n < max; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(m->elf->elf, (int)i, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_W))
			continue;
		ranges[n][0] = ph.p_vaddr + m->bias;
		ranges[n][1] = ph.p_vaddr + ph.p_memsz + m->bias;
		n++;
	}
	return n;
}

size_t module_data_symbols(const struct pc_module *m, const char *const *names, size_t nnames,
			   uint64_t (*ranges)[2], size_t max)
{
	Elf_Scn *scn = NULL;
	size_t n = 0;

	if (!m->elf || !m->have_bias)
		return 0;
	while ((scn = elf_nextscn(m->elf->elf, scn)) != NULL && n < max) {
		GElf_Shdr sh;
		Elf_Data *data;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize ||
		    !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize && n < max; i++) {
			GElf_Sym sym;
			const char *name;
			if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_OBJECT ||
			    !sym.st_size || !(name = elf_strptr(m->elf->elf, sh.sh_link, sym.st_name)))
				continue;
			for (size_t k = 0; k < nnames; k++)
				if (strcmp(name, names[k]) == 0) {
					ranges[n][0] = sym.st_value + m->bias;
					ranges[n][1] = sym.st_value + sym.st_size + m->bias;
					n++;
					break;
				}
		}
	}
	return n;
}
