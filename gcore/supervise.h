/* supervise.h — run the capture in a worker process that outlives us.
 *
 * Between the moment a thread of the target is given the registers of an
 * injected system call and the moment its own are restored (the fork
 * itself: 20-30 ms per GB of the target), the death of its tracer would
 * leave the target to run on with registers that are not its own.  A
 * SIGKILL cannot be caught, so the tracer is not the process the user
 * started: pycore-capture forks a worker that does the whole capture, and
 * waits for it, forwarding the signals it can catch and exiting with the
 * worker's status.  If pycore-capture is killed, even by SIGKILL, the
 * worker gets SIGTERM (PR_SET_PDEATHSIG) and abandons the capture the way
 * it does on an interrupt: the target is released whole, the snapshot
 * killed and reaped, the unnamed file dropped.  Only a SIGKILL aimed at the
 * worker itself, during a fork, remains unguarded.
 */
#ifndef PYCORE_SUPERVISE_H
#define PYCORE_SUPERVISE_H

#include <signal.h>

/* In the worker: returns 0.  In the caller: waits for the worker and exits
 * with its status; never returns.  Returns -1 when no worker could be
 * started (the caller then does the work itself).  Either way SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT are left blocked: the caller unblocks them
 * once it has its handlers, so that none is lost or fatal meanwhile. */
int supervise(void);

/* Those signals, the ones that end a capture cleanly: the caller forwards
 * them, the worker catches them. */
void supervise_signals(sigset_t *set);

#endif
