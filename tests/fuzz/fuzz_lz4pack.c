/* fuzz_lz4pack.c — pycore's seekable LZ4 container on arbitrary bytes:
 * the index frame at the end, the block table it gives, and reads that
 * decompress blocks at offsets taken from the input itself.
 */
#include "fuzz_common.h"

#include "../../analyze/lz4pack.h"
#include "../../common/error.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfile(data, size);
	struct lz4pack *p;
	uint8_t buf[8192];

	(void)lz4pack_is_lz4(fd);
	p = lz4pack_open(fd);
	if (p) {
		uint64_t total = lz4pack_size(p), at = 0;

		/* Offsets: the start, the end, and a few the input names. */
		(void)lz4pack_pread(p, buf, sizeof buf, 0);
		(void)lz4pack_pread(p, buf, sizeof buf, total ? total - 1 : 0);
		for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
			memcpy(&at, data + i, 8);
			(void)lz4pack_pread(p, buf, sizeof buf, total ? at % (total + 16) : at);
		}
		lz4pack_close(p);
	}
	pc_clear_error();
	close(fd);
	return 0;
}
