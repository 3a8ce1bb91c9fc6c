/* linetable.h — a code object's line-number table: which source line an
 * instruction belongs to, in each of the three formats CPython has used.
 *
 * Pure functions over the table's bytes, so they are tested against tables
 * and answers taken from real interpreters (tests/unit/test_linetable.c).
 * Each reproduces PyCode_Addr2Line() of the interpreters that use its format
 * exactly: addr is the instruction's byte offset in the bytecode (what
 * CPython passes: f_lasti ≤3.9, f_lasti*2 in 3.10, the instruction pointer's
 * distance from the first code unit in 3.11+), and the result is the line,
 * or -1 where the table says the instruction has none (3.10+).
 */
#ifndef PYCORE_LINETABLE_H
#define PYCORE_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* ≤3.9 co_lnotab: (Δaddr uint8, Δline int8) pairs (Objects/lnotab_notes.txt). */
int linetable_lnotab_line(const uint8_t *tab, size_t len, int firstlineno, int addr);

/* 3.10 co_linetable (PEP 626): (Δend uint8, Δline int8) address ranges,
 * Δline -128 meaning "no line". */
int linetable_ranges_line(const uint8_t *tab, size_t len, int firstlineno, int addr);

/* 3.11+ co_linetable, the location table (Objects/locations.md): entries of
 * one header byte and varint line/column data, lengths in code units. */
int linetable_locations_line(const uint8_t *tab, size_t len, int firstlineno, int addr);

#endif
