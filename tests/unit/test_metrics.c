/*
 * test_metrics.c - tests for lib/server/metrics.c: malformed IPC_METRICS frames
 * first (each refused whole, nothing taken), then the producer's
 * encode/sent/resend cycle through the decoder, the bounded sets, the
 * exposition in both formats, the reply reasons and metrics_listen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ipc.h"
#include "metrics.h"
#include "t.h"
#include "util.h"

/* one series as it goes on the wire */
struct wire {
	uint32_t	 id;
	const char	*l0, *l1;
	uint64_t	 v;
};

/* frame_put - a frame of n series (count given separately: it may lie) */
static void
frame_put(struct ipc_out *o, uint32_t count, const struct wire *w, size_t n)
{
	size_t	 i;

	ipc_out_init(o);
	ipc_put_u32(o, count);
	for (i = 0; i < n; i++) {
		ipc_put_u32(o, w[i].id);
		ipc_put_str(o, w[i].l0);
		ipc_put_str(o, w[i].l1);
		ipc_put_u64(o, w[i].v);
	}
}

/* decode - run the decoder on an encoder's bytes (plus extra bytes) */
static int
decode(const struct ipc_out *o, const char *extra, unsigned role,
    struct metrics *total, struct metrics *level)
{
	struct ipc_msg m;
	struct ipc_in in;
	size_t	 x = extra != NULL ? strlen(extra) : 0;
	int	 r;

	memset(&m, 0, sizeof(m));
	m.len = (uint32_t)(o->b.len + x);
	m.payload = xmalloc(m.len + 1);
	if (o->b.len > 0)
		memcpy(m.payload, o->b.data, o->b.len);
	if (x > 0)
		memcpy(m.payload + o->b.len, extra, x);
	m.fd = -1;
	ipc_in_init(&in, &m);
	r = metrics_decode(&in, role, total, level);
	free(m.payload);
	return r;
}

/* value - a series' value in a set, or -1 when it is not there */
static long long
value(const struct metrics *m, uint32_t id, const char *l0, const char *l1)
{
	size_t	 i;

	for (i = 0; i < m->n; i++)
		if (m->s[i].id == id && strcmp(m->s[i].label[0], l0) == 0 &&
		    strcmp(m->s[i].label[1], l1) == 0)
			return (long long)m->s[i].v;
	return -1;
}

static const char long65[] =
    "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeeeeffffffffffgggggg";

struct bad_case {
	const char	*what;
	uint32_t	 count;
	struct wire	 w[2];
	size_t		 n;
	unsigned	 role;
	const char	*extra;
};

static const struct bad_case bad[] = {
	{ "count without series", 1, { { 0, NULL, NULL, 0 } }, 0,
	    IPC_R_SMTPD, NULL },
	{ "count over the producer bound", METRICS_PRODUCER_MAX + 1,
	    { { 0, NULL, NULL, 0 } }, 0, IPC_R_SMTPD, NULL },
	{ "unknown metric id", 1, { { METRIC_MAX, "smtp", "", 1 } }, 1,
	    IPC_R_SMTPD, NULL },
	{ "metric of another sender", 1, { { METRIC_RESTARTS, "smtp",
	    "inet", 1 } }, 1, IPC_R_SMTPD, NULL },
	{ "qmgr metric from smtpd", 1, { { METRIC_QUEUE_MESSAGES, "active",
	    "", 1 } }, 1, IPC_R_SMTPD, NULL },
	{ "label on a metric without labels", 1, { { METRIC_QUEUE_OLDEST,
	    "x", "", 1 } }, 1, IPC_R_QMGR, NULL },
	{ "second label on a one-label metric", 1, { { METRIC_RECEIVED,
	    "smtp", "x", 1 } }, 1, IPC_R_SMTPD, NULL },
	{ "missing label", 1, { { METRIC_RECEIVED, "", "", 1 } }, 1,
	    IPC_R_SMTPD, NULL },
	{ "quote in a label", 1, { { METRIC_RECEIVED, "sm\"tp", "", 1 } }, 1,
	    IPC_R_SMTPD, NULL },
	{ "space in a label", 1, { { METRIC_RECEIVED, "sm tp", "", 1 } }, 1,
	    IPC_R_SMTPD, NULL },
	{ "newline in a label", 1, { { METRIC_RECEIVED, "smtp\n", "", 1 } },
	    1, IPC_R_SMTPD, NULL },
	{ "backslash in a label", 1, { { METRIC_RECEIVED, "a\\b", "", 1 } },
	    1, IPC_R_SMTPD, NULL },
	{ "label over 64 bytes", 1, { { METRIC_RECEIVED, long65, "", 1 } }, 1,
	    IPC_R_SMTPD, NULL },
	{ "trailing bytes", 1, { { METRIC_RECEIVED, "smtp", "", 1 } }, 1,
	    IPC_R_SMTPD, "x" },
	{ "truncated value", 1, { { METRIC_RECEIVED, "smtp", "", 1 } }, 1,
	    IPC_R_SMTPD, NULL },
	{ "good series then a bad one", 2, { { METRIC_RECEIVED, "smtp", "",
	    5 }, { METRIC_REPLIES, "2xx", "no such reason!", 1 } }, 2,
	    IPC_R_SMTPD, NULL },
};

/* test_bad - every malformed frame is refused and takes nothing */
static void
test_bad(void)
{
	struct metrics total, level;
	struct ipc_out o;
	size_t	 i;
	int	 r;

	for (i = 0; i < NELEM(bad); i++) {
		metrics_init(&total, METRICS_TOTAL_MAX);
		metrics_init(&level, METRICS_PRODUCER_MAX);
		frame_put(&o, bad[i].count, bad[i].w, bad[i].n);
		if (strcmp(bad[i].what, "truncated value") == 0)
			o.b.len -= 3;
		r = decode(&o, bad[i].extra, bad[i].role, &total, &level);
		T_OK(r == -1 && total.n == 0 && level.n == 0, "refused: %s",
		    bad[i].what);
		ipc_out_free(&o);
		metrics_free(&total);
		metrics_free(&level);
	}
	/* an empty payload */
	metrics_init(&total, METRICS_TOTAL_MAX);
	metrics_init(&level, METRICS_PRODUCER_MAX);
	ipc_out_init(&o);
	T_EQ_INT(decode(&o, NULL, IPC_R_SMTPD, &total, &level), -1,
	    "refused: empty payload");
	ipc_out_free(&o);
	metrics_free(&total);
	metrics_free(&level);
}

/* test_cycle - producer set -> frame -> anvil's sets, twice */
static void
test_cycle(void)
{
	struct metrics p, total, level;
	struct ipc_out o;

	metrics_init(&p, METRICS_PRODUCER_MAX);
	metrics_init(&total, METRICS_TOTAL_MAX);
	metrics_init(&level, METRICS_PRODUCER_MAX);
	T_EQ_INT(metrics_add(&p, METRIC_RECEIVED, "smtp", NULL, 2), 0,
	    "count a delta");
	T_EQ_INT(metrics_add(&p, METRIC_RECEIVED, "smtp", NULL, 1), 0,
	    "count it again");
	T_EQ_INT(metrics_set(&p, METRIC_SESSIONS_OPEN, "smtp", NULL, 4), 0,
	    "set a gauge");
	T_EQ_INT(metrics_add(&p, METRIC_RECEIVED, "bad label", NULL, 1), -1,
	    "a bad label is refused at the source");
	ipc_out_init(&o);
	T_EQ_INT((int)metrics_encode(&p, &o), 2, "two series changed");
	T_EQ_INT(decode(&o, NULL, IPC_R_SMTPD, &total, &level), 0,
	    "the frame decodes");
	ipc_out_free(&o);
	metrics_sent(&p);
	T_OK(value(&total, METRIC_RECEIVED, "smtp", "") == 3 &&
	    value(&level, METRIC_SESSIONS_OPEN, "smtp", "") == 4,
	    "anvil adds the delta and keeps the gauge");
	ipc_out_init(&o);
	T_EQ_INT((int)metrics_encode(&p, &o), 0, "nothing changed after the "
	    "send");
	ipc_out_free(&o);
	metrics_add(&p, METRIC_RECEIVED, "smtp", NULL, 1);
	metrics_set(&p, METRIC_SESSIONS_OPEN, "smtp", NULL, 4);
	ipc_out_init(&o);
	T_EQ_INT((int)metrics_encode(&p, &o), 1, "only the counter changed "
	    "(the gauge kept its value)");
	T_EQ_INT(decode(&o, NULL, IPC_R_SMTPD, &total, &level), 0,
	    "the second frame decodes");
	ipc_out_free(&o);
	metrics_sent(&p);
	T_OK(value(&total, METRIC_RECEIVED, "smtp", "") == 4,
	    "the delta was sent once, not the total");
	metrics_resend(&p);
	ipc_out_init(&o);
	T_EQ_INT((int)metrics_encode(&p, &o), 1, "a new connection: the "
	    "gauge goes again, the sent delta does not");
	ipc_out_free(&o);
	metrics_set(&p, METRIC_SESSIONS_OPEN, "smtp", NULL, 0);
	metrics_sent(&p);
	T_OK(p.s[1].v == 0 && value(&p, METRIC_RECEIVED, "smtp", "") == 0,
	    "after a send a counter starts from 0");
	metrics_free(&p);
	metrics_free(&total);
	metrics_free(&level);
}

/* test_bounds - a full set, saturation */
static void
test_bounds(void)
{
	struct metrics m;

	metrics_init(&m, 2);
	metrics_add(&m, METRIC_RECEIVED, "a", NULL, 1);
	metrics_add(&m, METRIC_RECEIVED, "b", NULL, 1);
	T_EQ_INT(metrics_add(&m, METRIC_RECEIVED, "c", NULL, 1), -1,
	    "a full set refuses a new series");
	T_EQ_INT(metrics_add(&m, METRIC_RECEIVED, "a", NULL, 1), 0,
	    "a full set still counts a known series");
	metrics_add(&m, METRIC_RECEIVED, "a", NULL, UINT64_MAX);
	T_OK(strcmp(m.s[0].label[0], "a") == 0 && m.s[0].v == UINT64_MAX,
	    "a counter saturates");
	T_EQ_INT(metrics_set(&m, METRIC_MAX, NULL, NULL, 1), -1,
	    "an unknown metric is refused");
	metrics_free(&m);
}

/* test_render - both expositions of two sets */
static void
test_render(void)
{
	struct metrics a, b;
	const struct metrics *sets[2] = { &a, &b };
	struct buf out;
	const char *t;

	metrics_init(&a, 16);
	metrics_init(&b, 16);
	metrics_add(&a, METRIC_RECEIVED, "submission", NULL, 1);
	metrics_add(&a, METRIC_RECEIVED, "smtp", NULL, 2);
	metrics_add(&b, METRIC_RECEIVED, "smtp", NULL, 3);
	metrics_set(&b, METRIC_QUEUE_OLDEST, NULL, NULL, 42);
	metrics_add(&b, METRIC_DELIVERY, "smtp", "sent", 7);
	buf_init(&out, 1 << 20);
	T_EQ_INT(metrics_render(&out, sets, 2, 0), 0, "text format rendered");
	t = buf_cstr(&out);
	T_OK(strstr(t, "# HELP youju_smtpd_messages_received_total ") != NULL &&
	    strstr(t, "# TYPE youju_smtpd_messages_received_total counter\n"
	    "youju_smtpd_messages_received_total{service=\"smtp\"} 5\n"
	    "youju_smtpd_messages_received_total{service=\"submission\"} 1\n")
	    != NULL, "text: family, sums, label order");
	T_OK(strstr(t, "youju_queue_oldest_message_age_seconds 42\n") != NULL &&
	    strstr(t, "youju_delivery_status_total{transport=\"smtp\","
	    "status=\"sent\"} 7\n") != NULL, "text: no labels; two labels");
	T_OK(strstr(t, "# EOF") == NULL && strstr(t, "# TYPE "
	    "youju_smtpd_sessions_open gauge\n") != NULL,
	    "text: no EOF; a family without series is still described");
	buf_reset(&out);
	T_EQ_INT(metrics_render(&out, sets, 2, 1), 0, "OpenMetrics rendered");
	t = buf_cstr(&out);
	T_OK(strstr(t, "# TYPE youju_smtpd_messages_received counter\n"
	    "# HELP youju_smtpd_messages_received ") != NULL &&
	    strstr(t, "youju_smtpd_messages_received_total{service=\"smtp\"} "
	    "5\n") != NULL, "OpenMetrics: family without _total, sample with");
	T_OK(out.len >= 6 && strcmp(t + out.len - 6, "# EOF\n") == 0,
	    "OpenMetrics ends with # EOF");
	buf_free(&out);
	buf_init(&out, 64);
	T_EQ_INT(metrics_render(&out, sets, 2, 0), -1, "a full buffer is an "
	    "error");
	buf_free(&out);
	metrics_free(&a);
	metrics_free(&b);
	T_OK(metrics_wants_openmetrics("application/openmetrics-text; "
	    "version=1.0.0,text/plain;q=0.5") &&
	    !metrics_wants_openmetrics("text/plain") &&
	    !metrics_wants_openmetrics(NULL), "the Accept header decides");
}

static const struct {
	const char	*reply, *reason;
} reasons[] = {
	{ "", "none" },
	{ "250 2.0.0 Ok: queued as X", "none" },
	{ "354 End data with <CR><LF>.<CR><LF>", "none" },
	{ "554 5.7.1 <a@b.example>: Relay access denied", "relay_denied" },
	{ "454 4.7.1 <a@b.example>: Relay access denied", "relay_denied" },
	{ "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked "
	    "using zen.example", "rbl" },
	{ "535 5.7.8 Error: authentication failed", "auth_failed" },
	{ "454 4.7.0 Temporary authentication failure", "auth_unavailable" },
	{ "421 4.7.0 mx Error: too many connections from 1.2.3.4",
	    "rate_limit" },
	{ "450 4.7.1 Error: too much mail from 1.2.3.4", "rate_limit" },
	{ "421 4.3.2 Too many sessions, try again later", "busy" },
	{ "550 5.1.1 <x@y>: Recipient address rejected: User unknown in "
	    "local recipient table", "unknown_recipient" },
	{ "553 5.7.1 <a@b>: Sender address rejected: not owned by user "
	    "bob", "sender_login_mismatch" },
	{ "552 5.3.4 Message size exceeds fixed limit", "size" },
	{ "530 5.7.0 Must issue a STARTTLS command first", "tls_required" },
	{ "502 5.5.2 Error: command not recognized", "protocol" },
	{ "452 4.5.3 Error: too many recipients", "protocol" },
	{ "554 5.7.1 Access denied", "policy" },
	{ "5", "policy" },
	{ "421 4.4.2 mx Error: timeout exceeded", "timeout" },
};

/* test_reasons - the reply table */
static void
test_reasons(void)
{
	size_t	 i;

	for (i = 0; i < NELEM(reasons); i++)
		T_EQ_STR(metrics_smtp_reason(reasons[i].reply),
		    reasons[i].reason, reasons[i].reply);
}

static const struct {
	const char	*in, *host;
	int		 port;
} listens[] = {
	/* refused first */
	{ "", NULL, 0 },
	{ "9154", NULL, 0 },
	{ "127.0.0.1", NULL, 0 },
	{ "127.0.0.1:", NULL, 0 },
	{ "127.0.0.1:0", NULL, 0 },
	{ "127.0.0.1:65536", NULL, 0 },
	{ "127.0.0.1:abc", NULL, 0 },
	{ "127.0.0.1: 9154", NULL, 0 },
	{ ":9154", NULL, 0 },
	{ "192.0.2.1:9154", NULL, 0 },
	{ "0.0.0.0:9154", NULL, 0 },
	{ "[::]:9154", NULL, 0 },
	{ "[2001:db8::1]:9154", NULL, 0 },
	{ "::1:9154", NULL, 0 },
	{ "[::1]9154", NULL, 0 },
	{ "[::1", NULL, 0 },
	{ "mail.example:9154", NULL, 0 },
	{ "127.0.0.1:9154:1", NULL, 0 },
	/* accepted */
	{ "127.0.0.1:9154", "127.0.0.1", 9154 },
	{ "127.8.9.10:1", "127.8.9.10", 1 },
	{ "[::1]:65535", "::1", 65535 },
	{ "localhost:9154", "127.0.0.1", 9154 },
};

/* test_listen - metrics_listen values */
static void
test_listen(void)
{
	char	 host[METRICS_HOST_MAX], err[256];
	size_t	 i;
	int	 port, r;

	for (i = 0; i < NELEM(listens); i++) {
		port = 0;
		err[0] = '\0';
		r = metrics_listen_parse(listens[i].in, host, sizeof(host),
		    &port, err, sizeof(err));
		if (listens[i].host == NULL)
			T_OK(r == -1 && err[0] != '\0', "refused: \"%s\" (%s)",
			    listens[i].in, err);
		else
			T_OK(r == 0 && strcmp(host, listens[i].host) == 0 &&
			    port == listens[i].port, "accepted: \"%s\"",
			    listens[i].in);
	}
	metrics_listen_parse("192.0.2.1:9154", host, sizeof(host), &port, err,
	    sizeof(err));
	T_OK(strstr(err, "not a loopback address") != NULL,
	    "a remote address is called that");
}

/* main - run the tests */
int
main(void)
{
	t_plan((int)(NELEM(bad) + 1 + 13 + 4 + 9 + NELEM(reasons) +
	    NELEM(listens) + 1));
	test_bad();
	test_cycle();
	test_bounds();
	test_render();
	test_reasons();
	test_listen();
	return t_done();
}
