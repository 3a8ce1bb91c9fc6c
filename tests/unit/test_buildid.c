/* test_buildid.c — is_elf_image() and elf_image_build_id() on synthetic
 * 64-bit ELF images held in a buffer that stands for the target's memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/buildid.h"

#define PAGE 4096u
#define IMG_SIZE (4 * PAGE)

/* The memory of the image: byte X of buf is at address map_start + X. */
struct image {
	uint8_t buf[IMG_SIZE];
	uint64_t map_start;
	int fail_reads_at;           /* a read at this buf offset fails (-1: none) */
	int reads, bad_reads;
	uint64_t read_addr[16];
	size_t read_len[16];
};

static int read_image(void *ctx, uint64_t addr, void *out, size_t len)
{
	struct image *im = ctx;
	uint64_t off = addr - im->map_start;

	if (im->reads < 16) {
		im->read_addr[im->reads] = addr;
		im->read_len[im->reads] = len;
	}
	im->reads++;
	if (addr < im->map_start || off > IMG_SIZE || len > IMG_SIZE - off) {
		im->bad_reads++;
		return -1;
	}
	if (im->fail_reads_at >= 0 && off == (uint64_t)im->fail_reads_at)
		return -1;
	memcpy(out, im->buf + off, len);
	return 0;
}

struct seg {
	uint32_t type;
	uint64_t offset, vaddr, filesz;
};

static struct image *new_image(uint64_t map_start, const struct seg *segs, int nseg)
{
	struct image *im = calloc(1, sizeof *im);
	Elf64_Ehdr eh;

	assert_non_null(im);
	im->map_start = map_start;
	im->fail_reads_at = -1;
	memset(&eh, 0, sizeof eh);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = map_start == 0x400000 ? ET_EXEC : ET_DYN;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof eh;
	eh.e_ehsize = sizeof eh;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)nseg;
	memcpy(im->buf, &eh, sizeof eh);
	for (int i = 0; i < nseg; i++) {
		Elf64_Phdr ph;
		memset(&ph, 0, sizeof ph);
		ph.p_type = segs[i].type;
		ph.p_offset = segs[i].offset;
		ph.p_vaddr = ph.p_paddr = segs[i].vaddr;
		ph.p_filesz = ph.p_memsz = segs[i].filesz;
		ph.p_flags = PF_R;
		ph.p_align = segs[i].type == PT_LOAD ? PAGE : 4;
		memcpy(im->buf + sizeof eh + i * sizeof ph, &ph, sizeof ph);
	}
	return im;
}

/* Write one note at buf offset `at`; returns its size. */
static size_t put_note(struct image *im, size_t at, uint32_t namesz, const char *name,
		       uint32_t type, uint32_t descsz, const void *desc, size_t desc_bytes)
{
	Elf64_Nhdr nh = { namesz, descsz, type };
	size_t name_bytes = strlen(name) + 1, p = at;

	memcpy(im->buf + p, &nh, sizeof nh);
	p += sizeof nh;
	memcpy(im->buf + p, name, name_bytes);
	p += (name_bytes + 3) & ~(size_t)3;
	memcpy(im->buf + p, desc, desc_bytes);
	p += (desc_bytes + 3) & ~(size_t)3;
	return p - at;
}

static size_t put_gnu(struct image *im, size_t at, uint32_t type, const void *desc, size_t n)
{
	return put_note(im, at, 4, "GNU", type, (uint32_t)n, desc, n);
}

static const uint8_t id20[20] = {
	0x8f, 0x1e, 0x2a, 0x53, 0x7c, 0x00, 0x91, 0xde, 0x44, 0x01,
	0xba, 0x9b, 0x3e, 0x70, 0x6c, 0x02, 0xff, 0x10, 0x5a, 0xc3,
};
static const uint8_t abi_tag[16] = { 0, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0 };

struct found {
	uint8_t id[BUILD_ID_MAX];
	uint8_t canary[16];
};

static size_t find(struct image *im, struct found *f)
{
	memset(f, 0xcc, sizeof *f);
	return elf_image_build_id(im->buf, PAGE, im->map_start, read_image, im, f->id);
}

static void assert_canary(const struct found *f)
{
	for (size_t i = 0; i < sizeof f->canary; i++)
		assert_int_equal(f->canary[i], 0xcc);
}

/* ------------------------------------------------------------------ */

static void test_is_elf_image_wants_a_64_bit_elf_header(void **state)
{
	(void)state;
	static const struct seg segs[] = { { PT_LOAD, 0, 0, PAGE } };
	struct image *im = new_image(0, segs, 1);

	assert_true(is_elf_image(im->buf, PAGE));
	assert_true(is_elf_image(im->buf, sizeof(Elf64_Ehdr)));
	assert_false(is_elf_image(im->buf, sizeof(Elf64_Ehdr) - 1));
	assert_false(is_elf_image(im->buf, 0));
	im->buf[EI_CLASS] = ELFCLASS32;
	assert_false(is_elf_image(im->buf, PAGE));
	im->buf[EI_CLASS] = ELFCLASS64;
	im->buf[3] = 'G';                       /* "\177ELG" */
	assert_false(is_elf_image(im->buf, PAGE));
	im->buf[3] = 'F';
	im->buf[0] = 0;
	assert_false(is_elf_image(im->buf, PAGE));
	memset(im->buf, 0, PAGE);
	assert_false(is_elf_image(im->buf, PAGE));
	memcpy(im->buf, "#!/bin/sh\n", 10);
	assert_false(is_elf_image(im->buf, PAGE));
	free(im);
}

static void test_pie_image_build_id_is_found_through_the_load_bias(void **state)
{
	(void)state;
	/* A PIE: p_vaddr from 0, the note in the second PT_LOAD whose p_vaddr
	 * is not its file offset (only p_vaddr matters in memory). */
	static const struct seg segs[] = {
		{ PT_PHDR, 64, 64, 4 * sizeof(Elf64_Phdr) },
		{ PT_LOAD, 0, 0, 0x1000 },
		{ PT_LOAD, 0x1000, 0x2000, 0x1000 },
		{ PT_NOTE, 0x1100, 0x2100, 0x20 + 0x24 },
	};
	struct image *im = new_image(0x7f1234560000ull, segs, 4);
	struct found f;
	size_t at = 0x2100;

	at += put_gnu(im, at, NT_GNU_ABI_TAG, abi_tag, sizeof abi_tag);   /* 32 */
	put_gnu(im, at, NT_GNU_BUILD_ID, id20, sizeof id20);               /* 36 */
	assert_int_equal(find(im, &f), 20);
	assert_memory_equal(f.id, id20, 20);
	assert_canary(&f);
	assert_int_equal(im->bad_reads, 0);
	assert_int_equal(im->reads, 1);
	assert_int_equal(im->read_addr[0], 0x7f1234562100ull);
	assert_int_equal(im->read_len[0], 0x44);
	free(im);
}

static void test_non_pie_image_mapped_at_its_link_address(void **state)
{
	(void)state;
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0x400000, 0x2000 },
		{ PT_NOTE, 0x1200, 0x401200, 0x24 },
	};
	struct image *im = new_image(0x400000, segs, 2);
	struct found f;

	put_gnu(im, 0x1200, NT_GNU_BUILD_ID, id20, sizeof id20);
	assert_int_equal(find(im, &f), 20);
	assert_memory_equal(f.id, id20, 20);
	assert_int_equal(im->bad_reads, 0);
	assert_int_equal(im->read_addr[0], 0x401200);
	free(im);
}

static void test_prelinked_library_mapped_elsewhere_uses_the_difference(void **state)
{
	(void)state;
	/* Linked at 0x30000000, loaded at 0x7f0000000000. */
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0x30000000, 0x3000 },
		{ PT_NOTE, 0x2f00, 0x30002f00, 0x24 },
	};
	struct image *im = new_image(0x7f0000000000ull, segs, 2);
	struct found f;

	put_gnu(im, 0x2f00, NT_GNU_BUILD_ID, id20, sizeof id20);
	assert_int_equal(find(im, &f), 20);
	assert_memory_equal(f.id, id20, 20);
	assert_int_equal(im->read_addr[0], 0x7f0000002f00ull);
	assert_int_equal(im->bad_reads, 0);
	free(im);
}

static void test_build_id_in_the_second_note_segment(void **state)
{
	(void)state;
	/* Modern toolchains: .note.gnu.property (8-aligned) in its own
	 * PT_NOTE first, then .note.gnu.build-id + .note.ABI-tag. */
	static const uint8_t prop[16] = { 2, 0, 0, 0xc0, 4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0 };
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0, 0x4000 },
		{ PT_NOTE, 0x338, 0x338, 0x20 },
		{ PT_NOTE, 0x358, 0x358, 0x24 + 0x20 },
	};
	struct image *im = new_image(0x7ffff7c00000ull, segs, 3);
	struct found f;
	size_t at;

	put_gnu(im, 0x338, 5 /* NT_GNU_PROPERTY_TYPE_0 */, prop, sizeof prop);
	at = 0x358 + put_gnu(im, 0x358, NT_GNU_BUILD_ID, id20, sizeof id20);
	put_gnu(im, at, NT_GNU_ABI_TAG, abi_tag, sizeof abi_tag);
	assert_int_equal(find(im, &f), 20);
	assert_memory_equal(f.id, id20, 20);
	assert_int_equal(im->reads, 2);
	assert_int_equal(im->bad_reads, 0);
	free(im);
}

static void test_build_ids_of_every_length_up_to_the_maximum(void **state)
{
	(void)state;
	static const size_t lens[] = { 1, 4, 8, 16, 20, 32, 63, BUILD_ID_MAX };
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		size_t n = lens[k];
		struct seg segs[] = {
			{ PT_LOAD, 0, 0, 0x2000 },
			{ PT_NOTE, 0x1000, 0x1000, 16 + ((n + 3) & ~(size_t)3) },
		};
		struct image *im = new_image(0x10000, segs, 2);
		uint8_t id[BUILD_ID_MAX];
		struct found f;

		for (size_t i = 0; i < n; i++)
			id[i] = (uint8_t)(n * 7 + i);
		put_gnu(im, 0x1000, NT_GNU_BUILD_ID, id, n);
		assert_int_equal(find(im, &f), n);
		assert_memory_equal(f.id, id, n);
		assert_canary(&f);
		free(im);
	}
}

static void test_build_id_longer_than_the_maximum_is_refused_without_overflow(void **state)
{
	(void)state;
	uint8_t id[BUILD_ID_MAX + 1];
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0, 0x2000 },
		{ PT_NOTE, 0x1000, 0x1000, 16 + BUILD_ID_MAX + 4 },
	};
	struct image *im = new_image(0x10000, segs, 2);
	struct found f;

	memset(id, 0x77, sizeof id);
	put_gnu(im, 0x1000, NT_GNU_BUILD_ID, id, sizeof id);
	assert_int_equal(find(im, &f), 0);
	assert_canary(&f);
	free(im);
}

static void test_image_without_pt_note_has_no_build_id(void **state)
{
	(void)state;
	static const struct seg segs[] = {
		{ PT_PHDR, 64, 64, 2 * sizeof(Elf64_Phdr) },
		{ PT_LOAD, 0, 0, 0x4000 },
	};
	struct image *im = new_image(0x7f0000000000ull, segs, 2);
	struct found f;

	/* A build-id note in memory, but no PT_NOTE leads to it. */
	put_gnu(im, 0x300, NT_GNU_BUILD_ID, id20, sizeof id20);
	assert_int_equal(find(im, &f), 0);
	assert_int_equal(im->reads, 0);
	free(im);
}

static void test_image_without_a_load_at_offset_0_has_no_build_id(void **state)
{
	(void)state;
	static const struct seg segs[] = {
		{ PT_LOAD, 0x1000, 0x1000, 0x1000 },
		{ PT_NOTE, 0x1000, 0x1000, 0x24 },
	};
	struct image *im = new_image(0x10000, segs, 2);
	struct found f;

	put_gnu(im, 0x1000, NT_GNU_BUILD_ID, id20, sizeof id20);
	assert_int_equal(find(im, &f), 0);
	assert_int_equal(im->reads, 0);
	free(im);
}

static void test_notes_of_other_owners_or_types_are_skipped(void **state)
{
	(void)state;
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0, 0x2000 },
		{ PT_NOTE, 0x1000, 0x1000, 3 * 0x24 },
	};
	struct image *im = new_image(0x10000, segs, 2);
	struct found f;
	size_t at = 0x1000;

	at += put_note(im, at, 4, "XYZ", NT_GNU_BUILD_ID, 20, id20, 20);
	at += put_gnu(im, at, NT_GNU_ABI_TAG, id20, 20);
	at += put_note(im, at, 3, "GN", NT_GNU_BUILD_ID, 20, id20, 20);
	assert_int_equal(at, 0x1000 + 3 * 0x24);
	assert_int_equal(find(im, &f), 0);
	assert_int_equal(im->bad_reads, 0);
	free(im);
}

static void test_note_with_bogus_descsz_larger_than_the_segment_gives_0(void **state)
{
	(void)state;
	static const uint32_t bogus[] = { 21, 24, 100, 4096, 0x10000, 0x7fffffffu,
					  0xfffffffdu, 0xffffffffu };
	for (size_t k = 0; k < sizeof bogus / sizeof bogus[0]; k++) {
		/* The segment holds the header, the name and 20 bytes of id:
		 * the note claims more. */
		static const struct seg segs[] = {
			{ PT_LOAD, 0, 0, 0x2000 },
			{ PT_NOTE, 0x1000, 0x1000, 0x24 },
		};
		struct image *im = new_image(0x10000, segs, 2);
		struct found f;

		put_note(im, 0x1000, 4, "GNU", NT_GNU_BUILD_ID, bogus[k], id20, 20);
		if (find(im, &f) != 0)
			fail_msg("n_descsz %#x accepted", bogus[k]);
		assert_canary(&f);
		assert_int_equal(im->bad_reads, 0);
		free(im);
	}
}

static void test_note_with_bogus_namesz_gives_0(void **state)
{
	(void)state;
	static const uint32_t bogus[] = { 0x30, 0x1000, 0xfffffffdu, 0xffffffffu };
	for (size_t k = 0; k < sizeof bogus / sizeof bogus[0]; k++) {
		static const struct seg segs[] = {
			{ PT_LOAD, 0, 0, 0x2000 },
			{ PT_NOTE, 0x1000, 0x1000, 0x24 },
		};
		struct image *im = new_image(0x10000, segs, 2);
		struct found f;

		put_note(im, 0x1000, bogus[k], "GNU", NT_GNU_BUILD_ID, 20, id20, 20);
		if (find(im, &f) != 0)
			fail_msg("n_namesz %#x accepted", bogus[k]);
		assert_canary(&f);
		free(im);
	}
}

static void test_note_cut_short_by_the_segment_size_gives_0(void **state)
{
	(void)state;
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0, 0x2000 },
		{ PT_NOTE, 0x1000, 0x1000, 0x24 - 4 },   /* last 4 id bytes outside */
	};
	struct image *im = new_image(0x10000, segs, 2);
	struct found f;

	put_gnu(im, 0x1000, NT_GNU_BUILD_ID, id20, sizeof id20);
	assert_int_equal(find(im, &f), 0);
	assert_int_equal(im->read_len[0], 0x20);
	free(im);
}

static void test_large_note_segment_is_read_at_most_one_page(void **state)
{
	(void)state;
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0, IMG_SIZE },
		{ PT_NOTE, 0x1000, 0x1000, 0x100000 },   /* claims 1 MiB */
	};
	struct image *im = new_image(0x10000, segs, 2);
	struct found f;

	put_gnu(im, 0x1000, NT_GNU_BUILD_ID, id20, sizeof id20);
	assert_int_equal(find(im, &f), 20);
	assert_memory_equal(f.id, id20, 20);
	assert_int_equal(im->bad_reads, 0);
	assert_true(im->read_len[0] <= PAGE);
	free(im);
}

static void test_unreadable_note_is_skipped_for_the_next_one(void **state)
{
	(void)state;
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0, 0x3000 },
		{ PT_NOTE, 0x1000, 0x1000, 0x24 },
		{ PT_NOTE, 0x2000, 0x2000, 0x24 },
	};
	static const uint8_t other[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
					   11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	struct image *im = new_image(0x10000, segs, 3);
	struct found f;

	put_gnu(im, 0x1000, NT_GNU_BUILD_ID, id20, sizeof id20);
	put_gnu(im, 0x2000, NT_GNU_BUILD_ID, other, sizeof other);
	assert_int_equal(find(im, &f), 20);
	assert_memory_equal(f.id, id20, 20);          /* the first wins */
	im->reads = 0;
	im->fail_reads_at = 0x1000;
	assert_int_equal(find(im, &f), 20);
	assert_memory_equal(f.id, other, 20);
	assert_int_equal(im->reads, 2);
	im->fail_reads_at = 0x2000;
	put_gnu(im, 0x1000, NT_GNU_ABI_TAG, abi_tag, sizeof abi_tag);
	assert_int_equal(find(im, &f), 0);
	free(im);
}

static void test_non_elf_page_gives_0_without_reading_memory(void **state)
{
	(void)state;
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0, 0x2000 },
		{ PT_NOTE, 0x1000, 0x1000, 0x24 },
	};
	struct image *im = new_image(0x10000, segs, 2);
	struct found f;

	put_gnu(im, 0x1000, NT_GNU_BUILD_ID, id20, sizeof id20);
	assert_int_equal(find(im, &f), 20);           /* as built: found */
	im->buf[1] = 'X';
	im->reads = 0;
	assert_int_equal(find(im, &f), 0);
	im->buf[1] = 'E';
	im->buf[EI_CLASS] = ELFCLASS32;
	assert_int_equal(find(im, &f), 0);
	im->buf[EI_CLASS] = ELFCLASS64;
	assert_int_equal(elf_image_build_id(im->buf, 32, im->map_start, read_image, im, f.id), 0);
	assert_int_equal(im->reads, 0);
	free(im);
}

static void set_phdr_table(struct image *im, uint64_t phoff, unsigned phnum,
			   unsigned phentsize)
{
	Elf64_Ehdr eh;
	memcpy(&eh, im->buf, sizeof eh);
	eh.e_phoff = phoff;
	eh.e_phnum = (Elf64_Half)phnum;
	eh.e_phentsize = (Elf64_Half)phentsize;
	memcpy(im->buf, &eh, sizeof eh);
}

static void test_program_headers_outside_the_first_page_give_0(void **state)
{
	(void)state;
	static const struct seg segs[] = {
		{ PT_LOAD, 0, 0, 0x2000 },
		{ PT_NOTE, 0x1000, 0x1000, 0x24 },
	};
	const unsigned phsz = sizeof(Elf64_Phdr);
	struct image *im = new_image(0x10000, segs, 2);
	struct found f;

	put_gnu(im, 0x1000, NT_GNU_BUILD_ID, id20, sizeof id20);
	/* A copy of the table ending exactly at the end of the page: fine. */
	memcpy(im->buf + PAGE - 2 * phsz, im->buf + 64, 2 * phsz);
	set_phdr_table(im, PAGE - 2 * phsz, 2, phsz);
	assert_int_equal(find(im, &f), 20);
	/* One byte later it would end past the page. */
	memmove(im->buf + PAGE - 2 * phsz + 1, im->buf + PAGE - 2 * phsz, 2 * phsz - 1);
	set_phdr_table(im, PAGE - 2 * phsz + 1, 2, phsz);
	assert_int_equal(find(im, &f), 0);
	/* A good table, but on the second page: not in `page`. */
	memcpy(im->buf + PAGE + 64, im->buf + 64, 2 * phsz);
	set_phdr_table(im, PAGE + 64, 2, phsz);
	assert_int_equal(find(im, &f), 0);
	set_phdr_table(im, 0xffffffffffffff00ull, 2, phsz);
	assert_int_equal(find(im, &f), 0);
	set_phdr_table(im, 64, 0xffff, phsz);
	assert_int_equal(find(im, &f), 0);
	set_phdr_table(im, 64, 0, phsz);
	assert_int_equal(find(im, &f), 0);
	set_phdr_table(im, 64, 2, 32);
	assert_int_equal(find(im, &f), 0);
	set_phdr_table(im, 64, 2, phsz);                /* restored: found again */
	assert_int_equal(find(im, &f), 20);
	assert_int_equal(im->bad_reads, 0);
	free(im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_elf_image_wants_a_64_bit_elf_header),
		cmocka_unit_test(test_pie_image_build_id_is_found_through_the_load_bias),
		cmocka_unit_test(test_non_pie_image_mapped_at_its_link_address),
		cmocka_unit_test(test_prelinked_library_mapped_elsewhere_uses_the_difference),
		cmocka_unit_test(test_build_id_in_the_second_note_segment),
		cmocka_unit_test(test_build_ids_of_every_length_up_to_the_maximum),
		cmocka_unit_test(test_build_id_longer_than_the_maximum_is_refused_without_overflow),
		cmocka_unit_test(test_image_without_pt_note_has_no_build_id),
		cmocka_unit_test(test_image_without_a_load_at_offset_0_has_no_build_id),
		cmocka_unit_test(test_notes_of_other_owners_or_types_are_skipped),
		cmocka_unit_test(test_note_with_bogus_descsz_larger_than_the_segment_gives_0),
		cmocka_unit_test(test_note_with_bogus_namesz_gives_0),
		cmocka_unit_test(test_note_cut_short_by_the_segment_size_gives_0),
		cmocka_unit_test(test_large_note_segment_is_read_at_most_one_page),
		cmocka_unit_test(test_unreadable_note_is_skipped_for_the_next_one),
		cmocka_unit_test(test_non_elf_page_gives_0_without_reading_memory),
		cmocka_unit_test(test_program_headers_outside_the_first_page_give_0),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
