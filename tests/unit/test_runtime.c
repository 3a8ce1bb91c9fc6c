/* test_runtime.c — what can be tested of analyze/runtime.c without a core. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../analyze/runtime.h"

static const struct {
	const char *text;
	uint32_t hexversion;
} versions[] = {
	{ "3.8.18 (default, Nov 25 2026, 12:00:00) \n[GCC 12.2.0]", 0x030812f0 },
	{ "3.11.2 (main, Mar 13 2023, 12:18:29) [GCC 12.2.0]", 0x030b02f0 },
	{ "3.13.0 (main, Oct  8 2024, 00:00:00)", 0x030d00f0 },
	{ "3.13.0rc1 (main)", 0x030d00c1 },
	{ "3.12.0a7+ (heads/main)", 0x030c00a7 },
	{ "3.10.0b4", 0x030a00b4 },
	{ "2.7.18 (default)", 0 },          /* not Python 3 */
	{ "3.", 0 },
	{ "", 0 },
	{ "version 3.8.1", 0 },             /* must start with the number */
	{ "3.100.1", 0 },                   /* minor out of range */
};

static void test_version_text_gives_py_version_hex(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		uint32_t got = runtime_version_from_text(versions[i].text);
		if (got != versions[i].hexversion)
			fail_msg("\"%s\": got %#x, want %#x", versions[i].text, got,
				 versions[i].hexversion);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_text_gives_py_version_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
