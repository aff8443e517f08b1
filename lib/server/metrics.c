/*
 * metrics.c - the metrics table, bounded series sets, the IPC_METRICS
 * codec and the exposition (see metrics.h).
 *
 * Interface: metrics_defs[], metrics_init/free/add/set, metrics_encode/
 * sent/resend (producers), metrics_decode/render (anvil), and two small
 * parsers: metrics_smtp_reason (a reply line) and metrics_listen_parse
 * (the metrics_listen value).
 *
 * Errors: -1 with errno; a malformed frame is refused whole (EPROTO).
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ipc.h"
#include "metrics.h"
#include "util.h"

const struct metrics_def metrics_defs[METRIC_MAX] = {
	[METRIC_QUEUE_MESSAGES] = { "youju_queue_messages", METRICS_GAUGE,
	    METRICS_LEVEL, IPC_R_QMGR, { "state", NULL },
	    "Messages in the queue by state: active, deferred, hold, "
	    "incoming (being received)." },
	[METRIC_QUEUE_OLDEST] = { "youju_queue_oldest_message_age_seconds",
	    METRICS_GAUGE, METRICS_LEVEL, IPC_R_QMGR, { NULL, NULL },
	    "Age of the oldest active or deferred message (0: none)." },
	[METRIC_RECEIVED] = { "youju_smtpd_messages_received",
	    METRICS_COUNTER, METRICS_DELTA, IPC_R_SMTPD, { "service", NULL },
	    "Messages smtpd committed to the queue, by master.cf service." },
	[METRIC_DELIVERY] = { "youju_delivery_status", METRICS_COUNTER,
	    METRICS_DELTA, IPC_R_QMGR, { "transport", "status" },
	    "Recipient results logged with status= (sent, deferred, bounced, "
	    "expired), by transport (smtp, local, none)." },
	[METRIC_REPLIES] = { "youju_smtpd_replies", METRICS_COUNTER,
	    METRICS_DELTA, IPC_R_SMTPD, { "class", "reason" },
	    "SMTP replies smtpd gave, by class (2xx..5xx) and reason." },
	[METRIC_SESSIONS] = { "youju_smtpd_sessions", METRICS_COUNTER,
	    METRICS_DELTA, IPC_R_SMTPD, { "service", "tls" },
	    "SMTP sessions that ended, by master.cf service and TLS use "
	    "(yes, no)." },
	[METRIC_SESSIONS_OPEN] = { "youju_smtpd_sessions_open", METRICS_GAUGE,
	    METRICS_LEVEL, IPC_R_SMTPD, { "service", NULL },
	    "SMTP sessions open now, by master.cf service." },
	[METRIC_RESTARTS] = { "youju_master_process_restarts",
	    METRICS_COUNTER, METRICS_LEVEL, IPC_R_MASTER, { "service",
	    "type" }, "Processes master restarted after an unexpected exit "
	    "since it started, by master.cf service and type." },
};

/*
 * Why smtpd refused: the first row whose text occurs in the reply (Postfix's
 * words, which log readers key on too); then the enhanced status code's
 * X.5.Y (protocol), else "policy".
 */
static const struct {
	const char	*text;
	const char	*reason;
} metrics_reasons[] = {
	{ "Relay access denied", "relay_denied" },
	{ " blocked using ", "rbl" },
	{ "authentication failed", "auth_failed" },
	{ "Temporary authentication failure", "auth_unavailable" },
	{ "too many connections from", "rate_limit" },
	{ "too much mail from", "rate_limit" },
	{ "Too many sessions", "busy" },
	{ "User unknown", "unknown_recipient" },
	{ "not owned by user", "sender_login_mismatch" },
	{ "size exceeds", "size" },
	{ "Must issue a STARTTLS", "tls_required" },
	{ "Temporary lookup failure", "lookup_failure" },
	{ "Insufficient system storage", "local_error" },
	{ "queue file write error", "local_error" },
	{ "timeout exceeded", "timeout" },
	{ "Service shutting down", "shutdown" },
};

/* metrics_label_ok - an empty label where the metric has none, else a name */
static int
metrics_label_ok(const struct metrics_def *d, int i, const char *v)
{
	static const char ok[] = "._:/@+[]-";
	size_t	 n = strlen(v), k;

	if (d->label[i] == NULL)
		return n == 0;
	if (n == 0 || n > METRICS_LABEL_MAX)
		return 0;
	for (k = 0; k < n; k++)
		if (!isalnum((unsigned char)v[k]) && strchr(ok, v[k]) == NULL)
			return 0;
	return 1;
}

/* metrics_init - an empty set of at most max series */
void
metrics_init(struct metrics *m, size_t max)
{
	memset(m, 0, sizeof(*m));
	m->max = max;
}

/* metrics_free - release a set */
void
metrics_free(struct metrics *m)
{
	free(m->s);
	memset(m, 0, sizeof(*m));
}

/* metrics_get - the series (made when new), or NULL with errno */
static struct metrics_series *
metrics_get(struct metrics *m, uint32_t id, const char *l0, const char *l1)
{
	const char *l[METRICS_NLABEL] = { l0 != NULL ? l0 : "",
	    l1 != NULL ? l1 : "" };
	struct metrics_series *s;
	size_t	 i;
	int	 k;

	if (id >= METRIC_MAX) {
		errno = EINVAL;
		return NULL;
	}
	for (k = 0; k < METRICS_NLABEL; k++)
		if (!metrics_label_ok(&metrics_defs[id], k, l[k])) {
			errno = EINVAL;
			return NULL;
		}
	for (i = 0; i < m->n; i++)
		if (m->s[i].id == id && strcmp(m->s[i].label[0], l[0]) == 0 &&
		    strcmp(m->s[i].label[1], l[1]) == 0)
			return &m->s[i];
	if (m->n >= m->max) {
		errno = ENOSPC;
		return NULL;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->s = xreallocarray(m->s, m->cap, sizeof(*m->s));
	}
	s = &m->s[m->n++];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->dirty = 1;		/* a new series is reported, even at 0 */
	for (k = 0; k < METRICS_NLABEL; k++)
		util_strlcpy(s->label[k], l[k], sizeof(s->label[k]));
	return s;
}

/* metrics_add - see metrics.h */
int
metrics_add(struct metrics *m, uint32_t id, const char *l0, const char *l1,
    uint64_t delta)
{
	struct metrics_series *s;

	if ((s = metrics_get(m, id, l0, l1)) == NULL)
		return -1;
	s->v = s->v > UINT64_MAX - delta ? UINT64_MAX : s->v + delta;
	s->dirty = 1;
	return 0;
}

/* metrics_set - see metrics.h */
int
metrics_set(struct metrics *m, uint32_t id, const char *l0, const char *l1,
    uint64_t v)
{
	struct metrics_series *s;

	if ((s = metrics_get(m, id, l0, l1)) == NULL)
		return -1;
	if (s->v != v)
		s->dirty = 1;
	s->v = v;
	return 0;
}

/* metrics_encode - see metrics.h */
size_t
metrics_encode(const struct metrics *m, struct ipc_out *o)
{
	size_t	 i, n = 0;

	for (i = 0; i < m->n; i++)
		n += m->s[i].dirty != 0;
	ipc_put_u32(o, (uint32_t)n);
	for (i = 0; i < m->n; i++) {
		if (!m->s[i].dirty)
			continue;
		ipc_put_u32(o, m->s[i].id);
		ipc_put_str(o, m->s[i].label[0]);
		ipc_put_str(o, m->s[i].label[1]);
		ipc_put_u64(o, m->s[i].v);
	}
	return n;
}

/* metrics_sent - see metrics.h */
void
metrics_sent(struct metrics *m)
{
	size_t	 i;

	for (i = 0; i < m->n; i++) {
		if (m->s[i].dirty &&
		    metrics_defs[m->s[i].id].report == METRICS_DELTA)
			m->s[i].v = 0;
		m->s[i].dirty = 0;
	}
}

/* metrics_resend - see metrics.h */
void
metrics_resend(struct metrics *m)
{
	size_t	 i;

	for (i = 0; i < m->n; i++)
		if (metrics_defs[m->s[i].id].report == METRICS_LEVEL)
			m->s[i].dirty = 1;
}

/* metrics_decode_one - one series of a frame into tmp; -1 when bad */
static int
metrics_decode_one(struct ipc_in *in, unsigned role, struct metrics *tmp)
{
	char	*l0, *l1;
	uint32_t id;
	uint64_t v;
	int	 r = -1;

	id = ipc_get_u32(in);
	l0 = ipc_get_str(in, METRICS_LABEL_MAX);
	l1 = ipc_get_str(in, METRICS_LABEL_MAX);
	v = ipc_get_u64(in);
	if (l0 != NULL && l1 != NULL && in->err == 0 && id < METRIC_MAX &&
	    (metrics_defs[id].senders & role) != 0)
		r = metrics_defs[id].report == METRICS_DELTA ?
		    metrics_add(tmp, id, l0, l1, v) :
		    metrics_set(tmp, id, l0, l1, v);
	free(l0);
	free(l1);
	return r;
}

/* metrics_decode - see metrics.h */
int
metrics_decode(struct ipc_in *in, unsigned role, struct metrics *total,
    struct metrics *level)
{
	struct metrics tmp;
	const struct metrics_series *s;
	uint32_t n, i;
	size_t	 k;
	int	 r = 0;

	n = ipc_get_u32(in);
	if (in->err != 0 || n > METRICS_PRODUCER_MAX) {
		errno = EPROTO;
		return -1;
	}
	metrics_init(&tmp, METRICS_PRODUCER_MAX);
	for (i = 0; i < n && r == 0; i++)
		r = metrics_decode_one(in, role, &tmp);
	if (r == -1 || ipc_get_end(in) == -1) {
		metrics_free(&tmp);
		errno = EPROTO;
		return -1;
	}
	for (k = 0; k < tmp.n; k++) {
		s = &tmp.s[k];
		/* a full table drops a new series, never a frame */
		if (metrics_defs[s->id].report == METRICS_DELTA)
			(void)metrics_add(total, s->id, s->label[0],
			    s->label[1], s->v);
		else
			(void)metrics_set(level, s->id, s->label[0],
			    s->label[1], s->v);
	}
	metrics_free(&tmp);
	return 0;
}

/* metrics_cmp - order of the exposition: metric, then label values */
static int
metrics_cmp(const void *a, const void *b)
{
	const struct metrics_series *x = a, *y = b;
	int	 c;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if ((c = strcmp(x->label[0], y->label[0])) != 0)
		return c;
	return strcmp(x->label[1], y->label[1]);
}

/* metrics_sample - one sample line; -1 when b is full */
static int
metrics_sample(struct buf *b, const struct metrics_series *s)
{
	const struct metrics_def *d = &metrics_defs[s->id];
	int	 k, first = 1, r;

	r = buf_printf(b, "%s%s", d->name, d->type == METRICS_COUNTER ?
	    "_total" : "");
	for (k = 0; k < METRICS_NLABEL; k++) {
		if (d->label[k] == NULL)
			continue;
		if (buf_printf(b, "%s%s=\"%s\"", first ? "{" : ",",
		    d->label[k], s->label[k]) == -1)
			r = -1;
		first = 0;
	}
	if (buf_printf(b, "%s %llu\n", first ? "" : "}",
	    (unsigned long long)s->v) == -1)
		r = -1;
	return r;
}

/* metrics_family - the HELP and TYPE lines of a metric; -1 when b is full */
static int
metrics_family(struct buf *b, const struct metrics_def *d, int om)
{
	const char *type = d->type == METRICS_COUNTER ? "counter" : "gauge";

	/* OpenMetrics names a counter's family without _total */
	if (om)
		return buf_printf(b, "# TYPE %s %s\n# HELP %s %s\n", d->name,
		    type, d->name, d->help);
	return buf_printf(b, "# HELP %s%s %s\n# TYPE %s%s %s\n", d->name,
	    d->type == METRICS_COUNTER ? "_total" : "", d->help, d->name,
	    d->type == METRICS_COUNTER ? "_total" : "", type);
}

/* metrics_render - see metrics.h */
int
metrics_render(struct buf *b, const struct metrics *const *sets, size_t n,
    int om)
{
	struct metrics all;
	size_t	 i, k, max = 0;
	uint32_t id;
	int	 r = 0;

	for (i = 0; i < n; i++)
		max += sets[i]->n;
	metrics_init(&all, max);
	for (i = 0; i < n; i++)
		for (k = 0; k < sets[i]->n; k++)
			(void)metrics_add(&all, sets[i]->s[k].id,
			    sets[i]->s[k].label[0], sets[i]->s[k].label[1],
			    sets[i]->s[k].v);
	if (all.n > 0)
		qsort(all.s, all.n, sizeof(*all.s), metrics_cmp);
	for (id = 0, k = 0; id < METRIC_MAX; id++) {
		if (metrics_family(b, &metrics_defs[id], om) == -1)
			r = -1;
		for (; k < all.n && all.s[k].id == id; k++)
			if (metrics_sample(b, &all.s[k]) == -1)
				r = -1;
	}
	if (om && buf_puts(b, "# EOF\n") == -1)
		r = -1;
	metrics_free(&all);
	if (r == -1)
		errno = ENOSPC;
	return r;
}

/* metrics_content_type - see metrics.h */
const char *
metrics_content_type(int om)
{
	return om ? "application/openmetrics-text; version=1.0.0; "
	    "charset=utf-8" : "text/plain; version=0.0.4; charset=utf-8";
}

/* metrics_wants_openmetrics - see metrics.h */
int
metrics_wants_openmetrics(const char *accept)
{
	return accept != NULL &&
	    strstr(accept, "application/openmetrics-text") != NULL;
}

/* metrics_smtp_reason - see metrics.h */
const char *
metrics_smtp_reason(const char *reply)
{
	size_t	 i;

	if (reply[0] != '4' && reply[0] != '5')
		return "none";
	for (i = 0; i < NELEM(metrics_reasons); i++)
		if (strstr(reply, metrics_reasons[i].text) != NULL)
			return metrics_reasons[i].reason;
	/* "5.5.2", "4.5.3": the enhanced code's subject 5 is the protocol */
	if (strlen(reply) >= 8 && reply[3] == ' ' && reply[5] == '.' &&
	    reply[6] == '5' && reply[7] == '.')
		return "protocol";
	return "policy";
}

/* metrics_listen_parse - see metrics.h */
int
metrics_listen_parse(const char *v, char *host, size_t hostlen, int *port,
    char *err, size_t errlen)
{
	struct in_addr a4;
	struct in6_addr a6;
	char	 h[METRICS_HOST_MAX];
	const char *colon, *end;
	long long p;

	if (*v == '[') {
		if ((end = strchr(v, ']')) == NULL || end[1] != ':')
			goto syntax;
		colon = end + 1;
		v++;
	} else {
		/* an IPv6 address needs its brackets: "[::1]:9154" */
		if ((colon = strchr(v, ':')) == NULL ||
		    strchr(colon + 1, ':') != NULL)
			goto syntax;
		end = colon;
	}
	if (end == v || (size_t)(end - v) >= sizeof(h) ||
	    util_parse_ll(colon + 1, 1, 65535, &p) == -1)
		goto syntax;
	memcpy(h, v, (size_t)(end - v));
	h[end - v] = '\0';
	if (strcmp(h, "localhost") == 0)
		util_strlcpy(h, "127.0.0.1", sizeof(h));
	if (inet_pton(AF_INET, h, &a4) == 1) {
		if ((ntohl(a4.s_addr) >> 24) != 127)
			goto remote;
	} else if (inet_pton(AF_INET6, h, &a6) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&a6))
			goto remote;
	} else
		goto syntax;
	if (util_strlcpy(host, h, hostlen) >= hostlen)
		goto syntax;
	*port = (int)p;
	return 0;
syntax:
	snprintf(err, errlen, "expected ADDRESS:PORT with a loopback address "
	    "(127.0.0.1:9154, [::1]:9154)");
	return -1;
remote:
	snprintf(err, errlen, "%s is not a loopback address: the metrics "
	    "have no access control and are served on loopback only", h);
	return -1;
}
