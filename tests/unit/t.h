/*
 * t.h - minimal table-friendly unit test helpers.
 *
 * A test program calls t_plan(N) first: N is the number of checks it
 * runs, written as a number in main (a table that grows must change it,
 * so a block skipped by an early return or a lost loop is a failure).
 * Each check prints one line ("ok N - what" / "not ok N - what"); t_done
 * compares the count with the plan, prints the summary line
 * "# N checks, N failed" that tests/run reads, and returns the exit
 * status: 1 when any check failed or the count differs from the plan.
 * Checks that were planned but did not run count as failed; so do
 * unplanned ones.  Automake's plain test driver reads the exit status.
 */
#ifndef YOUJU_T_H
#define YOUJU_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_n, t_fail, t_planned = -1;

#define T_OK(cond, ...) do {						\
	t_n++;								\
	if (cond) {							\
		printf("ok %d - ", t_n);				\
	} else {							\
		t_fail++;						\
		printf("not ok %d - %s:%d: ", t_n, __FILE__, __LINE__);	\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

#define T_EQ_INT(a, b, what) do {					\
	long long _a = (long long)(a), _b = (long long)(b);		\
	T_OK(_a == _b, "%s (got %lld, want %lld)", what, _a, _b);	\
} while (0)

#define T_EQ_STR(a, b, what) do {					\
	const char *_a = (a), *_b = (b);				\
	T_OK(_a != NULL && _b != NULL && strcmp(_a, _b) == 0,		\
	    "%s (got \"%s\", want \"%s\")", what, _a ? _a : "(null)",	\
	    _b ? _b : "(null)");					\
} while (0)

/* t_plan - declare how many checks the program runs (TAP's "1..N") */
static inline void
t_plan(int n)
{
	t_planned = n;
	printf("1..%d\n", n);
}

/* t_done - compare with the plan, print the summary, exit status */
static inline int
t_done(void)
{
	int	 total = t_n, failed = t_fail, diff;

	if (t_planned < 0) {
		printf("not ok - no plan: call t_plan(N) before the checks\n");
		total++;
		failed++;
	} else if (t_n != t_planned) {
		diff = t_n > t_planned ? t_n - t_planned : t_planned - t_n;
		printf("not ok - planned %d checks, ran %d: the %d %s count "
		    "as failed\n", t_planned, t_n, diff,
		    t_n < t_planned ? "missing" : "unplanned");
		total = t_n > t_planned ? t_n : t_planned;
		failed += diff;
	}
	printf("# %d checks, %d failed\n", total, failed);
	return failed == 0 ? 0 : 1;
}

#endif
