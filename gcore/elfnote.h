/* elfnote.h — build an ELF note segment in memory.
 *
 * Each note is { namesz, descsz, type, name (padded to 4), desc (padded to
 * 4) }, as the kernel's writenote() lays it out.
 */
#ifndef PYCORE_ELFNOTE_H
#define PYCORE_ELFNOTE_H

#include <stddef.h>
#include <stdint.h>

struct pc_notes {
	uint8_t *data;
	size_t len, cap;
};

/* Bytes one note takes. */
size_t note_size(const char *name, size_t desclen);

/* Append a note.  Returns 0 or -1 (out of memory). */
int notes_add(struct pc_notes *n, const char *name, uint32_t type,
	      const void *desc, size_t desclen);

void notes_free(struct pc_notes *n);

/* A growable byte buffer for note payloads. */
struct pc_bytes {
	uint8_t *data;
	size_t len, cap;
	int failed;          /* set once an append ran out of memory */
};

void bytes_put(struct pc_bytes *b, const void *p, size_t len);
void bytes_u32(struct pc_bytes *b, uint32_t v);
void bytes_u64(struct pc_bytes *b, uint64_t v);
void bytes_pad(struct pc_bytes *b, size_t align);
void bytes_free(struct pc_bytes *b);

#endif
