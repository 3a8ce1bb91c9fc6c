/* lz4pack.c — the frame header of the LZ4 container, shared by its writer
 * (gcore/sink_lz4.c) and its reader (analyze/lz4pack.c). */
#include "lz4pack.h"

#include "xxh32.h"

#include <string.h>

void lz4pack_put_frame_header(uint8_t h[LZ4PACK_FRAME_HDR_SIZE], uint64_t content_len)
{
	uint32_t magic = LZ4PACK_FRAME_MAGIC;

	memcpy(h, &magic, 4);
	h[4] = LZ4PACK_FLG;
	h[5] = LZ4PACK_BD;
	memcpy(h + 6, &content_len, 8);
	/* HC: second byte of xxh32 over the descriptor (FLG .. content size). */
	h[14] = (uint8_t)(xxh32(h + 4, 10, 0) >> 8);
}

int lz4pack_check_frame_header(const uint8_t h[LZ4PACK_FRAME_HDR_SIZE],
			       uint64_t *content_len, uint32_t *data_block_max)
{
	uint32_t magic;

	memcpy(&magic, h, 4);
	if (magic != LZ4PACK_FRAME_MAGIC || h[4] != LZ4PACK_FLG ||
	    (h[5] != LZ4PACK_BD && h[5] != LZ4PACK_BD_V1) ||
	    (uint8_t)(xxh32(h + 4, 10, 0) >> 8) != h[14])
		return -1;
	memcpy(content_len, h + 6, 8);
	*data_block_max = h[5] == LZ4PACK_BD ? LZ4PACK_DATA_BLOCK_SIZE : LZ4PACK_BLOCK_SIZE;
	return 0;
}
