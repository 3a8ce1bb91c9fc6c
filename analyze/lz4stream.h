/* lz4stream.h — a core compressed by the lz4 tool (standard LZ4 frames with
 * no pycore index): decompressed once into an unnamed temporary file,
 * because a frame stream without an index can only be read from its start. */
#ifndef PYCORE_LZ4STREAM_H
#define PYCORE_LZ4STREAM_H

#include <stdbool.h>

/* Does fd (an LZ4 file) end with pycore's block index? */
bool lz4stream_has_index(int fd);

/* Decompress all of fd into a new unnamed file in $TMPDIR (else /var/tmp);
 * returns its descriptor, or -1 (PC_EFORMAT for a damaged or truncated
 * stream, PC_EOUTPUT when the temporary file cannot be written). */
int lz4stream_to_temp(int fd);

#endif
