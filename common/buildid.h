/* buildid.h — the GNU build-id of an ELF file, found through its image in
 * memory: the ELF header and program headers on the first mapped page lead
 * to PT_NOTE segments, which hold NT_GNU_BUILD_ID. */
#ifndef PYCORE_BUILDID_H
#define PYCORE_BUILDID_H

#include <stddef.h>
#include <stdint.h>

#define BUILD_ID_MAX 64

/* Reads len bytes at addr; returns 0 only when all were read. */
typedef int (*pc_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* True when page (len bytes) starts with a 64-bit ELF header. */
int is_elf_image(const void *page, size_t len);

/* The load bias of the ELF image whose first page, mapped at map_start, is
 * `page`: a symbol's run-time address is its st_value plus the bias.
 * Returns 0, or -1 when the page says nonsense. */
int elf_image_load_bias(const void *page, size_t page_len, uint64_t map_start,
			uint64_t *bias);

/* Find the build-id of the ELF image whose first page, mapped at map_start,
 * is `page`.  Returns its length (> 0), or 0 when there is none or memory
 * says nonsense. */
size_t elf_image_build_id(const void *page, size_t page_len, uint64_t map_start,
			  pc_read_fn read, void *ctx, uint8_t id[BUILD_ID_MAX]);

#endif
