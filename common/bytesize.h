/* bytesize.h — byte counts for people: "12.3 MiB" or "12.9 MB". */
#ifndef PYCORE_BYTESIZE_H
#define PYCORE_BYTESIZE_H

#include <stddef.h>
#include <stdint.h>

enum bytesize_units {
	BYTESIZE_BINARY,   /* KiB, MiB, … (powers of 1024): tables */
	BYTESIZE_DECIMAL,  /* KB, MB, … (powers of 1000): suspect sentences */
};

/* bytes in the largest unit below which it stays >= 1, one decimal
 * (none for plain bytes), written to buf; returns buf. */
const char *bytesize_format(uint64_t bytes, enum bytesize_units units, char *buf, size_t cap);

#endif
