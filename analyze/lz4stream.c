/* lz4stream.c — whole-stream LZ4 decompression with liblz4's frame API. */
#include "lz4stream.h"

#include "../common/error.h"
#include "../common/lz4pack.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IN_CHUNK  (1u << 20)
#define OUT_CHUNK (4u << 20)

bool lz4stream_has_index(int fd)
{
	struct stat st;
	char magic[8];

	return fstat(fd, &st) == 0 && st.st_size >= LZ4PACK_TAIL_SIZE &&
	       pread(fd, magic, 8, st.st_size - LZ4PACK_TAIL_SIZE + 8) == 8 &&
	       memcmp(magic, LZ4PACK_TAIL_MAGIC, 8) == 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pc_fail(PC_EOUTPUT, errno, "writing the decompressed core");
		done += (size_t)n;
	}
	return 0;
}

/* Feed the whole input through the decompressor into out. */
static int pump(int in, int out, LZ4F_dctx *dctx, char *ibuf, char *obuf)
{
	off_t at = 0;
	size_t hint = 1;

	for (;;) {
		ssize_t got = pread(in, ibuf, IN_CHUNK, at);
		size_t used = 0;
		if (got < 0)
			return pc_fail(PC_EINTERNAL, errno, "reading the core");
		if (got == 0)
			return hint == 0 ? 0 : pc_fail(PC_EFORMAT, 0, "the LZ4 core is truncated");
		at += got;
		while (used < (size_t)got) {
			size_t isz = (size_t)got - used, osz = OUT_CHUNK;
			hint = LZ4F_decompress(dctx, obuf, &osz, ibuf + used, &isz, NULL);
			if (LZ4F_isError(hint))
				return pc_fail(PC_EFORMAT, 0, "the LZ4 core is damaged: %s",
					       LZ4F_getErrorName(hint));
			if (write_all(out, obuf, osz) < 0)
				return -1;
			used += isz;
		}
	}
}

int lz4stream_to_temp(int fd)
{
	const char *dir = getenv("TMPDIR");
	char *ibuf = malloc(IN_CHUNK), *obuf = malloc(OUT_CHUNK);
	LZ4F_dctx *dctx = NULL;
	int out = -1, rc = -1;

	if (!ibuf || !obuf || LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
		pc_fail(PC_EINTERNAL, ENOMEM, "decompressing the core");
		goto done;
	}
	out = open(dir && *dir ? dir : "/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (out < 0) {
		pc_fail(PC_EOUTPUT, errno, "creating a temporary file for the decompressed core");
		goto done;
	}
	rc = pump(fd, out, dctx, ibuf, obuf);
done:
	LZ4F_freeDecompressionContext(dctx);
	free(ibuf);
	free(obuf);
	if (rc < 0 && out >= 0) {
		close(out);
		out = -1;
	}
	return out;
}
