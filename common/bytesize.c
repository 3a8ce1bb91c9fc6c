/* bytesize.c — byte counts for people. */
#include "bytesize.h"

#include <stdio.h>

const char *bytesize_format(uint64_t bytes, enum bytesize_units units, char *buf, size_t cap)
{
	static const char *const binary[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	static const char *const decimal[] = { "B", "KB", "MB", "GB", "TB" };
	const char *const *unit = units == BYTESIZE_BINARY ? binary : decimal;
	double step = units == BYTESIZE_BINARY ? 1024 : 1000, v = (double)bytes;
	int u = 0;

	while (v >= step && u < 4) {
		v /= step;
		u++;
	}
	snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}
