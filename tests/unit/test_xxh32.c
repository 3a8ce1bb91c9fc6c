/* test_xxh32.c — xxh32() against published and independently computed
 * xxHash32 values, and the streaming interface against the one-shot one.
 *
 * Expected values: seed 0 empty input 0x02CC5D05 and seed 0x9E3779B1 empty
 * input 0x36B78AE7 are the xxHash project's own sanity values; the others
 * were computed with `xxhsum -H32` (Debian xxhash 0.8.1) for seed 0 and with
 * XXH32() of Debian's libxxhash.so.0 (0.8.1) for other seeds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../common/xxh32.h"

struct vector {
	const char *data;
	size_t len;
	uint32_t seed, want;
};

static void test_xxh32_matches_published_values_for_text(void **state)
{
	(void)state;
	static const struct vector v[] = {
		{ "", 0, 0, 0x02CC5D05u },
		{ "", 0, 0x9E3779B1u, 0x36B78AE7u },
		{ "", 0, 0xFFFFFFFFu, 0x9061DA9Du },
		{ "", 0, 1, 0x0B2CB792u },
		{ "a", 1, 0, 0x550D7456u },
		{ "a", 1, 0x9E3779B1u, 0x9E1633E4u },
		{ "a", 1, 0xFFFFFFFFu, 0xCD42752Du },
		{ "abc", 3, 0, 0x32D153FFu },
		{ "abc", 3, 0x9E3779B1u, 0xA1AE7709u },
		{ "abc", 3, 1, 0xAA3DA8FFu },
		{ "0123456789abcde", 15, 0, 0x1DBDFA0Fu },
		{ "0123456789abcdef", 16, 0, 0xC2C45B69u },
		{ "0123456789abcdef", 16, 0x9E3779B1u, 0x72E8FAF9u },
		{ "0123456789abcdef", 16, 0xFFFFFFFFu, 0x7F962449u },
		{ "0123456789abcdefg", 17, 0, 0xCC79B217u },
		{ "Nobody inspects the spammish repetition", 39, 0, 0xE2293B2Fu },
		{ "The quick brown fox jumps over the lazy dog", 43, 0, 0xE85EA4DEu },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint32_t got = xxh32(v[i].data, v[i].len, v[i].seed);
		if (got != v[i].want)
			fail_msg("xxh32(\"%s\", seed %#x) = %#010x, want %#010x", v[i].data,
				 v[i].seed, got, v[i].want);
	}
}

/* The bytes (i * 7 + 3) & 0xff, i = 0..n-1. */
static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	return p;
}

struct pvector {
	size_t len;
	uint32_t seed0, seed12345678;
};

static void test_xxh32_matches_reference_values_around_the_stripe_size(void **state)
{
	(void)state;
	static const struct pvector v[] = {
		{ 1, 0x21AE663Au, 0xFE935803u },
		{ 3, 0xCD3D2242u, 0x0F037E5Du },
		{ 4, 0x725479F2u, 0x48D9327Fu },
		{ 5, 0xA666AB62u, 0x8F7B910Cu },
		{ 15, 0x82D3C84Du, 0x3843AEB1u },
		{ 16, 0x8845547Du, 0xAFA7C98Au },
		{ 17, 0x450E5F84u, 0x0DA0568Cu },
		{ 31, 0x1F73D3C7u, 0x1E3F127Fu },
		{ 32, 0xE988CCB7u, 0x68C8438Cu },
		{ 33, 0x94F536D5u, 0x5B22A35Cu },
		{ 63, 0x0BEDC2F7u, 0x456E5E63u },
		{ 64, 0xECD2AC44u, 0x747DA816u },
		{ 100, 0x73091A4Du, 0x63EBC042u },
		{ 1000, 0xC85A5152u, 0x3BE21A81u },
	};
	uint8_t *p = pattern(1000);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint32_t a = xxh32(p, v[i].len, 0), b = xxh32(p, v[i].len, 0x12345678u);
		if (a != v[i].seed0 || b != v[i].seed12345678)
			fail_msg("len %zu: %#010x/%#010x, want %#010x/%#010x", v[i].len, a, b,
				 v[i].seed0, v[i].seed12345678);
	}
	free(p);
}

static void test_xxh32_of_a_zero_mebibyte_matches_xxhsum(void **state)
{
	(void)state;
	uint8_t *z = calloc(1, 1u << 20);
	assert_non_null(z);
	/* head -c 1048576 /dev/zero | xxhsum -H32 */
	assert_int_equal(xxh32(z, 1u << 20, 0), 0x9430F97Fu);
	free(z);
}

static void test_streaming_split_at_every_position_equals_one_shot(void **state)
{
	(void)state;
	uint8_t *p = pattern(70);
	static const uint32_t seeds[] = { 0, 0x9E3779B1u, 0xFFFFFFFFu };

	for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++)
		for (size_t len = 0; len <= 70; len++) {
			uint32_t want = xxh32(p, len, seeds[s]);
			for (size_t cut = 0; cut <= len; cut++) {
				struct xxh32_state st;
				xxh32_init(&st, seeds[s]);
				xxh32_update(&st, p, cut);
				xxh32_update(&st, p + cut, len - cut);
				if (xxh32_digest(&st) != want)
					fail_msg("seed %#x len %zu cut %zu: %#010x, want %#010x",
						 seeds[s], len, cut, xxh32_digest(&st), want);
			}
		}
	free(p);
}

static void test_streaming_split_in_three_equals_one_shot(void **state)
{
	(void)state;
	uint8_t *p = pattern(70);

	for (size_t len = 0; len <= 70; len += 3)
		for (size_t a = 0; a <= len; a++)
			for (size_t b = a; b <= len; b++) {
				struct xxh32_state st;
				xxh32_init(&st, 7);
				xxh32_update(&st, p, a);
				xxh32_update(&st, p + a, b - a);
				xxh32_update(&st, p + b, len - b);
				if (xxh32_digest(&st) != xxh32(p, len, 7))
					fail_msg("len %zu cuts %zu,%zu", len, a, b);
			}
	free(p);
}

static void test_streaming_byte_by_byte_matches_the_reference(void **state)
{
	(void)state;
	uint8_t *p = pattern(1000);
	struct xxh32_state st;

	xxh32_init(&st, 0);
	for (size_t i = 0; i < 1000; i++) {
		xxh32_update(&st, p + i, 1);
		if (i == 32)    /* digest does not disturb the state */
			assert_int_equal(xxh32_digest(&st), 0x94F536D5u);
	}
	assert_int_equal(xxh32_digest(&st), 0xC85A5152u);
	xxh32_init(&st, 0x12345678u);
	for (size_t i = 0; i < 1000; i += 7)
		xxh32_update(&st, p + i, i + 7 <= 1000 ? 7 : 1000 - i);
	assert_int_equal(xxh32_digest(&st), 0x3BE21A81u);
	free(p);
}

static void test_empty_updates_change_nothing(void **state)
{
	(void)state;
	struct xxh32_state st;
	uint8_t *p = pattern(33);

	xxh32_init(&st, 0);
	xxh32_update(&st, p, 0);
	assert_int_equal(xxh32_digest(&st), 0x02CC5D05u);
	xxh32_update(&st, p, 17);
	xxh32_update(&st, p + 17, 0);
	xxh32_update(&st, p + 17, 16);
	xxh32_update(&st, p + 33, 0);
	assert_int_equal(xxh32_digest(&st), 0x94F536D5u);
	free(p);
}

static void test_init_resets_a_used_state(void **state)
{
	(void)state;
	struct xxh32_state st;
	uint8_t *p = pattern(100);

	xxh32_init(&st, 5);
	xxh32_update(&st, p, 99);
	xxh32_init(&st, 0);
	xxh32_update(&st, p, 3);
	assert_int_equal(xxh32_digest(&st), 0xCD3D2242u);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xxh32_matches_published_values_for_text),
		cmocka_unit_test(test_xxh32_matches_reference_values_around_the_stripe_size),
		cmocka_unit_test(test_xxh32_of_a_zero_mebibyte_matches_xxhsum),
		cmocka_unit_test(test_streaming_split_at_every_position_equals_one_shot),
		cmocka_unit_test(test_streaming_split_in_three_equals_one_shot),
		cmocka_unit_test(test_streaming_byte_by_byte_matches_the_reference),
		cmocka_unit_test(test_empty_updates_change_nothing),
		cmocka_unit_test(test_init_resets_a_used_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
