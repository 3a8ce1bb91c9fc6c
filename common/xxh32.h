/* xxh32.h — the 32-bit xxHash that the LZ4 frame format uses for its header,
 * block and content checksums.  liblz4 keeps its copy private, so we carry
 * one, written from the xxHash specification (doc/xxhash_spec.md). */
#ifndef PYCORE_XXH32_H
#define PYCORE_XXH32_H

#include <stddef.h>
#include <stdint.h>

struct xxh32_state {
	uint32_t acc[4];
	uint64_t total;
	uint8_t tail[16];
	size_t tail_len;
	uint32_t seed;
};

void xxh32_init(struct xxh32_state *s, uint32_t seed);
void xxh32_update(struct xxh32_state *s, const void *data, size_t len);
uint32_t xxh32_digest(const struct xxh32_state *s);

/* One call: init, update, digest. */
uint32_t xxh32(const void *data, size_t len, uint32_t seed);

#endif
