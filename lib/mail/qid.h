/*
 * qid.h - queue ids.
 *
 * A queue id is 16 characters from [0-9A-Z] (Crockford-style base 32 without
 * I, L, O, U): 11 characters of microseconds since the epoch, big-endian
 * (55 bits: sortable by arrival time until the year 3112) followed by 5
 * random characters from libsodium (25 bits).  It is safe as a file name
 * and in log lines.  qid_new() never returns the same or a smaller time
 * twice in one process, so ids made by one process are unique and ordered
 * even when the clock stands still or steps back; ids of different
 * processes collide only with the same microsecond and the same 25 random
 * bits (the queue writer must still create files with O_EXCL).
 *
 * (The first draft of this header said 10 time characters and 6 random
 * ones: 50 bits of microseconds overflowed in 2005, so one character moved
 * from the random part to the time part; the length is unchanged.)
 *
 * The hashed directory of a message is made of the last characters (the
 * random ones, in the order they appear in the id) so the tree fills
 * evenly: depth 2 for "...Q7" -> "Q/7".
 */
#ifndef YOUJU_QID_H
#define YOUJU_QID_H

#include <stddef.h>
#include <stdint.h>

#define QID_LEN		16
#define QID_BUFSZ	(QID_LEN + 1)
#define QID_MAX_DEPTH	4
#define QID_TIME_LEN	11		/* leading time characters */
#define QID_RAND_LEN	(QID_LEN - QID_TIME_LEN)

/* qid_new - a fresh id; needs sodium_init() to have been called */
void	 qid_new(char out[QID_BUFSZ]);
/*
 * qid_make - deterministic id from time (us, low 55 bits) and random bits
 * (the low 25 bits are used) - for tests and tools
 */
void	 qid_make(char out[QID_BUFSZ], uint64_t, uint32_t);
/* qid_valid - 1 when s is a well-formed queue id */
int	 qid_valid(const char *);
/* qid_time_us - the arrival time encoded in a valid id (0 if invalid) */
uint64_t qid_time_us(const char *);
/*
 * qid_hash_dir - "A/7" for depth 2 (depth 0 -> ""); 0, or -1 with errno
 * EINVAL (bad id or depth) or ENAMETOOLONG (buffer too small)
 */
int	 qid_hash_dir(const char *, int, char *, size_t);

#endif
