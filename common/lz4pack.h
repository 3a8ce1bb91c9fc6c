/* lz4pack.h — the seekable LZ4 container of pycore cores (docs/lz4-container.md).
 *
 * The core is cut into 1 MiB blocks and each block is one standard LZ4 frame
 * (independent of the others, with its content size and content checksum);
 * one skippable frame at the end holds an index: the file offset of every
 * frame.  `lz4 -d` skips the index and concatenates the frames into the ELF
 * core; a reader seeks to any core offset by decoding one frame.  Workers
 * build whole frames in parallel, checksums included.
 *
 * Words: a "block" is the 1 MiB of core one frame holds (the index's block
 * size); inside its frame, a block is written as LZ4 "data blocks" (the LZ4
 * frame format's name) of at most 64 KiB of the block each, compressed
 * independently: LZ4 compresses 64 KiB inputs about 30% faster than 1 MiB
 * inputs (a 16-bit hash table), at the same ratio.
 *
 *   frame:  magic 184D2204 | FLG 0x6C | BD 0x40 | u64 content size | HC
 *           | data blocks: { u32 size word (bit 31 = stored) | data } ...
 *           | u32 0 (end mark) | u32 xxh32(content)
 *   index:  magic 184D2A50 | u32 payload size | payload:
 *           "PYCZIDX1" | u32 version | u32 block size | u64 content size
 *           | u64 frame count | u64 frame offset[count]
 *           | u64 offset of this skippable frame | "PYCZTAIL"
 *
 * Containers written before data blocks were 64 KiB have BD 0x60 and one
 * data block of up to 1 MiB per frame; the reader accepts both.
 *
 * Why a content checksum and no block checksum: lz4 1.9.4's CLI misreads
 * whatever follows a frame that has block checksums but no content checksum
 * (it consumes 4 bytes too many), and the content checksum is the stronger
 * check anyway: it covers the decoded bytes.
 */
#ifndef PYCORE_LZ4PACK_H
#define PYCORE_LZ4PACK_H

#include <stdint.h>

#define LZ4PACK_FRAME_MAGIC     0x184D2204u
#define LZ4PACK_SKIP_MAGIC      0x184D2A50u
#define LZ4PACK_FLG             0x6Cu     /* v01, independent data blocks, content size + checksum */
#define LZ4PACK_BD              0x40u     /* max data block size 64 KiB (what the writer writes) */
#define LZ4PACK_BD_V1           0x60u     /* max data block size 1 MiB (older containers) */
#define LZ4PACK_BLOCK_SIZE      (1u << 20)   /* core bytes per frame */
#define LZ4PACK_DATA_BLOCK_SIZE (1u << 16)   /* block bytes per data block (BD 0x40) */
#define LZ4PACK_DATA_BLOCKS     (LZ4PACK_BLOCK_SIZE / LZ4PACK_DATA_BLOCK_SIZE)  /* 16 */
#define LZ4PACK_STORED_BIT      0x80000000u
#define LZ4PACK_INDEX_MAGIC     "PYCZIDX1"
#define LZ4PACK_TAIL_MAGIC      "PYCZTAIL"
#define LZ4PACK_INDEX_VERSION   1u
#define LZ4PACK_FRAME_HDR_SIZE  15u       /* magic 4 + FLG + BD + size 8 + HC */
#define LZ4PACK_FRAME_TRAILER   8u        /* end mark 4 + content checksum 4 */
/* The smallest span a frame can have: header, one size word, trailer. */
#define LZ4PACK_FRAME_MIN       (LZ4PACK_FRAME_HDR_SIZE + 4u + LZ4PACK_FRAME_TRAILER)
/* The largest: a full block in 16 stored data blocks (1,048,663 bytes);
 * a BD 0x60 frame is at most 1 MiB + 27. */
#define LZ4PACK_FRAME_MAX       (LZ4PACK_FRAME_HDR_SIZE + 4u * LZ4PACK_DATA_BLOCKS + \
				 LZ4PACK_BLOCK_SIZE + LZ4PACK_FRAME_TRAILER)
#define LZ4PACK_INDEX_FIXED     32u       /* magic 8 + ver 4 + bsize 4 + csize 8 + count 8 */
#define LZ4PACK_TAIL_SIZE       16u       /* u64 frame offset + tail magic */

/* Write the 15-byte header (BD 0x40) of a frame holding content_len bytes. */
void lz4pack_put_frame_header(uint8_t h[LZ4PACK_FRAME_HDR_SIZE], uint64_t content_len);

/* Check a frame header pycore wrote (BD 0x40, or 0x60 from older
 * containers): *content_len gets its content size, *data_block_max the
 * largest data block its BD allows (64 KiB or 1 MiB).  Returns 0, or -1
 * when it is not one of ours. */
int lz4pack_check_frame_header(const uint8_t h[LZ4PACK_FRAME_HDR_SIZE],
			       uint64_t *content_len, uint32_t *data_block_max);

#endif
