/*
 * test_qid.c - tests for lib/mail/qid.c (malformed ids first).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "qid.h"
#include "t.h"
#include "util.h"

/* test_invalid - ids that must be refused */
static void
test_invalid(void)
{
	static const char *const bad[] = {
		"",
		"0",
		"1GA4GC208J0J6HB",		/* 15 */
		"1GA4GC208J0J6HB77",		/* 17 */
		"1ga4gc208j0j6hb7",		/* lowercase */
		"1GA4GC208J0J6HBI",		/* excluded letters */
		"1GA4GC208J0J6HBL",
		"1GA4GC208J0J6HBO",
		"1GA4GC208J0J6HBU",
		"1GA4GC208J0J6H 7",
		"1GA4GC208J0J6H/7",
		"../../../etc/pa",
		"1GA4GC208J0J6H\xc3\x87",
		"1GA4GC208J0J6HB\n",
	};
	char	 dir[16];
	size_t	 i;

	T_EQ_INT(qid_valid(NULL), 0, "NULL");
	for (i = 0; i < NELEM(bad); i++) {
		T_EQ_INT(qid_valid(bad[i]), 0, "invalid id refused");
		T_EQ_INT(qid_time_us(bad[i]), 0, "no time from an invalid id");
		errno = 0;
		T_EQ_INT(qid_hash_dir(bad[i], 2, dir, sizeof(dir)), -1,
		    "no hash dir for an invalid id");
		T_EQ_INT(errno, EINVAL, "EINVAL");
	}
}

/* test_make - the encoding: 11 time characters, 5 random characters */
static void
test_make(void)
{
	static const struct {
		uint64_t	 us;
		uint32_t	 rnd;
		const char	*id;
	} tab[] = {
		{ 0, 0, "0000000000000000" },
		{ 1, 1, "0000000000100001" },
		{ 12345, 31, "00000000C1S0000Z" },
		{ UINT64_C(1700000000123456), 0x1234567, "1GA4GC208J0J6HB7" },
		{ (UINT64_C(1) << 55) - 1, (1U << 25) - 1, "ZZZZZZZZZZZZZZZZ" },
		/* bits beyond 55 / 25 are ignored */
		{ UINT64_C(1) << 55, 1U << 25, "0000000000000000" },
	};
	char	 id[QID_BUFSZ];
	size_t	 i;

	for (i = 0; i < NELEM(tab); i++) {
		qid_make(id, tab[i].us, tab[i].rnd);
		T_EQ_STR(id, tab[i].id, "qid_make");
		T_EQ_INT(qid_valid(id), 1, "valid");
		T_EQ_INT(qid_time_us(id), tab[i].us & ((UINT64_C(1) << 55) - 1),
		    "time round trip");
	}
}

/* test_new - fresh ids: valid, now, strictly increasing, unique */
static void
test_new(void)
{
	static char ids[1000][QID_BUFSZ];
	struct timespec ts;
	uint64_t now, t, prev = 0;
	size_t	 i;
	int	 valid = 1, order = 1, tord = 1;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	for (i = 0; i < NELEM(ids); i++) {
		qid_new(ids[i]);
		if (!qid_valid(ids[i]) || strlen(ids[i]) != QID_LEN)
			valid = 0;
		t = qid_time_us(ids[i]);
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0)
			order = 0;
		if (i > 0 && t <= prev)
			tord = 0;
		prev = t;
	}
	T_OK(valid, "1000 fresh ids are valid");
	T_OK(order, "1000 fresh ids sort strictly in creation order");
	T_OK(tord, "their times strictly increase (same-us ids bumped)");
	t = qid_time_us(ids[0]);
	T_OK(t + 1000000 > now && t < now + 1000000,
	    "first id carries the current time");
	/* all ids made within one run: at most ~1000 us of bumping */
	T_OK(qid_time_us(ids[NELEM(ids) - 1]) - t < 10 * 1000000,
	    "bumping does not run away");
}

/* test_hash_dir - last characters of the id, in order */
static void
test_hash_dir(void)
{
	const char *id = "1GA4GC208J0J6HB7";
	char	 dir[16];

	T_EQ_INT(qid_hash_dir(id, 0, dir, sizeof(dir)), 0, "depth 0");
	T_EQ_STR(dir, "", "depth 0 is empty");
	T_EQ_INT(qid_hash_dir(id, 1, dir, sizeof(dir)), 0, "depth 1");
	T_EQ_STR(dir, "7", "depth 1");
	T_EQ_INT(qid_hash_dir(id, 2, dir, sizeof(dir)), 0, "depth 2");
	T_EQ_STR(dir, "B/7", "depth 2");
	T_EQ_INT(qid_hash_dir(id, 4, dir, sizeof(dir)), 0, "depth 4");
	T_EQ_STR(dir, "6/H/B/7", "depth 4");
	T_EQ_INT(qid_hash_dir(id, 3, dir, 6), 0, "exact fit");
	T_EQ_STR(dir, "H/B/7", "depth 3");
	errno = 0;
	T_EQ_INT(qid_hash_dir(id, 3, dir, 5), -1, "one byte short");
	T_EQ_INT(errno, ENAMETOOLONG, "ENAMETOOLONG");
	T_EQ_INT(qid_hash_dir(id, 0, dir, 0), -1, "no room for empty");
	errno = 0;
	T_EQ_INT(qid_hash_dir(id, QID_MAX_DEPTH + 1, dir, sizeof(dir)), -1,
	    "depth too big");
	T_EQ_INT(errno, EINVAL, "EINVAL");
	T_EQ_INT(qid_hash_dir(id, -1, dir, sizeof(dir)), -1, "negative depth");
}

int
main(void)
{
	t_plan(96);
	if (sodium_init() == -1) {
		printf("not ok 1 - sodium_init\n");
		return 1;
	}
	test_invalid();
	test_make();
	test_new();
	test_hash_dir();
	return t_done();
}
