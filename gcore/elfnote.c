/* elfnote.c — ELF note encoding and the byte buffer behind note payloads. */
#include "elfnote.h"

#include "../common/error.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN4(x) (((x) + 3) & ~(size_t)3)

static int reserve(uint8_t **data, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 256;
	uint8_t *nd;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nd = realloc(*data, ncap);
	if (!nd)
		return -1;
	*data = nd;
	*cap = ncap;
	return 0;
}

size_t note_size(const char *name, size_t desclen)
{
	return sizeof(Elf64_Nhdr) + ALIGN4(strlen(name) + 1) + ALIGN4(desclen);
}

int notes_add(struct pc_notes *n, const char *name, uint32_t type,
	      const void *desc, size_t desclen)
{
	size_t namesz = strlen(name) + 1, total = note_size(name, desclen);
	Elf64_Nhdr hdr = { (Elf64_Word)namesz, (Elf64_Word)desclen, type };
	uint8_t *p;

	if (reserve(&n->data, &n->cap, n->len + total) < 0)
		return pc_fail(PC_EINTERNAL, ENOMEM, "building notes");
	p = n->data + n->len;
	memset(p, 0, total);
	memcpy(p, &hdr, sizeof hdr);
	memcpy(p + sizeof hdr, name, namesz);
	if (desclen)
		memcpy(p + sizeof hdr + ALIGN4(namesz), desc, desclen);
	n->len += total;
	return 0;
}

void notes_free(struct pc_notes *n)
{
	free(n->data);
	memset(n, 0, sizeof *n);
}

void bytes_put(struct pc_bytes *b, const void *p, size_t len)
{
	if (b->failed || reserve(&b->data, &b->cap, b->len + len) < 0) {
		b->failed = 1;
		return;
	}
	if (len)
		memcpy(b->data + b->len, p, len);
	b->len += len;
}

void bytes_u32(struct pc_bytes *b, uint32_t v)
{
	bytes_put(b, &v, 4);
}

void bytes_u64(struct pc_bytes *b, uint64_t v)
{
	bytes_put(b, &v, 8);
}

void bytes_pad(struct pc_bytes *b, size_t align)
{
	static const uint8_t zeros[16];
	size_t rem = b->len % align;
	if (rem)
		bytes_put(b, zeros, align - rem);
}

void bytes_free(struct pc_bytes *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}
