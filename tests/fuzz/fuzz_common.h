/* fuzz_common.h — what the libFuzzer harnesses share: the input as a file.
 *
 * The readers under test take a path or a descriptor, as pycore-report
 * gives them, so each input goes into an anonymous memory file.
 */
#ifndef PYCORE_FUZZ_COMMON_H
#define PYCORE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* A memory file holding data, positioned at 0; aborts when the system
 * cannot make one (that is the machine, not the input). */
static inline int fuzz_memfile(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-input", 0);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) != 0) {
		perror("fuzz: memfd");
		abort();
	}
	return fd;
}

#endif
