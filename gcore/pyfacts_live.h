/* pyfacts_live.h — the Python runtime's facts of a running process, for
 * the PYCORE python note (analyze/pyfacts.h), gathered before the target
 * is stopped so they cost it no pause: the process is read through
 * /proc/PID/mem as if it were a core, and the same analysis code runs. */
#ifndef PYCORE_PYFACTS_LIVE_H
#define PYCORE_PYFACTS_LIVE_H

#include <stddef.h>
#include <sys/types.h>

/* 0 with the note's text in *text (malloc'ed), or -1 when pid is not a
 * Python process pycore can describe (the error says why; a capture goes
 * on without the note). */
int pyfacts_live(pid_t pid, char **text, size_t *len);

#endif
