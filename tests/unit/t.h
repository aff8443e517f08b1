/*
 * t.h - minimal table-friendly unit test helpers.
 *
 * Each test program prints one line per check ("ok N - what" / "not ok N -
 * what"), a summary line, and exits 1 when any check failed.  Automake's
 * plain test driver reads the exit status.
 */
#ifndef YOUJU_T_H
#define YOUJU_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_n, t_fail;

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

static inline int
t_done(void)
{
	printf("# %d checks, %d failed\n", t_n, t_fail);
	return t_fail == 0 ? 0 : 1;
}

#endif
