/* pyfacts.h — the Python runtime's facts a core needs to be read without
 * its binaries: the PYCORE "python" note (docs/pycore-note.md).
 *
 * pycore-capture resolves them from the live process and its binaries
 * before it stops the target: the exact version, where _PyRuntime is, the
 * struct layout, the addresses of the symbols the analysis looks up, and
 * the read-only strings it reads (static types' tp_name, in .rodata, which
 * no core holds).  pycore-report falls back on them when a binary is
 * missing.  The note is text, one fact per line:
 *
 *   pycore-python 1
 *   version 0x030b07f0 exact
 *   layout dwarf
 *   size LS_TYPE 408
 *   field LF_TYPE_NAME 24 8 0        offset, member size, alternative
 *   const LC_TPFLAGS_HEAPTYPE 512
 *   symbol _PyRuntime 0x7f…
 *   string 0x7f… dict                the bytes up to the line's end, then NUL
 */
#ifndef PYCORE_PYFACTS_H
#define PYCORE_PYFACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PYFACTS_HEADER "pycore-python 1"

struct pc_layout;
struct pc_image;

struct pyfacts_symbol {
	char *name;
	uint64_t addr;
};

struct pyfacts_string {
	uint64_t addr;
	char *text;
	size_t len;                  /* with the NUL */
};

struct pc_pyfacts {
	bool present;
	uint32_t hexversion;
	bool version_exact;
	char *layout_source;         /* where the capture's layout came from */
	char *layout_text;           /* the size/field/const lines */
	struct pyfacts_symbol *symbols;
	size_t nsymbols;
	struct pyfacts_string *strings;   /* sorted by address */
	size_t nstrings;
};

/* Parse a note; a malformed line is skipped (later pycores may add
 * kinds).  Returns 0, or -1 without memory or without the header. */
int pyfacts_parse(const void *note, size_t len, struct pc_pyfacts *out);
void pyfacts_free(struct pc_pyfacts *f);

/* A symbol's address; 0, or -1 when the note does not have it. */
int pyfacts_symbol(const struct pc_pyfacts *f, const char *name, uint64_t *addr);

/* Bytes at addr from a recorded string: how many (up to len), 0 if none. */
size_t pyfacts_read(const struct pc_pyfacts *f, uint64_t addr, void *buf, size_t len);

/* The layout the capture resolved: 0, or -1 when the note has none. */
int pyfacts_layout(const struct pc_pyfacts *f, uint32_t hexversion, struct pc_layout *out);

/* Capture side: the note's text for the process img describes (a live
 * process opened with core_open_live).  Returns 0 with a malloc'ed text,
 * or -1 (not a Python process, an unsupported version: no note then). */
int pyfacts_build(struct pc_image *img, char **text, size_t *len);

#endif
