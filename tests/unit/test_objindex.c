/* test_objindex.c — objects by address: every added object is found at its
 * index in address order, every other address is refused, whatever the
 * order, density and duplicates of what was added.  The expected answers
 * come from a plain sorted array and bsearch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../analyze/objindex.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The distinct 8-aligned addresses of addrs, sorted. */
static size_t reference(const uint64_t *addrs, size_t n, uint64_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!(addrs[i] & 7))
			out[k++] = addrs[i];
	qsort(out, k, sizeof *out, by_value);
	size_t kept = 0;
	for (size_t i = 0; i < k; i++)
		if (!kept || out[i] != out[kept - 1])
			out[kept++] = out[i];
	return kept;
}

static int64_t expected_index(const uint64_t *sorted, size_t n, uint64_t addr)
{
	const uint64_t *hit = bsearch(&addr, sorted, n, sizeof *sorted, by_value);
	return hit ? hit - sorted : -1;
}

/* Add addrs in the given order, then ask about each of them and about
 * addresses next to them, unaligned ones and random ones. */
static void check_index(const uint64_t *addrs, size_t n)
{
	struct objindex x = { 0 };
	uint64_t *sorted = malloc((n + 1) * sizeof *sorted);
	size_t nsorted;

	assert_non_null(sorted);
	nsorted = reference(addrs, n, sorted);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(objindex_add(&x, addrs[i], (uint32_t)i, 16), 0);
	assert_int_equal(objindex_finish(&x), 0);
	assert_int_equal(x.n, nsorted);
	for (size_t i = 0; i < nsorted; i++)
		assert_int_equal(x.v[i].addr, sorted[i]);
	for (size_t i = 0; i < n; i++) {
		const int64_t deltas[] = { 0, 8, -8, 16, 1, 4, 4096, -4096 };
		for (size_t d = 0; d < sizeof deltas / sizeof deltas[0]; d++) {
			uint64_t a = addrs[i] + (uint64_t)deltas[d];
			assert_int_equal(objindex_find(&x, a), expected_index(sorted, nsorted, a));
		}
	}
	for (int i = 0; i < 10000; i++) {
		uint64_t a = rng() & 0xFFFFFFFFFFF8ull;
		assert_int_equal(objindex_find(&x, a), expected_index(sorted, nsorted, a));
	}
	objindex_free(&x);
	free(sorted);
}

static void test_an_empty_index_finds_nothing(void **state)
{
	struct objindex x = { 0 };

	(void)state;
	assert_int_equal(objindex_finish(&x), 0);
	assert_int_equal(objindex_find(&x, 0x1000), -1);
	objindex_free(&x);
}

static void test_a_full_page_of_16_byte_objects_is_found_slot_by_slot(void **state)
{
	uint64_t addrs[256 + 2];

	(void)state;
	for (size_t i = 0; i < 256; i++)
		addrs[i] = 0x7f0000001000ull + 16 * i;
	addrs[256] = 0x7f0000000ff8ull;      /* the last word of the page before */
	addrs[257] = 0x7f0000002000ull;      /* the first word of the page after */
	check_index(addrs, 258);
}

static void test_every_8_byte_word_of_a_page_can_hold_an_object(void **state)
{
	uint64_t addrs[512];

	(void)state;
	for (size_t i = 0; i < 512; i++)
		addrs[511 - i] = 0x5555000000ull + 8 * i;   /* added in reverse */
	check_index(addrs, 512);
}

static void test_duplicates_and_unaligned_addresses_are_not_indexed(void **state)
{
	uint64_t addrs[] = { 0x10000, 0x10000, 0x10010, 0x10003, 0x10020, 0x10010, 0x1000c };

	(void)state;
	check_index(addrs, sizeof addrs / sizeof addrs[0]);
}

static void test_random_heaps_of_runs_and_scattered_objects_agree_with_bsearch(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		size_t n = 1000 + (size_t)(rng() % 50000), k = 0;
		uint64_t *addrs = malloc(n * sizeof *addrs);
		assert_non_null(addrs);
		while (k < n) {
			/* An ascending run (an arena's pools) of a random object
			 * size, at a random place; now and then a lone object. */
			uint64_t base = 0x7f0000000000ull + (rng() % (1u << 20)) * 4096;
			uint64_t size = 16 * (1 + rng() % 32);
			size_t run = rng() % 8 ? 1 + rng() % 600 : 1;
			for (size_t j = 0; j < run && k < n; j++)
				addrs[k++] = base + j * size;
		}
		check_index(addrs, n);
		free(addrs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_empty_index_finds_nothing),
		cmocka_unit_test(test_a_full_page_of_16_byte_objects_is_found_slot_by_slot),
		cmocka_unit_test(test_every_8_byte_word_of_a_page_can_hold_an_object),
		cmocka_unit_test(test_duplicates_and_unaligned_addresses_are_not_indexed),
		cmocka_unit_test(test_random_heaps_of_runs_and_scattered_objects_agree_with_bsearch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
