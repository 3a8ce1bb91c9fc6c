/* xxh32.c — xxHash32, streaming, from the published specification. */
#include "xxh32.h"

#include <string.h>

#define P1 2654435761u
#define P2 2246822519u
#define P3 3266489917u
#define P4 668265263u
#define P5 374761393u

static uint32_t rotl(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static uint32_t read32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);      /* x86-64 only: little-endian, as the spec wants */
	return v;
}

static uint32_t round32(uint32_t acc, uint32_t lane)
{
	return rotl(acc + lane * P2, 13) * P1;
}

static void consume_stripe(uint32_t acc[4], const uint8_t *p)
{
	acc[0] = round32(acc[0], read32(p));
	acc[1] = round32(acc[1], read32(p + 4));
	acc[2] = round32(acc[2], read32(p + 8));
	acc[3] = round32(acc[3], read32(p + 12));
}

void xxh32_init(struct xxh32_state *s, uint32_t seed)
{
	memset(s, 0, sizeof *s);
	s->seed = seed;
	s->acc[0] = seed + P1 + P2;
	s->acc[1] = seed + P2;
	s->acc[2] = seed;
	s->acc[3] = seed - P1;
}

void xxh32_update(struct xxh32_state *s, const void *data, size_t len)
{
	const uint8_t *p = data, *end = p + len;

	s->total += len;
	if (s->tail_len + len < 16) {
		memcpy(s->tail + s->tail_len, p, len);
		s->tail_len += len;
		return;
	}
	if (s->tail_len) {
		size_t fill = 16 - s->tail_len;
		memcpy(s->tail + s->tail_len, p, fill);
		consume_stripe(s->acc, s->tail);
		p += fill;
		s->tail_len = 0;
	}
	for (; p + 16 <= end; p += 16)
		consume_stripe(s->acc, p);
	s->tail_len = (size_t)(end - p);
	memcpy(s->tail, p, s->tail_len);
}

uint32_t xxh32_digest(const struct xxh32_state *s)
{
	const uint8_t *p = s->tail, *end = p + s->tail_len;
	uint32_t h;

	if (s->total >= 16)
		h = rotl(s->acc[0], 1) + rotl(s->acc[1], 7) + rotl(s->acc[2], 12) +
		    rotl(s->acc[3], 18);
	else
		h = s->seed + P5;
	h += (uint32_t)s->total;
	for (; p + 4 <= end; p += 4)
		h = rotl(h + read32(p) * P3, 17) * P4;
	for (; p < end; p++)
		h = rotl(h + *p * P5, 11) * P1;
	h ^= h >> 15;
	h *= P2;
	h ^= h >> 13;
	h *= P3;
	h ^= h >> 16;
	return h;
}

uint32_t xxh32(const void *data, size_t len, uint32_t seed)
{
	struct xxh32_state s;
	xxh32_init(&s, seed);
	xxh32_update(&s, data, len);
	return xxh32_digest(&s);
}
