/* dupes.c — duplicated and largest str/bytes values. */
#include "dupes.h"

#include "../common/error.h"
#include "../common/sort.h"
#include "../common/xxh32.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX (1ull << 30)    /* hash no more of one value than this */

struct keyed {
	uint64_t hash;               /* content, kind and length */
	uint32_t node;
	uint32_t is_bytes;
};

/* A 64-bit hash in one pass, eight bytes at a time (multiply and fold):
 * to group equal values, not to resist attack. */
static uint64_t hash64(const uint8_t *p, size_t n, uint64_t salt)
{
	const uint64_t k = 0x9E3779B97F4A7C15ull;
	uint64_t h = salt * k ^ n;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if (i < n) {
		uint64_t w = 0;
		memcpy(&w, p + i, n - i);
		h = (h ^ w) * k;
	}
	h ^= h >> 32;
	return h * k ^ h >> 29;
}

/* The content of a str or bytes object: pointer, byte count, and what to
 * salt its hash with (kind and length, so "a" and b"a" differ). */
static bool content(struct pc_py *py, uint64_t obj, bool is_bytes, const uint8_t **p, uint64_t *n,
		    uint64_t *length, uint64_t *salt)
{
	uint64_t data, len = 0;
	unsigned kind = 1;

	if (is_bytes) {
		if (py_field(py, obj, LF_VAROBJECT_SIZE, &len) < 0)
			return false;
		data = obj + (uint64_t)py->L.off[LF_BYTES_SVAL];
	} else if (py_str_raw(py, obj, &data, &len, &kind) < 0) {
		return false;
	}
	if (len * kind > VALUE_MAX || !(*p = py_ptr(py, data, len ? (size_t)(len * kind) : 1)))
		return false;
	*n = len * kind;
	*length = len;
	*salt = len << 8 | kind << 1 | is_bytes;
	return true;
}

void dupes_redacted(const char *text, size_t len, const char *unit, char *buf, size_t cap)
{
	snprintf(buf, cap, "<redacted: %zu %s, %08x>", len, unit, xxh32(text, strlen(text), 0));
}

/* A printable preview: the text cut at DUPES_PREVIEW bytes, control
 * characters escaped; bytes shown as Python shows them, b'…'. */
static void preview(struct pc_py *py, uint64_t obj, bool is_bytes, uint64_t length, bool redact,
		    char *buf, size_t cap)
{
	char text[DUPES_PREVIEW * 4 + 8];
	size_t n = 0;

	if (is_bytes) {
		const uint8_t *p;
		uint64_t dummy, len, salt;
		if (!content(py, obj, true, &p, &dummy, &len, &salt)) {
			pc_clear_error();
			snprintf(buf, cap, "?");
			return;
		}
		for (uint64_t i = 0; i < len && n + 5 < DUPES_PREVIEW; i++)
			n += (size_t)snprintf(text + n, sizeof text - n, p[i] >= 32 && p[i] < 127 &&
					      p[i] != '\'' && p[i] != '\\' ? "%c" : "\\x%02x", p[i]);
	} else {
		char raw[DUPES_PREVIEW + 1];
		if (py_str(py, obj, raw, sizeof raw) < 0) {
			pc_clear_error();
			snprintf(buf, cap, "?");
			return;
		}
		/* one line: control characters as Python writes them */
		for (const unsigned char *c = (const unsigned char *)raw; *c && n + 5 < sizeof text; c++)
			n += (size_t)snprintf(text + n, sizeof text - n,
					      *c == '\n' ? "\\n" : *c == '\t' ? "\\t" :
					      *c < 32 ? "\\x%02x" : "%c", *c);
	}
	text[n] = '\0';
	if (redact)
		dupes_redacted(text, (size_t)length, is_bytes ? "bytes" : "chars", buf, cap);
	else
		snprintf(buf, cap, "%s'%s'%s", is_bytes ? "b" : "", text,
			 length > DUPES_PREVIEW ? "..." : "");
}

/* Sort by hash: LSD radix, four passes of 16 bits (qsort's comparisons
 * were a sixth of a whole report's time). */
static int sort_by_hash(struct keyed *v, size_t n)
{
	struct keyed *tmp = malloc((n ? n : 1) * sizeof *tmp), *src = v, *dst = tmp;
	size_t *count = malloc(65536 * sizeof *count);

	if (!tmp || !count) {
		free(tmp);
		free(count);
		return pc_fail(PC_EINTERNAL, 0, "out of memory sorting strings");
	}
	for (int shift = 0; shift < 64; shift += 16) {
		size_t sum = 0;
		memset(count, 0, 65536 * sizeof *count);
		for (size_t i = 0; i < n; i++)
			count[src[i].hash >> shift & 0xffff]++;
		for (size_t b = 0; b < 65536; b++) {
			size_t c = count[b];
			count[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[src[i].hash >> shift & 0xffff]++] = src[i];
		struct keyed *t = src;
		src = dst;
		dst = t;
	}
	/* four passes: the sorted keys are back in v */
	free(tmp);
	free(count);
	return 0;
}

static int by_wasted(const void *a, const void *b)
{
	const struct dupe *x = a, *y = b;
	return (x->wasted < y->wasted) - (x->wasted > y->wasted);
}

static int by_bytes(const void *a, const void *b)
{
	const struct dupe *x = a, *y = b;
	return (x->bytes < y->bytes) - (x->bytes > y->bytes);
}

/* Keep the top k of v (n of them) by cmp. */
static void keep_top(struct dupe *v, size_t *n, size_t k, int (*cmp)(const void *, const void *))
{
	sort_array(v, *n, sizeof *v, cmp);
	if (*n > k)
		*n = k;
}

int dupes_find(struct pc_py *py, int64_t str_type, int64_t bytes_type, const struct objindex *index,
	       size_t top, bool redact, struct dupe_report *out)
{
	struct keyed *keys = NULL;
	size_t nkeys = 0, ngroups = 0, cap = 0;
	struct dupe *groups = NULL, *largest = calloc(top + 1, sizeof *largest);
	size_t nlargest = 0;

	memset(out, 0, sizeof *out);
	if (!largest)
		goto nomem;
	for (size_t i = 0; i < index->n; i++) {
		const struct objrec *o = &index->v[i];
		bool is_bytes = (int64_t)o->type == bytes_type;
		const uint8_t *p;
		uint64_t n, len, salt;
		if (!(is_bytes || (int64_t)o->type == str_type))
			continue;
		if (!content(py, o->addr, is_bytes, &p, &n, &len, &salt)) {
			pc_clear_error();
			continue;
		}
		if (nkeys == cap) {
			struct keyed *k = realloc(keys, (cap = cap ? 2 * cap : 4096) * sizeof *k);
			if (!k)
				goto nomem;
			keys = k;
		}
		keys[nkeys++] = (struct keyed){ hash64(p, (size_t)n, salt), (uint32_t)i, is_bytes };
		/* the largest, kept as a small sorted array */
		if (nlargest < top || o->size > largest[nlargest - 1].bytes) {
			size_t at = nlargest < top ? nlargest++ : top - 1;
			while (at > 0 && largest[at - 1].bytes < o->size) {
				largest[at] = largest[at - 1];
				at--;
			}
			largest[at] = (struct dupe){ is_bytes ? "bytes" : "str", o->addr, len, 1, o->size, 0, "" };
		}
	}
	if (sort_by_hash(keys, nkeys) < 0) {
		free(keys);
		free(largest);
		return -1;
	}
	for (size_t i = 0; i < nkeys;) {
		size_t j = i + 1;
		uint64_t bytes = index->v[keys[i].node].size;
		while (j < nkeys && keys[j].hash == keys[i].hash)
			bytes += index->v[keys[j++].node].size;
		if (j - i > 1) {
			const struct objrec *o = &index->v[keys[i].node];
			struct dupe *g;
			if (ngroups % 1024 == 0 && !(g = realloc(groups, (ngroups + 1024) * sizeof *g)))
				goto nomem;
			else if (ngroups % 1024 == 0)
				groups = g;
			uint64_t wasted = bytes - o->size;
			out->wasted += wasted;
			groups[ngroups++] = (struct dupe){ keys[i].is_bytes ? "bytes" : "str", o->addr,
							   0, j - i, bytes, wasted, "" };
		}
		i = j;
	}
	free(keys);
	keys = NULL;
	keep_top(groups, &ngroups, top, by_wasted);
	keep_top(largest, &nlargest, top, by_bytes);
	for (size_t i = 0; i < ngroups; i++) {
		bool b = strcmp(groups[i].type, "bytes") == 0;
		const uint8_t *p;
		uint64_t n, salt;
		if (content(py, groups[i].addr, b, &p, &n, &groups[i].length, &salt))
			preview(py, groups[i].addr, b, groups[i].length, redact, groups[i].value,
				sizeof groups[i].value);
		pc_clear_error();
	}
	for (size_t i = 0; i < nlargest; i++)
		preview(py, largest[i].addr, strcmp(largest[i].type, "bytes") == 0, largest[i].length,
			redact, largest[i].value, sizeof largest[i].value);
	out->duplicates = groups;
	out->nduplicates = ngroups;
	out->largest = largest;
	out->nlargest = nlargest;
	return 0;
nomem:
	free(keys);
	free(groups);
	free(largest);
	return pc_fail(PC_EINTERNAL, 0, "out of memory looking for duplicate strings");
}

void dupes_free(struct dupe_report *d)
{
	free(d->duplicates);
	free(d->largest);
	memset(d, 0, sizeof *d);
}
