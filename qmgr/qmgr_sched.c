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

#include "ipc.h"
#include "log.h"
#include "qfile.h"
#include "util.h"
#include "qmgr.h"

#define QMGR_DLV_TIMEOUT	600
#define QMGR_BATCH_MAX		500

struct qmgr_dlv {
	struct qmgr_msg	*m;
	int		 fd;
	int		 hello;
	struct event	*ev;
	uint32_t	*idx;
	size_t		 nidx;
};

/* qmgr_pending - recipients without a final result (local ones only) */
int
qmgr_pending(const struct qmgr_msg *m, int local_only)
{
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < m->q.nrcpt; i++)
		if (m->q.rcpt[i].status == QFILE_ST_PENDING &&
		    (!local_only || qmgr_is_local(m->q.rcpt[i].addr)))
			n++;
	return n;
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

	m->rec.attempts++;
	for (i = 1; i < m->rec.attempts && delay < qmgr.max_backoff; i++)
		delay *= 2;
	if (delay > qmgr.max_backoff)
		delay = qmgr.max_backoff;
	m->rec.state = QMGR_ST_DEFERRED;
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
	for (i = 0; i < m->q.nrcpt; i++)
		if (m->q.rcpt[i].status == QFILE_ST_PENDING &&
		    !qmgr_is_local(m->q.rcpt[i].addr))
			log_info("%s: to=<%s>, relay=none, delay=%.2f, "
			    "dsn=4.3.2, status=deferred (no smtp transport "
			    "in master.cf: mail for remote domains stays "
			    "queued)", m->qid, log_str(m->q.rcpt[i].addr),
			    qmgr_delay(m));
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
	qmgr.local_busy--;
	free(d->idx);
	free(d);
	if (qmgr.stopping && qmgr.local_busy == 0)
		event_base_loopbreak(qmgr.base);
}

/* qmgr_after - a message's delivery round is over: what next */
static void
qmgr_after(struct qmgr_msg *m, int tempfail, const char *why)
{
	if (qmgr_pending(m, 0) == 0) {
		qmgr_remove(m);
		return;
	}
	if (tempfail || qmgr_pending(m, 1) == 0) {
		if (qmgr_pending(m, 1) < qmgr_pending(m, 0))
			qmgr_note_remote(m);
		qmgr_defer(m, why);
		return;
	}
	qmgr_ready(m);		/* new local recipients from an alias */
}

/* qmgr_dlv_lost - local went away: every recipient of the request waits */
static void
qmgr_dlv_lost(struct qmgr_dlv *d, const char *why)
{
	struct qmgr_msg *m = d->m;
	size_t	 i;

	for (i = 0; i < d->nidx; i++)
		log_info("%s: to=<%s>, relay=local, delay=%.2f, dsn=4.3.0, "
		    "status=deferred (%s)", m->qid,
		    log_str(m->q.rcpt[d->idx[i]].addr), qmgr_delay(m), why);
	qmgr_dlv_free(d);
	qmgr_after(m, 1, why);
}

/* qmgr_log_result - the per-recipient log line */
static void
qmgr_log_result(struct qmgr_msg *m, uint32_t idx, const char *status,
    const char *text)
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
		log_info("%s: to=<%s>, orig_to=<%s>, relay=local, delay=%.2f, "
		    "dsn=%s, status=%s (%s)", m->qid, log_str(r->addr),
		    log_str(m->q.rcpt[r->parent].addr), qmgr_delay(m), dsn,
		    status, log_str(t));
	else
		log_info("%s: to=<%s>, relay=local, delay=%.2f, dsn=%s, "
		    "status=%s (%s)", m->qid, log_str(r->addr), qmgr_delay(m),
		    dsn, status, log_str(t));
}

/* qmgr_add_rcpt - an alias result becomes a new recipient (X record) */
static int
qmgr_add_rcpt(struct qmgr_msg *m, int wfd, uint32_t parent, char *addr)
{
	struct qfile_rcpt *r;

	if (m->q.nrcpt >= QFILE_MAX_RCPT ||
	    qfile_append_rcpt(wfd, addr, "", 0, parent) == -1)
		return -1;
	m->q.rcpt = xreallocarray(m->q.rcpt, m->q.nrcpt + 1,
	    sizeof(*m->q.rcpt));
	r = &m->q.rcpt[m->q.nrcpt++];
	memset(r, 0, sizeof(*r));
	r->addr = addr;
	r->orcpt = xstrdup("");
	r->parent = parent;
	r->status = QFILE_ST_PENDING;
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
		    a->res[i].st > IPC_DLV_EXPANDED)
			in.err = 1;
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
		    a->res[i].st != IPC_DLV_PERMFAIL)
			return 0;
		final++;
	}
	return (int)final == qmgr_pending(m, 0);
}

/* qmgr_apply - record the answer: file (unless the message is done) and log */
static int
qmgr_apply(struct qmgr_msg *m, const struct qmgr_answer *a)
{
	static const int st2q[] = { QFILE_ST_DELIVERED, QFILE_ST_PENDING,
	    QFILE_ST_BOUNCED, QFILE_ST_EXPANDED };
	static const char *st2log[] = { "sent", NULL, "bounced", NULL };
	uint32_t i;
	int	 wfd = -1, temp = 0, last, expfail = 0;

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
	/* alias results first: X records before the parent's done record */
	for (i = 0; i < a->nexp; i++) {
		uint32_t p = a->exp[i].parent, k;

		for (k = 0; k < a->nres; k++)
			if (a->res[k].idx == p && a->res[k].st ==
			    IPC_DLV_EXPANDED)
				break;
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

		if (r->st == IPC_DLV_TEMPFAIL ||
		    (r->st == IPC_DLV_EXPANDED && expfail)) {
			temp = 1;
			if (r->st == IPC_DLV_TEMPFAIL)
				qmgr_log_result(m, r->idx, "deferred", r->text);
			continue;
		}
		if (wfd != -1 && qmgr_final(m, wfd, r->idx, st2q[r->st],
		    r->text) == -1) {
			temp = 1;
			continue;
		}
		m->q.rcpt[r->idx].status = st2q[r->st];
		if (st2log[r->st] != NULL)
			qmgr_log_result(m, r->idx, st2log[r->st], r->text);
	}
	if (wfd != -1)
		close(wfd);
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
	r = ipc_recv(d->fd, d->hello ? IPC_R_LOCAL : 0, &msg);
	if (r == -1 && errno == EAGAIN)
		return;
	if (r <= 0) {
		qmgr_dlv_lost(d, "lost connection with local");
		qmgr_dispatch();
		return;
	}
	if (!d->hello) {
		d->hello = ipc_hello_check(&msg, IPC_R_LOCAL) != -1;
		ipc_msg_free(&msg);
		if (!d->hello) {
			qmgr_dlv_lost(d, "bad greeting from local");
			qmgr_dispatch();
		}
		return;
	}
	if (msg.type != IPC_LOCAL_RESULT || qmgr_decode(d, &msg, &ans) == -1) {
		if (msg.type == IPC_LOCAL_RESULT)
			qmgr_answer_free(&ans);
		ipc_msg_free(&msg);
		qmgr_dlv_lost(d, "malformed answer from local");
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
	ipc_put_u32(&o, (uint32_t)d->nidx);
	for (i = 0; i < d->nidx; i++) {
		const struct qfile_rcpt *rc = &m->q.rcpt[d->idx[i]];

		ipc_put_u32(&o, d->idx[i]);
		ipc_put_u32(&o, rc->parent != UINT32_MAX ? IPC_RF_NOALIAS :
		    0);
		ipc_put_str(&o, rc->addr);
	}
	r = ipc_send_out(d->fd, IPC_LOCAL_DELIVER, &o, qfd);
	ipc_out_free(&o);
	close(qfd);
	return r;
}

/* qmgr_start - one delivery request for a ready message */
static void
qmgr_start(struct qmgr_msg *m)
{
	struct qmgr_dlv *d;
	struct timeval tv = { QMGR_DLV_TIMEOUT, 0 };
	size_t	 i;

	d = xcalloc(1, sizeof(*d));
	d->m = m;
	d->idx = xcalloc(m->q.nrcpt, sizeof(uint32_t));
	for (i = 0; i < m->q.nrcpt && d->nidx < QMGR_BATCH_MAX; i++)
		if (m->q.rcpt[i].status == QFILE_ST_PENDING &&
		    qmgr_is_local(m->q.rcpt[i].addr))
			d->idx[d->nidx++] = (uint32_t)i;
	m->inflight = 1;
	qmgr.local_busy++;
	if ((d->fd = ipc_open("private/local", IPC_R_QMGR)) == -1 ||
	    qmgr_request(d) == -1) {
		log_warn("%s: cannot hand the message to local: %s", m->qid,
		    strerror(errno));
		qmgr_dlv_lost(d, "local delivery service unavailable");
		return;
	}
	d->ev = event_new(qmgr.base, d->fd, EV_READ | EV_PERSIST,
	    qmgr_dlv_read, d);
	event_add(d->ev, &tv);
}

/* qmgr_dispatch - start deliveries while capacity allows */
void
qmgr_dispatch(void)
{
	struct qmgr_msg *m;

	while (!qmgr.stopping && qmgr.local_busy < qmgr.local_limit &&
	    (m = qmgr.ready_head) != NULL) {
		qmgr.ready_head = m->rnext;
		if (qmgr.ready_head == NULL)
			qmgr.ready_tail = NULL;
		m->queued = 0;
		if (m->rec.state != QMGR_ST_ACTIVE) {
			m->rec.state = QMGR_ST_ACTIVE;
			qmgr_index_put(m->qid, &m->rec);
		}
		if (qmgr_pending(m, 1) == 0) {
			qmgr_after(m, 0, "no local recipients");
			continue;
		}
		qmgr_start(m);
	}
}

/* qmgr_tick_due - deferred messages whose time has come */
void
qmgr_tick_due(time_t now)
{
	struct qmgr_msg *m;

	for (m = qmgr.all; m != NULL; m = m->all_next)
		if (m->rec.state == QMGR_ST_DEFERRED && !m->queued &&
		    !m->inflight && m->rec.next_try <= now &&
		    qmgr_pending(m, 1) > 0)
			qmgr_ready(m);
}
