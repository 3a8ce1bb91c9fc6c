/* lz4pack.h — the seekable LZ4 container of pycore cores (docs/lz4-container.md).
 *
 * The file is one standard LZ4 frame whose blocks are independent and
 * checksummed, followed by one skippable frame holding an index: the file
 * offset of every block.  `lz4 -d` skips the index and yields the ELF core;
 * a reader seeks to any core offset by decompressing one block.
 *
 *   LZ4 frame:  magic 184D2204 | FLG 0x7C | BD 0x60 | content size (u64) | HC
 *               { u32 size (bit 31 = stored) | data | u32 xxh32(data) } ...
 *               u32 0 (end mark) | u32 xxh32(content)
 *   index:      magic 184D2A50 | u32 payload size | payload:
 *               "PYCZIDX1" | u32 version | u32 block size | u64 content size
 *               | u64 block count | u64 block offset[count]
 *               | u64 offset of this skippable frame | "PYCZTAIL"
 */
#ifndef PYCORE_LZ4PACK_H
#define PYCORE_LZ4PACK_H

#include <stdint.h>

#define LZ4PACK_FRAME_MAGIC     0x184D2204u
#define LZ4PACK_SKIP_MAGIC      0x184D2A50u
/* v01, independent blocks, block checksums, content size, content checksum.
 * (lz4 1.9.4's CLI misreads what follows a multi-block frame that has
 * block checksums but no content checksum: always write both.) */
#define LZ4PACK_FLG             0x7Cu
#define LZ4PACK_BD              0x60u     /* max block size 1 MiB */
#define LZ4PACK_BLOCK_SIZE      (1u << 20)
#define LZ4PACK_STORED_BIT      0x80000000u
#define LZ4PACK_INDEX_MAGIC     "PYCZIDX1"
#define LZ4PACK_TAIL_MAGIC      "PYCZTAIL"
#define LZ4PACK_INDEX_VERSION   1u
#define LZ4PACK_FRAME_HDR_SIZE  15u       /* magic 4 + FLG + BD + size 8 + HC */
#define LZ4PACK_INDEX_FIXED     32u       /* magic 8 + ver 4 + bsize 4 + csize 8 + count 8 */
#define LZ4PACK_TAIL_SIZE       16u       /* u64 frame offset + tail magic */

#endif
