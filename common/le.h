/* le.h — little-endian integers at unaligned addresses, as every file
 * format here stores them (x86-64 only, so a plain copy suffices). */
#ifndef PYCORE_LE_H
#define PYCORE_LE_H

#include <stdint.h>
#include <string.h>

static inline uint32_t le_get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t le_get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline void le_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void le_put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

#endif
