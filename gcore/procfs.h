/* procfs.h — small readers for /proc/PID files the capture needs. */
#ifndef PYCORE_PROCFS_H
#define PYCORE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Fields of /proc/PID/stat (or /proc/PID/task/TID/stat). */
struct pc_procstat {
	char comm[16];
	char state;
	pid_t ppid, pgrp, session;
	unsigned long flags;
	uint64_t utime, stime, cutime, cstime;   /* clock ticks */
	long nice;
	uint64_t starttime;                      /* ticks after boot */
};

/* Read /proc/PID/<name> whole, NUL-terminated; *len (if not NULL) gets the
 * byte count.  A vanished process is PC_ENOPROC.  Returns NULL on error. */
char *procfs_slurp(pid_t pid, const char *name, size_t *len);

/* Parse a stat line ("123 (comm) S 1 ...").  Returns 0 or -1. */
int procfs_parse_stat(const char *text, struct pc_procstat *st);

/* procfs_slurp + procfs_parse_stat for "stat" or "task/TID/stat". */
int procfs_read_stat(pid_t pid, const char *name, struct pc_procstat *st);

/* True when process or thread id is a zombie or no longer there.  A
 * process killed while we trace it stays a zombie we have not reaped: it
 * still answers kill(id, 0) and waits for it may never end, but its
 * memory is gone. */
bool procfs_is_dead(pid_t id);

/* The decimal value of key in /proc/PID/status ("Tgid", "Seccomp"), or
 * fallback when the file or the key cannot be read (no error raised). */
long procfs_status_value(pid_t pid, const char *key, long fallback);

/* The last id of NSpid in /proc/PID/status: the id process pid (ours) has
 * in its own pid namespace; *depth (if not NULL) gets how many namespaces
 * deep it is.  Returns 0, or -1 (no error raised) when it cannot be read:
 * the process is gone, or the kernel predates NSpid (4.1). */
int procfs_ns_pid(pid_t pid, long *id, int *depth);

/* The value after "key:" in a status-style text, as hex (SigPnd) or decimal
 * (TracerPid).  Returns 0, or -1 when the key is absent. */
int procfs_status_hex(const char *text, const char *key, uint64_t *out);
int procfs_status_dec(const char *text, const char *key, long *out);

/* The last number of a status line that lists one per pid namespace, from
 * the reader's to the process's own ("NSpid:\t4242\t1"): the value in the
 * process's own namespace.  *depth (if not NULL) gets how many numbers the
 * line has.  Returns 0, or -1 when the key is absent (kernels before 4.1). */
int procfs_status_last(const char *text, const char *key, long *out, int *depth);

/* The process's root directory as this process sees it (the target of
 * /proc/PID/root), malloc'ed; NULL when it cannot be read. */
char *procfs_root(pid_t pid);

/* A path as /proc/PID/maps or /proc/PID/exe shows it to us is relative to
 * our root; the process (and the kernel's own core dump) sees it relative
 * to its root.  When root is not "/" and path lies under it, cut root off
 * path, in place ("/srv/r/opt/x" under "/srv/r" becomes "/opt/x").
 * Returns true when path was changed. */
bool procfs_unroot(char *path, const char *root);

#endif
