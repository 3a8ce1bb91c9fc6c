/* pycore_note.h — the "PYCORE" ELF notes in pycore cores (docs/pycore-note.md).
 *
 * All integers are little-endian and every record is padded to 8 bytes.
 * Readers must skip note types they do not know; later versions add types.
 */
#ifndef PYCORE_NOTE_H
#define PYCORE_NOTE_H

#define PYCORE_NOTE_NAME "PYCORE"

/* Note types are distinct from every type BFD knows (it reads notes of
 * unknown owners as if they were "CORE" notes: a PYCORE type 1 would become
 * a bogus NT_PRSTATUS thread in gdb).  0x5059 is "PY". */

/* Capture facts:
 *   u32 version (1) | u32 mode (PYCORE_MODE_*) | u64 unix time (s)
 *   | u32 nanoseconds | i32 pid | u64 process start (clock ticks after boot)
 *   | u64 clock ticks per second | u32 page size | u32 thread count
 *   | u32 cmdline bytes | u32 exe path bytes
 *   | cmdline (NUL-separated, as /proc/PID/cmdline) | exe path (NUL-terminated)
 */
#define PYCORE_NT_CAPTURE 0x50590001u

/* Mapped ELF files:
 *   u32 count | u32 reserved
 *   count × { u64 load address (start of the file's first mapping)
 *             | u32 build-id bytes | u32 path bytes (with its NUL)
 *             | build-id | path | zero padding to 8 }
 */
#define PYCORE_NT_MODULES 0x50590002u

/* The Python runtime's facts, resolved from the live process before it was
 * stopped, so the core can be read without its binaries: a text note,
 * format in analyze/pyfacts.h and docs/pycore-note.md. */
#define PYCORE_NT_PYTHON  0x50590003u

/* Mappings a snapshot capture could not hold (their PT_LOADs have
 * p_filesz 0): present only when there are some.
 *   u32 count | u32 reserved
 *   count × { u64 start | u64 end | u32 reason (PYCORE_ABSENT_*) | u32 0 }
 */
#define PYCORE_NT_ABSENT  0x50590004u
#define PYCORE_ABSENT_DONTFORK   1   /* MADV_DONTFORK: not in the fork */
#define PYCORE_ABSENT_WIPEONFORK 2   /* MADV_WIPEONFORK: zeros in the fork */

/* The process's namespaces and the ids it knows itself by (always written
 * by pycore-capture):
 *   u32 flags (PYCORE_NS_*) | i32 pid (ours, as the capture note's)
 *   | i32 pid in its own pid namespace | u32 thread count T
 *   | u64 inode of its mount namespace | u64 inode of its pid namespace
 *   | u32 root path bytes R (with its NUL) | u32 reserved
 *   | T × { i32 tid (ours) | i32 tid in its namespace }
 *   | root path (/proc/PID/root as the capture saw it) | zero padding to 8
 */
#define PYCORE_NT_NAMESPACES 0x50590005u
#define PYCORE_NS_MNT  1u   /* another mount namespace than the capture's */
#define PYCORE_NS_PID  2u   /* another pid namespace than the capture's */
#define PYCORE_NS_ROOT 4u   /* another root directory (paths are relative to it) */

/* The core was written under other rules than the kernel's
 * (pycore-capture --filter): present only then.
 *   u32 rules (PYCORE_RULES_*) | u32 the process's coredump_filter
 *   | u64 bytes of memory the kernel's rules would have dumped
 * Mappings the rules left out have PT_LOADs with p_filesz 0, as those the
 * kernel's rules leave out: not damage. */
#define PYCORE_NT_FILTER 0x50590006u
#define PYCORE_RULES_PYTHON 1   /* dumppolicy.h: dump_policy_python() */

#define PYCORE_CAPTURE_VERSION 1
#define PYCORE_MODE_STOPPED  0   /* threads held stopped for the whole dump */
#define PYCORE_MODE_SNAPSHOT 1   /* dumped from a copy-on-write fork */

#endif
