/* buildid.c — NT_GNU_BUILD_ID from an ELF image in a process's memory. */
#include "buildid.h"

#include <elf.h>
#include <string.h>

#define NOTE_READ_MAX 4096u

int is_elf_image(const void *page, size_t len)
{
	const unsigned char *p = page;
	return len >= sizeof(Elf64_Ehdr) && memcmp(p, ELFMAG, SELFMAG) == 0 &&
	       p[EI_CLASS] == ELFCLASS64;
}

/* Walk a note buffer for "GNU"/NT_GNU_BUILD_ID. */
static size_t scan_notes(const uint8_t *buf, size_t len, uint8_t id[BUILD_ID_MAX])
{
	size_t off = 0;

	while (off + sizeof(Elf64_Nhdr) <= len) {
		Elf64_Nhdr nh;
		memcpy(&nh, buf + off, sizeof nh);
		size_t name_at = off + sizeof nh;
		size_t desc_at = name_at + ((nh.n_namesz + 3u) & ~3u);
		size_t next = desc_at + ((nh.n_descsz + 3u) & ~3u);
		if (nh.n_namesz > len || nh.n_descsz > len || next > len || next <= off)
			return 0;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
		    memcmp(buf + name_at, "GNU", 4) == 0 && nh.n_descsz > 0 &&
		    nh.n_descsz <= BUILD_ID_MAX) {
			memcpy(id, buf + desc_at, nh.n_descsz);
			return nh.n_descsz;
		}
		off = next;
	}
	return 0;
}

/* The ELF header, if its program header table lies within the page. */
static int header_with_phdrs(const void *page, size_t page_len, Elf64_Ehdr *eh)
{
	if (!is_elf_image(page, page_len))
		return -1;
	memcpy(eh, page, sizeof *eh);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phoff > page_len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > page_len - eh->e_phoff)
		return -1;
	return 0;
}

int elf_image_load_bias(const void *page, size_t page_len, uint64_t map_start,
			uint64_t *bias)
{
	const uint8_t *p = page;
	Elf64_Ehdr eh;

	if (header_with_phdrs(page, page_len, &eh) < 0)
		return -1;
	/* Where the segment holding file offset 0 landed. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, p + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type == PT_LOAD && ph.p_offset == 0) {
			*bias = map_start - (ph.p_vaddr & ~(uint64_t)4095);
			return 0;
		}
	}
	return -1;
}

size_t elf_image_build_id(const void *page, size_t page_len, uint64_t map_start,
			  pc_read_fn read, void *ctx, uint8_t id[BUILD_ID_MAX])
{
	const uint8_t *p = page;
	Elf64_Ehdr eh;
	uint64_t bias;

	if (header_with_phdrs(page, page_len, &eh) < 0 ||
	    elf_image_load_bias(page, page_len, map_start, &bias) < 0)
		return 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		uint8_t buf[NOTE_READ_MAX];
		Elf64_Phdr ph;
		size_t len, n;

		memcpy(&ph, p + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_NOTE)
			continue;
		len = ph.p_filesz < sizeof buf ? (size_t)ph.p_filesz : sizeof buf;
		if (read(ctx, bias + ph.p_vaddr, buf, len) != 0)
			continue;
		n = scan_notes(buf, len, id);
		if (n)
			return n;
	}
	return 0;
}
