/* diff_main.c — pycore-diff: placeholder until the diff lands (issue #5). */
#include <stdio.h>
#include <string.h>

#ifndef PYCORE_VERSION
#define PYCORE_VERSION "0.1.0"
#endif

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
		printf("pycore-diff %s\n", PYCORE_VERSION);
		return 0;
	}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: pycore-diff CORE-A CORE-B\n(not implemented yet)\n");
		return 0;
	}
	fprintf(stderr, "pycore-diff: not implemented yet\n");
	return 2;
}
