/* error.c — the per-thread error record behind pc_fail()/pc_wrap(). */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PC_ERRMSG_MAX 1024

static __thread struct {
	enum pc_errcode code;
	int sys_errno;
	char msg[PC_ERRMSG_MAX];
	char full[PC_ERRMSG_MAX + 128];
} last;

int pc_fail(enum pc_errcode code, int sys_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last.msg, sizeof last.msg, fmt, ap);
	va_end(ap);
	last.code = code;
	last.sys_errno = sys_errno;
	return -1;
}

int pc_wrap(const char *fmt, ...)
{
	char old[PC_ERRMSG_MAX];
	size_t n;
	va_list ap;

	memcpy(old, last.msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(last.msg, sizeof last.msg, fmt, ap);
	va_end(ap);
	n = strlen(last.msg);
	if (n + 2 < sizeof last.msg) {
		memcpy(last.msg + n, ": ", 3);
		strncat(last.msg, old, sizeof last.msg - n - 3);
	}
	if (last.code == PC_OK)
		last.code = PC_EINTERNAL;
	return -1;
}

enum pc_errcode pc_errcode(void)
{
	return last.code;
}

int pc_errno(void)
{
	return last.sys_errno;
}

const char *pc_errmsg(void)
{
	if (last.sys_errno)
		snprintf(last.full, sizeof last.full, "%s: %s", last.msg,
			 strerror(last.sys_errno));
	else
		snprintf(last.full, sizeof last.full, "%s", last.msg);
	return last.full;
}

void pc_clear_error(void)
{
	last.code = PC_OK;
	last.sys_errno = 0;
	last.msg[0] = '\0';
}

void pc_error_capture(struct pc_error_box *box)
{
	if (box->failed)
		return;
	box->failed = 1;
	box->code = last.code == PC_OK ? PC_EINTERNAL : last.code;
	snprintf(box->msg, sizeof box->msg, "%s", pc_errmsg());
}

int pc_error_raise(const struct pc_error_box *box)
{
	/* The message already ends with strerror(errno): do not append twice. */
	return pc_fail(box->code, 0, "%s", box->msg);
}
