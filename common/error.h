/* error.h — one error record per thread, carried up to the program's main.
 *
 * Library-style code never prints.  A failing function records what went
 * wrong with pc_fail() (a code from the list below, the errno that caused it,
 * and a one-line message with context) and returns -1 or NULL.  Callers that
 * add context use pc_wrap(); main() prints pc_errmsg() once and exits with
 * pc_exit_status(), so scripts can tell failures apart.
 */
#ifndef PYCORE_ERROR_H
#define PYCORE_ERROR_H

/* Error codes double as process exit codes (documented in the man pages). */
enum pc_errcode {
	PC_OK          = 0,
	PC_EINTERNAL   = 1,  /* anything not listed below                     */
	PC_EUSAGE      = 2,  /* bad command line                              */
	PC_ENOPROC     = 3,  /* no such process                               */
	PC_EZOMBIE     = 4,  /* the process is a zombie: nothing to capture   */
	PC_EPERM       = 5,  /* not allowed to ptrace the target              */
	PC_EGONE       = 6,  /* the target exited (or was killed) mid-capture */
	PC_EOUTPUT     = 7,  /* output unwritable, disk full                  */
	PC_EEXISTS     = 8,  /* output file exists and --force not given     */
	PC_EINTR       = 9,  /* we were interrupted by a signal               */
	PC_EBUSY       = 10, /* the target is already traced by a debugger    */
	PC_EFORMAT     = 11, /* input file is not what it claims (corrupt)    */
	PC_ELIMIT      = 12, /* a limit the user set was reached (--max-cow-mb) */
	PC_EEXEC       = 13, /* the target executed a new program mid-capture */
};

/* Record an error; returns -1 so "return pc_fail(...)" reads naturally.
 * sys_errno is the errno that caused it, or 0. */
int pc_fail(enum pc_errcode code, int sys_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the recorded message with more context ("writing core.12: ...").
 * Keeps the code and errno.  Returns -1. */
int pc_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An error recorded on one thread, to be raised again on another (the
 * record behind pc_fail() is per thread). */
struct pc_error_box {
	int failed;
	enum pc_errcode code;
	char msg[512];
};

/* Copy this thread's error into box (first one wins; not thread-safe by
 * itself: hold the lock that guards box). */
void pc_error_capture(struct pc_error_box *box);

/* Record box's error on this thread.  Returns -1. */
int pc_error_raise(const struct pc_error_box *box);

enum pc_errcode pc_errcode(void);
int pc_errno(void);
const char *pc_errmsg(void);     /* message, with strerror(errno) appended */
void pc_clear_error(void);

#endif
