/* diff.h — what pycore-diff found between cores, ready to render.
 *
 * diff_main.c reads the cores and compares them (analyze/census,
 * analyze/growth); render_diff.c only reads these, so the text, the JSON
 * document (pycore-diff/1) and the HTML page always say the same thing.
 */
#ifndef PYCORE_DIFF_H
#define PYCORE_DIFF_H

#include "../analyze/growth.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* One core, as the comparison names it. */
struct diff_side {
	const char *path;
	const char *version;         /* "3.11.7" */
	pid_t pid;
	double time;                 /* capture time, 0 when unknown */
	uint64_t objects, bytes;
};

/* A type or kind in both cores (0 where absent). */
struct diff_delta {
	const char *name;
	uint64_t count[2], bytes[2];
};

/* One comparison, before -> after. */
struct diff_pair {
	struct diff_side before, after;
	bool same_process;
	const char *identity;        /* what the comparison can claim, in words */
	struct diff_delta *types, *kinds;   /* largest change in bytes first */
	size_t ntypes, nkinds;
	struct growth growth;        /* object by object: empty unless same_process */
};

/* Three or more cores: what grew in every interval. */
struct diff_series {
	const char **types;          /* whose count rose each time */
	size_t ntypes;
	const struct growth_row **containers;   /* whose length rose each time */
	size_t ncontainers;
};

enum diff_format { DIFF_TEXT, DIFF_JSON, DIFF_HTML };

/* Everything: one pair, or the pairs of a series and what grew in all of
 * them (series NULL for two cores).  limit: rows per table in text.
 * Returns 0, or -1 with the error recorded. */
int render_diff(FILE *out, enum diff_format format, const struct diff_pair *pairs, size_t npairs,
		const struct diff_series *series, size_t limit);

#endif
