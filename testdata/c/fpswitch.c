// cflags: -pthread
/* Exercises the FPU/vector state of threads sharing a CPU: two threads fill every vector register (zmm0-31 and k0-7 with AVX-512, else ymm0-15), MXCSR and the x87 control word with their own patterns, then switch to each other many times through sched_yield and futex wake/wait and check nothing leaked across; a fork child must see its parent's registers as they were at the fork. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 2000

/* The register image: vector registers, opmasks, MXCSR, x87 control word. */
struct regs {
	uint8_t v[32][64] __attribute__((aligned(64)));
	uint64_t k[8];
	uint32_t mxcsr;
	uint16_t fcw;
};

static int avx512;

static void fill(struct regs *r, int seed)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < 32; i++)
		for (int j = 0; j < 64; j++)
			r->v[i][j] = (uint8_t)(seed * 131 + i * 17 + j);
	for (int i = 0; i < 8; i++)
		r->k[i] = 0x0101010101010101ull * (uint64_t)(seed + i);
	/* Rounding mode and exception masks differ per seed; no exception flags. */
	r->mxcsr = 0x1f80 | ((uint32_t)(seed & 3) << 13);
	r->fcw = (uint16_t)(0x037f | ((seed & 3) << 10));
}

#define ZMM_LOAD(n) "vmovdqu64 " #n "*64(%[in]), %%zmm" #n "\n\t"
#define ZMM_STORE(n) "vmovdqu64 %%zmm" #n ", " #n "*64(%[out])\n\t"
#define YMM_LOAD(n) "vmovdqu " #n "*64(%[in]), %%ymm" #n "\n\t"
#define YMM_STORE(n) "vmovdqu %%ymm" #n ", " #n "*64(%[out])\n\t"
#define K_LOAD(n) "kmovq " #n "*8+2048(%[in]), %%k" #n "\n\t"
#define K_STORE(n) "kmovq %%k" #n ", " #n "*8+2048(%[out])\n\t"
#define EACH16(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) m(11) m(12) m(13) m(14) m(15)
#define EACH32(m) EACH16(m) m(16) m(17) m(18) m(19) m(20) m(21) m(22) m(23) \
	m(24) m(25) m(26) m(27) m(28) m(29) m(30) m(31)
#define EACH_K(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7)

/*
 * The system call between loads and stores of the vector registers,
 * MXCSR and the x87 control word; nothing else touches the vector state.
 */
#define SYSCALL_BETWEEN(loads, stores)                                                                               \
	__asm__ volatile(loads "ldmxcsr 2112(%[in])\n\t"                                                               \
			       "fldcw 2116(%[in])\n\t"                                                                 \
			       "syscall\n\t" stores "stmxcsr 2112(%[out])\n\t"                                        \
			       "fnstcw 2116(%[out])\n\t"                                                               \
			 : "+a"(ret), "+r"(r10)                                                                      \
			 : [in] "r"(in), [out] "r"(out), "D"(a0), "S"(a1), "d"(a2)                                   \
			 : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",  \
			   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15")

/*
 * Loads in, makes system call nr with argument registers a0-a3, stores the
 * registers into out and returns the call's result. Without AVX-512, out
 * keeps in's bytes where no register is stored.
 */
static __attribute__((noinline)) long with_regs(const struct regs *in, struct regs *out, long nr, long a0, long a1,
						long a2, long a3)
{
	static const uint32_t mxcsr_default = 0x1f80;
	memcpy(out, in, sizeof *out);
	register long r10 __asm__("r10") = a3;
	long ret = nr;
	if (avx512)
		SYSCALL_BETWEEN(EACH32(ZMM_LOAD) EACH_K(K_LOAD), EACH32(ZMM_STORE) EACH_K(K_STORE));
	else
		SYSCALL_BETWEEN(EACH16(YMM_LOAD), EACH16(YMM_STORE));
	/* The rest of this program is compiled without AVX: leave it clean. */
	__asm__ volatile("vzeroupper\n\tfninit\n\tldmxcsr %0" ::"m"(mxcsr_default) : "memory");
	return ret;
}

_Static_assert(__builtin_offsetof(struct regs, k) == 2048, "k offset");
_Static_assert(__builtin_offsetof(struct regs, mxcsr) == 2112, "mxcsr offset");
_Static_assert(__builtin_offsetof(struct regs, fcw) == 2116, "fcw offset");

static _Atomic uint32_t turn; /* 0: main's turn, 1: the partner's */

static int check(const char *what, int seed, const struct regs *want, const struct regs *got)
{
	if (memcmp(want, got, sizeof *want) == 0)
		return 0;
	printf("%s: thread %d's registers changed\n", what, seed);
	return 1;
}

/* ROUNDS yields and ROUNDS futex hand-overs with the registers of seed. */
static int exercise(int seed, uint32_t me)
{
	struct regs want, got;
	fill(&want, seed);
	int bad = 0;
	for (int i = 0; i < ROUNDS && !bad; i++) {
		with_regs(&want, &got, SYS_sched_yield, 0, 0, 0, 0);
		bad |= check("sched_yield", seed, &want, &got);
	}
	for (int i = 0; i < ROUNDS && !bad; i++) {
		while (atomic_load(&turn) != me) {
			with_regs(&want, &got, SYS_futex, (long)&turn, FUTEX_WAIT_PRIVATE, !me, 0);
			bad |= check("futex wait", seed, &want, &got);
		}
		atomic_store(&turn, !me);
		with_regs(&want, &got, SYS_futex, (long)&turn, FUTEX_WAKE_PRIVATE, 1, 0);
		bad |= check("futex wake", seed, &want, &got);
	}
	if (bad) { /* let the other thread finish its hand-overs */
		atomic_store(&turn, !me);
		syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	return bad;
}

static void *partner(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)exercise(2, 1);
}

static int fork_keeps_registers(void)
{
	struct regs want, got;
	fill(&want, 3);
	long pid = with_regs(&want, &got, SYS_fork, 0, 0, 0, 0);
	if (pid < 0) {
		printf("fork failed\n");
		return 1;
	}
	if (pid == 0)
		_exit(memcmp(&want, &got, sizeof want) != 0);
	int st, bad = check("fork parent", 3, &want, &got);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("fork child: registers differ from the parent's (status %#x)\n", st);
		bad = 1;
	}
	return bad;
}

int main(void)
{
	__builtin_cpu_init();
	avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
	if (!__builtin_cpu_supports("avx")) {
		printf("fpswitch: needs AVX\n");
		return 1;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, partner, NULL) != 0) {
		printf("pthread_create failed\n");
		return 1;
	}
	int bad = exercise(1, 0);
	void *pbad;
	pthread_join(t, &pbad);
	bad |= (int)(intptr_t)pbad;
	bad |= fork_keeps_registers();
	printf("%s\n", bad ? "FAILED" : "vector, MXCSR and x87 control state kept per thread and across fork");
	return bad;
}
