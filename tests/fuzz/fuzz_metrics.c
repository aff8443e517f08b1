/*
 * fuzz_metrics.c - libFuzzer target for lib/server/metrics: an IPC_METRICS
 * payload from a hostile process, then the exposition of what was taken,
 * and the two small parsers on the same bytes as text.
 *
 * Input:
 *	byte 0		the sender's role: low 2 bits smtpd, qmgr, master or
 *			auth (which may report nothing)
 *	the rest	the payload, as metrics_decode sees it; as a C string
 *			(up to the first NUL) for metrics_smtp_reason and
 *			metrics_listen_parse
 *
 * Properties checked (abort when broken):
 *  - a refused frame takes nothing; a taken frame leaves only series the
 *    sender may report, with label values of the allowed characters, as
 *    many as it held at most;
 *  - round trip: what was taken, encoded and decoded again, gives the
 *    same sets;
 *  - both expositions render, every line is a comment or a youju_ sample
 *    with no control character, and OpenMetrics ends with "# EOF";
 *  - metrics_smtp_reason names a reason; metrics_listen_parse accepts
 *    only a loopback address and a port 1..65535.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "ipc.h"
#include "metrics.h"
#include "fuzz.h"

static const unsigned roles[] = { IPC_R_SMTPD, IPC_R_QMGR, IPC_R_MASTER,
    IPC_R_AUTH };

/* decode - run metrics_decode over bytes */
static int
decode(const uint8_t *p, size_t n, unsigned role, struct metrics *total,
    struct metrics *level)
{
	struct ipc_msg m;
	struct ipc_in in;
	int	 r;

	memset(&m, 0, sizeof(m));
	m.len = (uint32_t)n;
	m.payload = fz_memdup(p, n);	/* exact size: ASan sees overreads */
	m.fd = -1;
	ipc_in_init(&in, &m);
	r = metrics_decode(&in, role, total, level);
	free(m.payload);
	return r;
}

/* check_set - every series is the sender's and well labelled */
static void
check_set(const struct metrics *m, unsigned role)
{
	static const char ok[] = "._:/@+[]-";
	const struct metrics_def *d;
	size_t	 i, k;
	int	 j;

	for (i = 0; i < m->n; i++) {
		FZ_CHECK(m->s[i].id < METRIC_MAX);
		d = &metrics_defs[m->s[i].id];
		FZ_CHECK(d->senders & role);
		for (j = 0; j < METRICS_NLABEL; j++) {
			FZ_CHECK((d->label[j] == NULL) ==
			    (m->s[i].label[j][0] == '\0'));
			for (k = 0; m->s[i].label[j][k] != '\0'; k++)
				FZ_CHECK(isalnum((unsigned char)
				    m->s[i].label[j][k]) ||
				    strchr(ok, m->s[i].label[j][k]) != NULL);
		}
	}
}

/* same - two sets hold the same series and values */
static int
same(const struct metrics *a, const struct metrics *b)
{
	size_t	 i, k;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		for (k = 0; k < b->n; k++)
			if (a->s[i].id == b->s[k].id &&
			    strcmp(a->s[i].label[0], b->s[k].label[0]) == 0 &&
			    strcmp(a->s[i].label[1], b->s[k].label[1]) == 0)
				break;
		if (k == b->n || a->s[i].v != b->s[k].v)
			return 0;
	}
	return 1;
}

/* round_trip - encode what was taken, decode it again */
static void
round_trip(const struct metrics *total, const struct metrics *level,
    unsigned role)
{
	struct metrics both, t2, l2;
	struct ipc_out o;
	size_t	 i;

	metrics_init(&both, METRICS_PRODUCER_MAX);
	for (i = 0; i < total->n; i++)
		FZ_CHECK(metrics_add(&both, total->s[i].id,
		    total->s[i].label[0], total->s[i].label[1],
		    total->s[i].v) == 0);
	for (i = 0; i < level->n; i++)
		FZ_CHECK(metrics_set(&both, level->s[i].id,
		    level->s[i].label[0], level->s[i].label[1],
		    level->s[i].v) == 0);
	ipc_out_init(&o);
	FZ_CHECK(metrics_encode(&both, &o) == both.n);	/* all new: dirty */
	FZ_CHECK(o.err == 0);
	metrics_init(&t2, METRICS_TOTAL_MAX);
	metrics_init(&l2, METRICS_PRODUCER_MAX);
	FZ_CHECK(decode(o.b.data, o.b.len, role, &t2, &l2) == 0);
	FZ_CHECK(same(total, &t2) && same(level, &l2));
	ipc_out_free(&o);
	metrics_free(&both);
	metrics_free(&t2);
	metrics_free(&l2);
}

/* render - both expositions; their lines */
static void
render(const struct metrics *total, const struct metrics *level)
{
	const struct metrics *sets[2] = { total, level };
	struct buf b;
	const char *t, *nl;
	size_t	 i;
	int	 om;

	for (om = 0; om < 2; om++) {
		buf_init(&b, 4 * 1024 * 1024);
		FZ_CHECK(metrics_render(&b, sets, 2, om) == 0);
		t = buf_cstr(&b);
		for (i = 0; i < b.len; i++)
			FZ_CHECK(t[i] == '\n' || (t[i] >= ' ' && t[i] < 0x7f));
		for (; *t != '\0'; t = nl + 1) {
			FZ_CHECK((nl = strchr(t, '\n')) != NULL);
			FZ_CHECK(strncmp(t, "# ", 2) == 0 ||
			    strncmp(t, "youju_", 6) == 0);
		}
		if (om)
			FZ_CHECK(b.len >= 6 &&
			    strcmp(buf_cstr(&b) + b.len - 6, "# EOF\n") == 0);
		buf_free(&b);
	}
}

/* text - the two parsers of text */
static void
text(const uint8_t *p, size_t n)
{
	char	*s = fz_cstr(p, n), host[METRICS_HOST_MAX], err[256];
	struct in_addr a4;
	struct in6_addr a6;
	int	 port = 0;

	FZ_CHECK(metrics_smtp_reason(s) != NULL);
	if (metrics_listen_parse(s, host, sizeof(host), &port, err,
	    sizeof(err)) == 0) {
		FZ_CHECK(port >= 1 && port <= 65535);
		if (inet_pton(AF_INET, host, &a4) == 1)
			FZ_CHECK((ntohl(a4.s_addr) >> 24) == 127);
		else
			FZ_CHECK(inet_pton(AF_INET6, host, &a6) == 1 &&
			    IN6_IS_ADDR_LOOPBACK(&a6));
	} else
		FZ_CHECK(err[0] != '\0');
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics total, level;
	unsigned role;

	if (size < 1)
		return 0;
	role = roles[data[0] & 3];
	metrics_init(&total, METRICS_TOTAL_MAX);
	metrics_init(&level, METRICS_PRODUCER_MAX);
	if (decode(data + 1, size - 1, role, &total, &level) == -1) {
		fz_trace("refused");
		FZ_CHECK(total.n == 0 && level.n == 0);
	} else {
		fz_trace("taken: %zu delta, %zu level", total.n, level.n);
		FZ_CHECK(total.n + level.n <= METRICS_PRODUCER_MAX);
		check_set(&total, role);
		check_set(&level, role);
		round_trip(&total, &level, role);
	}
	render(&total, &level);
	text(data + 1, size - 1);
	metrics_free(&total);
	metrics_free(&level);
	return 0;
}
