/*
 * libgomck_sde: the LWK's counters as PAPI software-defined events
 * (sde:::lwk::NAME). The kernel maps a read-only page of per-process
 * totals and names it in the auxv (LWK_SDE_AUX); each event is a
 * PAPI_SDE_RO|PAPI_SDE_DELTA counter read by a callback that loads its
 * word, so that PAPI_read is a load, not a system call. The kernel
 * publishes to the page only once the process reads it (publishing costs
 * every system call): the first read says so with madvise(MADV_WILLNEED)
 * on the page, and the page counts from then on. Off the LWK (no such
 * auxv entry) the library registers nothing and PAPI answers as without
 * it.
 */
#include <stddef.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sde_lib.h>

#include "lwk_events.h"

static volatile long long *lwk_page(void)
{
	volatile long long *page = (volatile long long *)getauxval(LWK_SDE_AUX);

	if (page == NULL || (unsigned long long)page[0] != LWK_SDE_MAGIC)
		return NULL;
	return page;
}

static int lwk_reading;

/* lwk_read is every event's callback: the first call of the process asks
 * the kernel to publish to the page. */
static long long lwk_read(void *word)
{
	if (!__atomic_load_n(&lwk_reading, __ATOMIC_ACQUIRE)) {
		madvise((void *)getauxval(LWK_SDE_AUX), 4096, MADV_WILLNEED);
		__atomic_store_n(&lwk_reading, 1, __ATOMIC_RELEASE);
	}
	return *(volatile long long *)word;
}

static papi_handle_t lwk_register(papi_handle_t (*init)(const char *),
			 int (*reg)(papi_handle_t, const char *, int, int, papi_sde_fptr_t, void *),
			 int (*describe)(papi_handle_t, const char *, const char *))
{
	volatile long long *page = lwk_page();
	papi_handle_t h;
	size_t i;

	if (page == NULL)
		return NULL;
	h = init("lwk");
	for (i = 0; i < sizeof lwk_sde_events / sizeof lwk_sde_events[0]; i++) {
		const struct lwk_sde_event *e = &lwk_sde_events[i];

		reg(h, e->name, PAPI_SDE_RO | PAPI_SDE_DELTA, PAPI_SDE_long_long, lwk_read,
		    (void *)&page[e->word]);
		describe(h, e->name, e->desc);
	}
	return h;
}

/* At load: the events exist before the program's PAPI_library_init. */
__attribute__((constructor)) static void lwk_sde_init(void)
{
	lwk_register(papi_sde_init, papi_sde_register_counter_cb, papi_sde_describe_counter);
}

/* papi_native_avail lists a library's events through this hook. */
papi_handle_t papi_sde_hook_list_events(papi_sde_fptr_struct_t *f)
{
	return lwk_register(f->init, f->register_counter_cb, f->describe_counter);
}
