/*
 * qid.c - queue ids: 11 base-32 characters of microseconds, 5 random ones.
 *
 * Interface: qid.h.  qid_new() keeps the last time it used and moves one
 * microsecond past it when the clock has not advanced (or went back), so
 * ids from one process are strictly increasing.  Not thread-safe (youju
 * processes are single-threaded).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "qid.h"

static const char qid_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define QID_TIME_MASK	((UINT64_C(1) << (5 * QID_TIME_LEN)) - 1)
#define QID_RAND_MASK	((UINT32_C(1) << (5 * QID_RAND_LEN)) - 1)

static uint64_t qid_last_us;

/* qid_value - the 5-bit value of an id character, or -1 */
static int
qid_value(int c)
{
	const char *p;

	if (c == '\0' || (p = strchr(qid_alphabet, c)) == NULL)
		return -1;
	return (int)(p - qid_alphabet);
}

/* qid_make - see qid.h */
void
qid_make(char out[QID_BUFSZ], uint64_t us, uint32_t rnd)
{
	int	 i;

	us &= QID_TIME_MASK;
	rnd &= QID_RAND_MASK;
	for (i = QID_TIME_LEN - 1; i >= 0; i--) {
		out[i] = qid_alphabet[us & 31];
		us >>= 5;
	}
	for (i = QID_LEN - 1; i >= QID_TIME_LEN; i--) {
		out[i] = qid_alphabet[rnd & 31];
		rnd >>= 5;
	}
	out[QID_LEN] = '\0';
}

/* qid_new - see qid.h */
void
qid_new(char out[QID_BUFSZ])
{
	struct timespec ts;
	uint64_t now;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		now = 0;
	else
		now = (uint64_t)ts.tv_sec * 1000000 +
		    (uint64_t)ts.tv_nsec / 1000;
	if (now <= qid_last_us)
		now = qid_last_us + 1;
	qid_last_us = now;
	qid_make(out, now, randombytes_uniform(QID_RAND_MASK + 1));
}

/* qid_valid - see qid.h */
int
qid_valid(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; i < QID_LEN; i++)
		if (qid_value((unsigned char)s[i]) == -1)
			return 0;
	return s[QID_LEN] == '\0';
}

/* qid_time_us - see qid.h */
uint64_t
qid_time_us(const char *s)
{
	uint64_t us = 0;
	int	 i;

	if (!qid_valid(s))
		return 0;
	for (i = 0; i < QID_TIME_LEN; i++)
		us = (us << 5) | (uint64_t)qid_value((unsigned char)s[i]);
	return us;
}

/* qid_hash_dir - see qid.h */
int
qid_hash_dir(const char *s, int depth, char *buf, size_t size)
{
	size_t	 need, o = 0;
	int	 i;

	if (!qid_valid(s) || depth < 0 || depth > QID_MAX_DEPTH) {
		errno = EINVAL;
		return -1;
	}
	need = depth == 0 ? 1 : (size_t)depth * 2;
	if (size < need) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (i = QID_LEN - depth; i < QID_LEN; i++) {
		if (o > 0)
			buf[o++] = '/';
		buf[o++] = s[i];
	}
	buf[o] = '\0';
	return 0;
}
