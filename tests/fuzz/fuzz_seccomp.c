/* fuzz_seccomp.c — seccomp_filter_run() on arbitrary programs and calls.
 * The filters come from the target process, so they are input like a
 * core's bytes.  An input is a call (little-endian: u32 system call
 * number, u32 mask of unknown arguments, six u64 arguments, u64
 * instruction pointer: 64 bytes) followed by the program's instructions
 * (8 bytes each: u16 code, u8 jt, u8 jf, u32 k).  Besides not crashing,
 * a run must answer the same twice, and an answer may only come from a
 * program that ends in a return the run could reach.
 */
#include "fuzz_common.h"

#include "../../gcore/seccomp.h"

#include <string.h>

#define HEADER 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sock_filter prog[BPF_MAXINSNS + 1];
	struct seccomp_call call = { "fuzzed", 0, { 0 }, 0 };
	uint32_t nr, unknown, first = 0, second = 0;
	uint64_t ip;
	size_t len;

	if (size < HEADER)
		return 0;
	memcpy(&nr, data, 4);
	memcpy(&unknown, data + 4, 4);
	memcpy(call.args, data + 8, sizeof call.args);
	memcpy(&ip, data + 56, 8);
	call.nr = (int32_t)nr;
	call.unknown = unknown;
	len = (size - HEADER) / sizeof prog[0];
	if (len > BPF_MAXINSNS + 1)
		len = BPF_MAXINSNS + 1;     /* one past the limit: must be refused */
	memcpy(prog, data + HEADER, len * sizeof prog[0]);

	enum seccomp_run r1 = seccomp_filter_run(prog, len, &call, ip, &first);
	enum seccomp_run r2 = seccomp_filter_run(prog, len, &call, ip, &second);
	if (r1 != r2 || (r1 == SECCOMP_RUN_DONE && first != second))
		abort();
	if (r1 != SECCOMP_RUN_INVALID && (len == 0 || len > BPF_MAXINSNS))
		abort();
	return 0;
}
