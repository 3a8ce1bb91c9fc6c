/* lz4pack.h — random access into a pycore LZ4 core (common/lz4pack.h).
 *
 * Opening reads and checks the index at the end of the file; a read
 * decompresses only the blocks it touches, verifying each block's checksum.
 */
#ifndef PYCORE_LZ4PACK_READ_H
#define PYCORE_LZ4PACK_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct lz4pack;

/* True when fd's first bytes are an LZ4 frame (of any writer). */
bool lz4pack_is_lz4(int fd);

/* Open the container on fd (not closed by lz4pack_close).  NULL with
 * PC_EFORMAT when it is not a pycore container or its index is damaged. */
struct lz4pack *lz4pack_open(int fd);

/* Bytes of the core inside. */
uint64_t lz4pack_size(const struct lz4pack *p);

/* Read up to len bytes at core offset off; short only at the end.
 * Returns the byte count, or -1 (PC_EFORMAT for a damaged block). */
ssize_t lz4pack_pread(struct lz4pack *p, void *buf, size_t len, uint64_t off);

void lz4pack_close(struct lz4pack *p);

#endif
