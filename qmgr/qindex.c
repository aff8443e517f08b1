/*
 * qindex.c - the queue index record codec (see qindex.h).
 */
#include <string.h>

#include "util.h"
#include "qindex.h"

/* qindex_encode - a record into QINDEX_LEN bytes */
void
qindex_encode(const struct qindex_rec *r, unsigned char *v)
{
	v[0] = r->state;
	util_put_be(v + 1, r->attempts, 4);
	util_put_be(v + 5, (uint64_t)r->next_try, 8);
	util_put_be(v + 13, (uint64_t)r->arrival, 8);
}

/* qindex_decode - see qindex.h */
int
qindex_decode(const void *p, size_t len, struct qindex_rec *r)
{
	const unsigned char *v = p;

	if (len != QINDEX_LEN || v[0] < QINDEX_ACTIVE || v[0] > QINDEX_HOLD)
		return -1;
	r->state = v[0];
	r->attempts = (uint32_t)util_get_be(v + 1, 4);
	r->next_try = (int64_t)util_get_be(v + 5, 8);
	r->arrival = (int64_t)util_get_be(v + 13, 8);
	return 0;
}

/* qindex_state_name - see qindex.h */
const char *
qindex_state_name(int state)
{
	switch (state) {
	case QINDEX_DEFERRED:
		return "deferred";
	case QINDEX_HOLD:
		return "hold";
	default:
		return "active";
	}
}
