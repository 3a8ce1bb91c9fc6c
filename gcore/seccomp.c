/* seccomp.c — run a thread's seccomp filters on a call before injecting it. */
#include "seccomp.h"

#include "procfs.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000u
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000u
#endif
#ifndef SECCOMP_RET_LOG
#define SECCOMP_RET_LOG 0x7ffc0000u
#endif
#ifndef SECCOMP_RET_ACTION_FULL
#define SECCOMP_RET_ACTION_FULL 0xffff0000u
#endif

/* struct seccomp_data as the 32-bit words a filter loads: nr, arch, the
 * instruction pointer (low, high), then each argument (low, high). */
#define DATA_WORDS 16
#define ARG_WORD(i) (4 + 2 * (i))

struct machine {
	uint32_t a, x, mem[BPF_MEMWORDS];
	uint32_t data[DATA_WORDS];
	uint32_t known;                /* bit w: data[w] may be loaded */
};

static void load_call(struct machine *m, const struct seccomp_call *call, uint64_t ip)
{
	memset(m, 0, sizeof *m);
	m->data[0] = (uint32_t)call->nr;
	m->data[1] = AUDIT_ARCH_X86_64;
	m->data[2] = (uint32_t)ip;
	m->data[3] = (uint32_t)(ip >> 32);
	m->known = 0xf;
	for (int i = 0; i < 6; i++) {
		m->data[ARG_WORD(i)] = (uint32_t)call->args[i];
		m->data[ARG_WORD(i) + 1] = (uint32_t)(call->args[i] >> 32);
		if (!(call->unknown & (1u << i)))
			m->known |= 3u << ARG_WORD(i);
	}
}

/* The outcome of one instruction. */
enum step { STEP_NEXT, STEP_RETURN, STEP_UNKNOWN, STEP_INVALID };

/* BPF_LD, BPF_LDX: a word of the call, its length, a constant or a
 * scratch word, into A or X. */
static enum step load(struct machine *m, const struct sock_filter *f)
{
	uint32_t *reg = BPF_CLASS(f->code) == BPF_LD ? &m->a : &m->x, k = f->k;

	switch (f->code) {
	case BPF_LD | BPF_W | BPF_ABS:
		if (k % 4 || k / 4 >= DATA_WORDS)
			return STEP_INVALID;
		if (!(m->known & (1u << (k / 4))))
			return STEP_UNKNOWN;
		*reg = m->data[k / 4];
		return STEP_NEXT;
	case BPF_LD | BPF_W | BPF_LEN:
	case BPF_LDX | BPF_W | BPF_LEN:
		*reg = DATA_WORDS * 4;
		return STEP_NEXT;
	case BPF_LD | BPF_IMM:
	case BPF_LDX | BPF_IMM:
		*reg = k;
		return STEP_NEXT;
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_MEM:
		if (k >= BPF_MEMWORDS)
			return STEP_INVALID;
		*reg = m->mem[k];
		return STEP_NEXT;
	}
	return STEP_INVALID;
}

/* BPF_ALU, the operations seccomp accepts (no modulo).  A division by
 * zero ends the program with 0, as the kernel's does: a kill.  A shift by
 * 32 or more, which its loader refuses as a constant, is not modelled. */
static enum step alu(struct machine *m, const struct sock_filter *f, uint32_t *action)
{
	uint32_t src = BPF_SRC(f->code) == BPF_X ? m->x : f->k;

	switch (BPF_OP(f->code)) {
	case BPF_ADD: m->a += src; return STEP_NEXT;
	case BPF_SUB: m->a -= src; return STEP_NEXT;
	case BPF_MUL: m->a *= src; return STEP_NEXT;
	case BPF_AND: m->a &= src; return STEP_NEXT;
	case BPF_OR:  m->a |= src; return STEP_NEXT;
	case BPF_XOR: m->a ^= src; return STEP_NEXT;
	case BPF_NEG: m->a = -m->a; return STEP_NEXT;
	case BPF_DIV:
		if (src == 0) {
			*action = 0;
			return STEP_RETURN;
		}
		m->a /= src;
		return STEP_NEXT;
	case BPF_LSH:
	case BPF_RSH:
		if (src >= 32)
			return STEP_INVALID;
		m->a = BPF_OP(f->code) == BPF_LSH ? m->a << src : m->a >> src;
		return STEP_NEXT;
	}
	return STEP_INVALID;
}

/* BPF_JMP: how many instructions to skip. */
static enum step jump(const struct machine *m, const struct sock_filter *f, size_t *skip)
{
	uint32_t src = BPF_SRC(f->code) == BPF_X ? m->x : f->k;
	bool taken;

	switch (BPF_OP(f->code)) {
	case BPF_JA:   *skip = f->k; return STEP_NEXT;
	case BPF_JEQ:  taken = m->a == src; break;
	case BPF_JGT:  taken = m->a > src; break;
	case BPF_JGE:  taken = m->a >= src; break;
	case BPF_JSET: taken = (m->a & src) != 0; break;
	default:       return STEP_INVALID;
	}
	*skip = taken ? f->jt : f->jf;
	return STEP_NEXT;
}

static enum step step(struct machine *m, const struct sock_filter *f, size_t *skip,
		      uint32_t *action)
{
	switch (BPF_CLASS(f->code)) {
	case BPF_LD:
	case BPF_LDX:
		return load(m, f);
	case BPF_ST:
	case BPF_STX:
		if ((f->code != BPF_ST && f->code != BPF_STX) || f->k >= BPF_MEMWORDS)
			return STEP_INVALID;
		m->mem[f->k] = f->code == BPF_ST ? m->a : m->x;
		return STEP_NEXT;
	case BPF_ALU:
		return alu(m, f, action);
	case BPF_JMP:
		return jump(m, f, skip);
	case BPF_RET:
		if (BPF_RVAL(f->code) != BPF_K && BPF_RVAL(f->code) != BPF_A)
			return STEP_INVALID;
		*action = BPF_RVAL(f->code) == BPF_K ? f->k : m->a;
		return STEP_RETURN;
	case BPF_MISC:
		if (BPF_MISCOP(f->code) == BPF_TAX)
			m->x = m->a;
		else if (BPF_MISCOP(f->code) == BPF_TXA)
			m->a = m->x;
		else
			return STEP_INVALID;
		return STEP_NEXT;
	}
	return STEP_INVALID;
}

enum seccomp_run seccomp_filter_run(const struct sock_filter *prog, size_t len,
				    const struct seccomp_call *call, uint64_t ip,
				    uint32_t *action)
{
	struct machine m;

	if (len == 0 || len > BPF_MAXINSNS)
		return SECCOMP_RUN_INVALID;
	load_call(&m, call, ip);
	for (size_t pc = 0; pc < len;) {
		size_t skip = 0;

		switch (step(&m, &prog[pc++], &skip, action)) {
		case STEP_NEXT:
			if (skip >= len - pc)   /* jumps go forward, never out */
				return SECCOMP_RUN_INVALID;
			pc += skip;
			break;
		case STEP_RETURN:
			return SECCOMP_RUN_DONE;
		case STEP_UNKNOWN:
			return SECCOMP_RUN_UNKNOWN;
		case STEP_INVALID:
			return SECCOMP_RUN_INVALID;
		}
	}
	return SECCOMP_RUN_INVALID;   /* ran off its end */
}

static bool action_allows(uint32_t action)
{
	uint32_t what = action & SECCOMP_RET_ACTION_FULL;
	return what == SECCOMP_RET_ALLOW || what == SECCOMP_RET_LOG;
}

static const char *action_name(uint32_t action)
{
	switch (action & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS: return "kill the process";
	case SECCOMP_RET_KILL_THREAD:  return "kill the thread";
	case SECCOMP_RET_TRAP:         return "send it SIGSYS";
	case SECCOMP_RET_ERRNO:        return "fail it with an error";
	case SECCOMP_RET_USER_NOTIF:   return "hand it to a supervisor";
	case SECCOMP_RET_TRACE:        return "hand it to a tracer";
	}
	return "answer it with an unknown action";
}

/* Filter number index of tid (0: the newest), in *prog.  Returns its
 * length, 0 past the last one, -1 (errno set) when it cannot be read. */
static long read_filter(pid_t tid, long index, struct sock_filter **prog)
{
	long len = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)index, NULL);

	*prog = NULL;
	if (len < 0)
		return errno == ENOENT && index > 0 ? 0 : -1;
	if (len == 0 || len > BPF_MAXINSNS) {
		errno = EINVAL;
		return -1;
	}
	if (!(*prog = calloc((size_t)len, sizeof **prog)))
		return -1;
	long got = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)index, *prog);
	if (got != len) {
		int err = got < 0 ? errno : EIO;   /* replaced meanwhile: not ours to guess */
		free(*prog);
		*prog = NULL;
		errno = err;
		return -1;
	}
	return len;
}

/* Run one filter on every call: true when it allows them all. */
static bool filter_allows(const struct sock_filter *prog, size_t len, long index,
			  const struct seccomp_call *calls, size_t n, uint64_t ip,
			  char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t action = 0;
		switch (seccomp_filter_run(prog, len, &calls[i], ip, &action)) {
		case SECCOMP_RUN_DONE:
			if (action_allows(action))
				continue;
			snprintf(why, whylen, "its seccomp filter would %s for the injected %s",
				 action_name(action), calls[i].name);
			return false;
		case SECCOMP_RUN_UNKNOWN:
			snprintf(why, whylen, "its seccomp filter's answer to the injected %s "
				 "depends on an argument not known in advance", calls[i].name);
			return false;
		case SECCOMP_RUN_INVALID:
			snprintf(why, whylen, "its seccomp filter #%ld could not be run here",
				 index);
			return false;
		}
	}
	return true;
}

bool seccomp_permits(pid_t tid, const struct seccomp_call *calls, size_t n, uint64_t ip,
		     char *why, size_t whylen)
{
	long mode = procfs_status_value(tid, "Seccomp", -1);

	if (mode == 0)
		return true;
	if (mode != SECCOMP_MODE_FILTER) {
		snprintf(why, whylen, mode == SECCOMP_MODE_STRICT
			 ? "it runs under strict seccomp, which kills it for any other call "
			   "than read, write, exit and sigreturn"
			 : "its seccomp mode cannot be read");
		return false;
	}
	for (long index = 0;; index++) {
		struct sock_filter *prog;
		long len = read_filter(tid, index, &prog);
		bool ok;

		if (len == 0)
			return true;
		if (len < 0) {
			snprintf(why, whylen, "it runs under seccomp, whose filters cannot be read "
				 "(%s; reading them takes CAP_SYS_ADMIN)", strerror(errno));
			return false;
		}
		ok = filter_allows(prog, (size_t)len, index, calls, n, ip, why, whylen);
		free(prog);
		if (!ok)
			return false;
	}
}
