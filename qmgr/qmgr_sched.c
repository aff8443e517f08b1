/*
 * qmgr_sched.c - scheduling and local delivery requests.
 *
 * Ready messages wait in a FIFO.  Up to local_destination_concurrency_limit
 * requests are out to local(8) at a time, one per message; each request
 * carries the queue file as a descriptor opened read-only, and lists the
 * message's pending local recipients.  local answers per recipient:
 * delivered, temporary failure, permanent failure, or expanded (an alias:
 * the final addresses come back and become X records).  Results are
 * appended to the queue file (done records, fdatasync) before the message
 * moves on, so a restart redoes nothing that was final.
 *
 * Payloads (ipc.h):
 *	DELIVER	str qid | str sender | u32 n | n x (u32 idx, u32 flags, str addr)
 *	RESULT	str qid | u32 n | n x (u32 idx, u32 status, str text) |
 *		u32 m | m x (u32 parent idx, str addr)
 * flags: IPC_RF_NOALIAS for recipients that are already alias results.
 *
 * Recipients outside mydestination wait for the outbound transport (the
 * smtp service); until one is configured they stay deferred and logged.
 *
 * Rounds: a message goes through its next hops (local, then each remote
 * destination, relayhost counting as one) one request at a time.  The
 * recipients of a request that failed temporarily sit out the rest of the
 * round, so one unreachable destination does not hold up the others; when
 * no next hop is left the message is deferred (back-off) if anything
 * failed, and the next round tries every pending recipient again.
 *
 * Fairness: requests to one destination are bounded by
 * default_destination_concurrency_limit, and by dest_cap: one destination
 * never holds every smtp process - a quarter of them (at least one) stays
 * for the others, so a slow or hanging destination cannot starve them.
 *
 * Longer than 800 lines on purpose: dispatch, the delivery agents' answers
 * and the back-off share the in-flight request state; the reports and the
 * index are elsewhere (qmgr_bounce.c, qmgr_index.c).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "addr.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "metrics_client.h"
#include "qfile.h"
#include "util.h"
#include "qmgr.h"

#define QMGR_DLV_TIMEOUT	600	/* local */
#define QMGR_SMTP_TIMEOUT	3600	/* beyond smtp's own stage timeouts */
#define QMGR_BATCH_MAX		500
#define QMGR_SMTP_BATCH_MAX	200	/* results of 300 bytes fit a frame */
#define QMGR_HIST_MAX		1000	/* H records per queue file */

static void qmgr_after(struct qmgr_msg *, int, const char *);

struct qmgr_dlv {
	struct qmgr_msg	*m;
	int		 fd;
	int		 hello;
	int		 smtp;		/* to smtp (else local) */
	struct qmgr_dest *dest;		/* smtp: the next hop */
	struct event	*ev;
	uint32_t	*idx;
	size_t		 nidx;
};

/* qmgr_skipped - did recipient i fail temporarily in this round */
static int
qmgr_skipped(const struct qmgr_msg *m, size_t i)
{
	return i < m->nskip && m->skip[i];
}

/* qmgr_skip - recipient i waits for the next round */
static void
qmgr_skip(struct qmgr_msg *m, size_t i)
{
	if (i >= m->q.nrcpt)
		return;
	if (m->nskip < m->q.nrcpt) {
		m->skip = xrealloc(m->skip, m->q.nrcpt);
		memset(m->skip + m->nskip, 0, m->q.nrcpt - m->nskip);
		m->nskip = m->q.nrcpt;
	}
	m->skip[i] = 1;
	m->round_temp = 1;
}

/* qmgr_count - pending recipients (QMGR_P_*), maybe without skipped ones */
static int
qmgr_count(const struct qmgr_msg *m, int which, int skip)
{
	size_t	 i;
	int	 n = 0, local;

	for (i = 0; i < m->q.nrcpt; i++) {
		if (m->q.rcpt[i].status != QFILE_ST_PENDING ||
		    (skip && qmgr_skipped(m, i)))
			continue;
		local = qmgr_is_local(m->q.rcpt[i].addr);
		if (which == QMGR_P_ALL || (which == QMGR_P_LOCAL && local) ||
		    (which == QMGR_P_REMOTE && !local))
			n++;
	}
	return n;
}

/* qmgr_pending - recipients without a final result (QMGR_P_*) */
int
qmgr_pending(const struct qmgr_msg *m, int which)
{
	return qmgr_count(m, which, 0);
}

/* qmgr_todo - pending recipients not yet failed in this round */
static int
qmgr_todo(const struct qmgr_msg *m, int which)
{
	return qmgr_count(m, which, 1);
}

/*
 * qmgr_deliverable - recipients some transport can take in this round
 * (a next hop that failed temporarily does not hold up the others)
 */
int
qmgr_deliverable(const struct qmgr_msg *m)
{
	return qmgr.smtp_ok ? qmgr_todo(m, QMGR_P_ALL) :
	    qmgr_todo(m, QMGR_P_LOCAL);
}

/* qmgr_nexthop - where a remote recipient goes: relayhost or its domain */
static const char *
qmgr_nexthop(const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (*qmgr.relayhost != '\0')
		return qmgr.relayhost;
	return at != NULL ? at + 1 : addr;
}

/* qmgr_sched_nexthop - see qmgr.h */
const char *
qmgr_sched_nexthop(const char *addr)
{
	return qmgr_is_local(addr) ? "local" : qmgr_nexthop(addr);
}

/* qmgr_dest_busy - deliveries out to a next hop now (none: 0) */
static int
qmgr_dest_busy(const char *name)
{
	const struct qmgr_dest *d;

	for (d = qmgr.dests; d != NULL; d = d->next)
		if (util_strcasecmp_ascii(d->name, name) == 0)
			return d->busy;
	return 0;
}

/* qmgr_why_waiting - a ready message that has not started: why */
static void
qmgr_why_waiting(const struct qmgr_msg *m, struct buf *out)
{
	const char *hop;
	size_t	 i;
	int	 busy;

	if (qmgr_pending(m, QMGR_P_LOCAL) > 0 &&
	    qmgr.local_busy >= qmgr.local_limit)
		buf_printf(out, "waiting:   every local delivery process is "
		    "busy (%d of %d)\n", qmgr.local_busy, qmgr.local_limit);
	if (qmgr_pending(m, QMGR_P_REMOTE) == 0)
		return;
	if (!qmgr.smtp_ok) {
		buf_puts(out, "waiting:   master.cf has no smtp service: "
		    "remote recipients stay queued\n");
		return;
	}
	if (qmgr.smtp_busy >= qmgr.smtp_limit)
		buf_printf(out, "waiting:   every smtp process is busy (%d of "
		    "%d)\n", qmgr.smtp_busy, qmgr.smtp_limit);
	for (i = 0; i < m->q.nrcpt; i++) {
		if (m->q.rcpt[i].status != QFILE_ST_PENDING ||
		    qmgr_is_local(m->q.rcpt[i].addr))
			continue;
		hop = qmgr_nexthop(m->q.rcpt[i].addr);
		if ((busy = qmgr_dest_busy(hop)) >= qmgr.dest_limit)
			buf_printf(out, "waiting:   destination %s has %d "
			    "deliveries in progress "
			    "(default_destination_concurrency_limit = %d)\n",
			    log_str(hop), busy, qmgr.dest_limit);
		else if (busy >= qmgr.dest_cap)
			buf_printf(out, "waiting:   destination %s has %d "
			    "deliveries in progress, all one destination may "
			    "have (a quarter of the %d smtp processes stay for "
			    "the others)\n", log_str(hop), busy,
			    qmgr.smtp_limit);
		if (*qmgr.relayhost != '\0')
			break;		/* one next hop for all */
	}
}

/* qmgr_sched_why - see qmgr.h */
void
qmgr_sched_why(const struct qmgr_msg *m, struct buf *out)
{
	struct tm tm;
	time_t	 t = (time_t)m->rec.next_try, now = time(NULL);
	char	 when[32];

	if (qmgr.oneshot) {
		buf_puts(out, "next:      as soon as the mail system starts "
		    "(it is stopped)\n");
		if (m->rec.state != QINDEX_DEFERRED || t <= now)
			return;
	} else if (m->inflight) {
		buf_puts(out, "next:      a delivery attempt is in progress "
		    "now\n");
		return;
	}
	if (m->rec.state == QINDEX_DEFERRED && !m->queued) {
		if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when),
		    "%Y-%m-%d %H:%M:%S", &tm) == 0)
			util_strlcpy(when, "?", sizeof(when));
		if (t > now)
			buf_printf(out, "next:      %s UTC (in %lld s): back-off "
			    "after %u failed attempt%s (the wait doubles from "
			    "minimal_backoff_time = %llds up to "
			    "maximal_backoff_time = %llds)\n", when,
			    (long long)(t - now), m->rec.attempts,
			    m->rec.attempts == 1 ? "" : "s",
			    (long long)qmgr.min_backoff,
			    (long long)qmgr.max_backoff);
		else
			buf_printf(out, "next:      due since %s UTC: at the "
			    "next queue run (queue_run_delay = %llds)\n", when,
			    (long long)qmgr.run_delay);
		return;
	}
	if (qmgr.oneshot)
		return;
	if (!m->queued) {
		buf_printf(out, "next:      at the next queue run "
		    "(queue_run_delay = %llds)\n", (long long)qmgr.run_delay);
		return;
	}
	buf_puts(out, "next:      as soon as a delivery process is free "
	    "(waiting in the ready queue)\n");
	qmgr_why_waiting(m, out);
}

/* qmgr_dest - the destination record of a next hop (made when missing) */
static struct qmgr_dest *
qmgr_dest(const char *name)
{
	struct qmgr_dest *d;

	for (d = qmgr.dests; d != NULL; d = d->next)
		if (util_strcasecmp_ascii(d->name, name) == 0)
			return d;
	d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(name);
	util_lowercase(d->name);
	d->next = qmgr.dests;
	qmgr.dests = d;
	return d;
}

/* qmgr_ready - put a message on the ready list */
void
qmgr_ready(struct qmgr_msg *m)
{
	if (m->queued || m->inflight)
		return;
	m->queued = 1;
	m->rnext = NULL;
	if (qmgr.ready_tail != NULL)
		qmgr.ready_tail->rnext = m;
	else
		qmgr.ready_head = m;
	qmgr.ready_tail = m;
}

/* qmgr_unready - take a message off the ready list */
void
qmgr_unready(struct qmgr_msg *m)
{
	struct qmgr_msg **pp, *prev = NULL;

	if (!m->queued)
		return;
	for (pp = &qmgr.ready_head; *pp != NULL; prev = *pp,
	    pp = &(*pp)->rnext)
		if (*pp == m) {
			*pp = m->rnext;
			if (qmgr.ready_tail == m)
				qmgr.ready_tail = prev;
			break;
		}
	m->queued = 0;
	m->rnext = NULL;
}

/* qmgr_delay - seconds since arrival, for log lines */
static double
qmgr_delay(const struct qmgr_msg *m)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)(tv.tv_sec - m->q.arrival_sec) +
	    (double)(tv.tv_usec - m->q.arrival_usec) / 1e6;
}

/* qmgr_defer - try again after the back-off time */
void
qmgr_defer(struct qmgr_msg *m, const char *why)
{
	int64_t	 delay = qmgr.min_backoff;
	uint32_t i;

	free(m->skip);		/* the next round tries everyone again */
	m->skip = NULL;
	m->nskip = 0;
	m->round_temp = 0;
	m->rec.attempts++;
	for (i = 1; i < m->rec.attempts && delay < qmgr.max_backoff; i++)
		delay *= 2;
	if (delay > qmgr.max_backoff)
		delay = qmgr.max_backoff;
	m->rec.state = QINDEX_DEFERRED;
	m->rec.next_try = (int64_t)time(NULL) + delay;
	qmgr_index_put(m->qid, &m->rec);
	log_debug("%s: deferred for %lld s: %s", m->qid, (long long)delay,
	    why);
}

/* qmgr_note_remote - log recipients that wait for outbound delivery */
static void
qmgr_note_remote(struct qmgr_msg *m)
{
	size_t	 i;

	if (m->remote_noted)
		return;
	m->remote_noted = 1;
	for (i = 0; i < m->q.nrcpt; i++) {
		if (m->q.rcpt[i].status != QFILE_ST_PENDING ||
		    qmgr_is_local(m->q.rcpt[i].addr))
			continue;
		log_info("%s: to=<%s>, relay=none, delay=%.2f, dsn=4.3.2, "
		    "status=deferred (no smtp transport in master.cf: mail "
		    "for remote domains stays queued)", m->qid,
		    log_str(m->q.rcpt[i].addr), qmgr_delay(m));
		metrics_client_count(METRIC_DELIVERY, "none", "deferred", 1);
	}
}

/* qmgr_dlv_free - end of a delivery request */
static void
qmgr_dlv_free(struct qmgr_dlv *d)
{
	if (d->ev != NULL)
		event_free(d->ev);
	if (d->fd != -1)
		close(d->fd);
	d->m->inflight = 0;
	if (d->smtp) {
		qmgr.smtp_busy--;
		d->dest->busy--;
	} else
		qmgr.local_busy--;
	free(d->idx);
	free(d);
	if (qmgr_done())
		event_base_loopbreak(qmgr.base);
}

/* qmgr_after - a message's delivery round is over: what next */
static void
qmgr_after(struct qmgr_msg *m, int tempfail, const char *why)
{
	/* what the administrator asked for while the delivery ran */
	if (m->delete_wanted) {
		qmgr_delete(m);
		return;
	}
	if (m->hold_wanted && qmgr_pending(m, QMGR_P_ALL) > 0 &&
	    qmgr_hold(m) == 0)
		return;
	if (tempfail || m->round_temp)
		(void)qmgr_expire(m, time(NULL));
	if (qmgr_pending(m, QMGR_P_ALL) == 0) {
		/* the report goes out before the message goes away */
		if (qmgr_bounce(m, 0) == -1) {
			qmgr_defer(m, "cannot queue the bounce");
			return;
		}
		qmgr_remove(m);
		return;
	}
	if (qmgr_unsent(m) > 0)
		(void)qmgr_bounce(m, 1);	/* retried on the next round */
	if (!qmgr.smtp_ok && qmgr_pending(m, QMGR_P_REMOTE) > 0)
		qmgr_note_remote(m);
	if (qmgr_deliverable(m) == 0) {
		/* every next hop had its turn in this round */
		qmgr_defer(m, why);
		return;
	}
	qmgr_ready(m);	/* more to do: another next hop, alias results */
}

/* qmgr_dlv_lost - local went away: every recipient of the request waits */
static void
qmgr_dlv_lost(struct qmgr_dlv *d, const char *why)
{
	struct qmgr_msg *m = d->m;
	size_t	 i;

	for (i = 0; i < d->nidx; i++)
		qmgr_skip(m, d->idx[i]);
	for (i = 0; i < d->nidx; i++) {
		log_info("%s: to=<%s>, relay=%s, delay=%.2f, dsn=4.3.0, "
		    "status=deferred (%s)", m->qid,
		    log_str(m->q.rcpt[d->idx[i]].addr), d->smtp ? "none" :
		    "local", qmgr_delay(m), why);
		metrics_client_count(METRIC_DELIVERY, d->smtp ? "smtp" :
		    "local", "deferred", 1);
	}
	qmgr_dlv_free(d);
	qmgr_after(m, 1, why);
}

/* qmgr_log_result - the per-recipient log line (and its count) */
static void
qmgr_log_result(struct qmgr_msg *m, uint32_t idx, const char *transport,
    const char *relay, const char *status, const char *text)
{
	char	 dsn[16] = "";
	const struct qfile_rcpt *r = &m->q.rcpt[idx];
	const char *t = text;
	size_t	 n = 0;

	while (n + 1 < sizeof(dsn) && (isdigit((unsigned char)t[n]) ||
	    t[n] == '.'))
		n++;
	if (n >= 5 && t[n] == ' ') {
		memcpy(dsn, t, n);
		dsn[n] = '\0';
		t += n + 1;
	} else
		util_strlcpy(dsn, strcmp(status, "sent") == 0 ? "2.0.0" :
		    strcmp(status, "bounced") == 0 ? "5.0.0" : "4.0.0",
		    sizeof(dsn));
	if (r->parent != UINT32_MAX && r->parent < m->q.nrcpt)
		log_info("%s: to=<%s>, orig_to=<%s>, relay=%s, delay=%.2f, "
		    "dsn=%s, status=%s (%s)", m->qid, log_str(r->addr),
		    log_str(m->q.rcpt[r->parent].addr), log_str(relay),
		    qmgr_delay(m), dsn, status, log_str(t));
	else
		log_info("%s: to=<%s>, relay=%s, delay=%.2f, dsn=%s, "
		    "status=%s (%s)", m->qid, log_str(r->addr), log_str(relay),
		    qmgr_delay(m), dsn, status, log_str(t));
	metrics_client_count(METRIC_DELIVERY, transport, status, 1);
}

/*
 * qmgr_add_rcpt - an alias result becomes a new recipient (X record); it
 * inherits the parent's ORCPT and NOTIFY, so reports name the address the
 * sender used and follow what the sender asked for
 */
static int
qmgr_add_rcpt(struct qmgr_msg *m, int wfd, uint32_t parent, char *addr)
{
	struct qfile_rcpt *r;
	char	*orcpt;
	unsigned notify;

	if (m->q.nrcpt >= QFILE_MAX_RCPT || parent >= m->q.nrcpt)
		return -1;
	orcpt = xstrdup(m->q.rcpt[parent].orcpt != NULL ?
	    m->q.rcpt[parent].orcpt : "");
	notify = m->q.rcpt[parent].notify;
	if (qfile_append_rcpt(wfd, addr, orcpt, notify, parent) == -1) {
		free(orcpt);
		return -1;
	}
	m->q.rcpt = xreallocarray(m->q.rcpt, m->q.nrcpt + 1,
	    sizeof(*m->q.rcpt));
	r = &m->q.rcpt[m->q.nrcpt++];
	memset(r, 0, sizeof(*r));
	r->addr = addr;
	r->orcpt = orcpt;
	r->notify = notify;
	r->parent = parent;
	r->status = QFILE_ST_PENDING;
	return 0;
}

/*
 * qmgr_exp_dup - is an alias result a recipient the message already has
 * (given, or added by an earlier expansion; not an alias itself) with
 * the same DSN options (Postfix's duplicate filter, bounded by
 * duplicate_filter_limit): then nothing is added.  With other options it
 * is added (its report is its own), and local writes the mailbox once.
 */
static int
qmgr_exp_dup(const struct qmgr_msg *m, uint32_t parent, const char *addr)
{
	const struct qfile_rcpt *p = &m->q.rcpt[parent], *e;
	int	 fold = qmgr_is_local(addr);
	size_t	 k;

	for (k = 0; k < m->q.nrcpt && k < qmgr.dup_limit; k++) {
		e = &m->q.rcpt[k];
		if (e->status == QFILE_ST_EXPANDED ||
		    !addr_same(e->addr, addr, fold) || e->notify != p->notify ||
		    strcmp(e->orcpt != NULL ? e->orcpt : "",
		    p->orcpt != NULL ? p->orcpt : "") != 0)
			continue;
		log_debug("%s: <%s> reached again through <%s>: not added "
		    "twice", m->qid, log_str(addr), log_str(p->addr));
		return 1;
	}
	return 0;
}

/* qmgr_sent_idx - was idx part of this request */
static int
qmgr_sent_idx(const struct qmgr_dlv *d, uint32_t idx)
{
	size_t	 i;

	for (i = 0; i < d->nidx; i++)
		if (d->idx[i] == idx)
			return 1;
	return 0;
}

/* qmgr_final - record a final result in the file and in memory */
static int
qmgr_final(struct qmgr_msg *m, int wfd, uint32_t idx, int st,
    const char *text)
{
	if (qfile_append_done(wfd, idx, st, text) == -1) {
		log_err("%s: cannot record result in queue file: %s", m->qid,
		    strerror(errno));
		return -1;
	}
	m->q.rcpt[idx].status = st;
	return 0;
}

struct qmgr_res {
	uint32_t	 idx;
	uint32_t	 st;		/* IPC_DLV_* */
	char		*text;
};

struct qmgr_exp {
	uint32_t	 parent;
	char		*addr;
};

struct qmgr_answer {
	struct qmgr_res	*res;
	uint32_t	 nres;
	struct qmgr_exp	*exp;
	uint32_t	 nexp;
	char		*relay;		/* smtp: "host[addr]:port" */
};

/* qmgr_answer_free - release a decoded answer */
static void
qmgr_answer_free(struct qmgr_answer *a)
{
	uint32_t i;

	for (i = 0; i < a->nres; i++)
		free(a->res[i].text);
	for (i = 0; i < a->nexp; i++)
		free(a->exp[i].addr);
	free(a->res);
	free(a->exp);
	free(a->relay);
}

/* qmgr_decode - a RESULT frame into *a, checked against the request */
static int
qmgr_decode(struct qmgr_dlv *d, const struct ipc_msg *msg,
    struct qmgr_answer *a)
{
	struct ipc_in in;
	char	*qid;
	uint32_t n, i;

	memset(a, 0, sizeof(*a));
	ipc_in_init(&in, msg);
	if ((qid = ipc_get_str(&in, QID_LEN)) == NULL)
		return -1;
	i = strcmp(qid, d->m->qid) != 0;
	free(qid);
	n = ipc_get_u32(&in);
	if (i != 0 || n > d->nidx)
		return -1;
	a->res = xcalloc(n, sizeof(*a->res));
	for (i = 0; i < n && in.err == 0; i++, a->nres++) {
		a->res[i].idx = ipc_get_u32(&in);
		a->res[i].st = ipc_get_u32(&in);
		a->res[i].text = ipc_get_str(&in, QFILE_TEXT_MAX);
		if (a->res[i].text == NULL || !qmgr_sent_idx(d, a->res[i].idx) ||
		    a->res[i].st > IPC_DLV_OK_DSN ||
		    a->res[i].st == (d->smtp ? IPC_DLV_EXPANDED :
		    IPC_DLV_OK_DSN))
			in.err = 1;
	}
	if (d->smtp) {
		a->exp = xcalloc(1, sizeof(*a->exp));
		if ((a->relay = ipc_get_str(&in, 512)) == NULL)
			return -1;
		return ipc_get_end(&in);
	}
	n = ipc_get_u32(&in);
	if (in.err == 0 && n > QFILE_MAX_RCPT)
		in.err = 1;
	a->exp = xcalloc(in.err ? 1 : n, sizeof(*a->exp));
	for (i = 0; i < n && in.err == 0; i++, a->nexp++) {
		a->exp[i].parent = ipc_get_u32(&in);
		a->exp[i].addr = ipc_get_str(&in, QFILE_ADDR_MAX);
		if (a->exp[i].addr == NULL)
			in.err = 1;
	}
	return ipc_get_end(&in);
}

/* qmgr_finishes - would this answer make every recipient final */
static int
qmgr_finishes(const struct qmgr_msg *m, const struct qmgr_answer *a)
{
	uint32_t i, final = 0;

	if (a->nexp > 0)
		return 0;
	for (i = 0; i < a->nres; i++) {
		if (a->res[i].st != IPC_DLV_OK &&
		    a->res[i].st != IPC_DLV_OK_DSN &&
		    a->res[i].st != IPC_DLV_PERMFAIL)
			return 0;
		final++;
	}
	return (int)final == qmgr_pending(m, 0);
}

/*
 * qmgr_apply - record the answer: file (unless the message is done) and
 * log.  (Long: alias results, then each recipient's record and log line,
 * in the order the file must have them; the pieces share the descriptor
 * and the "temporary failure" and success sets they build.)
 */
static int
qmgr_apply(struct qmgr_msg *m, const struct qmgr_answer *a)
{
	static const int st2q[] = { QFILE_ST_DELIVERED, QFILE_ST_PENDING,
	    QFILE_ST_BOUNCED, QFILE_ST_EXPANDED, QFILE_ST_DELIVERED };
	static const char *st2log[] = { "sent", NULL, "bounced", NULL,
	    "sent" };
	uint32_t i;
	int	 wfd = -1, temp = 0, last, expfail = 0, nsucc = 0;
	const char *relay = a->relay != NULL ? a->relay : "local";
	const char *transport = a->relay != NULL ? "smtp" : "local";
	unsigned char *succ;

	/*
	 * When this answer finishes the message, the file is removed next:
	 * the removal is the final record, no done records are needed.  A
	 * crash before the removal repeats the delivery (at least once).
	 */
	last = qmgr_finishes(m, a);
	if (!last && (wfd = open(m->path, O_WRONLY | O_APPEND | O_CLOEXEC)) ==
	    -1) {
		log_err("%s: cannot open queue file to record results: %s",
		    m->qid, strerror(errno));
		return 1;
	}
	succ = xcalloc(m->q.nrcpt + a->nexp + 1, 1);
	/* alias results first: X records before the parent's done record */
	for (i = 0; i < a->nexp; i++) {
		uint32_t p = a->exp[i].parent, k;

		for (k = 0; k < a->nres; k++)
			if (a->res[k].idx == p && a->res[k].st ==
			    IPC_DLV_EXPANDED)
				break;
		if (k < a->nres && qmgr_exp_dup(m, p, a->exp[i].addr))
			continue;
		if (k == a->nres || qmgr_add_rcpt(m, wfd, p,
		    a->exp[i].addr) == -1) {
			log_err("%s: cannot add alias result for recipient "
			    "%u", m->qid, p);
			expfail = 1;
			continue;
		}
		a->exp[i].addr = NULL;	/* owned by the message now */
	}
	for (i = 0; i < a->nres; i++) {
		const struct qmgr_res *r = &a->res[i];

		free(m->q.rcpt[r->idx].text);	/* for bounces and expiry */
		m->q.rcpt[r->idx].text = xstrdup(r->text);
		if (r->st == IPC_DLV_TEMPFAIL ||
		    (r->st == IPC_DLV_EXPANDED && expfail)) {
			temp = 1;
			qmgr_skip(m, r->idx);
			if (r->st != IPC_DLV_TEMPFAIL)
				continue;
			qmgr_log_result(m, r->idx, transport, relay,
			    "deferred", r->text);
			/* for "mailctl queue show"; bounded per file */
			if (wfd != -1 && m->q.nhist < QMGR_HIST_MAX &&
			    qfile_append_history(wfd, r->idx,
			    (int64_t)time(NULL), r->text) == 0)
				m->q.nhist++;
			continue;
		}
		if (wfd != -1 && qmgr_final(m, wfd, r->idx, st2q[r->st],
		    r->text) == -1) {
			temp = 1;
			qmgr_skip(m, r->idx);
			continue;
		}
		m->q.rcpt[r->idx].status = st2q[r->st];
		if (st2log[r->st] != NULL)
			qmgr_log_result(m, r->idx, transport, relay,
			    st2log[r->st],
			    r->text);
		if (r->st == IPC_DLV_OK && (m->q.rcpt[r->idx].notify &
		    QFILE_NOTIFY_SUCCESS)) {
			succ[r->idx] = 1;
			nsucc++;
		}
	}
	if (wfd != -1)
		close(wfd);
	if (nsucc > 0)
		qmgr_success(m, succ, a->relay != NULL);
	free(succ);
	return temp;
}

/* qmgr_dlv_read - frames from local */
static void
qmgr_dlv_read(evutil_socket_t fd, short what, void *arg)
{
	struct qmgr_dlv *d = arg;
	struct qmgr_msg *m = d->m;
	struct qmgr_answer ans;
	struct ipc_msg msg;
	int	 r;

	if (what & EV_TIMEOUT) {
		qmgr_dlv_lost(d, "delivery timed out");
		qmgr_dispatch();
		return;
	}
	r = ipc_recv(d->fd, d->hello ? (d->smtp ? IPC_R_SMTP : IPC_R_LOCAL) :
	    0, &msg);
	if (r == -1 && errno == EAGAIN)
		return;
	if (r <= 0) {
		qmgr_dlv_lost(d, d->smtp ? "lost connection with smtp" :
		    "lost connection with local");
		qmgr_dispatch();
		return;
	}
	if (!d->hello) {
		d->hello = ipc_hello_check(&msg, d->smtp ? IPC_R_SMTP :
		    IPC_R_LOCAL) != -1;
		ipc_msg_free(&msg);
		if (!d->hello) {
			qmgr_dlv_lost(d, "bad greeting from the delivery "
			    "agent");
			qmgr_dispatch();
		}
		return;
	}
	if (msg.type != (d->smtp ? IPC_SMTP_RESULT : IPC_LOCAL_RESULT) ||
	    qmgr_decode(d, &msg, &ans) == -1) {
		if (msg.type == IPC_LOCAL_RESULT || msg.type == IPC_SMTP_RESULT)
			qmgr_answer_free(&ans);
		ipc_msg_free(&msg);
		qmgr_dlv_lost(d, "malformed answer from the delivery agent");
		qmgr_dispatch();
		return;
	}
	ipc_msg_free(&msg);
	r = qmgr_apply(m, &ans);
	qmgr_answer_free(&ans);
	qmgr_dlv_free(d);
	qmgr_after(m, r, "temporary failure");
	qmgr_dispatch();
}

/* qmgr_request - build and send one DELIVER; -1 when it cannot go */
static int
qmgr_request(struct qmgr_dlv *d)
{
	struct qmgr_msg *m = d->m;
	struct ipc_out o;
	size_t	 i;
	int	 qfd, r;

	if ((qfd = open(m->path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	ipc_out_init(&o);
	ipc_put_str(&o, m->qid);
	ipc_put_str(&o, m->q.sender);
	if (d->smtp)
		ipc_put_str(&o, d->dest->name);
	ipc_put_u32(&o, (uint32_t)d->nidx);
	for (i = 0; i < d->nidx; i++) {
		const struct qfile_rcpt *rc = &m->q.rcpt[d->idx[i]];

		ipc_put_u32(&o, d->idx[i]);
		if (!d->smtp)
			ipc_put_u32(&o, rc->parent != UINT32_MAX ?
			    IPC_RF_NOALIAS : 0);
		ipc_put_str(&o, rc->addr);
	}
	r = ipc_send_out(d->fd, d->smtp ? IPC_SMTP_DELIVER :
	    IPC_LOCAL_DELIVER, &o, qfd);
	ipc_out_free(&o);
	close(qfd);
	return r;
}

/* qmgr_pick - what to send now: local, or one next hop; 0 = nothing */
static int
qmgr_pick(struct qmgr_msg *m, struct qmgr_dlv *d)
{
	const char *hop = NULL;
	size_t	 i;

	if (qmgr.local_busy < qmgr.local_limit &&
	    qmgr_todo(m, QMGR_P_LOCAL) > 0) {
		for (i = 0; i < m->q.nrcpt && d->nidx < QMGR_BATCH_MAX; i++)
			if (m->q.rcpt[i].status == QFILE_ST_PENDING &&
			    !qmgr_skipped(m, i) &&
			    qmgr_is_local(m->q.rcpt[i].addr))
				d->idx[d->nidx++] = (uint32_t)i;
		return 1;
	}
	if (!qmgr.smtp_ok || qmgr.smtp_busy >= qmgr.smtp_limit)
		return 0;
	/* the first next hop of this message that is below its limit */
	for (i = 0; i < m->q.nrcpt && hop == NULL; i++) {
		if (m->q.rcpt[i].status != QFILE_ST_PENDING ||
		    qmgr_skipped(m, i) || qmgr_is_local(m->q.rcpt[i].addr))
			continue;
		d->dest = qmgr_dest(qmgr_nexthop(m->q.rcpt[i].addr));
		if (d->dest->busy < qmgr.dest_limit &&
		    d->dest->busy < qmgr.dest_cap)
			hop = d->dest->name;
	}
	if (hop == NULL)
		return 0;
	/* bounded so the answer fits one IPC frame */
	for (i = 0; i < m->q.nrcpt && d->nidx < (size_t)qmgr.smtp_batch &&
	    d->nidx < QMGR_SMTP_BATCH_MAX; i++)
		if (m->q.rcpt[i].status == QFILE_ST_PENDING &&
		    !qmgr_skipped(m, i) && !qmgr_is_local(m->q.rcpt[i].addr) &&
		    util_strcasecmp_ascii(qmgr_nexthop(m->q.rcpt[i].addr),
		    hop) == 0)
			d->idx[d->nidx++] = (uint32_t)i;
	d->smtp = 1;
	return 1;
}

/* qmgr_start - one delivery request for a ready message; 0 = no room */
static int
qmgr_start(struct qmgr_msg *m)
{
	struct qmgr_dlv *d;
	struct timeval tv = { QMGR_DLV_TIMEOUT, 0 };
	const char *svc;

	d = xcalloc(1, sizeof(*d));
	d->m = m;
	d->idx = xcalloc(m->q.nrcpt, sizeof(uint32_t));
	if (!qmgr_pick(m, d)) {
		free(d->idx);
		free(d);
		return 0;
	}
	m->inflight = 1;
	if (d->smtp) {
		qmgr.smtp_busy++;
		d->dest->busy++;
	} else
		qmgr.local_busy++;
	svc = d->smtp ? "private/smtp" : "private/local";
	if ((d->fd = ipc_open(svc, IPC_R_QMGR)) == -1 ||
	    qmgr_request(d) == -1) {
		log_warn("%s: cannot hand the message to %s: %s", m->qid, svc,
		    strerror(errno));
		qmgr_dlv_lost(d, "delivery service unavailable");
		return 1;
	}
	d->ev = event_new(qmgr.base, d->fd, EV_READ | EV_PERSIST,
	    qmgr_dlv_read, d);
	if (d->smtp)
		tv.tv_sec = QMGR_SMTP_TIMEOUT;
	event_add(d->ev, &tv);
	return 1;
}

/*
 * qmgr_dispatch - start deliveries while there is room.  A message that
 * cannot start now (its transport or next hop is busy) keeps its place;
 * one pass over the ready list per call.
 */
void
qmgr_dispatch(void)
{
	struct qmgr_msg *m, *keep_head = NULL, *keep_tail = NULL;

	if (qmgr.oneshot)
		return;		/* mailctl's one request: nothing is sent */
	while (!qmgr.stopping && (m = qmgr.ready_head) != NULL) {
		if (qmgr.local_busy >= qmgr.local_limit &&
		    (!qmgr.smtp_ok || qmgr.smtp_busy >= qmgr.smtp_limit))
			break;
		qmgr.ready_head = m->rnext;
		if (qmgr.ready_head == NULL)
			qmgr.ready_tail = NULL;
		m->queued = 0;
		if (m->rec.state != QINDEX_ACTIVE) {
			m->rec.state = QINDEX_ACTIVE;
			qmgr_index_put(m->qid, &m->rec);
		}
		if (qmgr_deliverable(m) == 0) {
			qmgr_after(m, 0, "nothing this system can deliver");
			continue;
		}
		if (qmgr_start(m))
			continue;
		/* no room for it now: keep it, in order */
		m->queued = 1;
		m->rnext = NULL;
		if (keep_tail != NULL)
			keep_tail->rnext = m;
		else
			keep_head = m;
		keep_tail = m;
	}
	if (keep_head != NULL) {
		keep_tail->rnext = qmgr.ready_head;
		qmgr.ready_head = keep_head;
		if (qmgr.ready_tail == NULL)
			qmgr.ready_tail = keep_tail;
	}
}

/* qmgr_tick_due - deferred messages whose time has come */
void
qmgr_tick_due(time_t now)
{
	struct qmgr_msg *m, *next;

	for (m = qmgr.all; m != NULL; m = next) {
		next = m->all_next;
		if (qmgr.delay_warn > 0 && m->q.warned == 0)
			qmgr_warn(m, now);	/* may add a message at the head */
		if (m->rec.state != QINDEX_DEFERRED || m->queued ||
		    m->inflight || m->rec.next_try > now)
			continue;
		if (qmgr_expire(m, now) > 0 || qmgr_unsent(m) > 0) {
			/* may remove m; a new bounce goes to the list head */
			qmgr_after(m, 0, "expired");
			continue;
		}
		if (qmgr_deliverable(m) > 0)
			qmgr_ready(m);
	}
}
