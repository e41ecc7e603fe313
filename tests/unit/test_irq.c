/*
 * The local interrupt allocator: bounds, lowest free number first, runs
 * for multi-message MSI (across bitmap words too), all or nothing on
 * shortage, and release that ignores numbers it did not hand out.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pvpci/pciif.h"

static const struct pvpci_bdf host = { 0, 3, 0, 0 };

static struct pvpci_irq_local *new_alloc(uint32_t base, unsigned count)
{
	struct pvpci_irq_local *a = NULL;

	assert_int_equal(pvpci_irq_local_new(base, count, &a), 0);
	assert_non_null(a);
	assert_int_equal(pvpci_irq_local_in_use(a), 0);
	return a;
}

/* contiguous: as for MSI; else as for MSI-X. */
static int get(struct pvpci_irq_local *a, unsigned n, bool contiguous, uint32_t *ret)
{
	struct pvpci_irq_req req = { .host = &host, .msix = !contiguous, .n = n };

	return pvpci_irq_local_ops.alloc(a, &req, ret);
}

static void put(struct pvpci_irq_local *a, const uint32_t *irqs, unsigned n)
{
	struct pvpci_irq_req req = { .host = &host, .n = n };

	pvpci_irq_local_ops.release(a, &req, irqs);
}

static void test_new_bounds(void **state)
{
	struct pvpci_irq_local *a = (void *)0x1;

	(void)state;
	assert_int_equal(pvpci_irq_local_new(100, 0, &a), -EINVAL);
	assert_int_equal(pvpci_irq_local_new(0xffffffffu, 2, &a), -EINVAL);
	assert_ptr_equal(a, (void *)0x1);	/* untouched on failure */
	a = new_alloc(0xffffffffu, 1);		/* the last number exists */
	pvpci_irq_local_free(a);
	pvpci_irq_local_free(NULL);
}

static void test_lowest_first(void **state)
{
	struct pvpci_irq_local *a = new_alloc(100, 8);
	uint32_t v[8], one;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(get(a, 1, false, &one), 0);
		assert_int_equal(one, 100 + i);
	}
	assert_int_equal(pvpci_irq_local_in_use(a), 3);
	one = 101;
	put(a, &one, 1);
	assert_int_equal(pvpci_irq_local_in_use(a), 2);
	/* The hole is filled first, then the lowest above. */
	assert_int_equal(get(a, 2, false, v), 0);
	assert_int_equal(v[0], 101);
	assert_int_equal(v[1], 103);
	assert_int_equal(get(a, 0, false, v), -EINVAL);
	assert_int_equal(get(a, 0, true, v), -EINVAL);
	assert_int_equal(pvpci_irq_local_in_use(a), 4);
	pvpci_irq_local_free(a);
}

static void test_contiguous(void **state)
{
	struct pvpci_irq_local *a = new_alloc(100, 8);
	uint32_t v[8], three[3] = { 100, 101, 102 }, hole = 101;

	(void)state;
	assert_int_equal(get(a, 3, true, v), 0);
	assert_memory_equal(v, three, sizeof(three));
	put(a, &hole, 1);
	/* 101 alone is no run of 2: the run starts above. */
	assert_int_equal(get(a, 2, true, v), 0);
	assert_int_equal(v[0], 103);
	assert_int_equal(v[1], 104);
	/* Free now: 101, 105, 106, 107.  Four free, but no run of 4. */
	assert_int_equal(get(a, 4, true, v), -ENOSPC);
	assert_int_equal(pvpci_irq_local_in_use(a), 4);
	assert_int_equal(get(a, 3, true, v), 0);
	assert_int_equal(v[0], 105);
	assert_int_equal(v[2], 107);
	assert_int_equal(get(a, 1, true, v), 0);
	assert_int_equal(v[0], 101);
	assert_int_equal(pvpci_irq_local_in_use(a), 8);
	pvpci_irq_local_free(a);
}

static void test_words(void **state)
{
	struct pvpci_irq_local *a = new_alloc(0, 130);
	uint32_t v[130];

	(void)state;
	assert_int_equal(get(a, 63, false, v), 0);
	assert_int_equal(v[62], 62);
	assert_int_equal(get(a, 3, true, v), 0);	/* a run across the first word's end */
	assert_int_equal(v[0], 63);
	assert_int_equal(v[1], 64);
	assert_int_equal(v[2], 65);
	assert_int_equal(get(a, 64, false, v), 0);
	assert_int_equal(v[63], 129);
	assert_int_equal(pvpci_irq_local_in_use(a), 130);
	assert_int_equal(get(a, 1, false, v), -ENOSPC);
	assert_int_equal(get(a, 1, true, v), -ENOSPC);
	for (uint32_t i = 0; i < 130; i++)
		v[i] = i;
	put(a, v, 130);
	assert_int_equal(pvpci_irq_local_in_use(a), 0);
	assert_int_equal(get(a, 130, true, v), 0);
	assert_int_equal(v[129], 129);
	pvpci_irq_local_free(a);
}

static void test_shortage_all_or_nothing(void **state)
{
	struct pvpci_irq_local *a = new_alloc(100, 4);
	uint32_t v[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };

	(void)state;
	assert_int_equal(get(a, 5, false, v), -ENOSPC);
	assert_int_equal(get(a, 5, true, v), -ENOSPC);
	assert_int_equal(pvpci_irq_local_in_use(a), 0);
	assert_int_equal(get(a, 4, false, v), 0);
	assert_int_equal(v[3], 103);
	pvpci_irq_local_free(a);
}

static void test_release_foreign(void **state)
{
	struct pvpci_irq_local *a = new_alloc(100, 4);
	uint32_t v[2], bad[4] = { 99, 104, 0xffffffffu, 102 };

	(void)state;
	assert_int_equal(get(a, 2, false, v), 0);
	put(a, bad, 4);				/* none of them is out */
	assert_int_equal(pvpci_irq_local_in_use(a), 2);
	put(a, v, 2);
	put(a, v, 2);				/* twice: the second does nothing */
	assert_int_equal(pvpci_irq_local_in_use(a), 0);
	pvpci_irq_local_free(a);
}

/* Numbers an earlier run handed out, taken over: out from then on (not
 * given again), given back as any; one out already, twice in a request
 * or not the allocator's refused with nothing taken. */
static void test_adopt(void **state)
{
	struct pvpci_irq_local *a = new_alloc(100, 4);
	struct pvpci_irq_req req = { .host = &host, .n = 2 };
	uint32_t theirs[2] = { 101, 103 }, v[2];

	(void)state;
	assert_int_equal(pvpci_irq_local_ops.adopt(a, &req, theirs), 0);
	assert_int_equal(pvpci_irq_local_in_use(a), 2);
	assert_int_equal(pvpci_irq_local_ops.adopt(a, &req, (uint32_t[]){ 100, 101 }), -EEXIST);
	assert_int_equal(pvpci_irq_local_ops.adopt(a, &req, (uint32_t[]){ 100, 100 }), -EEXIST);
	assert_int_equal(pvpci_irq_local_ops.adopt(a, &req, (uint32_t[]){ 100, 104 }), -ERANGE);
	assert_int_equal(pvpci_irq_local_ops.adopt(a, &req, (uint32_t[]){ 99, 100 }), -ERANGE);
	assert_int_equal(pvpci_irq_local_in_use(a), 2);
	assert_int_equal(get(a, 2, false, v), 0);
	assert_int_equal(v[0], 100);
	assert_int_equal(v[1], 102);
	put(a, theirs, 2);
	assert_int_equal(pvpci_irq_local_in_use(a), 2);
	assert_int_equal(get(a, 2, true, v), -ENOSPC);	/* 101 and 103: no run of two */
	put(a, v, 0);
	pvpci_irq_local_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_bounds),
		cmocka_unit_test(test_lowest_first),
		cmocka_unit_test(test_contiguous),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_shortage_all_or_nothing),
		cmocka_unit_test(test_release_foreign),
		cmocka_unit_test(test_adopt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
