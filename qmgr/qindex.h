/*
 * qindex.h - the record of one message in the queue index (index/queue.db,
 * Berkeley DB, key = queue id): scheduling state, a cache - the queue files
 * are the truth.  Written by qmgr only (also as "qmgr -x" for "mailctl
 * queue" while the mail system is stopped).
 *
 * Layout (QINDEX_LEN bytes, big endian):
 *	u8 state | u32 attempts | i64 next_try | i64 arrival
 */
#ifndef YOUJU_QINDEX_H
#define YOUJU_QINDEX_H

#include <stddef.h>
#include <stdint.h>

#define QINDEX_LEN		21
#define QINDEX_PATH		"index/queue.db"	/* below queue_directory */

#define QINDEX_ACTIVE		1	/* waiting for or in delivery */
#define QINDEX_DEFERRED		2	/* waiting for next_try */
#define QINDEX_HOLD		3	/* unused: held files live in hold/ */

struct qindex_rec {
	uint8_t		 state;
	uint32_t	 attempts;
	int64_t		 next_try;	/* wall clock seconds */
	int64_t		 arrival;
};

void	 qindex_encode(const struct qindex_rec *, unsigned char *);
/* qindex_decode - 0, or -1 for a wrong length or an unknown state */
int	 qindex_decode(const void *, size_t, struct qindex_rec *);
/* qindex_state_name - "active", "deferred", "hold" */
const char *qindex_state_name(int);

#endif
