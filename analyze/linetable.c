/* linetable.c — line numbers from co_lnotab / co_linetable, written to give
 * PyCode_Addr2Line()'s answer for every input it accepts (the algorithms of
 * Objects/codeobject.c of each release; see linetable.h).  A table cut
 * short, as a damaged core may give, ends the search instead of being read
 * past. */
#include "linetable.h"

#include <limits.h>

/* Lines are summed in 64 bits: a damaged table's deltas may overflow an
 * int, and no real line does. */
static int line_or_none(int64_t line)
{
	return line < INT_MIN || line > INT_MAX ? -1 : (int)line;
}

int linetable_lnotab_line(const uint8_t *tab, size_t len, int firstlineno, int addr)
{
	int64_t line = firstlineno, at = 0;

	/* A pair's line delta applies from its address on, so stop before the
	 * first pair whose address lies beyond the instruction. */
	for (size_t i = 0; i + 1 < len; i += 2) {
		at += tab[i];
		if (at > addr)
			break;
		line += (int8_t)tab[i + 1];
	}
	return line_or_none(line);
}

int linetable_ranges_line(const uint8_t *tab, size_t len, int firstlineno, int addr)
{
	int64_t computed = firstlineno, line = -1;
	long end = 0;
	size_t at = 0;

	if (addr < 0)                  /* not started: CPython answers the first line */
		return firstlineno;
	/* Ranges follow each other from address 0; a zero-length one only moves
	 * the computed line, as the next range always ends past it. */
	while (end <= addr) {
		if (at + 1 >= len)
			return -1;
		end += tab[at];
		if ((int8_t)tab[at + 1] == -128) {
			line = -1;
		} else {
			computed += (int8_t)tab[at + 1];
			line = computed;
		}
		at += 2;
	}
	return line_or_none(line);
}

/* Unsigned varint of the location table: 6-bit groups, low first, 0x40 = more. */
static unsigned scan_varint(const uint8_t *tab, size_t len, size_t at)
{
	unsigned val = 0, shift = 0;
	uint8_t b;

	do {
		if (at >= len || shift > 30)
			return val;
		b = tab[at++];
		val |= (unsigned)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	return val;
}

static int scan_signed_varint(const uint8_t *tab, size_t len, size_t at)
{
	unsigned v = scan_varint(tab, len, at);

	return v & 1 ? -(int)(v >> 1) : (int)(v >> 1);
}

/* The line delta an entry carries, by its code (bits 3-6 of the header). */
static int location_line_delta(const uint8_t *tab, size_t len, size_t at)
{
	switch ((tab[at] >> 3) & 15) {
	case 13:                       /* no columns */
	case 14:                       /* long form */
		return scan_signed_varint(tab, len, at + 1);
	case 11:                       /* one-line forms: delta = code - 10 */
		return 1;
	case 12:
		return 2;
	default:                       /* short forms, one-line 0, no location */
		return 0;
	}
}

int linetable_locations_line(const uint8_t *tab, size_t len, int firstlineno, int addr)
{
	int64_t computed = firstlineno, line = -1;
	long end = 0;
	size_t at = 0;

	if (addr < 0)
		return firstlineno;
	while (end <= addr) {
		if (at >= len)
			return -1;
		computed += location_line_delta(tab, len, at);
		/* code 15 with the entry bit: "no location", the line stays -1 */
		line = tab[at] >> 3 == 0x1f ? -1 : computed;
		end += ((tab[at] & 7) + 1) * 2;        /* length in code units */
		do
			at++;
		while (at < len && !(tab[at] & 128));
	}
	return line_or_none(line);
}
