/* test_seccomp.c — seccomp_filter_run(), the classic BPF machine that
 * decides whether a snapshot may inject its calls into a process under
 * seccomp.  The kernel is the reference: each filter below is installed in
 * a child process that then makes the call, and what the kernel did (let
 * it through, failed it with an errno, killed the child with SIGSYS) must
 * be what our run of the same filter on the same call answers.  Then the
 * cases the kernel cannot show: programs it would refuse to load, and
 * arguments we flag as unknown. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../gcore/seccomp.h"

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000u
#endif

#define LD_ABS(off)        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JMP(op, k, jt, jf) BPF_JUMP(BPF_JMP | (op) | BPF_K, (k), (jt), (jf))
#define JMPX(op, jt, jf)   BPF_JUMP(BPF_JMP | (op) | BPF_X, 0, (jt), (jf))
#define RET(k)             BPF_STMT(BPF_RET | BPF_K, (k))
#define ERRNO(e)           RET(SECCOMP_RET_ERRNO | (e))
#define ALLOW              RET(SECCOMP_RET_ALLOW)
#define ARG_LO(i)          (16 + 8 * (i))
#define ARG_HI(i)          (20 + 8 * (i))

/* Every program starts by letting any call but getpid through (the child
 * must still be able to exit), so its body only ever judges getpid, a
 * call whose arguments the kernel ignores. */
#define ONLY_GETPID LD_ABS(0), JMP(BPF_JEQ, SYS_getpid, 1, 0), ALLOW

struct program {
	const char *what;
	struct sock_filter code[24];
	unsigned short len;
};

#define PROGRAM(what, ...) { what, { ONLY_GETPID, __VA_ARGS__ }, \
	3 + sizeof((struct sock_filter[]){ __VA_ARGS__ }) / sizeof(struct sock_filter) }

static const struct program programs[] = {
	PROGRAM("jgt on an argument",
		LD_ABS(ARG_LO(0)), JMP(BPF_JGT, 100, 0, 1), ERRNO(1), ALLOW),
	PROGRAM("and, then jeq: a container runtime's flag test",
		LD_ABS(ARG_LO(0)), BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xff00),
		JMP(BPF_JEQ, 0x1200, 0, 1), ERRNO(2), ALLOW),
	PROGRAM("jset on one word, jge on the high word of another",
		LD_ABS(ARG_LO(1)), JMP(BPF_JSET, 0x10, 0, 1), ERRNO(3),
		LD_ABS(ARG_HI(1)), JMP(BPF_JGE, 5, 0, 1), ERRNO(4), ALLOW),
	PROGRAM("scratch memory, tax, add x, kill",
		LD_ABS(ARG_LO(0)), BPF_STMT(BPF_ST, 3), LD_ABS(ARG_LO(1)),
		BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_MEM, 3),
		BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0), JMP(BPF_JEQ, 300, 0, 1),
		RET(SECCOMP_RET_KILL_PROCESS), ALLOW),
	PROGRAM("division by x, which may be zero",
		LD_ABS(ARG_LO(1)), BPF_STMT(BPF_MISC | BPF_TAX, 0), LD_ABS(ARG_LO(0)),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0), JMP(BPF_JEQ, 3, 0, 1), ERRNO(5), ALLOW),
	PROGRAM("every other ALU operation, then ret a as an errno",
		LD_ABS(ARG_LO(0)), BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 4),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 2), BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 8),
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 3), BPF_STMT(BPF_ALU | BPF_XOR | BPF_K, 0xff),
		BPF_STMT(BPF_ALU | BPF_OR | BPF_K, 0x100), BPF_STMT(BPF_ALU | BPF_NEG, 0),
		BPF_STMT(BPF_LDX | BPF_IMM, 6), BPF_STMT(BPF_ALU | BPF_RSH | BPF_X, 0),
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x3f),
		BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
		BPF_STMT(BPF_RET | BPF_A, 0)),
	PROGRAM("len, ja, jeq x, txa, ldx mem",
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0), JMP(BPF_JEQ, 64, 1, 0), ERRNO(6),
		BPF_STMT(BPF_JMP | BPF_JA, 1), ERRNO(7),
		BPF_STMT(BPF_LDX | BPF_IMM, 42), LD_ABS(ARG_LO(0)), JMPX(BPF_JEQ, 0, 1), ERRNO(8),
		BPF_STMT(BPF_STX, 5), BPF_STMT(BPF_LDX | BPF_MEM, 5), BPF_STMT(BPF_MISC | BPF_TXA, 0),
		JMP(BPF_JEQ, 42, 1, 0), ERRNO(9), ALLOW),
};

static const uint64_t arg_values[][2] = {
	{ 0, 0 }, { 7, 3 }, { 21, 7 }, { 99, 0x10 }, { 101, 0x500000000ull }, { 0x1234, 0 },
	{ 150, 150 }, { 42, 0x500000010ull }, { 0xffffffffull, 1 }, { 0x123456789ull, 2 },
};

/* What the kernel did with the call under the filter: 0 let through,
 * 1..255 that errno, 256 "errno 0" (a return of 0), -SIGNAL killed. */
static int kernel_verdict(const struct program *p, const uint64_t *args)
{
	struct sock_fprog prog = { p->len, (struct sock_filter *)p->code };
	int status;
	pid_t child = fork();

	assert_true(child >= 0);
	if (child == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(255);
		long r = syscall(SYS_getpid, args[0], args[1], 0, 0, 0, 0);
		_exit(r < 0 ? errno & 0xff : r == 0 ? 254 : 0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	assert_int_not_equal(WEXITSTATUS(status), 255);   /* the filter loaded */
	return WEXITSTATUS(status) == 254 ? 256 : WEXITSTATUS(status);
}

/* The same, as our run of the filter predicts it. */
static int predicted_verdict(uint32_t action)
{
	switch (action & 0xffff0000u) {
	case SECCOMP_RET_ALLOW: return 0;
	case SECCOMP_RET_ERRNO: return (action & 0xffff) == 0 ? 256 : (int)(action & 0xff);
	case SECCOMP_RET_KILL_PROCESS:
	case SECCOMP_RET_KILL_THREAD:
	case SECCOMP_RET_TRAP: return -SIGSYS;
	}
	return 1000;   /* an action these programs never return */
}

/* Can this kernel run a seccomp filter at all (CONFIG_SECCOMP_FILTER)? */
static bool kernel_has_filters(void)
{
	struct sock_filter allow = ALLOW;
	struct sock_fprog prog = { 1, &allow };
	int status;
	pid_t child = fork();

	if (child == 0)
		_exit(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
		      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ? 0 : 1);
	return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0;
}

static void test_every_program_answers_as_the_kernel_does(void **state)
{
	(void)state;
	int mismatches = 0, allowed = 0, failed = 0, killed = 0;

	if (!kernel_has_filters()) {
		printf("# this kernel cannot install a seccomp filter: nothing to compare with\n");
		skip();
	}

	for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++)
		for (size_t j = 0; j < sizeof arg_values / sizeof arg_values[0]; j++) {
			const struct program *p = &programs[i];
			struct seccomp_call call = { "getpid", SYS_getpid,
						     { arg_values[j][0], arg_values[j][1] }, 0 };
			uint32_t action = 0;
			int want = kernel_verdict(p, arg_values[j]), got;

			assert_int_equal(seccomp_filter_run(p->code, p->len, &call, 0x401000, &action),
					 SECCOMP_RUN_DONE);
			got = predicted_verdict(action);
			allowed += want == 0;
			failed += want > 0;
			killed += want < 0;
			if (got != want) {
				printf("# %s, args 0x%llx 0x%llx: kernel %d, ours %d (action 0x%x)\n",
				       p->what, (unsigned long long)arg_values[j][0],
				       (unsigned long long)arg_values[j][1], want, got, action);
				mismatches++;
			}
		}
	assert_int_equal(mismatches, 0);
	/* The comparison covered every kind of answer. */
	assert_true(allowed > 0 && failed > 0 && killed > 0);
}

/* A container runtime's rule for clone: x86-64 only, and no namespace
 * flags.  The snapshot's clone (flags 0) passes; one that asks for a new
 * user namespace does not; another architecture is killed. */
static void test_a_runtime_clone_rule_allows_the_snapshot_clone(void **state)
{
	(void)state;
	static const struct sock_filter rule[] = {
		LD_ABS(4), JMP(BPF_JEQ, AUDIT_ARCH_X86_64, 1, 0), RET(SECCOMP_RET_KILL_PROCESS),
		LD_ABS(0), JMP(BPF_JEQ, SYS_clone, 0, 4),
		LD_ABS(ARG_LO(0)), BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x7e020000),
		JMP(BPF_JEQ, 0, 1, 0), ERRNO(EPERM), ALLOW,
	};
	struct seccomp_call clone = { "clone", SYS_clone, { 0 }, 0 };
	struct seccomp_call userns = { "clone", SYS_clone, { 0x10000000 }, 0 };
	uint32_t action;

	const size_t len = sizeof rule / sizeof rule[0];

	assert_int_equal(seccomp_filter_run(rule, len, &clone, 0x401000, &action), SECCOMP_RUN_DONE);
	assert_int_equal(action, SECCOMP_RET_ALLOW);
	assert_int_equal(seccomp_filter_run(rule, len, &userns, 0x401000, &action), SECCOMP_RUN_DONE);
	assert_int_equal(action, SECCOMP_RET_ERRNO | EPERM);
}

/* A filter that reads an argument flagged unknown cannot be trusted, but
 * one that decides before reading it can. */
static void test_an_unknown_argument_read_is_no_answer(void **state)
{
	(void)state;
	static const struct sock_filter by_pid[] = {
		LD_ABS(0), JMP(BPF_JEQ, SYS_kill, 0, 2),
		LD_ABS(ARG_LO(0)), JMP(BPF_JEQ, 1234, 0, 1), ALLOW, ERRNO(EPERM),
	};
	const size_t len = sizeof by_pid / sizeof by_pid[0];
	struct seccomp_call kill_copy = { "kill", SYS_kill, { 0, SIGKILL }, 1u << 0 };
	struct seccomp_call wait_copy = { "wait4", SYS_wait4, { 0 }, 1u << 0 };
	uint32_t action;

	assert_int_equal(seccomp_filter_run(by_pid, len, &kill_copy, 0, &action), SECCOMP_RUN_UNKNOWN);
	assert_int_equal(seccomp_filter_run(by_pid, len, &wait_copy, 0, &action), SECCOMP_RUN_DONE);
	assert_int_equal(action, SECCOMP_RET_ALLOW);
	kill_copy.unknown = 0;
	kill_copy.args[0] = 1234;
	assert_int_equal(seccomp_filter_run(by_pid, len, &kill_copy, 0, &action), SECCOMP_RUN_DONE);
	assert_int_equal(action, SECCOMP_RET_ALLOW);
}

/* The instruction pointer a filter sees is the one given, low word first. */
static void test_the_instruction_pointer_is_words_2_and_3(void **state)
{
	(void)state;
	static const struct sock_filter ip_hi[] = { LD_ABS(12), BPF_STMT(BPF_RET | BPF_A, 0) };
	static const struct sock_filter ip_lo[] = { LD_ABS(8), BPF_STMT(BPF_RET | BPF_A, 0) };
	struct seccomp_call call = { "clone", SYS_clone, { 0 }, 0 };
	uint32_t action;

	assert_int_equal(seccomp_filter_run(ip_hi, 2, &call, 0x7ffd12345678ull, &action),
			 SECCOMP_RUN_DONE);
	assert_int_equal(action, 0x7ffd);
	assert_int_equal(seccomp_filter_run(ip_lo, 2, &call, 0x7ffd12345678ull, &action),
			 SECCOMP_RUN_DONE);
	assert_int_equal(action, 0x12345678);
}

/* Programs the kernel would not load, or that cannot run to a return:
 * never taken for an answer. */
static void test_what_seccomp_would_not_run_is_no_answer(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		struct sock_filter code[3];
		unsigned short len;
	} bad[] = {
		{ "a jump past the end", { BPF_STMT(BPF_JMP | BPF_JA, 5), ALLOW }, 2 },
		{ "a conditional jump past the end", { JMP(BPF_JEQ, 0, 7, 7), ALLOW }, 2 },
		{ "no return", { LD_ABS(0) }, 1 },
		{ "a half-word load", { BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 0), ALLOW }, 2 },
		{ "a misaligned load", { LD_ABS(2), ALLOW }, 2 },
		{ "a load past seccomp_data", { LD_ABS(64), ALLOW }, 2 },
		{ "modulo", { BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), ALLOW }, 2 },
		{ "a scratch word past the 16", { BPF_STMT(BPF_ST, 16), ALLOW }, 2 },
		{ "a shift by 32", { BPF_STMT(BPF_LDX | BPF_IMM, 32),
				     BPF_STMT(BPF_ALU | BPF_LSH | BPF_X, 0), ALLOW }, 3 },
		{ "return x", { BPF_STMT(BPF_RET | BPF_X, 0) }, 1 },
		{ "an empty program", { ALLOW }, 0 },
	};
	struct seccomp_call call = { "clone", SYS_clone, { 0 }, 0 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint32_t action = 0xdead;
		enum seccomp_run r = seccomp_filter_run(bad[i].code, bad[i].len, &call, 0, &action);
		if (r != SECCOMP_RUN_INVALID)
			printf("# %s: run %d, action 0x%x\n", bad[i].what, r, action);
		assert_int_equal(r, SECCOMP_RUN_INVALID);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_program_answers_as_the_kernel_does),
		cmocka_unit_test(test_a_runtime_clone_rule_allows_the_snapshot_clone),
		cmocka_unit_test(test_an_unknown_argument_read_is_no_answer),
		cmocka_unit_test(test_the_instruction_pointer_is_words_2_and_3),
		cmocka_unit_test(test_what_seccomp_would_not_run_is_no_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
