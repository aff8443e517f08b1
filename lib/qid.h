/*
 * qid.h - queue ids.
 *
 * A queue id is 16 characters from [0-9A-Z] (Crockford-style base 32 without
 * I, L, O, U): 10 characters of microseconds since the epoch (sortable by
 * arrival time; lasts until the year 37000) followed by 6 random characters
 * from libsodium (30 bits).  It is safe as a file name and in log lines.
 * The hashed directory of a message is made of the last characters (the
 * random ones) so the tree fills evenly: depth 2 -> "Q/7".
 */
#ifndef YOUJU_QID_H
#define YOUJU_QID_H

#include <stddef.h>
#include <stdint.h>

#define QID_LEN		16
#define QID_BUFSZ	(QID_LEN + 1)
#define QID_MAX_DEPTH	4

/* qid_new - a fresh id; needs sodium_init() to have been called */
void	 qid_new(char out[QID_BUFSZ]);
/* qid_make - deterministic id from time (us) and 30 random bits (tests) */
void	 qid_make(char out[QID_BUFSZ], uint64_t, uint32_t);
/* qid_valid - 1 when s is a well-formed queue id */
int	 qid_valid(const char *);
/* qid_time_us - the arrival time encoded in a valid id */
uint64_t qid_time_us(const char *);
/* qid_hash_dir - "A/7" for depth 2 (depth 0 -> ""); -1 if it does not fit */
int	 qid_hash_dir(const char *, int, char *, size_t);

#endif
